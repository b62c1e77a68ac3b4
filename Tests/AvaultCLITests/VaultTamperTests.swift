import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A vault with object A (two versions of 3 chunks each) and object B (one small version),
/// and the envelope file of each.
private struct TamperScene {
    let f: VaultFixture
    let a1: String, a2: String, b1: String
    let payloadA1: Data, payloadA2: Data, payloadB1: Data

    init() throws {
        f = try VaultFixture()
        var rng = SeededRNG(seed: 0x7A3_9E4)
        payloadA1 = rng.data(150_000)
        payloadA2 = rng.data(140_000)
        payloadB1 = rng.data(100)
        var seen = Set<String>()
        func added(_ f: VaultFixture) throws -> String {
            let now = Set(try f.envelopeFiles().envelopes)
            let new = now.subtracting(seen)
            seen = now
            return try #require(new.first, "no new envelope")
        }
        #expect(try f.put("A", payloadA1) == 1)
        a1 = try added(f)
        #expect(try f.put("A", payloadA2) == 2)
        a2 = try added(f)
        #expect(try f.put("B", payloadB1) == 1)
        b1 = try added(f)
        #expect(a1.hasSuffix("-1") && a2.hasSuffix("-2") && b1.hasSuffix("-1"))
        #expect(a1.prefix(32) == a2.prefix(32))
    }

    func path(_ file: String) -> String { f.objects + "/" + file }
}

@Suite struct VaultTamperTests {
    /// Offsets in an envelope: magic 0–18, kid 19–26, stream header 27–50, then chunks of
    /// 65,553 bytes.
    static let flipOffsets: [(String, Int)] = [
        ("magic", 0), ("magic newline", 18), ("kid first byte", 19), ("kid last byte", 26),
        ("stream header", 27), ("stream header last byte", 50), ("first chunk first byte", 51),
        ("first chunk tag", 51 + 65553 - 1), ("second chunk", 51 + 65553 + 1000), ("last byte (final tag)", -1),
    ]

