internal import CSodium

/// Random bytes from libsodium's CSPRNG (`randombytes_buf`, backed by `getrandom(2)`).
public enum SecureRandom {
    /// `count` random bytes, for public values such as nonces, IVs and salts.
    /// Use ``SecretBytes/random(count:)`` for keys.
    public static func bytes(count: Int) -> [UInt8] {
        sodiumReady()
        precondition(count >= 0)
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { randombytes_buf(base, buffer.count) }
        }
        return out
    }

    /// A uniformly random integer in `0..<upperBound` (`randombytes_uniform`).
    public static func uniform(_ upperBound: UInt32) -> UInt32 {
        sodiumReady()
        return randombytes_uniform(upperBound)
    }
}
