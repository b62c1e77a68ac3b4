import Foundation
import Testing
import VaultCrypto
import VaultFormat
import ArticleVault

/// A signing key with its minisign identity, for tests.
struct TestSigner {
    let key = Ed25519SigningKey.generate()
    let id = Minisign.KeyID(bytes: SecureRandom.bytes(count: 8))
    var publicKey: Minisign.PublicKey { Minisign.PublicKey(keyID: id, key: key.publicKey.bytes) }

    func trust(_ name: String, roles: [String] = [], notBefore: Timestamp? = nil, notAfter: Timestamp? = nil,
               revoked: Bool = false) -> TrustStoreFile.Entry {
        TrustStoreFile.Entry(publicKey: publicKey, name: name, roles: roles, notBefore: notBefore, notAfter: notAfter,
                             added: "2026-01-01T00:00:00Z", revoked: revoked ? ("2026-02-01T00:00:00Z", "lost laptop") : nil)
    }

    func sign(_ path: String, at time: Int64 = 1_780_000_000) throws {
        try RecordSigner.sign(path: path, key: key, keyID: id, trustedComment: "timestamp:\(time)\tcanon:avault-record-v1\tfile:x")
    }
}

/// A verification policy trusting `store`, judged at the current time.
func storePolicy(_ store: TrustStoreFile, roles: [String] = []) -> VerifyPolicy {
    VerifyPolicy(trust: TrustPolicy(source: .store(store), requiredRoles: roles, now: Int64(Date().timeIntervalSince1970)))
}

func tempDir() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avault-prov-" + UUID().uuidString)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

let sampleRecord = """
    ---
    title: "Facebook Execs Panicking"
    webUrl: "https://example.org/a"
    quality: 41
    heat: -1
    published: false
    provider:
      name: Futurism
      domain: futurism.com
    topics:
      - AI
      - "AI Hardware"
    secured: "v2;a572a3388fab68b1;KVbpjlZ8obqBP529oPgaayiVW7FvwgIl;u6h4oatOS+HnGvXgxJBQkMHnxdbIJA=="
    ---

    Body line one.
    Body line two.

    """

@Suite struct SignaturesSurviveReformatting {
    /// The same values, written differently: every variant must still verify.
    static let reformattings: [(String, @Sendable (String) -> String)] = [
        ("reordered keys", { t in
            t.replacingOccurrences(of: "quality: 41\nheat: -1\n", with: "heat: -1\nquality: 41\n") }),
        ("single quotes", { t in t.replacingOccurrences(of: "title: \"Facebook Execs Panicking\"", with: "title: 'Facebook Execs Panicking'") }),
        ("plain scalar", { t in t.replacingOccurrences(of: "\"AI Hardware\"", with: "AI Hardware") }),
        ("quoted number stays a string? no: plain to double-quoted URL", { t in
            t.replacingOccurrences(of: "webUrl: \"https://example.org/a\"", with: "webUrl: https://example.org/a") }),
        ("flow sequence", { t in t.replacingOccurrences(of: "topics:\n  - AI\n  - \"AI Hardware\"\n", with: "topics: [AI, \"AI Hardware\"]\n") }),
        ("flow mapping", { t in t.replacingOccurrences(of: "provider:\n  name: Futurism\n  domain: futurism.com\n", with: "provider: {domain: futurism.com, name: Futurism}\n") }),
        ("deeper indentation", { t in t.replacingOccurrences(of: "  name: Futurism\n  domain: futurism.com", with: "      name: Futurism\n      domain: futurism.com") }),
        ("comments and blank lines", { t in t.replacingOccurrences(of: "heat: -1\n", with: "heat: -1   # trending down\n\n# a comment\n") }),
        // (Not `41.0`: a float of an integer's value is refused, since Psych reads it as a Float.)
        ("number spelling", { t in t.replacingOccurrences(of: "quality: 41", with: "quality: +41") }),
        ("CRLF", { t in t.replacingOccurrences(of: "\n", with: "\r\n") }),
        ("literal block", { t in t.replacingOccurrences(of: "title: \"Facebook Execs Panicking\"", with: "title: |-\n  Facebook Execs Panicking") }),
    ]

