public import VaultCrypto
public import VaultFormat

/// Errors from the ``ArticleVault`` layer. Each case describes the problem in one line
/// (``message``); what to do about it — the flags and commands of a particular front end — is
/// the front end's to say. No case carries secret material.
public enum AvaultError: Error, Sendable {
    // MARK: Answers: the data is not what it should be

    /// Decryption failed after the structure checks. Deliberately uniform: wrong key, wrong
    /// context, bad tag and bad padding all look alike (no padding oracle). `keyIDs` is only
    /// ever public information: the kid the blob names and the kid that was tried.
    case decryptionFailed(keyIDs: (blob: KeyID, tried: KeyID)?)
    /// A v1 blob decrypts under more than one version of the legacy key `key` (its padding holds).
    case ambiguousLegacyKey(key: String, versions: [Int])
    /// Input text is malformed (a blob, a key file, a record).
    case malformed(FormatError, file: String?)
    /// Stored data does not authenticate: a file of `area` was altered or damaged.
    case tampered(String, area: TamperedArea)
    /// The vault at `location` (id `found`) is not the one this keyring last used there
    /// (`known`): it was replaced, or re-created without this keyring (formats.md 8.7).
    case vaultReplaced(location: String, known: String, found: String)
    /// A rewritten record (seal, unseal, migrate, sign), read back before replacing the file,
    /// did not show what was meant; nothing was written.
    case rewriteCheckFailed(path: String, reason: String)

    // MARK: Files

    /// A file could not be read, written or found.
    case io(path: String, reason: String)
    /// A secret file can be read by group or others.
    case insecurePermissions(path: String, mode: UInt32)
    /// A private directory (keyring, vault) can be accessed by group or others.
    case insecureDirectory(path: String, mode: UInt32)
    /// A file or directory that others may write, which decides whom to trust: `what` it is,
    /// and what a writer could do.
    case writableByOthers(path: String, mode: UInt32, what: String, risk: String)
    /// A file (or its directory) that decides something for the user is owned by another user
    /// (`owner`, a uid), who can rewrite or replace it whatever its mode.
    case ownedByOther(path: String, owner: UInt32, what: String, risk: String)
    /// A symbolic link where avault opens only the file itself.
    case symbolicLink(path: String)
    /// Something other than a regular file (a FIFO, a device, a directory) inside a directory
    /// only avault writes.
    case notRegularFile(path: String, kind: String)
    /// The output file exists and would be overwritten.
    case fileExists(path: String)

    // MARK: Keys

    /// No key of that name.
    case noSuchKey(name: String, keyring: String, existing: [String])
    /// Every version of the key is retired.
    case noActiveVersion(key: String)
    /// The key has no such version.
    case noSuchKeyVersion(key: String, version: Int, versions: [Int])
    /// The key version is retired.
    case keyRetired(key: String, version: Int, id: String)
    /// The key is of a kind that cannot do `use`.
    case wrongKeyKind(key: String, kind: KeyKind, use: KeyUse)
    /// A key of that name exists already.
    case keyExists(name: String)
    /// The same key material is in the keyring already.
    case keyAlreadyPresent(name: String, version: Int, id: String)
    /// The key has no version with the kid a blob or a vault names; `holder` is the key that
    /// has it, `contentKeys` the content keys the keyring has.
    case noKeyVersionWithID(key: String?, id: String, holder: (name: String, version: Int)?, contentKeys: [String])
    /// The vault's content key version is not in this keyring.
    case vaultKeyNotInKeyring(key: String, id: String, keyring: String)
    /// A keyring with a passphrase holding unsealed secrets (`keys`), which version 1 allowed.
    case unsealedSecrets(path: String, keys: [String], directory: String)
    /// A vault still needs the key version.
    case keyStillNeeded(key: String, version: Int, vault: String, files: [String])
    /// A vault to recipients still has the identity version's recipient among its own: its
    /// data key is wrapped to it.
    case identityStillNeeded(key: String, version: Int, vault: String, recipient: String)
    /// The trust store trusts the public key of the signing key version (as `name`; under the
    /// key id `trustedAs` when that is not the key's own).
    case keyStillTrusted(key: String, version: Int, keyID: String, name: String, store: String, trustedAs: String?)
    /// The key version is the only active one.
    case onlyActiveVersion(key: String, version: Int)
    /// The key has reached ``KeyringFile/maximumVersion``.
    case lastKeyVersion(key: String)
    /// Not a valid key name.
    case invalidKeyName(String)
    /// A protected key for a keyring without passphrase, or the other way round.
    case keyringProtectionMismatch(keyring: String, keyringIsProtected: Bool)
    /// A version 1 keyring, which nothing authenticates as a whole.
    case keyringVersion1(path: String, directory: String)
    /// The passphrase does not open the keyring (or the minisign key); `origin` says where it
    /// was read from.
    case wrongPassphrase(what: String, origin: String)
    /// The keyring's key-derivation limits are outside what avault accepts.
    case kdfLimits(opsLimit: UInt64, memLimit: UInt64)
    /// The key is the wrong size for the operation.
    case unsuitableKey(String)
    /// The key version is retired already.
    case keyAlreadyRetired(key: String, version: Int)
    /// The key version is not retired, so it cannot be reinstated.
    case keyNotRetired(key: String, version: Int)
    /// The keyring has no passphrase, which `need` requires.
    case keyringHasNoPassphrase(path: String, need: PassphraseNeed)
    /// Legacy AES keys are imported, never generated.
    case legacyKeyNotGenerated
    /// The vault names the key, so renaming it would leave the vault without its key.
    case keyNamedByVault(key: String, vault: String)
    /// A key export (file or its sealed contents) is not one key's versions as avault writes them.
    case invalidKeyExport(path: String?, reason: String)
    /// A minisign secret key that avault cannot use: `reason`.
    case unusableMinisignKey(path: String, reason: String)
    /// No keyring at the location (nothing to upgrade or open).
    case noKeyring(location: String)
    /// Neither `HOME` nor the password database gives the user's home directory.
    case noHomeDirectory
    /// The keyring is in the current format already.
    case keyringAlreadyCurrent(path: String)
    /// The keyring directory's path is longer than an agent message carries.
    case keyringPathTooLong(directory: String, limit: Int)
    /// No passphrase (`label`) was given and there is no terminal to ask on; `variable` is the
    /// environment variable that could have held it.
    case noPassphrase(label: String, variable: String)
    /// The passphrase and its confirmation differ.
    case passphraseMismatch(label: String)
    /// The passphrase is empty.
    case emptyPassphrase(label: String)
    /// The passphrase typed at the terminal reached `limit` bytes: a whole terminal line
    /// (`terminalLine`; the terminal may have cut it), else the passphrase limit. It is refused,
    /// not cut. `variable` is as for ``noPassphrase(label:variable:)``.
    case passphraseTooLong(label: String, variable: String, limit: Int, terminalLine: Bool)
    /// The terminal, which the prompt could not put in canonical mode, gave no more input
    /// (`read` returned 0: a hang-up, or no byte yet) before the passphrase's line ended: what
    /// was read is not known to be the whole passphrase, and is refused. `variable` is as for
    /// ``noPassphrase(label:variable:)``.
    case passphraseNotEnded(label: String, variable: String)

