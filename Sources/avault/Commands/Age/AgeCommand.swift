import ArgumentParser
import ArticleVault

struct AgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "age",
        abstract: "Encrypt and decrypt age files (age-encryption.org/v1), interchangeable with age and rage.",
        discussion: """
            X25519 recipients (age1…) and identities (AGE-SECRET-KEY-1…, or an identity in the \
            keyring), passphrase (scrypt) files, and the ASCII armor, read as strictly as age \
            reads them. A passphrase comes from --age-passphrase-file, else AVAULT_AGE_PASSPHRASE, \
            else the terminal.

            \(exitCodeHelp)

            Example: avault age encrypt -r age1… -o draft.age draft.md
            """,
        subcommands: [AgeEncrypt.self, AgeDecrypt.self]
    )
}

/// The age passphrase: `--age-passphrase-file`, else AVAULT_AGE_PASSPHRASE, else the terminal.
struct AgePassphraseOptions: ParsableArguments {
    @Option(name: .customLong("age-passphrase-file"), help: ArgumentHelp("Read the age passphrase from this file (mode 600; - is standard input) instead of AVAULT_AGE_PASSPHRASE or the terminal.", valueName: "file"), completion: .file())
    var file: String?

    var source: PassphraseSource {
        PassphraseSource(file: file, environmentVariable: "AVAULT_AGE_PASSPHRASE", label: "age passphrase")
    }
}
