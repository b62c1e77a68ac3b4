import ArgumentParser
import ArticleVault

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Rewrite legacy v1 secured blobs as v2, with no plaintext touching the disk.",
        discussion: """
            A v1 blob is decrypted only when a valid signature by a trusted key covers the record (or with \
            --allow-unauthenticated-legacy): otherwise a tampered plaintext would come out authenticated. A signed \
            record is re-signed with --sign only when its signatures verified before the change, by the trust store (or \
            --pubkey, --trust-store) as 'avault verify' judges them.

            \(exitCodeHelp)

            Example: avault migrate --from-key old-aes --key desk-content --sign desk-signing posts/*.md
            """)

    @Argument(help: ArgumentHelp("Records.", valueName: "file"), completion: .file()) var files: [String]
    @Option(name: .customLong("from-key"), help: ArgumentHelp("The legacy key that opens the v1 blobs.", valueName: "name"), completion: KeyCompletion.names(.legacy)) var fromKey: String
    @Option(help: ArgumentHelp("The content key for the new v2 blobs.", valueName: "name"), completion: KeyCompletion.names(.content)) var key: String
    @OptionGroup var resign: ResignOption
    @OptionGroup var keyring: KeyringOptions
    @OptionGroup var quiet: QuietOption
    @OptionGroup var legacy: LegacyOptions

    func validate() throws { try validateRewrite(files, keyring, trust: legacy.trust) }

    func run() throws {
        quiet.apply()
        let policy = try legacy.policy(keyringDirectory: keyring.directory)
        try rewriteEach(files, keyring, resign, verb: "migrated") { file, ring, signer throws(AvaultError) in
            try Sealing.migrate(path: file, keyring: ring, fromKey: fromKey, keyName: key, legacy: policy, signer: signer, trust: { policy.trust })
        }
    }
}
