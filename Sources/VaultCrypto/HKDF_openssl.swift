internal import COpenSSL

/// HKDF-SHA-256 (RFC 5869) through OpenSSL's `EVP_KDF` "HKDF": what the age format derives its
/// wrapping, header and payload keys with.
public enum HKDF {
    /// `length` bytes of HKDF-SHA-256 (extract, then expand) of `ikm` with `salt` (an empty salt
    /// is HashLen zero bytes, as RFC 5869 says) and `info`, into secret memory.
    public static func sha256<S: BytesView, I: BytesView>(ikm: SecretBytes, salt: S, info: I, length: Int) throws(CryptoError) -> SecretBytes {
        precondition(length > 0 && length <= 255 * 32, "HKDF-SHA-256 output length")
        let api = try LibCrypto.api()
        var ok: Int32 = 0
        let out = SecretBytes(count: length) { o in
            ikm.withUnsafeBytes { k in
                salt.withUnsafeBytes { s in
                    info.withUnsafeBytes { i in
                        nonNull(k) { kp in nonNull(s) { sp in nonNull(i) { ip in
                            ok = avault_hkdf_sha256(api, o.baseAddress!.assumingMemoryBound(to: UInt8.self), length,
                                                    kp, k.count, sp, s.count, ip, i.count)
                        } } }
                    }
                }
            }
        }
        guard ok == 1 else { throw .libraryFailure("HKDF-SHA-256") }
        return out
    }
}

/// HMAC-SHA-256 (RFC 2104) through OpenSSL's `EVP_MAC` "HMAC".
public enum HMACSHA256 {
    /// The size of a code (32 bytes).
    public static let size = 32

    /// The 32-byte HMAC-SHA-256 of `message` under `key`. Compare codes with ``ConstantTime``.
    public static func authenticate<M: BytesView>(_ message: M, key: SecretBytes) throws(CryptoError) -> [UInt8] {
        let api = try LibCrypto.api()
        var out = [UInt8](repeating: 0, count: size)
        let ok = out.withUnsafeMutableBufferPointer { o in
            key.withUnsafeBytes { k in
                message.withUnsafeBytes { m in
                    nonNull(k) { kp in nonNull(m) { mp in
                        avault_hmac_sha256(api, o.baseAddress!, kp, k.count, mp, m.count)
                    } }
                }
            }
        }
        guard ok == 1 else { throw .libraryFailure("HMAC-SHA-256") }
        return out
    }
}

/// SHA-256 (FIPS 180-4) through OpenSSL's `EVP_Digest`, streaming. Non-copyable: a hasher owns
/// its OpenSSL context.
public struct SHA256: ~Copyable {
    /// The size of a digest (32 bytes).
    public static let size = 32
    private let context: OpaquePointer
    private let c: avault_libcrypto

    /// The SHA-256 of `data`.
    public static func hash<D: BytesView>(_ data: D) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data)
        return hasher.finalize()
    }

    /// A fresh hasher.
    public init() {
        let c = LibCrypto.required().pointee
        guard let ctx = c.EVP_MD_CTX_new(), c.EVP_DigestInit_ex(ctx, c.EVP_sha256(), nil) == 1 else {
            fatalError("OpenSSL: SHA-256 unavailable")
        }
        context = ctx
        self.c = c
    }

    /// Absorbs `data`.
    public mutating func update<D: BytesView>(_ data: D) {
        data.withUnsafeBytes { d in
            guard d.count > 0 else { return }
            precondition(c.EVP_DigestUpdate(context, d.baseAddress, d.count) == 1, "OpenSSL: SHA-256 update")
        }
    }

    /// The digest. Consumes the hasher.
    public consuming func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.size)
        var length: UInt32 = 0
        let rc = out.withUnsafeMutableBufferPointer { c.EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        precondition(rc == 1 && length == 32, "OpenSSL: SHA-256 final")
        return out
    }

    deinit { c.EVP_MD_CTX_free(context) }
}
