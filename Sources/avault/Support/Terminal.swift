import ArticleVault
#if canImport(Glibc)
import Glibc
#endif

/// What the command line prints: `avault: …` lines on standard error, output on standard output.
enum Terminal {
    /// `avault: message` (and `avault: hint: …`) on stderr.
    static func error(_ message: String, hint: String? = nil) {
        var text = "avault: \(message)\n"
        if let hint { text += "avault: hint: \(hint)\n" }
        writeStderr(text)
    }

    static func warning(_ message: String) {
        writeStderr("avault: warning: \(message)\n")
    }

    /// `avault: note: …` on stderr: something worth knowing that is not a problem.
    static func note(_ message: String) {
        writeStderr("avault: note: \(message)\n")
    }

    /// Reports `error` and exits with its code.
    static func fail(_ error: AvaultError) -> Never {
        self.error(error.message, hint: error.hint)
        Glibc.exit(error.exitCode)
    }

    static func writeStderr(_ text: String) {
        Array(text.utf8).withUnsafeBytes { writeAll(fd: 2, $0) }
    }

    static func writeStdout(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeAll(fd: 1, $0) }
    }

    static func writeStdout(_ bytes: UnsafeRawBufferPointer) {
        writeAll(fd: 1, bytes)
    }

    static func writeStdout(_ text: String) {
        writeStdout(Array(text.utf8))
    }

    private static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }
}
