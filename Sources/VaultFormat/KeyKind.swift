/// What a key is for.
public enum KeyKind: String, CaseIterable, Sendable, CustomStringConvertible {
    /// A 32-byte XChaCha20-Poly1305 content key: v2 blobs, sealed drafts, the vault.
    case content
    /// A 16-, 24- or 32-byte AES key for legacy v1 blobs (decryption; encryption only on request).
    case legacy
    /// An Ed25519 signing key, minisign-compatible.
    case signing
    /// An X25519 identity, age-compatible: it opens age files sent to its recipient (`age1…`).
    case identity

    public var description: String { rawValue }
}

/// A key's identifier: the 8-byte kid of a content or legacy key (16 lowercase hex digits), or
/// the minisign key id of a signing key (as minisign prints it).
public enum KeyIdentifier: Hashable, Sendable, CustomStringConvertible {
    case content(KeyID)
    case minisign(Minisign.KeyID)

    /// Parses `text` as the identifier of a key of `kind`; nil when it has another shape.
    public init?(_ text: String, kind: KeyKind) {
        switch kind {
        case .content, .legacy, .identity:
            // An identity's id has the shape of a content kid (of its public key, not a secret).
            guard let id = KeyID(hex: text) else { return nil }
            self = .content(id)
        case .signing:
            guard let id = Minisign.KeyID(printed: text) else { return nil }
            self = .minisign(id)
        }
    }

    /// How avault prints it (and stores it in the keyring).
    public var description: String {
        switch self {
        case .content(let id): id.hex
        case .minisign(let id): id.printed
        }
    }
}
