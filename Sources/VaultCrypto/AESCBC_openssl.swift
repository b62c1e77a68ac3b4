internal import COpenSSL

/// AES in CBC mode with PKCS#7 padding (or none), over OpenSSL's EVP interface (libcrypto is
/// loaded on first use: ``LibCrypto``).
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

    /// Whether `count` is an AES key size (what ``keySizes`` holds, without hashing).
    @inlinable public static func isKeySize(_ count: Int) -> Bool { count == 16 || count == 24 || count == 32 }

    /// Encrypts `plaintext`. With `padding` (the default) the output is 1 to 16 bytes longer
    /// than the input; without it the input must be a whole number of blocks.
    public static func encrypt(_ plaintext: [UInt8], key: SecretBytes, iv: [UInt8], padding: Bool = true) throws(CryptoError) -> [UInt8] {
        try checkSizes(key: key, iv: iv)
        if !padding, plaintext.count % blockSize != 0 {
            throw .invalidLength(what: "unpadded CBC plaintext", expected: "a multiple of 16", actual: plaintext.count)
        }
        let api = try LibCrypto.api()
        guard let out = run(api, encrypt: true, input: plaintext, key: key, iv: iv, padding: padding) else {
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
        let api = try LibCrypto.api()
        guard let out = run(api, encrypt: false, input: ciphertext, key: key, iv: iv, padding: padding) else {
            throw .decryptionFailed
        }
        return out
    }

    private static func checkSizes(key: SecretBytes, iv: [UInt8]) throws(CryptoError) {
        guard isKeySize(key.count) else {
            throw .invalidLength(what: "AES key", expected: "16, 24 or 32", actual: key.count)
        }
        guard iv.count == blockSize else {
            throw .invalidLength(what: "CBC IV", expected: "16", actual: iv.count)
        }
    }

    /// One EVP pass. Returns nil on any failure, after wiping what was produced.
    private static func run(_ api: UnsafePointer<avault_libcrypto>, encrypt: Bool, input: [UInt8], key: SecretBytes, iv: [UInt8], padding: Bool) -> [UInt8]? {
        let c = api.pointee
        guard let ctx = c.EVP_CIPHER_CTX_new() else { return nil }
        defer { c.EVP_CIPHER_CTX_free(ctx) }
        let cipher = Cipher.forKey(count: key.count, api)
        let initOK = key.withUnsafeBytes { k in
            iv.withUnsafeBufferPointer { v in
                encrypt
                    ? c.EVP_EncryptInit_ex2(ctx, cipher, k.baseAddress!.assumingMemoryBound(to: UInt8.self), v.baseAddress!, nil)
                    : c.EVP_DecryptInit_ex2(ctx, cipher, k.baseAddress!.assumingMemoryBound(to: UInt8.self), v.baseAddress!, nil)
            }
        }
        // PKCS#7 is EVP's default; setting it is a parameter lookup, so only turn it off.
        guard initOK == 1, padding || c.EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 else {
            c.ERR_clear_error()
            return nil
        }

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
                        ? c.EVP_EncryptUpdate(ctx, o.baseAddress! + written, &outl, i.baseAddress! + offset, Int32(n))
                        : c.EVP_DecryptUpdate(ctx, o.baseAddress! + written, &outl, i.baseAddress! + offset, Int32(n))
                    guard rc == 1 else { return false }
                    written += Int(outl)
                    offset += n
                }
                var outl: Int32 = 0
                let rc = encrypt
                    ? c.EVP_EncryptFinal_ex(ctx, o.baseAddress! + written, &outl)
                    : c.EVP_DecryptFinal_ex(ctx, o.baseAddress! + written, &outl)
                guard rc == 1 else { return false }
                written += Int(outl)
                return true
            }
        }
        guard ok else {
            c.ERR_clear_error() // a failure leaves an error on the thread's queue
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

/// The three AES-CBC implementations, fetched from OpenSSL's default provider once per process.
///
/// `EVP_aes_256_cbc()` and its siblings are OpenSSL 1.1 compatibility objects: OpenSSL 3 looks
/// the implementation up again (a fetch, with its locks) on every initialisation that names
/// one, which costs more than decrypting a small blob. A fetched `EVP_CIPHER` is immutable and
/// may be shared by every thread; these are never freed.
enum Cipher {
    private struct Fetched: @unchecked Sendable { let aes128, aes192, aes256: OpaquePointer }

    private static let fetched: Fetched = {
        let api = LibCrypto.required() // loaded already: forKey's callers hold its functions
        func fetch(_ name: String) -> OpaquePointer {
            guard let cipher = api.pointee.EVP_CIPHER_fetch(nil, name, nil) else {
                fatalError("OpenSSL has no \(name) (is the default provider available?)")
            }
            return cipher
        }
        return Fetched(aes128: fetch("AES-128-CBC"), aes192: fetch("AES-192-CBC"), aes256: fetch("AES-256-CBC"))
    }()

    /// AES-128-, -192- or -256-CBC for a 16-, 24- or 32-byte key (callers check the size first).
    static func forKey(count: Int, _: UnsafePointer<avault_libcrypto>) -> OpaquePointer {
        switch count {
        case 16: fetched.aes128
        case 24: fetched.aes192
        default: fetched.aes256
        }
    }
}

extension AESCBC {
    /// AES-CBC decryption of a long ciphertext in pieces, for streaming a legacy blob.
    ///
    /// The key schedule is set once; each call names the IV of its piece, so pieces can be
    /// decrypted in any order or on different threads (one decryptor per thread: an instance
    /// is not thread-safe). In CBC the IV of a piece is the ciphertext block before it.
    ///
    /// ``decryptBlocks(_:iv:)`` is raw CBC over whole blocks, in place, with no padding;
    /// ``decryptLastBlock(_:previous:)`` removes the PKCS#7 padding of the final block. A
    /// failure is ``CryptoError/decryptionFailed``, whatever went wrong.
    public final class Decryptor {
        private let ctx: OpaquePointer
        private let cipher: OpaquePointer
        private let c: avault_libcrypto

        /// Sets up AES-128, -192 or -256 for a 16-, 24- or 32-byte `key`
        /// (else ``CryptoError/invalidLength(what:expected:actual:)``).
        public init(key: SecretBytes) throws(CryptoError) {
            guard AESCBC.isKeySize(key.count) else {
                throw .invalidLength(what: "AES key", expected: "16, 24 or 32", actual: key.count)
            }
            let api = try LibCrypto.api()
            let c = api.pointee
            self.c = c
            guard let ctx = c.EVP_CIPHER_CTX_new() else { throw .libraryFailure("EVP_CIPHER_CTX_new") }
            self.ctx = ctx
            cipher = Cipher.forKey(count: key.count, api)
            let ok = key.withUnsafeBytes { k in
                c.EVP_DecryptInit_ex2(ctx, cipher, k.baseAddress!.assumingMemoryBound(to: UInt8.self), nil, nil)
            }
            guard ok == 1 else {
                c.ERR_clear_error()
                c.EVP_CIPHER_CTX_free(ctx) // wipes the key schedule
                throw .libraryFailure("EVP_DecryptInit_ex2")
            }
        }

        deinit { c.EVP_CIPHER_CTX_free(ctx) } // OpenSSL cleanses the key schedule

        /// Decrypts `buffer` (a whole number of blocks) in place, chained from `iv` (16 bytes:
        /// the blob's IV for the first piece, else the ciphertext block just before `buffer`).
        public func decryptBlocks(_ buffer: UnsafeMutableRawBufferPointer, iv: UnsafeRawBufferPointer) throws(CryptoError) {
            guard iv.count == blockSize else { throw .invalidLength(what: "CBC IV", expected: "16", actual: iv.count) }
            guard buffer.count % blockSize == 0 else { throw .decryptionFailed }
            guard buffer.count > 0 else { return }
            guard start(iv: iv, padding: false) else { throw .decryptionFailed }
            let out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var offset = 0
            while offset < buffer.count {
                let n = min(buffer.count - offset, 1 << 30) // EVP takes Int32 lengths
                var outl: Int32 = 0
                // In place: OpenSSL allows an output that is exactly the input.
                guard c.EVP_DecryptUpdate(ctx, out + offset, &outl, out + offset, Int32(n)) == 1, Int(outl) == n else {
                    c.ERR_clear_error()
                    throw .decryptionFailed
                }
                offset += n
            }
        }

        /// Decrypts the final ciphertext block `last` (16 bytes) chained from `previous` (the
        /// block before it, or the blob's IV), checks and removes its PKCS#7 padding, and
        /// returns the 0 to 15 plaintext bytes left. Bad padding is ``CryptoError/decryptionFailed``.
        public func decryptLastBlock(_ last: UnsafeRawBufferPointer, previous: UnsafeRawBufferPointer) throws(CryptoError) -> SecretBytes {
            guard previous.count == blockSize else { throw .invalidLength(what: "CBC IV", expected: "16", actual: previous.count) }
            guard last.count == blockSize else { throw .decryptionFailed }
            var written = -1
            let plain = SecretBytes(count: 2 * blockSize) { out in
                guard start(iv: previous, padding: true) else { return }
                let o = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
                var outl: Int32 = 0
                guard c.EVP_DecryptUpdate(ctx, o, &outl, last.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(blockSize)) == 1 else { return }
                var finl: Int32 = 0
                guard c.EVP_DecryptFinal_ex(ctx, o + Int(outl), &finl) == 1 else { return }
                written = Int(outl + finl)
            }
            c.ERR_clear_error()
            guard (0..<blockSize).contains(written) else { throw .decryptionFailed }
            return plain.slice(0..<written)
        }

        private func start(iv: UnsafeRawBufferPointer, padding: Bool) -> Bool {
            // No cipher and no key: the key schedule set in init stays, only the IV changes.
            guard c.EVP_DecryptInit_ex2(ctx, nil, nil, iv.baseAddress!.assumingMemoryBound(to: UInt8.self), nil) == 1,
                  c.EVP_CIPHER_CTX_set_padding(ctx, padding ? 1 : 0) == 1 else {
                c.ERR_clear_error()
                return false
            }
            return true
        }
    }
}
