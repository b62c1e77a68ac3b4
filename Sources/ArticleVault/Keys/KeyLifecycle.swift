#if canImport(Glibc)
import Glibc
#endif
public import VaultCrypto
public import VaultFormat

/// The key lifecycle's ways back: delete, reinstate, rename, and a sealed export for backups.
extension Keyring {
    /// Refuses (``AvaultError/keyStillNeeded(key:version:vault:files:)``) while the vault in
    /// `storage`, when one exists there and uses key `name`, still has files under `entry`; and
    /// (``AvaultError/identityStillNeeded(key:version:vault:recipient:)``) while that vault is
    /// to recipients and `entry` is an identity whose recipient is one of them: the vault's data
    /// key is still wrapped to it, so what is put from now on is still sealed to it.
    func checkNotNeeded(_ entry: KeyringFile.Entry, byVault storage: VaultStorage?) throws(AvaultError) {
        guard let storage, try storage.exists() else { return }
        let vault = try Vault(storage: storage, keyring: self)
        if vault.config.keyName == entry.name, case .content(let kid) = entry.id, let files = try vault.keysInUse().files[kid], !files.isEmpty {
            throw .keyStillNeeded(key: entry.name, version: entry.version, vault: storage.location, files: files)
        }
        if entry.algorithm == .x25519, vault.config.isToRecipients, let publicKey = entry.publicKey {
            let recipient = AgeKeys.recipient(publicKey)
            // The config as read names it; the list is then taken again after every check of the
            // vault's state (an altered config is tampering, not a reason to refuse or allow),
            // without recording anything in the keyring: a command that only looks does not adopt
            // a vault it meets for the first time (and gives no first-sight warning).
            if vault.config.recipients?.contains(recipient) == true {
                _ = try vault.loadState()
                if vault.config.recipients?.contains(recipient) == true {
                    throw .identityStillNeeded(key: entry.name, version: entry.version, vault: storage.location, recipient: recipient)
                }
            }
        }
    }

    /// Refuses (``AvaultError/keyStillTrusted(key:version:keyID:name:store:trustedAs:)``) while
    /// `store` trusts the public key of the signing key version `entry`, under whatever key id it
    /// holds it (no signature covers a key id): an entry with its public key that is not revoked,
    /// itself or under another id (``TrustStoreFile/revocation(of:)``), as verification has it.
    func checkNotTrusted(_ entry: KeyringFile.Entry, by store: TrustStore?) throws(AvaultError) {
        guard let store, entry.algorithm == .ed25519, case .minisign(let id) = entry.id, let publicKey = entry.publicKey,
              let trusted = store.file.entries.first(where: { $0.publicKey.key == publicKey && store.file.revocation(of: $0) == nil })
        else { return }
        let trustedAs = trusted.publicKey.keyID
        throw .keyStillTrusted(key: entry.name, version: entry.version, keyID: entry.id.description, name: trusted.name, store: store.path,
                               trustedAs: trustedAs == id ? nil : trustedAs.printed)
    }

    /// The versions ``deleteKey(name:version:vault:trustStore:force:)`` would delete.
    public func versionsToDelete(name: String, version: Int?) throws(AvaultError) -> [KeyringFile.Entry] {
        let all = versions(of: name)
        guard !all.isEmpty else { throw noSuchKey(name) }
        let chosen = all.filter { version == nil || $0.version == version }
        if let version, chosen.isEmpty { throw .noSuchKeyVersion(key: name, version: version, versions: all.map(\.version)) }
        return chosen
    }

    /// Deletes `version` of `name`, or every version when nil, and returns what was deleted.
    /// Unless `force`, refused while the vault in `vault` (when one exists there) still needs a
    /// deleted version, or while `trustStore` trusts a deleted signing version's public key.
    /// Deleting cannot be undone except from a backup (``exportKey(name:passphrase:to:overwrite:)``).
    @discardableResult
    public func deleteKey(name: String, version: Int?, vault storage: VaultStorage?, trustStore: TrustStore?, force: Bool) throws(AvaultError) -> [KeyringFile.Entry] {
        if !force {
            for entry in try versionsToDelete(name: name, version: version) {
                try checkNotNeeded(entry, byVault: storage)
                try checkNotTrusted(entry, by: trustStore)
            }
        }
        return try update { ring throws(AvaultError) in try ring.remove(name: name, version: version) }
    }

