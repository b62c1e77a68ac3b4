internal import CSodium

/// ChaCha20-Poly1305 as RFC 8439 defines it (libsodium `crypto_aead_chacha20poly1305_ietf_*`,
/// combined mode): 12-byte nonces, 16-byte tags. age wraps file keys and encrypts its payload
/// chunks with it; nonces there are counters, never random.
public enum ChaCha20Poly1305 {
    /// Key size (32 bytes).
    public static var keySize: Int { Int(crypto_aead_chacha20poly1305_ietf_keybytes()) }
    /// Nonce size (12 bytes).
    public static var nonceSize: Int { Int(crypto_aead_chacha20poly1305_ietf_npubbytes()) }
    /// Tag size (16 bytes).
    public static var tagSize: Int { Int(crypto_aead_chacha20poly1305_ietf_abytes()) }

    /// Encrypts `plaintext` into `output` (at least `plaintext.count + tagSize` bytes); returns
    /// the number of bytes written (`plaintext.count + tagSize`).
    public static func seal(_ plaintext: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, key: SecretBytes, nonce: [UInt8]) throws(CryptoError) -> Int {
        sodiumReady()
        try check(key: key, nonce: nonce)
        precondition(output.count >= plaintext.count + tagSize, "ChaCha20-Poly1305 output buffer")
        var written: UInt64 = 0
        let rc = nonNull(plaintext) { m in
            nonce.withUnsafeBufferPointer { n in
                key.withUnsafeBytes { k in
                    crypto_aead_chacha20poly1305_ietf_encrypt(
                        output.baseAddress!.assumingMemoryBound(to: UInt8.self), &written, m, UInt64(plaintext.count),
                        nil, 0, nil, n.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        guard rc == 0, Int(written) == plaintext.count + tagSize else { throw .libraryFailure("chacha20poly1305 encrypt") }
        return Int(written)
    }

    /// Encrypts `plaintext`; returns `ciphertext ‖ tag`.
    public static func seal<P: BytesView>(_ plaintext: P, key: SecretBytes, nonce: [UInt8]) throws(CryptoError) -> [UInt8] {
        let count = plaintext.withUnsafeBytes { $0.count }
        var out = [UInt8](repeating: 0, count: count + tagSize)
        var failure: CryptoError?
        out.withUnsafeMutableBytes { o in
            plaintext.withUnsafeBytes { p in
                do throws(CryptoError) { _ = try seal(p, into: o, key: key, nonce: nonce) } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return out
    }

    /// Verifies and decrypts `sealed` (`ciphertext ‖ tag`) into `output` (at least
    /// `sealed.count - tagSize` bytes); returns the plaintext's length. Throws
    /// ``CryptoError/decryptionFailed`` when anything is wrong; `output` then holds no plaintext.
    public static func open(_ sealed: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, key: SecretBytes, nonce: [UInt8]) throws(CryptoError) -> Int {
        sodiumReady()
        try check(key: key, nonce: nonce)
        guard sealed.count >= tagSize else { throw .decryptionFailed }
        precondition(output.count >= sealed.count - tagSize, "ChaCha20-Poly1305 output buffer")
        var written: UInt64 = 0
        let rc = nonNull(sealed) { c in
            nonce.withUnsafeBufferPointer { n in
                key.withUnsafeBytes { k in
                    nonNull(UnsafeRawBufferPointer(output)) { o in
                        crypto_aead_chacha20poly1305_ietf_decrypt(
                            UnsafeMutablePointer(mutating: o), &written, nil, c, UInt64(sealed.count),
                            nil, 0, n.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
        }
        guard rc == 0 else { throw .decryptionFailed }
        return Int(written)
    }

    /// Verifies and decrypts `sealed` straight into secret memory (a wrapped file key).
    public static func openSecret<C: BytesView>(_ sealed: C, key: SecretBytes, nonce: [UInt8]) throws(CryptoError) -> SecretBytes {
        let count = sealed.withUnsafeBytes { $0.count }
        guard count >= tagSize else { throw .decryptionFailed }
        var failure: CryptoError?
        let secret = SecretBytes(count: count - tagSize) { o in
            sealed.withUnsafeBytes { c in
                do throws(CryptoError) { _ = try open(c, into: o, key: key, nonce: nonce) } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return secret
    }

    private static func check(key: SecretBytes, nonce: [UInt8]) throws(CryptoError) {
        guard key.count == keySize else {
            throw .invalidLength(what: "ChaCha20-Poly1305 key", expected: "\(keySize)", actual: key.count)
        }
        guard nonce.count == nonceSize else {
            throw .invalidLength(what: "ChaCha20-Poly1305 nonce", expected: "\(nonceSize)", actual: nonce.count)
        }
    }
}
