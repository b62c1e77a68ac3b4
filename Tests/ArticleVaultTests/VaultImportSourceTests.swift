@testable import ArticleVault
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `vault import` reads each record for its ID, then opens it again to store it (holding one
/// file open at a time). Between the two, someone who can write the directory being imported
/// could swap a record for a link to a file of the importer's (a private key, a keyring) and
/// have it encrypted into a vault others read. The second open must find the file the first
/// one read, unchanged, or store nothing.
@Suite struct VaultImportSourceTests {
    static let record = "---\ntitle: A record\nwebUrl: \"https://example.org/a\"\n---\nbody\n"

    /// A record in its own directory, its identity as the first reading took it, and a file
    /// that is not a record (the importer's secret).
    struct Setup {
        let scene: VaultStreamingTests.Scene
        let path: String
        let identity: FileSystem.Identity
        let secret: String

        init() throws {
            scene = try VaultStreamingTests.Scene()
            path = scene.dir + "/record.md"
            try Data(VaultImportSourceTests.record.utf8).write(to: URL(fileURLWithPath: path))
            secret = scene.dir + "/id_secret"
            try Data("PRIVATE KEY material that must never be stored\n".utf8).write(to: URL(fileURLWithPath: secret))
            let (fd, identity) = try FileSystem.openRegular(path, seenRegular: true)
            close(fd)
            self.identity = identity
        }

        func put() throws(AvaultError) -> Int {
            try scene.vault.put([Vault.Input(id: "https://example.org/a", source: .file(path: path, identity: identity),
                                             contentType: "text/markdown")], now: VaultStreamingTests.now)[0].version
        }

        /// Replaces the record by `rename`, atomically, as an attacker would: with a link to
        /// `target`, or with a new file of `text`.
        func replace(linkTo target: String? = nil, text: String? = nil) throws {
            let swap = scene.dir + "/swap"
            if let target { try #require(symlink(target, swap) == 0) }
            if let text { try Data(text.utf8).write(to: URL(fileURLWithPath: swap)) }
            try #require(rename(swap, path) == 0)
        }

        func expectRefusedAndNothingStored(_ what: String) throws {
            let error = #expect(throws: AvaultError.self, "\(what)") { try put() }
            guard case .fileChangedMeanwhile(let named)? = error else {
                Issue.record("\(what): \(String(describing: error))")
                return
            }
            #expect(named == path)
            #expect(try scene.vault.readIndex().isEmpty, "\(what): something was stored")
        }
    }

    @Test func theFileThatWasReadIsStored() throws {
        let s = try Setup()
        #expect(try s.put() == 1)
        #expect(try s.scene.get("https://example.org/a", nil) == Array(Self.record.utf8))
    }

    @Test func aLinkToARecordIsStoredAsTheRecordItLeadsTo() throws {
        // Sites link records; the identity is the file the link leads to, both times.
        let s = try Setup()
        let link = s.scene.dir + "/link.md"
        try #require(symlink(s.path, link) == 0)
        let (fd, identity) = try FileSystem.openRegular(link, seenRegular: true)
        close(fd)
        #expect(identity == s.identity)
        _ = try s.scene.vault.put([Vault.Input(id: "linked", source: .file(path: link, identity: identity), contentType: nil)],
                                  now: VaultStreamingTests.now)
        #expect(try s.scene.get("linked", nil) == Array(Self.record.utf8))
    }

    @Test func aRecordSwappedForALinkToAnotherFileIsNotStored() throws {
        let s = try Setup()
        try s.replace(linkTo: s.secret)
        try s.expectRefusedAndNothingStored("a link to the importer's secret")
    }

    @Test func aRecordReplacedByAnIdenticalCopyIsNotStored() throws {
        // Another file, even with the same bytes, is not the one that was read.
        let s = try Setup()
        try s.replace(text: Self.record)
        try s.expectRefusedAndNothingStored("a copy")
    }

    @Test func aRecordWrittenInPlaceIsNotStored() throws {
        let s = try Setup()
        let fd = open(s.path, O_WRONLY | O_APPEND)
        try #require(fd >= 0)
        #expect(write(fd, "more\n", 5) == 5)
        close(fd)
        try s.expectRefusedAndNothingStored("appended to")
    }

    @Test func aRecordRewrittenInPlaceToTheSameSizeIsNotStored() throws {
        // The change time tells it. (Some kernels stamp it from a clock that ticks every few
        // milliseconds: the write comes after a tick.)
        let s = try Setup()
        usleep(20_000)
        let fd = open(s.path, O_WRONLY)
        try #require(fd >= 0)
        #expect(pwrite(fd, "B", 1, 0) == 1)
        close(fd)
        try s.expectRefusedAndNothingStored("rewritten in place")
    }

    /// The walk of `vault import` refuses a link out of the directory it walks; a record it
    /// found in the tree and swapped afterwards for such a link (or a file reached through a
    /// directory swapped for one) is refused when it is first opened, before it is read.
    @Test func aRecordSwappedForALinkOutOfTheWalkedTreeAfterTheWalkIsNotRead() throws {
        let s = try Setup()
        let tree = s.scene.dir + "/tree", outside = s.scene.dir + "/outside"
        try FileManager.default.createDirectory(atPath: tree + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let record = tree + "/sub/r.md"
        try Data(Self.record.utf8).write(to: URL(fileURLWithPath: record))
        try Data(Self.record.utf8).write(to: URL(fileURLWithPath: outside + "/r.md"))
        let found = try RecordWalker.expand([tree], include: RecordWalker.defaultInclude, exclude: [], links: .withinTree)
        #expect(found.map(\.path) == [record])
        let walked = try #require(found.first?.tree)
        func expectRefused(_ what: String) {
            let error = #expect(throws: AvaultError.self, "\(what)") { try RecordFile(path: record, seenRegular: true, within: walked) }
            guard case .fileChangedMeanwhile(record)? = error else { Issue.record("\(what): \(String(describing: error))"); return }
        }
        #expect(try RecordFile(path: record, seenRegular: true, within: walked).identity != nil)
        // The file swapped for a link out of the tree.
        try #require(symlink(outside + "/r.md", tree + "/swap") == 0 && rename(tree + "/swap", record) == 0)
        expectRefused("a link out of the tree")
        // Its directory swapped for one.
        try #require(unlink(record) == 0 && rename(tree + "/sub", tree + "/old") == 0 && symlink(outside, tree + "/sub") == 0)
        expectRefused("a directory swapped for a link out of the tree")
        // A link inside the tree is read.
        try #require(unlink(tree + "/sub") == 0 && symlink(tree + "/old", tree + "/sub") == 0)
        try Data(Self.record.utf8).write(to: URL(fileURLWithPath: tree + "/old/r.md"))
        #expect(try RecordFile(path: record, seenRegular: true, within: walked).identity != nil)
    }
}

/// The vault's log is read whole, up to a limit (1 GiB): an append that would take it past the
/// limit is refused, so that the vault stays readable (a log past its limit stops every
/// command, the write included).
@Suite struct VaultLogLimitTests {
    @Test func anAppendPastTheLimitIsRefusedAndLeavesTheLogAsItWas() throws {
        let scene = try VaultStreamingTests.Scene()
        let log = scene.dir + "/vault/log"
        let limit = 1 << 30
        // A log one line short of the limit (sparse: only its last byte, a newline, is written).
        let fd = open(log, O_WRONLY | O_TRUNC)
        try #require(fd >= 0)
        #expect(pwrite(fd, "\n", 1, off_t(limit - 11)) == 1)
        close(fd)
        let storage = FileVaultStorage(directory: scene.dir + "/vault")
        #expect(throws: AvaultError.self) { try storage.append("log", Array("0123456789\n".utf8) + [0x0A]) }
        var st = stat()
        #expect(stat(log, &st) == 0 && Int(st.st_size) == limit - 10)
        // What fits is written.
        try storage.append("log", Array("012345678\n".utf8))
        #expect(stat(log, &st) == 0 && Int(st.st_size) == limit)
    }
}
