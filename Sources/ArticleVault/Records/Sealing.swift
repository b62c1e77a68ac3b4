#if canImport(Glibc)
import Glibc
#endif
public import VaultCrypto
public import VaultFormat

/// Sealing in place: `seal` moves a record's body (and chosen fields) into a v2 `secured` blob
/// bound to the record's context; `unseal` restores them; `migrate` rewrites a v1 blob as v2.
/// Plaintext never touches the disk; files are replaced atomically.
///
/// Each of them rewrites the record in memory and checks it, and returns the ``Rewrite`` for the
/// caller to ``Rewrite/commit()``: a batch can make every record's rewrite before it writes any,
/// so that a record it cannot rewrite (malformed, already sealed, a key that does not open it,
/// a trust store it cannot read) stops it before the first record is written.
///
/// A rewrite changes what a record's signatures cover, so it drops them, and re-signs with a
/// ``Signer``. Before that, the signatures are judged over the record as it was read, by the
/// trust policy `avault verify` uses: a record whose signatures do not verify (changed since it
/// was signed, or signed by no trusted key) is never re-signed (as sops refuses a file whose MAC
/// does not match), and the ``Result`` says how they stood, so that dropping them is not taken
/// for the usual loss of signatures that a change breaks.
public enum Sealing {
    /// The marker in a sealed payload.
    public static let payloadFormat = "avault-sealed-v1"

    /// The top-level fields `seal` never moves into a blob: `secured` (the blob itself),
    /// `signatures` (they cover the record as it stands) and the two the context comes from
    /// (`webUrl`, `originalUrl`). `unseal` refuses a payload that names one: avault never wrote
    /// it, and anyone who knows the recipients can make a v3 blob (an insider with the content
    /// key a v2 one), so restoring it would hand a legacy blob, a context or signatures to
    /// whoever unseals (and signs) the record.
    public static let unsealableFields: Set<String> = ["secured", RecordSignatures.fieldName, "webUrl", "originalUrl"]

    /// A signing key to re-sign with after a rewrite.
    public struct Signer {
        public var key: Ed25519SigningKey
        public var keyID: Minisign.KeyID
        public var now: Int64
        public init(key: Ed25519SigningKey, keyID: Minisign.KeyID, now: Int64) { self.key = key; self.keyID = keyID; self.now = now }
    }

    /// What a record's signatures said of it before a rewrite: the outcome `avault verify`
    /// gives (`valid`, or why not).
    public struct Verdict: Sendable, Equatable {
        public var outcome: RecordOutcome
        public var reason: String?
    }

    /// What a rewrite did, for the caller to report.
    public struct Result {
        /// Signatures that no longer matched and were removed (their key ids).
        public var droppedSignatures: [String] = []
        /// When signatures were removed: what they said of the record before the change.
        /// `valid`: they verified, and only the change broke them; anything else: the record
        /// had been changed since it was signed, or no trusted key signed it. nil: they were not
        /// judged (there was no trust policy to judge them by).
        public var before: Verdict?
        /// Whether the record was re-signed.
        public var signed = false
        /// Why a legacy v1 blob could be decrypted, when one was.
        public var legacy: LegacyAuthorization.Basis?
        /// Whether the blob written is bound to the empty context: the record has neither a
        /// `webUrl` nor an `originalUrl` string, so the blob would open in any other record
        /// without one as well (formats.md §1.4).
        public var boundToNoURL = false
        /// Whether the blob written is bound to a URL that is only whitespace (`originalUrl: " "`),
        /// which binds it to no page either: it opens in any record with the same blank.
        public var boundToBlankURL = false
        /// `seal` only: the detached signature beside the record (`FILE.minisig`, as
        /// `avault sign --detached` writes it), when there is one. It signs the record as it was
        /// read, the plaintext, so anyone who reads it can confirm a guess of the sealed text
        /// (`avault verify --detached GUESS -x FILE.minisig`). It is left as it is: whoever
        /// made it decides.
        public var plaintextSignature: String?
    }

    /// A record rewritten in memory and checked, not yet written.
    public final class Rewrite {
        public let path: String
        /// What the rewrite did, for the caller to report.
        public internal(set) var result: Result
        /// The file as it was read (nil: standard input, which cannot be rewritten in place).
        public let identity: FileSystem.Identity?
        private var bytes: [UInt8]
        private let mode: mode_t
        /// Whether the file keeps its owner and group. Not for `unseal`, whose plaintext is the
        /// runner's to give: whoever owns a sealed record (anyone can copy one into a directory
        /// a root job unseals) is not thereby one who may read what it seals.
        private let keepsOwner: Bool

