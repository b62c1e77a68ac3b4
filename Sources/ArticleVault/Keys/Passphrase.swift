#if canImport(Glibc)
import Glibc
#endif
import Synchronization
public import VaultCrypto

/// Where a passphrase comes from: a file, an environment variable, else the terminal.
public struct PassphraseSource: Sendable {
    /// `--passphrase-file` (or similar); must be mode 600. `-` is standard input (read to its end).
    public var file: String?
    /// The environment variable to consult, e.g. `AVAULT_PASSPHRASE`.
    public var environmentVariable: String
    /// What to call it in prompts and errors, e.g. "keyring passphrase".
    public var label: String
    public init(file: String?, environmentVariable: String, label: String) {
        self.file = file; self.environmentVariable = environmentVariable; self.label = label
    }

    /// Where this passphrase is read from, for hints.
    public var origin: String {
        "the \(label) is read from " + (file.map { $0 == "-" ? "standard input" : "'\($0)'" } ?? "\(environmentVariable) if set, else the terminal")
    }

    /// Reads the passphrase. With `confirm`, a terminal prompt asks twice and refuses a
    /// mismatch. An empty passphrase is refused.
    public func read(confirm: Bool = false) throws(AvaultError) -> SecretBytes {
        let secret: SecretBytes
        if let file {
            // Refused past the limit, never cut to it (a cut passphrase would be another one); from
            // standard input (`-`), not from a terminal, which would show it (the prompt does not).
            var bytes = try FileSystem.readInput(file, limit: FileLimits.passphrase, what: "a passphrase", secret: true)
            defer { wipe(&bytes) }
            var end = bytes.count
            if end > 0, bytes[end - 1] == 0x0A { end -= 1 }
            if end > 0, bytes[end - 1] == 0x0D { end -= 1 }
            secret = SecretBytes(copying: bytes[0..<end])
        } else if let value = getenv(environmentVariable) {
            secret = SecretBytes(copying: UnsafeRawBufferPointer(start: value, count: strlen(value)))
        } else {
            secret = try prompt("\(label): ")
            if confirm {
                let again = try prompt("\(label) (again): ")
                guard again == secret else { throw .passphraseMismatch(label: label) }
            }
        }
        guard secret.count > 0 else { throw .emptyPassphrase(label: label) }
        return secret
    }

    /// The environment variables avault reads passphrases from.
    public static let environmentVariables = ["AVAULT_PASSPHRASE", "AVAULT_NEW_PASSPHRASE", "AVAULT_EXPORT_PASSPHRASE", "AVAULT_MINISIGN_PASSPHRASE", "AVAULT_AGE_PASSPHRASE"]

    /// Wipes the values of ``environmentVariables`` where they are in this process's memory
    /// (so that `/proc/PID/environ` no longer shows them) and removes them: for a process that
    /// lives on after reading its passphrase, the agent.
    public static func wipeEnvironment() {
        for name in environmentVariables {
            guard let value = getenv(name) else { continue }
            SecretMemory.wipe(UnsafeMutableRawPointer(value), count: strlen(value))
            unsetenv(name)
        }
    }

    /// The longest line a Linux terminal in canonical mode passes on: its line buffer holds
    /// 4096 bytes, the line break included, and what is typed past that is dropped. A line
    /// that fills it may have been cut.
    static let terminalLine = 4095

