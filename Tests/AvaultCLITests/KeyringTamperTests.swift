import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The message every detected modification of a keyring carries (exit status 1).
private let tamperedMessage = "the keyring was modified outside avault"

/// Someone who can write the keyring directory (a sync folder, a backup, another tool's bug)
/// but does not know the passphrase: each attack the issue reproduced, now failing closed.
extension KeysFixture {
    /// The keyring file's lines (without the final empty piece).
    func keyringLines() throws -> [String] {
        let text = try String(contentsOfFile: keyringFile, encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// Rewrites the keyring file in place (same inode, mode 600), as an attacker would.
    func writeKeyring(lines: [String]) throws {
        try CLI.write(lines.joined(separator: "\n") + "\n", to: URL(fileURLWithPath: keyringFile), mode: 0o600)
    }

    /// Inserts a whole `key:` block where a valid file has its key blocks: before the block of
    /// vault heads and the `mac:` line when the format has them, else at the end.
    func insertKeyBlock(_ block: [String]) throws {
        var lines = try keyringLines()
        if let i = lines.firstIndex(where: { $0.hasPrefix("vault: ") || $0.hasPrefix("mac: ") }) {
            lines.insert(contentsOf: [""] + block, at: i - 1)
        } else {
            lines += [""] + block
        }
        try writeKeyring(lines: lines)
    }

    /// Replaces the first line satisfying `match` with `transform(line)`.
    func editKeyringLine(where match: (String) -> Bool, _ transform: (String) -> String,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
        var lines = try keyringLines()
        let found = lines.firstIndex(where: match)
        let i = try #require(found, "no such line", sourceLocation: sourceLocation)
        lines[i] = transform(lines[i])
        try writeKeyring(lines: lines)
    }

    /// The key block (header to secret line) of `name` version `version`.
    func keyBlock(_ name: String, _ version: Int) throws -> [String] {
        let lines = try keyringLines()
        let start = try #require(lines.firstIndex { $0.hasPrefix("key: ") && $0.hasSuffix(" \(name) \(version)") })
        let end = try #require(lines[start...].firstIndex { $0.hasPrefix("secret: ") })
        return Array(lines[start...end])
    }
}

/// Expects the tamper refusal: exit 1, the message, nothing on standard output.
private func expectTampered(_ r: CLI.Result, _ detail: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.code == 1, "exit \(r.code): \(r.err)", sourceLocation: sourceLocation)
    #expect(r.stdout.isEmpty, "\(r.out)", sourceLocation: sourceLocation)
    #expect(r.err.contains("avault: ") && r.err.contains(tamperedMessage), "\(r.err)", sourceLocation: sourceLocation)
    if let detail { #expect(r.err.contains(detail), "\(r.err)", sourceLocation: sourceLocation) }
}

@Suite struct KeyringAttacks {
    /// An attacker's content key, as a `plain` entry made by avault itself in a throwaway keyring.
    private func attackerBlock(name: String, version: Int) throws -> (block: [String], id: String) {
        let a = try KeysFixture()
        let key = try a.keyFile("demo-other-v2.key")
        #expect(try a.avault(["keys", "import", "evil", "--key-file", key, "--unprotected"]).code == 0)
        let block = try a.keyBlock("evil", 1)
        let header = block[0].split(separator: " ")
        let id = String(header[2])
        var renamed = block
        renamed[0] = "key: \(header[1]) \(id) \(name) \(version)"
        return (renamed, id)
    }

    @Test func anAppendedPlainEntryInAProtectedKeyringIsRefused() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        let (block, evilID) = try attackerBlock(name: "c", version: 2)
        try f.insertKeyBlock(block)

        // Encryption does not go to the attacker's key: it is refused, exit 1.
        let enc = try f.avault(["secured", "encrypt", "--key", "c", "--context", "ctx"], stdin: Data("for the desk only".utf8))
        expectTampered(enc, "key 'c' version 2")
        #expect(!enc.out.contains(evilID))
        // Even without the passphrase, the structure gives it away.
        expectTampered(try f.avault(["keys", "list"], env: ["AVAULT_PASSPHRASE": nil]), "unsealed")
        expectTampered(try f.avault(["keys", "rotate", "c"]))
        // Sealing a draft with it is refused as well.
        let draft = f.path("draft.md")
        let draftText = "---\ntitle: t\nwebUrl: https://example.org/x\n---\nthe secret body\n"
        try CLI.write(draftText, to: URL(fileURLWithPath: draft), mode: 0o644)
        expectTampered(try f.avault(["seal", draft, "--key", "c"]))
        #expect(try String(contentsOfFile: draft, encoding: .utf8) == draftText)
        f.expectNoLeaks(of: [])
    }

    @Test func aRetiredKeyEditedBackToActiveStaysRetired() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        let old = try f.encrypt("written with version one", key: "c")
        #expect(try f.avault(["keys", "rotate", "c"]).code == 0)
        #expect(try f.avault(["keys", "retire", "c", "--version", "1"]).code == 0)
        #expect(try f.avault(["secured", "decrypt", old, "--key", "c", "--context", "ctx"]).code == 2)

        try f.editKeyringLine(where: { $0.hasPrefix("status: retired ") }) { _ in "status: active" }
        let r = try f.avault(["secured", "decrypt", old, "--key", "c", "--context", "ctx"])
        expectTampered(r, "authentication code")
        #expect(!r.out.contains("written with version one"))
        // Encryption with the newest version is refused too: nothing in a modified keyring is used.
        expectTampered(try f.avault(["secured", "encrypt", "--key", "c", "--context", "ctx"], stdin: Data("x".utf8)))
        expectTampered(try f.avault(["keys", "list", "--verify"]))
        // Without the passphrase the listing still works, and says it is unverified.
        let list = try f.json(["keys", "list"], env: ["AVAULT_PASSPHRASE": nil])
        #expect(list["verified"] as? Bool == false)
        f.expectNoLeaks(of: [])
    }

