// libyaml's event parser (Debian's libyaml, the library Yams wraps): YAML is read event by
// event straight into the JSON data model, with no node tree on the hot path of
// `avault verify`.
internal import CYAML

/// Limits on what a record may hold (documented in `docs/formats.md`).
public enum RecordLimits {
    /// Largest record file (front matter and body, with fences), in
    /// bytes: 64 MiB. A larger file is a malformed record, refused without being read whole.
    public static let fileBytes = 64 << 20
    /// The message for a record file over ``fileBytes``.
    public static let fileTooLarge = "record larger than \(fileBytes >> 20) MiB"
    /// Largest front matter, in bytes.
    public static let frontMatterBytes = 1 << 20
    /// Deepest nesting of mappings and sequences.
    public static let depth = 64
    /// Largest integer magnitude (2^53 − 1: exact in every JSON implementation).
    public static let maxInteger: Int64 = 9_007_199_254_740_991
}

/// What a scalar is in the JSON data model, without its text: a plain scalar resolved under the
/// YAML 1.2 core schema (a quoted one is always a string).
enum PlainValue: Equatable {
    case null
    case bool(Bool)
    case number(Double)
    /// A string: the scalar's own text.
    case string

    /// The field value, `string` being the scalar's text when it is a string.
    @inline(__always) func fieldValue(_ string: @autoclosure () -> String) -> FieldValue {
        switch self {
        case .null: .null
        case .bool(let b): .bool(b)
        case .number(let d): .number(d)
        case .string: .string(string())
        }
    }
}

/// The parsed front matter: values, and where each top-level key sits in the file.
public struct FrontMatter: Sendable {
    /// A top-level key of the front matter, located by the parse that read it (so its line
    /// agrees with the parser's own line count, not a second one).
    public struct TopLevelKey: Sendable, Equatable {
        /// The key.
        public var key: String
        /// The 1-based file line the key starts on.
        public var line: Int
        /// Byte offset, within the YAML text given to ``FrontMatter/parse(_:firstLine:)``, of
        /// the start of the line the key starts on (0, or just after a LF).
        public var lineStart: Int

        /// A key at 1-based file line `line`, whose line starts at byte `lineStart`.
        public init(key: String, line: Int, lineStart: Int) {
            self.key = key
            self.line = line
            self.lineStart = lineStart
        }
    }

    /// The front matter as a JSON-model object.
    public var fields: FieldValue
    /// Top-level keys in document order, with their lines and line offsets.
    public var topLevelKeys: [TopLevelKey]
    /// Whether the top-level mapping is in block style (the only style `avault sign` edits).
    public var isBlockMapping: Bool

    /// Top-level keys with the 1-based file line each starts on, in document order (from
    /// ``topLevelKeys``).
    public var keyLines: [(key: String, line: Int)] { topLevelKeys.map { ($0.key, $0.line) } }

