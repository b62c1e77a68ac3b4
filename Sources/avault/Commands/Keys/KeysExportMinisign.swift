import ArgumentParser
import ArticleVault

struct KeysExportMinisign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-minisign",
        abstract: "Write a signing key as a minisign secret key file that 'minisign -S -s FILE' signs with.",
        discussion: "Protected with a minisign password (scrypt, as minisign does) unless --unprotected. The file is created with mode 600.\n\nExample: avault keys export-minisign desk-signing -o desk.key")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The signing key's name.", completion: KeyCompletion.names(.signing)) var name: String
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("The secret key file to write.", valueName: "file"), completion: .file())
    var output: String
    @OptionGroup var password: MinisignPasswordOptions
    @Flag(help: "Write the key without a password, like minisign -G -W.") var unprotected = false
    @Flag(help: "Overwrite an existing file.") var force = false

    func validate() throws {
        try refuseStandardInputTwice(["passphrase": keyring.passphraseFile, "minisign password": password.file])
        try refuseStandardOutput(output, option: "-o", names: "the secret key file to write")
    }

    func run() throws {
        try FileSystem.checkOutput(output, force: force)
        let ring = try keyring.open()
        _ = try ring.signingKeyID(named: name)
        let pass = unprotected ? nil : try password.source.read(confirm: true)
        let entry = try ring.exportMinisign(name: name, password: pass, to: output, overwrite: force)
        try Terminal.writeStdout("wrote \(entry.summary) to \(output)\n")
    }
}
