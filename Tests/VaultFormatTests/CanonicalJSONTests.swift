import Foundation
import TestSupport
import Testing
import VaultFormat

// MARK: - Fixtures (Fixtures/jcs, see its README)

enum JCSFixtures {
    static let directory: URL = Repository.root.appendingPathComponent("Fixtures/jcs")

    /// `cases/NAME.input.json` → `cases/NAME.output.json` (and `.output.hex` when present).
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let input: [UInt8]
        let output: [UInt8]
        let hex: [UInt8]?
        var testDescription: String { name }
    }

    /// One row of RFC 8785 Appendix B; `expected == nil` means "must not be serialised".
    struct NumberSample: Sendable, CustomTestStringConvertible {
        let bits: UInt64
        let expected: String?
        let note: String
        var testDescription: String { String(bits, radix: 16) + (note.isEmpty ? "" : " " + note) }
    }

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(relativePath)))
    }

    static func lines(_ relativePath: String) throws -> [String] {
        let text = String(decoding: try bytes(relativePath), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    static func cases() throws -> [Case] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("cases").path)
            .filter { $0.hasSuffix(".input.json") }
            .map { String($0.dropLast(".input.json".count)) }
            .sorted()
        return try names.map { name in
            let hexPath = directory.appendingPathComponent("cases/\(name).output.hex").path
            let hex: [UInt8]? = FileManager.default.fileExists(atPath: hexPath)
                ? try lines("cases/\(name).output.hex").flatMap { $0.split(separator: " ") }.map { UInt8($0, radix: 16)! }
                : nil
            return Case(
                name: name, input: try bytes("cases/\(name).input.json"),
                output: try bytes("cases/\(name).output.json"), hex: hex)
        }
    }

    static func numberSamples() throws -> [NumberSample] {
        try lines("rfc8785-appendix-b.csv").filter { !$0.hasPrefix("#") }.map { line in
            let fields = line.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            return NumberSample(
                bits: UInt64(fields[0], radix: 16)!, expected: fields[1] == "error" ? nil : fields[1],
                note: fields.count > 2 ? fields[2] : "")
        }
    }
}

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
private func canonical(_ value: FieldValue) -> String { text(value.canonicalJSON) }
private func canonical(_ number: Double) -> String { canonical(.number(number)) }


// MARK: - RFC 8785 vectors

@Suite struct CanonicalJSONVectors {
    @Test func theFixtureDirectoryHoldsTheRFCExamples() throws {
        let names = try JCSFixtures.cases().map(\.name)
        #expect(names.contains("rfc8785-3.2.2-values"))
        #expect(names.contains("rfc8785-3.2.3-sorting"))
        #expect(names.count == 7)
        #expect(try JCSFixtures.numberSamples().count == 26)
    }

    @Test(arguments: try JCSFixtures.cases())
    func caseCanonicalisesToTheExpectedBytes(_ c: JCSFixtures.Case) throws {
        let value = try JSONDocument.parse(c.input)
        #expect(text(value.canonicalJSON) == text(c.output))
        #expect(value.canonicalJSON == c.output)
        #expect(try FieldValue.canonicalJSON(of: c.input) == c.output)
        if let hex = c.hex { #expect(c.output == hex) }
        // The output is itself canonical.
        #expect(try FieldValue.canonicalJSON(of: c.output) == c.output)
    }

    @Test func theSortingExampleOrdersValuesAsTheRFCShows() throws {
        let value = try JSONDocument.parse(JCSFixtures.bytes("cases/rfc8785-3.2.3-sorting.input.json"))
        let sorted = try JSONDocument.parse(value.canonicalJSON)
        guard case .object(let members) = sorted else { Issue.record("not an object"); return }
        #expect(members.map { $0.value.stringValue ?? "" } == (try JCSFixtures.lines("cases/rfc8785-3.2.3-sorting.order.txt")))
        // The names as the RFC lists them, in UTF-16 code units.
        #expect(members.map { Array($0.key.utf16) } == [[0x000D], [0x0031], [0x0080], [0x00F6], [0x20AC], [0xD83D, 0xDE00], [0xFB33]])
    }

    @Test(arguments: try JCSFixtures.numberSamples())
    func appendixBNumber(_ sample: JCSFixtures.NumberSample) {
        let d = Double(bitPattern: sample.bits)
        if let expected = sample.expected {
            #expect(canonical(d) == expected)
            // And the text reads back as the same double (or zero for −0).
            #expect((try? JSONDocument.parse(expected)) == .number(d))
        } else {
            // The rows the RFC marks as errors are exactly NaN and Infinity; serialising them is
            // a precondition failure (see the exit tests) and the parser has no way to make them.
            #expect(d.isNaN || d.isInfinite)
        }
    }

    @Test func serialisingNaNIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            _ = FieldValue.number(Double(bitPattern: 0x7FFF_FFFF_FFFF_FFFF)).canonicalJSON
        }
    }

    @Test func serialisingInfinityIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            _ = FieldValue.array([.number(Double(bitPattern: 0x7FF0_0000_0000_0000))]).canonicalJSON
        }
    }
}

