import ArgumentParser
import ArticleVault

struct VaultRecipientsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Print the vault's recipients, one per line.",
        discussion: "The vault's state is checked first (its config, index and log bind the list).\n\nExample: avault vault recipients list --json")
    @OptionGroup var options: VaultOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let list = try options.open().recipients()
        if json {
            try JSONOutput.print([("recipients", .array(list.map { .string($0) }))])
        } else {
            try Terminal.writeStdout(list.map { $0 + "\n" }.joined())
        }
    }
}
