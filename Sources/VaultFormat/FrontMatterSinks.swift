/// Where ``FastFrontMatter``'s parser sends what it reads, in document order: a tree of
/// ``FieldValue``s (``TreeSink``, for ``FrontMatter``) or the RFC 8785 bytes of the fields
/// written as they are read (``CanonicalSink``, for `avault verify`). One parser, so both
/// accept exactly the same documents and read them the same way.
protocol FrontMatterSink: ~Copyable {
    /// Whether ``beginMapping(capacity:)`` and ``beginSequence(capacity:)`` use their capacity
    /// (the parser counts entries ahead only for a sink that does).
    static var usesCapacity: Bool { get }
    associatedtype Value
    associatedtype Mapping
    associatedtype Sequence
    /// A scalar: what it is, and for a string its UTF-8 (valid only during the call).
    /// `verbatim`: the text has no byte that JSON escapes (`"`, `\`, controls).
    mutating func scalar(_ value: PlainValue, _ text: UnsafeBufferPointer<UInt8>, verbatim: Bool) -> Value
    /// A block mapping of about `capacity` members starts; nil declines the document.
    mutating func beginMapping(capacity: Int) -> Mapping?
    /// A member's key, its UTF-8, on 1-based file line `line`, whose line starts at byte
    /// `lineStart` of the YAML text; its value comes next. With `isASCII`, the key is exactly
    /// these bytes of the YAML text, all ASCII (so it compares exactly by bytes, and the bytes
    /// stay where they are for the whole parse); otherwise they are valid only during the call.
    /// `hint` (with `isASCII` only) tells the key's first eight bytes and whether JSON escapes
    /// one of its bytes.
    mutating func beginMember(_ key: UnsafeBufferPointer<UInt8>, isASCII: Bool, hint: KeyHint, line: Int, lineStart: Int,
                              of mapping: inout Mapping)
    /// The value of the member begun last.
    mutating func endMember(_ value: Value, of mapping: inout Mapping)
    mutating func endMapping(_ mapping: Mapping) -> Value
    /// A block sequence of about `capacity` items starts; nil declines the document.
    mutating func beginSequence(capacity: Int) -> Sequence?
    /// An item starts; its value comes next.
    mutating func beginItem(of sequence: inout Sequence)
    mutating func endItem(_ value: Value, of sequence: inout Sequence)
    mutating func endSequence(_ sequence: Sequence) -> Value
}

/// What the parser knows of a plain-ASCII key besides its bytes, for the canonical sink.
struct KeyHint {
    /// Its first eight bytes, big-endian, zeros past its end.
    var prefix: UInt64 = 0
    /// It holds a byte JSON escapes (`"` or `\\`).
    var needsEscaping = false
}

/// Whether the key `key` (UTF-8; `isASCII`: all ASCII) is `name` (ASCII), compared as
/// `String ==` compares (canonical equivalence included): by bytes for an ASCII key, where
/// that is exact.
func isKey(_ key: UnsafeBufferPointer<UInt8>, isASCII: Bool, named name: StaticString) -> Bool {
    guard isASCII else { return String(decoding: key, as: UTF8.self) == name.description }
    guard key.count == name.utf8CodeUnitCount else { return false }
    for i in 0..<key.count where key[i] != name.utf8Start[i] { return false }
    return true
}

/// Builds the ``FieldValue`` tree (what ``FrontMatter/fields`` holds).
struct TreeSink: FrontMatterSink {
    static var usesCapacity: Bool { true }
    /// Whether to record the root mapping's keys in ``topLevelKeys``.
    let recordsTopLevelKeys: Bool
    /// The root mapping's keys, with their lines.
    private(set) var topLevelKeys: [FrontMatter.TopLevelKey] = []
    /// Open mappings and sequences.
    private var level = 0

    struct Mapping {
        var pairs: [(key: String, value: FieldValue)]
        /// The key of the member being read.
        var key = ""
    }

    init(recordsTopLevelKeys: Bool) {
        self.recordsTopLevelKeys = recordsTopLevelKeys
        if recordsTopLevelKeys { topLevelKeys.reserveCapacity(16) }
    }

    func scalar(_ value: PlainValue, _ text: UnsafeBufferPointer<UInt8>, verbatim: Bool = false) -> FieldValue {
        value.fieldValue(String(decoding: text, as: UTF8.self))
    }

    mutating func beginMapping(capacity: Int) -> Mapping? {
        level += 1
        var pairs: [(key: String, value: FieldValue)] = []
        pairs.reserveCapacity(capacity)
        return Mapping(pairs: pairs)
    }

