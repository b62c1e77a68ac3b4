import ArgumentParser
import ArticleVault

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the keyring: content, legacy and signing keys, age identities, their versions, and trusted publishers.",
        discussion: """
            Secrets are sealed under the keyring passphrase (Argon2id, XChaCha20-Poly1305), read \
            from --passphrase-file, else AVAULT_PASSPHRASE, else the terminal, and the whole \
            keyring file is authenticated under it: a keyring modified outside avault is refused \
            (exit 1) whenever the passphrase is used. No command prints secret bytes.

            \(exitCodeHelp)

            Example: avault keys generate desk-signing --signing
            """,
        subcommands: [KeysGenerate.self, KeysImport.self, KeysList.self, KeysRotate.self, KeysRetire.self, KeysReinstate.self, KeysDelete.self,
                      KeysRename.self, KeysExport.self,
                      KeysExportPublic.self, KeysImportMinisign.self, KeysExportMinisign.self,
                      KeysExportRecipient.self, KeysImportAge.self, KeysExportAge.self, KeysPasswd.self, KeysUpgrade.self, Trust.self]
    )
}
