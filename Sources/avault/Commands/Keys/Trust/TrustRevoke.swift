import ArgumentParser
import ArticleVault

struct TrustRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a trusted key: its signatures no longer pass, and it stays listed as revoked.",
        discussion: "Example: avault keys trust revoke 2F2D13E212EF42E9 --reason 'key lost'")

    @OptionGroup var store: TrustStoreOptions
    @Argument(help: ArgumentHelp("The key id, as minisign prints it.", valueName: "keyid")) var keyID: String
    @Option(help: "Why (recorded in the trust store).") var reason: String = ""

    func validate() throws {
        guard TrustStore.isValidReason(reason) else { throw ValidationError("--reason must be text on one line") }
    }

    func run() throws {
        let id = try parseKeyID(keyID)
        try store.open(existing: true).revoke(id, reason: reason, now: now())
        try Terminal.writeStdout("revoked key \(id.printed)\n")
    }
}
