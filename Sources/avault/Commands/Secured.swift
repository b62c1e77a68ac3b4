import ArgumentParser
import ArticleVault
import VaultFormat

struct Secured: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secured",
        abstract: "Inspect, decrypt and encrypt `secured` blobs (v1 legacy AES-CBC, v2 XChaCha20-Poly1305).",
        discussion: """
            A blob is given as an argument, as `-` for standard input, or with --record FILE \
            (the `secured` field of that record's front matter). Keys are read from files, \
            never from the command line.

            \(exitCodeHelp)
            """,
        subcommands: [SecuredInspect.self, SecuredDecrypt.self, SecuredEncrypt.self]
    )
}

/// Where a blob comes from: an argument, `-` (stdin) or `--record FILE`.
struct BlobSource: ParsableArguments {
    @Argument(help: ArgumentHelp("The blob, or - to read it from standard input.", valueName: "blob"))
    var blob: String?

    @Option(name: .customLong("record"), help: ArgumentHelp("Read the blob from the `secured` field of this record.", valueName: "file"))
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

struct SecuredInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Say what a blob is and whether it is well-formed (no key needed).",
        discussion: "Exit status: 0 well-formed; 1 malformed; 2 the blob could not be read."
    )

    @OptionGroup var source: BlobSource

    @Flag(help: "Print one JSON object (fields documented in docs/cli.md).")
    var json = false

    func run() throws {
        let text = try source.load().text
        var fields: [(key: String, value: FieldValue)]
        var problem: String?
        do {
            let blob = try SecuredBlob(parsing: text)
            fields = [("format", .string(blob.formatName)), ("wellFormed", .bool(true))]
            switch blob {
            case let .v1(ciphertext, iv):
                fields += [
                    ("algorithm", .string("AES-CBC-PKCS7")),
                    ("authenticated", .bool(false)),
                    ("ivBytes", .number(Double(iv.count))),
                    ("ciphertextBytes", .number(Double(ciphertext.count))),
                ]
            case let .v2(kid, nonce, sealed):
                fields += [
                    ("algorithm", .string("XChaCha20-Poly1305")),
                    ("authenticated", .bool(true)),
                    ("kid", .string(kid.hex)),
                    ("nonceBytes", .number(Double(nonce.count))),
                    ("ciphertextBytes", .number(Double(sealed.count - SecuredBlob.v2TagSize))),
                    ("tagBytes", .number(Double(SecuredBlob.v2TagSize))),
                ]
            }
        } catch {
            problem = error.description
            fields = [("format", .string(SecuredBlob.claimedFormat(of: text))), ("wellFormed", .bool(false)),
                      ("error", .string(error.description))]
        }

        if json {
            Terminal.writeStdout(FieldValue.object(fields).jsonText + "\n")
        } else {
            let width = fields.map(\.key.count).max() ?? 0
            var out = ""
            for (key, value) in fields where key != "error" {
                let shown: String
                switch value {
                case .string(let s): shown = s
                case .bool(let b): shown = b ? "yes" : "no"
                default: shown = value.jsonText
                }
                out += key + ":" + String(repeating: " ", count: width - key.count + 1) + shown + "\n"
            }
            Terminal.writeStdout(out)
        }
        if let problem {
            Terminal.error(problem)
            throw ExitCode(Exit.no)
        }
    }
}

/// `--key-file F` (a raw key file).
struct KeyFileOption: ParsableArguments {
    @Option(name: .customLong("key-file"), help: ArgumentHelp("A file holding the key (hex or base64); must be mode 600.", valueName: "file"))
    var keyFile: String

}

/// `--key-file F` or `--key NAME` (from the keyring), exactly one.
struct KeyChoice: ParsableArguments {
    @Option(name: .customLong("key-file"), help: ArgumentHelp("A file holding the key (hex or base64); must be mode 600.", valueName: "file"))
    var keyFile: String?

    @Option(name: .customLong("key"), help: ArgumentHelp("A key from the keyring, by name.", valueName: "name"))
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

struct SecuredDecrypt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Decrypt a blob; the plaintext goes to standard output or to --output.",
        discussion: """
            A v2 blob is bound to a context: --context, else the record's webUrl, else its \
            originalUrl, else empty. Every failure after the structure checks gives the same \
            message, whatever the cause. A legacy v1 blob is unauthenticated: it is decrypted only \
            from a --record whose signature by a trusted key verifies, or with \
            --allow-unauthenticated-legacy.

            \(exitCodeHelp)
            """
    )

    @OptionGroup var source: BlobSource
    @OptionGroup var key: KeyChoice

    @Option(help: ArgumentHelp("The context a v2 blob is bound to (default: from the record).", valueName: "text"))
    var context: String?

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write the plaintext here (atomically, mode 600).", valueName: "file"))
    var output: String?

    @OptionGroup var legacy: LegacyOptions

    func run() throws {
        let (text, record) = try source.load()
        let blob: SecuredBlob
        do {
            blob = try SecuredBlob(parsing: text)
        } catch {
            throw AvaultError.malformed(error, file: record?.path)
        }
        // A v1 blob: decide before anything else whether it may be decrypted at all (so that a
        // valid and a tampered blob get the same answer when it may not).
        var authorization: LegacyAuthorization?
        if case .v1 = blob {
            guard let granted = try legacy.policy(keyringDirectory: key.keyring.directory).authorization(for: record?.document) else {
                throw AvaultError.unauthenticatedLegacy
            }
            authorization = granted
        }
        let context = context ?? record?.document.securedContext ?? ""
        try SecuredField.decrypt(blob, using: try key.source(), context: context, legacy: authorization) { (plaintext: [UInt8]) throws(AvaultError) in
            if case .signedRecord(let ids)? = authorization?.basis {
                Terminal.note("legacy v1 blob authenticated by the record's signature (key \(ids.joined(separator: ", ")))")
            }
            if let output {
                try FileSystem.writeAtomically(output, plaintext, mode: 0o600)
            } else {
                Terminal.writeStdout(plaintext)
            }
        }
    }
}

struct SecuredEncrypt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Encrypt standard input (or --input) and print the blob on one line.",
        discussion: """
            Makes a v2 blob (XChaCha20-Poly1305, 32-byte key) bound to --context, or with \
            --legacy-cbc a v1 blob (AES-CBC with a 16-, 24- or 32-byte key and a fresh IV) \
            for readers that only know v1.

            \(exitCodeHelp)
            """
    )

    @OptionGroup var key: KeyChoice

    @Option(help: ArgumentHelp("The context to bind a v2 blob to (a record's webUrl).", valueName: "text"))
    var context: String?

    @Flag(name: .customLong("legacy-cbc"), help: "Make a legacy, unauthenticated v1 blob.")
    var legacyCBC = false

    @Option(name: [.customShort("i"), .customLong("input")], help: ArgumentHelp("Read the plaintext from this file instead of standard input.", valueName: "file"))
    var input: String?

    func validate() throws {
        if legacyCBC, context != nil {
            throw ValidationError("--context has no effect with --legacy-cbc: v1 blobs are not bound to a context")
        }
    }

    func run() throws {
        let blob = try SecuredField.encrypt(input: input, using: try key.source(), context: context ?? "", legacy: legacyCBC)
        Terminal.writeStdout(blob.text + "\n")
    }
}
