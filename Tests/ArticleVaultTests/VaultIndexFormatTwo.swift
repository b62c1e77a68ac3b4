import Foundation
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
