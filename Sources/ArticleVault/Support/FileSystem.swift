#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import VaultCrypto
internal import CLinux

/// The most avault reads of a file of a kind whose files are small, so that a file that is
/// not one (a disk image named by mistake, a sparse file of terabytes planted beside a record)
/// is refused by its size, with what it should have been, before it fills memory. Each is
/// far above what a real file of its kind holds.
public enum FileLimits {
    /// A minisign signature or public key file. minisign caps its comments at 1,024 bytes
    /// (untrusted) and 8,192 bytes (trusted), so its own files stay under 10 KiB.
    public static let minisignFile = 1 << 16
    /// A passphrase, from a file or from standard input.
    public static let passphrase = 1 << 16
    /// A secret key file: a minisign secret key, a raw key, or an export of every version of
    /// one key.
    public static let keyFile = 1 << 20
    /// A keyring (`keyring.avk`: a few hundred bytes per key version and per vault it follows).
    public static let keyring = 16 << 20
    /// A trust store (`trust.avt`: a few hundred bytes per trusted key).
    public static let trustStore = 16 << 20
    /// A site generator's configuration (`_config.yml`), read for its `include:` list.
    public static let siteConfig = 1 << 20
}

/// Small POSIX file helpers: whole-file reads, permission checks, atomic durable writes.
public enum FileSystem {
    /// Reads a whole file. `secret` files must not be accessible by group or others.
    public static func read(_ path: String, secret: Bool = false) throws(AvaultError) -> [UInt8] {
        try read(path, secret: secret, maxSize: .max)!
    }

    /// Reads a whole file of at most `maxSize` bytes, or returns nil when it is larger: by its
    /// size (then nothing is read), or by what it holds when read (it may have grown; reading
    /// stops one byte past `maxSize`). Memory stays bounded by `maxSize`.
    public static func read(_ path: String, secret: Bool = false, maxSize: Int) throws(AvaultError) -> [UInt8]? {
        do { return try readSmall(path, limit: maxSize, what: "", secret: secret) } catch .fileTooLarge { return nil }
    }

    /// The name in a directory entry from `readdir`. (The entry may end right after its name's
    /// NUL, before the 256 bytes `d_name` is declared with: read through a pointer, never copy
    /// the field.)
    public static func name(of entry: UnsafeMutablePointer<dirent>) -> String {
        String(cString: namePointer(entry))
    }

    /// The name in a directory entry, or nil when it is not valid UTF-8: a name that a Swift
    /// string cannot hold as it is (``name(of:)`` would put U+FFFD in it, which names another
    /// file, or none).
    public static func utf8Name(of entry: UnsafeMutablePointer<dirent>) -> String? {
        String(validatingCString: namePointer(entry))
    }

    /// The name in a directory entry as printable ASCII, every other byte (and `\`) written
    /// `\xNN`: how a name that is not UTF-8 is shown, one name per name.
    public static func escapedName(of entry: UnsafeMutablePointer<dirent>) -> String {
        var out = ""
        var p = UnsafeRawPointer(namePointer(entry)).assumingMemoryBound(to: UInt8.self)
        while p.pointee != 0 {
            let byte = p.pointee
            out += (0x20..<0x7F).contains(byte) && byte != 0x5C ? String(UnicodeScalar(byte))
                : "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
            p += 1
        }
        return out
    }

    /// What a directory entry leads to (links followed), looked up by its name's very bytes in
    /// `directory` (as `readdir` gave it), or nil when nothing does (a dangling link).
    public static func status(of entry: UnsafeMutablePointer<dirent>, in directory: OpaquePointer) -> stat? {
        var st = stat()
        return fstatat(dirfd(directory), namePointer(entry), &st, 0) == 0 ? st : nil
    }

