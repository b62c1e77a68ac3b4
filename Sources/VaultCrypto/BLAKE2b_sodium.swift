internal import CSodium

/// BLAKE2b (RFC 7693) via libsodium's `crypto_generichash`.
///
/// Non-copyable: a hasher owns its libsodium state, which a copy would share. `finalize`
/// consumes it; a hasher dropped without `finalize` wipes and frees its state in `deinit`.
public struct BLAKE2b: ~Copyable {
    /// Smallest, default and largest digest sizes (16, 32, 64 bytes).
    public static var minimumDigestSize: Int { Int(crypto_generichash_bytes_min()) }
    public static var defaultDigestSize: Int { Int(crypto_generichash_bytes()) }
    public static var maximumDigestSize: Int { Int(crypto_generichash_bytes_max()) }

    /// The `digestSize`-byte BLAKE2b hash of `data`, keyed when `key` is given (16 to 64 bytes).
    public static func hash<D: BytesView>(_ data: D, digestSize: Int = 32, key: SecretBytes? = nil) -> [UInt8] {
        var hasher = BLAKE2b(digestSize: digestSize, key: key)
        hasher.update(data)
        return hasher.finalize()
    }

    private let state: UnsafeMutableRawPointer
    private let digestSize: Int

    /// A streaming hasher. `digestSize` must be 16...64; a key, when given, 16...64 bytes.
    public init(digestSize: Int = 32, key: SecretBytes? = nil) {
        sodiumReady()
        precondition((Self.minimumDigestSize...Self.maximumDigestSize).contains(digestSize), "BLAKE2b digest size")
        state = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        self.digestSize = digestSize
        let st = OpaquePointer(state)
        if let key {
            precondition((Int(crypto_generichash_keybytes_min())...Int(crypto_generichash_keybytes_max())).contains(key.count), "BLAKE2b key size")
            _ = key.withUnsafeBytes { k in
                crypto_generichash_init(st, k.baseAddress!.assumingMemoryBound(to: UInt8.self), k.count, digestSize)
            }
        } else {
            _ = crypto_generichash_init(st, nil, 0, digestSize)
        }
    }

    /// Absorbs `data`.
    public mutating func update<D: BytesView>(_ data: D) {
        data.withUnsafeBytes { d in
            _ = crypto_generichash_update(OpaquePointer(state),
                                          d.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(d.count))
        }
    }

    /// The digest. Consumes the hasher (its state is wiped and freed by `deinit`).
    public consuming func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: digestSize)
        _ = crypto_generichash_final(OpaquePointer(state), &out, digestSize)
        return out
    }

    deinit {
        sodium_memzero(state, crypto_generichash_statebytes())
        state.deallocate()
    }
}
