import Yams

/// An article record: a `---` line, YAML front matter, a `---` line, then the body.
///
/// CRLF line endings are accepted. The front matter must be a mapping; it is read into the
/// JSON data model under the YAML 1.2 core schema (see `docs/formats.md`).
public struct RecordDocument: Sendable {
    /// The front matter's YAML text, between the two `---` lines.
    public let frontMatterText: Substring
    /// Everything after the closing `---` line, unchanged.
    public let body: Substring
    /// The front matter as a JSON-model object.
    public let fields: FieldValue

    /// Splits and parses `text`. Throws ``FormatError/invalidRecord(_:line:)``.
    public init(parsing text: String) throws(FormatError) {
        let (yaml, body) = try Self.split(text)
        self.frontMatterText = yaml
        self.body = body
        self.fields = try FrontMatter.parse(yaml)
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

/// Reads YAML front matter into ``FieldValue``.
enum FrontMatter {
    static func parse(_ yaml: Substring) throws(FormatError) -> FieldValue {
        let node: Node?
        let parser: Parser
        do {
            // Keep the parser alive while converting: nodes hold their anchors weakly.
            parser = try Parser(yaml: String(yaml))
            node = try parser.singleRoot()
        } catch let error as YamlError {
            throw .invalidRecord(describe(error), line: line(of: error).map { $0 + 1 })
        } catch {
            throw .invalidRecord("invalid YAML", line: nil)
        }
        guard let node else { return .object([]) }
        guard case .mapping = node else {
            throw .invalidRecord("the front matter must be a mapping of field names to values", line: 2)
        }
        return try withExtendedLifetime(parser) { () throws(FormatError) in try convert(node) }
    }

    private static func convert(_ node: Node) throws(FormatError) -> FieldValue {
        if node.anchor != nil {
            throw .invalidRecord("anchors and aliases are not allowed", line: node.mark.map { $0.line + 1 })
        }
        switch node {
        case .scalar(let scalar):
            return resolve(scalar)
        case .sequence(let sequence):
            var items: [FieldValue] = []
            for child in sequence { items.append(try convert(child)) }
            return .array(items)
        case .mapping(let mapping):
            var pairs: [(key: String, value: FieldValue)] = []
            var seen = Set<String>()
            for (key, value) in mapping {
                guard case .scalar(let k) = key else {
                    throw .invalidRecord("a mapping key is not a string", line: key.mark.map { $0.line + 1 })
                }
                guard seen.insert(k.string).inserted else {
                    throw .invalidRecord("duplicate key '\(k.string)'", line: key.mark.map { $0.line + 1 })
                }
                pairs.append((k.string, try convert(value)))
            }
            return .object(pairs)
        case .alias(let alias):
            throw .invalidRecord("aliases are not allowed", line: alias.mark.map { $0.line + 1 })
        }
    }

    /// YAML 1.2 core schema, restricted to JSON: plain `null`/`~`/empty, `true`/`false`,
    /// decimal integers and floats; every other scalar is a string.
    static func resolve(_ scalar: Node.Scalar) -> FieldValue {
        guard scalar.style == .plain else { return .string(scalar.string) }
        let s = scalar.string
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        if isDecimalNumber(s), let d = Double(s) { return .number(d) }
        return .string(s)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    static func isDecimalNumber(_ s: String) -> Bool {
        var u = Substring(s).utf8[...]
        func digits() -> Int {
            var n = 0
            while let c = u.first, (48...57).contains(c) { u = u.dropFirst(); n += 1 }
            return n
        }
        if let c = u.first, c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { u = u.dropFirst() }
        let intDigits = digits()
        var fracDigits = 0
        if u.first == UInt8(ascii: ".") { u = u.dropFirst(); fracDigits = digits() }
        guard intDigits > 0 || fracDigits > 0 else { return false }
        if let c = u.first, c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            u = u.dropFirst()
            if let c = u.first, c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { u = u.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return u.isEmpty
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return "invalid YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicate key '\(duplicates.joined(separator: "', '"))'"
        default:
            return "invalid YAML"
        }
    }
}
