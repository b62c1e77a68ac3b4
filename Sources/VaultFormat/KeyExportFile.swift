import VaultCrypto

/// A key exported for a backup (`avault keys export`, docs/formats.md §"Key export files"):
/// every version of one key, sealed under a passphrase of its own.
///
/// ```
/// avault-key-export-v1
/// name: NAME
/// kdf: argon2id OPS MEM SALT
/// sealed: NONCE;CIPHERTEXT
/// ```
///
/// The sealed plaintext is a version 2 keyring file without passphrase holding exactly that
/// key's entries; the associated data is every byte before the `sealed:` line. Parsing is
/// strict: the file must be exactly what ``serialized()`` writes.
public struct KeyExportFile: Equatable, Sendable {
    /// The first line.
    public static let magic = "avault-key-export-v1"
    /// Argon2id salt, XChaCha20-Poly1305 nonce and tag sizes.
    public static let saltSize = 16, nonceSize = 24, tagSize = 16

    /// The key's name when it was exported.
    public var name: String
    /// Argon2id passes and memory (bytes), and the salt.
    public var opsLimit: UInt64
    public var memLimit: UInt64
    public var salt: [UInt8]
    /// The XChaCha20-Poly1305 nonce and ciphertext (with tag).
    public var nonce: [UInt8]
    public var ciphertext: [UInt8]

    public init(name: String, opsLimit: UInt64, memLimit: UInt64, salt: [UInt8], nonce: [UInt8], ciphertext: [UInt8]) {
        self.name = name; self.opsLimit = opsLimit; self.memLimit = memLimit; self.salt = salt
        self.nonce = nonce; self.ciphertext = ciphertext
    }

    /// The header lines, which the AEAD authenticates.
    public var associatedData: [UInt8] {
        Array("\(Self.magic)\nname: \(name)\nkdf: argon2id \(opsLimit) \(memLimit) \(Base64.encode(salt))\n".utf8)
    }

    /// The file's bytes.
    public func serialized() -> [UInt8] {
        associatedData + Array("sealed: \(Base64.encode(nonce));\(Base64.encode(ciphertext))\n".utf8)
    }

    /// Parses the file strictly; errors never quote its contents.
    public init(parsing bytes: [UInt8]) throws(FormatError) {
        func bad(_ why: String) -> FormatError { .invalidKeyFile("not an avault key export file: \(why)") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw bad("not UTF-8") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count == 5, lines[4].isEmpty else { throw bad("expected 4 lines ending in a newline") }
        guard lines[0] == Self.magic else { throw bad("the first line is not '\(Self.magic)'") }
        guard lines[1].hasPrefix("name: "), KeyringFile.isValidName(String(lines[1].dropFirst(6))) else { throw bad("line 2 is not 'name: NAME'") }
        let kdf = lines[2].split(separator: " ", omittingEmptySubsequences: false)
        guard kdf.count == 5, kdf[0] == "kdf:", kdf[1] == "argon2id", let ops = UInt64(kdf[2]), let mem = UInt64(kdf[3]),
              String(ops) == kdf[2], String(mem) == kdf[3], let salt = try? Base64.decode(kdf[4]),
              salt.count == Self.saltSize else { throw bad("line 3 is not 'kdf: argon2id OPS MEM SALT'") }
        let sealed = lines[3].split(separator: ";", omittingEmptySubsequences: false)
        guard lines[3].hasPrefix("sealed: "), sealed.count == 2, let nonce = try? Base64.decode(sealed[0].dropFirst(8)),
              nonce.count == Self.nonceSize, let ct = try? Base64.decode(sealed[1]),
              ct.count > Self.tagSize else { throw bad("line 4 is not 'sealed: NONCE;CIPHERTEXT'") }
        self.init(name: String(lines[1].dropFirst(6)), opsLimit: ops, memLimit: mem, salt: salt, nonce: nonce, ciphertext: ct)
        guard serialized() == bytes else { throw bad("not in canonical form") }
    }
}
