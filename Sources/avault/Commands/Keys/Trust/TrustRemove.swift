import ArgumentParser
import ArticleVault

struct TrustRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a key from the trust store.",
        discussion: """
            A revoked key is removed only with --force: its revocation goes with it, and once added \
            again its signatures would count.

            Example: avault keys trust remove 2F2D13E212EF42E9
            """)

    @OptionGroup var store: TrustStoreOptions
    @Argument(help: ArgumentHelp("The key id, as minisign prints it.", valueName: "keyid")) var keyID: String
    @Flag(help: "Remove a revoked key too (which un-revokes it).") var force = false

    func run() throws {
        let id = try parseKeyID(keyID)
        try store.open(existing: true).remove(id, force: force)
        try Terminal.writeStdout("removed key \(id.printed)\n")
    }
}
