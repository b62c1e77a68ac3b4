#if canImport(Glibc)
import Glibc // memchr
#endif

/// A hand-written parser for the common, conservative subset of YAML block style that record
/// front matter uses, run before libyaml on the hot path of `avault verify`.
///
/// It gives exactly what ``FrontMatter/parse(_:firstLine:)``'s libyaml path gives (values,
/// top-level key lines, block style) or declines with `nil`, and the libyaml path then parses
/// the text and reports any error. It never throws and never reproduces an error message:
/// whatever is outside the subset, or looks wrong in any way, is declined.
///
/// Accepted (everything else is declined):
/// - UTF-8 text of printable characters and LF line breaks: no TAB, CR or other control
///   character, no DEL, C1 control (NEL included), U+2028/U+2029, BOM, U+FFFE/U+FFFF or
///   invalid UTF-8; at most ``RecordLimits/frontMatterBytes`` bytes; at least one key.
/// - Blank lines and comment lines anywhere; a ` #` comment after a value or an entry.
/// - A root block mapping; block mappings `key: value` and `key:` followed by a more-indented
///   block, or by a sequence at the key's own indent; block sequences `- value`,
///   `- key: value` (a mapping continuing at its first key's column) and `-` followed by a
///   more-indented block; nesting up to ``RecordLimits/depth``.
/// - Keys: plain (resolving to a string that YAML 1.1 reads as the same string, no longer than
///   1000 bytes) or quoted on one line, but not `<<`; no duplicates (compared as Swift strings
///   are, as the libyaml path compares them).
/// - Scalars on one line: plain (resolved by ``FrontMatter/resolvePlain(_:line:)``, which
///   refuses what YAML 1.1 reads otherwise, and not continued on a more-indented line),
///   double-quoted with the YAML 1.2 escapes, or
///   single-quoted; nothing but spaces and a comment after a closing quote. An empty value
///   is null.
///
/// Declined, among others: flow collections, block scalars, anchors, aliases, tags,
/// directives, `---`/`...` lines, `?` keys, multi-line scalars, `- - x` on one line, a plain
/// scalar on the line after `key:`, and a plain key or value containing `: ` or ending in `:`.
enum FastFrontMatter {
    /// The front matter in `bytes` (the YAML text, first line at file line `firstLine`), or
    /// nil when the text is outside the subset or not well-formed.
    static func parse(_ bytes: UnsafeRawBufferPointer, firstLine: Int) -> FrontMatter? {
        guard bytes.count > 0, bytes.count <= RecordLimits.frontMatterBytes,
              let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var parser = Parser(base: base, count: bytes.count, firstLine: firstLine, sink: TreeSink(recordsTopLevelKeys: true))
        guard parser.splitLines(), let root = parser.parseRoot() else { return nil }
        return FrontMatter(fields: root, topLevelKeys: parser.sink.topLevelKeys, isBlockMapping: true)
    }

    /// The same parse as ``parse(_:firstLine:)``, written straight into the RFC 8785 form of the
    /// fields without `signatures` (no tree of values): nil when ``parse(_:firstLine:)`` gives
    /// nil, and also (to be safe rather than clever) when a field of ``CanonicalSink/capturedNames``
    /// holds a mapping or a sequence. Otherwise exactly ``CanonicalWriter`` of the fields
    /// ``parse(_:firstLine:)`` reads, less `signatures`, whose value comes back as a tree, with
    /// the captured fields.
    ///
    /// With `untilFence`, `bytes` run on past the YAML text to the end of the record: the text
    /// ends where ``RecordDocument/locate(_:)`` ends it, at the first line that is a closing
    /// fence (none: nil), and is then read as above.
    static func canonical(_ bytes: UnsafeRawBufferPointer, firstLine: Int, untilFence: Bool = false) -> CanonicalFrontMatter? {
        guard bytes.count > 0, untilFence || bytes.count <= RecordLimits.frontMatterBytes,
              let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var parser = Parser(base: base, count: bytes.count, firstLine: firstLine,
                            sink: CanonicalSink(capacity: min(bytes.count, 1 << 16)))
        guard parser.splitLines(untilFence: untilFence), parser.parseRoot() != nil else { return nil }
        return CanonicalFrontMatter(fields: parser.sink.out.array, signatures: parser.sink.signatures,
                                    captured: parser.sink.captured, yamlCount: parser.count, fenceCount: parser.fenceCount)
    }

