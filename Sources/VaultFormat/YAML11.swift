// What YAML 1.1 readers make of a plain scalar, for refusing the front matter that they and a
// YAML 1.2 reader (ours) would read differently. The YAML 1.1 reader that matters is Ruby's
// Psych (Jekyll reads front matter with `YAML.safe_load`), so `Psych.tokenize` below follows
// Psych 4's `Psych::ScalarScanner#tokenize` (psych/scalar_scanner.rb) rule for rule; the rules
// of `YAML11.conflict` add what the YAML 1.1 specification resolves that Psych does not.
// Pure byte scans, no regular expressions: this runs for every plain scalar of `avault verify`.

/// What Psych 4's `ScalarScanner#tokenize` returns for the value of a plain scalar.
///
/// Only plain scalars go through `tokenize`: quoted and block (`|`, `>`) scalars are strings
/// to Psych. A Ruby regular expression's `^` and `$` match at every line, which is why a
/// multi-line value gets its own case.
enum PsychScalar: Equatable {
    /// A `String`, the scalar's own text.
    case string
    /// `nil`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An `Integer`; nil when beyond `Int64` (Ruby has big integers).
    case integer(Int64?)
    /// A `Float` (infinite or NaN included).
    case float(Double)
    /// An `Integer` or `Float` written in base 60 (`1:20`, `1:20.5`).
    case sexagesimal
    /// A `Time` of the same fields, or a `String` when they are out of range (`2023-04-28 25:00:00`).
    case time
    /// A `Time` of other fields: Ruby's `Time.utc` rolls a day past the month's end, hour 24
    /// and second 60 over (`2023-02-30 10:00:00` is March 2).
    case rolledOverTime
    /// A `Date`, or a `String` when there is no such day (`2023-02-30`).
    case date
    /// A `Symbol` (`:foo`).
    case symbol
    /// Spans lines and folds to at most five characters: Psych matches its null and boolean
    /// patterns line by line (`"y\nno"` is `false`).
    case perLine
    /// `tokenize` raises (`0x_`, `+.e+3`, a timestamp with a TAB before the time).
    case failure
}

