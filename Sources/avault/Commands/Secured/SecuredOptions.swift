import ArgumentParser
import ArticleVault

/// Where a blob comes from: an argument, `-` (stdin), `-i FILE` or `--record FILE`.
struct BlobSource: ParsableArguments {
    @Argument(help: ArgumentHelp("The blob, or - to read it from standard input.", valueName: "blob"))
    var blob: String?

    @Option(name: [.customShort("i"), .customLong("input")], help: ArgumentHelp("Read the blob from this file (- is standard input).", valueName: "file"), completion: .file())
    var input: String?

    @Option(name: .customLong("record"), help: ArgumentHelp("Read the blob from the `secured` field of this record (- is standard input).", valueName: "file"), completion: .file())
    var record: String?

    func validate() throws {
        switch [blob, input, record].compactMap({ $0 }).count {
        case 0: throw ValidationError("give a blob, - for standard input, -i FILE, or --record FILE")
        case 1: break
        default: throw ValidationError("give one of a blob, -i FILE and --record FILE")
        }
    }

    /// The file (or `-`) the blob is read from, when it is not an argument or a record.
    var path: String? { input ?? (blob == "-" ? "-" : nil) }

    /// The blob text and, for a record, the record (for its context).
    func load() throws(AvaultError) -> (text: String, record: RecordFile?) {
        if let record {
            let file = try RecordFile(path: record)
            return (try file.securedText(), file)
        }
        if let path {
            // One trailing line break is how text arrives through a pipe; nothing else is trimmed.
            guard case .text(let text) = try BlobInput.read(path, streamThreshold: .max) else { preconditionFailure("read whole") }
            return (text, nil)
        }
        return (blob!, nil)
    }
}

/// `--key-file F` or `--key NAME` (from the keyring), exactly one.
struct KeyChoice: ParsableArguments {
    @Option(name: .customLong("key-file"), help: ArgumentHelp("A file holding the key (hex or base64); must be mode 600; - is standard input.", valueName: "file"), completion: .file())
    var keyFile: String?

    @Option(name: .customLong("key"), help: ArgumentHelp("A key from the keyring, by name (an identity for a v3 blob).", valueName: "name"), completion: KeyCompletion.names(.content, .legacy, .identity))
    var keyName: String?

    @OptionGroup var keyring: KeyringOptions

    /// The keyring passphrase's file, when the keyring is used.
    var passphraseFile: String? { keyName == nil ? nil : keyring.passphraseFile }

    func validate() throws {
        switch (keyFile, keyName) {
        case (nil, nil): throw ValidationError("give --key NAME (from the keyring) or --key-file F")
        case (.some, .some): throw ValidationError("give either --key or --key-file, not both")
        default: break
        }
    }

    /// The key named on the command line (the keyring is opened for `--key`).
    func source() throws(AvaultError) -> KeySource {
        if let keyName { return .keyring(try keyring.open(), name: keyName) }
        return .file(keyFile!)
    }
}
