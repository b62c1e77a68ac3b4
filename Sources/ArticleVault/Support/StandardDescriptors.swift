#if canImport(Glibc)
import Glibc
#endif

/// Descriptors 0, 1 and 2 kept taken. A process started with one of them closed (`avault … <&-`,
/// `2>&-`) gives that number to the next file it opens, and then reads its standard input from,
/// or writes its output and messages into, whatever file that is: a vault's directory or lock,
/// a record, a key file being written. So `avault` first puts `/dev/null` on each closed one,
/// as OpenSSH and git do, opened the other way round (write-only for 0, read-only for 1 and 2):
/// using it still fails as using a closed descriptor does (`EBADF`), and no file takes its number.
public enum StandardDescriptors {
    /// Call first thing in `main`, before anything is opened.
    public static func keepTaken() {
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            // The lowest free number is `fd`: those below it are open (or were just taken).
            let placeholder = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY)
            if placeholder != fd { _exit(2) } // nowhere to say so: standard error may be the one closed
        }
    }
}
