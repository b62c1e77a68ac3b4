// Subkeys from a master key (libsodium crypto_kdf). Known answers computed independently
// with CPython's hashlib.blake2b: key = master, salt = LE64(id) ‖ 8 zero bytes,
// person = context ‖ 8 zero bytes, empty message, digest size = subkey length.

import Testing
import VaultCrypto

@Suite("KeyDerivation")
struct KeyDerivationTests {
    static let master = secret((0..<32).map { UInt8($0) })

    @Test("crypto_kdf subkeys match BLAKE2b computed by hashlib", arguments: [
        (UInt64(1), 32, "5ebdad418bdbdc7ece7443725ecfa5b7fc4ed5c46cf3015022d63c3778170874"),
        (UInt64(2), 32, "627ab5722e3937f73cb024516e32c6c7d29886f2e8a773a4ef185d22ace9b26e"),
        (UInt64.max, 64, "c74676c51483706cb210c315a694800911407645791f21fbb4475d9b3761e793443d74c7c157e2151402171ac34791ea7a79babf5f18b0f744fdc3f32e3d766f"),
    ])
    func knownAnswers(id: UInt64, length: Int, expected: String) throws {
        let k = try KeyDerivation.subkey(length: length, id: id, context: "avkeyrng", master: Self.master)
        #expect(Hex.encode(bytes(of: k)) == expected)
    }

    @Test("Sizes are checked: context 8 bytes, master 32, subkey 16...64")
    func sizes() {
        #expect(KeyDerivation.contextSize == 8 && KeyDerivation.masterKeySize == 32)
        #expect(KeyDerivation.minimumSubkeySize == 16 && KeyDerivation.maximumSubkeySize == 64)
        for (length, context, master) in [(32, "short", Self.master), (32, "ninechars", Self.master),
                                          (15, "avkeyrng", Self.master), (65, "avkeyrng", Self.master),
                                          (32, "avkeyrng", secret([UInt8](repeating: 1, count: 31)))] {
            #expect(throws: CryptoError.self) { try KeyDerivation.subkey(length: length, id: 1, context: context, master: master) }
        }
    }

    @Test("Argon2id limits beyond libsodium's range throw, never trap")
    func limitsOutOfRange() {
        for limits in [PasswordHash.Limits(opsLimit: 2, memLimit: UInt64.max), PasswordHash.Limits(opsLimit: UInt64.max, memLimit: 8192),
                       PasswordHash.Limits(opsLimit: 0, memLimit: 8192)] {
            #expect(throws: CryptoError.keyDerivationFailed) {
                try PasswordHash.argon2id(length: 32, passphrase: secret([1]), salt: [UInt8](repeating: 0, count: 16), limits: limits)
            }
        }
        #expect(throws: CryptoError.keyDerivationFailed) {
            try PasswordHash.scrypt(length: 32, passphrase: secret([1]), salt: [UInt8](repeating: 0, count: 32), opsLimit: 1, memLimit: UInt64.max)
        }
    }
}
