import Foundation
import Testing
import VaultCrypto
import VaultFormat
import ArticleVault

/// The one trust policy: the same rules for embedded record signatures, detached signatures of
/// files without front matter, and `verify --detached`.
@Suite struct OneTrustPolicy {
    static let now: Int64 = 1_796_000_000 // 2026-11-30

    func comment(_ time: Int64, record: Bool) -> String {
        record ? "timestamp:\(time)\tcanon:avault-record-v1\tfile:x" : "timestamp:\(time)\tfile:x\thashed"
    }

    /// Signs `dir/name.md` (embedded) and `dir/name.txt` (no front matter, detached) with `signer` at `time`.
    func signBoth(_ signer: TestSigner, at time: Int64, in dir: URL, _ name: String) throws -> (record: String, file: String) {
        let record = dir.appendingPathComponent(name + ".md").path
        try sampleRecord.write(toFile: record, atomically: false, encoding: .utf8)
        try RecordSigner.sign(path: record, key: signer.key, keyID: signer.id, trustedComment: comment(time, record: true))
        let file = dir.appendingPathComponent(name + ".txt").path
        try "plain text, no front matter\n".write(toFile: file, atomically: false, encoding: .utf8)
        try RecordSigner.signDetached(path: file, key: signer.key, keyID: signer.id, trustedComment: comment(time, record: false))
        return (record, file)
    }