        init(path: String, result: Result, bytes: [UInt8], mode: mode_t, keepsOwner: Bool, identity: FileSystem.Identity?) {
            (self.path, self.result, self.bytes, self.mode, self.keepsOwner, self.identity) = (path, result, bytes, mode, keepsOwner, identity)
        }

        deinit { wipe(&bytes) }

        /// Writes the record (atomically), unless the file changed since it was read: someone
        /// else's edit is not overwritten with a rewrite of what was there before it.
        public func commit() throws(AvaultError) {
            guard let identity else { throw .io(path: FileSystem.inputName(path), reason: "a record read from standard input cannot be rewritten in place") }
            if FileSystem.identity(of: path) != identity { throw .recordChangedMeanwhile(path: path) }
            try FileSystem.writeAtomically(path, bytes, mode: mode, owner: keepsOwner ? identity.owner : nil)
            wipe(&bytes)
        }
    }

    /// What a draft is sealed with.
    public enum Sealer {
        /// The newest active version of a content key of the keyring: a v2 blob.
        case key(Keyring, name: String)
        /// X25519 recipients: a v3 blob (formats.md §1.6).
        case recipients(SealRecipients)
    }

    /// Seals the body and `fields` of the record at `path` with the newest version of `keyName`.
    /// `trust` judges the record's signatures before they are dropped (see ``Sealing``).
    public static func seal(path: String, keyring: Keyring, keyName: String, fields: [String], signer: Signer?,
                            trust: () throws(AvaultError) -> TrustPolicy? = { nil }) throws(AvaultError) -> Rewrite {
        try seal(path: path, with: .key(keyring, name: keyName), fields: fields, signer: signer, trust: trust)
    }

    /// Seals the body and `fields` of the record at `path` with `sealer`: a v2 blob under a
    /// content key, or a v3 blob to recipients. Either is bound to the record's context.
    /// `trust` judges the record's signatures before they are dropped (see ``Sealing``).
    public static func seal(path: String, with sealer: Sealer, fields: [String], signer: Signer?,
                            trust: () throws(AvaultError) -> TrustPolicy? = { nil }) throws(AvaultError) -> Rewrite {
        let file = try RecordFile(path: path)
        try onlyName(file, keeping: "the text sealed")
        let (text, document) = (file.text, file.document)
        let before = try judgeSignatures(of: file, trust: trust, signer: signer)
        guard document.fields["secured"] == nil else {
            throw .alreadySecured(path: path)
        }
        var editor = try edit(text, document, path)
        var sealed: [FieldValue] = []
        for name in fields {
            guard !unsealableFields.contains(name) else {
                throw .fieldCannotBeSealed(path: path, field: name)
            }
            guard let (block, after) = editor.remove(name) else {
                throw .noSuchField(path: path, field: name)
            }
            sealed.append(.object([("name", .string(name)), ("after", after.map(FieldValue.string) ?? .null), ("yaml", .string(block.text))]))
        }
        var payload = FieldValue.object([("format", .string(payloadFormat)), ("body", .string(editor.body)), ("fields", .array(sealed))]).canonicalJSON
        defer { wipe(&payload) }
        let blob: SecuredBlob
        let blobCheck: (SecuredBlob, RecordDocument) throws(AvaultError) -> Bool
        switch sealer {
        case let .key(keyring, keyName):
            blob = try keyring.encrypt(payload, keyName: keyName, context: document.securedContext, legacy: false)
            blobCheck = { (blob, sealed) throws(AvaultError) in
                var opened = try keyring.decrypt(blob, keyName: keyName, context: sealed.securedContext)
                defer { wipe(&opened) }
                return opened == payload
            }
        case let .recipients(who):
            blob = try SecuredField.encryptV3(payload, to: try who.recipients(for: path), context: document.securedContext)
            blobCheck = v3Check(blob)
        }
        editor.body = ""
        editor.append(editor.scalarBlock("secured", blob.text))
        // What the sealed record must show: the sealed fields gone, every other value as it was,
        // an empty body, and a blob that opens to exactly what was sealed.
        let expected = Expected(fields: otherFields(document, without: Set(fields)) + [("secured", .string(blob.text))], body: "",
                                blob: blobCheck)
        let rewrite = try finish(editor, original: file, before: before, mode: file.mode ?? 0o644, signer: signer, expected: expected)
        let signature = RecordSigner.detachedSignaturePath(of: path)
        var st = stat()
        if lstat(signature, &st) == 0 { rewrite.result.plaintextSignature = signature }
        return rewrite
    }

