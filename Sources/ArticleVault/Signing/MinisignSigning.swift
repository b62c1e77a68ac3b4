public import VaultCrypto
public import VaultFormat

/// Making and checking minisign signatures (prehashed `ED`, and legacy `Ed` on request).
public enum MinisignSigning {
    /// BLAKE2b-512 of `data`: what an `ED` signature signs.
    public static func prehash<D: BytesView>(_ data: D) -> [UInt8] {
        BLAKE2b.hash(data, digestSize: 64)
    }

    /// BLAKE2b-512 of a record's canonical bytes (``RecordSignatures/canonicalBytes(of:)``),
    /// hashed piece by piece as they are written: never held whole.
    public static func prehash(canonicalBytesOf document: RecordDocument) -> [UInt8] {
        var hasher = BLAKE2b(digestSize: 64)
        RecordSignatures.writeCanonicalBytes(of: document) { hasher.update($0) }
        return hasher.finalize()
    }

    /// BLAKE2b-512 of the canonical bytes of a record read by ``RecordScan`` (the same as of
    /// its ``RecordDocument``).
    public static func prehash(canonicalBytesOf scan: RecordScan) -> [UInt8] {
        var hasher = BLAKE2b(digestSize: 64)
        RecordSignatures.writeCanonicalBytes(of: scan) { hasher.update($0) }
        return hasher.finalize()
    }

    /// Signs a BLAKE2b-512 `digest` as minisign does: the signature, then the global signature
    /// over `signature ‖ trustedComment`.
    public static func sign(digest: [UInt8], key: Ed25519SigningKey, keyID: Minisign.KeyID, trustedComment: String,
                            untrustedComment: String = "signature from avault secret key") -> Minisign.Signature {
        let signature = key.signature(for: digest)
        let global = key.signature(for: signature + Array(trustedComment.utf8))
        return Minisign.Signature(algorithm: Minisign.prehashedAlgorithm, keyID: keyID, signature: signature,
                                  trustedComment: trustedComment, globalSignature: global, untrustedComment: untrustedComment)
    }

    /// What checking one signature against one public key found.
    public enum Check: Equatable, Sendable {
        /// Both the signature and the global signature verify.
        case valid
        /// The signature names another key; nothing was verified.
        case keyMismatch(signature: Minisign.KeyID, key: Minisign.KeyID)
        /// The signature does not match the data.
        case badSignature
        /// The data matches but the trusted comment was altered.
        case badTrustedComment
        /// A legacy `Ed` signature, not accepted without `allowLegacy`.
        case legacyRefused
    }

    /// Checks `signature` over the data whose BLAKE2b-512 is `digest` (for `ED`) or over the
    /// data itself (`message`, for legacy `Ed`, only with `allowLegacy`). The key id is compared
    /// before any cryptography.
    public static func check(_ signature: Minisign.Signature, digest: @autoclosure () -> [UInt8], message: (() -> [UInt8])? = nil,
                             publicKey: Minisign.PublicKey, allowLegacy: Bool = false) -> Check {
        guard signature.keyID == publicKey.keyID else {
            return .keyMismatch(signature: signature.keyID, key: publicKey.keyID)
        }
        guard let key = try? Ed25519PublicKey(bytes: publicKey.key) else { return .badSignature }
        let ok: Bool
        if signature.algorithm == Minisign.legacyAlgorithm {
            guard allowLegacy, let message else { return .legacyRefused }
            ok = key.isValidSignature(signature.signature, for: message())
        } else {
            ok = key.isValidSignature(signature.signature, for: digest())
        }
        guard ok else { return .badSignature }
        guard key.isValidSignature(signature.globalSignature, for: signature.globalMessage) else { return .badTrustedComment }
        return .valid
    }
}