    /// Changes to a value or the body: every variant must fail as invalid.
    static let tamperings: [(String, @Sendable (String) -> String)] = [
        ("title", { $0.replacingOccurrences(of: "Panicking", with: "Panicked") }),
        ("number", { $0.replacingOccurrences(of: "quality: 41", with: "quality: 42") }),
        ("number to string", { $0.replacingOccurrences(of: "quality: 41", with: "quality: \"41\"") }),
        ("boolean", { $0.replacingOccurrences(of: "published: false", with: "published: true") }),
        ("nested", { $0.replacingOccurrences(of: "domain: futurism.com", with: "domain: futurism.org") }),
        ("list order", { $0.replacingOccurrences(of: "  - AI\n  - \"AI Hardware\"\n", with: "  - \"AI Hardware\"\n  - AI\n") }),
        ("added field", { $0.replacingOccurrences(of: "heat: -1\n", with: "heat: -1\nextra: 1\n") }),
        ("removed field", { $0.replacingOccurrences(of: "heat: -1\n", with: "") }),
        ("secured blob", { $0.replacingOccurrences(of: "u6h4oat", with: "u6h4oaT") }),
        ("body", { $0.replacingOccurrences(of: "Body line two.", with: "Body line 2.") }),
        ("body whitespace", { $0.replacingOccurrences(of: "Body line two.\n", with: "Body line two. \n") }),
        ("body trailing newline", { $0 + "\n" }),
        ("null to empty string", { $0.replacingOccurrences(of: "heat: -1", with: "heat: \"\"") }),
    ]

    func signedSample(_ signer: TestSigner) throws -> (URL, String) {
        let dir = try tempDir()
        let file = dir.appendingPathComponent("a.md")
        try sampleRecord.write(to: file, atomically: true, encoding: .utf8)
        try signer.sign(file.path)
        return (file, try String(contentsOf: file, encoding: .utf8))
    }

    @Test(arguments: reformattings.map(\.0))
    func reformattedRecordsStillVerify(_ name: String) throws {
        let signer = TestSigner()
        let (file, signed) = try signedSample(signer)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let transform = Self.reformattings.first { $0.0 == name }!.1
        let changed = transform(signed)
        #expect(changed != signed, "the reformatting must change the text")
        try changed.write(to: file, atomically: true, encoding: .utf8)
        let verifier = RecordVerifier(policy: storePolicy(TrustStoreFile(entries: [signer.trust("desk")])))
        let report = verifier.verify(path: file.path)
        #expect(report.outcome == .valid, "\(name): \(report.reason ?? "")")
        #expect(report.passed)
    }

    @Test(arguments: tamperings.map(\.0))
    func changedValuesFailAsInvalid(_ name: String) throws {
        let signer = TestSigner()
        let (file, signed) = try signedSample(signer)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let changed = Self.tamperings.first { $0.0 == name }!.1(signed)
        #expect(changed != signed)
        try changed.write(to: file, atomically: true, encoding: .utf8)
        let verifier = RecordVerifier(policy: storePolicy(TrustStoreFile(entries: [signer.trust("desk")])))
        let report = verifier.verify(path: file.path)
        #expect(report.outcome == .invalid, "\(name)")
        #expect(!report.passed)
        #expect(report.reason?.contains("does not match the record") == true)
    }

    @Test func signingChangesNothingButTheSignaturesBlock() throws {
        let signer = TestSigner()
        let (_, signed) = try signedSample(signer)
        let marker = "signatures:\n"
        let i = try #require(signed.range(of: marker))
        let closing = try #require(signed.range(of: "\n---\n", range: i.upperBound..<signed.endIndex))
        let withoutBlock = String(signed[..<i.lowerBound]) + String(signed[signed.index(after: closing.lowerBound)...])
        #expect(withoutBlock == sampleRecord)
    }

    @Test func resigningReplacesTheSameKeysEntryAndKeepsOthers() throws {
        let a = TestSigner(), b = TestSigner()
        let (file, _) = try signedSample(a)
        try b.sign(file.path)
        try a.sign(file.path, at: 1_790_000_000)
        let doc = try RecordDocument(parsing: try String(contentsOf: file, encoding: .utf8))
        let entries = try RecordSignatures.entries(in: doc.fields)
        #expect(entries.map(\.keyID) == [b.id, a.id])
        #expect(entries.last?.timestamp == 1_790_000_000)
        let store = TrustStoreFile(entries: [a.trust("a"), b.trust("b")])
        let report = RecordVerifier(policy: storePolicy(store)).verify(path: file.path)
        #expect(report.signatures.map(\.status) == [.valid, .valid])
    }
}

