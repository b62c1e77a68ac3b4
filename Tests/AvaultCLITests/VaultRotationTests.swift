import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Key rotation, keys-in-use, rewrap, and retiring key versions the vault needs.
@Suite struct VaultRotationTests {
    static func kid(_ f: VaultFixture, version: Int) throws -> String {
        let keys = try #require(try f.json(["keys", "list"])["keys"] as? [[String: Any]])
        return try #require(keys.first { $0["name"] as? String == f.keyName && $0["version"] as? Int == version }?["keyId"] as? String)
    }

    static func keysInUse(_ f: VaultFixture, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Int] {
        let o = try f.json(["vault", "keys-in-use"], sourceLocation: sourceLocation)
        let keys = try #require(o["keys"] as? [[String: Any]], sourceLocation: sourceLocation)
        return Dictionary(uniqueKeysWithValues: keys.compactMap { k in (k["keyId"] as? String).map { ($0, k["files"] as? Int ?? -1) } })
    }

    @Test(arguments: VaultStore.allCases)
    func rotateRewrapRetireAndEveryVersionStillReads(store: VaultStore) throws {
        let f = try VaultFixture(store: store)
        var rng = SeededRNG(seed: 0xA07A7E)
        var stored: [String: [Int: Data]] = [:]
        func put(_ id: String, _ size: Int) throws {
            let payload = rng.data(size)
            let v = try f.put(id, payload)
            stored[id, default: [:]][v] = payload
        }
        try put("A", 100)
        try put("A", 70_000)
        try put("B", 0)
        let kid1 = try Self.kid(f, version: 1)
        #expect(try Self.keysInUse(f) == [kid1: 3 + 2 + 2], "3 envelopes, config, index, and the entries of A and B")

        let rot = try f.avault(["keys", "rotate", "drafts"])
        #expect(rot.code == 0, "\(rot.err)")
        let kid2 = try Self.kid(f, version: 2)
        try put("A", 200_000)
        try put("C", 5)
        // The naming key stays sealed under version 1 until rewrap, and so does B's index entry;
        // the index head and the entries of A and C are rewritten under 2.
        #expect(try Self.keysInUse(f) == [kid1: 3 + 1 + 1, kid2: 2 + 1 + 2])
        let text = try f.avault(["vault", "keys-in-use"], env: ["AVAULT_PASSPHRASE": nil])
        #expect(text.code == 0, "keys-in-use needs no passphrase: \(text.err)")
        #expect(text.out.contains("\(kid1)  drafts version 1  5 files"), "\(text.out)")
        #expect(text.out.contains("\(kid2)  drafts version 2  5 files"), "\(text.out)")
        let history = try #require(try f.json(["vault", "history", "A"])["versions"] as? [[String: Any]])
        #expect(history.map { $0["keyId"] as? String } == [kid1, kid1, kid2])

        // Retiring version 1 is refused while the vault needs it: with --vault, and through AVAULT_VAULT.
        for args in [["--vault", f.vault], []] {
            let r = try f.avault(["keys", "retire", "drafts", "--version", "1"] + args)
            #expect(r.code == 2, "\(args): \(r.code) \(r.err)")
            #expect(r.err.contains("still needs key 'drafts' version 1 for 5 files"), "\(r.err)")
            #expect(r.err.contains("objects/") && r.err.contains("config"), "names the files: \(r.err)")
            #expect(r.err.contains("hint:") && r.err.contains("rewrap"), "\(r.err)")
        }
        let listed = try #require(try f.json(["keys", "list"])["keys"] as? [[String: Any]])
        #expect(listed.allSatisfy { $0["status"] as? String == "active" }, "nothing was retired")

        let rw = try f.avault(["vault", "rewrap"])
        #expect(rw.code == 0, "\(rw.err)")
        #expect(rw.out == "rewrapped 3 versions\n", "\(rw.out)")
        #expect(try Self.keysInUse(f) == [kid2: 5 + 2 + 3], "every envelope and index entry re-sealed")
        #expect(try #require(try f.json(["vault", "history", "A"])["versions"] as? [[String: Any]]).allSatisfy { $0["keyId"] as? String == kid2 })
        #expect(try f.avault(["vault", "rewrap"]).out == "rewrapped 0 versions\n")

        let retire = try f.avault(["keys", "retire", "drafts", "--version", "1", "--vault", f.vault])
        #expect(retire.code == 0, "\(retire.err)")
        for (id, versions) in stored {
            for (v, payload) in versions {
                let g = try f.get(id, version: v)
                #expect(g.code == 0, "\(id) v\(v): \(g.err)")
                #expect(Bytes(g.stdout) == Bytes(payload), "\(id) v\(v) after rewrap")
            }
        }
        try put("D", 10)
        #expect(try f.verify().code == 0)
        let logCheck = try f.avault(["vault", "log", "--verify"])
        #expect(logCheck.code == 0, "\(logCheck.out)")
        let rewrapEntry = try #require(try f.avault(["vault", "log", "--json"]).out.split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { $0["op"] as? String == "rewrap" })
        #expect(rewrapEntry["envelopes"] as? Int == 3)
        #expect(rewrapEntry["from"] as? [String] == [kid1])
        #expect(rewrapEntry["kid"] as? String == kid2)
    }

