import ArgumentParser
import ArticleVault

struct VaultCopy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy the vault (every version, the log, the signed heads) into a directory or a PostgreSQL database, and verify the copy.",
        discussion: """
            The copy is the same vault (same ID, same log), so the same keyring reads it. The target must hold no vault. \
            Success is reported only once every version in the copy authenticates; exit status 1 when the copy does not verify.

            Example: avault vault copy --to postgresql://db.example/news
            """)
    @OptionGroup var options: VaultOptions
    @Option(help: ArgumentHelp("Where to copy the vault: a directory, or a PostgreSQL URL (postgres://…) of a database that holds none.", valueName: "dir|url"))
    var to: String

    func run() throws {
        let (copy, check) = try options.open().copy(to: try Vault.storage(at: to))
        guard check.ok else {
            try Terminal.writeStdout(check.text)
            throw check.failure
        }
        try Terminal.writeStdout("copied \(check.objects) objects, \(check.versions) versions to \(copy.storage.location); the copy verifies\n")
    }
}