    /// Refuses a record with other names (hard links): a rewrite replaces the name it was given,
    /// and the others would still hold what the rewrite removes (`keeping`).
    private static func onlyName(_ file: RecordFile, keeping: String) throws(AvaultError) {
        if let links = file.identity?.links, links > 1 { throw .recordHasOtherNames(path: file.path, links: links, keeping: keeping) }
    }

    /// Restores what `seal` moved into the blob (or, for a legacy v1 blob, makes its plaintext
    /// the body). A v2 blob's key is found by its kid unless `keyName` is given; a v1 blob needs
    /// `keyName` naming a legacy key. The plaintext record is written for its owner only (the
    /// sealed file's mode without group and other bits). `trust` judges the record's signatures
    /// before they are dropped (see ``Sealing``).
    public static func unseal(path: String, keyring: Keyring, keyName: String?, legacy: LegacyPolicy,
                              signer: Signer?, trust: () throws(AvaultError) -> TrustPolicy? = { nil }) throws(AvaultError) -> Rewrite {
        let file = try RecordFile(path: path)
        let (text, document) = (file.text, file.document)
        let before = try judgeSignatures(of: file, trust: trust, signer: signer)
        let blob = try securedBlob(document, path)
        let authorization = try legacyAuthorization(blob, document, legacy, path)
        var plaintext = try open(blob, document, path, keyring: keyring, keyName: keyName, legacy: authorization)
        defer { wipe(&plaintext) }
        var editor = try edit(text, document, path)
        editor.remove("secured")
        var expected = Expected(fields: otherFields(document, without: ["secured"]), body: "")
        if let payload = try? JSONDocument.parse(plaintext), payload["format"] == .string(payloadFormat),
           case .string(let body)? = payload["body"], case .array(let fields)? = payload["fields"] {
            // Fields come back in the reverse order of their removal, so each finds the key it followed.
            for field in fields.reversed() {
                guard case .string(let fieldName)? = field["name"], case .string(let yaml)? = field["yaml"] else {
                    throw .malformedSealedPayload(path: path, field: nil)
                }
                // The name as the JSON parser unescaped it, which is the key the field's own lines
                // must hold as YAML reads it (below): compared as the record's parser compares keys.
                guard !unsealableFields.contains(fieldName) else {
                    throw .sealedPayloadRefused(path: path, field: fieldName, reason: .unsealable)
                }
                guard !editor.blocks.contains(where: { $0.key == fieldName }) else {
                    throw .sealedFieldAddedMeanwhile(path: path, field: fieldName)
                }
                editor.insert(FrontMatterEditor.Block(key: fieldName, text: yaml), after: field["after"]?.stringValue)
                // Its value, read from its own lines alone, is what the unsealed record must show.
                guard let lines = try? FrontMatter.parse(Substring(yaml), firstLine: 1), let restored = lines.fields[fieldName] else {
                    throw .malformedSealedPayload(path: path, field: fieldName)
                }
                // Its lines hold that key alone, as seal took them: no other field (a `signatures`
                // among them would escape the read-back check, which leaves signatures aside).
                if let other = lines.topLevelKeys.first(where: { $0.key != fieldName }) {
                    throw .sealedPayloadRefused(path: path, field: fieldName, reason: .otherKey(other.key))
                }
                expected.fields.append((fieldName, restored))
            }
            editor.body = body
            expected.body = body
        } else {
            // Not a sealed draft (a legacy blob, or one made by 'secured encrypt'): its plaintext becomes the body.
            guard let body = String(validating: plaintext, as: UTF8.self) else {
                throw .notASealedDraft(path: path, binary: true)
            }
            guard editor.body.allSatisfy(\.isWhitespace) else {
                throw .notASealedDraft(path: path, binary: false)
            }
            editor.body = body
            expected.body = body
        }
        let rewrite = try finish(editor, original: file, before: before, mode: (file.mode ?? 0o600) & 0o700, keepsOwner: false, signer: signer,
                                 expected: expected)
        rewrite.result.legacy = authorization?.basis
        return rewrite
    }

