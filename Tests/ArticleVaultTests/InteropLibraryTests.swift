// Interoperability of the ArticleVault library with implementations nobody here wrote:
// Tests/interop/secured_reference.py, written from docs/formats.md alone, on top of
// PyCryptodome (AES-CBC, its own AES code) and PyNaCl (libsodium's XChaCha20-Poly1305).
//
// These tests put thousands of random cases through `SecuredField` in-process, where it is
// cheap; Tests/AvaultCLITests/InteropTests.swift puts a smaller sample through the real
// `avault` binary. python3 with `pynacl` and `pycryptodome` is REQUIRED (CI installs them with
// `pip install pynacl pycryptodome`): a missing interpreter or module fails, never skips.

import ArticleVault
import Foundation
import TestSupport
import Testing
import VaultCrypto
import VaultFormat

/// The Python reference (``SecuredReference``).
enum InteropPython {
    /// Runs a `check-*` sub-command on `cases`: its report must list no failures.
    static func check<C: Encodable>(_ command: String, _ cases: [C], minimum: Int) throws {
        let report = try SecuredReference.report([command], input: try JSONEncoder().encode(cases))
        #expect(report.checked >= minimum, "\(command) checked only \(report.checked) cases")
        #expect(report.failures.isEmpty, "\(command): \(report.failures.count) disagreements, first: \(report.failures.prefix(5))")
    }

    static func json<T: Decodable>(_ type: T.Type, _ args: [String], input: Data = Data()) throws -> T {
        try SecuredReference.json(type, args, input: input)
    }
}

typealias InteropCase = SecuredReference.Case
typealias InteropMade = SecuredReference.Made

/// Hex without using the code under test.
enum InteropHex {
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out += [digits[Int(b >> 4)], digits[Int(b & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }
    static func decode(_ text: String) -> [UInt8] {
        let u = Array(text.utf8)
        precondition(u.count % 2 == 0, "odd hex")
        func v(_ c: UInt8) -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            default: preconditionFailure("bad hex digit")
            }
        }
        return stride(from: 0, to: u.count, by: 2).map { v(u[$0]) << 4 | v(u[$0 + 1]) }
    }
}

/// What the library says about one case, in the reference's vocabulary.
func interopLibraryOutcome(_ c: InteropCase) -> String {
    let blob: SecuredBlob
    do {
        blob = try SecuredBlob(parsing: c.blob)
    } catch {
        return "malformed"
    }
    do {
        let plaintext = try SecuredField.decrypt(blob, key: SecretBytes(copying: InteropHex.decode(c.key)), context: c.context ?? "", legacy: .userOptIn)
        return InteropHex.encode(plaintext)
    } catch {
        let error: any Error = error
        if case .decryptionFailed? = error as? AvaultError { return "fail" }
        return "error: \(error)"
    }
}

@Suite("Interop: ArticleVault library vs PyCryptodome / PyNaCl reference")
struct InteropLibraryTests {
    static let v1Valid = 2_000  // each valid case comes with one tampered variant
    static let v2Valid = 2_000

    @Test("the Python reference passes its own self-test (published AES, BLAKE2b, XChaCha vectors)")
    func referenceSelfTest() throws {
        try InteropPython.check("self-test", [Int](), minimum: 0)
    }

