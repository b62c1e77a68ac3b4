import ArgumentParser
import ArticleVault

/// `--sign NAME`: re-sign after a rewrite.
struct ResignOption: ParsableArguments {
    @Option(name: .customLong("sign"), help: ArgumentHelp("Re-sign each rewritten record with this signing key.", valueName: "name"), completion: KeyCompletion.names(.signing))
    var signKey: String?

    func signer(_ ring: Keyring) throws(AvaultError) -> Sealing.Signer? {
        guard let signKey else { return nil }
        let signing = try ring.signingKey(named: signKey)
        return Sealing.Signer(key: signing.key, keyID: signing.keyID, now: now())
    }
}

/// `--allow-unauthenticated-legacy` and where trusted keys come from (`--pubkey`,
/// `--trust-store`), for commands that may decrypt a legacy v1 blob.
struct LegacyOptions: ParsableArguments {
    @Flag(name: .customLong("allow-unauthenticated-legacy"),
          help: "Decrypt legacy v1 blobs that no trusted signature authenticates (their decryption is a padding oracle).")
    var allowUnauthenticatedLegacy = false
    @OptionGroup var trust: TrustOptions

    /// The library's policy (whose trust policy also judges a record's signatures before a
    /// rewrite drops them); says once on standard error what the opt-in means.
    func policy(keyringDirectory: String) throws(AvaultError) -> LegacyPolicy {
        let policy = LegacyPolicy(trust: try trust.policy(keyringDirectory: keyringDirectory, required: false),
                                  allowUnauthenticated: allowUnauthenticatedLegacy)
        if allowUnauthenticatedLegacy { Terminal.warning(LegacyAuthorization.oracleWarning) }
        return policy
    }
}

/// The checks of a command that rewrites records in place: at least one, each named once, and
/// standard input named for one file at most.
func validateRewrite(_ files: [String], _ keyring: KeyringOptions, trust: TrustOptions, recipientsFiles: [String] = []) throws {
    if files.isEmpty { throw ValidationError("give at least one record") }
    if files.contains("-") {
        throw ValidationError("- (standard input) cannot be rewritten in place: save the record to a file and name that")
    }
    try refuseSameFileTwice(writes: files)
    try refuseStandardInputTwice(["passphrase": keyring.passphraseFile], each: ["trusted key": trust.files, "recipients file": recipientsFiles])
}

/// Opens the keyring once, then rewrites the files with `body` (see ``rewriteAll(_:verb:_:)``).
func rewriteEach(_ files: [String], _ keyring: KeyringOptions, _ resign: ResignOption, verb: String,
                 _ body: (String, Keyring, Sealing.Signer?) throws(AvaultError) -> Sealing.Rewrite) throws {
    try FileSystem.checkBatch(rewrites: files)
    let ring = try keyring.open()
    let signer = try resign.signer(ring)
    try rewriteAll(files, verb: verb) { file throws(AvaultError) in try body(file, ring, signer) }
}

/// Rewrites the records with `rewrite`, which makes each rewrite in memory and checks it, and
/// writes them (see ``inTwoPasses(_:verb:check:write:)``).
func rewriteAll(_ files: [String], verb: String, _ rewrite: (String) throws(AvaultError) -> Sealing.Rewrite) throws {
    try inTwoPasses(files, verb: verb, check: { file throws(AvaultError) in try rewrite(file).identity }) { file, identity in
        let rewritten = try rewrite(file)
        if let identity, rewritten.identity != identity { throw AvaultError.recordChangedMeanwhile(path: file) }
        try rewritten.commit()
        try report(file, verb, rewritten.result)
    }
}