// MARK: - Numbers

@Suite struct CanonicalJSONNumbers {
    static let layouts: [(Double, String)] = [
        (0, "0"), (-0.0, "0"), (1, "1"), (-1, "-1"), (1.5, "1.5"), (-1.5, "-1.5"), (0.1, "0.1"),
        (100, "100"), (123.456, "123.456"), (1e20, "100000000000000000000"), (1e21, "1e+21"),
        (-1e21, "-1e+21"), (1.5e21, "1.5e+21"), (123e18, "123000000000000000000"),
        (0.000001, "0.000001"), (0.0000015, "0.0000015"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"),
        (-1e-7, "-1e-7"), (0.001, "0.001"), (1e16, "10000000000000000"), (1e15 + 0.5, "1000000000000000.5"),
        (9_007_199_254_740_991, "9007199254740991"), (9_007_199_254_740_994, "9007199254740994"),
        (2_251_799_813_685_248.5, "2251799813685248.5"), (1e300, "1e+300"), (2.5e-300, "2.5e-300"),
        (Double.leastNormalMagnitude, "2.2250738585072014e-308"), (0.3, "0.3"), (0.1 + 0.2, "0.30000000000000004"),
    ]

    @Test(arguments: layouts)
    func ecmaScriptLayout(_ value: Double, _ expected: String) {
        #expect(canonical(value) == expected)
    }

    /// ECMAScript Number::toString written from its definition, with digits from C's
    /// correctly rounded `%.*e`: the first precision that reads back as `d` gives the
    /// shortest digits, and correct rounding makes them the closest such digits.
    static func reference(_ d: Double) -> String {
        if d == 0 { return "0" }
        var mantissa = "", exponent = 0
        for precision in 1...17 {
            let s = String(format: "%.\(precision - 1)e", d.magnitude)
            if Double(s) == d.magnitude || precision == 17 {
                let parts = s.split(separator: "e")
                mantissa = parts[0].replacingOccurrences(of: ".", with: "")
                exponent = Int(parts[1])!
                break
            }
        }
        while mantissa.count > 1 && mantissa.hasSuffix("0") { mantissa.removeLast() }
        let k = mantissa.count, n = exponent + 1
        let sign = d < 0 ? "-" : ""
        if k <= n && n <= 21 { return sign + mantissa + String(repeating: "0", count: n - k) }
        if 0 < n && n <= 21 { return sign + mantissa.prefix(n) + "." + mantissa.dropFirst(n) }
        if -6 < n && n <= 0 { return sign + "0." + String(repeating: "0", count: -n) + mantissa }
        let e = n - 1
        let fraction = k > 1 ? "." + mantissa.dropFirst() : ""
        return sign + mantissa.prefix(1) + fraction + "e" + (e < 0 ? "-" : "+") + String(e.magnitude)
    }

    @Test func randomDoublesMatchTheReferenceAlgorithmAndRoundTrip() throws {
        var rng = SeededRNG(seed: 8785)
        var checked = 0
        while checked < 20_000 {
            let d: Double
            switch checked % 4 {
            case 0: d = Double(bitPattern: rng.next())  // any exponent
            case 1: d = Double(Int64.random(in: -1_000_000_000...1_000_000_000, using: &rng)) / 1000  // decimals
            case 2: d = Double.random(in: -1e22...1e22, using: &rng)  // around the 1e21 switch
            default: d = Double.random(in: -1e-5...1e-5, using: &rng)  // around the 1e-6 switch
            }
            guard d.isFinite else { continue }
            let s = canonical(d)
            #expect(s == Self.reference(d), "bits \(String(d.bitPattern, radix: 16))")
            let back = try JSONDocument.parse(s)
            #expect(back == .number(d), "\(s)")
            checked += 1
        }
    }

    @Test func parsedNumbersAreCorrectlyRounded() throws {
        // The parser's fast paths must agree with the standard library's correctly rounded
        // conversion on every shape of number.
        var rng = SeededRNG(seed: 42)
        let digits = Array("0123456789")
        for i in 0..<20_000 {
            var s = Bool.random(using: &rng) ? "-" : ""
            let intDigits = Int.random(in: 1...(i % 3 == 0 ? 24 : 17), using: &rng)
            s.append(digits[Int.random(in: 1...9, using: &rng)])
            for _ in 1..<intDigits { s.append(digits[Int.random(in: 0...9, using: &rng)]) }
            if Bool.random(using: &rng) {
                s.append(".")
                for _ in 0..<Int.random(in: 1...20, using: &rng) { s.append(digits[Int.random(in: 0...9, using: &rng)]) }
            }
            if Bool.random(using: &rng) {
                s.append(["e", "E", "e+", "e-", "E-"][Int.random(in: 0...4, using: &rng)])
                s.append(String(Int.random(in: 0...40, using: &rng)))
            }
            let expected = Double(s)!
            guard case .number(let parsed) = try JSONDocument.parse(s) else { Issue.record("\(s)"); continue }
            #expect(parsed.bitPattern == expected.bitPattern, "\(s)")
            // Also with a leading "0." fraction, which takes the small-number path.
            let small = "0.000" + s.filter(\.isNumber).prefix(18)
            guard case .number(let p2) = try JSONDocument.parse(small) else { Issue.record("\(small)"); continue }
            #expect(p2.bitPattern == Double(small)!.bitPattern, "\(small)")
        }
    }

    static let parsed: [(String, Double)] = [
        ("-0", -0.0), ("0e0", 0), ("0.0", 0), ("1E+2", 100), ("1e-2", 0.01), ("-0.0e5", -0.0),
        ("9007199254740993", 9_007_199_254_740_992), ("1e-400", 0), ("-1e-400", -0.0),
        ("123456789012345678901234567890", 1.2345678901234568e29), ("4.9e-324", Double(bitPattern: 1)),
        ("2.2250738585072011e-308", Double(bitPattern: 0x000F_FFFF_FFFF_FFFF)), ("1.7976931348623157e308", .greatestFiniteMagnitude),
        ("0.1", 0.1), ("10000000000000000000000", 1e22), ("100000000000000000000000", 1e23),
        ("0.000000000000000000000000001", 1e-27), ("333333333.33333329", 333_333_333.3333333),
    ]

    @Test(arguments: parsed)
    func numberTextParsesToTheNearestDouble(_ json: String, _ expected: Double) throws {
        guard case .number(let d) = try JSONDocument.parse(json) else { Issue.record("not a number"); return }
        #expect(d.bitPattern == expected.bitPattern)
    }
}

// MARK: - Strings and ordering

@Suite struct CanonicalJSONStrings {
    static let awkward: [Unicode.Scalar] = {
        var scalars = (0x00...0x7F).map { Unicode.Scalar(UInt8($0)) }
        for v: UInt32 in [0x80, 0xA0, 0xE9, 0x301, 0x7FF, 0x800, 0x2028, 0x2029, 0xD7FF, 0xE000, 0xFB33, 0xFEFF,
                          0xFFFD, 0xFFFE, 0xFFFF, 0x10000, 0x1F600, 0x1F602, 0x10FFFF] {
            scalars.append(Unicode.Scalar(v)!)
        }
        return scalars
    }()

