import Foundation
import Testing
@testable import VaultFormat

/// Front matter must mean the same to YAML 1.1 readers (Jekyll reads it with Ruby's Psych) and
/// to YAML 1.2 readers; anything else is refused. The reference is Psych itself: the
/// differential test runs `Tests/interop/psych_oracle.rb` with the system `ruby`, which is
/// REQUIRED (CI and `scripts/setup` install Debian's `ruby`).
@Suite struct YAML11Tests {
    static func parse(_ yaml: String) -> Result<FrontMatter, FormatError> {
        Result { () throws(FormatError) in try FrontMatter.parse(Substring(yaml), firstLine: 2) }
    }

    // MARK: Tables

    /// Every divergence the rules list, with the file line it must be reported on (the YAML
    /// text starts at file line 2) and a word of the message.
    static let refused: [(yaml: String, line: Int, says: String)] = [
        // Booleans and null in YAML 1.1 (any case), and y/n.
        ("published: no\n", 2, "read as false"),
        ("a: 1\npublished: No\n", 3, "read as false"),
        ("x: NO\n", 2, "false"), ("x: off\n", 2, "false"), ("x: OFF\n", 2, "false"), ("x: oFf\n", 2, "false"),
        ("x: yes\n", 2, "read as true"), ("x: Yes\n", 2, "true"), ("x: YES\n", 2, "true"), ("x: on\n", 2, "true"),
        ("x: On\n", 2, "true"), ("x: ON\n", 2, "true"), ("x: tRuE\n", 2, "true"), ("x: fAlSe\n", 2, "false"),
        ("x: nUlL\n", 2, "read as null"), ("x: nuLL\n", 2, "null"),
        ("x: y\n", 2, "boolean in YAML 1.1"), ("x: Y\n", 2, "boolean"), ("x: n\n", 2, "boolean"), ("x: N\n", 2, "boolean"),
        ("x: ye\u{17F}\n", 2, "read as true"), ("x: fal\u{17F}e\n", 2, "read as false"), ("x: o\u{FB00}\n", 2, "read as false"),
        ("list:\n  - a\n  - no\n", 4, "read as false"),
        // A float of an integer's value: its canonical form is the integer's (a review).
        ("count: 1.0\n", 2, "canonical form of an integer"), ("x: 1.\n", 2, "canonical form of an integer"),
        ("x: -0.0\n", 2, "canonical form of an integer"), ("x: 1.5e+3\n", 2, "canonical form of an integer"),
        // A timestamp that Ruby's Time.utc rolls over to another (a review).
        ("x: 2023-02-30 10:00:00 +5\n", 2, "another time"), ("x: 2023-02-29T10:00:00Z\n", 2, "another time"),
        ("x: 2023-04-31T00:00:00Z\n", 2, "another time"), ("x: 2023-01-01T24:00:00Z\n", 2, "another time"),
        ("x: 2023-01-01 10:00:60\n", 2, "another time"),
        ("x: 2023-01-05 10:00:00 -00:30\n", 2, "another time"), ("x: 2023-01-05 10:00:00 -0030\n", 2, "another time"),
        ("x: 2023-01-05 10:00:00 +123\n", 2, "another time"),
        // What safe_yaml (Jekyll 4.3 and earlier from RubyGems) fails on: Float("._") (a review).
        ("x: ._\n", 2, "safe_yaml"), ("x: -._e+1\n", 2, "safe_yaml"),
        ("m: {a: yes}\n", 2, "read as true"),
        ("yes: 1\n", 2, "read as true"), ("No: 1\n", 2, "false"), ("y: 1\n", 2, "boolean"), ("? yes\n: 1\n", 2, "true"),
        // A plain scalar over lines that folds to five characters or fewer.
        ("x: y\n\n  no\n", 2, "several lines"), ("x: a\n\n\n  b\n", 2, "several lines"),
        // Integers: a leading zero, 0o/0x/0b, '_' and ',', base 60.
        ("embargoHours: 010\n", 2, "leading zero"), ("x: 09\n", 2, "leading zero"), ("x: 00\n", 2, "leading zero"),
        ("x: -010\n", 2, "leading zero"), ("x: +007\n", 2, "leading zero"),
        ("x: 0x1F\n", 2, "base 2, 8 or 16"), ("x: -0x1f\n", 2, "base 2, 8 or 16"), ("x: 0o17\n", 2, "base 2, 8 or 16"),
        ("x: 0b101\n", 2, "base 2, 8 or 16"), ("x: 0X1F\n", 2, "base 2, 8 or 16"), ("x: 0x_\n", 2, "base 2, 8 or 16"),
        ("x: 1_000\n", 2, "'_' and ','"), ("x: 1,000\n", 2, "'_' and ','"), ("x: 1_0.5\n", 2, "'_' and ','"),
        ("x: 0.1_2\n", 2, "'_' and ','"), ("x: -1,2,3\n", 2, "'_' and ','"),
        ("x: 1:20\n", 2, "base-60"), ("x: 12:30:45\n", 2, "base-60"), ("x: 1:20.5\n", 2, "base-60"), ("x: -1:20\n", 2, "base-60"),
        ("x: 1:2:3:4\n", 2, "base-60"), ("12:30: lunch\n", 2, "base-60"),
        // Floats: an exponent without a point or without a sign; .inf and .nan.
        ("x: 1e3\n", 2, "signed exponent"), ("x: 1.0e3\n", 2, "signed exponent"), ("x: 1.5E3\n", 2, "signed exponent"),
        ("x: 1E-3\n", 2, "signed exponent"), ("x: -2e+5\n", 2, "signed exponent"), ("x: 0e0\n", 2, "signed exponent"),
        ("x: .inf\n", 2, "non-finite"), ("x: -.Inf\n", 2, "non-finite"), ("x: +.INF\n", 2, "non-finite"),
        ("x: .nan\n", 2, "non-finite"), ("x: .NaN\n", 2, "non-finite"), ("x: -.nan\n", 2, "non-finite"),
        ("x: +.e+3\n", 2, "fail"),
        // Symbols, merge and value keys.
        // An explicit document start: Jekyll's Psych reads the opening fence as an empty first
        // document and this as a second, so the page has no front matter there (a review).
        ("--- # a comment\ntitle: t\npublished: false\n", 2, "second YAML document"),
        ("---\t#t\npublished: false\n", 2, "second YAML document"), ("--- {a: 1}\n", 2, "second YAML document"),
        ("# note\n--- # c\na: 1\n", 3, "second YAML document"), ("--- >\n  folded\n", 2, "second YAML document"),
        ("x: :foo\n", 2, "symbol"), (":foo: x\n", 2, "symbol"),
        ("x: <<\n", 2, "merge key"), ("x: =\n", 2, "value key"), ("=: x\n", 2, "value key"),
        ("base: 1\n<<: {a: 1}\n", 3, "merges mappings"), ("\"<<\": {a: 1}\n", 2, "merges mappings"),
        ("'<<': x\n", 2, "merges mappings"), ("m:\n  \"<<\": {a: 1}\n", 3, "merges mappings"),
        // Keys that YAML 1.1 reads as dates or timestamps.
        ("2023-04-28: x\n", 2, "a date"), ("a: 1\n2023-04-28 15:52:00: x\n", 3, "a timestamp"),
        ("2023-04-28T15:52:00Z: x\n", 2, "a timestamp"),
        // A timestamp Psych cannot read (a TAB before the time).
        ("x: 2023-04-28\t15:52:00\n", 2, "fail"),
        // Line breaks YAML readers disagree on, wherever they are.
        ("title: Hello\u{2028}# and the CEO resigns\n", 2, "U+2028"),
        ("a: 1\ntitle: \"Hello\u{2029}there\"\n", 3, "U+2029"),
        ("a: 1\n# a comment \u{85} here\n", 3, "U+0085"),
        ("a: 1\nb\u{2028}c: 2\n", 3, "U+2028"),
        ("a: x\ry: 2\n", 2, "carriage return"),
        ("a: 1\r\nb: x\r", 3, "carriage return"),
        ("a: 'it\rs'\n", 2, "carriage return"),
    ]

