/// An article record: a `---` line, YAML front matter, a `---` (or `...`) line, then the body.
///
/// Records are recognised the way Jekyll recognises them: the fence lines may carry trailing
/// whitespace, and CRLF line endings are accepted. What Jekyll takes for a record but does not
/// publish with its front matter is one, and malformed (see ``locate(_:)``). The front matter
/// must be a mapping; it is read into the JSON data model under the YAML 1.2 core schema (see
/// `docs/formats.md`).
public struct RecordDocument: Sendable {
    /// Where the parts of a record lie in its text, in UTF-8 byte offsets.
    public struct Layout: Equatable, Sendable {
        /// Where the opening fence line starts (0: nothing may come before it).
        public var openingStart: Int
        /// Where the front matter's YAML text starts (just after the opening fence line).
        public var yamlStart: Int
        /// Where the YAML text ends: the start of the closing fence line.
        public var yamlEnd: Int
        /// Where the body starts (just after the closing fence line and its line ending).
        public var bodyStart: Int
    }

    /// The front matter's YAML text, between the two fence lines.
    public let frontMatterText: Substring
    /// Everything after the closing fence line, unchanged.
    public let body: Substring
    /// The parsed front matter.
    public let frontMatter: FrontMatter
    /// Byte offsets of the parts in the text that was parsed.
    public let layout: Layout
    /// The front matter as a JSON-model object.
    public var fields: FieldValue { frontMatter.fields }

    /// Splits and parses `text`. Throws ``FormatError/invalidRecord(_:line:)``; a text that
    /// does not start with a fence line is "not a record" (see ``hasFrontMatter(_:)``).
    public init(parsing text: String) throws(FormatError) {
        let layout = try Self.locate(text)
        self.layout = layout
        (self.frontMatterText, self.body) = Self.parts(of: text, layout)
        self.frontMatter = try FrontMatter.parse(frontMatterText, firstLine: 2)
    }

    /// The context a `secured` blob in this record is bound to: `webUrl` if the record has
    /// one, else `originalUrl`, else the empty string.
    public var securedContext: String { Self.securedContext(of: fields) }

    /// The context a `secured` blob is bound to in a record whose fields (or those of them
    /// that ``RecordScan`` keeps) are `fields`.
    public static func securedContext(of fields: FieldValue) -> String {
        fields["webUrl"]?.stringValue ?? fields["originalUrl"]?.stringValue ?? ""
    }

    /// Splits `text` into front matter and body at the fence lines (see ``locate(_:)``).
    public static func split(_ text: String) throws(FormatError) -> (frontMatter: Substring, body: Substring) {
        parts(of: text, try locate(text))
    }

    private static func parts(of text: String, _ layout: Layout) -> (Substring, Substring) {
        let utf8 = text.utf8
        func index(_ offset: Int) -> String.Index { utf8.index(utf8.startIndex, offsetBy: offset) }
        return (text[index(layout.yamlStart)..<index(layout.yamlEnd)], text[index(layout.bodyStart)...])
    }

    /// The message of the error for a text that does not start with a fence line.
    public static let noFrontMatterMessage = "the first line must be '---' (front matter is missing)"

    /// Whether `bytes` start as a record does: an optional UTF-8 byte order mark, then a line
    /// that is `---` followed only by whitespace. (Jekyll's test for a page with front matter,
    /// and for a post, read past a byte order mark; ``locate(_:)`` refuses that mark.)
    ///
    /// With `isPrefix`, `bytes` are only the first bytes of a file: an opening fence line cut
    /// short by their end counts (the file may be a record).
    public static func hasFrontMatter(_ bytes: [UInt8], isPrefix: Bool = false) -> Bool {
        bytes.withUnsafeBufferPointer { b in
            fenceLength(b, from: b.starts(with: byteOrderMark) ? 3 : 0, marker: 0x2D, closing: isPrefix) != nil
        }
    }

