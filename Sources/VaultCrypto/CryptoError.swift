/// Errors thrown by ``VaultCrypto``.
///
/// A signature that does not verify is not an error (verification answers `Bool`);
/// malformed input and a failed authenticated decryption are. No case ever carries
/// secret material.
public enum CryptoError: Error, Equatable, Sendable {
    /// A key, nonce, IV, salt or similar had the wrong length.
    case invalidLength(what: String, expected: String, actual: Int)
    /// Decryption failed: wrong key, tampered data, bad tag or bad padding.
    /// Deliberately carries no detail, so that callers cannot leak *why*.
    case decryptionFailed
    /// Text that should have been strict standard base64 was not.
    case invalidBase64
    /// Text that should have been hexadecimal was not.
    case invalidHex
    /// Key derivation failed (usually: not enough memory for the requested limits).
    case keyDerivationFailed
    /// The underlying C library reported an unexpected failure.
    case libraryFailure(String)
    /// An X25519 public key of small order: the shared secret would be all zero.
    case weakPublicKey
}

extension CryptoError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .invalidLength(what, expected, actual):
            return "\(what) is \(actual) bytes, expected \(expected)"
        case .decryptionFailed:
            return "decryption failed"
        case .invalidBase64:
            return "invalid base64"
        case .invalidHex:
            return "invalid hex"
        case .keyDerivationFailed:
            return "key derivation failed (out of memory?)"
        case let .libraryFailure(what):
            return "cryptographic library failure: \(what)"
        case .weakPublicKey:
            return "an X25519 public key of small order (the shared secret would be zero)"
        }
    }
}
