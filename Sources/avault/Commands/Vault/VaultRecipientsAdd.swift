import ArgumentParser
import ArticleVault

struct VaultRecipientsAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Give recipients access to the vault (its data key wrapped to them too).",
        discussion: "You must be a recipient yourself (an identity of your keyring opens the data key).\n\nExample: avault vault recipients add age1…")
    @OptionGroup var options: VaultOptions
    @Argument(help: ArgumentHelp("Recipients to add (age1…).", valueName: "recipient")) var recipients: [String] = []
    @Option(name: .customLong("recipients-file"), help: ArgumentHelp("Add the recipients in this file (one age1… per line, # comments; repeatable; - is standard input).", valueName: "file"), completion: .file())
    var recipientsFiles: [String] = []

    func validate() throws {
        if recipients.isEmpty, recipientsFiles.isEmpty { throw ValidationError("give at least one recipient or --recipients-file") }
        try refuseStandardInputTwice(["passphrase": options.keyring.passphraseFile], each: ["recipients file": recipientsFiles])
    }

    func run() throws {
        let added = try Vault.recipientTexts(recipients, files: recipientsFiles)
        let change = try options.open().changeRecipients(add: added, remove: [], rotate: false)
        try Terminal.writeStdout("added \(added.count) recipient\(added.count == 1 ? "" : "s"); the vault has \(change.recipients.count)\n")
    }
}
