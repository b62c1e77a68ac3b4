// Shared loading code for the known-answer vectors in `Fixtures/vectors/`.
//
// Everything here is strict: an unknown key, a malformed line or a missing field is
// an error (thrown as `VectorError`), never a silently skipped record.

import Foundation
import TestSupport
import Testing
import VaultCrypto

// MARK: - Errors and small helpers

/// A fixture file that does not look the way the loader expects.
struct VectorError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Decodes test hex (either case). Throws a `VectorError` naming the context.
func hex(_ text: String, _ context: @autoclosure () -> String = "hex") throws -> [UInt8] {
    do {
        return try Hex.decode(text)
    } catch {
        throw VectorError("\(context()): not valid hex: \(text.prefix(80))")
    }
}

/// Test secrets: copies public test bytes into a `SecretBytes`.
func secret(_ bytes: [UInt8]) -> SecretBytes { SecretBytes(copying: bytes) }

/// Test secrets from hex.
func secret(hex text: String) throws -> SecretBytes { SecretBytes(copying: try hex(text)) }

/// A copy of a secret's bytes, for assertions in tests only.
func bytes(of secret: SecretBytes) -> [UInt8] { secret.withUnsafeBytes { Array($0) } }

/// `bytes` with bit `bit` (0 = least significant bit of byte 0) inverted.
func flippingBit(_ bit: Int, of bytes: [UInt8]) -> [UInt8] {
    var copy = bytes
    copy[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
    return copy
}

// MARK: - Locating the fixtures

enum Fixtures {
    /// The repository root (``Repository/root``).
    static func repoRoot() throws -> URL { Repository.root }

    /// `Fixtures/vectors/<relativePath>` in the repository.
    static func url(_ relativePath: String) throws -> URL {
        try repoRoot().appendingPathComponent("Fixtures/vectors").appendingPathComponent(relativePath)
    }

    static func data(_ relativePath: String) throws -> Data {
        let url = try url(relativePath)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw VectorError("cannot read fixture \(url.path)")
        }
        return data
    }

    static func text(_ relativePath: String) throws -> String {
        let data = try data(relativePath)
        guard let text = String(data: data, encoding: .utf8) else {
            throw VectorError("\(relativePath) is not UTF-8")
        }
        return text
    }

    /// BLAKE2b-256 of every fixture file as copied from the shared vectors folder
    /// (computed with Python's `hashlib.blake2b(data, digest_size=32)`), so that an
    /// accidental edit of a vector file is caught.
    static let digests: [String: String] = [
        "README.md": "3f4c12653101cf677ca4297314c05d83afd4d5ee166ae7107af581b95d09a993",
        "aes-cbc/CBCGFSbox128.rsp": "b012f93e1dbd377871a25aca339f5b831c907e1f02bb3cdfe35e205d93068c72",
        "aes-cbc/CBCGFSbox256.rsp": "3889c77d6868533acfd405461cbe27d463b698e04134ee56aa115b686b2b6f15",
        "aes-cbc/CBCKeySbox128.rsp": "2ce7b90f82b31b67a1387faebb88727078c496ab9aabc888bc046bc89c000908",
        "aes-cbc/CBCKeySbox256.rsp": "299d835f9628c47eb85bd85fcec60d230ffeb22ef809ee50dcb3b9a63d448e9a",
        "aes-cbc/CBCMMT128.rsp": "0efb7c934de760a70aa6081b8df410c7ce50669a45c2679e3a89c83cbef96963",
        "aes-cbc/CBCMMT256.rsp": "0931275d9069e240b5aacb6ee605789962717f7cb1515a240096faea165ad581",
        "aes-cbc/CBCVarKey128.rsp": "bbf16c467fbae3ecc3c76292742928ad31f6dcba53f498625b61bf19c396c590",
        "aes-cbc/CBCVarKey256.rsp": "c3b44767b3b028a71ebad67a60170b9f601dce4e4c5dc7108b44c8ecad1bd5ac",
        "aes-cbc/CBCVarTxt128.rsp": "b5239bd0a26c32430a9ac433fcd22c9561074fc0f0f100dbfd7d27268d714349",
        "aes-cbc/CBCVarTxt256.rsp": "8762e7eff65aae6a7852295678e35e84027bbdae707131c5dff695dad61de283",
        "ed25519/rfc8032_section7.1.json": "2983f7d5c87c3fcfae08d83aaf76c15034c1d4f94dacdd43b5575e283c6637f6",
        "ed25519/sign.input": "1d9a179d92c0b2fb4afc55cd455c05a5e65403c4cb2a3541a54c022bfb6707be",
        "wycheproof/ed25519_test.json": "c65e52534126c5756d4387977b891bc579217fe28146b43f6cbee9da4e693cc8",
        "wycheproof/xchacha20_poly1305_test.json": "d8252b984183ddc2b825a38d30f8248f451e119db66f6857301591f0033620f0",
        "xchacha20poly1305/draft-irtf-cfrg-xchacha-03_A.3.1.json": "b3f98f7f2ca65324ff94321c75d3ebf6c1e9738627748824a03cebefbd4b61f7",
    ]
}