    /// A line that is neither blank nor a comment.
    private struct Line {
        /// Offset of the first non-space byte.
        var content: Int
        /// Offset of the LF ending the line, or the end of the text.
        var end: Int
        /// Leading spaces.
        var indent: Int
        /// 0-based line number within the YAML text.
        var number: Int
    }

    private enum KeyScan {
        /// A key; `after` is the offset just past its `:`.
        case key(KeyRef, after: Int)
        /// Not a key, but possibly a scalar.
        case notKey
        /// Outside the subset.
        case decline
    }

    /// Where a key's text is in the source, for comparing keys without `String`.
    private struct KeyRef {
        var start: Int
        var count: Int
        /// The key is exactly these source bytes, all ASCII.
        var isPlainASCII: Bool
        /// Otherwise, the key's `String` in `keyNames`.
        var name: Int
        /// A plain-ASCII key holds `"` or `\\` (which JSON escapes).
        var needsEscaping = false
    }

    private static let space: UInt8 = 0x20, hash: UInt8 = 0x23, colon: UInt8 = 0x3A, dash: UInt8 = 0x2D
    private static let doubleQuote: UInt8 = 0x22, singleQuote: UInt8 = 0x27, backslash: UInt8 = 0x5C
    /// libyaml refuses a simple key longer than 1024 characters; stay well inside that.
    private static let maxKeySpan = 1000

    private struct Parser<Sink: FrontMatterSink & ~Copyable>: ~Copyable {
        let base: UnsafePointer<UInt8>
        /// The length of the YAML text (with `untilFence`, found by ``splitLines(untilFence:)``).
        private(set) var count: Int
        /// With `untilFence`: the length of the closing fence line.
        private(set) var fenceCount = 0
        let firstLine: Int
        var lines: [Line] = []
        /// Index of the next unconsumed line in `lines`.
        var li = 0
        /// Reused buffer for quoted scalars with escapes.
        var scratch: [UInt8] = []
        /// Where the keys of the mappings being parsed are, innermost last.
        var keyRefs: [KeyRef] = []
        /// The keys in use in `keyRefs` (a stack: entries past it are stale, and reused).
        var keyTop = 0
        /// The `String`s of the keys in `keyRefs` that are not plain ASCII (``KeyRef/name``).
        var keyNames: [String] = []
        /// What the values go to.
        var sink: Sink

        init(base: UnsafePointer<UInt8>, count: Int, firstLine: Int, sink: consuming Sink) {
            self.base = base
            self.count = count
            self.firstLine = firstLine
            self.sink = sink
        }

        // MARK: Lines and characters

