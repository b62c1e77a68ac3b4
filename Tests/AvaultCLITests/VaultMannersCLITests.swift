import Foundation
import Testing

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