    // MARK: Trust

    /// No trust store, no public key: nothing could be trusted.
    case noTrustStore(path: String)
    /// The key is not in the trust store.
    case notTrusted(keyID: String, store: String)
    /// The key is in the trust store already.
    case alreadyTrusted(keyID: String, name: String)
    /// The public key is in the trust store already, under another key id (`existing`).
    case publicKeyAlreadyTrusted(keyID: String, existing: String, name: String, revoked: Bool)
    /// Removing a revoked key from the trust store would un-revoke it (unless forced).
    case revokedKeyRemoval(keyID: String)
    /// A name for a trusted key must be non-empty text on one line.
    case invalidTrustName
    /// Not a valid role.
    case invalidRole(String)
    /// A revocation reason must be text on one line.
    case invalidRevocationReason
    /// The validity window starts after it ends.
    case validityWindowReversed(notBefore: Timestamp, notAfter: Timestamp)
    /// The trusted key is revoked already.
    case alreadyRevoked(keyID: String)
    /// The key a command would sign with is revoked in the trust store (its public key, under
    /// `storeKeyID`): what it signed would not count.
    case signingKeyRevoked(keyID: String, storeKeyID: String, on: String, reason: String)
    /// The trust store trusts the key a command would sign with only for a period that does
    /// not include now: what it signed would not count.
    case signingKeyOutsideWindow(keyID: String, window: String)
    /// A trusted comment must be one line.
    case invalidTrustedComment
    /// A signer's text for a trusted comment (embedded or detached) has a field avault writes
    /// itself or that marks a record signature (`timestamp:`, `canon:`, `file:`; the prefix).
    case reservedTrustedCommentField(String)
    /// `sign --site DIR` of a file that does not lie inside DIR (read lexically).
    case notInSite(path: String, site: String)
    /// A signer's text for a trusted comment (embedded or detached) holds a control character
    /// other than TAB.
    case trustedCommentControlCharacter
    /// A trusted comment (the signer's text with the fields avault writes) longer than
    /// minisign reads (``Minisign/trustedCommentLimit``).
    case trustedCommentTooLong(bytes: Int)
    /// A record signature's trusted comment must start with `timestamp:` then
    /// `canon:avault-record-v1`.
    case notARecordComment
    /// A legacy v1 blob would be decrypted although nothing authenticates it (no valid
    /// signature by a trusted key over its record, no explicit opt-in). `path`: the record, when
    /// there is one.
    case unauthenticatedLegacy(path: String?)
    /// A record was to be rewritten and re-signed, but its signatures did not verify before the
    /// change (`outcome` and `reason` as `avault verify` gives them): re-signing it would vouch
    /// for content no trusted key signed. Nothing was written.
    case signaturesDidNotVerify(path: String, outcome: RecordOutcome, reason: String?)
    /// A signed record was to be rewritten and re-signed, and there is no trusted key to judge
    /// its signatures by. Nothing was written.
    case signaturesNotChecked(path: String)

    // MARK: Records and the vault

