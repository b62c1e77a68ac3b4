/// Edits a record's text at the level of top-level front-matter keys, keeping every other
/// byte as it was: each top-level key owns the lines from its own up to the next key's.
/// Only block-style front matter can be edited.
public struct FrontMatterEditor {
    /// A top-level key and its lines (each with its line ending); `key` is nil for lines
    /// before the first key (comments, blank lines).
    public struct Block: Equatable {
        public var key: String?
        public var text: String
        public init(key: String?, text: String) { self.key = key; self.text = text }
    }

    /// The opening fence line, with its line ending.
    public private(set) var opening: String
    public var blocks: [Block]
    /// The closing fence line, with its line ending (if the file has one).
    public private(set) var closing: String
    /// Everything after the closing fence line.
    public var body: String
    /// `\r\n` when the file uses CRLF, else `\n`.
    public let newline: String

    public init(text: String, document: RecordDocument) throws(FormatError) {
        guard document.frontMatter.isBlockMapping else {
            throw .invalidRecord("the front matter is a flow mapping ({…}); avault edits block-style front matter only", line: 2)
        }
        // Split on LF bytes (a Character search would not see the LF inside a CRLF).
        var lines: [Substring] = []
        let utf8 = text.utf8
        var start = utf8.startIndex
        while start < utf8.endIndex {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: "\n")).map { utf8.index(after: $0) } ?? utf8.endIndex
            lines.append(text[start..<end])
            start = end
        }
        guard let close = lines.indices.dropFirst().first(where: { ["---\n", "---\r\n", "---"].contains(lines[$0]) }) else {
            throw .invalidRecord("no closing '---' line after the front matter", line: nil)
        }
        opening = String(lines[0])
        closing = String(lines[close])
        body = lines[(close + 1)...].joined()
        newline = opening.hasSuffix("\r\n") ? "\r\n" : "\n"
        // Front matter lines are file lines 2 ..< close + 1; key lines are 1-based file lines.
        let keyLines = document.frontMatter.keyLines
        var blocks: [Block] = []
        let firstKeyIndex = keyLines.first.map { $0.line - 1 } ?? close
        if firstKeyIndex > 1 { blocks.append(Block(key: nil, text: lines[1..<firstKeyIndex].joined())) }
        for (i, entry) in keyLines.enumerated() {
            let from = entry.line - 1
            let to = i + 1 < keyLines.count ? keyLines[i + 1].line - 1 : close
            blocks.append(Block(key: entry.key, text: lines[from..<to].joined()))
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
    /// `after` is no longer there), or at the end when `atEnd`.
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

    /// A block `key: "value"` (the value as a JSON string, which YAML reads identically).
    public func scalarBlock(_ key: String, _ value: String) -> Block {
        var quoted = ""
        JSONString.append(value, to: &quoted)
        return Block(key: key, text: key + ": " + quoted + newline)
    }

    /// The edited text.
    public var text: String {
        opening + blocks.map(\.text).joined() + closing + body
    }
}
