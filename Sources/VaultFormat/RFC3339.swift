/// RFC 3339 date-times (`2026-11-27T12:00:00Z`, `2026-11-27T13:00:00.5+01:00`), parsed to
/// Unix seconds and written in UTC with a `Z`. Pure arithmetic, no time-zone database.
public enum RFC3339 {
    /// The Unix seconds RFC 3339 can write: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
    public static let representable: ClosedRange<Int64> = -62_167_219_200...253_402_300_799

    /// True when `text` is a valid RFC 3339 date-time.
    public static func isValid(_ text: String) -> Bool { seconds(text) != nil }

    /// Unix seconds (fraction truncated toward the past), or nil if `text` is not RFC 3339.
    public static func seconds(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= u.count else { return nil }
            var n = 0
            for c in u[from..<from + count] {
                guard (0x30...0x39).contains(c) else { return nil }
                n = n * 10 + Int(c - 0x30)
            }
            return n
        }
        // A byte, not a Character: `Character.asciiValue` was most of a parse (every log line has a time).
        func at(_ i: Int, _ c: Unicode.Scalar) -> Bool { i < u.count && u[i] == UInt8(ascii: c) }
        guard let year = num(0, 4), at(4, "-"), let month = num(5, 2), at(7, "-"), let day = num(8, 2),
              at(10, "T") || at(10, "t"), let hour = num(11, 2), at(13, ":"), let minute = num(14, 2),
              at(16, ":"), let second = num(17, 2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        var i = 19
        if at(i, ".") {
            i += 1
            let start = i
            while i < u.count, (0x30...0x39).contains(u[i]) { i += 1 }
            guard i > start else { return nil }
        }
        var offset = 0
        if at(i, "Z") || at(i, "z") {
            i += 1
        } else if at(i, "+") || at(i, "-") {
            let sign = at(i, "-") ? -1 : 1
            guard let oh = num(i + 1, 2), at(i + 3, ":"), let om = num(i + 4, 2), oh <= 23, om <= 59 else { return nil }
            offset = sign * (oh * 3600 + om * 60)
            i += 6
        } else {
            return nil
        }
        guard i == u.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offset)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds in ``representable``. Any other Int64 is
    /// written too, without trapping, but not as RFC 3339: a year before 0000 with a `-`, and
    /// a year from 10000 or before -9999 with as many digits as it takes (0000-01-01 less a
    /// second is `-0001-12-31T23:59:59Z`; Int64.max is `292277026596-12-04T15:30:07Z`).
    public static func format(_ seconds: Int64) -> String {
        // Floor division by a day; `seconds - 86_399` would trap near Int64.min.
        var days = seconds / 86_400, rest = Int(seconds % 86_400)
        if rest < 0 { days -= 1; rest += 86_400 }
        let (y, m, d) = civilFromDays(Int(days))
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let year = String(y.magnitude)
        return (y < 0 ? "-" : "") + String(repeating: "0", count: max(0, 4 - year.count)) + year + "-" + two(m) + "-" + two(d)
            + "T" + two(rest / 3600) + ":" + two(rest / 60 % 60) + ":" + two(rest % 60) + "Z"
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

/// A point in time read from RFC 3339 text (or made from Unix seconds), keeping the text it
/// was written as: parsing happens once, where the text enters, never again with `!`.
public struct Timestamp: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Unix seconds.
    public let seconds: Int64
    /// The RFC 3339 text.
    public let text: String

    /// Parses RFC 3339 text; nil when it is not a valid time.
    public init?(_ text: String) {
        guard let seconds = RFC3339.seconds(text) else { return nil }
        self.seconds = seconds
        self.text = text
    }

    /// The time `seconds` after the epoch, written in UTC.
    public init(seconds: Int64) {
        self.seconds = seconds
        self.text = RFC3339.format(seconds)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.seconds < b.seconds }
    public static func == (a: Timestamp, b: Timestamp) -> Bool { a.seconds == b.seconds && a.text == b.text }
    public func hash(into h: inout Hasher) { h.combine(seconds); h.combine(text) }
    public var description: String { text }
}
