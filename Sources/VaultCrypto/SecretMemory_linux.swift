internal import CLinux
internal import CSodium

/// The protections of a process that holds secrets for long (the agent): no core file, no
/// reading of its memory by other processes of the same user, its secret pages locked in RAM.
public enum SecretMemory {
    /// Makes the process non-dumpable (`prctl(PR_SET_DUMPABLE, 0)`): no core file, and
    /// `/proc/PID/mem`, `/proc/PID/environ` and `ptrace(2)` are refused to processes of the
    /// same user that lack `CAP_SYS_PTRACE`. (Root, and a process that started this one under
    /// a tracer, are not stopped by it.)
    public static func forbidDumps() throws(CryptoError) {
        guard avault_set_dumpable(0) == 0, avault_get_dumpable() == 0 else {
            throw .libraryFailure("prctl(PR_SET_DUMPABLE, 0)")
        }
    }

    /// Whether the process is dumpable (`prctl(PR_GET_DUMPABLE)`).
    public static var isDumpable: Bool { avault_get_dumpable() != 0 }

    /// Wipes `count` bytes at `pointer` (`sodium_memzero`): for secret bytes that are not in a
    /// ``SecretBytes``, such as the value of an environment variable.
    public static func wipe(_ pointer: UnsafeMutableRawPointer, count: Int) {
        if count > 0 { sodium_memzero(pointer, count) }
    }
}
