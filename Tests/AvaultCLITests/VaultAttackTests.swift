import Foundation
import Testing
import TestSupport
import VaultCrypto
import VaultFormat
#if canImport(Glibc)
import Glibc
#endif

/// Someone who can write the vault's directory (a sync folder, a backup, a shared disk) but
/// has no passphrase and no key of the vault: every attack of issue 9 fails closed.
@Suite struct VaultRollbackTests {
    @Test func anOldIndexWithTheNewerEnvelopeDeletedIsARollback() throws {
        let f = try VaultFixture()
        #expect(try f.put("doc", Data("first draft".utf8)) == 1)
        let old = try Self.backUpIndex(f), oldLog = try vaultRead(f.vault + "/log")
        let before = Set(try f.envelopeFiles().envelopes)
        #expect(try f.put("doc", Data("second draft".utf8)) == 2)
        let newer = try #require(Set(try f.envelopeFiles().envelopes).subtracting(before).first)

        // The attacker restores the old index and deletes the newer envelope.
        try Self.putBack(f, old)
        #expect(unlink(f.objects + "/" + newer) == 0)
        try Self.expectRolledBack(f, "old index, newer envelope deleted")
        // …and the old log too: the index and the log agree, but the keyring has seen more.
        try vaultOverwrite(f.vault + "/log", with: oldLog)
        try Self.expectRolledBack(f, "old index and old log")
        let put = try f.avault(["vault", "put", "doc", "-"], stdin: Data("third".utf8))
        #expect(put.code == 1 && put.err.contains("the vault was rolled back"), "\(put.err)")
        #expect(try vaultRead(f.vault + "/index") == old.head, "a refused put wrote the index")

        // Restored on purpose: --accept-rollback adopts it, the log records it, and from then on
        // the vault works without the flag.
        let accept = try f.avault(["vault", "get", "doc", "--accept-rollback"])
        #expect(accept.code == 0 && accept.out == "first draft", "\(accept.code) \(accept.err)")
        #expect(try f.get("doc").out == "first draft")
        #expect(try f.verify().code == 0)
        let logCheck = try f.avault(["vault", "log", "--verify"])
        #expect(logCheck.code == 0, "\(logCheck.out)")
        let entries = try VaultLogTests.entries(f)
        let adopted = try #require(entries.last { $0["op"] as? String == "accept-rollback" }, "\(entries)")
        #expect((adopted["forgotten"] as? [String: Any])?["seq"] as? Int == 3, "\(adopted)")
        #expect(adopted["seq"] as? Int == 4, "the entry continues above the forgotten head: \(adopted)")
        let v = try f.put("doc", Data("after the restore".utf8))
        #expect(try f.get("doc", version: v).out == "after the restore")
    }