    /// The kind of a directory entry as `readdir` lists it (`DT_REG`, `DT_DIR`, `DT_LNK`, …,
    /// the entry itself: a link is not followed). A file system that does not give kinds in its
    /// listings (some network and FUSE ones, XFS without `ftype`) lists `DT_UNKNOWN`: the
    /// entry's kind is then looked up (`lstat`), so that a walk there takes what it takes
    /// elsewhere; `DT_UNKNOWN` stays when that fails (the entry is gone).
    public static func listedType(of entry: UnsafeMutablePointer<dirent>, in directory: OpaquePointer) -> UInt8 {
        let type = entry.pointee.d_type
        guard type == UInt8(DT_UNKNOWN) else { return type }
        var st = stat()
        guard fstatat(dirfd(directory), namePointer(entry), &st, AT_SYMLINK_NOFOLLOW) == 0 else { return type }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return UInt8(DT_REG)
        case S_IFDIR: return UInt8(DT_DIR)
        case S_IFLNK: return UInt8(DT_LNK)
        case S_IFIFO: return UInt8(DT_FIFO)
        case S_IFSOCK: return UInt8(DT_SOCK)
        case S_IFCHR: return UInt8(DT_CHR)
        case S_IFBLK: return UInt8(DT_BLK)
        default: return type
        }
    }

    /// Whether the file `name` in the directory `directory` (a descriptor) starts as Jekyll
    /// takes a file for a page it renders (`Utils.has_yaml_header?`: its first line is `---`
    /// then only whitespace, `\A---\s*\r?\n`; after a byte order mark it is not, and Jekyll
    /// copies the file as it is). A file that cannot be opened or read, or is no longer a
    /// regular one, counts as a page: the reader then says what it is.
    public static func startsLikeAPage(at name: UnsafePointer<CChar>, in directory: Int32) -> Bool {
        let fd = openat(directory, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return true }
        var buffer = [UInt8](repeating: 0, count: 512)
        var seen = 0 // bytes of the first line looked at
        while true {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                return true
            }
            if got == 0 { return false } // no line break: `readline` gives no `\n` to match
            for byte in buffer[..<got] {
                defer { seen += 1 }
                if seen < 3 {
                    guard byte == UInt8(ascii: "-") else { return false }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\n"): return true
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0B, 0x0C: continue // Ruby's \s
                default: return false
                }
            }
        }
    }

    /// Whether the regular file `name` of `directory` starts with `prefix` (false when it
    /// cannot be read so).
    static func starts(with prefix: [UInt8], at name: UnsafePointer<CChar>, in directory: Int32) -> Bool {
        let fd = openat(directory, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        var buffer = [UInt8](repeating: 0, count: prefix.count)
        var got = 0
        while got < prefix.count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, prefix.count - got) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            got += n
        }
        return buffer == prefix
    }

    static func namePointer(_ entry: UnsafeMutablePointer<dirent>) -> UnsafePointer<CChar> {
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        return UnsafePointer(UnsafeRawPointer(entry).advanced(by: offset).assumingMemoryBound(to: CChar.self))
    }

    /// What kind of file is at a path (symbolic links followed).
    public enum FileKind: String, Sendable {
        case regular = "a regular file", directory = "a directory", fifo = "a FIFO", socket = "a socket"
        case characterDevice = "a character device", blockDevice = "a block device", other = "not a regular file"
        /// Found by a directory walk under a name that is not UTF-8 (never opened).
        case undecodableName = "a name that is not UTF-8"
        /// Found by a directory walk as an entry that leads to nothing: a symbolic link whose
        /// target is not there, or a file removed meanwhile.
        case missing = "a symbolic link that leads nowhere, or a file removed meanwhile"
    }

    /// The kind of file at `path`, following symbolic links.
    public static func kind(of path: String) throws(AvaultError) -> FileKind {
        var st = stat()
        guard stat(path, &st) == 0 else { throw .io(path: path, reason: errnoText()) }
        return kind(st.st_mode)
    }

    static func kind(_ mode: mode_t) -> FileKind {
        switch mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFIFO: return .fifo
        case S_IFSOCK: return .socket
        case S_IFCHR: return .characterDevice
        case S_IFBLK: return .blockDevice
        default: return .other
        }
    }

    /// Reads a file of a kind whose files are small (see ``FileLimits``), `what` naming that
    /// kind: one larger than `limit` is refused by its size before any of it is read, or once
    /// `limit` bytes and one more have been (a pipe, a file that grew). `regularOnly`: opened as
    /// ``openRegularFile(_:seenRegular:)`` opens it (for files found rather than named by the user).
    public static func readSmall(_ path: String, limit: Int, what: String, secret: Bool = false,
                                 regularOnly: Bool = false) throws(AvaultError) -> [UInt8] {
        if regularOnly {
            let (fd, size) = try openRegularFile(path)
            defer { close(fd) }
            return try readAll(fd: fd, name: path, size: size, limit: limit, what: what, secret: secret)
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            let failure = errno, reason = errnoText()
            if secret, failure == ENOENT || failure == ENAMETOOLONG, mayBeASecret(path) {
                throw .io(path: "the name given for \(what) (not shown: it may be the secret itself, typed where its file's name goes)", reason: reason)
            }
            throw .io(path: path, reason: reason)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, reason: errnoText()) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw .io(path: path, reason: "is a directory") }
        // A terminal named by a path (`/dev/stdin`, `/dev/tty`) would show a secret typed into
        // it, as standard input would (`-`): refused alike, before its mode is looked at.
        if secret, isatty(fd) == 1 { throw terminalRefused(path, what: what) }
        if secret, st.st_mode & 0o077 != 0 {
            throw .insecurePermissions(path: path, mode: UInt32(st.st_mode))
        }
        return try readAll(fd: fd, name: path, size: Int(st.st_size), limit: limit, what: what, secret: secret)
    }

    /// Whether a name given for a secret file that is not there may be the secret itself (a key
    /// or passphrase pasted where its file's name goes), which an error must not repeat: not a
    /// path into a directory that is there, and whitespace or a line break in it, or 16
    /// characters or more and no `.` (a hex or base64 key, whose `/` names no directory, an
    /// `AGE-SECRET-KEY-1…`, a long passphrase; not `demo.key`, `keys/k`). Also for an argument
    /// the command line did not expect, which a usage error would otherwise repeat.
    public static func mayBeASecret(_ path: String) -> Bool {
        let u = path.utf8
        if u.contains(0x2F) {
            var st = stat()
            if stat(directory(of: path), &st) == 0 { return false }
        }
        return u.contains { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D } || u.count >= 16 && !u.contains(0x2E)
    }

    /// Reads a file that a command line names for avault to read, as ``readSmall(_:limit:what:secret:regularOnly:)``
    /// does; `-` is standard input (as `age -R -` and `age -i -` read it). Only such a name
    /// means standard input: a path that avault makes or finds never does.
    ///
    /// A secret read from standard input is not checked for mode 600, as a passphrase read
    /// from it is not (the command line chose where it comes from); it is refused when standard
    /// input is a terminal, which would show it as it is typed; and it is read into one buffer,
    /// so that no copy is left unwiped.
    public static func readInput(_ path: String, limit: Int, what: String, secret: Bool = false) throws(AvaultError) -> [UInt8] {
        guard path == "-" else { return try readSmall(path, limit: limit, what: what, secret: secret) }
        let name = inputName(path)
        guard secret else { return try readAll(fd: 0, name: name, size: 0, limit: limit, what: what) }
        if isatty(0) == 1 { throw terminalRefused(name, what: what) }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        let (got, failure) = bytes.withUnsafeMutableBytes { fill($0, from: 0) }
        guard failure == 0, got <= limit else {
            wipe(&bytes)
            if failure != 0 { errno = failure; throw .io(path: name, reason: errnoText()) }
            throw .fileTooLarge(path: name, limit: limit, what: what)
        }
        bytes.removeLast(bytes.count - got) // in place: the buffer is kept, nothing copied
        return bytes
    }

    /// Whether `chmod 600 PATH` fixes a secret file found accessible by group or others (`mode`,
    /// as `fstat` gave it): only for a regular file named by a path of its own. Not for a device
    /// (`/dev/zero`: root following the advice would change it for every user), nor for a name
    /// whose directory is `/dev` itself or resolves into `/proc` (`/dev/stdin`, `/dev/fd/N`,
    /// `/proc/self/fd/N` name whatever the `chmod` process itself has open there; a file in
    /// `/dev/shm` is a file of its own).
    public static func chmodFixes(_ path: String, mode: UInt32) -> Bool {
        guard mode & UInt32(S_IFMT) == UInt32(S_IFREG) else { return false }
        guard let resolved = realpath(directory(of: path), nil) else { return false }
        defer { free(resolved) }
        let dir = String(cString: resolved)
        return dir != "/dev" && dir != "/proc" && !dir.hasPrefix("/proc/")
    }

    /// A secret that would be read from a terminal, which shows what is typed into it.
    static func terminalRefused(_ name: String, what: String) -> AvaultError {
        .io(path: name, reason: "is a terminal, which would show \(what.isEmpty ? "a secret" : what) as it is typed: pipe it in, or name its file")
    }

    /// How messages name a file that a command line gave: `-` is standard input.
    public static func inputName(_ path: String) -> String { path == "-" ? "standard input" : path }

    /// Reads `fd`, a file of `size` bytes when opened, to its end, refusing it as not being
    /// `what` when it is larger than `limit`: by its size before any of it is read, or once one
    /// byte past the limit has been (it grew). `secret`: what was read is wiped before that.
    public static func readAll(fd: Int32, name: String, size: Int, limit: Int, what: String, secret: Bool = false) throws(AvaultError) -> [UInt8] {
        let tooLarge = AvaultError.fileTooLarge(path: name, limit: limit, what: what)
        guard size <= limit else { throw tooLarge }
        var bytes = try readAll(fd: fd, name: name, sizeHint: size, limit: limit == .max ? .max : limit + 1)
        guard bytes.count <= limit else {
            if secret { wipe(&bytes) }
            throw tooLarge
        }
        return bytes
    }

    /// Opens a regular file for reading: anything else (a FIFO, a socket, a device) is refused
    /// without being opened, and checked again on the open descriptor (opened non-blocking, so
    /// a FIFO swapped in meanwhile cannot hang the reader). Returns the descriptor, which the
    /// caller closes, with the file's size when it was opened.
    ///
    /// With `seenRegular` (the caller found a regular file there, as a directory walk does),
    /// the path is opened at once without following a symbolic link, and only one swapped in
    /// meanwhile (`ELOOP`) goes the careful way.
    public static func openRegularFile(_ path: String, seenRegular: Bool = false) throws(AvaultError) -> (fd: Int32, size: Int) {
        let (fd, identity) = try openRegular(path, seenRegular: seenRegular)
        return (fd, Int(identity.size))
    }

    /// What tells one state of a regular file from another: its device and inode, its size, and
    /// its change time, which the kernel sets on every write, truncation and rename of the inode
    /// and no caller can set. A path that opens to another identity was replaced, or its file
    /// written, since the identity was taken.
    public struct Identity: Equatable, Sendable {
        let device: UInt64, inode: UInt64
        let size: Int64
        let changed: (seconds: Int, nanoseconds: Int)
        /// The file's permission bits (`st_mode & 0o7777`) when the identity was taken. Not
        /// compared: a `chmod` changes the change time, which is.
        public let permissions: mode_t
        /// How many names (hard links) the file had. Not compared either.
        public let links: Int
        /// The file's owner and group (a `chown` changes the change time too).
        public let owner: Owner

        init(_ st: stat) {
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
            size = Int64(st.st_size)
            changed = (Int(st.st_ctim.tv_sec), Int(st.st_ctim.tv_nsec))
            permissions = st.st_mode & 0o7777
            links = Int(st.st_nlink)
            owner = Owner(uid: st.st_uid, gid: st.st_gid)
        }

        /// The file itself, whatever its contents: its device and inode, which every name
        /// (path, link) of one file shares.
        struct File: Hashable { let device: UInt64, inode: UInt64 }
        var file: File { File(device: device, inode: inode) }

        public static func == (a: Identity, b: Identity) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size && a.changed == b.changed
        }
    }

    /// A new name in `dir` for a file written there and renamed into place.
    public static func temporaryPath(in dir: String) -> String { dir + "/.avault-tmp-" + Hex.encode(SecureRandom.bytes(count: 8)) }

    /// A file being written in a directory before it has its name. It is made without one
    /// (`O_TMPFILE`), so that nothing of it — a draft's plaintext, half written — is left when
    /// the process is killed (SIGKILL included) before it is complete; where the file system
    /// has no such files, or `/proc` cannot name one, it is made under a temporary name in the
    /// directory instead, which ``discard()`` removes.
    struct PendingFile {
        let fd: Int32
        /// The temporary name, when the file has one.
        let temp: String?
        let dir: String

        /// Whether an unnamed file can be named: `/proc/self/fd` is there to link it from.
        private static let procFD = access("/proc/self/fd", X_OK) == 0

        /// A new file in `dir` (`mode`, before the umask), or nil with `errno` set.
        init?(in dir: String, mode: mode_t) {
            self.dir = dir
            if Self.procFD {
                // O_TMPFILE, which Swift's Glibc leaves out: Linux's generic value (x86-64, arm64).
                let fd = open(dir, 0o20000000 | O_DIRECTORY | O_WRONLY | O_CLOEXEC, mode)
                if fd >= 0 {
                    (self.fd, temp) = (fd, nil)
                    return
                }
                guard errno == EOPNOTSUPP || errno == EISDIR else { return nil }
            }
            let temp = temporaryPath(in: dir)
            let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            guard fd >= 0 else { return nil }
            (self.fd, self.temp) = (fd, temp)
        }

        /// Gives the complete (synced) file the name `path`, replacing what is there unless
        /// `overwrite` is false (then `EEXIST`, and `path` untouched), and closes it. False
        /// with `errno` set on failure, and nothing left under a temporary name.
        func publish(as path: String, overwrite: Bool) -> Bool {
            defer {
                let failure = errno
                close(fd)
                errno = failure
            }
            guard let temp else {
                guard overwrite else { return name(path) }
                // A name of its own first (rename(2) replaces; a link cannot).
                let named = temporaryPath(in: dir)
                guard name(named) else { return false }
                return Self.move(named, to: path)
            }
            guard overwrite else {
                // link(2) fails if the target appeared meanwhile: never clobber.
                let linked = link(temp, path) == 0
                let failure = errno
                unlink(temp)
                errno = failure
                return linked
            }
            return Self.move(temp, to: path)
        }

        /// Gives the unnamed file the name `path` (linkat(2); `EEXIST` when `path` exists): by
        /// its descriptor (`AT_EMPTY_PATH`, which needs CAP_DAC_READ_SEARCH), else through /proc.
        private func name(_ path: String) -> Bool {
            if linkat(fd, "", AT_FDCWD, path, 0x1000 /* AT_EMPTY_PATH */) == 0 { return true }
            if errno == EEXIST { return false }
            return linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0
        }

        /// rename(2), removing `from` when it fails.
        private static func move(_ from: String, to path: String) -> Bool {
            guard rename(from, path) == 0 else {
                let failure = errno
                unlink(from)
                errno = failure
                return false
            }
            return true
        }

        /// Closes the file, and removes it if it has a name.
        func discard() {
            close(fd)
            if let temp { unlink(temp) }
        }
    }

    /// Removes the directory at `path` if it is empty (what a command made and then could not
    /// use); anything else is left as it is.
    public static func removeEmptyDirectory(_ path: String) { _ = rmdir(path) }

    /// The ``Identity`` of the file at `path` now (through a symbolic link, as a file opened
    /// there is read); nil when there is none (or it cannot be looked at).
    public static func identity(of path: String) -> Identity? {
        var st = stat()
        return stat(path, &st) == 0 ? Identity(st) : nil
    }

    /// Opens a regular file as ``openRegularFile(_:seenRegular:)`` does, and returns the
    /// descriptor with the file's ``Identity`` as it was opened.
    public static func openRegular(_ path: String, seenRegular: Bool = false) throws(AvaultError) -> (fd: Int32, identity: Identity) {
        // The path as a C string once, for both calls.
        var before: FileKind?
        let fd: Int32 = path.withCString { cPath in
            if seenRegular {
                let fd = open(cPath, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW)
                if fd >= 0 || errno != ELOOP {
                    before = .regular
                    return fd
                }
            }
            var st = stat()
            guard stat(cPath, &st) == 0 else { return -1 }
            before = kind(st.st_mode)
            guard before == .regular else { return -1 }
            return open(cPath, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        }
        guard let before else { throw .io(path: path, reason: errnoText()) }
        guard before == .regular else { throw .io(path: path, reason: "\(before.rawValue), not a regular file") }
        guard fd >= 0 else { throw .io(path: path, reason: errnoText()) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let failure = errno
            close(fd)
            errno = failure
            throw .io(path: path, reason: errnoText())
        }
        let after = kind(st.st_mode)
        guard after == .regular else {
            close(fd)
            throw .io(path: path, reason: "\(after.rawValue), not a regular file")
        }
        return (fd, Identity(st))
    }

    /// Reads a file descriptor to its end (standard input, pipes), or until `limit` bytes:
    /// what lies past them is left unread (ask for one byte more than you accept to tell a
    /// longer file). With the right `sizeHint` (a regular file's size) this is one allocation,
    /// no copy and one `read`: a first read that returns exactly `sizeHint` bytes, of the one
    /// byte more asked for, is taken as the whole file without a second read to see its end
    /// (a file that grew meanwhile reads as it was when its size was taken).
    public static func readAll(fd: Int32, name: String, sizeHint: Int = 0, limit: Int = .max) throws(AvaultError) -> [UInt8] {
        var out: [UInt8] = []
        // A regular file's size and one byte more (to see its end), else 16 KiB at a time.
        var chunkSize = min(sizeHint > 0 ? sizeHint + 1 : 16384, limit)
        var whole = sizeHint > 0 && sizeHint < chunkSize ? sizeHint : nil
        while true {
            let chunk = try readUpTo(fd: fd, chunkSize, name: name, stoppingAt: whole)
            whole = nil
            if out.isEmpty { out = chunk } else { out += chunk }
            if chunk.count < chunkSize || out.count >= limit { return out }
            chunkSize = min(chunkSize * 2, limit - out.count)
        }
    }

    /// Reads `fd` to its end in pieces of up to 1 MiB, each handed to `body`.
    public static func forEachPiece(fd: Int32, name: String, _ body: (UnsafeRawBufferPointer) -> Void) throws(AvaultError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: name, reason: errnoText())
            }
            if n == 0 { return }
            buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// Writes all of `bytes` to `fd`.
    public static func writeAll(fd: Int32, _ bytes: [UInt8], name: String) throws(AvaultError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: name, reason: errnoText())
            }
            offset += n
        }
    }

    /// Writes all of `bytes` to `fd`.
    public static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer, name: String) throws(AvaultError) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: name, reason: errnoText())
            }
            offset += n
        }
    }

    /// Fills `buffer` from `fd` at `offset` (`pread`, which leaves the file position alone);
    /// a file that ends too soon has changed since its size was taken, and is an error.
    public static func pread(fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, name: String) throws(AvaultError) {
        var got = 0
        while got < buffer.count {
            let n = Glibc.pread(fd, buffer.baseAddress! + got, buffer.count - got, off_t(offset + got))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: name, reason: errnoText())
            }
            if n == 0 { throw .io(path: name, reason: "it became shorter while being read") }
            got += n
        }
    }

    /// `count` bytes of `fd` at `offset` (see ``pread(fd:into:at:name:)``).
    public static func pread(fd: Int32, count: Int, at offset: Int, name: String) throws(AvaultError) -> [UInt8] {
        var failure: AvaultError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(AvaultError) {
                try pread(fd: fd, into: UnsafeMutableRawBufferPointer(buffer), at: offset, name: name)
                initialized = count
            } catch { failure = error }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Fills `buffer` from `fd`, or fewer bytes only at end of file; returns how many.
    public static func readFull(fd: Int32, into buffer: UnsafeMutableRawBufferPointer, name: String) throws(AvaultError) -> Int {
        var got = 0
        while got < buffer.count {
            let n = Glibc.read(fd, buffer.baseAddress! + got, buffer.count - got)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: name, reason: errnoText())
            }
            if n == 0 { break }
            got += n
        }
        return got
    }

    /// Reads `fd` into `buffer` until it is full, at end of file, or once `whole` bytes are in;
    /// returns how many bytes it holds, and the `errno` of a read that failed (0: none did).
    private static func fill(_ buffer: UnsafeMutableRawBufferPointer, from fd: Int32, stoppingAt whole: Int? = nil) -> (count: Int, failure: Int32) {
        var got = 0
        while got < buffer.count {
            let n = Glibc.read(fd, buffer.baseAddress! + got, buffer.count - got)
            if n < 0 {
                if errno == EINTR { continue }
                return (got, errno)
            }
            if n == 0 { break }
            got += n
            if got == whole { break }
        }
        return (got, 0)
    }

    /// Reads up to `count` bytes, fewer only at end of file or once `whole` bytes are read.
    public static func readUpTo(fd: Int32, _ count: Int, name: String, stoppingAt whole: Int? = nil) throws(AvaultError) -> [UInt8] {
        var failure: Int32 = 0
        let out = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            (initialized, failure) = fill(UnsafeMutableRawBufferPointer(buffer), from: fd, stoppingAt: whole)
        }
        if failure != 0 {
            errno = failure
            throw .io(path: name, reason: errnoText())
        }
        return out
    }

    /// A file's owner and group.
    public struct Owner: Equatable, Sendable {
        public let uid: uid_t, gid: gid_t
    }

    /// Writes `bytes` to `path` atomically and durably: a temporary file in the same
    /// directory, created with `mode`, written, `fsync`ed, renamed over `path`, and the
    /// directory `fsync`ed. On any failure the temporary file is removed and `path` is
    /// untouched. Unless `overwrite`, an existing `path` is refused (``AvaultError/fileExists(path:)``).
    ///
    /// `owner`: that of the file a rewrite replaces, which the new file takes where the process
    /// may give it (root gives any; another user only a group of its own). A group it may not
    /// give is not left in the mode: the new file's group, the process's own, gets none of the
    /// permissions the old file's group had.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600, overwrite: Bool = true,
                                       owner: Owner? = nil) throws(AvaultError) {
        try checkOutput(path, force: overwrite)
        let dir = directory(of: path)
        guard let file = PendingFile(in: dir, mode: mode) else { throw .io(path: path, reason: "cannot create a file in \(dir): \(errnoText())") }
        do throws(AvaultError) {
            var mode = mode
            // Compared with what the new file got (a setgid directory gives its own group).
            var made = stat()
            if let owner, fstat(file.fd, &made) == 0, made.st_uid != owner.uid || made.st_gid != owner.gid,
               fchown(file.fd, owner.uid, owner.gid) != 0 {
                // No set-id bits on a file of another owner than the old one's.
                mode &= ~mode_t(S_ISUID | S_ISGID)
                if fchown(file.fd, uid_t.max, owner.gid) != 0 { mode &= ~0o070 } // uid_t.max: (uid_t)-1, the owner left as it is
            }
            // After any chown (which may clear set-id bits): umask must not loosen or tighten what we asked for.
            _ = fchmod(file.fd, mode)
            try writeAll(fd: file.fd, bytes, name: path)
            guard fsync(file.fd) == 0 else { throw .io(path: path, reason: "fsync: \(errnoText())") }
        } catch {
            file.discard()
            throw error
        }
        guard file.publish(as: path, overwrite: overwrite) else {
            if errno == EEXIST, !overwrite { throw .fileExists(path: path) }
            throw .io(path: path, reason: errnoText())
        }
        syncDirectory(dir)
    }

    /// Creates `path` and missing parents with `mode` (an existing directory is left as it is).
    public static func makeDirectory(_ path: String, mode: mode_t) throws(AvaultError) {
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw .io(path: path, reason: "exists and is not a directory") }
            return
        }
        let parent = directory(of: path)
        if parent != path, parent != "/", parent != "." { try makeDirectory(parent, mode: mode) }
        guard mkdir(path, mode) == 0 else {
            // Made meanwhile by someone else: left as it is, like one that was there before,
            // if it is a directory.
            guard errno == EEXIST else { throw .io(path: path, reason: errnoText()) }
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { throw .io(path: path, reason: "exists and is not a directory") }
            return
        }
        // The mode past the umask, set on the directory just made and not on whatever a link
        // swapped in for it meanwhile would lead to.
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, reason: errnoText()) }
        _ = fchmod(fd, mode)
        close(fd)
    }

    /// `fsync` of a directory, so a rename in it is durable.
    public static func syncDirectory(_ dir: String) {
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    /// Whether anything exists at `path`.
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The checks of an output file before anything is computed for it: what is there must be
    /// replaceable (``checkReplaceable(_:inPlace:)``: a device, a FIFO or a symbolic link is
    /// refused whatever `force` says, so that the first answer is not "use --force"), and
    /// exist only with `force`.
    /// `dashOption`: the option that writes to standard output when given `-` (`-o`), which
    /// the refusal then suggests; nil (the default) where the output cannot be standard output.
    public static func checkOutput(_ path: String, force: Bool, dashOption: String? = nil) throws(AvaultError) {
        try checkReplaceable(path, dashOption: dashOption)
        if !force, exists(path) { throw .fileExists(path: path) }
    }

    /// Throws unless `path` names nothing or a regular file. An output is written under another
    /// name and renamed into place, which puts a new regular file in the place of whatever is
    /// there: a device (`-o /dev/null --force`, run as root, replaced /dev/null), a FIFO, or a
    /// symbolic link (`-o /dev/stdout` would become a file holding the output, in /dev).
    /// `inPlace`: a record rewritten in place, which anything but a regular file is not.
    /// `dashOption`: as for ``checkOutput(_:force:dashOption:)``.
    static func checkReplaceable(_ path: String, inPlace: Bool = false, dashOption: String? = nil) throws(AvaultError) {
        var st = stat()
        // Nothing there (a record to rewrite must be there). Any other failure (a name too long,
        // a directory that cannot be searched) is the write's too: said now, before a batch
        // writes anything.
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT, !inPlace { return }
            throw .io(path: path, reason: errnoText())
        }
        let kind = st.st_mode & S_IFMT
        guard kind != S_IFREG else { return }
        if inPlace, kind != S_IFLNK { throw .io(path: path, reason: "\(Self.kind(st.st_mode).rawValue), not a regular file") }
        let what = kind == S_IFLNK ? "a symbolic link, which would be replaced rather than written through" : "\(Self.kind(st.st_mode).rawValue), not a regular file"
        let advice: String
        if inPlace {
            advice = "a record is rewritten under another name and renamed into place: name the file itself"
        } else if let dashOption {
            advice = "an output is written under another name and renamed into place: use \(dashOption) - and a redirection, or name a regular file"
        } else {
            // This output cannot be standard output: another path is the way.
            advice = "an output is written under another name and renamed into place: name "
                + (kind == S_IFLNK ? "the file it points to" : "a regular file") + ", or a path where nothing is"
        }
        throw .io(path: path, reason: what + " (" + advice + ")")
    }

    /// The checks of a command that writes several files, before it writes any (one that
    /// failed halfway would leave the files before it written and those after not): each file it
    /// `reads` is a regular file (through links, as reading it is); each it `rewrites` in place
    /// is a regular file itself; each it `writes` is one or nothing (``checkReplaceable(_:)``);
    /// and in each directory that is there to write them in, a temporary file can be made and
    /// removed as ``writeAtomically(_:_:mode:overwrite:)`` makes it (write permission, a path too
    /// long, an append-only directory), and a file it replaces in a sticky directory (`/tmp`, a
    /// shared folder) is the user's, who alone may rename over it there. A full disk, a file
    /// marked immutable, or a write error can still stop a batch partway.
    public static func checkBatch(reads: [String] = [], rewrites: [String] = [], writes: [String] = []) throws(AvaultError) {
        for path in reads {
            var st = stat()
            guard stat(path, &st) == 0 else { throw .io(path: path, reason: errnoText()) }
            guard st.st_mode & S_IFMT == S_IFREG else { throw .io(path: path, reason: "\(kind(st.st_mode).rawValue), not a regular file") }
        }
        for path in rewrites { try checkReplaceable(path, inPlace: true) }
        for path in writes { try checkReplaceable(path) }
        var probed: Set<String> = []
        for path in rewrites + writes where probed.insert(directory(of: path)).inserted {
            let dir = directory(of: path)
            let temp = temporaryPath(in: dir)
            let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd < 0 {
                if errno == ENOENT, !exists(dir) { continue } // made later (an export's directory), and checked then
                throw .io(path: path, reason: "cannot create a file in \(dir): \(errnoText())")
            }
            close(fd)
            guard unlink(temp) == 0 else { throw .io(path: path, reason: "cannot remove a file in \(dir): \(errnoText())") }
        }
        let me = geteuid()
        for path in rewrites + writes where me != 0 {
            var st = stat(), dir = stat()
            guard lstat(path, &st) == 0, stat(directory(of: path), &dir) == 0, dir.st_mode & S_ISVTX != 0,
                  st.st_uid != me, dir.st_uid != me else { continue }
            throw .io(path: path, reason: "another user's file in a sticky directory, which only its owner may replace")
        }
    }

    /// The first of `outputs` that names the same file as an earlier one or as one of `inputs`,
    /// and that one: the same name in the same directory (`a.md`, `./a.md`; a directory not made
    /// yet is compared by its path with `.` and `..` taken out), or one file by two links (a hard
    /// link, a symbolic link to it). Two names of one input are not a conflict.
    public static func firstSameFile(_ outputs: [String], among inputs: [String] = []) -> (String, String)? {
        func keys(_ path: String) -> [String] {
            var st = stat(), dir = stat()
            let named = directory(of: path), normalized = lexicallyNormalized(named)
            let parent = stat(named, &dir) == 0 || stat(normalized, &dir) == 0 ? "inode \(dir.st_dev):\(dir.st_ino)" : "path \(normalized)"
            return ["name in \(parent)/\(baseName(of: path))"] + (stat(path, &st) == 0 ? ["file \(st.st_dev):\(st.st_ino)"] : [])
        }
        var seen: [String: String] = [:]
        for path in inputs { for key in keys(path) { seen[key] = path } }
        for path in outputs {
            let mine = keys(path)
            if let earlier = mine.lazy.compactMap({ seen[$0] }).first { return (earlier, path) }
            for key in mine { seen[key] = path }
        }
        return nil
    }

    /// `path` with `.` and `a/..` taken out, as a directory that is not there yet will be made.
    static func lexicallyNormalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.utf8.split(separator: 0x2F, omittingEmptySubsequences: true).map({ Substring($0) }) where part != "." {
            if part == "..", let last = parts.last, last != ".." { parts.removeLast() } else { parts.append(part) }
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    /// Whether `path` is `-` or names standard input when that is a pipe or a socket, which can
    /// be read only once (`/dev/stdin`, `/proc/self/fd/0`): a command that also reads standard
    /// input for something else must refuse it.
    public static func namesStandardInputStream(_ path: String?) -> Bool {
        guard let path else { return false }
        if path == "-" { return true }
        var input = stat(), named = stat()
        // The path is looked at only when standard input is a pipe or a socket: `verify` of
        // many paths checks each of them.
        guard fstat(0, &input) == 0, input.st_mode & S_IFMT == S_IFIFO || input.st_mode & S_IFMT == S_IFSOCK,
              stat(path, &named) == 0 else { return false }
        return input.st_dev == named.st_dev && input.st_ino == named.st_ino
    }

    /// The descriptor `path` names as `/dev/fd/N`, `/proc/self/fd/N` or `/dev/stdin` (N as the
    /// kernel writes it: no sign, no leading zero), when it is an anonymous pipe this process
    /// can read: what a shell's process substitution (`<(…)`) or a `|` hands over, which only
    /// whoever started the process writes into. Not a named FIFO, which anyone its mode lets
    /// may open and write into; nil when `/proc` cannot tell.
    public static func inheritedPipe(_ path: String) -> Int32? {
        var number: Substring? = path == "/dev/stdin" ? "0" : nil
        for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) { number = path.dropFirst(prefix.count) }
        guard let number, let fd = Int32(number), fd >= 0, String(fd) == number else { return nil }
        var st = stat()
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, flags & O_ACCMODE != O_WRONLY, fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFIFO else { return nil }
        // An anonymous pipe's link reads `pipe:[inode]`; a named FIFO's is its path.
        var link = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/self/fd/\(fd)", &link, link.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: link[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self).hasPrefix("pipe:[") ? fd : nil
    }

    /// The directory part of `path` (`.` when there is none).
    /// (Cut at the byte `/`: a `Character` would take a `/` followed by a combining mark for
    /// another character, and the name `\u{301}x` in `dir/\u{301}x` for part of the directory.)
    public static func directory(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: 0x2F) else { return "." }
        return slash == path.utf8.startIndex ? "/" : String(Substring(path.utf8[..<slash]))
    }

    /// The last path component.
    public static func baseName(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: 0x2F) else { return path }
        return String(Substring(path.utf8[path.utf8.index(after: slash)...]))
    }

    /// Whether `syncfs` is as durable as an `fsync` of each file on the file system holding `fd`,
    /// and reports a failed write: Linux 5.8 or later (before, `syncfs` returned 0 whatever
    /// happened), and a local file system that writes every dirty file and inode out on it:
    /// ext2/3/4, XFS, Btrfs, F2FS, and tmpfs (which keeps nothing either way). Anything else
    /// (NFS, FUSE, …) gets an `fsync` of each file.
    static func syncfsIsDurable(on fd: Int32) -> Bool {
        linuxReportsSyncfsErrors && [0xEF53, 0x5846_5342, 0x9123_683E, 0xF2F5_2010, 0x0102_1994].contains(avault_file_system_type(fd))
    }

    /// `syncfs(fd)`: writes out everything waiting to be written on the file system holding `fd`.
    static func syncWholeFileSystem(_ fd: Int32) -> Int32 { syncfs(fd) }

    /// Whether this is Linux 5.8 or later.
    static let linuxReportsSyncfsErrors: Bool = {
        var name = utsname()
        guard uname(&name) == 0 else { return false }
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return text(name.sysname) == "Linux" && kernel(text(name.release), isAtLeast: (5, 8))
    }()

    /// Whether a Linux release string (`6.1.0-13-amd64`) names `version` or a later one.
    static func kernel(_ release: String, isAtLeast version: (Int, Int)) -> Bool {
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard numbers.count == 2 else { return false }
        return (numbers[0], numbers[1]) >= version
    }

    /// The working directory's path as the kernel gives it (`getcwd`), nil when it has none.
    public static func currentDirectory() -> [UInt8]? {
        guard let path = getcwd(nil, 0) else { return nil }
        defer { free(path) }
        return Array(UnsafeBufferPointer(start: UnsafeRawPointer(path).assumingMemoryBound(to: UInt8.self), count: strlen(path)))
    }

    /// `path` with every symbolic link (a chain of them too), `.` and `..` resolved, as
    /// `realpath(3)` gives it, as bytes (a name need not be UTF-8, and two names that are not
    /// must not compare equal as strings with U+FFFD for their bytes); nil, with `errno` set,
    /// when it cannot be resolved.
    public static func resolvedPath(_ path: String) -> [UInt8]? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return Array(UnsafeRawBufferPointer(start: resolved, count: strlen(resolved)))
    }

    /// Whether the resolved path `path` is `directory` (resolved) or lies under it: compared by
    /// whole components (`/a/bc` is not in `/a/b`).
    public static func path(_ path: [UInt8], isWithin directory: [UInt8]) -> Bool {
        let slash = UInt8(ascii: "/")
        let root = directory.last == slash ? Array(directory.dropLast()) : directory // `/` itself: every path
        guard path.count >= root.count, path.starts(with: root) else { return false }
        return path.count == root.count || path[root.count] == slash
    }

    /// Checks that `fd`, just opened from `path` (a file a walk found in `tree`), is a file
    /// that lies in `tree`, whatever the path led to when it was opened: a record the walk saw
    /// in the tree (or a link in it to a file in it) may have been swapped since for a link to
    /// a file outside it, which the walk would have refused
    /// (``AvaultError/linkOutsideWalkedTree(path:root:toDirectory:)``). Where the file lies is
    /// what the kernel says of the descriptor (`/proc/self/fd/N`); without `/proc`, the path
    /// resolved again, which must still name the file opened. A file found elsewhere is
    /// ``AvaultError/fileChangedMeanwhile(path:)``.
    public static func checkOpened(_ fd: Int32, path: String, within tree: RecordWalker.Tree) throws(AvaultError) {
        var opened = stat()
        guard fstat(fd, &opened) == 0 else { throw .io(path: path, reason: errnoText()) }
        var link = [CChar](repeating: 0, count: Int(PATH_MAX) + 2)
        let n = readlink("/proc/self/fd/\(fd)", &link, link.count)
        let location: [UInt8]
        if n > 0, n < link.count, link[0] == CChar(UInt8(ascii: "/")) {
            location = link[..<n].map { UInt8(bitPattern: $0) }
        } else {
            var named = stat()
            guard let resolved = resolvedPath(path), stat(path, &named) == 0,
                  named.st_dev == opened.st_dev, named.st_ino == opened.st_ino else { throw .fileChangedMeanwhile(path: path) }
            location = resolved
        }
        guard FileSystem.path(location, isWithin: tree.resolved) else { throw .fileChangedMeanwhile(path: path) }
    }

    /// `strerror(errno)` in lowercase, e.g. "no such file or directory".
    public static func errnoText() -> String {
        let text = String(cString: strerror(errno))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}

