import ArgumentParser
import ArticleVault

struct SecuredDecrypt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Decrypt a blob; the plaintext goes to standard output or to --output.",
        discussion: """
            A v2 blob is bound to a context: --context, else the record's webUrl, else its \
            originalUrl, else empty. Every failure after the structure checks gives the same \
            message, whatever the cause. A legacy v1 blob is unauthenticated: it is decrypted only \
            from a --record whose signature by a trusted key verifies, or with \
            --allow-unauthenticated-legacy. A long v1 blob from standard input or -i FILE is \
            decrypted as it is read, in bounded memory: its padding is checked before anything is \
            written, and -o is renamed into place only at the end.

            \(exitCodeHelp)

            Example: avault secured decrypt --record post.md --key desk-content -o draft.txt
            """
    )

    @OptionGroup var source: BlobSource
    @OptionGroup var key: KeyChoice

    @Option(help: ArgumentHelp("The context a v2 blob is bound to (default: from the record).", valueName: "text"))
    var context: String?

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write the plaintext here (atomically, mode 600); - is standard output.", valueName: "file"), completion: .file())
    var output: String?

    @Flag(help: "Overwrite an existing --output file.") var force = false

    @OptionGroup var legacy: LegacyOptions
    @OptionGroup var quiet: QuietOption

    func validate() throws {
        try refuseStandardInputTwice(["blob": source.path ?? source.record, "passphrase": key.passphraseFile, "key": key.keyFile],
                                     each: ["trusted key": legacy.trust.files])
    }

    func run() throws {
        quiet.apply()
        if let output, output != "-" { try FileSystem.checkOutput(output, force: force, dashOption: "-o") }
        // From standard input or a file, a long v1 blob is decrypted as it is read.
        if let path = source.path, source.record == nil {
            switch try BlobInput.read(path) {
            case .text(let text): try decrypt(text: text, record: nil)
            case .legacyStream(let stream): try decrypt(stream)
            }
            return
        }
        let (text, record) = try source.load()
        try decrypt(text: text, record: record)
    }

    /// A blob held in memory.
    private func decrypt(text: String, record: RecordFile?) throws {
        let blob = try SecuredField.parse(text, file: record?.path)
        // A v1 blob: decide before anything else whether it may be decrypted at all (so that a
        // valid and a tampered blob get the same answer when it may not).
        var authorization: LegacyAuthorization?
        if case .v1 = blob {
            guard let granted = try legacy.policy(keyringDirectory: key.keyring.directory).authorization(for: record?.document) else {
                throw AvaultError.unauthenticatedLegacy(path: record?.path)
            }
            authorization = granted
        }
        let context = context ?? record?.document.securedContext ?? ""
        var binaryRefused = false
        try SecuredField.decrypt(blob, using: try key.source(), context: context, legacy: authorization) { (plaintext: [UInt8]) throws(AvaultError) in
            if case .signedRecord(let ids)? = authorization?.basis {
                Terminal.note("legacy v1 blob authenticated by the record's signature (key \(ids.joined(separator: ", ")))")
            }
            if let output, output != "-" {
                try FileSystem.writeAtomically(output, plaintext, mode: 0o600, overwrite: force)
            } else {
                // Binary on a terminal can garble it or drive it (escape sequences), as age says.
                if output == nil, Terminal.stdoutIsTerminal, Terminal.isBinary(plaintext) { binaryRefused = true; return }
                try Terminal.writeStdout(plaintext)
            }
        }
        if binaryRefused { throw Terminal.binaryToTerminal }
    }

    /// A long v1 blob, decrypted a piece at a time: to standard output as it goes (the padding
    /// is checked before the first byte), or to a temporary file renamed into place at the end.
    private func decrypt(_ stream: LegacyBlobStream) throws {
        // No record, so no signature: only the opt-in authorises it (its structure — the IV and
        // the ciphertext's length, at its end — has been checked already).
        guard let granted = try legacy.policy(keyringDirectory: key.keyring.directory).authorization(for: nil) else {
            throw AvaultError.unauthenticatedLegacy(path: nil)
        }
        let source = try key.source()
        if let output, output != "-" {
            let file = try OutputFile(path: output)
            do {
                try SecuredField.decrypt(stream, using: source, legacy: granted) { (piece: UnsafeRawBufferPointer) throws(AvaultError) in try file.write(piece) }
                try file.commit(overwrite: force)
            } catch {
                file.abandon()
                throw error
            }
            return
        }
        // On a terminal, text is shown as it comes and the first binary piece stops it.
        let terminal = output == nil && Terminal.stdoutIsTerminal ? TerminalText() : nil
        do {
            try SecuredField.decrypt(stream, using: source, legacy: granted) { (piece: UnsafeRawBufferPointer) throws(AvaultError) in
                guard let terminal else { return try Terminal.writeStdout(piece) }
                guard try terminal.show(piece) else { throw .internalFailure("binary output to a terminal") }
            }
        } catch {
            if terminal?.refusedBinary == true { throw Terminal.binaryToTerminal }
            throw error
        }
        if let terminal, !terminal.finish() { throw Terminal.binaryToTerminal }
    }
}
