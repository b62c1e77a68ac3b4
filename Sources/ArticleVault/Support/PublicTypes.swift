public import VaultFormat

// The value types of VaultFormat that ArticleVault's API takes and returns, named through
// ArticleVault: a client (the CLI) imports VaultFormat only to build JSON output. Each name is
// the VaultFormat type itself, not a copy (ArticleVault's name shadows VaultFormat's in a file
// that imports both).

/// What a key is for: content, legacy or signing (see VaultFormat's `KeyKind`).
public typealias KeyKind = VaultFormat.KeyKind
/// A content key id: 8 bytes, written as 16 lowercase hex digits (see VaultFormat's `KeyID`).
public typealias KeyID = VaultFormat.KeyID
/// A key's identifier in the keyring: a content kid or a minisign key id (see VaultFormat's
/// `KeyIdentifier`).
public typealias KeyIdentifier = VaultFormat.KeyIdentifier
/// A time parsed once from RFC 3339 text, keeping the text (see VaultFormat's `Timestamp`).
public typealias Timestamp = VaultFormat.Timestamp
/// A minisign key id (signing keys, trust-store keys), 16 uppercase hex digits as minisign prints it.
public typealias MinisignKeyID = Minisign.KeyID
/// A minisign public key: its key id and Ed25519 key.
public typealias MinisignPublicKey = Minisign.PublicKey

extension Keyring {
    /// One version of one key in the keyring.
    public typealias Entry = KeyringFile.Entry
    /// The first line of a current (version 2) keyring file, as `keys upgrade` reports it.
    public static var currentFormat: String { KeyringFile.magic }
}

extension KeyringFile.Entry {
    /// The minisign public key of a signing key version; nil for other kinds.
    public var minisignPublicKey: Minisign.PublicKey? {
        guard algorithm == .ed25519, let publicKey, case .minisign(let id) = id else { return nil }
        return Minisign.PublicKey(keyID: id, key: publicKey)
    }
}

extension TrustStore {
    /// One trusted publisher key with its name, roles, validity window and revocation.
    public typealias Entry = TrustStoreFile.Entry
    /// Whether `name` may name a trusted key: non-empty text on one line, no control characters.
    public static func isValidName(_ name: String) -> Bool { TrustStoreFile.isValidText(name) }
    /// Whether `role` is a valid role: 1–64 of `a–z 0–9 . _ -`.
    public static func isValidRole(_ role: String) -> Bool { TrustStoreFile.isValidRole(role) }
    /// Whether `reason` may be a revocation reason: text on one line (empty allowed).
    public static func isValidReason(_ reason: String) -> Bool { TrustStoreFile.isValidText(reason, allowEmpty: true) }
}
