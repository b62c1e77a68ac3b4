import ArgumentParser
import ArticleVault
import VaultFormat
#if canImport(Glibc)
import Glibc
#endif

/// `--keyring DIR` and `--passphrase-file F`, shared by every command that uses the keyring.
struct KeyringOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The keyring directory (default: AVAULT_KEYRING, else $XDG_CONFIG_HOME/avault/keyring).", valueName: "dir"), completion: .directory)
    var keyring: String?

    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp("Read the keyring passphrase from this file (mode 600) instead of AVAULT_PASSPHRASE or the terminal; - is standard input.", valueName: "file"), completion: .file())
    var passphraseFile: String?

    /// What the options chose.
    var selection: KeyringSelection { KeyringSelection(keyring: keyring, passphraseFile: passphraseFile) }
    var directory: String { get throws(AvaultError) { try selection.directory } }
    var passphraseSource: PassphraseSource { selection.passphraseSource }
    func open() throws(AvaultError) -> Keyring { try selection.open() }
    func openWithoutAgent() throws(AvaultError) -> Keyring { try selection.openWithoutAgent() }
}

/// Refuses a command line that reads two of `inputs` (what each holds, and the file it comes
/// from; `each`: options given any number of times) from standard input: a pipe or a socket is
/// read once, and the second would read nothing (a usage error, exit 64, before anything is read).
func refuseStandardInputTwice(_ inputs: KeyValuePairs<String, String?>, each: KeyValuePairs<String, [String]> = [:]) throws {
    let named = inputs.filter { FileSystem.namesStandardInputStream($0.value) }.map(\.key)
        + each.flatMap { option in option.value.filter(FileSystem.namesStandardInputStream).map { _ in option.key } }
    guard named.count > 1 else { return }
    let second = named[1] == named[0] ? "another \(named[1])" : "the \(named[1])"
    throw ValidationError("standard input cannot hold both the \(named[0]) and \(second): read one of them from a file")
}

/// Refuses `--trust-store -`: a trust store is a file that avault checks (and `keys trust`
/// rewrites) in place, which standard input cannot be (a usage error, exit 64).
func refuseStandardInputTrustStore(_ path: String?) throws {
    if path == "-" { throw ValidationError("--trust-store names the trust store's file; - (standard input) cannot be one") }
}

/// Refuses `-` for an output that must be a file: a secret key file (written mode 600, read
/// back to check it), a directory, or a report beside what is printed (a usage error, exit
/// 64; before, `-` was a file of that name).
func refuseStandardOutput(_ path: String?, option: String, names what: String) throws {
    if path == "-" { throw ValidationError("\(option) names \(what); - (standard output) cannot be one: give its path") }
}

/// Refuses a command line that names one file twice among the files a command `writes`, or
/// names one of them as a file it `reads`: it would write that file twice, or read what it
/// wrote, and stop halfway (a usage error, exit 64, before anything is written).
func refuseSameFileTwice(writes: [String], reads: [String] = []) throws {
    if let (a, b) = FileSystem.firstSameFile(writes, among: reads) {
        throw ValidationError(a == b ? "\(Terminal.quoted(a)) would be written twice, or read and written: name each file once"
                              : "\(Terminal.quoted(a)) and \(Terminal.quoted(b)) are the same file: name each file once")
    }
}

/// The keyring that `--keyring` and `--passphrase-file` choose, as plain values (``FastPath``
/// fills them in without the argument parser).
struct KeyringSelection: Equatable {
    var keyring: String?
    var passphraseFile: String?

    var directory: String { get throws(AvaultError) { try Keyring.location(explicit: keyring) } }

    /// `--passphrase-file`, else AVAULT_PASSPHRASE, else the terminal.
    var passphraseSource: PassphraseSource {
        PassphraseSource(file: passphraseFile, environmentVariable: "AVAULT_PASSPHRASE", label: "keyring passphrase")
    }

    /// The keyring, unlocked with the agent's key when an agent holds it (else the passphrase).
    func open() throws(AvaultError) -> Keyring {
        try Keyring(directory: directory, passphrase: passphraseSource, agent: AgentClient.fromEnvironment(report: Terminal.agentNotice))
    }

    /// The keyring, unlocked with the passphrase only.
    func openWithoutAgent() throws(AvaultError) -> Keyring {
        try Keyring(directory: directory, passphrase: passphraseSource)
    }
}

/// The current time in Unix seconds.
func now() -> Int64 { Int64(time(nil)) }

extension Keyring.Entry {
    /// The stable JSON form documented in docs/cli.md.
    func json(current: Bool) -> FieldValue { .object(jsonPairs(current: current)) }

    func jsonPairs(current: Bool) -> [(key: String, value: FieldValue)] {
        var pairs: [(key: String, value: FieldValue)] = [
            ("name", .string(name)), ("kind", .string(algorithm.kind.rawValue)), ("algorithm", .string(algorithm.rawValue)),
            ("version", .number(Double(version))), ("keyId", .string(id.description)), ("created", .string(created.text)),
            ("status", .string(retired == nil ? "active" : "retired")), ("retired", retired.map { .string($0.text) } ?? .null),
            ("current", .bool(current)), ("protected", .bool(isProtected)),
        ]
        if algorithm == .x25519, let publicKey {
            pairs.append(("recipient", .string(AgeKeys.recipient(publicKey))))
        } else if let publicKey = minisignPublicKey {
            pairs.append(("publicKey", .string(publicKey.line)))
        }
        return pairs
    }

    var isProtected: Bool {
        if case .sealed = secret { return true }
        return false
    }

    var summary: String {
        "\(algorithm.kind) key '\(name)' version \(version) (\(algorithm.rawValue), id \(id)\(isProtected ? "" : ", UNPROTECTED"))"
    }
}