    /// Found by a review: someone without a key restores an older copy of the vault and appends
    /// an `accept-rollback` entry that names as forgotten the head a keyring saw since (its seq
    /// and hash were in the log they copied), then waits for a writer whose keyring saw only the
    /// older copy: its write declares the planted entry unapplied and chains it in. The keyring
    /// that saw the newer head used to take the entry for a rollback accepted on purpose, and
    /// lose what it saw without a word. Only an applied `accept-rollback` entry counts. (Since a
    /// later review, the older keyring's write is refused too: the planted entry is numbered
    /// above any head that keyring saw, which no interrupted write of its does.)
    @Test func aPlantedAcceptRollbackEntryLetsNothingGo() throws {
        let f = try VaultFixture()
        #expect(try f.put("doc", Data("first draft".utf8)) == 1)
        let older = try PostgresOperationsTests.copyKeyring(f, "ring-older")
        let snapshot = f.dir.appendingPathComponent("snapshot").path
        #expect(try CLI.run("/bin/cp", ["-a", f.vault, snapshot]).code == 0)
        #expect(try f.put("doc", Data("second draft".utf8)) == 2)
        let seen = try #require(try VaultLogTests.logLines(f).last { !$0.isEmpty })

        #expect(try CLI.run("/bin/rm", ["-rf", f.vault]).code == 0)
        #expect(try CLI.run("/bin/mv", [snapshot, f.vault]).code == 0)
        let planted = try CLI.run("python3", ["-c", #"""
            import hashlib, json, sys
            log, seen = sys.argv[1], sys.argv[2]
            h = lambda line: hashlib.blake2b(line.encode(), digest_size=32).hexdigest()
            last = open(log).read().splitlines()[-1]
            s, l = json.loads(seen), json.loads(last)
            entry = {"seq": s["seq"] + 1, "time": "2026-01-01T00:00:00Z", "op": "accept-rollback",
                     "forgotten": {"seq": s["seq"], "hash": h(seen)}, "index": {"seq": l["seq"], "hash": h(last)}, "prev": h(last)}
            open(log, "a").write(json.dumps(entry, separators=(",", ":")) + chr(10))
            """#, f.vault + "/log", seen])
        #expect(planted.code == 0, "\(planted.err)")
        let put = try f.avault(["vault", "put", "other", "-"], stdin: Data("by the older keyring".utf8), env: ["AVAULT_KEYRING": older])
        #expect(put.code == 1 && put.err.contains("the log was altered: entry 4 after the index's head follows entry 2, a number no interrupted write gives"),
                "\(put.code) \(put.err)")
        #expect(try VaultLogTests.entries(f).contains { $0["op"] as? String == "accept-rollback" }, "the planted entry is in the log")
        try Self.expectRolledBack(f, "a planted accept-rollback entry")
    }

    /// Found by a review: the index and its entries put back from before a put, the log kept.
    /// A writer whose keyring saw only the older state then declares the put undone (its index
    /// never landed, as far as the log can tell) and goes on. The keyring that saw the put finds
    /// its head's line still in the log, and used to accept the state without a word, the put
    /// lost. A head a later entry declared undone is a rollback to that keyring.
    @Test func aHeadDeclaredUndoneByALaterWriteIsARollback() throws {
        let f = try VaultFixture()
        #expect(try f.put("doc", Data("first draft".utf8)) == 1)
        let older = try PostgresOperationsTests.copyKeyring(f, "ring-older")
        let old = try Self.backUpIndex(f)
        #expect(try f.put("doc", Data("second draft".utf8)) == 2)

        try Self.putBack(f, old)
        let put = try f.avault(["vault", "put", "other", "-"], stdin: Data("by the older keyring".utf8), env: ["AVAULT_KEYRING": older])
        #expect(put.code == 0, "\(put.err)")
        #expect(try VaultLogTests.entries(f).contains { $0["op"] as? String == "recover" && $0["unapplied"] != nil })
        try Self.expectRolledBack(f, "the put's head declared undone")
        // Accepted on purpose, it is adopted as any rollback is.
        let accept = try f.avault(["vault", "get", "doc", "--accept-rollback"])
        #expect(accept.code == 0 && accept.out == "first draft", "\(accept.err)")
        #expect(try f.get("doc").out == "first draft")
    }

    /// Found by a fourth review: a rollback accepted on purpose forgets the head its keyring
    /// named and, with it, the heads before it that the same recovery undid. A keyring that saw
    /// one of those (a colleague's, a put older) was refused, while one that saw the named head
    /// passed.
    @Test func anAcceptedRollbackForgetsTheHeadsItUndidBeforeTheOneItNamed() throws {
        let f = try VaultFixture()
        #expect(try f.put("doc", Data("first draft".utf8)) == 1)
        let old = try Self.backUpIndex(f)
        let first = try PostgresOperationsTests.copyKeyring(f, "ring-first")
        #expect(try f.put("doc", Data("second draft".utf8)) == 2)
        let second = try PostgresOperationsTests.copyKeyring(f, "ring-second")
        #expect(try f.put("doc", Data("third draft".utf8)) == 3)

        try Self.putBack(f, old)
        try Self.expectRolledBack(f, "the index put back")
        let before = try f.avault(["vault", "get", "doc"], env: ["AVAULT_KEYRING": second])
        #expect(before.code == 1 && before.err.contains("the vault was rolled back"), "\(before.err)")
        let accept = try f.avault(["vault", "get", "doc", "--accept-rollback"])
        #expect(accept.code == 0 && accept.out == "first draft", "\(accept.err)")
        #expect(accept.err.hasPrefix("avault: warning: vault ") && accept.err.contains(" adopted as it is: this keyring had seen entry 4 of its log, ")
                && accept.err.split(separator: "\n").count == 1, "\(accept.err)")
        #expect(try f.avault(["vault", "get", "doc", "--accept-rollback"]).err.isEmpty, "a vault not rolled back is adopted again")
        for ring in [second, first] {
            let g = try f.avault(["vault", "get", "doc"], env: ["AVAULT_KEYRING": ring])
            #expect(g.code == 0 && g.out == "first draft", "\(ring): \(g.code) \(g.err)")
            let v = try f.avault(["vault", "verify"], env: ["AVAULT_KEYRING": ring])
            #expect(v.code == 0, "\(ring): \(v.code) \(v.err)")
        }
    }

    /// But only those: a head an earlier recovery undid, which no one accepted to lose, stays a
    /// rollback to the keyrings that saw it, whatever rollback was accepted later.
    @Test func anAcceptedRollbackForgetsNoHeadAnEarlierRecoveryUndid() throws {
        let f = try VaultFixture()
        #expect(try f.put("doc", Data("first draft".utf8)) == 1)
        let older = try PostgresOperationsTests.copyKeyring(f, "ring-older")
        var old = try Self.backUpIndex(f)
        #expect(try f.put("doc", Data("second draft".utf8)) == 2)
        // The index put back from before the second draft; a writer that never saw it undoes it.
        try Self.putBack(f, old)
        let put = try f.avault(["vault", "put", "other", "-"], stdin: Data("one".utf8), env: ["AVAULT_KEYRING": older])
        #expect(put.code == 0, "\(put.err)")
        try Self.expectRolledBack(f, "the second draft undone")
        // Again, from the older keyring's put on, and this time the rollback is accepted.
        let oldest = f.dir.appendingPathComponent("ring-oldest").path
        #expect(try CLI.run("/bin/cp", ["-a", older, oldest]).code == 0)
        old = try Self.backUpIndex(f)
        let again = try f.avault(["vault", "put", "other", "-"], stdin: Data("two".utf8), env: ["AVAULT_KEYRING": older])
        #expect(again.code == 0, "\(again.err)")
        try Self.putBack(f, old)
        #expect(try f.avault(["vault", "put", "other", "-"], stdin: Data("three".utf8), env: ["AVAULT_KEYRING": oldest]).code == 0)
        let accept = try f.avault(["vault", "get", "other", "--accept-rollback"], env: ["AVAULT_KEYRING": older])
        #expect(accept.code == 0 && accept.out == "three", "\(accept.err)")
        #expect(try VaultLogTests.entries(f).filter { $0["op"] as? String == "recover" }.count == 2)
        try Self.expectRolledBack(f, "the second draft, undone before the accepted rollback")
    }

    /// Found by a review of the rule above: a later recovery whose range takes in an earlier
    /// one's (the index put back twice) put a head the earlier one undid in the same range as
    /// the head an accepted rollback named, although that head's state never held it.
    @Test func anAcceptedRollbackForgetsNoHeadItsNamedStateHadLost() throws {
        let f = try VaultFixture()
        #expect(try f.put("doc", Data("first draft".utf8)) == 1)
        let other = try PostgresOperationsTests.copyKeyring(f, "ring-other")
        let old = try Self.backUpIndex(f)
        #expect(try f.put("doc", Data("second draft".utf8)) == 2)
        try Self.putBack(f, old)
        #expect(try f.avault(["vault", "put", "other", "-"], stdin: Data("one".utf8), env: ["AVAULT_KEYRING": other]).code == 0)
        try Self.expectRolledBack(f, "the second draft undone")
        // Put back again: the other keyring accepts losing its put, whose state had lost the second draft.
        try Self.putBack(f, old)
        let accept = try f.avault(["vault", "get", "doc", "--accept-rollback"], env: ["AVAULT_KEYRING": other])
        #expect(accept.code == 0 && accept.out == "first draft", "\(accept.err)")
        try Self.expectRolledBack(f, "the second draft, undone before the state the accepted rollback named")
    }

    /// The index: its head and its entries (formats.md 8.3.1), as they are. Putting it back
    /// (``putBack(_:_:)``) keeps the log.
    struct IndexBackup {
        var head: Data
        var entries: [String: Data] = [:]
    }

    static func backUpIndex(_ f: VaultFixture) throws -> IndexBackup {
        var backup = IndexBackup(head: try vaultRead(f.vault + "/index"))
        for file in try FileManager.default.contentsOfDirectory(atPath: f.vault + "/entries") {
            backup.entries[file] = try vaultRead(f.vault + "/entries/" + file)
        }
        return backup
    }

    /// Puts the index back as it was in `backup`, the log left as it is.
    static func putBack(_ f: VaultFixture, _ backup: IndexBackup) throws {
        try vaultOverwrite(f.vault + "/index", with: backup.head)
        for file in try FileManager.default.contentsOfDirectory(atPath: f.vault + "/entries") { unlink(f.vault + "/entries/" + file) }
        for (file, bytes) in backup.entries {
            FileManager.default.createFile(atPath: f.vault + "/entries/" + file, contents: bytes, attributes: [.posixPermissions: 0o600])
        }
    }

    static func expectRolledBack(_ f: VaultFixture, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let g = try f.get("doc")
        #expect(g.code == 1, "\(what): get exits \(g.code) and printed \(g.out.debugDescription)", sourceLocation: sourceLocation)
        #expect(g.stdout.isEmpty, "\(what): get printed the old draft", sourceLocation: sourceLocation)
        #expect(g.err.contains("avault: the vault was rolled back"), "\(what): \(g.err)", sourceLocation: sourceLocation)
        #expect(g.err.contains("hint: ") && g.err.contains("--accept-rollback"), "\(what): \(g.err)", sourceLocation: sourceLocation)
        let v = try f.avault(["vault", "verify"])
        #expect(v.code == 1 && v.err.contains("the vault was rolled back"), "\(what): verify: \(v.code) \(v.out) \(v.err)", sourceLocation: sourceLocation)
        let l = try f.avault(["vault", "log", "--verify"])
        #expect(l.code == 1 && l.out.contains("problem: the vault was rolled back"), "\(what): log --verify: \(l.code) \(l.out) \(l.err)",
                sourceLocation: sourceLocation)
    }

    /// Found by a review: a directory vault put back in part (the index, its entries, the log
    /// and `finished` from an older copy; objects/ newer). A writer whose keyring never saw the
    /// newer put found that version's envelope unlisted and authentic, took it for a crashed
    /// put's and deleted it: another editor's acknowledged draft, lost. It is now kept in
    /// quarantine/ byte for byte; and a purge of the object deletes it there too, so that nothing
    /// of a purged draft stays readable with the vault's key.
    @Test func aVersionAnIndexPutBackDoesNotKnowIsKeptUntilAPurge() throws {
        let f = try VaultFixture()
        #expect(try f.put("doc", Data("first draft".utf8)) == 1)
        let older = try PostgresOperationsTests.copyKeyring(f, "ring-older")
        let old = try Self.backUpIndex(f)
        let (log, finished) = (try vaultRead(f.vault + "/log"), try? vaultRead(f.vault + "/finished"))
        let before = Set(try f.envelopeFiles().envelopes)
        #expect(try f.put("doc", Data("second draft".utf8)) == 2)
        let second = try #require(Set(try f.envelopeFiles().envelopes).subtracting(before).first)
        let envelope = try vaultRead(f.objects + "/" + second)
        // And a draft the older index never listed (as a first put that crashed leaves it).
        #expect(try f.put("fresh", Data("a new draft".utf8)) == 1)
        let fresh = try #require(Set(try f.envelopeFiles().envelopes).subtracting(before).subtracting([second]).first)

        try Self.putBack(f, old)
        try CLI.write("", to: URL(fileURLWithPath: f.vault + "/log"))
        try vaultOverwrite(f.vault + "/log", with: log)
        if let finished { try vaultOverwrite(f.vault + "/finished", with: finished) } else { unlink(f.vault + "/finished") }
        // A put of the draft would make version 2 again: refused, the envelope left in place.
        let refused = try f.avault(["vault", "put", "doc", "-"], stdin: Data("by the older keyring".utf8), env: ["AVAULT_KEYRING": older])
        #expect(refused.code == 1 && refused.err.contains("the index does not list"), "\(refused.code) \(refused.err)")
        #expect(try vaultRead(f.objects + "/" + second) == envelope)
        // The next write recovers from the refused one, and took the envelope for its leftover.
        let put = try f.avault(["vault", "put", "other", "-"], stdin: Data("by the older keyring".utf8), env: ["AVAULT_KEYRING": older])
        #expect(put.code == 0, "\(put.err)")
        #expect(!FileManager.default.fileExists(atPath: f.objects + "/" + second))
        let kept = try FileManager.default.contentsOfDirectory(atPath: f.vault + "/quarantine").filter { $0.hasPrefix(second + ".") }
        try #require(kept.count == 1, "the second draft's envelope was not kept: \(kept)")
        #expect(try vaultRead(f.vault + "/quarantine/" + kept[0]) == envelope)
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.vault + "/quarantine").contains { $0.hasPrefix(fresh + ".") })
        #expect(try VaultLogTests.entries(f).last { $0["op"] as? String == "recover" }?["quarantined"] as? Int == 2)
        // `vault verify` lists what is kept (not a failure): it is drafts the vault's key opens.
        let listed = try f.avault(["vault", "verify", "--json"], env: ["AVAULT_KEYRING": older])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [String: Any])
        let quarantined = (report["quarantined"] as? [[String: Any]])?.compactMap { $0["file"] as? String }
        let inQuarantine = try FileManager.default.contentsOfDirectory(atPath: f.vault + "/quarantine").sorted().map { "quarantine/" + $0 }
        #expect(listed.code == 0 && quarantined == inQuarantine && inQuarantine.count == 2, "\(listed.code) \(listed.out)")
        let shown = try f.avault(["vault", "verify"], env: ["AVAULT_KEYRING": older])
        #expect(shown.code == 0 && shown.out.contains("kept in quarantine: quarantine/" + kept[0]) && shown.out.contains("'avault vault purge ID'"), "\(shown.out)")

        // A purge of the draft deletes it there too, and says so in the log.
        #expect(try f.avault(["vault", "purge", "doc", "--force"], env: ["AVAULT_KEYRING": older]).code == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.vault + "/quarantine").filter { $0.hasPrefix(second) }.isEmpty)
        #expect(try VaultLogTests.entries(f).last?["quarantined"] as? Int == 1)
        // So does a purge of the ID the index does not list, whose envelope is only kept there.
        let purged = try f.avault(["vault", "purge", "fresh", "--force"], env: ["AVAULT_KEYRING": older])
        #expect(purged.code == 0, "\(purged.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.vault + "/quarantine").isEmpty)
        #expect(try f.avault(["vault", "purge", "never-put", "--force"], env: ["AVAULT_KEYRING": older]).code == 2)
        let after = try f.avault(["vault", "verify"], env: ["AVAULT_KEYRING": older])
        #expect(after.code == 0 && !after.out.contains("quarantine"), "\(after.out)")
    }

    /// After a purge the ID's next version has a new number, so an old envelope put back
    /// under the old name is never read as the new version.
    @Test func aReplayedEnvelopeAfterAPurgeNeverComesBack() throws {
        let f = try VaultFixture()
        #expect(try f.put("doc", Data("14 bytes, old.".utf8)) == 1)
        let file = try #require(try f.envelopeFiles().envelopes.first)
        let old = try vaultRead(f.objects + "/" + file)
        #expect(try f.avault(["vault", "purge", "doc", "--force"]).code == 0)
        let v = try f.put("doc", Data("new text".utf8))
        #expect(v == 2, "a purged ID's version number was used again")
        try CLI.write("", to: URL(fileURLWithPath: f.objects + "/" + file))
        try vaultOverwrite(f.objects + "/" + file, with: old)
        #expect(try f.get("doc").out == "new text")
        let history = try #require(try f.json(["vault", "history", "doc"])["versions"] as? [[String: Any]])
        #expect(history.map { $0["version"] as? Int } == [v] && history.first?["size"] as? Int == 8, "\(history)")
        #expect(try f.get("doc", version: 1).code == 2)
        // The old envelope under the new version's name does not authenticate.
        let current = try #require(try f.envelopeFiles().envelopes.first { $0.hasSuffix("-\(v)") })
        let good = try vaultRead(f.objects + "/" + current)
        try vaultOverwrite(f.objects + "/" + current, with: old)
        let g = try f.get("doc")
        #expect(g.code == 1 && g.stdout.isEmpty, "\(g.code) \(g.out)")
        try vaultOverwrite(f.objects + "/" + current, with: good)
        // The replayed file is inert: a leftover that a put of one bucket after a finished write
        // leaves alone (formats.md 8.5), and the next write that recovers removes.
        let (code, report) = try f.verify()
        #expect(code == 0 && report.leftovers == ["objects/" + file], "\(report)")
        try f.put("other", Data("x".utf8))
        #expect(try f.verify().report.leftovers == ["objects/" + file])
        let fsck = try f.avault(["vault", "fsck"])
        #expect(fsck.code == 0, "\(fsck.out) \(fsck.err)")
        #expect(try f.verify().report.leftovers.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: f.objects + "/" + file))
    }

    /// A directory vault put back in part from an older copy (the index, its entries, the log
    /// and `finished`), the newer envelope files left, looks like no crash: `finished` names the
    /// index's head, so a put of one bucket does not survey `objects/`. Such a put by a keyring
    /// that never saw the newer head took the next version number and renamed its envelope over
    /// the file under that name, an acknowledged version of another editor, without a word. A new
    /// envelope now never replaces a file: the put fails and leaves it; the write after it, with
    /// no `finished`, recovers in full and logs what it removes (formats.md 8.5).
    @Test func aPutNeverRenamesItsEnvelopeOverAFileTheIndexDoesNotList() throws {
        let f = try VaultFixture()
        #expect(try f.put("doc", Data("first draft".utf8)) == 1)
        let old = try Self.backUpIndex(f), oldLog = try vaultRead(f.vault + "/log"), oldFinished = try vaultRead(f.vault + "/finished")
        let older = f.dir.appendingPathComponent("older-ring").path
        #expect(try CLI.run("/bin/cp", ["-a", f.ring, older]).code == 0)
        let before = Set(try f.envelopeFiles().envelopes)
        #expect(try f.put("doc", Data("second draft, acknowledged".utf8)) == 2)
        let newer = try #require(Set(try f.envelopeFiles().envelopes).subtracting(before).first)
        let acknowledged = try vaultRead(f.objects + "/" + newer)

        try Self.putBack(f, old)
        try vaultOverwrite(f.vault + "/log", with: oldLog)
        try vaultOverwrite(f.vault + "/finished", with: oldFinished)
        let asOlder: [String: String?] = ["AVAULT_KEYRING": older]
        let put = try f.avault(["vault", "put", "doc", "-"], stdin: Data("second draft by another".utf8), env: asOlder)
        #expect(put.code == 1 && put.err.contains("objects/\(newer): an envelope file the index does not list holds the name of the one this write makes"),
                "\(put.code) \(put.err)")
        #expect(put.err.contains("hint: "), "\(put.err)")
        #expect(try vaultRead(f.objects + "/" + newer) == acknowledged, "the put replaced the file")
        #expect(try vaultRead(f.vault + "/index") == old.head, "a refused put wrote the index")
        #expect(try f.envelopeFiles().leftovers.isEmpty, "the refused put left its temporary file")
        // The next write recovers as after a crash: it removes the file, logs it, and takes the next number.
        let again = try f.avault(["vault", "put", "doc", "-"], stdin: Data("third".utf8), env: asOlder)
        #expect(again.code == 0 && again.out.contains(" version 3 "), "\(again.out) \(again.err)")
        #expect(try VaultLogTests.logLines(f).contains { $0.contains("\"op\":\"recover\"") })

        // A file in the way that does not authenticate is no crashed write's: recovery leaves it,
        // so puts of that object fail until fsck moves it aside, as the hint says (a review).
        let junk = f.objects + "/" + newer.replacingOccurrences(of: "-2", with: "-4")
        #expect(newer.hasSuffix("-2"))
        try CLI.write("not an envelope", to: URL(fileURLWithPath: junk))
        chmod(junk, 0o600)
        for _ in 0..<2 {
            let blocked = try f.avault(["vault", "put", "doc", "-"], stdin: Data("fourth".utf8), env: asOlder)
            #expect(blocked.code == 1 && blocked.err.contains("'avault vault fsck' moves it aside"), "\(blocked.code) \(blocked.err)")
        }
        #expect(try f.avault(["vault", "fsck"], env: asOlder).code == 1, "fsck moved the file aside")
        let fourth = try f.avault(["vault", "put", "doc", "-"], stdin: Data("fourth".utf8), env: asOlder)
        #expect(fourth.code == 0 && fourth.out.contains(" version 4 "), "\(fourth.out) \(fourth.err)")
    }

    /// The index holds every envelope's digest: an envelope from before a rewrap (same name,
    /// same version, same plaintext, a key version that still reads) is not the listed one.
    @Test func anEnvelopeFromBeforeARewrapIsRefused() throws {
        let f = try VaultFixture()
        try f.put("doc", Data("draft".utf8))
        let file = try #require(try f.envelopeFiles().envelopes.first)
        let old = try vaultRead(f.objects + "/" + file)
        #expect(try f.avault(["keys", "rotate", "drafts"]).code == 0)
        #expect(try f.avault(["vault", "rewrap"]).out == "rewrapped 1 version\n")
        try vaultOverwrite(f.objects + "/" + file, with: old)
        let g = try f.get("doc")
        #expect(g.code == 1 && g.err.contains("is corrupt or was tampered with"), "\(g.code) \(g.err)")
        let (code, report) = try f.verify()
        #expect(code == 1 && report.corrupt == ["objects/" + file], "\(report)")
    }

    /// Someone who knows another key of the victim's keyring (a shared team key) points the
    /// config at it and re-seals the naming key and the index under it: the next put would be
    /// readable by them. The log's first entry names the vault's key; the keyring has seen the log.
    @Test func aConfigPointingAtAnotherKeyringKeyIsRefused() throws {
        let f = try VaultFixture()
        let sharedBytes = SecureRandom.bytes(count: 32)
        let shared = SecretBytes(copying: sharedBytes)
        let keyFile = f.path("shared.key")
        try CLI.write(Hex.encode(sharedBytes), to: URL(fileURLWithPath: keyFile))
        #expect(try f.avault(["keys", "import", "shared", "--key-file", keyFile, "--unprotected"]).code == 0)
        let keys = try #require(try f.json(["keys", "list"])["keys"] as? [[String: Any]])
        let sharedID = try #require(keys.first { $0["name"] as? String == "shared" }?["keyId"] as? String)
        let sharedKid = try #require(KeyID(hex: sharedID))
        try f.put("doc", Data("before".utf8))
        let envelopesBefore = try f.envelopeFiles().envelopes

        try VaultForge.pointConfig(f, at: "shared", key: shared, kid: sharedKid)
        for args in [["vault", "put", "doc", "-"], ["vault", "get", "doc"], ["vault", "verify"]] {
            let r = try f.avault(args, stdin: Data("the next draft".utf8))
            #expect(r.code == 1, "\(args): \(r.code) \(r.out) \(r.err)")
            #expect(r.err.contains("the config names key 'shared', but the vault was created with key 'drafts'"), "\(args): \(r.err)")
        }
        #expect(try f.envelopeFiles().envelopes == envelopesBefore, "a put went to the attacker's key")

        // Rewriting the log's first entry too: the log is no longer the one the keyring saw.
        try VaultForge.rewriteLog(f) { lines in
            lines[0] = lines[0].replacingOccurrences(of: "\"key\":\"drafts\"", with: "\"key\":\"shared\"")
                .replacingOccurrences(of: keys.first { $0["name"] as? String == "drafts" }!["keyId"] as! String, with: sharedKid.hex)
        }
        try VaultForge.pointConfig(f, at: "shared", key: shared, kid: sharedKid)
        let r = try f.avault(["vault", "put", "doc", "-"], stdin: Data("the next draft".utf8))
        #expect(r.code == 1 && r.err.contains("the vault was rolled back"), "\(r.code) \(r.err)")
        #expect(try f.envelopeFiles().envelopes == envelopesBefore)
    }

    @Test func aDeletedLogHeadsOrARewrittenChainIsDetected() throws {
        let f = try VaultLogTests.logScene()
        #expect(try f.avault(["keys", "generate", "logsigner", "--signing", "--unprotected"]).code == 0)
        #expect(try f.avault(["vault", "log", "--sign", "logsigner"]).code == 0)
        try f.put("doc0", Data("after the head".utf8))
        let heads = try vaultRead(f.vault + "/log.heads")
        #expect(unlink(f.vault + "/log.heads") == 0)
        for args in [["vault", "get", "doc0"], ["vault", "verify"]] {
            let r = try f.avault(args)
            #expect(r.code == 1 && r.err.contains("log.heads no longer holds the head signed at entry 8"), "\(args): \(r.code) \(r.err)")
        }
        var l = try f.avault(["vault", "log", "--verify"])
        #expect(l.code == 1 && l.out.contains("problem: log.heads no longer holds the head signed at entry 8"), "\(l.out)")
        try CLI.write("", to: URL(fileURLWithPath: f.vault + "/log.heads"))
        try vaultOverwrite(f.vault + "/log.heads", with: heads)
        #expect(try f.avault(["vault", "log", "--verify"]).code == 0)

        // The unkeyed chain rewritten (entry 3 dropped, the rest renumbered and re-chained) and
        // log.heads deleted: the index and the keyring no longer find their entries.
        try VaultForge.rewriteLog(f) { lines in lines.remove(at: 2) }
        #expect(unlink(f.vault + "/log.heads") == 0)
        l = try f.avault(["vault", "log", "--verify"])
        #expect(l.code == 1, "a rewritten chain: \(l.out)")
        #expect(l.out.contains("problem: "), "\(l.out)")
        let g = try f.get("doc0")
        #expect(g.code == 1, "\(g.err)")
    }

    @Test func headsByRevokedOrRetiredKeysAreReported() throws {
        let f = try VaultLogTests.logScene()
        // Revoked in the trust store (while the keyring still has the key).
        #expect(try f.avault(["keys", "generate", "desk", "--signing", "--unprotected"]).code == 0)
        let pub = f.path("desk.pub")
        #expect(try f.avault(["keys", "export-public", "desk", "-o", pub]).code == 0)
        #expect(try f.avault(["keys", "trust", "add", pub, "--name", "Desk"]).code == 0)
        #expect(try f.avault(["vault", "log", "--sign", "desk"]).code == 0)
        #expect(try f.avault(["vault", "log", "--verify"]).code == 0)
        let keyID = try #require(try String(contentsOfFile: pub, encoding: .utf8).split(separator: " ").last.map { String($0.prefix { $0 != "\n" }) })
        #expect(try f.avault(["keys", "trust", "revoke", keyID, "--reason", "laptop stolen"]).code == 0)
        var l = try f.avault(["vault", "log", "--verify"])
        #expect(l.code == 1, "\(l.out)")
        #expect(l.out.contains("which was revoked on") && l.out.contains("laptop stolen"), "\(l.out)")
        #expect(l.out.hasPrefix("8 entries, 0 signed heads"), "a revoked key's head does not count: \(l.out)")
        #expect(try f.avault(["keys", "trust", "remove", keyID, "--force"]).code == 0)
        #expect(unlink(f.vault + "/log.heads") == 0 || true)

        // Retired in the keyring: a head signed before the retirement counts (with a note); one
        // signed after it, by someone holding a copy of the old key, does not.
        let g = try VaultFixture(initialize: false)
        #expect(try g.avault(["keys", "generate", "drafts", "--secret", "--unprotected"]).code == 0)
        #expect(try g.avault(["vault", "init", "--key", "drafts"]).code == 0)
        try g.put("doc", Data("one".utf8))
        #expect(try g.avault(["keys", "generate", "signer", "--signing", "--unprotected"]).code == 0)
        let copy = g.path("stolen-ring")
        try FileManager.default.copyItem(atPath: g.ring, toPath: copy)
        #expect(try g.avault(["vault", "log", "--sign", "signer"]).code == 0)
        sleep(1)
        #expect(try g.avault(["keys", "rotate", "signer"]).code == 0)
        #expect(try g.avault(["keys", "retire", "signer", "--version", "1"]).code == 0)
        l = try g.avault(["vault", "log", "--verify"])
        #expect(l.code == 0, "\(l.out)")
        #expect(l.out.contains("note: the head signed at entry 2 is by key 'signer' version 1") && l.out.contains("after it signed"), "\(l.out)")
        try g.put("doc", Data("two".utf8))
        let forged = try g.avault(["vault", "log", "--sign", "signer"], env: ["AVAULT_KEYRING": copy])
        #expect(forged.code == 0, "\(forged.err)")
        l = try g.avault(["vault", "log", "--verify"])
        #expect(l.code == 1, "\(l.out)")
        #expect(l.out.contains("problem: the head signed at entry 3 is by key 'signer' version 1") && l.out.contains("retired"), "\(l.out)")
    }

    /// A head is judged as a record's signature is: revocation follows the public key (no
    /// signature covers a key id), and a timestamp that is no time in the years 0000 to 9999
    /// counts for nothing (the holder of a retired key could date a head of its own before the
    /// retirement with one).
    @Test func headsByAKeyRevokedUnderAnotherIDOrWithATimeThatIsNoTimeDoNotCount() throws {
        try KeysFixture.requireMinisign()
        let f = try VaultLogTests.logScene()
        #expect(try f.avault(["keys", "generate", "desk", "--signing", "--unprotected"]).code == 0)
        let pub = f.path("desk.pub")
        #expect(try f.avault(["keys", "export-public", "desk", "-o", pub]).code == 0)
        // The comment gives the key id as minisign writes it there, without leading zeros
        // (%llX); avault prints and stores it as 16 hex digits.
        let commentID = try #require(try String(contentsOfFile: pub, encoding: .utf8).split(separator: " ").last.map { String($0.prefix { $0 != "\n" }) })
        let deskID = String(repeating: "0", count: max(0, 16 - commentID.count)) + commentID
        let deskLine = try #require(try String(contentsOfFile: pub, encoding: .utf8).split(separator: "\n").last.map(String.init))
        // The keyring key's public key in the trust store under another id, revoked there.
        let alias = "0807060504030201"
        var raw = [UInt8](try #require(Data(base64Encoded: deskLine)))
        raw.replaceSubrange(2..<10, with: [1, 2, 3, 4, 5, 6, 7, 8])
        let aliasLine = Data(raw).base64EncodedString()
        let aliasPub = f.path("alias.pub")
        try CLI.write("untrusted comment: minisign public key \(alias)\n\(aliasLine)\n", to: URL(fileURLWithPath: aliasPub), mode: 0o644)
        // The head is signed before the revocation: after it, the key signs no head (its public
        // key is revoked, under another id).
        #expect(try f.avault(["vault", "log", "--sign", "desk"]).code == 0)
        #expect(try f.avault(["keys", "trust", "add", aliasPub, "--name", "Alias"]).code == 0)
        #expect(try f.avault(["keys", "trust", "revoke", alias, "--reason", "laptop stolen"]).code == 0)
        let refused = try f.avault(["vault", "log", "--sign", "desk"])
        #expect(refused.code == 2 && refused.err.contains("key \(deskID) was revoked in the trust store on ")
                && refused.err.contains("(its public key, as key \(alias)) (laptop stolen)"), "\(refused.err)")
        var l = try f.avault(["vault", "log", "--verify"])
        #expect(l.code == 1, "\(l.out)")
        #expect(l.out.contains("problem: the head signed at entry 8 is by key \(deskID), which was revoked on ")
                && l.out.contains(" (its public key, as key \(alias)): laptop stolen"), "\(l.out)")
        #expect(l.out.hasPrefix("8 entries, 0 signed heads"), "a revoked key's head does not count: \(l.out)")
        // The same head by a trust-store key (the keyring no longer has it) whose entry is not
        // revoked itself: revoked too.
        #expect(try f.avault(["keys", "delete", "desk", "--yes", "--force"]).code == 0)
        let store = f.ring + "/trust.avt"
        try CLI.write(try String(contentsOfFile: store, encoding: .utf8) + "\nkey: \(deskID) \(deskLine)\nname: Desk\nadded: 2026-12-01T00:00:00Z\n",
                      to: URL(fileURLWithPath: store), mode: 0o600)
        l = try f.avault(["vault", "log", "--verify"])
        #expect(l.code == 1, "\(l.out) \(l.err)")
        #expect(l.out.contains("revoked on") && l.out.contains(" (its public key, as key \(alias)): laptop stolen"), "\(l.out)")
        #expect(l.out.hasPrefix("8 entries, 0 signed heads"), "\(l.out)")

        // A keyring key retired after it signed a head; a copy of it signs the same head again,
        // dated before the retirement with a time that is no time.
        let g = try VaultFixture(initialize: false)
        #expect(try g.avault(["keys", "generate", "drafts", "--secret", "--unprotected"]).code == 0)
        #expect(try g.avault(["vault", "init", "--key", "drafts"]).code == 0)
        try g.put("doc", Data("one".utf8))
        #expect(try g.avault(["keys", "generate", "signer", "--signing", "--unprotected"]).code == 0)
        let secretKey = g.path("signer.key")
        #expect(try g.avault(["keys", "export-minisign", "signer", "-o", secretKey, "--unprotected"]).code == 0)
        #expect(try g.avault(["vault", "log", "--sign", "signer"]).code == 0)
        sleep(1)
        #expect(try g.avault(["keys", "rotate", "signer"]).code == 0)
        #expect(try g.avault(["keys", "retire", "signer", "--version", "1"]).code == 0)
        #expect(try g.avault(["vault", "log", "--verify"]).code == 0)
        let heads = try vaultRead(g.vault + "/log.heads")
        let signed = try #require(try JSONSerialization.jsonObject(with: heads) as? [String: Any])
        let seq = try #require(signed["seq"] as? Int), hash = try #require(signed["hash"] as? String)
        let keyID = try #require(signed["keyId"] as? String), comment = try #require(signed["trustedComment"] as? String)
        let vaultID = try #require(comment.split(separator: "\t").first { $0.hasPrefix("vault:") }).dropFirst("vault:".count)
        let message = g.path("head.txt")
        try CLI.write("avault-vault-log-v1;\(vaultID);\(seq);\(hash)", to: URL(fileURLWithPath: message), mode: 0o644)
        // A time from the future too: the keyring's path skipped the rule a store key's head
        // and a record signature follow (a review).
        let future = String(Int(Date().timeIntervalSince1970) + 3600)
        for time in ["-9223372036854775808", "-62167219201", future] {
            let forgedComment = "timestamp:\(time)\tvault:\(vaultID)\tseq:\(seq)"
            let s = try CLI.run("minisign", ["-S", "-s", secretKey, "-m", message, "-x", message + ".minisig", "-t", forgedComment])
            #expect(s.code == 0, "minisign -S: \(s.err)")
            let sig = try String(contentsOfFile: message + ".minisig", encoding: .utf8).split(separator: "\n").map(String.init)
            let forged = try JSONSerialization.data(withJSONObject: ["seq": seq, "hash": hash, "keyId": keyID, "signature": sig[1],
                                                                     "trustedComment": forgedComment, "globalSignature": sig[3]],
                                                    options: [.sortedKeys, .withoutEscapingSlashes])
            try vaultOverwrite(g.vault + "/log.heads", with: heads + forged + Data("\n".utf8))
            l = try g.avault(["vault", "log", "--verify"])
            #expect(l.code == 1, "\(time): \(l.out)")
            #expect(l.out.contains(time == future ? "problem: the head signed at entry \(seq) claims a time in the future ("
                                   : "problem: the head signed at entry \(seq) has a timestamp that is not a time in the years 0000 to 9999"), "\(time): \(l.out)")
        }
        try vaultOverwrite(g.vault + "/log.heads", with: heads)
        #expect(try g.avault(["vault", "log", "--verify"]).code == 0)
    }
}

/// Vault files are opened relative to the vault's directory, never through a symbolic link,
/// only when regular; the directory must be private.
@Suite struct VaultFileSafetyTests {
    @Test func symbolicLinksAreRefusedAndTheirTargetsUntouched() throws {
        let f = try VaultFixture()
        try f.put("doc", Data("text".utf8))
        let victim = f.path("notes.txt")
        try CLI.write("the user's own notes\n", to: URL(fileURLWithPath: victim))
        for name in ["log", "index", "log.heads", "config", "lock"] {
            let path = f.vault + "/" + name
            let saved = FileManager.default.fileExists(atPath: path) ? try vaultRead(path) : nil
            if saved != nil {
                // A link to a copy of the very same bytes: the content is right, the link is not.
                try saved!.write(to: URL(fileURLWithPath: victim + ".copy"))
                chmod(victim + ".copy", 0o600)
                #expect(unlink(path) == 0)
                #expect(symlink(victim + ".copy", path) == 0)
            } else {
                #expect(symlink(victim, path) == 0)
            }
            // Readers never touch the lock.
            let commands = name == "lock" ? [["vault", "put", "doc", "-"]]
                : [["vault", "put", "doc", "-"], ["vault", "get", "doc"], ["vault", "verify"], ["vault", "log", "--verify"]]
            for args in commands {
                let r = try f.avault(args, stdin: Data("new".utf8))
                expectVaultCleanFailure(r, "\(name) as a symbolic link: \(args)")
                #expect(r.err.contains("is a symbolic link, which avault does not follow here"), "\(name): \(args): \(r.err)")
            }
            #expect(try String(contentsOfFile: victim, encoding: .utf8) == "the user's own notes\n", "\(name): the link's target was written")
            if let saved { #expect(try vaultRead(victim + ".copy") == saved, "\(name): the link's target was written") }
            unlink(path)
            if let saved { try saved.write(to: URL(fileURLWithPath: path)); chmod(path, 0o600) }
            #expect(try f.get("doc").out == "text", "\(name) restored")
        }
        // An envelope as a link.
        let file = try #require(try f.envelopeFiles().envelopes.first)
        let bytes = try vaultRead(f.objects + "/" + file)
        try bytes.write(to: URL(fileURLWithPath: victim + ".env"))
        #expect(unlink(f.objects + "/" + file) == 0 && symlink(victim + ".env", f.objects + "/" + file) == 0)
        expectVaultCleanFailure(try f.get("doc"), "an envelope as a symbolic link")
    }

    /// A FIFO under any vault file's name is refused at once: nothing waits for a writer.
    @Test(.timeLimit(.minutes(30))) func fifosAreRefusedWithoutHanging() throws {
        let f = try VaultFixture()
        try f.put("doc", Data("text".utf8))
        let file = try #require(try f.envelopeFiles().envelopes.first)
        for name in ["log", "index", "log.heads", "config", "lock", "objects/" + file] {
            let path = f.vault + "/" + name
            let saved = FileManager.default.fileExists(atPath: path) ? try vaultRead(path) : nil
            unlink(path)
            #expect(mkfifo(path, 0o600) == 0)
            let commands: [[String]] = switch name {
            case "lock": [["vault", "put", "doc", "-"]]
            case "objects/" + file: [["vault", "get", "doc"], ["vault", "verify"]]
            default: [["vault", "put", "doc", "-"], ["vault", "get", "doc"], ["vault", "verify"], ["vault", "log", "--verify"]]
            }
            for args in commands {
                let out = f.path("fifo-out"), err = f.path("fifo-err")
                let pid = try VaultSpawn.start([CLI.avaultPath] + args, env: VaultSpawn.environment(f), stdout: out, stderr: err)
                var waited = 0
                var status: Int32 = 0
                while waitpid(pid, &status, WNOHANG) == 0, waited < 100 {
                    usleep(50_000)
                    waited += 1
                }
                #expect(waited < 100, "\(name) as a FIFO: \(args) hung for 5 s")
                if waited >= 100 { _ = VaultSpawn.killGroup(pid) }
                let text = ((try? String(contentsOfFile: err, encoding: .utf8)) ?? "") + ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
                #expect(text.contains("a FIFO, not a regular file") || text.contains("(objects/\(file))"), "\(name) as a FIFO: \(args): \(text)")
                #expect(status != 0, "\(name) as a FIFO: \(args) succeeded")
                unlink(out)
                unlink(err)
            }
            unlink(path)
            if let saved { try saved.write(to: URL(fileURLWithPath: path)); chmod(path, 0o600) }
        }
        #expect(try f.get("doc").out == "text")
    }

    @Test func aVaultDirectoryOthersCanAccessIsRefused() throws {
        let f = try VaultFixture()
        try f.put("doc", Data("text".utf8))
        for (dir, mode) in [(f.vault, 0o777), (f.vault, 0o755), (f.vault, 0o710), (f.objects, 0o777)] {
            chmod(dir, mode_t(mode))
            for args in [["vault", "get", "doc"], ["vault", "put", "doc", "-"], ["vault", "verify"]] {
                let r = try f.avault(args, stdin: Data("x".utf8))
                #expect(r.code == 2, "\(dir) mode \(String(mode, radix: 8)): \(args): \(r.code) \(r.err)")
                #expect(r.err.contains("accessible by group or others"), "\(r.err)")
                #expect(r.err.contains("hint: chmod 700 \(dir)\n"), "\(r.err)")
            }
            chmod(dir, 0o700)
        }
        #expect(try f.get("doc").out == "text")
        // init makes it 700, and refuses an existing directory others can read.
        let loose = f.path("loose-vault")
        try FileManager.default.createDirectory(atPath: loose, withIntermediateDirectories: true)
        chmod(loose, 0o755)
        let i = try f.avault(["vault", "init", "--key", "drafts", "--vault", loose])
        #expect(i.code == 2 && i.err.contains("chmod 700"), "\(i.err)")
    }
}

/// Every number read from a vault file is range-checked: an error (exit 1), never a trap.
@Suite struct VaultNumberTests {
    @Test(arguments: ["1e300", "-1", "0", "1.5", "9007199254740993", "18446744073709551616", "-0", "1e-300"])
    func anOutOfRangeSequenceNumberIsAnError(_ number: String) throws {
        let f = try VaultFixture()
        try f.put("doc", Data("text".utf8))
        let log = try vaultRead(f.vault + "/log")
        try vaultOverwrite(f.vault + "/log", with: log + Data("{\"seq\":\(number),\"op\":\"put\",\"prev\":\"\(String(repeating: "0", count: 64))\"}\n".utf8))
        for args in [["vault", "put", "doc", "-"], ["vault", "get", "doc"], ["vault", "verify"]] {
            let r = try f.avault(args, stdin: Data("x".utf8))
            expectVaultCleanFailure(r, "seq \(number): \(args)")
            #expect(r.code == 1, "seq \(number): \(args): \(r.code) \(r.err)")
            #expect(r.err.contains("the log was altered: entry 3 is malformed"), "seq \(number): \(args): \(r.err)")
        }
        let l = try f.avault(["vault", "log", "--verify"])
        #expect(l.code == 1 && l.out.contains("problem: entry 3 is malformed"), "seq \(number): \(l.code) \(l.out) \(l.err)")
        #expect(!l.err.contains("Fatal error"), "\(l.err)")
        try vaultOverwrite(f.vault + "/log", with: log)
        // The same in a signed head.
        #expect(try f.avault(["keys", "generate", "s", "--signing", "--unprotected"]).code == 0)
        #expect(try f.avault(["vault", "log", "--sign", "s"]).code == 0)
        let heads = try vaultRead(f.vault + "/log.heads")
        try vaultOverwrite(f.vault + "/log.heads", with: heads + Data("{\"seq\":\(number),\"hash\":\"\(String(repeating: "0", count: 64))\",\"keyId\":\"0\",\"signature\":\"\",\"trustedComment\":\"\",\"globalSignature\":\"\"}\n".utf8))
        let r = try f.avault(["vault", "log", "--verify"])
        #expect(r.code == 1 && r.out.contains("problem: a signed head is malformed"), "head seq \(number): \(r.code) \(r.out) \(r.err)")
        #expect(!r.err.contains("Fatal error"), "\(r.err)")
    }
}

/// Nothing authenticates the log's lines after the index's head (an interrupted write's), and
/// the chain has no key: anyone who can write the vault's directory can append one. Found by an
/// attack review: a write took such lines on. An `accept-rollback` numbered 2^53 − 1 left every
/// later write `the log is full` (an internal failure, while `vault verify` and `vault log
/// --verify` said it was an interrupted write); a `put` of version 2^31 − 1 burned every later
/// version of its ID, with no trace once the next write had chained it in. Such lines are now
/// refused as an alteration of the log, by every command and by `verify`, and no write takes
/// them on.
@Suite struct VaultLogTailTests {
    /// Appends `fields` (`"op":…`) to the log as one more line, numbered `seq`, chained to the last.
    static func append(_ f: VaultFixture, seq: Int, _ fields: String) throws {
        let text = String(decoding: try vaultRead(f.vault + "/log"), as: UTF8.self)
        let last = try #require(text.split(separator: "\n").last)
        let prev = Hex.encode(BLAKE2b.hash(Array(last.utf8), digestSize: 32))
        let line = #"{"seq":\#(seq),"time":"2026-12-07T21:50:00Z",\#(fields),"prev":"\#(prev)"}"# + "\n"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: f.vault + "/log"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
        try handle.close()
    }

    static func lastSeq(_ f: VaultFixture) throws -> (seq: Int, hash: String) {
        let text = String(decoding: try vaultRead(f.vault + "/log"), as: UTF8.self)
        let last = try #require(text.split(separator: "\n").last)
        let seq = try #require((try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])?["seq"] as? Int)
        return (seq, Hex.encode(BLAKE2b.hash(Array(last.utf8), digestSize: 32)))
    }

    @Test func aLogLineNumberedAboveWhatAnyWriteGivesIsRefused() throws {
        let f = try VaultFixture()
        #expect(try f.put("a", Data("first".utf8)) == 1)
        let (seq, hash) = try Self.lastSeq(f)
        let head = #"{"seq":\#(seq),"hash":"\#(hash)"}"#
        try Self.append(f, seq: VaultFiles.maxInteger, #""op":"accept-rollback","forgotten":\#(head),"index":\#(head)"#)
        let refusal = "the log was altered: entry \(VaultFiles.maxInteger) after the index's head follows entry \(seq), a number no interrupted write gives"
        let put = try f.avault(["vault", "put", "b", "-"], stdin: Data("b".utf8))
        #expect(put.code == 1 && put.err.contains(refusal) && !put.err.contains("the log is full"), "\(put.code) \(put.err)")
        let verify = try f.avault(["vault", "verify"])
        #expect(verify.code == 1 && verify.err.contains(refusal), "\(verify.code) \(verify.out)\(verify.err)")
        let log = try f.avault(["vault", "log", "--verify"])
        #expect(log.code == 1 && (log.out + log.err).contains(refusal), "\(log.code) \(log.out)\(log.err)")
        let get = try f.get("a")
        #expect(get.code == 1 && get.err.contains(refusal), "\(get.code) \(get.err)")
    }

    @Test func aPutLineThatSkipsVersionsIsNotTakenOn() throws {
        let f = try VaultFixture()
        #expect(try f.put("a", Data("first".utf8)) == 1)
        let name = try #require(try f.envelopeFiles().envelopes.first.map { String($0.prefix(32)) })
        let (seq, _) = try Self.lastSeq(f)
        try Self.append(f, seq: seq + 1, #""op":"put","object":"\#(name)","version":\#(VaultFiles.maxVersion),"size":1,"kid":"0000000000000000""#)
        let refusal = "the log was altered: entry \(seq + 1) after the index's head puts version \(VaultFiles.maxVersion) of an object whose next version is 2"
        let put = try f.avault(["vault", "put", "a", "-"], stdin: Data("second".utf8))
        #expect(put.code == 1 && put.err.contains(refusal), "\(put.code) \(put.err)")
        let verify = try f.avault(["vault", "verify", "--json"])
        #expect(verify.code == 1 && verify.out.contains(refusal), "\(verify.code) \(verify.out)\(verify.err)")
        let log = try f.avault(["vault", "log", "--verify"])
        #expect(log.code == 1 && (log.out + log.err).contains(refusal), "\(log.code) \(log.out)\(log.err)")
        // An interrupted write's own line (the next version) is still taken on, as before.
        let f2 = try VaultFixture()
        #expect(try f2.put("a", Data("first".utf8)) == 1)
        let name2 = try #require(try f2.envelopeFiles().envelopes.first.map { String($0.prefix(32)) })
        let (seq2, _) = try Self.lastSeq(f2)
        try Self.append(f2, seq: seq2 + 1, #""op":"put","object":"\#(name2)","version":2,"size":1,"kid":"0000000000000000""#)
        #expect(try f2.avault(["vault", "verify"]).code == 0)
        #expect(try f2.put("a", Data("second".utf8)) == 3)
    }
}

/// Found by an attack review: `vault get` to standard output checks a large envelope's digest
/// before it passes on a byte, reading the whole file: a sparse file of terabytes put under an
/// envelope's name held it for hours (50 s for 10 GB here) before it failed. It now reads no
/// further than the envelope of the version's size would be (with 1 MiB to spare), as `strace`
/// shows by the bytes read.
@Suite struct VaultSparseEnvelopeTests {
    @Test(.disabled(if: CLI.sanitized, "traces system calls"),
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "needs strace"))
    func aFileLargerThanItsEnvelopeIsNotReadToItsEnd() throws {
        let f = try VaultFixture()
        var rng = SeededRNG(seed: 0x5BA2_5E)
        let payload = rng.data(1_500_000)
        #expect(try f.put("big", payload) == 1)
        let envelope = f.objects + "/" + (try #require(try f.envelopeFiles().envelopes.first))
        #expect(truncate(envelope, 256 << 20) == 0)
        let trace = f.path("trace"), out = f.path("out"), err = f.path("err")
        let exit = try VaultSpawn.run(["/usr/bin/strace", "-f", "-y", "-qq", "-e", "trace=read", "-o", trace, CLI.avaultPath, "vault", "get", "big"],
                                      env: VaultSpawn.environment(f), stdout: out, stderr: err)
        #expect(exit.code == 1, "\(exit)")
        #expect(try String(contentsOfFile: err, encoding: .utf8).contains("is corrupt or was tampered with"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)).isEmpty)
        // Bytes read from the envelope, by every read on a descriptor strace names it for.
        var read = 0
        for line in try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n") where line.contains(envelope + ">") {
            if let eq = line.range(of: " = ", options: .backwards), let n = Int(line[eq.upperBound...].prefix { $0.isNumber }) { read += n }
        }
        #expect(read > 0 && read <= 4 << 20, "\(read) bytes read from the envelope")
    }
}

/// What an attacker with the vault's directory (and one key of the victim's keyring that they
/// know) can write: a config and an index under that key, and a re-chained log.
enum VaultForge {
    /// Points `config` at key `name` (whose secret the attacker knows): a new naming key sealed
    /// under it, and an empty index sealed under it that binds the log as it is.
    static func pointConfig(_ f: VaultFixture, at name: String, key: SecretBytes, kid: KeyID) throws {
        let config = try VaultFiles.Config(parsing: String(decoding: try vaultRead(f.vault + "/config"), as: UTF8.self))
        var forged = config
        forged.keyName = name
        let nonce = SecureRandom.bytes(count: 24)
        forged.namingKey = VaultFiles.Sealed(kid: kid, nonce: nonce, ciphertext: try XChaCha20Poly1305.seal(
            SecureRandom.bytes(count: 32), key: key, nonce: nonce, associatedData: config.namingKeyAssociatedData(kid: kid)))
        let lines = String(decoding: try vaultRead(f.vault + "/log"), as: UTF8.self).split(separator: "\n")
        let last = try #require(lines.last)
        let seq = try #require((try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])?["seq"] as? Int)
        let head = VaultFiles.Head(seq: seq, hash: Hex.encode(BLAKE2b.hash(Array(last.utf8), digestSize: 32)))
        let index = VaultFiles.Index(vaultID: config.vaultID, keyName: name, namingKid: kid, log: head, signedHead: nil)
        let indexNonce = SecureRandom.bytes(count: 24)
        // The attacker writes the index format the vault has (format 1 before issue 9).
        let formatOne = String(decoding: try vaultRead(f.vault + "/index"), as: UTF8.self).hasPrefix("avault-vault-index v1\n")
        let plaintext = formatOne ? Array(#"{"objects":[]}"#.utf8) : VaultFiles.indexJSON(index)
        let ad = formatOne ? Array("avault/vault/v1;index;\(config.vaultID);\(kid.hex)".utf8) : forged.indexAssociatedData(kid: kid)
        let ciphertext = try XChaCha20Poly1305.seal(plaintext, key: key, nonce: indexNonce, associatedData: ad)
        let text = (formatOne ? "avault-vault-index v1" : VaultFiles.indexMagic) + "\n\(kid.hex) \(Base64.encode(indexNonce));\(Base64.encode(ciphertext))\n"
        try vaultOverwrite(f.vault + "/config", with: Data(forged.text.utf8))
        try vaultOverwrite(f.vault + "/index", with: Data(text.utf8))
    }

    /// Edits the log's lines, then renumbers them and re-chains every `prev` (the chain has no key).
    static func rewriteLog(_ f: VaultFixture, _ edit: (inout [String]) -> Void) throws {
        var lines = String(decoding: try vaultRead(f.vault + "/log"), as: UTF8.self).split(separator: "\n").map(String.init)
        edit(&lines)
        var prev = String(repeating: "0", count: 64)
        var out = ""
        for (i, line) in lines.enumerated() {
            var text = line.replacingOccurrences(of: #"^\{"seq":\d+,"#, with: "{\"seq\":\(i + 1),", options: .regularExpression)
            text = text.replacingOccurrences(of: #""prev":"[0-9a-f]{64}"\}$"#, with: "\"prev\":\"\(prev)\"}", options: .regularExpression)
            prev = Hex.encode(BLAKE2b.hash(Array(text.utf8), digestSize: 32))
            out += text + "\n"
        }
        try vaultOverwrite(f.vault + "/log", with: Data(out.utf8))
    }
}
