public import VaultCrypto
public import VaultFormat

/// Errors from the ``ArticleVault`` layer, each with one clear line (`message`) and, where a
/// fix exists, a `hint`. No case carries secret material.
public enum AvaultError: Error, Sendable {
    /// Decryption failed after the structure checks. Deliberately uniform: wrong key, wrong
    /// context, bad tag and bad padding all look alike (no padding oracle). `hint` is only
    /// ever public information (key ids).
    case decryptionFailed(hint: String?)
    /// Input text is malformed (a blob, a key file, a record).
    case malformed(FormatError, file: String?)
    /// A file could not be read, written or found.
    case io(path: String, reason: String)
    /// A secret file can be read by group or others.
    case insecurePermissions(path: String, mode: UInt32)
    /// A record has no `secured` field.
    case noSecuredField(path: String)
    /// The key is the wrong kind or size for the operation.
    case unsuitableKey(String)
    /// A cryptographic library failure that is not the user's doing.
    case crypto(CryptoError)
    /// The passphrase does not open the keyring (or the minisign key).
    case wrongPassphrase(what: String, hint: String)
    /// Stored data does not authenticate (an altered or damaged vault file); exit status 1.
    case tampered(String, hint: String?)
    /// A legacy v1 blob would be decrypted although nothing authenticates it (no valid
    /// signature by a trusted key over its record, no explicit opt-in); exit status 2.
    case unauthenticatedLegacy
    /// A rewritten record (seal, unseal, migrate, sign), read back before replacing the file,
    /// did not show what was meant; nothing was written. Exit status 1.
    case rewriteCheckFailed(path: String, reason: String)
    /// An operation was refused (a missing key, an existing file, a policy); exit status 2.
    case refused(String, hint: String?)

    /// The one-line message, without the `avault: ` prefix.
    public var message: String {
        switch self {
        case .decryptionFailed:
            return "decryption failed: wrong key, wrong context, or tampered data"
        case let .malformed(error, file?):
            return "\(file): \(error)"
        case let .malformed(error, nil):
            return "\(error)"
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .insecurePermissions(path, mode):
            return "\(path): secret file is accessible by group or others (mode \(String(mode & 0o777, radix: 8)))"
        case let .noSecuredField(path):
            return "\(path): the record has no 'secured' field"
        case let .unsuitableKey(why):
            return why
        case let .crypto(error):
            return "\(error)"
        case let .wrongPassphrase(what, _):
            return "wrong passphrase for \(what)"
        case let .refused(message, _), let .tampered(message, _):
            return message
        case .unauthenticatedLegacy:
            return "refusing to decrypt a legacy v1 blob that no trusted signature authenticates"
        case let .rewriteCheckFailed(path, reason):
            return "\(path): the rewritten record was not what was meant (\(reason)); nothing was written"
        }
    }

    /// A suggested fix, when there is one.
    public var hint: String? {
        switch self {
        case let .decryptionFailed(hint):
            return hint
        case let .insecurePermissions(path, _):
            return "chmod 600 '\(path)'"
        case .malformed(.invalidKeyFile, _):
            return "a key file holds one key: 32, 48 or 64 hex digits, or standard base64 of 16, 24 or 32 bytes"
        case let .refused(_, hint), let .tampered(_, hint):
            return hint
        case let .wrongPassphrase(_, hint):
            return hint
        case .unauthenticatedLegacy:
            return "v1 is unauthenticated AES-CBC, so its decryption is a padding oracle; sign the record with a trusted key, "
                + "or pass --allow-unauthenticated-legacy to accept that"
        default:
            return nil
        }
    }
}
