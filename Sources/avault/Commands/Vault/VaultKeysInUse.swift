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
        let vault = try Vault(storage: try options.storage(), keyring: try options.keyring.open())
        let use = try vault.keysInUse()
        let entries = Dictionary(vault.keyring.versions(of: vault.config.keyName).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        // By key id, then the unreadable envelopes (as "unreadable", which sorts after hex digits).
        let rows: [(kid: KeyID?, files: Int)] = use.files.map { ($0.key, $0.value.count) }.sorted { $0.0.hex < $1.0.hex }
            + (use.unreadable.isEmpty ? [] : [(nil, use.unreadable.count)])
        let entry = { (kid: KeyID?) in kid.flatMap { entries[.content($0)] } }
        if json {
            try JSONOutput.print([("keys", .array(rows.map { row in
                .object([("keyId", row.kid.map { .string($0.hex) } ?? .null), ("name", JSONOutput.string(entry(row.kid)?.name)),
                         ("version", entry(row.kid).map { .number(Double($0.version)) } ?? .null), ("files", JSONOutput.count(row.files))])
            }))])
            return
        }
        try Terminal.writeStdout(rows.map { row in
            let name = entry(row.kid).map { "\($0.name) version \($0.version)" } ?? "unknown key"
            return "\(row.kid?.hex ?? "unreadable")  \(name)  \(row.files) file\(row.files == 1 ? "" : "s")"
        }.joined(separator: "\n") + "\n")
    }
}