    /// A record has no `secured` field.
    case noSecuredField(path: String)
    /// A record that already has a `secured` field was to be sealed.
    case alreadySecured(path: String)
    /// A record to seal or reseal has `links` names; the others would keep `keeping`.
    case recordHasOtherNames(path: String, links: Int, keeping: String)
    /// A legacy v1 blob names no key, and none was given.
    case legacyBlobNeedsKey(path: String)
    /// The blob holds no sealed draft, and its plaintext cannot become the body (`binary`: it
    /// is not text; otherwise the body is not empty).
    case notASealedDraft(path: String, binary: Bool)
    /// The field cannot be sealed (`title`, `webUrl`, `secured`, a `…Url` field…).
    case fieldCannotBeSealed(path: String, field: String)
    /// The record has no such field.
    case noSuchField(path: String, field: String)
    /// The keyring has no key with the id the blob names.
    case blobKeyNotInKeyring(path: String, id: KeyID)
    /// A sealed payload that decrypted is not what sealing writes (`field`: the field whose
    /// YAML is unreadable; nil: the payload as a whole).
    case malformedSealedPayload(path: String, field: String?)
    /// A field the sealed payload holds was added to the record while it was sealed.
    case sealedFieldAddedMeanwhile(path: String, field: String)
    /// A sealed payload that decrypted names a field `seal` never writes there (``SealedPayloadRefusal``):
    /// the blob was made some other way, by anyone who knows the recipients (or holds the
    /// content key). Nothing was written.
    case sealedPayloadRefused(path: String, field: String, reason: SealedPayloadRefusal)
    /// The secured blob is v2 or v3 already, not legacy: nothing to migrate.
    case alreadyAuthenticated(path: String, format: String)
    /// A v3 blob's context stanza names another context than its record's: it was sealed in
    /// another record (`path` the record, when there is one).
    case sealedForAnotherRecord(path: String?)
    /// None of the `identities` tried is one of the v3 blob's `recipients`.
    case noIdentityForBlob(path: String?, identities: Int, recipients: Int)
    /// No recipients were given and no `.avault-recipients` file is above the record.
    case noRecipientsFile(path: String)
    /// The search for the nearest `.avault-recipients` above the record at `path` could not
    /// look in `directory` (it cannot be opened or searched): the file there, if any, would
    /// decide who can read the draft, so the search does not go on above it.
    case recipientsSearchBlocked(path: String, directory: String, reason: String)
    /// The `.avault-recipients` file has sections, and none matches the record's path.
    case noRecipientsRule(path: String, file: String, relative: String)
    /// `reseal` of a blob that holds no sealed draft it can re-encrypt (a legacy v1 blob).
    case cannotReseal(path: String, format: String)
    /// None of the keyring's `identities` is one of the vault's `recipients`.
    case notAVaultRecipient(recipients: Int, identities: Int)
    /// A recipients command on a vault protected by a keyring key (`key`).
    case vaultNotToRecipients(location: String, key: String)
    /// `vault recipients add` of a recipient the vault has already.
    case vaultRecipientPresent(recipient: String)
    /// `vault recipients remove` of a recipient the vault does not have.
    case vaultRecipientAbsent(recipient: String)
    /// Removing the vault's last recipient (nobody could open it).
    case lastVaultRecipient
    /// A record has no embedded signature (by the key asked for).
    case noSignature(path: String, keyID: String?)
    /// Not a vault id (32 lowercase hex digits).
    case invalidVaultID(String)
    /// No vault at the location.
    case noVault(location: String)
    /// A vault exists at the location already.
    case vaultExists(location: String)
    /// The vault has no object with that ID.
    case noSuchObject(id: String)
    /// The object was removed (its history is kept).
    case objectRemoved(id: String, time: Timestamp)
    /// The object has no such version.
    case noSuchObjectVersion(id: String, version: Int, versions: [Int])
    /// An object ID must be non-empty text without NUL.
    case invalidObjectID
    /// The object has used the highest version number.
    case objectVersionsExhausted(id: String)
    /// The object is removed already.
    case objectAlreadyRemoved(id: String)
    /// A payload given in memory is larger than ``Vault/smallPayloadLimit``.
    case payloadTooLarge(limit: Int)
    /// The vault has a config but no index: it was damaged or altered.
    case vaultIndexMissing(location: String)
    /// Files in the vault that no writer of avault made (`vault copy` refuses to carry them).
    case vaultHoldsUnexpectedFiles([String])
    /// Different files of one import batch map to the same object ID (nothing was stored).
    case importCollision(id: String, files: [String])
    /// A file of an import batch was replaced or written between its reading and its storing
    /// (nothing was stored).
    case fileChangedMeanwhile(path: String)
    /// A directory walk of `vault import` found a symbolic link (to a directory, or to a file
    /// it would import) whose target, resolved, lies outside the top-level directory `root` it
    /// walks (nothing was stored): whoever can write a shared import directory could otherwise
    /// have another user's file stored.
    case linkOutsideWalkedTree(path: String, root: String, toDirectory: Bool)
    /// A walk of a site (`verify`, `audit`) found its configuration only as a `_config.toml`,
    /// which avault does not read: which hidden entries the site publishes could not be told.
    case siteConfigNotRead(path: String)
    /// A site walked as a publishing gate holds what `jekyll build` reads besides its files.
    case jekyllBuildStateInSite(path: String, what: BuildState)

    /// What `jekyll build` reads from a site besides its files (``jekyllBuildStateInSite(path:what:)``).
    public enum BuildState: Sendable {
        /// Jekyll's cache, whose entries stand for what rendering a file makes.
        case cache
        /// The record of an incremental build.
        case incrementalBuild
        /// Bundler's settings (`.bundle/`), which say where gems, and their code, are loaded from.
        case bundlerSettings
    }
    /// A record was written or replaced between the read and the write of its rewrite.
    case recordChangedMeanwhile(path: String)

    // MARK: PostgreSQL vaults

    /// libpq (`library`) could not be loaded, or lacks a function avault needs: `reason`.
    case postgresLibraryMissing(library: String, reason: String)
    /// A PostgreSQL vault URL carries a password (which any user can read in the process list).
    case postgresPasswordInURL(sslKey: Bool)
    /// The vault location starts like a URL (`scheme://`) that is not a `postgresql://` or
    /// `postgres://` one (libpq reads those two only, in lowercase).
    case vaultLocationScheme(scheme: String)
    /// The vault location is a libpq connection string (it sets `keyword`), not a URL.
    case postgresConnectionString(keyword: String)
    /// The PostgreSQL server at `location` could not be reached or refused the connection.
    case postgresConnectionFailed(location: String, reason: String)
    /// The connection to the PostgreSQL server at `location` over TCP failed for want of TLS
    /// (the server has none, or its certificate is not vouched for), which avault asks for
    /// (`sslmode=verify-full`) when the URL chooses no `sslmode`.
    case postgresTLSRequired(location: String, reason: String)
    /// A statement failed on the PostgreSQL server at `location` (`sqlState`: its SQLSTATE code).
    case postgresQueryFailed(location: String, sqlState: String, reason: String)
    /// The vault's schema at `location` has a version this avault does not know.
    case postgresSchemaVersion(location: String, found: Int, supported: Int)
    /// `vault schema upgrade` of a vault that is not on PostgreSQL (a directory has no schema).
    case noSchema(location: String)

