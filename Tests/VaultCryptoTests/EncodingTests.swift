// Strict base64 and hex.

import Foundation
import Testing
import VaultCrypto

@Suite("Base64")
struct Base64Tests {
    @Test("round trip for lengths 0...70, matching Foundation's encoder")
    func roundTrip() throws {
        for length in 0...70 {
            let data = SecureRandom.bytes(count: length)
            let text = Base64.encode(data)
            #expect(text == Data(data).base64EncodedString(), "length \(length)")
            #expect(text.count == (length + 2) / 3 * 4, "length \(length)")
            #expect(try Base64.decode(text) == data, "length \(length)")
            #expect(try Base64.decode(Substring(text)) == data, "length \(length) substring")
            #expect(bytes(of: try Base64.decodeSecret(utf8: Array(text.utf8))) == data, "length \(length) secret")
            #expect(Base64.encode(secret(data)) == text, "length \(length) secret encode")
            #expect(Base64.encode(data[...]) == text, "length \(length) slice encode")
        }
    }

    @Test("RFC 4648 section 10 test vectors")
    func rfc4648() throws {
        let cases = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in cases {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(try Base64.decode(encoded) == Array(plain.utf8))
        }
        #expect(try Base64.decode("+/+/") == [0xfb, 0xff, 0xbf])
        #expect(try Base64.decode("QQ==") == [0x41])
    }

    static let rejected: [(String, String)] = [
        ("missing padding", "QQ"),
        ("missing padding (1 of 2)", "QQ="),
        ("missing padding, 6 chars", "QUJDRA"),
        ("missing padding, 3 chars", "QUI"),
        ("extra padding", "QUI=="),
        ("extra padding block", "QUJD===="),
        ("extra padding after full group", "QUJD="),
        ("too much padding", "Q==="),
        ("only padding", "===="),
        ("single char", "Q"),
        ("padding in the middle", "QQ==QUJD"),
        ("padding in the middle 2", "QUI=QUJD"),
        ("padding inside a group", "Q=Q="),
        ("leading space", " QUJD"),
        ("trailing space", "QUJD "),
        ("space inside, length multiple of 4", "QU D"),
        ("space inside, 8 chars", "QUJD QQ="),
        ("newline at end", "QUJD\n"),
        ("newline inside, length multiple of 4", "QUJ\nQQ=="),
        ("CRLF", "QUJD\r\nQQ=="),
        ("tab", "QU\tD"),
        ("newline before padding", "QQ=\n"),
        ("non-alphabet *", "QU*D"),
        ("non-alphabet .", "QUJ."),
        ("non-alphabet NUL", "QU\u{0}D"),
        ("URL-safe -", "-_-_"),
        ("URL-safe _", "QUJ_"),
        ("URL-safe -, padded", "-w=="),
        ("non-canonical trailing bits (1 byte)", "QR=="),
        ("non-canonical trailing bits (1 byte) 2", "QB=="),
        ("non-canonical trailing bits (2 bytes)", "QUJ="),
        ("non-canonical trailing bits (2 bytes) 2", "Zm9="),
    ]

    @Test("strict decoding rejects", arguments: rejected)
    func rejects(reason: String, text: String) {
        #expect(throws: CryptoError.invalidBase64, "\(reason)") { try Base64.decode(text) }
        #expect(throws: CryptoError.invalidBase64, "\(reason) (secret)") { try Base64.decodeSecret(utf8: Array(text.utf8)) }
    }

    /// libsodium 1.0.18's `sodium_base642bin` reads its input as signed `char` and takes every
    /// byte 0x80...0xFF for '/', so "QU\u{e9}" would decode to [0x41, 0x4f, 0xff] and not
    /// re-encode to itself. `Base64` refuses non-ASCII input before calling libsodium.
    @Test("strict decoding rejects non-ASCII bytes")
    func rejectsNonASCII() {
        for text in ["QU\u{e9}", "\u{e9}\u{e9}", "QUJDQU\u{e9}", "QU\u{80}", "Zm9v\u{a0}\u{a0}"] {
            #expect(throws: CryptoError.invalidBase64, "\(text.debugDescription)") { try Base64.decode(text) }
        }
        var accepted: [UInt8] = []
        for byte in UInt8(0x80)...UInt8(0xFF) {
            do {
                _ = try Base64.decodeSecret(utf8: Array("QUJ".utf8) + [byte])
                accepted.append(byte)
            } catch {
                #expect(error == .invalidBase64)
            }
        }
        #expect(accepted.isEmpty, "decodeSecret accepted \(accepted.count) of 128 non-ASCII final bytes, e.g. \(accepted.prefix(4).map { String($0, radix: 16) })")
    }

    @Test("canonical forms of the non-canonical inputs decode")
    func canonicalCounterparts() throws {
        #expect(try Base64.decode("QQ==") == Array("A".utf8))
        #expect(try Base64.decode("QUI=") == Array("AB".utf8))
        #expect(try Base64.decode("Zm8=") == Array("fo".utf8))
        #expect(Base64.encode(Array("AB".utf8)) == "QUI=")
    }

    /// What `strictDecodedCount` says of `text`, and what `decode` does with it; records an
    /// issue when `decodePublic` decodes it otherwise than `decode`.
    static func agree(_ text: [UInt8]) -> (count: Int?, decoded: Int?) {
        let count = text.withUnsafeBufferPointer { Base64.strictDecodedCount($0) }
        let string = String(decoding: text, as: UTF8.self)
        let decoded = try? Base64.decode(string)
        // (On text that is not UTF-8 the string is not the bytes: the count is then compared
        // with what decode does with the repaired string only when both are ASCII.)
        if text.allSatisfy({ $0 < 0x80 }) {
            let publicDecoded = Base64.decodePublic(Substring(string))
            if publicDecoded != decoded {
                Issue.record("\(string.debugDescription): decodePublic \(String(describing: publicDecoded)), decode \(String(describing: decoded))")
            }
        }
        return (count, decoded?.count)
    }

