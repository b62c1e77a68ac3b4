import ArgumentParser
import ArticleVault

struct Reseal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reseal",
        abstract: "Re-encrypt sealed blobs to the current recipients, with no plaintext touching the disk.",
        discussion: """
            Each record's blob (v3, opened with an identity of the keyring; or v2, opened with the content key its key \
            id names) is decrypted in memory and written again as a v3 blob under a fresh file key to the recipients of \
            --recipient and --recipients-file, or else of the nearest .avault-recipients file. Someone removed from the \
            recipients cannot open the new blob, but may have kept the old one or its plaintext. Written atomically \
            and read back first; signatures that no longer match are dropped with a warning. A signed record is \
            re-signed with --sign only when its signatures verified before the change, by the trust store (or \
            --pubkey, --trust-store) as 'avault verify' judges them.

            \(exitCodeHelp)

            Example: avault reseal --sign desk-signing drafts/*.md
            """)

    @Argument(help: ArgumentHelp("Records.", valueName: "file"), completion: .file()) var files: [String]
    @Option(help: ArgumentHelp("The identity (v3) or content key (v2) that opens the blobs (default: found from the blob).", valueName: "name"), completion: KeyCompletion.names(.identity, .content)) var key: String?
    @OptionGroup var recipients: SealRecipientOptions
    @OptionGroup var resign: ResignOption
    @OptionGroup var trust: TrustOptions
    @OptionGroup var keyring: KeyringOptions
    @OptionGroup var quiet: QuietOption

    func validate() throws { try validateRewrite(files, keyring, trust: trust, recipientsFiles: recipients.recipientsFiles) }

    func run() throws {
        quiet.apply()
        let who = try recipients.resolve()
        let trustPolicy = try trust.lazyPolicy(keyringDirectory: keyring.directory)
        try rewriteEach(files, keyring, resign, verb: "resealed") { file, ring, signer throws(AvaultError) in
            try Sealing.reseal(path: file, keyring: ring, keyName: key, to: who, signer: signer, trust: trustPolicy.get)
        }
    }
}
