import ArgumentParser
import ArticleVault

struct AgeDecrypt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Decrypt an age file (or standard input) with identities, or with its passphrase.",
        discussion: """
            The identities are the --key identities of the keyring (every version, retired ones \
            included), then those of the -i files (AGE-SECRET-KEY-1… lines, '#' comments, mode \
            600), tried in that order; a passphrase-encrypted file takes neither. Without either, \
            the file must be passphrase-encrypted (one encrypted to recipients is refused, exit 64) \
            and the passphrase is asked for. The ASCII armor is recognised as the age \
            specification reads it (whitespace before it accepted). Plaintext goes to standard \
            output as each chunk is authenticated; with -o FILE it appears only when the whole \
            file decrypted (nothing half-written on a failure).

            Example: avault age decrypt --key desk-identity -o draft.md draft.md.age
            """)

    @OptionGroup var keyring: KeyringOptions
    @Option(name: .customLong("key"), help: ArgumentHelp("An identity in the keyring, by name (repeatable).", valueName: "name"), completion: KeyCompletion.names(.identity))
    var keys: [String] = []
    @Option(name: [.customShort("i"), .customLong("identity")], help: ArgumentHelp("An age identity file (repeatable; - is standard input).", valueName: "file"), completion: .file())
    var identityFiles: [String] = []
    @OptionGroup var agePassphrase: AgePassphraseOptions
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write here instead of standard output.", valueName: "file"), completion: .file())
    var output: String?
    @Flag(help: "Overwrite an existing output file.") var force = false
    @Argument(help: ArgumentHelp("The age file (default: standard input).", valueName: "input"), completion: .file())
    var input: String?

    func validate() throws {
        if agePassphrase.file != nil, !(keys.isEmpty && identityFiles.isEmpty) {
            throw ValidationError("--age-passphrase-file is for passphrase files, which take no --key or -i")
        }
        try refuseStandardInputTwice(["input": input ?? "-", "passphrase": keys.isEmpty ? nil : keyring.passphraseFile,
                                      "age passphrase": agePassphrase.file], each: ["identity file": identityFiles])
    }

    func run() throws {
        let ring = keys.isEmpty ? nil : try keyring.open()
        try AgeIO.decrypt(input: input, keyring: ring, keys: keys, identityFiles: identityFiles, passphrase: agePassphrase.source,
                          output: output, overwrite: force, stdout: { piece throws(AvaultError) in try Terminal.writeStdout(piece) })
    }
}
