import Foundation
import Testing
import VaultCrypto
import VaultFormat

let seedBlob = "kb3cvdycREGW67szGbahRw1i+bxvZnvqCVCa7bogk8ngQHIrvF7Oa4NAFCKKxYh6x8QFU+BypISjiRZ/R0l8xxHY9xsz/yeKWPmYdlmrykOcOnLmHIU9ukHeg6cmDOksqc53gVOiQpvDkoWNgB2U5jJ+VNaSREB6+Rl1pOiUDcl2KqvxbIgItKi+qKUS3oY/OQYaY51f8vHO5fsjEO+hyqryo+hVj+sFyoqurTqsS23i0ya/Hbt4+O1FqACP8e1IIB14zYsPtt1VrXIbjwAYmYPu21UgPjC7/iyEpANhUZuWkC85gOv9HXAXDf4ghXPBcLojSMWD1fyx6+B9iDkMWY5p9Hhl8LwCUWT9nhZsrHthZ03Hmzt82VOGluk+hez+V9ApiNH332kQfsgNAPuuaEoptUUvZS/HkmQWAae8oOF459MGiEIV2XYfqVWN8auvifKeYVdhdQ6uU0fPiw/w90KUqH0TAIgi1rCWA0LrX6Y1XErClpLI+X97aHLy2CEuxAYOFsJzxTZRHAcbb+Xs9w==;9D+JsPb8z2y24TI0PUGv3A=="

let validV2 = "v2;a572a3388fab68b1;KVbpjlZ8obqBP529oPgaayiVW7FvwgIl;u6h4oatOS+HnGvXgxJBQkMHnxdbIJA=="

@Suite struct SecuredBlobParsing {
    @Test func theSeedBlobIsV1With16ByteIVAnd400ByteCiphertext() throws {
        let blob = try SecuredBlob(parsing: seedBlob)
        guard case .v1(let ct, let iv) = blob else { Issue.record("not v1"); return }
        #expect(iv.count == 16)
        #expect(ct.count == 400)
        #expect(blob.text == seedBlob)
        #expect(blob.formatName == "v1")
    }

    @Test func aV2BlobParsesAndRoundTrips() throws {
        let blob = try SecuredBlob(parsing: validV2)
        guard case .v2(let kid, let nonce, let sealed) = blob else { Issue.record("not v2"); return }
        #expect(kid.hex == "a572a3388fab68b1")
        #expect(nonce.count == 24)
        #expect(sealed.count == 6 + 16)
        #expect(blob.text == validV2)
    }

    static let malformed: [(String, String)] = [
        ("", "the blob is empty"),
        ("abc", "(v1), 'v2;<kid>;<nonce>;<ciphertext>' (v2) or 'v3;<age file>' (v3), found no ';'"),
        ("a;b;c", "found 3"),
        ("v3;x;y;z", "v3 blob has 4 fields, expected 2: v3;<age file>"),
        ("v4;x;y;z", "unsupported format version 'v4' (this avault reads v1, v2 and v3)"),
        ("v1;AAAAAAAAAAAAAAAAAAAAAA==", "unsupported format version 'v1'"),
        ("v2;a572a3388fab68b1;KVbpjlZ8obqBP529oPgaayiVW7FvwgIl", "expected 4"),
        ("v2;a572a3388fab68b1;KVbp;u6h4;extra", "has 5 fields"),
        ("v2;A572A3388FAB68B1;KVbpjlZ8obqBP529oPgaayiVW7FvwgIl;u6h4oatOS+HnGvXgxJBQkMHnxdbIJA==", "16 lowercase hex"),
        ("v2;a572a3388fab68;KVbpjlZ8obqBP529oPgaayiVW7FvwgIl;u6h4oatOS+HnGvXgxJBQkMHnxdbIJA==", "16 lowercase hex"),
        ("v2;a572a3388fab68b1;AAAAAAAAAAAAAAAA;u6h4oatOS+HnGvXgxJBQkMHnxdbIJA==", "nonce is 12 bytes, expected 24"),
        ("v2;a572a3388fab68b1;KVbpjlZ8obqBP529oPgaayiVW7FvwgIl;AAAA", "shorter than its 16-byte tag"),
        ("v2;a572a3388fab68b1;;u6h4oatOS+HnGvXgxJBQkMHnxdbIJA==", "nonce is empty"),
        ("v2;a572a3388fab68b1;KVbpjlZ8obqBP529oPgaayiVW7FvwgIl;u6h4oatOS+HnGvXgxJBQkMHnxdbIJA", "not strict base64"),
        (";9D+JsPb8z2y24TI0PUGv3A==", "v1 ciphertext is empty"),
        ("AAAAAAAAAAAAAAAAAAAAAA==;", "v1 iv is empty"),
        ("AAAAAAAAAAAAAAAAAAAAAA==;AAAAAAAAAAAAAAAA", "v1 iv is 12 bytes, expected 16"),
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAA=;9D+JsPb8z2y24TI0PUGv3A==", "v1 ciphertext is 20 bytes"),
        ("AAAAAAAAAAAAAAAAAAAAAA== ;9D+JsPb8z2y24TI0PUGv3A==", "not strict base64"),
        (" AAAAAAAAAAAAAAAAAAAAAA==;9D+JsPb8z2y24TI0PUGv3A==", "not strict base64"),
        ("AAAAAAAAAAAAAAAAAAAAAA==;9D+JsPb8z2y24TI0PUGv3A==\n", "not strict base64"),
        ("AAAAAAAAAAAAAAAAAAAAAB==;9D+JsPb8z2y24TI0PUGv3A==", "not strict base64"), // non-canonical bits
        ("AAAAAAAAAAAAAAAAAAAAAA==;9D-JsPb8z2y24TI0PUGv3A==", "not strict base64"), // URL-safe alphabet
        ("AAAAAAAAAAAAAAAAAAAAAA;9D+JsPb8z2y24TI0PUGv3A==", "not strict base64"), // missing padding
    ]

