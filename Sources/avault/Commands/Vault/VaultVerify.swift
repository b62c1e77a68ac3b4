import ArgumentParser
import ArticleVault

struct VaultVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Authenticate every version; report missing, corrupt or unexpected files, and what interrupted writes left.",
        discussion: "Exit status: 0 all is well (leftovers of interrupted writes included); 1 something is missing, corrupt or unexpected, or the vault was rolled back; 2 operational error.\n\nExample: avault vault verify")
    @OptionGroup var options: VaultOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let check = try options.open().verify()
        try Terminal.writeStdout(json ? check.json.jsonLine + "\n" : check.text)
        if !check.ok { throw check.failure }
    }
}
