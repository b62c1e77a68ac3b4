#if canImport(Glibc)
internal import CLinux
import Glibc
#endif
import VaultCrypto
import VaultFormat

/// Where a vault keeps its bytes. The file system store is the default; `docs/architecture.md`
/// describes a PostgreSQL store behind the same protocol. Every method is called with the
/// vault's exclusive lock held, except reads, which rely on writes being atomic replacements.
public protocol VaultStorage: AnyObject {
    /// A human-readable location, for messages.
    var location: String { get }
    /// The location as the keyring remembers which vault it used there (formats.md 8.7): one text
    /// for every spelling of the same place that does not depend on what is found there (a
    /// directory's absolute path, without following links: a link planted in the vault's place
    /// must not make it another location).
    var canonicalLocation: [UInt8] { get }
    /// Whether a vault exists here (its `config` does). Throws when the location cannot be
    /// used safely (a symbolic link, a directory others can access).
    func exists() throws(AvaultError) -> Bool
    /// Creates the empty vault (fails if one exists).
    func create() throws(AvaultError)
    /// What is here of a vault beyond what an interrupted `init` leaves (a log of its one
    /// entry, an index), described for a message: a log of more entries, envelopes, index
    /// entries, signed heads. Empty when there is nothing, or no store at all.
    func vaultRemains() throws(AvaultError) -> [String]
    /// Reads a small named file (`config`, `index`, `log`, `log.heads`); nil if absent.
    func read(_ name: String) throws(AvaultError) -> [UInt8]?
    /// Replaces a small named file atomically and durably.
    func replace(_ name: String, _ bytes: [UInt8]) throws(AvaultError)
    /// Appends lines to a named file and makes them durable. A final line left unfinished by
    /// an interrupted append (never acknowledged) is dropped first, so it cannot merge with
    /// the new line.
    func append(_ name: String, _ bytes: [UInt8]) throws(AvaultError)
    /// Starts writing an envelope; nothing is visible until `commit`.
    func newEnvelope(_ file: String) throws(AvaultError) -> EnvelopeSink
    /// As ``newEnvelope(_:)``, for a store that holds no vault yet (`vault copy`'s
    /// destination): a file under the name, left by an interrupted copy, is replaced.
    func newEnvelope(replacing file: String) throws(AvaultError) -> EnvelopeSink
    /// Something that commits written envelopes of this store, several at a time where the
    /// store can (a batch then waits for its slowest commit, not for the sum of them). `batch`
    /// is how many the caller expects to hand over (at most).
    func envelopeCommitter(batch: Int) -> EnvelopeCommitter
    /// Opens a committed envelope for reading; nil if there is none of that name.
    func openEnvelope(_ file: String) throws(AvaultError) -> EnvelopeSource?
    /// Names of every file among the envelopes, and the temporary files of interrupted writes.
    func envelopeFiles() throws(AvaultError) -> (envelopes: [String], leftovers: [String])
    /// Deletes an envelope (purge, recovery) or a leftover named by `envelopeFiles`.
    func removeEnvelope(_ file: String) throws(AvaultError)
    /// Renames an envelope over another (a staged rewrap taking its place); durable after
    /// `syncEnvelopes`.
    func renameEnvelope(_ from: String, to: String) throws(AvaultError)
    /// Moves an envelope or leftover aside (fsck, recovery); returns where it went.
    func quarantine(_ file: String) throws(AvaultError) -> String
    /// Deletes what was moved aside from the envelope names of the object `name` (its envelopes,
    /// and its staged rewraps), durably: a purge leaves nothing of a draft that the vault's key
    /// still opens; everything moved aside when `name` is nil. Returns how many were deleted.
    func removeQuarantined(object name: String?) throws(AvaultError) -> Int
    /// The names of everything moved aside (by recovery, `fsck`, a staged rewrap's leftover),
    /// sorted; empty when there is nothing.
    func quarantinedFiles() throws(AvaultError) -> [String]
    /// Makes every change among the envelopes durable (one directory sync for a batch).
    func syncEnvelopes() throws(AvaultError)
    /// Makes the replacement of the small named files durable (a reader calls it before
    /// recording, in the keyring, a log head it has read).
    func syncFiles() throws(AvaultError)
    /// Every file among the per-object index entries (index formats 3 and 4, `docs/formats.md`
    /// 8.3.1) whose name starts with `prefix` (every file for ""), with its bytes, temporary files
    /// of interrupted writes included; empty when there are none. A store may list a file whose
    /// name is no entry's (``VaultFiles/parseEntryFileName(_:)``) without its bytes, and lists
    /// with nil what no writer of it makes under any name (in a directory, anything but a
    /// regular file: a link, a directory, a FIFO), which is never opened.
    func readEntries(prefix: String) throws(AvaultError) -> [(file: String, bytes: [UInt8]?)]
    /// Writes an entry file atomically and durably (visible under its name only whole);
    /// durable as a name after ``syncEntries()``.
    func writeEntry(_ file: String, _ bytes: [UInt8]) throws(AvaultError)
    /// Starts writing an entry file, committed (durable, then visible under its name whole) like
    /// an envelope, so that the ``envelopeCommitter(batch:)`` of a batch can sync several at once.
    func newEntry(_ file: String) throws(AvaultError) -> EnvelopeSink
    /// Deletes an entry file (a superseded entry, a leftover); durable after ``syncEntries()``.
    func removeEntry(_ file: String) throws(AvaultError)
    /// Whether `file`, as ``readEntries(prefix:)`` lists it, is a name this store's writers give
    /// an entry file while they write it (a leftover when a writer was interrupted).
    func isEntryTemporary(_ file: String) -> Bool
    /// Moves an entry file that no writer names so aside (fsck); returns where it went.
    func quarantineEntry(_ file: String) throws(AvaultError) -> String
    /// Makes every change among the entries durable (one directory sync).
    func syncEntries() throws(AvaultError)
    /// Runs `body` holding the vault's exclusive lock.
    func withLock<T>(_ body: () throws(AvaultError) -> T) throws(AvaultError) -> T
    /// Inside ``withLock(_:)``: makes every write of the locked section durable and visible
    /// together, before the vault records the new head in the keyring (a store whose every write
    /// is durable when it returns has nothing to do; a transactional store commits, and its lock
    /// is then released).
    func commitLocked() throws(AvaultError)
    /// Whether a locked section's writes land all together or not at all (a transaction): a
    /// writer that dies leaves nothing for the next one to recover, so a write may start from
    /// a partial read (``Vault/transaction(bucket:_:)``).
    var writesAreAtomic: Bool { get }
    /// A store whose writes are not atomic: the head at which the last locked write finished,
    /// with nothing left behind for recovery (``writeFinished(at:)``); nil when none is recorded
    /// or a write started since (``writeStarting()``). Read under the lock.
    func finishedWrite() throws(AvaultError) -> VaultFiles.Head?
    /// Forgets ``finishedWrite()`` before a write changes anything (not synced: the write's first
    /// sync of the directory makes it durable).
    func writeStarting() throws(AvaultError)
    /// Records that the write that committed `head` finished (not synced: when the record is lost,
    /// the next write recovers in full).
    func writeFinished(at head: VaultFiles.Head) throws(AvaultError)
    /// Says which reads come next: small named files, the log from line `logFromLine` on
    /// (``readLog(fromLine:)``), and the entries under `entryPrefix`. A store that can answer
    /// several at once (PostgreSQL, in one round trip) reads them now, and each answer serves
    /// the next read of its name once; any write forgets them.
    func readAhead(_ names: [String], logFromLine: Int?, entryPrefix: String?) throws(AvaultError)
    /// The log's first line and its lines from line `line` (1-based) on: what a reader whose
    /// keyring recorded a head on that line checks (formats.md 8.6). Nil when there is no log.
    func readLog(fromLine line: Int) throws(AvaultError) -> LogTail?
}

