import ArgumentParser
import ArticleVault

struct KeysPasswd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Re-seal every secret under a new passphrase, atomically.",
        discussion: "The current passphrase is asked for even when an agent holds its key; an agent that holds it is given the new one. The new passphrase comes from --new-passphrase-file, else AVAULT_NEW_PASSPHRASE, else the terminal (asked twice).\n\nExample: avault keys passwd --new-passphrase-file new-passphrase.txt")

    @OptionGroup var keyring: KeyringOptions
    @Option(name: .customLong("new-passphrase-file"), help: ArgumentHelp("Read the new passphrase from this file (mode 600; - is standard input).", valueName: "file"), completion: .file())
    var newPassphraseFile: String?

    func validate() throws {
        try refuseStandardInputTwice(["passphrase": keyring.passphraseFile, "new passphrase": newPassphraseFile])
    }

    func run() throws {
        // The passphrase being replaced is asked for even when an agent holds its key (as
        // passwd(1) asks for the old password); an agent holding it is given the new one.
        let ring = try keyring.open()
        ring.unlocksWithAgent = false
        let source = PassphraseSource(file: newPassphraseFile, environmentVariable: "AVAULT_NEW_PASSPHRASE", label: "new keyring passphrase")
        let count = try ring.update { ring throws(AvaultError) -> Int in
            // Check the old passphrase before asking for a new one.
            if let first = ring.file.entries.first(where: { $0.isProtected }) { _ = try ring.secret(of: first) }
            try ring.changePassphrase(to: try source.read(confirm: true))
            return ring.file.entries.filter(\.isProtected).count
        }
        try Terminal.writeStdout("re-sealed \(count) secret\(count == 1 ? "" : "s") under the new passphrase\n")
    }
}