    // MARK: The agent

    /// Neither `AVAULT_AGENT_SOCK` nor `XDG_RUNTIME_DIR` names a place for the agent's socket.
    case agentSocketUnset
    /// The agent's socket cannot be used or trusted: `reason`.
    case agentUnusable(socket: String, reason: String)
    /// The agent's socket cannot be made or reached at that path, whatever is there: `reason`
    /// (not absolute, too long for a socket, a directory that cannot be made, is a symbolic
    /// link, or is not a directory).
    case agentSocketPlace(socket: String, reason: String)
    /// The directory that holds the agent's socket, or one above it, is neither this user's
    /// nor root's, or group or others may write it without the sticky bit (`othersMayWrite`):
    /// someone else could move the socket's directory away and put their own in its place.
    case agentDirectoryUnsafe(socket: String, directory: String, reason: String, othersMayWrite: Bool)
    /// An agent answers at the socket already.
    case agentRunning(socket: String, pid: UInt32)
    /// No agent answers at the socket.
    case noAgent(socket: String)
    /// What answers at the socket said it stopped, but the socket is still there.
    case agentStillThere(socket: String)
    /// The agent could not be started: `reason` (a system call and its error).
    case agentStartFailed(reason: String)
    /// The agent process started but did not say it was ready: `reason`.
    case agentDidNotStart(reason: String)
    /// The started agent did not receive a key it can hold: `reason`.
    case agentHandoffFailed(reason: String)
    /// The agent cannot protect the memory that would hold the key.
    case agentMemoryUnprotected(reason: String)
    /// Not an idle timeout the agent accepts (1s to 24h).
    case invalidIdleTimeout(String)

    // MARK: age files

    /// An age file could not be decrypted (`file`: where it was read from, when known).
    case age(AgeError, file: String?)
    /// An age recipient, identity, or a file of them is malformed or unsupported; never quotes
    /// an identity.
    case ageKey(AgeKeys.Problem, file: String?)
    /// Not an `age1…` X25519 recipient (a recipient is public, so the message names it).
    case invalidAgeRecipient(String)
    /// The recipients of an age file break one of age's rules: `reason`.
    case invalidAgeRecipients(reason: String)
    /// An identity file to import holds `count` identities, not one.
    case ageIdentityCount(path: String, count: Int)
    /// `age decrypt` was given no identity, and the file is not passphrase-encrypted: it is
    /// encrypted to recipients, whose stanzas are of `stanzaTypes`.
    case ageNoIdentityGiven(stanzaTypes: [String])
    /// An identity file's `# public key:` comment names another recipient than its identity's:
    /// `named`, or nil when the comment is not a recipient (it is not quoted: it could be a secret).
    case ageIdentityCommentMismatch(path: String, named: String?, recipient: String)
    /// A file is larger than any `what` avault reads.
    case fileTooLarge(path: String, limit: Int, what: String)

    // MARK: Other

    /// A cryptographic library failure that is not the user's doing.
    case crypto(CryptoError)
    /// A check that should never fail did: a result that did not read back as meant (nothing
    /// was written), an impossible state, a limit no real use reaches. Described in one line;
    /// not something a script needs to tell apart.
    case internalFailure(String)

    /// Whether `text`, given as a recipient, holds an age identity (alone, or in a whole key
    /// file pasted in): a secret, which a message must not repeat (standard error ends up in
    /// logs).
    public static func looksLikeAgeIdentity(_ text: String) -> Bool {
        let upper = text.uppercased()
        return upper.contains("AGE-SECRET-KEY-") || upper.contains("AGE-PLUGIN-")
    }

    /// What was found altered, for the front end's advice.
    public enum TamperedArea: Sendable, Equatable {
        /// The keyring file in `directory`.
        case keyring(directory: String)
        /// A vault file (envelope, index, config).
        case vault
        /// The vault's log or state.
        case vaultState
        /// The vault is older than what the keyring saw (restorable on purpose).
        case rollback
        /// The vault's config is gone, the rest of it is there.
        case missingConfig
        /// The one row of a PostgreSQL vault's `avault_head`, which writers lock, is gone.
        case headRow
        /// A file in a directory vault's `objects/` that the index does not list, under the name
        /// of an envelope a write of one bucket makes (left as it is; the next write recovers).
        case envelopeInTheWay
    }

    /// What needed the keyring's passphrase, in ``keyringHasNoPassphrase(path:need:)``.
    public enum PassphraseNeed: Sendable, Equatable {
        /// Unlocking its sealed secrets.
        case unlock
        /// Changing the passphrase (re-sealing the secrets).
        case change
        /// An agent, which holds the key derived from it.
        case agent
    }

    /// Why a sealed payload's field was refused, in ``sealedPayloadRefused(path:field:reason:)``.
    public enum SealedPayloadRefusal: Sendable, Equatable {
        /// The field is one of ``Sealing/unsealableFields``, which `seal` never moves into a blob.
        case unsealable
        /// The field's YAML lines hold another top-level key besides it (`key`, the first).
        case otherKey(String)
    }

