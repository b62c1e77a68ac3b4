/// A strict JSON parser: RFC 8259 text, restricted to the I-JSON subset (RFC 7493) that
/// RFC 8785 canonicalisation requires.
///
/// What it accepts, exactly:
/// - UTF-8 text. Malformed UTF-8 (overlong forms, encoded surrogates, code points above
///   U+10FFFF, truncated sequences) is refused, and so is a leading byte order mark.
/// - Whitespace is only space, tab, line feed and carriage return.
/// - Exactly one value (any type, not only object or array), then only whitespace.
/// - Strings: every RFC 8259 escape. `\uXXXX` surrogates must form a high–low pair; a lone
///   surrogate is refused (I-JSON §2.1). Unescaped control characters (U+0000–U+001F) are
///   refused. Noncharacters such as U+FFFF are accepted: they have one canonical form, and the
///   RFC 8785 reference implementations accept them. Text is not normalised.
/// - Numbers: the RFC 8259 grammar only (no `+`, no leading zeros, no `.5`, no `1.`, no NaN or
///   Infinity), converted to the correctly rounded IEEE 754 double. A number whose magnitude
///   rounds to infinity (such as `1e400`) is refused; one that underflows becomes ±0.
/// - Objects: member names must be unique, compared code unit by code unit (not by Swift's
///   canonical-equivalence `==`: `"\u00e9"` and `"e\u0301"` are different names).
/// - Nesting: at most ``maximumDepth`` (128) arrays and objects deep; the 129th opening
///   bracket is refused. This bounds recursion on hostile input.
///
/// Every error is ``FormatError/invalidJSON(_:offset:)`` with the 0-based byte offset of the
/// offending byte (or of the start of the offending token) and a one-line reason.
public enum JSONDocument {
    /// How many arrays and objects may enclose one another: `[[1]]` has depth 2.
    public static let maximumDepth = 128

    /// Parses one JSON document from UTF-8 bytes.
    public static func parse(_ bytes: [UInt8]) throws(FormatError) -> FieldValue {
        do throws(JSONParser.Failure) {
            return try bytes.withUnsafeBufferPointer { buffer throws(JSONParser.Failure) -> FieldValue in
                var parser = JSONParser(buffer)
                return try parser.parseDocument()
            }
        } catch {
            throw FormatError.invalidJSON(error.reason, offset: error.offset)
        }
    }

    /// Parses one JSON document from a string's UTF-8 form.
    public static func parse(_ text: String) throws(FormatError) -> FieldValue {
        try parse(Array(text.utf8))
    }
}

/// The recursive-descent parser behind ``JSONDocument``. Works on raw bytes; never builds
/// strings character by character.
struct JSONParser {
    struct Failure: Error {
        let reason: String
        let offset: Int
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    /// Reused for strings that contain escapes.
    private var scratch: [UInt8] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    // MARK: Document

