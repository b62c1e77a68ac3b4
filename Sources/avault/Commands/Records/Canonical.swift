import ArgumentParser
import ArticleVault

struct Canonical: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canonical",
        abstract: "Print the canonical bytes a record signature covers (avault-record-v1), or RFC 8785 JSON.",
        discussion: """
            For a record: the RFC 8785 (JCS) serialisation of {"body": BODY, "fields": FIELDS}, FIELDS \
            being the front matter without `signatures` and BODY the text after the closing --- line \
            with CRLF turned into LF. With --json: the RFC 8785 form of any JSON document.

            \(exitCodeHelp)

            Example: avault canonical post.md | sha256sum
            """
    )

    @Argument(help: ArgumentHelp("A record, or with --json a JSON file (- for standard input).", valueName: "file"), completion: .file()) var file: String
    @Flag(help: "Canonicalise a JSON document instead of a record.") var json = false

    func run() throws {
        if json {
            let bytes = try FileSystem.readInput(file, limit: .max, what: "a record")
            let text: [UInt8]
            do {
                text = try ArticleVault.Canonical.json(bytes, path: file)
            } catch {
                // Not JSON is the answer "no" here, as for a record.
                throw Failure(message: error.message, code: Exit.no)
            }
            // A failure to write it is an operational error, as everywhere.
            return try Terminal.writeStdout(text)
        }
        try ArticleVault.Canonical.record(at: file) { (piece) throws(AvaultError) in try Terminal.writeStdout(piece) }
    }
}