    @Test func aSwappedPublicKeyIsNotExported() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "s", "--signing"]).code == 0)
        let real = try f.avault(["keys", "export-public", "s"])
        #expect(real.code == 0, "\(real.err)")
        let a = try KeysFixture()
        #expect(try a.avault(["keys", "generate", "evil", "--signing", "--unprotected"]).code == 0)
        let evilPublic = try #require(try a.keyBlock("evil", 1).first { $0.hasPrefix("public: ") })
        try f.editKeyringLine(where: { $0.hasPrefix("public: ") }) { _ in evilPublic }

        let r = try f.avault(["keys", "export-public", "s"])
        expectTampered(r)
        let out = f.path("s.pub")
        expectTampered(try f.avault(["keys", "export-public", "s", "-o", out]))
        #expect(!FileManager.default.fileExists(atPath: out))
        // Signing is refused too (it would sign with a key whose listed public half is not its own).
        let record = f.path("r.md")
        try CLI.write("---\ntitle: t\nwebUrl: https://example.org/x\n---\nbody\n", to: URL(fileURLWithPath: record), mode: 0o644)
        expectTampered(try f.avault(["sign", record, "--key", "s"]))
        f.expectNoLeaks(of: [])
    }

    @Test func aSwappedPublicKeyInAnUnprotectedKeyringIsCaughtByItsSecret() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "s", "--signing", "--unprotected"]).code == 0)
        let a = try KeysFixture()
        #expect(try a.avault(["keys", "generate", "evil", "--signing", "--unprotected"]).code == 0)
        let evilPublic = try #require(try a.keyBlock("evil", 1).first { $0.hasPrefix("public: ") })
        try f.editKeyringLine(where: { $0.hasPrefix("public: ") }) { _ in evilPublic }
        for args in [["keys", "export-public", "s"], ["keys", "list"]] {
            expectTampered(try f.avault(args, env: ["AVAULT_PASSPHRASE": nil]), "the public key of signing key 's' version 1 does not match its secret")
        }
        f.expectNoLeaks(of: try f.plainSecrets())
    }

    @Test func protectedAndUnprotectedSecretsDoNotMix() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: f.keyringFile))
        let mixed = try f.avault(["keys", "generate", "u", "--secret", "--unprotected"])
        #expect(mixed.code == 2)
        #expect(mixed.err.contains("protected by a passphrase"), "\(mixed.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.keyringFile)) == before)

        let g = try KeysFixture()
        #expect(try g.avault(["keys", "generate", "u", "--secret", "--unprotected"]).code == 0)
        let sealed = try g.avault(["keys", "generate", "c", "--secret"])
        #expect(sealed.code == 2)
        #expect(sealed.err.contains("unprotected"), "\(sealed.err)")
        f.expectNoLeaks(of: [])
        g.expectNoLeaks(of: try g.plainSecrets())
    }
}