    /// Makes the retired `version` of `name` active again.
    public func reinstateKey(name: String, version: Int) throws(AvaultError) {
        try update { ring throws(AvaultError) in try ring.reinstate(name: name, version: version) }
    }

    /// Renames key `old` (every version) to `new`. Refused while the vault in `vault` (when one
    /// exists there) is configured with key `old`: it finds its key by name.
    public func renameKey(_ old: String, to new: String, vault storage: VaultStorage?) throws(AvaultError) {
        if let storage, try storage.exists(), !versions(of: old).isEmpty {
            let vault = try Vault(storage: storage, keyring: self)
            if vault.config.keyName == old {
                throw .keyNamedByVault(key: old, vault: storage.location)
            }
        }
        try update { ring throws(AvaultError) in try ring.rename(old, to: new) }
    }

    /// Writes every version of `name` to `path` (mode 600, atomically; an existing file only
    /// with `overwrite`) as a key export file sealed under `passphrase` (Argon2id, then
    /// XChaCha20-Poly1305; docs/formats.md). The file is opened again and compared with what
    /// was meant before it is written. Returns the versions exported.
    @discardableResult
    public func exportKey(name: String, passphrase: SecretBytes, to path: String, overwrite: Bool) throws(AvaultError) -> [KeyringFile.Entry] {
        if !overwrite, FileSystem.exists(path) { throw .fileExists(path: path) }
        try authenticate()
        let all = versions(of: name)
        guard !all.isEmpty else { throw noSuchKey(name) }
        var plain: [KeyringFile.Entry] = []
        for e in all {
            var p = e
            p.secret = .plain(try secret(of: e))
            plain.append(p)
        }
        var inner = Array(KeyringFile(entries: plain).serialized().utf8)
        defer { wipe(&inner) }
        let limits = Self.newKDFLimits
        let salt = SecureRandom.bytes(count: PasswordHash.argon2idSaltSize)
        let key = try Self.exportKey(passphrase, salt: salt, limits: limits)
        var export = KeyExportFile(name: name, opsLimit: limits.opsLimit, memLimit: limits.memLimit, salt: salt,
                                   nonce: SecureRandom.bytes(count: XChaCha20Poly1305.nonceSize), ciphertext: [])
        do {
            export.ciphertext = try XChaCha20Poly1305.seal(inner, key: key, nonce: export.nonce, associatedData: export.associatedData)
        } catch {
            throw .crypto(error)
        }
        let bytes = export.serialized()
        // Read back: the bytes must parse to this export and open to exactly what was sealed.
        guard let reread = try? KeyExportFile(parsing: bytes), reread == export,
              var opened = try? XChaCha20Poly1305.open(reread.ciphertext, key: key, nonce: reread.nonce, associatedData: reread.associatedData) else {
            throw .internalFailure("\(path): the export did not read back as meant; nothing was written")
        }
        defer { wipe(&opened) }
        guard opened == inner else { throw .internalFailure("\(path): the export did not read back as meant; nothing was written") }
        try FileSystem.writeAtomically(path, bytes, mode: 0o600, overwrite: overwrite)
        return all
    }

    /// Imports the key export file at `path` (see ``exportKey(name:passphrase:to:overwrite:)``)
    /// as key `name`, which must be new: every version, with its number, creation time and
    /// status. Secrets are sealed when `protected`.
    @discardableResult
    public func importExport(name: String, file path: String, passphrase: PassphraseSource, protected: Bool) throws(AvaultError) -> [KeyringFile.Entry] {
        var bytes = try FileSystem.readInput(path, limit: FileLimits.keyFile, what: "a key export file", secret: true)
        defer { wipe(&bytes) }
        let export: KeyExportFile
        do { export = try KeyExportFile(parsing: bytes) } catch { throw .malformed(error, file: FileSystem.inputName(path)) }
        let limits = PasswordHash.Limits(opsLimit: export.opsLimit, memLimit: export.memLimit)
        let key = try Self.exportKey(try passphrase.read(), salt: export.salt, limits: limits)
        guard var inner = try? XChaCha20Poly1305.open(export.ciphertext, key: key, nonce: export.nonce, associatedData: export.associatedData) else {
            throw .wrongPassphrase(what: "the key export \(FileSystem.inputName(path))", origin: passphrase.origin)
        }
        defer { wipe(&inner) }
        let file: KeyringFile
        do {
            file = try KeyringFile(parsing: String(decoding: inner, as: UTF8.self))
        } catch {
            throw .invalidKeyExport(path: FileSystem.inputName(path), reason: "the sealed contents are not a key export")
        }
        guard file.kdf == nil, file.vaultHeads.isEmpty, file.places.isEmpty, !file.entries.isEmpty, file.entries.allSatisfy({ $0.name == export.name }) else {
            throw .invalidKeyExport(path: FileSystem.inputName(path), reason: "the sealed contents are not one key's versions")
        }
        return try update { ring throws(AvaultError) in try ring.restore(file.entries, as: name, protected: protected) }
    }

