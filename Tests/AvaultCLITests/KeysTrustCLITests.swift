import Foundation
import Testing

/// Two fixed minisign public keys (made with `minisign -G -W`).
private let trustPubA = """
    untrusted comment: minisign public key 9E9C1AA7DF61BC30
    RWQwvGHfpxqcnuXN8YMi2v+SyIWtlmpdsfpXvVtzeT5HJjXYP04obJEP

    """
private let trustPubB = """
    untrusted comment: minisign public key C4CF7472B220A18C
    RWSMoSCycnTPxHCJIekOW0ZjiNr5kzAUqEesATig99qeKL7JkjBEjJga

    """

@Suite struct KeysCLITrustStore {
    /// A fixture with A.pub and B.pub written in it.
    private func fixture() throws -> KeysFixture {
        let f = try KeysFixture()
        try CLI.write(trustPubA, to: URL(fileURLWithPath: f.path("A.pub")), mode: 0o644)
        try CLI.write(trustPubB, to: URL(fileURLWithPath: f.path("B.pub")), mode: 0o644)
        return f
    }

    private func trusted(_ f: KeysFixture, _ extra: [String] = []) throws -> [[String: Any]] {
        let object = try f.json(["keys", "trust", "list"] + extra)
        return try #require(object["keys"] as? [[String: Any]])
    }

    @Test func addListRevokeRemove() throws {
        let f = try fixture()
        let add = try f.avault(["keys", "trust", "add", f.path("A.pub"), "--name", "Alice at the desk", "--role", "desk", "--role", "editor",
                                "--not-before", "2026-01-01T00:00:00Z", "--not-after", "2027-06-30T12:00:00+02:00"],
                               env: ["AVAULT_PASSPHRASE": nil])
        #expect(add.code == 0, "\(add.err)")
        #expect(add.out == "trusted key 9E9C1AA7DF61BC30 as 'Alice at the desk' in \(f.ring)/trust.avt\n")
        #expect(FileManager.default.fileExists(atPath: f.ring + "/trust.avt"))

        let object = try f.json(["keys", "trust", "list"])
        #expect(object["trustStore"] as? String == f.ring + "/trust.avt")
        let keys = try #require(object["keys"] as? [[String: Any]])
        try #require(keys.count == 1)
        let a = keys[0]
        #expect(a["keyId"] as? String == "9E9C1AA7DF61BC30")
        #expect(a["publicKey"] as? String == "RWQwvGHfpxqcnuXN8YMi2v+SyIWtlmpdsfpXvVtzeT5HJjXYP04obJEP")
        #expect(a["name"] as? String == "Alice at the desk")
        #expect(a["roles"] as? [String] == ["desk", "editor"])
        #expect(a["notBefore"] as? String == "2026-01-01T00:00:00Z")
        #expect(a["notAfter"] as? String == "2027-06-30T12:00:00+02:00")
        let added = try #require(a["added"] as? String)
        #expect(added.count == 20 && added.hasSuffix("Z"))
        #expect(a["revoked"] is NSNull)
        #expect(Set(a.keys) == ["keyId", "publicKey", "name", "roles", "notBefore", "notAfter", "added", "revoked"])

        let text = try f.avault(["keys", "trust", "list"])
        #expect(text.out == "9E9C1AA7DF61BC30  Alice at the desk [desk, editor]  trusted, valid 2026-01-01T00:00:00Z to 2027-06-30T12:00:00+02:00\n")

        // The same key again, under another name: refused, store unchanged.
        let before = try Data(contentsOf: URL(fileURLWithPath: f.ring + "/trust.avt"))
        let twice = try f.avault(["keys", "trust", "add", f.path("A.pub"), "--name", "Someone else"])
        #expect(twice.code == 2)
        #expect(twice.err.contains("already trusted as 'Alice at the desk'"), "\(twice.err)")
        #expect(twice.err.contains("avault: hint:"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.ring + "/trust.avt")) == before)

        // A second key with no roles and no window.
        #expect(try f.avault(["keys", "trust", "add", f.path("B.pub"), "--name", "Bob"]).code == 0)
        let both = try trusted(f)
        #expect(both.map { $0["keyId"] as? String } == ["9E9C1AA7DF61BC30", "C4CF7472B220A18C"])
        #expect(both[1]["roles"] as? [String] == [])
        #expect(both[1]["notBefore"] is NSNull)
        #expect(both[1]["notAfter"] is NSNull)

        // Revoke with a reason.
        let revoke = try f.avault(["keys", "trust", "revoke", "9E9C1AA7DF61BC30", "--reason", "left the paper"])
        #expect(revoke.code == 0, "\(revoke.err)")
        #expect(revoke.out == "revoked key 9E9C1AA7DF61BC30\n")
        let revoked = try #require(try trusted(f).first { $0["keyId"] as? String == "9E9C1AA7DF61BC30" })
        let r = try #require(revoked["revoked"] as? [String: Any])
        #expect(r["reason"] as? String == "left the paper")
        let time = try #require(r["time"] as? String)
        #expect(time.count == 20 && time.hasSuffix("Z") && time >= added)
        let listed = try f.avault(["keys", "trust", "list"]).out
        #expect(listed.contains("9E9C1AA7DF61BC30  Alice at the desk [desk, editor]  REVOKED \(time): left the paper"))
        #expect(listed.contains("C4CF7472B220A18C  Bob  trusted\n"))

        // Revoking again, or an unknown id, or a malformed id: refused.
        let again = try f.avault(["keys", "trust", "revoke", "9E9C1AA7DF61BC30"])
        #expect(again.code == 2)
        #expect(again.err.contains("already revoked"))
        let unknown = try f.avault(["keys", "trust", "revoke", "0123456789ABCDEF", "--reason", "x"])
        #expect(unknown.code == 2)
        #expect(unknown.err.contains("key 0123456789ABCDEF is not in the trust store"), "\(unknown.err)")
        let malformed = try f.avault(["keys", "trust", "revoke", "not-an-id"])
        #expect(malformed.code == 2)
        #expect(malformed.err.contains("is not a key id"))

        // Removing a revoked key would un-revoke it: refused without --force, store unchanged.
        let revokedStore = try Data(contentsOf: URL(fileURLWithPath: f.ring + "/trust.avt"))
        let unrevoke = try f.avault(["keys", "trust", "remove", "9E9C1AA7DF61BC30"])
        #expect(unrevoke.code == 2)
        #expect(unrevoke.err.contains("key 9E9C1AA7DF61BC30 is revoked: removing it would un-revoke it"), "\(unrevoke.err)")
        #expect(unrevoke.err.contains("avault: hint:") && unrevoke.err.contains("--force"), "\(unrevoke.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.ring + "/trust.avt")) == revokedStore)
        // Remove with --force (the printed id is accepted in lowercase too); removing again is refused.
        let remove = try f.avault(["keys", "trust", "remove", "9e9c1aa7df61bc30", "--force"])
        #expect(remove.code == 0, "\(remove.err)")
        #expect(remove.out == "removed key 9E9C1AA7DF61BC30\n")
        #expect(try trusted(f).map { $0["keyId"] as? String } == ["C4CF7472B220A18C"])
        #expect(try f.avault(["keys", "trust", "remove", "9E9C1AA7DF61BC30"]).code == 2)
        // After removal the key can be added again.
        #expect(try f.avault(["keys", "trust", "add", f.path("A.pub"), "--name", "Alice again"]).code == 0)
        f.expectNoLeaks(of: [])
    }

