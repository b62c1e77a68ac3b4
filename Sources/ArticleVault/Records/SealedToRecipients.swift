#if canImport(Glibc)
import Glibc
#endif
public import VaultCrypto
public import VaultFormat

/// v3 `secured` blobs: an age file to X25519 recipients, bound to the record's context by an
/// `avault-context` stanza that age's identities skip and its header code covers (formats.md §1.6).
extension SecuredField {
    /// The digest the context stanza carries: BLAKE2b-256 of `avault/secured/v3;` ‖ context.
    public static func v3ContextDigest(_ context: String) -> [UInt8] {
        Array(BLAKE2b.hash(Array((SecuredBlob.v3ContextDigestPrefix + context).utf8), digestSize: SecuredBlob.v3ContextDigestSize))
    }

    /// Encrypts `plaintext` as a v3 blob to the X25519 public keys `recipients`, bound to
    /// `context`. What was made is opened again with its file key and compared before it is
    /// returned.
    public static func encryptV3(_ plaintext: [UInt8], to recipients: [[UInt8]], context: String) throws(AvaultError) -> SecuredBlob {
        guard !recipients.isEmpty else { throw .invalidAgeRecipients(reason: "a sealed draft needs at least one recipient") }
        var age: [UInt8] = []
        let fileKey = try AgeFile.encrypt(AgeBytesInput(plaintext), to: recipients.map { .x25519($0) },
                                          extraStanzas: [SecuredBlob.v3ContextStanza(digest: v3ContextDigest(context))],
                                          armor: false) { piece throws(AvaultError) in age.append(contentsOf: piece) }
        let blob: SecuredBlob
        do { blob = try SecuredBlob(parsing: "v3;" + Base64.encode(age)) } catch {
            throw .internalFailure("the v3 blob just made does not parse: \(error)")
        }
        var opened: [UInt8] = []
        defer { wipe(&opened) }
        try AgeFile.decrypt(AgeBytesInput(age), armored: false, fileKey: { _ throws(AvaultError) in fileKey }) { piece throws(AvaultError) in
            opened.append(contentsOf: piece)
        }
        guard ConstantTime.equals(opened, plaintext) else { throw .internalFailure("the v3 blob just made does not open to its plaintext") }
        return blob
    }

    /// Refuses a v3 blob whose context stanza is not `context`'s
    /// (``AvaultError/sealedForAnotherRecord(path:)``): a check of public values, made before any
    /// identity is unsealed. Other forms pass.
    public static func checkV3Context(_ blob: SecuredBlob, context: String, file: String?) throws(AvaultError) {
        guard case .v3 = blob else { return }
        guard let digest = blob.v3ContextDigest, digest == v3ContextDigest(context) else { throw .sealedForAnotherRecord(path: file) }
    }

    /// Decrypts a v3 blob with the first of `identities` that is one of its recipients, after
    /// checking that its context stanza is `context`'s (else ``AvaultError/sealedForAnotherRecord(path:)``);
    /// the header's code, which covers that stanza, is checked before any plaintext is released.
    /// `file` names the record in errors.
    public static func decryptV3(_ blob: SecuredBlob, identities: [SecretBytes], context: String, file: String?) throws(AvaultError) -> [UInt8] {
        try checkV3Context(blob, context: context, file: file)
        guard case .v3(let age, let header) = blob else { throw .internalFailure("decryptV3 was given a \(blob.formatName) blob") }
        var out: [UInt8] = []
        do throws(AvaultError) {
            try AgeFile.decrypt(AgeBytesInput(age), armored: false, identities: identities, passphrase: nil) { piece throws(AvaultError) in
                out.append(contentsOf: piece)
            }
        } catch {
            wipe(&out)
            if case .age(.noIdentityMatched, _) = error {
                throw .noIdentityForBlob(path: file, identities: identities.count,
                                         recipients: header.stanzas.filter { $0.type == "X25519" }.count)
            }
            if case .age(let problem, nil) = error { throw .age(problem, file: file) }
            throw error
        }
        return out
    }
}

