import Foundation
import Testing
import VaultCrypto
import VaultFormat
@testable import ArticleVault

/// A vault to recipients cannot be swapped for a state made by someone who never held its data
/// key (recipients are public: anyone can wrap a key of their own to them), once the reader's
/// keyring has seen the vault (formats.md §8.7, "What pins the data key").
@Suite struct VaultRecipientsForgeryTests {
    @Test func aStateUnderAnotherDataKeyIsRefusedByAKeyringThatSawTheVault() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir.path)
        let (ring, me) = try SealRecipientsTests.identityRing(in: dir)
        let recipient = AgeKeys.recipient(me)
        let location = dir.appendingPathComponent("vault").path
        let vault = try Vault.initialize(storage: FileVaultStorage(directory: location), keyring: ring, recipients: [recipient])
        let payload = dir.appendingPathComponent("p").path
        try Data("the real draft".utf8).write(to: URL(fileURLWithPath: payload))
        _ = try vault.put(id: "A", path: payload, contentType: nil, now: 0)
        #expect(try vault.readIndex().map(\.id) == ["A"])

        // Mallory, who can write the directory but never held the data key, makes a state of her
        // own: the same id, recipients and log, a data key, naming key and index of hers.
        let config = vault.config
        let forgedKey = SecretBytes.random(count: 32)
        let kid = SecuredField.keyID(for: forgedKey)
        let naming = SecretBytes.random(count: 32)
        let sealedNaming = try naming.withUnsafeBytes { raw in
            Result { () throws(AvaultError) in try Vault.seal(raw, key: forgedKey, kid: kid, ad: { config.namingKeyAssociatedData(kid: $0) }) }
        }.get()
        var forged = config
        forged.namingKey = sealedNaming
        forged.dataKeys = try VaultRecipients.wrap([forgedKey], to: [recipient], vaultID: config.vaultID)
        let log = try #require(FileManager.default.contents(atPath: location + "/log"))
        let lastLine = try #require(String(decoding: log, as: UTF8.self).split(separator: "\n").last)
        let last = try VaultFiles.LogEntry(parsing: lastLine)
        let index = VaultFiles.Index(vaultID: config.vaultID, keyName: config.keyName, namingKid: kid,
                                     log: VaultFiles.Head(seq: last.seq, hash: VaultLog.hash(String(lastLine))), signedHead: nil)
        let sealedIndex = try Vault.seal(VaultFiles.indexJSON(index), key: forgedKey, kid: kid, ad: { forged.indexAssociatedData(kid: $0) })
        try Data(forged.text.utf8).write(to: URL(fileURLWithPath: location + "/config"))
        try Data(VaultFiles.indexText(sealedIndex).utf8).write(to: URL(fileURLWithPath: location + "/index"))

        // The reader's keyring saw the vault under the real data key: refused.
        let reopened = try Vault(storage: FileVaultStorage(directory: location), keyring: ring)
        do {
            _ = try reopened.readIndex()
            Issue.record("the forged state was accepted")
        } catch {
            guard case .tampered(let why, _) = error else { Issue.record("\(error)"); return }
            #expect(why.contains("data keys no longer hold key id") && why.contains("the config was replaced"), "\(why)")
        }
    }
}
