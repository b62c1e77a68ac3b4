import ArgumentParser
import ArticleVault
#if canImport(Glibc)
import Glibc
#endif

@main
struct Avault: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "avault",
        abstract: "Decrypt, verify and sign article records; keep drafts encrypted at rest.",
        discussion: "Example: avault verify --require-signature site/\n\n" + exitCodeHelp,
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
    var hint: String? = nil
    var code: Int32
}