    @Test(arguments: flipOffsets)
    func aFlippedByteIsDetectedByGetAndVerify(_ where_: String, _ offset: Int) throws {
        let s = try TamperScene()
        let original = try vaultRead(s.path(s.a1))
        var bad = original
        bad.vaultFlip(at: offset)
        try vaultOverwrite(s.path(s.a1), with: bad)

        let g = try s.f.get("A", version: 1)
        #expect(g.code == 1, "\(where_): get of the altered version exits \(g.code): \(g.err)")
        #expect(g.err.contains("\(s.a1) is corrupt or was tampered with"), "\(where_): \(g.err)")
        #expect(g.err.contains("hint: run 'avault vault verify'"), "\(where_): \(g.err)")
        // With -o nothing appears.
        let out = s.f.path("out")
        let o = try s.f.avault(["vault", "get", "A", "--version", "1", "-o", out])
        #expect(o.code == 1, "\(where_): get -o exits \(o.code): \(o.err)")
        #expect(!FileManager.default.fileExists(atPath: out), "\(where_): get -o left a file behind")
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.f.path("")).filter { $0.hasPrefix(".avault-tmp") }.isEmpty)
        // The other version and the other object are unaffected.
        #expect(Bytes(try s.f.get("A").stdout) == Bytes(s.payloadA2))
        #expect(Bytes(try s.f.get("B").stdout) == Bytes(s.payloadB1))

        let (code, report) = try s.f.verify()
        #expect(code == 1, "\(where_): verify exits \(code)")
        #expect(report.corrupt == ["objects/" + s.a1], "\(where_): \(report)")
        #expect(report.namedIDs == ["A"], "\(where_): --json names the ID: \(report)")
        #expect(report.missing.isEmpty && report.unexpected.isEmpty && report.leftovers.isEmpty, "\(where_): \(report)")
        #expect(!report.ok)

        try vaultOverwrite(s.path(s.a1), with: original)
        #expect(try s.f.verify().code == 0, "\(where_): restored")
    }

    @Test func truncatedExtendedSwappedAndReplayedEnvelopesAreDetected() throws {
        let s = try TamperScene()
        let a1 = try vaultRead(s.path(s.a1)), a2 = try vaultRead(s.path(s.a2)), b1 = try vaultRead(s.path(s.b1))

        func expectCorrupt(_ what: String, _ files: [String], versions: [(String, Int)], sourceLocation: SourceLocation = #_sourceLocation) throws {
            for (id, v) in versions {
                let g = try s.f.get(id, version: v)
                #expect(g.code == 1, "\(what): get \(id) v\(v) exits \(g.code): \(g.err)", sourceLocation: sourceLocation)
                #expect(g.err.contains("is corrupt or was tampered with"), "\(what): \(g.err)", sourceLocation: sourceLocation)
            }
            let (code, report) = try s.f.verify()
            #expect(code == 1, "\(what): verify exits \(code)", sourceLocation: sourceLocation)
            #expect(Set(report.corrupt) == Set(files.map { "objects/" + $0 }), "\(what): \(report)", sourceLocation: sourceLocation)
            #expect(report.missing.isEmpty && report.unexpected.isEmpty, "\(what): \(report)", sourceLocation: sourceLocation)
        }
        func restore() throws {
            try vaultOverwrite(s.path(s.a1), with: a1)
            try vaultOverwrite(s.path(s.a2), with: a2)
            try vaultOverwrite(s.path(s.b1), with: b1)
            let (code, report) = try s.f.verify()
            #expect(code == 0, "restored: \(report)")
        }

        // Truncations, including exactly at a chunk boundary (a whole final chunk dropped).
        for length in [0, 10, 27, 51, 51 + 65553, 51 + 2 * 65553, a1.count - 17, a1.count - 1] {
            try vaultOverwrite(s.path(s.a1), with: a1.prefix(length))
            try expectCorrupt("truncated to \(length)", [s.a1], versions: [("A", 1)])
            try restore()
        }
        // Extensions: one byte, an empty-looking chunk, a copy of the last chunk.
        for (what, tail) in [("one byte", Data([0])), ("17 bytes", Data(count: 17)), ("a repeated last chunk", a1.suffix(150_000 - 2 * 65536 + 17))] {
            try vaultOverwrite(s.path(s.a1), with: a1 + tail)
            try expectCorrupt("appended \(what)", [s.a1], versions: [("A", 1)])
            try restore()
        }
        // A middle chunk dropped, and two chunks reordered.
        let c0 = a1[51..<(51 + 65553)], c1 = a1[(51 + 65553)..<(51 + 2 * 65553)], c2 = a1[(51 + 2 * 65553)...]
        try vaultOverwrite(s.path(s.a1), with: a1.prefix(51) + c0 + c2)
        try expectCorrupt("middle chunk dropped", [s.a1], versions: [("A", 1)])
        try restore()
        try vaultOverwrite(s.path(s.a1), with: a1.prefix(51) + c1 + c0 + c2)
        try expectCorrupt("chunks reordered", [s.a1], versions: [("A", 1)])
        try restore()

        // Renames: A-1 ↔ B-1 (another object), A-1 ↔ A-2 (another version).
        try Self.swap(s.path(s.a1), s.path(s.b1))
        try expectCorrupt("A-1 and B-1 swapped", [s.a1, s.b1], versions: [("A", 1), ("B", 1)])
        try Self.swap(s.path(s.a1), s.path(s.b1))
        try Self.swap(s.path(s.a1), s.path(s.a2))
        try expectCorrupt("A-1 and A-2 swapped", [s.a1, s.a2], versions: [("A", 1), ("A", 2)])
        try Self.swap(s.path(s.a1), s.path(s.a2))
        // Replay: version 1's bytes as version 2.
        try vaultOverwrite(s.path(s.a2), with: a1)
        try expectCorrupt("version 1 replayed as version 2", [s.a2], versions: [("A", 2)])
        try restore()
        // An envelope from another vault under the same key, under the same file name.
        let otherVault = s.f.path("other-vault")
        #expect(try s.f.avault(["vault", "init", "--key", "drafts", "--vault", otherVault]).code == 0)
        #expect(try s.f.avault(["vault", "put", "A", "-", "--vault", otherVault], stdin: s.payloadA1).code == 0)
        let foreignSameKey = try vaultRead(otherVault + "/objects/" + (try FileManager.default.contentsOfDirectory(atPath: otherVault + "/objects").first!))
        try vaultOverwrite(s.path(s.a1), with: foreignSameKey)
        try expectCorrupt("an envelope from another vault with the same key", [s.a1], versions: [("A", 1)])
        try restore()
        // …and from a vault under another key: not readable here either, and verify calls it corrupt.
        let other = try VaultFixture()
        try other.put("A", s.payloadA1)
        let foreign = try vaultRead(other.objects + "/" + (try other.envelopeFiles().envelopes.first!))
        try vaultOverwrite(s.path(s.a1), with: foreign)
        expectVaultCleanFailure(try s.f.get("A", version: 1), "an envelope under a key this vault does not have")
        let (code, report) = try s.f.verify()
        #expect(code == 1 && report.corrupt == ["objects/" + s.a1], "\(report)")
        try restore()
        #expect(Bytes(try s.f.get("A", version: 1).stdout) == Bytes(s.payloadA1))
    }

    static func swap(_ x: String, _ y: String) throws {
        let t = x + ".swap"
        try #require(rename(x, t) == 0 && rename(y, x) == 0 && rename(t, y) == 0)
    }

    @Test func missingUnexpectedAndLeftoverFilesThenFsckQuarantinesWithoutDeleting() throws {
        let s = try TamperScene()
        let a1 = try vaultRead(s.path(s.a1))
        var bad = a1
        bad.vaultFlip(at: 5000)
        try vaultOverwrite(s.path(s.a1), with: bad)
        let b1 = try vaultRead(s.path(s.b1))
        #expect(unlink(s.path(s.b1)) == 0)
        let strayName = String(repeating: "ab", count: 16) + "-1"
        try CLI.write("stray envelope-looking file", to: URL(fileURLWithPath: s.path(strayName)))
        try CLI.write("junk", to: URL(fileURLWithPath: s.path("README")))
        try CLI.write("half-written", to: URL(fileURLWithPath: s.path(".tmp-0123456789abcdef")))

        let missingGet = try s.f.get("B")
        expectVaultCleanFailure(missingGet, "get of a deleted envelope")
        #expect(missingGet.err.contains(s.b1), "names the file: \(missingGet.err)")

        var (code, report) = try s.f.verify()
        #expect(code == 1)
        #expect(report.corrupt == ["objects/" + s.a1], "\(report)")
        #expect(report.missing == ["objects/" + s.b1], "\(report)")
        #expect(Set(report.unexpected) == ["objects/" + strayName, "objects/README"], "\(report)")
        #expect(report.leftovers == ["objects/.tmp-0123456789abcdef"], "\(report)")
        let text = try s.f.avault(["vault", "verify"])
        #expect(text.code == 1)
        // Listed files are named by ID and version, then by file.
        #expect(text.out.contains("(objects/\(s.a1))") && text.out.contains("(objects/\(s.b1))"), "\(text.out)")
        #expect(text.out.contains("corrupt: '") && text.out.contains("missing: '"), "\(text.out)")

        // fsck is a writer: it first removes what interrupted writes left (the temporary file,
        // logged), then moves every corrupt or unexpected file aside.
        let fsck = try s.f.avault(["vault", "fsck"])
        #expect(fsck.code == 1, "fsck with a missing envelope exits 1: \(fsck.code) \(fsck.err)")
        #expect(fsck.out.components(separatedBy: "moved aside: ").count - 1 == 3, "\(fsck.out)")
        #expect(!FileManager.default.fileExists(atPath: s.path(".tmp-0123456789abcdef")))
        // Nothing else deleted: every moved file is in quarantine/ with its bytes.
        let quarantine = s.f.vault + "/quarantine"
        let q = try FileManager.default.contentsOfDirectory(atPath: quarantine)
        #expect(q.count == 3, "\(q)")
        let contents = try Set(q.map { try vaultRead(quarantine + "/" + $0) })
        #expect(contents == [bad, Data("stray envelope-looking file".utf8), Data("junk".utf8)])
        for name in [s.a1, strayName, "README"] {
            #expect(q.contains { $0.hasPrefix(name + ".") }, "\(name) not in quarantine: \(q)")
            #expect(!FileManager.default.fileExists(atPath: s.path(name)))
        }

        (code, report) = try s.f.verify()
        #expect(code == 1)
        #expect(report.corrupt.isEmpty && report.unexpected.isEmpty && report.leftovers.isEmpty, "\(report)")
        #expect(Set(report.missing) == ["objects/" + s.a1, "objects/" + s.b1], "the index still lists them: \(report)")
        #expect(Bytes(try s.f.get("A").stdout) == Bytes(s.payloadA2), "the good version survives fsck")
        // The log records the recovery and the fsck.
        let log = try s.f.avault(["vault", "log", "--json"]).out
        #expect(log.contains("\"op\":\"recover\",\"temporary\":1"), "\(log)")
        #expect(log.contains("\"op\":\"fsck\""), "\(log)")

        // Restoring the good bytes brings verify back to 0.
        try CLI.write("", to: URL(fileURLWithPath: s.path(s.a1)))
        try vaultOverwrite(s.path(s.a1), with: a1)
        try CLI.write("", to: URL(fileURLWithPath: s.path(s.b1)))
        try vaultOverwrite(s.path(s.b1), with: b1)
        #expect(try s.f.verify().code == 0)
        #expect(try s.f.avault(["vault", "fsck"]).code == 0)
    }

    /// fsck "never deletes": a file quarantined under a name that was quarantined before in
    /// the same second must not replace the earlier one. (An interrupted put leaves
    /// `<name>-<v>` unexpected; the next put of that ID reuses version v; if that is
    /// interrupted too, fsck quarantines a second file of the same name.)
    @Test func fsckNeverOverwritesAnEarlierQuarantinedFile() throws {
        let f = try VaultFixture()
        let name = String(repeating: "cd", count: 16) + "-1"
        var planted: [Data] = []
        for round in 0..<3 {
            for copy in 0..<2 {
                let content = Data("unexpected round \(round) copy \(copy)".utf8)
                try CLI.write(String(decoding: content, as: UTF8.self), to: URL(fileURLWithPath: f.objects + "/" + name))
                planted.append(content)
                let r = try f.avault(["vault", "fsck"])
                #expect(r.code == 1, "fsck exits 1 when it moved a file aside: \(r.err)")
            }
        }
        let quarantine = f.vault + "/quarantine"
        let kept = try Set(FileManager.default.contentsOfDirectory(atPath: quarantine).map { try vaultRead(quarantine + "/" + $0) })
        let lost = planted.filter { !kept.contains($0) }.map { String(decoding: $0, as: UTF8.self) }
        #expect(lost.isEmpty, "fsck replaced earlier quarantined files: lost \(lost)")
    }

    /// What `fsck` moves aside under names no ID has (a planted envelope-looking file, junk)
    /// was cleared by no command (`vault purge ID` reaches only the ID's names): `vault purge
    /// --quarantined --force` deletes all of it, logged, in both stores.
    @Test(arguments: VaultStore.allCases) func purgeQuarantinedDeletesWhatFsckKept(store: VaultStore) throws {
        let f = try VaultFixture(store: store)
        #expect(try f.put("doc", Data("the draft".utf8)) == 1)
        let stray = String(repeating: "ab", count: 16) + "-1"
        if store.isPostgres {
            _ = try f.psql("INSERT INTO avault_envelopes (name, chunk, bytes) VALUES ('\(stray)', 0, '\\x00')")
        } else {
            try CLI.write("stray envelope-looking file", to: URL(fileURLWithPath: f.objects + "/" + stray))
            try CLI.write("junk", to: URL(fileURLWithPath: f.objects + "/README"))
        }
        #expect(try f.avault(["vault", "fsck"]).code == 1)
        let kept = try f.verify().report.quarantined
        #expect(kept.count == (store.isPostgres ? 1 : 2), "\(kept)")
        for args in [["vault", "purge", "--quarantined"], ["vault", "purge", "--force"], ["vault", "purge", "doc", "--quarantined", "--force"]] {
            let usage = try f.avault(args)
            #expect(usage.code == 64 && usage.out.isEmpty, "\(args): \(usage.code) \(usage.err)")
        }
        #expect(try f.verify().report.quarantined == kept)
        if !store.isPostgres {
            // A directory planted there (nothing moves one aside) stops the purge before it deletes anything.
            #expect(mkdir(f.vault + "/quarantine/planted", 0o700) == 0)
            let refused = try f.avault(["vault", "purge", "--quarantined", "--force"])
            #expect(refused.code == 2 && refused.err.contains("quarantine/planted: is a directory"), "\(refused.code) \(refused.err)")
            #expect(try f.verify().report.quarantined == (kept + ["quarantine/planted"]).sorted())
            #expect(rmdir(f.vault + "/quarantine/planted") == 0)
        }
        let purged = try f.avault(["vault", "purge", "--quarantined", "--force"])
        #expect(purged.code == 0 && purged.out == "deleted \(kept.count) file\(kept.count == 1 ? "" : "s") kept in quarantine\n", "\(purged.out)\(purged.err)")
        let (code, report) = try f.verify()
        #expect(code == 0 && report.quarantined.isEmpty, "\(report)")
        if !store.isPostgres { #expect(try FileManager.default.contentsOfDirectory(atPath: f.vault + "/quarantine").isEmpty) }
        let log = try f.avault(["vault", "log", "--json"]).out
        #expect(log.contains("\"op\":\"purge-quarantine\",\"quarantined\":\(kept.count)"), "\(log)")
        #expect(try f.avault(["vault", "log", "--verify"]).code == 0)
        #expect(try f.get("doc").stdout == Data("the draft".utf8))
        let again = try f.avault(["vault", "purge", "--quarantined", "--force"])
        #expect(again.code == 0 && again.out == "deleted 0 files kept in quarantine\n", "\(again.out)\(again.err)")
    }

    /// A file whose name is not UTF-8 (or holds a `\`) planted among the envelopes is reported
    /// under its `\xNN` name, one name per file, and fsck moves that very file aside (read into
    /// a Swift string, `x<0xff>` would have been `x<U+FFFD>`: a name fsck could not move).
    @Test func namesThatAreNotUTF8AreReportedAndMovedAside() throws {
        let f = try VaultFixture()
        try f.put("doc", Data("payload".utf8))
        let planted: [(raw: [UInt8], shown: String)] = [
            (Array("x".utf8) + [0xFF] + Array("y".utf8), "x\\xffy"),
            (Array("x".utf8) + [0xEF, 0xBF, 0xBD] + Array("y".utf8), "x\u{FFFD}y"),
            (Array("a\\xffy".utf8), "a\\x5cxffy"),
        ]
        for (i, p) in planted.enumerated() {
            let fd = (Array(f.objects.utf8) + [UInt8(ascii: "/")] + p.raw + [0]).withUnsafeBufferPointer {
                open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT | O_EXCL, 0o600)
            }
            try #require(fd >= 0)
            _ = write(fd, "planted \(i)", "planted \(i)".utf8.count)
            close(fd)
        }
        let (code, report) = try f.verify()
        #expect(code == 1)
        #expect(Set(report.unexpected) == Set(planted.map { "objects/" + $0.shown }), "\(report)")
        let fsck = try f.avault(["vault", "fsck"])
        #expect(fsck.code == 1 && fsck.out.components(separatedBy: "moved aside: ").count - 1 == 3, "\(fsck.out) \(fsck.err)")
        let objects = try FileManager.default.contentsOfDirectory(atPath: f.objects)
        #expect(objects.count == 1, "only the one envelope stays: \(objects)")
        let quarantine = f.vault + "/quarantine"
        let kept = try Set(FileManager.default.contentsOfDirectory(atPath: quarantine).map { try vaultRead(quarantine + "/" + $0) })
        #expect(kept == Set((0..<3).map { Data("planted \($0)".utf8) }))
        #expect(try f.verify().code == 0)
    }

    /// A file in entries/ under a name no writer gives an entry file (one that is not UTF-8 or
    /// holds a backslash included) is someone else's: `verify` reports it as unexpected, a write
    /// that recovers leaves it, and `fsck` moves it into quarantine/. Only what writers leave
    /// (an entry above the head, a temporary file) is a leftover that recovery removes.
    @Test func entryFilesUnderNamesNoWriterGivesAreUnexpectedAndMovedAside() throws {
        let f = try VaultFixture()
        try f.put("doc", Data("payload".utf8))
        let entries = f.vault + "/entries"
        let before = try Set(FileManager.default.contentsOfDirectory(atPath: entries))
        let entry = try #require(before.first { !$0.hasPrefix(".") })
        let planted: [(raw: [UInt8], shown: String)] = [
            (Array("x".utf8) + [0xFF] + Array("y".utf8), "x\\xffy"),
            (Array("a\\xffy".utf8), "a\\x5cxffy"),
            (Array("notes.txt".utf8), "notes.txt"),
            (Array((entry.prefix(32).uppercased() + ".1").utf8), entry.prefix(32).uppercased() + ".1"),
            (Array(".tmp-0123456789ABCDEF".utf8), ".tmp-0123456789ABCDEF"),
            // Names whose quarantine name must be cut to fit NAME_MAX (a review found fsck failing).
            ([UInt8](repeating: 0xFF, count: 64), String(repeating: "\\xff", count: 64)),
            (Array(String(repeating: "n", count: 250).utf8), String(repeating: "n", count: 250)),
        ]
        // What an interrupted writer leaves: an entry above the head, a temporary file.
        let leftovers = [String(entry.prefix(32)) + ".900000", ".avault-tmp-0123456789abcdef", ".tmp-0123456789abcdef"]
        for raw in planted.map(\.raw) + leftovers.map({ Array($0.utf8) }) {
            let fd = (Array(entries.utf8) + [UInt8(ascii: "/")] + raw + [0]).withUnsafeBufferPointer {
                open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT | O_EXCL, 0o600)
            }
            try #require(fd >= 0)
            _ = write(fd, "planted", 7)
            close(fd)
        }
        // One larger than an entry may be: listed by name, never read (a review saw every such
        // file read whole on each full read of the state, now that they stay until fsck).
        let big = open(entries + "/big", O_WRONLY | O_CREAT | O_EXCL, 0o600)
        try #require(big >= 0)
        #expect(ftruncate(big, 65 << 20) == 0)
        close(big)
        let unexpected = Set(planted.map { "entries/" + $0.shown } + ["entries/big"])
        let (code, report) = try f.verify()
        #expect(code == 1 && Set(report.unexpected) == unexpected && Set(report.leftovers) == Set(leftovers.map { "entries/" + $0 }), "\(report)")
        // vault copy refuses to carry them, before it writes anything.
        let copy = try f.avault(["vault", "copy", "--to", f.vault + "-copy"])
        #expect(copy.code == 1 && copy.err.contains("no writer of avault made") && copy.err.contains("nothing was copied")
                && copy.err.contains("hint: 'avault vault verify' lists them"), "\(copy.code) \(copy.err)")
        #expect(!FileManager.default.fileExists(atPath: f.vault + "-copy"))
        // A put into the bucket that holds a leftover reads the whole state and recovers: it
        // removes the leftovers, not the others.
        #expect(try f.avault(["vault", "put", "doc", "-"], stdin: Data("second".utf8)).code == 0)
        let recovered = try f.verify()
        #expect(recovered.code == 1 && Set(recovered.report.unexpected) == unexpected && recovered.report.leftovers.isEmpty, "\(recovered.report)")
        let fsck = try f.avault(["vault", "fsck"])
        #expect(fsck.code == 1, "fsck exits 1 when it moved something aside: \(fsck.out) \(fsck.err)")
        #expect(fsck.out.components(separatedBy: "moved aside: ").count == planted.count + 2, "\(fsck.out)")
        let now = try Set(FileManager.default.contentsOfDirectory(atPath: entries))
        #expect(now.count == before.count && now.allSatisfy { !$0.hasPrefix(".") && $0.hasPrefix(entry.prefix(32)) }, "\(now)")
        let quarantined = try FileManager.default.contentsOfDirectory(atPath: f.vault + "/quarantine")
        #expect(quarantined.count == planted.count + 1)
        for name in quarantined where !name.hasPrefix("big.") { #expect(try vaultRead(f.vault + "/quarantine/" + name) == Data("planted".utf8)) }
        let copied = try f.avault(["vault", "copy", "--to", f.vault + "-copy"])
        #expect(copied.code == 0, "\(copied.err)")
        try? FileManager.default.removeItem(atPath: f.vault + "-copy")
        let again = try f.verify()
        #expect(again.code == 0 && again.report.unexpected.isEmpty && again.report.leftovers.isEmpty, "\(again.report)")
        #expect(try f.get("doc").stdout == Data("second".utf8))
    }

    /// What no writer makes — a link, a directory, a FIFO, a file others can read — under any
    /// name but a current entry's is unexpected: reported, left by recovery, refused by `copy`,
    /// moved aside by `fsck` (these made `verify` and `fsck` exit 2, and a directory under a
    /// temporary file's name made every write fail, until someone removed them by hand).
    @Test func strangeFilesOfAnyKindAreMovedAside() throws {
        let f = try VaultFixture()
        try f.put("doc", Data("payload".utf8))
        let entries = f.vault + "/entries", objects = f.vault + "/objects"
        let entry = try #require(try FileManager.default.contentsOfDirectory(atPath: entries).first)
        let envelope = try #require(try FileManager.default.contentsOfDirectory(atPath: objects).first)
        func plant(_ path: String, _ kind: String) throws {
            let ok = switch kind {
            case "link": symlink(f.vault + "/config", path) == 0
            case "directory": mkdir(path, 0o700) == 0
            case "fifo": mkfifo(path, 0o600) == 0
            default: FileManager.default.createFile(atPath: path, contents: Data("planted".utf8), attributes: [.posixPermissions: 0o644])
            }
            try #require(ok, "\(kind) at \(path)")
        }
        let entryName = String(entry.prefix(32)), envelopeName = String(envelope.dropLast())
        let planted: [(String, String)] = [
            ("entries/link", "link"), ("entries/directory", "directory"), ("entries/fifo", "fifo"), ("entries/readable", "file"),
            ("entries/.tmp-0123456789abcdef", "directory"), ("entries/.avault-tmp-0123456789abcdef", "link"),
            ("entries/\(entryName).900000", "fifo"), ("entries/\(entryName).900001", "link"),
            ("objects/directory", "directory"), ("objects/.tmp-0123456789abcdef", "directory"), ("objects/.tmp-0123456789abcdee", "link"),
            ("objects/\(envelopeName)9", "fifo"),
        ]
        for (name, kind) in planted { try plant(f.vault + "/" + name, kind) }
        // What writers leave, whatever its mode: removed, not reported.
        try plant(entries + "/.tmp-0123456789abcdee", "file")
        try plant(objects + "/.tmp-0123456789abcded", "file")
        // The root is not surveyed; a directory there under a temporary file's name is not removed.
        try plant(f.vault + "/.avault-tmp-0123456789abcdef", "directory")
        let unexpected = Set(planted.map { $0.0 })
        let (code, report) = try f.verify()
        #expect(code == 1 && Set(report.unexpected) == unexpected && Set(report.leftovers) == ["entries/.tmp-0123456789abcdee", "objects/.tmp-0123456789abcded"], "\(report)")
        #expect(try f.get("doc").stdout == Data("payload".utf8))
        let copy = try f.avault(["vault", "copy", "--to", f.vault + "-copy"])
        #expect(copy.code == 1 && copy.err.contains("nothing was copied"), "\(copy.code) \(copy.err)")
        // A write recovers: the leftovers go, the rest stays.
        #expect(try f.avault(["vault", "put", "doc", "-"], stdin: Data("second".utf8)).code == 0)
        let recovered = try f.verify()
        #expect(recovered.code == 1 && Set(recovered.report.unexpected) == unexpected && recovered.report.leftovers.isEmpty, "\(recovered.report)")
        let fsck = try f.avault(["vault", "fsck"])
        #expect(fsck.code == 1 && fsck.out.components(separatedBy: "moved aside: ").count == planted.count + 1, "\(fsck.out) \(fsck.err)")
        let again = try f.verify()
        #expect(again.code == 0 && again.report.unexpected.isEmpty, "\(again.report)")
        // Moved as they were: the link itself, not what it points to.
        let quarantined = try FileManager.default.contentsOfDirectory(atPath: f.vault + "/quarantine")
        #expect(quarantined.count == planted.count)
        var kinds: [String: Int] = [:]
        for name in quarantined {
            let a = try FileManager.default.attributesOfItem(atPath: f.vault + "/quarantine/" + name)
            kinds[(a[.type] as? FileAttributeType)?.rawValue ?? "?", default: 0] += 1
        }
        #expect(kinds == [FileAttributeType.typeSymbolicLink.rawValue: 4, FileAttributeType.typeDirectory.rawValue: 4,
                          "NSFileTypeUnknown": 3, FileAttributeType.typeRegular.rawValue: 1], "\(kinds)")
        #expect(try vaultRead(f.vault + "/config").count > 0)
        #expect(try f.get("doc").stdout == Data("second".utf8))
        #expect(FileManager.default.fileExists(atPath: f.vault + "/.avault-tmp-0123456789abcdef"))
    }

    /// A vault whose config alone was removed (the file, or its row) was "no vault" (exit 2) with
    /// the hint to run `vault init`, which then wrote a new vault over the rest: the log replaced
    /// by a new one, the envelopes and entries left as strays. It is now said as what it is (exit
    /// 1), and init refuses to write over it. What an interrupted init leaves (a log of its one
    /// entry and an index) is still written over.
    @Test(arguments: [VaultStore.files, .postgres]) func aVaultWithoutItsConfigIsNotWrittenOver(store: VaultStore) throws {
        let f = try VaultFixture(store: store)
        try f.put("doc", Data("payload".utf8))
        let log = try f.readLog()
        if store.isPostgres { try f.psql("DELETE FROM avault_files WHERE name = 'config'") } else { try FileManager.default.removeItem(atPath: f.vault + "/config") }
        let said = "has no vault config, yet holds a log of 2 entries, "
        for args in [["vault", "list"], ["vault", "verify"], ["vault", "init", "--key", f.keyName]] {
            let r = try f.avault(args)
            #expect(r.code == 1 && r.err.contains(said) && r.err.contains("the config was removed")
                    && r.err.contains("avault: hint: restore the config from a backup"), "\(args): \(r.code) \(r.err)")
        }
        #expect(try f.readLog() == log)
        if store.isPostgres {
            // The schema's version rows deleted too (a review found "no vault", with the hint to init).
            try f.psql("DELETE FROM avault_schema_version")
            let r = try f.avault(["vault", "list"])
            #expect(r.code == 1 && r.err.contains(said) && r.err.contains("the config was removed"), "\(r.code) \(r.err)")
            #expect(try f.avault(["vault", "init", "--key", f.keyName]).code == 1)
            #expect(try f.readLog() == log)
        }
        // What an interrupted init leaves: a store with the log of an init and an index only.
        let g = try VaultFixture(store: store)
        if store.isPostgres { try g.psql("DELETE FROM avault_files WHERE name = 'config'") } else { try FileManager.default.removeItem(atPath: g.vault + "/config") }
        let list = try g.avault(["vault", "list"])
        #expect(list.code == 2 && list.err.hasPrefix("avault: no vault at "), "\(list.err)")
        let again = try g.avault(["vault", "init", "--key", g.keyName])
        #expect(again.code == 0, "\(again.err)")
        // Nothing left but what an interrupted init leaves, and the quarantine: still a vault's.
        let h = try VaultFixture(store: store)
        try h.put("doc", Data("payload".utf8))
        if store.isPostgres {
            try h.psql("DELETE FROM avault_files WHERE name = 'config' OR name LIKE 'entries/%'")
            try h.psql("INSERT INTO avault_quarantine SELECT name, chunk, bytes FROM avault_envelopes")
            try h.psql("DELETE FROM avault_envelopes")
            try h.psql("DELETE FROM avault_log WHERE seq > 1")
        } else {
            for sub in ["objects", "entries"] {
                for name in try FileManager.default.contentsOfDirectory(atPath: h.vault + "/" + sub) {
                    try FileManager.default.moveItem(atPath: h.vault + "/\(sub)/" + name, toPath: h.vault + "/quarantine/" + name)
                }
            }
            try FileManager.default.removeItem(atPath: h.vault + "/config")
            let first = try h.readLog().split(separator: 0x0A)[0]
            try h.writeLog(Data(first) + Data("\n".utf8))
        }
        let over = try h.avault(["vault", "init", "--key", h.keyName])
        #expect(over.code == 1 && over.err.contains("quarantine"), "\(over.code) \(over.err)")
    }

    @Test func tamperedConfigIsAlwaysACleanErrorNeverACrashOrASilentPass() throws {
        let f = try VaultFixture()
        try f.put("doc", Data("payload".utf8))
        let config = f.vault + "/config"
        let original = try vaultRead(config)
        let text = String(decoding: original, as: UTF8.self)
        #expect(text.hasPrefix("avault-vault v1\nid: "))
        // Every line, each in a few places; the naming-key line more sparsely.
        var offsets = Set<Int>()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var start = 0
        for line in lines.dropLast() {
            let n = line.utf8.count
            for k in stride(from: 0, to: n, by: max(1, n / 6)) { offsets.insert(start + k) }
            offsets.insert(start + n - 1)
            offsets.insert(start + n) // the newline
            start += n + 1
        }
        var silent: [String] = []
        for offset in offsets.sorted() {
            var bad = original
            bad.vaultFlip(at: offset)
            try vaultOverwrite(config, with: bad)
            let where_ = "config byte \(offset) (\(Self.describe(text, offset)))"
            let v = try f.avault(["vault", "verify"])
            if v.code == 0 { silent.append(where_) } else { expectVaultCleanFailure(v, "verify with " + where_) }
            let p = try f.avault(["vault", "put", "doc", "-"], stdin: Data("new".utf8))
            expectVaultCleanFailure(p, "put with " + where_)
            try vaultOverwrite(config, with: original)
        }
        #expect(silent.isEmpty, "vault verify passes although the config was altered at: \(silent.joined(separator: "; "))")
        // Truncated, empty, removed.
        for cut in [0, 10, original.count / 2, original.count - 1] {
            try vaultOverwrite(config, with: original.prefix(cut))
            expectVaultCleanFailure(try f.avault(["vault", "list"]), "config cut to \(cut)")
            expectVaultCleanFailure(try f.get("doc"), "config cut to \(cut)")
        }
        try vaultOverwrite(config, with: original)
        #expect(chmod(config, 0o644) == 0)
        let loose = try f.get("doc")
        expectVaultCleanFailure(loose, "config mode 644")
        #expect(chmod(config, 0o600) == 0)
        #expect(unlink(config) == 0)
        // No config, the rest of the vault there: removed, not "no vault" (see aVaultWithoutItsConfigIsNotWrittenOver).
        let none = try f.get("doc")
        #expect(none.code == 1)
        #expect(none.err.contains("has no vault config, yet holds"), "\(none.err)")
    }

    static func describe(_ text: String, _ offset: Int) -> String {
        let bytes = Array(text.utf8)
        let lineStart = bytes[..<offset].lastIndex(of: 10).map { $0 + 1 } ?? 0
        let label = String(decoding: bytes[lineStart...].prefix { $0 != 10 && $0 != 32 }.prefix(12), as: UTF8.self)
        return "line '\(label)…' +\(offset - lineStart)"
    }

    @Test func tamperedIndexIsAlwaysACleanError() throws {
        let f = try VaultFixture()
        try f.put("doc", Data("payload".utf8))
        let index = f.vault + "/index"
        let original = try vaultRead(index)
        for offset in Array(stride(from: 0, to: original.count, by: max(1, original.count / 40))) + [original.count - 2, original.count - 1] {
            var bad = original
            bad.vaultFlip(at: offset)
            try vaultOverwrite(index, with: bad)
            let l = try f.avault(["vault", "list"])
            expectVaultCleanFailure(l, "list with index byte \(offset) flipped")
            let v = try f.avault(["vault", "verify"])
            expectVaultCleanFailure(v, "verify with index byte \(offset) flipped")
            try vaultOverwrite(index, with: original)
        }
        // A flipped ciphertext byte is tampering (exit 1), not a format error.
        var bad = original
        bad.vaultFlip(at: -5)
        try vaultOverwrite(index, with: bad)
        let g = try f.get("doc")
        #expect(g.code == 1, "\(g.err)")
        #expect(g.err.contains("the index does not authenticate"), "\(g.err)")
        for cut in [0, 5, original.count / 2, original.count - 1] {
            try vaultOverwrite(index, with: original.prefix(cut))
            expectVaultCleanFailure(try f.get("doc"), "index cut to \(cut)")
            expectVaultCleanFailure(try f.avault(["vault", "put", "doc", "-"], stdin: Data("x".utf8)), "put with the index cut to \(cut)")
        }
        // Another vault's index (same key): does not authenticate here.
        let other = try VaultFixture()
        try other.put("doc", Data("other".utf8))
        try vaultOverwrite(index, with: try vaultRead(other.vault + "/index"))
        expectVaultCleanFailure(try f.get("doc"), "another vault's index")
        try vaultOverwrite(index, with: original)
        #expect(unlink(index) == 0)
        let none = try f.get("doc")
        #expect(none.code == 2)
        #expect(none.err.contains("the vault has no index"), "\(none.err)")
        try CLI.write("", to: URL(fileURLWithPath: index))
        try vaultOverwrite(index, with: original)
        #expect(try f.get("doc").out == "payload")
    }

    /// An older copy of the index authenticates, but it is older than the keyring has seen:
    /// a rollback (see VaultRollbackTests).
    @Test func rolledBackIndexIsRefused() throws {
        let f = try VaultFixture()
        try f.put("doc", Data("one".utf8))
        let old = try vaultRead(f.vault + "/index")
        try f.put("doc", Data("two".utf8))
        try vaultOverwrite(f.vault + "/index", with: old)
        let r = try f.avault(["vault", "verify"])
        #expect(r.code == 1, "\(r.out) \(r.err)")
        #expect(r.err.contains("the vault was rolled back: this keyring has seen entry 3 of its log, but its index was written at entry 2"), "\(r.err)")
    }
}
