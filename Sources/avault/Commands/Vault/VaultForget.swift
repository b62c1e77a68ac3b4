import ArgumentParser
import ArticleVault

struct VaultForget: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Forget which vault this keyring used at a location, so that a vault re-created there can be used.",
        discussion: """
            The keyring remembers which vault (by id) it used at each location, and refuses \
            another vault found there (exit 1): someone who can write where a vault to recipients \
            lives could otherwise put a vault of their own in its place. When the vault was \
            re-created on purpose, check its new id (the 'id:' line of its config) with whoever \
            made it, then run this; the next command takes the vault there as one never seen. \
            The vault itself is not read or changed, and what the keyring remembers of the old \
            vault's history stays.

            Example: avault vault forget --vault /srv/desk-vault
            """)
    @OptionGroup var location: VaultLocationOptions
    @OptionGroup var keyring: KeyringOptions

    func run() throws {
        let storage = try location.storage()
        if let id = try Vault.forget(storage: storage, keyring: try keyring.open()) {
            try Terminal.writeStdout("forgot vault \(id) at \(Terminal.shown(storage.location))\n")
        } else {
            try Terminal.writeStdout("this keyring has no record of a vault at \(Terminal.shown(storage.location))\n")
        }
    }
}
