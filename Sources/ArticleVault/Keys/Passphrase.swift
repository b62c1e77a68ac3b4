#if canImport(Glibc)
import Glibc
#endif
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
    private func prompt(_ text: String) throws(AvaultError) -> SecretBytes {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw .noPassphrase(label: label, variable: environmentVariable) }
        defer { close(fd) }
        var saved = termios()
        let haveTerm = tcgetattr(fd, &saved) == 0
        // What applies while the passphrase is read (as the terminal reports it once set: a
        // terminal may refuse part of a change).
        var reading = saved
        if haveTerm {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            quiet.c_lflag |= tcflag_t(ICANON)
            // Enter sends a carriage return, which ends a canonical line only as a newline (a
            // raw terminal leaves that translation off).
            quiet.c_iflag |= tcflag_t(ICRNL)
            quiet.c_iflag &= ~tcflag_t(INLCR | IGNCR)
            // Used only if the terminal stays non-canonical: one byte at a time, no timer.
            withUnsafeMutableBytes(of: &quiet.c_cc) { cc in
                cc[Int(VMIN)] = 1
                cc[Int(VTIME)] = 0
            }
            _ = tcsetattr(fd, TCSAFLUSH, &quiet)
            if tcgetattr(fd, &reading) != 0 { reading = saved }
        }
        defer {
            // TCSAFLUSH also drops what was typed and not read (the rest of a line too long).
            if haveTerm { _ = tcsetattr(fd, TCSAFLUSH, &saved) }
            _ = write(fd, "\n", 1)
        }
        _ = text.withCString { write(fd, $0, strlen($0)) }
        let lineEdited = !haveTerm || reading.c_lflag & tcflag_t(ICANON) != 0
        let limit = lineEdited ? Self.terminalLine - 1 : FileLimits.passphrase
        var buffer = [UInt8](repeating: 0, count: limit + 1)
        defer { wipe(&buffer) }
        var count = 0
        var byte: UInt8 = 0
        var ended = false
        while count < buffer.count {
            let n = Glibc.read(fd, &byte, 1)
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
