import ArgumentParser
import ArticleVault

struct VaultInit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create a vault protected by a content key, or by recipients.",
        discussion: """
            With --key, the vault opens with that content key of the keyring. With --recipient and --recipients-file, \
            a random data key is wrapped (an age file) to each recipient, and each editor opens the vault with their own \
            identity; 'avault vault recipients' changes who they are. With a PostgreSQL --vault (postgres://…), creates the \
            vault's tables (schema version 2) in the database the URL names; its password belongs in ~/.pgpass or \
            PGPASSFILE, never in the URL.

            Example: avault vault init --recipients-file desk-recipients.txt
            """)
    @OptionGroup var options: VaultOptions
    @Option(help: ArgumentHelp("The content key's name in the keyring.", valueName: "name"), completion: KeyCompletion.names(.content)) var key: String?
    @OptionGroup var recipients: SealRecipientOptions

    func validate() throws {
        switch (key != nil, recipients.given) {
        case (false, false): throw ValidationError("give --key NAME, or recipients with --recipient or --recipients-file")
        case (true, true): throw ValidationError("give either --key or recipients (--recipient, --recipients-file), not both")
        default: break
        }
        try refuseStandardInputTwice(["passphrase": options.keyring.passphraseFile], each: ["recipients file": recipients.recipientsFiles])
    }

    func run() throws {
        if let key {
            let vault = try Vault.initialize(storage: try options.storage(), keyring: try options.keyring.open(), keyName: key)
            try Terminal.writeStdout("created vault \(vault.config.vaultID) at \(vault.storage.location) (key '\(key)')\n")
            return
        }
        let list = try Vault.recipientTexts(recipients.recipients, files: recipients.recipientsFiles)
        let vault = try Vault.initialize(storage: try options.storage(), keyring: try options.keyring.open(), recipients: list)
        try Terminal.writeStdout("created vault \(vault.config.vaultID) at \(vault.storage.location) (\(list.count) recipient\(list.count == 1 ? "" : "s"))\n")
    }
}