    /// Rewrites a v1 blob as v2 under the newest version of `keyName`, in memory. `trust` judges
    /// the record's signatures before they are dropped (see ``Sealing``).
    public static func migrate(path: String, keyring: Keyring, fromKey: String, keyName: String, legacy: LegacyPolicy,
                               signer: Signer?, trust: () throws(AvaultError) -> TrustPolicy? = { nil }) throws(AvaultError) -> Rewrite {
        let file = try RecordFile(path: path)
        try onlyName(file, keeping: "the legacy v1 blob")
        let (text, document) = (file.text, file.document)
        let before = try judgeSignatures(of: file, trust: trust, signer: signer)
        let blob = try securedBlob(document, path)
        guard case .v1 = blob else { throw .alreadyAuthenticated(path: path, format: blob.formatName) }
        let authorization = try legacyAuthorization(blob, document, legacy, path)
        var plaintext = try keyring.decrypt(blob, keyName: fromKey, context: document.securedContext, legacy: authorization)
        defer { wipe(&plaintext) }
        let v2 = try keyring.encrypt(plaintext, keyName: keyName, context: document.securedContext, legacy: false)
        var editor = try edit(text, document, path)
        let after = editor.remove("secured")?.after
        editor.insert(editor.scalarBlock("secured", v2.text), after: after)
        let expected = Expected(fields: otherFields(document, without: ["secured"]) + [("secured", .string(v2.text))], body: String(document.body)) {
            (blob, migrated) throws(AvaultError) in
            var opened = try keyring.decrypt(blob, keyName: keyName, context: migrated.securedContext)
            defer { wipe(&opened) }
            return opened == plaintext
        }
        let rewrite = try finish(editor, original: file, before: before, mode: file.mode ?? 0o644, signer: signer, expected: expected)
        rewrite.result.legacy = authorization?.basis
        return rewrite
    }

    /// Re-encrypts the sealed blob of the record at `path` to `recipients` (a v3 blob under a
    /// fresh file key, bound to the record's context), in memory: a v3 blob is opened with the
    /// keyring's identities (or the identity `keyName`), a v2 blob with the content key its kid
    /// names (or `keyName`). A legacy v1 blob is refused: migrate it first. `trust` judges the
    /// record's signatures before they are dropped (see ``Sealing``).
    public static func reseal(path: String, keyring: Keyring, keyName: String?, to recipients: SealRecipients,
                              signer: Signer?, trust: () throws(AvaultError) -> TrustPolicy? = { nil }) throws(AvaultError) -> Rewrite {
        let file = try RecordFile(path: path)
        try onlyName(file, keeping: "the blob as it was sealed before")
        let (text, document) = (file.text, file.document)
        let before = try judgeSignatures(of: file, trust: trust, signer: signer)
        let blob = try securedBlob(document, path)
        if case .v1 = blob { throw .cannotReseal(path: path, format: blob.formatName) }
        let keys = try recipients.recipients(for: path)
        var plaintext = try open(blob, document, path, keyring: keyring, keyName: keyName, legacy: nil)
        defer { wipe(&plaintext) }
        let v3 = try SecuredField.encryptV3(plaintext, to: keys, context: document.securedContext)
        var editor = try edit(text, document, path)
        let after = editor.remove("secured")?.after
        editor.insert(editor.scalarBlock("secured", v3.text), after: after)
        let expected = Expected(fields: otherFields(document, without: ["secured"]) + [("secured", .string(v3.text))],
                                body: String(document.body), blob: v3Check(v3))
        return try finish(editor, original: file, before: before, mode: file.mode ?? 0o644, signer: signer, expected: expected)
    }

    /// Judges the signatures the record `file` carries, as it was read, before a rewrite drops
    /// them: by `trust`, the policy of `avault verify`. With `signer`, a record whose signatures
    /// do not verify (or that is signed while there is no `trust` to judge it by) is refused
    /// here, before anything is decrypted or written: re-signing it would vouch for content that
    /// no trusted key signed. Returns the verdict, for ``Result/before``; nil when the record
    /// carries no signature, or there is no `trust`.
    private static func judgeSignatures(of file: RecordFile, trust: () throws(AvaultError) -> TrustPolicy?, signer: Signer?) throws(AvaultError) -> Verdict? {
        let document = file.document
        guard document.fields[RecordSignatures.fieldName] != nil,
              (try? RecordSignatures.entries(in: document.fields))?.isEmpty != true else { return nil }
        // The key about to sign counts as trusted: its own earlier signature, verifying, vouches
        // for nothing it would not vouch for again (one editor signing, then sealing with --sign).
        let policy: TrustPolicy
        if let signer {
            let own = Minisign.PublicKey(keyID: signer.keyID, key: signer.key.publicKey.bytes)
            if let trust = try trust() {
                policy = trust.trusting(own)
            } else {
                // No trust store: only the signer's own signatures can be judged.
                if let entries = try? RecordSignatures.entries(in: document.fields), entries.contains(where: { $0.keyID != own.keyID }) {
                    throw .signaturesNotChecked(path: file.path)
                }
                policy = TrustPolicy(source: .publicKeys([own]), now: signer.now)
            }
        } else {
            guard let trust = try trust() else { return nil }
            policy = trust
        }
        guard let judged = policy.verdict(on: document) else { return nil }
        let verdict = Verdict(outcome: judged.outcome, reason: judged.reason)
        if signer != nil, verdict.outcome != .valid {
            throw .signaturesDidNotVerify(path: file.path, outcome: verdict.outcome, reason: verdict.reason)
        }
        return verdict
    }

