import Foundation
import Testing
import VaultCrypto
import VaultFormat
@testable import ArticleVault
#if canImport(Glibc)
import Glibc
#endif

/// Index formats 3 and 4 (formats.md 8.3.1, 8.3.2) against an attacker who can write the vault's
/// files but holds no key: an old entry replayed, an entry deleted, an entry of another object
/// copied in, two swapped, the head rolled back or relabelled — each refused by `get` of every
/// object in the bucket it touches, by `list` and by `verify`. A `get` reads its own bucket only.
/// A put writes its own object's entry and the head, nothing else; a vault of format 2 or 3 is
/// migrated by its first write.
@Suite struct VaultEntriesAttackTests {
    static let now: Int64 = 1_780_000_000

    final class Scene {
        let dir: String
        let keyring: Keyring
        let vault: Vault
        var path: String { dir + "/vault" }
        var entries: String { path + "/entries" }

        init(objects: [String] = ["A", "B", "C"]) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("avault-entries-" + UUID().uuidString).path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            keyring = try Keyring(directory: dir + "/ring",
                                  passphrase: PassphraseSource(file: nil, environmentVariable: "AVAULT_ENTRIES_UNUSED", label: "unused"))
            try keyring.update { (r: Keyring) throws(AvaultError) -> Void in
                let secret = SecretBytes.random(count: 32)
                try r.add(name: "drafts", algorithm: .xchacha20poly1305, secret: secret, id: .content(SecuredField.keyID(for: secret)),
                          protected: false, now: VaultEntriesAttackTests.now)
            }
            vault = try Vault.initialize(storage: FileVaultStorage(directory: dir + "/vault"), keyring: keyring, keyName: "drafts")
            for id in objects { _ = try put(id, Array("\(id) first".utf8)) }
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }

        @discardableResult
        func put(_ id: String, _ payload: [UInt8]) throws -> Int {
            let file = dir + "/payload"
            try Data(payload).write(to: URL(fileURLWithPath: file))
            let fd = open(file, O_RDONLY)
            defer { close(fd) }
            return try reopen().put([Vault.Input(id: id, fd: fd, contentType: nil)], now: VaultEntriesAttackTests.now)[0].version
        }

        /// A fresh `Vault` over the same files (nothing cached).
        func reopen() throws -> Vault { try Vault(storage: FileVaultStorage(directory: path), keyring: keyring) }

        func read(_ id: String) throws -> [UInt8] {
            var out: [UInt8] = []
            _ = try reopen().get(id, version: nil) { (chunk: [UInt8]) throws(AvaultError) in out += chunk }
            return out
        }

        /// The entry file of `id` now (exactly one).
        func entryFile(_ id: String) throws -> String {
            let name = try vault.objectName(id)
            let files = try FileManager.default.contentsOfDirectory(atPath: entries).filter { $0.hasPrefix(name + ".") }
            try #require(files.count == 1, "\(id): \(files)")
            return files[0]
        }

