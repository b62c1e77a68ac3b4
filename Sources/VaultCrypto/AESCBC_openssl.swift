internal import COpenSSL

/// AES in CBC mode with PKCS#7 padding (or none), over OpenSSL's EVP interface.
///
/// The key's length picks the variant: 16, 24 or 32 bytes for AES-128, -192 or -256.
/// CBC has no authentication: a decryption that "succeeds" proves nothing about who made
/// the ciphertext. Every decryption failure is the same ``CryptoError/decryptionFailed``,
/// whatever went wrong, so callers cannot build a padding oracle out of it.
public enum AESCBC {
    /// The AES block size, which is also the IV size.
    public static let blockSize = 16
    /// Accepted key sizes in bytes.
    public static let keySizes: Set<Int> = [16, 24, 32]

    /// Encrypts `plaintext`. With `padding` (the default) the output is 1 to 16 bytes longer
    /// than the input; without it the input must be a whole number of blocks.
    public static func encrypt(_ plaintext: [UInt8], key: SecretBytes, iv: [UInt8], padding: Bool = true) throws(CryptoError) -> [UInt8] {
        try checkSizes(key: key, iv: iv)
        if !padding, plaintext.count % blockSize != 0 {
            throw .invalidLength(what: "unpadded CBC plaintext", expected: "a multiple of 16", actual: plaintext.count)
        }
        guard let out = run(encrypt: true, input: plaintext, key: key, iv: iv, padding: padding) else {
            throw .libraryFailure("EVP encryption")
        }
        return out
    }

    /// Decrypts `ciphertext` (a non-empty whole number of blocks when `padding` is on).
    /// Throws ``CryptoError/invalidLength(what:expected:actual:)`` for a bad key or IV size and
    /// ``CryptoError/decryptionFailed`` for everything else, bad padding included.
    public static func decrypt(_ ciphertext: [UInt8], key: SecretBytes, iv: [UInt8], padding: Bool = true) throws(CryptoError) -> [UInt8] {
        try checkSizes(key: key, iv: iv)
        guard ciphertext.count % blockSize == 0, !(padding && ciphertext.isEmpty) else {
            throw .decryptionFailed
        }
        guard let out = run(encrypt: false, input: ciphertext, key: key, iv: iv, padding: padding) else {
            throw .decryptionFailed
        }
        return out
    }

    private static func checkSizes(key: SecretBytes, iv: [UInt8]) throws(CryptoError) {
        guard keySizes.contains(key.count) else {
            throw .invalidLength(what: "AES key", expected: "16, 24 or 32", actual: key.count)
        }
        guard iv.count == blockSize else {
            throw .invalidLength(what: "CBC IV", expected: "16", actual: iv.count)
        }
    }

    /// One EVP pass. Returns nil on any failure, after wiping what was produced.
    private static func run(encrypt: Bool, input: [UInt8], key: SecretBytes, iv: [UInt8], padding: Bool) -> [UInt8]? {
        guard let ctx = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(ctx) }
        let cipher: OpaquePointer? = switch key.count {
        case 16: EVP_aes_128_cbc()
        case 24: EVP_aes_192_cbc()
        default: EVP_aes_256_cbc()
        }
        let initOK = key.withUnsafeBytes { k in
            iv.withUnsafeBufferPointer { v in
                encrypt
                    ? EVP_EncryptInit_ex(ctx, cipher, nil, k.baseAddress!.assumingMemoryBound(to: UInt8.self), v.baseAddress!)
                    : EVP_DecryptInit_ex(ctx, cipher, nil, k.baseAddress!.assumingMemoryBound(to: UInt8.self), v.baseAddress!)
            }
        }
        guard initOK == 1, EVP_CIPHER_CTX_set_padding(ctx, padding ? 1 : 0) == 1 else { return nil }

        var out = [UInt8](repeating: 0, count: input.count + blockSize)
        var written = 0
        let ok: Bool = out.withUnsafeMutableBufferPointer { o in
            input.withUnsafeBufferPointer { i in
                // EVP takes Int32 lengths: feed at most 1 GiB at a time.
                var offset = 0
                while offset < i.count {
                    let n = min(i.count - offset, 1 << 30)
                    var outl: Int32 = 0
                    let rc = encrypt
                        ? EVP_EncryptUpdate(ctx, o.baseAddress! + written, &outl, i.baseAddress! + offset, Int32(n))
                        : EVP_DecryptUpdate(ctx, o.baseAddress! + written, &outl, i.baseAddress! + offset, Int32(n))
                    guard rc == 1 else { return false }
                    written += Int(outl)
                    offset += n
                }
                var outl: Int32 = 0
                let rc = encrypt
                    ? EVP_EncryptFinal_ex(ctx, o.baseAddress! + written, &outl)
                    : EVP_DecryptFinal_ex(ctx, o.baseAddress! + written, &outl)
                guard rc == 1 else { return false }
                written += Int(outl)
                return true
            }
        }
        ERR_clear_error()
        guard ok else {
            wipe(&out)
            return nil
        }
        if written < out.count {
            out.withUnsafeMutableBytes { zero(UnsafeMutableRawBufferPointer(rebasing: $0[written...])) }
            out.removeLast(out.count - written)
        }
        return out
    }
}