    @Test func everyDivergenceIsRefusedWithItsLine() {
        for (yaml, line, says) in Self.refused {
            for result in [Self.parse(yaml), FastFrontMatterTests.libyaml(yaml)] {
                guard case .failure(.invalidRecord(let why, let got)) = result else {
                    Issue.record("accepted: \(yaml.debugDescription) -> \(result)")
                    continue
                }
                #expect(got == line, "\(yaml.debugDescription): line \(String(describing: got)), not \(line): \(why)")
                #expect(why.contains(says), "\(yaml.debugDescription): \(why)")
                // One lowercase line that says how to fix it.
                #expect(!why.contains("\n") && why.first?.isUppercase == false, "\(why)")
                #expect(why.contains("quote") || why.contains("rename") || why.contains("remove"), "\(why)")
            }
            // The fast path declines: the libyaml path reports the error with its line.
            #expect(FastFrontMatterTests.fast(yaml) == nil, "\(yaml.debugDescription)")
        }
    }

    /// What stays accepted, and its value (computed: LeakSanitizer cannot follow FieldValue
    /// payloads held by a global, whose pointers carry enum tag bits).
    static var accepted: [(yaml: String, key: String, value: FieldValue)] { [
        ("published: false\n", "published", .bool(false)),
        ("published: \"no\"\n", "published", .string("no")),
        ("published: 'no'\n", "published", .string("no")),
        ("published: |\n  no\n", "published", .string("no\n")),
        ("published: >-\n  yes\n", "published", .string("yes")),
        ("x: TRUE\n", "x", .bool(true)), ("x: Null\n", "x", .null), ("x: ~\n", "x", .null), ("x:\n", "x", .null),
        ("quality: 41\n", "quality", .number(41)),
        ("heat: -1\n", "heat", .number(-1)),
        ("x: 0\n", "x", .number(0)), ("x: -0\n", "x", .number(0)), ("x: +5\n", "x", .number(5)),
        ("x: 1.5\n", "x", .number(1.5)),
        ("x: 1.25e+1\n", "x", .number(12.5)), ("x: 1.5E-3\n", "x", .number(0.0015)), ("x: 5.e-1\n", "x", .number(0.5)),
        ("x: -0.25\n", "x", .number(-0.25)), ("x: .5\n", "x", .number(0.5)), ("x: 5.5\n", "x", .number(5.5)),
        ("x: 00.5\n", "x", .number(0.5)),
        ("x: 9007199254740991\n", "x", .number(9007199254740991)),
        ("x: 1.2.3\n", "x", .string("1.2.3")), ("x: 0x\n", "x", .string("0x")), ("x: 1e\n", "x", .string("1e")),
        ("x: +\n", "x", .string("+")), ("x: .\n", "x", .string(".")), ("x: 1:60\n", "x", .string("1:60")),
        ("x: e3\n", "x", .string("e3")), ("x: yesterday\n", "x", .string("yesterday")), ("x: nope\n", "x", .string("nope")),
        ("x: ~x\n", "x", .string("~x")), ("x: <<<\n", "x", .string("<<<")), ("x: ==\n", "x", .string("==")),
        ("x: a:b\n", "x", .string("a:b")), ("x: Yes please\n", "x", .string("Yes please")),
        ("x: \"1e3\"\n", "x", .string("1e3")), ("x: '010'\n", "x", .string("010")), ("x: \"12:30\"\n", "x", .string("12:30")),
        ("x: \":foo\"\n", "x", .string(":foo")), ("x: '<<'\n", "x", .string("<<")),
        ("publishedDateTime: 2023-04-28T15:52:00Z\n", "publishedDateTime", .string("2023-04-28T15:52:00Z")),
        ("x: 2023-04-28 15:52:00 +02:00\n", "x", .string("2023-04-28 15:52:00 +02:00")),
        ("x: 2023-04-28\n", "x", .string("2023-04-28")), ("x: 2023-02-30\n", "x", .string("2023-02-30")),
        ("\"2023-04-28\": x\n", "2023-04-28", .string("x")), ("'yes': x\n", "yes", .string("x")),
        ("url: https://example.org/a?b=1&c=no#f\n", "url", .string("https://example.org/a?b=1&c=no#f")),
        ("title: 한국어 제목\n", "title", .string("한국어 제목")),
        ("x: 😀 no\n", "x", .string("😀 no")),
        ("x: \"a\\Lb\\Pc\\Nd\\re\"\n", "x", .string("a\u{2028}b\u{2029}c\u{85}d\re")),
        ("x: \"\\t\\x41\\u00e9\"\n", "x", .string("\tA\u{E9}")),
        ("x: a\n  no\n", "x", .string("a no")), ("x: yesno\n  and more\n", "x", .string("yesno and more")),
        ("x: y\n\n  nope\n", "x", .string("y\nnope")),
    ] }