    /// The check of a v3 blob read back from a rewritten record: exactly the blob made (which
    /// ``SecuredField/encryptV3(_:to:context:)`` opened with its file key before handing it
    /// over; the sealer need not be a recipient), bound to the rewritten record's context.
    private static func v3Check(_ made: SecuredBlob) -> (SecuredBlob, RecordDocument) throws(AvaultError) -> Bool {
        { (blob, rewritten) throws(AvaultError) in
            blob == made && blob.v3ContextDigest == SecuredField.v3ContextDigest(rewritten.securedContext)
        }
    }

    /// The plaintext of `blob` in `document`: a v3 blob with the identity `keyName`, or every
    /// identity of the keyring; a v2 blob with `keyName`, or the content key its kid names; a v1
    /// blob with the legacy key `keyName` (and `legacy`).
    private static func open(_ blob: SecuredBlob, _ document: RecordDocument, _ path: String, keyring: Keyring, keyName: String?,
                             legacy: LegacyAuthorization?) throws(AvaultError) -> [UInt8] {
        // A v3 blob moved from another record is refused before the keyring is unlocked.
        try SecuredField.checkV3Context(blob, context: document.securedContext, file: path)
        if let keyName {
            return try keyring.decrypt(blob, keyName: keyName, context: document.securedContext, legacy: legacy, record: path)
        }
        switch blob {
        case .v1:
            throw .legacyBlobNeedsKey(path: path)
        case .v2(let kid, _, _):
            guard let entry = keyring.file.entries.first(where: { $0.id == .content(kid) }) else {
                throw .blobKeyNotInKeyring(path: path, id: kid)
            }
            return try keyring.decrypt(blob, keyName: entry.name, context: document.securedContext, legacy: legacy, record: path)
        case .v3:
            return try SecuredField.decryptV3(blob, identities: try keyring.allAgeIdentities(), context: document.securedContext, file: path)
        }
    }

    /// For a v1 blob: the authorisation to decrypt it, or the refusal (before any decryption).
    private static func legacyAuthorization(_ blob: SecuredBlob, _ document: RecordDocument, _ policy: LegacyPolicy,
                                            _ path: String) throws(AvaultError) -> LegacyAuthorization? {
        guard case .v1 = blob else { return nil }
        guard let authorization = policy.authorization(for: document) else { throw .unauthenticatedLegacy(path: path) }
        return authorization
    }

    private static func edit(_ text: String, _ document: RecordDocument, _ path: String) throws(AvaultError) -> FrontMatterEditor {
        do { return try FrontMatterEditor(text: text, document: document) } catch { throw .malformed(error, file: path) }
    }

    private static func securedBlob(_ document: RecordDocument, _ path: String) throws(AvaultError) -> SecuredBlob {
        guard let value = document.fields["secured"] else { throw .noSecuredField(path: path) }
        guard case .string(let text) = value else {
            throw .malformed(.invalidRecord("the 'secured' field is not a string", line: nil), file: path)
        }
        do { return try SecuredBlob(parsing: text) } catch { throw .malformed(error, file: path) }
    }

    /// What a rewritten record must show before it may replace the original.
    struct Expected {
        /// Every top-level field but `signatures`, with its value.
        var fields: [(key: String, value: FieldValue)]
        var body: String
        /// Checks the new `secured` blob (in the new record); nil when there must be none.
        var blob: ((SecuredBlob, RecordDocument) throws(AvaultError) -> Bool)? = nil
    }