    /// Parses YAML front matter whose first line is line `firstLine` of the file.
    ///
    /// YAML 1.2 core schema restricted to JSON: plain `null`/`Null`/`NULL`/`~`/empty are null,
    /// plain `true`/`false` (also `True`, `TRUE`, …) booleans, plain decimal integers and floats
    /// numbers; every other scalar — quoted, block, unquoted timestamps — is a string. Refused,
    /// naming the line: anchors, aliases, tags, directives, several documents, keys that are not
    /// strings, duplicate keys, integers beyond ±(2^53−1), non-finite floats, nesting past
    /// ``RecordLimits/depth``, front matter past ``RecordLimits/frontMatterBytes``.
    ///
    /// Also refused, so that the front matter means the same to YAML 1.1 readers (Jekyll reads
    /// it with Ruby's Psych) as to YAML 1.2 ones: plain scalars that YAML 1.1 reads as another
    /// type or value (`yes`, `no`, `on`, `off`, `y`, `n` in any case, `010`, `0x1F`, `1:20`,
    /// `1_000`, `1e3`, `.inf`, `:sym`, `<<`, `=`, …), keys that YAML 1.1 reads as anything but
    /// text (a date, a timestamp), a `<<` key in any style, and U+2028, U+2029, U+0085 or a CR
    /// not followed by LF anywhere in the text (see `docs/formats.md`, section 7.1).
    public static func parse(_ yaml: Substring, firstLine: Int) throws(FormatError) -> FrontMatter {
        var text = yaml
        var result: Result<FrontMatter, FormatError>!
        text.withUTF8 { buffer in
            // FAST PATH (FastFrontMatter.swift): the common block-style subset, parsed by hand
            // to exactly what libyaml gives; nil means "not sure", and libyaml below decides.
            if let fast = FastFrontMatter.parse(UnsafeRawBufferPointer(buffer), firstLine: firstLine) {
                result = .success(fast)
                return
            }
            do throws(FormatError) {
                result = .success(try parse(UnsafeRawBufferPointer(buffer), firstLine: firstLine))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    /// An open mapping or sequence of the libyaml event loop. A class, so that adding to the
    /// innermost one mutates its arrays in place: an enum frame holding arrays was copied on
    /// every event (copy-on-write of a value still held by the stack), quadratic in the number
    /// of items.
    private final class Frame {
        let isMapping: Bool
        /// A sequence's items.
        var items: [FieldValue] = []
        /// A mapping's pairs, in document order.
        var pairs: [(key: String, value: FieldValue)] = []
        /// A mapping's keys, for duplicates. (Set<String> compares as String ==, like the fast path.)
        var keys: Set<String> = []
        /// A mapping's key whose value comes next, if any.
        var pendingKey: String?

        init(isMapping: Bool) { self.isMapping = isMapping }

        /// Whether the next scalar is a mapping key.
        var awaitsKey: Bool { isMapping && pendingKey == nil }
    }

    /// Refuses the line breaks that YAML readers disagree on: libyaml (and YAML 1.1) breaks
    /// lines at U+2028, U+2029, U+0085 and a lone CR, a YAML 1.2 reader such as js-yaml does
    /// not, so `a: x<U+2028># y` has two meanings. CRLF is one line break, and so fine.
    static func checkLineBreaks(_ bytes: UnsafeRawBufferPointer, firstLine: Int) throws(FormatError) {
        var line = firstLine
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b == 0x0A {
                line += 1
            } else if b == 0x0D, i + 1 >= n || bytes[i + 1] != 0x0A {
                throw .invalidRecord("a carriage return not followed by a line feed is a line break to some YAML readers and not to others; remove it, or write \\r inside double quotes", line: line)
            } else if b == 0xC2, i + 1 < n, bytes[i + 1] == 0x85 {
                throw .invalidRecord("next line U+0085 is a line break to some YAML readers and not to others; remove it, or write \\N inside double quotes", line: line)
            } else if b == 0xE2, i + 2 < n, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9 {
                let (name, escape) = bytes[i + 2] == 0xA8 ? ("line separator U+2028", "\\L") : ("paragraph separator U+2029", "\\P")
                throw .invalidRecord("\(name) is a line break to some YAML readers and not to others; remove it, or write \(escape) inside double quotes", line: line)
            }
            i += 1
        }
    }

    /// Turns libyaml's marks (`index` counts characters: one per UTF-8 sequence, two for a
    /// CRLF) into byte offsets, moving forward only: marks come in document order.
    private struct MarkCursor {
        let bytes: UnsafeRawBufferPointer
        var byte = 0
        var character = 0
        /// Offset of the start of the line `byte` is on.
        var lineStart = 0

        /// The byte offset of the start of the line holding the character at `index`.
        mutating func lineStart(ofCharacter index: Int) -> Int {
            while character < index, byte < bytes.count {
                let b = bytes[byte]
                if b == 0x0A { lineStart = byte + 1 }
                byte += b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
                character += 1
            }
            return lineStart
        }
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, firstLine: Int) throws(FormatError) -> FrontMatter {
        guard bytes.count <= RecordLimits.frontMatterBytes else {
            throw .invalidRecord("the front matter is larger than \(RecordLimits.frontMatterBytes) bytes", line: firstLine)
        }
        try checkLineBreaks(bytes, firstLine: firstLine)
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw .invalidRecord("out of memory", line: nil) }
        defer { yaml_parser_delete(&parser) }
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var empty: UInt8 = 0
        yaml_parser_set_input_string(&parser, base ?? withUnsafeMutablePointer(to: &empty) { UnsafePointer($0) }, bytes.count)
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)

        var stack: [Frame] = []
        var root: FieldValue?
        var topLevelKeys: [TopLevelKey] = []
        var cursor = MarkCursor(bytes: bytes)
        var isBlock = true
        var documents = 0

        func line(_ mark: yaml_mark_t) -> Int { Int(mark.line) + firstLine }

        /// Adds a finished value to the frame on top (or makes it the root).
        func add(_ value: FieldValue, at valueLine: Int) throws(FormatError) {
            guard let top = stack.last else { root = value; return }
            if top.isMapping {
                guard let key = top.pendingKey else {
                    throw .invalidRecord("mapping keys must be strings", line: valueLine)
                }
                top.pairs.append((key, value))
                top.pendingKey = nil
            } else {
                top.items.append(value)
            }
        }

        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
                throw .invalidRecord("invalid YAML: \(problem)", line: Int(parser.problem_mark.line) + firstLine)
            }
            defer { yaml_event_delete(&event) }
            let here = line(event.start_mark)
            switch event.type {
            case YAML_STREAM_START_EVENT, YAML_DOCUMENT_END_EVENT:
                continue
            case YAML_STREAM_END_EVENT:
                guard let root else { return FrontMatter(fields: .object([]), topLevelKeys: [], isBlockMapping: true) }
                guard case .object = root else {
                    throw .invalidRecord("the front matter must be a mapping of field names to values", line: firstLine)
                }
                return FrontMatter(fields: root, topLevelKeys: topLevelKeys, isBlockMapping: isBlock)
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                guard documents == 1 else { throw .invalidRecord("several YAML documents in the front matter", line: here) }
                let d = event.data.document_start
                guard d.version_directive == nil, d.tag_directives.start == d.tag_directives.end else {
                    throw .invalidRecord("YAML directives are not allowed", line: here)
                }
                // A `---` line with more on it (`--- # note`, `--- {a: 1}`) opens the text as one
                // document here, but Jekyll hands Psych the front matter with its opening fence
                // line, so there the fence is an empty first document, this is a second, and the
                // page is published with no front matter at all (`published: false` ignored).
                guard d.implicit != 0 else {
                    throw .invalidRecord("a '---' line in the front matter starts a second YAML document for Jekyll, which then "
                                         + "publishes the page without its front matter: remove the line, or what follows '---' on it", line: here)
                }
            case YAML_ALIAS_EVENT:
                throw .invalidRecord("anchors and aliases are not allowed", line: here)
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                guard s.anchor == nil else { throw .invalidRecord("anchors and aliases are not allowed", line: here) }
                guard s.tag == nil else { throw .invalidRecord("tags are not allowed", line: here) }
                let raw = UnsafeRawBufferPointer(start: s.value, count: s.length)
                let string = String(decoding: raw, as: UTF8.self)
                let plain = s.style == YAML_PLAIN_SCALAR_STYLE
                if let top = stack.last, top.awaitsKey {
                    // A key.
                    if plain { try Self.checkPlainKey(raw, line: here) }
                    if string == "<<" {
                        // Psych merges at a `<<` key unless it is tagged `!!str`, quoted or not.
                        throw .invalidRecord("a '<<' key merges mappings in YAML 1.1 readers (Jekyll), quoted or not; rename it", line: here)
                    }
                    guard top.keys.insert(string).inserted else {
                        throw .invalidRecord("duplicate key '\(string)'", line: here)
                    }
                    if stack.count == 1 {
                        let lineStart = cursor.lineStart(ofCharacter: Int(event.start_mark.index))
                        topLevelKeys.append(TopLevelKey(key: string, line: here, lineStart: lineStart))
                    }
                    top.pendingKey = string
                } else {
                    try add(plain ? try Self.resolvePlain(raw, string, line: here) : .string(string), at: here)
                }
            case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
                let isMapping = event.type == YAML_MAPPING_START_EVENT
                let anchor = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
                let tag = isMapping ? event.data.mapping_start.tag : event.data.sequence_start.tag
                guard anchor == nil else { throw .invalidRecord("anchors and aliases are not allowed", line: here) }
                guard tag == nil else { throw .invalidRecord("tags are not allowed", line: here) }
                if let top = stack.last, top.awaitsKey {
                    throw .invalidRecord("mapping keys must be strings", line: here)
                }
                guard stack.count < RecordLimits.depth else {
                    throw .invalidRecord("nesting deeper than \(RecordLimits.depth) levels", line: here)
                }
                if stack.isEmpty, isMapping {
                    isBlock = event.data.mapping_start.style != YAML_FLOW_MAPPING_STYLE
                }
                stack.append(Frame(isMapping: isMapping))
            case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
                guard let top = stack.popLast() else { throw .invalidRecord("invalid YAML", line: here) }
                try add(top.isMapping ? .object(top.pairs) : .array(top.items), at: here)
            default:
                continue
            }
        }
    }

    /// Refuses a plain mapping key that does not read as the same text under the YAML 1.2 core
    /// schema and YAML 1.1 (``YAML11/conflict(_:_:ours:isKey:)``). `string` is the key's text,
    /// made only for a message.
    static func checkPlainKey(_ raw: UnsafeRawBufferPointer, line: Int) throws(FormatError) {
        if isPlainText(raw) { return }
        try checkPlainKeyInFull(raw, line: line)
    }

    /// ``checkPlainKey(_:line:)`` without its shortcut (for tests that check it).
    static func checkPlainKeyInFull(_ raw: UnsafeRawBufferPointer, line: Int) throws(FormatError) {
        let value = try resolveCore(raw, line: line)
        guard case .string = value else {
            throw .invalidRecord("mapping keys must be strings ('\(text(raw))' is not; quote it)", line: line)
        }
        if let why = YAML11.conflict(raw, text(raw), ours: value, isKey: true) { throw .invalidRecord(why, line: line) }
    }

    /// The core-schema value of a plain scalar (value `raw`), refused when YAML 1.1 readers
    /// read it otherwise (``YAML11/conflict(_:_:ours:isKey:)``). A string is `raw` itself.
    static func resolvePlain(_ raw: UnsafeRawBufferPointer, line: Int) throws(FormatError) -> PlainValue {
        if isPlainText(raw) { return .string }
        if let value = commonValue(raw) { return value }
        return try resolvePlainInFull(raw, line: line)
    }

    /// ``resolvePlain(_:line:)`` without its shortcuts (for tests that check them).
    static func resolvePlainInFull(_ raw: UnsafeRawBufferPointer, line: Int) throws(FormatError) -> PlainValue {
        let value = try resolveCore(raw, line: line)
        if let why = YAML11.conflict(raw, text(raw), ours: value, isKey: false) { throw .invalidRecord(why, line: line) }
        return value
    }

    /// ``resolvePlain(_:line:)`` as a field value, its string being `string` (the text of `raw`).
    static func resolvePlain(_ raw: UnsafeRawBufferPointer, _ string: String, line: Int) throws(FormatError) -> FieldValue {
        try resolvePlain(raw, line: line).fieldValue(string)
    }

    /// The common case: a plain scalar that both ``resolveCore(_:line:)`` and
    /// ``YAML11/conflict(_:_:ours:isKey:)`` read as text. It starts with an ASCII letter, and
    /// either no word of either starts with that letter (null, true, false, yes, no, on, off,
    /// y, n in any case) or it is none of those words (``Psych/keyword(_:)``, which folds
    /// case as Psych does, says nil: null, true and false in every case resolveCore reads are
    /// among its words); and it is not one of the short scalars over several lines that YAML
    /// 1.1 readers match line by line. Both then read it as a string, and find nothing to refuse.
    @inline(__always) private static func isPlainText(_ raw: UnsafeRawBufferPointer) -> Bool {
        guard let first = raw.first else { return false }
        switch first | 0x20 { // an ASCII letter in lowercase (only letters land in a...z)
        case UInt8(ascii: "a")...UInt8(ascii: "z"):
            switch first | 0x20 {
            case UInt8(ascii: "t"), UInt8(ascii: "n"):
                // The words starting with t or n (true; null, no, n) hold no s or f, the only
                // letters anything beyond ASCII folds to: raw is one of them exactly when it is
                // spelt in ASCII, in any case.
                let word = raw.count == 4 && raw[1] | 0x20 == UInt8(ascii: first | 0x20 == UInt8(ascii: "t") ? "r" : "u")
                    && raw[2] | 0x20 == UInt8(ascii: first | 0x20 == UInt8(ascii: "t") ? "u" : "l")
                    && raw[3] | 0x20 == UInt8(ascii: first | 0x20 == UInt8(ascii: "t") ? "e" : "l")
                let short = first | 0x20 == UInt8(ascii: "n") && (raw.count == 1 || (raw.count == 2 && raw[1] | 0x20 == UInt8(ascii: "o")))
                return !word && !short && (raw.count > 20 || !raw.contains(0x0A))
            case UInt8(ascii: "f"), UInt8(ascii: "y"), UInt8(ascii: "o"):
                // Also text when it is none of the words (as Psych folds case; null, true and
                // false in each case resolveCore reads are among them): six ASCII characters
                // or more are too long for any (keyword would say so after reading them).
                let long = raw.count >= 6 && raw[1] | raw[2] | raw[3] | raw[4] | raw[5] < 0x80
                return (long || Psych.keyword(raw) == nil) && (raw.count > 20 || !raw.contains(0x0A))
            default:
                return raw.count > 20 || !raw.contains(0x0A)
            }
        default:
            return false
        }
    }

    /// Whether a plain scalar starting with `first` is text to both readers whatever follows,
    /// unless it spans lines: an ASCII letter that no word of either starts with (the first
    /// test of ``isPlainText(_:)``, for callers whose scalars are on one line).
    @inline(__always) static func startsPlainText(_ first: UInt8) -> Bool {
        switch first | 0x20 {
        case UInt8(ascii: "n"), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "y"), UInt8(ascii: "o"): false
        case UInt8(ascii: "a")...UInt8(ascii: "z"): true
        default: false
        }
    }

    /// The value of the most common plain scalars that are not text, which
    /// ``resolveCore(_:line:)`` reads as YAML 1.1 readers do (so no conflict to look for):
    /// `true`, `false`, `null`, and decimal integers of at most 15 digits without a leading
    /// zero (`0`, `42`, `-1`); also the timestamps records carry (`2023-04-28T15:52:00Z`),
    /// text to both (a timestamp value stays text; docs/formats.md). Nil for anything else.
    @inline(__always) private static func commonValue(_ raw: UnsafeRawBufferPointer) -> PlainValue? {
        let n = raw.count
        guard n > 0 else { return nil }
        let first = raw[0]
        if first == UInt8(ascii: "t") || first == UInt8(ascii: "f") || first == UInt8(ascii: "n") {
            if isWord(raw, "true") { return .bool(true) }
            if isWord(raw, "false") { return .bool(false) }
            if isWord(raw, "null") { return .null }
            return nil
        }
        if n == 20 {
            // dddd-dd-ddTdd:dd:ddZ, of fields YAML 1.1 readers do not roll over
            for (i, b) in raw.enumerated() {
                switch i {
                case 4, 7: guard b == UInt8(ascii: "-") else { return nil }
                case 10: guard b == UInt8(ascii: "T") else { return nil }
                case 13, 16: guard b == UInt8(ascii: ":") else { return nil }
                case 19: guard b == UInt8(ascii: "Z") else { return nil }
                default: guard b &- UInt8(ascii: "0") < 10 else { return nil }
                }
            }
            func field(_ at: Int, _ count: Int) -> Int { Psych.decimal(raw[at..<(at + count)]) }
            if Psych.timeRollsOver(year: field(0, 4), month: field(5, 2), day: field(8, 2), hour: field(11, 2), second: field(17, 2)) { return nil }
            return .string
        }
        // 0, or -?[1-9][0-9]{0,14}
        if n == 1 && first == UInt8(ascii: "0") { return .number(0) }
        let negative = first == UInt8(ascii: "-")
        let digits = negative ? n - 1 : n
        guard digits >= 1, digits <= 15 else { return nil }
        var value: Int64 = 0
        for i in (negative ? 1 : 0)..<n {
            let d = raw[i] &- UInt8(ascii: "0")
            guard d < 10, value != 0 || d != 0 else { return nil }
            value = value * 10 + Int64(d)
        }
        return .number(Double(negative ? -value : value))
    }

    /// The text of a scalar's UTF-8, for messages.
    private static func text(_ raw: UnsafeRawBufferPointer) -> String { String(decoding: raw, as: UTF8.self) }

    /// Whether `raw` is exactly the ASCII bytes of `word`.
    @inline(__always) private static func isWord(_ raw: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        guard raw.count == word.utf8CodeUnitCount else { return false }
        for i in 0..<raw.count where raw[i] != word.utf8Start[i] { return false }
        return true
    }

    /// The YAML 1.2 core-schema value of a plain scalar, restricted to JSON.
    static func resolveCore(_ raw: UnsafeRawBufferPointer, line: Int) throws(FormatError) -> PlainValue {
        switch raw.count {
        case 0: return .null
        case 1 where raw[0] == UInt8(ascii: "~"): return .null
        case 4, 5:
            // (Byte comparisons: no other text is canonically equivalent to these words.)
            if isWord(raw, "null") || isWord(raw, "Null") || isWord(raw, "NULL") { return .null }
            if isWord(raw, "true") || isWord(raw, "True") || isWord(raw, "TRUE") { return .bool(true) }
            if isWord(raw, "false") || isWord(raw, "False") || isWord(raw, "FALSE") { return .bool(false) }
        default: break
        }
        let first = raw[0]
        // Numbers start with a sign, a digit or a point: skip the scan for everything else.
        guard first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return .string }
        switch numberShape(raw) {
        case .none:
            return .string
        case .integer:
            // `[-+]?[0-9]+`, its magnitude accumulated with overflow checks.
            let negative = first == UInt8(ascii: "-")
            var magnitude: UInt64 = 0
            var overflow = false
            for b in raw[(first == UInt8(ascii: "-") || first == UInt8(ascii: "+") ? 1 : 0)...] {
                let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(b &- UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                magnitude = a
            }
            guard !overflow, magnitude <= UInt64(RecordLimits.maxInteger) else {
                throw .invalidRecord("integer \(text(raw)) is beyond ±(2^53−1); quote it to keep it as text", line: line)
            }
            // (-0 is the integer 0: +0.0.)
            let value = Int64(magnitude)
            return .number(Double(negative ? -value : value))
        case .float:
            guard let value = Double(text(raw)), value.isFinite else {
                throw .invalidRecord("number \(text(raw)) is out of range; quote it to keep it as text", line: line)
            }
            return .number(value)
        }
    }

    private enum NumberShape { case none, integer, float }

    /// `[-+]?[0-9]+` is an integer; `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` a float.
    private static func numberShape(_ u: UnsafeRawBufferPointer) -> NumberShape {
        var i = 0
        func digits() -> Int {
            let start = i
            while i < u.count, (0x30...0x39).contains(u[i]) { i += 1 }
            return i - start
        }
        if i < u.count, u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") { i += 1 }
        let intDigits = digits()
        var isFloat = false
        var fracDigits = 0
        if i < u.count, u[i] == UInt8(ascii: ".") { i += 1; isFloat = true; fracDigits = digits() }
        guard intDigits > 0 || fracDigits > 0 else { return .none }
        if i < u.count, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") {
            i += 1
            isFloat = true
            if i < u.count, u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") { i += 1 }
            guard digits() > 0 else { return .none }
        }
        guard i == u.count else { return .none }
        return isFloat ? .float : .integer
    }
}