    @Test func ordinaryValuesStillParse() {
        for (yaml, key, value) in Self.accepted {
            for result in [Self.parse(yaml), FastFrontMatterTests.libyaml(yaml)] {
                guard case .success(let fm) = result else {
                    Issue.record("refused: \(yaml.debugDescription): \(result)")
                    continue
                }
                #expect(fm.fields[key] == value, "\(yaml.debugDescription): \(String(describing: fm.fields[key]))")
            }
        }
    }

    @Test func crlfFilesStillParse() throws {
        let doc = try RecordDocument(parsing: "---\r\ntitle: \"x\"\r\npublished: false\r\nlist:\r\n  - 1\r\n---\r\nbody\r\n")
        #expect(doc.fields["published"] == .bool(false))
        #expect(doc.fields["list"] == .array([.number(1)]))
        #expect(doc.frontMatter.keyLines.map(\.line) == [2, 3, 4])
    }

    // MARK: Psych's scanner, by itself

    /// `Psych.tokenize` against what Psych 4.0.3 gives (checked with `ruby -ryaml`).
    @Test func tokenizeFollowsPsych() {
        let cases: [(String, PsychScalar)] = [
            ("", .null), ("~", .null), ("nUlL", .null), ("tRuE", .bool(true)), ("oN", .bool(true)), ("OFF", .bool(false)),
            ("y", .string), ("n", .string), ("yes!", .string), ("+yes", .string),
            ("010", .integer(8)), ("09", .string), ("00", .integer(0)), ("0_", .integer(0)), ("0,7", .integer(7)),
            ("0x1F", .integer(31)), ("-0x1f", .integer(-31)), ("0X1F", .string), ("0b101", .integer(5)), ("0b", .string),
            ("0b_", .failure), ("0x_", .failure), ("0o17", .string), ("1_000", .integer(1000)), ("1,2,3", .integer(123)),
            ("1__0", .string), ("1_", .string), ("12345678901234567890123", .integer(nil)),
            ("1.0e3", .string), ("1e3", .string), ("1e+3", .string), ("1.0e+3", .float(1000)), ("1.e+3", .float(1000)),
            ("1,2.5", .float(12.5)), ("1.2,5", .string), ("+.e+3", .failure), (".e+3", .failure), ("+.", .string),
            (".", .string), ("5.", .float(5)), (".5", .float(0.5)),
            (".inf", .float(.infinity)), ("-.INF", .float(-.infinity)), ("+.Inf", .float(.infinity)), ("-.nan", .string),
            ("1:20", .sexagesimal), ("12:30:45", .sexagesimal), ("1:20.5", .sexagesimal), ("1:20._", .sexagesimal),
            ("1:2:3:4", .string), ("10:60", .string), ("1_:30", .sexagesimal),
            (":foo", .symbol), (":'x'", .symbol),
            ("2023-04-28", .date), ("2023-4-5", .date), ("2023-13-01", .string), ("12023-04-28", .string),
            ("2023-04-28T15:52:00Z", .time), ("2023-04-28 15:52:00", .time), ("2023-04-28  15:52:00.5 -5", .time),
            ("2001-12-14t21:59:43.10-05:00", .time), ("2023-04-28 15:52:00 +123", .rolledOverTime), ("2023-04-28 15:52:00 +12345", .string),
            ("2023-04-28\t15:52:00", .failure), ("2023-04-28 15:52:00 ", .string),
            ("y\nno", .perLine), ("hello\nworld", .string), ("ye\u{17F}", .bool(true)), ("o\u{FB00}", .bool(false)),
        ]
        for (text, expected) in cases {
            var text = text
            let got = text.withUTF8 { Psych.tokenize(UnsafeRawBufferPointer($0)) }
            if case .float(let e) = expected, case .float(let g) = got {
                #expect(e == g || (e.isNaN && g.isNaN), "\(text.debugDescription)")
            } else {
                #expect(got == expected, "\(text.debugDescription): \(got)")
            }
        }
    }