    /// Revocation follows the public key, not its id (which no signature covers): the same key
    /// under another id is refused, and a store that holds it so anyway (edited by hand, or
    /// written by an older avault) still has every signature by it revoked.
    @Test func aRevokedKeyCannotComeBackUnderAnotherID() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let desk = "2F2D13E212EF42E9", alias = "0807060504030201"
        let store = demo.ring + "/trust.avt"
        let record = try demo.copy("Fixtures/records/demo-v2.md", as: "R.md")
        #expect(try CLI.avault(["sign", record, "--key", "demo-desk"] + demo.args).code == 0)
        #expect(try CLI.avault(["keys", "trust", "revoke", desk, "--reason", "lost laptop", "--keyring", demo.ring]).code == 0)
        let revoked = try CLI.avault(["verify", "--require-signature", record, "--keyring", demo.ring])
        #expect(revoked.code == 1 && revoked.out.contains("revoked"), "\(revoked.out)")

        // The desk's public key bytes under another key id.
        let deskLine = "RWTpQu8S4hMtLxNeTL7dv40K285fiI8AyU8ZQUPNROnvU8YmmRbwSOG4"
        var raw = [UInt8](try #require(Data(base64Encoded: deskLine)))
        raw.replaceSubrange(2..<10, with: [1, 2, 3, 4, 5, 6, 7, 8])
        let aliasLine = Data(raw).base64EncodedString()
        let aliasPub = demo.dir.appendingPathComponent("alias.pub")
        try CLI.write("untrusted comment: minisign public key \(alias)\n\(aliasLine)\n", to: aliasPub, mode: 0o644)
        let before = try Data(contentsOf: URL(fileURLWithPath: store))
        let add = try CLI.avault(["keys", "trust", "add", aliasPub.path, "--name", "Alias", "--keyring", demo.ring])
        #expect(add.code == 2)
        #expect(add.err.contains("avault: the public key of \(alias) is in the trust store already, as key \(desk) ('ArticleVault Demo Desk', revoked)"),
                "\(add.err)")
        #expect(add.err.contains("avault: hint:"), "\(add.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: store)) == before)

