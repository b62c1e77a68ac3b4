internal import CSodium

/// Subkeys from one master key (libsodium `crypto_kdf_derive_from_key`: BLAKE2b keyed with the
/// master key, personalised with an 8-byte context and a 64-bit subkey id). Different ids or
/// contexts give independent keys, so one passphrase-derived key can serve several purposes.
public enum KeyDerivation {
    /// The master key's size (32 bytes).
    public static var masterKeySize: Int { Int(crypto_kdf_keybytes()) }
    /// The context's size (8 bytes).
    public static var contextSize: Int { Int(crypto_kdf_contextbytes()) }
    /// Smallest and largest subkey sizes (16 and 64 bytes).
    public static var minimumSubkeySize: Int { Int(crypto_kdf_bytes_min()) }
    public static var maximumSubkeySize: Int { Int(crypto_kdf_bytes_max()) }

    /// The `length`-byte subkey number `id` of `master` for `context` (exactly 8 ASCII bytes).
    public static func subkey(length: Int, id: UInt64, context: String, master: SecretBytes) throws(CryptoError) -> SecretBytes {
        sodiumReady()
        let ctx = Array(context.utf8)
        guard ctx.count == contextSize else {
            throw .invalidLength(what: "key-derivation context", expected: "\(contextSize)", actual: ctx.count)
        }
        guard master.count == masterKeySize else {
            throw .invalidLength(what: "key-derivation master key", expected: "\(masterKeySize)", actual: master.count)
        }
        guard (minimumSubkeySize...maximumSubkeySize).contains(length) else {
            throw .invalidLength(what: "subkey", expected: "\(minimumSubkeySize)...\(maximumSubkeySize)", actual: length)
        }
        var rc: Int32 = -1
        let out = SecretBytes(count: length) { o in
            master.withUnsafeBytes { m in
                ctx.withUnsafeBufferPointer { c in
                    c.baseAddress!.withMemoryRebound(to: CChar.self, capacity: c.count) { cc in
                        rc = crypto_kdf_derive_from_key(o.baseAddress!.assumingMemoryBound(to: UInt8.self), length, id, cc,
                                                        m.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
        }
        guard rc == 0 else { throw .libraryFailure("crypto_kdf_derive_from_key") }
        return out
    }
}
