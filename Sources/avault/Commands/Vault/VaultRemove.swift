import ArgumentParser
import ArticleVault

struct VaultRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove an object (a tombstone: its history is kept).",
        discussion: "Example: avault vault rm https://example.org/a")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID.") var id: String

    func run() throws {
        try options.open().remove(id, now: now())
        try Terminal.reportMade("removed \(Terminal.quoted(id)) (history kept)\n", done: "it was removed")
    }
}