@Suite struct KeyringAuthentication {
    /// A protected keyring with two content versions (one retired), a legacy key and a signing key.
    private func scene() throws -> KeysFixture {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        #expect(try f.avault(["keys", "rotate", "c"]).code == 0)
        #expect(try f.avault(["keys", "retire", "c", "--version", "1"]).code == 0)
        #expect(try f.avault(["keys", "import", "legacy", "--key-file", try f.keyFile("demo-aes128.key"), "--legacy-aes-cbc"]).code == 0)
        #expect(try f.avault(["keys", "generate", "s", "--signing"]).code == 0)
        return f
    }

    /// Changes one character of the line, keeping it well-formed.
    static func nudge(_ line: String, at column: Int) -> String {
        var chars = Array(line)
        let c = chars[column]
        let replacement: Character
        switch c {
        case "0"..."8": replacement = Character(UnicodeScalar(c.asciiValue! + 1))
        case "9": replacement = "8"
        case "a"..."e", "A"..."E": replacement = Character(UnicodeScalar(c.asciiValue! + 1))
        case "f", "F", "z", "Z": replacement = Character(UnicodeScalar(c.asciiValue! - 1))
        case "g"..."y", "G"..."Y": replacement = Character(UnicodeScalar(c.asciiValue! + 1))
        default: replacement = c == "+" ? "/" : "+"
        }
        chars[column] = replacement
        return String(chars)
    }

    /// (what, which line, which column): each class of byte after the header.
    static let edits: [(String, String, Int)] = [
        ("a key id", "key: xchacha20poly1305 ", 30),
        ("a name", "key: aes128-cbc ", 33),
        ("a version", "key: ed25519 ", 32),
        ("a creation time", "created: ", 12),
        ("a retirement time", "status: retired ", 19),
        ("a public key", "public: ", 20),
        ("a sealed secret's nonce", "secret: sealed ", 20),
        ("a sealed secret's ciphertext", "secret: sealed ", 60),
        ("the authentication code", "mac: ", 10),
    ]

    @Test(arguments: 0..<edits.count)
    func everyFieldIsAuthenticated(index: Int) throws {
        let (what, prefix, column) = Self.edits[index]
        let f = try scene()
        var changed = false
        try f.editKeyringLine(where: { $0.hasPrefix(prefix) }) { line in
            let edited = Self.nudge(line, at: column)
            changed = edited != line
            return edited
        }
        #expect(changed, "\(what)")
        let r = try f.avault(["keys", "list", "--verify"])
        expectTampered(r, "authentication code does not match")
        // A command that uses a secret of another key is refused as well.
        expectTampered(try f.avault(["secured", "encrypt", "--key", "c", "--context", "ctx"], stdin: Data("x".utf8)))
    }

    @Test func removingOrDuplicatingAKeyBlockIsDetected() throws {
        let f = try scene()
        let original = try f.keyringLines()
        // Remove the legacy key's block (and its blank line).
        let block = try f.keyBlock("legacy", 1)
        var lines = original
        let start = try #require(lines.firstIndex(of: block[0]))
        lines.removeSubrange((start - 1)...(start + block.count - 1))
        try f.writeKeyring(lines: lines)
        expectTampered(try f.avault(["keys", "list", "--verify"]))
        // An unrelated status line edited: retired → active for c 1 is covered above; here a
        // retirement added by the attacker (a denial of service) is detected too.
        try f.writeKeyring(lines: original)
        #expect(try f.avault(["keys", "list", "--verify"]).code == 0)
        try f.editKeyringLine(where: { $0 == "status: active" }) { _ in "status: retired 2026-01-01T00:00:00Z" }
        expectTampered(try f.avault(["keys", "list", "--verify"]))
    }