    @Test(arguments: malformed)
    func malformedBlobsSayExactlyWhy(_ input: String, _ reason: String) {
        #expect {
            _ = try SecuredBlob(parsing: input)
        } throws: { error in
            guard case .invalidSecuredBlob(let why) = error as? FormatError else { return false }
            return why.contains(reason)
        }
    }

    /// What BlobInput reads whole rather than streams as v1 from its end: a blob that starts
    /// with a version tag and its `;` (a v1 blob's first field is base64 and holds no `;`).
    @Test func aVersionTagIsToldFromTheStartOfABlob() {
        for head in ["v2;a572a3388fab68b1;", "v3;YWdlLWVuY3J5cHRpb24", "v9;", "v12;xx", "v2;"] {
            #expect(SecuredBlob.startsWithVersionTag(Array(head.utf8)), "\(head)")
        }
        for head in ["", "v2", "v;", "v3a;", "V3;", "kb3cvdycREGW67szGbahRw1i", "v123456789012345;", seedBlob] {
            #expect(!SecuredBlob.startsWithVersionTag(Array(head.utf8)), "\(head)")
        }
    }

    @Test func randomBlobsRoundTripExactly() throws {
        for _ in 0..<500 {
            let blob: SecuredBlob
            if SecureRandom.uniform(2) == 0 {
                blob = .v1(ciphertext: SecureRandom.bytes(count: 16 * Int(1 + SecureRandom.uniform(40))), iv: SecureRandom.bytes(count: 16))
            } else {
                blob = .v2(kid: KeyID(bytes: SecureRandom.bytes(count: 8)), nonce: SecureRandom.bytes(count: 24),
                           sealed: SecureRandom.bytes(count: 16 + Int(SecureRandom.uniform(300))))
            }
            let parsed = try SecuredBlob(parsing: blob.text)
            #expect(parsed == blob)
            #expect(parsed.text == blob.text)
        }
    }

    /// Every single-character mutation of a valid blob either fails to parse or parses to a
    /// blob that serialises to exactly the mutated text (strict parsing: no two spellings).
    @Test func mutationsNeverParseToADifferentSpelling() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=; -_\n\u{0}é")
        for original in [seedBlob, validV2] {
            var chars = Array(original)
            for i in chars.indices {
                let saved = chars[i]
                for c in alphabet.shuffled().prefix(6) where c != saved {
                    chars[i] = c
                    let mutated = String(chars)
                    if let blob = try? SecuredBlob(parsing: mutated) {
                        #expect(blob.text == mutated)
                    }
                }
                chars[i] = saved
            }
        }
    }

    @Test func associatedDataIsPrefixKidAndContext() {
        let kid = KeyID(hex: "0011223344556677")!
        #expect(SecuredBlob.v2AssociatedData(kid: kid, context: "https://x/é") ==
                Array("avault/secured/v2;0011223344556677;https://x/é".utf8))
    }

    @Test func keyIDsAreLowercaseHexOnly() {
        #expect(KeyID(hex: "0011223344556677")?.hex == "0011223344556677")
        #expect(KeyID(hex: "001122334455667G") == nil)
        #expect(KeyID(hex: "00112233445566") == nil)
        #expect(KeyID(hex: "00112233445566778") == nil)
        #expect(KeyID(hex: "ABCDEF0011223344") == nil)
    }

    @Test func claimedFormat() {
        #expect(SecuredBlob.claimedFormat(of: "v2;garbage") == "v2")
        #expect(SecuredBlob.claimedFormat(of: "a;b") == "v1")
        #expect(SecuredBlob.claimedFormat(of: "a;b;c") == "unknown")
    }
}