    mutating func parseDocument() throws(Failure) -> FieldValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            throw Failure(reason: "a byte order mark is not allowed", offset: 0)
        }
        skipWhitespace()
        if index == bytes.count {
            throw Failure(reason: "the document is empty", offset: index)
        }
        let value = try parseValue()
        skipWhitespace()
        if index != bytes.count {
            throw Failure(reason: "unexpected \(describe(at: index)) after the JSON value", offset: index)
        }
        return value
    }

    // MARK: Values

    private mutating func parseValue() throws(Failure) -> FieldValue {
        guard index < bytes.count else {
            throw Failure(reason: "unexpected end of input, expected a value", offset: index)
        }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw Failure(reason: "NaN and Infinity are not JSON numbers", offset: index)
        case UInt8(ascii: "+"):
            throw Failure(reason: "a number must not start with '+'", offset: index)
        case UInt8(ascii: "."):
            throw Failure(reason: "a number must start with a digit, not '.'", offset: index)
        default:
            throw Failure(reason: "expected a value, found \(describe(at: index))", offset: index)
        }
    }

    private mutating func expectLiteral(_ word: StaticString) throws(Failure) {
        let start = index
        let count = word.utf8CodeUnitCount
        let matches = word.withUTF8Buffer { w in
            guard bytes.count - start >= w.count else { return false }
            for i in 0..<w.count where bytes[start + i] != w[i] { return false }
            return true
        }
        guard matches else {
            throw Failure(reason: "invalid literal, expected '\(word)'", offset: start)
        }
        index += count
        // "truex", "nullnull": the literal must end at a delimiter.
        if index < bytes.count, Self.isIdentifierByte(bytes[index]) {
            throw Failure(reason: "invalid literal, expected '\(word)'", offset: start)
        }
    }

    private static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_") || b >= 0x80
    }

    // MARK: Containers

    private mutating func enter() throws(Failure) {
        depth += 1
        if depth > JSONDocument.maximumDepth {
            throw Failure(reason: "nesting is deeper than \(JSONDocument.maximumDepth) levels", offset: index)
        }
    }

    private mutating func parseArray() throws(Failure) -> FieldValue {
        try enter()
        index += 1  // [
        var items: [FieldValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                throw Failure(reason: "trailing comma in array", offset: index)
            }
            items.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else {
                throw Failure(reason: "unexpected end of input in array, expected ',' or ']'", offset: index)
            }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(items)
            default:
                throw Failure(reason: "expected ',' or ']' in array, found \(describe(at: index))", offset: index)
            }
        }
    }

    private mutating func parseObject() throws(Failure) -> FieldValue {
        try enter()
        index += 1  // {
        var members: [(key: String, value: FieldValue)] = []
        var seen = KeySet()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else {
                throw Failure(reason: "unexpected end of input in object, expected a member name", offset: index)
            }
            if bytes[index] != UInt8(ascii: "\"") {
                if bytes[index] == UInt8(ascii: "}") {
                    throw Failure(reason: "trailing comma in object", offset: index)
                }
                throw Failure(reason: "expected a member name string, found \(describe(at: index))", offset: index)
            }
            let keyOffset = index
            let key = try parseString()
            if !seen.insert(key, existing: members) {
                var quoted = ""
                JSONString.append(key, to: &quoted)
                throw Failure(reason: "duplicate member name \(quoted)", offset: keyOffset)
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw Failure(
                    reason: index < bytes.count
                        ? "expected ':' after member name, found \(describe(at: index))"
                        : "unexpected end of input in object, expected ':'",
                    offset: index)
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append((key: key, value: value))
            skipWhitespace()
            guard index < bytes.count else {
                throw Failure(reason: "unexpected end of input in object, expected ',' or '}'", offset: index)
            }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(members)
            default:
                throw Failure(reason: "expected ',' or '}' in object, found \(describe(at: index))", offset: index)
            }
        }
    }

    // MARK: Strings

    /// Parses a string starting at its opening quote; leaves `index` after the closing quote.
    private mutating func parseString() throws(Failure) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes. Validate UTF-8 and control characters in place.
        while index < bytes.count {
            index = Self.skipPlainASCII(bytes, from: index)
            guard index < bytes.count else { break }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw controlCharacter(b) }
            if b < 0x80 { index += 1 } else { try skipUTF8Sequence() }
        }
        guard index < bytes.count else {
            throw Failure(reason: "unterminated string", offset: start - 1)
        }
        // Slow path: copy what was scanned, then decode escapes into the scratch buffer.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") {
                try parseEscape()
            } else if b < 0x20 {
                throw controlCharacter(b)
            } else if b < 0x80 {
                scratch.append(b)
                index += 1
            } else {
                let from = index
                try skipUTF8Sequence()
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[from..<index]))
            }
        }
        throw Failure(reason: "unterminated string", offset: start - 1)
    }

    /// The first index at or after `from` where an eight-byte word holds a byte that is not
    /// plain string content (`"`, `\`, below 0x20, or non-ASCII); a word-at-a-time skip only,
    /// the caller examines the bytes from the returned index one by one.
    @inline(__always)
    private static func skipPlainASCII(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        guard let base = bytes.baseAddress else { return from }
        var i = from
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        while bytes.count - i >= 8 {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            let flags = word  // any non-ASCII byte
                | ((word &- ones &* 0x20) & ~word)  // any byte below 0x20
                | ((quote &- ones) & ~quote)  // any '"'
                | ((backslash &- ones) & ~backslash)  // any '\'
            if flags & highs != 0 { break }
            i += 8
        }
        return i
    }

    private func controlCharacter(_ b: UInt8) -> Failure {
        Failure(reason: "control character U+\(hex4(UInt32(b))) must be escaped in a string", offset: index)
    }

    /// Decodes one escape at `index` (the backslash) into `scratch`.
    private mutating func parseEscape() throws(Failure) {
        let escapeStart = index
        guard index + 1 < bytes.count else {
            throw Failure(reason: "unterminated escape sequence", offset: escapeStart)
        }
        let c = bytes[index + 1]
        index += 2
        switch c {
        case UInt8(ascii: "\""): scratch.append(0x22)
        case UInt8(ascii: "\\"): scratch.append(0x5C)
        case UInt8(ascii: "/"): scratch.append(0x2F)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try parseHex4(escapeStart: escapeStart)
            var scalar = unit
            if unit >= 0xD800 && unit <= 0xDBFF {
                // A high surrogate must be followed at once by an escaped low surrogate.
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else {
                    throw Failure(reason: "unpaired surrogate \\u\(hex4(unit).lowercased())", offset: escapeStart)
                }
                let lowStart = index
                index += 2
                let low = try parseHex4(escapeStart: lowStart)
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw Failure(reason: "unpaired surrogate \\u\(hex4(unit).lowercased())", offset: escapeStart)
                }
                scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw Failure(reason: "unpaired surrogate \\u\(hex4(unit).lowercased())", offset: escapeStart)
            }
            appendUTF8(scalar)
        default:
            throw Failure(reason: "invalid escape sequence '\\\(Self.printable(c))'", offset: escapeStart)
        }
    }

    private mutating func parseHex4(escapeStart: Int) throws(Failure) -> UInt32 {
        guard bytes.count - index >= 4 else {
            throw Failure(reason: "\\u must be followed by four hex digits", offset: escapeStart)
        }
        var value: UInt32 = 0
        for i in 0..<4 {
            let b = bytes[index + i]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b &- UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b &- UInt8(ascii: "a") &+ 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b &- UInt8(ascii: "A") &+ 10)
            default: throw Failure(reason: "\\u must be followed by four hex digits", offset: escapeStart)
            }
            value = value << 4 | digit
        }
        index += 4
        return value
    }

    private mutating func appendUTF8(_ v: UInt32) {
        switch v {
        case 0..<0x80:
            scratch.append(UInt8(v))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | v >> 6))
            scratch.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | v >> 12))
            scratch.append(UInt8(0x80 | v >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | v & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | v >> 18))
            scratch.append(UInt8(0x80 | v >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | v >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | v & 0x3F))
        }
    }

    /// Validates one multi-byte UTF-8 sequence at `index` (RFC 3629 §4) and steps over it.
    private mutating func skipUTF8Sequence() throws(Failure) {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF  // range of the second byte
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F  // not an encoded surrogate
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F  // not above U+10FFFF
        default:
            throw Failure(reason: "invalid UTF-8 (byte 0x\(hex2(lead)))", offset: index)
        }
        guard bytes.count - index >= length else {
            throw Failure(reason: "invalid UTF-8 (truncated sequence)", offset: index)
        }
        let second = bytes[index + 1]
        guard second >= low && second <= high else {
            throw Failure(reason: "invalid UTF-8 (byte 0x\(hex2(second)))", offset: index + 1)
        }
        var i = 2
        while i < length {
            let b = bytes[index + i]
            guard b & 0xC0 == 0x80 else {
                throw Failure(reason: "invalid UTF-8 (byte 0x\(hex2(b)))", offset: index + i)
            }
            i += 1
        }
        index += length
    }

    // MARK: Numbers

    /// Parses a number per the RFC 8259 grammar
    /// `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?` to the correctly rounded double.
    private mutating func parseNumber() throws(Failure) -> Double {
        let start = index
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
            guard index < bytes.count, Self.isDigit(bytes[index]) else {
                if index < bytes.count, bytes[index] == UInt8(ascii: "I") {
                    throw Failure(reason: "NaN and Infinity are not JSON numbers", offset: start)
                }
                throw Failure(reason: "expected a digit after '-'", offset: index)
            }
        }
        // Integer part; accumulate up to 19 significant digits for the fast path.
        var mantissa: UInt64 = 0
        var digits = 0  // significant digits accumulated in `mantissa`
        var exact = true  // false once a nonzero digit could not be accumulated
        var decimalExponent = 0
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, Self.isDigit(bytes[index]) {
                throw Failure(reason: "leading zeros are not allowed in numbers", offset: start)
            }
        } else {
            while index < bytes.count, Self.isDigit(bytes[index]) {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[index] &- 0x30)
                    digits += 1
                } else {
                    decimalExponent += 1
                    if bytes[index] != UInt8(ascii: "0") { exact = false }
                }
                index += 1
            }
        }
        var isSimpleInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isSimpleInteger = false
            index += 1
            guard index < bytes.count, Self.isDigit(bytes[index]) else {
                throw Failure(reason: "expected a digit after the decimal point", offset: index)
            }
            while index < bytes.count, Self.isDigit(bytes[index]) {
                if digits < 19 {
                    if mantissa != 0 || bytes[index] != UInt8(ascii: "0") {
                        mantissa = mantissa &* 10 &+ UInt64(bytes[index] &- 0x30)
                        digits += mantissa == 0 ? 0 : 1
                    }
                    decimalExponent -= 1
                } else if bytes[index] != UInt8(ascii: "0") {
                    exact = false
                }
                index += 1
            }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isSimpleInteger = false
            index += 1
            var exponentNegative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            guard index < bytes.count, Self.isDigit(bytes[index]) else {
                throw Failure(reason: "expected a digit in the exponent", offset: index)
            }
            var exponent = 0
            while index < bytes.count, Self.isDigit(bytes[index]) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[index] &- 0x30) }
                index += 1
            }
            decimalExponent += exponentNegative ? -exponent : exponent
        }
        if index < bytes.count, Self.isIdentifierByte(bytes[index]) || bytes[index] == UInt8(ascii: ".") {
            throw Failure(reason: "unexpected \(describe(at: index)) in number", offset: index)
        }

        // Fast paths (exact, hence correctly rounded):
        // an integer below 2^53, or (Clinger) a mantissa below 2^53 scaled by 10^e, |e| ≤ 22.
        if exact && mantissa < (1 << 53) {
            let m = Double(mantissa)
            if isSimpleInteger && decimalExponent == 0 { return negative ? -m : m }
            if decimalExponent >= 0 && decimalExponent <= 22 {
                let v = m * Self.powersOfTen[decimalExponent]
                if v.isFinite { return negative ? -v : v }
            } else if decimalExponent < 0 && decimalExponent >= -22 {
                let v = m / Self.powersOfTen[-decimalExponent]
                return negative ? -v : v
            }
        }
        // General case: the standard library's correctly rounded conversion.
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw Failure(reason: "number \(text) is out of the range of a double", offset: start)
        }
        return value
    }

    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    @inline(__always) private static func isDigit(_ b: UInt8) -> Bool {
        b &- UInt8(ascii: "0") < 10
    }

    // MARK: Helpers

    @inline(__always) private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// A short description of the byte at `offset` for messages: `'x'` or `byte 0xff`.
    private func describe(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let b = bytes[offset]
        if b > 0x20 && b < 0x7F { return "'\(Self.printable(b))'" }
        return "byte 0x\(hex2(b))"
    }

    private static func printable(_ b: UInt8) -> String {
        b > 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : "\\x\(hex2(b))"
    }
}