    static func randomString(_ rng: inout SeededRNG, maxLength: Int = 12) -> String {
        var s = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...maxLength, using: &rng) {
            switch Int.random(in: 0...3, using: &rng) {
            case 0: s.append(awkward.randomElement(using: &rng)!)
            case 1: s.append(Unicode.Scalar(UInt8.random(in: 0x61...0x7A, using: &rng)))
            case 2: s.append(Unicode.Scalar(UInt32.random(in: 0xE000...0xFFFF, using: &rng))!)
            default:
                let v = UInt32.random(in: 0...0x10FFFF, using: &rng)
                s.append(Unicode.Scalar(v) ?? "x")
            }
        }
        return String(s)
    }

    @Test func byteEscaperAgreesWithJSONStringAppend() {
        var rng = SeededRNG(seed: 7)
        var samples = Self.awkward.map { String($0) }
        samples.append(String(String.UnicodeScalarView(Self.awkward)))
        samples += ["", "plain ascii", "e\u{301}", "\u{E9}", "\r\n\t\u{8}\u{C}\"\\/"]
        for _ in 0..<5_000 { samples.append(Self.randomString(&rng, maxLength: 30)) }
        for s in samples {
            var viaString = ""
            JSONString.append(s, to: &viaString)
            var viaBytes: [UInt8] = []
            JSONString.append(s, to: &viaBytes)
            #expect(viaBytes == Array(viaString.utf8), "\(Array(s.unicodeScalars.map(\.value)))")
        }
    }