/// Part of the log: its first line, and its lines from ``start`` on.
public struct LogTail: Sendable {
    /// The first line, without its newline.
    public var first: String
    /// The line number of the first line of ``text``.
    public var start: Int
    /// The lines from ``start`` on, each ending in a newline but perhaps the last (an append cut
    /// short); empty when the log has fewer lines.
    public var text: String

    public init(first: String, start: Int, text: String) {
        self.first = first
        self.start = start
        self.text = text
    }

    /// The part of the log `bytes` (the whole file) from line `start` on; nil when it is empty.
    public init?(log bytes: [UInt8], fromLine start: Int) {
        guard !bytes.isEmpty, start >= 1 else { return nil }
        // The offset of each line's start, found with memchr, up to line `start`.
        let (firstEnd, offset): (Int, Int) = bytes.withUnsafeBufferPointer { b in
            let base = b.baseAddress!
            func nextLine(after i: Int) -> Int {
                guard i < b.count, let found = memchr(base + i, 0x0A, b.count - i) else { return b.count }
                return base.distance(to: found.assumingMemoryBound(to: UInt8.self)) + 1
            }
            let firstEnd = nextLine(after: 0)
            var offset = 0
            var line = 1
            while line < start && offset < b.count {
                offset = offset == 0 ? firstEnd : nextLine(after: offset)
                line += 1
            }
            return (firstEnd, offset)
        }
        let firstLine = bytes[..<firstEnd]
        first = String(decoding: firstLine.last == 0x0A ? firstLine.dropLast() : firstLine, as: UTF8.self)
        self.start = start
        text = String(decoding: bytes[offset...], as: UTF8.self)
    }
}

extension VaultStorage {
    /// A store whose copy is one transaction (PostgreSQL) has nothing an interrupted copy left.
    public func newEnvelope(replacing file: String) throws(AvaultError) -> EnvelopeSink { try newEnvelope(file) }

    /// Every file among the entries.
    public func readEntries() throws(AvaultError) -> [(file: String, bytes: [UInt8]?)] { try readEntries(prefix: "") }

    /// Every write was durable when it returned.
    public func commitLocked() throws(AvaultError) {}
    public func readAhead(_ names: [String], logFromLine: Int?, entryPrefix: String?) throws(AvaultError) {}

