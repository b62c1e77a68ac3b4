// Argon2id and scrypt key derivation.
//
// No Argon2id known answer: libsodium's crypto_pwhash cannot take the RFC 9106 secret and
// associated data, and no independent Argon2 implementation (argon2-cffi) is available
// here. scrypt is cross-checked against CPython's hashlib.scrypt (OpenSSL).

import Foundation
import Testing
import VaultCrypto

@Suite("PasswordHash")
struct PasswordHashTests {
    /// Small but valid Argon2id limits (libsodium minimums: 1 pass, 8 KiB).
    static let fast = PasswordHash.Limits(opsLimit: 2, memLimit: 8 * 1024 * 1024)
    static let passphrase = secret(Array("correct horse battery staple".utf8))
    static let salt16 = Array(0..<16).map { UInt8($0) }
    static let salt32 = Array(0..<32).map { UInt8($0) }

    @Test("Argon2id is deterministic and depends on salt, passphrase, limits and length")
    func argon2idDeterministic() throws {
        let a = try PasswordHash.argon2id(length: 32, passphrase: Self.passphrase, salt: Self.salt16, limits: Self.fast)
        let b = try PasswordHash.argon2id(length: 32, passphrase: secret(Array("correct horse battery staple".utf8)),
                                          salt: Array(0..<16).map { UInt8($0) }, limits: Self.fast)
        #expect(a.count == 32)
        #expect(a == b)
        #expect(bytes(of: a) != [UInt8](repeating: 0, count: 32))

        let otherSalt = try PasswordHash.argon2id(length: 32, passphrase: Self.passphrase,
                                                  salt: flippingBit(0, of: Self.salt16), limits: Self.fast)
        #expect(otherSalt != a)
        let otherPassphrase = try PasswordHash.argon2id(length: 32, passphrase: secret(Array("correct horse battery staplf".utf8)),
                                                        salt: Self.salt16, limits: Self.fast)
        #expect(otherPassphrase != a)
        let otherOps = try PasswordHash.argon2id(length: 32, passphrase: Self.passphrase, salt: Self.salt16,
                                                 limits: .init(opsLimit: 3, memLimit: Self.fast.memLimit))
        #expect(otherOps != a)
        let otherMem = try PasswordHash.argon2id(length: 32, passphrase: Self.passphrase, salt: Self.salt16,
                                                 limits: .init(opsLimit: 2, memLimit: 4 * 1024 * 1024))
        #expect(otherMem != a)
        let long = try PasswordHash.argon2id(length: 64, passphrase: Self.passphrase, salt: Self.salt16, limits: Self.fast)
        #expect(long.count == 64)
        #expect(long != a)
        let empty = try PasswordHash.argon2id(length: 32, passphrase: secret([]), salt: Self.salt16, limits: Self.fast)
        #expect(empty.count == 32)
        #expect(empty != a)
    }

    @Test("Argon2id salt must be 16 bytes", arguments: [0, 8, 15, 17, 24, 32])
    func argon2idSaltSize(size: Int) {
        #expect(PasswordHash.argon2idSaltSize == 16)
        let e = #expect(throws: CryptoError.self) {
            try PasswordHash.argon2id(length: 32, passphrase: Self.passphrase,
                                      salt: [UInt8](repeating: 1, count: size), limits: Self.fast)
        }
        #expect(isInvalidLength(e), "\(String(describing: e))")
    }

    @Test("Argon2id below libsodium's minimum limits fails with keyDerivationFailed")
    func argon2idBadLimits() {
        #expect(throws: CryptoError.keyDerivationFailed) {
            try PasswordHash.argon2id(length: 32, passphrase: Self.passphrase, salt: Self.salt16,
                                      limits: .init(opsLimit: 0, memLimit: Self.fast.memLimit))
        }
        #expect(throws: CryptoError.keyDerivationFailed) {
            try PasswordHash.argon2id(length: 32, passphrase: Self.passphrase, salt: Self.salt16,
                                      limits: .init(opsLimit: 2, memLimit: 1024))
        }
        // Output shorter than crypto_pwhash_BYTES_MIN (16).
        #expect(throws: CryptoError.keyDerivationFailed) {
            try PasswordHash.argon2id(length: 8, passphrase: Self.passphrase, salt: Self.salt16, limits: Self.fast)
        }
    }

    @Test("Limits presets and Codable")
    func limits() throws {
        #expect(PasswordHash.Limits.interactive == .init(opsLimit: 2, memLimit: 64 * 1024 * 1024))
        #expect(PasswordHash.Limits.moderate == .init(opsLimit: 3, memLimit: 256 * 1024 * 1024))
        let decoded = try JSONDecoder().decode(PasswordHash.Limits.self, from: JSONEncoder().encode(Self.fast))
        #expect(decoded == Self.fast)
    }

    @Test("scrypt is deterministic, salt-dependent, and matches hashlib.scrypt")
    func scrypt() throws {
        // libsodium maps opsLimit 32768 / memLimit 16 MiB to N = 2^10, r = 8, p = 1.
        let ops: UInt64 = 32768, mem: UInt64 = 16 * 1024 * 1024
        let a = try PasswordHash.scrypt(length: 32, passphrase: Self.passphrase, salt: Self.salt32, opsLimit: ops, memLimit: mem)
        let b = try PasswordHash.scrypt(length: 32, passphrase: Self.passphrase, salt: Self.salt32, opsLimit: ops, memLimit: mem)
        #expect(a == b)
        // hashlib.scrypt(b'correct horse battery staple', salt=bytes(range(32)), n=1024, r=8, p=1, dklen=32).hex()
        #expect(Hex.encode(bytes(of: a)) == "b6b0e04f381ba81d73ffd3476078a3b8f335a54dc276bf28ada6c1209940842f")
        let otherSalt = try PasswordHash.scrypt(length: 32, passphrase: Self.passphrase, salt: flippingBit(9, of: Self.salt32),
                                                opsLimit: ops, memLimit: mem)
        #expect(otherSalt != a)
        let otherPassphrase = try PasswordHash.scrypt(length: 32, passphrase: secret(Array("x".utf8)), salt: Self.salt32,
                                                      opsLimit: ops, memLimit: mem)
        #expect(otherPassphrase != a)
        let long = try PasswordHash.scrypt(length: 64, passphrase: Self.passphrase, salt: Self.salt32, opsLimit: ops, memLimit: mem)
        #expect(long.count == 64)
    }

    @Test("scrypt salt must be 32 bytes", arguments: [0, 16, 31, 33, 64])
    func scryptSaltSize(size: Int) {
        #expect(PasswordHash.scryptSaltSize == 32)
        let e = #expect(throws: CryptoError.self) {
            try PasswordHash.scrypt(length: 32, passphrase: Self.passphrase, salt: [UInt8](repeating: 1, count: size),
                                    opsLimit: 32768, memLimit: 16 * 1024 * 1024)
        }
        #expect(isInvalidLength(e), "\(String(describing: e))")
    }
}