private func hex2(_ b: UInt8) -> String {
    let digits = String(b, radix: 16)
    return b < 0x10 ? "0" + digits : digits
}

private func hex4(_ v: UInt32) -> String {
    let digits = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

/// Member names seen so far in one object, compared by their UTF-8 bytes (so by code points,
/// never by Swift's canonical equivalence). Small objects are checked by a linear scan; larger
/// ones switch to a hash set.
private struct KeySet {
    private var set: Set<UTF8Key>? = nil

    /// Returns false when `key` is already a member of `existing` (the object's members so far).
    mutating func insert(_ key: String, existing: [(key: String, value: FieldValue)]) -> Bool {
        if set == nil {
            if existing.count < 16 {
                for member in existing where member.key.utf8.count == key.utf8.count {
                    if member.key.utf8.elementsEqual(key.utf8) { return false }
                }
                return true
            }
            set = Set(existing.map { UTF8Key($0.key) })
        }
        return set!.insert(UTF8Key(key)).inserted
    }
}

private struct UTF8Key: Hashable {
    let string: String
    init(_ string: String) { self.string = string }
    static func == (a: UTF8Key, b: UTF8Key) -> Bool { a.string.utf8.elementsEqual(b.string.utf8) }
    func hash(into hasher: inout Hasher) {
        var s = string
        s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