@Suite struct RawKeyFiles {
    @Test(arguments: [16, 24, 32])
    func hexAndBase64KeysOfEverySize(_ size: Int) throws {
        let bytes = SecureRandom.bytes(count: size)
        for text in [Hex.encode(bytes), Hex.encode(bytes).uppercased(), Base64.encode(bytes),
                     "  \n" + Hex.encode(bytes) + "\r\n", "\t" + Base64.encode(bytes) + "\n"] {
            let key = try RawKeyFile.parse(Array(text.utf8))
            #expect(key == SecretBytes(copying: bytes))
        }
        let written = RawKeyFile.serialize(SecretBytes(copying: bytes))
        #expect(written == Hex.encode(bytes) + "\n")
    }

    @Test func a32DigitHexKeyIsHexNotBase64() throws {
        // 32 hex digits are also valid base64 of 24 bytes; hex wins (documented).
        let text = "00112233445566778899aabbccddeeff"
        #expect(try RawKeyFile.parse(Array(text.utf8)).count == 16)
    }

    static let bad: [String] = [
        "", "   \n", String(repeating: "ab", count: 20), "00112233 44556677 8899aabb ccddeeff",
        Base64.encode([UInt8](repeating: 7, count: 20)), String(repeating: "zz", count: 32),
        Base64.encode([UInt8](repeating: 7, count: 32)).replacingOccurrences(of: "=", with: ""),
        String(repeating: "ab", count: 32) + "\nextra",
    ]

    @Test(arguments: bad)
    func malformedKeyFilesAreRefusedWithoutQuotingThem(_ text: String) {
        do {
            _ = try RawKeyFile.parse(Array(text.utf8))
            Issue.record("accepted \(text.count) characters")
        } catch {
            let message = error.description
            #expect(message.hasPrefix("malformed key file: "))
            for token in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) where token.count >= 4 {
                #expect(!message.contains(token))
            }
        }
    }
}

/// The end of a v1 blob, as a stream reads it: the IV is checked as the whole-blob parser
/// checks it, with the parser's words.
@Suite struct SecuredBlobV1Tail {
    static func tail(_ text: String) throws(FormatError) -> SecuredBlob.V1Tail {
        let bytes = Array(text.utf8)
        return try SecuredBlob.v1Tail(length: bytes.count, tail: Array(bytes.suffix(SecuredBlob.v1TailWindow)))
    }

    @Test func theSeedBlobsEnd() throws {
        let t = try Self.tail(seedBlob)
        guard case .v1(_, let iv) = try SecuredBlob(parsing: seedBlob) else { return }
        #expect(t.iv == iv)
        #expect(t.ciphertextCharacters == seedBlob.utf8.count - 25)
    }

    @Test func aBadIVIsReportedAsTheParserReportsIt() {
        let ciphertext = String(seedBlob.split(separator: ";")[0])
        for iv in ["9D+JsPb8z2y24TI0PUGv", "9D+JsPb8z2y24TI0PUGv3A=", "9D+JsPb8z2y24TI0PUGv3A==AAAA", "", "9D+J sPb8z2y24TI0PUGv3A=="] {
            let text = ciphertext + ";" + iv
            var whole: FormatError?
            do { _ = try SecuredBlob(parsing: text) } catch { whole = error }
            var streamed: FormatError?
            do { _ = try Self.tail(text) } catch { streamed = error }
            #expect(whole != nil && streamed == whole, "\(iv): \(String(describing: whole)) vs \(String(describing: streamed))")
        }
    }

    @Test func noSemicolonNearTheEnd() {
        let long = String(repeating: "A", count: 200)
        #expect(throws: FormatError.self) { try Self.tail(long) }
        #expect(throws: FormatError.self) { try Self.tail(long + ";" + String(repeating: "A", count: 70)) }
        #expect(throws: FormatError.self) { try Self.tail(";9D+JsPb8z2y24TI0PUGv3A==") } // no ciphertext
    }

    @Test func theCiphertextsSizeRule() {
        #expect(throws: Never.self) { try SecuredBlob.checkV1Ciphertext(count: 32) }
        for bad in [0, 15, 17, 400 + 1] {
            #expect(throws: FormatError.self) { try SecuredBlob.checkV1Ciphertext(count: bad) }
        }
    }
}