enum Psych {
    /// Ruby's `\s`: space, TAB, LF, VT, FF, CR.
    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }

    /// What `tokenize` returns for the plain scalar whose value is `u` (UTF-8).
    static func tokenize(_ u: UnsafeRawBufferPointer) -> PsychScalar {
        let n = u.count
        guard n > 0 else { return .null }
        if u.contains(0x0A) {
            // `string.match?(/\n/)`: longer than five characters is a string; shorter goes
            // through the null and boolean patterns, anchored at each line.
            return unicodeScalarCount(u) > 5 ? .string : .perLine
        }
        let first = u[0]
        switch first {
        case 0x30...0x39, UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
            return number(u)
        case UInt8(ascii: ":"):
            return n >= 2 ? .symbol : .string // `/^:./`
        default:
            // Everything else either fails every later pattern (they all start with a digit,
            // a sign, a point or a colon) or takes the first branch, where only these words
            // (matched case-insensitively, Unicode folding included) are not strings.
            switch keyword(u) {
            case .null?, .tilde?: return .null
            case .yes?, .true?, .on?: return .bool(true)
            case .no?, .false?, .off?: return .bool(false)
            case .y?, .n?, nil: return .string
            }
        }
    }

    /// The words that `tokenize`, and the YAML 1.1 boolean type, read as something else than text.
    enum Keyword {
        case null, tilde, yes, no, on, off, `true`, `false`, y, n
    }

    /// The word `u` spells case-insensitively as Onigmo (Ruby's regular expressions) folds
    /// case, or nil. Besides ASCII, Onigmo folds U+017F (ſ) to `s` and U+FB00 (ﬀ) to `ff`:
    /// Psych reads `yeſ` as true and `oﬀ` as false. No other character folds into these words.
    static func keyword(_ u: UnsafeRawBufferPointer) -> Keyword? {
        let n = u.count
        guard n > 0, n <= 12 else { return nil }
        var packed: UInt64 = 0
        var length = 0
        var i = 0
        while i < n {
            let b = u[i]
            var width = 1
            let folded: (UInt8, UInt8?)
            if b < 0x80 {
                folded = (b &- 0x41 < 26 ? b | 0x20 : b, nil)
            } else if b == 0xC5, i + 1 < n, u[i + 1] == 0xBF {
                folded = (UInt8(ascii: "s"), nil); width = 2
            } else if b == 0xEF, i + 2 < n, u[i + 1] == 0xAC, u[i + 2] == 0x80 {
                folded = (UInt8(ascii: "f"), UInt8(ascii: "f")); width = 3
            } else {
                return nil
            }
            packed = packed << 8 | UInt64(folded.0)
            length += 1
            if let second = folded.1 { packed = packed << 8 | UInt64(second); length += 1 }
            guard length <= 5 else { return nil }
            i += width
        }
        // The packed lowercase bytes, first byte highest (no byte is zero, so words of
        // different lengths differ).
        switch packed {
        case 0x6E_75_6C_6C: return .null         // null
        case 0x7E: return .tilde                 // ~
        case 0x79_65_73: return .yes             // yes
        case 0x6E_6F: return .no                 // no
        case 0x6F_6E: return .on                 // on
        case 0x6F_66_66: return .off             // off
        case 0x74_72_75_65: return .true         // true
        case 0x66_61_6C_73_65: return .false     // false
        case 0x79: return .y                     // y
        case 0x6E: return .n                     // n
        default: return nil
        }
    }

    /// The number of Unicode scalars (Ruby's `String#length`) of valid UTF-8.
    static func unicodeScalarCount(_ u: UnsafeRawBufferPointer) -> Int {
        var count = 0
        for b in u where b & 0xC0 != 0x80 { count += 1 }
        return count
    }

    /// `tokenize` for a one-line scalar starting with a digit, a sign or a point: the TIME,
    /// date, `.inf`/`.nan`, base-60, FLOAT and INTEGER patterns, in Psych's order.
    private static func number(_ u: UnsafeRawBufferPointer) -> PsychScalar {
        if let time = timestamp(u) { return time }
        if isDate(u) { return .date }
        if let special = infinityOrNaN(u) { return .float(special) }
        if isSexagesimal(u) { return .sexagesimal }
        if let float = float(u) { return float }
        if let integer = integer(u) { return integer }
        return .string
    }

    /// TIME: `^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$`.
    /// `.failure` when a TAB (or another `\s` than a space) separates the date and the time:
    /// `parse_time` splits at `[ tT]` and then raises.
    private static func timestamp(_ u: UnsafeRawBufferPointer) -> PsychScalar? {
        let n = u.count
        var i = 0
        func digits(_ min: Int, _ max: Int) -> Bool {
            let start = i
            while i < n, i - start < max, isDigitByte(u[i]) { i += 1 }
            return i - start >= min
        }
        func byte(_ c: UInt8) -> Bool {
            guard i < n, u[i] == c else { return false }
            i += 1
            return true
        }
        func value(_ from: Int) -> Int { decimal(u[from..<i]) }
        _ = byte(UInt8(ascii: "-"))
        var start = i
        guard digits(4, 4) else { return nil }
        let year = value(start)
        guard byte(UInt8(ascii: "-")) else { return nil }
        start = i
        guard digits(1, 2) else { return nil }
        let month = value(start)
        guard byte(UInt8(ascii: "-")) else { return nil }
        start = i
        guard digits(1, 2), i < n else { return nil }
        let day = value(start)
        var separatorIsSpaces = true
        if u[i] == UInt8(ascii: "T") || u[i] == UInt8(ascii: "t") {
            i += 1
        } else {
            let start = i
            while i < n, isSpace(u[i]) {
                if u[i] != 0x20 { separatorIsSpaces = false }
                i += 1
            }
            guard i > start else { return nil }
        }
        start = i
        guard digits(1, 2) else { return nil }
        let hour = value(start)
        guard byte(UInt8(ascii: ":")), digits(2, 2), byte(UInt8(ascii: ":")) else { return nil }
        start = i
        guard digits(2, 2) else { return nil }
        let second = value(start)
        if byte(UInt8(ascii: ".")) { _ = digits(0, Int.max) }
        // Psych reads a zone's hours as its first two digits (`+123` is +12:03, where the text may
        // mean +01:23) and their sign from their value alone (`-00:30` is +00:30): another time.
        var otherZone = false
        if i < n {
            while i < n, isSpace(u[i]) { i += 1 }
            guard i < n else { return nil }
            if u[i] == UInt8(ascii: "Z") {
                i += 1
            } else {
                guard u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") else { return nil }
                let negative = u[i] == UInt8(ascii: "-")
                i += 1
                // `\d{1,2}:?(?:\d\d)?$`: 1 to 4 digits, or 1 or 2 digits, `:`, 0 or 2 digits.
                let start = i
                while i < n, isDigitByte(u[i]) { i += 1 }
                let before = i - start
                var minutes = 0
                if i < n, u[i] == UInt8(ascii: ":") {
                    guard (1...2).contains(before) else { return nil }
                    i += 1
                    let after = i
                    while i < n, isDigitByte(u[i]) { i += 1 }
                    guard i - after == 0 || i - after == 2 else { return nil }
                    if i > after { minutes = value(after) }
                } else {
                    guard (1...4).contains(before) else { return nil }
                    if before > 2 { minutes = value(start + 2) }
                }
                otherZone = before == 3 || (negative && decimal(u[start..<(start + min(before, 2))]) == 0 && minutes != 0)
            }
            guard i == n else { return nil }
        }
        guard separatorIsSpaces else { return .failure }
        return otherZone || timeRollsOver(year: year, month: month, day: day, hour: hour, second: second) ? .rolledOverTime : .time
    }

    /// The value of ASCII decimal digits.
    static func decimal(_ digits: some Collection<UInt8>) -> Int {
        digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// Whether Ruby's `Time.utc`, which Psych's `parse_time` calls with these fields, makes
    /// another time of them: a day past the month's end, hour 24 or second 60. (Fields it
    /// refuses, such as month 13 or day 32, leave the scalar a string; hour 24 with minutes is
    /// among them, counted here all the same.)
    static func timeRollsOver(year: Int, month: Int, day: Int, hour: Int, second: Int) -> Bool {
        guard (1...12).contains(month), (1...31).contains(day) else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = month == 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].contains(month) ? 30 : 31
        return day > days || hour == 24 || second == 60
    }

    /// `^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$`.
    private static func isDate(_ u: UnsafeRawBufferPointer) -> Bool {
        let n = u.count
        guard n >= 8, n <= 10, (0..<4).allSatisfy({ isDigitByte(u[$0]) }), u[4] == UInt8(ascii: "-") else { return false }
        var i = 5
        // Month: two digits 10–12 or 0d, else one digit.
        if i + 1 < n, isDigitByte(u[i]), isDigitByte(u[i + 1]) {
            guard u[i] == UInt8(ascii: "0") || (u[i] == UInt8(ascii: "1") && u[i + 1] <= UInt8(ascii: "2")) else { return false }
            i += 2
        } else {
            guard i < n, isDigitByte(u[i]) else { return false }
            i += 1
        }
        guard i < n, u[i] == UInt8(ascii: "-") else { return false }
        i += 1
        // Day: two digits [12]d, 3[01] or 0d, else one digit; then the end.
        switch n - i {
        case 1: return isDigitByte(u[i])
        case 2:
            let a = u[i], b = u[i + 1]
            guard isDigitByte(a), isDigitByte(b) else { return false }
            return a != UInt8(ascii: "3") ? a <= UInt8(ascii: "2") : b <= UInt8(ascii: "1")
        default: return false
        }
    }

    /// `^\+?\.inf$`, `^-\.inf$`, `^\.nan$`, case-insensitively.
    private static func infinityOrNaN(_ u: UnsafeRawBufferPointer) -> Double? {
        var i = 0
        var sign: UInt8 = 0
        if u.count == 5, u[0] == UInt8(ascii: "+") || u[0] == UInt8(ascii: "-") { sign = u[0]; i = 1 }
        guard u.count - i == 4, u[i] == UInt8(ascii: ".") else { return nil }
        let word = (u[i + 1] | 0x20, u[i + 2] | 0x20, u[i + 3] | 0x20)
        if word == (0x69, 0x6E, 0x66) { return sign == UInt8(ascii: "-") ? -.infinity : .infinity } // inf
        if word == (0x6E, 0x61, 0x6E), sign == 0 { return .nan } // nan
        return nil
    }

    /// `^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$` or the same followed by `\.[0-9_]*`.
    private static func isSexagesimal(_ u: UnsafeRawBufferPointer) -> Bool {
        guard let end = YAML11.sexagesimalEnd(u, maxGroups: 2) else { return false }
        return end == u.count || (u[end] == UInt8(ascii: ".") && u[(end + 1)...].allSatisfy(isDigitOrUnderscore))
    }

    /// FLOAT: `^[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?$`, then
    /// `Float(string.gsub(/[,_]|\.([Ee]|$)/, '\1'))` (which raises without a digit).
    private static func float(_ u: UnsafeRawBufferPointer) -> PsychScalar? {
        let n = u.count
        var i = 0
        if i < n, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") { i += 1 }
        let signEnd = i
        if i < n, isDigitByte(u[i]) {
            i += 1
            while i < n, isDigitByte(u[i]) || u[i] == UInt8(ascii: "_") || u[i] == UInt8(ascii: ",") { i += 1 }
        }
        guard i < n, u[i] == UInt8(ascii: ".") else { return nil }
        let point = i
        i += 1
        while i < n, isDigitByte(u[i]) { i += 1 }
        let fractionEnd = i
        if i < n, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") {
            i += 1
            guard i < n, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") else { return nil }
            i += 1
            let start = i
            while i < n, isDigitByte(u[i]) { i += 1 }
            guard i > start else { return nil }
        }
        guard i == n else { return nil }
        if n - signEnd == 1 { return .string } // `\A[-+]?\.\Z`
        var cleaned: [UInt8] = []
        cleaned.reserveCapacity(n)
        var mantissaDigits = 0
        for k in 0..<n {
            let b = u[k]
            if b == UInt8(ascii: "_") || b == UInt8(ascii: ",") { continue }
            if k == point && fractionEnd == point + 1 { continue } // `.` before the exponent or the end
            if k < fractionEnd && isDigitByte(b) { mantissaDigits += 1 }
            cleaned.append(b)
        }
        guard mantissaDigits > 0, let value = Double(String(decoding: cleaned, as: UTF8.self)) else { return .failure }
        return .float(value)
    }

    /// INTEGER: `^(?:[-+]?0b[0-1_,]+|[-+]?0[0-7_,]+|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[0-9a-fA-F_,]+)$`,
    /// then `Integer(string.gsub(/[,_]/, ''))` (which raises when no digit is left after `0b`/`0x`).
    private static func integer(_ u: UnsafeRawBufferPointer) -> PsychScalar? {
        let n = u.count
        var i = 0
        var negative = false
        if i < n, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") { negative = u[i] == UInt8(ascii: "-"); i += 1 }
        guard i < n, isDigitByte(u[i]) else { return nil }
        func value(from start: Int, radix: Int64, allowed: (UInt8) -> Bool) -> PsychScalar? {
            guard start < n else { return nil } // `+` needs one character
            var v: Int64 = 0
            var overflow = false
            var digitCount = 0
            for k in start..<n {
                let b = u[k]
                if b == UInt8(ascii: "_") || b == UInt8(ascii: ",") { continue }
                guard allowed(b) else { return nil }
                let d: Int64
                switch b {
                case 0x30...0x39: d = Int64(b - 0x30)
                case 0x41...0x46: d = Int64(b - 0x41 + 10)
                default: d = Int64(b - 0x61 + 10)
                }
                digitCount += 1
                let (m, o1) = v.multipliedReportingOverflow(by: radix)
                let (s, o2) = m.addingReportingOverflow(d)
                overflow = overflow || o1 || o2
                v = s
            }
            if digitCount == 0 && radix != 8 { return .failure } // `Integer("0x")`
            return .integer(overflow ? nil : (negative ? -v : v))
        }
        if u[i] == UInt8(ascii: "0") {
            guard i + 1 < n else { return .integer(0) }
            switch u[i + 1] {
            case UInt8(ascii: "b"): return value(from: i + 2, radix: 2) { $0 == 0x30 || $0 == 0x31 }
            case UInt8(ascii: "x"):
                return value(from: i + 2, radix: 16) { isDigitByte($0) || (0x41...0x46).contains($0) || (0x61...0x66).contains($0) }
            default: return value(from: i + 1, radix: 8) { (0x30...0x37).contains($0) }
            }
        }
        // Decimal: a separator only between two digits.
        var k = i + 1
        while k < n {
            let b = u[k]
            if isDigitByte(b) { k += 1; continue }
            guard b == UInt8(ascii: "_") || b == UInt8(ascii: ","), k + 1 < n, isDigitByte(u[k + 1]) else { return nil }
            k += 2
        }
        return value(from: i, radix: 10) { isDigitByte($0) }
    }
}

