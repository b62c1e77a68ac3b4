import ArgumentParser
import ArticleVault

struct VaultLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show the hash-chained log; --verify checks it; --sign NAME signs its head.",
        discussion: "Exit status with --verify: 0 intact; 1 edited, reordered, removed or cut entries; 2 operational error.\n\nExample: avault vault log --verify")
    @OptionGroup var options: VaultOptions
    @Flag(help: "Print the entries as JSON Lines.") var json = false
    @Flag(help: "Check the chain and every signed head.") var verify = false
    @Option(help: ArgumentHelp("Sign the current head with this signing key.", valueName: "name"), completion: KeyCompletion.names(.signing)) var sign: String?

    func validate() throws {
        if json, verify || sign != nil {
            throw ValidationError("--json prints the entries; it does not go with --verify or --sign")
        }
    }

    func run() throws {
        let vault = try options.open()
        // With both, the head is signed only once the log verifies.
        if verify {
            let report = try vault.verifyLog(now: now())
            var out = "\(report.entries) entries, \(report.signedHeads) signed head\(report.signedHeads == 1 ? "" : "s")"
            out += report.signedThrough > 0 ? ", signed through entry \(report.signedThrough)\n" : "\n"
            for p in report.problems { out += "problem: \(Terminal.shown(p))\n" }
            for n in report.notes { out += "note: \(Terminal.shown(n))\n" }
            if report.lastSeq > report.signedThrough, report.problems.isEmpty {
                out += "note: entries \(report.signedThrough + 1)–\(report.lastSeq) are after the last signed head: only the index and the keyring's record protect them\n"
            }
            if report.unfinishedTail { out += "note: the last line is unfinished (an interrupted append)\n" }
            try Terminal.writeStdout(out)
            if !report.ok { throw ExitCode(Exit.no) }
            if sign == nil { return }
        }
        if let sign {
            let (seq, hash) = try vault.signLog(keyName: sign, now: now())
            try Terminal.writeStdout("signed the log head: entry \(seq), \(hash)\n")
            return
        }
        // Text: each line shown as one line, whatever a tampered log holds (see Terminal.shown).
        let text = try vault.logText(raw: json)
        try Terminal.writeStdout(json ? text : text.split(separator: "\n", omittingEmptySubsequences: false).map { Terminal.shown(String($0)) }.joined(separator: "\n"))
    }
}
