import ArgumentParser
import ArticleVault

struct VaultImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store article records (files or directories); the ID is the record's webUrl, else originalUrl, else its file name.",
        discussion: "The whole batch is one locked transaction, acknowledged once everything is durable. Two different files with the same ID are refused (nothing is stored) unless --as-versions.\n\nExample: avault vault import posts/")
    @OptionGroup var options: VaultOptions
    @Argument(help: ArgumentHelp("Records and directories.", valueName: "path"), completion: .file()) var paths: [String]
    @Flag(help: "Print one JSON object per stored record.") var json = false
    @Flag(name: .customLong("as-versions"), help: "Store different records with the same ID as successive versions of it (otherwise refused).")
    var asVersions = false
    @OptionGroup var quiet: QuietOption

    func validate() throws { if paths.isEmpty { throw ValidationError("give records or directories to import") } }

    func run() throws {
        quiet.apply()
        let vault = try options.open()
        var line: ProgressLine?
        let stored = try vault.importRecords(paths, now: now(), asVersions: asVersions) { done, total in
            if line == nil { line = ProgressLine("importing", total: total) }
            line?.update(done)
        }
        line?.finish()
        // The versions are stored (committed) before the report is written: a report cut short
        // (a full disk, a closed pipe) must not read as a failed import, which a script would
        // retry, storing each record again as a new version.
        try Terminal.writingBatch(hint: "every record was stored; only the report of them was cut short (importing them again would store new versions)") {
            try Terminal.writeStdout(storedText(stored, json: json))
        }
    }
}
