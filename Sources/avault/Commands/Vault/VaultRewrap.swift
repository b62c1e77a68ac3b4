import ArgumentParser
import ArticleVault

struct VaultRewrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrap",
        abstract: "Re-encrypt every version under the newest key version, streaming: no plaintext touches the disk.")
    @OptionGroup var options: VaultOptions

    func run() throws {
        let n = try options.open().rewrap()
        Terminal.writeStdout("rewrapped \(n) version\(n == 1 ? "" : "s")\n")
    }
}