    /// The whole log read, and cut where the tail starts.
    public func readLog(fromLine line: Int) throws(AvaultError) -> LogTail? {
        try read("log").flatMap { LogTail(log: $0, fromLine: line) }
    }

    /// Files are written one after the other: a crashed writer leaves some behind.
    public var writesAreAtomic: Bool { false }
    public func finishedWrite() throws(AvaultError) -> VaultFiles.Head? { nil }
    public func writeStarting() throws(AvaultError) {}
    public func writeFinished(at head: VaultFiles.Head) throws(AvaultError) {}

    /// One envelope committed after the other, as it is handed over.
    public func envelopeCommitter(batch: Int) -> EnvelopeCommitter { SerialEnvelopeCommitter() }

    /// The bytes kept, and handed to ``writeEntry(_:_:)`` at commit.
    public func newEntry(_ file: String) throws(AvaultError) -> EnvelopeSink { BufferedEntrySink(storage: self, file: file) }

    /// Entries are written whole, under their names.
    public func isEntryTemporary(_ file: String) -> Bool { false }

    /// The name `file` (as listed) gets in quarantine: one that no earlier one has (a second and
    /// random bytes apart), and a file name of at most 220 bytes whatever `file` is (a planted
    /// name of 255 bytes, or one listed with escapes, four characters to a byte, is cut).
    static func quarantineName(_ file: String) -> String {
        var kept = 0
        let start = String(String.UnicodeScalarView(file.unicodeScalars.prefix { scalar in
            kept += UTF8.width(scalar)
            return kept <= 200
        }))
        return start + "." + String(Int64(time(nil))) + "." + Hex.encode(SecureRandom.bytes(count: 4))
    }
}

/// An entry written whole by ``VaultStorage/writeEntry(_:_:)`` when committed.
final class BufferedEntrySink: EnvelopeSink {
    private let storage: VaultStorage
    private let file: String
    private var bytes: [UInt8] = []

    init(storage: VaultStorage, file: String) { self.storage = storage; self.file = file }

    func write(_ raw: UnsafeRawBufferPointer) throws(AvaultError) { bytes += raw }
    func commit(syncDirectory: Bool) throws(AvaultError) { try storage.writeEntry(file, bytes) }
    func abandon() { bytes = [] }
}

/// A writer for one envelope.
public protocol EnvelopeSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws(AvaultError)
    /// Makes the bytes durable and then the envelope visible under its name. Once written, a
    /// sink may be committed on another thread than the one that wrote it (one at a time).
    func commit(syncDirectory: Bool) throws(AvaultError)
    /// Discards an unfinished envelope.
    func abandon()
}

/// Commits written envelopes (``EnvelopeSink/commit(syncDirectory:)`` without the directory,
/// which ``VaultStorage/syncEnvelopes()`` syncs once for the batch). Every writer calls
/// ``finish()`` before it records the envelopes anywhere, and ``cancel()`` on every path out,
/// so that no commit is still running when it lets go of the vault's lock.
public protocol EnvelopeCommitter: AnyObject {
    /// Hands over `sink`, written in full: from now on only the committer touches it. Once a
    /// commit has failed, abandons `sink` and throws that failure.
    func add(_ sink: EnvelopeSink) throws(AvaultError)
    /// Returns once every envelope handed over is durable and under its name, or throws the
    /// first failure (what was not committed by then is abandoned).
    func finish() throws(AvaultError)
    /// Abandons what is not committed yet and waits for the commits under way. Harmless after
    /// ``finish()``.
    func cancel()
}

/// Commits each envelope as it is handed over.
public final class SerialEnvelopeCommitter: EnvelopeCommitter {
    private var failure: AvaultError?

    public init() {}

    public func add(_ sink: EnvelopeSink) throws(AvaultError) {
        if let failure {
            sink.abandon()
            throw failure
        }
        do { try sink.commit(syncDirectory: false) } catch {
            sink.abandon()
            failure = error
            throw error
        }
    }

    public func finish() throws(AvaultError) {
        if let failure { throw failure }
    }

    public func cancel() {}
}

/// A reader for one envelope.
public protocol EnvelopeSource: AnyObject {
    /// Up to `count` bytes; fewer only at the end.
    func read(_ count: Int) throws(AvaultError) -> [UInt8]
    /// Fills `buffer`, or returns fewer bytes only at the end; returns how many.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int
}

/// The file system store: `config`, `index`, `log`, `log.heads`, `lock`, and
/// `objects/<name>-<version>` in one directory (mode 700, files 600). The directory is opened
/// once (not through a symbolic link, refused if group or others can access it) and every file
/// in it relative to its descriptor with `O_NOFOLLOW | O_CLOEXEC`: a symbolic link, a FIFO or a
/// device planted under a vault file's name is refused, never followed or waited on.
public final class FileVaultStorage: VaultStorage {
    public let directory: String
    public var location: String { directory }
    /// The absolute path with `.` and repeated `/` removed; `..` is kept (what it leads to
    /// depends on links). A relative path without a working directory starts with `?`.
    public private(set) lazy var canonicalLocation: [UInt8] = {
        var path = Array(directory.utf8)
        if path.first != UInt8(ascii: "/") { path = (FileSystem.currentDirectory() ?? [UInt8(ascii: "?")]) + [UInt8(ascii: "/")] + path }
        let parts = path.split(separator: UInt8(ascii: "/")).filter { !$0.elementsEqual([UInt8(ascii: ".")]) }
        return parts.isEmpty ? [UInt8(ascii: "/")] : parts.flatMap { [UInt8(ascii: "/")] + $0 }
    }()
    private var rootDirectory: SecureDirectory?
    private var objectsDirectory: SecureDirectory?

