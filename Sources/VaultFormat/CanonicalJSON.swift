/// RFC 8785 JSON Canonicalization Scheme (JCS) serialisation of the JSON data model.
///
/// - No whitespace.
/// - Object members sorted by name, names compared as arrays of UTF-16 code units
///   (RFC 8785 §3.2.3). This differs from code point (and UTF-8 byte) order, and from Swift's
///   `String <`, when a character above U+FFFF is compared with one in U+E000–U+FFFF.
/// - Strings escaped as RFC 8785 §3.2.2.2 prescribes (the rule of ``JSONString``).
/// - Numbers written as ECMAScript's `Number.prototype.toString` does (RFC 8785 §3.2.2.3):
///   shortest round-trip digits, `-0` as `0`, exponent form below 1e-6 and from 1e21 up.
extension FieldValue {
    /// The RFC 8785 canonical form of this value as UTF-8 bytes.
    ///
    /// Precondition: every number is finite (the JSON data model has no NaN or Infinity;
    /// ``JSONDocument/parse(_:)`` never produces them).
    public var canonicalJSON: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        CanonicalWriter.write(self, into: &out)
        return out
    }

    /// The RFC 8785 canonical form of a JSON document: ``JSONDocument/parse(_:)``
    /// (strict I-JSON) followed by ``canonicalJSON``.
    public static func canonicalJSON(of bytes: [UInt8]) throws(FormatError) -> [UInt8] {
        let value = try JSONDocument.parse(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        CanonicalWriter.write(value, into: &out)
        return out
    }
}

extension JSONString {
    /// Appends the quoted, escaped UTF-8 form of `s` to `out`: byte for byte the same as
    /// ``append(_:to:)`` on a `String` produces, without going through `String`.
    public static func append(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendEscaped($0, to: &out) }
    }

    /// The quoted, escaped form of the valid UTF-8 text `utf8`: only `"`, `\` and
    /// U+0000–U+001F are escaped (`\b \f \n \r \t` by name, others as `\u00xx` with
    /// lowercase hex); every other byte is copied.
    static func appendEscaped<Out: ByteAppending & ~Copyable>(_ utf8: UnsafeBufferPointer<UInt8>, to out: inout Out) {
        out.append(0x22)
        appendEscapedContent(utf8, to: &out)
        out.append(0x22)
    }

    /// The escaped form of the UTF-8 text `utf8` without the quotes (as ``appendEscaped(_:to:)``
    /// writes it between them). Escaping is byte by byte, so a text may be given in pieces cut
    /// anywhere, even inside a character.
    static func appendEscapedContent<Out: ByteAppending & ~Copyable>(_ utf8: UnsafeBufferPointer<UInt8>, to out: inout Out) {
        appendEscapedContent(utf8, 0..<utf8.count, droppingCRBeforeLF: false, to: &out)
    }

    /// ``appendEscapedContent(_:to:)`` of `text[range]`, each CR that a LF follows in `text`
    /// (past the range's end too) left out: a record's body, CRLF → LF, in pieces.
    static func appendEscapedBody<Out: ByteAppending & ~Copyable>(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, to out: inout Out) {
        appendEscapedContent(text, range, droppingCRBeforeLF: true, to: &out)
    }

    private static func appendEscapedContent<Out: ByteAppending & ~Copyable>(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                                                                           droppingCRBeforeLF: Bool, to out: inout Out) {
        // Copy runs that need no escaping in one go.
        var runStart = range.lowerBound
        var i = range.lowerBound
        let count = range.upperBound
        guard let base = text.baseAddress else { return }
        while i < count {
            // Skip eight bytes at a time while none of them is `"`, `\` or below 0x20, then go
            // straight to the first that is (exact SWAR tests: the lowest flagged byte is one).
            while count - i >= 8 {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
                let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
                let flags = (((word &- ones &* 0x20) & ~word)
                    | ((quote &- ones) & ~quote)
                    | ((backslash &- ones) & ~backslash)) & highs
                if flags != 0 {
                    i += flags.trailingZeroBitCount >> 3
                    break
                }
                i += 8
            }
            guard i < count else { break }
            let b = base[i]
            if b >= 0x20 && b != 0x22 && b != 0x5C {
                i += 1
                continue
            }
            if runStart < i { out.append(bytes: UnsafeBufferPointer(start: base + runStart, count: i - runStart)) }
            i += 1
            runStart = i
            if droppingCRBeforeLF && b == 0x0D && i < text.count && base[i] == 0x0A { continue }
            switch b {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            default:
                // \u00xx with lowercase hex.
                let hex: StaticString = "0123456789abcdef"
                let high = hex.utf8Start[Int(b >> 4)], low = hex.utf8Start[Int(b & 0xF)]
                out.append(0x5C)
                out.append(UInt8(ascii: "u"))
                out.append(UInt8(ascii: "0"))
                out.append(UInt8(ascii: "0"))
                out.append(high)
                out.append(low)
            }
        }
        if runStart < count { out.append(bytes: UnsafeBufferPointer(start: base + runStart, count: count - runStart)) }
    }
}

