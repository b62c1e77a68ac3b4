#if canImport(Glibc)
import Glibc
#endif
public import VaultCrypto
public import VaultFormat

/// A signing key taken from the keyring: what `sign`, `seal --sign` and `vault log --sign` use.
public struct SigningKey {
    /// The keyring entry (the newest active version of the key).
    public let entry: KeyringFile.Entry
    /// Its minisign key id.
    public let keyID: Minisign.KeyID
    /// The key itself.
    public let key: Ed25519SigningKey
}

/// The key lifecycle: each operation is one locked, authenticated change of the keyring.
extension Keyring {
    /// Makes fresh key material for `algorithm`, and its id.
    static func freshKey(_ algorithm: KeyringFile.Algorithm) -> (secret: SecretBytes, id: KeyIdentifier, publicKey: [UInt8]?) {
        switch algorithm {
        case .ed25519:
            let key = Ed25519SigningKey.generate()
            return (key.secretKey, .minisign(Minisign.KeyID(bytes: SecureRandom.bytes(count: 8))), key.publicKey.bytes)
        case .x25519:
            let secret = X25519.generateSecret()
            // The base-point multiplication of 32 random bytes cannot fail.
            guard let publicKey = try? X25519.publicKey(of: secret) else { preconditionFailure("X25519 public key") }
            return (secret, .content(identityID(of: publicKey)), publicKey)
        default:
            let secret = SecretBytes.random(count: algorithm.secretSize)
            return (secret, .content(SecuredField.keyID(for: secret)), nil)
        }
    }

    /// Creates key `name` (version 1) with fresh material: a content key, a signing key or an
    /// X25519 identity (legacy keys are only ever imported).
    @discardableResult
    public func generateKey(name: String, kind: KeyKind, protected: Bool, now: Int64) throws(AvaultError) -> KeyringFile.Entry {
        guard kind != .legacy else { throw .legacyKeyNotGenerated }
        return try update { ring throws(AvaultError) -> KeyringFile.Entry in
            guard ring.versions(of: name).isEmpty else { throw .keyExists(name: name) }
            let algorithm: KeyringFile.Algorithm = switch kind {
            case .signing: .ed25519
            case .identity: .x25519
            case .content, .legacy: .xchacha20poly1305
            }
            let material = Self.freshKey(algorithm)
            return try ring.add(name: name, algorithm: algorithm, secret: material.secret, id: material.id,
                                publicKey: material.publicKey, protected: protected, now: now)
        }
    }

    /// Imports the raw key file at `path` (see ``RawKeys``) as the next version of `name`.
    @discardableResult
    public func importKey(name: String, keyFile path: String, legacy: Bool, protected: Bool, now: Int64) throws(AvaultError) -> KeyringFile.Entry {
        try importKey(name: name, secret: try RawKeys.load(path), legacy: legacy, protected: protected, now: now)
    }

    /// Imports raw key material as the next version of `name`: a 32-byte content key, or with
    /// `legacy` a 16-, 24- or 32-byte AES key for v1 blobs.
    @discardableResult
    public func importKey(name: String, secret: SecretBytes, legacy: Bool, protected: Bool, now: Int64) throws(AvaultError) -> KeyringFile.Entry {
        let algorithm: KeyringFile.Algorithm
        if legacy {
            guard let aes = KeyringFile.Algorithm.aes(size: secret.count) else {
                throw .unsuitableKey("a legacy AES key is 16, 24 or 32 bytes; this key is \(secret.count) bytes")
            }
            algorithm = aes
        } else {
            guard secret.count == 32 else {
                throw .unsuitableKey("a content key is 32 bytes; this key is \(secret.count) bytes")
            }
            algorithm = .xchacha20poly1305
        }
        return try update { ring throws(AvaultError) in
            try ring.add(name: name, algorithm: algorithm, secret: secret, id: .content(SecuredField.keyID(for: secret)),
                         protected: protected, now: now)
        }
    }

    /// Imports a minisign secret key file as the next version of the signing key `name`,
    /// keeping its key id (so minisign's `.pub` file stays valid).
    @discardableResult
    public func importMinisign(name: String, file path: String, password: PassphraseSource, protected: Bool, now: Int64) throws(AvaultError) -> KeyringFile.Entry {
        var bytes = try FileSystem.readInput(path, limit: FileLimits.keyFile, what: "a minisign secret key", secret: true)
        defer { wipe(&bytes) }
        let file: Minisign.SecretKeyFile
        do { file = try Minisign.SecretKeyFile(parsing: bytes) } catch { throw .malformed(error, file: FileSystem.inputName(path)) }
        let (id, key) = try MinisignKeys.open(file, path: FileSystem.inputName(path), password: password)
        return try update { ring throws(AvaultError) in
            try ring.add(name: name, algorithm: .ed25519, secret: key.secretKey, id: .minisign(id),
                         publicKey: key.publicKey.bytes, protected: protected, now: now)
        }
    }

    /// Adds a new version of `name` with fresh material, of the same kind and protection.
    @discardableResult
    public func rotateKey(name: String, now: Int64) throws(AvaultError) -> KeyringFile.Entry {
        try update { ring throws(AvaultError) -> KeyringFile.Entry in
            let current = try ring.current(name)
            let material = Self.freshKey(current.algorithm)
            return try ring.add(name: name, algorithm: current.algorithm, secret: material.secret, id: material.id,
                                publicKey: material.publicKey, protected: current.isSealed, now: now)
        }
    }

    /// Retires `version` of `name`. Refused for the only active version, and while the vault
    /// in `vault` (when one exists there) still needs that version.
    public func retireKey(name: String, version: Int, vault storage: VaultStorage?, now: Int64) throws(AvaultError) {
        if let entry = versions(of: name).first(where: { $0.version == version }) {
            try checkNotNeeded(entry, byVault: storage)
        }
        try update { ring throws(AvaultError) in try ring.retire(name: name, version: version, now: now) }
    }

