import Foundation
import VaultCrypto
import VaultFormat
@testable import ArticleVault

/// Vaults as avault wrote them before index format 3 (formats.md 8.3.1): one sealed index of
/// format 2, no `entries/`.
enum VaultIndexFormatTwo {
    /// Rewrites the file vault at `dir` in format 2: the same objects, bindings and `used`, sealed
    /// as one index under the current key; `entries/` removed.
    static func downgrade(_ dir: String, keyring: Keyring) throws {
        let vault = try Vault(storage: FileVaultStorage(directory: dir), keyring: keyring)
        let state = try vault.loadState()
        let (kid, key) = try vault.currentKey()
        let sealed = try Vault.seal(VaultFiles.indexJSON(state.index), key: key, kid: kid, ad: { vault.config.indexAssociatedData(kid: $0) })
        try Data(VaultFiles.indexText(sealed).utf8).write(to: URL(fileURLWithPath: dir + "/index"))
        try FileManager.default.removeItem(atPath: dir + "/entries")
    }
}

/// Vaults as avault wrote them with index format 3 (formats.md 8.3.1): the same entries, under a
/// head that commits to the whole set.
enum VaultIndexFormatThree {
    /// Rewrites the head of the file vault at `dir` (format 4) as format 3: the same bindings,
    /// the whole set's count and sum, sealed under the current key; the entries are unchanged.
    static func downgrade(_ dir: String, keyring: Keyring) throws {
        let vault = try Vault(storage: FileVaultStorage(directory: dir), keyring: keyring)
        let state = try vault.loadState()
        let (kid, key) = try vault.currentKey()
        let whole = state.commitment.whole
        let head = VaultFiles.IndexHead(vaultID: state.index.vaultID, keyName: state.index.keyName, namingKid: state.index.namingKid,
                                        log: state.index.log, signedHead: state.index.signedHead,
                                        entries: .whole(VaultFiles.EntrySet(count: whole.count, sum: Hex.encode(whole.sum))))
        let sealed = try Vault.seal(VaultFiles.headJSON(head), key: key, kid: kid, ad: { vault.config.headAssociatedData(kid: $0, format: 3) })
        try Data(VaultFiles.headText(sealed, format: 3).utf8).write(to: URL(fileURLWithPath: dir + "/index"))
    }
}