    /// Retire a version the vault needs by pointing the check elsewhere: reads under it fail
    /// with a clear message naming the retired version (exit 2), never as tampering, and
    /// nothing readable under it is thrown away.
    @Test func aRetiredVersionWithoutRewrapFailsClearly() throws {
        let f = try VaultFixture()
        try f.put("A", Data("under version 1".utf8))
        #expect(try f.avault(["keys", "rotate", "drafts"]).code == 0)
        try f.put("A", Data("under version 2".utf8))
        let elsewhere = f.path("not-a-vault")
        let r = try f.avault(["keys", "retire", "drafts", "--version", "1"], env: ["AVAULT_VAULT": elsewhere])
        #expect(r.code == 0, "\(r.err)")

        let g = try f.get("A", version: 1)
        #expect(g.code == 2, "\(g.code): \(g.err)")
        #expect(g.err.contains("version 1") && g.err.contains("retired"), "\(g.err)")
        #expect(g.stdout.isEmpty)
        let latest = try f.get("A")
        #expect(latest.code == 0 && latest.out == "under version 2", "\(latest.err)")
        // A put needs the naming key, still sealed under version 1.
        let p = try f.avault(["vault", "put", "A", "-"], stdin: Data("x".utf8))
        #expect(p.code == 2, "\(p.err)")
        #expect(p.err.contains("version 1") && p.err.contains("retired"), "\(p.err)")

        // verify must not call an intact envelope "corrupt" (and fsck must not move it aside).
        let (code, report) = try f.verify()
        #expect(code != 0)
        #expect(report.corrupt.isEmpty, "an envelope under a retired key version is reported corrupt: \(report)")
        let before = try f.envelopeFiles().envelopes
        _ = try f.avault(["vault", "fsck"])
        #expect(try f.envelopeFiles().envelopes == before, "fsck quarantined intact envelopes under a retired key version")
    }

    /// With a passphrase-protected key: the right passphrase reads, a wrong or absent one is
    /// an operational error (exit 2), and keys-in-use needs none.
    @Test func passphraseProtectedVault() throws {
        let f = try VaultFixture(protected: true)
        try f.put("doc", Data("secret draft".utf8))
        #expect(try f.get("doc").out == "secret draft")
        let wrong = try f.avault(["vault", "get", "doc"], env: ["AVAULT_PASSPHRASE": "not-the-passphrase"])
        #expect(wrong.code == 2, "\(wrong.err)")
        #expect(wrong.err.hasPrefix("avault: "), "\(wrong.err)")
        #expect(wrong.stdout.isEmpty)
        let none = try f.avault(["vault", "get", "doc"], env: ["AVAULT_PASSPHRASE": nil])
        #expect(none.code == 2, "\(none.err)")
        #expect(none.err.hasPrefix("avault: "))
        let use = try f.avault(["vault", "keys-in-use", "--json"], env: ["AVAULT_PASSPHRASE": nil])
        #expect(use.code == 0, "\(use.err)")
        // No secret reaches the disk in the clear: the keyring is sealed and the vault holds no payload.
        let ring = try vaultRead(f.ring + "/keyring.avk")
        #expect(!String(decoding: ring, as: UTF8.self).contains("secret: plain"))
        for p in try f.allVaultPaths() {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: f.vault + "/" + p, isDirectory: &isDir), !isDir.boolValue else { continue }
            #expect(try vaultRead(f.vault + "/" + p).range(of: Data("secret draft".utf8)) == nil, "\(p)")
        }
    }
}
