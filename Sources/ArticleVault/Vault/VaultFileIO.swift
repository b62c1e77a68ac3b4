#if canImport(Glibc)
import Glibc
#endif
import VaultCrypto
public import VaultFormat

/// A file written in its directory without a name (or under a temporary one: see
/// ``FileSystem/PendingFile``) and given its name (mode 600) only once complete and synced: a
/// reader never sees half of it, and a failure, or the process killed, leaves nothing.
public final class OutputFile {
    private let file: FileSystem.PendingFile
    private var fd: Int32 { file.fd }
    /// The final path.
    public let path: String
    private var done = false
    private var writeback = EarlyWriteback()

    /// Starts writing `path` (in its directory).
    public init(path: String) throws(AvaultError) {
        self.path = path
        try FileSystem.checkReplaceable(path)
        guard let file = FileSystem.PendingFile(in: FileSystem.directory(of: path), mode: 0o600) else {
            throw .io(path: path, reason: FileSystem.errnoText())
        }
        self.file = file
    }

    deinit { abandon() }

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) throws(AvaultError) {
        try bytes.withUnsafeBytes { raw in Result { () throws(AvaultError) in try write(raw) } }.get()
    }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(AvaultError) {
        try FileSystem.writeAll(fd: fd, bytes, name: path)
        writeback.wrote(bytes.count, fd: fd)
    }

    /// Empties the file, to write it again from the start.
    public func rewind() throws(AvaultError) {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
        writeback.reset()
    }

    /// Syncs the file, renames it into place and syncs its directory. Unless `overwrite`, an
    /// existing file at `path` is left as it is and ``AvaultError/fileExists(path:)`` thrown.
    public func commit(overwrite: Bool = true) throws(AvaultError) {
        guard fsync(fd) == 0 else { throw .io(path: path, reason: "fsync: \(FileSystem.errnoText())") }
        done = true
        guard file.publish(as: path, overwrite: overwrite) else {
            if errno == EEXIST, !overwrite { throw .fileExists(path: path) }
            throw .io(path: path, reason: FileSystem.errnoText())
        }
        FileSystem.syncDirectory(FileSystem.directory(of: path))
    }

    /// Discards the file (nothing appears at `path`).
    public func abandon() {
        guard !done else { return }
        done = true
        file.discard()
    }
}

extension Vault {
    /// Stores a new version of `id` read from the file at `path`, or from standard input for `-`.
    public func put(id: String, path: String, contentType: String?, now: Int64) throws(AvaultError) -> (id: String, version: Int, size: Int) {
        let fd = path == "-" ? 0 : Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
        defer { if fd != 0 { close(fd) } }
        return try put([Input(id: id, fd: fd, contentType: contentType)], now: now)[0]
    }

    /// The most ``put(id:bytes:contentType:now:)`` takes: what a pipe holds without a reader.
    public static let smallPayloadLimit = 65536

