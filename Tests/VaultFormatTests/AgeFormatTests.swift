import Testing
import VaultCrypto
import VaultFormat

/// Bech32 (BIP 173's own test strings) and age's key texts; the header and the armor are
/// checked by every CCTV vector (ArticleVaultTests/AgeVectorTests) and the fuzz targets.
@Suite struct AgeFormatTests {
    @Test func bech32AcceptsBIP173sValidStrings() throws {
        for text in ["A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
                     "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"] {
            let decoded = try Bech32.decode(text)
            #expect(decoded.hrp == String(text[..<text.lastIndex(of: "1")!]))
            if text == text.lowercased() { #expect(Bech32.encode(hrp: decoded.hrp, data: decoded.data) == text) }
        }
    }

    @Test func bech32RefusesBIP173sInvalidStrings() {
        let cases: [(String, Bech32.Problem)] = [
            ("A1G7SGD8", .badChecksum), ("10a06t8", .noSeparator), ("1qzzfhee", .noSeparator),
            ("pzry9x0s0muk", .noSeparator), ("x1b4n0q5v", .invalidCharacter), ("li1dgmt3", .noSeparator),
            ("aBcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", .mixedCase),
            ("\u{7F}1axkwrx", .invalidPrefix),
        ]
        for (text, problem) in cases {
            #expect(throws: problem, "\(text)") { try Bech32.decode(text) }
        }
    }

    @Test func ageKeysRoundTripAndKeepTheirCase() throws {
        let identity = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"
        var text = identity
        let secret = try text.withUTF8 { try AgeKeys.parseIdentity($0) }
        #expect(secret.count == 32)
        #expect(AgeKeys.identityText(secret).withUnsafeBytes { Array($0) } == Array(identity.utf8))
        var lower = identity.lowercased()
        #expect(throws: AgeKeys.Problem.invalidIdentity(line: nil)) { try lower.withUTF8 { try AgeKeys.parseIdentity($0) } }
        let publicKey = try X25519.publicKey(of: secret)
        let recipient = AgeKeys.recipient(publicKey)
        #expect(recipient.hasPrefix("age1") && recipient.count == 62)
        #expect(try AgeKeys.parseRecipient(recipient) == publicKey)
        #expect(throws: AgeKeys.Problem.self) { try AgeKeys.parseRecipient(recipient.uppercased()) }
        // A recipient's checksum catches a changed character.
        var changed = Array(recipient)
        changed[10] = changed[10] == "q" ? "p" : "q"
        #expect(throws: AgeKeys.Problem.self) { try AgeKeys.parseRecipient(String(changed)) }
        // An identity file: comments, a CRLF line, two identities; an error names the line only.
        let file = Array("# one\n\n\(identity)\r\n# two\n\(identity)\n".utf8)
        #expect(try file.withUnsafeBytes { try AgeKeys.parseIdentityFile($0) }.count == 2)
        let bad = Array("# c\nAGE-SECRET-KEY-1QQQQ\n".utf8)
        #expect(throws: AgeKeys.Problem.invalidIdentity(line: 2)) { try bad.withUnsafeBytes { try AgeKeys.parseIdentityFile($0) } }
        #expect(throws: AgeKeys.Problem.empty) { try Array("# nothing\n".utf8).withUnsafeBytes { try AgeKeys.parseIdentityFile($0) } }
    }
}