    mutating func beginMember(_ key: UnsafeBufferPointer<UInt8>, isASCII: Bool, hint: KeyHint, line: Int, lineStart: Int,
                              of mapping: inout Mapping) {
        mapping.key = String(decoding: key, as: UTF8.self)
        if level == 1 && recordsTopLevelKeys {
            topLevelKeys.append(FrontMatter.TopLevelKey(key: mapping.key, line: line, lineStart: lineStart))
        }
    }

    func endMember(_ value: FieldValue, of mapping: inout Mapping) {
        mapping.pairs.append((mapping.key, value))
    }

    mutating func endMapping(_ mapping: Mapping) -> FieldValue {
        level -= 1
        return .object(mapping.pairs)
    }

    mutating func beginSequence(capacity: Int) -> [FieldValue]? {
        level += 1
        var items: [FieldValue] = []
        items.reserveCapacity(capacity)
        return items
    }

    func beginItem(of sequence: inout [FieldValue]) {}

    func endItem(_ value: FieldValue, of sequence: inout [FieldValue]) {
        sequence.append(value)
    }

    mutating func endSequence(_ sequence: [FieldValue]) -> FieldValue {
        level -= 1
        return .array(sequence)
    }
}

/// Writes the RFC 8785 form of the front matter's fields less `signatures` as the parser reads
/// them, byte for byte what ``CanonicalWriter`` writes for the tree ``TreeSink`` builds: every
/// scalar is written where it is read, and each mapping's members, written one after the
/// other, are put in RFC 8785 order (UTF-16 order of their names) when the mapping ends.
///
/// Also kept, for `avault verify`: the value of the top-level `signatures` field, as a tree
/// (``signatures``), and the top-level fields of ``capturedNames`` (``captured``), which must be
/// scalars: a mapping or a sequence there declines the document (the tree path then reads it).
struct CanonicalSink: FrontMatterSink, ~Copyable {
    static var usesCapacity: Bool { false }
    /// The top-level fields kept in ``captured``, besides being written.
    static let capturedNames: [StaticString] = ["secured", "publishedDateTime", "date", "webUrl", "originalUrl"]

    /// The RFC 8785 bytes (complete once the root mapping has ended).
    private(set) var out: RawBytes
    /// The value of the top-level `signatures` field, if any.
    private(set) var signatures: FieldValue?
    /// The top-level fields named in ``capturedNames``, in document order.
    private(set) var captured: [(key: String, value: FieldValue)] = []

    /// A member of an open mapping: its name (in the YAML text, or at `nameStart` in `names`),
    /// its value in `out`.
    private struct Member {
        /// The name in the YAML text (an ASCII key), or nil: at `nameStart` in `names`.
        var nameInText: UnsafePointer<UInt8>?
        var nameStart: Int
        var nameCount: Int
        var valueStart: Int
        var valueEnd: Int
        /// The name's first eight bytes, big-endian, zeros past its end.
        var prefix: UInt64
        /// Those bytes are ASCII: UTF-16 order is byte order there, so names whose prefixes
        /// differ sort by them.
        var prefixIsASCII: Bool
        /// The name has a byte JSON escapes (`"`, `\\`, a control character).
        var nameNeedsEscaping: Bool
    }

    /// The names of the members of the open mappings (UTF-8).
    private var names: RawBytes
    /// The members of the open mappings, innermost last, up to `memberTop` (entries past it
    /// are stale, and reused).
    private var members: [Member] = []
    private var memberTop = 0
    /// Where a mapping's members are copied to while they are written back in order.
    private var spare: RawBytes
    /// Open mappings and sequences (the root mapping is level 1).
    private var level = 0
    /// Inside the value of the top-level `signatures` field: built by `tree`, not written.
    private var inSignatures = false
    /// The top-level member being read is one of ``capturedNames``: its key.
    private var capturing: String?
    /// Inside `signatures`: the tree's builder, its open mappings and sequences, and the value
    /// made last (every value is handed to its mapping or sequence right after it is made).
    private var tree = TreeSink(recordsTopLevelKeys: false)
    private var treeMappings: [TreeSink.Mapping] = []
    private var treeSequences: [[FieldValue]] = []
    private var treeValue = FieldValue.null

    /// Values are written to `out` (or, inside `signatures`, left in `treeValue`).
    typealias Value = Bool

    struct Mapping {
        /// Where the mapping's members start in `out`.
        var start: Int
        /// Its first member in `members`.
        var firstMember: Int
        /// Inside `signatures`: its index in `treeMappings`, else -1.
        var tree = -1
    }

    struct Sequence {
        var count = 0
        /// Inside `signatures`: its index in `treeSequences`, else -1.
        var tree = -1
    }

