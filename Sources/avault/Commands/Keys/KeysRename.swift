import ArgumentParser
import ArticleVault

struct KeysRename: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rename",
        abstract: "Rename a key (every version); its sealed secrets are sealed again under the new name.",
        discussion: "Refused while the vault (--vault, else AVAULT_VAULT) uses the key by its old name.\n\nExample: avault keys rename desk desk-2026")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.", completion: KeyCompletion.names()) var old: String
    @Argument(help: "Its new name.") var new: String
    @Option(help: ArgumentHelp("The vault to check first (default: AVAULT_VAULT, else $XDG_DATA_HOME/avault/vault).", valueName: "dir"))
    var vault: String?

    func run() throws {
        try keyring.open().renameKey(old, to: new, vault: try Vault.storage(at: try Vault.location(explicit: vault)))
        try Terminal.writeStdout("renamed key '\(old)' to '\(new)'\n")
    }
}
