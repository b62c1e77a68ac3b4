import ArgumentParser
import ArticleVault

/// Where a blob comes from: an argument, `-` (stdin) or `--record FILE`.
struct BlobSource: ParsableArguments {
    @Argument(help: ArgumentHelp("The blob, or - to read it from standard input.", valueName: "blob"))
    var blob: String?

    @Option(name: .customLong("record"), help: ArgumentHelp("Read the blob from the `secured` field of this record.", valueName: "file"), completion: .file())
    var record: String?

    func validate() throws {
        switch (blob, record) {
        case (nil, nil): throw ValidationError("give a blob, - for standard input, or --record FILE")
        case (.some, .some): throw ValidationError("give either a blob or --record FILE, not both")
        default: break
        }
    }

    /// The blob text and, for a record, the record (for its context).
    func load() throws(AvaultError) -> (text: String, record: RecordFile?) {
        if let record {
            let file = try RecordFile(path: record)
            return (try file.securedText(), file)
        }
        if blob == "-" {
            let bytes = try FileSystem.readAll(fd: 0, name: "standard input")
            var text = String(decoding: bytes, as: UTF8.self)
            // One trailing line break is how text arrives through a pipe; nothing else is trimmed.
            if text.hasSuffix("\r\n") { text.removeLast(1) } // "\r\n" is one Character
            else if text.hasSuffix("\n") { text.removeLast() }
            return (text, nil)
        }
        return (blob!, nil)
    }
}

/// `--key-file F` or `--key NAME` (from the keyring), exactly one.
struct KeyChoice: ParsableArguments {
    @Option(name: .customLong("key-file"), help: ArgumentHelp("A file holding the key (hex or base64); must be mode 600.", valueName: "file"), completion: .file())
    var keyFile: String?

    @Option(name: .customLong("key"), help: ArgumentHelp("A key from the keyring, by name.", valueName: "name"), completion: KeyCompletion.names(.content, .legacy))
    var keyName: String?

    @OptionGroup var keyring: KeyringOptions

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
