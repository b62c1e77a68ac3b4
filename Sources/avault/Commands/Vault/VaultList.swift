import ArgumentParser
import ArticleVault
import VaultFormat

struct VaultList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List objects: id, versions, latest size, updated, key id.",
        discussion: "Example: avault vault list --prefix https://example.org/")
    @OptionGroup var options: VaultOptions
    @Option(help: ArgumentHelp("Only IDs starting with this.", valueName: "prefix")) var prefix: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let objects = try options.open().readIndex().filter { prefix == nil || $0.id.hasPrefix(prefix!) }.sorted { $0.id < $1.id }
        if json {
            try JSONOutput.print([("objects", .array(objects.map(\.json)))])
            return
        }
        var out = objects.isEmpty ? "no objects\n" : ""
        for o in objects {
            let latest = o.versions.last
            out += "\(Terminal.quoted(o.id))  versions \(o.versions.count)  \(latest.map { "\($0.size) bytes" } ?? "-")  \(latest?.created.text ?? "-")  kid \(latest?.kid.hex ?? "-")"
            out += o.deleted.map { "  REMOVED \($0)" } ?? ""
            out += "\n"
        }
        try Terminal.writeStdout(out)
    }
}