        /// Validates the text (see the type's documentation) and records its content lines.
        ///
        /// With `untilFence`, the text goes on past the YAML: it ends at the first line that
        /// starts with a closing fence (``RecordDocument/fenceLength(_:from:marker:closing:)``,
        /// as ``RecordDocument/locate(_:)`` finds it), whose length goes to `fenceCount`; a
        /// text without one, or whose YAML is empty or longer than the limit, is declined.
        mutating func splitLines(untilFence: Bool = false) -> Bool {
            let p = base
            let n = count
            lines.reserveCapacity(min(n, RecordLimits.frontMatterBytes) / 24 + 4)
            keyRefs.reserveCapacity(32)
            scratch.reserveCapacity(256)
            var i = 0
            var number = 0
            while i < n {
                let start = i
                if untilFence {
                    let b = p[i]
                    if b == dash || b == 0x2E {
                        let all = UnsafeBufferPointer(start: p, count: n)
                        if let fence = RecordDocument.fenceLength(all, from: i, marker: 0x2D, closing: true)
                            ?? RecordDocument.fenceLength(all, from: i, marker: 0x2E, closing: true) {
                            guard i > 0, i <= RecordLimits.frontMatterBytes else { return false }
                            count = i
                            fenceCount = fence
                            return true
                        }
                    }
                    guard i <= RecordLimits.frontMatterBytes else { return false }
                }
                // The indentation: eight spaces at a time, then to the first byte that is not one.
                while i + 8 <= n {
                    let other = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) ^ (Self.ones &* UInt64(space))
                    if other != 0 {
                        i += other.trailingZeroBitCount >> 3
                        break
                    }
                    i += 8
                }
                while i < n && p[i] == space { i += 1 }
                let content = i < n && p[i] != 0x0A ? i : -1
                // Scan the rest of the line, validating every character: eight printable ASCII
                // bytes at a time, then straight to the first byte that is not (exact SWAR
                // tests: the lowest flagged byte is one).
                while i < n {
                    while i + 16 <= n {
                        let low = Self.nonPrintableASCII(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                        let high = Self.nonPrintableASCII(UnsafeRawPointer(p + i + 8).loadUnaligned(as: UInt64.self))
                        if low | high != 0 {
                            i += low != 0 ? low.trailingZeroBitCount >> 3 : 8 + high.trailingZeroBitCount >> 3
                            break
                        }
                        i += 16
                    }
                    while i + 8 <= n {
                        let word = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
                        let flags = Self.nonPrintableASCII(word)
                        if flags != 0 {
                            i += flags.trailingZeroBitCount >> 3
                            break
                        }
                        i += 8
                    }
                    guard i < n else { break }
                    let b = p[i]
                    if b >= 0x20 && b < 0x7F {
                        i += 1
                        continue
                    }
                    if b == 0x0A { break }
                    guard b >= 0x80, let width = Self.characterWidth(p, i, n) else { return false }
                    i += width
                }
                let end = i
                if content >= 0 && p[content] != hash {
                    let indent = content - start
                    if indent == 0, end - content >= 3 {
                        let c0 = p[content], c1 = p[content + 1], c2 = p[content + 2]
                        if (c0 == dash || c0 == 0x2E) && c1 == c0 && c2 == c0 { return false } // `---`, `...`
                    }
                    lines.append(Line(content: content, end: end, indent: indent, number: number))
                }
                number += 1
                i += 1 // past the LF
            }
            return !untilFence
        }

        /// The high bit of each byte of `word` that is not printable ASCII (0x20...0x7E); the
        /// lowest one set is exact (higher ones may be false). A byte's high bit, or its high bit
        /// after adding 1 (0x7F) or subtracting 0x20 (below 0x20), is set exactly when it is not
        /// printable; a carry or borrow into a byte comes only from a lower byte that is not.
        @inline(__always) static func nonPrintableASCII(_ word: UInt64) -> UInt64 {
            (word | (word &+ ones) | (word &- ones &* 0x20)) & highs
        }

        static var ones: UInt64 { 0x0101_0101_0101_0101 }
        static var highs: UInt64 { 0x8080_8080_8080_8080 }

        /// The high bit of each zero byte of `word`; the lowest one set is exact (higher ones
        /// may be false).
        @inline(__always) static func zeroBytes(_ word: UInt64) -> UInt64 {
            (word &- ones) & ~word & highs
        }