    @Test("v1: 2,000 valid + 2,000 tampered + crafted-padding + malformed blobs: library outcome == PyCryptodome's")
    func v1GeneratedCases() throws {
        let cases = try InteropPython.json([InteropCase].self, ["gen-v1-cases", String(Self.v1Valid), "20240601"])
        try #require(cases.count >= 2 * Self.v1Valid)
        var disagreements: [String] = []
        var counts: [String: Int] = [:]
        for c in cases {
            let got = interopLibraryOutcome(c)
            let class_ = c.expected == "fail" || c.expected == "malformed" ? c.expected : "plaintext"
            counts[class_, default: 0] += 1
            if got != c.expected {
                disagreements.append("#\(c.id) \(c.kind) key=\(c.key) blob=\(c.blob): PyCryptodome \(c.expected.prefix(40)), avault \(got.prefix(40))")
            }
            // A valid case re-encrypts to the identical blob when given the same IV.
            if c.kind == "valid", case let .v1(_, iv)? = try? SecuredBlob(parsing: c.blob) {
                let again = try SecuredField.encryptV1(InteropHex.decode(c.plaintext), key: SecretBytes(copying: InteropHex.decode(c.key)), iv: iv)
                if again.text != c.blob { disagreements.append("#\(c.id) re-encryption gives \(again.text), reference \(c.blob)") }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements of \(cases.count):\n\(disagreements.prefix(10).joined(separator: "\n"))")
        // The mix really exercises every outcome (tampered CBC that still unpads included).
        #expect(counts["fail", default: 0] > Self.v1Valid / 2)
        #expect(counts["plaintext", default: 0] > Self.v1Valid + Self.v1Valid / 4)
        #expect(counts["malformed", default: 0] >= 15)
    }

    @Test("v1: 2,000 library-made blobs (random 16/24/32-byte keys, 0…100 bytes) decrypt with PyCryptodome")
    func v1LibraryBlobsDecryptWithPyCryptodome() throws {
        var rng = SeededRNG(seed: 0xA11CE)
        var made: [InteropMade] = []
        for id in 0..<Self.v1Valid {
            let key = rng.bytes([16, 24, 32].randomElement(using: &rng)!)
            let plaintext = rng.bytes(Int.random(in: 0...100, using: &rng))
            let blob = try SecuredField.encryptV1(plaintext, key: SecretBytes(copying: key))  // fresh random IV
            made.append(InteropMade(id: id, key: InteropHex.encode(key), plaintext: InteropHex.encode(plaintext), blob: blob.text))
        }
        try InteropPython.check("check-v1-cases", made, minimum: Self.v1Valid)
    }

    @Test("v2: 2,000 valid + 2,000 tampered/misused + malformed blobs: library outcome == PyNaCl's")
    func v2GeneratedCases() throws {
        let cases = try InteropPython.json([InteropCase].self, ["gen-v2-cases", String(Self.v2Valid), "20240602"])
        try #require(cases.count >= 2 * Self.v2Valid)
        var disagreements: [String] = []
        for c in cases {
            let got = interopLibraryOutcome(c)
            if got != c.expected {
                disagreements.append("#\(c.id) \(c.kind) context=\(String(reflecting: c.context ?? "")) blob=\(c.blob): PyNaCl \(c.expected.prefix(40)), avault \(got.prefix(40))")
            }
            if c.kind.hasPrefix("valid"), case let .v2(_, nonce, _)? = try? SecuredBlob(parsing: c.blob) {
                let again = try SecuredField.encryptV2(InteropHex.decode(c.plaintext), key: SecretBytes(copying: InteropHex.decode(c.key)),
                                                       context: c.context ?? "", nonce: nonce)
                if again.text != c.blob { disagreements.append("#\(c.id) re-encryption gives \(again.text), reference \(c.blob)") }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements of \(cases.count):\n\(disagreements.prefix(10).joined(separator: "\n"))")
    }

    @Test("v2: 2,000 library-made blobs decrypt with PyNaCl under their context, and not under near-miss contexts or keys")
    func v2LibraryBlobsDecryptWithPyNaCl() throws {
        var rng = SeededRNG(seed: 0xB0B)
        let contexts = ["", "https://example.org/news/1", "a;b;v2;", "café", "cafe\u{301}", "日本語 ✓", "line\nbreak", " padded "]
        var made: [InteropMade] = []
        for id in 0..<Self.v2Valid {
            let key = rng.bytes(32)
            let plaintext = rng.bytes(Int.random(in: 0...100, using: &rng))
            let context = id % 3 == 0 ? "https://example.org/\(id)" : contexts.randomElement(using: &rng)!
            let blob = try SecuredField.encryptV2(plaintext, key: SecretBytes(copying: key), context: context)  // random nonce
            made.append(InteropMade(id: id, key: InteropHex.encode(key), context: context, plaintext: InteropHex.encode(plaintext), blob: blob.text))
        }
        try InteropPython.check("check-v2-cases", made, minimum: Self.v2Valid)
    }
}
