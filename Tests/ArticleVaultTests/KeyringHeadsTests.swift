import Foundation
import Testing
import ArticleVault
import VaultCrypto
import VaultFormat

/// The per-vault rollback memory of a keyring: `lastSeenHead` and `noteHead`, kept inside the
/// authenticated part of `keyring.avk`.
@Suite struct KeyringVaultHeads {
    static let vaultA = String(repeating: "a1", count: 16)
    static let vaultB = String(repeating: "b2", count: 16)
    static let hash1 = String(repeating: "11", count: 32)
    static let hash2 = String(repeating: "22", count: 32)

    /// A keyring directory (with one content key) and the passphrase file that opens it.
    final class Scene {
        let dir: URL
        let passFile: String
        var ringPath: String { dir.appendingPathComponent("ring").path }
        var file: String { ringPath + "/keyring.avk" }

        init(protected: Bool) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("avault-heads-" + UUID().uuidString)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            passFile = dir.appendingPathComponent("pass").path
            try Data("heads test passphrase\n".utf8).write(to: URL(fileURLWithPath: passFile))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: passFile)
            let ring = try open()
            let key = SecretBytes.random(count: 32)
            try ring.update { (r: Keyring) throws(AvaultError) in
                try r.add(name: "drafts", algorithm: .xchacha20poly1305, secret: key, id: .content(SecuredField.keyID(for: key)),
                          protected: protected, now: 0)
            }
        }

        deinit { try? FileManager.default.removeItem(at: dir) }

        /// A fresh keyring object, as another process would open it.
        func open() throws -> Keyring {
            try Keyring(directory: ringPath, passphrase: PassphraseSource(file: passFile, environmentVariable: "AVAULT_HEADS_TEST_UNSET", label: "test"))
        }

        var text: String { get throws { try String(contentsOfFile: file, encoding: .utf8) } }

        func write(_ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
    }

    static func isTampered(_ error: any Error) -> Bool {
        guard let e = error as? AvaultError, case .tampered = e else { return false }
        return e.message.contains("the keyring was modified outside avault")
    }

    @Test(arguments: [true, false])
    func headsPersistAndOnlyGoUp(protected: Bool) throws {
        let scene = try Scene(protected: protected)
        let ring = try scene.open()
        #expect(try ring.lastSeenHead(vaultID: Self.vaultA) == nil)
        try ring.noteHead(.init(seq: 5, hash: Self.hash1), vaultID: Self.vaultA)
        #expect(try ring.lastSeenHead(vaultID: Self.vaultA) == .init(seq: 5, hash: Self.hash1))

        // Another keyring object (another process) sees it, authenticated.
        let other = try scene.open()
        #expect(try other.lastSeenHead(vaultID: Self.vaultA) == .init(seq: 5, hash: Self.hash1))
        #expect(try other.lastSeenHead(vaultID: Self.vaultB) == nil)

        // Lower or equal: no-op, and the file is not rewritten.
        let before = try Data(contentsOf: URL(fileURLWithPath: scene.file))
        let inode = try FileManager.default.attributesOfItem(atPath: scene.file)[.systemFileNumber] as? Int
        try other.noteHead(.init(seq: 4, hash: Self.hash2), vaultID: Self.vaultA)
        try other.noteHead(.init(seq: 5, hash: Self.hash2), vaultID: Self.vaultA)
        #expect(try Data(contentsOf: URL(fileURLWithPath: scene.file)) == before)
        #expect(try FileManager.default.attributesOfItem(atPath: scene.file)[.systemFileNumber] as? Int == inode)
        #expect(try ring.lastSeenHead(vaultID: Self.vaultA) == .init(seq: 5, hash: Self.hash1))

        // Higher: recorded, seen by the first object too (heads are read afresh).
        try other.noteHead(.init(seq: 9, hash: Self.hash2), vaultID: Self.vaultA)
        try other.noteHead(.init(seq: UInt64.max, hash: Self.hash1), vaultID: Self.vaultB)
        #expect(try ring.lastSeenHead(vaultID: Self.vaultA) == .init(seq: 9, hash: Self.hash2))
        #expect(try ring.lastSeenHead(vaultID: Self.vaultB) == .init(seq: UInt64.max, hash: Self.hash1))
        let lines = try scene.text.split(separator: "\n")
        #expect(lines.contains("vault: \(Self.vaultA) 9 \(Self.hash2)"))
        #expect(lines.contains("vault: \(Self.vaultB) 18446744073709551615 \(Self.hash1)"))
        #expect(lines.last?.hasPrefix("mac: ") == true)
        #expect((lines.last == "mac: none") == !protected)
        // The key is still there and usable.
        #expect(try scene.open().current("drafts").version == 1)

        // Where the head is in the log goes with it; the same head with another anchor (or one
        // recorded without) takes the new anchor; a lower head does not, and none is lost.
        let anchor = KeyringFile.Anchor(line: 12, first: Self.hash1)
        try ring.noteHead(.init(seq: 9, hash: Self.hash2, anchor: anchor), vaultID: Self.vaultA)
        #expect(try scene.open().lastSeenHead(vaultID: Self.vaultA) == .init(seq: 9, hash: Self.hash2, anchor: anchor))
        #expect(try scene.text.split(separator: "\n").contains("vault: \(Self.vaultA) 9 \(Self.hash2) 12 \(Self.hash1)"))
        try ring.noteHead(.init(seq: 9, hash: Self.hash1, anchor: .init(line: 13, first: Self.hash1)), vaultID: Self.vaultA)
        try ring.noteHead(.init(seq: 8, hash: Self.hash2, anchor: .init(line: 11, first: Self.hash1)), vaultID: Self.vaultA)
        try ring.noteHead(.init(seq: 9, hash: Self.hash2), vaultID: Self.vaultA)
        #expect(try ring.lastSeenHead(vaultID: Self.vaultA) == .init(seq: 9, hash: Self.hash2, anchor: anchor))
        let moved = KeyringFile.Anchor(line: 10, first: Self.hash1)
        try ring.noteHead(.init(seq: 9, hash: Self.hash2, anchor: moved), vaultID: Self.vaultA)
        #expect(try ring.lastSeenHead(vaultID: Self.vaultA)?.anchor == moved)
        #expect(throws: AvaultError.self) {
            try ring.noteHead(.init(seq: 10, hash: Self.hash2, anchor: .init(line: 0, first: Self.hash1)), vaultID: Self.vaultA)
        }
        #expect(throws: AvaultError.self) {
            try ring.noteHead(.init(seq: 10, hash: Self.hash2, anchor: .init(line: 1, first: "11")), vaultID: Self.vaultA)
        }
        try ring.noteHead(.init(seq: 9, hash: Self.hash2), vaultID: Self.vaultA)

        // Malformed arguments are refused, not recorded.
        #expect(throws: AvaultError.self) { try ring.noteHead(.init(seq: 10, hash: Self.hash1), vaultID: Self.vaultA.uppercased()) }
        #expect(throws: AvaultError.self) { try ring.noteHead(.init(seq: 10, hash: String(Self.hash1.dropLast())), vaultID: Self.vaultA) }
        #expect(throws: AvaultError.self) { _ = try ring.lastSeenHead(vaultID: "a1") }
        #expect(try ring.lastSeenHead(vaultID: Self.vaultA)?.seq == 9)
    }

    /// A vault to recipients' data key goes with its head (and fills in a head recorded without
    /// one); the vault used at a location is replaced by the next one recorded there, and
    /// forgotten on request without losing the vault's head.
    @Test func dataKeysAndPlacesAreRecordedWithTheHeads() throws {
        let scene = try Scene(protected: false)
        let ring = try scene.open()
        let (here, there) = (Self.hash1, Self.hash2)
        try ring.noteHead(.init(seq: 4, hash: Self.hash1), vaultID: Self.vaultA, location: here)
        try ring.noteHead(.init(seq: 4, hash: Self.hash1, dataKey: Self.hash2), vaultID: Self.vaultA)
        #expect(try ring.lastSeen(vaultID: Self.vaultA, location: here) == .init(head: .init(seq: 4, hash: Self.hash1, dataKey: Self.hash2), vaultAtLocation: Self.vaultA, placed: true))
        // A lower head, the same head with another key, or another head of the same seq, changes
        // nothing; a higher one replaces the key.
        try ring.noteHead(.init(seq: 4, hash: Self.hash1, dataKey: Self.hash1), vaultID: Self.vaultA)
        try ring.noteHead(.init(seq: 3, hash: Self.hash1, dataKey: Self.hash1), vaultID: Self.vaultA)
        try ring.noteHead(.init(seq: 4, hash: Self.hash2, dataKey: Self.hash1), vaultID: Self.vaultA)
        #expect(try ring.lastSeenHead(vaultID: Self.vaultA)?.dataKey == Self.hash2)
        try ring.noteHead(.init(seq: 5, hash: Self.hash2, dataKey: Self.hash1), vaultID: Self.vaultA)
        #expect(try ring.lastSeenHead(vaultID: Self.vaultA) == .init(seq: 5, hash: Self.hash2, dataKey: Self.hash1))

        try ring.noteHead(.init(seq: 1, hash: Self.hash1), vaultID: Self.vaultB, location: there)
        try ring.noteHead(.init(seq: 2, hash: Self.hash1), vaultID: Self.vaultB, location: here)
        #expect(try ring.lastSeen(vaultID: Self.vaultA, location: here).vaultAtLocation == Self.vaultB)
        #expect(try ring.lastSeen(vaultID: Self.vaultA, location: there).vaultAtLocation == Self.vaultB)
        #expect(try ring.forgetPlace(location: here) == Self.vaultB)
        #expect(try ring.forgetPlace(location: here) == nil)
        #expect(try ring.lastSeen(vaultID: Self.vaultB, location: here) == .init(head: .init(seq: 2, hash: Self.hash1), vaultAtLocation: nil, placed: true))
        #expect(try ring.lastSeen(vaultID: Self.vaultA, location: here) == .init(head: .init(seq: 5, hash: Self.hash2, dataKey: Self.hash1), vaultAtLocation: nil, placed: false))
        #expect(try scene.text.split(separator: "\n").filter { $0.hasPrefix("at: ") } == ["at: \(there) \(Self.vaultB)"])
        #expect(throws: AvaultError.self) { try ring.noteHead(.init(seq: 9, hash: Self.hash1, dataKey: "ab"), vaultID: Self.vaultA) }
        #expect(throws: AvaultError.self) { try ring.noteHead(.init(seq: 9, hash: Self.hash1), vaultID: Self.vaultA, location: Self.vaultB) }
    }

    /// (what, edit of the file's text): each change to the heads' bytes.
    static let edits: [(String, @Sendable (String) -> String)] = [
        ("a head's line deleted", { $0.replacingOccurrences(of: "vault: \(vaultA) 9 \(hash2)\n", with: "") }),
        ("every head deleted", { $0.replacingOccurrences(of: "\nvault: \(vaultA) 9 \(hash2)\nvault: \(vaultB) 3 \(hash1)\n", with: "") }),
        ("a seq lowered", { $0.replacingOccurrences(of: "\(vaultA) 9 ", with: "\(vaultA) 8 ") }),
        ("a seq raised", { $0.replacingOccurrences(of: "\(vaultB) 3 ", with: "\(vaultB) 30 ") }),
        ("a hash changed", { $0.replacingOccurrences(of: "9 \(hash2)", with: "9 \(hash1)") }),
        ("a vault id changed", { $0.replacingOccurrences(of: "vault: \(vaultB)", with: "vault: \(String(repeating: "b3", count: 16))") }),
        ("an anchor added", { $0.replacingOccurrences(of: "vault: \(vaultA) 9 \(hash2)\n", with: "vault: \(vaultA) 9 \(hash2) 1 \(hash1)\n") }),
        ("a head added", { $0.replacingOccurrences(of: "vault: \(vaultB) 3 \(hash1)\n", with: "vault: \(vaultB) 3 \(hash1)\nvault: \(String(repeating: "c4", count: 16)) 1 \(hash1)\n") }),
        ("a data key added", { $0.replacingOccurrences(of: "vault: \(vaultA) 9 \(hash2)\n", with: "vault: \(vaultA) 9 \(hash2) \(hash1)\n") }),
        ("a place's vault changed", { $0.replacingOccurrences(of: "at: \(hash2) \(vaultB)\n", with: "at: \(hash2) \(vaultA)\n") }),
        ("a place deleted", { $0.replacingOccurrences(of: "\nat: \(hash2) \(vaultB)\n", with: "") }),
    ]

    @Test(arguments: 0..<edits.count)
    func editingTheHeadsIsDetected(index: Int) throws {
        let (what, edit) = Self.edits[index]
        let scene = try Scene(protected: true)
        let ring = try scene.open()
        try ring.noteHead(.init(seq: 9, hash: Self.hash2), vaultID: Self.vaultA)
        try ring.noteHead(.init(seq: 3, hash: Self.hash1), vaultID: Self.vaultB, location: Self.hash2)
        let original = try scene.text
        let edited = edit(original)
        #expect(edited != original, "\(what): the edit changed nothing")
        #expect((try? KeyringFile(parsing: edited)) != nil, "\(what): the edit must keep the file well-formed")
        try scene.write(edited)

        let fresh = try scene.open()
        #expect(performing: { _ = try fresh.lastSeenHead(vaultID: Self.vaultA) }, throws: { Self.isTampered($0) })
        // Recording a head verifies first, so it cannot launder the change; the file stays as edited.
        #expect(performing: { try fresh.noteHead(.init(seq: 100, hash: Self.hash1), vaultID: Self.vaultA) }, throws: { Self.isTampered($0) })
        #expect(try scene.text == edited)
        // Using any secret is refused as well.
        #expect(performing: { _ = try fresh.secret(of: fresh.current("drafts")) }, throws: { Self.isTampered($0) })
        // The object that read the file before the edit also reads afresh.
        #expect(performing: { _ = try ring.lastSeenHead(vaultID: Self.vaultB) }, throws: { Self.isTampered($0) })
    }

    @Test func theKeyringFileOnlyEndsWithItsCode() throws {
        // The code covers everything before the last line: the demo keyring verifies with the
        // demo passphrase, and one appended byte after the code is a parse error, not ignored.
        let scene = try Scene(protected: true)
        try scene.open().noteHead(.init(seq: 1, hash: Self.hash1), vaultID: Self.vaultA)
        let text = try scene.text
        try scene.write(text + "\n")
        #expect(throws: AvaultError.self) { _ = try scene.open() }
        try scene.write(text)
        #expect(try scene.open().lastSeenHead(vaultID: Self.vaultA)?.seq == 1)
    }
}
