import ArgumentParser
import ArticleVault
import VaultFormat

struct Canonical: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canonical",
        abstract: "Print the canonical bytes a record signature covers (avault-record-v1), or RFC 8785 JSON.",
        discussion: """
            For a record: the RFC 8785 (JCS) serialisation of {"body": BODY, "fields": FIELDS}, FIELDS \
            being the front matter without `signatures` and BODY the text after the closing --- line \
            with CRLF turned into LF. With --json: the RFC 8785 form of any JSON document.

            \(exitCodeHelp)
            """
    )

    @Argument(help: ArgumentHelp("A record, or with --json a JSON file (- for standard input).", valueName: "file")) var file: String
    @Flag(help: "Canonicalise a JSON document instead of a record.") var json = false

    func run() throws {
        if json {
            let bytes = file == "-" ? try FileSystem.readAll(fd: 0, name: "standard input") : try FileSystem.read(file)
            do {
                Terminal.writeStdout(try JSONDocument.parse(bytes).canonicalJSON)
            } catch {
                throw Failure(message: "\(file): \(error)", hint: nil, code: Exit.no)
            }
            return
        }
        let document: RecordDocument
        do {
            document = try RecordDocument(parsing: try RecordFile.readText(file))
        } catch let error as FormatError {
            throw AvaultError.malformed(error, file: file)
        }
        // Written piece by piece: the body is never copied whole.
        RecordSignatures.writeCanonicalBytes(of: document) { Terminal.writeStdout($0) }
    }
}
