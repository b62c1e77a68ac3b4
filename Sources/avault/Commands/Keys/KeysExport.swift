import ArgumentParser
import ArticleVault

struct KeysExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every version of a key to a file sealed under a passphrase of its own, for a backup.",
        discussion: """
            The export passphrase comes from --export-passphrase-file, else AVAULT_EXPORT_PASSPHRASE, \
            else the terminal (asked twice). The file (mode 600) is read back \
            with 'avault keys import NAME --sealed FILE'.

            Example: avault keys export desk-content -o desk-content.avx
            """)

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.", completion: KeyCompletion.names()) var name: String
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("The export file to write.", valueName: "file"))
    var output: String
    @Option(name: .customLong("export-passphrase-file"), help: ArgumentHelp("Read the export passphrase from this file (mode 600; - is standard input) instead of AVAULT_EXPORT_PASSPHRASE or the terminal.", valueName: "file"))
    var exportPassphraseFile: String?
    @Flag(help: "Overwrite an existing output file.") var force = false

    func validate() throws {
        try refuseStandardInputTwice(["passphrase": keyring.passphraseFile, "export passphrase": exportPassphraseFile])
        try refuseStandardOutput(output, option: "-o", names: "the export file to write")
    }

    func run() throws {
        try FileSystem.checkOutput(output, force: force)
        let ring = try keyring.open()
        try ring.authenticate()
        let pass = try exportPassphrase(exportPassphraseFile).read(confirm: true)
        let exported = try ring.exportKey(name: name, passphrase: pass, to: output, overwrite: force)
        try Terminal.writeStdout("exported key '\(name)' (\(exported.count) version\(exported.count == 1 ? "" : "s")) to \(output)\n")
    }
}

/// The passphrase of a key export: `--export-passphrase-file`, else AVAULT_EXPORT_PASSPHRASE, else the terminal.
func exportPassphrase(_ file: String?) -> PassphraseSource {
    PassphraseSource(file: file, environmentVariable: "AVAULT_EXPORT_PASSPHRASE", label: "export passphrase")
}
