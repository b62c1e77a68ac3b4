// Sealed drafts to recipients (issue 13, item 3) through the real binary, against the real
// `age` (REQUIRED, as in AgeCLITests: a missing tool fails, never skips).

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// An editor: a keyring of their own with one identity, and its recipient.
struct Editor {
    let k: KeysFixture
    let recipient: String

    init(_ name: String) throws {
        k = try KeysFixture()
        let made = try k.avault(["keys", "generate", name, "--identity"])
        #expect(made.code == 0, "\(made.err)")
        recipient = try k.avault(["keys", "export-recipient", name]).out.trimmingCharacters(in: .newlines)
    }
}

@Suite("seal to recipients: v3 blobs, .avault-recipients, reseal")
struct SealRecipientsCLITests {
    static let draft = "---\ntitle: \"Draft\"\nwebUrl: \"https://example.org/d\"\nsummary: the summary\ntags: [a, b]\n---\n# Body\r\n\nText.\n"

    /// A directory tree for records (mode 755, as a shared checkout would be).
    static func desk() throws -> URL {
        let dir = try CLI.tempDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        return dir
    }

    static func write(_ text: String, _ path: String, mode: Int = 0o644) throws {
        try FileManager.default.createDirectory(atPath: FileSystemPath.directory(path), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        try CLI.write(text, to: URL(fileURLWithPath: path), mode: mode)
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// The age file inside a record's v3 blob.
    static func ageFile(of path: String) throws -> Data {
        let text = try read(path)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("secured: \"v3;") })
        return try #require(Data(base64Encoded: String(line.dropFirst("secured: \"v3;".count).dropLast())))
    }

    @Test("sealed to a keyring identity and an age-keygen one: age -d opens the payload, unseal restores the record byte for byte")
    func sealToRecipientsAndOpenWithAge() throws {
        let alice = try Editor("alice")
        let dir = try Self.desk()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bobKey = dir.appendingPathComponent("bob.txt").path
        let bob = try AgeCLITests.keygen(bobKey)
        let path = dir.appendingPathComponent("d.md").path
        try Self.write(Self.draft, path)

        // No keyring is needed to seal to recipients.
        let s = try CLI.avault(["seal", path, "--recipient", alice.recipient, "--recipient", bob, "--field", "summary",
                                "--keyring", dir.appendingPathComponent("no-such-keyring").path])
        #expect(s.code == 0, "\(s.err)")
        let sealed = try Self.read(path)
        #expect(!sealed.contains("Text.") && !sealed.contains("the summary") && sealed.contains("secured: \"v3;"))
        #expect(sealed.contains("title: \"Draft\"") && sealed.contains("tags: [a, b]"))

        // Inspect lists the stanza types.
        let inspect = try CLI.avault(["secured", "inspect", "--record", path, "--json"])
        #expect(inspect.code == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: inspect.stdout) as? [String: Any])
        #expect(json["format"] as? String == "v3" && json["algorithm"] as? String == "age-v1" && json["authenticated"] as? Bool == true)
        #expect(json["recipients"] as? Int == 2 && json["stanzaTypes"] as? [String] == ["X25519", "X25519", "avault-context"])
        #expect(try CLI.avault(["secured", "inspect", "--record", path]).out.contains("stanzaTypes:   X25519, X25519, avault-context\n"))

        // The real age opens the decoded payload (skipping the avault-context stanza): the sealed JCS payload, exactly.
        let age = dir.appendingPathComponent("blob.age").path
        try Self.ageFile(of: path).write(to: URL(fileURLWithPath: age))
        let opened = try AgeCLITests.tool("age", ["-d", "-i", bobKey, age])
        let payload = try #require(try JSONSerialization.jsonObject(with: opened.stdout) as? [String: Any])
        #expect(payload["format"] as? String == "avault-sealed-v1" && payload["body"] as? String == "# Body\r\n\nText.\n")
        #expect(opened.out.hasPrefix("{\"body\":"))
        // And avault's own age decrypt with the keyring's identity.
        #expect(try alice.k.avault(["age", "decrypt", "--key", "alice", age]).stdout == opened.stdout)

        // secured decrypt takes the identity; a key file cannot open a v3 blob.
        let d = try alice.k.avault(["secured", "decrypt", "--record", path, "--key", "alice"])
        #expect(d.code == 0 && d.stdout == opened.stdout, "\(d.err)")
        try CLI.write(String(repeating: "ab", count: 32), to: dir.appendingPathComponent("k.hex"))
        let kf = try CLI.avault(["secured", "decrypt", "--record", path, "--key-file", dir.appendingPathComponent("k.hex").path])
        #expect(kf.code == 2 && kf.err.contains("age identity"), "\(kf.err)")

        // unseal finds alice's identity in her keyring; the record comes back byte for byte.
        let u = try alice.k.avault(["unseal", path])
        #expect(u.code == 0, "\(u.err)")
        #expect(try Self.read(path) == Self.draft)
    }