    /// Prompts on the controlling terminal with echo off, in canonical mode (the terminal
    /// edits the line, Enter ends it, Ctrl-D at the start of a line is the end of input)
    /// whatever mode the terminal was left in; its settings are put back afterwards. A
    /// passphrase is never cut: one that fills a terminal line (which the terminal may have
    /// cut) or, on a terminal that does not edit lines, is longer than
    /// ``FileLimits/passphrase`` is refused. A terminal left in non-canonical mode with
    /// `VMIN=0` makes `read` return 0 whenever nothing has been typed yet: that is not the end
    /// of the passphrase (once, it was, and a passphrase was taken cut where the reading caught
    /// up with the typing). Only a canonical-mode end of file ends it without a line break;
    /// should the terminal stay non-canonical, it is read with `VMIN=1`, and a `read` of 0
    /// refuses the passphrase.
    ///
    /// A signal that would end or stop avault at the prompt (Ctrl-C, Ctrl-\, Ctrl-Z, a
    /// hang-up, `kill`) first puts the terminal back (``PromptSignals``), as OpenSSH's
    /// `readpassphrase` does: before, the shell was left with echo off. The signal then takes
    /// its course; avault resumed after a stop asks again, with echo off again.
    private func prompt(_ text: String) throws(AvaultError) -> SecretBytes {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw .noPassphrase(label: label, variable: environmentVariable) }
        defer { close(fd) }
        while true {
            if let secret = try prompt(text, on: fd) { return secret }
            // Interrupted by a signal, with the terminal put back and the handlers removed:
            // now as if avault had none (its default action ends or stops it).
            let signal = PromptSignals.received
            PromptSignals.deliver(signal)
            guard PromptSignals.stops.contains(signal) else {
                throw .io(path: "/dev/tty", reason: "interrupted by signal \(signal)")
            }
        }
    }

    /// One prompt: nil when a signal of ``PromptSignals`` interrupted it (``PromptSignals/received``).
    private func prompt(_ text: String, on fd: Int32) throws(AvaultError) -> SecretBytes? {
        var saved = termios()
        let haveTerm = tcgetattr(fd, &saved) == 0
        // What applies while the passphrase is read (as the terminal reports it once set: a
        // terminal may refuse part of a change).
        var reading = saved
        var changed = false
        if haveTerm {
            PromptSignals.install()
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            // Ctrl-C, Ctrl-\ and Ctrl-Z send their signals even on a terminal left raw (ISIG
            // off), which read them as bytes of the passphrase.
            quiet.c_lflag |= tcflag_t(ICANON | ISIG)
            // Enter sends a carriage return, which ends a canonical line only as a newline (a
            // raw terminal leaves that translation off).
            quiet.c_iflag |= tcflag_t(ICRNL)
            quiet.c_iflag &= ~tcflag_t(INLCR | IGNCR)
            // Used only if the terminal stays non-canonical: one byte at a time, no timer.
            withUnsafeMutableBytes(of: &quiet.c_cc) { cc in
                cc[Int(VMIN)] = 1
                cc[Int(VTIME)] = 0
            }
            // (From a background job, the change stops avault with SIGTTOU, caught here.)
            repeat {
                changed = tcsetattr(fd, TCSAFLUSH, &quiet) == 0
            } while !changed && errno == EINTR && PromptSignals.received == 0
            if tcgetattr(fd, &reading) != 0 { reading = saved }
        }
        defer {
            // TCSAFLUSH also drops what was typed and not read (the rest of a line too long).
            if changed {
                var tries = 0
                while tcsetattr(fd, TCSAFLUSH, &saved) != 0, errno == EINTR, tries < 100 { tries += 1 }
            }
            // The line break echo did not show, before the handlers go: from the background
            // (`bg`, with `stty tostop`), it stops avault by a signal caught here, not once more.
            if changed || !haveTerm { _ = write(fd, "\n", 1) }
            if haveTerm { PromptSignals.remove() }
        }
        if PromptSignals.received != 0 { return nil }
        _ = text.withCString { write(fd, $0, strlen($0)) }
        let lineEdited = !haveTerm || reading.c_lflag & tcflag_t(ICANON) != 0
        let limit = lineEdited ? Self.terminalLine - 1 : FileLimits.passphrase
        var buffer = [UInt8](repeating: 0, count: limit + 1)
        defer { wipe(&buffer) }
        var count = 0
        var byte: UInt8 = 0
        var ended = false
        while count < buffer.count {
            guard PromptSignals.waitForInput(fd) else { return nil }
            let n = Glibc.read(fd, &byte, 1)
            if PromptSignals.received != 0 {
                byte = 0
                return nil
            }
            if n < 0, errno == EINTR { continue }
            // A 0 is the end of the input only in canonical mode (Ctrl-D); in non-canonical
            // mode it is no byte yet, or a hang-up, and a failed read is no end either: what
            // was read is not known to be the whole passphrase.
            if n < 0 || (n == 0 && !lineEdited) {
                let reason = FileSystem.errnoText()
                byte = 0
                if n < 0 { throw .io(path: "/dev/tty", reason: reason) }
                throw .passphraseNotEnded(label: label, variable: environmentVariable)
            }
            if n == 0 || byte == 0x0A || (!lineEdited && byte == 0x0D) { ended = true; break }
            buffer[count] = byte
            count += 1
        }
        byte = 0
        guard ended else {
            throw .passphraseTooLong(label: label, variable: environmentVariable, limit: lineEdited ? Self.terminalLine : FileLimits.passphrase,
                                     terminalLine: lineEdited)
        }
        if count > 0, buffer[count - 1] == 0x0D { count -= 1 }
        return SecretBytes(copying: buffer[0..<count])
    }
}