    /// The top-level fields of `document` but `signatures` and `names`.
    private static func otherFields(_ document: RecordDocument, without names: Set<String>) -> [(key: String, value: FieldValue)] {
        guard case .object(let pairs) = document.fields else { return [] }
        return pairs.filter { $0.key != RecordSignatures.fieldName && !names.contains($0.key) }
    }

    /// Drops signatures that no longer match (`before` saying how they stood before the
    /// change), re-signs if asked, reads the result back and checks it against `expected`, and
    /// only then replaces the file read as `original`, giving the new file `mode` (and, with
    /// `keepsOwner`, its owner and group).
    private static func finish(_ editor: FrontMatterEditor, original file: RecordFile, before: Verdict?, mode: mode_t, keepsOwner: Bool = true,
                               signer: Signer?, expected: Expected) throws(AvaultError) -> Rewrite {
        let (original, path) = (file.document, file.path)
        var result = Result()
        var text = editor.text
        var document: RecordDocument
        do { document = try RecordDocument(parsing: text) } catch {
            throw .rewriteCheckFailed(path: path, reason: "it does not parse: \(error)")
        }
        let old = (try? RecordSignatures.entries(in: original.fields)) ?? []
        if !old.isEmpty {
            if RecordSignatures.canonicalBytes(of: document) != RecordSignatures.canonicalBytes(of: original) {
                // Signatures cover the canonical form, which changed: none can match any more.
                result.droppedSignatures = old.map(\.keyID.printed)
                result.before = before
                do {
                    text = try RecordSignatures.replacing(in: text, document: document, with: [])
                    document = try RecordDocument(parsing: text)
                } catch { throw .malformed(error, file: path) }
            }
        }
        let context = document.securedContext
        result.boundToNoURL = document.fields["secured"] != nil && context.isEmpty
        result.boundToBlankURL = document.fields["secured"] != nil && !context.isEmpty && context.unicodeScalars.allSatisfy(\.properties.isWhitespace)
        if let signer {
            // The place the signer's own signature before bound the record to, kept when that
            // signature verifies (its trusted comment authenticated).
            let own = Minisign.PublicKey(keyID: signer.keyID, key: signer.key.publicKey.bytes)
            let place = old.last { $0.keyID == signer.keyID }.flatMap { signature in
                MinisignSigning.check(signature, digest: MinisignSigning.prehash(canonicalBytesOf: original), publicKey: own) == .valid
                    ? RecordSigner.placeField(of: signature) : nil
            }
            (text, _) = try RecordSigner.signed(text: text, document: document, path: path, key: signer.key, keyID: signer.keyID,
                                                trustedComment: RecordSigner.defaultRecordComment(path: path, now: signer.now)
                                                    + (place.map { "\t" + $0 } ?? ""))
            result.signed = true
        }
        try check(text, against: expected, path: path)
        return Rewrite(path: path, result: result, bytes: Array(text.utf8), mode: mode, keepsOwner: keepsOwner, identity: file.identity)
    }

    /// Reads `text` again and compares it with what was meant: the same set of fields with the
    /// same values (compared by their canonical JSON bytes), the same body byte for byte, and
    /// the `secured` blob passing its check.
    private static func check(_ text: String, against expected: Expected, path: String) throws(AvaultError) {
        let document: RecordDocument
        do { document = try RecordDocument(parsing: text) } catch {
            throw .rewriteCheckFailed(path: path, reason: "it does not parse: \(error)")
        }
        let got = otherFields(document, without: [])
        let gotNames = Set(got.map(\.key)), wantNames = Set(expected.fields.map(\.key))
        if let extra = gotNames.subtracting(wantNames).sorted().first {
            throw .rewriteCheckFailed(path: path, reason: "it has a field '\(extra)' that should not be there")
        }
        if let missing = wantNames.subtracting(gotNames).sorted().first {
            throw .rewriteCheckFailed(path: path, reason: "it lacks the field '\(missing)'")
        }
        for (name, value) in expected.fields where document.fields[name].map({ $0.canonicalJSON }) != value.canonicalJSON {
            throw .rewriteCheckFailed(path: path, reason: "the field '\(name)' changed")
        }
        guard Array(document.body.utf8) == Array(expected.body.utf8) else {
            throw .rewriteCheckFailed(path: path, reason: "the body is not what was meant")
        }
        guard let blobCheck = expected.blob else { return }
        guard case .string(let blobText)? = document.fields["secured"], let blob = try? SecuredBlob(parsing: blobText),
              try blobCheck(blob, document) else {
            throw .rewriteCheckFailed(path: path, reason: "its secured blob does not open to what was sealed")
        }
    }
}
