import ArgumentParser
import ArticleVault
import VaultFormat

struct VaultKeysInUse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys-in-use",
        abstract: "Which key ids still protect something (read from headers; no passphrase needed).",
        discussion: "Example: avault vault keys-in-use --json")
    @OptionGroup var options: VaultOptions
    @Flag(help: "Print one JSON object: kid → number of files.") var json = false

    func run() throws {
        let vault = try Vault(storage: options.storage, keyring: try options.keyring.open())
        let use = try vault.keysInUse()
        if json {
            Terminal.writeStdout(FieldValue.object(use.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value.count))) }).jsonText + "\n")
            return
        }
        let names = Dictionary(vault.keyring.versions(of: vault.config.keyName).map { ($0.id, "\($0.name) version \($0.version)") }, uniquingKeysWith: { a, _ in a })
        Terminal.writeStdout(use.sorted { $0.key < $1.key }.map { "\($0.key)  \(names[$0.key] ?? "unknown key")  \($0.value.count) file\($0.value.count == 1 ? "" : "s")" }.joined(separator: "\n") + "\n")
    }
}
