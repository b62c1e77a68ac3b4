#if canImport(Glibc)
internal import CLinux
import Glibc
#endif
import VaultCrypto

/// A directory of avault's own files (a keyring, a vault), opened once and then used only
/// through its descriptor: every file in it is opened relative to that descriptor with
/// `O_NOFOLLOW | O_CLOEXEC`, so a symbolic link planted in the directory is refused rather
/// than followed, and only regular files are read or written (a FIFO or a device is refused
/// without blocking). Writes are atomic and durable (temporary file, `fsync`, `renameat`,
/// `fsync` of the directory).
public final class SecureDirectory {
    /// The directory's path, for messages.
    public let path: String
    /// Its descriptor.
    public let fd: Int32

    /// Opens the directory at `path`. The path itself is the user's choice (a keyring directory
    /// linked from a dotfiles repository is fine) and is followed; everything inside is opened
    /// relative to the descriptor, without following links. With `requirePrivate`, a directory
    /// that group or others can access is refused with a hint.
    public init(path: String, requirePrivate: Bool) throws(AvaultError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.openError(path) }
        self.path = path
        self.fd = fd
        if requirePrivate { try checkPrivate() }
    }

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Creates the directory at `path` (and missing parents) with `mode` if it does not exist,
    /// then opens it.
    public static func create(path: String, mode: mode_t, requirePrivate: Bool) throws(AvaultError) -> SecureDirectory {
        try FileSystem.makeDirectory(path, mode: mode)
        return try SecureDirectory(path: path, requirePrivate: requirePrivate)
    }

    /// Refuses the directory when group or others can access it.
    public func checkPrivate() throws(AvaultError) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
        if st.st_mode & 0o077 != 0 {
            throw .insecureDirectory(path: path, mode: UInt32(st.st_mode))
        }
    }

    /// Refuses the directory when another user than the effective one (root aside) owns it:
    /// `what` names it in the message, `risk` says what its owner could do.
    public func checkOwner(what: String, risk: String) throws(AvaultError) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
        if st.st_uid != geteuid(), st.st_uid != 0 {
            throw .ownedByOther(path: path, owner: UInt32(st.st_uid), what: what, risk: risk)
        }
    }

    /// The path of an entry, for messages.
    public func pathOf(_ name: String) -> String { path.hasSuffix("/") ? path + name : path + "/" + name }

    /// The subdirectory `name`, opened the same way (not through a symbolic link); created with
    /// `mode` first when `create` and it does not exist.
    public func subdirectory(_ name: String, create: Bool = false, mode: mode_t = 0o700) throws(AvaultError) -> SecureDirectory {
        if create, mkdirat(fd, name, mode) != 0, errno != EEXIST { throw .io(path: pathOf(name), reason: FileSystem.errnoText()) }
        let sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard sub >= 0 else { throw Self.openError(pathOf(name)) }
        return SecureDirectory(path: pathOf(name), fd: sub)
    }

    /// What is at `name` (not following a symbolic link): nil when nothing is. `listed`: `name`
    /// is as ``names()`` listed it (escapes undone).
    public func kind(of name: String, listed: Bool = false) throws(AvaultError) -> EntryKind? {
        var st = stat()
        guard try Self.withCName(name, listed: listed, { fstatat(fd, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            if errno == ENOENT { return nil }
            throw .io(path: pathOf(name), reason: FileSystem.errnoText())
        }
        return (st.st_mode & S_IFMT) == S_IFLNK ? .symbolicLink : .file(FileSystem.kind(st.st_mode))
    }

    /// What an entry is.
    public enum EntryKind: Equatable, Sendable {
        case symbolicLink
        case file(FileSystem.FileKind)
    }

    /// Whether something (of any kind) is at `name`.
    public func exists(_ name: String) -> Bool {
        (try? kind(of: name)) != nil // nil when nothing is there, or it cannot be looked at
    }

    /// Opens the regular file `name` with `flags` (plus `O_NOFOLLOW | O_CLOEXEC | O_NOCTTY`,
    /// and `O_NONBLOCK` so that a FIFO cannot block), refusing anything but a regular file.
    /// With `secret`, a file that group or others can access is refused. The caller closes it.
    public func openFile(_ name: String, _ flags: Int32, mode: mode_t = 0o600, secret: Bool = false, listed: Bool = false) throws(AvaultError) -> Int32 {
        try openFile(name, flags, mode: mode, secret: secret, listed: listed, missingIsNil: false)!
    }

    /// ``openFile(_:_:mode:secret:listed:)``, or nil when `missingIsNil` and nothing is at `name`.
    private func openFile(_ name: String, _ flags: Int32, mode: mode_t = 0o600, secret: Bool, listed: Bool, missingIsNil: Bool) throws(AvaultError) -> Int32? {
        let file = try Self.withCName(name, listed: listed) { openat(fd, $0, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, mode) }
        guard file >= 0 else {
            if missingIsNil, errno == ENOENT { return nil }
            throw Self.openError(pathOf(name))
        }
        var st = stat()
        guard fstat(file, &st) == 0 else {
            close(file)
            throw .io(path: pathOf(name), reason: FileSystem.errnoText())
        }
        let kind = FileSystem.kind(st.st_mode)
        guard kind == .regular else {
            close(file)
            throw .notRegularFile(path: pathOf(name), kind: kind.rawValue)
        }
        if secret, st.st_mode & 0o077 != 0 {
            close(file)
            throw .insecurePermissions(path: pathOf(name), mode: UInt32(st.st_mode))
        }
        // Back to blocking I/O for the regular file (O_NONBLOCK only guarded the open).
        _ = fcntl(file, F_SETFL, fcntl(file, F_GETFL) & ~O_NONBLOCK)
        return file
    }

    /// The whole regular file `name`, or nil when it does not exist. With a `limit`, a file
    /// larger than that is refused as not being `what` (see ``FileLimits``): by its size before
    /// any of it is read, or once one byte past the limit is (it grew). `lookedAt`: the caller
    /// has just seen something at `name` (``kind(of:listed:)``). A file removed since it was
    /// looked at (a writer replacing or removing it while a reader, who takes no lock, lists the
    /// directory) does not exist either.
    public func read(_ name: String, secret: Bool = false, limit: Int = .max, what: String = "", listed: Bool = false,
                     lookedAt: Bool = false) throws(AvaultError) -> [UInt8]? {
        if !lookedAt, try kind(of: name, listed: listed) == nil { return nil }
        guard let file = try openFile(name, O_RDONLY, secret: secret, listed: listed, missingIsNil: true) else { return nil }
        defer { close(file) }
        var st = stat()
        _ = fstat(file, &st)
        return try FileSystem.readAll(fd: file, name: pathOf(name), size: Int(st.st_size), limit: limit, what: what, secret: secret)
    }

    /// Replaces (or, unless `overwrite`, creates) `name` atomically and durably: a temporary
    /// file in this directory, created with `mode`, written, `fsync`ed, renamed over `name`,
    /// then the directory `fsync`ed (unless `syncDirectory` is false: the caller syncs it once for
    /// several files). On failure the temporary file is removed.
    public func writeAtomically(_ name: String, _ bytes: [UInt8], mode: mode_t = 0o600, overwrite: Bool = true,
                                syncDirectory: Bool = true) throws(AvaultError) {
        let temp = ".avault-tmp-" + Hex.encode(SecureRandom.bytes(count: 8))
        let file = openat(fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard file >= 0 else { throw .io(path: pathOf(name), reason: "cannot create a file in \(path): \(FileSystem.errnoText())") }
        var done = false
        defer { if !done { unlinkat(fd, temp, 0) } }
        do {
            defer { close(file) }
            _ = fchmod(file, mode)
            try FileSystem.writeAll(fd: file, bytes, name: pathOf(name))
            guard fsync(file) == 0 else { throw AvaultError.io(path: pathOf(name), reason: "fsync: \(FileSystem.errnoText())") }
        }
        if overwrite {
            guard renameat(fd, temp, fd, name) == 0 else { throw .io(path: pathOf(name), reason: FileSystem.errnoText()) }
        } else {
            // linkat(2) fails if the name appeared meanwhile: never clobber.
            guard linkat(fd, temp, fd, name, 0) == 0 else { throw .io(path: pathOf(name), reason: FileSystem.errnoText()) }
            unlinkat(fd, temp, 0)
        }
        done = true
        if syncDirectory { try sync() }
    }

    /// Renames `from` to `to` within this directory (not durable until ``sync()``).
    public func rename(_ from: String, to: String) throws(AvaultError) {
        guard renameat(fd, from, fd, to) == 0 else { throw .io(path: pathOf(from), reason: FileSystem.errnoText()) }
    }

    /// Removes the file `name` (a symbolic link itself, never its target).
    public func remove(_ name: String) throws(AvaultError) {
        guard unlinkat(fd, name, 0) == 0 || errno == ENOENT else { throw .io(path: pathOf(name), reason: FileSystem.errnoText()) }
    }

    /// `fsync` of the directory, so renames and removals in it are durable.
    public func sync() throws(AvaultError) {
        guard fsync(fd) == 0 else { throw .io(path: path, reason: "fsync: \(FileSystem.errnoText())") }
    }

    /// Writes out everything waiting to be written on the directory's file system (`syncfs`),
    /// and reports a write error of any file there since the directory was opened; as durable
    /// as an `fsync` of each file only where ``syncfsIsDurable``.
    func syncFileSystem() throws(AvaultError) {
        guard FileSystem.syncWholeFileSystem(fd) == 0 else { throw .io(path: path, reason: "syncfs: \(FileSystem.errnoText())") }
    }

    /// Whether ``syncFileSystem()`` is as durable as an `fsync` of each file in the directory.
    var syncfsIsDurable: Bool { FileSystem.syncfsIsDurable(on: fd) }

    /// The names in the directory, `.` and `..` excluded, in no particular order.
    public func names() throws(AvaultError) -> [String] { try names(prefix: "") }

    /// The names that start with `prefix` (ASCII without `\`, so that a name starts with it as
    /// listed exactly when its bytes do), as ``names()`` lists them. The others are passed over
    /// before they are made strings: one bucket of a vault's entries is a few names among
    /// thousands (at 1,000 objects, listing them all was a sixth of a `get`).
    public func names(prefix: String) throws(AvaultError) -> [String] {
        precondition(prefix.utf8.allSatisfy { $0 < 0x80 && $0 != 0x5C }, "not an ASCII prefix")
        let dup = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dup >= 0, let d = fdopendir(dup) else {
            throw .io(path: path, reason: FileSystem.errnoText())
        }
        defer { closedir(d) }
        var out: [String] = []
        let count = prefix.utf8.count
        // The prefix as a C string once, not once for each name (1,000 conversions were 0.2M
        // instructions of a `get`).
        let cPrefix = Array(prefix.utf8CString)
        while let entry = readdir(d) {
            if count > 0, strncmp(FileSystem.namePointer(entry), cPrefix, count) != 0 { continue }
            // A name that is not UTF-8, or holds a `\`, as `\xNN` escapes (ASCII with at least one
            // `\`, so no other name reads the same): a Swift string would put U+FFFD in it, naming
            // another file or none. ``moveListed(_:to:as:)``, ``removeListed(_:)`` and the
            // `listed:` reads take such a name.
            let name = FileSystem.utf8Name(of: entry).flatMap { $0.utf8.contains(0x5C) ? nil : $0 } ?? FileSystem.escapedName(of: entry)
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }

    /// Moves what ``names()`` listed as `listed` (escapes undone; a file of any kind, a
    /// directory or a symbolic link itself) into `other` as `to`, never replacing anything there
    /// (not durable until both are synced).
    public func moveListed(_ listed: String, to other: SecureDirectory, as to: String) throws(AvaultError) {
        let moved = try Self.withCName(listed, listed: true) { name in
            // A file system without RENAME_NOREPLACE (EINVAL): a link, then the unlink (not for a directory).
            avault_rename_noreplace(fd, name, other.fd, to) == 0
                || errno == EINVAL && linkat(fd, name, other.fd, to, 0) == 0 && unlinkat(fd, name, 0) == 0
        }
        guard moved else { throw .io(path: errno == EEXIST ? other.pathOf(to) : pathOf(listed), reason: FileSystem.errnoText()) }
    }

    /// Removes the file that ``names()`` listed as `listed` (escapes undone), if it is there.
    public func removeListed(_ listed: String) throws(AvaultError) {
        guard listed.utf8.contains(0x5C) else { return try remove(listed) }
        let raw = try Self.rawName(listed)
        guard unlinkat(fd, raw, 0) == 0 || errno == ENOENT else { throw .io(path: pathOf(listed), reason: FileSystem.errnoText()) }
    }

    /// Calls `body` with `name` as a C string: with `listed`, as ``names()`` listed it, escapes
    /// undone (a name without escapes is passed as it is, copied nowhere: every entry a reader
    /// opens comes this way).
    private static func withCName<T>(_ name: String, listed: Bool, _ body: (UnsafePointer<CChar>) -> T) throws(AvaultError) -> T {
        guard listed, name.utf8.contains(0x5C) else { return name.withCString(body) }
        return try rawName(name).withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// The bytes of a name ``names()`` listed with `\xNN` escapes, NUL-terminated.
    private static func rawName(_ listed: String) throws(AvaultError) -> [CChar] {
        var raw: [CChar] = []
        var bytes = Array(listed.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte == 0x5C else { raw.append(CChar(bitPattern: byte)); continue }
            guard bytes.count >= 3, bytes.first == UInt8(ascii: "x"), let value = UInt8(String(decoding: bytes.dropFirst().prefix(2), as: UTF8.self), radix: 16) else {
                throw .internalFailure("\(listed) is not a name as listed")
            }
            raw.append(CChar(bitPattern: value))
            bytes = bytes.dropFirst(3)
        }
        raw.append(0)
        return raw
    }

    /// Takes an exclusive `flock` on the file `name` (created with mode 600 if needed), held
    /// until the returned lock is released or dropped.
    public func lock(_ name: String) throws(AvaultError) -> FileLock {
        let file = try openFile(name, O_RDWR | O_CREAT)
        return try FileLock(fd: file, path: pathOf(name))
    }

    private static func openError(_ path: String) -> AvaultError {
        switch errno {
        case ELOOP: return .symbolicLink(path: path)
        case ENOTDIR: return .io(path: path, reason: "not a directory (or a symbolic link to one)")
        default: return .io(path: path, reason: FileSystem.errnoText())
        }
    }
}

extension SecureDirectory {
    /// Reads the file `name` of this directory, which decides something for the user (whose
    /// signatures count, who can read), up to `limit` bytes (`limitWhat` says what it should
    /// be, for a larger one): a link, or a file someone other than the user can write or
    /// replace, is refused (``refuseOtherWriters(of:file:what:fileRisk:directoryRisk:)``).
    func readOwnFile(_ name: String, limit: Int, limitWhat: String, what: String, fileRisk: String,
                     directoryRisk: String) throws(AvaultError) -> [UInt8] {
        let path = pathOf(name)
        let fd = try openFile(name, O_RDONLY)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
        try refuseOtherWriters(of: path, file: st, what: what, fileRisk: fileRisk, directoryRisk: directoryRisk)
        return try FileSystem.readAll(fd: fd, name: path, size: Int(st.st_size), limit: limit, what: limitWhat)
    }

    /// Refuses a file of this directory (`file`: its `fstat`) that someone other than the user
    /// may write: one owned by another user (but root), or that group or others may write; and
    /// this directory when it is owned by another user (but root), or group or others may write
    /// it and it is not sticky (like /tmp), since they could then replace the file. (In a
    /// sticky directory only the file's owner can replace it, and that is the user or root.)
    /// `what` names the file in messages; `fileRisk` and `directoryRisk` say what a writer could do.
    func refuseOtherWriters(of filePath: String, file: stat, what: String, fileRisk: String, directoryRisk: String) throws(AvaultError) {
        let me = geteuid()
        if file.st_uid != me, file.st_uid != 0 {
            throw .ownedByOther(path: filePath, owner: UInt32(file.st_uid), what: what, risk: fileRisk)
        }
        if file.st_mode & 0o022 != 0 {
            throw .writableByOthers(path: filePath, mode: UInt32(file.st_mode), what: what, risk: fileRisk)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
        if st.st_uid != me, st.st_uid != 0 {
            throw .ownedByOther(path: path, owner: UInt32(st.st_uid), what: what + "'s directory", risk: directoryRisk)
        }
        if st.st_mode & 0o022 != 0, st.st_mode & S_ISVTX == 0 {
            throw .writableByOthers(path: path, mode: UInt32(st.st_mode), what: what + "'s directory", risk: directoryRisk)
        }
    }
}
