import ArgumentParser
import ArticleVault
import VaultFormat

/// `--sign NAME`: re-sign after a rewrite.
struct ResignOption: ParsableArguments {
    @Option(name: .customLong("sign"), help: ArgumentHelp("Re-sign each rewritten record with this signing key.", valueName: "name"))
    var signKey: String?

    func signer(_ ring: Keyring) throws(AvaultError) -> Drafts.Signer? {
        guard let signKey else { return nil }
        let signing = try ring.signingKey(named: signKey)
        return Drafts.Signer(key: signing.key, keyID: signing.keyID, now: now())
    }
}

/// `--allow-unauthenticated-legacy` and where trusted keys come from (`--pubkey`,
/// `--trust-store`), for commands that may decrypt a legacy v1 blob.
struct LegacyOptions: ParsableArguments {
    @Flag(name: .customLong("allow-unauthenticated-legacy"),
          help: "Decrypt legacy v1 blobs that no trusted signature authenticates (their decryption is a padding oracle).")
    var allowUnauthenticatedLegacy = false
    @OptionGroup var trust: TrustOptions

    /// The library's policy; says once on standard error what the opt-in means.
    func policy(keyringDirectory: String) throws(AvaultError) -> LegacyPolicy {
        let policy = LegacyPolicy(trust: try trust.policy(keyringDirectory: keyringDirectory, required: false),
                                  allowUnauthenticated: allowUnauthenticatedLegacy)
        if allowUnauthenticatedLegacy { Terminal.warning(LegacyAuthorization.oracleWarning) }
        return policy
    }
}

/// Opens the keyring once, then rewrites each file with `body`, reporting as it goes.
func rewriteEach(_ files: [String], _ keyring: KeyringOptions, _ resign: ResignOption, verb: String,
                 _ body: (String, Keyring, Drafts.Signer?) throws(AvaultError) -> Drafts.Result) throws {
    let ring = try keyring.open()
    let signer = try resign.signer(ring)
    for file in files { report(file, verb, try body(file, ring, signer)) }
}

func report(_ path: String, _ verb: String, _ result: Drafts.Result) {
    if !result.droppedSignatures.isEmpty {
        Terminal.warning("\(path): dropped signatures that no longer match (keys \(result.droppedSignatures.joined(separator: ", ")))"
                         + (result.signed ? "" : "; re-sign with --sign NAME"))
    }
    Terminal.writeStdout("\(verb) \(path)\(result.signed ? " and signed it" : "")\n")
}

struct Seal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Move a record's body (and --field NAMEs) into a v2 secured blob bound to its context.",
        discussion: "Other fields stay readable. Written atomically; signatures that no longer match are dropped with a warning.\n\n\(exitCodeHelp)")

    @Argument(help: ArgumentHelp("Records.", valueName: "file")) var files: [String]
    @Option(help: ArgumentHelp("The content key's name.", valueName: "name")) var key: String
    @Option(name: .customLong("field"), help: ArgumentHelp("A top-level field to seal too (repeatable).", valueName: "name")) var fields: [String] = []
    @OptionGroup var resign: ResignOption
    @OptionGroup var keyring: KeyringOptions

    func validate() throws { if files.isEmpty { throw ValidationError("give at least one record") } }

    func run() throws {
        try rewriteEach(files, keyring, resign, verb: "sealed") { file, ring, signer throws(AvaultError) in
            try Drafts.seal(path: file, keyring: ring, keyName: key, fields: fields, signer: signer)
        }
    }
}

struct Unseal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unseal",
        abstract: "Restore what seal moved into a record's secured blob (a legacy v1 blob's plaintext becomes the body).",
        discussion: """
            A v2 blob's key is found by its key id unless --key names it; a v1 blob needs --key naming a legacy key, \
            and is decrypted only when a valid signature by a trusted key covers the record (or with \
            --allow-unauthenticated-legacy).

            \(exitCodeHelp)
            """)

    @Argument(help: ArgumentHelp("Records.", valueName: "file")) var files: [String]
    @Option(help: ArgumentHelp("The key's name (required for v1 blobs).", valueName: "name")) var key: String?
    @OptionGroup var resign: ResignOption
    @OptionGroup var keyring: KeyringOptions
    @OptionGroup var legacy: LegacyOptions

    func validate() throws { if files.isEmpty { throw ValidationError("give at least one record") } }

    func run() throws {
        let policy = try legacy.policy(keyringDirectory: keyring.directory)
        try rewriteEach(files, keyring, resign, verb: "unsealed") { file, ring, signer throws(AvaultError) in
            try Drafts.unseal(path: file, keyring: ring, keyName: key, legacy: policy, signer: signer)
        }
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Rewrite legacy v1 secured blobs as v2, with no plaintext touching the disk.",
        discussion: """
            A v1 blob is decrypted only when a valid signature by a trusted key covers the record (or with \
            --allow-unauthenticated-legacy): otherwise a tampered plaintext would come out authenticated.

            \(exitCodeHelp)
            """)

    @Argument(help: ArgumentHelp("Records.", valueName: "file")) var files: [String]
    @Option(name: .customLong("from-key"), help: ArgumentHelp("The legacy key that opens the v1 blobs.", valueName: "name")) var fromKey: String
    @Option(help: ArgumentHelp("The content key for the new v2 blobs.", valueName: "name")) var key: String
    @OptionGroup var resign: ResignOption
    @OptionGroup var keyring: KeyringOptions
    @OptionGroup var legacy: LegacyOptions

    func validate() throws { if files.isEmpty { throw ValidationError("give at least one record") } }

    func run() throws {
        let policy = try legacy.policy(keyringDirectory: keyring.directory)
        try rewriteEach(files, keyring, resign, verb: "migrated") { file, ring, signer throws(AvaultError) in
            try Drafts.migrate(path: file, keyring: ring, fromKey: fromKey, keyName: key, legacy: policy, signer: signer)
        }
    }
}
