#if canImport(Glibc)
import Glibc
#endif
import VaultCrypto

/// Where a vault keeps its bytes. The file system store is the default; `docs/architecture.md`
/// describes a PostgreSQL store behind the same protocol. Every method is called with the
/// vault's exclusive lock held, except reads, which rely on writes being atomic replacements.
public protocol VaultStorage: AnyObject {
    /// A human-readable location, for messages.
    var location: String { get }
    /// Whether a vault exists here.
    func exists() -> Bool
    /// Creates the empty vault (fails if one exists).
    func create() throws(AvaultError)
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
    /// Opens a committed envelope for reading.
    func openEnvelope(_ file: String) throws(AvaultError) -> EnvelopeSource
    /// Names of every committed envelope, and leftovers of interrupted writes.
    func envelopeFiles() throws(AvaultError) -> (envelopes: [String], leftovers: [String])
    /// Deletes an envelope (purge).
    func removeEnvelope(_ file: String) throws(AvaultError)
    /// Moves an envelope or leftover aside (fsck); returns where it went.
    func quarantine(_ file: String) throws(AvaultError) -> String
    /// Makes every committed envelope's name durable (one directory sync for a batch).
    func syncEnvelopes() throws(AvaultError)
    /// Runs `body` holding the vault's exclusive lock.
    func withLock<T>(_ body: () throws(AvaultError) -> T) throws(AvaultError) -> T
}

/// A writer for one envelope.
public protocol EnvelopeSink: AnyObject {
    func write(_ bytes: [UInt8]) throws(AvaultError)
    /// Makes the bytes durable and the envelope visible under its name.
    func commit(syncDirectory: Bool) throws(AvaultError)
    /// Discards an unfinished envelope.
    func abandon()
}

/// A reader for one envelope.
public protocol EnvelopeSource: AnyObject {
    /// Up to `count` bytes; fewer only at the end.
    func read(_ count: Int) throws(AvaultError) -> [UInt8]
}

/// The file system store: `config`, `index`, `log`, `log.heads`, `lock`, and
/// `objects/<name>-<version>` in one directory (mode 700, files 600).
public final class FileVaultStorage: VaultStorage {
    public let directory: String
    public var location: String { directory }
    private var objects: String { directory + "/objects" }

    public init(directory: String) { self.directory = directory }

    public func exists() -> Bool { FileSystem.exists(directory + "/config") }

    public func create() throws(AvaultError) {
        try FileSystem.makeDirectory(directory, mode: 0o700)
        try FileSystem.makeDirectory(objects, mode: 0o700)
        try FileSystem.makeDirectory(directory + "/quarantine", mode: 0o700)
        FileSystem.syncDirectory(directory)
    }

    public func read(_ name: String) throws(AvaultError) -> [UInt8]? {
        let path = directory + "/" + name
        guard FileSystem.exists(path) else { return nil }
        return try FileSystem.read(path, secret: true)
    }

    public func replace(_ name: String, _ bytes: [UInt8]) throws(AvaultError) {
        try FileSystem.writeAtomically(directory + "/" + name, bytes, mode: 0o600)
    }

    public func append(_ name: String, _ bytes: [UInt8]) throws(AvaultError) {
        let path = directory + "/" + name
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
        defer { close(fd) }
        // Drop an unfinished last line (an append cut short by a crash).
        let size = lseek(fd, 0, SEEK_END)
        if size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, size - 1) == 1, last != 0x0A {
                let existing = try FileSystem.read(path)
                let keep = (existing.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
                guard ftruncate(fd, off_t(keep)) == 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
            }
        }
        try FileSystem.writeAll(fd: fd, bytes, name: path)
        guard fsync(fd) == 0 else { throw .io(path: path, reason: "fsync: \(FileSystem.errnoText())") }
    }

    public func newEnvelope(_ file: String) throws(AvaultError) -> EnvelopeSink {
        try FileEnvelopeSink(directory: objects, name: file)
    }

    public func openEnvelope(_ file: String) throws(AvaultError) -> EnvelopeSource {
        try FileEnvelopeSource(path: objects + "/" + file)
    }

    public func envelopeFiles() throws(AvaultError) -> (envelopes: [String], leftovers: [String]) {
        guard let d = opendir(objects) else { throw .io(path: objects, reason: FileSystem.errnoText()) }
        defer { closedir(d) }
        var envelopes: [String] = [], leftovers: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name == "." || name == ".." { continue }
            if name.hasPrefix(".tmp-") { leftovers.append(name) } else { envelopes.append(name) }
        }
        // Temporary files of an interrupted index or config replacement, in the vault's root.
        if let root = opendir(directory) {
            while let entry = readdir(root) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                if name.hasPrefix(".avault-tmp-") { leftovers.append("../" + name) }
            }
            closedir(root)
        }
        return (envelopes.sorted(), leftovers.sorted())
    }

    public func removeEnvelope(_ file: String) throws(AvaultError) {
        let path = objects + "/" + file
        guard unlink(path) == 0 || errno == ENOENT else { throw .io(path: path, reason: FileSystem.errnoText()) }
    }

    public func quarantine(_ file: String) throws(AvaultError) -> String {
        let target = directory + "/quarantine/" + FileSystem.baseName(of: file) + "." + String(Int64(time(nil))) + "." + Hex.encode(SecureRandom.bytes(count: 4))
        try FileSystem.makeDirectory(directory + "/quarantine", mode: 0o700)
        guard rename(objects + "/" + file, target) == 0 else { throw .io(path: objects + "/" + file, reason: FileSystem.errnoText()) }
        FileSystem.syncDirectory(objects)
        FileSystem.syncDirectory(directory + "/quarantine")
        return target
    }

    public func syncEnvelopes() throws(AvaultError) { FileSystem.syncDirectory(objects) }

    public func withLock<T>(_ body: () throws(AvaultError) -> T) throws(AvaultError) -> T {
        let path = directory + "/lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .io(path: path, reason: FileSystem.errnoText()) }
        }
        return try body()
    }
}

final class FileEnvelopeSink: EnvelopeSink {
    private let fd: Int32
    private let temp: String
    private let final: String
    private let directory: String
    private var done = false

    init(directory: String, name: String) throws(AvaultError) {
        self.directory = directory
        temp = directory + "/.tmp-" + Hex.encode(SecureRandom.bytes(count: 8))
        final = directory + "/" + name
        fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: temp, reason: FileSystem.errnoText()) }
    }

    deinit {
        if !done { abandon() }
    }

    func write(_ bytes: [UInt8]) throws(AvaultError) { try FileSystem.writeAll(fd: fd, bytes, name: final) }

    func commit(syncDirectory: Bool) throws(AvaultError) {
        guard fsync(fd) == 0 else { throw .io(path: final, reason: "fsync: \(FileSystem.errnoText())") }
        close(fd)
        done = true
        guard rename(temp, final) == 0 else {
            unlink(temp)
            throw .io(path: final, reason: FileSystem.errnoText())
        }
        if syncDirectory { FileSystem.syncDirectory(directory) }
    }

    func abandon() {
        guard !done else { return }
        done = true
        close(fd)
        unlink(temp)
    }
}

final class FileEnvelopeSource: EnvelopeSource {
    private let fd: Int32
    private let path: String

    init(path: String) throws(AvaultError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
    }

    deinit { close(fd) }

    func read(_ count: Int) throws(AvaultError) -> [UInt8] {
        try FileSystem.readUpTo(fd: fd, count, name: path)
    }
}
