import Foundation
import Testing
import VaultCrypto
import VaultFormat

/// The key export file (formats.md §4.1): strict, and every parse serialises back to the same bytes.
@Suite struct KeyExportFileTests {
    static let sample = KeyExportFile(name: "desk-2026", opsLimit: 2, memLimit: 67_108_864,
                                      salt: (0..<16).map { UInt8($0) }, nonce: (0..<24).map { UInt8($0 &* 3) },
                                      ciphertext: (0..<48).map { UInt8($0 &* 5) })

    @Test func roundTripsByteForByte() throws {
        let bytes = Self.sample.serialized()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("avault-key-export-v1\nname: desk-2026\nkdf: argon2id 2 67108864 "))
        #expect(text.split(separator: "\n").count == 4 && text.hasSuffix("\n"))
        let parsed = try KeyExportFile(parsing: bytes)
        #expect(parsed == Self.sample)
        #expect(parsed.serialized() == bytes)
        #expect(bytes.starts(with: parsed.associatedData))
    }

    /// Each case replaces a piece of the sample's text.
    @Test(arguments: [
        ("\n", ""),                                          // no line breaks at all
        ("sealed: ", "\nsealed: "),                           // an extra line
        ("\n", "\r\n"),                                     // CRLF
        ("avault-key-export-v1", "avault-key-export-v2"),
        ("name: desk-2026", "name: -desk"),
        ("argon2id 2 ", "argon2id 02 "),                       // a leading zero
        ("argon2id", "scrypt"),
        ("sealed: ", "sealed:  "),                             // a double space
        ("AAECAwQFBgcICQoLDA0ODw==", "AQEBAQEBAQEBAQEB"),      // a 12-byte salt
    ])
    func refusesWhatItDoesNotWrite(_ old: String, _ new: String) {
        let text = String(decoding: Self.sample.serialized(), as: UTF8.self)
        #expect(text.contains(old))
        #expect(throws: FormatError.self, "\(old) -> \(new)") { try KeyExportFile(parsing: Array(text.replacingOccurrences(of: old, with: new).utf8)) }
        #expect(throws: FormatError.self, "no final newline") { try KeyExportFile(parsing: Array(text.dropLast().utf8)) }
    }
}