/// Starts the writeback of a file being written, every ``step`` bytes (`sync_file_range` with
/// `SYNC_FILE_RANGE_WRITE`: it neither waits nor promises anything), so that the disk writes
/// while the rest is encrypted or decrypted and the `fsync` at the end finds little left to do.
/// Durability still comes from that `fsync` alone; without `sync_file_range` nothing changes.
struct EarlyWriteback {
    static let step = 8 << 20
    private var written = 0
    private var started = 0

    /// glibc's `sync_file_range` (Linux only, so Swift's Glibc module, built without
    /// `_GNU_SOURCE`, does not declare it), looked up once.
    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    private static let syncFileRange: SyncFileRange? = dlsym(nil, "sync_file_range").map { unsafeBitCast($0, to: SyncFileRange.self) }
    private static let syncFileRangeWrite: UInt32 = 2 // SYNC_FILE_RANGE_WRITE

    mutating func wrote(_ count: Int, fd: Int32) {
        written += count
        // Whole pages only: the next write goes on in the last, partly written page, and would
        // wait for its writeback to finish (stable pages) if it were under way.
        let end = written & ~4095
        guard end - started >= Self.step else { return }
        _ = Self.syncFileRange?(fd, Int64(started), Int64(end - started), Self.syncFileRangeWrite)
        started = end
    }

    /// The file was emptied: start counting again.
    mutating func reset() {
        written = 0
        started = 0
    }
}
