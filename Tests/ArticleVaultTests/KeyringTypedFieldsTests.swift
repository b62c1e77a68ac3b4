import Foundation
import Testing
import ArticleVault
import TestSupport
import VaultCrypto
import VaultFormat

/// Keyring entries carry typed ids and times (`KeyIdentifier`, `Timestamp`), parsed once when
/// the file is read. The keyring is authenticated byte for byte, so the committed keyrings must
/// still parse and open, and a rewrite of the same content must give the same bytes.
@Suite struct KeyringTypedFields {
    static let demo = Repository.url("keys/demo-keyring/keyring.avk").path
    static let demoPassphrase = Repository.url("keys/demo-passphrase.txt").path
    static let v1Fixture = Repository.url("Fixtures/keyring-v1/keyring.avk").path

    /// A private copy of the demo keyring and its passphrase file (modes 700 and 600).
    final class DemoCopy {
        let dir: URL
        var ring: String { dir.appendingPathComponent("ring").path }
        var file: String { ring + "/keyring.avk" }
        var passFile: String { dir.appendingPathComponent("pass").path }

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("avault-typed-" + UUID().uuidString)
            try FileManager.default.createDirectory(atPath: dir.appendingPathComponent("ring").path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            try FileManager.default.copyItem(atPath: KeyringTypedFields.demo, toPath: file)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
            try FileManager.default.copyItem(atPath: KeyringTypedFields.demoPassphrase, toPath: passFile)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: passFile)
        }

        deinit { try? FileManager.default.removeItem(at: dir) }

        func open() throws -> Keyring {
            try Keyring(directory: ring, passphrase: PassphraseSource(file: passFile, environmentVariable: "AVAULT_TYPED_TEST_UNSET", label: "test"))
        }

        var bytes: Data { get throws { try Data(contentsOf: URL(fileURLWithPath: file)) } }
    }

    @Test func theDemoKeyringParsesToTypedValuesAndSerialisesToItsOwnBytes() throws {
        let text = try String(contentsOfFile: Self.demo, encoding: .utf8)
        let file = try KeyringFile(parsing: text)
        #expect(file.serialized() == text)
        let byName = Dictionary(grouping: file.entries, by: \.name)
        let content = try #require(byName["demo-content"]?.first)
        #expect(content.id == .content(try #require(KeyID(hex: "34dda81fc44e46c8"))))
        #expect(content.created.text == "2026-11-27T12:36:14Z" && content.created.seconds == 1_795_782_974)
        #expect(content.retired == nil)
        let desk = try #require(byName["demo-desk"]?.first)
        #expect(desk.id == .minisign(try #require(Minisign.KeyID(printed: "2F2D13E212EF42E9"))))
        #expect(desk.minisignPublicKey?.keyID.printed == "2F2D13E212EF42E9")
        // A content kid and a minisign id are different things even when they print alike.
        #expect(KeyIdentifier("0123456789012345", kind: .content) != KeyIdentifier("0123456789012345", kind: .signing))
    }

    @Test func theVersion1FixtureKeepsEveryIdAndTimeAsWritten() throws {
        let text = try String(contentsOfFile: Self.v1Fixture, encoding: .utf8)
        let v1 = try KeyringFile(parsingVersion1: text)
        #expect(!v1.entries.isEmpty)
        let v2Lines = Set(KeyringFile(kdf: v1.kdf, entries: v1.entries).authenticatedText().split(separator: "\n").map(String.init))
        // Every key, created and status line of the version 1 file is written again unchanged.
        let kept = text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("key: ") || $0.hasPrefix("created: ") || $0.hasPrefix("status: ") }
        #expect(kept.count == 3 * v1.entries.count)
        for line in kept { #expect(v2Lines.contains(line), "\(line)") }
    }

    @Test func theDemoKeyringOpensAndARewriteOfTheSameContentGivesTheSameBytes() throws {
        let copy = try DemoCopy()
        let original = try copy.bytes
        let ring = try copy.open()
        #expect(try ring.authenticate())
        // A change and its undoing, each written with a fresh code over the file.
        try ring.update { (r: Keyring) throws(AvaultError) in try r.retire(name: "demo-legacy", version: 1, now: 1_800_000_000) }
        let retired = try String(decoding: copy.bytes, as: UTF8.self)
        #expect(retired.contains("key: aes128-cbc 0496d287e7cf792a demo-legacy 1\ncreated: 2026-11-27T12:36:14Z\nstatus: retired 2027-01-15T08:00:00Z\n"))
        let reread = try copy.open()
        #expect(try reread.authenticate())
        let entry = try #require(reread.versions(of: "demo-legacy").first)
        #expect(entry.retired == Timestamp(seconds: 1_800_000_000))
        try reread.update { (r: Keyring) throws(AvaultError) in try r.reinstate(name: "demo-legacy", version: 1) }
        #expect(try copy.bytes == original)
        #expect(try copy.open().authenticate())
    }

    /// A time written with an offset or a fraction (valid RFC 3339, not what avault writes) is
    /// kept as written, so the code over the file still matches after a rewrite.
    @Test func aTimeWrittenAnotherWayIsKeptAsWritten() throws {
        let key = SecretBytes(copying: [UInt8](repeating: 5, count: 32))
        let kid = SecuredField.keyID(for: key)
        let text = """
            avault-keyring v2
            kdf: none

            key: xchacha20poly1305 \(kid.hex) drafts 1
            created: 2026-11-27T13:00:00.25+01:00
            status: retired 2026-11-28t00:00:00z
            secret: plain \(Base64.encode(key))

            mac: none

            """
        let file = try KeyringFile(parsing: text)
        #expect(file.serialized() == text)
        let entry = try #require(file.entries.first)
        #expect(entry.created.seconds == 1_795_784_400 - 3_600 && entry.created.text == "2026-11-27T13:00:00.25+01:00")
        #expect(entry.retired?.seconds == 1_795_824_000)
        #expect(entry.id == .content(kid))
    }
}