    // MARK: Differential test against Psych

    /// Seeded front matter mixing every risky form with ordinary records.
    struct Generator {
        var rng: FastFrontMatterTests.RNG
        var counter = 0

        static let keywords = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "ye\u{17F}", "fal\u{17F}e", "o\u{FB00}"]
        static let words = ["news", "AI", "Meta", "a-b", "a:b", "https://futurism.com/the-byte/x?y=1&z=no#f", "한국어 기사",
                            "漢字", "😀 👍🏽", "O'Brien", "v1.2.3", "50%", "e3", "-x", "~x", "<<<", "==", "yesterday",
                            "Yes please", "2023", "x y z"]

        mutating func flipCase(_ s: String) -> String {
            // ASCII letters only: `ſ` and `ﬀ` stay as they are (uppercased, they are other words).
            String(s.map { c in c.isASCII ? Character(rng.chance(50) ? c.uppercased() : c.lowercased()) : c })
        }

        mutating func digits(_ n: Int) -> String { (0..<n).map { _ in String(rng.int(10)) }.joined() }

        mutating func number() -> String {
            let sign = rng.pick(["", "", "", "-", "+"])
            switch rng.int(8) {
            case 0: // based integers
                let prefix = rng.pick(["0x", "0X", "0o", "0b", "0B", "0"])
                let body = (0..<rng.int(5)).map { _ in rng.pick(["0", "1", "7", "9", "f", "A", "_", ","]) }.joined()
                return sign + prefix + body
            case 1: // base 60
                var s = sign + digits(1 + rng.int(3)) + (rng.chance(20) ? "_" + digits(1) : "")
                for _ in 0..<(1 + rng.int(3)) { s += ":" + digits(1 + rng.int(2)) }
                if rng.chance(30) { s += "." + digits(rng.int(3)) + (rng.chance(20) ? "_" : "") }
                return s
            case 2: // .inf and .nan
                return rng.pick(["", "-", "+"]) + flipCase(rng.pick([".inf", ".nan", ".Inf", ".NaN"]))
            default: // decimal with leading zeros, separators, points, exponents
                var s = sign
                if rng.chance(20) { s += "0" }
                if !rng.chance(15) { s += digits(1 + rng.int(6)) }
                if rng.chance(15) { s += rng.pick(["_", ","]) + digits(rng.int(4)) }
                if rng.chance(50) { s += "." + digits(rng.int(4)) }
                if rng.chance(10) { s += rng.pick(["_", ","]) + digits(1) }
                if rng.chance(35) { s += rng.pick(["e", "E"]) + rng.pick(["", "+", "-"]) + digits(rng.int(3)) }
                return s.isEmpty ? "0" : s
            }
        }