@Suite struct VerificationPolicy {
    /// A corpus of thousands of records of every kind, verified in parallel: each gets the
    /// outcome its kind calls for.
    @Test func aGeneratedCorpusGetsTheExpectedOutcomes() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let desk = TestSigner(), old = TestSigner(), lost = TestSigner(), stranger = TestSigner()
        let store = TrustStoreFile(entries: [
            desk.trust("Desk", roles: ["desk"]),
            old.trust("Old desk", roles: ["desk"], notBefore: "2020-01-01T00:00:00Z", notAfter: "2025-01-01T00:00:00Z"),
            lost.trust("Lost", roles: ["desk"], revoked: true),
        ])
        let kinds: [(String, RecordOutcome)] = [
            ("valid", .valid), ("tampered", .invalid), ("unsigned", .unsigned), ("revoked", .revoked),
            ("expired", .expired), ("untrusted", .untrusted), ("malformed", .malformed), ("bad-comment", .invalid),
        ]
        var expected: [String: RecordOutcome] = [:]
        let count = 2400
        for i in 0..<count {
            let (kind, outcome) = kinds[i % kinds.count]
            let path = dir.appendingPathComponent(String(format: "%05d-%@.md", i, kind)).path
            let text = sampleRecord.replacingOccurrences(of: "Panicking", with: "Panicking \(i)")
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            switch kind {
            case "valid": try desk.sign(path)
            case "tampered":
                try desk.sign(path)
                let t = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "quality: 41", with: "quality: 40")
                try t.write(toFile: path, atomically: false, encoding: .utf8)
            case "revoked": try lost.sign(path)
            case "expired": try old.sign(path, at: 1_780_000_000) // 2026, after the key's window
            case "untrusted": try stranger.sign(path)
            case "malformed": try (text.replacingOccurrences(of: "heat: -1", with: "heat: [-1")).write(toFile: path, atomically: false, encoding: .utf8)
            case "bad-comment":
                try desk.sign(path)
                let t = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "timestamp:1780000000", with: "timestamp:1780000001")
                try t.write(toFile: path, atomically: false, encoding: .utf8)
            default: break
            }
            expected[path] = outcome
        }
        let files = try RecordWalker.expand([dir.path], include: RecordWalker.defaultInclude, exclude: [])
        #expect(files.count == count)
        var policy = storePolicy(store)
        policy.requireSignature = true
        let reports = RecordVerifier(policy: policy).verifyAll(files, jobs: 4)
        #expect(reports.count == count)
        var wrong = 0
        for r in reports where expected[r.path] != r.outcome {
            wrong += 1
            if wrong < 5 { Issue.record("\(r.path): expected \(expected[r.path]!), got \(r.outcome) (\(r.reason ?? ""))") }
        }
        #expect(wrong == 0)
        #expect(reports.filter(\.passed).count == count / kinds.count)
        // The same key, a signature made inside its window, is valid.
        let inside = dir.appendingPathComponent("inside.md").path
        try sampleRecord.write(toFile: inside, atomically: false, encoding: .utf8)
        try old.sign(inside, at: 1_700_000_000)
        #expect(RecordVerifier(policy: policy).verify(path: inside).outcome == .valid)
    }

    @Test func rolesAreRequiredOfValidSignatures() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let desk = TestSigner(), editor = TestSigner()
        let store = TrustStoreFile(entries: [desk.trust("Desk", roles: ["desk"]), editor.trust("Ed", roles: ["editor", "desk"])])
        let path = dir.appendingPathComponent("r.md").path
        try sampleRecord.write(toFile: path, atomically: false, encoding: .utf8)
        try desk.sign(path)
        let policy = storePolicy(store, roles: ["editor"])
        let before = RecordVerifier(policy: policy).verify(path: path)
        #expect(before.outcome == .untrusted)
        #expect(before.reason?.contains("role editor") == true)
        try editor.sign(path)
        #expect(RecordVerifier(policy: policy).verify(path: path).outcome == .valid)
    }

    @Test func securedBlobsArePartOfThePolicy() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let desk = TestSigner()
        let store = TrustStoreFile(entries: [desk.trust("Desk")])
        let seed = Fixtures.url("Fixtures/seed/000_6e329c144f65a19c.txt")
        let path = dir.appendingPathComponent("seed.txt").path
        try FileManager.default.copyItem(atPath: seed.path, toPath: path)
        try desk.sign(path)
        var policy = storePolicy(store)
        let strict = RecordVerifier(policy: policy).verify(path: path)
        #expect(strict.outcome == .valid)
        #expect(strict.secured == "v1")
        #expect(!strict.passed)
        policy.allowLegacySecured = true
        #expect(RecordVerifier(policy: policy).verify(path: path).passed == true)
        // A legacy key that is not the seed's: the signed record authenticates the blob, so it is tried.
        let ringDir = dir.appendingPathComponent("ring")
        let ring = try Keyring(directory: ringDir.path, passphrase: PassphraseSource(file: nil, environmentVariable: "AVAULT_TEST_UNSET", label: "test"))
        let key = try Fixtures.key("demo-aes256.key")
        try ring.update { (r: Keyring) throws(AvaultError) in
            try r.add(name: "legacy", algorithm: .aes256cbc, secret: key, id: .content(SecuredField.keyID(for: key)), protected: false, now: 0)
        }
        policy.decryptCheck = try SecuredDecryptChecker(keyring: ring, keyName: "legacy")
        let undecryptable = RecordVerifier(policy: policy).verify(path: path)
        #expect(undecryptable.decrypts == false)
        #expect(!undecryptable.passed)
    }
}
