import ArgumentParser
import ArticleVault
import VaultFormat

/// `--secret`, `--signing` or `--identity`: the kind of key `keys generate` makes.
enum GeneratedKind: String, EnumerableFlag {
    case secret, signing, identity

    static func help(for value: GeneratedKind) -> ArgumentHelp? {
        switch value {
        case .secret: "A 32-byte content key for v2 secured blobs."
        case .signing: "An Ed25519 signing key (minisign-compatible)."
        case .identity: "An X25519 identity that opens age files (age-compatible; its recipient is age1…)."
        }
    }

    var kind: KeyKind {
        switch self {
        case .secret: .content
        case .signing: .signing
        case .identity: .identity
        }
    }
}

func printEntry(_ entry: Keyring.Entry, json: Bool, verb: String, current: Bool = true) throws(AvaultError) {
    if json {
        try JSONOutput.print(entry.jsonPairs(current: current))
    } else {
        try Terminal.writeStdout("\(verb) \(entry.summary)\n")
    }
}

/// The minisign password: `--minisign-passphrase-file`, else AVAULT_MINISIGN_PASSPHRASE, else the terminal.
struct MinisignPasswordOptions: ParsableArguments {
    @Option(name: .customLong("minisign-passphrase-file"), help: ArgumentHelp("Read the minisign key's password from this file (mode 600; - is standard input) instead of AVAULT_MINISIGN_PASSPHRASE or the terminal.", valueName: "file"), completion: .file())
    var file: String?

    var source: PassphraseSource {
        PassphraseSource(file: file, environmentVariable: "AVAULT_MINISIGN_PASSPHRASE", label: "minisign password")
    }
}
