// Interoperability of the REAL `avault` binary with implementations nobody here wrote:
// - Tests/interop/secured_reference.py, written from docs/formats.md alone, on top of
//   PyCryptodome (AES-CBC with its own AES code) and PyNaCl (libsodium XChaCha20-Poly1305);
// - the `openssl enc` command line (AES-128/192/256-CBC).
//
// Spawning a debug-build avault costs 20–50 ms of CPU, so the CLI sees a few hundred cases per format
// (run on a few threads); the thousands of cases go through the library in
// Tests/ArticleVaultTests/InteropLibraryTests.swift.
//
// python3 with `pynacl` and `pycryptodome` and the openssl CLI are REQUIRED (CI installs them
// with `pip install pynacl pycryptodome`): if they are missing these tests fail, never skip.

import Foundation
import TestSupport
import Testing

enum Interop {
    static let vectorDirectory = CLI.repoRoot.appendingPathComponent("Fixtures/secured-v2")
    static let uniformFailure = "avault: decryption failed: wrong key, wrong context, or tampered data"
    static let kidHintPrefix = "avault: hint: the blob names key id "
    static let setupHint = SecuredReference.setupHint
    typealias Failure = SecuredReference.Failure
    typealias Report = SecuredReference.Report
    typealias Case = SecuredReference.Case
    typealias Made = SecuredReference.Made

    /// `python3 secured_reference.py args…` (via CLI.run).
    static func python(_ args: [String], input: Data = Data()) throws -> CLI.Result {
        try CLI.run("python3", [SecuredReference.script] + args, stdin: input)
    }

    static func json<T: Decodable>(_ type: T.Type, _ args: [String], input: Data = Data()) throws -> T {
        try SecuredReference.json(type, args, input: input)
    }

    /// Runs a `check-*` sub-command: its report must list no failures.
    static func check<C: Encodable>(_ args: [String], _ cases: [C], minimum: Int) throws {
        let report = try SecuredReference.report(args, input: try JSONEncoder().encode(cases))
        #expect(report.checked >= minimum, "\(args[0]) checked only \(report.checked)")
        #expect(report.failures.isEmpty, "\(args[0]): \(report.failures.count) disagreements, first: \(report.failures.prefix(5))")
    }

    /// `body` over `items` on `workers` threads (each spawns processes); results in order.
    static func parallelMap<T: Sendable, R: Sendable>(_ items: [T], workers: Int = 3,
                                                       _ body: @escaping @Sendable (T) throws -> R) throws -> [R] {
        let slots = InteropSlots<R>(items.count)
        let done = DispatchSemaphore(value: 0)
        for w in 0..<workers {
            let thread = Thread {
                var i = w
                while i < items.count {
                    slots.set(i, Result { try body(items[i]) })
                    i += workers
                }
                done.signal()
            }
            thread.start()
        }
        for _ in 0..<workers { done.wait() }
        return try slots.results.map { try $0!.get() }
    }

    /// Writes each distinct key to a mode-600 key file, in one of the encodings of formats.md §2
    /// (lowercase hex, uppercase hex, base64, surrounded by ASCII whitespace); returns hex → path.
    static func keyFiles(_ hexKeys: [String], in dir: URL) throws -> [String: String] {
        var paths: [String: String] = [:]
        for hex in hexKeys where paths[hex] == nil {
            let n = paths.count
            let text: String
            switch n % 4 {
            case 0: text = hex + "\n"
            case 1: text = hex.uppercased()
            case 2: text = Data(bytes(hex)).base64EncodedString() + "\r\n"
            default: text = " \t" + hex + "\n\n"
            }
            let url = dir.appendingPathComponent("key-\(n)")
            try CLI.write(text, to: url, mode: 0o600)
            paths[hex] = url.path
        }
        return paths
    }

    static func bytes(_ hex: String) -> [UInt8] {
        let u = Array(hex.utf8)
        func v(_ c: UInt8) -> UInt8 { c <= UInt8(ascii: "9") ? c - UInt8(ascii: "0") : (c | 0x20) - UInt8(ascii: "a") + 10 }
        return stride(from: 0, to: u.count, by: 2).map { v(u[$0]) << 4 | v(u[$0 + 1]) }
    }