        mutating func timestamp() -> String {
            let date = rng.pick(["", "", "", "-"]) + rng.pick(["2023", "1999", "20230"]) + "-"
                + rng.pick(["04", "4", "12", "13", "00", "1"]) + "-" + rng.pick(["28", "5", "31", "30", "32", "00", "09"])
            guard rng.chance(60) else { return date }
            let separator = rng.pick(["T", "t", " ", "  ", "\t"])
            let time = rng.pick(["15", "1", "25", "00"]) + ":" + rng.pick(["52", "05", "5", "60"]) + ":" + rng.pick(["00", "59", "60"])
            let fraction = rng.pick(["", "", ".5", ".123456", "."])
            let zone = rng.pick(["", "Z", "Z", " Z", "+02:00", "-05:00", "-5", "+0530", "+123", " +01", "+99", "+5:", "z"])
            return date + separator + time + fraction + zone
        }

        /// A plain scalar, possibly a risky one.
        mutating func plain() -> String {
            switch rng.int(14) {
            case 0, 1: return flipCase(rng.pick(Self.keywords))
            case 2, 3, 4: return number()
            case 5: return timestamp()
            case 6: return rng.pick([":sym", ":'q'", "<<", "=", "~", "+", ".", "-.", "0", "41", "-1", "1.5", "1.0e+3", "-0.25"])
            default: return rng.pick(Self.words)
            }
        }