    @Test func embeddedAndDetachedSignaturesAreJudgedAlike() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let desk = TestSigner(), lost = TestSigner(), old = TestSigner(), future = TestSigner(), stranger = TestSigner()
        let store = TrustStoreFile(entries: [
            desk.trust("Desk", roles: ["desk"]),
            lost.trust("Lost", roles: ["editor"], revoked: true),
            old.trust("Old", roles: ["editor"], notBefore: "2020-01-01T00:00:00Z", notAfter: "2021-12-31T23:59:59Z"),
            future.trust("Future", roles: ["editor"], notBefore: "2027-01-01T00:00:00Z"),
        ])
        let cases: [(String, TestSigner, Int64, [String], RecordOutcome)] = [
            ("valid", desk, Self.now - 60, [], .valid),
            ("wrong-role", desk, Self.now - 60, ["editor"], .untrusted),
            ("revoked", lost, Self.now - 60, [], .revoked),
            ("expired", old, Self.now - 60, [], .expired),
            ("inside-window", old, 1_640_000_000, [], .valid),
            ("not-yet-valid", future, Self.now - 60, [], .expired),
            ("from-the-future", desk, Self.now + 3600, [], .invalid),
            ("slightly-ahead", desk, Self.now + 120, [], .valid),
            ("untrusted", stranger, Self.now - 60, [], .untrusted),
        ]
        for (name, signer, time, roles, expected) in cases {
            let (record, file) = try signBoth(signer, at: time, in: dir, name)
            let policy = TrustPolicy(source: .store(store), requiredRoles: roles, now: Self.now)
            var verify = VerifyPolicy(trust: policy)
            verify.requireSignature = true
            let embedded = RecordVerifier(policy: verify).verify(path: record)
            let walked = RecordVerifier(policy: verify).verify(path: file)
            let detached = try RecordVerifier.verifyDetached(file: file, signatureFile: file + ".minisig", policy: policy, allowLegacy: false)
            #expect(embedded.outcome == expected, "\(name) embedded: \(embedded.reason ?? "")")
            #expect(walked.outcome == expected, "\(name) walked: \(walked.reason ?? "")")
            #expect(walked.detached)
            #expect(detached.outcome == expected, "\(name) --detached: \(detached.reason ?? "")")
            #expect(embedded.passed == (expected == .valid) && walked.passed == (expected == .valid))
        }
    }

    /// A timestamp is a time in the years 0000 to 9999 (what RFC 3339 writes), or the
    /// signature is invalid: no Int64 from a file traps, and no report carries such a time.
    @Test func timestampsOutsideRFC3339AreInvalid() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let desk = TestSigner(), windowed = TestSigner(), stranger = TestSigner()
        let store = TrustStoreFile(entries: [desk.trust("Desk"), windowed.trust("Windowed", notBefore: "2020-01-01T00:00:00Z",
                                                                                notAfter: "2030-01-01T00:00:00Z")])
        let policy = TrustPolicy(source: .store(store), now: Self.now)
        var verify = VerifyPolicy(trust: policy)
        verify.requireSignature = true
        let outside: [Int64] = [.min, .min + 1, -(.max - 5), -(.max - 86_399), -62_167_219_201, 253_402_300_800, .max - 86_399, .max - 5, .max]
        for (i, time) in outside.enumerated() {
            for signer in [desk, windowed, stranger] {
                let (record, file) = try signBoth(signer, at: time, in: dir, "o\(i)")
                let detached = try RecordVerifier.verifyDetached(file: file, signatureFile: file + ".minisig", policy: policy, allowLegacy: false)
                for report in [RecordVerifier(policy: verify).verify(path: record), RecordVerifier(policy: verify).verify(path: file)] {
                    #expect(report.outcome == (signer.id == stranger.id ? .untrusted : .invalid), "\(time): \(report.reason ?? "")")
                    #expect(report.signatures.first?.timestamp == nil, "\(time)")
                    if signer.id != stranger.id { #expect(report.reason?.contains("years 0000 to 9999") == true, "\(report.reason ?? "")") }
                }
                #expect(detached.outcome == (signer.id == stranger.id ? .untrusted : .invalid), "\(time): \(detached.reason ?? "")")
            }
        }
        // The first and last seconds of those years are times like any other.
        for (time, expected) in [(Int64(-62_167_219_200), RecordOutcome.expired), (253_402_300_799, .invalid)] {
            let (record, _) = try signBoth(windowed, at: time, in: dir, "edge\(time)")
            let report = RecordVerifier(policy: verify).verify(path: record)
            #expect(report.outcome == expected, "\(time): \(report.reason ?? "")")
            #expect(report.signatures.first?.timestamp == time)
        }
        // A timestamp: field that is no number at all, or beyond Int64, is no more readable.
        for text in ["99999999999999999999", "-99999999999999999999", "soon", ""] {
            let path = dir.appendingPathComponent("t.md").path
            try sampleRecord.write(toFile: path, atomically: false, encoding: .utf8)
            try RecordSigner.sign(path: path, key: desk.key, keyID: desk.id, trustedComment: "timestamp:\(text)\tcanon:avault-record-v1")
            let report = RecordVerifier(policy: verify).verify(path: path)
            #expect(report.outcome == .invalid, "\(text): \(report.reason ?? "")")
        }
    }

    @Test func aRecordSignatureMustSayItIsOne() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let desk = TestSigner()
        let policy = VerifyPolicy(trust: TrustPolicy(source: .publicKeys([desk.publicKey]), now: Self.now))
        let comments: [(String, RecordOutcome)] = [
            ("timestamp:\(Self.now)\tcanon:avault-record-v1\tfile:x", .valid),
            ("timestamp:\(Self.now)\tfile:x", .invalid),
            ("timestamp:\(Self.now)\tcanon:avault-record-v2", .invalid),
            ("timestamp:\(Self.now)\tcanon:avault-record-v1\tcanon:other", .invalid),
            ("timestamp:\(Self.now)\tnotcanon:avault-record-v1", .invalid),
            ("timestamp:\(Self.now) canon:avault-record-v1", .invalid),
            // The canon: field is the second, after the timestamp, as avault writes it: a
            // minisign comment (`timestamp:…\tfile:NAME\thashed`) never has it there, whatever NAME holds.
            ("timestamp:\(Self.now)\tcanon:avault-record-v1", .valid),
            ("timestamp:\(Self.now)\tfile:report.json\tcanon:avault-record-v1\thashed", .invalid),
            ("timestamp:\(Self.now)\tfile:report.json\tcanon:avault-record-v1", .invalid),
            ("canon:avault-record-v1\ttimestamp:\(Self.now)", .invalid),
            ("canon:avault-record-v1", .invalid),
            ("x\ttimestamp:\(Self.now)\tcanon:avault-record-v1", .invalid),
        ]
        for (i, (comment, expected)) in comments.enumerated() {
            let path = dir.appendingPathComponent("r\(i).md").path
            try sampleRecord.write(toFile: path, atomically: false, encoding: .utf8)
            if expected == .valid {
                try RecordSigner.sign(path: path, key: desk.key, keyID: desk.id, trustedComment: comment)
            } else {
                // The signer refuses to write it: put it in place as another tool would.
                #expect(throws: AvaultError.self) { try RecordSigner.sign(path: path, key: desk.key, keyID: desk.id, trustedComment: comment) }
                let document = try RecordDocument(parsing: sampleRecord)
                let signature = MinisignSigning.sign(digest: MinisignSigning.prehash(canonicalBytesOf: document), key: desk.key, keyID: desk.id,
                                                     trustedComment: comment)
                try RecordSignatures.replacing(in: sampleRecord, document: document, with: [signature])
                    .write(toFile: path, atomically: false, encoding: .utf8)
            }
            let report = RecordVerifier(policy: policy).verify(path: path)
            #expect(report.outcome == expected, "\(comment): \(report.reason ?? "")")
            if expected == .invalid { #expect(report.reason?.contains("canon:avault-record-v1") == true) }
        }
    }

    /// What avault makes of `sign --trusted-comment TEXT`: its own two fields, then TEXT.
    @Test func aRecordCommentFromText() throws {
        #expect(try RecordSigner.recordComment(path: "d/r.md", now: 5, text: nil) == "timestamp:5\tcanon:avault-record-v1\tfile:r.md")
        #expect(try RecordSigner.recordComment(path: "d/r.md", now: 5, text: "ok\tby:jane") == "timestamp:5\tcanon:avault-record-v1\tok\tby:jane")
        #expect(try RecordSigner.recordComment(path: "d/r.md", now: 5, text: "") == "timestamp:5\tcanon:avault-record-v1")
        for text in ["canon:x", "a\tcanon:avault-record-v1", "timestamp:1", "file:x", "b\tfile:", "c\u{301}anon:x\tfile:y"] {
            #expect(throws: AvaultError.self, "\(text)") { try RecordSigner.recordComment(path: "r.md", now: 5, text: text) }
        }
        for text in ["\u{0}", "a\nb", "\r", "\u{1F}", "\u{7F}", "\u{9F}", "\u{2028}", "\u{2029}"] {
            #expect(throws: AvaultError.self, "\(text.debugDescription)") { try RecordSigner.recordComment(path: "r.md", now: 5, text: text) }
        }
    }

    /// The `file:` field avault writes holds the base name with its control characters, line
    /// separators and backslashes escaped: it stays one field on one line.
    @Test func theFileFieldIsEscaped() {
        let name = "dir/a\tcanon:avault-record-v1\\x\n\r\u{1}\u{7F}\u{85}\u{2028}\u{2029}é.md"
        let escaped = "a\\tcanon:avault-record-v1\\\\x\\n\\r\\x01\\x7F\\x85\\u{2028}\\u{2029}é.md"
        #expect(RecordSigner.defaultDetachedComment(path: name, now: 7) == "timestamp:7\tfile:\(escaped)\thashed")
        #expect(RecordSigner.defaultRecordComment(path: name, now: 7) == "timestamp:7\tcanon:avault-record-v1\tfile:\(escaped)")
        #expect(RecordSigner.defaultDetachedComment(path: "plain name.txt", now: 7) == "timestamp:7\tfile:plain name.txt\thashed")
    }

    /// A key id is not signed by anything: a signature whose id bytes are rewritten to another
    /// entry holding the same public key is still by the revoked key (a store edited by hand,
    /// or written before `trust add` refused such a key).
    @Test func aRevokedKeyIsRevokedUnderEveryID() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lost = TestSigner()
        let aliasID = Minisign.KeyID(bytes: SecureRandom.bytes(count: 8))
        let alias = TrustStoreFile.Entry(publicKey: Minisign.PublicKey(keyID: aliasID, key: lost.key.publicKey.bytes), name: "Alias",
                                         roles: ["desk"], added: "2026-03-01T00:00:00Z")
        for entries in [[lost.trust("Lost", revoked: true), alias], [alias, lost.trust("Lost", revoked: true)]] {
            let policy = VerifyPolicy(trust: TrustPolicy(source: .store(TrustStoreFile(entries: entries)), now: Self.now))
            for id in [lost.id, aliasID] {
                let path = dir.appendingPathComponent("r.md").path
                try sampleRecord.write(toFile: path, atomically: false, encoding: .utf8)
                try RecordSigner.sign(path: path, key: lost.key, keyID: id, trustedComment: comment(Self.now - 60, record: true))
                let report = RecordVerifier(policy: policy).verify(path: path)
                #expect(report.outcome == .revoked, "\(id.printed): \(report.reason ?? "")")
                #expect(report.reason?.contains("lost laptop") == true)
            }
        }
    }

    /// A signature over a record's canonical bytes, laid beside a file holding exactly those
    /// bytes, does not make that file a signed page.
    @Test func aRecordSignatureDoesNotSignAFile() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let desk = TestSigner()
        let record = dir.appendingPathComponent("r.md").path
        try sampleRecord.write(toFile: record, atomically: false, encoding: .utf8)
        let signature = try RecordSigner.sign(path: record, key: desk.key, keyID: desk.id,
                                              trustedComment: "timestamp:\(Self.now)\tcanon:avault-record-v1\tfile:r.md")
        let canonical = RecordSignatures.canonicalBytes(of: try RecordDocument(parsing: String(contentsOfFile: record, encoding: .utf8)))
        let page = dir.appendingPathComponent("page.html").path
        try Data(canonical).write(to: URL(fileURLWithPath: page))
        try signature.fileText.write(toFile: page + ".minisig", atomically: false, encoding: .utf8)
        let policy = VerifyPolicy(trust: TrustPolicy(source: .publicKeys([desk.publicKey]), now: Self.now))
        let report = RecordVerifier(policy: policy).verify(path: page)
        #expect(report.outcome == .invalid)
        #expect(report.reason?.contains("record signature") == true)
    }

    @Test func everyPublicKeyGivenIsTrusted() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = TestSigner(), b = TestSigner(), c = TestSigner()
        let policy = VerifyPolicy(trust: TrustPolicy(source: .publicKeys([a.publicKey, b.publicKey]), now: Self.now))
        for (name, signer, expected) in [("a", a, RecordOutcome.valid), ("b", b, .valid), ("c", c, .untrusted)] {
            let (record, _) = try signBoth(signer, at: Self.now, in: dir, name)
            let report = RecordVerifier(policy: policy).verify(path: record)
            #expect(report.outcome == expected)
            #expect(report.signatures.first?.signer == nil, "a --pubkey key has no name")
        }
    }
}