/// A batch that rewrites records in place: `check` makes each record's rewrite in memory and
/// checks it, and returns the file's identity as it was read, before any is written: a record
/// that cannot be rewritten (malformed, already sealed, a key that does not open it, a trust
/// store that cannot be read) stops the batch before the first write, and so does one changed
/// since. Then `write` rewrites each again, only as it was first read, and writes it at once,
/// so that memory holds one rewritten record at a time; standard output cannot stop it (see
/// ``Terminal/writingBatch(_:)``). A write error, such as a full disk, can still stop it partway.
func inTwoPasses(_ files: [String], verb: String, check: (String) throws(AvaultError) -> FileSystem.Identity?,
                 write: (String, FileSystem.Identity?) throws -> Void) throws {
    guard files.count > 1 else { return try Terminal.writingBatch { try write(files[0], nil) } }
    var read: [FileSystem.Identity?] = []
    for file in files {
        do { read.append(try check(file)) } catch {
            // Said first, even with -q: the error may not name the record (a blob that does not open).
            Terminal.writeStderr("avault: \(Terminal.quoted(file)) could not be \(verb), so no record was written:\n")
            throw error
        }
    }
    if let (file, _) = zip(files, read).first(where: { FileSystem.identity(of: $0.0) != $0.1 }) {
        throw AvaultError.recordChangedMeanwhile(path: file)
    }
    try Terminal.writingBatch {
        for (file, identity) in zip(files, read) { try write(file, identity) }
    }
}

/// Says what became of a rewritten record: dropped signatures (told apart by how they stood
/// before the change: broken by it, or not verifying already), then the per-file line.
func report(_ path: String, _ verb: String, _ result: Sealing.Result) throws(AvaultError) {
    if !result.droppedSignatures.isEmpty {
        let keys = "keys \(result.droppedSignatures.joined(separator: ", "))"
        switch result.before {
        case let before? where before.outcome == .valid:
            Terminal.warning("\(path): dropped signatures that no longer match (\(keys))" + (result.signed ? "" : "; re-sign with --sign NAME"))
        case let before?:
            Terminal.warning("\(path): dropped signatures that did not verify before the change (\(keys): \(before.outcome.rawValue)"
                             + (before.reason.map { ": \($0)" } ?? "") + "): it may have been changed since it was signed; "
                             + "check it before signing it again")
        case nil:
            Terminal.warning("\(path): dropped signatures that were not checked before the change (\(keys); no trusted key to check "
                             + "them by): check it before signing it again")
        }
    }
    if result.boundToNoURL {
        // Said even with -q, as the warnings above: the blob is bound to less than the record.
        Terminal.warning("\(path): the record has no webUrl or originalUrl, so its blob would open in any other record without "
                         + "one too; to bind it, unseal it, give it its webUrl and seal it again")
    }
    if result.boundToBlankURL {
        Terminal.warning("\(path): the record's webUrl (or originalUrl) is blank, so its blob would open in any other record whose URL "
                         + "is the same blank; to bind it, unseal it, give it its webUrl and seal it again")
    }
    if let signature = result.plaintextSignature {
        // Said even with -q: the sealed text can be confirmed from what is left beside it.
        Terminal.warning("\(signature) is a detached signature of the record before it was sealed: it signs the plaintext, so anyone "
                         + "can confirm a guess of the sealed text with 'avault verify --detached'",
                         hint: "remove it: rm -- \(Terminal.shellWord(signature))")
    }
    if !Terminal.quiet { try Terminal.writeStdout("\(verb) \(Terminal.quoted(path))\(result.signed ? " and signed it" : "")\n") }
}

/// `--recipient age1…` and `--recipients-file F` (both repeatable): who a draft is sealed to;
/// neither: the nearest `.avault-recipients` file above each record.
struct SealRecipientOptions: ParsableArguments {
    @Option(name: .customLong("recipient"), help: ArgumentHelp("Seal to this age recipient (age1…; repeatable).", valueName: "recipient"))
    var recipients: [String] = []
    @Option(name: .customLong("recipients-file"), help: ArgumentHelp("Seal to the recipients in this file (one age1… per line, # comments; repeatable; - is standard input).", valueName: "file"), completion: .file())
    var recipientsFiles: [String] = []

    /// Whether any recipient was given on the command line.
    var given: Bool { !recipients.isEmpty || !recipientsFiles.isEmpty }

    func resolve() throws(AvaultError) -> SealRecipients { try SealRecipients.from(recipients, files: recipientsFiles) }
}