        /// The length of the valid, accepted multi-byte UTF-8 character at `i`, or nil.
        static func characterWidth(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int? {
            let b = p[i]
            @inline(__always) func cont(_ k: Int) -> UInt8? {
                guard i + k < n else { return nil }
                let c = p[i + k]
                return c & 0xC0 == 0x80 ? c : nil
            }
            switch b {
            case 0xC2...0xDF:
                guard let b1 = cont(1) else { return nil }
                if b == 0xC2 && b1 < 0xA0 { return nil } // C1 controls, NEL
                return 2
            case 0xE0...0xEF:
                guard let b1 = cont(1), let b2 = cont(2) else { return nil }
                if b == 0xE0 && b1 < 0xA0 { return nil } // overlong
                if b == 0xED && b1 >= 0xA0 { return nil } // surrogates
                if b == 0xE2 && b1 == 0x80 && (b2 == 0xA8 || b2 == 0xA9) { return nil } // LS, PS
                if b == 0xEF && ((b1 == 0xBB && b2 == 0xBF) || (b1 == 0xBF && b2 >= 0xBE)) { return nil } // BOM, U+FFFE/F
                return 3
            case 0xF0...0xF4:
                guard let b1 = cont(1), cont(2) != nil, cont(3) != nil else { return nil }
                if b == 0xF0 && b1 < 0x90 { return nil } // overlong
                if b == 0xF4 && b1 >= 0x90 { return nil } // beyond U+10FFFF
                return 4
            default:
                return nil
            }
        }

        @inline(__always) func skipSpaces(_ i: Int, _ end: Int) -> Int {
            var i = i
            while i < end && base[i] == space { i += 1 }
            return i
        }

        /// Whether a line is a block sequence entry (`-` then a space or the end of the line).
        @inline(__always) func isEntry(_ at: Int, _ end: Int) -> Bool {
            base[at] == dash && (at + 1 == end || base[at + 1] == space)
        }

        /// Whether a plain scalar may start at `at` (block context).
        @inline(__always) func isPlainStart(_ at: Int, _ end: Int) -> Bool {
            switch base[at] {
            case dash, 0x3F /* ? */, colon:
                return at + 1 < end && base[at + 1] != space
            case 0x2C, 0x5B, 0x5D, 0x7B, 0x7D, hash, 0x26, 0x2A, 0x21, 0x7C, 0x3E, singleQuote, doubleQuote, 0x25, 0x40, 0x60:
                return false // , [ ] { } # & * ! | > ' " % @ `
            default:
                return true
            }
        }

        /// After a closing quote: whether only spaces and a comment follow.
        @inline(__always) func isRestEmpty(_ at: Int, _ end: Int) -> Bool {
            let q = skipSpaces(at, end)
            return q == end || (q > at && base[q] == hash)
        }

        // MARK: Blocks

        mutating func parseRoot() -> Sink.Value? {
            guard let first = lines.first else { return nil } // empty: libyaml's to handle
            guard let root = parseMapping(indent: first.indent, keyAt: first.content, depth: 1) else { return nil }
            return li == lines.count ? root : nil
        }

        /// How many entries the block at `indent` starting on the current line has, were it
        /// well-formed: a capacity to reserve.
        func entryCount(indent: Int, sequence: Bool) -> Int {
            var n = 1
            var j = li + 1
            while j < lines.count {
                let line = lines[j]
                if line.indent < indent { break }
                if line.indent == indent {
                    let entry = isEntry(line.content, line.end)
                    if sequence && !entry { break }
                    if !sequence && !entry { n += 1 }
                    if sequence { n += 1 }
                }
                j += 1
            }
            return n
        }

        /// The `String` of a key.
        func keyString(_ ref: KeyRef) -> String {
            ref.isPlainASCII ? String(decoding: UnsafeBufferPointer(start: base + ref.start, count: ref.count), as: UTF8.self) : keyNames[ref.name]
        }

        /// Whether `key` repeats one of `keyRefs[first...]`, compared as the libyaml path
        /// compares keys (`String ==`, canonical equivalence included), bytes first where that
        /// is exact.
        func isDuplicate(_ key: KeyRef, _ first: Int) -> Bool {
            for k in first..<keyTop {
                let other = keyRefs[k]
                if key.isPlainASCII && other.isPlainASCII {
                    // ASCII strings are equal exactly when their bytes are.
                    if key.count == other.count && bytesEqual(key.start, other.start, other.count) { return true }
                } else if keyString(other) == keyString(key) {
                    return true
                }
            }
            return false
        }

        /// A block mapping whose keys are at column `indent`; the first key starts at offset
        /// `keyAt` of the current line (after a `- ` for a mapping inside a sequence entry).
        mutating func parseMapping(indent: Int, keyAt: Int, depth: Int) -> Sink.Value? {
            guard depth <= RecordLimits.depth else { return nil }
            guard var mapping = sink.beginMapping(capacity: Sink.usesCapacity ? entryCount(indent: indent, sequence: false) : 0) else { return nil }
            let first = keyTop, firstName = keyNames.count
            defer {
                keyTop = first
                if keyNames.count > firstName { keyNames.removeLast(keyNames.count - firstName) }
            }
            var seen: Set<String> = [] // the keys, once there are many
            var keyAt = keyAt
            while true {
                let line = lines[li]
                guard case .key(let key, let after) = scanKey(keyAt, line.end) else { return nil }
                if keyTop - first < 16 {
                    if isDuplicate(key, first) { return nil }
                } else {
                    // (String hashing agrees with `==`, canonical equivalence included.)
                    if seen.isEmpty { for k in first..<keyTop { seen.insert(keyString(keyRefs[k])) } }
                    guard seen.insert(keyString(key)).inserted else { return nil }
                }
                if keyTop < keyRefs.count { keyRefs[keyTop] = key } else { keyRefs.append(key) }
                keyTop += 1
                let keyLine = line.number + firstLine, lineStart = line.content - line.indent
                if key.isPlainASCII {
                    let hint = KeyHint(prefix: prefix(key.start, key.count), needsEscaping: key.needsEscaping)
                    sink.beginMember(UnsafeBufferPointer(start: base + key.start, count: key.count), isASCII: true, hint: hint,
                                     line: keyLine, lineStart: lineStart, of: &mapping)
                } else {
                    var name = keyNames[key.name] // (a local: the sink is written while it is read)
                    name.withUTF8 {
                        sink.beginMember($0, isASCII: false, hint: KeyHint(), line: keyLine, lineStart: lineStart, of: &mapping)
                    }
                }
                let valueAt = skipSpaces(after, line.end)
                let value: Sink.Value
                if valueAt == line.end || base[valueAt] == hash {
                    li += 1
                    guard let nested = parseNested(parentIndent: indent, indentless: true, depth: depth) else { return nil }
                    value = nested
                } else {
                    guard let scalar = scanScalar(valueAt, line.end) else { return nil }
                    li += 1
                    // A more-indented line would continue a plain scalar, or be an error.
                    if li < lines.count && lines[li].indent > indent { return nil }
                    value = scalar
                }
                sink.endMember(value, of: &mapping)
                guard li < lines.count else { break }
                let next = lines[li]
                if next.indent < indent { break }
                guard next.indent == indent else { return nil }
                keyAt = next.content
            }
            return sink.endMapping(mapping)
        }

        /// A block sequence whose `-` entries are at column `indent`, from the current line.
        mutating func parseSequence(indent: Int, depth: Int) -> Sink.Value? {
            guard depth <= RecordLimits.depth else { return nil }
            guard var sequence = sink.beginSequence(capacity: Sink.usesCapacity ? entryCount(indent: indent, sequence: true) : 0) else { return nil }
            while true {
                let line = lines[li]
                let at = skipSpaces(line.content + 1, line.end)
                sink.beginItem(of: &sequence)
                if at == line.end || base[at] == hash {
                    li += 1
                    guard let nested = parseNested(parentIndent: indent, indentless: false, depth: depth) else { return nil }
                    sink.endItem(nested, of: &sequence)
                } else if isEntry(at, line.end) {
                    return nil // `- - x`
                } else if isKey(at, line.end) {
                    // A mapping starting on the entry's line, its keys at this column.
                    let column = line.indent + (at - line.content)
                    guard let mapping = parseMapping(indent: column, keyAt: at, depth: depth + 1) else { return nil }
                    sink.endItem(mapping, of: &sequence)
                } else {
                    guard let scalar = scanScalar(at, line.end) else { return nil }
                    li += 1
                    if li < lines.count && lines[li].indent > indent { return nil }
                    sink.endItem(scalar, of: &sequence)
                }
                guard li < lines.count else { break }
                let next = lines[li]
                if next.indent < indent { break }
                guard next.indent == indent else { return nil }
                guard isEntry(next.content, next.end) else { break } // e.g. the next key after a sequence at its key's indent
            }
            return sink.endSequence(sequence)
        }

        /// The value of `key:` or `-` with nothing after it on its line: a more-indented block,
        /// a sequence at the key's own column (`indentless`, for mapping values), or null.
        mutating func parseNested(parentIndent: Int, indentless: Bool, depth: Int) -> Sink.Value? {
            guard li < lines.count else { return sink.scalar(.null, UnsafeBufferPointer(start: nil, count: 0), verbatim: true) }
            let line = lines[li]
            if line.indent > parentIndent {
                if isEntry(line.content, line.end) { return parseSequence(indent: line.indent, depth: depth + 1) }
                // Must be a mapping (parseMapping declines anything else, e.g. a lone scalar).
                return parseMapping(indent: line.indent, keyAt: line.content, depth: depth + 1)
            }
            if indentless && line.indent == parentIndent && isEntry(line.content, line.end) {
                return parseSequence(indent: parentIndent, depth: depth + 1)
            }
            return sink.scalar(.null, UnsafeBufferPointer(start: nil, count: 0), verbatim: true)
        }

        // MARK: Scalars

        /// Whether a mapping key starts at `at` (what follows it on the line is not checked:
        /// ``scanKey(_:_:)`` does that). Keys are plain or quoted scalars followed by `:` and a
        /// space or the end of the line.
        func isKey(_ at: Int, _ end: Int) -> Bool {
            var i = at
            let first = base[at]
            if first == doubleQuote || first == singleQuote {
                // Find the closing quote (`''` and `\"` do not close); on a line break, not a key.
                i += 1
                while true {
                    guard i < end else { return false }
                    let b = base[i]
                    if first == doubleQuote && b == backslash { i += 2; continue }
                    if b == first {
                        if first == singleQuote && i + 1 < end && base[i + 1] == singleQuote { i += 2; continue }
                        break
                    }
                    i += 1
                }
                let c = skipSpaces(i + 1, end)
                return c < end && base[c] == colon
            }
            while i < end {
                let b = base[i]
                if b == colon && (i + 1 == end || base[i + 1] == space) { return true }
                if b == hash && i > at && base[i - 1] == space { return false }
                i += 1
            }
            return false
        }

        /// A mapping key at `at`: a quoted or plain scalar followed by `:` and a space or the
        /// end of the line.
        @inline(__always) mutating func scanKey(_ at: Int, _ end: Int) -> KeyScan {
            let first = base[at]
            if first == doubleQuote || first == singleQuote {
                guard let quoted = scanQuoted(at, end, double: first == doubleQuote) else { return .decline }
                let close = quoted.close
                let c = skipSpaces(close, end)
                guard c < end, base[c] == colon else { return .notKey }
                guard c + 1 == end || base[c + 1] == space, c - at <= maxKeySpan else { return .decline }
                // Bytes compare exactly only when the key is its source bytes (no escapes or `''`).
                let (ascii, specials) = asciiAndSpecials(at + 1, close - 1)
                var ref = KeyRef(start: at + 1, count: close - at - 2, isPlainASCII: !quoted.escaped && ascii, name: -1, needsEscaping: specials)
                if ref.isPlainASCII {
                    // A merge key to YAML 1.1, even quoted: libyaml's path refuses it.
                    if ref.count == 2 && base[ref.start] == 0x3C && base[ref.start + 1] == 0x3C { return .decline }
                } else {
                    let string = quoted.escaped ? String(decoding: scratch, as: UTF8.self)
                        : String(decoding: UnsafeBufferPointer(start: base + ref.start, count: ref.count), as: UTF8.self)
                    if string == "<<" { return .decline }
                    ref.name = keyNames.count
                    keyNames.append(string)
                }
                return .key(ref, after: c + 1)
            }
            guard isPlainStart(at, end) else { return .decline }
            var i = at
            while true {
                i = colonOrHash(from: i, end)
                guard i < end else { return .notKey }
                let b = base[i]
                if b == colon && (i + 1 == end || base[i + 1] == space) { break }
                if b == hash && base[i - 1] == space { return .notKey } // a comment (i > at: a plain scalar never starts with #)
                i += 1
            }
            guard i - at <= maxKeySpan else { return .decline }
            var keyEnd = i
            while base[keyEnd - 1] == space { keyEnd -= 1 }
            let raw = UnsafeRawBufferPointer(start: base + at, count: keyEnd - at)
            // The libyaml path refuses plain keys that resolve to null, a boolean or a number, or
            // that YAML 1.1 reads otherwise. (A key starting with most letters is text to both:
            // checkPlainKey's own first test, here without the call, as no line holds a LF.)
            if !FrontMatter.startsPlainText(first) {
                do { try FrontMatter.checkPlainKey(raw, line: 0) } catch { return .decline }
            }
            let (ascii, specials) = asciiAndSpecials(at, keyEnd)
            var ref = KeyRef(start: at, count: keyEnd - at, isPlainASCII: ascii, name: -1, needsEscaping: specials)
            if !ref.isPlainASCII {
                ref.name = keyNames.count
                keyNames.append(String(decoding: raw, as: UTF8.self))
            }
            return .key(ref, after: i + 1)
        }

        /// The offset of the first `byte` in `from..<end`, or `end`.
        @inline(__always) func firstIndex(of byte: UInt8, from: Int, _ end: Int) -> Int {
            guard from < end, let found = memchr(base + from, Int32(byte), end - from) else { return end }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }

        /// The offset of the first `:` or `#` at or after `from` on the line ending at `end`, or
        /// `end`: eight bytes at a time, then straight to it (the lowest flagged byte is exact).
        @inline(__always) func colonOrHash(from: Int, _ end: Int) -> Int {
            var i = from
            let colons = Self.ones &* UInt64(colon), hashes = Self.ones &* UInt64(hash)
            while i + 8 <= end {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let flags = Self.zeroBytes(word ^ colons) | Self.zeroBytes(word ^ hashes)
                if flags != 0 { return i + flags.trailingZeroBitCount >> 3 }
                i += 8
            }
            while i < end && base[i] != colon && base[i] != hash { i += 1 }
            return i
        }

        @inline(__always) func bytesEqual(_ a: Int, _ b: Int, _ count: Int) -> Bool {
            for k in 0..<count where base[a + k] != base[b + k] { return false }
            return true
        }

        /// Whether `from..<to` is all ASCII, and whether it holds `"` or `\\` (no line of the
        /// text holds a control character: these are the bytes JSON would escape).
        @inline(__always) func asciiAndSpecials(_ from: Int, _ to: Int) -> (Bool, Bool) {
            var bits: UInt8 = 0, specials: UInt8 = 0
            for i in from..<to {
                let b = base[i]
                bits |= b
                specials |= (b == doubleQuote ? 1 : 0) | (b == backslash ? 1 : 0)
            }
            return (bits < 0x80, specials != 0)
        }

        /// The first eight bytes at `start` (of a key of `count` bytes), big-endian, zeros past
        /// the key's end.
        @inline(__always) func prefix(_ start: Int, _ count: Int) -> UInt64 {
            if start + 8 <= self.count {
                let word = UInt64(bigEndian: UnsafeRawPointer(base + start).loadUnaligned(as: UInt64.self))
                return count >= 8 ? word : count == 0 ? 0 : word & ~(UInt64.max >> UInt64(8 * count))
            }
            var word: UInt64 = 0
            for k in 0..<min(count, 8) { word |= UInt64(base[start + k]) << UInt64(56 - 8 * k) }
            return word
        }

        /// A scalar value at `at` that is the rest of its line (after spaces and a comment).
        mutating func scanScalar(_ at: Int, _ end: Int) -> Sink.Value? {
            let first = base[at]
            if first == doubleQuote || first == singleQuote {
                guard let quoted = scanQuoted(at, end, double: first == doubleQuote),
                      isRestEmpty(quoted.close, end) else { return nil }
                guard quoted.escaped else {
                    // Without escapes, a double-quoted text holds no `"` or `\`, and no line of
                    // the front matter holds a control character: nothing for JSON to escape.
                    return sink.scalar(.string, UnsafeBufferPointer(start: base + at + 1, count: quoted.close - at - 2),
                                       verbatim: first == doubleQuote)
                }
                // The unescaped text is in `scratch`: lend it to the sink without copying it.
                var text: [UInt8] = []
                swap(&text, &scratch)
                defer { swap(&text, &scratch) }
                return text.withUnsafeBufferPointer { sink.scalar(.string, $0, verbatim: false) }
            }
            guard isPlainStart(at, end) else { return nil }
            // The scalar ends at a comment (` #`) or the end of the line, less trailing spaces.
            var i = at
            while true {
                i = colonOrHash(from: i, end)
                guard i < end else { break }
                let b = base[i]
                if b == hash && base[i - 1] == space { break } // (i > at: a plain scalar never starts with #)
                if b == colon && (i + 1 == end || base[i + 1] == space) { return nil } // a mapping value: not here
                i += 1
            }
            var last = i // just past the last non-space byte (`at` is not a space)
            while base[last - 1] == space { last -= 1 }
            let raw = UnsafeBufferPointer(start: base + at, count: last - at)
            // (Text to both readers when it starts with most letters: resolvePlain's own first
            // test, here without the call, as no line holds a LF.)
            if FrontMatter.startsPlainText(first) { return sink.scalar(.string, raw, verbatim: false) }
            guard let value = try? FrontMatter.resolvePlain(UnsafeRawBufferPointer(raw), line: 0) else { return nil }
            return sink.scalar(value, raw, verbatim: false)
        }

        /// A quoted scalar opening at `at` and closing on the same line: the offset just past
        /// the closing quote, and whether it had escapes (or `''`). Its value is the source
        /// between the quotes, or with escapes the bytes left in `scratch`.
        mutating func scanQuoted(_ at: Int, _ end: Int, double: Bool) -> (close: Int, escaped: Bool)? {
            let quote = double ? doubleQuote : singleQuote
            var i = at + 1
            var runStart = i
            var escaped = false
            while true {
                // The first quote, or a backslash before it (memchr: the C library's vector loops).
                let from = i
                i = firstIndex(of: quote, from: from, end)
                if double { i = firstIndex(of: backslash, from: from, i) }
                guard i < end else { return nil } // a line break (or the end) inside the quotes
                let b = base[i]
                if b == quote {
                    guard !double, i + 1 < end, base[i + 1] == singleQuote else { break }
                    // `''` is one quote.
                    if !escaped { scratch.removeAll(keepingCapacity: true); escaped = true }
                    scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i + 1 - runStart))
                    i += 2
                    runStart = i
                    continue
                }
                guard double, b == backslash else { i += 1; continue }
                if !escaped { scratch.removeAll(keepingCapacity: true); escaped = true }
                scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i - runStart))
                guard i + 1 < end else { return nil } // an escaped line break
                let e = base[i + 1]
                i += 2
                var digits = 0
                switch e {
                case 0x30 /* 0 */: scratch.append(0x00)
                case 0x61 /* a */: scratch.append(0x07)
                case 0x62 /* b */: scratch.append(0x08)
                case 0x74 /* t */: scratch.append(0x09)
                case 0x6E /* n */: scratch.append(0x0A)
                case 0x76 /* v */: scratch.append(0x0B)
                case 0x66 /* f */: scratch.append(0x0C)
                case 0x72 /* r */: scratch.append(0x0D)
                case 0x65 /* e */: scratch.append(0x1B)
                case space, doubleQuote, 0x2F /* / */, backslash: scratch.append(e)
                case 0x4E /* N */: scratch.append(0xC2); scratch.append(0x85)
                case 0x5F /* _ */: scratch.append(0xC2); scratch.append(0xA0)
                case 0x4C /* L */: scratch.append(0xE2); scratch.append(0x80); scratch.append(0xA8)
                case 0x50 /* P */: scratch.append(0xE2); scratch.append(0x80); scratch.append(0xA9)
                case 0x78 /* x */: digits = 2
                case 0x75 /* u */: digits = 4
                case 0x55 /* U */: digits = 8
                default: return nil // unknown escape (libyaml's `\'` and `\<TAB>` included)
                }
                if digits > 0 {
                    guard i + digits <= end else { return nil }
                    var value: UInt32 = 0
                    for k in 0..<digits {
                        let h = base[i + k]
                        let d: UInt8
                        switch h {
                        case 0x30...0x39: d = h - 0x30
                        case 0x41...0x46: d = h - 0x41 + 10
                        case 0x61...0x66: d = h - 0x61 + 10
                        default: return nil
                        }
                        value = value << 4 | UInt32(d)
                    }
                    i += digits
                    guard value < 0xD800 || (value > 0xDFFF && value <= 0x10FFFF) else { return nil }
                    Self.appendUTF8(value, to: &scratch)
                }
                runStart = i
            }
            if escaped {
                scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i - runStart))
            }
            return (i + 1, escaped)
        }

        /// Appends the UTF-8 encoding of the scalar value `v` (not a surrogate, ≤ U+10FFFF).
        static func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
            switch v {
            case 0..<0x80:
                out.append(UInt8(v))
            case 0x80..<0x800:
                out.append(UInt8(0xC0 | v >> 6)); out.append(UInt8(0x80 | v & 0x3F))
            case 0x800..<0x10000:
                out.append(UInt8(0xE0 | v >> 12)); out.append(UInt8(0x80 | v >> 6 & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
            default:
                out.append(UInt8(0xF0 | v >> 18)); out.append(UInt8(0x80 | v >> 12 & 0x3F))
                out.append(UInt8(0x80 | v >> 6 & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
            }
        }
    }
}

extension FrontMatter {
    /// The libyaml path alone (no fast path), for differential tests and measurements.
    static func parseWithLibYAML(_ yaml: Substring, firstLine: Int) throws(FormatError) -> FrontMatter {
        var text = yaml
        var result: Result<FrontMatter, FormatError>!
        text.withUTF8 { buffer in
            do throws(FormatError) {
                result = .success(try parse(UnsafeRawBufferPointer(buffer), firstLine: firstLine))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }
}
