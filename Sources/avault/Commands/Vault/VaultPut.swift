import ArgumentParser
import ArticleVault

struct VaultPut: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Store a new version of ID from FILE or standard input.",
        discussion: "Example: avault vault put https://example.org/a draft.md")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID (any text).") var id: String
    @Argument(help: ArgumentHelp("The payload file, or - for standard input (the default).", valueName: "file"), completion: .file()) var file: String = "-"
    @Option(name: .customLong("content-type"), help: ArgumentHelp("Recorded with the version.", valueName: "type")) var contentType: String?
    @Flag(help: "Print the stored version as JSON.") var json = false

    func run() throws {
        let stored = try options.open().put(id: id, path: file, contentType: contentType, now: now())
        printStored([stored], json: json)
    }
}
