#if canImport(Glibc)
import Glibc
#endif
import VaultCrypto
import VaultFormat

/// The agent's listening socket, bound at its path with mode 600 in a directory only its user
/// (or root, with the sticky bit for others) can write.
public final class AgentListener {
    /// The socket's path.
    public let path: String
    /// The listening descriptor.
    let fd: Int32
    /// The device and inode of the socket file this listener made, so that only that file is
    /// removed at the end.
    private let identity: (dev: UInt64, ino: UInt64)

    private init(fd: Int32, path: String, identity: (dev: UInt64, ino: UInt64)) {
        self.fd = fd
        self.path = path
        self.identity = identity
    }

    deinit { close(fd) }

    /// Checks that no agent answers at `path` (before a passphrase is asked for): throws
    /// ``AvaultError/agentRunning(socket:pid:)`` when one does.
    public static func checkFree(path: String) throws(AvaultError) {
        guard AgentSocket.withAddress(path, { _, _ in true }) != nil else {
            throw .agentSocketPlace(socket: path, reason: "the path is longer than a socket's (\(AgentSocket.maximumPathSize) bytes)")
        }
        if let unsafe = unsafeDirectory(holding: path) { throw unsafe.error }
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard st.st_mode & S_IFMT == S_IFSOCK else {
            // `lstat`: a symbolic link is named so (its mode's kind is none of FileKind's).
            let what = st.st_mode & S_IFMT == S_IFLNK ? "a symbolic link" : FileSystem.kind(st.st_mode).rawValue
            throw .agentUnusable(socket: path, reason: "it is \(what), not a socket: avault does not replace it")
        }
        if let running = try AgentClient(socket: path).status() {
            throw .agentRunning(socket: path, pid: running.pid)
        }
    }

    /// Claims `path`: its directory (made with mode 700 if missing) must be writable by its
    /// user only (or root's, with the sticky bit when others may write it); a socket left by
    /// an agent that ended is replaced, one an agent answers on is not. The socket is created
    /// with mode 600 and listened on.
    public static func bind(path: String) throws(AvaultError) -> AgentListener {
        try checkDirectory(of: path)
        try checkFree(path: path)
        var st = stat()
        if lstat(path, &st) == 0 {
            // A socket nobody answers on (checkFree said so): an agent that was killed left it.
            guard st.st_mode & S_IFMT == S_IFSOCK, st.st_uid == geteuid(), unlink(path) == 0 else {
                throw .agentUnusable(socket: path, reason: "a socket avault cannot replace is there (\(FileSystem.errnoText()))")
            }
        }
        let fd = AgentSocket.newSocket()
        guard fd >= 0 else { throw .agentUnusable(socket: path, reason: "socket: \(FileSystem.errnoText())") }
        // The umask makes the socket file mode 600 as bind creates it, so its mode is never set
        // by path afterwards (a chmod by path follows a symbolic link swapped into it meanwhile);
        // lstat only checks what was made.
        let old = umask(0o177)
        let rc = AgentSocket.withAddress(path) { Glibc.bind(fd, $0, $1) } ?? -1
        let bindErrno = errno
        umask(old)
        guard rc == 0 else {
            close(fd)
            errno = bindErrno
            throw .agentUnusable(socket: path, reason: "bind: \(FileSystem.errnoText())")
        }
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFSOCK,
              st.st_uid == geteuid(), st.st_mode & 0o777 == 0o600 else {
            close(fd)
            unlink(path)
            throw .agentUnusable(socket: path, reason: "the socket could not be made private (mode 600)")
        }
        guard listen(fd, 64) == 0 else {
            let why = FileSystem.errnoText()
            close(fd)
            unlink(path)
            throw .agentUnusable(socket: path, reason: "listen: \(why)")
        }
        return AgentListener(fd: fd, path: path, identity: (UInt64(st.st_dev), UInt64(st.st_ino)))
    }

