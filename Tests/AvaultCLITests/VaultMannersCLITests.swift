import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct VaultMannersCLI {
    @Test func importRefusesTwoFilesWithOneIDUnlessAsVersions() throws {
        let v = try VaultFixture()
        let content = v.path("content")
        try FileManager.default.createDirectory(atPath: content, withIntermediateDirectories: true)
        for name in ["a", "b"] {
            try CLI.write("---\ntitle: \"\(name)\"\nwebUrl: \"https://example.org/same\"\n---\nbody \(name)\n",
                          to: URL(fileURLWithPath: content + "/\(name).md"))
        }
        let refused = try v.avault(["vault", "import", content])
        #expect(refused.code == 2)
        #expect(refused.err == "avault: 2 files map to the ID 'https://example.org/same': \(content)/a.md, \(content)/b.md; nothing was imported\n"
                + "avault: hint: give each record its own webUrl, import them separately, or pass --as-versions to store them as versions of one ID\n")
        #expect(try v.avault(["vault", "list"]).out == "no objects\n")
        let versions = try v.avault(["vault", "import", "--as-versions", content])
        #expect(versions.code == 0, "\(versions.err)")
        #expect(versions.out.contains("stored https://example.org/same version 2"))
        // Importing the same record again is a new version, as before.
        let again = try v.avault(["vault", "import", content + "/a.md"])
        #expect(again.code == 0)
        #expect(again.out.contains("version 3"))
    }

    /// One file named more than once, however it is spelt, is one record, stored once as one
    /// version: not a collision, and not two versions. (Once, `d.md d.md` and `DIR DIR/d.md`
    /// stored it as versions 1 and 2, while `d.md ./d.md` was refused as a collision.) Two
    /// different files with one ID still collide.
    @Test func importStoresAFileNamedTwiceOnce() throws {
        let v = try VaultFixture()
        let content = v.path("content")
        try FileManager.default.createDirectory(atPath: content, withIntermediateDirectories: true)
        try CLI.write("---\ntitle: \"d\"\nwebUrl: \"https://example.org/d\"\n---\nbody\n", to: URL(fileURLWithPath: content + "/d.md"))
        let d = content + "/d.md"
        try FileManager.default.linkItem(atPath: d, toPath: v.path("hard.md"))
        var version = 0
        for names in [[d, d], [content, d], [d, content + "/./d.md"], [d, v.path("hard.md")]] {
            version += 1
            let r = try v.avault(["vault", "import", "--json"] + names)
            #expect(r.code == 0, "\(names): \(r.err)")
            #expect(r.out == "{\"schemaVersion\":2,\"id\":\"https://example.org/d\",\"version\":\(version),\"size\":56}\n", "\(names)")
        }
        #expect((try v.json(["vault", "history", "https://example.org/d"])["versions"] as? [Any])?.count == 4)
        try CLI.write("---\ntitle: \"e\"\nwebUrl: \"https://example.org/d\"\n---\nbody e\n", to: URL(fileURLWithPath: content + "/e.md"))
        let refused = try v.avault(["vault", "import", d, content])
        #expect(refused.code == 2)
        #expect(refused.err.hasPrefix("avault: 2 files map to the ID 'https://example.org/d': \(d), \(content)/e.md; nothing was imported\n"), "\(refused.err)")
    }

    /// A directory walk by `vault import` does not follow a symbolic link out of the directory
    /// it walks: whoever can write a shared import directory could plant
    /// `evil.md -> /home/victim/private-draft.md` and have the importer's private draft stored
    /// in a vault others read. (Once, every link was followed, without a word.) A link to a
    /// file or to a directory outside it (a chain of links, `..`, or a sibling whose name
    /// starts with the directory's included) fails the whole batch, exit 2, nothing stored;
    /// links inside the tree are followed (each file stored once), a link named on the command
    /// line is followed (the user chose it), and `verify`'s walk still follows every link.
    @Test func importRefusesSymbolicLinksOutOfTheWalkedDirectory() throws {
        let v = try VaultFixture()
        let content = v.path("content"), outside = v.path("private"), sibling = v.path("content-other")
        for dir in [content + "/sub", outside + "/dir", sibling] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        func record(_ name: String, at path: String) throws {
            try CLI.write("---\ntitle: \"\(name)\"\nwebUrl: \"https://example.org/\(name)\"\n---\nbody \(name)\n", to: URL(fileURLWithPath: path))
        }
        try record("a", at: content + "/a.md")
        try record("b", at: content + "/sub/b.md")
        try record("private-draft", at: outside + "/private-draft.md")
        try record("private-c", at: outside + "/dir/c.md")
        try record("sibling", at: sibling + "/s.md")
        // Links inside the tree: to a file (relative) and to a directory.
        try #require(symlink("sub/b.md", content + "/in.md") == 0)
        try #require(symlink(content + "/sub", content + "/insub") == 0)
        let log = try v.avault(["vault", "log", "--json"]).out

        let file = "is a symbolic link to a file outside \(content), which vault import does not follow"
        let fileHint = "avault: hint: name the file itself to import it\n"
        let cases: [(link: String, target: String, expected: String)] = [
            ("evil.md", outside + "/private-draft.md", "avault: \(content)/evil.md: \(file)\n" + fileHint),
            ("dots.md", "../content/../private/private-draft.md", "avault: \(content)/dots.md: \(file)\n" + fileHint),
            ("prefix.md", sibling + "/s.md", "avault: \(content)/prefix.md: \(file)\n" + fileHint),
            // A chain: an in-tree link to an in-tree link that leads out.
            ("chain.md", "sub/hop.md", "avault: \(content)/chain.md: \(file)\n" + fileHint),
            ("elsewhere", outside + "/dir",
             "avault: \(content)/elsewhere: is a symbolic link to a directory outside \(content), which vault import does not follow\n"
                + "avault: hint: name the directory itself to import it\n"),
        ]
        for (link, target, expected) in cases {
            let path = content + "/" + link
            try #require(symlink(target, path) == 0)
            if link == "chain.md" { try #require(symlink("../../private/private-draft.md", content + "/sub/hop.md") == 0) }
            let r = try v.avault(["vault", "import", content])
            #expect(r.code == 2, "\(link): \(r.code) \(r.out) \(r.err)")
            #expect(r.err == expected, "\(link): \(r.err)")
            #expect(r.out.isEmpty, "\(link): \(r.out)")
            #expect(try v.avault(["vault", "list"]).out == "no objects\n", "\(link)")
            #expect(try v.avault(["vault", "log", "--json"]).out == log, "\(link)")
            #expect(unlink(path) == 0)
            if link == "chain.md" { #expect(unlink(content + "/sub/hop.md") == 0) }
        }

        // `verify` still walks every link (a publishing gate sees what the site generator
        // publishes), the one out of the tree included.
        try #require(symlink(outside + "/private-draft.md", content + "/evil.md") == 0)
        let pub = CLI.repoRoot.appendingPathComponent("keys/demo-desk.pub").path
        let verified = try v.avault(["verify", "--json", content, "--pubkey", pub])
        #expect(verified.out.contains("\"path\":\"\(content)/evil.md\""), "\(verified.out) \(verified.err)")
        // A link named on the command line is followed, wherever it leads.
        let named = try v.avault(["vault", "import", content + "/evil.md"])
        #expect(named.code == 0, "\(named.err)")
        #expect(try v.get("https://example.org/private-draft").out == "---\ntitle: \"private-draft\"\nwebUrl: \"https://example.org/private-draft\"\n---\nbody private-draft\n")
        #expect(unlink(content + "/evil.md") == 0)

        // Links inside the tree are followed; b.md, reached three ways, is stored once.
        let r = try v.avault(["vault", "import", "--json", content])
        #expect(r.code == 0, "\(r.err)")
        let ids = r.out.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }.compactMap { $0["id"] as? String }
        #expect(ids.sorted() == ["https://example.org/a", "https://example.org/b"], "\(r.out)")
    }

    /// A report that cannot be written once the import is committed (standard output on a
    /// full disk) still exits 2, but with a hint that every record was stored, so that nobody
    /// imports them again as new versions. (Once it said only "standard output: no space left
    /// on device", with no hint, as if the import had failed.)
    @Test func anImportWhoseReportIsCutShortSaysItWasStored() throws {
        let v = try VaultFixture()
        let content = v.path("content")
        try FileManager.default.createDirectory(atPath: content, withIntermediateDirectories: true)
        for name in ["a", "b"] {
            try CLI.write("---\ntitle: \"\(name)\"\nwebUrl: \"https://example.org/\(name)\"\n---\nbody\n", to: URL(fileURLWithPath: content + "/\(name).md"))
        }
        for args in [["--json"], []] {
            let r = try avaultToFullDisk(["vault", "import"] + args + [content], env: v.environment)
            #expect(r.code == 2 && r.err == "avault: standard output: no space left on device\n"
                    + "avault: hint: every record was stored; only the report of them was cut short (importing them again would store new versions)\n",
                    "\(r.code) \(r.err)")
        }
        // Stored twice over: once by each import, the report of neither read.
        #expect((try v.json(["vault", "history", "https://example.org/b"])["versions"] as? [Any])?.count == 2)
    }

    /// An import holds no file of the batch open while it stores the others: a batch four
    /// times larger than the limit on open files (1,024 is Debian's usual soft limit) is stored
    /// whole. (Once, every file was opened before the first was stored, and the 925th of 1,100
    /// failed with "too many open files".)
    @Test func anImportLargerThanTheOpenFileLimitStoresEveryRecord() throws {
        let v = try VaultFixture()
        let content = v.path("many")
        try FileManager.default.createDirectory(atPath: content, withIntermediateDirectories: true)
        let count = 200
        for i in 0..<count {
            try CLI.write("---\ntitle: \"Record \(i)\"\nwebUrl: \"https://example.org/\(i)\"\n---\nbody \(i)\n",
                          to: URL(fileURLWithPath: content + "/r\(i).md"))
        }
        let out = v.path("import.out"), err = v.path("import.err")
        let exit = try VaultSpawn.run(["/bin/sh", "-c", "ulimit -Sn 50 && exec \"$@\"", "sh", CLI.avaultPath, "vault", "import", content],
                                      env: VaultSpawn.environment(v), stdout: out, stderr: err)
        #expect(exit.code == 0, "\((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
        #expect(try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("stored ") }.count == count)
        #expect(try v.get("https://example.org/\(count - 1)").out == "---\ntitle: \"Record \(count - 1)\"\nwebUrl: \"https://example.org/\(count - 1)\"\n---\nbody \(count - 1)\n")
    }

    @Test func standardInputIsNoImportSource() throws {
        let v = try VaultFixture()
        let r = try v.avault(["vault", "import", "-"], stdin: Data("---\ntitle: t\n---\nbody\n".utf8))
        #expect(r.code == 2)
        #expect(r.err.hasPrefix("avault: -: standard input cannot be imported: give the record's file, or use 'vault put ID -'\n"), "\(r.err)")
        #expect(try v.avault(["vault", "list"]).out == "no objects\n")
    }

    @Test func failuresNameTheObjectID() throws {
        let v = try VaultFixture()
        try v.put("drafts/secret-plan", Data("payload\n".utf8))
        let files = try FileManager.default.contentsOfDirectory(atPath: v.objects).filter { !$0.hasPrefix(".") }
        let file = try #require(files.first)
        let url = URL(fileURLWithPath: v.objects + "/" + file)
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count - 5] ^= 0x01
        try bytes.write(to: url)
        let verify = try v.avault(["vault", "verify"])
        #expect(verify.code == 1)
        #expect(verify.out.contains("  corrupt: 'drafts/secret-plan' version 1 (objects/\(file))\n"), "\(verify.out)")
        let get = try v.avault(["vault", "get", "drafts/secret-plan"])
        #expect(get.code == 1)
        #expect(get.err.hasPrefix("avault: 'drafts/secret-plan' version 1: "), "\(get.err)")
        // fsck moves it aside and says so with its exit status.
        let fsck = try v.avault(["vault", "fsck"])
        #expect(fsck.code == 1, "\(fsck.out)\(fsck.err)")
        #expect(fsck.out.contains("moved aside: "))
    }

    @Test func fsckExitsZeroWhenNothingMoved() throws {
        let v = try VaultFixture()
        try v.put("a", Data("x".utf8))
        let fsck = try v.avault(["vault", "fsck"])
        #expect(fsck.code == 0, "\(fsck.out)\(fsck.err)")
    }

    @Test func putOnATerminalSaysItIsReadingAndRefusesNothing() throws {
        let v = try VaultFixture()
        let empty = try avaultOnTerminal(["vault", "put", "doc"], input: "\u{04}", env: v.environment)
        #expect(empty.screen.contains("avault: reading the payload from standard input (end with Ctrl-D)"), "\(empty.screen)")
        #expect(empty.code == 2)
        #expect(empty.screen.contains("avault: nothing was read from the terminal; nothing was stored"))
        let typed = try avaultOnTerminal(["vault", "put", "doc"], input: "hello\n\u{04}", env: v.environment)
        #expect(typed.code == 0, "\(typed.screen)")
        #expect(typed.screen.contains("stored doc version 1 (6 bytes)"))
        #expect(try v.avault(["vault", "get", "doc"]).out == "hello\n")
    }
}