    /// Stores a new version of `id` holding `bytes` (at most ``smallPayloadLimit``; passed
    /// through a pipe, never the disk).
    public func put(id: String, bytes: [UInt8], contentType: String?, now: Int64) throws(AvaultError) -> (id: String, version: Int, size: Int) {
        guard bytes.count <= Self.smallPayloadLimit else { throw .payloadTooLarge(limit: Self.smallPayloadLimit) }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw .io(path: "pipe", reason: FileSystem.errnoText()) }
        defer { close(ends[0]) }
        do {
            defer { close(ends[1]) }
            try FileSystem.writeAll(fd: ends[1], bytes, name: "pipe")
        }
        return try put([Input(id: id, fd: ends[0], contentType: contentType)], now: now)[0]
    }

    /// The ID a record is filed under: its `webUrl`, else its `originalUrl`, else its file name.
    public static func recordID(_ document: RecordDocument, path: String) -> String {
        document.fields["webUrl"]?.stringValue ?? document.fields["originalUrl"]?.stringValue ?? FileSystem.baseName(of: path)
    }

    /// Stores every article record under `paths` (files, and directories walked as `verify`
    /// walks them, except for symbolic links: see below) in one batch; each must be a record.
    /// Two different files that map to one ID are refused
    /// (``AvaultError/importCollision(id:files:)``, nothing stored) unless `asVersions`, which
    /// stores them as successive versions of it. One file named more than
    /// once (by any path: its device and inode are compared) is stored once. `progress` is called with
    /// the number of records stored so far and the total.
    ///
    /// Each file is opened twice, one at a time (a batch never holds more than one descriptor,
    /// whatever its size and the limit on open files): once to read its ID, once to store it.
    /// What is stored is the file that was read, unchanged: one replaced meanwhile (a link
    /// swapped to point elsewhere, which would put a file that is not a record into a vault
    /// others may read) or written meanwhile fails the batch
    /// (``AvaultError/fileChangedMeanwhile(path:)``).
    ///
    /// A symbolic link found in a directory (to a file or a directory) is followed only when its
    /// target, resolved, lies in the top-level directory walked: one that leads outside fails
    /// the batch (``AvaultError/linkOutsideWalkedTree(path:root:toDirectory:)``), so that
    /// whoever can write a shared import directory cannot have another user's file stored.
    /// The first open of each file found by the walk checks that what it opened lies in that
    /// directory (a file swapped for such a link after the walk:
    /// ``AvaultError/fileChangedMeanwhile(path:)``); the second must open that same file.
    /// Files and links named in `paths` are followed wherever they lead: the caller chose them.
    public func importRecords(_ paths: [String], now: Int64, asVersions: Bool = false,
                              progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws(AvaultError) -> [(id: String, version: Int, size: Int)] {
        let files = try RecordWalker.expand(paths, include: RecordWalker.defaultInclude, exclude: [], links: .withinTree)
        var inputs: [Input] = []
        var filesByID: [[UInt8]: [String]] = [:] // IDs by their exact bytes (see sameID)
        var seen: Set<FileSystem.Identity.File> = [] // each file once, however often and however it was named
        for file in files {
            guard file.kind == .regular else { throw .io(path: file.path, reason: file.notReadReason) }
            // (`-`, standard input, is read once and cannot be read again to be stored.)
            guard file.path != "-" else { throw .io(path: file.path, reason: "standard input cannot be imported: give the record's file, or use 'vault put ID -'") }
            let record = try RecordFile(path: file.path, seenRegular: true, within: file.tree)
            guard let identity = record.identity else { throw .internalFailure("a record file read without its identity") }
            // The same file named twice (`d.md d.md`, `d.md ./d.md`, `DIR DIR/d.md`, a hard
            // link) is one record, stored once: neither a collision nor a second version.
            guard seen.insert(identity.file).inserted else { continue }
            let id = Self.recordID(record.document, path: file.path)
            inputs.append(Input(id: id, source: .file(path: file.path, identity: identity), contentType: "text/markdown"))
            filesByID[Array(id.utf8), default: []].append(file.path)
        }
        if !asVersions, let first = inputs.first(where: { filesByID[Array($0.id.utf8)]!.count > 1 }) {
            throw .importCollision(id: first.id, files: filesByID[Array(first.id.utf8)]!)
        }
        let total = inputs.count
        return try put(inputs, now: now, progress: progress.map { report in { done in report(done, total) } })
    }

    /// Writes a version of `id` (the newest when `version` is nil) to `path` through a
    /// temporary file (mode 600), renamed into place only once every chunk has authenticated
    /// and the envelope has matched the index's digest, which is computed as it is decrypted:
    /// the envelope is read once. Unless `overwrite`, an existing file at `path` is refused
    /// (and kept).
    @discardableResult
    public func get(_ id: String, version: Int?, toFile path: String, overwrite: Bool = true) throws(AvaultError) -> VaultFiles.Version {
        if !overwrite, FileSystem.exists(path) { throw .fileExists(path: path) }
        let sink = try OutputFile(path: path)
        do {
            let v = try get(id, version: version, checkFirst: false, rewind: { () throws(AvaultError) in try sink.rewind() }) {
                (block: UnsafeRawBufferPointer) throws(AvaultError) in try sink.write(block)
            }
            try sink.commit(overwrite: overwrite)
            return v
        } catch {
            sink.abandon()
            throw error
        }
    }

    /// Every version of the object `id`.
    public func history(_ id: String) throws(AvaultError) -> VaultFiles.Object {
        guard let object = try indexedObject(id) else { throw .noSuchObject(id: id) }
        return object
    }

    /// Signs the log's current head with the signing key `name` from the vault's keyring.
    public func signLog(keyName name: String, now: Int64) throws(AvaultError) -> (seq: Int, hash: String) {
        let signing = try keyring.signingKey(named: name)
        return try signLog(key: signing.key, keyID: signing.keyID, now: now)
    }
}