    /// `--context` for a v2 decrypt: `--context=X` so that an X starting with `-` is a value
    /// (but `--context=` with nothing after it is refused by the argument parser).
    static func contextArgs(_ context: String?) -> [String] {
        guard let context else { return [] }
        return context.isEmpty ? ["--context", ""] : ["--context=" + context]
    }

    /// nil when avault's result is the reference's `expected` outcome, else what differs.
    static func disagreement(_ r: CLI.Result, expected: String, v1: Bool) -> String? {
        var lines = r.err.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        // v1 decryption is opted into (--allow-unauthenticated-legacy), which is said first, once,
        // before anything is known about the blob; malformed blobs are refused before that.
        if v1, expected != "malformed" {
            guard lines.first == legacyOptInWarning else {
                return "expected the opt-in warning first, got exit \(r.code), stderr \(String(reflecting: r.err))"
            }
            lines.removeFirst()
        }
        switch expected {
        case "malformed":
            if r.code == 1, r.stdout.isEmpty, lines.count >= 1, lines[0].hasPrefix("avault: "),
               !r.err.contains("decryption failed") { return nil }
            return "expected a malformed-blob error (exit 1), got exit \(r.code), stderr \(String(reflecting: r.err))"
        case "fail":
            // v1 failures must be byte-identical whatever the cause (no padding oracle); a v2
            // kid mismatch may add a hint naming the (public) key ids.
            let extraOK = lines.dropFirst().allSatisfy { !v1 && $0.hasPrefix(kidHintPrefix) } && lines.count <= 2
            if r.code == 1, r.stdout.isEmpty, lines.first == uniformFailure, extraOK { return nil }
            return "expected the uniform decryption failure (exit 1), got exit \(r.code), stdout \(r.stdout.count) bytes, stderr \(String(reflecting: r.err))"
        default:
            let plaintext = bytes(expected)
            let stderrOK = lines.isEmpty
            if r.code == 0, [UInt8](r.stdout) == plaintext, stderrOK { return nil }
            return "expected plaintext \(expected.prefix(40)), got exit \(r.code), stdout \(CLI.hex(r.stdout).prefix(40)), stderr \(String(reflecting: r.err))"
        }
    }

    /// Runs `avault secured decrypt` for every case and compares with the reference's outcome.
    static func replay(_ cases: [Case], v1: Bool, in dir: URL) throws -> [String] {
        let keys = try keyFiles(cases.map(\.key), in: dir)
        let problems = try parallelMap(cases) { c -> String? in
            let r = try CLI.avault(["secured", "decrypt", "--key-file", keys[c.key]!] + contextArgs(c.context)
                                   + (v1 ? ["--allow-unauthenticated-legacy"] : []) + ["--", c.blob])
            return disagreement(r, expected: c.expected, v1: v1).map {
                "#\(c.id) \(c.kind) key=\(c.key) context=\(String(reflecting: c.context ?? "")) blob=\(String(reflecting: c.blob)): \($0)"
            }
        }
        return problems.compactMap { $0 }
    }

    /// Encrypts each plaintext with `avault secured encrypt` (stdin → one line on stdout).
    static func encryptWithAvault(_ inputs: [(key: String, context: String?, plaintext: [UInt8])], legacy: Bool, in dir: URL) throws -> [Made] {
        let keys = try keyFiles(inputs.map(\.key), in: dir)
        let jobs = inputs.enumerated().map { ($0.offset, $0.element.key, $0.element.context, $0.element.plaintext) }
        return try parallelMap(jobs) { (id, key, context, plaintext) -> Made in
            let args = ["secured", "encrypt", "--key-file", keys[key]!] + (legacy ? ["--legacy-cbc"] : contextArgs(context))
            let r = try CLI.avault(args, stdin: Data(plaintext))
            guard r.code == 0, r.out.hasSuffix("\n"), r.err.isEmpty else {
                throw Failure("avault \(args.joined(separator: " ")) exited \(r.code): \(r.err)")
            }
            return Made(id: id, key: key, context: context, plaintext: CLI.hex(plaintext), blob: String(r.out.dropLast()))
        }
    }


