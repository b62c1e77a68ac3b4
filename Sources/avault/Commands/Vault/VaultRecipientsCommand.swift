import ArgumentParser
import ArticleVault

struct VaultRecipientsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipients",
        abstract: "List and change who can open a vault made with 'vault init --recipient'.",
        discussion: """
            Each change wraps the vault's data key anew to the new list and is recorded in the log. A removed \
            recipient who kept the data key (or the vault's files) can still read what they could before; \
            'remove --rotate' re-encrypts every version under a new data key, so that what is written from then \
            on is out of their reach.

            Example: avault vault recipients remove age1… --rotate
            """,
        subcommands: [VaultRecipientsList.self, VaultRecipientsAdd.self, VaultRecipientsRemove.self])
}
