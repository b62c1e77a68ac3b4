internal import CSodium

/// An Ed25519 public key (RFC 8032), 32 bytes.
public struct Ed25519PublicKey: Equatable, Hashable, Sendable {
    /// Public key size in bytes (32).
    public static var size: Int { Int(crypto_sign_publickeybytes()) }
    /// Signature size in bytes (64).
    public static var signatureSize: Int { Int(crypto_sign_bytes()) }

    /// The 32 key bytes.
    public let bytes: [UInt8]

    /// Wraps 32 bytes. Throws ``CryptoError/invalidLength(what:expected:actual:)`` otherwise.
    /// The bytes are not checked for being a valid point: verification does that.
    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Self.size else {
            throw .invalidLength(what: "Ed25519 public key", expected: "\(Self.size)", actual: bytes.count)
        }
        self.bytes = bytes
    }

    /// True when `signature` is a valid Ed25519 signature of `message` by this key
    /// (`crypto_sign_verify_detached`: canonical S, no small-order keys). A signature of
    /// the wrong length is simply not valid.
    public func isValidSignature<M: BytesView>(_ signature: [UInt8], for message: M) -> Bool {
        sodiumReady()
        guard signature.count == Self.signatureSize else { return false }
        return message.withUnsafeBytes { m in
            signature.withUnsafeBufferPointer { s in
                bytes.withUnsafeBufferPointer { pk in
                    crypto_sign_verify_detached(
                        s.baseAddress!, m.baseAddress?.assumingMemoryBound(to: UInt8.self),
                        UInt64(m.count), pk.baseAddress!) == 0
                }
            }
        }
    }
}

/// An Ed25519 signing key. The secret half is a ``SecretBytes`` in libsodium's 64-byte
/// layout (`seed ‖ public key`).
public struct Ed25519SigningKey: Sendable {
    /// Seed size in bytes (32).
    public static var seedSize: Int { Int(crypto_sign_seedbytes()) }
    /// Secret key size in bytes in libsodium's layout (64).
    public static var secretKeySize: Int { Int(crypto_sign_secretkeybytes()) }

    /// `seed ‖ public key`, in secret memory.
    public let secretKey: SecretBytes
    /// The public half.
    public let publicKey: Ed25519PublicKey

    /// Derives the key pair from a 32-byte seed (RFC 8032 private key).
    public init(seed: SecretBytes) throws(CryptoError) {
        sodiumReady()
        guard seed.count == Self.seedSize else {
            throw .invalidLength(what: "Ed25519 seed", expected: "\(Self.seedSize)", actual: seed.count)
        }
        var pk = [UInt8](repeating: 0, count: Ed25519PublicKey.size)
        let sk = SecretBytes(count: Self.secretKeySize) { skBuf in
            seed.withUnsafeBytes { s in
                _ = crypto_sign_seed_keypair(&pk, skBuf.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                             s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        self.secretKey = sk
        self.publicKey = try Ed25519PublicKey(bytes: pk)
    }

    /// Wraps a 64-byte `seed ‖ public key`, as stored by libsodium and minisign.
    /// Throws when the public half is not the one the seed derives (a corrupt key).
    public init(secretKey: SecretBytes) throws(CryptoError) {
        guard secretKey.count == Self.secretKeySize else {
            throw .invalidLength(what: "Ed25519 secret key", expected: "\(Self.secretKeySize)", actual: secretKey.count)
        }
        try self.init(seed: secretKey.slice(0..<Self.seedSize))
        let consistent = secretKey.withUnsafeBytes { raw in
            ConstantTime.equals(UnsafeRawBufferPointer(rebasing: raw[Self.seedSize...]), publicKey.bytes)
        }
        guard consistent else { throw .libraryFailure("Ed25519 secret key does not match its public key") }
    }

    /// A fresh random key pair.
    public static func generate() -> Ed25519SigningKey {
        // A 32-byte seed of the right size cannot fail.
        try! Ed25519SigningKey(seed: SecretBytes.random(count: seedSize))
    }

    /// The 32-byte seed, in secret memory.
    public var seed: SecretBytes { secretKey.slice(0..<Self.seedSize) }

    /// The 64-byte Ed25519 signature of `message` (`crypto_sign_detached`).
    public func signature<M: BytesView>(for message: M) -> [UInt8] {
        sodiumReady()
        var sig = [UInt8](repeating: 0, count: Ed25519PublicKey.signatureSize)
        var sigLength: UInt64 = 0
        message.withUnsafeBytes { m in
            secretKey.withUnsafeBytes { sk in
                _ = crypto_sign_detached(&sig, &sigLength, m.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                         UInt64(m.count), sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return sig
    }
}