    @Test func specialBytesAreFoundAtEveryPositionOfAWord() throws {
        // The escaper and the parser skip eight plain bytes at a time; put each kind of special
        // byte at every offset around two words.
        for special in ["\"", "\\", "\u{0}", "\u{1F}", "\n", "\u{7F}", " ", "é", "€", "😀", "\u{FFFF}"] {
            for position in 0..<20 {
                let s = String(repeating: "a", count: position) + special + String(repeating: "b", count: 19 - position)
                var expected = ""
                JSONString.append(s, to: &expected)
                #expect(canonical(.string(s)) == expected)
                #expect(try JSONDocument.parse(expected) == .string(s))
            }
        }
        // Invalid and control bytes in the parser's fast path, at every position.
        for bad: UInt8 in [0x80, 0xFF, 0xC0, 0x0A, 0x00] {
            for position in 0..<20 {
                var bytes = [UInt8(ascii: "\"")] + [UInt8](repeating: UInt8(ascii: "a"), count: 24) + [UInt8(ascii: "\"")]
                bytes[1 + position] = bad
                #expect(throws: FormatError.self) { try JSONDocument.parse(bytes) }
            }
        }
    }

    @Test func escapingFollowsRFC8785() {
        #expect(canonical(.string("\u{0}\u{1}\u{1F}\u{7F}")) == #""\u0000\u0001\u001f\#u{7F}""#)
        #expect(canonical(.string("\u{8}\u{9}\u{A}\u{C}\u{D}")) == #""\b\t\n\f\r""#)
        #expect(canonical(.string("\"\\/")) == #""\"\\/""#)
        #expect(canonical(.string("\u{2028}\u{2029}é😀")) == "\"\u{2028}\u{2029}é😀\"")
        // No Unicode normalisation.
        #expect(canonical(.string("e\u{301}")).unicodeScalars.count == 4)
    }

    @Test func utf16OrderMatchesComparingUTF16CodeUnits() {
        var rng = SeededRNG(seed: 16)
        for _ in 0..<20_000 {
            let a = Self.randomString(&rng, maxLength: 4)
            let b = Bool.random(using: &rng) ? a + Self.randomString(&rng, maxLength: 2) : Self.randomString(&rng, maxLength: 4)
            let expected = a.utf16.lexicographicallyPrecedes(b.utf16)
            #expect(UTF16Order.less(a, b) == expected, "\(a.unicodeScalars.map(\.value)) \(b.unicodeScalars.map(\.value))")
            #expect(UTF16Order.less(b, a) == b.utf16.lexicographicallyPrecedes(a.utf16))
        }
        // The case Swift's `<` and UTF-8 order get wrong.
        #expect(UTF16Order.less("\u{1F600}", "\u{E000}"))
        #expect(UTF16Order.less("\u{10000}", "\u{FFFF}"))
        #expect(!UTF16Order.less("\u{E000}", "\u{1F600}"))
        #expect(UTF16Order.less("\u{D7FF}", "\u{10000}"))
    }

    @Test func membersAreSortedByUTF16CodeUnits() {
        let value = FieldValue.object([
            (key: "\u{E000}", value: .number(1)), (key: "\u{1F600}", value: .number(2)),
            (key: "b", value: .number(3)), (key: "", value: .number(4)), (key: "a", value: .number(5)),
            (key: "ab", value: .number(6)),
        ])
        #expect(canonical(value) == "{\"\":4,\"a\":5,\"ab\":6,\"b\":3,\"\u{1F600}\":2,\"\u{E000}\":1}")
    }
}

