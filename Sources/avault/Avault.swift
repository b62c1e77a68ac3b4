import ArgumentParser
import ArticleVault
#if canImport(Glibc)
import Glibc
#endif

/// The release, as `avault --version` prints it.
let avaultVersion = "0.5.0"

@main
struct Avault: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "avault",
        abstract: "Decrypt, verify and sign article records; keep drafts encrypted at rest.",
        discussion: "Example: avault verify --require-signature site/\n\n" + exitCodeHelp,
        version: "avault \(avaultVersion)",
        subcommands: [Secured.self, Keys.self, Sign.self, Verify.self, Audit.self, Canonical.self, Seal.self, Unseal.self, Reseal.self, Migrate.self, VaultCommand.self, AgeCommand.self, AgentCommand.self]
    )

    /// `message` without the arguments it repeats that may be a secret (a key pasted where a
    /// file's name goes, ``FileSystem/mayBeASecret(_:)``): a usage error would put them on the
    /// terminal and in CI logs. Each is named by its position instead.
    static func hidingSecrets(_ message: String, _ arguments: [String]) -> String {
        var text = message
        for (i, argument) in arguments.enumerated() where text.contains(argument) && FileSystem.mayBeASecret(argument) && !isOptionName(argument) {
            let hidden = "#\(i + 1) (not shown: it may be a secret)"
            text = text.replacing("'\(argument)'", with: hidden).replacing(argument, with: hidden)
        }
        return text
    }

    /// `--` and lower-case letters, digits and `-` (a mistyped `--require-signatures`): shown,
    /// although 16 characters without a `.` may be a secret. No key avault reads looks so
    /// (hex, base64, `AGE-SECRET-KEY-1…`).
    static func isOptionName(_ argument: String) -> Bool {
        let u = argument.utf8
        return u.starts(with: "--".utf8) && u.count > 2 && u.dropFirst(2).allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }

    static func main() {
        StandardDescriptors.keepTaken()
        CrashGuard.install()
        // A write past the file size limit (`ulimit -f`) fails (EFBIG) like any other, so that
        // the file is removed and the error said, instead of ending the process mid-write with
        // a temporary file left half-written (and a batch stopped partway).
        signal(SIGXFSZ, SIG_IGN)
        if let position = undecodableArgument() {
            Terminal.error("argument \(position) is not UTF-8: avault would read another path than the one given",
                           hint: "rename the file (or directory) to a UTF-8 name")
            Glibc.exit(Exit.usage)
        }
        let arguments = Array(CommandLine.arguments.dropFirst())
        // `vault get` and `vault put`, read without the parser, name known commands: the
        // search for an unknown one (which builds every command's configuration) is skipped.
        let fast = FastPath.command(arguments)
        if fast == nil, let unknown = unknownCommand(arguments) {
            Terminal.error(hidingSecrets(unknown.message, arguments), hint: unknown.hint)
            Glibc.exit(unknown.code)
        }
        // The error goes out of scope before the process exits: a live Swift error whose
        // payload sits in an enum's spare bits looks like a leak to LeakSanitizer.
        let code: Int32
        do {
            if let fast {
                try fast.run()
            } else {
                var command = try parseAsRoot()
                // A group of commands named without one of them (`avault keys`) is a usage error,
                // not its help and exit 0: a script that lost its subcommand must not go on.
                let group = type(of: command).configuration
                if !group.subcommands.isEmpty, group.defaultSubcommand == nil {
                    let named = (["avault"] + arguments.filter { !$0.hasPrefix("-") }).joined(separator: " ")
                    Terminal.error("'\(Terminal.shown(named))' needs a command", hint: "see '\(Terminal.shown(named)) --help' for them")
                    Glibc.exit(Exit.usage)
                }
                try command.run()
            }
            code = 0
        } catch let error as AvaultError {
            Terminal.error(error.message, hint: error.hint)
            code = error.exitCode
        } catch let failure as Failure {
            Terminal.error(failure.message, hint: failure.hint)
            code = failure.code
        } catch {
            // Help and --version are "errors" with exit code 0: let the parser print them.
            let parserCode = exitCode(for: error)
            if parserCode == .success {
                // Help and the version, written as every output is: one that cannot be written
                // (a full disk, a closed descriptor) fails the command, not exit 0.
                do throws(AvaultError) {
                    try Terminal.writeStdout(fullMessage(for: error) + "\n")
                    code = 0
                } catch {
                    Terminal.error(error.message, hint: error.hint)
                    code = error.exitCode
                }
                Glibc.exit(code)
            }
            if let exit = error as? ExitCode {
                code = exit.rawValue
            } else {
                Terminal.error(hidingSecrets(message(for: error), arguments), hint: "see 'avault --help' (or '--help' after any command)")
                code = parserCode.rawValue
            }
        }
        Glibc.exit(code)
    }
}

/// The position (1-based) of the first argument that is not UTF-8, if any. The parser's
/// strings replace such bytes with U+FFFD, so `verify 'post\xff.md'` would check
/// `post\u{FFFD}.md`, another file (or none).
func undecodableArgument() -> Int? {
    (1..<Int(CommandLine.argc)).first { CommandLine.unsafeArgv[$0].map { String(validatingCString: $0) == nil } ?? false }
}

/// A failure the CLI itself decides on, with its exit code.
struct Failure: Error {
    var message: String
    var hint: String? = nil
    var code: Int32
}

/// A word where a subcommand belongs that names none (`avault verfy`, `avault vault gte`,
/// `avault help nosuch`), with the nearest subcommand as a hint; nil when the words name
/// commands (the parser then does the rest).
func unknownCommand(_ arguments: [String]) -> Failure? {
    var words = arguments[...]
    if words.first == "help" { words = words.dropFirst() }
    var command: any ParsableCommand.Type = Avault.self
    var path = ["avault"]
    for word in words {
        let subcommands = command.configuration.subcommands
        if word.hasPrefix("-") || subcommands.isEmpty { return nil }
        let names: [String] = subcommands.compactMap { (sub: any ParsableCommand.Type) -> String? in sub.configuration.commandName }
        if let next = subcommands.first(where: { $0.configuration.commandName == word }) {
            command = next
            path.append(word)
            continue
        }
        if word == "help", path.count > 1 { return nil } // `avault vault help`: the parser's own
        let nearest = names.map { (name: $0, distance: editDistance($0, word)) }.min { $0.distance < $1.distance }
        let hint = nearest.flatMap { $0.distance <= max(2, word.count / 3) ? "did you mean '\($0.name)'?" : nil }
            ?? "see '\(path.joined(separator: " ")) --help' for the commands"
        return Failure(message: "unknown command '\(word)'", hint: hint, code: Exit.usage)
    }
    return nil
}

/// The Levenshtein distance between `a` and `b` (by characters).
func editDistance(_ a: String, _ b: String) -> Int {
    let a: [Character] = Array(a), b: [Character] = Array(b)
    if a.isEmpty { return b.count }
    var row: [Int] = Array(0...b.count)
    for i in 1...a.count {
        var previous = row[0]
        row[0] = i
        var j = 1
        while j <= b.count {
            let current = row[j]
            let substitution = previous + (a[i - 1] == b[j - 1] ? 0 : 1)
            row[j] = min(min(row[j] + 1, row[j - 1] + 1), substitution)
            previous = current
            j += 1
        }
    }
    return row[b.count]
}
