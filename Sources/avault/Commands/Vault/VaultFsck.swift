import ArgumentParser
import ArticleVault

struct VaultFsck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Report problems and move unreadable or unexpected files into quarantine/ (nothing is deleted).",
        discussion: "Example: avault vault fsck")
    @OptionGroup var options: VaultOptions

    func run() throws {
        let (check, moved) = try options.open().fsck()
        var out = check.text
        for m in moved { out += "moved aside: \(m)\n" }
        Terminal.writeStdout(out)
        if !check.missing.isEmpty { throw ExitCode(Exit.no) }
    }
}