/// Where the writers of this file append bytes: an array, or the ``RawBytes`` of a hot path.
protocol ByteAppending: ~Copyable {
    mutating func append(_ byte: UInt8)
    mutating func append(bytes: UnsafeBufferPointer<UInt8>)
}

extension Array: ByteAppending where Element == UInt8 {
    @inline(__always) mutating func append(bytes: UnsafeBufferPointer<UInt8>) { append(contentsOf: bytes) }
}

/// A growable byte buffer for the writers on `avault verify`'s hot path: an append is a bounds
/// check and a store or a copy, without an array's uniqueness checks. Not copyable, so that
/// one owner frees it, once.
struct RawBytes: ~Copyable, ByteAppending {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The bytes written (valid until the next change).
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// The bytes written, as an array.
    var array: [UInt8] { Array(bytes) }

    @inline(__always) mutating func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always) mutating func append(bytes: UnsafeBufferPointer<UInt8>) {
        let n = bytes.count
        guard n > 0, let source = bytes.baseAddress else { return }
        if n > capacity - count { grow(to: count + n) }
        Self.copy(source, to: base + count, n)
        count += n
    }

    /// Appends `"name":`: a member's name that JSON does not escape, quoted, and its colon.
    @inline(__always) mutating func appendQuotedName(_ name: UnsafeBufferPointer<UInt8>) {
        let n = name.count
        if n + 3 > capacity - count { grow(to: count + n + 3) }
        base[count] = 0x22
        if let source = name.baseAddress, n > 0 { Self.copy(source, to: base + count + 1, n) }
        base[count + n + 1] = 0x22
        base[count + n + 2] = 0x3A
        count += n + 3
    }

    /// Copies `n` bytes (n > 0); short copies with two overlapping loads and stores, not a call.
    @inline(__always) private static func copy(_ source: UnsafePointer<UInt8>, to destination: UnsafeMutablePointer<UInt8>, _ n: Int) {
        let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(destination)
        switch n {
        case 8...16:
            let head = from.loadUnaligned(as: UInt64.self), tail = from.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            to.storeBytes(of: head, as: UInt64.self)
            to.storeBytes(of: tail, toByteOffset: n - 8, as: UInt64.self)
        case 4..<8:
            let head = from.loadUnaligned(as: UInt32.self), tail = from.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            to.storeBytes(of: head, as: UInt32.self)
            to.storeBytes(of: tail, toByteOffset: n - 4, as: UInt32.self)
        case 1..<4:
            destination[0] = source[0]
            destination[n / 2] = source[n / 2]
            destination[n - 1] = source[n - 1]
        default:
            destination.initialize(from: source, count: n)
        }
    }

    /// Appends `count` bytes from offset `from` of this buffer (a range before `count`).
    mutating func append(from: Int, count n: Int) {
        precondition(from >= 0 && n >= 0 && from + n <= count)
        if n > capacity - count { grow(to: count + n) }
        (base + count).initialize(from: base + from, count: n)
        count += n
    }

    /// Drops everything from offset `index` on.
    mutating func truncate(to index: Int) {
        precondition(index >= 0 && index <= count)
        count = index
    }

    @inline(never) private mutating func grow(to needed: Int) {
        let newCapacity = max(needed, 2 * capacity)
        let new = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        new.initialize(from: base, count: count)
        base.deallocate()
        base = new
        capacity = newCapacity
    }
}

