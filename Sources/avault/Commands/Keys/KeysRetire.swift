import ArgumentParser
import ArticleVault

struct KeysRetire: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retire",
        abstract: "Stop a key version from being used (refused for the only active version).",
        discussion: """
            A retired content, legacy or signing key version is not used at all. A retired \
            identity is no longer handed out as a recipient, but still opens what was sealed to it. \
            Refused while the vault (--vault, else AVAULT_VAULT) still has files under the version, \
            or, for an identity, still has its recipient among the vault's.

            Example: avault keys retire desk-content --version 1
            """)

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.", completion: KeyCompletion.names()) var name: String
    @Option(help: "The version to retire.") var version: Int
    @Option(help: ArgumentHelp("The vault to check first (default: AVAULT_VAULT, else $XDG_DATA_HOME/avault/vault).", valueName: "dir"), completion: .directory)
    var vault: String?

    func run() throws {
        // A version that a vault in use still needs cannot be retired.
        let storage = try Vault.storage(at: try Vault.location(explicit: vault))
        try keyring.open().retireKey(name: name, version: version, vault: storage, now: now())
        try Terminal.writeStdout("retired key '\(name)' version \(version)\n")
    }
}
