import ArgumentParser
import ArticleVault

struct VaultSchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Manage the tables of a PostgreSQL vault.",
        discussion: """
            A PostgreSQL vault's tables carry a schema version; this avault creates version 2 and reads and writes \
            versions 1 and 2. A directory vault has no schema.

            Example: avault vault schema upgrade --vault postgresql://db.example/news
            """,
        subcommands: [VaultSchemaUpgrade.self])
}

struct VaultSchemaUpgrade: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upgrade",
        abstract: "Bring a PostgreSQL vault's schema up to the version this avault creates.",
        discussion: """
            One transaction: the statements of each later version, then the new version recorded. Run it as the role \
            that owns the tables (it may create an index); the vault's contents are not read or changed, so no key is \
            needed. A schema already current is left as it is. This avault reads and writes every older version too.

            Example: avault vault schema upgrade --vault postgresql://db.example/news
            """)
    @OptionGroup var location: VaultLocationOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let (from, to) = try Vault.upgradeSchema(of: try location.storage())
        if json {
            try Terminal.writeStdout(JSONOutput.document([("from", .number(Double(from))), ("to", .number(Double(to)))]).jsonText + "\n")
        } else {
            try Terminal.writeStdout(from == to ? "schema version \(to): already current\n" : "schema upgraded from version \(from) to \(to)\n")
        }
    }
}