// MARK: - NIST CAVP `.rsp` files (AES-CBC)

/// Record counts per file, as stated in `Fixtures/vectors/README.md` ([ENCRYPT] + [DECRYPT]).
let cavpFileCounts: [(file: String, records: Int)] = [
    ("CBCGFSbox128.rsp", 14), ("CBCGFSbox256.rsp", 10),
    ("CBCKeySbox128.rsp", 42), ("CBCKeySbox256.rsp", 32),
    ("CBCVarKey128.rsp", 256), ("CBCVarKey256.rsp", 512),
    ("CBCVarTxt128.rsp", 256), ("CBCVarTxt256.rsp", 256),
    ("CBCMMT128.rsp", 20), ("CBCMMT256.rsp", 20),
]

struct CAVPRecord: Sendable, CustomStringConvertible {
    enum Section: String, Sendable { case encrypt = "ENCRYPT", decrypt = "DECRYPT" }
    let file: String
    let line: Int
    let section: Section
    let count: Int
    let key: [UInt8]
    let iv: [UInt8]
    let plaintext: [UInt8]
    let ciphertext: [UInt8]

    var description: String { "\(file):\(line) [\(section.rawValue)] COUNT = \(count)" }
}

enum CAVP {
    /// Parses a NIST AESAVS `.rsp` response file. Each record must have exactly the
    /// fields COUNT, KEY, IV, PLAINTEXT, CIPHERTEXT in the order NIST writes them
    /// (CIPHERTEXT before PLAINTEXT in [DECRYPT]); anything else is an error.
    static func parse(_ text: String, file: String) throws -> [CAVPRecord] {
        var records: [CAVPRecord] = []
        var section: CAVPRecord.Section?
        var pending: [(name: String, value: String)] = []
        var pendingLine = 0
        var expectedCount = 0

        func flush() throws {
            guard !pending.isEmpty else { return }
            guard let section else { throw VectorError("\(file):\(pendingLine): record before any section header") }
            let order = section == .encrypt
                ? ["COUNT", "KEY", "IV", "PLAINTEXT", "CIPHERTEXT"]
                : ["COUNT", "KEY", "IV", "CIPHERTEXT", "PLAINTEXT"]
            let names = pending.map(\.name)
            guard names == order else {
                throw VectorError("\(file):\(pendingLine): fields \(names), expected \(order)")
            }
            var fields: [String: String] = [:]
            for (name, value) in pending { fields[name] = value }
            let where_ = "\(file):\(pendingLine)"
            guard let count = Int(fields["COUNT"]!), count == expectedCount else {
                throw VectorError("\(where_): COUNT \(fields["COUNT"]!) out of sequence, expected \(expectedCount)")
            }
            let record = CAVPRecord(
                file: file, line: pendingLine, section: section, count: count,
                key: try hex(fields["KEY"]!, "\(where_) KEY"),
                iv: try hex(fields["IV"]!, "\(where_) IV"),
                plaintext: try hex(fields["PLAINTEXT"]!, "\(where_) PLAINTEXT"),
                ciphertext: try hex(fields["CIPHERTEXT"]!, "\(where_) CIPHERTEXT"))
            guard [16, 24, 32].contains(record.key.count) else {
                throw VectorError("\(where_): KEY is \(record.key.count) bytes")
            }
            guard record.iv.count == 16 else { throw VectorError("\(where_): IV is \(record.iv.count) bytes") }
            guard !record.plaintext.isEmpty, record.plaintext.count % 16 == 0,
                  record.ciphertext.count == record.plaintext.count else {
                throw VectorError("\(where_): PLAINTEXT/CIPHERTEXT are \(record.plaintext.count)/\(record.ciphertext.count) bytes")
            }
            records.append(record)
            expectedCount += 1
            pending = []
        }

        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            let lineNumber = index + 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.hasPrefix("#") { continue }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                try flush()
                continue
            }
            if line.hasPrefix("[") {
                try flush()
                guard line.hasSuffix("]"), let next = CAVPRecord.Section(rawValue: String(line.dropFirst().dropLast())) else {
                    throw VectorError("\(file):\(lineNumber): unknown section \(line)")
                }
                guard section != next, !(section == nil && next == .decrypt) else {
                    throw VectorError("\(file):\(lineNumber): unexpected section order at \(line)")
                }
                section = next
                expectedCount = 0
                continue
            }
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw VectorError("\(file):\(lineNumber): malformed line \(line)") }
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            guard ["COUNT", "KEY", "IV", "PLAINTEXT", "CIPHERTEXT"].contains(name) else {
                throw VectorError("\(file):\(lineNumber): unknown key \(name)")
            }
            guard !value.isEmpty else { throw VectorError("\(file):\(lineNumber): empty value for \(name)") }
            if name == "COUNT" {
                try flush()
                pendingLine = lineNumber
            } else if pending.isEmpty {
                throw VectorError("\(file):\(lineNumber): \(name) outside a record (no COUNT)")
            }
            pending.append((name, value))
        }
        try flush()
        guard section == .decrypt else { throw VectorError("\(file): missing [DECRYPT] section") }
        return records
    }

    static func load(_ file: String) throws -> [CAVPRecord] {
        try parse(try Fixtures.text("aes-cbc/\(file)"), file: file)
    }
}

