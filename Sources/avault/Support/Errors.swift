import ArticleVault

/// Exit codes, documented in `--help`, the README and `docs/cli.md`.
enum Exit {
    /// Success.
    static let ok: Int32 = 0
    /// The answer is no: a malformed blob or record, a failed decryption or verification.
    static let no: Int32 = 1
    /// An operational error: unreadable file, bad key file, unsuitable key.
    static let operational: Int32 = 2
    /// A usage error (from the argument parser).
    static let usage: Int32 = 64
}

let exitCodeHelp = """
    Exit status: 0 success; 1 the answer is no (malformed blob or record, failed \
    decryption); 2 operational error (unreadable file, bad key file, unsuitable key); \
    64 usage error.
    """

/// The one place that turns a library error into what the command line says and returns:
/// the library describes the problem, the CLI adds the fix in terms of its flags and commands.
extension AvaultError {
    /// The exit status: 1 when the data said no, 2 for everything else. Every case is listed
    /// (no `default`): a new case must choose.
    var exitCode: Int32 {
        switch self {
        // The answer is no.
        case .decryptionFailed, .tampered, .vaultReplaced, .rewriteCheckFailed, .noAgent, .sealedForAnotherRecord, .noIdentityForBlob,
             .signaturesDidNotVerify, .vaultHoldsUnexpectedFiles, .sealedPayloadRefused: return Exit.no
        case .malformed(let format, _):
            switch format {
            case .invalidSecuredBlob, .invalidRecord, .invalidSignature: return Exit.no
            case .invalidKeyFile, .invalidKeyring, .invalidMinisign, .invalidTrustStore, .invalidJSON, .invalidVault, .invalidAgentMessage, .invalidRecipientsFile, .invalidSiteConfig: return Exit.operational
            }
        // Files.
        case .io, .insecurePermissions, .insecureDirectory, .writableByOthers, .ownedByOther, .symbolicLink, .notRegularFile, .fileExists:
            return Exit.operational
        // Keys and the keyring.
        case .noSuchKey, .noActiveVersion, .ambiguousLegacyKey, .noSuchKeyVersion, .keyRetired, .wrongKeyKind, .keyExists, .keyAlreadyPresent,
             .noKeyVersionWithID, .vaultKeyNotInKeyring, .unsealedSecrets, .keyStillNeeded, .identityStillNeeded, .keyStillTrusted, .onlyActiveVersion,
             .lastKeyVersion, .keyringProtectionMismatch, .keyringVersion1, .wrongPassphrase, .kdfLimits,
             .unsuitableKey, .keyAlreadyRetired, .keyNotRetired, .keyringHasNoPassphrase, .legacyKeyNotGenerated, .keyNamedByVault,
             .invalidKeyExport, .unusableMinisignKey, .noKeyring, .noHomeDirectory, .keyringAlreadyCurrent, .keyringPathTooLong, .noPassphrase,
             .passphraseMismatch, .emptyPassphrase, .passphraseTooLong, .passphraseNotEnded:
            return Exit.operational
        // Trust.
        case .noTrustStore, .notTrusted, .alreadyTrusted, .publicKeyAlreadyTrusted, .revokedKeyRemoval, .alreadyRevoked, .signingKeyRevoked, .signingKeyOutsideWindow, .invalidTrustedComment, .notARecordComment, .unauthenticatedLegacy, .signaturesNotChecked:
            return Exit.operational
        // What the command line asked for, refused before anything is read.
        case .reservedTrustedCommentField, .trustedCommentControlCharacter, .trustedCommentTooLong, .notInSite:
            return Exit.usage
        // A value the command line gave that is not one (a key or trusted key's name, a role, a
        // revocation reason, a validity window, a vault id, an idle timeout): a usage error, as
        // the parser's own (`--jobs 0`) are.
        case .invalidKeyName, .invalidTrustName, .invalidRole, .invalidRevocationReason, .validityWindowReversed, .invalidVaultID, .invalidIdleTimeout:
            return Exit.usage
        // Records and the vault.
        case .noSecuredField, .alreadySecured, .recordHasOtherNames, .legacyBlobNeedsKey, .notASealedDraft, .fieldCannotBeSealed, .noSuchField,
             .blobKeyNotInKeyring, .malformedSealedPayload, .sealedFieldAddedMeanwhile, .alreadyAuthenticated, .noSignature, .noVault,
             .vaultExists, .noSuchObject, .objectRemoved, .noSuchObjectVersion, .invalidObjectID, .objectVersionsExhausted,
             .objectAlreadyRemoved, .payloadTooLarge, .vaultIndexMissing, .importCollision, .fileChangedMeanwhile, .linkOutsideWalkedTree, .siteConfigNotRead, .jekyllBuildStateInSite, .recordChangedMeanwhile, .noRecipientsFile, .recipientsSearchBlocked, .noRecipientsRule,
             .cannotReseal, .notAVaultRecipient, .vaultNotToRecipients, .vaultRecipientPresent, .vaultRecipientAbsent, .lastVaultRecipient:
            return Exit.operational
        // PostgreSQL vaults.
        case .postgresLibraryMissing, .postgresPasswordInURL, .vaultLocationScheme, .postgresConnectionString, .postgresConnectionFailed, .postgresTLSRequired, .postgresQueryFailed, .postgresSchemaVersion, .noSchema:
            return Exit.operational
        // The agent.
        case .agentSocketUnset, .agentUnusable, .agentSocketPlace, .agentDirectoryUnsafe, .agentRunning, .agentStillThere, .agentStartFailed, .agentDidNotStart, .agentHandoffFailed,
             .agentMemoryUnprotected:
            return Exit.operational
        // age files: one that does not decrypt is an answer; a malformed key or key file is not.
        case .age:
            return Exit.no
        // A file encrypted to recipients, given none of the identities the command line can name.
        case .ageNoIdentityGiven:
            return Exit.usage
        case .ageKey, .invalidAgeRecipient, .invalidAgeRecipients, .ageIdentityCount, .ageIdentityCommentMismatch, .fileTooLarge:
            return Exit.operational
        // Other.
        case .crypto, .internalFailure:
            return Exit.operational
        }
    }

