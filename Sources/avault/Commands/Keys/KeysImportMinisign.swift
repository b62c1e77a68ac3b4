import ArgumentParser
import ArticleVault

struct KeysImportMinisign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-minisign",
        abstract: "Import a minisign secret key (password-protected, or made with minisign -G -W) as a signing key.",
        discussion: "If NAME exists, the key becomes its next version. The key id is kept, so minisign's .pub file stays valid.\n\nExample: avault keys import-minisign desk-signing --secret minisign.key")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name in the keyring.", completion: KeyCompletion.names(.signing)) var name: String
    @Option(help: ArgumentHelp("The minisign secret key file (- is standard input).", valueName: "file"), completion: .file()) var secret: String
    @OptionGroup var password: MinisignPasswordOptions
    @Flag(help: "Store the secret unsealed (still mode 600).") var unprotected = false
    @Flag(help: "Print the key as JSON.") var json = false

    func validate() throws {
        try refuseStandardInputTwice(["passphrase": keyring.passphraseFile, "secret key": secret, "minisign password": password.file])
    }

    func run() throws {
        let added = try keyring.open().importMinisign(name: name, file: secret, password: password.source,
                                                      protected: !unprotected, now: now())
        try printEntry(added, json: json, verb: "imported")
    }
}