// MARK: - ed25519/sign.input

struct SignInputVector: Sendable {
    let line: Int
    let seed: [UInt8]
    /// `seed ‖ public key`, libsodium's secret key layout (the file's SK field).
    let secretKey: [UInt8]
    let publicKey: [UInt8]
    let message: [UInt8]
    let signature: [UInt8]
}

enum SignInput {
    static let expectedLines = 1024

    /// Parses `SK:PK:MSG:SM:` lines. Every line must have exactly five fields, the
    /// last empty; SK must end with PK; SM must be a 64-byte signature followed by MSG;
    /// line n must carry an (n − 1)-byte message.
    static func parse(_ text: String) throws -> [SignInputVector] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.last == "" else { throw VectorError("sign.input: no final newline") }
        lines.removeLast()
        var vectors: [SignInputVector] = []
        vectors.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            let n = index + 1
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 5, fields[4].isEmpty else {
                throw VectorError("sign.input:\(n): expected 5 colon-separated fields (last empty), got \(fields.count)")
            }
            let sk = try hex(String(fields[0]), "sign.input:\(n) SK")
            let pk = try hex(String(fields[1]), "sign.input:\(n) PK")
            let msg = try hex(String(fields[2]), "sign.input:\(n) MSG")
            let sm = try hex(String(fields[3]), "sign.input:\(n) SM")
            guard sk.count == 64, pk.count == 32, Array(sk[32...]) == pk else {
                throw VectorError("sign.input:\(n): SK is not 32-byte seed ‖ PK")
            }
            guard msg.count == n - 1 else { throw VectorError("sign.input:\(n): message is \(msg.count) bytes") }
            guard sm.count == 64 + msg.count, Array(sm[64...]) == msg else {
                throw VectorError("sign.input:\(n): SM is not signature ‖ MSG")
            }
            vectors.append(SignInputVector(line: n, seed: Array(sk[..<32]), secretKey: sk, publicKey: pk,
                                           message: msg, signature: Array(sm[..<64])))
        }
        return vectors
    }

    static func load() throws -> [SignInputVector] { try parse(try Fixtures.text("ed25519/sign.input")) }
}

// MARK: - Strict JSON decoding

enum StrictJSON {
    /// Decodes `T` and then fails if the file has any key that `T` does not model:
    /// the decoded value is re-encoded and every key path of the original must reappear.
    static func decode<T: Codable>(_ type: T.Type, from data: Data, file: String) throws -> T {
        let value = try JSONDecoder().decode(T.self, from: data)
        let original = try JSONSerialization.jsonObject(with: data)
        let reencoded = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(value))
        var originalPaths = Set<String>(), modelledPaths = Set<String>()
        collectKeyPaths(original, prefix: "$", into: &originalPaths)
        collectKeyPaths(reencoded, prefix: "$", into: &modelledPaths)
        let unexpected = originalPaths.subtracting(modelledPaths)
        guard unexpected.isEmpty else {
            throw VectorError("\(file): unexpected keys \(unexpected.sorted())")
        }
        return value
    }

    private static func collectKeyPaths(_ object: Any, prefix: String, into paths: inout Set<String>) {
        if let dictionary = object as? [String: Any] {
            for (key, child) in dictionary {
                let path = "\(prefix).\(key)"
                paths.insert(path)
                collectKeyPaths(child, prefix: path, into: &paths)
            }
        } else if let array = object as? [Any] {
            for child in array { collectKeyPaths(child, prefix: "\(prefix)[]", into: &paths) }
        }
    }

    static func load<T: Codable>(_ type: T.Type, _ relativePath: String) throws -> T {
        try decode(type, from: try Fixtures.data(relativePath), file: relativePath)
    }
}

