public import VaultCrypto
public import VaultFormat

/// Encrypting and decrypting `secured` blobs: the format from ``VaultFormat`` combined with
/// the ciphers from ``VaultCrypto``.
public enum SecuredField {
    /// The v2 key id of a 32-byte key: the first 8 bytes of its unkeyed BLAKE2b-256 hash.
    public static func keyID(for key: SecretBytes) -> KeyID {
        let digest = key.withUnsafeBytes { BLAKE2b.hash($0, digestSize: 32) }
        return KeyID(bytes: Array(digest[0..<KeyID.size]))
    }

    /// Decrypts `blob` with `key`. A v2 blob is authenticated against `context`; a v1 blob is
    /// not authenticated at all, so it is decrypted only with a `legacy` authorisation (else
    /// ``AvaultError/unauthenticatedLegacy(path:)``, before anything about the blob is looked at).
    /// Every failure after the size checks is the same ``AvaultError/decryptionFailed(keyIDs:)``.
    public static func decrypt(_ blob: SecuredBlob, key: SecretBytes, context: String,
                               legacy: LegacyAuthorization? = nil) throws(AvaultError) -> [UInt8] {
        switch blob {
        case let .v1(ciphertext, iv):
            guard legacy != nil else { throw .unauthenticatedLegacy(path: nil) }
            guard AESCBC.isKeySize(key.count) else {
                throw .unsuitableKey("a v1 blob needs a 16-, 24- or 32-byte AES key; this key is \(key.count) bytes")
            }
            do {
                return try AESCBC.decrypt(ciphertext, key: key, iv: iv)
            } catch {
                throw .decryptionFailed(keyIDs: nil)
            }
        case let .v2(kid, nonce, sealed):
            guard key.count == XChaCha20Poly1305.keySize else {
                throw .unsuitableKey("a v2 blob needs a 32-byte key; this key is \(key.count) bytes")
            }
            let keyKid = keyID(for: key)
            guard keyKid == kid else {
                throw .decryptionFailed(keyIDs: (blob: kid, tried: keyKid))
            }
            do {
                return try XChaCha20Poly1305.open(sealed, key: key, nonce: nonce,
                                                  associatedData: SecuredBlob.v2AssociatedData(kid: kid, context: context))
            } catch {
                throw .decryptionFailed(keyIDs: nil)
            }
        case .v3:
            throw .unsuitableKey("a v3 blob opens with an age identity, not a symmetric key")
        }
    }

    /// Encrypts `plaintext` as a v2 blob bound to `context`. `nonce` is for test vectors only:
    /// leave it nil and a fresh random 24-byte nonce is used.
    public static func encryptV2(_ plaintext: [UInt8], key: SecretBytes, context: String, nonce: [UInt8]? = nil) throws(AvaultError) -> SecuredBlob {
        guard key.count == XChaCha20Poly1305.keySize else {
            throw .unsuitableKey("v2 needs a 32-byte key; this key is \(key.count) bytes")
        }
        let kid = keyID(for: key)
        let nonce = nonce ?? SecureRandom.bytes(count: SecuredBlob.v2NonceSize)
        do {
            let sealed = try XChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce,
                                                    associatedData: SecuredBlob.v2AssociatedData(kid: kid, context: context))
            return .v2(kid: kid, nonce: nonce, sealed: sealed)
        } catch {
            throw .crypto(error)
        }
    }

    /// Encrypts `plaintext` as a legacy v1 blob (AES-CBC, PKCS#7, fresh random IV), for readers
    /// that only know v1. Unauthenticated: prefer ``encryptV2(_:key:context:nonce:)``.
    public static func encryptV1(_ plaintext: [UInt8], key: SecretBytes, iv: [UInt8]? = nil) throws(AvaultError) -> SecuredBlob {
        guard AESCBC.isKeySize(key.count) else {
            throw .unsuitableKey("v1 needs a 16-, 24- or 32-byte AES key; this key is \(key.count) bytes")
        }
        let iv = iv ?? SecureRandom.bytes(count: SecuredBlob.v1IVSize)
        do {
            return .v1(ciphertext: try AESCBC.encrypt(plaintext, key: key, iv: iv), iv: iv)
        } catch {
            throw .crypto(error)
        }
    }
}

/// Where the key for a blob comes from: a key in the keyring, by name, or a raw key file.
public enum KeySource {
    case keyring(Keyring, name: String)
    case file(String)
}

extension SecuredField {
    /// Decrypts `blob` with the key from `source` and hands the plaintext to `sink`, then wipes
    /// it. A v1 blob needs a `legacy` authorisation (see ``LegacyAuthorization``).
    public static func decrypt(_ blob: SecuredBlob, using source: KeySource, context: String, legacy: LegacyAuthorization?,
                               into sink: ([UInt8]) throws(AvaultError) -> Void) throws(AvaultError) {
        var plaintext = switch source {
        case let .keyring(keyring, name): try keyring.decrypt(blob, keyName: name, context: context, legacy: legacy)
        case let .file(path): try decrypt(blob, key: try RawKeys.load(path), context: context, legacy: legacy)
        }
        defer { wipe(&plaintext) }
        try sink(plaintext)
    }

    /// Encrypts the file at `input` (standard input when nil or `-`) with the key from `source`: a
    /// v2 blob bound to `context`, or with `legacy` a v1 blob. The plaintext read is wiped.
    public static func encrypt(input: String?, using source: KeySource, context: String, legacy: Bool) throws(AvaultError) -> SecuredBlob {
        // The key first: a missing key file is reported before standard input is waited on.
        var fileKey: SecretBytes?
        if case .file(let path) = source { fileKey = try RawKeys.load(path) }
        var plaintext = try FileSystem.readInput(input ?? "-", limit: SecuredBlob.plaintextLimit, what: "a plaintext for a secured blob, which must fit in a record")
        defer { wipe(&plaintext) }
        if case let .keyring(keyring, name) = source {
            return try keyring.encrypt(plaintext, keyName: name, context: context, legacy: legacy)
        }
        return legacy ? try encryptV1(plaintext, key: fileKey!) : try encryptV2(plaintext, key: fileKey!, context: context)
    }
}

extension SecuredField {
    /// Parses the text of a `secured` field (`file`, when it came from a record, names it in
    /// the error).
    public static func parse(_ text: String, file: String?) throws(AvaultError) -> SecuredBlob {
        do { return try SecuredBlob(parsing: text) } catch { throw .malformed(error, file: file) }
    }
}