    @Test("a v3 blob moved to another record is refused before any decryption, and nothing is written")
    func movedBlobIsRefused() throws {
        let alice = try Editor("alice")
        let dir = try Self.desk()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.md").path, b = dir.appendingPathComponent("b.md").path
        try Self.write(Self.draft, a)
        #expect(try CLI.avault(["seal", a, "--recipient", alice.recipient]).code == 0)
        let line = try #require(try Self.read(a).split(separator: "\n").first { $0.hasPrefix("secured:") })
        let moved = "---\ntitle: other\nwebUrl: https://example.org/other\n\(line)\n---\n"
        try Self.write(moved, b)
        let u = try alice.k.avault(["unseal", b])
        #expect(u.code == 1 && u.err.contains("bound to another record's context"), "\(u.err)")
        #expect(u.err.contains("hint: ") && !u.err.contains("internal"))
        #expect(try Self.read(b) == moved)
        let d = try alice.k.avault(["secured", "decrypt", "--record", b, "--key", "alice"])
        #expect(d.code == 1 && d.stdout.isEmpty)
        // With the right context given explicitly it opens: the refusal is the binding, nothing else.
        #expect(try alice.k.avault(["secured", "decrypt", "--record", b, "--key", "alice", "--context", "https://example.org/d"]).code == 0)
        // A record without webUrl has the empty context: also refused.
        try Self.write("---\ntitle: other\n\(line)\n---\n", b)
        #expect(try alice.k.avault(["unseal", b]).code == 1)
        // verify --check-decrypt with the identity says the moved blob does not decrypt, the original does.
        #expect(try alice.k.avault(["keys", "generate", "sig", "--signing"]).code == 0)
        #expect(try alice.k.avault(["keys", "export-public", "sig", "-o", alice.k.path("sig.pub")]).code == 0)
        let v = try alice.k.avault(["verify", a, b, "--check-decrypt", "--key", "alice", "--pubkey", alice.k.path("sig.pub"), "--json"])
        #expect(v.out.contains("\"decrypts\":true") && v.out.contains("\"decrypts\":false"), "\(v.out) \(v.err)")
    }

    @Test(".avault-recipients: the nearest file wins, sections by glob with comments, refusals")
    func recipientsFileResolution() throws {
        let alice = try Editor("alice"), bob = try Editor("bob")
        let dir = try Self.desk()
        defer { try? FileManager.default.removeItem(at: dir) }
        func path(_ p: String) -> String { dir.appendingPathComponent(p).path }
        func recipientsCount(_ p: String) throws -> Int? {
            let r = try CLI.avault(["secured", "inspect", "--record", p, "--json"])
            return (try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])?["recipients"] as? Int
        }
        // No file anywhere above: exit 2, the record untouched.
        try Self.write(Self.draft, path("desk/none.md"))
        let none = try CLI.avault(["seal", path("desk/none.md")])
        #expect(none.code == 2 && none.err.contains("no .avault-recipients file above it") && none.err.contains("--recipients-file"), "\(none.err)")
        #expect(try Self.read(path("desk/none.md")) == Self.draft)