    public init(directory: String) { self.directory = directory }

    private func root() throws(AvaultError) -> SecureDirectory {
        if let rootDirectory { return rootDirectory }
        let dir = try SecureDirectory(path: directory, requirePrivate: true)
        rootDirectory = dir
        return dir
    }

    private var entriesDirectory: SecureDirectory?

    /// `entries/`, created on the first write of an entry (a vault made before index format 3
    /// has none); nil when it does not exist and `create` is false.
    private func entries(create: Bool) throws(AvaultError) -> SecureDirectory? {
        if let entriesDirectory { return entriesDirectory }
        let root = try root()
        if !create, try root.kind(of: "entries") == nil { return nil }
        let dir = try root.subdirectory("entries", create: create)
        try dir.checkPrivate()
        if create { try root.sync() }
        entriesDirectory = dir
        return dir
    }

    public func readEntries(prefix: String) throws(AvaultError) -> [(file: String, bytes: [UInt8]?)] {
        guard let dir = try entries(create: false) else { return [] }
        var out: [(file: String, bytes: [UInt8]?)] = []
        for name in try dir.names(prefix: prefix) {
            // A file removed since the listing (a writer superseding it) is simply not there.
            guard let kind = try dir.kind(of: name, listed: true) else { continue }
            // Writers make regular files only: anything else (a link, a directory, a FIFO) is
            // listed without being opened, so that `fsck` can move it aside.
            guard kind == .file(.regular) else {
                out.append((name, nil))
                continue
            }
            // Only an entry's name is read. Another (a temporary file, or a name no writer gives
            // an entry, such as one listed with escapes: not UTF-8, or holding a `\`) is listed
            // without its bytes: nobody uses them, and a file planted there, as large as an entry
            // may be, stays until `fsck` moves it aside.
            guard VaultFiles.parseEntryFileName(name) != nil else {
                out.append((name, []))
                continue
            }
            if let bytes = try dir.read(name, secret: true, limit: Self.entryLimit, what: "a vault entry", lookedAt: true) { out.append((name, bytes)) }
        }
        return out
    }

    public func writeEntry(_ file: String, _ bytes: [UInt8]) throws(AvaultError) {
        try entries(create: true)!.writeAtomically(try Self.fileName(file), bytes, mode: 0o600, syncDirectory: false)
    }

    public func newEntry(_ file: String) throws(AvaultError) -> EnvelopeSink {
        try FileEnvelopeSink(directory: try entries(create: true)!, name: try Self.fileName(file))
    }

    /// `name` when it is a file name (not empty, `.` or `..`, holding no `/` or NUL). A name
    /// from another store (a PostgreSQL vault's rows, which `vault copy` copies here) must not
    /// lead out of the directory it is written in.
    private static func fileName(_ name: String) throws(AvaultError) -> String {
        guard !name.isEmpty, name != ".", name != "..", !name.utf8.contains(0x2F), !name.utf8.contains(0) else {
            throw .tampered("\(name) is not the name of a vault's file: written outside avault", area: .vault)
        }
        return name
    }

    public func removeEntry(_ file: String) throws(AvaultError) {
        try entries(create: false)?.removeListed(file)
    }

    public func syncEntries() throws(AvaultError) {
        try entries(create: false)?.sync()
    }

    /// `writeEntry`'s and `newEntry`'s temporary files.
    public func isEntryTemporary(_ file: String) -> Bool {
        Self.isTemporary(file, prefix: ".avault-tmp-") || Self.isTemporary(file, prefix: ".tmp-")
    }

    public func quarantineEntry(_ file: String) throws(AvaultError) -> String {
        guard let entries = try entries(create: false) else { throw .internalFailure("the vault has no entries/ to move \(file) from") }
        return try moveToQuarantine(from: entries, file)
    }

    private func objects() throws(AvaultError) -> SecureDirectory {
        if let objectsDirectory { return objectsDirectory }
        let dir = try root().subdirectory("objects")
        try dir.checkPrivate()
        objectsDirectory = dir
        return dir
    }

    public func exists() throws(AvaultError) -> Bool {
        var st = stat()
        guard lstat(directory, &st) == 0 else { return false }
        return try root().kind(of: "config") != nil
    }