        func bytes(_ file: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: entries + "/" + file)) }
        func write(_ file: String, _ data: Data) throws {
            try data.write(to: URL(fileURLWithPath: entries + "/" + file))
            chmod(entries + "/" + file, 0o600)
        }
        func remove(_ file: String) throws { try FileManager.default.removeItem(atPath: entries + "/" + file) }

        /// Whether `get` of `id` and `verify` both refuse the vault as altered, with `words` in the message.
        func refused(_ id: String, _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
            for (what, attempt) in [("get", { () throws in _ = try self.read(id) }), ("verify", { () throws in _ = try self.reopen().verify() })] {
                do {
                    try attempt()
                    Issue.record("\(what) accepted the altered vault", sourceLocation: sourceLocation)
                } catch let AvaultError.tampered(message, _) {
                    #expect(message.contains(words), "\(what): \(message)", sourceLocation: sourceLocation)
                } catch {
                    Issue.record("\(what): \(error)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test func anOldEntryReplayedInPlaceOfTheCurrentOneIsRefused() throws {
        let s = try Scene()
        let old = try s.entryFile("A")
        let oldBytes = try s.bytes(old)
        try s.put("A", Array("A second".utf8))
        let current = try s.entryFile("A")
        #expect(current != old)
        #expect(try s.read("A") == Array("A second".utf8))
        // Beside the current one, the old entry is not chosen; the next write removes it.
        try s.write(old, oldBytes)
        #expect(try s.read("A") == Array("A second".utf8))
        let check = try s.reopen().verify()
        #expect(check.ok && check.leftovers == ["entries/" + old], "\(check)")
        // In place of the current one (the current one deleted): the commitment differs.
        try s.remove(current)
        s.refused("A", "an entry was removed, added or replaced by an older one")
        // Under the current one's name: it does not authenticate (the name holds the write's seq).
        try s.remove(old)
        try s.write(current, oldBytes)
        s.refused("A", "does not authenticate")
    }

    /// An ID (of `candidates`, or made up) whose entry is in the same bucket as `id`'s, and one
    /// in another bucket.
    static func neighbours(of id: String, in s: Scene) throws -> (same: String, other: String) {
        let bucket = { (x: String) throws -> Int in VaultEntryCommitment.bucket(try s.vault.objectName(x)) }
        let b = try bucket(id)
        var same: String?, other: String?
        for i in 0..<20_000 where same == nil || other == nil {
            let x = "neighbour \(i)"
            if try bucket(x) == b { same = same ?? x } else { other = other ?? x }
        }
        return (try #require(same), try #require(other))
    }

    @Test func aDeletedEntryIsRefusedByEveryReaderOfItsBucket() throws {
        let s = try Scene()
        let (same, other) = try Self.neighbours(of: "B", in: s)
        try s.put(same, Array("same".utf8))
        try s.put(other, Array("other".utf8))
        try s.remove(try s.entryFile("B"))
        s.refused("B", "an entry was removed")
        s.refused(same, "an entry was removed")
        // A `get` in another bucket reads and checks only that bucket; listing reads them all.
        #expect(try s.read(other) == Array("other".utf8))
        #expect(try s.reopen().history(other).versions.count == 1)
        #expect(throws: AvaultError.self) { try s.reopen().readIndex() }
    }

    @Test func anAlteredEntryInAnotherBucketDoesNotStopAGetButStopsListAndVerify() throws {
        let s = try Scene()
        let (_, other) = try Self.neighbours(of: "A", in: s)
        try s.put(other, Array("other".utf8))
        let file = try s.entryFile(other)
        var bytes = try s.bytes(file)
        bytes[bytes.count - 5] ^= 1
        try s.write(file, bytes)
        #expect(try s.read("A") == Array("A first".utf8))
        #expect(try s.reopen().history("A").versions.count == 1)
        // Malformed or not authentic, depending on which byte the flip made.
        s.refused(other, "the index entry entries/\(file)")
        #expect(throws: AvaultError.self) { try s.reopen().readIndex() }
        // A put of one bucket after a write that finished reads only its bucket (formats.md 8.5):
        // it lands, and its head commits to the other bucket as the last head did, so the altered
        // entry still stops a get of it, list and verify.
        try s.put("A", Array("A second".utf8))
        #expect(try s.read("A") == Array("A second".utf8))
        s.refused(other, "the index entry entries/\(file)")
        #expect(throws: AvaultError.self) { try s.reopen().readIndex() }
        // After a write that did not finish, the next put reads every bucket and is refused.
        try FileManager.default.removeItem(atPath: s.path + "/finished")
        #expect(throws: AvaultError.self) { try s.put("A", Array("A third".utf8)) }
        #expect(try s.read("A") == Array("A second".utf8))
    }

    @Test func aHeadRelabelledAsTheOtherFormatDoesNotAuthenticate() throws {
        let s = try Scene()
        let index = s.path + "/index"
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: index)), as: UTF8.self)
        #expect(text.hasPrefix("avault-vault-index v4\n"))
        try Data(text.replacingOccurrences(of: "avault-vault-index v4\n", with: "avault-vault-index v3\n").utf8).write(to: URL(fileURLWithPath: index))
        try Self.indexDoesNotAuthenticate(s)
        // And a head of format 3 presented as format 4.
        try Data(text.utf8).write(to: URL(fileURLWithPath: index))
        try VaultIndexFormatThree.downgrade(s.path, keyring: s.keyring)
        let v3 = String(decoding: try Data(contentsOf: URL(fileURLWithPath: index)), as: UTF8.self)
        #expect(v3.hasPrefix("avault-vault-index v3\n"))
        try Data(v3.replacingOccurrences(of: "avault-vault-index v3\n", with: "avault-vault-index v4\n").utf8).write(to: URL(fileURLWithPath: index))
        try Self.indexDoesNotAuthenticate(s)
    }

    /// `get` is refused with the index's own message; `verify` reports the index corrupt.
    static func indexDoesNotAuthenticate(_ s: Scene, sourceLocation: SourceLocation = #_sourceLocation) throws {
        do {
            _ = try s.read("A")
            Issue.record("get accepted the altered index", sourceLocation: sourceLocation)
        } catch let AvaultError.tampered(message, _) {
            #expect(message.hasPrefix(Vault.indexAuthenticationFailure), "\(message)", sourceLocation: sourceLocation)
        }
        let check = try s.reopen().verify()
        #expect(!check.ok && check.corrupt == ["index"], "\(check)", sourceLocation: sourceLocation)
    }

    /// Readers take the log's lines in the writer's form without parsing their middle
    /// (`VaultLog.read(_:chained:)`): the chain to the sealed head vouches for them. So an
    /// edit that keeps the form is caught by the chain where it is read, and a line after the
    /// head (which nothing authenticates) is parsed strictly.
    @Test func logLinesReadQuicklyAreStillCheckedByTheChainOrStrictly() throws {
        let s = try Scene()
        let logPath = s.path + "/log"
        let original = String(decoding: try Data(contentsOf: URL(fileURLWithPath: logPath)), as: UTF8.self)
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.removeLast().isEmpty && lines.count == 4)  // init and three puts
        func write(_ lines: [String]) throws { try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: logPath)) }
        func refused(_ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                _ = try s.read("A")
                Issue.record("get accepted the altered log", sourceLocation: sourceLocation)
            } catch let AvaultError.tampered(message, _) {
                #expect(message.contains(words), "\(message)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(error)", sourceLocation: sourceLocation)
            }
        }
        // An edit inside an earlier line, in the writer's form: the next line's prev no longer matches.
        var edited = lines
        edited[1] = edited[1].replacingOccurrences(of: "\"version\":1", with: "\"version\":7")
        #expect(edited[1] != lines[1] && VaultFiles.LogEntry(chained: edited[1]) != nil)
        try write(edited)
        // (A reader whose keyring recorded the head, on line 4, checks the log from there on,
        // formats.md 8.6; the whole log is read by verify, and by a keyring without a record.)
        #expect(try s.read("A") == Array("A first".utf8))
        do {
            _ = try s.reopen().verify()
            Issue.record("verify accepted the altered log")
        } catch let AvaultError.tampered(message, _) {
            #expect(message.contains("entry 3 does not follow entry 2"), "\(message)")
        }
        // The same edit in the last line, the one the head names: the head's hash no longer matches.
        edited = lines
        edited[3] = edited[3].replacingOccurrences(of: "\"version\":1", with: "\"version\":7")
        try write(edited)
        refused("the log was rewritten")
        // A line after the head in the writer's form, chained correctly, with a middle that is not
        // JSON: parsed strictly, refused.
        let appended = VaultFiles.logLine(seq: 5, time: Timestamp(seconds: VaultEntriesAttackTests.now), [("op", .string("put")), ("object", .string("x"))],
                                          prev: VaultLog.hash(lines[3])).replacingOccurrences(of: "\"object\":\"x\"", with: "\"object\":x")
        #expect(VaultFiles.LogEntry(chained: appended) != nil)
        try write(lines + [appended])
        refused("the log was altered: entry 5 is malformed")
        try write(lines)
        #expect(try s.read("A") == Array("A first".utf8))
    }

    @Test func aVaultOfIndexFormatThreeIsReadWholeAndMigratedByItsFirstWrite() throws {
        let s = try Scene()
        let entriesBefore = Set(try FileManager.default.contentsOfDirectory(atPath: s.entries))
        try VaultIndexFormatThree.downgrade(s.path, keyring: s.keyring)
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: s.path + "/index")), as: UTF8.self).hasPrefix("avault-vault-index v3\n"))
        #expect(try s.read("A") == Array("A first".utf8))
        #expect(try s.reopen().verify().ok)
        // Format 3 commits to the whole set only: a deleted entry in any bucket stops every get.
        let bBytes = try s.bytes(try s.entryFile("B"))
        let bFile = try s.entryFile("B")
        try s.remove(bFile)
        s.refused("A", "an entry was removed")
        try s.write(bFile, bBytes)
        // The first write migrates: the same entries under a head of format 4.
        try s.put("D", Array("D".utf8))
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: s.path + "/index")), as: UTF8.self).hasPrefix("avault-vault-index v4\n"))
        let entriesAfter = Set(try FileManager.default.contentsOfDirectory(atPath: s.entries))
        #expect(entriesAfter.subtracting(entriesBefore) == [try s.entryFile("D")], "\(entriesAfter)")
        let log = String(decoding: try Data(contentsOf: URL(fileURLWithPath: s.path + "/log")), as: UTF8.self)
        #expect(log.contains(#""op":"migrate","from":3,"to":4,"#), "\(log)")
        for (id, payload) in [("A", "A first"), ("B", "B first"), ("C", "C first"), ("D", "D")] { #expect(try s.read(id) == Array(payload.utf8)) }
        let check = try s.reopen().verify()
        #expect(check.ok && check.leftovers.isEmpty, "\(check)")
    }

    @Test func anEntryOfAnotherObjectCopiedInOrTwoSwappedAreRefused() throws {
        let s = try Scene()
        let (a, b) = (try s.entryFile("A"), try s.entryFile("B"))
        let (aBytes, bBytes) = (try s.bytes(a), try s.bytes(b))
        // B's entry under A's name (and A's seq): the associated data names the object.
        try s.write(a, bBytes)
        s.refused("A", "does not authenticate")
        // Swapped.
        try s.write(b, aBytes)
        s.refused("B", "does not authenticate")
        // B's entry file copied beside A's, under A's object name and B's seq.
        try s.write(a, aBytes)
        try s.write(b, bBytes)
        let bSeq = try #require(VaultFiles.parseEntryFileName(b)).seq
        let aName = try #require(VaultFiles.parseEntryFileName(a)).name
        if bSeq > (try #require(VaultFiles.parseEntryFileName(a)).seq) {
            try s.write(VaultFiles.entryFileName(name: aName, seq: bSeq), bBytes)
            s.refused("A", "does not authenticate")
        }
    }

    @Test func aHeadRolledBackIsRefusedWithOrWithoutItsEntries() throws {
        let s = try Scene()
        let oldHead = try Data(contentsOf: URL(fileURLWithPath: s.path + "/index"))
        let oldA = try s.entryFile("A")
        let oldABytes = try s.bytes(oldA)
        try s.put("A", Array("A second".utf8))
        // The old head beside the new entries: the keyring has seen a newer head.
        try oldHead.write(to: URL(fileURLWithPath: s.path + "/index"))
        s.refused("A", "rolled back")
        // The old head with the old entry too (a consistent older state): still rolled back.
        try s.remove(try s.entryFile("A"))
        try s.write(oldA, oldABytes)
        s.refused("A", "rolled back")
    }

    @Test func anEntryAboveTheHeadIsALeftoverThatTheNextWriteToItsBucketRemoves() throws {
        let s = try Scene()
        let name = try s.vault.objectName("A")
        let stray = VaultFiles.entryFileName(name: name, seq: 999)
        try s.write(stray, Data("avault-vault-entry v1\ngarbage\n".utf8))
        try s.write(".avault-tmp-00000000000000aa", Data("half".utf8))
        #expect(try s.read("A") == Array("A first".utf8))
        let check = try s.reopen().verify()
        #expect(check.ok && Set(check.leftovers) == ["entries/" + stray, "entries/.avault-tmp-00000000000000aa"], "\(check)")
        // A put to another bucket after a write that finished reads only its own (formats.md 8.5)
        // and leaves them; one to the leftover's bucket finds it and recovers in full.
        let (_, other) = try Self.neighbours(of: "A", in: s)
        try s.put(other, Array("other".utf8))
        #expect(Set(try s.reopen().verify().leftovers) == ["entries/" + stray, "entries/.avault-tmp-00000000000000aa"])
        try s.put("A", Array("A second".utf8))
        let files = try FileManager.default.contentsOfDirectory(atPath: s.entries)
        #expect(!files.contains(stray) && !files.contains(".avault-tmp-00000000000000aa") && files.count == 4, "\(files)")
        #expect(try s.reopen().verify().leftovers.isEmpty)
    }

    @Test func aPutWritesOnlyItsOwnEntryAndTheHead() throws {
        let s = try Scene(objects: (0..<40).map { "object \($0)" })
        func snapshot() throws -> [String: Data] {
            var out: [String: Data] = [:]
            for f in try FileManager.default.contentsOfDirectory(atPath: s.entries) { out[f] = try s.bytes(f) }
            return out
        }
        let before = try snapshot()
        let head = try Data(contentsOf: URL(fileURLWithPath: s.path + "/index"))
        let target = try s.entryFile("object 17")
        try s.put("object 17", Array("again".utf8))
        let after = try snapshot()
        let changed = Set(before.keys).symmetricDifference(after.keys)
        #expect(changed == [target, try s.entryFile("object 17")], "\(changed)")
        for (file, bytes) in before where file != target { #expect(after[file] == bytes, "\(file) was rewritten") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: s.path + "/index")) != head)
        #expect(try s.read("object 17") == Array("again".utf8))
        #expect(try s.read("object 3") == Array("object 3 first".utf8))
    }

    @Test func aVaultOfIndexFormatTwoIsReadAndMigratedByItsFirstWrite() throws {
        let s = try Scene()
        try s.put("C", Array("C second".utf8))
        try s.reopen().purge("C")
        try VaultIndexFormatTwo.downgrade(s.path, keyring: s.keyring)
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: s.path + "/index")), as: UTF8.self).hasPrefix("avault-vault-index v2\n"))
        #expect(!FileManager.default.fileExists(atPath: s.entries))
        #expect(try s.read("A") == Array("A first".utf8))
        #expect(try s.reopen().verify().ok)
        // The first write migrates: a head, one entry per name (C's keeps its highest version).
        #expect(try s.put("C", Array("C again".utf8)) == 3)
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: s.path + "/index")), as: UTF8.self).hasPrefix("avault-vault-index v4\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.entries).count == 3)
        let log = String(decoding: try Data(contentsOf: URL(fileURLWithPath: s.path + "/log")), as: UTF8.self)
        #expect(log.contains(#""op":"migrate","from":2,"to":4,"entries":3,"#), "\(log)")
        for (id, payload) in [("A", "A first"), ("B", "B first"), ("C", "C again")] { #expect(try s.read(id) == Array(payload.utf8)) }
        let check = try s.reopen().verify()
        #expect(check.ok && check.leftovers.isEmpty, "\(check)")
        let keys = try s.reopen().keysInUse()
        #expect(keys.files.values.joined().filter { $0.hasPrefix("entries/") }.count == 3)
    }
}
