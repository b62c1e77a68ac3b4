#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on an open file, released when the lock is dropped.
public final class FileLock {
    private let fd: Int32

    /// Locks `fd` (which the lock then owns), waiting for other holders; `EINTR` is retried.
    public init(fd: Int32, path: String) throws(AvaultError) {
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let reason = FileSystem.errnoText()
                close(fd)
                throw .io(path: path, reason: reason)
            }
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