    /// The header is read before the keys exist: a changed salt, limit or check reads as a
    /// wrong passphrase (exit 2), a changed first line or a missing code as a malformed file
    /// (exit 2). Either way nothing is used or written.
    @Test func theHeaderFailsClosedAsAWrongPassphraseOrAMalformedFile() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        let original = try f.keyringLines()
        let cases: [(String, ([String]) -> [String], String)] = [
            ("the salt", { l in l.map { $0.hasPrefix("kdf: ") ? KeyringAuthentication.nudge($0, at: $0.count - 6) : $0 } }, "wrong passphrase"),
            ("the check's nonce", { l in l.map { $0.hasPrefix("check: ") ? KeyringAuthentication.nudge($0, at: 10) : $0 } }, "wrong passphrase"),
            ("the first line", { l in ["avault-keyring v3"] + l.dropFirst() }, "not an avault keyring"),
            ("the code's line removed", { l in Array(l.dropLast(2)) }, "malformed keyring"),
        ]
        for (what, edit, words) in cases {
            try f.writeKeyring(lines: edit(original))
            let before = try Data(contentsOf: URL(fileURLWithPath: f.keyringFile))
            let r = try f.avault(["keys", "rotate", "c"])
            #expect(r.code == 2, "\(what): exit \(r.code) \(r.err)")
            #expect(r.err.contains(words), "\(what): \(r.err)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: f.keyringFile)) == before, "\(what)")
        }
        try f.writeKeyring(lines: original)
        #expect(try f.avault(["keys", "list", "--verify"]).code == 0)
    }

    @Test func theListingSaysWhetherItWasVerified() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        let plain = try f.avault(["keys", "list"], env: ["AVAULT_PASSPHRASE": nil])
        #expect(plain.code == 0, "\(plain.err)")
        #expect(plain.out.contains("not verified"), "\(plain.out)")
        #expect(try f.json(["keys", "list"], env: ["AVAULT_PASSPHRASE": nil])["verified"] as? Bool == false)
        let verified = try f.avault(["keys", "list", "--verify"])
        #expect(verified.code == 0, "\(verified.err)")
        #expect(!verified.out.contains("not verified"), "\(verified.out)")
        #expect(verified.out.contains("verified"), "\(verified.out)")
        #expect(try f.json(["keys", "list", "--verify"])["verified"] as? Bool == true)
        let wrong = try f.avault(["keys", "list", "--verify"], env: ["AVAULT_PASSPHRASE": "not-the-passphrase"])
        #expect(wrong.code == 2)
        #expect(wrong.err.contains("wrong passphrase"))

        // An unprotected keyring cannot be verified, and says so.
        let u = try KeysFixture()
        #expect(try u.avault(["keys", "generate", "t", "--secret", "--unprotected"]).code == 0)
        let ul = try u.avault(["keys", "list", "--verify"], env: ["AVAULT_PASSPHRASE": nil])
        #expect(ul.code == 0, "\(ul.err)")
        #expect(ul.out.contains("cannot be verified"), "\(ul.out)")
        #expect(try u.json(["keys", "list", "--verify"], env: ["AVAULT_PASSPHRASE": nil])["verified"] as? Bool == false)
        f.expectNoLeaks(of: [])
    }

    @Test func numbersOutOfRangeAreErrorsNotTraps() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        let original = try f.keyringLines()
        let kdf = try #require(original.first { $0.hasPrefix("kdf: argon2id ") })
        let words = kdf.split(separator: " ").map(String.init)
        let cases: [(String, String)] = [
            ("kdf: argon2id 4294967296 \(words[3]) \(words[4])", "limits"),
            ("kdf: argon2id 2 18446744073709551615 \(words[4])", "limits"),
            ("kdf: argon2id 2 99999999999999999999999 \(words[4])", "malformed keyring: line 2"),
            ("kdf: argon2id 0 \(words[3]) \(words[4])", "limits"),
        ]
        for (line, words) in cases {
            var lines = original
            lines[lines.firstIndex(of: kdf)!] = line
            try f.writeKeyring(lines: lines)
            let r = try f.avault(["secured", "encrypt", "--key", "c", "--context", "ctx"], stdin: Data("x".utf8))
            #expect(r.code == 2, "\(line): exit \(r.code) \(r.err)")
            #expect(r.err.contains(words), "\(line): \(r.err)")
            #expect(!r.err.contains("Fatal error") && !r.err.contains("Backtrace"), "\(r.err)")
        }
        // A version beyond what a keyring can hold, and a rotation past the last version.
        for version in ["9223372036854775807", "99999999999999999999", "1000001"] {
            var lines = original
            let i = try #require(lines.firstIndex { $0.hasPrefix("key: ") })
            lines[i] = lines[i].split(separator: " ").dropLast().joined(separator: " ") + " " + version
            try f.writeKeyring(lines: lines)
            let r = try f.avault(["keys", "rotate", "c"])
            #expect(r.code == 2, "version \(version): exit \(r.code) \(r.err)")
            #expect(r.err.contains("malformed keyring: line "), "\(r.err)")
        }
    }
}

