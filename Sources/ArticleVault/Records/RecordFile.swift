public import VaultFormat

/// An article record read from disk.
public struct RecordFile: Sendable {
    /// Where it was read from.
    public let path: String
    /// The file's text.
    public let text: String
    /// The parsed document.
    public let document: RecordDocument

    /// Reads and parses the record at `path`.
    public init(path: String) throws(AvaultError) {
        let bytes = try FileSystem.read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformed(.invalidRecord("the file is not valid UTF-8", line: nil), file: path)
        }
        self.path = path
        self.text = text
        do {
            self.document = try RecordDocument(parsing: text)
        } catch {
            throw .malformed(error, file: path)
        }
    }

    /// The `secured` field's text. Throws when the record has none or it is not a string.
    public func securedText() throws(AvaultError) -> String {
        guard let value = document.fields["secured"] else { throw .noSecuredField(path: path) }
        guard let text = value.stringValue else {
            throw .malformed(.invalidRecord("the 'secured' field is not a string", line: nil), file: path)
        }
        return text
    }
}
