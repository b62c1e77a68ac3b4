import Foundation
import Testing
import VaultCrypto
import VaultFormat
@testable import ArticleVault

/// A vault to recipients cannot be swapped for a state made by someone who never held its data
/// key (recipients are public: anyone can wrap a key of their own to them), once the reader's
/// keyring has seen the vault (formats.md §8.7, "What pins the data key").
@Suite struct VaultRecipientsForgeryTests {
    @Test func aStateUnderAnotherDataKeyIsRefusedByAKeyringThatSawTheVault() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (vault, ring, recipient, location) = try Self.readersVault(in: dir)
        #expect(try vault.readIndex().map(\.id) == ["A"])

        // Mallory, who can write the directory but never held the data key, makes a state of her
        // own: the same id, recipients and log, a data key, naming key and index of hers.
        let config = vault.config
        let (forged, forgedKey, kid) = try Self.forgedConfig(config, recipient: recipient)
        let log = try #require(FileManager.default.contents(atPath: location + "/log"))
        let lastLine = try #require(String(decoding: log, as: UTF8.self).split(separator: "\n").last)
        let last = try VaultFiles.LogEntry(parsing: lastLine)
        let index = VaultFiles.Index(vaultID: config.vaultID, keyName: config.keyName, namingKid: kid,
                                     log: VaultFiles.Head(seq: last.seq, hash: VaultLog.hash(String(lastLine))), signedHead: nil)
        let sealedIndex = try Vault.seal(VaultFiles.indexJSON(index), key: forgedKey, kid: kid, ad: { forged.indexAssociatedData(kid: $0) })
        try Data(forged.text.utf8).write(to: URL(fileURLWithPath: location + "/config"))
        try Data(VaultFiles.indexText(sealedIndex).utf8).write(to: URL(fileURLWithPath: location + "/index"))

