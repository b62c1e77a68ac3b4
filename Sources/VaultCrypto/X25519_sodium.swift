internal import CSodium

/// X25519 Diffie-Hellman (RFC 7748) through libsodium's `crypto_scalarmult`: age's recipients.
public enum X25519 {
    /// The size of a secret scalar and of a public point (32 bytes).
    public static var size: Int { Int(crypto_scalarmult_bytes()) }

    /// A fresh random secret scalar.
    public static func generateSecret() -> SecretBytes { SecretBytes.random(count: Int(crypto_scalarmult_scalarbytes())) }

    /// The public point of `secret` (`crypto_scalarmult_base`).
    public static func publicKey(of secret: SecretBytes) throws(CryptoError) -> [UInt8] {
        sodiumReady()
        guard secret.count == Int(crypto_scalarmult_scalarbytes()) else {
            throw .invalidLength(what: "X25519 secret", expected: "32", actual: secret.count)
        }
        var out = [UInt8](repeating: 0, count: size)
        let rc = out.withUnsafeMutableBufferPointer { o in
            secret.withUnsafeBytes { s in crypto_scalarmult_base(o.baseAddress!, s.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        }
        guard rc == 0 else { throw .libraryFailure("crypto_scalarmult_base") }
        return out
    }

    /// The shared secret of `secret` and the peer's `publicKey` (`crypto_scalarmult`). A point
    /// of small order gives the all-zero secret, which is refused (``CryptoError/weakPublicKey``)
    /// as RFC 7748 section 6.1 allows and age requires.
    public static func sharedSecret(_ secret: SecretBytes, _ publicKey: [UInt8]) throws(CryptoError) -> SecretBytes {
        sodiumReady()
        guard secret.count == Int(crypto_scalarmult_scalarbytes()) else {
            throw .invalidLength(what: "X25519 secret", expected: "32", actual: secret.count)
        }
        guard publicKey.count == size else {
            throw .invalidLength(what: "X25519 public key", expected: "32", actual: publicKey.count)
        }
        var rc: Int32 = -1
        var zero: Int32 = 1
        let shared = SecretBytes(count: size) { o in
            let out = o.baseAddress!.assumingMemoryBound(to: UInt8.self)
            rc = publicKey.withUnsafeBufferPointer { p in
                secret.withUnsafeBytes { s in crypto_scalarmult(out, s.baseAddress!.assumingMemoryBound(to: UInt8.self), p.baseAddress!) }
            }
            zero = sodium_is_zero(out, o.count)
        }
        // libsodium returns -1 for the all-zero result; check it again ourselves.
        guard rc == 0, zero == 0 else { throw .weakPublicKey }
        return shared
    }
}
