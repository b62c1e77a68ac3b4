import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The key lifecycle's ways back (issue 11, item 5): delete, reinstate, rename, a sealed
/// export and its import, and the trust step of a rotated signing key.
@Suite struct KeyLifecycleCLITests {
    static func mode(_ path: String) -> Int {
        var st = stat()
        return lstat(path, &st) == 0 ? Int(st.st_mode & 0o777) : -1
    }

    @Test func deleteAsksWithoutATerminalRefusesAndDeletesWithYes() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        #expect(try f.avault(["keys", "generate", "keep", "--secret"]).code == 0)
        let asked = try f.avault(["keys", "delete", "c"])
        #expect(asked.code == 2, "\(asked.err)")
        #expect(asked.err.hasPrefix("avault: refusing to delete key 'c' (1 version) without confirmation\n"), "\(asked.err)")
        #expect(asked.err.contains("avault: hint: pass --yes"), "\(asked.err)")
        #expect(try f.listedKeys().map { $0["name"] as? String } == ["c", "keep"])
        let deleted = try f.avault(["keys", "delete", "c", "--yes"])
        #expect(deleted.code == 0, "\(deleted.err)")
        #expect(deleted.out.hasPrefix("deleted content key 'c' version 1"), "\(deleted.out)")
        #expect(try f.listedKeys().map { $0["name"] as? String } == ["keep"])
        let missing = try f.avault(["keys", "delete", "c", "--yes"])
        #expect(missing.code == 2)
        #expect(missing.err.hasPrefix("avault: no key named 'c'"), "\(missing.err)")
        // One version of several.
        #expect(try f.avault(["keys", "rotate", "keep"]).code == 0)
        #expect(try f.avault(["keys", "delete", "keep", "--version", "3", "--yes"]).code == 2)
        #expect(try f.avault(["keys", "delete", "keep", "--version", "1", "--yes"]).code == 0)
        #expect(try f.listedKeys().map { $0["version"] as? Int } == [2])
    }

    /// On a terminal (a pseudo-terminal from script(1)) delete asks, and only "y" deletes.
    @Test func deleteOnATerminalAsksFirst() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        func onTerminal(_ answer: String) throws -> CLI.Result {
            try CLI.run("/usr/bin/script", ["-qec", "'\(CLI.avaultPath)' keys delete c --keyring '\(f.ring)'", "/dev/null"],
                        stdin: Data((answer + "\n").utf8), env: ["AVAULT_PASSPHRASE": f.passphrase])
        }
        let no = try onTerminal("n")
        #expect(no.code == 2, "\(no.out)")
        #expect(no.out.contains("avault: delete key 'c' (1 version)? this cannot be undone [y/N] "), "\(no.out)")
        #expect(no.out.contains("avault: nothing deleted"), "\(no.out)")
        #expect(try f.listedKeys().count == 1)
        let yes = try onTerminal("y")
        #expect(yes.code == 0, "\(yes.out)")
        #expect(yes.out.contains("deleted content key 'c' version 1"), "\(yes.out)")
        #expect(try f.listedKeys().isEmpty)
    }

    /// A 32-byte AES key imported without --legacy-aes-cbc became a content key that could be
    /// neither re-imported (its id is taken) nor retired (its only version): delete undoes it.
    @Test func aMistakenImportIsUndoneByDelete() throws {
        let f = try KeysFixture()
        let key = try f.keyFile("demo-aes256.key")
        #expect(try f.avault(["keys", "import", "old-site", "--key-file", key]).code == 0)
        #expect(try f.listed("old-site", 1)["kind"] as? String == "content")
        let again = try f.avault(["keys", "import", "old-site", "--key-file", key, "--legacy-aes-cbc"])
        #expect(again.code == 2, "\(again.err)")
        #expect(try f.avault(["keys", "retire", "old-site", "--version", "1"]).code == 2)
        #expect(try f.avault(["keys", "delete", "old-site", "--yes"]).code == 0)
        let right = try f.avault(["keys", "import", "old-site", "--key-file", key, "--legacy-aes-cbc"])
        #expect(right.code == 0, "\(right.err)")
        #expect(try f.listed("old-site", 1)["kind"] as? String == "legacy")
    }

    @Test func deleteRefusesAVersionTheVaultNeedsUnlessForced() throws {
        let f = try VaultFixture()
        _ = try f.put("doc", Data("draft".utf8))
        #expect(try f.avault(["keys", "rotate", "drafts"]).code == 0)
        let refused = try f.avault(["keys", "delete", "drafts", "--version", "1", "--yes"])
        #expect(refused.code == 2, "\(refused.err)")
        #expect(refused.err.contains("still needs key 'drafts' version 1"), "\(refused.err)")
        #expect(refused.err.contains("avault: hint: re-encrypt them first with 'avault vault rewrap', or pass --force"), "\(refused.err)")
        let retire = try f.avault(["keys", "retire", "drafts", "--version", "1"])
        #expect(retire.code == 2)
        #expect(!retire.err.contains("--force"), "retire has no way around it: \(retire.err)")
        #expect(try f.get("doc").out == "draft", "nothing was deleted")
        // The rule holds for the whole key too, and --force alone does not skip the confirmation.
        #expect(try f.avault(["keys", "delete", "drafts", "--yes"]).code == 2)
        #expect(try f.avault(["keys", "delete", "drafts", "--version", "1", "--force"]).code == 2)
        let forced = try f.avault(["keys", "delete", "drafts", "--version", "1", "--force", "--yes"])
        #expect(forced.code == 0, "\(forced.err)")
        #expect(try f.get("doc").code == 2, "the version that encrypted it is gone")
    }

    @Test func deleteRefusesATrustedSigningKeyUntilRevoked() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "desk", "--signing"]).code == 0)
        let pub = f.path("desk.pub")
        #expect(try f.avault(["keys", "export-public", "desk", "-o", pub]).code == 0)
        #expect(try f.avault(["keys", "trust", "add", pub, "--name", "Desk"]).code == 0)
        let id = try #require(try f.listed("desk", 1)["keyId"] as? String)
        let refused = try f.avault(["keys", "delete", "desk", "--yes"])
        #expect(refused.code == 2, "\(refused.err)")
        #expect(refused.err.contains("trusts key 'desk' version 1 (key id \(id)) as 'Desk'"), "\(refused.err)")
        #expect(refused.err.contains("avault: hint: revoke it ('avault keys trust revoke \(id)')"), "\(refused.err)")
        #expect(try f.avault(["keys", "trust", "revoke", id, "--reason", "retired desk"]).code == 0)
        #expect(try f.avault(["keys", "delete", "desk", "--yes"]).code == 0)
    }

    /// The trust store trusts a public key, whatever key id it holds it under (no signature
    /// covers a key id): the same key under another id is still trusted, until it is revoked.
    @Test func deleteRefusesASigningKeyTrustedUnderAnotherID() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "desk", "--signing"]).code == 0)
        let pub = f.path("desk.pub")
        #expect(try f.avault(["keys", "export-public", "desk", "-o", pub]).code == 0)
        let id = try #require(try f.listed("desk", 1)["keyId"] as? String)
        let line = try #require(try String(contentsOfFile: pub, encoding: .utf8).split(separator: "\n").last.map(String.init))
        var raw = [UInt8](try #require(Data(base64Encoded: line)))
        raw.replaceSubrange(2..<10, with: [1, 2, 3, 4, 5, 6, 7, 8])
        let alias = "0807060504030201", aliasPub = f.path("alias.pub")
        try CLI.write("untrusted comment: minisign public key \(alias)\n\(Data(raw).base64EncodedString())\n", to: URL(fileURLWithPath: aliasPub), mode: 0o644)
        #expect(try f.avault(["keys", "trust", "add", aliasPub, "--name", "Desk"]).code == 0)
        let refused = try f.avault(["keys", "delete", "desk", "--yes"])
        #expect(refused.code == 2, "\(refused.err)")
        #expect(refused.err.contains("trusts key 'desk' version 1 (key id \(id)) as 'Desk' (its public key, as key id \(alias))"), "\(refused.err)")
        #expect(refused.err.contains("avault: hint: revoke it ('avault keys trust revoke \(alias)')"), "\(refused.err)")
        #expect(try f.listed("desk", 1)["keyId"] as? String == id, "the key was deleted")
        #expect(try f.avault(["keys", "trust", "revoke", alias, "--reason", "retired desk"]).code == 0)
        #expect(try f.avault(["keys", "delete", "desk", "--yes"]).code == 0)
    }

    @Test func reinstateUndoesRetire() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        let blob = try f.encrypt("before", key: "c")
        #expect(try f.avault(["keys", "rotate", "c"]).code == 0)
        #expect(try f.avault(["keys", "retire", "c", "--version", "1"]).code == 0)
        #expect(try f.avault(["secured", "decrypt", "-", "--key", "c", "--context", "ctx"], stdin: Data(blob.utf8)).code == 2)
        let back = try f.avault(["keys", "reinstate", "c", "--version", "1"])
        #expect(back.code == 0, "\(back.err)")
        #expect(back.out == "reinstated key 'c' version 1\n")
        #expect(try f.listed("c", 1)["status"] as? String == "active")
        #expect(try f.avault(["secured", "decrypt", "-", "--key", "c", "--context", "ctx"], stdin: Data(blob.utf8)).out == "before")
        let twice = try f.avault(["keys", "reinstate", "c", "--version", "1"])
        #expect(twice.code == 2)
        #expect(twice.err == "avault: key 'c' version 1 is not retired\n")
        #expect(try f.avault(["keys", "reinstate", "c", "--version", "9"]).code == 2)
    }

    @Test func renameReSealsUnderTheNewName() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        #expect(try f.avault(["keys", "generate", "other", "--secret"]).code == 0)
        let blob = try f.encrypt("text", key: "c")
        #expect(try f.avault(["keys", "rotate", "c"]).code == 0)
        let before = try String(contentsOfFile: f.keyringFile, encoding: .utf8)
        let r = try f.avault(["keys", "rename", "c", "d"])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out == "renamed key 'c' to 'd'\n")
        #expect(try f.listedKeys().map { "\($0["name"] as? String ?? "") \($0["version"] as? Int ?? 0)" } == ["d 1", "d 2", "other 1"])
        let after = try String(contentsOfFile: f.keyringFile, encoding: .utf8)
        #expect(!after.contains("secret: plain"))
        #expect(after != before)
        // The keyring authenticates, and both versions open under the new name.
        #expect(try f.avault(["keys", "list", "--verify"]).code == 0)
        #expect(try f.avault(["secured", "decrypt", "-", "--key", "d", "--context", "ctx"], stdin: Data(blob.utf8)).out == "text")
        #expect(try f.avault(["keys", "rename", "d", "other"]).code == 2)
        #expect(try f.avault(["keys", "rename", "nope", "x"]).code == 2)
        #expect(try f.avault(["keys", "rename", "d", "bad name"]).code == 64) // a name that is not one: a usage error
    }

    @Test func renameRefusesTheVaultsKey() throws {
        let f = try VaultFixture()
        let r = try f.avault(["keys", "rename", "drafts", "renamed"])
        #expect(r.code == 2)
        #expect(r.err.contains("uses key 'drafts' by name"), "\(r.err)")
    }

    @Test func exportIsSealedAndImportsWithEveryVersion() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        let old = try f.encrypt("old text", key: "c")
        #expect(try f.avault(["keys", "rotate", "c"]).code == 0)
        #expect(try f.avault(["keys", "retire", "c", "--version", "1"]).code == 0)
        let exportPass = "export-" + UUID().uuidString.prefix(8)
        let out = f.path("c.avkx")
        let e = try f.avault(["keys", "export", "c", "-o", out], env: ["AVAULT_EXPORT_PASSPHRASE": exportPass])
        #expect(e.code == 0, "\(e.err)")
        #expect(e.out == "exported key 'c' (2 versions) to \(out)\n")
        #expect(Self.mode(out) == 0o600)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.hasPrefix("avault-key-export-v1\nname: c\nkdf: argon2id "))
        #expect(!text.contains("plain") && !text.contains(exportPass))
        let again = try f.avault(["keys", "export", "c", "-o", out], env: ["AVAULT_EXPORT_PASSPHRASE": exportPass])
        #expect(again.code == 2)
        #expect(again.err.contains("already exists"), "\(again.err)")
        #expect(try f.avault(["keys", "export", "c", "-o", out, "--force"], env: ["AVAULT_EXPORT_PASSPHRASE": exportPass]).code == 0)
        #expect(try f.avault(["keys", "export", "c", "-o", f.path("x")], env: ["AVAULT_EXPORT_PASSPHRASE": nil]).code == 2, "no passphrase, no terminal")

        // Into another keyring, under another name: every version, status and id.
        let g = try KeysFixture()
        #expect(try g.avault(["keys", "generate", "unrelated", "--secret"]).code == 0)
        let wrong = try g.avault(["keys", "import", "restored", "--sealed", out], env: ["AVAULT_EXPORT_PASSPHRASE": "not it"])
        #expect(wrong.code == 2)
        #expect(wrong.err.hasPrefix("avault: wrong passphrase for the key export \(out)"), "\(wrong.err)")
        let i = try g.avault(["keys", "import", "restored", "--sealed", out], env: ["AVAULT_EXPORT_PASSPHRASE": exportPass])
        #expect(i.code == 0, "\(i.err)")
        for v in [1, 2] {
            #expect(try g.listed("restored", v)["keyId"] as? String == (try f.listed("c", v)["keyId"] as? String))
            #expect(try g.listed("restored", v)["created"] as? String == (try f.listed("c", v)["created"] as? String))
        }
        #expect(try g.listed("restored", 1)["status"] as? String == "retired")
        #expect(i.out == "imported content key 'restored' version 1 (xchacha20poly1305, id \(try f.listed("c", 1)["keyId"] as? String ?? "?"))\n"
                + "imported content key 'restored' version 2 (xchacha20poly1305, id \(try f.listed("c", 2)["keyId"] as? String ?? "?"))\n")
        let h = try KeysFixture()
        let jsonImport = try h.avault(["keys", "import", "r", "--sealed", out, "--json"], env: ["AVAULT_EXPORT_PASSPHRASE": exportPass])
        let objects = jsonImport.out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.map { $0["version"] as? Int } == [1, 2])
        #expect(objects.map { $0["current"] as? Bool } == [false, true], "the newest active version is current")
        #expect(objects.allSatisfy { $0["schemaVersion"] as? Int == 2 })
        #expect(try g.avault(["keys", "list", "--verify"]).code == 0)
        #expect(try g.avault(["keys", "reinstate", "restored", "--version", "1"]).code == 0)
        #expect(try g.avault(["secured", "decrypt", "-", "--key", "restored", "--context", "ctx"], stdin: Data(old.utf8)).out == "old text")
        // A name that exists, a tampered file.
        #expect(try g.avault(["keys", "import", "restored", "--sealed", out], env: ["AVAULT_EXPORT_PASSPHRASE": exportPass]).code == 2)
        let tampered = g.path("tampered.avkx")
        try CLI.write(text.replacingOccurrences(of: "name: c\n", with: "name: d\n"), to: URL(fileURLWithPath: tampered))
        let t = try g.avault(["keys", "import", "again", "--sealed", tampered], env: ["AVAULT_EXPORT_PASSPHRASE": exportPass])
        #expect(t.code == 2, "the header is authenticated: \(t.err)")
        #expect(try g.avault(["keys", "import", "x", "--sealed", out, "--key-file", out]).code == 64)
    }

    @Test func anExportedSigningKeyStillSigns() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "desk", "--signing", "--unprotected"]).code == 0)
        let secrets = try f.plainSecrets()
        let out = f.path("desk.avkx")
        #expect(try f.avault(["keys", "export", "desk", "-o", out], env: ["AVAULT_EXPORT_PASSPHRASE": "export-pass-1"]).code == 0)
        let g = try KeysFixture()
        #expect(try g.avault(["keys", "import", "desk", "--sealed", out, "--unprotected"], env: ["AVAULT_EXPORT_PASSPHRASE": "export-pass-1"]).code == 0)
        #expect(try g.plainSecrets() == secrets)
        #expect(try g.avault(["keys", "export-public", "desk"]).out == (try f.avault(["keys", "export-public", "desk"]).out))
        f.expectNoLeaks(of: secrets)
        g.expectNoLeaks(of: secrets)
    }

    /// `rotate --trust` takes over the name and roles of the store's entry for the previous
    /// version found by its public key, as verification finds it: not those of an entry that
    /// holds another key under the same id, and also when the key is trusted under another id
    /// (a review found both taken by id).
    @Test func rotateTrustFindsThePreviousVersionByItsPublicKey() throws {
        /// `pub` (a minisign public key file) with its key id bytes or its key bytes replaced.
        func altered(_ pub: String, id: [UInt8]? = nil, key: [UInt8]? = nil, as out: String) throws {
            let lines = try String(contentsOfFile: pub, encoding: .utf8).split(separator: "\n")
            var raw = [UInt8](try #require(Data(base64Encoded: String(lines[1]))))
            if let id { raw.replaceSubrange(2..<10, with: id) }
            if let key { raw.replaceSubrange(10..<42, with: key) }
            try CLI.write("untrusted comment: altered\n" + Data(raw).base64EncodedString() + "\n", to: URL(fileURLWithPath: out), mode: 0o644)
        }
        for (mode, expectName, expectRoles) in [("another key under its id", "desk", [String]()), ("its key under another id", "The Desk", ["desk"])] {
            let f = try KeysFixture()
            #expect(try f.avault(["keys", "generate", "desk", "--signing"]).code == 0)
            let pub = f.path("desk.pub"), planted = f.path("planted.pub")
            #expect(try f.avault(["keys", "export-public", "desk", "-o", pub]).code == 0)
            if mode == "another key under its id" {
                try altered(pub, key: [UInt8](repeating: 0x5A, count: 32), as: planted)
                #expect(try f.avault(["keys", "trust", "add", planted, "--name", "Other Publisher", "--role", "legal"]).code == 0)
            } else {
                try altered(pub, id: [1, 2, 3, 4, 5, 6, 7, 8], as: planted)
                #expect(try f.avault(["keys", "trust", "add", planted, "--name", "The Desk", "--role", "desk"]).code == 0)
            }
            let trusted = try f.avault(["keys", "rotate", "desk", "--trust"])
            let v2 = try #require(try f.listed("desk", 2)["keyId"] as? String)
            let entries = try #require(try f.json(["keys", "trust", "list"])["keys"] as? [[String: Any]])
            let entry = try #require(entries.first { $0["keyId"] as? String == v2 }, "\(mode): \(trusted.err)")
            #expect(trusted.code == 0 && entry["name"] as? String == expectName && entry["roles"] as? [String] == expectRoles,
                    "\(mode): \(entry) \(trusted.err)")
        }
    }

    /// Found by an attack review: `rotate --trust` wrote the new version, then refused the
    /// trust store (writable by others): the untrusted version signed from then on, and running
    /// it again as the hint said made a third. The store is now refused before anything is
    /// written; without `--trust`, a store that cannot be read does not fail the rotation.
    /// A keyring with signing key `desk`, trusted in its trust store with `trust` (`add`'s options).
    static func trustedDesk(_ trust: [String]) throws -> KeysFixture {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "desk", "--signing"]).code == 0)
        let pub = f.path("desk.pub")
        #expect(try f.avault(["keys", "export-public", "desk", "-o", pub]).code == 0)
        #expect(try f.avault(["keys", "trust", "add", pub] + trust).code == 0)
        return f
    }

    @Test func aTrustStoreThatCannotBeUsedStopsRotateTrustBeforeItWrites() throws {
        let f = try Self.trustedDesk(["--name", "The Desk", "--role", "desk"])
        let store = f.ring + "/trust.avt"
        let keyring = try Data(contentsOf: URL(fileURLWithPath: f.keyringFile))
        #expect(chmod(store, 0o664) == 0)
        let r = try f.avault(["keys", "rotate", "desk", "--trust"])
        #expect(r.code == 2 && r.out.isEmpty && r.err.contains("writable by group or others"), "\(r.code) \(r.out)\(r.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.keyringFile)) == keyring)
        #expect(try f.listedKeys().count { $0["name"] as? String == "desk" } == 1)
        let plain = try f.avault(["keys", "rotate", "desk"])
        #expect(plain.code == 0 && plain.err.contains("avault keys trust add desk.pub --name desk"), "\(plain.code) \(plain.err)")
    }

    /// Found by an attack review: `rotate --trust` trusted the new version with no bound when
    /// the publisher's entry had one, so a rotation outlasted the trust given to the key.
    @Test func rotateTrustKeepsTheEntrysNotAfter() throws {
        let f = try Self.trustedDesk(["--name", "The Desk", "--not-after", "2031-01-01T00:00:00Z"])
        let r = try f.avault(["keys", "rotate", "desk", "--trust"])
        let v2 = try #require(try f.listed("desk", 2)["keyId"] as? String)
        #expect(r.code == 0 && r.err.contains("trusted the new version (key id \(v2)) as 'The Desk', not after 2031-01-01T00:00:00Z, in "), "\(r.err)")
        let entries = try #require(try f.json(["keys", "trust", "list"])["keys"] as? [[String: Any]])
        let entry = try #require(entries.first { $0["keyId"] as? String == v2 })
        #expect(entry["notAfter"] as? String == "2031-01-01T00:00:00Z", "\(entry)")
    }

    /// Found by an attack review: only the keyring directory's mode was checked. Root (through
    /// `sudo -E`, or `AVAULT_KEYRING`) used a mode-700 keyring directory of another user's,
    /// and its first write made `keyring.avk` root's, locking the user out; the other way
    /// round, that directory's owner could replace or roll back root's keyring. A keyring
    /// directory another user owns (root aside) is now refused, read or written.
    @Test(.enabled(if: geteuid() == 0, "needs root to give a directory to another user"))
    func aKeyringDirectoryAnotherUserOwnsIsRefused() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "desk", "--signing"]).code == 0)
        #expect(chown(f.ring, 65534, 65534) == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: f.keyringFile))
        let message = "avault: \(f.ring): the keyring's directory is owned by uid 65534, neither you nor root: "
        for args in [["keys", "list"], ["keys", "rotate", "desk"], ["keys", "generate", "more", "--secret"]] {
            let r = try f.avault(args)
            #expect(r.code == 2 && r.out.isEmpty && r.err.hasPrefix(message), "\(args): \(r.code) \(r.err)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.keyringFile)) == before)
        var st = stat()
        #expect(stat(f.keyringFile, &st) == 0 && st.st_uid == 0)
        // An empty one (mode 700) is not made a keyring either.
        let empty = f.path("theirs")
        #expect(mkdir(empty, 0o700) == 0 && chown(empty, 65534, 65534) == 0)
        let r = try f.avault(["keys", "generate", "desk", "--signing", "--keyring", empty], keyring: false)
        #expect(r.code == 2 && r.err.hasPrefix("avault: \(empty): the keyring's directory is owned by uid 65534"), "\(r.code) \(r.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty)
    }

    @Test func rotatingASigningKeyNamesTheTrustStepOrTakesIt() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "desk", "--signing"]).code == 0)
        let pub = f.path("desk.pub")
        #expect(try f.avault(["keys", "export-public", "desk", "-o", pub]).code == 0)
        #expect(try f.avault(["keys", "trust", "add", pub, "--name", "The Desk", "--role", "desk"]).code == 0)
        let plain = try f.avault(["keys", "rotate", "desk"])
        #expect(plain.code == 0, "\(plain.err)")
        let v2 = try #require(try f.listed("desk", 2)["keyId"] as? String)
        #expect(plain.err.contains("avault: note: the new version (key id \(v2)) is not trusted yet"), "\(plain.err)")
        #expect(plain.err.contains("avault keys trust add desk.pub --name 'The Desk' --role desk"), "\(plain.err)")
        #expect(try f.json(["keys", "trust", "list"])["keys"].flatMap { $0 as? [[String: Any]] }?.count == 1)

        let trusted = try f.avault(["keys", "rotate", "desk", "--trust"])
        #expect(trusted.code == 0, "\(trusted.err)")
        let v3 = try #require(try f.listed("desk", 3)["keyId"] as? String)
        #expect(trusted.err.contains("trusted the new version (key id \(v3)) as 'The Desk' with roles desk"), "\(trusted.err)")
        let entries = try #require(try f.json(["keys", "trust", "list"])["keys"] as? [[String: Any]])
        let entry = try #require(entries.first { $0["keyId"] as? String == v3 })
        #expect(entry["name"] as? String == "The Desk")
        #expect(entry["roles"] as? [String] == ["desk"])
        // The next signature passes the gate.
        let record = f.path("r.md")
        try CLI.write("---\ntitle: t\n---\nbody\n", to: URL(fileURLWithPath: record), mode: 0o644)
        #expect(try f.avault(["sign", record, "--key", "desk"]).code == 0)
        let v = try f.avault(["verify", record, "--require-role", "desk"])
        #expect(v.code == 0, "\(v.out)\(v.err)")
        // A content key has no trust step.
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        #expect(try f.avault(["keys", "rotate", "c"]).err.isEmpty)
    }
}
