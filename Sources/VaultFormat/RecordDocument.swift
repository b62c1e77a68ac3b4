/// An article record: a `---` line, YAML front matter, a `---` line, then the body.
///
/// CRLF line endings are accepted. The front matter must be a mapping; it is read into the
/// JSON data model under the YAML 1.2 core schema (see `docs/formats.md`).
public struct RecordDocument: Sendable {
    /// The front matter's YAML text, between the two `---` lines.
    public let frontMatterText: Substring
    /// Everything after the closing `---` line, unchanged.
    public let body: Substring
    /// The parsed front matter.
    public let frontMatter: FrontMatter
    /// The front matter as a JSON-model object.
    public var fields: FieldValue { frontMatter.fields }

    /// Splits and parses `text`. Throws ``FormatError/invalidRecord(_:line:)``.
    public init(parsing text: String) throws(FormatError) {
        let (yaml, body) = try Self.split(text)
        self.frontMatterText = yaml
        self.body = body
        self.frontMatter = try FrontMatter.parse(yaml, firstLine: 2)
    }

    /// The context a `secured` blob in this record is bound to: `webUrl` if the record has
    /// one, else `originalUrl`, else the empty string.
    public var securedContext: String {
        fields["webUrl"]?.stringValue ?? fields["originalUrl"]?.stringValue ?? ""
    }

    /// Splits `text` into front matter and body at the `---` fences.
    public static func split(_ text: String) throws(FormatError) -> (frontMatter: Substring, body: Substring) {
        let lines = text.utf8
        var index = lines.startIndex
        // The first line must be exactly `---`.
        guard let firstEnd = lineEnd(in: text, from: index), isFence(text[index..<firstEnd.content]) else {
            throw .invalidRecord("the first line must be '---' (front matter is missing)", line: 1)
        }
        index = firstEnd.next
        let yamlStart = index
        while index < lines.endIndex {
            guard let end = lineEnd(in: text, from: index) else { break }
            if isFence(text[index..<end.content]) {
                return (text[yamlStart..<index], text[end.next...])
            }
            index = end.next
        }
        throw .invalidRecord("no closing '---' line after the front matter", line: nil)
    }

    private static func isFence(_ line: Substring) -> Bool {
        line == "---" || line == "---\r"
    }

    /// End of the line starting at `start`: where its content ends (before `\n`) and where
    /// the next line starts. nil at end of text.
    private static func lineEnd(in text: String, from start: String.Index) -> (content: String.Index, next: String.Index)? {
        let utf8 = text.utf8
        guard start < utf8.endIndex else { return nil }
        if let nl = utf8[start...].firstIndex(of: UInt8(ascii: "\n")) {
            return (nl, utf8.index(after: nl))
        }
        return (utf8.endIndex, utf8.endIndex)
    }
}