        // The reader's keyring saw the vault under the real data key: refused.
        let reopened = try Vault(storage: FileVaultStorage(directory: location), keyring: ring)
        do {
            _ = try reopened.readIndex()
            Issue.record("the forged state was accepted")
        } catch {
            guard case .tampered(let why, _) = error else { Issue.record("\(error)"); return }
            #expect(why.contains("data keys no longer hold key id") && why.contains("the vault was replaced"), "\(why)")
        }
    }

    /// A reader's vault to recipients, its keyring, and the recipient (the reader's own).
    private static func readersVault(in dir: URL) throws -> (vault: Vault, ring: Keyring, recipient: String, location: String) {
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir.path)
        let (ring, me) = try SealRecipientsTests.identityRing(in: dir)
        let recipient = AgeKeys.recipient(me)
        let location = dir.appendingPathComponent("vault").path
        let vault = try Vault.initialize(storage: FileVaultStorage(directory: location), keyring: ring, recipients: [recipient])
        let payload = dir.appendingPathComponent("p").path
        try Data("the real draft".utf8).write(to: URL(fileURLWithPath: payload))
        _ = try vault.put(id: "A", path: payload, contentType: nil, now: 0)
        return (vault, ring, recipient, location)
    }

    /// `config` with a data key and a naming key of Mallory's, wrapped to `recipient`: what anyone
    /// who knows the recipients can make.
    private static func forgedConfig(_ config: VaultFiles.Config, recipient: String) throws -> (VaultFiles.Config, SecretBytes, KeyID) {
        let key = SecretBytes.random(count: 32)
        let kid = SecuredField.keyID(for: key)
        var forged = config
        forged.namingKey = try SecretBytes.random(count: 32).withUnsafeBytes { raw in
            Result { () throws(AvaultError) in try Vault.seal(raw, key: key, kid: kid, ad: { config.namingKeyAssociatedData(kid: $0) }) }
        }.get()
        forged.dataKeys = try VaultRecipients.wrap([key], to: [recipient], vaultID: config.vaultID)
        return (forged, key, kid)
    }

    /// The second way in: a state of Mallory's under the vault's own id, whose log is a chain of
    /// her own (so the head the reader's keyring recorded is not in it) with an `accept-rollback`
    /// entry that names that head as forgotten. The log says the head was let go on purpose; the
    /// keyring's record of the data key that was current at that head says no.
    /// With `olderKeyring`, the keyring's head was recorded by an avault that did not record the
    /// data key: the head must then still be in the log.
    @Test(arguments: [false, true])
    func aForgedLogThatAcceptsARollbackDoesNotLetAnotherDataKeyIn(olderKeyring: Bool) throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (vault, ring, recipient, location) = try Self.readersVault(in: dir)
        if olderKeyring { try Self.forgetDataKeysAndPlaces(ring) }
        let seen = try #require(try ring.lastSeenHead(vaultID: vault.config.vaultID))
        #expect((seen.dataKey != nil) == !olderKeyring, "the keyring records the current data key with the head")

        let config = vault.config
        let (forged, forgedKey, kid) = try Self.forgedConfig(config, recipient: recipient)
        let time = Timestamp(seconds: 0)
        let first = VaultFiles.logLine(seq: 1, time: time, [("op", .string("init")), ("key", .string(config.keyName)), ("kid", .string(kid.hex)),
                                                            ("recipients", .array([.string(recipient)]))], prev: VaultFiles.genesisHash)
        let firstHead = VaultFiles.Head(seq: 1, hash: VaultLog.hash(first))
        let accept = VaultFiles.logLine(seq: Int(seen.seq) + 1, time: time, [
            ("op", .string("accept-rollback")),
            ("forgotten", .object([("seq", .number(Double(seen.seq))), ("hash", .string(seen.hash))])),
            ("index", .object([("seq", .number(1)), ("hash", .string(firstHead.hash))]))], prev: firstHead.hash)
        let index = VaultFiles.Index(vaultID: config.vaultID, keyName: config.keyName, namingKid: kid,
                                     log: VaultFiles.Head(seq: Int(seen.seq) + 1, hash: VaultLog.hash(accept)), signedHead: nil)
        let sealedIndex = try Vault.seal(VaultFiles.indexJSON(index), key: forgedKey, kid: kid, ad: { forged.indexAssociatedData(kid: $0) })
        try Data(forged.text.utf8).write(to: URL(fileURLWithPath: location + "/config"))
        try Data((first + "\n" + accept + "\n").utf8).write(to: URL(fileURLWithPath: location + "/log"))
        try Data(VaultFiles.indexText(sealedIndex).utf8).write(to: URL(fileURLWithPath: location + "/index"))
        try FileManager.default.removeItem(atPath: location + "/entries")

        let reopened = try Vault(storage: FileVaultStorage(directory: location), keyring: ring)
        do {
            _ = try reopened.readIndex()
            Issue.record("the forged state was accepted")
        } catch {
            guard case .tampered(let why, .rollback) = error else { Issue.record("\(error)"); return }
            #expect(why.contains(olderKeyring ? "the log no longer holds entry \(seen.seq), which this keyring saw"
                                              : "data keys no longer hold key id \(seen.dataKey?.prefix(16) ?? "")"), "\(why)")
        }
        // The reader's own --accept-rollback adopts it (a deliberate restore), and the keyring
        // then records the data key current now.
        reopened.acceptRollback = true
        #expect(try reopened.readIndex().isEmpty)
        let adopted = try #require(try ring.lastSeenHead(vaultID: config.vaultID))
        #expect(adopted.seq > seen.seq && adopted.dataKey == Vault.dataKeyDigest(forgedKey))
    }

    /// A keyring written by an older avault (heads without a data key, no `at:` lines) is read,
    /// and the next command that uses the vault records both.
    @Test func anOlderKeyringGainsTheDataKeyAndThePlaceOnFirstUse() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (vault, ring, _, location) = try Self.readersVault(in: dir)
        let file = ring.directory + "/keyring.avk"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try Self.forgetDataKeysAndPlaces(ring)
        let record = try ring.lastSeen(vaultID: vault.config.vaultID, location: vault.locationDigest)
        #expect(record.head != nil && record.head?.dataKey == nil && record.vaultAtLocation == nil && !record.placed)

        let again = try Vault(storage: FileVaultStorage(directory: location), keyring: ring)
        var sighted: [Vault.Sight] = []
        again.firstSight = { sighted.append($1) }
        #expect(try again.readIndex().map(\.id) == ["A"])
        #expect(sighted == [.unplaced])
        #expect(try String(contentsOfFile: file, encoding: .utf8) == text)

        // A keyring that records the data key but not the recipients (formats.md 4): read, the
        // whole log checked once, and the digest recorded.
        var noDigest = try KeyringFile(parsing: text)
        #expect(noDigest.vaultHeads.count == 1 && noDigest.vaultHeads[0].recipients != nil)
        noDigest.vaultHeads = noDigest.vaultHeads.map { var h = $0; h.recipients = nil; return h }
        try Data(noDigest.serialized().utf8).write(to: URL(fileURLWithPath: file))
        #expect(try Vault(storage: FileVaultStorage(directory: location), keyring: ring).readIndex().map(\.id) == ["A"])
        #expect(try String(contentsOfFile: file, encoding: .utf8) == text)
    }

    /// A vault to the reader and to another recipient, with one object; the reader's recipient
    /// and the other's.
    private static func sharedVault(in dir: URL) throws -> (vault: Vault, ring: Keyring, me: String, other: String, location: String) {
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir.path)
        let (ring, publicKey) = try SealRecipientsTests.identityRing(in: dir)
        let me = AgeKeys.recipient(publicKey), other = AgeKeys.recipient(try X25519.publicKey(of: X25519.generateSecret()))
        let location = dir.appendingPathComponent("vault").path
        let vault = try Vault.initialize(storage: FileVaultStorage(directory: location), keyring: ring, recipients: [me, other])
        let payload = dir.appendingPathComponent("p").path
        try Data("the real draft".utf8).write(to: URL(fileURLWithPath: payload))
        _ = try vault.put(id: "A", path: payload, contentType: nil, now: 0)
        return (vault, ring, me, other, location)
    }

    /// Appends a log line of `fields` that follows the last one, as anyone who can write the
    /// vault's directory can (the chain needs no key).
    private static func plant(_ fields: [(key: String, value: FieldValue)], in location: String) throws {
        let log = try String(contentsOfFile: location + "/log", encoding: .utf8)
        let last = try #require(log.split(separator: "\n").last)
        let entry = try VaultFiles.LogEntry(parsing: last)
        let line = VaultFiles.logLine(seq: entry.seq + 1, time: Timestamp(seconds: 0), fields, prev: VaultLog.hash(String(last)))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: location + "/log"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((line + "\n").utf8))
        try handle.close()
    }

    /// Found by the same review: a `recover` entry appended by someone without a key, declaring
    /// later entries unapplied ([n, 1000]). The next write declares it unapplied and chains it
    /// in; it used to count all the same, so a removal of a recipient after it counted as
    /// unapplied: `verify` refused the honest vault, and the config from before the removal,
    /// put back, was accepted. Only an applied `recover` entry counts, and only a range before it.
    @Test func aPlantedRecoverEntryUndoesNothing() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (vault, ring, me, other, location) = try Self.sharedVault(in: dir)
        let before = try Data(contentsOf: URL(fileURLWithPath: location + "/config"))
        let next = try #require(try VaultLog.read(FileVaultStorage(directory: location)).entries.last).seq + 2
        try Self.plant([("op", .string("recover")), ("temporary", .number(0)), ("removed", .array([])),
                        ("unapplied", .array([.number(Double(next)), .number(1000)]))], in: location)
        let payload = dir.appendingPathComponent("q").path
        try Data("another".utf8).write(to: URL(fileURLWithPath: payload))
        let writer = try Vault(storage: FileVaultStorage(directory: location), keyring: ring)
        _ = try writer.put(id: "B", path: payload, contentType: nil, now: 0)
        _ = try writer.changeRecipients(add: [], remove: [other], rotate: false)

        let check = try Vault(storage: FileVaultStorage(directory: location), keyring: ring).verify()
        #expect(check.missing.isEmpty && check.corrupt.isEmpty)
        #expect(try Vault(storage: FileVaultStorage(directory: location), keyring: ring).recipients() == [me])
        try before.write(to: URL(fileURLWithPath: location + "/config"))
        do {
            _ = try Vault(storage: FileVaultStorage(directory: location), keyring: ring).readIndex()
            Issue.record("the config from before the removal was accepted")
        } catch {
            guard case .tampered(let why, _) = error else { Issue.record("\(error)"); return }
            #expect(why.contains("the config's recipients are not those the log records"), "\(why)")
        }
    }

    /// Found by the same review: two keyrings saw a removal of a recipient. The vault's index and
    /// config are restored from before it (the log kept), and one keyring adopts that with
    /// `--accept-rollback`, which declares the removal unapplied: the log again records both
    /// recipients. Then the config from after the removal is put back. The other keyring, which
    /// read only the log after its head and took the recipients it had recorded there, accepted
    /// it; the whole log refuses it. A tail that declares the keyring's head unapplied is not
    /// enough: the whole log is read.
    @Test func aTailThatUndoesTheKeyringsHeadSendsTheCommandToTheWholeLog() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (vault, ring, _, other, location) = try Self.sharedVault(in: dir)
        let url = { (name: String) in URL(fileURLWithPath: location + "/" + name) }
        let (indexBefore, configBefore) = (try Data(contentsOf: url("index")), try Data(contentsOf: url("config")))
        _ = try vault.changeRecipients(add: [], remove: [other], rotate: false)
        let configAfter = try Data(contentsOf: url("config"))
        let otherRing = dir.appendingPathComponent("ring-b").path
        try FileManager.default.copyItem(atPath: ring.directory, toPath: otherRing)

        try indexBefore.write(to: url("index"))
        try configBefore.write(to: url("config"))
        let adopting = try Vault(storage: FileVaultStorage(directory: location), keyring: ring)
        adopting.acceptRollback = true
        #expect(try adopting.readIndex().map(\.id) == ["A"])

        try configAfter.write(to: url("config"))
        let b = try Keyring(directory: otherRing, passphrase: PassphraseSource(file: nil, environmentVariable: "AVAULT_TEST_UNSET", label: "test"))
        do {
            _ = try Vault(storage: FileVaultStorage(directory: location), keyring: b).readIndex()
            Issue.record("the config from after the undone removal was accepted")
        } catch {
            guard case .tampered(let why, _) = error else { Issue.record("\(error)"); return }
            #expect(why.contains("the config's recipients are not those the log records"), "\(why)")
        }
    }

    /// Rewrites `ring`'s file as an avault before data keys and places were recorded wrote it.
    private static func forgetDataKeysAndPlaces(_ ring: Keyring) throws {
        let file = ring.directory + "/keyring.avk"
        var older = try KeyringFile(parsing: try String(contentsOfFile: file, encoding: .utf8))
        older.vaultHeads = older.vaultHeads.map { var h = $0; h.dataKey = nil; return h }
        older.places = []
        try Data(older.serialized().utf8).write(to: URL(fileURLWithPath: file))
    }

    /// The first way in: another vault, with an id of its own, put where the reader's vault was.
    /// The keyring knows which vault it used at that location and refuses this one until told
    /// to forget it; then it is a vault never seen (named on first sight).
    @Test func anotherVaultAtAKnownLocationIsRefusedUntilForgotten() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (vault, ring, recipient, location) = try Self.readersVault(in: dir)
        let original = vault.config.vaultID
        // Reached by another spelling of the same path, it is the same location.
        let spelled = dir.path + "/./" + "/vault/"
        #expect(try Vault(storage: FileVaultStorage(directory: spelled), keyring: ring).readIndex().map(\.id) == ["A"])

        let (otherRing, mallory) = try SealRecipientsTests.identityRing(in: dir, name: "mallory")
        let placed = dir.appendingPathComponent("placed").path
        _ = try Vault.initialize(storage: FileVaultStorage(directory: placed), keyring: otherRing, recipients: [recipient, AgeKeys.recipient(mallory)])
        // Opened before the swap, the vault is checked again when it is read; opened after, it is
        // refused at once, by any spelling of the location.
        let openedBefore = try Vault(storage: FileVaultStorage(directory: location), keyring: ring)
        // (The directory stays: the vault opened before holds it open.)
        for name in try FileManager.default.contentsOfDirectory(atPath: location) { try FileManager.default.removeItem(atPath: location + "/" + name) }
        for name in try FileManager.default.contentsOfDirectory(atPath: placed) { try FileManager.default.moveItem(atPath: placed + "/" + name, toPath: location + "/" + name) }
        let isReplaced = { (error: AvaultError, path: String) -> Bool in
            guard case .vaultReplaced(let at, let known, let found) = error else { return false }
            return at == path && known == original && found != original
        }
        for path in [location, spelled] {
            #expect(performing: { _ = try Vault(storage: FileVaultStorage(directory: path), keyring: ring) },
                    throws: { (($0 as? AvaultError).map { isReplaced($0, path) } ?? false) })
        }
        var sighted: [(String, Vault.Sight)] = []
        openedBefore.firstSight = { sighted.append(($0, $1)) }
        #expect(performing: { _ = try openedBefore.readIndex() }, throws: { (($0 as? AvaultError).map { isReplaced($0, location) } ?? false) })
        #expect(sighted.isEmpty)

        #expect(try Vault.forget(storage: FileVaultStorage(directory: spelled), keyring: ring) == original)
        #expect(try Vault.forget(storage: FileVaultStorage(directory: location), keyring: ring) == nil)
        let accepted = try Vault(storage: FileVaultStorage(directory: location), keyring: ring)
        accepted.firstSight = { sighted.append(($0, $1)) }
        #expect(try accepted.readIndex().isEmpty)
        #expect(sighted.map(\.0) == [accepted.config.vaultID] && sighted.map(\.1) == [.new])
        // Moved, the vault is named again, as one this keyring has seen elsewhere.
        let moved = dir.appendingPathComponent("moved").path
        try FileManager.default.moveItem(atPath: location, toPath: moved)
        let elsewhere = try Vault(storage: FileVaultStorage(directory: moved), keyring: ring)
        elsewhere.firstSight = { sighted.append(($0, $1)) }
        #expect(try elsewhere.readIndex().isEmpty)
        #expect(sighted.map(\.1) == [.new, .elsewhere])
        // The old vault, found again elsewhere, is still known by its history.
        #expect(try ring.lastSeenHead(vaultID: original) != nil)
    }
}
