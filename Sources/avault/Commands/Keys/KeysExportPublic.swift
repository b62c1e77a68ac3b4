import ArgumentParser
import ArticleVault

struct KeysExportPublic: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-public",
        abstract: "Write a signing key's public key as a minisign public key file.",
        discussion: "A keyring with a passphrase is authenticated first (so the passphrase is needed): the key handed out is the one that signs.\n\nExample: avault keys export-public desk-signing -o desk.pub")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The signing key's name.", completion: KeyCompletion.names(.signing)) var name: String
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write here instead of standard output (- is standard output).", valueName: "file"), completion: .file())
    var output: String?
    @Flag(help: "Overwrite an existing output file.") var force = false

    func run() throws {
        // What is handed to others must be the key that signs: the keyring is authenticated first.
        let text = try keyring.open().publicKey(ofSigningKey: name).fileText
        if let output, output != "-" {
            try FileSystem.checkOutput(output, force: force, dashOption: "-o")
            try FileSystem.writeAtomically(output, Array(text.utf8), mode: 0o644, overwrite: force)
        } else {
            try Terminal.writeStdout(text)
        }
    }
}
