import ArgumentParser
import ArticleVault

struct VaultImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store article records (files or directories); the ID is the record's webUrl, else originalUrl, else its file name.",
        discussion: "The whole batch is one locked transaction, acknowledged once everything is durable.\n\nExample: avault vault import posts/")
    @OptionGroup var options: VaultOptions
    @Argument(help: ArgumentHelp("Records and directories.", valueName: "path"), completion: .file()) var paths: [String]
    @Flag(help: "Print one JSON object per stored record.") var json = false

    func validate() throws { if paths.isEmpty { throw ValidationError("give records or directories to import") } }

    func run() throws {
        printStored(try options.open().importRecords(paths, now: now()), json: json)
    }
}
