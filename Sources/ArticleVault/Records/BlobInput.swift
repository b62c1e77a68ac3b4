#if canImport(Glibc)
import Glibc
#endif
import VaultCrypto
public import VaultFormat

/// A `secured` blob read from standard input or a file: in memory when it is small or starts
/// with a version tag (v2, v3: one authenticated message each, at most
/// ``SecuredBlob/wholeLimit``), else — a long v1 blob — left
/// in a file and decrypted from it a piece at a time
/// (``SecuredField/decrypt(_:using:legacy:into:)``), so memory stays bounded whatever its size.
///
/// One trailing line break (`\n` or `\r\n`) is not part of the blob: that is how text arrives
/// through a pipe or from an editor. Nothing else is trimmed.
public enum BlobInput {
    /// The whole text of a blob of at most ``streamThreshold`` bytes, or of one that starts with
    /// a version tag (``SecuredBlob/startsWithVersionTag(_:)``): a v2 blob is one AEAD message,
    /// a v3 blob one age file, and no byte of either may be released before it authenticates.
    case text(String)
    /// A longer v1 blob, whose end has been parsed.
    case legacyStream(LegacyBlobStream)

    /// Longer blobs without a version tag (v1) are streamed (64 KiB: a pipe's capacity).
    public static let streamThreshold = 65536