    static func withTempDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        return try body(dir)
    }
}

/// Results filled in by worker threads (each index written once, under the lock).
final class InteropSlots<R>: @unchecked Sendable {
    var results: [Result<R, any Error>?]
    let lock = NSLock()
    init(_ n: Int) { results = Array(repeating: nil, count: n) }
    func set(_ i: Int, _ r: Result<R, any Error>) { lock.lock(); results[i] = r; lock.unlock() }
}

@Suite("Interop: avault CLI vs PyCryptodome / PyNaCl reference and openssl")
struct InteropTests {
    /// Valid cases replayed through the CLI (each with one tampered variant), per format.
    static let v1CLIValid = 150
    static let v2CLIValid = 80
    static let encryptCount = 60

    @Test("python3, pynacl, pycryptodome and the openssl CLI are installed, and the reference passes its self-test")
    func toolsPresent() throws {
        let r = try Interop.python(["self-test"])
        #expect(r.code == 0, "python3 secured_reference.py self-test exited \(r.code) (\(Interop.setupHint)): \(r.err) \(r.out)")
        let o = try CLI.run("openssl", ["version"])
        #expect(o.code == 0 && o.out.hasPrefix("OpenSSL"), "the openssl CLI is required: \(o.err)")
        #expect(FileManager.default.isExecutableFile(atPath: CLI.avaultPath), "no avault binary at \(CLI.avaultPath): run swift build --build-tests")
    }

