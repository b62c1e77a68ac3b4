import ArgumentParser
import ArticleVault

struct Unseal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unseal",
        abstract: "Restore what seal moved into a record's secured blob (a legacy v1 blob's plaintext becomes the body).",
        discussion: """
            A v2 blob's key is found by its key id unless --key names it; a v1 blob needs --key naming a legacy key, \
            and is decrypted only when a valid signature by a trusted key covers the record (or with \
            --allow-unauthenticated-legacy). The restored record is written for its owner only (mode 600 from a sealed \
            file of mode 644). A signed record is re-signed with --sign only when its signatures verified before the \
            change, by the trust store (or --pubkey, --trust-store) as 'avault verify' judges them.

            \(exitCodeHelp)

            Example: avault unseal --key desk-content draft.md
            """)

    @Argument(help: ArgumentHelp("Records.", valueName: "file"), completion: .file()) var files: [String]
    @Option(help: ArgumentHelp("The key's name (required for v1 blobs).", valueName: "name"), completion: KeyCompletion.names(.content, .legacy, .identity)) var key: String?
    @OptionGroup var resign: ResignOption
    @OptionGroup var keyring: KeyringOptions
    @OptionGroup var quiet: QuietOption
    @OptionGroup var legacy: LegacyOptions

    func validate() throws { try validateRewrite(files, keyring, trust: legacy.trust) }

    func run() throws {
        quiet.apply()
        let policy = try legacy.policy(keyringDirectory: keyring.directory)
        try rewriteEach(files, keyring, resign, verb: "unsealed") { file, ring, signer throws(AvaultError) in
            try Sealing.unseal(path: file, keyring: ring, keyName: key, legacy: policy, signer: signer, trust: { policy.trust })
        }
    }
}
