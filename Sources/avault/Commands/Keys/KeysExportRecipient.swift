import ArgumentParser
import ArticleVault
import VaultFormat

struct KeysExportRecipient: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-recipient",
        abstract: "Print an identity's age recipient (age1…), which others encrypt to with 'age -r' or 'avault age encrypt -r'.",
        discussion: "A keyring with a passphrase is authenticated first (so the passphrase is needed): the recipient handed out is the one this keyring opens.\n\nExample: avault keys export-recipient desk-identity")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The identity's name.", completion: KeyCompletion.names(.identity)) var name: String
    @Flag(help: "Print the identity and its recipient as JSON.") var json = false

    func run() throws {
        let (entry, recipient) = try keyring.open().ageRecipient(ofIdentity: name)
        if json {
            try JSONOutput.print(entry.jsonPairs(current: true))
        } else {
            try Terminal.writeStdout(recipient + "\n")
        }
    }
}