    /// Reads the blob in the file at `path`, or standard input for `-` (`streamThreshold` is
    /// for tests, which stream short blobs too). Input that cannot be
    /// read from its end (a pipe, a terminal) and is longer than ``streamThreshold`` is first
    /// copied to an unlinked temporary file (mode 600, in `$TMPDIR` or `/tmp`): it holds the
    /// blob as it came — ciphertext, which is public — never plaintext.
    public static func read(_ path: String, streamThreshold: Int = BlobInput.streamThreshold) throws(AvaultError) -> BlobInput {
        let name = path == "-" ? "standard input" : path
        let fd = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
        var owned = path != "-"
        defer { if owned { close(fd) } }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: name, reason: FileSystem.errnoText()) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw .io(path: name, reason: "is a directory") }
        if (st.st_mode & S_IFMT) == S_IFREG {
            // Standard input may be a file opened at some offset (`(read line; avault …) < f`).
            let start = path == "-" ? max(0, Int(lseek(fd, 0, SEEK_CUR))) : 0
            let file = try classify(fd: fd, start: start, end: max(start, Int(st.st_size)), name: name, closes: owned, threshold: streamThreshold)
            if case .legacyStream = file { owned = false } // the stream closes it
            return file
        }
        // A pipe or a terminal: read what a small blob can be, and spool the rest.
        // (Room for the line break: a blob of exactly the threshold is still held whole.)
        let limit = min(streamThreshold, SecuredBlob.wholeLimit) + 3
        let head = try FileSystem.readAll(fd: fd, name: name, limit: limit)
        if head.count < limit { return .text(text(of: head[...])) }
        if SecuredBlob.startsWithVersionTag(head) {
            // Held whole anyway: the rest read on into memory, up to the limit (not spooled).
            let whole = SecuredBlob.wholeLimit + 3
            let all = limit < whole ? head + (try FileSystem.readAll(fd: fd, name: name, limit: whole - head.count)) : head
            let blob = text(of: all[...])
            guard all.count < whole, blob.utf8.count <= SecuredBlob.wholeLimit else { throw tooLarge(name) }
            return .text(blob)
        }
        let spool = try Spool.create(name: name)
        do throws(AvaultError) {
            let copy = "the temporary copy of \(name)"
            try FileSystem.writeAll(fd: spool, head, name: copy)
            var failure: AvaultError?
            try FileSystem.forEachPiece(fd: fd, name: name) { piece in
                guard failure == nil else { return }
                do throws(AvaultError) { try FileSystem.writeAll(fd: spool, piece, name: copy) } catch { failure = error }
            }
            if let failure { throw failure }
            var sst = stat()
            guard fstat(spool, &sst) == 0 else { throw .io(path: copy, reason: FileSystem.errnoText()) }
            let file = try classify(fd: spool, start: 0, end: Int(sst.st_size), name: name, closes: true, threshold: streamThreshold)
            if case .text = file { close(spool) }
            return file
        } catch {
            close(spool)
            throw error
        }
    }

    /// A regular file's blob at `[start, end)`: its text, or a stream when long and v1
    /// (which closes `fd` when done if `closes`; otherwise `fd` stays the caller's).
    private static func classify(fd: Int32, start: Int, end: Int, name: String, closes: Bool, threshold: Int) throws(AvaultError) -> BlobInput {
        var length = end - start
        // One trailing line break is not part of the blob.
        let last2 = try FileSystem.pread(fd: fd, count: min(2, length), at: start + length - min(2, length), name: name)
        if last2.last == UInt8(ascii: "\n") { length -= last2.count == 2 && last2.first == UInt8(ascii: "\r") ? 2 : 1 }
        let head = try FileSystem.pread(fd: fd, count: min(SecuredBlob.versionTagWindow, length), at: start, name: name)
        if length <= threshold || SecuredBlob.startsWithVersionTag(head) {
            if length > SecuredBlob.wholeLimit && SecuredBlob.startsWithVersionTag(head) { throw tooLarge(name) }
            return .text(String(decoding: try FileSystem.pread(fd: fd, count: length, at: start, name: name), as: UTF8.self))
        }
        let window = min(length, SecuredBlob.v1TailWindow)
        let tail = try FileSystem.pread(fd: fd, count: window, at: start + length - window, name: name)
        let layout: SecuredBlob.V1Tail
        do { layout = try SecuredBlob.v1Tail(length: length, tail: tail) } catch { throw .malformed(error, file: nil) }
        return .legacyStream(LegacyBlobStream(fd: fd, closes: closes, start: start, layout: layout, name: name))
    }

    /// A v2 or v3 blob longer than ``SecuredBlob/wholeLimit``, refused before it is read whole.
    private static func tooLarge(_ name: String) -> AvaultError {
        .fileTooLarge(path: name, limit: SecuredBlob.wholeLimit, what: "a v2 or v3 blob (one authenticated message, read whole)")
    }

    /// The text of a small blob, one trailing line break removed.
    private static func text(of bytes: ArraySlice<UInt8>) -> String {
        var bytes = bytes
        if bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A long v1 blob in a file: where its text starts, and its end parsed (IV, ciphertext length).
public final class LegacyBlobStream {
    let fd: Int32
    private let closes: Bool
    /// The offset of the blob's first character in the file.
    let start: Int
    /// The IV and where the ciphertext field ends.
    public let layout: SecuredBlob.V1Tail
    /// The file's name in messages.
    let name: String

    init(fd: Int32, closes: Bool, start: Int, layout: SecuredBlob.V1Tail, name: String) {
        self.fd = fd
        self.closes = closes
        self.start = start
        self.layout = layout
        self.name = name
    }

    deinit { if closes { close(fd) } }
}

/// Unlinked temporary files for input that must be read twice.
enum Spool {
    /// Linux's `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`), a macro Swift does not import.
    private static let oTmpfile: Int32 = 0o20000000 | O_DIRECTORY

    /// An unlinked file, mode 600, in `$TMPDIR` (else `/tmp`), open for reading and writing.
    static func create(name: String) throws(AvaultError) -> Int32 {
        var dir = "/tmp"
        if let env = getenv("TMPDIR"), env.pointee != 0 { dir = String(cString: env) }
        // O_TMPFILE: the file never has a name; a file system without it gets one, removed at once.
        var fd = open(dir, oTmpfile | O_RDWR | O_CLOEXEC, 0o600)
        if fd < 0 {
            var template = Array((dir + "/.avault-spool-XXXXXX").utf8CString)
            fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd >= 0 {
                template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        }
        guard fd >= 0 else {
            throw .io(path: name, reason: "cannot make a temporary copy in \(dir): \(FileSystem.errnoText())")
        }
        _ = fchmod(fd, 0o600)
        return fd
    }
}
