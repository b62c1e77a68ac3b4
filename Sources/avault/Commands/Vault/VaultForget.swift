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
            made it, then run this; the next command takes the vault there as one never seen, \
            or with --expect ID as that vault only. The vault itself is not read or changed, and \
            what the keyring remembers of the old vault's history stays.

            Example: avault vault forget --vault /srv/desk-vault --expect 3f0c…
            """)
    @OptionGroup var location: VaultLocationOptions
    @OptionGroup var keyring: KeyringOptions
    @Option(help: ArgumentHelp("The id of the vault now there, checked with whoever made it: any other vault there is refused, and this one is not named as never seen.", valueName: "id"))
    var expect: String?

    func run() throws {
        let storage = try location.storage()
        let where_ = Terminal.shown(storage.location)
        let forgotten = try Vault.forget(storage: storage, keyring: try keyring.open(), expecting: expect)
        var out = forgotten.map { "forgot vault \($0) at \(where_)\n" } ?? "this keyring has no record of a vault at \(where_)\n"
        if let expect { out += "this keyring now expects vault \(expect) at \(where_)\n" }
        try Terminal.writeStdout(out)
    }
}