    public func vaultRemains() throws(AvaultError) -> [String] {
        var st = stat()
        guard lstat(directory, &st) == 0 else { return [] }
        var found: [String] = []
        if let log = try read("log") {
            let lines = log.split(separator: 0x0A).count
            if lines > 1 { found.append("a log of \(lines) entries") }
        }
        if try root().kind(of: "objects") != nil, case let n = try objects().names().count, n > 0 { found.append("\(n) files in objects/") }
        if try root().kind(of: "quarantine") != nil, case let n = try root().subdirectory("quarantine").names().count, n > 0 {
            found.append("\(n) files in quarantine/")
        }
        if case let n = try readEntries().count, n > 0 { found.append("\(n) index entries") }
        if try read("log.heads").map({ !$0.isEmpty }) == true { found.append("signed heads") }
        return found
    }

    public func create() throws(AvaultError) {
        let root = try SecureDirectory.create(path: directory, mode: 0o700, requirePrivate: true)
        rootDirectory = root
        _ = try root.subdirectory("objects", create: true)
        _ = try root.subdirectory("quarantine", create: true)
        try root.sync()
        FileSystem.syncDirectory(FileSystem.directory(of: directory))
    }

    public func read(_ name: String) throws(AvaultError) -> [UInt8]? {
        if let (limit, what) = Self.limits[name] { return try root().read(name, secret: true, limit: limit, what: what) }
        return try root().read(name, secret: true)
    }

    /// The most the vault's files are read to, far above what avault writes there (a config
    /// holds the vault's recipients; an entry, the versions of one object; the signed heads,
    /// one line per `vault log --sign`; the index, a head of 22 KiB, or in format 2, which a
    /// write must still read to migrate it, every version of every object), so that one
    /// planted there is refused by its size rather than filling memory (a sparse file of a
    /// terabyte made avault stop on a failed allocation). The log, which avault reads whole,
    /// grows by about 250 bytes a write: its limit is some 4 million writes, and an append
    /// past a limit is refused (``append(_:_:)``), so that the vault stays readable.
    static let limits: [String: (Int, String)] = [
        "config": (16 << 20, "a vault config"), "log.heads": (256 << 20, "the vault's signed heads"),
        "index": (1 << 30, "a vault index"), "log": (1 << 30, "a vault log that avault can read whole"),
    ]
    static let entryLimit = 64 << 20

    public func replace(_ name: String, _ bytes: [UInt8]) throws(AvaultError) {
        try root().writeAtomically(name, bytes, mode: 0o600)
    }

