internal import CSodium

/// Passphrase-based key derivation: Argon2id (`crypto_pwhash`) for avault's own files and
/// scrypt (`crypto_pwhash_scryptsalsa208sha256`) for reading and writing minisign keys.
public enum PasswordHash {
    /// Salt size for Argon2id (16 bytes).
    public static var argon2idSaltSize: Int { Int(crypto_pwhash_saltbytes()) }
    /// Salt size for scrypt (32 bytes).
    public static var scryptSaltSize: Int { Int(crypto_pwhash_scryptsalsa208sha256_saltbytes()) }

    /// libsodium's recommended Argon2id limits.
    public struct Limits: Equatable, Sendable, Codable {
        /// Number of passes.
        public var opsLimit: UInt64
        /// Memory in bytes.
        public var memLimit: UInt64
        public init(opsLimit: UInt64, memLimit: UInt64) { self.opsLimit = opsLimit; self.memLimit = memLimit }
        /// `OPSLIMIT_INTERACTIVE`/`MEMLIMIT_INTERACTIVE` (64 MiB).
        public static var interactive: Limits {
            Limits(opsLimit: UInt64(crypto_pwhash_opslimit_interactive()), memLimit: UInt64(crypto_pwhash_memlimit_interactive()))
        }
        /// `OPSLIMIT_MODERATE`/`MEMLIMIT_MODERATE` (256 MiB).
        public static var moderate: Limits {
            Limits(opsLimit: UInt64(crypto_pwhash_opslimit_moderate()), memLimit: UInt64(crypto_pwhash_memlimit_moderate()))
        }
    }

    /// Derives `length` bytes from `passphrase` and a 16-byte `salt` with Argon2id v1.3.
    public static func argon2id(length: Int, passphrase: SecretBytes, salt: [UInt8], limits: Limits) throws(CryptoError) -> SecretBytes {
        sodiumReady()
        guard salt.count == argon2idSaltSize else {
            throw .invalidLength(what: "Argon2id salt", expected: "\(argon2idSaltSize)", actual: salt.count)
        }
        // Limits come from files: out of libsodium's range is an error, never a trap.
        guard let memLimit = Int(exactly: limits.memLimit),
              (UInt64(crypto_pwhash_opslimit_min())...UInt64(crypto_pwhash_opslimit_max())).contains(limits.opsLimit),
              (Int(crypto_pwhash_memlimit_min())...Int(crypto_pwhash_memlimit_max())).contains(memLimit) else {
            throw .keyDerivationFailed
        }
        var rc: Int32 = -1
        let out = SecretBytes(count: length) { o in
            passphrase.withUnsafeBytes { p in
                rc = crypto_pwhash(o.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(length),
                                   nonNull(p) { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, UInt64(p.count),
                                   salt, limits.opsLimit, memLimit, crypto_pwhash_alg_argon2id13())
            }
        }
        guard rc == 0 else { throw .keyDerivationFailed }
        return out
    }

    /// Derives `length` bytes from `passphrase` and a 32-byte `salt` with scrypt
    /// (libsodium's `crypto_pwhash_scryptsalsa208sha256`, as minisign uses it).
    public static func scrypt(length: Int, passphrase: SecretBytes, salt: [UInt8], opsLimit: UInt64, memLimit: UInt64) throws(CryptoError) -> SecretBytes {
        sodiumReady()
        guard salt.count == scryptSaltSize else {
            throw .invalidLength(what: "scrypt salt", expected: "\(scryptSaltSize)", actual: salt.count)
        }
        guard let memLimit = Int(exactly: memLimit) else { throw .keyDerivationFailed }
        var rc: Int32 = -1
        let out = SecretBytes(count: length) { o in
            passphrase.withUnsafeBytes { p in
                rc = crypto_pwhash_scryptsalsa208sha256(
                    o.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(length),
                    nonNull(p) { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, UInt64(p.count),
                    salt, opsLimit, memLimit)
            }
        }
        guard rc == 0 else { throw .keyDerivationFailed }
        return out
    }

    /// scrypt with explicit parameters (libsodium `crypto_pwhash_scryptsalsa208sha256_ll`):
    /// N = 2^`logN`, r = `r`, p = `p`, any salt, `length` bytes. age's passphrase recipient uses
    /// r = 8, p = 1; the caller bounds `logN` (memory is 128 · r · N bytes).
    public static func scrypt(length: Int, passphrase: SecretBytes, salt: [UInt8], logN: Int, r: UInt32, p: UInt32) throws(CryptoError) -> SecretBytes {
        sodiumReady()
        guard (1...30).contains(logN) else { throw .keyDerivationFailed }
        var rc: Int32 = -1
        let out = SecretBytes(count: length) { o in
            passphrase.withUnsafeBytes { pass in
                nonNull(pass) { pp in
                    withNonNullPointer(salt) { sp, sc in
                        rc = crypto_pwhash_scryptsalsa208sha256_ll(pp, pass.count, sp, sc, UInt64(1) << UInt64(logN), r, p,
                                                                   o.baseAddress!.assumingMemoryBound(to: UInt8.self), length)
                    }
                }
            }
        }
        guard rc == 0 else { throw .keyDerivationFailed }
        return out
    }
}