    @Test("strictDecodedCount accepts exactly what decode accepts, with the decoded length")
    func strictDecodedCountAgreesWithDecode() {
        // Every encoding of 0...40 bytes, and every rejected case above.
        for length in 0...40 {
            let text = Array(Base64.encode(SecureRandom.bytes(count: length)).utf8)
            #expect(text.withUnsafeBufferPointer { Base64.strictDecodedCount($0) } == length)
        }
        for (reason, text) in Self.rejected {
            #expect(Array(text.utf8).withUnsafeBufferPointer { Base64.strictDecodedCount($0) } == nil, "\(reason)")
        }
        // Every 4-character string over a small alphabet that holds every kind of character
        // (letters, digits, + /, =, near misses, controls, non-ASCII), then random longer ones.
        let pieces: [UInt8] = Array("AQZagz09+/=-_.* \n".utf8) + [0x00, 0x7F, 0x80, 0xC3, 0xFF]
        for a in pieces { for b in pieces { for c in pieces { for d in pieces {
            let (count, decoded) = Self.agree([a, b, c, d])
            if count != decoded { Issue.record("\([a, b, c, d]): strictDecodedCount \(String(describing: count)), decode \(String(describing: decoded))") }
        } } } }
        var rng = SplitMix(state: 0xB64)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for _ in 0..<20_000 {
            var text = (0..<(rng.next() % 24)).map { _ in alphabet[Int(rng.next() % 64)] }
            let padding = Int(rng.next() % 4)
            text += [UInt8](repeating: UInt8(ascii: "="), count: padding)
            if rng.next() % 4 == 0, !text.isEmpty { text[Int(rng.next() % UInt64(text.count))] = pieces[Int(rng.next() % UInt64(pieces.count))] }
            let (count, decoded) = Self.agree(text)
            if count != decoded { Issue.record("\(String(decoding: text, as: UTF8.self).debugDescription): strictDecodedCount \(String(describing: count)), decode \(String(describing: decoded))") }
        }
    }

    /// SplitMix64, for repeatable random text.
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("decodeSecret errors never repeat the input")
    func secretErrorsAreRedacted() {
        let text = "c2VjcmV0LXBhc3N3b3JkLWhlcmU*"   // base64 of "secret-password-here" with a bad char
        let error = #expect(throws: CryptoError.self) { try Base64.decodeSecret(utf8: Array(text.utf8)) }
        for rendering in [String(describing: error), String(reflecting: error), error.map { "\($0)" } ?? ""] {
            #expect(!rendering.contains("c2VjcmV0"))
            #expect(!rendering.contains("secret-password"))
        }
    }
}

@Suite("Hex")
struct HexTests {
    @Test("round trip, both cases, matching a reference formatter")
    func roundTrip() throws {
        for length in 0...40 {
            let data = SecureRandom.bytes(count: length)
            let text = Hex.encode(data)
            #expect(text == data.map { String(format: "%02x", $0) }.joined(), "length \(length)")
            #expect(try Hex.decode(text) == data)
            #expect(try Hex.decode(text.uppercased()) == data)
            #expect(bytes(of: try Hex.decodeSecret(utf8: Array(text.utf8))) == data)
            #expect(Hex.encode(data[...]) == text)
        }
        #expect(try Hex.decode("00ff7F80aB") == [0x00, 0xff, 0x7f, 0x80, 0xab])
    }

    @Test("rejects odd length and non-hex",
          arguments: ["0", "abc", "0g", "g0", "zz", "0x00", "00 1", " 001", "00\n", "00-1", "12:3", "\u{e9}0", "\u{e9}\u{e9}", "0\u{80}", "+1", "-1", "０１"])
    func rejects(text: String) {
        #expect(throws: CryptoError.invalidHex, "\(text.debugDescription)") { try Hex.decode(text) }
        #expect(throws: CryptoError.invalidHex, "\(text.debugDescription) (secret)") { try Hex.decodeSecret(utf8: Array(text.utf8)) }
    }

    @Test("decodeSecret rejects every non-ASCII byte")
    func secretRejectsHighBytes() {
        for byte in UInt8(0x80)...UInt8(0xFF) {
            #expect(throws: CryptoError.invalidHex, "byte \(byte)") { try Hex.decodeSecret(utf8: [0x30, byte]) }
            #expect(throws: CryptoError.invalidHex, "byte \(byte)") { try Hex.decodeSecret(utf8: [byte, 0x30]) }
        }
    }

    @Test("decodeSecret errors never repeat the input")
    func secretErrorsAreRedacted() {
        for text in ["deadbeefcafebabe0123456789abcdeZ", "deadbeefcafebabe0123456789abcde"] {
            let error = #expect(throws: CryptoError.self) { try Hex.decodeSecret(utf8: Array(text.utf8)) }
            #expect(error == .invalidHex)
            for rendering in [String(describing: error), String(reflecting: error), error.map { "\($0)" } ?? "",
                              error.map { $0.description } ?? "", error.map { $0.localizedDescription } ?? ""] {
                #expect(!rendering.lowercased().contains("deadbeef"), "\(rendering)")
                #expect(!rendering.contains("0123456789"), "\(rendering)")
            }
        }
    }
}
