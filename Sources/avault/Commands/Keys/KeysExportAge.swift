import ArgumentParser
import ArticleVault

struct KeysExportAge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-age",
        abstract: "Write an identity as an age identity file that 'age -d -i FILE' reads (its secret unsealed: keep it safe).",
        discussion: "The file is written as age-keygen writes it ('# created:', '# public key:', the AGE-SECRET-KEY-1… line), with mode 600, and never over an existing file without --force.\n\nExample: avault keys export-age desk-identity -o desk-identity.txt")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The identity's name.", completion: KeyCompletion.names(.identity)) var name: String
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("The identity file to write.", valueName: "file"), completion: .file())
    var output: String
    @Flag(help: "Overwrite an existing file.") var force = false

    func validate() throws { try refuseStandardOutput(output, option: "-o", names: "the identity file to write") }

    func run() throws {
        let (entry, recipient) = try keyring.open().exportAge(name: name, to: output, overwrite: force)
        try Terminal.writeStdout("wrote \(entry.summary), recipient \(recipient), to \(output)\n")
    }
}