        // A store that holds it anyway: the old signature, its key id rewritten, is still revoked.
        try CLI.write(String(decoding: before, as: UTF8.self) + "\nkey: \(alias) \(aliasLine)\nname: Alias\nrole: desk\nadded: 2026-12-01T00:00:00Z\n",
                      to: URL(fileURLWithPath: store), mode: 0o600)
        var text = try String(contentsOfFile: record, encoding: .utf8)
        let signature = try #require(text.firstMatch(of: /signature: "([A-Za-z0-9+\/=]+)"/))
        var sig = [UInt8](try #require(Data(base64Encoded: String(signature.1))))
        sig.replaceSubrange(2..<10, with: [1, 2, 3, 4, 5, 6, 7, 8])
        text = text.replacingOccurrences(of: String(signature.1), with: Data(sig).base64EncodedString())
            .replacingOccurrences(of: "keyId: \"\(desk)\"", with: "keyId: \"\(alias)\"")
        try CLI.write(text, to: URL(fileURLWithPath: record), mode: 0o644)
        let rewritten = try CLI.avault(["verify", "--require-signature", record, "--keyring", demo.ring])
        #expect(rewritten.code == 1, "\(rewritten.out)")
        #expect(rewritten.out.contains("revoked") && rewritten.out.contains("lost laptop"), "\(rewritten.out)")
        let listed = try CLI.avault(["verify", "--json", record, "--keyring", demo.ring])
        #expect(listed.out.contains("\"keyId\":\"\(alias)\""), "\(listed.out)")
        #expect(listed.out.contains("\"status\":\"revoked\""), "\(listed.out)")
        // The listing says so too (a review found the alias listed as trusted).
        let list = try CLI.avault(["keys", "trust", "list", "--keyring", demo.ring])
        #expect(list.out.contains("\(alias)  Alias [desk]  REVOKED ") && list.out.contains("(as key \(desk)): lost laptop"), "\(list.out)")
        let json = try CLI.avault(["keys", "trust", "list", "--json", "--keyring", demo.ring])
        #expect(json.out.contains("\"asKeyId\":\"\(desk)\"") && !json.out.contains("\"revoked\":null"), "\(json.out)")
    }

    @Test func invalidTimesAndWindowsAreRefused() throws {
        let f = try fixture()
        for bad in ["2026-02-30T00:00:00Z", "2026-01-01", "2026-01-01T00:00:00", "2026-01-01 00:00:00Z", "yesterday", "2026-13-01T00:00:00Z"] {
            for option in ["--not-before", "--not-after"] {
                let r = try f.avault(["keys", "trust", "add", f.path("A.pub"), "--name", "A", option, bad])
                #expect(r.code == 64, "\(option) \(bad)") // a value the command line gave that is not one
                #expect(r.err.contains("is not an RFC 3339 time"), "\(r.err)")
                #expect(r.err.contains("avault: hint: for example"))
            }
        }
        let reversed = try f.avault(["keys", "trust", "add", f.path("A.pub"), "--name", "A",
                                     "--not-before", "2026-06-01T00:00:00Z", "--not-after", "2026-05-31T23:59:59Z"])
        #expect(reversed.code == 64)
        #expect(reversed.err.contains("--not-before is after --not-after"))
        // Compared as instants, not as text: 01:00+02:00 is before 00:00Z of the same day.
        let offsets = try f.avault(["keys", "trust", "add", f.path("A.pub"), "--name", "A",
                                    "--not-before", "2026-06-01T01:00:00+02:00", "--not-after", "2026-05-31T23:30:00Z"])
        #expect(offsets.code == 0, "\(offsets.err)")
        #expect(try trusted(f).count == 1)
        let reversedOffsets = try f.avault(["keys", "trust", "add", f.path("B.pub"), "--name", "B",
                                            "--not-before", "2026-06-01T00:00:00-05:30", "--not-after", "2026-06-01T05:00:00Z"])
        #expect(reversedOffsets.code == 64)
        #expect(try trusted(f).count == 1)
        // Not a public key file; a role with capitals; an empty name.
        try CLI.write("hello\n", to: URL(fileURLWithPath: f.path("junk.pub")), mode: 0o644)
        let junk = try f.avault(["keys", "trust", "add", f.path("junk.pub"), "--name", "J"])
        #expect(junk.code == 2)
        #expect(junk.err.contains("malformed minisign file"), "\(junk.err)")
        #expect(try f.avault(["keys", "trust", "add", f.path("B.pub"), "--name", "B", "--role", "Desk"]).code == 64)
        #expect(try f.avault(["keys", "trust", "add", f.path("B.pub"), "--name", ""]).code == 64)
        f.expectNoLeaks(of: [])
    }