/// The serialiser behind ``FieldValue/canonicalJSON``.
enum CanonicalWriter {
    static func write(_ value: FieldValue, into out: inout [UInt8]) {
        switch value {
        case .null: appendASCII("null", to: &out)
        case .bool(let b): appendASCII(b ? "true" : "false", to: &out)
        case .number(let d): ECMAScriptNumber.append(d, to: &out)
        case .string(let s): JSONString.append(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            var first = true
            for item in items {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            writeObject(members, into: &out)
        }
    }

    @inline(__always) private static func appendASCII(_ s: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Where one member name sits in the name arena, and which member it names.
    private struct Name {
        var start: Int
        var count: Int
        var member: Int
    }

    /// Writes an object with its members in RFC 8785 order. The names' UTF-8 is first copied
    /// into one buffer so that sorting compares bytes in place, with no reference counting.
    private static func writeObject(_ members: [(key: String, value: FieldValue)], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        defer { out.append(UInt8(ascii: "}")) }
        if members.count == 1 {
            JSONString.append(members[0].key, to: &out)
            out.append(UInt8(ascii: ":"))
            write(members[0].value, into: &out)
            return
        }
        if members.isEmpty { return }
        var arenaSize = 0
        for member in members { arenaSize += member.key.utf8.count }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(arenaSize, 1)) { arena in
            withUnsafeTemporaryAllocation(of: Name.self, capacity: members.count) { names in
                var offset = 0
                for (i, member) in members.enumerated() {
                    var key = member.key
                    let count = key.withUTF8 { utf8 in
                        if let src = utf8.baseAddress {
                            (arena.baseAddress! + offset).initialize(from: src, count: utf8.count)
                        }
                        return utf8.count
                    }
                    names.initializeElement(at: i, to: Name(start: offset, count: count, member: i))
                    offset += count
                }
                let base = UnsafePointer(arena.baseAddress!)
                func bytes(_ n: Name) -> UnsafeBufferPointer<UInt8> {
                    UnsafeBufferPointer(start: base + n.start, count: n.count)
                }
                var sorted = UnsafeMutableBufferPointer(rebasing: names[..<members.count])
                sorted.sort { UTF16Order.less(bytes($0), bytes($1)) }
                for (position, name) in sorted.enumerated() {
                    if position > 0 { out.append(UInt8(ascii: ",")) }
                    JSONString.appendEscaped(bytes(name), to: &out)
                    out.append(UInt8(ascii: ":"))
                    write(members[name.member].value, into: &out)
                }
                // UInt8 and Name are trivial: nothing to deinitialise.
            }
        }
    }
}

/// Ordering of strings as arrays of UTF-16 code units (RFC 8785 §3.2.3), computed from UTF-8.
public enum UTF16Order {
    /// Whether `a` sorts before `b` when both are compared as arrays of UTF-16 code units.
    ///
    /// UTF-8 byte order is code point order, which agrees with UTF-16 code unit order except
    /// that a supplementary character (U+10000 and up; UTF-16 surrogates D800–DFFF; UTF-8 lead
    /// byte F0–F4) sorts *before* U+E000–U+FFFF (UTF-8 lead byte EE or EF) in UTF-16. Since two
    /// strings agree up to their first differing byte, both differing bytes are lead bytes or
    /// both are continuation bytes; only a pair of lead bytes can need the correction.
    public static func less(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { pa in b.withUTF8 { pb in less(pa, pb) } }
    }

    static func less(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = min(a.count, b.count)
        var i = 0
        while i < n {
            let x = a[i], y = b[i]
            if x != y {
                if x >= 0xF0 && (y == 0xEE || y == 0xEF) { return true }
                if y >= 0xF0 && (x == 0xEE || x == 0xEF) { return false }
                return x < y
            }
            i += 1
        }
        return a.count < b.count
    }
}

/// ECMAScript `Number.prototype.toString` for finite doubles (ECMA-262 Number::toString,
/// radix 10), as RFC 8785 §3.2.2.3 requires.
enum ECMAScriptNumber {
    /// 10^0 … 10^19.
    private static let powersOfTen: [UInt64] = {
        var p: [UInt64] = [1]
        for _ in 1...19 { p.append(p.last! &* 10) }
        return p
    }()

    static func append<Out: ByteAppending & ~Copyable>(_ d: Double, to out: inout Out) {
        precondition(d.isFinite, "RFC 8785 has no representation for NaN or Infinity")
        if d == 0 {  // +0 and -0
            out.append(UInt8(ascii: "0"))
            return
        }
        // Integers below 2^53 in magnitude: the decimal integer itself is the shortest
        // round-trip form and ECMAScript writes it without exponent.
        if d.magnitude < 9_007_199_254_740_992, d == d.rounded(.towardZero) {
            if d < 0 { out.append(UInt8(ascii: "-")) }
            // The digits, last first, into a small buffer (at most 16 of them), then out.
            var m = UInt64(d.magnitude)
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
                var i = 20
                repeat {
                    i -= 1
                    digits[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: m % 10)
                    m /= 10
                } while m > 0
                out.append(bytes: UnsafeBufferPointer(rebasing: digits[i...]))
            }
            return
        }

        // Shortest round-trip digits from the standard library (SwiftDtoa), which yields the
        // shortest digit string that parses back to `d`, the closest to `d` when several do.
        // Its layout ("1.5e-07", "0.001", "123.0") is reparsed into digits s (k of them) and
        // the exponent n such that the value is 0.s × 10^n.
        var significand: UInt64 = 0
        var k = 0  // significant digits in `significand`
        var digitsSeen = 0
        var leadingZeros = 0
        var pointPosition = -1
        var exponent = 0
        var exponentNegative = false
        var inExponent = false
        for c in d.description.utf8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = UInt64(c &- UInt8(ascii: "0"))
                if inExponent {
                    exponent = exponent * 10 + Int(digit)
                } else {
                    if k == 0 && digit == 0 {
                        leadingZeros += 1
                    } else {
                        significand = significand * 10 + digit
                        k += 1
                    }
                    digitsSeen += 1
                }
            case UInt8(ascii: "."): pointPosition = digitsSeen
            case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
            case UInt8(ascii: "-"): if inExponent { exponentNegative = true }
            default: break  // leading sign, "+" of the exponent
            }
        }
        while significand % 10 == 0 {
            significand /= 10
            k -= 1
        }
        let n = (pointPosition < 0 ? digitsSeen : pointPosition) + (exponentNegative ? -exponent : exponent) - leadingZeros