/// The signals a prompt catches while the terminal's echo is off, as OpenSSH's
/// `readpassphrase` does: the handler records the signal and writes a byte to a pipe that the
/// prompt polls beside the terminal (so that a signal that comes just before the prompt waits
/// is not missed); the prompt then puts the terminal back, removes the handlers and sends the
/// signal again to itself (``deliver(_:)``), whose default action ends or stops avault. A
/// signal the parent set to be ignored (`nohup`, a shell's background job) stays ignored, and
/// one it blocked is unblocked while the prompt waits (a person at the terminal expects
/// Ctrl-C to work).
enum PromptSignals {
    static let signals = [SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU]
    /// Those whose default action stops the process: the prompt asks again once it continues.
    static let stops: Set<Int32> = [SIGTSTP, SIGTTIN, SIGTTOU]
    /// The signals received (bit N for signal N) and the pipe's write end (-1 for none), which
    /// the handler reads: atomics, not C structures.
    private static let caught = Atomic<UInt64>(0)
    private static let wakeUp = Atomic<Int32>(-1)
    nonisolated(unsafe) private static var pipe: (read: Int32, write: Int32) = (-1, -1)
    nonisolated(unsafe) private static var previous: [(signal: Int32, action: sigaction)] = []
    nonisolated(unsafe) private static var previousMask = sigset_t()

    /// The signal to take its course (0 for none): one that ends the process before one that
    /// stops it (a `kill` then a Ctrl-Z must not leave avault asking again once continued).
    static var received: Int32 {
        let set = caught.load(ordering: .sequentiallyConsistent)
        let ending = signals.filter { !stops.contains($0) && set & (1 << UInt64($0)) != 0 }
        return ending.first ?? signals.first { set & (1 << UInt64($0)) != 0 } ?? 0
    }

    static func install() {
        caught.store(0, ordering: .sequentiallyConsistent)
        var ends: [Int32] = [-1, -1]
        guard Glibc.pipe(&ends) == 0 else { return }
        for end in ends {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
        }
        pipe = (ends[0], ends[1])
        wakeUp.store(ends[1], ordering: .sequentiallyConsistent)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            let saved = errno
            _ = PromptSignals.caught.bitwiseOr(1 << UInt64(signal), ordering: .sequentiallyConsistent)
            var byte: UInt8 = 0
            _ = write(PromptSignals.wakeUp.load(ordering: .sequentiallyConsistent), &byte, 1)
            errno = saved
        }
        sigemptyset(&action.sa_mask)
        for s in signals { sigaddset(&action.sa_mask, s) }
        action.sa_flags = 0
        previous = []
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for s in signals {
            var old = sigaction()
            guard sigaction(s, nil, &old) == 0, !old.ignores else { continue }
            guard sigaction(s, &action, &old) == 0 else { continue }
            previous.append((s, old))
            sigaddset(&unblock, s)
        }
        _ = pthread_sigmask(SIG_UNBLOCK, &unblock, &previousMask)
    }

    /// Waits until the terminal `fd` has input: false when a signal came first.
    static func waitForInput(_ fd: Int32) -> Bool {
        guard pipe.read >= 0 else { return true }
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: pipe.read, events: Int16(POLLIN), revents: 0)]
        while received == 0 {
            if poll(&fds, 2, -1) >= 0 { return received == 0 }
            guard errno == EINTR else { return true }
        }
        return false
    }

    /// Puts back the handlers and the signal mask the prompt found.
    static func remove() {
        guard pipe.read >= 0 else { return }
        for (s, action) in previous {
            var action = action
            _ = sigaction(s, &action, nil)
        }
        previous = []
        _ = pthread_sigmask(SIG_SETMASK, &previousMask, nil)
        wakeUp.store(-1, ordering: .sequentiallyConsistent)
        close(pipe.read)
        close(pipe.write)
        pipe = (-1, -1)
    }

    /// Sends `caught` to this thread, unblocked: its action (by default, to end or stop the
    /// process) is taken before this returns.
    static func deliver(_ caught: Int32) {
        var set = sigset_t(), mask = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, caught)
        _ = pthread_sigmask(SIG_UNBLOCK, &set, &mask)
        _ = raise(caught)
        _ = pthread_sigmask(SIG_SETMASK, &mask, nil)
    }
}
