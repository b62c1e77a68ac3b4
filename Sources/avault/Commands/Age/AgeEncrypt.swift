import ArgumentParser
import ArticleVault

struct AgeEncrypt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Encrypt a file (or standard input) to age recipients or a passphrase.",
        discussion: """
            Writes an age v1 file that 'age -d' decrypts: to every -r recipient and every \
            recipient in the -R files, or with -p to a passphrase alone (scrypt, work factor \
            2^18 as age writes it). -a writes the ASCII armor. Binary output is not written to a \
            terminal; -o FILE appears only once complete (mode 600).

            Example: avault age encrypt -r age1… -R team.txt -a -o draft.md.age draft.md
            """)

    @Option(name: [.customShort("r"), .customLong("recipient")], help: ArgumentHelp("An X25519 recipient, age1… (repeatable).", valueName: "recipient"))
    var recipients: [String] = []
    @Option(name: [.customShort("R"), .customLong("recipients-file")], help: ArgumentHelp("A file of recipients, one per line, '#' comments (repeatable; - is standard input).", valueName: "file"), completion: .file())
    var recipientsFiles: [String] = []
    @Flag(name: [.customShort("p"), .customLong("passphrase")], help: "Encrypt with a passphrase instead (it cannot be combined with recipients).")
    var passphrase = false
    @OptionGroup var agePassphrase: AgePassphraseOptions
    @Flag(name: [.customShort("a"), .customLong("armor")], help: "Write the ASCII armor (PEM-like text).") var armor = false
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write here instead of standard output.", valueName: "file"), completion: .file())
    var output: String?
    @Flag(help: "Overwrite an existing output file.") var force = false
    @Argument(help: ArgumentHelp("The file to encrypt (default: standard input).", valueName: "input"), completion: .file())
    var input: String?

    func validate() throws {
        let named = !recipients.isEmpty || !recipientsFiles.isEmpty
        if passphrase, named { throw ValidationError("-p cannot be combined with -r or -R (a passphrase file has no other recipients)") }
        if !passphrase, !named { throw ValidationError("give at least one -r RECIPIENT or -R FILE, or -p") }
        if agePassphrase.file != nil, !passphrase { throw ValidationError("--age-passphrase-file goes with -p") }
        try refuseStandardInputTwice(["input": input ?? "-", "age passphrase": agePassphrase.file], each: ["recipients file": recipientsFiles])
    }

    func run() throws {
        if output == nil || output == "-", !armor, Terminal.stdoutIsTerminal { throw Terminal.binaryToTerminal }
        try AgeIO.encrypt(input: input, recipients: recipients, recipientsFiles: recipientsFiles,
                          passphrase: passphrase ? agePassphrase.source : nil, armor: armor, output: output, overwrite: force,
                          stdout: { piece throws(AvaultError) in try Terminal.writeStdout(piece) })
    }
}
