import ArgumentParser
import ArticleVault

struct VaultInit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create a vault protected by a content key.")
    @OptionGroup var options: VaultOptions
    @Option(help: ArgumentHelp("The content key's name in the keyring.", valueName: "name")) var key: String

    func run() throws {
        let vault = try Vault.initialize(storage: options.storage, keyring: try options.keyring.open(), keyName: key)
        Terminal.writeStdout("created vault \(vault.config.vaultID) at \(vault.storage.location) (key '\(key)')\n")
    }
}
