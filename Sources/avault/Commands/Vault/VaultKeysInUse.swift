import ArgumentParser
import ArticleVault
import VaultFormat

struct VaultKeysInUse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys-in-use",
        abstract: "Which key ids still protect something (read from headers; no passphrase needed).",
        discussion: "Example: avault vault keys-in-use --json")
    @OptionGroup var options: VaultOptions
    @Flag(help: "Print one JSON object: each key id, its keyring name and version (null if unknown) and the number of files.") var json = false

    func run() throws {
        let vault = try Vault(storage: options.storage, keyring: try options.keyring.open())
        let use = try vault.keysInUse()
        let entries = Dictionary(vault.keyring.versions(of: vault.config.keyName).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        if json {
            try JSONOutput.print([("keys", .array(use.sorted { $0.key < $1.key }.map { kid, files in
                .object([("keyId", kid == "unreadable" ? .null : .string(kid)), ("name", JSONOutput.string(entries[kid]?.name)),
                         ("version", entries[kid].map { .number(Double($0.version)) } ?? .null), ("files", JSONOutput.count(files.count))])
            }))])
            return
        }
        let names = entries.mapValues { "\($0.name) version \($0.version)" }
        try Terminal.writeStdout(use.sorted { $0.key < $1.key }.map { "\($0.key)  \(names[$0.key] ?? "unknown key")  \($0.value.count) file\($0.value.count == 1 ? "" : "s")" }.joined(separator: "\n") + "\n")
    }
}
