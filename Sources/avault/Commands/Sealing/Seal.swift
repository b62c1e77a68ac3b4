import ArgumentParser
import ArticleVault

struct Seal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Move a record's body (and --field NAMEs) into a v2 secured blob bound to its context.",
        discussion: "Other fields stay readable. Written atomically; signatures that no longer match are dropped with a warning.\n\n\(exitCodeHelp)\n\nExample: avault seal --key desk-content --sign desk-signing draft.md")

    @Argument(help: ArgumentHelp("Records.", valueName: "file"), completion: .file()) var files: [String]
    @Option(help: ArgumentHelp("The content key's name.", valueName: "name"), completion: KeyCompletion.names(.content)) var key: String
    @Option(name: .customLong("field"), help: ArgumentHelp("A top-level field to seal too (repeatable).", valueName: "name")) var fields: [String] = []
    @OptionGroup var resign: ResignOption
    @OptionGroup var keyring: KeyringOptions
    @OptionGroup var quiet: QuietOption

    func validate() throws { if files.isEmpty { throw ValidationError("give at least one record") } }

    func run() throws {
        quiet.apply()
        try rewriteEach(files, keyring, resign, verb: "sealed") { file, ring, signer throws(AvaultError) in
            try Sealing.seal(path: file, keyring: ring, keyName: key, fields: fields, signer: signer)
        }
    }
}
