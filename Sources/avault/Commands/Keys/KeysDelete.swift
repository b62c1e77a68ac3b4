import ArgumentParser
import ArticleVault
#if canImport(Glibc)
import Glibc
#endif

struct KeysDelete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a key (every version) or one version of it from the keyring.",
        discussion: """
            Refused while the vault (--vault, else AVAULT_VAULT) still has files under a version \
            to delete, or has an identity version to delete among its recipients, or while the trust store trusts a signing version's public key (revoke or \
            remove it first), unless --force. On a terminal it asks for confirmation; otherwise \
            it needs --yes. Deleting cannot be undone: 'avault keys export' makes a backup first.

            Example: avault keys delete old-desk --version 1
            """)

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.", completion: KeyCompletion.names()) var name: String
    @Option(help: "Delete only this version (default: every version).") var version: Int?
    @Option(help: ArgumentHelp("The vault to check first (default: AVAULT_VAULT, else $XDG_DATA_HOME/avault/vault).", valueName: "dir"))
    var vault: String?
    @Option(name: .customLong("trust-store"), help: ArgumentHelp("The trust store to check (default: trust.avt in the keyring directory).", valueName: "file"))
    var trustStore: String?
    @Flag(help: "Delete even what a vault or the trust store still needs.") var force = false
    @Flag(help: "Do not ask for confirmation.") var yes = false

    func validate() throws { try refuseStandardInputTrustStore(trustStore) }

    func run() throws {
        let ring = try keyring.open()
        let doomed = try ring.versionsToDelete(name: name, version: version)
        let what = version == nil ? "key '\(name)' (\(doomed.count) version\(doomed.count == 1 ? "" : "s"))" : "key '\(name)' version \(version!)"
        if !yes {
            guard isatty(0) == 1, isatty(2) == 1 else {
                throw Failure(message: "refusing to delete \(what) without confirmation", hint: "pass --yes to delete it without a terminal", code: Exit.operational)
            }
            guard askYes("avault: delete \(what)? this cannot be undone [y/N] ") else {
                throw Failure(message: "nothing deleted", code: Exit.operational)
            }
        }
        let store = try TrustStore(path: TrustStore.location(explicit: trustStore, keyringDirectory: ring.directory))
        let deleted: [Keyring.Entry]
        do {
            deleted = try ring.deleteKey(name: name, version: version, vault: try Vault.storage(at: try Vault.location(explicit: vault)),
                                         trustStore: store, force: force)
        } catch {
            throw Self.explained(error)
        }
        try Terminal.writeStdout(deleted.map { "deleted \($0.summary)\n" }.joined())
    }

    /// A version the vault still needs: here --force is the way around it, and what it costs.
    private static func explained(_ error: AvaultError) -> Error {
        switch error {
        case .keyStillNeeded:
            return Failure(message: error.message, hint: "re-encrypt them first with 'avault vault rewrap', or pass --force to delete it anyway: what it encrypted is then lost",
                           code: error.exitCode)
        case .identityStillNeeded:
            // `retire`'s hint, whose command (quoted for the shell) stays last.
            return Failure(message: error.message,
                           hint: "pass --force to delete it anyway (this keyring then opens the vault only if another of its identities is a recipient); or, "
                               + (error.hint ?? ""),
                           code: error.exitCode)
        default:
            return error
        }
    }
}

/// Asks `question` on standard error and reads one line from standard input: true for y or yes.
func askYes(_ question: String) -> Bool {
    Terminal.writeStderr(question)
    guard let line = readLine(strippingNewline: true) else { return false }
    return ["y", "yes"].contains(line.lowercased())
}