    /// The newest active version of the signing key `name`, unsealed.
    public func signingKey(named name: String) throws(AvaultError) -> SigningKey {
        let entry = try current(name)
        guard entry.algorithm == .ed25519, case .minisign(let id) = entry.id else {
            throw .wrongKeyKind(key: name, kind: entry.algorithm.kind, use: .signing)
        }
        do {
            return SigningKey(entry: entry, keyID: id, key: try Ed25519SigningKey(secretKey: try secret(of: entry)))
        } catch let error as CryptoError {
            throw .crypto(error)
        } catch let error as AvaultError {
            throw error
        } catch {
            throw .internalFailure("\(error)")
        }
    }

    /// The minisign key id of the signing key `name` (no passphrase needed).
    public func signingKeyID(named name: String) throws(AvaultError) -> Minisign.KeyID {
        let entry = try current(name)
        guard entry.algorithm == .ed25519, case .minisign(let id) = entry.id else {
            throw .wrongKeyKind(key: name, kind: entry.algorithm.kind, use: .signing)
        }
        return id
    }

    /// Writes the signing key `name` to `path` (mode 600, atomically; an existing file only
    /// with `overwrite`) as a minisign secret key file: protected with `password` (scrypt, as
    /// minisign does), or unprotected like `minisign -G -W` when nil. Returns the entry written.
    public func exportMinisign(name: String, password: SecretBytes?, to path: String, overwrite: Bool) throws(AvaultError) -> KeyringFile.Entry {
        if !overwrite, FileSystem.exists(path) { throw .fileExists(path: path) }
        let signing = try signingKey(named: name)
        var bytes = try MinisignKeys.export(keyID: signing.keyID, key: signing.key, password: password)
        defer { wipe(&bytes) }
        try FileSystem.writeAtomically(path, bytes, mode: 0o600, overwrite: overwrite)
        return signing.entry
    }
}

extension TrustStore {
    /// Trusts the minisign public key in the file at `path` (see ``add(_:name:roles:notBefore:notAfter:now:)``);
    /// returns it.
    @discardableResult
    public func add(publicKeyFile path: String, name: String, roles: [String], notBefore: Timestamp?, notAfter: Timestamp?, now: Int64) throws(AvaultError) -> Minisign.PublicKey {
        let text = String(decoding: try FileSystem.readInput(path, limit: FileLimits.minisignFile, what: "a minisign public key"), as: UTF8.self)
        let key: Minisign.PublicKey
        do { key = try Minisign.PublicKey(parsing: text) } catch { throw .malformed(error, file: FileSystem.inputName(path)) }
        try add(key, name: name, roles: roles, notBefore: notBefore, notAfter: notAfter, now: now)
        return key
    }

    /// Trusts `key` as `name` with `roles`, optionally only for signatures made in
    /// [`notBefore`, `notAfter`]. Refused when the key is trusted already: its key id, or its
    /// public key under any id, revoked or not (a key id is covered by no signature, so the
    /// same key under a new id would bring back a revoked key's signatures).
    public func add(_ key: Minisign.PublicKey, name: String, roles: [String], notBefore: Timestamp?, notAfter: Timestamp?, now: Int64) throws(AvaultError) {
        guard TrustStoreFile.isValidText(name) else { throw .invalidTrustName }
        for r in roles where !TrustStoreFile.isValidRole(r) {
            throw .invalidRole(r)
        }
        if let notBefore, let notAfter, notBefore > notAfter { throw .validityWindowReversed(notBefore: notBefore, notAfter: notAfter) }
        try update { file throws(AvaultError) in
            if let existing = file.entry(for: key.keyID) {
                throw .alreadyTrusted(keyID: key.keyID.printed, name: existing.name)
            }
            if let existing = file.entries.first(where: { $0.publicKey.key == key.key }) {
                throw .publicKeyAlreadyTrusted(keyID: key.keyID.printed, existing: existing.publicKey.keyID.printed, name: existing.name,
                                               revoked: existing.revoked != nil)
            }
            file.entries.append(TrustStoreFile.Entry(publicKey: key, name: name, roles: roles, notBefore: notBefore,
                                                     notAfter: notAfter, added: Timestamp(seconds: now)))
        }
    }

    /// Revokes the trusted key `id`: its signatures no longer pass, and it stays listed.
    public func revoke(_ id: Minisign.KeyID, reason: String, now: Int64) throws(AvaultError) {
        guard TrustStoreFile.isValidText(reason, allowEmpty: true) else { throw .invalidRevocationReason }
        try update { file throws(AvaultError) in
            guard let i = file.entries.firstIndex(where: { $0.publicKey.keyID == id }) else {
                throw .notTrusted(keyID: id.printed, store: path)
            }
            guard file.entries[i].revoked == nil else { throw .alreadyRevoked(keyID: id.printed) }
            file.entries[i].revoked = (Timestamp(seconds: now), reason)
        }
    }

    /// Removes the key `id` from the trust store. A revoked key is removed only when `force`:
    /// its revocation goes with it, so that adding it again would trust its signatures.
    public func remove(_ id: Minisign.KeyID, force: Bool = false) throws(AvaultError) {
        try update { file throws(AvaultError) in
            guard let i = file.entries.firstIndex(where: { $0.publicKey.keyID == id }) else {
                throw .notTrusted(keyID: id.printed, store: path)
            }
            if file.entries[i].revoked != nil, !force { throw .revokedKeyRemoval(keyID: id.printed) }
            file.entries.remove(at: i)
        }
    }
}