// MARK: - Wycheproof (schema v1)

enum WycheproofResult: String, Codable, Sendable { case valid, invalid, acceptable }

struct WycheproofNote: Codable, Sendable {
    let bugType: String
    let description: String
    let effect: String?
    let links: [String]?
}

struct WycheproofSource: Codable, Sendable {
    let name: String
    let version: String
}

/// `wycheproof/xchacha20_poly1305_test.json` (aead_test_schema_v1.json).
struct WycheproofAEADFile: Codable, Sendable {
    struct Group: Codable, Sendable {
        let type: String
        let source: WycheproofSource
        let ivSize: Int
        let keySize: Int
        let tagSize: Int
        let tests: [Test]
    }
    struct Test: Codable, Sendable {
        let tcId: Int
        let comment: String
        let flags: [String]
        let key: String
        let iv: String
        let aad: String
        let msg: String
        let ct: String
        let tag: String
        let result: WycheproofResult
    }
    let algorithm: String
    let schema: String
    let numberOfTests: Int
    let header: [String]
    let notes: [String: WycheproofNote]
    let testGroups: [Group]

    static let expectedCases = 315
    static func load() throws -> WycheproofAEADFile {
        try StrictJSON.load(Self.self, "wycheproof/xchacha20_poly1305_test.json")
    }
}

/// `wycheproof/ed25519_test.json` (eddsa_verify_schema_v1.json).
struct WycheproofEdDSAFile: Codable, Sendable {
    struct PublicKey: Codable, Sendable {
        let type: String
        let curve: String
        let keySize: Int
        let pk: String
    }
    struct JWK: Codable, Sendable {
        let kty: String
        let crv: String
        let kid: String
        let x: String
    }
    struct Group: Codable, Sendable {
        let type: String
        let source: WycheproofSource
        let publicKey: PublicKey
        let publicKeyDer: String
        let publicKeyPem: String
        let publicKeyJwk: JWK?
        let tests: [Test]
    }
    struct Test: Codable, Sendable {
        let tcId: Int
        let comment: String
        let flags: [String]
        let msg: String
        let sig: String
        let result: WycheproofResult
    }
    let algorithm: String
    let schema: String
    let numberOfTests: Int
    let header: [String]
    let notes: [String: WycheproofNote]
    let testGroups: [Group]

    static let expectedCases = 210
    static func load() throws -> WycheproofEdDSAFile {
        try StrictJSON.load(Self.self, "wycheproof/ed25519_test.json")
    }
}

// MARK: - RFC 8032 and draft-irtf-cfrg-xchacha JSON

/// `ed25519/rfc8032_section7.1.json`.
struct RFC8032File: Codable, Sendable {
    struct Vector: Codable, Sendable {
        let name: String
        let secret_key: String
        let public_key: String
        let message: String
        let message_length: Int
        let signature: String
        let origin: String
    }
    let description: String
    let source: String
    let vectors: [Vector]

    static let expectedVectors = 5
    static func load() throws -> RFC8032File { try StrictJSON.load(Self.self, "ed25519/rfc8032_section7.1.json") }
}

/// `xchacha20poly1305/draft-irtf-cfrg-xchacha-03_A.3.1.json`.
struct XChaChaDraftFile: Codable, Sendable {
    let name: String
    let source: String
    let algorithm: String
    let key: String
    let nonce: String
    let aad: String
    let plaintext: String
    let ciphertext: String
    let tag: String
    let poly1305_key: String
    let note: String

    static func load() throws -> XChaChaDraftFile {
        try StrictJSON.load(Self.self, "xchacha20poly1305/draft-irtf-cfrg-xchacha-03_A.3.1.json")
    }
}

// MARK: - Per-vector error reporting

/// Runs the checks of one vector. An unexpected thrown error is recorded against `id` and
/// the caller's loop carries on with the next vector, so one bad case cannot hide others.
func checking(_ id: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation,
              _ body: () throws -> Void) {
    do {
        try body()
    } catch {
        Issue.record("\(id()): unexpected error: \(error)", sourceLocation: sourceLocation)
    }
}