        mutating func doubleQuoted() -> String {
            var s = "\""
            for _ in 0..<rng.int(4) {
                s += rng.pick([#"\L"#, #"\P"#, #"\N"#, #"\r"#, #"\t"#, #"\x41"#, #"\u00e9"#, #"\\"#, #"\""#, " ", "no", "010",
                               "1e3", "한글", "😀", "a: b", " #x", "\u{2028}", "\u{85}", "\r"])
            }
            return s + "\""
        }

        /// A scalar value for `key:` at `indent` (the text after `key: `).
        mutating func scalar(indent: Int) -> String {
            let pad = String(repeating: " ", count: indent + 2)
            switch rng.int(21) {
            case 0...10: return plain()
            case 10, 11: return "'" + plain().replacingOccurrences(of: "'", with: "''") + "'"
            case 12, 13: return rng.chance(50) ? doubleQuoted() : "\"" + plain().replacingOccurrences(of: "\"", with: "\\\"") + "\""
            case 14: return rng.pick(["|", ">", "|-", ">+"]) + "\n" + pad + plain() + (rng.chance(50) ? "\n" + pad + plain() : "")
            case 15: // multi-line plain: folded with a space, or with a blank line ("y\n\nno")
                let blank = rng.chance(60) ? "\n" : ""
                return rng.pick(["y", "a", "1", "on", "한", "no"]) + "\n" + blank + pad + rng.pick(["no", "b", "yes", "2", "글", "nope"])
            case 16: return "[" + (0..<rng.int(4)).map { _ in plain().replacingOccurrences(of: ",", with: "") }.joined(separator: ", ") + "]"
            case 17: return "{k: " + plain().replacingOccurrences(of: ",", with: "") + ", " + rng.pick(["yes", "n", "2023-04-28", "x"]) + ": 1}"
            case 18 where rng.chance(50):
                return rng.pick(["Hello\u{2028}# and the CEO resigns", "a\u{2029}b", "a\u{85}b", "a\rb", "\"q\u{2028}\"", "x # c\u{2028}"])
            case 18: return rng.pick(Self.words)
            default: return ""
            }
        }

        mutating func key() -> String {
            counter += 1
            if rng.chance(5) {
                return rng.pick(["2023-04-28", "2023-04-28 15:52:00", "2023-13-45", "yes", "No", "y", ":k", "<<", "\"<<\"", "'<<'",
                                 "=", "1_000", "0x1F", "12:30", ".inf", "\"yes\"", "'2023-04-28'", "k\u{2028}x"])
            }
            return rng.pick(["title", "url", "quality", "heat", "published", "한글", "date", "k"]) + "\(counter)"
        }

