import Foundation
import TestSupport
import Testing
@testable import VaultFormat

/// Differential tests: the fast front-matter parser must give exactly what the libyaml path
/// gives, or decline.
@Suite struct FastFrontMatterTests {
    // MARK: Helpers

    static let repoRoot: URL = Repository.root

    static func fast(_ yaml: String, firstLine: Int = 2) -> FrontMatter? {
        var yaml = yaml
        return yaml.withUTF8 { FastFrontMatter.parse(UnsafeRawBufferPointer($0), firstLine: firstLine) }
    }

    static func fast(bytes: [UInt8], firstLine: Int = 2) -> FrontMatter? {
        bytes.withUnsafeBytes { FastFrontMatter.parse($0, firstLine: firstLine) }
    }

    static func libyaml(_ yaml: String, firstLine: Int = 2) -> Result<FrontMatter, FormatError> {
        Result { () throws(FormatError) in try FrontMatter.parseWithLibYAML(Substring(yaml), firstLine: firstLine) }
    }

    /// Equal byte for byte: strings compared as UTF-8, numbers by bit pattern, keys in order.
    static func identical(_ a: FieldValue, _ b: FieldValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x.bitPattern == y.bitPattern
        case let (.string(x), .string(y)): return Array(x.utf8) == Array(y.utf8)
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { identical($0, $1) }
        case let (.object(x), .object(y)):
            return x.count == y.count
                && zip(x, y).allSatisfy { Array($0.key.utf8) == Array($1.key.utf8) && identical($0.value, $1.value) }
        default: return false
        }
    }

    /// Every way the two results must agree.
    static func agree(_ a: FrontMatter, _ b: FrontMatter) -> Bool {
        a.fields == b.fields
            && a.fields.canonicalJSON == b.fields.canonicalJSON
            && identical(a.fields, b.fields)
            && a.topLevelKeys.count == b.topLevelKeys.count
            && zip(a.topLevelKeys, b.topLevelKeys).allSatisfy {
                Array($0.key.utf8) == Array($1.key.utf8) && $0.line == $1.line && $0.lineStart == $1.lineStart
            }
            && a.isBlockMapping == b.isBlockMapping
    }

    /// The fast path accepts `yaml` and agrees with libyaml.
    static func expectAccepted(_ yaml: String, firstLine: Int = 2, sourceLocation: SourceLocation = #_sourceLocation) {
        let lib = libyaml(yaml, firstLine: firstLine)
        guard case .success(let expected) = lib else {
            Issue.record("libyaml refuses: \(lib)\n\(yaml)", sourceLocation: sourceLocation)
            return
        }
        guard let got = fast(yaml, firstLine: firstLine) else {
            Issue.record("fast path declines:\n\(yaml)", sourceLocation: sourceLocation)
            return
        }
        #expect(agree(got, expected), "fast \(got.fields) vs libyaml \(expected.fields)\n\(yaml)", sourceLocation: sourceLocation)
    }

    // MARK: Fixtures

    static func fixtureRecords() throws -> [(String, String)] {
        var found: [(String, String)] = []
        let fixtures = repoRoot.appendingPathComponent("Fixtures")
        let walker = FileManager.default.enumerator(at: fixtures, includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            guard ["md", "txt"].contains(url.pathExtension),
                  let text = try? String(contentsOf: url, encoding: .utf8), text.hasPrefix("---\n") else { continue }
            found.append((url.path, text))
        }
        return found.sorted { $0.0 < $1.0 }
    }

    @Test func everyFixtureRecordTakesTheFastPath() throws {
        let records = try Self.fixtureRecords()
        #expect(records.count >= 3)
        #expect(records.contains { $0.0.hasSuffix("Fixtures/seed/000_6e329c144f65a19c.txt") })
        for (path, text) in records {
            let (yaml, _) = try RecordDocument.split(text)
            Self.expectAccepted(String(yaml))
            // Through the public entry point too (the fast path is wired in).
            let doc = try RecordDocument(parsing: text)
            guard case .success(let lib) = Self.libyaml(String(yaml)) else {
                Issue.record("libyaml refuses \(path)")
                continue
            }
            #expect(Self.agree(doc.frontMatter, lib), "\(path)")
        }
    }

    // MARK: Hand-written documents

    static let accepted: [String] = [
        // Scalars of every kind.
        """
        a: ~
        b:
        c: null
        d: Null
        e: NULL
        f: true
        g: True
        h: TRUE
        i: false
        j: False
        k: FALSE
        l: "yes"
        m: 'no'
        nn: yesterday
        o: -1
        p: +5
        q: 1.25e+1
        r: .5
        s: 0x
        t: 2023-04-28T15:52:00Z
        u: 2023-04-28
        v: -0.25
        w: 1.5e-3
        x: 1.0E-3
        yy: +.5e-2
        z: 5.5
        aa: 00.7
        ab: -0
        ac: -0.5
        ad: 9007199254740991
        ae: -9007199254740991
        af: inf
        ag: -inf
        ah: nan
        ai: 1000
        aj: 0o
        ak: 1.2.3
        al: 12:60
        am: 1e
        an: e3
        ao: "42"
        ap: 'true'
        aq: ""
        ar: ''
        as: "null"
        at: +
        au: -x
        av: .
        aw: 1e400e
        ax: 123456789012345678901234567890.5
        """,
        // Plain scalars with indicators inside, URLs, trailing spaces and comments.
        """
        url: https://example.org/a/b?c=d&e=f#frag
        hash: a#b
        colon: a:b
        colonEnd: a:b:c
        colon2: a::b
        question: ?x
        dash: -dash-
        amp: a&b *c !d |e >f 'g' "h" %i @j `k
        brackets: a [b] {c}, d
        spaces: a  b   c
        trailing: value   
        comment: value # a comment
        comment2: value  #another
        quotedComment: "value" # comment
        singleComment: 'value'   #
        emptyComment: # nothing
        dashes: a - b -- c
        dots: a ... b
        triple: ---x
        percent: 50%
        """,
        // Double-quoted escapes of every kind, single quotes.
        #"""
        esc: "\\ \" \/ \n \t \r \b \f \0 \a \v \e \N \_ \L \P \ "
        hex: "\x41\x7e\xe9\xFF\x00"
        u: "\u0041\u00e9\u20AC\uFFFD\uFFFE\u0000\ud7ff\ue000"
        U: "\U0001F600\U0010FFFF\U00000041"
        mixed: "a\tb\u00e9c 'single' # not a comment: no"
        single: 'it''s ''quoted'' \n stays'
        singleEmpty: ''''
        doubleEmpty: ""
        spacesInside: "  lead and trail  "
        singleSpaces: '  x  '
        hashInside: "a #b"
        colonInside: 'a: b'
        """#,
        // Unicode: NFC and NFD, emoji, CJK, right-to-left, keys too.
        """
        café: "café"
        cafe\u{0301}x: cafe\u{0301}
        emoji: 😀 👍🏽
        cjk: 漢字かな
        rtl: שלום
        "quoted é": é
        'single é': e\u{0301}
        nbsp: a\u{00A0}b
        """,
        // Quoted and odd plain keys.
        """
        "a b": 1
        'c d': 2
        "1": numeric string key
        'true': bool string key
        "": empty key
        "x": yy
        'it''s': quoted quote
        "esc\\tkey": tab escape
        key with spaces: v
        key  : spaced colon
        "k"  : v2
        -k: dash key
        ?q: question key
        a:b: colon in key
        "yes": quoted yes key
        '0x1F': quoted hex-looking key
        "2023-04-28": quoted date key
        """,
        // Nested mappings and sequences at several indents, like the seed.
        """
        provider:
          name: Futurism
          domain: futurism.com
        topics:
          - Facebook AI
          - AI
        indentless:
        - a
        - b
        images:
          - url: "https://x/y.jpg"
            width: 1200
            isCached: true
        deep:
            four:
                  six: 6
                  list:
                   - one
                   -   two
                  other: x
            back: 4
        after: end
        """,
        // Sequences of mappings, nested sequences, `-` alone, empty entries.
        """
        related:
          - title: "A"
            provider:
              name: Forbes
            images:
              - url: "u1"
                width: 1
              - url: "u2"
            tags:
            - t1
            - t2
          -   title: B
              m: 2
          -
            title: C
          -
            - nested
            - seq
          -
          - # empty with comment
          - last
        empty:
        also: ~
        """,
        // Comments and blank lines everywhere, odd indentation.
        """
        # leading comment

        a: 1   # trailing
          # more-indented comment
        # column-0 comment
        b:
        # comment between key and block
            c: 2

              # deep comment
            d:
            - x
        #
            - z
        e: "q"
        """,
        // An indented root mapping.
        "  a: 1\n  b:\n    - x\n  c: 3\n",
        // No final line break.
        "a: 1\nb: 2",
        // Sequence value at the key's indent after a nested mapping key.
        "a:\n  b:\n  - 1\n  - 2\n  c: 3\nd:\n- e: 1\n  f:\n  - g\n",
        // Quoted values of many shapes.
        "a: \"x y\"\nb: 'x y'\nc: \"1\"\nd: 'null'\ne: \"\"\n",
        // Blank lines with spaces, and comments after `-`.
        "a:\n  \n  - 1\n   \n  - 2 # two\n\nb: x\n",
        // Many keys (duplicates are then found through a Set), and keys that only look alike.
        (0..<40).map { "key\($0): \($0)\n" }.joined() + "Key: K\n\"\\N\": nel\n\\N: backslash-N\nk\u{301}: accent\n",
        // The top of the allowed depth: 64 nested mappings.
        (0..<63).map { String(repeating: " ", count: $0) + "k\($0):\n" }.joined() + String(repeating: " ", count: 63) + "leaf: 1\n",
    ]

    @Test(arguments: accepted)
    func handWrittenDocumentsTakeTheFastPath(_ yaml: String) {
        Self.expectAccepted(yaml)
        Self.expectAccepted(yaml, firstLine: 17)
    }

    /// Outside the subset (or not well-formed): the fast path declines.
    static let declined: [String] = [
        "",
        "\n\n# only a comment\n",
        "a: [1, 2]\n",
        "a: {b: 1}\n",
        "{a: 1}\n",
        "a: |\n  text\n",
        "a: >\n  text\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: !t 1\n",
        "%YAML 1.2\n---\na: 1\n",
        "---\na: 1\n",
        "a: 1\n...\n",
        "a: 1\n---\nb: 2\n",
        "? a\n: b\n",
        "a: multi\n  line\n",
        "a: 'multi\n  line'\n",
        "a: \"multi\n  line\"\n",
        "a: \"esc\\\n  line\"\n",
        "a:\n  plain on next line\n",
        "- a\n- b\n",
        "just a scalar\n",
        "a: 1\na: 2\n",
        "caf\u{E9}: 1\ncafe\u{301}: 2\n", // canonically equivalent keys: libyaml path calls them duplicates
        "Key: 1\n\u{212A}ey: 2\n", // KELVIN SIGN: canonically equivalent to K
        (0..<20).map { "key\($0): \($0)\n" }.joined() + "caf\u{E9}: 1\ncafe\u{301}: 2\n",
        "Key: K\n" + (0..<20).map { "key\($0): \($0)\n" }.joined() + "\u{212A}ey: dup\n",
        "\"a\\x62\": 1\nab: 2\n",
        "1: one\n",
        "true: t\n",
        "null: n\n",
        "~: n\n",
        "a: b: c\n",
        "a: b:\n",
        "a:b\n",
        "a: \"x\" y\n",
        "a: \"x\"#c\n",
        "a: 'x'junk\n",
        "a:\tb\n",
        "a: b\t\n",
        "\ta: b\n",
        "a: b\r\nc: d\r\n",
        "a: \"\\q\"\n",
        "a: \"\\'\"\n",
        "a: \"\\ud800\"\n",
        "a: \"\\U00110000\"\n",
        "a: \"\\x4\"\n",
        "a: \"\\u12G4\"\n",
        "a: 1\n b: 2\n",
        "a:\n    b: 1\n  c: 2\n",
        "a:\n  - x\n  b: 1\n",
        "a: 1\n- x\n",
        "a:\n- x\n  - y\n",
        "a:\n  - - x\n",
        "a: - x\n",
        "a: -\n",
        "a: ,b\n",
        "a: ]\n",
        "a: @x\n",
        "a: `x\n",
        "a: %x\n",
        "a: 9007199254740992\n",
        "a: 1e400\n",
        "a: x\u{85}y\n",
        "a: x\u{2028}y\n",
        "\u{FEFF}a: 1\n",
        "a: \u{7F}\n",
        "a: \u{1}\n",
        String(repeating: "k", count: 1001) + ": long key\n",
        "  a: 1\nb: 2\n",
        (0..<64).map { String(repeating: " ", count: $0) + "k\($0):\n" }.joined() + String(repeating: " ", count: 64) + "leaf: 1\n",
    ]

    @Test(arguments: declined)
    func unsupportedDocumentsAreDeclined(_ yaml: String) {
        #expect(Self.fast(yaml) == nil, "\(yaml.prefix(200))")
    }

    /// Keys equal as Swift strings (canonical equivalence) are duplicates to the libyaml path;
    /// the fast path declines them, including past the point where it uses a Set.
    @Test(arguments: [
        "a: 1\na: 2\n",
        "caf\u{E9}: 1\ncafe\u{301}: 2\n",
        "Key: 1\n\u{212A}ey: 2\n",
        (0..<20).map { "key\($0): \($0)\n" }.joined() + "caf\u{E9}: 1\ncafe\u{301}: 2\n",
        "Key: K\n" + (0..<20).map { "key\($0): \($0)\n" }.joined() + "\u{212A}ey: dup\n",
        "\"a\\x62\": 1\nab: 2\n",
        "m:\n  'x': 1\n  \"\\x78\": 2\n",
    ])
    func duplicateKeysAreDeclined(_ yaml: String) {
        #expect(Self.fast(yaml) == nil)
        guard case .failure(.invalidRecord(let why, _)) = Self.libyaml(yaml) else {
            Issue.record("libyaml path accepts \(yaml)")
            return
        }
        #expect(why.hasPrefix("duplicate key"))
    }

    @Test func oversizedFrontMatterIsDeclined() {
        let fits = "a: \"" + String(repeating: "x", count: RecordLimits.frontMatterBytes - 6) + "\"\n"
        #expect(fits.utf8.count == RecordLimits.frontMatterBytes)
        let (atLimit, beyond) = (Self.fast(fits) != nil, Self.fast(fits + " ") != nil)
        #expect(atLimit)
        #expect(!beyond)
    }

    @Test func invalidUTF8IsDeclined() {
        for bad: [UInt8] in [[0x80], [0xC0, 0xAF], [0xC2], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
                             [0xF8, 0x88, 0x80, 0x80, 0x80], [0xEF, 0xBF, 0xBF], [0xC2, 0x9F], [0x00]] {
            #expect(Self.fast(bytes: Array("a: x".utf8) + bad + Array("y\n".utf8)) == nil, "\(bad)")
        }
        #expect(Self.fast(bytes: Array("a: x\u{10FFFF}y\n".utf8)) != nil)
    }

    @Test func keyLinesAreFileLines() throws {
        let yaml = "# c\n\ntitle: a\nlist:\n  - 1\n  # c\n  - 2\n\"last\": x\n"
        let got = try #require(Self.fast(yaml, firstLine: 2))
        #expect(got.keyLines.map(\.key) == ["title", "list", "last"])
        #expect(got.keyLines.map(\.line) == [4, 5, 9])
        #expect(got.topLevelKeys.map(\.lineStart) == [5, 14, 38])
        #expect(got.isBlockMapping)
        Self.expectAccepted(yaml)
    }

    /// Each key's line start, by both paths: the offset of the line's first byte.
    static func expectLineStarts(_ yaml: String, _ keys: [String], fast expectFast: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        // The expected offsets, by hand: the start of the line on which each key's text starts.
        let utf8 = Array(yaml.utf8)
        let expected = keys.map { key -> Int in
            let needle = Array(key.utf8)
            let at = (0...(utf8.count - needle.count)).first { Array(utf8[$0..<$0 + needle.count]) == needle }!
            return (utf8[..<at].lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
        }
        guard case .success(let lib) = libyaml(yaml) else {
            Issue.record("libyaml refuses \(yaml.debugDescription)", sourceLocation: sourceLocation)
            return
        }
        #expect(lib.topLevelKeys.map(\.lineStart) == expected, "\(yaml.debugDescription)", sourceLocation: sourceLocation)
        #expect(lib.keyLines.map(\.line) == expected.map { start in 2 + utf8[..<start].filter { $0 == 0x0A }.count },
                sourceLocation: sourceLocation)
        let fastResult = fast(yaml)
        #expect((fastResult != nil) == expectFast, "\(yaml.debugDescription)", sourceLocation: sourceLocation)
        if let fastResult { #expect(agree(fastResult, lib), sourceLocation: sourceLocation) }
    }

    @Test func keyLineStartsAreByteOffsets() {
        // Multi-byte text before and inside keys: libyaml counts characters, offsets are bytes.
        Self.expectLineStarts("제목: 한국어 기사\n요약: \"😀 👍🏽 e\u{301}\"\n😀: x\nlast: z\n", ["제목", "요약", "😀:", "last"], fast: true)
        Self.expectLineStarts("a: \"\\L 😀\"\n# 한국어 comment\n\nb:\n  - 😀\n  - 한\nc: 1\n", ["a:", "b:", "c:"], fast: true)
        // CRLF: libyaml counts a CRLF as two characters.
        Self.expectLineStarts("제목: x\r\nlist:\r\n  - 😀\r\nlast: 1\r\n", ["제목", "list", "last"], fast: false)
        // An indented root mapping: the line starts before the indentation.
        Self.expectLineStarts("  a: 1\n  b:\n    - 😀\n  c: 한\n", ["a:", "b:", "c:"], fast: true)
        // Explicit `? key` entries: the key's own line.
        Self.expectLineStarts("? 한국어\n: 1\n?\n  😀key\n: 2\nplain: 3\n", ["? 한국어", "😀key", "plain"], fast: false)
        // A flow mapping: every key on the one line.
        Self.expectLineStarts("# c\n{a: 1, 한: 2,\n  b: 3}\n", ["{a", "{a", "  b"], fast: false)
    }

    @Test func bothPathsAgreeOnKeyOffsetsForTheWholeCorpus() throws {
        // (`agree` compares `topLevelKeys`, offsets included; this checks they are not all 0.)
        for yaml in Self.accepted {
            guard let got = Self.fast(yaml), case .success(let lib) = Self.libyaml(yaml) else { continue }
            #expect(got.topLevelKeys == lib.topLevelKeys)
            let bytes = Array(yaml.utf8)
            for key in got.topLevelKeys {
                #expect(key.lineStart == 0 || bytes[key.lineStart - 1] == 0x0A)
                #expect(bytes[..<key.lineStart].filter { $0 == 0x0A }.count + 2 == key.line)
            }
        }
    }

    @Test func errorsStillComeFromLibYAML() {
        #expect(throws: FormatError.invalidRecord("duplicate key 'title'", line: 4)) {
            try FrontMatter.parse("title: a\nquality: 3\ntitle: b\n", firstLine: 2)
        }
    }

    // MARK: Randomized differential test

    /// SplitMix64 (``SeededRNG``): reproducible across platforms.
    struct RNG {
        var seeded: SeededRNG
        init(state: UInt64) { seeded = SeededRNG(seed: state) }
        mutating func next() -> UInt64 { seeded.next() }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
        mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }
    }

    /// Random documents. With `exotic`, also constructs outside the subset (and errors).
    struct Generator {
        var rng: RNG
        let exotic: Bool

        static let words = ["news", "title", "AI", "Meta", "x", "café", "cafe\u{301}", "漢字", "😀", "a-b", "a_b", "a.b",
                            "a/b", "a:b", "a#b", "https://example.org/p?q=1&r=2#f", "50%", "v1.2", "O'Brien", "say \"hi\"",
                            "e\u{301}t\u{E9}", "-x", "?y", "z:", "a,b", "x[1]", "{y}", "a|b", "a>b", "~x", "@@", "a*b", "!x"]
        static let plainSafe = ["news", "title", "AI", "Meta", "x", "café", "cafe\u{301}", "漢字", "😀 👍", "a-b", "a_b", "a.b",
                                "a/b", "a:b", "a#b", "https://example.org/p?q=1&r=2#f", "50%", "v1.2", "O'Brien", "say \"hi\"",
                                "e\u{301}t\u{E9}", "-x", "?y", "z:z", "a,b", "x[1]", "y{z}", "a|b", "a>b", "~x", "a*b", "a !x",
                                "two words", "three  spaced  words", "2023-04-28T15:52:00Z", "2023-04-28", "12:60", "1.2.3",
                                "inf", "yesterday", "Nope", "one", "0x", "0o", "1000", "+", ".", "e5", "1e", "nulls", "Truer"]
        // (The YAML 1.1 forms — `yes`, `1e3`, `007`, `0x1F`, `1_000`, `12:30`, `.inf`, `:z` — are
        // refused now; YAML11Tests covers them.)
        static let numbers = ["0", "-1", "+5", "1.25e+1", ".5", "5.5", "-0", "-0.5", "1.5e-3", "+.5E-2", "00.7", "41", "1200",
                              "9007199254740991", "-9007199254740991", "3.141592653589793", "1.5e-21", "1.0e-7", "123456.789"]
        static let nulls = ["~", "null", "Null", "NULL", ""]
        static let bools = ["true", "True", "TRUE", "false", "False", "FALSE"]
        static let escapes = [#"\\"#, #"\""#, #"\/"#, #"\n"#, #"\t"#, #"\r"#, #"\b"#, #"\f"#, #"\0"#, #"\a"#, #"\v"#, #"\e"#,
                              #"\N"#, #"\_"#, #"\L"#, #"\P"#, #"\ "#, #"\x41"#, #"\xe9"#, #"\u00E9"#, #"\u20ac"#, #"\U0001F600"#,
                              #"\uFFFE"#, #"\x00"#]
        static let badEscapes = [#"\q"#, #"\'"#, #"\ud800"#, #"\U00110000"#, #"\x4"#, #"\u12"#, "\\\t"]

        var keyCounter = 0

        mutating func plainScalar() -> String {
            switch rng.int(10) {
            case 0, 1: return rng.pick(Self.numbers)
            case 2: return rng.pick(Self.nulls.filter { !$0.isEmpty })
            case 3: return rng.pick(Self.bools)
            default:
                var s = rng.pick(Self.plainSafe)
                if rng.chance(30) { s += " " + rng.pick(Self.plainSafe.filter { !$0.hasPrefix("-") && !$0.hasPrefix("?") }) }
                return s
            }
        }

        mutating func doubleQuoted() -> String {
            var s = "\""
            for _ in 0..<rng.int(5) {
                switch rng.int(4) {
                case 0: s += rng.pick(Self.escapes)
                case 1: s += rng.pick(Self.words).replacingOccurrences(of: "\"", with: "\\\"")
                case 2: s += rng.pick([" ", "'", "#", " #", ": ", "  "])
                default: s += rng.pick(Self.numbers)
                }
            }
            if exotic && rng.chance(10) { s += rng.pick(Self.badEscapes) }
            return s + "\""
        }

        mutating func singleQuoted() -> String {
            var s = "'"
            for _ in 0..<rng.int(4) {
                s += rng.pick(Self.words + ["''", " ", "\\n", "\"", ": ", " #"]).replacingOccurrences(of: "'", with: "''")
            }
            return s + "'"
        }

        mutating func scalar() -> String {
            if exotic && rng.chance(6) {
                return rng.pick(["[1, 2]", "{a: b}", "&anc x", "*anc", "!!str 3", "!t x", "|", ">", "- x", "? x", "a: b",
                                 "x # c", "\"unterminated", "'open", "9007199254740992", "1e999", "x:", "@x", "`x", "%x",
                                 "-", "[", "}", ",x", "\"a\" b", "x\ty", "\u{85}", "a\u{2028}b", "\u{FEFF}x", "\u{7F}"])
            }
            switch rng.int(10) {
            case 0...4: return plainScalar()
            case 5...7: return doubleQuoted()
            default: return singleQuoted()
            }
        }

        mutating func key(_ used: inout [String]) -> String {
            if exotic && rng.chance(4) { return rng.pick(["1", "true", "null", "~", "a", "? a", "[k]", "&k a", "\"a\"", "caf\u{E9}", "cafe\u{301}"]) }
            keyCounter += 1
            let base: String
            switch rng.int(10) {
            case 0: base = "\"" + rng.pick(["q", "a b", "1", "true", "", "é", "x\\ty"]) + "\(keyCounter)\""
            case 1: base = "'" + rng.pick(["q", "a b", "1", "null", "it''s"]) + "\(keyCounter)'"
            case 2: base = rng.pick(["key with spaces", "-k", "?k", "k:k", "a:b", "k.k", "é", "x#y"]) + "\(keyCounter)"
            default: base = rng.pick(["title", "url", "width", "name", "domain", "type", "quality", "heat", "k"]) + "\(keyCounter)"
            }
            used.append(base)
            return base + (rng.chance(5) ? "  " : "")
        }

        func pad(_ n: Int) -> String { String(repeating: " ", count: n) }

        mutating func comment() -> String { rng.pick([" # c", "  #", " # a: b", " #- x"]) }

        mutating func filler(_ out: inout [String], _ indent: Int) {
            while rng.chance(12) {
                out.append(rng.pick(["", pad(rng.int(6)), pad(rng.int(8)) + "# comment", "#", pad(indent) + "# c: d"]))
            }
        }

        /// A mapping at `indent`; the first key is appended to `firstPrefix` when given (compact
        /// form after `- `).
        mutating func mapping(_ out: inout [String], indent: Int, firstPrefix: String?, depth: Int) {
            var used: [String] = []
            let n = 1 + rng.int(depth == 0 ? 7 : 4)
            for i in 0..<n {
                filler(&out, indent)
                let prefix = (i == 0 ? firstPrefix : nil) ?? pad(indent)
                var k = key(&used)
                if exotic && rng.chance(3) && !used.isEmpty { k = rng.pick(used) } // duplicate key
                node(&out, head: prefix + k + ":", indent: indent, depth: depth, inMapping: true)
            }
        }

        mutating func sequence(_ out: inout [String], indent: Int, depth: Int) {
            let n = 1 + rng.int(4)
            for _ in 0..<n {
                filler(&out, indent)
                let dash = pad(indent) + "-" + pad(1 + (rng.chance(15) ? rng.int(3) : 0))
                if depth < 5 && rng.chance(30) {
                    mapping(&out, indent: dash.count, firstPrefix: dash, depth: depth + 1)
                } else {
                    node(&out, head: pad(indent) + "-", indent: indent, depth: depth, inMapping: false)
                }
            }
        }

        /// `head` (`key:` or `-`) followed by a scalar on the line, or by a nested block.
        mutating func node(_ out: inout [String], head: String, indent: Int, depth: Int, inMapping: Bool) {
            let choice = depth >= 5 ? 0 : rng.int(10)
            if choice < 6 {
                var line = head + " " + scalar()
                if rng.chance(5) { line = head } // empty value
                if rng.chance(10) { line += comment() }
                if rng.chance(5) { line += pad(1 + rng.int(3)) }
                out.append(line)
                if exotic && rng.chance(4) { out.append(pad(indent + 1 + rng.int(3)) + rng.pick(["continued", "more: x", "- y", "\"q\""])) }
                return
            }
            out.append(head + (rng.chance(10) ? comment() : ""))
            if exotic && rng.chance(3) {
                out.append(pad(indent + 2) + rng.pick(["plain next line", "\"q\"", "- - x", "\tk: v", "k:\tv"]))
                return
            }
            let step = 1 + rng.int(4)
            if choice < 8 {
                mapping(&out, indent: indent + step, firstPrefix: nil, depth: depth + 1)
            } else {
                // A sequence: more indented, or at the key's indent (mapping values only).
                let seqIndent = inMapping && rng.chance(40) ? indent : indent + step
                sequence(&out, indent: seqIndent, depth: depth + 1)
            }
        }

        mutating func document() -> String {
            var out: [String] = []
            let rootIndent = rng.chance(5) ? 1 + rng.int(3) : 0
            mapping(&out, indent: rootIndent, firstPrefix: nil, depth: 0)
            filler(&out, 0)
            if exotic {
                // Line-level damage.
                for _ in 0..<rng.int(3) where !out.isEmpty {
                    let i = rng.int(out.count)
                    switch rng.int(9) {
                    case 0: out[i] = " " + out[i]
                    case 1: if out[i].hasPrefix(" ") { out[i].removeFirst() }
                    case 2: out.insert(rng.pick(["---", "...", "%YAML 1.2", "--- x", "? k", ": v", "- stray", "junk"]), at: i)
                    case 3: out[i] += rng.pick([" junk: x", " #", ":", " [", " 'x'", "\t", "\r"])
                    case 4: out.insert(out[i], at: i)
                    case 5: out[i] = out[i].replacingOccurrences(of: " ", with: "\t")
                    case 6: out.insert(pad(rng.int(6)) + rng.pick(["|", ">-", "key: |", "- |"]), at: i)
                    case 7: out.remove(at: i)
                    default: out[i] = "\u{FEFF}" + out[i]
                    }
                }
            }
            var text = out.joined(separator: rng.chance(exotic ? 5 : 0) ? "\r\n" : "\n")
            if !rng.chance(5) { text += "\n" }
            return text
        }
    }

    static let mutationBytes: [UInt8] = Array(" :-#\"'\\\n\t\r[]{},&*!|>?%@`~.0123456789aeENx".utf8) + [0x00, 0x7F, 0x80, 0xC2, 0x85, 0xE2, 0xFF]

    /// Random byte-level edits of a document.
    static func mutate(_ text: String, _ rng: inout RNG) -> [UInt8] {
        var bytes = Array(text.utf8)
        for _ in 0..<(1 + rng.int(3)) {
            let i = bytes.isEmpty ? 0 : rng.int(bytes.count)
            switch rng.int(3) {
            case 0 where !bytes.isEmpty: bytes[i] = rng.pick(mutationBytes)
            case 1: bytes.insert(rng.pick(mutationBytes), at: i)
            default: if !bytes.isEmpty { bytes.remove(at: i) }
            }
        }
        return bytes
    }

    static let tinyTokens = ["a", "b", "k: ", "k:", "- ", "-", "\n", "\n", "\n  ", "\n    ", " ", "  ", ":", "#", " #", "'x'", "''",
                             "\"y\"", "\"\\n\"", "1", "-1", "~", "true", "é", "e\u{301}", "?", ",", "[", "{", "&a", "*a", "!", "|",
                             "\t", "\r", "---", "...", "x: y", "\n- ", "\n  - ", "\n  k: "]

    /// Short documents from small pieces: the corners of the grammar.
    static func tiny(_ rng: inout RNG) -> [UInt8] {
        var text = rng.pick(["k: ", "a:\n", "- ", ""])
        for _ in 0..<(1 + rng.int(12)) { text += rng.pick(tinyTokens) }
        return Array(text.utf8)
    }

    struct Tally {
        var documents = 0, accepted = 0, libyamlAccepted = 0
    }

    /// Checks one document; returns whether the fast path accepted it.
    static func check(_ bytes: [UInt8], firstLine: Int, tally: inout Tally) {
        tally.documents += 1
        let fastResult = fast(bytes: bytes, firstLine: firstLine)
        let lib = bytes.withUnsafeBytes { raw in
            Result { () throws(FormatError) in try FrontMatter.parse(raw, firstLine: firstLine) }
        }
        if case .success = lib { tally.libyamlAccepted += 1 }
        guard let fastResult else { return }
        tally.accepted += 1
        guard case .success(let expected) = lib else {
            Issue.record("fast path accepted what libyaml refuses (\(lib)):\n\(String(decoding: bytes, as: UTF8.self))")
            return
        }
        if !agree(fastResult, expected) {
            Issue.record("fast path differs:\n\(String(decoding: bytes, as: UTF8.self))\nfast: \(fastResult.fields)\nlibyaml: \(expected.fields)")
        }
    }

    @Test func randomDocumentsAgreeWithLibYAML() {
        // FAST_FRONT_MATTER_ROUNDS (and _SEED) run a longer or different campaign by hand.
        let environment = ProcessInfo.processInfo.environment
        let rounds = environment["FAST_FRONT_MATTER_ROUNDS"].flatMap { Int($0) } ?? 3000
        let seed = environment["FAST_FRONT_MATTER_SEED"].flatMap { UInt64($0) } ?? 0
        var rng = RNG(state: 0x5EED_F00D &+ seed)
        var supported = Tally(), exotic = Tally(), mutated = Tally(), small = Tally()
        var good = Generator(rng: RNG(state: 1 &+ seed), exotic: false)
        var bad = Generator(rng: RNG(state: 2 &+ seed), exotic: true)
        for _ in 0..<rounds {
            let firstLine = 1 + rng.int(50)
            let doc = good.document()
            Self.check(Array(doc.utf8), firstLine: firstLine, tally: &supported)
            Self.check(Array(bad.document().utf8), firstLine: firstLine, tally: &exotic)
            Self.check(Self.mutate(doc, &rng), firstLine: firstLine, tally: &mutated)
            Self.check(Self.tiny(&rng), firstLine: firstLine, tally: &small)
        }
        // Every supported document is well-formed, and the fast path takes (nearly) all of them.
        #expect(supported.libyamlAccepted == supported.documents)
        #expect(supported.accepted * 100 >= supported.documents * 98, "accepted \(supported.accepted) of \(supported.documents)")
        // The other generators do exercise both outcomes.
        #expect(exotic.accepted > 0 && exotic.accepted < exotic.documents)
        #expect(mutated.accepted > 0 && mutated.accepted < mutated.documents)
        #expect(small.accepted > 0 && small.accepted < small.documents)
        print("fast path accepted: supported \(supported.accepted)/\(supported.documents),",
              "exotic \(exotic.accepted)/\(exotic.documents) (libyaml \(exotic.libyamlAccepted)),",
              "mutated \(mutated.accepted)/\(mutated.documents) (libyaml \(mutated.libyamlAccepted)),",
              "tiny \(small.accepted)/\(small.documents) (libyaml \(small.libyamlAccepted))")
    }
}
