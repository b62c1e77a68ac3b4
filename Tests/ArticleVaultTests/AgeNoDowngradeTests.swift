import ArticleVault
import Testing
import VaultCrypto
import VaultFormat

/// No downgrade (issue 13, item 5): a passphrase stanza never rides along with others, and a work
/// factor above the documented limit (22) is refused before the passphrase is even asked for.
@Suite struct AgeNoDowngradeTests {
    /// A passphrase file (work factor 10) and its header.
    static func passphraseFile() throws -> (file: [UInt8], header: AgeHeader, length: Int) {
        var file: [UInt8] = []
        try AgeFile.encrypt(AgeBytesInput(Array("draft".utf8)), to: [.passphrase(SecretBytes(copying: Array("pw".utf8)), workFactor: 10)],
                            armor: false) { piece throws(AvaultError) in file += piece }
        guard case let .header(header, length) = try file.withUnsafeBytes({ try AgeHeader.parse($0, atEnd: true) }) else {
            throw AvaultError.internalFailure("no header")
        }
        return (file, header, length)
    }

    /// Decrypts `file`, counting how often the passphrase was asked for.
    static func decrypt(_ file: [UInt8], identities: [SecretBytes]) -> (error: AvaultError?, asked: Int) {
        var asked = 0
        do throws(AvaultError) {
            try AgeFile.decrypt(AgeBytesInput(file), armored: false, identities: identities, passphrase: { () throws(AvaultError) -> SecretBytes in
                asked += 1
                return SecretBytes(copying: Array("pw".utf8))
            }) { _ throws(AvaultError) in }
            return (nil, asked)
        } catch { return (error, asked) }
    }

    @Test func scryptMixedWithOtherStanzasIsRefusedBeforeAnyKeyIsTried() throws {
        let (file, header, length) = try Self.passphraseFile()
        let identity = X25519.generateSecret()
        let x25519 = AgeStanza(type: "X25519", arguments: [Base64.encodeUnpadded(try X25519.publicKey(of: X25519.generateSecret()))],
                               body: [UInt8](repeating: 1, count: 32))
        let unknown = AgeStanza(type: "avault-context", arguments: [Base64.encodeUnpadded([UInt8](repeating: 5, count: 32))], body: [])
        for extra in [x25519, unknown] {
            for order in [[header.stanzas[0], extra], [extra, header.stanzas[0]]] {
                let mixed = AgeHeader(stanzas: order, mac: header.mac).serialized() + file[length...]
                for identities in [[], [identity]] {
                    let (error, asked) = Self.decrypt(mixed, identities: identities)
                    guard case .age(.header(let why), _)? = error else { Issue.record("\(String(describing: error))"); continue }
                    #expect(why.contains("must be the only one") && asked == 0)
                }
            }
        }
        // Alone it opens (the passphrase asked once).
        let (error, asked) = Self.decrypt(file, identities: [])
        #expect(error == nil && asked == 1)
    }

    @Test func aWorkFactorAboveTheLimitIsRefusedBeforeThePassphrase() throws {
        #expect(AgeFile.maximumWorkFactor == 22)
        let (file, header, length) = try Self.passphraseFile()
        for (logN, refused) in [("23", true), ("40", true)] {
            var stanza = header.stanzas[0]
            stanza.arguments[1] = logN
            let edited = AgeHeader(stanzas: [stanza], mac: header.mac).serialized() + file[length...]
            if refused {
                let (error, asked) = Self.decrypt(edited, identities: [])
                guard case .age(.header(let why), _)? = error else { Issue.record("\(String(describing: error))"); continue }
                #expect(why.contains("above the limit of 22") && asked == 0, "\(why)")
            }
        }
        // And none is written above it.
        #expect(throws: AvaultError.self) {
            try AgeFile.encrypt(AgeBytesInput([1]), to: [.passphrase(SecretBytes(copying: Array("pw".utf8)), workFactor: 23)], armor: false) { _ throws(AvaultError) in }
        }
    }
}
