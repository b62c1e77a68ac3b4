import ArgumentParser
import ArticleVault

struct VaultGet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Write a version's payload (the newest by default), byte for byte.",
        discussion: "Each chunk is authenticated before it is written; with -o the file appears (mode 600) only once all of it has.\n\nExample: avault vault get https://example.org/a --version 2 -o draft.md")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID.") var id: String
    @Option(help: "The version (default: the newest).") var version: Int?
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write here instead of standard output.", valueName: "file"), completion: .file())
    var output: String?

    func run() throws {
        let vault = try options.open()
        if let output {
            try vault.get(id, version: version, toFile: output)
        } else {
            _ = try vault.get(id, version: version) { (chunk: [UInt8]) throws(AvaultError) in try FileSystem.writeAll(fd: 1, chunk, name: "standard output") }
        }
    }
}
