import ArgumentParser
import ArticleVault

struct VaultRecipientsRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Take recipients off the vault; --rotate also re-encrypts everything under a new data key.",
        discussion: """
            Without --rotate the data key stays the same and is wrapped only to the others: a removed recipient who \
            kept it can still read every version, including those written later, if they can get the files. With \
            --rotate every version, the naming key and the index are re-encrypted under a new data key, streaming \
            (no plaintext touches the disk), in the same write.

            Example: avault vault recipients remove age1… --rotate
            """)
    @OptionGroup var options: VaultOptions
    @Argument(help: ArgumentHelp("Recipients to remove (age1…).", valueName: "recipient")) var recipients: [String]
    @Flag(help: "Re-encrypt every version under a new data key.") var rotate = false

    func validate() throws { if recipients.isEmpty { throw ValidationError("give at least one recipient") } }

    func run() throws {
        let removed = try Vault.recipientTexts(recipients, files: [])
        let change = try options.open().changeRecipients(add: [], remove: removed, rotate: rotate)
        var line = "removed \(removed.count) recipient\(removed.count == 1 ? "" : "s"); the vault has \(change.recipients.count)"
        if let n = change.rotated { line += "; rotated the data key (re-encrypted \(n) version\(n == 1 ? "" : "s"))" }
        try Terminal.writeStdout(line + "\n")
    }
}