    @Test func anExplicitTrustStoreOverridesTheKeyringLocation() throws {
        let f = try fixture()
        let store = f.path("elsewhere/publishers.avt")
        let add = try f.avault(["keys", "trust", "add", f.path("B.pub"), "--name", "Bob", "--trust-store", store])
        #expect(add.code == 0, "\(add.err)")
        #expect(add.out.hasSuffix("in \(store)\n"))
        #expect(FileManager.default.fileExists(atPath: store))
        #expect(!FileManager.default.fileExists(atPath: f.ring + "/trust.avt"))
        let text = try String(contentsOfFile: store, encoding: .utf8)
        #expect(text.hasPrefix("avault-trust v1\n\nkey: C4CF7472B220A18C RWSMoSCycnTPxHCJIekOW0ZjiNr5kzAUqEesATig99qeKL7JkjBEjJga\nname: Bob\nadded: "))

        let object = try f.json(["keys", "trust", "list", "--trust-store", store])
        #expect(object["trustStore"] as? String == store)
        #expect((object["keys"] as? [[String: Any]])?.count == 1)
        // The keyring's own store is still empty.
        #expect(try f.avault(["keys", "trust", "list"]).out == "no trusted keys in \(f.ring)/trust.avt\n")
        // Revoke and remove work on the explicit store too.
        #expect(try f.avault(["keys", "trust", "revoke", "C4CF7472B220A18C", "--trust-store", store]).code == 0)
        #expect(try f.avault(["keys", "trust", "revoke", "C4CF7472B220A18C"]).code == 2)
        #expect(try f.avault(["keys", "trust", "remove", "C4CF7472B220A18C", "--trust-store", store]).code == 2)
        #expect(try f.avault(["keys", "trust", "remove", "C4CF7472B220A18C", "--trust-store", store, "--force"]).code == 0)
        #expect(try trusted(f, ["--trust-store", store]).isEmpty)

        // The default store follows --keyring, then AVAULT_KEYRING.
        let other = f.path("other-ring")
        #expect(try f.avault(["keys", "trust", "add", f.path("A.pub"), "--name", "A"], env: ["AVAULT_KEYRING": other], keyring: false).code == 0)
        #expect(FileManager.default.fileExists(atPath: other + "/trust.avt"))

        // A damaged store is reported with its line.
        try CLI.write("avault-trust v1\n\nkey: 0000000000000000 RWSMoSCycnTPxHCJIekOW0ZjiNr5kzAUqEesATig99qeKL7JkjBEjJga\nname: X\nadded: 2026-01-01T00:00:00Z\n",
                      to: URL(fileURLWithPath: store), mode: 0o644)
        let bad = try f.avault(["keys", "trust", "list", "--trust-store", store])
        #expect(bad.code == 2)
        #expect(bad.err.contains("malformed trust store: line 3: key id 0000000000000000 does not match"), "\(bad.err)")
        f.expectNoLeaks(of: [])
    }

    /// A store named by `--trust-store` that does not exist (a mistyped name) was listed as
    /// "no trusted keys", exit 0, where verification refuses it: `list`, `revoke` and `remove`
    /// now say the file is missing (exit 2); `add` creates it, and the keyring's own store,
    /// not made yet, is still an empty one.
    @Test func aTrustStoreNamedThatDoesNotExistIsNotAnEmptyOne() throws {
        let f = try fixture()
        let missing = f.path("publishers.avt")
        for args in [["list"], ["list", "--json"], ["revoke", "C4CF7472B220A18C"], ["remove", "C4CF7472B220A18C", "--force"]] {
            let r = try f.avault(["keys", "trust"] + args + ["--trust-store", missing])
            #expect(r.code == 2 && r.out.isEmpty && r.err == "avault: \(missing): no such file or directory\n", "\(args): \(r.code) \(r.out) \(r.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(try f.avault(["keys", "trust", "list"]).out == "no trusted keys in \(f.ring)/trust.avt\n")
        #expect(try f.avault(["keys", "trust", "add", f.path("B.pub"), "--name", "Bob", "--trust-store", missing]).code == 0)
        #expect(try trusted(f, ["--trust-store", missing]).count == 1)
    }
}