/// The rule that front matter must mean the same to YAML 1.1 and YAML 1.2 readers, for plain
/// scalars (see `docs/formats.md`, section 7.1).
enum YAML11 {
    /// Why the plain scalar `u` (its value, as text `string`), which the YAML 1.2 core schema
    /// reads as `ours`, must be refused, or nil when YAML 1.1 readers read it the same.
    ///
    /// Refused: what Psych (``Psych/tokenize(_:)``) reads as another type or value than `ours`
    /// (timestamps and dates, strings to us, excepted for values), a key that Psych reads as
    /// anything but a string, and the YAML 1.1 forms Psych happens to read as text: `y`/`n`,
    /// a leading `0`, `0o`/`0x`/`0b`, base 60, `_`/`,` in a number, `.inf`/`.nan` with any sign,
    /// plain `<<` and `=`. Cheap for the common case: one switch on the first byte, and only
    /// scalars starting with a digit, a sign, a point, a colon or a keyword's letter are scanned.
    static func conflict(_ u: UnsafeRawBufferPointer, _ s: @autoclosure () -> String, ours: PlainValue, isKey: Bool) -> String? {
        let n = u.count
        guard n > 0 else { return nil }
        if n <= 20, u.contains(0x0A), Psych.unicodeScalarCount(u) <= 5 {
            return "a plain scalar over several lines that folds to five characters or fewer may be read as null or a boolean by YAML 1.1 readers (Jekyll); quote it"
        }
        let first = u[0]
        switch first {
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"), UInt8(ascii: "T"),
             UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "o"), UInt8(ascii: "O"):
            guard n <= 12, let word = Psych.keyword(u) else { return nil }
            switch word {
            case .y, .n:
                return "'\(s())' is a boolean in YAML 1.1 and text in YAML 1.2; quote it"
            case .null, .tilde:
                return ours == .null ? nil : "'\(s())' is read as null by YAML 1.1 readers (Jekyll) and as text by YAML 1.2; quote it, or write null"
            case .yes, .true, .on, .no, .false, .off:
                let truth = word == .yes || word == .true || word == .on
                if ours == .bool(truth) { return nil }
                return "'\(s())' is read as \(truth) by YAML 1.1 readers (Jekyll) and as text by YAML 1.2; quote it, or write \(truth)"
            }
        case UInt8(ascii: "<"):
            guard n == 2, u[1] == UInt8(ascii: "<") else { return nil }
            return isKey
                ? "a '<<' key merges mappings in YAML 1.1 readers (Jekyll), quoted or not; rename it"
                : "plain '<<' is the merge key in YAML 1.1 and text in YAML 1.2; quote it"
        case UInt8(ascii: "="):
            guard n == 1 else { return nil }
            return "plain '=' is the value key in YAML 1.1 and text in YAML 1.2; quote it"
        case UInt8(ascii: ":"):
            guard n >= 2, !u.contains(0x0A) else { return nil }
            return "'\(s())' is read as a Ruby symbol by YAML 1.1 readers (Jekyll) and as text by YAML 1.2; quote it"
        case 0x30...0x39, UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
            return numberConflict(u, s(), ours: ours, isKey: isKey)
        default:
            return nil
        }
    }

    private static func numberConflict(_ u: UnsafeRawBufferPointer, _ s: @autoclosure () -> String, ours: PlainValue, isKey: Bool) -> String? {
        let n = u.count
        var i = 0
        if u[0] == UInt8(ascii: "+") || u[0] == UInt8(ascii: "-") { i = 1 }
        guard i < n else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: u[i...])
        let psych = Psych.tokenize(u)
        // The list first (messages that name the form), then any other disagreement.
        if body.count == 4, body[0] == UInt8(ascii: "."),
           case let word = (body[1] | 0x20, body[2] | 0x20, body[3] | 0x20), word == (0x69, 0x6E, 0x66) || word == (0x6E, 0x61, 0x6E) {
            return "'\(s())' is a non-finite number (infinity or NaN) in YAML 1.1 and text in YAML 1.2; quote it"
        }
        if body.count >= 3, body[0] == UInt8(ascii: "0"), [UInt8(ascii: "b"), UInt8(ascii: "o"), UInt8(ascii: "x")].contains(body[1] | 0x20),
           body[2...].allSatisfy({ Psych.isHexDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ",") }) {
            return "'\(s())' is an integer in base 2, 8 or 16 to some YAML readers and text to others; quote it, or write it in decimal"
        }
        if let end = sexagesimalEnd(u, maxGroups: Int.max), end == n || (u[end] == UInt8(ascii: ".")
            && u[(end + 1)...].allSatisfy { Psych.isDigitOrUnderscore($0) }) {
            return "'\(s())' is a base-60 number in YAML 1.1 (Jekyll) and text in YAML 1.2; quote it"
        }
        if u.contains(where: { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ",") }), isNumberWithoutSeparators(u) {
            return "'\(s())' is a number to YAML 1.1 readers (Jekyll), which skip '_' and ',' in numbers, and text to YAML 1.2; quote it"
        }
        if u.contains(UInt8(ascii: "_")), isSafeYAMLFloat(u) {
            return "'\(s())' makes safe_yaml (the YAML reader of Jekyll 4.3 and earlier from RubyGems) fail, and Jekyll then publishes the record "
                + "without its front matter; quote it"
        }
        if body.count >= 2, body[0] == UInt8(ascii: "0"), body.allSatisfy(Psych.isDigitByte) {
            return "'\(s())' has a leading zero: octal or text to YAML 1.1 readers (Jekyll), decimal to YAML 1.2; quote it, or drop the leading zeros"
        }
        if case .number = ours, psych == .string, u.contains(where: { $0 | 0x20 == UInt8(ascii: "e") }) {
            return "'\(s())' is text to YAML 1.1 readers (Jekyll) and a number to YAML 1.2; quote it, or write the number with a point and a signed exponent (1.0e+3)"
        }
        switch (psych, ours) {
        case (.string, .string):
            return nil
        case (.rolledOverTime, _):
            return "'\(s())' is read by YAML 1.1 readers (Jekyll) as another time (they roll a day past the month's end, hour 24 or second 60 over, "
                + "and read a zone of three digits, or -0 hours and some minutes, otherwise) and as text by YAML 1.2; write the time meant, or quote it"
        case (.time, .string), (.date, .string):
            guard isKey else { return nil } // a timestamp value stays text (docs/formats.md)
            let what = psych == .time ? "a timestamp" : "a date"
            return "key '\(s())' is read as \(what) by YAML 1.1 readers (Jekyll), not as text; quote it"
        case (.integer(let v?), .number(let x)) where Double(v) == x && v.magnitude <= UInt64(RecordLimits.maxInteger):
            return nil
        case (.float(let v), .number(let x)) where v == x && (v.rounded(.towardZero) != v || v.magnitude > Double(RecordLimits.maxInteger)):
            return nil
        case (.float(let v), .number(let x)) where v == x:
            // Its canonical form (RFC 8785) is the integer's: `1.0` and `1` would be one signed
            // text, read by YAML 1.1 readers as a Float (shown `1.0`) and an Integer (`1`).
            // (Beyond the largest integer accepted, no integer shares it.)
            return "'\(s())' is a float YAML 1.1 readers (Jekyll) show as \(v), with the canonical form of an integer; write it as one, or quote it"
        case (.failure, _):
            return "'\(s())' makes YAML 1.1 readers (Jekyll) fail and is \(describe(ours)) to YAML 1.2; quote it"
        default:
            return "'\(s())' is read as \(describe(psych)) by YAML 1.1 readers (Jekyll) and as \(describe(ours)) by YAML 1.2; quote it"
        }
    }

    /// Whether `u` matches safe_yaml's float pattern, `\A[-+]?(?:\d[\d_]*)?\.[\d_]+(?:[eE][-+][\d]+)?\Z`,
    /// which hands it to Ruby's `Float()` uncaught: `Float("._")` raises.
    private static func isSafeYAMLFloat(_ u: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = u.count
        if i < n, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") { i += 1 }
        if i < n, Psych.isDigitByte(u[i]) {
            while i < n, Psych.isDigitOrUnderscore(u[i]) { i += 1 }
        }
        guard i < n, u[i] == UInt8(ascii: ".") else { return false }
        i += 1
        let fraction = i
        while i < n, Psych.isDigitOrUnderscore(u[i]) { i += 1 }
        guard i > fraction else { return false }
        if i < n, u[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            guard i < n, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") else { return false }
            i += 1
            let exponent = i
            while i < n, Psych.isDigitByte(u[i]) { i += 1 }
            guard i > exponent else { return false }
        }
        return i == n
    }

    private static func describe(_ p: PsychScalar) -> String {
        switch p {
        case .string: return "text"
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .integer(let v?): return "the integer \(v)"
        case .integer(nil): return "an integer"
        case .float(let d): return d.isNaN ? "not-a-number" : d.isInfinite ? "infinity" : "the number \(d)"
        case .sexagesimal: return "a base-60 number"
        case .time: return "a timestamp"
        case .rolledOverTime: return "another timestamp"
        case .date: return "a date"
        case .symbol: return "a symbol"
        case .perLine: return "null or a boolean"
        case .failure: return "nothing (the reader fails)"
        }
    }

    private static func describe(_ v: PlainValue) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number: return "a number"
        case .string: return "text"
        }
    }

    /// With the `_` and `,` left out, a YAML 1.2 or YAML 1.1 decimal number:
    /// `[-+]?[0-9]*(\.[0-9]*)?([eE][-+]?[0-9]+)?` with at least one digit before the exponent.
    private static func isNumberWithoutSeparators(_ u: UnsafeRawBufferPointer) -> Bool {
        let n = u.count
        var i = 0
        var mantissa = 0
        func skip() { while i < n, u[i] == UInt8(ascii: "_") || u[i] == UInt8(ascii: ",") { i += 1 } }
        if i < n, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") { i += 1 }
        while true {
            skip()
            guard i < n, Psych.isDigitByte(u[i]) else { break }
            mantissa += 1; i += 1
        }
        if i < n, u[i] == UInt8(ascii: ".") {
            i += 1
            while true {
                skip()
                guard i < n, Psych.isDigitByte(u[i]) else { break }
                mantissa += 1; i += 1
            }
        }
        guard mantissa > 0 else { return false }
        if i < n, u[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < n, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") { i += 1 }
            let start = i
            while true {
                skip()
                guard i < n, Psych.isDigitByte(u[i]) else { break }
                i += 1
            }
            guard i > start else { return false }
        }
        return i == n
    }

    /// For `[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,maxGroups}`: the offset where the match starting
    /// at 0 ends (longest match), or nil.
    static func sexagesimalEnd(_ u: UnsafeRawBufferPointer, maxGroups: Int) -> Int? {
        let n = u.count
        var i = 0
        if i < n, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") { i += 1 }
        guard i < n, Psych.isDigitByte(u[i]) else { return nil }
        i += 1
        while i < n, Psych.isDigitOrUnderscore(u[i]) { i += 1 }
        var groups = 0
        while groups < maxGroups, i + 1 < n, u[i] == UInt8(ascii: ":"), Psych.isDigitByte(u[i + 1]) {
            // `[0-5]?[0-9]`: two digits when the first is 0–5 and a digit follows.
            if u[i + 1] <= UInt8(ascii: "5"), i + 2 < n, Psych.isDigitByte(u[i + 2]) { i += 3 } else { i += 2 }
            groups += 1
        }
        return groups > 0 ? i : nil
    }
}

extension Psych {
    static func isDigitByte(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
    static func isDigitOrUnderscore(_ b: UInt8) -> Bool { b &- 0x30 < 10 || b == UInt8(ascii: "_") }
    static func isHexDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 || (b | 0x20) &- 0x61 < 6 }
}
