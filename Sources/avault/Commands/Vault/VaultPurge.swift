import ArgumentParser
import ArticleVault

struct VaultPurge: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "purge", abstract: "Delete every version of an object for good.",
        discussion: """
            With --quarantined instead of an ID, deletes everything recovery or fsck kept in \
            quarantine (which vault verify lists), under any name.

            Example: avault vault purge https://example.org/a --force
            """)
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID.") var id: String?
    @Flag(help: "Delete everything kept in quarantine instead.") var quarantined = false
    @Flag(help: "Required: purging cannot be undone.") var force = false

    func validate() throws {
        switch (id, quarantined) {
        case (nil, false): throw ValidationError("give the ID of the object to purge, or --quarantined")
        case (.some, true): throw ValidationError("give an ID or --quarantined, not both")
        default: break
        }
        if !force { throw ValidationError("purge deletes \(quarantined ? "what is kept in quarantine" : "every version") for good; add --force") }
    }

    func run() throws {
        guard let id else {
            let deleted = try options.open().purgeQuarantined()
            try Terminal.reportMade("deleted \(deleted) file\(deleted == 1 ? "" : "s") kept in quarantine\n", done: "the files were deleted")
            return
        }
        try options.open().purge(id)
        try Terminal.reportMade("purged \(Terminal.quoted(id))\n", done: "it was purged")
    }
}
