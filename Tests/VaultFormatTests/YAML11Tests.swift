import Foundation
import Testing
@testable import VaultFormat

/// Front matter must mean the same to YAML 1.1 readers (Jekyll reads it with Ruby's Psych) and
/// to YAML 1.2 readers; anything else is refused.
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

    /// What stays accepted, and its value.
    static let accepted: [(yaml: String, key: String, value: FieldValue)] = [
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
        ("x: 1.0e+3\n", "x", .number(1000)), ("x: 1.5E-3\n", "x", .number(0.0015)), ("x: 1.e+3\n", "x", .number(1000)),
        ("x: -0.25\n", "x", .number(-0.25)), ("x: .5\n", "x", .number(0.5)), ("x: 5.\n", "x", .number(5)),
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
    ]

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
            ("2001-12-14t21:59:43.10-05:00", .time), ("2023-04-28 15:52:00 +123", .time), ("2023-04-28 15:52:00 +12345", .string),
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
}
