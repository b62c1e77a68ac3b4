#if canImport(Glibc)
import Glibc
#endif

/// What happens when the process faults. The Swift runtime's backtracer prints registers and
/// the memory they point at, which in a program holding keys and plaintext can be secrets; a
/// core file holds all of its memory. So a shipped `avault` turns both off: no core file, and
/// a fault prints one fixed line and exits with status 70.
///
/// To debug a crash, set `AVAULT_BACKTRACE=1` (and `SWIFT_BACKTRACE=enable=yes`): the
/// handlers are then left to the Swift runtime. A release build has the runtime linked in and
/// cannot find its backtracer by itself, so the hint names it: `swift-backtrace=PATH`.
public enum CrashGuard {
    /// The exit status after a fault (`EX_SOFTWARE`).
    public static let exitStatus: Int32 = 70

    /// Installs the handlers; call first thing in `main`.
    public static func install() {
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none)
        if let debug = getenv("AVAULT_BACKTRACE"), debug[0] != 0 { return }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            // Async-signal-safe: one write of a fixed message, then _exit.
            let message: StaticString = """
                avault: internal error: the program stopped on a fault (nothing from its memory was printed)
                avault: hint: please report it; to get a backtrace, run again with AVAULT_BACKTRACE=1 SWIFT_BACKTRACE=enable=yes,swift-backtrace=PATH (PATH: the Swift toolchain's usr/libexec/swift/linux/swift-backtrace-static)

                """
            _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
            _exit(CrashGuard.exitStatus)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        // A blocked mask is inherited from whoever started us: unblock the fault signals too.
        var faults = sigset_t()
        sigemptyset(&faults)
        for signal in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT, SIGSYS] {
            _ = sigaction(signal, &action, nil)
            sigaddset(&faults, signal)
        }
        _ = sigprocmask(SIG_UNBLOCK, &faults, nil)
        // The Swift runtime's backtracer also takes SIGQUIT (Ctrl-\), which is no fault: its
        // default action ends the process (with no core file, as above). Unless the parent set
        // it to be ignored (a background job of `sh`), which the runtime left so.
        var quit = sigaction()
        if sigaction(SIGQUIT, nil, &quit) == 0, !quit.ignores {
            quit = sigaction()
            quit.__sigaction_handler.sa_handler = SIG_DFL
            sigemptyset(&quit.sa_mask)
            _ = sigaction(SIGQUIT, &quit, nil)
        }
    }
}

extension sigaction {
    /// Whether this action is to ignore the signal (`SIG_IGN`).
    var ignores: Bool {
        guard sa_flags & Int32(SA_SIGINFO) == 0, let handler = __sigaction_handler.sa_handler else { return false }
        return unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }
}
