import ArgumentParser
import ArticleVault

struct KeysImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a raw key file as a content key (or with --legacy-aes-cbc a legacy AES key), or a key export with --sealed.",
        discussion: """
            With --key-file, if NAME exists the key becomes its next version. With --sealed, a \
            file written by 'avault keys export' becomes key NAME (which must be new) with every \
            version, creation time and status it had; its passphrase comes from \
            --export-passphrase-file, else AVAULT_EXPORT_PASSPHRASE, else the terminal.

            Example: avault keys import old-aes --key-file old-aes.key --legacy-aes-cbc
            """)

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.", completion: KeyCompletion.names(.content, .legacy)) var name: String
    @Option(name: .customLong("key-file"), help: ArgumentHelp("A file holding the key (hex or base64); must be mode 600; - is standard input.", valueName: "file"), completion: .file())
    var keyFile: String?
    @Option(help: ArgumentHelp("A key export file written by 'avault keys export' (- is standard input).", valueName: "file"), completion: .file()) var sealed: String?
    @Option(name: .customLong("export-passphrase-file"), help: ArgumentHelp("With --sealed: read the export passphrase from this file (mode 600; - is standard input).", valueName: "file"), completion: .file())
    var exportPassphraseFile: String?
    @Flag(name: .customLong("legacy-aes-cbc"), help: "Import a 16-, 24- or 32-byte AES key for legacy v1 blobs.") var legacy = false
    @Flag(help: "Store the secret unsealed (still mode 600).") var unprotected = false
    @Flag(help: "Print the key as JSON.") var json = false

    func validate() throws {
        if (keyFile == nil) == (sealed == nil) { throw ValidationError("give --key-file FILE or --sealed FILE") }
        if sealed != nil, legacy { throw ValidationError("--legacy-aes-cbc goes with --key-file; an export knows its keys' kinds") }
        if exportPassphraseFile != nil, sealed == nil { throw ValidationError("--export-passphrase-file goes with --sealed") }
        try refuseStandardInputTwice(["passphrase": keyring.passphraseFile, "key": keyFile ?? sealed,
                                      "export passphrase": exportPassphraseFile])
    }

    func run() throws {
        if let sealed {
            try importSealed(sealed)
        } else if let keyFile {
            try importKeyFile(keyFile)
        }
    }

    private func importSealed(_ path: String) throws {
        let added = try keyring.open().importExport(name: name, file: path, passphrase: exportPassphrase(exportPassphraseFile), protected: !unprotected)
        let current = added.last { $0.retired == nil }?.version
        for entry in added { try printEntry(entry, json: json, verb: "imported", current: entry.version == current) }
    }

    private func importKeyFile(_ path: String) throws {
        let added: Keyring.Entry
        do {
            added = try keyring.open().importKey(name: name, keyFile: path, legacy: legacy, protected: !unprotected, now: now())
        } catch AvaultError.unsuitableKey(let why) where !legacy {
            throw Failure(message: why, hint: "import it with --legacy-aes-cbc if it is an AES key for v1 blobs", code: Exit.operational)
        }
        try printEntry(added, json: json, verb: "imported")
    }
}
