import ArgumentParser
import ArticleVault

struct VaultExport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write an object's newest version to a file (mode 600).",
        discussion: "Example: avault vault export https://example.org/a -o a.md")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID.") var id: String
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("The file to write.", valueName: "file"), completion: .file()) var output: String

    func run() throws {
        let v = try options.open().get(id, version: nil, toFile: output)
        Terminal.writeStdout("exported \(id) version \(v.number) to \(output)\n")
    }
}