    public func append(_ name: String, _ bytes: [UInt8]) throws(AvaultError) {
        let root = try root()
        let path = root.pathOf(name)
        let fd = try root.openFile(name, O_RDWR | O_APPEND | O_CREAT, mode: 0o600, secret: true)
        defer { close(fd) }
        // Drop an unfinished last line (an append cut short by a crash).
        let size = lseek(fd, 0, SEEK_END)
        if size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, size - 1) == 1, last != 0x0A {
                guard lseek(fd, 0, SEEK_SET) == 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
                let existing = try FileSystem.readAll(fd: fd, name: path, sizeHint: Int(size))
                let keep = (existing.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
                guard ftruncate(fd, off_t(keep)) == 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
            }
        }
        // A write that would take the file past what avault reads of it is refused, so that the
        // vault stays readable (a log past its limit would stop every command).
        if let (limit, _) = Self.limits[name], Int(lseek(fd, 0, SEEK_END)) + bytes.count > limit {
            throw .io(path: path, reason: "it would pass \(limit) bytes, the most avault reads of it: this vault takes no more writes (its drafts stay readable)")
        }
        try FileSystem.writeAll(fd: fd, bytes, name: path)
        guard fsync(fd) == 0 else { throw .io(path: path, reason: "fsync: \(FileSystem.errnoText())") }
    }

    public func newEnvelope(_ file: String) throws(AvaultError) -> EnvelopeSink {
        try FileEnvelopeSink(directory: try objects(), name: try Self.fileName(file))
    }

    public func newEnvelope(replacing file: String) throws(AvaultError) -> EnvelopeSink {
        try FileEnvelopeSink(directory: try objects(), name: try Self.fileName(file), replacing: true)
    }

    /// A batch of ``SyncfsEnvelopeCommitter/threshold`` files or more: one `syncfs` for all of
    /// them. A smaller one: fsyncs on up to ``ParallelEnvelopeCommitter/threads`` threads at
    /// once, in flight together, which a file system with a journal commits in a few
    /// transactions instead of one each.
    public func envelopeCommitter(batch: Int) -> EnvelopeCommitter {
        batch >= SyncfsEnvelopeCommitter.threshold && FileSystem.linuxReportsSyncfsErrors ? SyncfsEnvelopeCommitter() : ParallelEnvelopeCommitter()
    }

    public func openEnvelope(_ file: String) throws(AvaultError) -> EnvelopeSource? {
        let objects = try objects()
        guard try objects.kind(of: file) != nil else { return nil }
        do {
            return FileEnvelopeSource(fd: try objects.openFile(file, O_RDONLY), path: objects.pathOf(file))
        } catch let error {
            // A link, a FIFO or a device under an envelope's name: only an alteration puts it there.
            switch error {
            case .symbolicLink, .notRegularFile: throw .tampered("\(error.message): the vault was altered", area: .vault)
            default: throw error
            }
        }
    }

    public func envelopeFiles() throws(AvaultError) -> (envelopes: [String], leftovers: [String]) {
        var envelopes: [String] = [], leftovers: [String] = []
        // A temporary file's name on anything but a regular file is no writer's leftover.
        let objects = try objects()
        for name in try objects.names() {
            if Self.isTemporary(name, prefix: ".tmp-"), try objects.kind(of: name) == .file(.regular) { leftovers.append(name) } else { envelopes.append(name) }
        }
        // Temporary files of an interrupted index or config replacement, in the vault's root.
        let root = try root()
        for name in try root.names() where Self.isTemporary(name, prefix: ".avault-tmp-") {
            if try root.kind(of: name) == .file(.regular) { leftovers.append("../" + name) }
        }
        return (envelopes.sorted(), leftovers.sorted())
    }

    /// `prefix` and 16 lowercase hex digits: a name only avault's writers choose.
    private static func isTemporary(_ name: String, prefix: String) -> Bool {
        name.hasPrefix(prefix) && VaultFiles.isLowerHex(name.dropFirst(prefix.count), count: 16)
    }

    public func removeEnvelope(_ file: String) throws(AvaultError) {
        if file.hasPrefix("../") { try root().remove(String(file.dropFirst(3))) } else { try objects().remove(file) }
    }

    public func renameEnvelope(_ from: String, to: String) throws(AvaultError) {
        try objects().rename(from, to: to)
    }

    public func quarantine(_ file: String) throws(AvaultError) -> String {
        file.hasPrefix("../") ? try moveToQuarantine(from: try root(), String(file.dropFirst(3))) : try moveToQuarantine(from: try objects(), file)
    }

    public func removeQuarantined(object name: String?) throws(AvaultError) -> Int {
        guard try root().kind(of: "quarantine") != nil else { return 0 }
        let quarantine = try root().subdirectory("quarantine")
        var names = try quarantine.names(prefix: name.map { $0 + "-" } ?? "")
        if let name { names += try quarantine.names(prefix: VaultFiles.stagedPrefix + name + "-") }
        // Only files are moved aside: a directory planted there is refused before anything is
        // deleted (removing the rest first would leave the purge half done, and unlogged).
        for file in names where try quarantine.kind(of: file, listed: true) == .file(.directory) {
            throw .io(path: quarantine.pathOf(file), reason: "is a directory, which no recovery or fsck puts in quarantine; remove it yourself")
        }
        for file in names { try quarantine.removeListed(file) }
        if !names.isEmpty { try quarantine.sync() }
        return names.count
    }

    public func quarantinedFiles() throws(AvaultError) -> [String] {
        guard try root().kind(of: "quarantine") != nil else { return [] }
        return try root().subdirectory("quarantine").names().sorted()
    }

    /// Moves `name` (as `source` lists it) into `quarantine/`, under a new name.
    private func moveToQuarantine(from source: SecureDirectory, _ name: String) throws(AvaultError) -> String {
        let quarantine = try root().subdirectory("quarantine", create: true)
        let target = Self.quarantineName(name)
        // Never replace an earlier quarantined file.
        try source.moveListed(name, to: quarantine, as: target)
        try source.sync()
        try quarantine.sync()
        return quarantine.pathOf(target)
    }

    public func syncEnvelopes() throws(AvaultError) { try objects().sync() }

    public func syncFiles() throws(AvaultError) { try root().sync() }

    public func withLock<T>(_ body: () throws(AvaultError) -> T) throws(AvaultError) -> T {
        let lock = try root().lock("lock")
        defer { withExtendedLifetime(lock) {} }
        return try body()
    }

    /// `finished`: `<seq> <hash>` and a newline, the head the last write finished at.
    static let finishedName = "finished"

    public func finishedWrite() throws(AvaultError) -> VaultFiles.Head? {
        // Anything but a regular file of exactly that form (or none) is no record.
        guard try root().kind(of: Self.finishedName) == .file(.regular), let bytes = try? root().read(Self.finishedName, limit: 100),
              bytes.last == 0x0A else { return nil }
        let words = String(decoding: bytes.dropLast(), as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
        guard words.count == 2, let seq = Int(words[0]), seq >= 1, String(seq) == words[0],
              VaultFiles.isLowerHex(words[1], count: 64) else { return nil }
        return VaultFiles.Head(seq: seq, hash: String(words[1]))
    }

    public func writeStarting() throws(AvaultError) {
        try root().remove(Self.finishedName)
    }

    public func writeFinished(at head: VaultFiles.Head) throws(AvaultError) {
        let root = try root()
        let fd = try root.openFile(Self.finishedName, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        defer { close(fd) }
        try FileSystem.writeAll(fd: fd, Array("\(head.seq) \(head.hash)\n".utf8), name: root.pathOf(Self.finishedName))
    }
}

final class FileEnvelopeSink: EnvelopeSink {
    /// -1 once closed.
    private var fd: Int32
    private let temp: String
    private let name: String
    let directory: SecureDirectory
    /// The envelope's path, for messages (made once, not per write).
    private let path: String
    private var done = false
    private var writeback = EarlyWriteback()
    /// Whether the file may replace one under its name (``moveIntoPlace()``).
    private let replacing: Bool

    init(directory: SecureDirectory, name: String, replacing: Bool = false) throws(AvaultError) {
        self.directory = directory
        self.name = name
        self.replacing = replacing
        path = directory.pathOf(name)
        temp = ".tmp-" + Hex.encode(SecureRandom.bytes(count: 8))
        fd = openat(directory.fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: directory.pathOf(temp), reason: FileSystem.errnoText()) }
    }

    deinit {
        if !done { abandon() }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(AvaultError) {
        try FileSystem.writeAll(fd: fd, bytes, name: path)
        writeback.wrote(bytes.count, fd: fd)
    }

    func commit(syncDirectory: Bool) throws(AvaultError) {
        guard fsync(fd) == 0 else { throw .io(path: directory.pathOf(name), reason: "fsync: \(FileSystem.errnoText())") }
        closeUnsynced()
        try moveIntoPlace()
        if syncDirectory { try directory.sync() }
    }

    /// Closes the file, written in full, without syncing it: ``SyncfsEnvelopeCommitter`` syncs
    /// the file system and then calls ``moveIntoPlace()``.
    func closeUnsynced() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    /// Renames the closed (and by now durable) file into place, onto a free name only (unless
    /// `replacing`). Version numbers are never used twice and a write that recovers removes
    /// what crashed writers left, so a file under the name is one the index does not list that
    /// a write of one bucket, which does not survey `objects/` (formats.md 8.5), would otherwise
    /// have replaced: put back from an older copy with the index and `finished` (maybe another
    /// editor's acknowledged version), planted, or (should the removal of `finished` not have
    /// reached the disk) a crashed write's. The write fails and leaves it; the next write finds
    /// no `finished` and recovers.
    func moveIntoPlace() throws(AvaultError) {
        done = true
        let moved = replacing ? renameat(directory.fd, temp, directory.fd, name) == 0 : renameWithoutReplacing()
        guard moved else {
            let taken = errno == EEXIST, reason = FileSystem.errnoText()
            unlinkat(directory.fd, temp, 0)
            guard taken else { throw .io(path: directory.pathOf(name), reason: reason) }
            throw .tampered("\(directory.pathOf(name)): an envelope file the index does not list holds the name of the one this write makes "
                            + "(put back from an older copy with the index, planted, or left by a crashed write): it was left as it is, and the "
                            + "write stopped before its index", area: .envelopeInTheWay)
        }
    }

    /// `renameat2(RENAME_NOREPLACE)`; where the kernel or the file system lacks it (`EINVAL`,
    /// `ENOSYS`), a hard link, which never replaces either; where there are no hard links
    /// either (some FUSE file systems), a look for the name and then a plain rename, which the
    /// vault's lock keeps from racing any writer (only someone writing the directory behind
    /// the lock could). False with `errno` set.
    private func renameWithoutReplacing() -> Bool {
        if avault_rename_noreplace(directory.fd, temp, directory.fd, name) == 0 { return true }
        guard errno == EINVAL || errno == ENOSYS else { return false }
        if linkat(directory.fd, temp, directory.fd, name, 0) == 0 { return unlinkat(directory.fd, temp, 0) == 0 }
        guard errno == EPERM || errno == EOPNOTSUPP || errno == EMLINK else { return false }
        var st = stat()
        guard fstatat(directory.fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0, errno == ENOENT else {
            errno = EEXIST
            return false
        }
        return renameat(directory.fd, temp, directory.fd, name) == 0
    }

    func abandon() {
        guard !done else { return }
        done = true
        closeUnsynced()
        unlinkat(directory.fd, temp, 0)
    }
}

final class FileEnvelopeSource: EnvelopeSource {
    private let fd: Int32
    private let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    func read(_ count: Int) throws(AvaultError) -> [UInt8] {
        try FileSystem.readUpTo(fd: fd, count, name: path)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int {
        try FileSystem.readFull(fd: fd, into: buffer, name: path)
    }
}

/// The file store's committer: envelopes handed over are queued, and up to ``threads`` threads
/// (started as the queue needs them) each take one, `fsync` it and rename it into place. At
/// most ``inFlightLimit`` envelopes (open descriptors) wait or are being committed at once;
/// `add` waits for room. Each envelope handed over wakes one idle thread, not all of them.
final class ParallelEnvelopeCommitter: EnvelopeCommitter, @unchecked Sendable {
    static let threads = 8
    static let inFlightLimit = 128

    /// Idle threads wait on `work` (for the queue); `add` and `close`, on the caller's thread,
    /// wait on `room` (for envelopes and threads to finish).
    private static let work = 0, room = 1
    private let monitor = Monitor(conditions: 2)
    // All of these are guarded by `monitor`.
    private var queue: [EnvelopeSink] = []
    private var inFlight = 0
    private var running = 0
    private var idle = 0
    private var closed = false
    private var cancelled = false
    private var failure: AvaultError?

    func add(_ sink: EnvelopeSink) throws(AvaultError) {
        let (refused, start) = monitor.locked { () -> (AvaultError?, Bool) in
            while inFlight >= Self.inFlightLimit && failure == nil && !cancelled { monitor.wait(Self.room) }
            if let failure { return (failure, false) }
            if cancelled { return (.internalFailure("the envelope commits were cancelled"), false) }
            queue.append(sink)
            inFlight += 1
            if idle > 0 { monitor.signal(Self.work) }
            // A thread more while the queue holds more than the idle ones can take (a thread
            // signalled counts as idle until it wakes).
            let start = queue.count > idle && running < Self.threads
            if start { running += 1 }
            return (nil, start)
        }
        if let refused {
            sink.abandon()
            throw refused
        }
        if start, !Threads.detach({ [self] in work() }) {
            // No thread to be had: commit what is queued here.
            monitor.locked {
                running -= 1
                monitor.broadcast(Self.room)
            }
            while let next = monitor.locked({ queue.isEmpty ? nil : queue.removeFirst() }) { commit(next) }
        }
    }

    private func work() {
        while true {
            let next = monitor.locked { () -> EnvelopeSink? in
                while queue.isEmpty && !closed {
                    idle += 1
                    monitor.wait(Self.work)
                    idle -= 1
                }
                if queue.isEmpty {
                    running -= 1
                    monitor.broadcast(Self.room)
                    return nil
                }
                return queue.removeFirst()
            }
            guard let next else { return }
            commit(next)
        }
    }

    private func commit(_ sink: EnvelopeSink) {
        var error: AvaultError?
        if monitor.locked({ failure != nil || cancelled }) {
            sink.abandon()
        } else {
            do { try sink.commit(syncDirectory: false) } catch let e {
                error = e
                sink.abandon()
            }
        }
        monitor.locked {
            if let error, failure == nil { failure = error }
            inFlight -= 1
            monitor.broadcast(Self.room)
        }
    }

    /// Closes the queue and waits until every thread has ended.
    private func close() -> AvaultError? {
        monitor.locked {
            closed = true
            monitor.broadcast(Self.work)
            while inFlight > 0 || running > 0 { monitor.wait(Self.room) }
            return failure
        }
    }

    func finish() throws(AvaultError) {
        if let failure = close() { throw failure }
    }

    func cancel() {
        monitor.locked { cancelled = true }
        _ = close()
    }
}

/// The file store's committer for a large batch: each file handed over is closed unsynced under
/// its temporary name, and ``finish()`` makes them all durable with one `syncfs` of their file
/// system, then renames each into place (the caller then syncs the directory, as for any
/// batch). On Linux, `syncfs` returns once every file of the file system is written out as an
/// `fsync` of each would have written it, and since Linux 5.8 it reports a write error of any
/// of them. One sync for thousands of files, where a file system without a journal writes each
/// file's inode, in a block it shares with others, once per `fsync`. The cost: it also writes
/// out whatever else is waiting to be written on that file system, which is why only a batch of
/// ``threshold`` files or more takes this way. Files in a directory where `syncfs` is not known
/// to be as durable (``SecureDirectory/syncfsIsDurable``: NFS, FUSE, …) are committed by a
/// ``ParallelEnvelopeCommitter`` instead.
final class SyncfsEnvelopeCommitter: EnvelopeCommitter {
    static let threshold = 64

    private var pending: [FileEnvelopeSink] = []
    /// Per directory handed over (held, so that no other can take its identity): whether
    /// `syncfs` is durable there.
    private var durable: [(directory: SecureDirectory, isDurable: Bool)] = []
    private var fallback: ParallelEnvelopeCommitter?
    private let isDurable: (SecureDirectory) -> Bool

    /// `isDurable` answers for each directory handed over (tests stand in for a file system
    /// where `syncfs` is not durable).
    init(isDurable: @escaping (SecureDirectory) -> Bool = { $0.syncfsIsDurable }) { self.isDurable = isDurable }

    func add(_ sink: EnvelopeSink) throws(AvaultError) {
        guard let file = sink as? FileEnvelopeSink, syncfsIsDurable(in: file.directory) else {
            if fallback == nil { fallback = ParallelEnvelopeCommitter() }
            try fallback!.add(sink)
            return
        }
        file.closeUnsynced()
        pending.append(file)
    }

    private func syncfsIsDurable(in directory: SecureDirectory) -> Bool {
        if let known = durable.first(where: { $0.directory === directory }) { return known.isDurable }
        let known = isDurable(directory)
        durable.append((directory, known))
        return known
    }

    func finish() throws(AvaultError) {
        defer { cancel() }
        try fallback?.finish()
        // One sync per directory handed over (they are all on one file system in practice).
        for (directory, isDurable) in durable where isDurable && pending.contains(where: { $0.directory === directory }) {
            try directory.syncFileSystem()
        }
        for sink in pending { try sink.moveIntoPlace() }
    }

    /// Removes the temporary files of the envelopes not renamed into place, and cancels the
    /// fallback's commits.
    func cancel() {
        fallback?.cancel()
        for sink in pending { sink.abandon() }
        pending = []
    }
}
