import ArgumentParser
import ArticleVault

struct SecuredEncrypt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Encrypt standard input (or --input) and print the blob on one line.",
        discussion: """
            Makes a v2 blob (XChaCha20-Poly1305, 32-byte key) bound to --context, or with \
            --legacy-cbc a v1 blob (AES-CBC with a 16-, 24- or 32-byte key and a fresh IV) \
            for readers that only know v1.

            \(exitCodeHelp)

            Example: avault secured encrypt --key desk-content --context https://example.org/a < draft.txt
            """
    )

    @OptionGroup var key: KeyChoice

    @Option(help: ArgumentHelp("The context to bind a v2 blob to (a record's webUrl).", valueName: "text"))
    var context: String?

    @Flag(name: .customLong("legacy-cbc"), help: "Make a legacy, unauthenticated v1 blob.")
    var legacyCBC = false

    @Option(name: [.customShort("i"), .customLong("input")], help: ArgumentHelp("Read the plaintext from this file instead of standard input (- is standard input).", valueName: "file"), completion: .file())
    var input: String?

    func validate() throws {
        try refuseStandardInputTwice(["plaintext": input ?? "-", "passphrase": key.passphraseFile, "key": key.keyFile])
        if legacyCBC, context != nil {
            throw ValidationError("--context has no effect with --legacy-cbc: v1 blobs are not bound to a context")
        }
    }

    func run() throws {
        let blob = try SecuredField.encrypt(input: input, using: try key.source(), context: context ?? "", legacy: legacyCBC)
        try Terminal.writeStdout(blob.text + "\n")
    }
}
