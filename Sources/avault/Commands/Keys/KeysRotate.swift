import ArgumentParser
import ArticleVault

struct KeysRotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Add a new version of a key; it encrypts and signs from now on, older versions still decrypt and verify.",
        discussion: "Example: avault keys rotate desk-content")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.", completion: KeyCompletion.names()) var name: String
    @Flag(help: "Print the new version as JSON.") var json = false

    func run() throws {
        let added = try keyring.open().rotateKey(name: name, now: now())
        printEntry(added, json: json, verb: "rotated to")
    }
}