    /// What a key was wanted for, in ``wrongKeyKind(key:kind:use:)``.
    public enum KeyUse: Sendable, Equatable {
        case signing, vault, v2Blob, v1Blob, v3Blob, encryption, legacyEncryption, blobCheck
        /// Opening age files (an X25519 identity).
        case ageIdentity
        /// Adding a version to a key of another kind.
        case newVersion(KeyKind)
    }

    /// The one-line message, without the `avault: ` prefix.
    public var message: String {
        switch self {
        case .decryptionFailed:
            return "decryption failed: wrong key, wrong context, or tampered data"
        case let .ambiguousLegacyKey(key, versions):
            return "the v1 blob decrypts under versions \(versions.map(String.init).joined(separator: ", ")) of \(key): a v1 blob names no key, and its padding holds under a wrong key for about one blob in 256, so which is its key cannot be told"
        case let .malformed(error, file?):
            return "\(file): \(error)"
        case let .malformed(error, nil):
            return "\(error)"
        case let .tampered(message, _):
            return message
        case let .vaultReplaced(location, known, found):
            return "the vault at \(location) is vault \(found), but this keyring last used vault \(known) there: it was replaced"
        case let .rewriteCheckFailed(path, reason):
            return "\(path): the rewritten record was not what was meant (\(reason)); nothing was written"
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .insecurePermissions(path, mode):
            return "\(path): secret file is accessible by group or others (mode \(Self.octal(mode)))"
        case let .insecureDirectory(path, mode):
            return "\(path): directory is accessible by group or others (mode \(Self.octal(mode)))"
        case let .writableByOthers(path, mode, what, risk):
            return "\(path): \(what) is writable by group or others (mode \(Self.octal(mode))): \(risk)"
        case let .ownedByOther(path, owner, what, risk):
            return "\(path): \(what) is owned by uid \(owner), neither you nor root: \(risk)"
        case let .symbolicLink(path):
            return "\(path): is a symbolic link, which avault does not follow here"
        case let .notRegularFile(path, kind):
            return "\(path): \(kind), not a regular file"
        case let .fileExists(path):
            return "\(path): already exists"
        case let .noSuchKey(name, keyring, _):
            return "no key named '\(name)' in \(keyring)"
        case let .noActiveVersion(key):
            return "key '\(key)' has no active version"
        case let .noSuchKeyVersion(key, version, _):
            return "key '\(key)' has no version \(version)"
        case let .keyRetired(key, version, id):
            return "key id \(id) is key '\(key)' version \(version), which is retired"
        case let .wrongKeyKind(key, kind, use):
            switch use {
            case .signing: return "key '\(key)' is \(kind.withArticle) key, not a signing key"
            case .vault: return "key '\(key)' is \(kind.withArticle) key; a vault needs a content key"
            case .v2Blob: return "key '\(key)' is \(kind.withArticle) key; a v2 blob needs a content key"
            case .v1Blob: return "key '\(key)' is \(kind.withArticle) key; a v1 blob needs a legacy AES key"
            case .v3Blob: return "key '\(key)' is \(kind.withArticle) key; a v3 blob opens with an age identity"
            case .encryption where kind == .legacy: return "key '\(key)' is a legacy AES key: it only makes unauthenticated v1 blobs"
            case .encryption: return "key '\(key)' is \(kind.withArticle) key; encryption needs a content key"
            case .legacyEncryption: return "key '\(key)' is \(kind.withArticle) key; legacy v1 encryption needs a legacy AES key"
            case .blobCheck: return "key '\(key)' is \(kind.withArticle) key; checking blobs needs a content key, a legacy key or an identity"
            case .ageIdentity: return "key '\(key)' is \(kind.withArticle) key, not an age identity"
            case .newVersion(let wanted): return "key '\(key)' is \(kind.withArticle) key, not \(wanted.withArticle) key"
            }
        case let .keyExists(name):
            return "key '\(name)' already exists"
        case let .keyAlreadyPresent(name, version, id):
            return "this key is already in the keyring as '\(name)' version \(version) (id \(id))"
        case let .noKeyVersionWithID(key?, id, _, _):
            return "key '\(key)' has no version with key id \(id)"
        case let .noKeyVersionWithID(nil, id, _, _):
            return "the keyring has no key with id \(id)"
        case let .vaultKeyNotInKeyring(key, id, keyring):
            return "the vault was created with key id \(id), which key '\(key)' in \(keyring) does not have"
        case let .unsealedSecrets(path, keys, _):
            return "\(path): this keyring has a passphrase and yet unsealed secrets (key \(keys.joined(separator: ", key "))), "
                + "which version 1 allowed and version 2 does not; nothing was written"
        case let .keyStillNeeded(key, version, vault, files):
            let shown = files.prefix(5).joined(separator: ", ") + (files.count > 5 ? ", …" : "")
            return "the vault at \(vault) still needs key '\(key)' version \(version) for \(files.count) file\(files.count == 1 ? "" : "s"): \(shown)"
        case let .identityStillNeeded(key, version, vault, recipient):
            return "identity '\(key)' version \(version) is still a recipient of the vault at \(vault) (\(recipient)): its data key is wrapped to it"
        case let .keyStillTrusted(key, version, keyID, name, store, trustedAs):
            return "the trust store \(store) trusts key '\(key)' version \(version) (key id \(keyID)) as '\(name)'"
                + (trustedAs.map { " (its public key, as key id \($0))" } ?? "")
        case let .onlyActiveVersion(key, version):
            return "version \(version) is the only active version of '\(key)'"
        case let .lastKeyVersion(key):
            return "key '\(key)' has reached the last version a key may have (\(KeyringFile.maximumVersion))"
        case let .invalidKeyName(name):
            return "invalid key name '\(name)'"
        case let .keyringProtectionMismatch(keyring, true):
            return "the keyring \(keyring) is protected by a passphrase: it holds no unprotected secrets"
        case let .keyringProtectionMismatch(keyring, false):
            return "the keyring \(keyring) is unprotected (its secrets are stored in the clear): a protected key cannot join it"
        case let .keyringVersion1(path, _):
            return "\(path): a version 1 keyring (\(KeyringFile.magicV1)), which nothing authenticates as a whole: an added key or a changed status or public key would go unnoticed"
        case let .wrongPassphrase(what, _):
            return "wrong passphrase for \(what)"
        case let .kdfLimits(ops, mem):
            return "the keyring asks for key-derivation limits outside what avault accepts (passes \(ops), memory \(mem) bytes; "
                + "accepted: 1 to 64 passes, 8 KiB to 4 GiB)"
        case let .unsuitableKey(why):
            return why
        case let .keyAlreadyRetired(key, version):
            return "key '\(key)' version \(version) is already retired"
        case let .keyNotRetired(key, version):
            return "key '\(key)' version \(version) is not retired"
        case let .keyringHasNoPassphrase(path, .unlock):
            return "\(path): the keyring has no passphrase set"
        case let .keyringHasNoPassphrase(path, .change):
            return "\(path): the keyring has no passphrase, so no sealed secrets to re-seal"
        case let .keyringHasNoPassphrase(path, .agent):
            return "the keyring \(path) has no passphrase: an agent has nothing to hold for it"
        case .legacyKeyNotGenerated:
            return "legacy AES keys are imported, never generated"
        case let .keyNamedByVault(key, vault):
            return "the vault at \(vault) uses key '\(key)' by name; renaming it would leave the vault without its key"
        case let .invalidKeyExport(path?, reason):
            return "\(path): \(reason)"
        case let .invalidKeyExport(nil, reason):
            return reason
        case let .unusableMinisignKey(path, reason):
            return "\(path): \(reason)"
        case let .noKeyring(location):
            return "no keyring at \(location)"
        case .noHomeDirectory:
            return "no home directory: HOME is not an absolute path and the password database has none for this user"
        case let .keyringAlreadyCurrent(path):
            return "\(path): already a version 2 keyring (\(KeyringFile.magic)); there is nothing to upgrade"
        case let .keyringPathTooLong(directory, limit):
            return "\(directory): the keyring's path is longer than an agent message carries (\(limit) bytes)"
        case let .noPassphrase(label, _):
            return "no \(label) was given, and there is no terminal to ask for it"
        case let .passphraseMismatch(label):
            return "the two \(label)s differ"
        case let .emptyPassphrase(label):
            return "the \(label) is empty"
        case let .passphraseTooLong(label, _, limit, true):
            return "the \(label) typed fills a terminal line (\(limit) bytes), past which the terminal drops what is typed: "
                + "it may have been cut, and a cut passphrase would be another one"
        case let .passphraseTooLong(label, _, limit, false):
            return "the \(label) typed is longer than \(limit) bytes"
        case let .passphraseNotEnded(label, _):
            return "the terminal gave no more input before the \(label) typed ended with Enter: "
                + "it may have been cut, and a cut passphrase would be another one"
        case let .noTrustStore(path):
            return "no trust store at \(path): no signature could be trusted"
        case let .notTrusted(keyID, store):
            return "key \(keyID) is not in the trust store \(store)"
        case let .alreadyTrusted(keyID, name):
            return "key \(keyID) is already trusted as '\(name)'"
        case let .publicKeyAlreadyTrusted(keyID, existing, name, revoked):
            return "the public key of \(keyID) is in the trust store already, as key \(existing) ('\(name)'\(revoked ? ", revoked" : ""))"
        case let .revokedKeyRemoval(keyID):
            return "key \(keyID) is revoked: removing it would un-revoke it (added again, its signatures would count)"
        case .invalidTrustName:
            return "the name must be non-empty text on one line"
        case let .invalidRole(role):
            return "role '\(role)' must be 1 to 64 of a-z, 0-9, '.', '_' and '-'"
        case .invalidRevocationReason:
            return "the reason must be text on one line"
        case let .validityWindowReversed(notBefore, notAfter):
            return "the validity window starts after it ends (\(notBefore) is after \(notAfter))"
        case let .alreadyRevoked(keyID):
            return "key \(keyID) is already revoked"
        case let .signingKeyRevoked(keyID, storeKeyID, on, reason):
            return "key \(keyID) was revoked in the trust store on \(on)" + (storeKeyID == keyID ? "" : " (its public key, as key \(storeKeyID))")
                + (reason.isEmpty ? "" : " (\(reason))") + ": a head it signed would not count, so nothing was signed"
        case let .signingKeyOutsideWindow(keyID, window):
            return "the trust store trusts key \(keyID) only for a period that does not include now (\(window)): a head it signed would not count, so nothing was signed"
        case .invalidTrustedComment:
            return "the trusted comment must be one line"
        case let .notInSite(path, site):
            return "\(path) is not inside the site \(site), so it has no place there to sign"
        case let .reservedTrustedCommentField(prefix):
            return "the trusted comment text has a field avault writes itself (\(prefix)…)"
        case .trustedCommentControlCharacter:
            return "the trusted comment text holds a control character (only TAB, between fields, may be in it)"
        case let .trustedCommentTooLong(bytes):
            return "the trusted comment would be \(bytes) bytes, more than minisign reads (\(Minisign.trustedCommentLimit))"
        case .notARecordComment:
            return "a record signature's trusted comment must start with timestamp:… then \(TrustPolicy.recordCanonField)"
        case let .unauthenticatedLegacy(path):
            return (path.map { "\($0): " } ?? "") + "refusing to decrypt a legacy v1 blob that no trusted signature authenticates"
        case let .signaturesDidNotVerify(path, outcome, reason):
            return "\(path): its signatures did not verify before the change (\(outcome.rawValue)\(reason.map { ": " + $0 } ?? "")), "
                + "so it is not re-signed; nothing was written"
        case let .signaturesNotChecked(path):
            return "\(path): the record is signed, and there is no trusted key to check its signatures by before re-signing it; "
                + "nothing was written"
        case let .noSecuredField(path):
            return "\(path): the record has no 'secured' field"
        case let .alreadySecured(path):
            return "\(path): the record already has a secured field"
        case let .recordHasOtherNames(path, links, keeping):
            return "\(path): the file has \(links) names (hard links); the rewrite would replace this one, and the others would still hold \(keeping)"
        case let .legacyBlobNeedsKey(path):
            return "\(path): a legacy v1 blob does not say which key opens it"
        case let .notASealedDraft(path, true):
            return "\(path): the decrypted payload is not text, so it cannot become the body"
        case let .notASealedDraft(path, false):
            return "\(path): the blob does not hold a sealed draft, and its plaintext would replace the record's body"
        case let .fieldCannotBeSealed(path, field):
            return "\(path): '\(field)' cannot be sealed" + (field.hasSuffix("Url") ? " (the context of the blob comes from it)" : "")
        case let .noSuchField(path, field):
            return "\(path): the record has no field '\(field)'"
        case let .blobKeyNotInKeyring(path, id):
            return "\(path): the keyring has no key with id \(id.hex), which the blob names"
        case let .malformedSealedPayload(path, nil):
            return "\(path): the sealed payload is malformed"
        case let .malformedSealedPayload(path, field?):
            return "\(path): the sealed payload holds unreadable YAML for field '\(field)'; nothing was written"
        case let .sealedFieldAddedMeanwhile(path, field):
            return "\(path): field '\(field)' was added while the record was sealed; nothing was written"
        case let .sealedPayloadRefused(path, field, .unsealable):
            return "\(path): the sealed payload is malformed: it holds the field '\(field)', which seal never puts in a blob; nothing was written"
        case let .sealedPayloadRefused(path, field, .otherKey(other)):
            return "\(path): the sealed payload is malformed: the YAML for field '\(field)' holds the field '\(other)' too; nothing was written"
        case let .alreadyAuthenticated(path, format):
            return "\(path): the secured blob is already \(format), not a legacy v1 blob"
        case let .sealedForAnotherRecord(path?):
            return "\(path): the sealed blob is bound to another record's context: it was moved here"
        case .sealedForAnotherRecord(nil):
            return "the sealed blob is bound to another context"
        case let .noIdentityForBlob(path, identities, recipients):
            let to = "the blob is sealed to \(recipients) recipient\(recipients == 1 ? "" : "s")"
            let what = identities == 0 ? "and there is no age identity to try"
                : "none of them an identity tried here (\(identities) tried)"
            return (path.map { "\($0): " } ?? "") + "\(to), \(what)"
        case let .noRecipientsFile(path):
            return "\(path): no recipients given and no \(RecipientRules.fileName) file above it"
        case let .recipientsSearchBlocked(path, directory, reason):
            return "\(path): cannot look for \(RecipientRules.fileName) in \(directory): \(reason)"
        case let .noRecipientsRule(path, file, relative):
            return "\(path): no section of \(file) matches '\(relative)'"
        case let .cannotReseal(path, format):
            return "\(path): a \(format) blob cannot be resealed"
        case let .notAVaultRecipient(recipients, identities):
            return "the vault is encrypted to \(recipients) recipient\(recipients == 1 ? "" : "s"), none of them an identity of this keyring (\(identities) tried)"
        case let .vaultNotToRecipients(location, key):
            return "\(location): the vault is protected by the keyring key '\(key)', not by recipients"
        case let .vaultRecipientPresent(recipient):
            return "\(recipient) is already a recipient of the vault"
        case let .vaultRecipientAbsent(recipient):
            return "\(recipient) is not a recipient of the vault"
        case .lastVaultRecipient:
            return "a vault needs at least one recipient: removing the last one would lock everyone out"
        case let .noSignature(path, keyID):
            return "\(path): no embedded signature" + (keyID.map { " by key \($0)" } ?? "")
        case let .invalidVaultID(text) where Self.looksLikeAgeIdentity(text):
            return "an age identity (a secret key) was given where a vault id belongs; it is not repeated here"
        case let .invalidVaultID(text):
            return "'\(text)' is not a vault id (32 lowercase hex digits)"
        case let .noVault(location):
            return "no vault at \(location)"
        case let .vaultExists(location):
            return "\(location): a vault already exists there"
        case let .noSuchObject(id):
            return "no object '\(id)' in the vault"
        case let .objectRemoved(id, time):
            return "'\(id)' was removed on \(time)"
        case let .noSuchObjectVersion(id, version, _):
            return "'\(id)' has no version \(version)"
        case .invalidObjectID:
            return "an object ID must be non-empty text"
        case let .objectVersionsExhausted(id):
            return "'\(id)' has reached the highest version number"
        case let .postgresLibraryMissing(library, reason):
            return "cannot load PostgreSQL's client library \(library): \(reason)"
        case let .postgresPasswordInURL(sslKey):
            return "the PostgreSQL URL carries \(sslKey ? "the passphrase of a TLS client key (sslpassword)" : "a password"), which other users can read in the process list; it was not used"
        case let .vaultLocationScheme(scheme):
            if ["postgres", "postgresql"].contains(scheme.lowercased()) {
                return "the vault location starts with \(scheme)://, which libpq does not read: it takes postgresql:// and postgres:// only, in lowercase"
            }
            return "the vault location starts with \(scheme)://: a vault is a directory or a postgresql:// URL"
        case let .postgresConnectionString(keyword):
            return "the vault location is a libpq connection string (\(keyword)=…): avault names a PostgreSQL vault by a postgresql:// URL only"
        case let .postgresConnectionFailed(location, reason):
            return "cannot connect to the PostgreSQL vault \(location): \(reason)"
        case let .postgresTLSRequired(location, reason):
            return "cannot connect to the PostgreSQL vault \(location) with a verified TLS connection, which avault asks for when the URL sets no sslmode: \(reason)"
        case let .postgresQueryFailed(location, sqlState, reason):
            return "the PostgreSQL vault \(location) refused a statement (SQLSTATE \(sqlState)): \(reason)"
        case let .postgresSchemaVersion(location, found, supported):
            return "the PostgreSQL vault \(location) has schema version \(found); this avault knows versions up to \(supported)"
        case let .noSchema(location):
            return "\(location) is a directory, which has no schema: only a PostgreSQL vault's schema is upgraded"
        case let .objectAlreadyRemoved(id):
            return "'\(id)' is already removed"
        case let .payloadTooLarge(limit):
            return "a payload held in memory is limited to \(limit) bytes"
        case let .vaultIndexMissing(location):
            return "\(location): the vault has no index"
        case let .vaultHoldsUnexpectedFiles(files):
            return "the vault holds \(files.count) file\(files.count == 1 ? "" : "s") no writer of avault made (\(files.prefix(3).joined(separator: ", "))\(files.count > 3 ? ", …" : "")); nothing was copied"
        case let .importCollision(id, files):
            return "\(files.count) files map to the ID '\(id)': \(files.joined(separator: ", ")); nothing was imported"
        case let .fileChangedMeanwhile(path):
            return "\(path): the file was replaced or written while it was imported; nothing was imported"
        case let .linkOutsideWalkedTree(path, root, toDirectory):
            return "\(path): is a symbolic link to a \(toDirectory ? "directory" : "file") outside \(root), which vault import does not follow"
        case let .siteConfigNotRead(path):
            return "\(path): a TOML site configuration, which avault does not read, and no _config.yml beside it; nothing was checked"
        case let .jekyllBuildStateInSite(path, what):
            let described = switch what {
            case .cache: "Jekyll's cache, whose entries jekyll build uses in place of rendering the files they stand for"
            case .incrementalBuild: "the record of an incremental build, which jekyll build --incremental reads"
            case .bundlerSettings: "Bundler's settings, which say where the gems jekyll build loads (and runs) come from"
            }
            return "\(path): \(described), and which avault cannot check; nothing was checked"
        case let .recordChangedMeanwhile(path):
            return "\(path): the record was changed (written, replaced, or its mode or times set) after it was read; it was left as it is"
        case .agentSocketUnset:
            return "no place for the agent's socket: XDG_RUNTIME_DIR is not set"
        case let .agentUnusable(socket, reason), let .agentSocketPlace(socket, reason):
            return "cannot use the agent socket \(socket): \(reason)"
        case let .agentDirectoryUnsafe(socket, _, reason, _):
            return "cannot use the agent socket \(socket): \(reason)"
        case let .agentRunning(socket, pid):
            return "an agent already runs at \(socket) (pid \(pid))"
        case let .noAgent(socket):
            return "no agent runs at \(socket)"
        case let .agentStillThere(socket):
            return "the agent at \(socket) answered that it stopped, but its socket is still there: it may not have stopped"
        case let .agentStartFailed(reason):
            return "cannot start the agent: \(reason)"
        case let .agentDidNotStart(reason):
            return "the agent did not start: \(reason)"
        case let .agentHandoffFailed(reason):
            return "the agent received no key it can hold: \(reason)"
        case let .agentMemoryUnprotected(reason):
            return "the agent cannot protect its memory: \(reason)"
        case let .invalidIdleTimeout(text):
            return "invalid idle timeout '\(text)': give 1s to 24h, e.g. 90s, 15m or 2h"
        case let .age(error, file?):
            return "\(file): \(error.message)"
        case let .age(error, nil):
            return error.message
        case let .ageKey(problem, file?):
            return "\(file): \(problem)"
        case let .ageKey(problem, nil):
            return "\(problem)"
        case let .invalidAgeRecipient(text) where Self.looksLikeAgeIdentity(text):
            return "an age identity (a secret key) was given where a recipient (age1…) belongs; it is not repeated here"
        case let .invalidAgeRecipient(text):
            return "'\(text)' is not an age X25519 recipient (age1…)"
        case let .invalidAgeRecipients(reason):
            return reason
        case let .ageIdentityCount(path, count):
            return "\(path): holds \(count) identities; import one identity per key name"
        case let .ageNoIdentityGiven(types):
            return "no identity was given, and the file is encrypted to recipients (\(types.joined(separator: ", "))), not with a passphrase"
        case let .ageIdentityCommentMismatch(path, named?, recipient):
            return "\(path): its '# public key:' comment (\(named)) is not its identity's recipient (\(recipient))"
        case let .ageIdentityCommentMismatch(path, nil, recipient):
            return "\(path): its '# public key:' comment is not an age recipient (age1…), so not its identity's (\(recipient)); it is not repeated here"
        case let .fileTooLarge(path, limit, what):
            return "\(path): larger than \(limit) bytes, not \(what)"
        case let .crypto(error):
            return "\(error)"
        case let .internalFailure(message):
            return message
        }
    }

    private static func octal(_ mode: UInt32) -> String { String(mode & 0o777, radix: 8) }
}

extension KeyKind {
    /// The kind with its indefinite article, for messages: "a content", "an identity".
    public var withArticle: String { self == .identity ? "an \(self)" : "a \(self)" }
}