// MARK: - Parser

@Suite struct CanonicalJSONParser {
    struct Rejection: Sendable, CustomTestStringConvertible {
        let input: [UInt8]
        let reason: String
        let offset: Int
        init(_ text: String, _ reason: String, at offset: Int) {
            self.init(Array(text.utf8), reason, at: offset)
        }
        init(_ bytes: [UInt8], _ reason: String, at offset: Int) {
            input = bytes
            self.reason = reason
            self.offset = offset
        }
        var testDescription: String { String(decoding: input.prefix(40), as: UTF8.self).debugDescription }
    }

    static let rejections: [Rejection] = [
        .init("[1,2,]", "trailing comma in array", at: 5),
        .init(#"{"a":1,}"#, "trailing comma in object", at: 7),
        .init("[1,,2]", "expected a value, found ','", at: 3),
        .init("01", "leading zeros are not allowed", at: 0),
        .init("-01", "leading zeros are not allowed", at: 0),
        .init("[00]", "leading zeros are not allowed", at: 1),
        .init("+1", "must not start with '+'", at: 0),
        .init(".5", "must start with a digit", at: 0),
        .init("1.", "expected a digit after the decimal point", at: 2),
        .init("1.e5", "expected a digit after the decimal point", at: 2),
        .init("1e", "expected a digit in the exponent", at: 2),
        .init("1e+", "expected a digit in the exponent", at: 3),
        .init("-", "expected a digit after '-'", at: 1),
        .init("0x10", "unexpected 'x' in number", at: 1),
        .init("1.5.3", "unexpected '.' in number", at: 3),
        .init(#""\ud800""#, #"unpaired surrogate \ud800"#, at: 1),
        .init(#""\udc00""#, #"unpaired surrogate \udc00"#, at: 1),
        .init(#""\ud800\u0041""#, #"unpaired surrogate \ud800"#, at: 1),
        .init(#""\ud800x""#, #"unpaired surrogate \ud800"#, at: 1),
        .init(#""a\uDBFF\uDBFF""#, #"unpaired surrogate \udbff"#, at: 2),
        .init(#"{"a":1,"a":2}"#, #"duplicate member name "a""#, at: 7),
        .init(#"{"a\n":1,"b":{},"a\u000a":2}"#, #"duplicate member name "a\n""#, at: 16),
        .init("\"a\nb\"", "control character U+000A must be escaped", at: 2),
        .init("\"\t\"", "control character U+0009 must be escaped", at: 1),
        .init([0x22, 0x00, 0x22], "control character U+0000 must be escaped", at: 1),
        .init([0x22, 0xFF, 0x22], "invalid UTF-8 (byte 0xff)", at: 1),
        .init([0x22, 0x80, 0x22], "invalid UTF-8 (byte 0x80)", at: 1),
        .init([0x22, 0xC0, 0x80, 0x22], "invalid UTF-8 (byte 0xc0)", at: 1),  // overlong NUL
        .init([0x22, 0xE0, 0x80, 0xAF, 0x22], "invalid UTF-8 (byte 0x80)", at: 2),  // overlong '/'
        .init([0x22, 0xED, 0xA0, 0x80, 0x22], "invalid UTF-8 (byte 0xa0)", at: 2),  // encoded U+D800
        .init([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalid UTF-8 (byte 0x90)", at: 2),  // U+110000
        .init([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], "invalid UTF-8 (byte 0xf5)", at: 1),
        .init([0x22, 0xE2, 0x82, 0x22], "invalid UTF-8 (byte 0x22)", at: 3),  // truncated €
        .init([0x22, 0xE2, 0x82], "invalid UTF-8 (truncated sequence)", at: 1),
        .init([0x5C, 0x22, 0xE2, 0x22], "expected a value, found '\\'", at: 0),
        .init([0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22], "invalid UTF-8 (byte 0x28)", at: 4),  // in the escape path
        .init([0xEF, 0xBB, 0xBF] + Array("{}".utf8), "a byte order mark is not allowed", at: 0),
        .init([0xC3, 0xA9], "expected a value, found byte 0xc3", at: 0),
        .init("NaN", "NaN and Infinity are not JSON numbers", at: 0),
        .init("Infinity", "NaN and Infinity are not JSON numbers", at: 0),
        .init("[-Infinity]", "NaN and Infinity are not JSON numbers", at: 1),
        .init("1e400", "number 1e400 is out of the range of a double", at: 0),
        .init("[-1.5e309]", "number -1.5e309 is out of the range of a double", at: 1),
        .init(String(repeating: "9", count: 400), "out of the range of a double", at: 0),
        .init(String(repeating: "[", count: 129) + String(repeating: "]", count: 129),
              "nesting is deeper than 128 levels", at: 128),
        .init(String(repeating: #"{"a":"#, count: 128) + "[]" + String(repeating: "}", count: 128),
              "nesting is deeper than 128 levels", at: 640),
        .init("{} x", "unexpected 'x' after the JSON value", at: 3),
        .init("1 2", "unexpected '2' after the JSON value", at: 2),
        .init("[1]]", "unexpected ']' after the JSON value", at: 3),
        .init("null\u{0}", "unexpected byte 0x00 after the JSON value", at: 4),
        .init("", "the document is empty", at: 0),
        .init(" \r\n\t", "the document is empty", at: 4),
        .init("[1 2]", "expected ',' or ']' in array, found '2'", at: 3),
        .init("[1", "unexpected end of input in array", at: 2),
        .init(#"{"a" 1}"#, "expected ':' after member name, found '1'", at: 5),
        .init(#"{"a":1 "b":2}"#, "expected ',' or '}' in object, found '\"'", at: 7),
        .init("{a:1}", "expected a member name string, found 'a'", at: 1),
        .init("{", "unexpected end of input in object", at: 1),
        .init(#"{"a":"#, "unexpected end of input, expected a value", at: 5),
        .init("tru", "invalid literal, expected 'true'", at: 0),
        .init("truex", "invalid literal, expected 'true'", at: 0),
        .init("nul", "invalid literal, expected 'null'", at: 0),
        .init("False", "expected a value, found 'F'", at: 0),
        .init("'a'", "expected a value, found '''", at: 0),
        .init(#""\x""#, #"invalid escape sequence '\x'"#, at: 1),
        .init(#""\U0041""#, #"invalid escape sequence '\U'"#, at: 1),
        .init(#""\u12G4""#, #"\u must be followed by four hex digits"#, at: 1),
        .init(#""\u12"#, #"\u must be followed by four hex digits"#, at: 1),
        .init(#""abc"#, "unterminated string", at: 0),
        .init(#""a\"#, "unterminated escape sequence", at: 2),
        .init(#""a\n"#, "unterminated string", at: 0),
        .init([0x0C, 0x31], "expected a value, found byte 0x0c", at: 0),  // form feed is not whitespace
        .init([0xC2, 0xA0, 0x31], "expected a value, found byte 0xc2", at: 0),  // nor is NBSP
    ]

    @Test(arguments: rejections)
    func rejects(_ r: Rejection) {
        let error = #expect(throws: FormatError.self) { try JSONDocument.parse(r.input) }
        guard case .invalidJSON(let why, let offset)? = error else {
            Issue.record("not invalidJSON: \(String(describing: error))")
            return
        }
        #expect(why.contains(r.reason), "\(why)")
        #expect(offset == r.offset)
        // The message, as the CLI shows it.
        #expect(error?.description == "malformed JSON: at byte \(r.offset): \(why)")
    }

    @Test func acceptsEveryEscapeAndWhitespace() throws {
        let json = " \t\n\r{ \"a\" : [ 1 , \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u00e9\\uD83D\\uDE00\\uffff\" , { } , [ ] ] } \r\n"
        let value = try JSONDocument.parse(json)
        #expect(value == .object([(key: "a", value: .array([
            .number(1), .string("\"\\/\u{8}\u{C}\n\r\t\u{0}é😀\u{FFFF}"), .object([]), .array([]),
        ]))]))
        #expect(canonical(value) == "{\"a\":[1,\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0000é😀\u{FFFF}\",{},[]]}")
    }

    @Test func acceptsAnyTopLevelValue() throws {
        #expect(try JSONDocument.parse("true") == .bool(true))
        #expect(try JSONDocument.parse(" false ") == .bool(false))
        #expect(try JSONDocument.parse("null") == .null)
        #expect(try JSONDocument.parse(#""x""#) == .string("x"))
        #expect(try JSONDocument.parse("42") == .number(42))
        #expect(try JSONDocument.parse(Array("-0".utf8)).canonicalJSON == Array("0".utf8))
    }

    @Test func acceptsRawUTF8OfEveryLength() throws {
        let s = "aé€😀\u{10FFFF}\u{FFFF}\u{E000}"
        #expect(try JSONDocument.parse("\"\(s)\"") == .string(s))
        #expect(try JSONDocument.parse("\"\\n\(s)\"") == .string("\n" + s))
    }

    @Test func depthLimitIs128() throws {
        let deepest = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        let value = try JSONDocument.parse(deepest)
        #expect(canonical(value) == deepest)
        #expect(JSONDocument.maximumDepth == 128)
        let objects = String(repeating: #"{"a":"#, count: 127) + "[]" + String(repeating: "}", count: 127)
        #expect(try canonical(JSONDocument.parse(objects)) == objects)
    }

    @Test func namesDifferingOnlyInNormalisationAreDistinct() throws {
        // "\u00e9" and "e\u0301" are canonically equivalent in Swift but different JSON names.
        let value = try JSONDocument.parse(#"{"\u00e9":1,"e\u0301":2}"#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.count == 2)
        #expect(canonical(value) == "{\"e\u{301}\":2,\"\u{E9}\":1}")
        // Also past the linear-scan threshold.
        var many = (0..<40).map { #""k\#($0)":\#($0)"# }
        many.append(#""\u00e9":1"#)
        many.append(#""e\u0301":2"#)
        #expect(throws: Never.self) { try JSONDocument.parse("{" + many.joined(separator: ",") + "}") }
    }

    @Test func duplicatesAreFoundInLargeObjects() {
        var members = (0..<40).map { #""k\#($0)":\#($0)"# }
        members.append(#""k7":0"#)
        let json = "{" + members.joined(separator: ",") + "}"
        let offset = json.utf8.count - #""k7":0}"#.utf8.count
        #expect(throws: FormatError.invalidJSON(#"duplicate member name "k7""#, offset: offset)) {
            try JSONDocument.parse(json)
        }
    }
}

// MARK: - Properties

@Suite struct CanonicalJSONProperties {
    static func randomValue(_ rng: inout SeededRNG, depth: Int = 0) -> FieldValue {
        let leafOnly = depth >= 4
        switch Int.random(in: 0...(leafOnly ? 5 : 7), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .string(CanonicalJSONStrings.randomString(&rng))
        case 3: return .number(Double(Int32.random(in: .min ... .max, using: &rng)))
        case 4:
            var d: Double
            repeat { d = Double(bitPattern: rng.next()) } while !d.isFinite
            return .number(d == 0 ? 0 : d)  // −0 canonicalises to 0, which parses as +0
        case 5: return .number(Double(Int.random(in: -99_999...99_999, using: &rng)) / 100)
        case 6: return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var seen = Set<[UInt8]>()
            var members: [(key: String, value: FieldValue)] = []
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                let key = CanonicalJSONStrings.randomString(&rng, maxLength: 3)
                guard seen.insert(Array(key.utf8)).inserted else { continue }
                members.append((key: key, value: randomValue(&rng, depth: depth + 1)))
            }
            return .object(members)
        }
    }

    /// `value` with every object's members in RFC 8785 order: what parsing its canonical form gives.
    static func sorted(_ value: FieldValue) -> FieldValue {
        switch value {
        case .array(let items): return .array(items.map(sorted))
        case .object(let members):
            return .object(members.sorted { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
                .map { (key: $0.key, value: sorted($0.value)) })
        default: return value
        }
    }

    /// Exact equality: string by string UTF-8 bytes (FieldValue's `==` uses Swift's
    /// canonical equivalence), numbers by bit pattern.
    static func identical(_ a: FieldValue, _ b: FieldValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x.bitPattern == y.bitPattern
        case let (.string(x), .string(y)): return x.utf8.elementsEqual(y.utf8)
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { identical($0, $1) }
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && identical($0.value, $1.value) }
        default: return false
        }
    }

    @Test func parsingTheCanonicalFormGivesTheValueBack() throws {
        var rng = SeededRNG(seed: 2020)
        for _ in 0..<3_000 {
            let value = Self.randomValue(&rng)
            let bytes = value.canonicalJSON
            let back = try JSONDocument.parse(bytes)
            #expect(back == Self.sorted(value))
            #expect(Self.identical(back, Self.sorted(value)), "\(text(bytes))")
            // Canonicalisation is idempotent.
            #expect(back.canonicalJSON == bytes)
            #expect(try FieldValue.canonicalJSON(of: bytes) == bytes)
        }
    }

    /// `value` as JSON text with members in reverse order, random whitespace between tokens
    /// and random (but equivalent) escapes in strings.
    static func looseJSON(_ value: FieldValue, _ rng: inout SeededRNG) -> String {
        func ws(_ rng: inout SeededRNG) -> String {
            String((0..<Int.random(in: 0...2, using: &rng)).map { _ in [" ", "\t", "\r", "\n"].randomElement(using: &rng)! })
        }
        switch value {
        case .null, .bool: return value.jsonText
        case .number(let d): return d.description  // Swift's own layout, e.g. "1e-07", "2.0"
        case .string(let s): return looseString(s, &rng)
        case .array(let items):
            return "[" + ws(&rng) + items.map { looseJSON($0, &rng) + ws(&rng) }.joined(separator: "," + ws(&rng)) + "]"
        case .object(let members):
            return "{" + ws(&rng) + members.reversed().map { member in
                looseString(member.key, &rng) + ws(&rng) + ":" + ws(&rng) + looseJSON(member.value, &rng) + ws(&rng)
            }.joined(separator: "," + ws(&rng)) + "}"
        }
    }

    static func looseString(_ s: String, _ rng: inout SeededRNG) -> String {
        func u(_ unit: UInt16, _ rng: inout SeededRNG) -> String {
            let hex = String(unit, radix: 16, uppercase: Bool.random(using: &rng))
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
        var out = "\""
        for scalar in s.unicodeScalars {
            let escape = Bool.random(using: &rng)
            switch scalar {
            case "\"": out += escape ? "\\\"" : u(0x22, &rng)
            case "\\": out += escape ? "\\\\" : u(0x5C, &rng)
            case "/": out += escape ? "\\/" : "/"
            case "\n": out += escape ? "\\n" : u(0x0A, &rng)
            case "\u{0}"..."\u{1F}": out += u(UInt16(scalar.value), &rng)
            default:
                if !escape {
                    out.unicodeScalars.append(scalar)
                } else {
                    for unit in String(scalar).utf16 { out += u(unit, &rng) }
                }
            }
        }
        return out + "\""
    }

    @Test func canonicalFormIgnoresMemberOrderWhitespaceAndEscapes() throws {
        var rng = SeededRNG(seed: 99)
        for _ in 0..<2_000 {
            let value = Self.randomValue(&rng)
            let expected = value.canonicalJSON
            let loose = Self.looseJSON(value, &rng)
            #expect(try FieldValue.canonicalJSON(of: Array(loose.utf8)) == expected, "\(loose)")
            // The compact CLI form (keys in stored order) canonicalises the same way.
            #expect(try FieldValue.canonicalJSON(of: Array(value.jsonText.utf8)) == expected)
        }
    }
}

/// The form of a line of CLI output (`jsonLine`): ``FieldValue/jsonText`` with the characters
/// some readers split lines at escaped, and the same value when parsed back.
@Suite struct JSONLineOutput {
    @Test func lineSeparatorsAreEscapedInOutputOnly() throws {
        let value = FieldValue.object([("path", .string("a\u{2028}b\u{2029}c\u{85}d é \u{2027}\u{2030}")), ("n", .number(1)),
                                       ("list", .array([.string("\u{2028}")]))])
        let line = value.jsonLine
        #expect(line == #"{"path":"a\u2028b\u2029c\u0085d é ‧‰","n":1,"list":["\u2028"]}"#)
        #expect(try JSONDocument.parse(Array(line.utf8)) == JSONDocument.parse(Array(value.jsonText.utf8)))
        // The stored form (a vault's log lines, hashed) keeps them as RFC 8785 writes them.
        #expect(value.jsonText.unicodeScalars.contains("\u{2028}"))
        var out = Array("x".utf8)
        FieldValue.string("plain").appendJSONLine(to: &out)
        #expect(out == Array("x\"plain\"".utf8))
    }
}