    /// The option that names the file of the passphrase read from `variable`.
    static func passphraseFileOption(_ variable: String) -> String {
        switch variable {
        case "AVAULT_AGE_PASSPHRASE": "--age-passphrase-file"
        case "AVAULT_MINISIGN_PASSPHRASE": "--minisign-passphrase-file"
        case "AVAULT_EXPORT_PASSPHRASE": "--export-passphrase-file"
        case "AVAULT_NEW_PASSPHRASE": "--new-passphrase-file"
        default: "--passphrase-file"
        }
    }

    /// A suggested fix, when there is one.
    var hint: String? {
        switch self {
        case let .decryptionFailed(ids?):
            return "the blob names key id \(ids.blob.hex); this key's id is \(ids.tried.hex)"
        case .malformed(.invalidKeyFile, _):
            return "a key file holds one key: 32, 48 or 64 hex digits, or standard base64 of 16, 24 or 32 bytes"
        case .malformed(.invalidSiteConfig, _):
            return "the walk reads the site's configuration to see what Jekyll reads and publishes (include:, its directories, sass:, source:, cache_dir:): change it as the message says"
        case let .tampered(_, area):
            switch area {
            case .keyring(let directory):
                return "if you did not change it, someone or something that can write \(directory) did: do not use it; restore keyring.avk from a backup you trust"
            case .vault: return "run 'avault vault verify'"
            case .vaultState: return "run 'avault vault verify' and 'avault vault log --verify'"
            case .headRow:
                return "the row holds nothing but the writers' lock: once you know who deleted it, put it back as the tables' owner "
                    + "(INSERT INTO avault_head (id) VALUES (1)), then run 'avault vault verify'"
            case .rollback: return "if you restored it from a backup on purpose, run the command again with --accept-rollback (the log will record it)"
            case .envelopeInTheWay:
                return "if the vault was put back from a backup, put all of it back from one copy (the index, entries/, the log, finished and objects/) "
                    + "before any write; otherwise 'avault vault verify' lists the file, the next write moves it into quarantine/ if it authenticates "
                    + "(a crashed write's envelope, or that newer copy's), and 'avault vault fsck' moves it aside if it does not"
            case .missingConfig: return "restore the config from a backup (nothing was written); 'vault init' does not write a new vault over the rest"
            }
        case let .vaultReplaced(location, _, _):
            return "if it was re-created on purpose, check its id (the 'id:' line of its config) with whoever made it, then run "
                + "'avault vault forget --vault \(Terminal.shellWord(location))'"
        case let .insecurePermissions(path, mode):
            guard FileSystem.chmodFixes(path, mode: mode) else { return "give the secret in a regular file of your own, mode 600" }
            return "chmod 600 \(Terminal.operand(path))"
        case let .insecureDirectory(path, _): return "chmod 700 \(Terminal.operand(path))"
        case let .writableByOthers(path, _, _, _): return "chmod go-w \(Terminal.operand(path))"
        case .ownedByOther: return "use a copy of your own, in a directory of your own, once you have checked what it says"
        case .symbolicLink: return "replace the link with the file itself"
        case let .notRegularFile(path, _): return "only avault should write in \(FileSystem.directory(of: path))"
        case .fileExists: return "use --force to overwrite it"
        case let .noSuchKey(_, _, existing):
            return existing.isEmpty ? "the keyring is empty; create a key with 'avault keys generate'"
                                    : "the keyring has: \(existing.joined(separator: ", "))"
        case .noActiveVersion: return "see 'avault keys list'"
        case .ambiguousLegacyKey:
            return "import the raw key file it was made with as a key of its own ('avault keys import NAME --key-file FILE --legacy-aes-cbc') and use that key"
        case let .noSuchKeyVersion(_, _, versions): return "versions: \(versions.map(String.init).joined(separator: ", "))"
        case let .wrongKeyKind(_, kind, use):
            switch use {
            case .vault: return "create one with 'avault keys generate NAME --secret'"
            case .v1Blob: return "import one with 'avault keys import NAME --key-file F --legacy-aes-cbc'"
            case .encryption where kind == .legacy: return "pass --legacy-cbc if a v1 reader really needs it, or use a content key"
            case .ageIdentity: return "create one with 'avault keys generate NAME --identity' or import one with 'avault keys import-age NAME --identity FILE'"
            default: return nil
            }
        case let .keyExists(name): return "add a version with: avault keys rotate \(Terminal.shellWord(name))"
        case let .noKeyVersionWithID(_, _, holder, contentKeys):
            if let holder { return "that is key '\(holder.name)' version \(holder.version)" }
            return contentKeys.isEmpty ? "see 'avault keys list'"
                : "the keyring lacks that key; its content keys are: \(contentKeys.joined(separator: ", "))"
        case .vaultKeyNotInKeyring: return "is this the vault's keyring? see 'avault keys list'"
        case let .unsealedSecrets(_, _, directory):
            return "if they are yours, run 'avault keys upgrade --seal-unprotected' to seal them under the passphrase; "
                + "if you did not put them there, someone who can write \(directory) did: do not upgrade, restore a backup you trust"
        case .keyStillNeeded: return "re-encrypt them first: 'avault vault rewrap'"
        case let .identityStillNeeded(_, _, vault, recipient):
            return "after adding a recipient of yours that stays, remove it from the vault first (with --rotate, what is put "
                + "afterwards is out of its reach): avault vault recipients remove \(Terminal.shellWord(recipient)) --vault \(Terminal.shellWord(vault))"
        case let .keyStillTrusted(_, _, ownID, _, _, trustedAs):
            let keyID = trustedAs ?? ownID
            return "revoke it ('avault keys trust revoke \(keyID)') or remove it ('avault keys trust remove \(keyID)') first, or pass --force"
        case let .onlyActiveVersion(key, _): return "rotate first: avault keys rotate \(Terminal.shellWord(key))"
        case .lastKeyVersion: return "generate a key under a new name"
        case .legacyKeyNotGenerated: return "import one with 'avault keys import NAME --key-file F --legacy-aes-cbc'"
        case .noKeyring: return "give the keyring directory with --keyring DIR (or AVAULT_KEYRING)"
        case .noHomeDirectory: return "set HOME, or name the keyring (--keyring, AVAULT_KEYRING) and the vault (--vault, AVAULT_VAULT)"
        case let .noPassphrase(_, variable):
            return "give \(Self.passphraseFileOption(variable)) FILE, set \(variable), or run on a terminal"
        case let .passphraseTooLong(_, variable, _, _), let .passphraseNotEnded(_, variable):
            return "put it in a file (mode 600) and give \(Self.passphraseFileOption(variable)) FILE, or set \(variable)"
        case .invalidKeyName: return "use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
        case .keyringProtectionMismatch(_, true):
            return "keep throwaway keys in a keyring of their own (--keyring DIR), or leave out --unprotected"
        case .keyringProtectionMismatch(_, false):
            return "keep protected keys in a keyring of their own (--keyring DIR), or add this one with --unprotected"
        case let .keyringVersion1(_, directory):
            return "upgrade it once (it asks for the passphrase, checks what version 1 allows, and writes \(Keyring.currentFormat)): avault keys upgrade --keyring \(Terminal.shellWord(directory))"
        case let .wrongPassphrase(_, origin): return origin
        case .noTrustStore, .signaturesNotChecked:
            return "add publisher keys with 'avault keys trust add PUBFILE --name NAME', or give --pubkey PUBFILE or --trust-store FILE"
        case let .signaturesDidNotVerify(path, _, _):
            return "re-signing it would vouch for what no trusted key signed; without --sign it is rewritten unsigned, "
                + "to be checked and signed again; see why with: avault verify -- \(Terminal.shellWord(path))"
        case .reservedTrustedCommentField:
            return "avault writes timestamp:, canon:, file: and place: itself (place: with --site DIR); give only your own text (a TAB separates fields)"
        case .notInSite:
            return "give --site the directory the gate walks (the site's top), and files inside it"
        case .trustedCommentControlCharacter:
            return "give one line of text; a TAB separates fields"
        case .trustedCommentTooLong:
            return "shorten --trusted-comment (the file's name and, with --site, its place count too)"
        case .notTrusted, .alreadyRevoked: return "see 'avault keys trust list'"
        case .signingKeyOutsideWindow: return "sign with a key the trust store trusts now: see 'avault keys trust list'"
        case .signingKeyRevoked: return "sign with a key the trust store has not revoked: see 'avault keys list' and 'avault keys trust list'"
        case let .alreadyTrusted(keyID, _): return "remove it first with 'avault keys trust remove \(keyID)'"
        case .publicKeyAlreadyTrusted(_, _, _, true):
            return "a key id is not signed by anything: a revoked key stays revoked under every id; trust a new key instead"
        case let .publicKeyAlreadyTrusted(_, existing, _, false):
            return "a key is trusted once; to change its name, roles or window, remove \(existing) and add it again"
        case .revokedKeyRemoval:
            return "keep it listed as revoked; to remove it anyway, give --force"
        case .unauthenticatedLegacy:
            return "v1 is unauthenticated AES-CBC, so its decryption is a padding oracle; sign the record with a trusted key, "
                + "or pass --allow-unauthenticated-legacy to accept that"
        case .alreadySecured: return "unseal it first, or use 'avault migrate' for a legacy blob"
        case let .recordHasOtherNames(path, _, _):
            return "remove the other names ('find DIR -samefile \(path)' lists them), or copy the record to a file of its own, then run the command again"
        case .legacyBlobNeedsKey: return "name a legacy key with --key"
        case .sealedPayloadRefused:
            return "avault seal did not make this blob: anyone who knows the recipients (or holds the content key) can make one; "
                + "do not sign or publish the record before you know who sealed it"
        case .notASealedDraft(_, true): return "decrypt it with 'avault secured decrypt --record'"
        case let .notASealedDraft(path, false): return "read it with: avault secured decrypt --record \(Terminal.shellWord(path))"
        case let .noSignature(path, _): return "sign it first: avault sign --key NAME -- \(Terminal.shellWord(path))"
        case .noVault: return "create one with 'avault vault init --key NAME'"
        case .invalidVaultID: return "a vault's id is the 'id:' line of its config"
        case .noSuchObject: return "see 'avault vault list'"
        case .vaultIndexMissing: return "run 'avault vault verify'"
        case .vaultHoldsUnexpectedFiles: return "'avault vault verify' lists them; 'avault vault fsck' moves them aside"
        case .postgresLibraryMissing: return "install libpq: apt-get install libpq5"
        case .postgresPasswordInURL(sslKey: true):
            return "leave it out of the URL and put it in a service file (sslpassword= in ~/.pg_service.conf, mode 600, named by service=NAME in the URL)"
        case .postgresPasswordInURL(sslKey: false):
            return "leave the password out of the URL and put it in a password file: a line host:port:database:user:password in ~/.pgpass (mode 600), or the file PGPASSFILE names"
        case let .vaultLocationScheme(scheme):
            return ["postgres", "postgresql"].contains(scheme.lowercased())
                ? "write \(scheme.lowercased())://… in lowercase; for a directory of that name, put ./ before it"
                : "name a PostgreSQL vault with postgresql://…; for a directory of that name, put ./ before it"
        case .postgresConnectionString:
            return "write it as a URL, postgresql://[USER@]HOST[:PORT]/DBNAME?KEY=VALUE&… (a Unix socket: ?host=/run/postgresql), "
                + "with any password in ~/.pgpass or the file PGPASSFILE names, never in the URL; for a directory of that name, put ./ before it"
        case .postgresTLSRequired:
            return "give the server's certificate authority in ~/.postgresql/root.crt (or sslrootcert=FILE in the URL); for a server without TLS, "
                + "choose in the URL: sslmode=disable sends the password in clear, sslmode=require encrypts without checking who answers"
        case .postgresSchemaVersion: return "use the avault that created or last upgraded this vault"
        case .noSchema: return "name the PostgreSQL vault with --vault postgres://… or AVAULT_VAULT"
        case .blobKeyNotInKeyring: return "see 'avault keys list'"
        case .sealedForAnotherRecord:
            return "a sealed blob opens only in the record whose webUrl (else originalUrl) it was sealed with; put it back there"
        case .noIdentityForBlob:
            return "ask someone who can open it to add your recipient ('avault keys export-recipient NAME' prints it) and run 'avault reseal'"
        case .noRecipientsFile:
            return "give --recipient age1… or --recipients-file F, or write a \(SealRecipients.fileName) file in the record's directory or above it"
        case let .recipientsSearchBlocked(_, directory, _):
            return "a \(SealRecipients.fileName) file there would decide who can read the draft, so none above it is used: "
                + "let this user read and search \(directory), or give --recipient age1… or --recipients-file F"
        case let .noRecipientsRule(_, file, _):
            return "add a section for it to \(file), or a last 'path-glob: **' section for every other record"
        case .notAVaultRecipient:
            return "ask a member to run 'avault vault recipients add RECIPIENT' with your recipient ('avault keys export-recipient NAME' prints it)"
        case .vaultNotToRecipients:
            return "a vault made with 'avault vault init --recipient …' has recipients; this one opens with its key"
        case .vaultRecipientAbsent:
            return "see 'avault vault recipients list'"
        case .cannotReseal(_, "v1"):
            return "make it v2 first with 'avault migrate', then reseal it"
        case let .objectRemoved(id, _): return "its history is kept: avault vault get --version N -- \(Terminal.shellWord(id))"
        case let .noSuchObjectVersion(_, _, versions): return "versions: \(versions.map(String.init).joined(separator: ", "))"
        case .importCollision:
            return "give each record its own webUrl, import them separately, or pass --as-versions to store them as versions of one ID"
        case let .invalidAgeRecipient(text) where AvaultError.looksLikeAgeIdentity(text):
            return "give its recipient instead ('avault keys list' or age-keygen -y FILE shows it); a secret key typed on a command line is in your shell's history"
        case .fileChangedMeanwhile:
            return "import it again once nothing else writes to it"
        case let .linkOutsideWalkedTree(_, _, toDirectory):
            return "name the \(toDirectory ? "directory" : "file") itself to import it"
        case .siteConfigNotRead:
            return "Jekyll reads a _config.toml only when given it with --config; put its include: list in a _config.yml beside it (avault reads that, as Jekyll does)"
        case let .jekyllBuildStateInSite(path, _):
            return "remove it (rm -r \(Terminal.quoted(path))) and keep it out of the site's repository; a build from a fresh copy has none before it runs"
        case .recordChangedMeanwhile:
            return "check what changed, then run the command again for the records it has not rewritten"
        case .agentSocketUnset:
            return "set AVAULT_AGENT_SOCK to a path in a directory only you can write, e.g. export AVAULT_AGENT_SOCK=\"$HOME/.avault-agent.sock\""
        case .agentUnusable:
            return "if it is not your agent's socket, remove it; 'avault agent start' makes a new one"
        case .agentSocketPlace:
            return "set AVAULT_AGENT_SOCK (or XDG_RUNTIME_DIR) to an absolute path of at most 107 bytes in a directory of yours that is not a symbolic link"
        case let .agentDirectoryUnsafe(_, directory, _, othersMayWrite):
            let elsewhere = "set AVAULT_AGENT_SOCK (or XDG_RUNTIME_DIR) to a path whose directories only you or root can write"
            return othersMayWrite ? "chmod go-w \(Terminal.operand(directory)), or \(elsewhere)" : elsewhere
        case .agentRunning:
            return "stop it first with 'avault agent stop', or set AVAULT_AGENT_SOCK to another path"
        case .noAgent:
            return "start one with 'avault agent start'"
        case .agentStillThere:
            return "an agent removes its socket before it answers, and what listens there did not: find it (ss -xlp) before you trust that socket again"
        case let .age(.noIdentityMatched(types), _):
            if types == ["scrypt"] {
                // Only without identities is a passphrase asked for (identities: passphraseFileGivenIdentities).
                return "the file is encrypted with a passphrase, and the passphrase given is not its passphrase"
            }
            return "the file was encrypted to other recipients; 'avault keys export-recipient NAME' prints an identity's recipient"
        case .age(.passphraseFileGivenIdentities, _):
            return "remove every --key and -i to decrypt it with its passphrase"
        case .ageNoIdentityGiven:
            return "name the identity that opens it: --key NAME (an identity of the keyring) or -i FILE (an age identity file)"
        case .ageKey(.invalidIdentity, _):
            return "an identity file holds AGE-SECRET-KEY-1… lines, as age-keygen writes them, and '#' comments"
        case .ageKey(.invalidRecipient, _):
            return "a recipient is age1… as 'age-keygen -y' or 'avault keys export-recipient' prints it"
        default: return nil
        }
    }
}