        mutating func mapping(_ out: inout [String], indent: Int, depth: Int) {
            let pad = String(repeating: " ", count: indent)
            for _ in 0..<(1 + rng.int(depth == 0 ? 5 : 3)) {
                let k = key()
                if depth < 3 && rng.chance(15) {
                    out.append(pad + k + ":")
                    mapping(&out, indent: indent + 2, depth: depth + 1)
                } else if depth < 3 && rng.chance(15) {
                    out.append(pad + k + ":")
                    for _ in 0..<(1 + rng.int(3)) {
                        out.append(pad + "  - " + scalar(indent: indent + 2).replacingOccurrences(of: "\n", with: "\n  "))
                    }
                } else {
                    let v = scalar(indent: indent)
                    out.append(pad + k + ":" + (v.isEmpty ? "" : " " + v) + (rng.chance(10) ? rng.pick([" # no", " # yes", " # \u{2028} x", " #\r"]) : ""))
                }
            }
        }

        /// Short random strings over the characters of numbers, keywords and timestamps, as a
        /// value (`x: s`) or a key (`s: x`): the corners of Psych's patterns.
        static let fuzzCharacters: [String] = Array("0123456789.:-+_,eExXoObB yYnNtTfFaAlLsSuU~<=Z").map(String.init) + ["\u{17F}", "\u{FB00}", "0", "1", ":", "."]

        mutating func fuzzDocument() -> String {
            let s = (0..<(1 + rng.int(9))).map { _ in rng.pick(Self.fuzzCharacters) }.joined()
            return rng.chance(75) ? "x: " + s + "\n" : s + ": x\n"
        }

