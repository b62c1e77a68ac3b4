import ArgumentParser
import ArticleVault

struct VaultPurge: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "purge", abstract: "Delete every version of an object for good.",
        discussion: "Example: avault vault purge https://example.org/a --force")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID.") var id: String
    @Flag(help: "Required: purging cannot be undone.") var force = false

    func validate() throws { if !force { throw ValidationError("purge deletes every version for good; add --force") } }

    func run() throws {
        try options.open().purge(id)
        try Terminal.reportMade("purged \(Terminal.quoted(id))\n", done: "it was purged")
    }
}