    /// The export's sealing key: Argon2id of `passphrase`, with the limits range-checked first.
    private static func exportKey(_ passphrase: SecretBytes, salt: [UInt8], limits: PasswordHash.Limits) throws(AvaultError) -> SecretBytes {
        guard acceptedOpsLimits.contains(limits.opsLimit), acceptedMemLimits.contains(limits.memLimit) else {
            throw .kdfLimits(opsLimit: limits.opsLimit, memLimit: limits.memLimit)
        }
        do {
            return try PasswordHash.argon2id(length: XChaCha20Poly1305.keySize, passphrase: passphrase, salt: salt, limits: limits)
        } catch {
            throw .crypto(error)
        }
    }
}

extension TrustStore {
    /// The trust store's entry for the newest of `versions` (a signing key's older versions)
    /// that it holds, revoked or not: whose name and roles a new version takes over. Found by
    /// public key, as verification finds a key: an entry under a version's key id holds
    /// another key when it is someone else's with the same id, and a version's key may be in
    /// the store under another id.
    public func newestEntry(among versions: [KeyringFile.Entry]) -> TrustStoreFile.Entry? {
        for v in versions.sorted(by: { $0.version > $1.version }) {
            guard case .minisign = v.id, let key = v.publicKey else { continue }
            if let e = file.entries.first(where: { $0.publicKey.key == key }) { return e }
        }
        return nil
    }

    /// After a rotation of a signing key: trusts `new` under the name, roles and `notAfter` of
    /// the trust store's entry for the newest of `previous` (the versions before it) that it
    /// holds (a rotation does not outlast the trust given to the key), else as `fallbackName`
    /// with no roles and no bound. Returns the name, roles and bound used.
    @discardableResult
    public func trustRotated(previous: [KeyringFile.Entry], new: Minisign.PublicKey, fallbackName: String,
                             now: Int64) throws(AvaultError) -> (name: String, roles: [String], notAfter: Timestamp?) {
        let old = newestEntry(among: previous)
        let name = old?.name ?? fallbackName
        let roles = old?.roles ?? []
        try add(new, name: name, roles: roles, notBefore: nil, notAfter: old?.notAfter, now: now)
        return (name, roles, old?.notAfter)
    }
}

extension Keyring {
    /// What ``rotateKey(name:now:trustStore:trust:)`` did.
    public struct Rotation {
        /// The new version.
        public var added: KeyringFile.Entry
        /// How the new version was trusted, and in which store: with `trust`, for a signing key.
        public var trusted: (name: String, roles: [String], notAfter: Timestamp?, store: String)?
        /// Without `trust`, for a signing key: the store's entry for the newest earlier version
        /// (nil when it holds none, or cannot be read), whose name and roles a hint can give.
        public var previousEntry: TrustStoreFile.Entry?
    }

    /// Rotates `name` (``rotateKey(name:now:)``); with `trust`, a new signing version is trusted
    /// in the trust store at `location` as the previous one is (``TrustStore/trustRotated(previous:new:fallbackName:now:)``).
    /// The store is read, and refused when it cannot be used, before the keyring is written: a
    /// refusal changes nothing. Without `trust` it is only read for ``Rotation/previousEntry``.
    public func rotateKey(name: String, now: Int64, trustStore location: String, trust: Bool) throws(AvaultError) -> Rotation {
        let store = trust && versions(of: name).first?.minisignPublicKey != nil ? try TrustStore(path: location) : nil
        let added = try rotateKey(name: name, now: now)
        var rotation = Rotation(added: added)
        guard let publicKey = added.minisignPublicKey else { return rotation }
        let previous = versions(of: name).filter { $0.version != added.version }
        if let store {
            let t = try store.trustRotated(previous: previous, new: publicKey, fallbackName: name, now: now)
            rotation.trusted = (t.name, t.roles, t.notAfter, store.path)
        } else {
            rotation.previousEntry = (try? TrustStore(path: location))?.newestEntry(among: previous)
        }
        return rotation
    }
}
