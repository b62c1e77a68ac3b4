// Every C2SP CCTV age vector (Fixtures/vectors/cctv-age, copied unmodified from
// ../shared/vectors; see its README there) through the library's age decryption, checking
// the outcome class and, where given, the SHA-256 of all plaintext released — even when the
// payload fails later, as age releases it chunk by chunk.
//
// zlib-compressed vectors (`compressed: zlib`) are inflated by python3's zlib module: Foundation
// has no zlib on Linux, and python3 is already required by the interop tests; a missing
// interpreter fails the test, never skips it.
//
// The 18 `hybrid*` vectors use ML-KEM-768 + X25519 recipients, which neither libsodium nor
// OpenSSL 3.0 offers: they are listed as skipped by name and counted, not dropped.

import ArticleVault
import Foundation
import TestSupport
import Testing
import VaultCrypto
import VaultFormat

/// One vector file: its header lines and the age file after the blank line.
struct AgeVector {
    enum Expect: String, CaseIterable { case success, noMatch = "no match", hmac = "HMAC failure", header = "header failure", payload = "payload failure", armor = "armor failure" }
    let name: String
    let expect: Expect
    let payload: String?
    let identities: [String]
    let passphrases: [String]
    let armored: Bool
    let file: [UInt8]

    static let directory = Repository.url("Fixtures/vectors/cctv-age")

    static func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    init(name: String) throws {
        self.name = name
        let bytes = [UInt8](try Data(contentsOf: Self.directory.appendingPathComponent(name)))
        guard let blank = bytes.indices.dropLast().first(where: { bytes[$0] == 0x0A && bytes[$0 + 1] == 0x0A }) else {
            throw VectorError.malformed(name, "no blank line after the header")
        }
        let text = String(decoding: bytes[..<blank], as: UTF8.self)
        var expect: Expect?, payload: String?, identities: [String] = [], passphrases: [String] = [], armored = false, compressed = false
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { throw VectorError.malformed(name, "a header line without ':'") }
            let key = String(line[..<colon]), value = String(line[line.index(colon, offsetBy: 2)...])
            switch key {
            case "expect": expect = Expect(rawValue: value)
            case "payload": payload = value
            case "identity": identities.append(value)
            case "passphrase": passphrases.append(value)
            case "armored": armored = value == "yes"
            case "compressed":
                guard value == "zlib" else { throw VectorError.malformed(name, "compressed: \(value)") }
                compressed = true
            case "file key", "comment": break
            default: throw VectorError.malformed(name, "unknown key '\(key)'")
            }
        }
        guard let expect else { throw VectorError.malformed(name, "no or unknown 'expect'") }
        self.expect = expect; self.payload = payload; self.identities = identities; self.passphrases = passphrases; self.armored = armored
        let body = Array(bytes[(blank + 2)...])
        file = compressed ? try Self.inflate(body) : body
    }

    /// zlib inflate through python3.
    static func inflate(_ bytes: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sys, zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read()))"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input; process.standardOutput = output
        try process.run()
        let writer = Thread { input.fileHandleForWriting.write(Data(bytes)); try? input.fileHandleForWriting.close() }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw VectorError.malformed("zlib", "python3 exited with \(process.terminationStatus)") }
        return [UInt8](data)
    }

    enum VectorError: Error { case malformed(String, String) }
}

/// What decrypting a vector gave: the outcome class and the SHA-256 of what was released.
func runAgeVector(_ v: AgeVector) throws -> (AgeVector.Expect, [UInt8], AvaultError?) {
    var identities: [SecretBytes] = []
    for text in v.identities {
        var t = text
        identities.append(try t.withUTF8 { u in try AgeKeys.parseIdentity(u) })
    }
    var passphrase: (() throws(AvaultError) -> SecretBytes)?
    if let first = v.passphrases.first {
        let bytes = Array(first.utf8)
        passphrase = { () throws(AvaultError) -> SecretBytes in SecretBytes(copying: bytes) }
    }
    var hasher = SHA256()
    do throws(AvaultError) {
        try AgeFile.decrypt(AgeBytesInput(v.file), armored: v.armored, identities: identities, passphrase: passphrase) { piece throws(AvaultError) in
            hasher.update(piece)
        }
        return (.success, hasher.finalize(), nil)
    } catch {
        let outcome: AgeVector.Expect
        switch error {
        case .age(.armor, _): outcome = .armor
        case .age(.header, _): outcome = .header
        case .age(.noIdentityMatched, _): outcome = .noMatch
        case .age(.headerMAC, _): outcome = .hmac
        case .age(.payload, _): outcome = .payload
        default: throw error
        }
        return (outcome, hasher.finalize(), error)
    }
}

@Suite("age: C2SP CCTV vectors")
struct AgeVectorTests {
    /// The vectors no implementation here can run (ML-KEM), listed by name: the 18 `hybrid*`
    /// ones and `armor_hybrid` (an armored hybrid file), 19 in all.
    static let skipped: Set<String> = [
        "armor_hybrid", "hybrid", "hybrid_and_x25519", "hybrid_bad_tag", "hybrid_currupted_enc_mlkem",
        "hybrid_currupted_enc_x25519", "hybrid_extra_argument", "hybrid_grease", "hybrid_identity",
        "hybrid_long_file_key", "hybrid_long_share", "hybrid_low_order", "hybrid_multiple_recipients",
        "hybrid_no_match", "hybrid_not_canonical_body", "hybrid_not_canonical_enc", "hybrid_short_share",
        "hybrid_uppercase", "hybrid_x25519_arg",
    ]

    @Test("the vector set is complete: 143 files, the hybrid ones skipped by name")
    func inventory() throws {
        let names = try AgeVector.names()
        #expect(names.count == 143)
        let hybrid = names.filter { $0.hasPrefix("hybrid") }
        #expect(hybrid.count == 18)
        #expect(Set(hybrid).isSubset(of: Self.skipped))
        #expect(Self.skipped == Set(hybrid + ["armor_hybrid"]))
        // Everything skipped is a real file, and only ML-KEM ones are skipped.
        #expect(Self.skipped.isSubset(of: Set(names)))
        for name in Self.skipped { #expect(name.contains("hybrid")) }
        let run = names.filter { !Self.skipped.contains($0) }
        #expect(run.count == names.count - Self.skipped.count)
        print("age vectors: \(run.count) run, \(Self.skipped.count) skipped (ML-KEM): \(Self.skipped.sorted().joined(separator: ", "))")
    }

    @Test("every vector gives its expected outcome and released payload", arguments: try AgeVector.names())
    func vector(_ name: String) throws {
        guard !Self.skipped.contains(name) else { return }
        let v = try AgeVector(name: name)
        let (outcome, digest, error) = try runAgeVector(v)
        #expect(outcome == v.expect, "\(name): expected \(v.expect.rawValue), got \(outcome.rawValue) (\(error.map { $0.message } ?? "no error"))")
        if let payload = v.payload {
            #expect(Hex.encode(digest) == payload, "\(name): released plaintext hash differs")
        } else if v.expect == .success {
            Issue.record("\(name): a success vector without a payload hash")
        }
    }
}
