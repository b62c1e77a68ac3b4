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
        var text = text
        // Scan the bytes once for the two fence lines (a first line `---`, then the next line
        // that is exactly `---`), then cut the string at those byte offsets.
        let found: (yamlStart: Int, yamlEnd: Int, bodyStart: Int)?? = text.withUTF8 { bytes in
            func lineEnd(_ from: Int) -> (content: Int, next: Int) {
                var i = from
                while i < bytes.count, bytes[i] != 0x0A { i += 1 }
                return (i, i < bytes.count ? i + 1 : i)
            }
            func isFence(_ from: Int, _ to: Int) -> Bool {
                var end = to
                if end > from, bytes[end - 1] == 0x0D { end -= 1 }
                return end - from == 3 && bytes[from] == 0x2D && bytes[from + 1] == 0x2D && bytes[from + 2] == 0x2D
            }
            let first = lineEnd(0)
            guard bytes.count > 0, isFence(0, first.content) else { return .some(nil) }
            var i = first.next
            while i < bytes.count {
                let line = lineEnd(i)
                if isFence(i, line.content) { return (first.next, i, line.next) }
                i = line.next
            }
            return nil
        }
        guard let found else { throw .invalidRecord("no closing '---' line after the front matter", line: nil) }
        guard let (yamlStart, yamlEnd, bodyStart) = found else {
            throw .invalidRecord("the first line must be '---' (front matter is missing)", line: 1)
        }
        let utf8 = text.utf8
        let a = utf8.index(utf8.startIndex, offsetBy: yamlStart)
        let b = utf8.index(utf8.startIndex, offsetBy: yamlEnd)
        let c = utf8.index(utf8.startIndex, offsetBy: bodyStart)
        return (text[a..<b], text[c...])
    }
}
