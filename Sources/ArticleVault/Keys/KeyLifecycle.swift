#if canImport(Glibc)
import Glibc
#endif
public import VaultCrypto
public import VaultFormat

/// The key lifecycle's ways back: delete, reinstate, rename.
extension Keyring {
    /// Refuses (``AvaultError/keyStillNeeded(key:version:vault:files:)``) while the vault in
    /// `storage`, when one exists there and uses key `name`, still has files under `entry`.
    func checkNotNeeded(_ entry: KeyringFile.Entry, byVault storage: VaultStorage?) throws(AvaultError) {
        guard let storage, try storage.exists() else { return }
        let vault = try Vault(storage: storage, keyring: self)
        if vault.config.keyName == entry.name, let files = try vault.keysInUse()[entry.id], !files.isEmpty {
            throw .keyStillNeeded(key: entry.name, version: entry.version, vault: storage.location, files: files)
        }
    }

    /// Refuses (``AvaultError/keyStillTrusted(key:version:keyID:name:store:)``) while `store`
    /// trusts the public key of the signing key version `entry` (a revoked entry does not count).
    func checkNotTrusted(_ entry: KeyringFile.Entry, by store: TrustStore?) throws(AvaultError) {
        guard let store, entry.algorithm == .ed25519, let id = Minisign.KeyID(printed: entry.id),
              let trusted = store.file.entry(for: id), trusted.revoked == nil else { return }
        throw .keyStillTrusted(key: entry.name, version: entry.version, keyID: entry.id, name: trusted.name, store: store.path)
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
    /// Deleting cannot be undone.
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
                throw .refused("the vault at \(storage.location) uses key '\(old)' by name; renaming it would leave the vault without its key")
            }
        }
        try update { ring throws(AvaultError) in try ring.rename(old, to: new) }
    }
}