        if d < 0 { out.append(UInt8(ascii: "-")) }
        if k <= n && n <= 21 {
            // Digits followed by n−k zeros.
            appendDigits(significand, count: k, to: &out)
            for _ in 0..<(n - k) { out.append(UInt8(ascii: "0")) }
        } else if 0 < n && n <= 21 {
            // The first n digits, a point, the remaining k−n digits.
            let high = significand / powersOfTen[k - n]
            appendDigits(high, count: n, to: &out)
            out.append(UInt8(ascii: "."))
            appendDigits(significand - high * powersOfTen[k - n], count: k - n, to: &out)
        } else if -6 < n && n <= 0 {
            // "0." then −n zeros then the digits.
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "."))
            for _ in 0..<(-n) { out.append(UInt8(ascii: "0")) }
            appendDigits(significand, count: k, to: &out)
        } else {
            // d[.ddd]e±(n−1)
            let first = significand / powersOfTen[k - 1]
            out.append(UInt8(ascii: "0") &+ UInt8(first))
            if k > 1 {
                out.append(UInt8(ascii: "."))
                appendDigits(significand - first * powersOfTen[k - 1], count: k - 1, to: &out)
            }
            out.append(UInt8(ascii: "e"))
            let e = n - 1
            out.append(e < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            let magnitude = UInt64(e.magnitude)
            appendDigits(magnitude, count: digitCount(magnitude), to: &out)
        }
    }

    private static func digitCount(_ v: UInt64) -> Int {
        var count = 1
        while count < 20 && v >= powersOfTen[count] { count += 1 }
        return count
    }

    /// Appends `v` as exactly `count` decimal digits (with leading zeros if needed).
    private static func appendDigits<Out: ByteAppending & ~Copyable>(_ v: UInt64, count: Int, to out: inout Out) {
        var v = v
        var i = count - 1
        while i >= 0 {
            let p = powersOfTen[i]
            let digit = v / p
            out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: digit))
            v -= digit * p
            i -= 1
        }
    }
}
