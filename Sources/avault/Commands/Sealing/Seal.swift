import ArgumentParser
import ArticleVault

struct Seal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Move a record's body (and --field NAMEs) into a secured blob bound to its context.",
        discussion: """
            With --key, a v2 blob under that content key. With --recipient or --recipients-file, a v3 blob: an age file \
            to those recipients, which each opens with their own identity (and 'age -d' opens too). With neither, the \
            recipients come from the nearest .avault-recipients file in the record's directory or above it. Other \
            fields stay readable. Written atomically; signatures that no longer match are dropped with a warning. A \
            signed record is re-signed with --sign only when its signatures verified before the change, by the trust \
            store (or --pubkey, --trust-store) as 'avault verify' judges them.

            \(exitCodeHelp)

            Example: avault seal --recipients-file desk.txt --sign desk-signing draft.md
            """)

    @Argument(help: ArgumentHelp("Records.", valueName: "file"), completion: .file()) var files: [String]
    @Option(help: ArgumentHelp("Seal under this content key (a v2 blob).", valueName: "name"), completion: KeyCompletion.names(.content)) var key: String?
    @OptionGroup var recipients: SealRecipientOptions
    @Option(name: .customLong("field"), help: ArgumentHelp("A top-level field to seal too (repeatable).", valueName: "name")) var fields: [String] = []
    @OptionGroup var resign: ResignOption
    @OptionGroup var trust: TrustOptions
    @OptionGroup var keyring: KeyringOptions
    @OptionGroup var quiet: QuietOption

    func validate() throws {
        try validateRewrite(files, keyring, trust: trust, recipientsFiles: recipients.recipientsFiles)
        if key != nil, recipients.given { throw ValidationError("give either --key or recipients (--recipient, --recipients-file), not both") }
        // As a file named twice is: a usage error, not "the record has no field" once the first has moved it.
        if let twice = fields.enumerated().first(where: { fields[..<$0.offset].contains($0.element) })?.element {
            throw ValidationError("--field \(Terminal.quoted(twice)) is given twice: name each field once")
        }
    }

    func run() throws {
        quiet.apply()
        try FileSystem.checkBatch(rewrites: files)
        // The keyring is opened only for a content key or a signature: sealing to recipients needs none.
        let ring = key != nil || resign.signKey != nil ? try keyring.open() : nil
        let signer = try ring.flatMap { r throws(AvaultError) in try resign.signer(r) }
        let sealer: Sealing.Sealer
        if let key, let ring { sealer = .key(ring, name: key) } else { sealer = .recipients(try recipients.resolve()) }
        let trustPolicy = try trust.lazyPolicy(keyringDirectory: keyring.directory)
        try rewriteAll(files, verb: "sealed") { file throws(AvaultError) in
            try Sealing.seal(path: file, with: sealer, fields: fields, signer: signer, trust: trustPolicy.get)
        }
    }
}