/// Who a draft is sealed to: recipients given on the command line and in recipients files, or,
/// with none, the nearest `.avault-recipients` file above the record (formats.md §1.7).
public enum SealRecipients {
    /// The rules file's name (`.avault-recipients`).
    public static let fileName = RecipientRules.fileName
    /// The largest rules file read.
    public static let maximumFileSize = 1 << 20
    /// What someone who can write a recipients file can do.
    static let riskOfWriters = "anyone who can write it decides who can read the drafts sealed under it"

    /// Explicit recipients (`age1…` strings and recipients files), or nil for the rules file.
    case given([[UInt8]])
    /// The nearest `.avault-recipients` file above each record.
    case nearestFile

    /// `texts` and `files` as recipients; neither: ``nearestFile``.
    public static func from(_ texts: [String], files: [String]) throws(AvaultError) -> SealRecipients {
        if texts.isEmpty, files.isEmpty { return .nearestFile }
        var keys: [[UInt8]] = []
        for recipient in try AgeIO.recipients(texts, files: files, writersRisk: riskOfWriters) {
            guard case .x25519(let key) = recipient else { throw .internalFailure("a recipients file gave a passphrase") }
            if !keys.contains(key) { keys.append(key) }
        }
        return .given(keys)
    }

    /// The recipients for the record at `path`.
    public func recipients(for path: String) throws(AvaultError) -> [[UInt8]] {
        switch self {
        case .given(let keys): return keys
        case .nearestFile: return try Self.resolve(record: path).recipients
        }
    }

    /// The nearest `.avault-recipients` above the record at `path` (its own directory first,
    /// symbolic links in the directories resolved), and the recipients of its first section
    /// matching the record's path relative to the file's directory. The file must be a regular
    /// file (not a link) that neither group nor others can write, in a directory they cannot
    /// write either (unless sticky): anyone who can write it decides who can read the drafts.
    ///
    /// A directory on the way that cannot be opened or searched stops the search with
    /// ``AvaultError/recipientsSearchBlocked(path:directory:reason:)``: it may hold the nearest
    /// file, so going on above it could seal to the wrong recipients.
    public static func resolve(record path: String) throws(AvaultError) -> (file: String, relative: String, recipients: [[UInt8]]) {
        let parent = FileSystem.directory(of: path)
        guard let resolved = realpath(parent, nil) else {
            let reason = FileSystem.errnoText()
            if errno == EACCES { throw .recipientsSearchBlocked(path: path, directory: parent, reason: reason) }
            throw .io(path: parent, reason: reason)
        }
        var directory = String(cString: resolved)
        free(resolved)
        var relative = FileSystem.baseName(of: path)
        while true {
            let dir: SecureDirectory
            let present: Bool
            do throws(AvaultError) {
                dir = try SecureDirectory(path: directory, requirePrivate: false)
                present = try dir.kind(of: fileName) != nil
            } catch {
                guard case .io(_, let reason) = error else { throw error }
                throw .recipientsSearchBlocked(path: path, directory: directory, reason: reason)
            }
            if present {
                let file = dir.pathOf(fileName)
                let rules = try load(dir)
                guard let section = rules.section(for: relative) else {
                    throw .noRecipientsRule(path: path, file: file, relative: relative)
                }
                return (file, relative, section.recipients)
            }
            guard directory != "/" else { throw .noRecipientsFile(path: path) }
            let name = FileSystem.baseName(of: directory)
            relative = name + "/" + relative
            directory = FileSystem.directory(of: directory)
        }
    }

    /// Reads and parses `.avault-recipients` in `dir`, refusing one that others can write.
    static func load(_ dir: SecureDirectory) throws(AvaultError) -> RecipientRules {
        let path = dir.pathOf(fileName)
        let bytes = try dir.readOwnFile(fileName, limit: maximumFileSize, limitWhat: "a recipients file", what: "the recipients file",
                                        fileRisk: riskOfWriters, directoryRisk: "anyone who can write it can replace the file")
        do { return try RecipientRules(parsing: bytes) } catch { throw .malformed(error, file: path) }
    }
}
