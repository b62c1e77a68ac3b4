import ArgumentParser
import ArticleVault
#if canImport(Glibc)
import Glibc
#endif

/// Exit codes, documented in `--help`, the README and `docs/cli.md`.
enum Exit {
    /// Success.
    static let ok: Int32 = 0
    /// The answer is no: a malformed blob or record, a failed decryption or verification.
    static let no: Int32 = 1
    /// An operational error: unreadable file, bad key file, unsuitable key.
    static let operational: Int32 = 2
    /// A usage error (from the argument parser).
    static let usage: Int32 = 64
}

let exitCodeHelp = """
    Exit status: 0 success; 1 the answer is no (malformed blob or record, failed \
    decryption); 2 operational error (unreadable file, bad key file, unsuitable key); \
    64 usage error.
    """

@main
struct Avault: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "avault",
        abstract: "Decrypt, verify and sign article records; keep drafts encrypted at rest.",
        discussion: exitCodeHelp,
        version: "0.1.0",
        subcommands: [Secured.self, Keys.self, Sign.self, Verify.self, Audit.self, Canonical.self, Seal.self, Unseal.self, Migrate.self, VaultCommand.self]
    )

    static func main() {
        CrashGuard.install()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as AvaultError {
            Terminal.fail(error)
        } catch let failure as Failure {
            Terminal.error(failure.message, hint: failure.hint)
            Glibc.exit(failure.code)
        } catch {
            // Help and --version are "errors" with exit code 0: let the parser print them.
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            if let exit = error as? ExitCode { Glibc.exit(exit.rawValue) }
            Terminal.error(message(for: error), hint: "see 'avault --help' (or '--help' after any command)")
            Glibc.exit(code.rawValue)
        }
    }
}

/// A failure the CLI itself decides on, with its exit code.
struct Failure: Error {
    var message: String
    var hint: String?
    var code: Int32
}

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
        Glibc.exit(exitCode(for: error))
    }

    static func exitCode(for error: AvaultError) -> Int32 {
        switch error {
        case .decryptionFailed, .tampered, .rewriteCheckFailed: return Exit.no
        case .malformed(let format, _):
            switch format {
            case .invalidSecuredBlob, .invalidRecord, .invalidSignature: return Exit.no
            case .invalidKeyFile, .invalidKeyring, .invalidMinisign, .invalidTrustStore, .invalidJSON, .invalidVault: return Exit.operational
            }
        case .io, .insecurePermissions, .noSecuredField, .unsuitableKey, .crypto, .wrongPassphrase, .refused, .unauthenticatedLegacy:
            return Exit.operational
        }
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
