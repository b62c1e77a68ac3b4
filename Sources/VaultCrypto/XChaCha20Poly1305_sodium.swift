internal import CSodium

/// XChaCha20-Poly1305-IETF authenticated encryption (libsodium, combined mode).
///
/// The sealed form is `ciphertext ‖ 16-byte tag`. Nonces are 24 bytes: random nonces are safe.
public enum XChaCha20Poly1305 {
    /// Key size in bytes (32).
    public static var keySize: Int { Int(crypto_aead_xchacha20poly1305_ietf_keybytes()) }
    /// Nonce size in bytes (24).
    public static var nonceSize: Int { Int(crypto_aead_xchacha20poly1305_ietf_npubbytes()) }
    /// Tag size in bytes (16).
    public static var tagSize: Int { Int(crypto_aead_xchacha20poly1305_ietf_abytes()) }

    /// A fresh random key.
    public static func generateKey() -> SecretBytes { SecretBytes.random(count: keySize) }

    /// Encrypts and authenticates `plaintext`, binding `associatedData`. Returns `ciphertext ‖ tag`.
    public static func seal<P: BytesView>(_ plaintext: P, key: SecretBytes, nonce: [UInt8], associatedData: [UInt8] = []) throws(CryptoError) -> [UInt8] {
        sodiumReady()
        try check(key: key, nonce: nonce)
        let count = plaintext.withUnsafeBytes { $0.count }
        var out = [UInt8](repeating: 0, count: count + tagSize)
        var outLength: UInt64 = 0
        let rc = withNonNullMutablePointer(&out) { o, _ in
            plaintext.withUnsafeBytes { raw in nonNull(raw) { m -> Int32 in
                let mCount = raw.count
                return withNonNullPointer(associatedData) { ad, adCount in
                    nonce.withUnsafeBufferPointer { n in
                        key.withUnsafeBytes { k in
                            crypto_aead_xchacha20poly1305_ietf_encrypt(
                                o, &outLength,
                                m, UInt64(mCount),
                                ad, UInt64(adCount),
                                nil, n.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                        }
                    }
                }
            } }
        }
        guard rc == 0, Int(outLength) == out.count else { throw .libraryFailure("xchacha20poly1305 encrypt") }
        return out
    }

    /// Verifies and decrypts `ciphertext ‖ tag`. Throws ``CryptoError/decryptionFailed`` when the
    /// key, nonce, associated data or ciphertext is wrong; nothing is returned in that case.
    public static func open(_ sealed: [UInt8], key: SecretBytes, nonce: [UInt8], associatedData: [UInt8] = []) throws(CryptoError) -> [UInt8] {
        sodiumReady()
        try check(key: key, nonce: nonce)
        guard sealed.count >= tagSize else { throw .decryptionFailed }
        var out = [UInt8](repeating: 0, count: sealed.count - tagSize)
        var outLength: UInt64 = 0
        let rc = withNonNullMutablePointer(&out) { o, _ in
            withNonNullPointer(sealed) { c, cCount in
                withNonNullPointer(associatedData) { ad, adCount in
                    nonce.withUnsafeBufferPointer { n in
                        key.withUnsafeBytes { k in
                            crypto_aead_xchacha20poly1305_ietf_decrypt(
                                o, &outLength, nil,
                                c, UInt64(cCount),
                                ad, UInt64(adCount),
                                n.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                        }
                    }
                }
            }
        }
        guard rc == 0 else { throw .decryptionFailed }
        return out
    }

    /// Like ``open(_:key:nonce:associatedData:)`` but decrypts straight into secret memory,
    /// for sealed keys.
    public static func openSecret(_ sealed: [UInt8], key: SecretBytes, nonce: [UInt8], associatedData: [UInt8] = []) throws(CryptoError) -> SecretBytes {
        sodiumReady()
        try check(key: key, nonce: nonce)
        guard sealed.count >= tagSize else { throw .decryptionFailed }
        var rc: Int32 = -1
        let secret = SecretBytes(count: sealed.count - tagSize) { o in
            var outLength: UInt64 = 0
            rc = nonNull(UnsafeRawBufferPointer(o)) { m in
                withNonNullPointer(sealed) { c, cCount in
                    withNonNullPointer(associatedData) { ad, adCount in
                        nonce.withUnsafeBufferPointer { n in
                            key.withUnsafeBytes { k in
                                crypto_aead_xchacha20poly1305_ietf_decrypt(
                                    UnsafeMutablePointer(mutating: m), &outLength, nil, c, UInt64(cCount), ad, UInt64(adCount),
                                    n.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                            }
                        }
                    }
                }
            }
        }
        guard rc == 0 else { throw .decryptionFailed }
        return secret
    }

    private static func check(key: SecretBytes, nonce: [UInt8]) throws(CryptoError) {
        guard key.count == keySize else {
            throw .invalidLength(what: "XChaCha20-Poly1305 key", expected: "\(keySize)", actual: key.count)
        }
        guard nonce.count == nonceSize else {
            throw .invalidLength(what: "XChaCha20-Poly1305 nonce", expected: "\(nonceSize)", actual: nonce.count)
        }
    }
}
