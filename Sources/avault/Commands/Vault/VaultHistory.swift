import ArgumentParser
import ArticleVault
import VaultFormat

struct VaultHistory: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Every version of an object.",
        discussion: "Example: avault vault history https://example.org/a")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID.") var id: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let object = try options.open().history(id)
        if json {
            try JSONOutput.print([
                ("id", .string(object.id)), ("removed", object.deleted.map { .string($0.text) } ?? .null),
                ("versions", .array(object.versions.map { v in
                    .object([("version", .number(Double(v.number))), ("size", .number(Double(v.size))), ("created", .string(v.created.text)),
                             ("contentType", v.contentType.map(FieldValue.string) ?? .null), ("keyId", .string(v.kid.hex))])
                })),
            ])
            return
        }
        var out = ""
        for v in object.versions {
            out += "version \(v.number)  \(v.size) bytes  \(v.created)  kid \(v.kid.hex)\(v.contentType.map { "  \(Terminal.shown($0))" } ?? "")\n"
        }
        if let deleted = object.deleted { out += "removed \(deleted)\n" }
        try Terminal.writeStdout(out)
    }
}
