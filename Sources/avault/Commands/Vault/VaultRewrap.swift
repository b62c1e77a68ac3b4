import ArgumentParser
import ArticleVault

struct VaultRewrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrap",
        abstract: "Re-encrypt every version under the newest key version, streaming: no plaintext touches the disk.",
        discussion: "Example: avault vault rewrap (after avault keys rotate desk-content)")
    @OptionGroup var options: VaultOptions

    func run() throws {
        let n = try options.open().rewrap()
        try Terminal.writeStdout("rewrapped \(n) version\(n == 1 ? "" : "s")\n")
    }
}
