import Foundation
import Testing
import ArticleVault
import VaultCrypto
import VaultFormat

/// Refusals a user can cause are named cases of `AvaultError` (a script tells them apart by
/// case, not by message text), each with its one-line message.
@Suite struct NamedErrorTests {
    /// A trust store in a fresh directory.
    final class Scene {
        let dir: URL
        var storePath: String { dir.appendingPathComponent("trust.avt").path }
        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("avault-named-" + UUID().uuidString)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir.path)
        }
        deinit { try? FileManager.default.removeItem(at: dir) }
    }

    @Test func trustStoreRefusalsAreNamed() throws {
        let scene = try Scene()
        let store = try TrustStore(path: scene.storePath)
        let key = TestSigner().publicKey
        func expectError(_ matches: (AvaultError) -> Bool, _ body: () throws(AvaultError) -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
            do throws(AvaultError) {
                try body()
                Issue.record("no error", sourceLocation: sourceLocation)
            } catch {
                #expect(matches(error), "\(error.message)", sourceLocation: sourceLocation)
                #expect(!error.message.contains("\n") && !error.message.hasPrefix("avault:"), sourceLocation: sourceLocation)
            }
        }
        expectError({ if case .invalidTrustName = $0 { true } else { false } }) { () throws(AvaultError) in
            try store.add(key, name: "two\nlines", roles: [], notBefore: nil, notAfter: nil, now: 0)
        }
        expectError({ if case .invalidRole("Editor") = $0 { true } else { false } }) { () throws(AvaultError) in
            try store.add(key, name: "Desk", roles: ["Editor"], notBefore: nil, notAfter: nil, now: 0)
        }
        expectError({ if case .validityWindowReversed = $0 { true } else { false } }) { () throws(AvaultError) in
            try store.add(key, name: "Desk", roles: [], notBefore: "2027-01-01T00:00:00Z", notAfter: "2026-01-01T00:00:00Z", now: 0)
        }
        try store.add(key, name: "Desk", roles: ["desk"], notBefore: nil, notAfter: nil, now: 0)
        expectError({ if case .invalidRevocationReason = $0 { true } else { false } }) { () throws(AvaultError) in
            try store.revoke(key.keyID, reason: "a\u{7}bell", now: 1)
        }
        try store.revoke(key.keyID, reason: "lost", now: 1)
        expectError({ if case .alreadyRevoked(key.keyID.printed) = $0 { true } else { false } }) { () throws(AvaultError) in
            try store.revoke(key.keyID, reason: "again", now: 2)
        }
        // What was written reads back with its times as Timestamps.
        let back = try TrustStore(path: scene.storePath).file.entries
        #expect(back.count == 1 && back[0].added == Timestamp(seconds: 0) && back[0].revoked?.time == Timestamp(seconds: 1))
    }
}