        mutating func document() -> String {
            var out: [String] = []
            if rng.chance(10) { out.append(rng.pick(["# comment", "# \u{2028} no", ""])) }
            mapping(&out, indent: 0, depth: 0)
            return out.joined(separator: rng.chance(5) ? "\r\n" : "\n") + "\n"
        }
    }

    /// Runs the oracle on JSON Lines; returns its standard output and exit status.
    static func runOracle(_ lines: [UInt8]) throws -> (out: String, err: String, code: Int32) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avault-psych-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.jsonl"), output = dir.appendingPathComponent("out"),
            errors = dir.appendingPathComponent("err")
        try Data(lines).write(to: input)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let script = FastFrontMatterTests.repoRoot.appendingPathComponent("Tests/interop/psych_oracle.rb").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ruby", script, input.path]
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        return (String(decoding: try Data(contentsOf: output), as: UTF8.self),
                String(decoding: try Data(contentsOf: errors), as: UTF8.self), process.terminationStatus)
    }

    @Test func canonicalValuesAreWhatPsychReads() throws {
        // PSYCH_ORACLE_ROUNDS (and _SEED) run a longer or different campaign by hand.
        let environment = ProcessInfo.processInfo.environment
        let rounds = environment["PSYCH_ORACLE_ROUNDS"].flatMap { Int($0) } ?? 4000
        let seed = environment["PSYCH_ORACLE_SEED"].flatMap { UInt64($0) } ?? 0
        var generator = Generator(rng: FastFrontMatterTests.RNG(state: 0x9511_C4E5 &+ seed))
        var jsonl: [UInt8] = []
        var accepted = 0, refused = 0, refusedByLineBreaks = 0
        var documents: [String] = []
        for _ in 0..<rounds { documents.append(generator.document()) }
        for _ in 0..<rounds { documents.append(generator.fuzzDocument()) }
        // The tables above, too.
        documents += Self.refused.map(\.yaml) + Self.accepted.map(\.yaml)
        for yaml in documents {
            let public_ = Self.parse(yaml)
            let lib = FastFrontMatterTests.libyaml(yaml)
            // The public entry (fast path first) and the libyaml path agree, errors included.
            switch (public_, lib) {
            case (.success(let a), .success(let b)):
                #expect(FastFrontMatterTests.agree(a, b), "\(yaml.debugDescription)")
            case (.failure(let a), .failure(let b)):
                #expect(a == b, "\(yaml.debugDescription)")
            default:
                Issue.record("fast path and libyaml differ: \(public_) vs \(lib)\n\(yaml.debugDescription)")
            }
            let ours: String
            switch public_ {
            case .success(let fm):
                accepted += 1
                ours = FieldValue.string(String(decoding: fm.fields.canonicalJSON, as: UTF8.self)).canonicalJSON.stringValue
            case .failure(let error):
                refused += 1
                if case .invalidRecord(let why, _) = error, why.contains("line break") { refusedByLineBreaks += 1 }
                ours = "null"
            }
            jsonl += Array("{\"yaml\":".utf8) + FieldValue.string(yaml).canonicalJSON + Array(",\"ours\":\(ours)}\n".utf8)
        }
        // Not vacuous: plenty of both outcomes, line-break refusals among them.
        #expect(accepted >= 3000 && refused >= 3000 && refusedByLineBreaks >= 100,
                "accepted \(accepted), refused \(refused) (\(refusedByLineBreaks) for line breaks)")
        print("psych differential: \(documents.count) documents, \(accepted) accepted, \(refused) refused")

        let result = try Self.runOracle(jsonl)
        let mismatches = result.out.split(separator: "\n").filter { $0.hasPrefix("MISMATCH") }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches with Psych:\n\(mismatches.prefix(30).joined(separator: "\n"))")
        #expect(result.code == 0, "ruby psych_oracle.rb exited \(result.code) (ruby is required: apt-get install ruby): \(result.err)")
        #expect(result.out.contains("checked \(accepted) accepted, \(refused) refused, 0 mismatches"), "\(result.out.suffix(300))")
    }

    /// The oracle is not a rubber stamp: it reports a value that differs from Psych's.
    @Test func theOracleFindsAMismatch() throws {
        let lines = [
            #"{"yaml":"published: no\n","ours":"{\"published\":\"no\"}"}"#,
            #"{"yaml":"e: 010\n","ours":"{\"e\":10}"}"#,
            #"{"yaml":"t: 2023-04-28T15:52:00Z\n","ours":"{\"t\":\"2023-04-28T15:52:01Z\"}"}"#,
            #"{"yaml":"ok: 2023-04-28T15:52:00Z\n","ours":"{\"ok\":\"2023-04-28T15:52:00Z\"}"}"#,
            #"{"yaml":"ok: 1.5e+0\n","ours":"{\"ok\":1.5}"}"#,
            // A Float taken for an Integer, and a Time rolled over to another (a review).
            #"{"yaml":"f: 1.0e+3\n","ours":"{\"f\":1000}"}"#,
            #"{"yaml":"r: 2023-02-30T10:00:00Z\n","ours":"{\"r\":\"2023-02-30T10:00:00Z\"}"}"#,
            #"{"yaml":"z: 2023-01-05 10:00:00 -00:30\n","ours":"{\"z\":\"2023-01-05 10:00:00 -00:30\"}"}"#,
            #"{"yaml":"ok: 2023-01-05 10:00:00 -05:30\n","ours":"{\"ok\":\"2023-01-05 10:00:00 -05:30\"}"}"#,
            #"{"yaml":"refused: yes\n","ours":null}"#,
        ].joined(separator: "\n") + "\n"
        let result = try Self.runOracle(Array(lines.utf8))
        #expect(result.code == 1, "\(result.err)")
        #expect(result.out.split(separator: "\n").filter { $0.hasPrefix("MISMATCH") }.count == 6, "\(result.out)")
        #expect(result.out.contains("checked 9 accepted, 1 refused, 6 mismatches"), "\(result.out)")
    }
}

private extension [UInt8] {
    /// The bytes as text (they are UTF-8 JSON).
    var stringValue: String { String(decoding: self, as: UTF8.self) }
}
