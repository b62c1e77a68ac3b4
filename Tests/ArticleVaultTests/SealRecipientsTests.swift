import Foundation
import Testing
import VaultCrypto
import VaultFormat
import ArticleVault

/// v3 blobs and `.avault-recipients` in the library: each refusal is its own named case.
@Suite struct SealRecipientsTests {
    /// A keyring with one unprotected identity; returns it and its public key.
    static func identityRing(in dir: URL, name: String = "me") throws -> (Keyring, [UInt8]) {
        let ring = try Keyring(directory: dir.appendingPathComponent("ring-\(name)").path,
                               passphrase: PassphraseSource(file: nil, environmentVariable: "AVAULT_TEST_UNSET", label: "test"))
        let secret = X25519.generateSecret()
        let publicKey = try X25519.publicKey(of: secret)
        try ring.update { (r: Keyring) throws(AvaultError) in
            try r.add(name: name, algorithm: .x25519, secret: secret, id: .content(KeyID(bytes: Array(BLAKE2b.hash(publicKey, digestSize: 32).prefix(8)))),
                      publicKey: publicKey, protected: false, now: 0)
        }
        return (ring, publicKey)
    }

    static func expectError(_ matches: (AvaultError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws(AvaultError) -> Void) {
        do throws(AvaultError) {
            try body()
            Issue.record("no error", sourceLocation: sourceLocation)
        } catch {
            #expect(matches(error), "\(error.message)", sourceLocation: sourceLocation)
            #expect(!error.message.contains("\n"), sourceLocation: sourceLocation)
        }
    }

    @Test func v3RoundTripAndNamedRefusals() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (ring, me) = try Self.identityRing(in: dir)
        let (_, other) = try Self.identityRing(in: dir, name: "other")
        let plaintext = Array("the sealed text".utf8)
        let blob = try SecuredField.encryptV3(plaintext, to: [me, other], context: "https://example.org/a")
        #expect(blob.stanzaTypes == ["X25519", "X25519", "avault-context"])
        #expect(try ring.decrypt(blob, keyName: "me", context: "https://example.org/a") == plaintext)
        #expect(try SecuredField.decryptV3(blob, identities: try ring.allAgeIdentities(), context: "https://example.org/a", file: nil) == plaintext)
        Self.expectError({ if case .sealedForAnotherRecord(path: "r.md") = $0 { true } else { false } }) { () throws(AvaultError) in
            _ = try SecuredField.decryptV3(blob, identities: try ring.allAgeIdentities(), context: "https://example.org/b", file: "r.md")
        }
        let toOther = try SecuredField.encryptV3(plaintext, to: [other], context: "")
        Self.expectError({ if case .noIdentityForBlob(path: nil, identities: 1, recipients: 1) = $0 { true } else { false } }) { () throws(AvaultError) in
            _ = try SecuredField.decryptV3(toOther, identities: try ring.allAgeIdentities(), context: "", file: nil)
        }
        // A changed context stanza (someone without the file key rebinding the blob) breaks the header code.
        guard case .v3(let age, var header) = blob else { Issue.record("not v3"); return }
        let headerLength = header.serialized().count
        header.stanzas[2] = SecuredBlob.v3ContextStanza(digest: SecuredField.v3ContextDigest("https://example.org/b"))
        let rebound = try SecuredBlob(parsing: "v3;" + Base64.encode(header.serialized() + age[headerLength...]))
        Self.expectError({ if case .age(.headerMAC, _) = $0 { true } else { false } }) { () throws(AvaultError) in
            _ = try SecuredField.decryptV3(rebound, identities: try ring.allAgeIdentities(), context: "https://example.org/b", file: nil)
        }
        // A content key cannot open a v3 blob; an identity cannot open a v2 one.
        Self.expectError({ if case .unsuitableKey = $0 { true } else { false } }) { () throws(AvaultError) in
            _ = try SecuredField.decrypt(blob, key: SecretBytes.random(count: 32), context: "")
        }
    }

    @Test func recipientsFileRefusalsAreNamed() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        let (_, me) = try Self.identityRing(in: dir)
        let recipient = AgeKeys.recipient(me)
        let sub = dir.appendingPathComponent("a/b")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let record = sub.appendingPathComponent("r.md").path
        Self.expectError({ if case .noRecipientsFile(path: record) = $0 { true } else { false } }) { () throws(AvaultError) in
            _ = try SealRecipients.resolve(record: record)
        }
        let rules = dir.appendingPathComponent("a/.avault-recipients").path
        try "path-glob: c/**\n\(recipient)\n".write(toFile: rules, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: rules)
        Self.expectError({ if case .noRecipientsRule(path: record, file: _, relative: "b/r.md") = $0 { true } else { false } }) { () throws(AvaultError) in
            _ = try SealRecipients.resolve(record: record)
        }
        try "path-glob: b/*\n\(recipient)\n".write(toFile: rules, atomically: false, encoding: .utf8)
        let found = try SealRecipients.resolve(record: record)
        #expect(found.relative == "b/r.md" && found.recipients == [me] && found.file.hasSuffix("/a/.avault-recipients"))
        try FileManager.default.setAttributes([.posixPermissions: 0o646], ofItemAtPath: rules)
        Self.expectError({ if case .writableByOthers = $0 { true } else { false } }) { () throws(AvaultError) in
            _ = try SealRecipients.resolve(record: record)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: rules)
        try "nonsense\n".write(toFile: rules, atomically: false, encoding: .utf8)
        Self.expectError({ if case .malformed(.invalidRecipientsFile(_, line: 1), file: rules) = $0 { true } else { false } }) { () throws(AvaultError) in
            _ = try SealRecipients.resolve(record: record)
        }
    }
}
