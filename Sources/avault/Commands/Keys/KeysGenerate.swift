import ArgumentParser
import ArticleVault

struct KeysGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Create a new key (version 1).",
        discussion: "Example: avault keys generate desk-content")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.") var name: String
    @Flag var kind: GeneratedKind
    @Flag(help: "Store the secret unsealed (still mode 600), for throwaway CI keyrings.") var unprotected = false
    @Flag(help: "Print the new key as JSON.") var json = false

    func run() throws {
        let ring = try keyring.open()
        let added = try ring.generateKey(name: name, kind: kind.kind, protected: !unprotected, now: now())
        try printEntry(added, json: json, verb: "generated")
        if unprotected { Terminal.warning("the secret of '\(name)' is stored unprotected in \(ring.path)") }
    }
}
