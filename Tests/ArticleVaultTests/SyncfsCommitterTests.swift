@testable import ArticleVault
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A directory vault makes a batch of 64 files or more durable with one `syncfs` (Linux 5.8 and
/// later) instead of an `fsync` of each: every file handed over is in place whole after
/// `finish`, and nothing under a temporary name is left behind by `cancel` or by a failure.
/// (VaultDurabilityTests checks, under strace, that the syncfs comes before the renames.)
struct SyncfsCommitterTests {
    @Test func theSyncfsWayIsTakenForLargeBatchesOnlyAndWhereSyncfsReportsErrors() {
        let storage = FileVaultStorage(directory: "/nonexistent")
        #expect(storage.envelopeCommitter(batch: SyncfsEnvelopeCommitter.threshold - 1) is ParallelEnvelopeCommitter)
        #expect(storage.envelopeCommitter(batch: 1) is ParallelEnvelopeCommitter)
        let large = storage.envelopeCommitter(batch: SyncfsEnvelopeCommitter.threshold)
        #expect(FileSystem.linuxReportsSyncfsErrors ? large is SyncfsEnvelopeCommitter : large is ParallelEnvelopeCommitter)
    }

    /// Before Linux 5.8, syncfs returned 0 even when a write failed.
    @Test func kernelReleasesAreComparedByMajorAndMinor() {
        for release in ["5.8.0", "5.10.0-30-amd64", "6.1.0-13-amd64", "6.18.44-fc-v1252", "10.0"] {
            #expect(FileSystem.kernel(release, isAtLeast: (5, 8)), "\(release)")
        }
        for release in ["5.7.19", "4.19.0-27-amd64", "3.10.0-1160.el7.x86_64", "5", "", "linux"] {
            #expect(!FileSystem.kernel(release, isAtLeast: (5, 8)), "\(release)")
        }
    }

    /// syncfs is trusted on the local file systems that write every file out on it, and not on
    /// others (here /proc and /sys, which any Linux has).
    @Test func syncfsIsTrustedOnlyOnKnownLocalFileSystems() throws {
        for path in ["/proc", "/sys"] {
            let directory = try SecureDirectory(path: path, requirePrivate: false)
            #expect(!directory.syncfsIsDurable, "\(path)")
        }
        let d = try Directory()
        let expected = try BatchSync.usesSyncfs(at: d.path), type = try BatchSync.fileSystemType(d.path)
        #expect(d.directory.syncfsIsDurable == expected, "\(type)")
    }

    /// Where syncfs is not trusted, the files are committed one by one, as for a small batch.
    @Test func filesWhereSyncfsIsNotTrustedAreCommittedOneByOne() throws {
        let d = try Directory()
        let committer = SyncfsEnvelopeCommitter(isDurable: { _ in false })
        // Each is fsynced and renamed as it comes (on the fallback's threads), not held back.
        for i in 0..<100 { try committer.add(try d.sink("file-\(i)", "contents of \(i)\n")) }
        try committer.finish()
        #expect(d.names == (0..<100).map { "file-\($0)" }.sorted())
        #expect(try String(contentsOfFile: d.path + "/file-99", encoding: .utf8) == "contents of 99\n")
    }

    final class Directory {
        let path: String
        let directory: SecureDirectory
        init() throws {
            path = NSTemporaryDirectory() + "avault-syncfs-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            directory = try SecureDirectory(path: path, requirePrivate: false)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        var names: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

        func sink(_ name: String, _ text: String) throws -> FileEnvelopeSink {
            let sink = try FileEnvelopeSink(directory: directory, name: name)
            try Array(text.utf8).withUnsafeBytes { raw in Result { () throws(AvaultError) in try sink.write(raw) } }.get()
            return sink
        }
    }

    @Test func everyFileHandedOverIsInPlaceWholeAfterFinish() throws {
        let d = try Directory()
        let committer = SyncfsEnvelopeCommitter()
        for i in 0..<100 { try committer.add(try d.sink("file-\(i)", "contents of \(i)\n")) }
        // Nothing is visible under its name before finish.
        #expect(d.names.count == 100 && d.names.allSatisfy { $0.hasPrefix(".tmp-") })
        try committer.finish()
        #expect(d.names == (0..<100).map { "file-\($0)" }.sorted())
        for i in 0..<100 {
            #expect(try String(contentsOfFile: d.path + "/file-\(i)", encoding: .utf8) == "contents of \(i)\n")
        }
        committer.cancel() // harmless after finish
        #expect(d.names.count == 100)
    }

    @Test func cancelLeavesNothingBehind() throws {
        let d = try Directory()
        let committer = SyncfsEnvelopeCommitter()
        for i in 0..<80 { try committer.add(try d.sink("file-\(i)", "\(i)")) }
        committer.cancel()
        #expect(d.names.isEmpty, "\(d.names.prefix(3))")
    }

    @Test func aFailedRenameFailsTheBatchAndLeavesNoTemporaryFile() throws {
        let d = try Directory()
        let committer = SyncfsEnvelopeCommitter()
        for i in 0..<70 {
            // The 40th cannot be renamed: its name is in a directory that does not exist.
            try committer.add(try d.sink(i == 40 ? "missing/file-\(i)" : "file-\(i)", "\(i)"))
        }
        #expect(throws: AvaultError.self) { try committer.finish() }
        #expect(!d.names.contains { $0.hasPrefix(".tmp-") }, "\(d.names.filter { $0.hasPrefix(".tmp-") }.prefix(3))")
        // Those before it are in place, as with an fsync each; the batch is not acknowledged,
        // and the vault's next write recovers them as leftovers.
        #expect(d.names == (0..<40).map { "file-\($0)" }.sorted())
    }
}
