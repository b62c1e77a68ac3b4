import ArgumentParser
import ArticleVault

struct VaultFsck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Report problems and move unreadable or unexpected files into quarantine/ (nothing is deleted).",
        discussion: "Exit status: 0 nothing was wrong; 1 files were missing or moved aside; 2 operational error.\n\nExample: avault vault fsck")
    @OptionGroup var options: VaultOptions

    func run() throws {
        let (check, moved) = try options.open().fsck()
        var out = check.text
        for m in moved { out += "moved aside: \(Terminal.shown(m))\n" }
        try Terminal.writeStdout(out)
        // Something was wrong enough to move aside: a script must notice.
        if !check.missing.isEmpty || !moved.isEmpty { throw ExitCode(Exit.no) }
    }
}