        try Self.write("""
            # the desk: investigations are alice's alone
            path-glob: investigations/**
            \(alice.recipient)   \r
            path-glob: **
            # everyone
            \(alice.recipient)
            \(bob.recipient)

            """, path("desk/.avault-recipients"))
        try Self.write(Self.draft, path("desk/investigations/2026/leak.md"))
        try Self.write(Self.draft, path("desk/drafts/a.md"))
        #expect(try CLI.avault(["seal", path("desk/investigations/2026/leak.md"), path("desk/drafts/a.md")]).code == 0)
        #expect(try recipientsCount(path("desk/investigations/2026/leak.md")) == 1)
        #expect(try recipientsCount(path("desk/drafts/a.md")) == 2)
        #expect(try bob.k.avault(["unseal", path("desk/investigations/2026/leak.md")]).code == 1)
        #expect(try bob.k.avault(["unseal", path("desk/drafts/a.md")]).code == 0)
        // A name that starts with a combining mark: a Swift Character took the '/' before it for
        // another character, so the search began a directory too high and the glob missed, and
        // the draft went to everyone (a review). Cut at the byte '/', it is investigations'.
        try Self.write(Self.draft, path("desk/investigations/\u{301}leak.md"))
        #expect(try CLI.avault(["seal", path("desk/investigations/\u{301}leak.md")]).code == 0)
        #expect(try recipientsCount(path("desk/investigations/\u{301}leak.md")) == 1)
        #expect(try bob.k.avault(["unseal", path("desk/investigations/\u{301}leak.md")]).code == 1)

        // A nearer file wins over the desk's (and is the only one read).
        try Self.write("\(bob.recipient)\n", path("desk/drafts/bob/.avault-recipients"))
        try Self.write(Self.draft, path("desk/drafts/bob/b.md"))
        #expect(try CLI.avault(["seal", path("desk/drafts/bob/b.md")]).code == 0)
        #expect(try recipientsCount(path("desk/drafts/bob/b.md")) == 1)
        #expect(try alice.k.avault(["unseal", path("desk/drafts/bob/b.md")]).code == 1)
        #expect(try bob.k.avault(["unseal", path("desk/drafts/bob/b.md")]).code == 0)

        // No matching section: exit 2 naming the file and the path.
        try Self.write("path-glob: drafts/*\n\(alice.recipient)\n", path("narrow/.avault-recipients"))
        try Self.write(Self.draft, path("narrow/other/x.md"))
        let nomatch = try CLI.avault(["seal", path("narrow/other/x.md")])
        #expect(nomatch.code == 2 && nomatch.err.contains("no section of") && nomatch.err.contains("'other/x.md'") && nomatch.err.contains("path-glob: **"), "\(nomatch.err)")

        // A malformed file names its line.
        try Self.write("\(alice.recipient) # alice\n", path("bad/.avault-recipients"))
        try Self.write(Self.draft, path("bad/x.md"))
        let bad = try CLI.avault(["seal", path("bad/x.md")])
        #expect(bad.code == 2 && bad.err.contains("line 1") && bad.err.contains(".avault-recipients"), "\(bad.err)")