    init(capacity: Int) {
        out = RawBytes(capacity: capacity + 64)
        spare = RawBytes(capacity: capacity + 64)
        names = RawBytes(capacity: 256)
        members.reserveCapacity(32)
        captured.reserveCapacity(Self.capturedNames.count)
    }

    @inline(__always) private mutating func appendASCII(_ s: StaticString) {
        out.append(bytes: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    mutating func scalar(_ value: PlainValue, _ text: UnsafeBufferPointer<UInt8>, verbatim: Bool) -> Bool {
        if inSignatures {
            treeValue = tree.scalar(value, text)
            return true
        }
        if level == 1, let key = capturing { captured.append((key, tree.scalar(value, text))) }
        switch value {
        case .null: appendASCII("null")
        case .bool(let b): appendASCII(b ? "true" : "false")
        case .number(let d): ECMAScriptNumber.append(d, to: &out)
        case .string:
            if verbatim {
                out.append(UInt8(ascii: "\""))
                out.append(bytes: text)
                out.append(UInt8(ascii: "\""))
            } else {
                JSONString.appendEscaped(text, to: &out)
            }
        }
        return true
    }

    mutating func beginMapping(capacity: Int) -> Mapping? {
        if level == 1 && capturing != nil { return nil }
        level += 1
        if inSignatures {
            treeMappings.append(tree.beginMapping(capacity: 4)!)
            return Mapping(start: 0, firstMember: 0, tree: treeMappings.count - 1)
        }
        return Mapping(start: out.count, firstMember: memberTop)
    }

    mutating func beginMember(_ key: UnsafeBufferPointer<UInt8>, isASCII: Bool, hint: KeyHint, line: Int, lineStart: Int,
                              of mapping: inout Mapping) {
        if mapping.tree >= 0 {
            tree.beginMember(key, isASCII: isASCII, hint: hint, line: line, lineStart: lineStart, of: &treeMappings[mapping.tree])
            return
        }
        if level == 1 {
            if isASCII {
                // Each name has its own length: one comparison at most.
                switch key.count {
                case 10 where VaultFormat.isKey(key, isASCII: true, named: "signatures"):
                    inSignatures = true
                    return
                case 7 where VaultFormat.isKey(key, isASCII: true, named: "secured"): capturing = "secured"
                case 17 where VaultFormat.isKey(key, isASCII: true, named: "publishedDateTime"): capturing = "publishedDateTime"
                case 4 where VaultFormat.isKey(key, isASCII: true, named: "date"): capturing = "date"
                case 6 where VaultFormat.isKey(key, isASCII: true, named: "webUrl"): capturing = "webUrl"
                case 11 where VaultFormat.isKey(key, isASCII: true, named: "originalUrl"): capturing = "originalUrl"
                default:
                    break
                }
            } else {
                if VaultFormat.isKey(key, isASCII: false, named: "signatures") {
                    inSignatures = true
                    return
                }
                for name in Self.capturedNames where VaultFormat.isKey(key, isASCII: false, named: name) {
                    capturing = String(decoding: key, as: UTF8.self)
                }
            }
        }
        let start = names.count
        if isASCII {
            push(Member(nameInText: key.baseAddress, nameStart: start, nameCount: key.count, valueStart: out.count,
                        valueEnd: out.count, prefix: hint.prefix, prefixIsASCII: true, nameNeedsEscaping: hint.needsEscaping))
            return
        }
        // Any other key: its sort prefix, and whether JSON escapes a byte of it, from its bytes.
        var prefix: UInt64 = 0, high: UInt8 = 0, escapes = false
        for i in 0..<key.count {
            let b = key[i]
            if i < 8 {
                prefix |= UInt64(b) << UInt64(56 - 8 * i)
                high |= b
            }
            escapes = escapes || b < 0x20 || b == 0x22 || b == 0x5C
        }
        names.append(bytes: key)
        push(Member(nameInText: nil, nameStart: start, nameCount: key.count, valueStart: out.count,
                    valueEnd: out.count, prefix: prefix, prefixIsASCII: high < 0x80, nameNeedsEscaping: escapes))
    }

    @inline(__always) private mutating func push(_ member: Member) {
        if memberTop < members.count { members[memberTop] = member } else { members.append(member) }
        memberTop += 1
    }

    /// A member's name.
    @inline(__always) private static func name(_ m: Member, _ names: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        if let text = m.nameInText { return UnsafeBufferPointer(start: text, count: m.nameCount) }
        return UnsafeBufferPointer(rebasing: names[m.nameStart..<(m.nameStart + m.nameCount)])
    }

    /// Whether member `a` sorts before member `b` (RFC 8785: UTF-16 order of their names).
    @inline(__always) private static func precedes(_ a: Member, _ b: Member, _ names: UnsafeBufferPointer<UInt8>) -> Bool {
        if a.prefixIsASCII && b.prefixIsASCII && a.prefix != b.prefix { return a.prefix < b.prefix }
        return UTF16Order.less(name(a, names), name(b, names))
    }

    mutating func endMember(_ value: Bool, of mapping: inout Mapping) {
        if mapping.tree >= 0 {
            tree.endMember(treeValue, of: &treeMappings[mapping.tree])
            return
        }
        if level == 1 {
            capturing = nil
            if inSignatures {
                signatures = treeValue
                treeValue = .null
                inSignatures = false
                return
            }
        }
        members[memberTop - 1].valueEnd = out.count
    }

    /// Writes the mapping's members (in `out` from its start, in document order) back in
    /// RFC 8785 order, with their names, commas and braces.
    mutating func endMapping(_ mapping: Mapping) -> Bool {
        level -= 1
        if mapping.tree >= 0 {
            treeValue = tree.endMapping(treeMappings.removeLast())
            return true
        }
        let first = mapping.firstMember, count = memberTop - first
        // The members' values move to `spare`; `out` takes them back in order.
        spare.truncate(to: 0)
        spare.append(bytes: UnsafeBufferPointer(rebasing: out.bytes[mapping.start...]))
        out.truncate(to: mapping.start)
        out.append(UInt8(ascii: "{"))
        if count > 0 {
            let names = self.names.bytes, values = spare.bytes
            let namesStart = members[first].nameStart
            var list: [Member] = []
            swap(&list, &members) // (a local while `out` is written: no overlapping access to self)
            defer { swap(&list, &members) }
            list.withUnsafeBufferPointer { all in
                let list = UnsafeBufferPointer(rebasing: all[first..<(first + count)])
                // Sort the members' indices (names are unique, so any sort gives the one order):
                // by insertion for the usual handful, else the standard library's.
                withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { order in
                    var order = order
                    for i in 0..<count { order.initializeElement(at: i, to: i) }
                    if count <= 24 {
                        for i in 1..<count {
                            let m = order[i]
                            var j = i
                            while j > 0 && Self.precedes(list[m], list[order[j - 1]], names) {
                                order[j] = order[j - 1]
                                j -= 1
                            }
                            order[j] = m
                        }
                    } else {
                        order.sort { Self.precedes(list[$0], list[$1], names) }
                    }
                    for (position, i) in order.enumerated() {
                        let m = list[i]
                        if position > 0 { out.append(UInt8(ascii: ",")) }
                        let name = Self.name(m, names)
                        if m.nameNeedsEscaping {
                            JSONString.appendEscaped(name, to: &out)
                            out.append(UInt8(ascii: ":"))
                        } else {
                            out.appendQuotedName(name)
                        }
                        out.append(bytes: UnsafeBufferPointer(rebasing: values[(m.valueStart - mapping.start)..<(m.valueEnd - mapping.start)]))
                    }
                    // Int is trivial: nothing to deinitialise.
                }
            }
            self.names.truncate(to: namesStart)
            memberTop = first
        }
        out.append(UInt8(ascii: "}"))
        return true
    }

    mutating func beginSequence(capacity: Int) -> Sequence? {
        if level == 1 && capturing != nil { return nil }
        level += 1
        if inSignatures {
            treeSequences.append(tree.beginSequence(capacity: 2)!)
            return Sequence(tree: treeSequences.count - 1)
        }
        out.append(UInt8(ascii: "["))
        return Sequence()
    }

    mutating func beginItem(of sequence: inout Sequence) {
        guard sequence.tree < 0 else { return }
        if sequence.count > 0 { out.append(UInt8(ascii: ",")) }
        sequence.count += 1
    }

    mutating func endItem(_ value: Bool, of sequence: inout Sequence) {
        if sequence.tree >= 0 { tree.endItem(treeValue, of: &treeSequences[sequence.tree]) }
    }

    mutating func endSequence(_ sequence: Sequence) -> Bool {
        level -= 1
        if sequence.tree >= 0 {
            treeValue = tree.endSequence(treeSequences.removeLast())
            return true
        }
        out.append(UInt8(ascii: "]"))
        return true
    }
}

/// What ``FastFrontMatter/canonical(_:firstLine:untilFence:)`` reads: the RFC 8785 form of the
/// fields without `signatures`, the value of `signatures`, and the captured top-level fields.
struct CanonicalFrontMatter {
    var fields: [UInt8]
    var signatures: FieldValue?
    var captured: [(key: String, value: FieldValue)]
    /// The length of the YAML text (up to the closing fence line, with `untilFence`).
    var yamlCount: Int
    /// With `untilFence`: the length of the closing fence line with its line ending.
    var fenceCount: Int
}