@Suite struct KeyringFiles {
    private func ringWithKey() throws -> KeysFixture {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret", "--unprotected"]).code == 0)
        return f
    }

    @Test func aSymlinkedKeyringFileIsRefusedNotFollowed() throws {
        let f = try ringWithKey()
        // The user's other file: a keyring elsewhere, which the link would make avault read and use.
        let elsewhere = f.path("other.avk")
        #expect(rename(f.keyringFile, elsewhere) == 0)
        try FileManager.default.createSymbolicLink(atPath: f.keyringFile, withDestinationPath: elsewhere)
        let before = try Data(contentsOf: URL(fileURLWithPath: elsewhere))
        for args in [["keys", "list"], ["keys", "generate", "d", "--secret", "--unprotected"],
                     ["secured", "encrypt", "--key", "c", "--context", "ctx"]] {
            let r = try f.avault(args, stdin: Data("x".utf8))
            #expect(r.code == 2, "\(args): exit \(r.code) \(r.err)")
            #expect(r.stdout.isEmpty)
            #expect(r.err.contains("symbolic link"), "\(r.err)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: elsewhere)) == before)
    }

    @Test func aSymlinkedLockFileIsRefusedAndCreatesNothing() throws {
        let f = try ringWithKey()
        let lock = f.ring + "/.lock"
        try? FileManager.default.removeItem(atPath: lock)
        let target = f.path("created-through-the-link")
        try FileManager.default.createSymbolicLink(atPath: lock, withDestinationPath: target)
        let r = try f.avault(["keys", "rotate", "c"])
        #expect(r.code == 2, "exit \(r.code) \(r.err)")
        #expect(r.err.contains("symbolic link"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test func aFIFOInPlaceOfTheKeyringIsRefusedWithoutHanging() throws {
        let f = try ringWithKey()
        #expect(unlink(f.keyringFile) == 0)
        #expect(mkfifo(f.keyringFile, 0o600) == 0)
        let r = try CLI.run("/usr/bin/timeout", ["-s", "KILL", "20", CLI.avaultPath, "keys", "list", "--keyring", f.ring])
        #expect(r.code == 2, "exit \(r.code) \(r.err)")
        #expect(r.err.contains("not a regular file"), "\(r.err)")
    }

    @Test func aSymlinkedTrustStoreIsRefusedNotFollowed() throws {
        let f = try ringWithKey()
        let pub = f.path("A.pub")
        try CLI.write("untrusted comment: minisign public key 9E9C1AA7DF61BC30\nRWQwvGHfpxqcnuLm6zxpsCGwoYHTVwxTGnD8rH2j97wkA/DIk1NYMRxH\n",
                      to: URL(fileURLWithPath: pub), mode: 0o644)
        #expect(try f.avault(["keys", "trust", "add", pub, "--name", "A"]).code == 0)
        let store = f.ring + "/trust.avt", elsewhere = f.path("other.avt")
        #expect(rename(store, elsewhere) == 0)
        try FileManager.default.createSymbolicLink(atPath: store, withDestinationPath: elsewhere)
        let before = try Data(contentsOf: URL(fileURLWithPath: elsewhere))
        for args in [["keys", "trust", "list"], ["keys", "trust", "revoke", "9E9C1AA7DF61BC30"]] {
            let r = try f.avault(args)
            #expect(r.code == 2, "\(args): exit \(r.code) \(r.err)")
            #expect(r.err.contains("symbolic link"), "\(r.err)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: elsewhere)) == before)
        // Verification, which reads the default trust store, refuses it as well.
        let record = f.path("r.md")
        try CLI.write("---\ntitle: t\n---\nbody\n", to: URL(fileURLWithPath: record), mode: 0o644)
        let v = try f.avault(["verify", record, "--require-signature"])
        #expect(v.code == 2, "exit \(v.code) \(v.out) \(v.err)")
        #expect(v.err.contains("symbolic link"), "\(v.err)")

        // The trust store's lock file, linked elsewhere, is refused and creates nothing.
        try FileManager.default.removeItem(atPath: store)
        #expect(rename(elsewhere, store) == 0)
        let lock = store + ".lock", target = f.path("created-through-the-lock")
        try? FileManager.default.removeItem(atPath: lock)
        try FileManager.default.createSymbolicLink(atPath: lock, withDestinationPath: target)
        let r = try f.avault(["keys", "trust", "revoke", "9E9C1AA7DF61BC30"])
        #expect(r.code == 2, "exit \(r.code) \(r.err)")
        #expect(r.err.contains("symbolic link"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test func anExplicitTrustStoreIsOpenedByNameInItsDirectory() throws {
        let f = try ringWithKey()
        let dir = f.path("stores")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        let pub = f.path("A.pub")
        try CLI.write("untrusted comment: minisign public key 9E9C1AA7DF61BC30\nRWQwvGHfpxqcnuLm6zxpsCGwoYHTVwxTGnD8rH2j97wkA/DIk1NYMRxH\n",
                      to: URL(fileURLWithPath: pub), mode: 0o644)
        let store = dir + "/team.avt"
        #expect(try f.avault(["keys", "trust", "add", pub, "--name", "A", "--trust-store", store]).code == 0)
        #expect(try f.avault(["keys", "trust", "list", "--trust-store", store]).code == 0)
        let other = f.path("other.avt")
        #expect(rename(store, other) == 0)
        try FileManager.default.createSymbolicLink(atPath: store, withDestinationPath: other)
        let r = try f.avault(["keys", "trust", "list", "--trust-store", store])
        #expect(r.code == 2, "exit \(r.code) \(r.err)")
        #expect(r.err.contains("symbolic link"), "\(r.err)")
        // A trust store others may write is refused: anyone could add a key to it.
        try FileManager.default.removeItem(atPath: store)
        #expect(rename(other, store) == 0)
        try KeysFixture.chmod(store, 0o666)
        let loose = try f.avault(["keys", "trust", "list", "--trust-store", store])
        #expect(loose.code == 2, "exit \(loose.code) \(loose.err)")
        #expect(loose.err.contains("writable by group or others"), "\(loose.err)")
        // So is one in a directory others may write (they could replace it), unless the
        // directory is sticky, like /tmp.
        try KeysFixture.chmod(store, 0o644)
        try KeysFixture.chmod(dir, 0o777)
        let looseDirectory = try f.avault(["keys", "trust", "list", "--trust-store", store])
        #expect(looseDirectory.code == 2 && looseDirectory.err.contains("the trust store's directory"), "exit \(looseDirectory.code) \(looseDirectory.err)")
        try KeysFixture.chmod(dir, 0o1777)
        let sticky = try f.avault(["keys", "trust", "list", "--trust-store", store])
        #expect(sticky.code == 0, "exit \(sticky.code) \(sticky.err)")
        // A store another user owns is refused whatever its mode: its owner can rewrite it, and
        // in a sticky directory like /tmp anyone may have put it there. (Giving a file away
        // needs root: as anyone else the case cannot be made, and the test stops here.)
        guard geteuid() == 0 else { return }
        #expect(chown(store, 4242, 4242) == 0)
        let foreign = try f.avault(["keys", "trust", "list", "--trust-store", store])
        #expect(foreign.code == 2, "exit \(foreign.code) \(foreign.err)")
        #expect(foreign.err == "avault: \(store): the trust store is owned by uid 4242, neither you nor root: anyone who can write it decides whose signatures count\n"
                + "avault: hint: use a copy of your own, in a directory of your own, once you have checked what it says\n", "\(foreign.err)")
        // So is one of yours in a directory another user owns (they could replace it).
        #expect(chown(store, 0, 0) == 0)
        try KeysFixture.chmod(dir, 0o755)
        #expect(chown(dir, 4242, 4242) == 0)
        let foreignDirectory = try f.avault(["keys", "trust", "list", "--trust-store", store])
        #expect(foreignDirectory.code == 2 && foreignDirectory.err.contains("the trust store's directory is owned by uid 4242"), "\(foreignDirectory.err)")
    }
}

@Suite struct KeyringUpgrade {
    /// A private copy of the version 1 demo keyring (the passphrase is the demo's).
    private func v1Ring() throws -> (KeysFixture, [String]) {
        let f = try KeysFixture(passphrase: "demo passphrase -- public, not secret")
        try FileManager.default.createDirectory(atPath: f.ring, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let text = try String(contentsOf: CLI.repoRoot.appendingPathComponent("Fixtures/keyring-v1/keyring.avk"), encoding: .utf8)
        try CLI.write(text, to: URL(fileURLWithPath: f.keyringFile), mode: 0o600)
        return (f, text.components(separatedBy: "\n"))
    }

    @Test func aVersion1KeyringIsRefusedUntilUpgraded() throws {
        let (f, _) = try v1Ring()
        let before = try Data(contentsOf: URL(fileURLWithPath: f.keyringFile))
        for args in [["keys", "list"], ["secured", "decrypt", "--record", "Fixtures/records/demo-v2.md", "--key", "demo-content"],
                     ["keys", "rotate", "demo-content"]] {
            let r = try f.avault(args, cwd: CLI.repoRoot)
            #expect(r.code == 2, "\(args): exit \(r.code) \(r.err)")
            #expect(r.stdout.isEmpty)
            #expect(r.err.contains("version 1 keyring"), "\(r.err)")
            #expect(r.err.contains("avault: hint: ") && r.err.contains("avault keys upgrade"), "\(r.err)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.keyringFile)) == before)

        // A wrong passphrase changes nothing.
        let wrong = try f.avault(["keys", "upgrade"], env: ["AVAULT_PASSPHRASE": "not the passphrase"])
        #expect(wrong.code == 2)
        #expect(wrong.err.contains("wrong passphrase"), "\(wrong.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.keyringFile)) == before)

        let up = try f.avault(["keys", "upgrade"])
        #expect(up.code == 0, "\(up.err)")
        #expect(up.out.contains("upgraded"), "\(up.out)")
        let lines = try f.keyringLines()
        #expect(lines.first == "avault-keyring v2")
        #expect(lines.last?.hasPrefix("mac: ") == true)
        // The same keys: names, versions and ids; the secrets still open what they opened.
        let keys = try f.listedKeys()
        #expect(keys.map { "\($0["name"] as? String ?? "") \($0["version"] as? Int ?? 0) \($0["keyId"] as? String ?? "")" } == [
            "demo-content 1 34dda81fc44e46c8", "demo-desk 1 2F2D13E212EF42E9", "demo-legacy 1 0496d287e7cf792a", "demo-legacy 2 b2865b0bb7376982",
        ])
        let d = try f.avault(["secured", "decrypt", "--record", "Fixtures/records/demo-v2.md", "--key", "demo-content"], cwd: CLI.repoRoot)
        #expect(d.code == 0, "\(d.err)")
        #expect(try f.avault(["keys", "list", "--verify"]).code == 0)
        // Upgrading twice is refused, harmlessly.
        let again = try f.avault(["keys", "upgrade"])
        #expect(again.code == 2)
        #expect(again.err.contains("already"), "\(again.err)")
        f.expectNoLeaks(of: [])
    }