    /// The UTF-8 byte order mark.
    public static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Finds the fence lines of `text`.
    ///
    /// The opening fence is the first line: `---` then only spaces, tabs or CR, then LF. The
    /// front matter ends at the next line that is `---` or `...` followed by whitespace (Ruby's
    /// `\s`, as Jekyll's pattern has it: spaces, tabs, CR, FF, VT). Two openings that Jekyll takes
    /// for front matter are refused, because it would not publish the record with it:
    /// - a byte order mark before the fence: Jekyll's test for a page reads the file's bytes, so
    ///   such a page is a static file, published as it is (front matter, `secured` blob and
    ///   signatures included), while a post is read past the mark;
    /// - a form feed or vertical tab on the fence line, which Jekyll passes on to YAML with the
    ///   front matter, and YAML refuses: the record is published without its front matter
    ///   (`published: false` and `layout` included).
    public static func locate(_ text: String) throws(FormatError) -> Layout {
        var text = text
        return try text.withUTF8 { bytes in Result { () throws(FormatError) in try locate(bytes) } }.get()
    }

    /// ``locate(_:)`` in the UTF-8 of a text (or in a file's bytes, which it reads as they are:
    /// only the fence lines need to be ASCII).
    public static func locate(_ bytes: UnsafeBufferPointer<UInt8>) throws(FormatError) -> Layout {
        let opening = try openingFence(bytes)
        var i = opening
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x2D || b == 0x2E,
               let n = fenceLength(bytes, from: i, marker: 0x2D, closing: true) ?? fenceLength(bytes, from: i, marker: 0x2E, closing: true) {
                return Layout(openingStart: 0, yamlStart: opening, yamlEnd: i, bodyStart: i + n)
            }
            i = lineFeed(in: bytes, from: i) + 1
        }
        throw .invalidRecord("no closing '---' line after the front matter", line: nil)
    }

    /// The offset of the first LF at or after `from`, or the end; eight bytes at a time.
    private static func lineFeed(in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        var i = from
        let n = bytes.count
        if let base = bytes.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while n - i >= 8 {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) ^ (ones &* 0x0A)
                if (word &- ones) & ~word & highs != 0 { break } // a zero byte: a LF among these eight
                i += 8
            }
        }
        while i < n, bytes[i] != 0x0A { i += 1 }
        return i
    }

    /// The length of the opening fence line, with its LF (see ``locate(_:)``).
    static func openingFence(_ bytes: UnsafeBufferPointer<UInt8>) throws(FormatError) -> Int {
        if bytes.starts(with: byteOrderMark) {
            throw .invalidRecord("a byte order mark before the first '---' line: Jekyll would publish the file as it is, "
                                 + "front matter included (remove the mark)", line: 1)
        }
        guard let length = fenceLength(bytes, from: 0, marker: 0x2D, closing: false) else {
            throw .invalidRecord(noFrontMatterMessage, line: 1)
        }
        if bytes[3..<length].contains(where: { $0 == 0x0C || $0 == 0x0B }) {
            throw .invalidRecord("a form feed or vertical tab after the first '---': YAML refuses it, "
                                 + "so Jekyll would publish the record without its front matter", line: 1)
        }
        return length
    }

    /// If a fence line of three `marker` bytes starts at `from`, its length with its line
    /// ending. Trailing whitespace is what Ruby's `\s` matches besides LF: space, TAB, CR, FF,
    /// VT. An opening fence needs its LF; a closing one may end the text.
    static func fenceLength(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, marker: UInt8, closing: Bool) -> Int? {
        guard from + 3 <= bytes.count, bytes[from] == marker, bytes[from + 1] == marker, bytes[from + 2] == marker else { return nil }
        var i = from + 3
        while i < bytes.count {
            switch bytes[i] {
            case 0x0A: return i + 1 - from
            case 0x20, 0x09, 0x0D, 0x0C, 0x0B: i += 1
            default: return nil
            }
        }
        return closing ? i - from : nil
    }
}
