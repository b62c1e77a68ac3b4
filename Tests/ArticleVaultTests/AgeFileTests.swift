import ArticleVault
import TestSupport
import Testing
import VaultCrypto
import VaultFormat

/// age encryption through the library at the chunk boundaries, binary and armored; the CCTV
/// vectors (AgeVectorTests) check decryption against age's own files, and AgeCLITests against
/// the age binary.
@Suite struct AgeFileTests {
    static func encrypt(_ plain: [UInt8], to recipients: [AgeRecipient], armor: Bool) throws -> [UInt8] {
        var out: [UInt8] = []
        try AgeFile.encrypt(AgeBytesInput(plain), to: recipients, armor: armor) { piece throws(AvaultError) in out += piece }
        return out
    }

    static func decrypt(_ file: [UInt8], identities: [SecretBytes], passphrase: [UInt8]? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        var ask: (() throws(AvaultError) -> SecretBytes)?
        if let passphrase { ask = { () throws(AvaultError) -> SecretBytes in SecretBytes(copying: passphrase) } }
        try AgeFile.decrypt(AgeBytesInput(file), armored: nil, identities: identities, passphrase: ask) { piece throws(AvaultError) in out += piece }
        return out
    }

    @Test(arguments: [0, 1, 65535, 65536, 65537, 131072, 200_000])
    func roundTripsAtChunkBoundaries(_ size: Int) throws {
        let identity = X25519.generateSecret()
        let recipient = try X25519.publicKey(of: identity)
        let plain = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        for armor in [false, true] {
            let file = try Self.encrypt(plain, to: [.x25519(recipient)], armor: armor)
            #expect(Bytes(try Self.decrypt(file, identities: [identity])) == Bytes(plain), "armor \(armor)")
            if !armor {
                // Header, 16-byte nonce, the plaintext and one tag per chunk (at least one).
                let header = try file.withUnsafeBytes { try AgeHeader.parse($0, atEnd: true) }
                guard case .header(_, let length) = header else { Issue.record("no header"); continue }
                #expect(file.count == length + 16 + size + 16 * max(1, (size + 65535) / 65536))
            }
        }
        // Another identity: no match, nothing released.
        let stranger = X25519.generateSecret()
        let file = try Self.encrypt(plain, to: [.x25519(recipient)], armor: false)
        #expect(throws: AvaultError.self) { try Self.decrypt(file, identities: [stranger]) }
    }

    @Test func passphraseFilesStandAlone() throws {
        let pass = SecretBytes(copying: Array("correct horse".utf8))
        let file = try Self.encrypt(Array("draft".utf8), to: [.passphrase(pass, workFactor: 10)], armor: true)
        #expect(try Self.decrypt(file, identities: [], passphrase: Array("correct horse".utf8)) == Array("draft".utf8))
        do {
            _ = try Self.decrypt(file, identities: [], passphrase: Array("wrong".utf8))
            Issue.record("a wrong passphrase decrypted")
        } catch let error as AvaultError {
            guard case .age(.noIdentityMatched(let types), _) = error else { Issue.record("\(error)"); return }
            #expect(types == ["scrypt"])
        }
        // A passphrase never joins other recipients, and a work factor above the limit is refused.
        let other = try X25519.publicKey(of: X25519.generateSecret())
        #expect(throws: AvaultError.self) { try Self.encrypt([1], to: [.passphrase(pass, workFactor: 10), .x25519(other)], armor: false) }
        #expect(throws: AvaultError.self) { try Self.encrypt([1], to: [.passphrase(pass, workFactor: 23)], armor: false) }
    }

    @Test func severalRecipientsEachOpenTheFile() throws {
        let ids = (0..<3).map { _ in X25519.generateSecret() }
        let recipients = try ids.map { AgeRecipient.x25519(try X25519.publicKey(of: $0)) }
        let file = try Self.encrypt(Array("shared".utf8), to: recipients, armor: false)
        for id in ids { #expect(try Self.decrypt(file, identities: [id]) == Array("shared".utf8)) }
        // A changed header byte (in a stanza's share) is no match or a failed code, never plaintext.
        var altered = file
        altered[30] ^= 1
        #expect(throws: AvaultError.self) { try Self.decrypt(altered, identities: ids) }
    }
}