    @Test func theUpgradeChecksWhatVersion1Allows() throws {
        // A signing key's public line swapped: caught by its secret, nothing written.
        let (f, lines) = try v1Ring()
        var swapped = lines
        let i = try #require(swapped.firstIndex { $0.hasPrefix("public: ") })
        swapped[i] = "public: " + Data(repeating: 7, count: 32).base64EncodedString()
        try CLI.write(swapped.joined(separator: "\n"), to: URL(fileURLWithPath: f.keyringFile), mode: 0o600)
        let before = try Data(contentsOf: URL(fileURLWithPath: f.keyringFile))
        let r = try f.avault(["keys", "upgrade"])
        expectTampered(r, "demo-desk")
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.keyringFile)) == before)

        // An unsealed secret in a protected version 1 keyring (which version 1 allowed) is not
        // sealed silently: the upgrade names it and asks for --seal-unprotected.
        let (g, original) = try v1Ring()
        var withPlain = original
        withPlain.removeLast()
        withPlain += ["", "key: xchacha20poly1305 aaaaaaaaaaaaaaaa extra 1", "created: 2026-01-01T00:00:00Z", "status: active",
                      "secret: plain " + Data(repeating: 9, count: 32).base64EncodedString(), ""]
        try CLI.write(withPlain.joined(separator: "\n"), to: URL(fileURLWithPath: g.keyringFile), mode: 0o600)
        let refused = try g.avault(["keys", "upgrade"])
        #expect(refused.code == 2, "\(refused.err)")
        #expect(refused.err.contains("'extra' version 1"), "\(refused.err)")
        #expect(refused.err.contains("--seal-unprotected"), "\(refused.err)")
        let sealed = try g.avault(["keys", "upgrade", "--seal-unprotected"])
        #expect(sealed.code == 0, "\(sealed.err)")
        #expect(try g.listed("extra", 1)["protected"] as? Bool == true)
        #expect(try g.avault(["keys", "list", "--verify"]).code == 0)
    }
}
