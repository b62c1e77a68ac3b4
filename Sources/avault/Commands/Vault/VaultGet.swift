import ArgumentParser
import ArticleVault

struct VaultGet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Write a version's payload (the newest by default), byte for byte.",
        discussion: "Each chunk is authenticated before it is written; with -o the file appears (mode 600) only once all of it has. Binary payloads are not written to a terminal: use -o FILE or a pipe.\n\nExample: avault vault get https://example.org/a --version 2 -o draft.md")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID.") var id: String
    @Option(help: "The version (default: the newest).") var version: Int?
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write here instead of standard output (- is standard output).", valueName: "file"), completion: .file())
    var output: String?
    @Flag(help: "Overwrite an existing --output file.") var force = false

    var request: Request { Request(vault: options.selection, id: id, version: version, output: output, force: force) }
    func run() throws { try request.run() }

    /// What the command line asks for, as plain values (``FastPath`` fills them in too).
    struct Request: Equatable, Runnable {
        var vault: VaultSelection
        var id: String
        var version: Int?
        var output: String?
        var force: Bool

        func run() throws {
            if let output, output != "-" { try FileSystem.checkOutput(output, force: force, dashOption: "-o") }
            let vault = try vault.open()
            if let output, output != "-" {
                try vault.get(id, version: version, toFile: output, overwrite: force)
            } else {
                try writePayload(of: vault, id: id, version: version, refuseBinaryOnTerminal: output == nil)
            }
        }
    }
}

/// Writes a version's payload to standard output. On a terminal (unless `-o -` asked for it)
/// the payload is collected first and refused if it is binary.
func writePayload(of vault: Vault, id: String, version: Int?, refuseBinaryOnTerminal: Bool) throws {
    if refuseBinaryOnTerminal, Terminal.stdoutIsTerminal {
        var payload: [UInt8] = []
        _ = try vault.get(id, version: version) { (chunk: [UInt8]) throws(AvaultError) in payload += chunk }
        if Terminal.isBinary(payload) { throw Terminal.binaryToTerminal }
        try Terminal.writeStdout(payload)
    } else {
        _ = try vault.get(id, version: version) { (block: UnsafeRawBufferPointer) throws(AvaultError) in try Terminal.writeStdout(block) }
    }
}
