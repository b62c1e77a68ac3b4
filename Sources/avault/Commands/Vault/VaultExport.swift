import ArgumentParser
import ArticleVault

struct VaultExport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write an object's newest version to a file (mode 600).",
        discussion: "Example: avault vault export https://example.org/a -o a.md")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID.") var id: String
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("The file to write (- is standard output).", valueName: "file"), completion: .file()) var output: String
    @Flag(help: "Overwrite an existing output file.") var force = false

    func run() throws {
        if output != "-" { try FileSystem.checkOutput(output, force: force, dashOption: "-o") }
        let vault = try options.open()
        if output == "-" { return try writePayload(of: vault, id: id, version: nil, refuseBinaryOnTerminal: false) }
        let v = try vault.get(id, version: nil, toFile: output, overwrite: force)
        try Terminal.writeStdout("exported \(Terminal.quoted(id)) version \(v.number) to \(Terminal.quoted(output))\n")
    }
}
