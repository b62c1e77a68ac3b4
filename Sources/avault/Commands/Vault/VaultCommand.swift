import ArgumentParser
import ArticleVault

struct VaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "Keep drafts encrypted at rest: versions, key rotation and rewrap, crash- and concurrency-safe, with a tamper-evident log.",
        discussion: """
            The vault is --vault DIR, else AVAULT_VAULT, else $XDG_DATA_HOME/avault/vault \
            (~/.local/share/avault/vault). Its content key comes from the keyring (--keyring, \
            --passphrase-file as for 'avault keys'); a vault made with 'vault init --recipient' opens \
            with an identity of the keyring instead (see 'avault vault recipients').

            \(exitCodeHelp)

            Example: avault vault put https://example.org/a draft.md
            """,
        subcommands: [VaultInit.self, VaultPut.self, VaultGet.self, VaultList.self, VaultHistory.self, VaultRemove.self,
                      VaultPurge.self, VaultImport.self, VaultExport.self, VaultRewrap.self, VaultKeysInUse.self,
                      VaultVerify.self, VaultFsck.self, VaultLogCommand.self, VaultRecipientsCommand.self,
                      VaultCopy.self, VaultSchemaCommand.self, VaultForget.self]
    )
}