    @Test("v1: valid, tampered, crafted-padding and malformed blobs: avault's outcome == PyCryptodome's")
    func v1ReferenceCasesThroughCLI() throws {
        let all = try Interop.json([Interop.Case].self, ["gen-v1-cases", String(Self.v1CLIValid), "7"])
        // The first 2×N are N valid cases each followed by its tampered twin; then the crafted
        // padding and malformed cases, all of which are replayed.
        try #require(all.count > 2 * Self.v1CLIValid + 60)
        #expect(all.contains { $0.kind != "valid" && $0.expected != "fail" && $0.expected != "malformed" },
                "no tampered case that still unpads: the sample is too small to be interesting")
        let problems = try Interop.withTempDirectory { try Interop.replay(all, v1: true, in: $0) }
        #expect(problems.isEmpty, "\(problems.count) of \(all.count) disagree:\n\(problems.prefix(8).joined(separator: "\n"))")
    }

    @Test("v1 and v2: malformed blobs are reported as such by `avault secured inspect` too")
    func malformedInspect() throws {
        let all = try Interop.json([Interop.Case].self, ["gen-v1-cases", "0", "7"])
        let probes = all.filter { $0.kind.hasPrefix("malformed") || $0.kind == "v-digits-is-v1" }
            + (try Interop.json([Interop.Case].self, ["gen-v2-cases", "0", "8"])).filter { $0.kind.hasPrefix("malformed") }
        try #require(probes.count >= 40)
        let problems = try Interop.parallelMap(probes) { c -> String? in
            let r = try CLI.avault(["secured", "inspect", "--json", "--", c.blob])
            let wellFormed = c.expected != "malformed"
            let wantCode: Int32 = wellFormed ? 0 : 1
            let wantText = "\"wellFormed\":\(wellFormed)"
            return r.code == wantCode && r.out.contains(wantText) ? nil
                : "\(c.kind) \(String(reflecting: c.blob)): exit \(r.code) \(r.out) \(r.err)"
        }.compactMap { $0 }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test("v1: blobs made by `avault secured encrypt --legacy-cbc` decrypt with PyCryptodome (16/24/32-byte keys)")
    func v1AvaultBlobsDecryptWithPyCryptodome() throws {
        var rng = SeededRNG(seed: 11)
        let inputs = (0..<Self.encryptCount).map { i -> (key: String, context: String?, plaintext: [UInt8]) in
            let lengths = [0, 1, 15, 16, 17, 31, 32, 33]
            let length = i < lengths.count ? lengths[i] : Int.random(in: 0...100, using: &rng)
            return (CLI.hex(rng.bytes([16, 24, 32][i % 3])), nil, rng.bytes(length))
        }
        let made = try Interop.withTempDirectory { try Interop.encryptWithAvault(inputs, legacy: true, in: $0) }
        try Interop.check(["check-v1-cases"], made, minimum: Self.encryptCount)
    }

    @Test("v2: valid, tampered, wrong-context, wrong-key and malformed reference blobs: avault's outcome == PyNaCl's")
    func v2ReferenceCasesThroughCLI() throws {
        let all = try Interop.json([Interop.Case].self, ["gen-v2-cases", String(Self.v2CLIValid), "8"])
        try #require(all.count >= 2 * Self.v2CLIValid + 16)
        #expect(Set(all.map(\.kind)).isSuperset(of: ["valid", "flip-tag", "wrong-context", "kid-of-wrong-key", "equivalent-context", "malformed-kid-uppercase"]))
        let problems = try Interop.withTempDirectory { try Interop.replay(all, v1: false, in: $0) }
        #expect(problems.isEmpty, "\(problems.count) of \(all.count) disagree:\n\(problems.prefix(8).joined(separator: "\n"))")
    }

    @Test("v2: blobs made by `avault secured encrypt --context C` decrypt with PyNaCl under C only")
    func v2AvaultBlobsDecryptWithPyNaCl() throws {
        var rng = SeededRNG(seed: 12)
        let contexts = ["", "https://example.org/news/1", "-starts-with-dash", "a;b;v2;", "café", "cafe\u{301}",
                        "日本語 ✓ 🔒", "line\nbreak", " padded ", "--context"]
        let inputs = (0..<Self.encryptCount).map { i -> (key: String, context: String?, plaintext: [UInt8]) in
            (CLI.hex(rng.bytes(32)), contexts[i % contexts.count], rng.bytes(i == 0 ? 0 : Int.random(in: 0...100, using: &rng)))
        }
        let made = try Interop.withTempDirectory { try Interop.encryptWithAvault(inputs, legacy: false, in: $0) }
        // check-v2-cases: right context decrypts, kid = BLAKE2b-256(key)[0..8], fresh nonces,
        // and near-miss contexts and keys fail.
        try Interop.check(["check-v2-cases"], made, minimum: Self.encryptCount)
    }

    @Test("v2: every Fixtures/secured-v2 vector checks out with the reference AND decrypts with avault")
    func v2Vectors() throws {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: Interop.vectorDirectory.path, isDirectory: &isDirectory)
        try #require(exists && isDirectory.boolValue,
                     "Fixtures/secured-v2/ is missing: the v2 test vectors (docs/formats.md §1.5) must be committed")
        let r = try Interop.python(["check-vectors", Interop.vectorDirectory.path])
        let report = try #require(try? JSONDecoder().decode(Interop.Report.self, from: r.stdout),
                                  "check-vectors exited \(r.code) (\(Interop.setupHint)): \(r.err)")
        #expect(report.checked >= 1, "Fixtures/secured-v2/ holds no *.txt vector")
        #expect(report.failures.isEmpty, "vectors the independent reference disagrees with: \(report.failures)")
        #expect(r.code == 0)

        struct Vector: Decodable, Sendable { var file, key, context, nonce, plaintext, blob: String }
        let vectors = try Interop.json([Vector].self, ["read-vectors", Interop.vectorDirectory.path])
        try #require(vectors.count == report.checked)
        let problems = try Interop.withTempDirectory { dir in
            let keys = try Interop.keyFiles(vectors.map(\.key), in: dir)
            return try Interop.parallelMap(vectors) { v -> String? in
                let ok = try CLI.avault(["secured", "decrypt", "--key-file", keys[v.key]!] + Interop.contextArgs(v.context) + ["--", v.blob])
                let wrong = try CLI.avault(["secured", "decrypt", "--key-file", keys[v.key]!] + Interop.contextArgs(v.context + "#") + ["--", v.blob])
                let a = Interop.disagreement(ok, expected: v.plaintext, v1: false)
                let b = Interop.disagreement(wrong, expected: "fail", v1: false)
                return a == nil && b == nil ? nil : "\(v.file): \(a ?? "") \(b ?? "")"
            }.compactMap { $0 }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    // MARK: openssl

    static let opensslCiphers: [(name: String, keyBytes: Int)] = [("aes-256-cbc", 32), ("aes-128-cbc", 16), ("aes-192-cbc", 24)]
    static let opensslLengths = [0, 1, 15, 16, 17, 64, 100, 1000]

    @Test("openssl enc → avault: `openssl enc -aes-{256,128,192}-cbc -K -iv` output as a v1 blob decrypts to the plaintext",
          arguments: [0, 1, 2])
    func opensslToAvault(cipherIndex: Int) throws {
        let (cipher, keyBytes) = Self.opensslCiphers[cipherIndex]
        var rng = SeededRNG(seed: 100 + UInt64(cipherIndex))
        try Interop.withTempDirectory { dir in
            for length in Self.opensslLengths {
                let key = rng.bytes(keyBytes), iv = rng.bytes(16), plaintext = rng.bytes(length)
                let enc = try CLI.run("openssl", ["enc", "-\(cipher)", "-K", CLI.hex(key), "-iv", CLI.hex(iv)], stdin: Data(plaintext))
                try #require(enc.code == 0, "openssl enc -\(cipher) failed: \(enc.err)")
                #expect(enc.stdout.count == (length / 16 + 1) * 16)
                let blob = enc.stdout.base64EncodedString() + ";" + Data(iv).base64EncodedString()
                let keyFile = dir.appendingPathComponent("key-\(length)")
                try CLI.write(CLI.hex(key) + "\n", to: keyFile)
                let r = try CLI.avault(["secured", "decrypt", "--key-file", keyFile.path, "--allow-unauthenticated-legacy", "--", blob])
                #expect(Interop.disagreement(r, expected: CLI.hex(plaintext), v1: true) == nil,
                        "\(cipher) \(length) bytes: \(Interop.disagreement(r, expected: CLI.hex(plaintext), v1: true) ?? "")")
            }
        }
    }

    @Test("avault → openssl enc -d: a `secured encrypt --legacy-cbc` blob decrypts with `openssl enc -d -aes-{256,128,192}-cbc`",
          arguments: [0, 1, 2])
    func avaultToOpenssl(cipherIndex: Int) throws {
        let (cipher, keyBytes) = Self.opensslCiphers[cipherIndex]
        var rng = SeededRNG(seed: 200 + UInt64(cipherIndex))
        try Interop.withTempDirectory { dir in
            let key = rng.bytes(keyBytes)
            let keyFile = dir.appendingPathComponent("key")
            try CLI.write(Data(key).base64EncodedString() + "\n", to: keyFile)  // base64 key file this time
            var ivs = Set<Data>()
            for length in Self.opensslLengths {
                let plaintext = rng.bytes(length)
                let made = try CLI.avault(["secured", "encrypt", "--legacy-cbc", "--key-file", keyFile.path], stdin: Data(plaintext))
                try #require(made.code == 0, "avault encrypt failed: \(made.err)")
                let pieces = made.out.dropLast().split(separator: ";", omittingEmptySubsequences: false)
                try #require(pieces.count == 2 && made.out.hasSuffix("\n"), "not a v1 blob line: \(made.out)")
                let ciphertext = try #require(Data(base64Encoded: String(pieces[0])), "ciphertext is not base64")
                let iv = try #require(Data(base64Encoded: String(pieces[1])), "iv is not base64")
                #expect(iv.count == 16 && ciphertext.count == (length / 16 + 1) * 16)
                #expect(ivs.insert(iv).inserted, "avault reused an IV")
                let dec = try CLI.run("openssl", ["enc", "-d", "-\(cipher)", "-K", CLI.hex(key), "-iv", CLI.hex(iv)], stdin: ciphertext)
                #expect(dec.code == 0, "openssl enc -d -\(cipher) refused avault's blob: \(dec.err)")
                #expect([UInt8](dec.stdout) == plaintext, "\(cipher) \(length) bytes: openssl decrypts to something else")
            }
        }
    }
}