    /// The listening socket an agent started in the background inherits as `fd`: it must be a
    /// listening Unix stream socket bound to `path`, which must be the private socket file.
    static func adopt(fd: Int32, path: String) throws(AvaultError) -> AgentListener {
        func option(_ name: Int32) -> Int32? {
            var value: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(fd, SOL_SOCKET, name, &value, &size) == 0 ? value : nil
        }
        guard option(SO_DOMAIN) == AF_UNIX, option(SO_TYPE) == Int32(SOCK_STREAM.rawValue), option(SO_ACCEPTCONN) == 1 else {
            throw .agentUnusable(socket: path, reason: "the inherited descriptor is not a listening socket")
        }
        var address = sockaddr_un()
        var size = socklen_t(MemoryLayout<sockaddr_un>.size)
        let named = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &size) }
        }
        let bound = withUnsafeBytes(of: &address.sun_path) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        var st = stat()
        guard named == 0, bound == path, lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFSOCK,
              st.st_uid == geteuid(), st.st_mode & 0o777 == 0o600 else {
            throw .agentUnusable(socket: path, reason: "the inherited socket is not the private socket at that path")
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return AgentListener(fd: fd, path: path, identity: (UInt64(st.st_dev), UInt64(st.st_ino)))
    }

    /// Removes the socket file, if it is still the one this listener made.
    public func removeSocketFile() {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFSOCK,
              UInt64(st.st_dev) == identity.dev, UInt64(st.st_ino) == identity.ino else { return }
        unlink(path)
    }

    /// The socket's directory: made (mode 700) if missing; it must be a directory, not a
    /// symbolic link to one (`lstat`: what is checked is what the socket is made in), owned by
    /// this user or root, which group and others cannot write (unless it is sticky, as /tmp);
    /// and so must every directory above it (``unsafeDirectory(holding:)``), checked before
    /// the socket's directory is made.
    private static func checkDirectory(of path: String) throws(AvaultError) {
        guard path.hasPrefix("/") else { throw .agentSocketPlace(socket: path, reason: "it must be an absolute path") }
        if let unsafe = unsafeDirectory(holding: path) { throw unsafe.error }
        let dir = FileSystem.directory(of: path)
        var st = stat()
        if lstat(dir, &st) != 0 {
            guard errno == ENOENT, mkdir(dir, 0o700) == 0, lstat(dir, &st) == 0 else {
                throw .agentSocketPlace(socket: path, reason: "its directory \(dir): \(FileSystem.errnoText())")
            }
        }
        guard st.st_mode & S_IFMT != S_IFLNK else {
            throw .agentSocketPlace(socket: path, reason: "its directory \(dir) is a symbolic link, which avault does not follow here")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw .agentSocketPlace(socket: path, reason: "\(dir) is not a directory") }
        if let problem = problem(st, label: "its directory \(dir)") {
            throw UnsafeDirectory(socket: path, directory: dir, reason: problem.reason, othersMayWrite: problem.othersMayWrite).error
        }
    }

    /// A directory that holds the agent's socket, or is above it, that someone else could change.
    struct UnsafeDirectory {
        let socket: String
        let directory: String
        let reason: String
        let othersMayWrite: Bool
        var error: AvaultError { .agentDirectoryUnsafe(socket: socket, directory: directory, reason: reason, othersMayWrite: othersMayWrite) }
    }

    /// The first directory, from the one that holds the socket at `path` (or the nearest above
    /// it that exists) up to `/`, symbolic links resolved (`realpath`), that belongs to
    /// neither this user nor root, or that group or others may write without the sticky bit —
    /// as OpenSSH's `safe_path` checks the directories above a key. Whoever may write one of
    /// them can rename the socket's directory away and put their own in its place, so that the
    /// agent's commands reach their socket and not the agent. Nil when every one is safe.
    static func unsafeDirectory(holding path: String) -> UnsafeDirectory? {
        let own = FileSystem.directory(of: path)
        var existing = own
        var resolved = realpath(existing, nil)
        while resolved == nil, errno == ENOENT || errno == ENOTDIR, existing != "/" {
            existing = FileSystem.directory(of: existing)
            resolved = realpath(existing, nil)
        }
        guard let resolved else {
            return UnsafeDirectory(socket: path, directory: existing, reason: "\(existing): \(FileSystem.errnoText())", othersMayWrite: false)
        }
        var current = String(cString: resolved)
        free(resolved)
        var isOwn = existing == own
        while true {
            var st = stat()
            guard lstat(current, &st) == 0 else {
                return UnsafeDirectory(socket: path, directory: current, reason: "\(current): \(FileSystem.errnoText())", othersMayWrite: false)
            }
            if let problem = problem(st, label: isOwn ? "its directory \(current)" : "the directory \(current) above it") {
                return UnsafeDirectory(socket: path, directory: current, reason: problem.reason, othersMayWrite: problem.othersMayWrite)
            }
            if current == "/" { return nil }
            current = FileSystem.directory(of: current)
            isOwn = false
        }
    }

    /// Why the directory whose `lstat` is `st` (named `label` in the reason) is not safe to hold
    /// the socket or its directory: not this user's nor root's, or writable by group or others
    /// without the sticky bit. Nil when it is safe.
    private static func problem(_ st: stat, label: String) -> (reason: String, othersMayWrite: Bool)? {
        guard st.st_uid == geteuid() || st.st_uid == 0 else { return ("\(label) belongs to uid \(st.st_uid)", false) }
        guard st.st_mode & 0o022 == 0 || st.st_mode & S_ISVTX != 0 else {
            return ("group or others may write \(label) (mode \(String(st.st_mode & 0o7777, radix: 8)))", true)
        }
        return nil
    }
}
