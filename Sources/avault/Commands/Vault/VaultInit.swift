import ArgumentParser
import ArticleVault

struct VaultInit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create a vault protected by a content key.",
        discussion: """
            With a PostgreSQL --vault (postgres://…), creates the vault's tables (schema version 1) in the \
            database the URL names; its password belongs in ~/.pgpass or PGPASSFILE, never in the URL.

            Example: avault vault init --key desk-content
            """)
    @OptionGroup var options: VaultOptions
    @Option(help: ArgumentHelp("The content key's name in the keyring.", valueName: "name"), completion: KeyCompletion.names(.content)) var key: String

    func run() throws {
        let vault = try Vault.initialize(storage: try options.storage(), keyring: try options.keyring.open(), keyName: key)
        try Terminal.writeStdout("created vault \(vault.config.vaultID) at \(vault.storage.location) (key '\(key)')\n")
    }
}