        // A file that others can write is refused like the trust store, and so is a link.
        for (mode, name) in [(0o666, "ww"), (0o664, "gw")] {
            try Self.write("\(alice.recipient)\n", path("\(name)/.avault-recipients"), mode: mode)
            try Self.write(Self.draft, path("\(name)/x.md"))
            let r = try CLI.avault(["seal", path("\(name)/x.md")])
            #expect(r.code == 2 && r.err.contains("writable by group or others") && r.err.contains("chmod go-w"), "\(r.err)")
            #expect(try Self.read(path("\(name)/x.md")) == Self.draft)
        }
        try FileManager.default.createDirectory(atPath: path("open"), withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: path("open"))
        try CLI.write("\(alice.recipient)\n", to: URL(fileURLWithPath: path("open/.avault-recipients")), mode: 0o644)
        try Self.write(Self.draft, path("open/x.md"))
        let openDir = try CLI.avault(["seal", path("open/x.md")])
        #expect(openDir.code == 2 && openDir.err.contains("directory is writable by group or others"), "\(openDir.err)")
        // In a sticky directory (like /tmp), a file another user owns is refused: they put it
        // there, and decide who reads what is sealed under it. (Needs root to give it away.)
        if geteuid() == 0 {
            try FileManager.default.createDirectory(atPath: path("sticky/mine"), withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: path("sticky"))
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path("sticky/mine"))
            try CLI.write("\(bob.recipient)\n", to: URL(fileURLWithPath: path("sticky/.avault-recipients")), mode: 0o644)
            #expect(chown(path("sticky/.avault-recipients"), 4242, 4242) == 0)
            try Self.write(Self.draft, path("sticky/mine/x.md"))
            let foreign = try CLI.avault(["seal", path("sticky/mine/x.md")])
            #expect(foreign.code == 2 && foreign.err.contains("the recipients file is owned by uid 4242, neither you nor root"), "\(foreign.err)")
            #expect(try Self.read(path("sticky/mine/x.md")) == Self.draft)
            // And named with --recipients-file, for a sealed draft or a vault.
            let named = try CLI.avault(["seal", path("sticky/mine/x.md"), "--recipients-file", path("sticky/.avault-recipients")])
            #expect(named.code == 2 && named.err.contains("is owned by uid 4242"), "\(named.err)")
            let vault = try CLI.avault(["vault", "init", "--vault", path("sticky/mine/vault"), "--recipients-file", path("sticky/.avault-recipients")])
            #expect(vault.code == 2 && vault.err.contains("is owned by uid 4242"), "\(vault.err)")
            #expect(!FileManager.default.fileExists(atPath: path("sticky/mine/vault/config")))
        }
        // A recipients file named on the command line that others can write is refused too.
        let groupWritable = path("gw/.avault-recipients")
        let namedLoose = try CLI.avault(["seal", path("bad/x.md"), "--recipients-file", groupWritable])
        #expect(namedLoose.code == 2 && namedLoose.err.contains("writable by group or others"), "\(namedLoose.err)")
        // Its directory, when the file's name starts with a combining mark (a review: the
        // directory checked was the one above it).
        let ww = path("ww")
        try FileManager.default.createDirectory(atPath: ww, withIntermediateDirectories: true)
        chmod(ww, 0o777)
        try Self.write(alice.recipient + "\n", ww + "/\u{301}r.txt")
        let combining = try CLI.avault(["seal", path("bad/x.md"), "--recipients-file", ww + "/\u{301}r.txt"])
        #expect(combining.code == 2 && combining.err.contains("directory is writable by group or others"), "\(combining.err)")
        try FileManager.default.createDirectory(atPath: path("link"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: path("link/.avault-recipients"), withDestinationPath: path("desk/.avault-recipients"))
        try Self.write(Self.draft, path("link/x.md"))
        let link = try CLI.avault(["seal", path("link/x.md")])
        #expect(link.code == 2 && link.err.contains("symbolic link"), "\(link.err)")
        // A pipe the shell hands over (`<(…)`: /dev/fd/N, a link to the pipe) is the command
        // line's own, as `-` is; a file handed over so (`3< FILE`) is still checked as a file.
        let substituted = try CLI.run("/bin/bash", ["-c", "exec \"$0\" seal \"$1\" --recipients-file <(printf '%s\\n' \"$2\")",
                                                    CLI.avaultPath, path("link/x.md"), bob.recipient])
        let sealedThrough = try Self.read(path("link/x.md"))
        #expect(substituted.code == 0 && sealedThrough.contains("\nsecured: "), "\(substituted.code) \(substituted.err)")
        let handedFile = try CLI.run("/bin/bash", ["-c", "exec \"$0\" seal \"$1\" --recipients-file /dev/fd/3 3< \"$2\"",
                                                   CLI.avaultPath, path("bad/x.md"), groupWritable])
        #expect(handedFile.code == 2 && handedFile.err.contains("symbolic link"), "\(handedFile.err)")
        // Nor a named FIFO (found by a review: anyone its mode lets may write into it), nor a
        // pipe's writing end (reopened, it waited for itself), nor `03` for 3: each is taken as
        // a file, and refused as a link, at once.
        let fifo = path("fifo")
        #expect(mkfifo(fifo, 0o666) == 0)
        let named = try CLI.run("/bin/bash", ["-c", "(printf '%s\\n' \"$3\" > \"$2\" &); exec \"$0\" seal \"$1\" --recipients-file /dev/fd/3 3< \"$2\"",
                                              CLI.avaultPath, path("bad/x.md"), fifo, bob.recipient])
        #expect(named.code == 2 && named.err.contains("symbolic link"), "\(named.err)")
        let writingEnd = try CLI.run("/usr/bin/timeout", ["20", "/bin/bash", "-c", "exec \"$0\" seal \"$1\" --recipients-file /dev/fd/3 3> >(cat)",
                                                         CLI.avaultPath, path("bad/x.md")])
        #expect(writingEnd.code == 2 && writingEnd.err.contains("symbolic link"), "\(writingEnd.code) \(writingEnd.err)")
        let zero = try CLI.run("/bin/bash", ["-c", "exec \"$0\" seal \"$1\" --recipients-file /dev/fd/03 3< <(printf '%s\\n' \"$2\")",
                                             CLI.avaultPath, path("bad/x.md"), bob.recipient])
        #expect(zero.code == 2, "\(zero.err)")
        #expect(try Self.read(path("bad/x.md")) == Self.draft)

        // Recipients on the command line bypass the file; --key and recipients together are a usage error.
        #expect(try CLI.avault(["seal", path("bad/x.md"), "--recipient", bob.recipient]).code == 0)
        #expect(try CLI.avault(["seal", path("ww/x.md"), "--recipient", bob.recipient, "--key", "c"]).code == 64)
        let malformed = try CLI.avault(["seal", path("ww/x.md"), "--recipient", "age1nope"])
        #expect(malformed.code == 2 && malformed.err.contains("'age1nope' is not an age X25519 recipient"))
    }

    @Test("reseal: to the current recipients in place, a v2 draft too; the removed reader is locked out; v1 is refused")
    func resealChangesWhoCanRead() throws {
        let alice = try Editor("alice"), bob = try Editor("bob")
        let dir = try Self.desk()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("d.md").path
        let rules = dir.appendingPathComponent(".avault-recipients").path
        try Self.write(Self.draft, path)
        try Self.write("\(alice.recipient)\n\(bob.recipient)\n", rules)
        #expect(try CLI.avault(["seal", path, "--field", "summary"]).code == 0)
        let before = try Self.read(path)
        // Bob is removed; alice reseals without the plaintext touching the disk.
        try Self.write("\(alice.recipient)\n", rules)
        let r = try alice.k.avault(["reseal", path])
        #expect(r.code == 0 && r.out == "resealed \(path)\n", "\(r.err)")
        let after = try Self.read(path)
        #expect(after != before && after.contains("title: \"Draft\"") && !after.contains("Text."))
        #expect(try bob.k.avault(["unseal", path]).code == 1)
        #expect(try Self.read(path) == after)
        // Bob cannot reseal what he cannot open either (nothing written).
        #expect(try bob.k.avault(["reseal", path, "--recipient", bob.recipient]).code == 1)
        #expect(try Self.read(path) == after)
        #expect(try alice.k.avault(["unseal", path]).code == 0)
        #expect(try Self.read(path) == Self.draft)

        // A v2 draft (content key) is resealed to recipients.
        #expect(try alice.k.avault(["keys", "generate", "content", "--secret"]).code == 0)
        #expect(try alice.k.avault(["seal", path, "--key", "content"]).code == 0)
        #expect(try alice.k.avault(["reseal", path, "--recipient", bob.recipient]).code == 0)
        #expect(try bob.k.avault(["unseal", path]).code == 0)
        #expect(try Self.read(path) == Self.draft)

        // A legacy v1 blob is refused, untouched.
        let v1 = dir.appendingPathComponent("v1.md").path
        try Self.write(try String(contentsOf: CLI.repoRoot.appendingPathComponent("Fixtures/records/demo-v1.md"), encoding: .utf8), v1)
        let legacy = try alice.k.avault(["reseal", v1, "--recipient", bob.recipient])
        #expect(legacy.code == 2 && legacy.err.contains("v1 blob cannot be resealed") && legacy.err.contains("avault migrate"), "\(legacy.err)")
    }
}

/// Path helpers for tests (Foundation's URL spelling is long).
enum FileSystemPath {
    static func directory(_ path: String) -> String { (path as NSString).deletingLastPathComponent }
}
