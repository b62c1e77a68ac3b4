import ArgumentParser
import ArticleVault

struct KeysReinstate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reinstate",
        abstract: "Make a retired key version active again (undoes 'keys retire').",
        discussion: "Example: avault keys reinstate desk-content --version 1")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.", completion: KeyCompletion.names()) var name: String
    @Option(help: "The version to reinstate.") var version: Int

    func run() throws {
        try keyring.open().reinstateKey(name: name, version: version)
        try Terminal.writeStdout("reinstated key '\(name)' version \(version)\n")
    }
}
