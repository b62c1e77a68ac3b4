/// Edits a record's text at the level of top-level front-matter keys, keeping every other
/// byte as it was: each top-level key owns the bytes from the start of its line up to the start
/// of the next key's line (or the closing fence).
///
/// Every offset comes from the parse that read the record (``RecordDocument/layout`` for the
/// fences, ``FrontMatter/topLevelKeys`` for the keys): the editor never counts lines itself, so
/// it cannot disagree with the YAML reader about where a field is. Only block-style front
/// matter can be edited.
public struct FrontMatterEditor {
    /// A top-level key and its bytes (its lines, each with its line ending); `key` is nil for
    /// what comes before the first key (comments, blank lines).
    public struct Block: Equatable {
        public var key: String?
        public var text: String
        public init(key: String?, text: String) { self.key = key; self.text = text }
    }

    /// Everything before the front matter: the opening fence line.
    public private(set) var opening: String
    public var blocks: [Block]
    /// The closing fence line, with its line ending (if the file has one).
    public private(set) var closing: String
    /// Everything after the closing fence line.
    public var body: String
    /// `\r\n` when the opening fence line ends with CRLF, else `\n`.
    public let newline: String

    /// Splits `text`, which `document` was parsed from.
    public init(text: String, document: RecordDocument) throws(FormatError) {
        guard document.frontMatter.isBlockMapping else {
            throw .invalidRecord("the front matter is a flow mapping ({…}); avault edits block-style front matter only", line: 2)
        }
        let bytes = Array(text.utf8)
        let layout = document.layout
        func slice(_ from: Int, _ to: Int) -> String { String(decoding: bytes[from..<to], as: UTF8.self) }
        opening = slice(0, layout.yamlStart)
        closing = slice(layout.yamlEnd, layout.bodyStart)
        body = slice(layout.bodyStart, bytes.count)
        newline = opening.utf8.reversed().starts(with: [0x0A, 0x0D]) ? "\r\n" : "\n"
        let keys = document.frontMatter.topLevelKeys
        let yamlLength = layout.yamlEnd - layout.yamlStart
        var blocks: [Block] = []
        let first = keys.first?.lineStart ?? yamlLength
        if first > 0 { blocks.append(Block(key: nil, text: slice(layout.yamlStart, layout.yamlStart + first))) }
        for (i, entry) in keys.enumerated() {
            let end = i + 1 < keys.count ? keys[i + 1].lineStart : yamlLength
            guard entry.lineStart <= end, end <= yamlLength else {
                throw .invalidRecord("the top-level keys are not in order", line: entry.line)
            }
            blocks.append(Block(key: entry.key, text: slice(layout.yamlStart + entry.lineStart, layout.yamlStart + end)))
        }
        self.blocks = blocks
    }

    /// Removes the block of `key` and returns it, with the key it followed (nil if first).
    @discardableResult
    public mutating func remove(_ key: String) -> (block: Block, after: String?)? {
        guard let i = blocks.firstIndex(where: { $0.key == key }) else { return nil }
        let after = blocks[..<i].last(where: { $0.key != nil })?.key
        return (blocks.remove(at: i), after)
    }

    /// Inserts `block` right after the block of `after` (at the top when nil, at the end when
    /// `after` is no longer there).
    public mutating func insert(_ block: Block, after: String?) {
        var block = block
        if !block.text.isEmpty, block.text.utf8.last != 10 { block.text += newline }
        if let after {
            if let i = blocks.firstIndex(where: { $0.key == after }) { blocks.insert(block, at: i + 1) } else { append(block) }
        } else {
            let i = blocks.first?.key == nil && !blocks.isEmpty ? 1 : 0
            blocks.insert(block, at: i)
        }
    }

    /// Appends `block` at the end of the front matter.
    public mutating func append(_ block: Block) {
        var block = block
        if !block.text.isEmpty, block.text.utf8.last != 10 { block.text += newline }
        if let last = blocks.indices.last, blocks[last].text.utf8.last != 10 { blocks[last].text += newline }
        blocks.append(block)
    }

    /// A block `key: "value"`, the value double-quoted (see ``quoted(_:)``).
    public func scalarBlock(_ key: String, _ value: String) -> Block {
        Block(key: key, text: key + ": " + Self.quoted(value) + newline)
    }

    /// `value` as a YAML double-quoted scalar that every YAML reader reads back as exactly
    /// `value`: JSON's escapes, plus `\u` escapes for what YAML does not allow raw or reads
    /// as a line break (DEL, C1 controls, U+2028, U+2029, the byte order mark, U+FFFE/U+FFFF).
    public static func quoted(_ value: String) -> String {
        var json = ""
        JSONString.append(value, to: &json)
        guard json.unicodeScalars.contains(where: needsEscape) else { return json }
        var out = ""
        for scalar in json.unicodeScalars {
            if needsEscape(scalar) {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        (0x7F...0x9F).contains(s.value) || s.value == 0x2028 || s.value == 0x2029 || s.value == 0xFEFF || s.value >= 0xFFFE && s.value <= 0xFFFF
    }

    /// The edited text.
    public var text: String {
        opening + blocks.map(\.text).joined() + closing + body
    }
}
