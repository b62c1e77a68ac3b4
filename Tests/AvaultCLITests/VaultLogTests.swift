import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// rm and purge, the hash-chained log, its signed heads, and what `log --verify` catches.
@Suite struct VaultLogTests {
    static func entries(_ f: VaultFixture) throws -> [[String: Any]] {
        let r = try f.avault(["vault", "log", "--json"])
        #expect(r.code == 0, "\(r.err)")
        return r.out.split(separator: "\n").map { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) ?? [:] }
    }

    static func logLines(_ f: VaultFixture) throws -> [String] {
        String(decoding: try f.readLog(), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    static func writeLog(_ f: VaultFixture, _ lines: [String]) throws {
        try f.writeLog(Data(lines.joined(separator: "\n").utf8))
    }

    @Test func rmKeepsHistoryPurgeNeedsForceAndEveryOperationIsLogged() throws {
        let f = try VaultFixture()
        try f.put("keep", Data("k1".utf8))
        try f.put("gone", Data("g1".utf8))
        try f.put("gone", Data("g2".utf8))
        try f.put("purged", Data("p1".utf8))
        try f.put("purged", Data("p2".utf8))

        let rm = try f.avault(["vault", "rm", "gone"])
        #expect(rm.code == 0 && rm.out == "removed gone (history kept)\n", "\(rm.err)")
        let refused = try f.get("gone")
        #expect(refused.code == 2)
        #expect(refused.err.contains("'gone' was removed on "), "\(refused.err)")
        #expect(refused.err.contains("hint: its history is kept: avault vault get --version N -- gone\n"), "\(refused.err)")
        #expect(try f.get("gone", version: 1).out == "g1")
        #expect(try f.get("gone", version: 2).out == "g2")
        #expect((try f.json(["vault", "history", "gone"])["versions"] as? [Any])?.count == 2)
        let again = try f.avault(["vault", "rm", "gone"])
        #expect(again.code == 2 && again.err.contains("already removed"), "\(again.err)")
        #expect(try f.avault(["vault", "rm", "never-was"]).code == 2)
        // A new put brings it back.
        #expect(try f.put("gone", Data("g3".utf8)) == 3)
        #expect(try f.get("gone").out == "g3")
        let revived = try #require(try f.json(["vault", "list"])["objects"] as? [[String: Any]]).first { $0["id"] as? String == "gone" }
        #expect(revived?["removed"] is NSNull)

        let before = try f.envelopeFiles().envelopes
        let noForce = try f.avault(["vault", "purge", "purged"])
        #expect(noForce.code == 64, "\(noForce.code) \(noForce.err)")
        #expect(noForce.err.contains("--force"), "\(noForce.err)")
        #expect(try f.envelopeFiles().envelopes == before, "purge without --force changed nothing")
        let purge = try f.avault(["vault", "purge", "purged", "--force"])
        #expect(purge.code == 0 && purge.out == "purged purged\n", "\(purge.err)")
        let after = try f.envelopeFiles().envelopes
        #expect(Set(before).subtracting(after).count == 2, "both envelopes deleted")
        #expect(Set(after).isSubset(of: Set(before)))
        #expect(try f.get("purged").code == 2)
        #expect(try f.get("purged", version: 1).code == 2)
        #expect(try f.avault(["vault", "history", "purged"]).code == 2)
        #expect(try f.verify().code == 0, "no missing files after a purge")

        #expect(try f.avault(["keys", "rotate", "drafts"]).code == 0)
        #expect(try f.avault(["vault", "rewrap"]).code == 0)

        let log = try Self.entries(f)
        #expect(log.map { $0["op"] as? String ?? "?" } == ["init", "put", "put", "put", "put", "put", "rm", "put", "purge", "rewrap"])
        #expect(log.map { $0["seq"] as? Int ?? 0 } == Array(1...10))
        #expect(log.first?["prev"] as? String == String(repeating: "0", count: 64))
        for e in log {
            let prev = try #require(e["prev"] as? String)
            #expect(prev.count == 64 && prev.allSatisfy(\.isHexDigit))
            #expect((e["time"] as? String)?.hasSuffix("Z") == true)
            if let object = e["object"] as? String { #expect(object.count == 32 && object.allSatisfy(\.isHexDigit), "\(object)") }
        }
        let purgeEntry = log[8]
        #expect(purgeEntry["versions"] as? Int == 2)
        #expect(log[1]["version"] as? Int == 1 && log[1]["size"] as? Int == 2)
        let raw = String(decoding: try vaultRead(f.vault + "/log"), as: UTF8.self)
        for id in ["keep", "gone", "purged"] { #expect(!raw.contains("\"\(id)\""), "the log names \(id)") }

        let text = try f.avault(["vault", "log"])
        #expect(text.code == 0)
        #expect(text.out.hasPrefix("#1  "), "\(text.out)")
        #expect(text.out.contains("  purge  "), "\(text.out)")
        let v = try f.avault(["vault", "log", "--verify"])
        #expect(v.code == 0, "\(v.out)")
        #expect(v.out.hasPrefix("10 entries, 0 signed heads\n"), "\(v.out)")
        #expect(v.out.contains("note: entries 1–10 are after the last signed head"), "\(v.out)")
    }

    /// A vault with a log of 8 entries.
    static func logScene(_ store: VaultStore = .files) throws -> VaultFixture {
        let f = try VaultFixture(store: store)
        for i in 0..<7 { try f.put("doc\(i % 3)", Data("payload \(i)".utf8)) }
        #expect(try Self.logLines(f).count == 9, "8 lines and the final newline")
        return f
    }

    @Test(arguments: VaultStore.allCases)
    func editedRemovedAndReorderedEntriesAreDetected(store: VaultStore) throws {
        let f = try Self.logScene(store)
        #expect(try f.avault(["keys", "generate", "logsigner", "--signing", "--unprotected"]).code == 0)
        let original = try Self.logLines(f)
        let n = original.count - 1 // the last element is the empty string after the final newline
        func expectBroken(_ what: String, _ lines: [String], _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            try Self.writeLog(f, lines)
            let r = try f.avault(["vault", "log", "--verify"])
            #expect(r.code == 1, "\(what): exit \(r.code): \(r.out) \(r.err)", sourceLocation: sourceLocation)
            #expect(r.out.contains("problem: ") && r.out.contains(message), "\(what): \(r.out)", sourceLocation: sourceLocation)
            // Nor is its head signed, with --verify or without (a review found it signed, exit 0).
            for args in [["vault", "log", "--sign", "logsigner"], ["vault", "log", "--verify", "--sign", "logsigner"]] {
                let s = try f.avault(args)
                #expect(s.code == 1 && !s.out.contains("signed the log head"), "\(what): \(args): \(s.code) \(s.out) \(s.err)", sourceLocation: sourceLocation)
            }
            #expect(try f.signedHeadCount() == 0, "\(what): a head was signed", sourceLocation: sourceLocation)
            try Self.writeLog(f, original)
        }
        // Edit each entry but the last (whose edit only a signed head can reveal; see below).
        for k in 0..<(n - 1) {
            var lines = original
            lines[k] = lines[k].replacingOccurrences(of: "\"time\":\"2", with: "\"time\":\"1")
            #expect(lines[k] != original[k])
            try expectBroken("entry \(k + 1) edited", lines, "entry \(k + 2) does not follow entry \(k + 1)")
            var op = original
            op[k] = op[k].replacingOccurrences(of: "\"op\":\"put\"", with: "\"op\":\"rm\"").replacingOccurrences(of: "\"op\":\"init\"", with: "\"op\":\"put\"")
            try expectBroken("entry \(k + 1)'s op edited", op, "entry \(k + 2) does not follow entry \(k + 1)")
        }
        var deleted = original
        deleted.remove(at: 3)
        try expectBroken("entry 4 deleted", deleted, "entry 4 has sequence number 5")
        var swapped = original
        swapped.swapAt(2, 5)
        try expectBroken("entries 3 and 6 swapped", swapped, "entry 3 has sequence number 6")
        var first = original
        first.removeFirst()
        try expectBroken("entry 1 deleted", first, "entry 1 has sequence number 2")
        var renumbered = original
        renumbered.remove(at: 3)
        for k in 3..<(n - 1) { renumbered[k] = renumbered[k].replacingOccurrences(of: "{\"seq\":\(k + 2),", with: "{\"seq\":\(k + 1),") }
        try expectBroken("entry 4 deleted and the rest renumbered", renumbered, "does not follow")
        var garbage = original
        garbage[4] = "not json"
        try expectBroken("entry 5 replaced by garbage", garbage, "entry 5 is malformed")
        var inserted = original
        inserted.insert(original[2], at: 3)
        try expectBroken("entry 3 duplicated", inserted, "entry 4 has sequence number 3")

        // Without a signed head, cutting the tail or editing the last entry still shows: the
        // sealed index binds the last entry it was written with.
        var cut = original
        cut.removeSubrange((n - 2)..<n)
        try Self.writeLog(f, cut)
        var r = try f.avault(["vault", "log", "--verify"])
        #expect(r.code == 1, "\(r.out)")
        #expect(r.out.contains("problem: the log was cut: the index was written at entry \(n), the log has \(n - 2) entries"), "\(r.out)")
        var last = original
        last[n - 1] = last[n - 1].replacingOccurrences(of: "\"time\":\"2", with: "\"time\":\"1")
        try Self.writeLog(f, last)
        r = try f.avault(["vault", "log", "--verify"])
        #expect(r.code == 1, "\(r.out)")
        #expect(r.out.contains("problem: entry \(n) of the log is not the one the index was written with"), "\(r.out)")
        try Self.writeLog(f, original)
        r = try f.avault(["vault", "log", "--verify"])
        #expect(r.code == 0, "\(r.out)")
        #expect(r.out.contains("note: entries 1–\(n) are after the last signed head: only the index and the keyring's record protect them"), "\(r.out)")
    }

    /// A head signed by a key the keyring's trust store revoked counts for no later check
    /// (`log --verify` reports it), so it is not signed: before, `--sign` signed it, exit 0.
    @Test func aKeyTheTrustStoreRevokedSignsNoHead() throws {
        let f = try Self.logScene()
        #expect(try f.avault(["keys", "generate", "logsigner", "--signing", "--unprotected"]).code == 0)
        #expect(try f.avault(["keys", "export-public", "logsigner", "-o", f.dir.appendingPathComponent("logsigner.pub").path]).code == 0)
        #expect(try f.avault(["keys", "trust", "add", f.dir.appendingPathComponent("logsigner.pub").path, "--name", "log desk"]).code == 0)
        let listed = try f.avault(["keys", "trust", "list", "--json"])
        let keyID = try #require(listed.out.firstMatch(of: /"keyId":"([0-9A-F]{16})"/)?.1)
        #expect(try f.avault(["vault", "log", "--sign", "logsigner"]).code == 0)
        #expect(try f.avault(["keys", "trust", "revoke", String(keyID), "--reason", "laptop stolen"]).code == 0)
        for args in [["vault", "log", "--sign", "logsigner"], ["vault", "log", "--verify", "--sign", "logsigner"]] {
            let r = try f.avault(args)
            #expect(r.code == (args.contains("--verify") ? 1 : 2), "\(args): \(r.code) \(r.out) \(r.err)")
            if !args.contains("--verify") {
                #expect(r.err.hasPrefix("avault: key \(keyID) was revoked in the trust store on ") && r.err.contains("(laptop stolen): a head it signed would not count"), "\(r.err)")
            }
            #expect(!r.out.contains("signed the log head"), "\(args): \(r.out)")
        }
        #expect(try f.signedHeadCount() == 1, "only the head signed before the revocation")
    }

    /// A keyring key the trust store also holds keeps the store's validity window: a head it
    /// signed outside the window does not count, and none is signed outside it (before, the
    /// keyring's path skipped the window).
    @Test func aKeyringKeyInTheTrustStoreKeepsItsWindow() throws {
        let f = try Self.logScene()
        #expect(try f.avault(["keys", "generate", "logsigner", "--signing", "--unprotected"]).code == 0)
        let pub = f.dir.appendingPathComponent("logsigner.pub").path
        #expect(try f.avault(["keys", "export-public", "logsigner", "-o", pub]).code == 0)
        #expect(try f.avault(["keys", "trust", "add", pub, "--name", "log desk"]).code == 0)
        #expect(try f.avault(["vault", "log", "--sign", "logsigner"]).code == 0)
        #expect(try f.avault(["vault", "log", "--verify"]).code == 0)
        let keyID = try #require(try f.avault(["keys", "trust", "list", "--json"]).out.firstMatch(of: /"keyId":"([0-9A-F]{16})"/)?.1)
        #expect(try f.avault(["keys", "trust", "remove", String(keyID)]).code == 0)
        #expect(try f.avault(["keys", "trust", "add", pub, "--name", "log desk", "--not-after", "2020-01-01T00:00:00Z"]).code == 0)
        let l = try f.avault(["vault", "log", "--verify"])
        #expect(l.code == 1 && l.out.contains("problem: the head signed at entry 8 does not count: signed at ")
                && l.out.contains("after key \(keyID) expired (2020-01-01T00:00:00Z)"), "\(l.out)")
        let s = try f.avault(["vault", "log", "--sign", "logsigner"])
        #expect(s.code == 2 && s.err.contains("the trust store trusts key \(keyID) only for a period that does not include now (expired 2020-01-01T00:00:00Z)"),
                "\(s.code) \(s.err)")
        #expect(try f.signedHeadCount() == 1)
    }

    /// Found by a review: the store's window followed the key id, while its revocation follows
    /// the public key. The store holding the keyring key's public key under another id, with a
    /// window that is over, let `--sign` sign and `--verify` count the head.
    @Test func aWindowOnTheKeyringKeysPublicKeyUnderAnotherIDApplies() throws {
        let f = try Self.logScene()
        #expect(try f.avault(["keys", "generate", "logsigner", "--signing", "--unprotected"]).code == 0)
        let pub = f.dir.appendingPathComponent("logsigner.pub").path
        #expect(try f.avault(["keys", "export-public", "logsigner", "-o", pub]).code == 0)
        #expect(try f.avault(["vault", "log", "--sign", "logsigner"]).code == 0)
        #expect(try f.avault(["vault", "log", "--verify"]).code == 0)
        // The same public key under another id: "Ed", the 8-byte id, the 32-byte key.
        let lines = try String(contentsOfFile: pub, encoding: .utf8).split(separator: "\n")
        var raw = try #require(Data(base64Encoded: String(lines[1])))
        raw[2] ^= 0xFF
        let other = f.dir.appendingPathComponent("other-id.pub").path
        try (lines[0] + "\n" + raw.base64EncodedString() + "\n").write(toFile: other, atomically: true, encoding: .utf8)
        #expect(try f.avault(["keys", "trust", "add", other, "--name", "log desk", "--not-after", "2020-01-01T00:00:00Z"]).code == 0)
        let otherID = try #require(try f.avault(["keys", "trust", "list", "--json"]).out.firstMatch(of: /"keyId":"([0-9A-F]{16})"/)?.1)
        let l = try f.avault(["vault", "log", "--verify"])
        #expect(l.code == 1 && l.out.contains("problem: the head signed at entry 8 does not count: signed at ")
                && l.out.contains("(its public key, as key \(otherID)) expired (2020-01-01T00:00:00Z)"), "\(l.out)")
        let s = try f.avault(["vault", "log", "--sign", "logsigner"])
        #expect(s.code == 2 && s.err.contains("only for a period that does not include now (expired 2020-01-01T00:00:00Z, as key \(otherID))"),
                "\(s.code) \(s.err)")
        #expect(try f.signedHeadCount() == 1)
    }

    /// A command checks the log from the head its keyring recorded on (formats.md 8.6): the
    /// keyring records the line that head is on and the hash of the first line; the lines
    /// between are not read again — an edit there is found by `vault verify`, `log --verify`
    /// and a keyring without a record, not by a `get` — and anything that does not match the
    /// record (the first line, the head's line, the line recorded) sends the command to the
    /// whole log, which reports what it finds as before.
    @Test(arguments: VaultStore.allCases)
    func aCommandChecksTheLogFromItsKeyringsHeadOn(store: VaultStore) throws {
        let f = try VaultFixture(store: store, initialize: false)
        #expect(try f.avault(["keys", "generate", "drafts", "--secret", "--unprotected"]).code == 0)
        let neverSaw = try PostgresOperationsTests.copyKeyring(f, "ring-never-saw")
        #expect(try f.avault(["vault", "init", "--key", "drafts"]).code == 0)
        for i in 1...5 { try f.put("doc\(i)", Data("draft \(i)\n".utf8)) }
        let original = try Self.logLines(f)
        #expect(original.count == 7 && original.last == "", "init, five puts, the final newline")
        let ringFile = f.ring + "/keyring.avk"
        func record() throws -> [Substring] {
            let line = try #require(try String(contentsOfFile: ringFile, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("vault: ") })
            return line.split(separator: " ")
        }
        func prev(_ line: String) throws -> String {
            try #require((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["prev"] as? String)
        }
        // The record: vault id, seq 6, the head's hash, its line (6), the first line's hash (the
        // second line's prev).
        var words = try record()
        #expect(words.count == 6 && words[2] == "6" && words[4] == "6", "\(words)")
        #expect(String(words[5]) == (try prev(original[1])))
        func get(_ id: String, ring: String? = nil) throws -> CLI.Result {
            try f.avault(["vault", "get", id], env: ring.map { ["AVAULT_KEYRING": $0] } ?? [:])
        }

        // A record whose line is wrong, or a record without one (an older avault's): the whole
        // log is read and checked, and the record corrected.
        let ringText = try String(contentsOfFile: ringFile, encoding: .utf8)
        let recorded = words.joined(separator: " ")
        for edited in [recorded.replacingOccurrences(of: " 6 \(words[5])", with: " 3 \(words[5])"),
                       recorded.replacingOccurrences(of: " 6 \(words[5])", with: " 600 \(words[5])"),
                       words.prefix(4).joined(separator: " ")] {
            try vaultOverwrite(ringFile, with: Data(ringText.replacingOccurrences(of: recorded, with: edited).utf8))
            let g = try get("doc2")
            #expect(g.code == 0 && g.out == "draft 2\n", "\(edited): \(g.code) \(g.err)")
            #expect(try record().joined(separator: " ") == recorded, "\(edited)")
        }

        // An edit between the first line and the head's: not read by a command whose keyring
        // recorded the head; found wherever the whole log is read.
        var edited = original
        edited[2] = edited[2].replacingOccurrences(of: "\"time\":\"2", with: "\"time\":\"1")
        #expect(edited[2] != original[2])
        try Self.writeLog(f, edited)
        #expect(try get("doc5").out == "draft 5\n")
        let verify = try f.avault(["vault", "verify"])
        #expect(verify.code == 1 && verify.err.contains("entry 4 does not follow entry 3"), "\(verify.code) \(verify.err)")
        let log = try f.avault(["vault", "log", "--verify"])
        #expect(log.code == 1 && log.out.contains("entry 4 does not follow entry 3"), "\(log.out)")
        let fresh = try get("doc5", ring: neverSaw)
        #expect(fresh.code == 1 && fresh.err.contains("the log was altered: entry 4 does not follow entry 3"), "\(fresh.code) \(fresh.err)")
        // A put goes on from the head, and the record follows it to line 7.
        #expect(try f.put("doc6", Data("draft 6\n".utf8)) == 1)
        words = try record()
        #expect(words[2] == "7" && words[4] == "7", "\(words)")
        #expect(try get("doc6").out == "draft 6\n")

        // With the earlier line as it was: the first line, the head's line, a line after the
        // head are refused as before.
        edited = try Self.logLines(f)
        edited[2] = original[2]
        try Self.writeLog(f, edited)
        #expect(try f.avault(["vault", "verify"]).code == 0)
        for (line, message) in [(0, "entry 2 does not follow entry 1"), (6, "entry 7 of the log is not the one the index was written with")] {
            var changed = edited
            changed[line] = changed[line].replacingOccurrences(of: "\"time\":\"2", with: "\"time\":\"3")
            #expect(changed[line] != edited[line])
            try Self.writeLog(f, changed)
            let g = try get("doc6")
            #expect(g.code == 1 && g.err.contains(message), "line \(line + 1): \(g.code) \(g.err)")
        }
        let appended = edited.dropLast() + [#"{"seq":8,"time":"2026-01-01T00:00:00Z","op":"put","prev":"\#(String(repeating: "0", count: 64))"}"#, ""]
        try Self.writeLog(f, Array(appended))
        let after = try get("doc6")
        #expect(after.code == 1 && after.err.contains("entry 8 does not follow entry 7"), "\(after.code) \(after.err)")

        // The log as it was: every check passes again.
        try Self.writeLog(f, edited)
        #expect(try f.avault(["vault", "verify"]).code == 0)
        #expect(try get("doc6").out == "draft 6\n")
        #expect(try get("doc1", ring: neverSaw).out == "draft 1\n")
    }

    @Test func signedHeadsRevealCutsAndEditsOfTheSignedPart() throws {
        let f = try Self.logScene()
        #expect(try f.avault(["keys", "generate", "logsigner", "--signing", "--unprotected"]).code == 0)
        let content = try f.avault(["vault", "log", "--sign", "drafts"])
        #expect(content.code == 2 && content.err.contains("not a signing key"), "\(content.err)")
        #expect(try f.avault(["vault", "log", "--json", "--verify"]).code == 64)
        #expect(try f.avault(["vault", "log", "--json", "--sign", "logsigner"]).code == 64)
        let s = try f.avault(["vault", "log", "--verify", "--sign", "logsigner"])
        #expect(s.code == 0, "\(s.err)")
        #expect(s.out == "8 entries, 0 signed heads\nnote: entries 1–8 are after the last signed head: only the index and the keyring's record protect them\n"
                + "signed the log head: entry 8, " + (s.out.split(separator: " ").last.map(String.init) ?? ""), "\(s.out)")
        var v = try f.avault(["vault", "log", "--verify"])
        #expect(v.code == 0)
        #expect(v.out == "8 entries, 1 signed head, signed through entry 8\n", "\(v.out)")

        // Entries after the head: reported as unprotected.
        try f.put("doc9", Data("after".utf8))
        try f.put("doc9", Data("after 2".utf8))
        v = try f.avault(["vault", "log", "--verify"])
        #expect(v.code == 0)
        #expect(v.out.contains("10 entries, 1 signed head, signed through entry 8"), "\(v.out)")
        #expect(v.out.contains("note: entries 9–10 are after the last signed head"), "\(v.out)")

        let original = try Self.logLines(f)
        // Cut back into the signed part.
        var cut = original
        cut.removeSubrange(6..<10)
        try Self.writeLog(f, cut)
        v = try f.avault(["vault", "log", "--verify"])
        #expect(v.code == 1, "\(v.out)")
        #expect(v.out.contains("problem: the log was cut: a signed head covers 8 entries, the log has 6"), "\(v.out)")
        // The whole log removed.
        #expect(unlink(f.vault + "/log") == 0)
        v = try f.avault(["vault", "log", "--verify"])
        #expect(v.code == 1, "a removed log with a signed head: \(v.out)")
        #expect(v.out.contains("the log was cut"), "\(v.out)")
        try CLI.write("", to: URL(fileURLWithPath: f.vault + "/log"))
        try Self.writeLog(f, original)
        #expect(try f.avault(["vault", "log", "--verify"]).code == 0)

        // Editing the signed last entry (whose successor chain was rebuilt would not help either).
        var edited = original
        edited[7] = edited[7].replacingOccurrences(of: "\"time\":\"2", with: "\"time\":\"1")
        try Self.writeLog(f, Array(edited.prefix(8)) + [""])
        v = try f.avault(["vault", "log", "--verify"])
        #expect(v.code == 1, "\(v.out)")
        #expect(v.out.contains("entry 8 is not the one that was signed"), "\(v.out)")
        try Self.writeLog(f, original)

        // A forged head.
        let heads = try vaultRead(f.vault + "/log.heads")
        var forged = heads
        let sigRange = try #require(forged.range(of: Data("\"signature\":\"".utf8)))
        forged.vaultFlip(at: sigRange.upperBound + 20)
        try vaultOverwrite(f.vault + "/log.heads", with: forged)
        v = try f.avault(["vault", "log", "--verify"])
        #expect(v.code == 1, "\(v.out)")
        #expect(v.out.contains("problem:"), "\(v.out)")
        try vaultOverwrite(f.vault + "/log.heads", with: heads)
        // A head by a key nobody knows.
        let other = try VaultFixture(initialize: false)
        #expect(try other.avault(["keys", "generate", "drafts", "--secret", "--unprotected"]).code == 0)
        let unknown = try f.avault(["vault", "log", "--verify"], env: ["AVAULT_KEYRING": other.ring])
        #expect(unknown.code != 0, "\(unknown.out) \(unknown.err)")
        #expect(try f.avault(["vault", "log", "--verify"]).code == 0)
    }

    /// An append cut short (a crash or power loss mid-write) leaves an unfinished last line:
    /// verify notes it, and the vault must go on working — the next writes must not be glued
    /// onto the fragment, and the log must still verify.
    @Test func anUnfinishedLastLineIsANoteAndDoesNotBreakLaterWrites() throws {
        let f = try Self.logScene()
        let original = try vaultRead(f.vault + "/log")
        let lastLine = try #require(try Self.logLines(f).dropLast().last)
        try vaultOverwrite(f.vault + "/log", with: original + Data(lastLine.prefix(40).utf8))
        var v = try f.avault(["vault", "log", "--verify"])
        #expect(v.code == 0, "\(v.out)")
        #expect(v.out.contains("note: the last line is unfinished (an interrupted append)"), "\(v.out)")
        #expect(v.out.hasPrefix("8 entries"), "\(v.out)")

        let p1 = try f.avault(["vault", "put", "after-crash", "-"], stdin: Data("one".utf8))
        #expect(p1.code == 0, "first put after an interrupted append: \(p1.err)")
        let p2 = try f.avault(["vault", "put", "after-crash", "-"], stdin: Data("two".utf8))
        #expect(p2.code == 0, "second put after an interrupted append: \(p2.err)")
        let rm = try f.avault(["vault", "rm", "after-crash"])
        #expect(rm.code == 0, "rm after an interrupted append: \(rm.err)")
        v = try f.avault(["vault", "log", "--verify"])
        #expect(v.code == 0, "log --verify after writes that followed an interrupted append: \(v.out)")
        #expect(try f.get("after-crash", version: 2).out == "two")
    }
}
