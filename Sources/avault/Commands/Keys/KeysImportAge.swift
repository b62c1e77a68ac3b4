import ArgumentParser
import ArticleVault

struct KeysImportAge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-age",
        abstract: "Import an age identity (AGE-SECRET-KEY-1…, as age-keygen writes it) as an identity.",
        discussion: "The file must be mode 600 and hold one identity; a '# public key:' comment, when present, must name its recipient. If NAME exists, the identity becomes its next version.\n\nExample: avault keys import-age desk-identity --identity key.txt")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The identity's name in the keyring.", completion: KeyCompletion.names(.identity)) var name: String
    @Option(help: ArgumentHelp("The age identity file (mode 600; - is standard input).", valueName: "file"), completion: .file()) var identity: String
    @Flag(help: "Store the secret unsealed (still mode 600).") var unprotected = false
    @Flag(help: "Print the identity as JSON.") var json = false

    func validate() throws {
        try refuseStandardInputTwice(["passphrase": keyring.passphraseFile, "identity": identity])
    }

    func run() throws {
        let added = try keyring.open().importAge(name: name, file: identity, protected: !unprotected, now: now())
        try printEntry(added, json: json, verb: "imported")
    }
}
