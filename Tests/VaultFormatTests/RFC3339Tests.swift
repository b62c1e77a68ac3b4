import Foundation
import Testing
import VaultFormat

@Suite struct RFC3339Times {
    /// Values checked with `date -u -d TIME +%s`.
    static let known: [(String, Int64)] = [
        ("2023-04-28T15:52:00Z", 1_682_697_120),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59Z", -1),
        ("2024-02-29T12:00:00Z", 1_709_208_000),
        ("2000-02-29T00:00:00Z", 951_782_400),
        ("2000-03-01T00:00:00Z", 951_868_800),
        ("1900-03-01T00:00:00Z", -2_203_891_200),
        ("2038-01-19T03:14:08Z", 2_147_483_648),
        ("2016-12-31T23:59:59Z", 1_483_228_799),
        ("2026-11-27T12:00:00Z", 1_795_780_800),
        ("9999-12-31T23:59:59Z", 253_402_300_799),
        ("0001-01-01T00:00:00Z", -62_135_596_800),
    ]

    @Test(arguments: known)
    func knownUTCTimes(text: String, seconds: Int64) {
        #expect(RFC3339.isValid(text))
        #expect(RFC3339.seconds(text) == seconds)
        #expect(RFC3339.format(seconds) == text)
        #expect(RFC3339.format(RFC3339.seconds(text)!) == text)
    }

    /// Any Int64 formats without trapping; years outside 0000 to 9999 (not RFC 3339) are
    /// written with a sign and as many digits as they need.
    @Test func everyInt64Formats() {
        #expect(RFC3339.format(.max) == "292277026596-12-04T15:30:07Z")
        #expect(RFC3339.format(.min) == "-292277022657-01-27T08:29:52Z")
        #expect(RFC3339.format(.min + 1) == "-292277022657-01-27T08:29:53Z")
        #expect(RFC3339.format(.max - 1) == "292277026596-12-04T15:30:06Z")
        #expect(RFC3339.format(-(.max - 1)) == "-292277022657-01-27T08:29:54Z")
        for t: Int64 in [.min + 86_399, .min + 86_400, -(.max - 86_399), .max - 86_399] { _ = RFC3339.format(t) }
        #expect(RFC3339.format(RFC3339.representable.lowerBound) == "0000-01-01T00:00:00Z")
        #expect(RFC3339.format(RFC3339.representable.upperBound) == "9999-12-31T23:59:59Z")
        #expect(RFC3339.seconds("0000-01-01T00:00:00Z") == RFC3339.representable.lowerBound)
        #expect(RFC3339.format(RFC3339.representable.lowerBound - 1) == "-0001-12-31T23:59:59Z")
        #expect(RFC3339.format(RFC3339.representable.upperBound + 1) == "10000-01-01T00:00:00Z")
    }

    @Test func offsetsFractionsAndCase() {
        let noon = Int64(1_795_780_800) // 2026-11-27T12:00:00Z
        let same = [
            "2026-11-27T13:00:00+01:00", "2026-11-27T06:30:00-05:30", "2026-11-27T17:45:00+05:45",
            "2026-11-27t12:00:00z", "2026-11-27T12:00:00z", "2026-11-27t12:00:00Z", "2026-11-27T12:00:00+00:00",
            "2026-11-27T12:00:00-00:00", "2026-11-27T12:00:00.0Z", "2026-11-27T12:00:00.999999999Z",
            "2026-11-27T13:00:00.5+01:00", "2026-11-28T00:00:00+12:00", "2026-11-26T23:00:00-13:00",
        ]
        for text in same {
            #expect(RFC3339.seconds(text) == noon, "\(text)")
            #expect(RFC3339.format(RFC3339.seconds(text) ?? 0) == "2026-11-27T12:00:00Z", "\(text)")
        }
        // Offsets that move the date across a day, month and year boundary.
        #expect(RFC3339.seconds("2027-01-01T00:30:00+01:00") == RFC3339.seconds("2026-12-31T23:30:00Z"))
        #expect(RFC3339.seconds("2024-02-28T22:00:00-05:30") == RFC3339.seconds("2024-02-29T03:30:00Z"))
        #expect(RFC3339.format(RFC3339.seconds("2024-03-01T01:00:00+02:00")!) == "2024-02-29T23:00:00Z")
        // A fraction is truncated toward the past, also before 1970.
        #expect(RFC3339.seconds("1969-12-31T23:59:59.5Z") == -1)
        #expect(RFC3339.seconds("1970-01-01T00:00:00.999Z") == 0)
        // A leap second is accepted and counts as :59.
        #expect(RFC3339.seconds("2016-12-31T23:59:60Z") == 1_483_228_799)
    }

    @Test func leapDays() {
        #expect(RFC3339.isValid("2024-02-29T00:00:00Z"))
        #expect(RFC3339.isValid("2000-02-29T00:00:00Z"))
        #expect(!RFC3339.isValid("2023-02-29T00:00:00Z"))
        #expect(!RFC3339.isValid("1900-02-29T00:00:00Z"))
        #expect(!RFC3339.isValid("2100-02-29T00:00:00Z"))
        #expect(!RFC3339.isValid("2024-02-30T00:00:00Z"))
        #expect(RFC3339.seconds("2024-03-01T00:00:00Z")! - RFC3339.seconds("2024-02-28T00:00:00Z")! == 2 * 86_400)
        #expect(RFC3339.seconds("2023-03-01T00:00:00Z")! - RFC3339.seconds("2023-02-28T00:00:00Z")! == 86_400)
    }

    static let invalid = [
        "", "2026", "2026-11-27", "2026-11-27T12:00:00", "2026-11-27T12:00Z", "2026-11-27 12:00:00Z",
        "2026-11-27T12:00:00ZZ", "2026-11-27T12:00:00Z ", " 2026-11-27T12:00:00Z", "2026-11-27T12:00:00.Z",
        "2026-11-27T12:00:00,5Z", "2026-11-27T12:00:00+0100", "2026-11-27T12:00:00+01", "2026-11-27T12:00:00+24:00",
        "2026-11-27T12:00:00+01:60", "2026-11-27T12:00:00UTC", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z", "2026-04-31T00:00:00Z", "2026-01-32T00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T23:60:00Z", "2026-01-01T23:59:61Z", "26-01-01T00:00:00Z", "2026-1-01T00:00:00Z",
        "2026-01-01X00:00:00Z", "2026/01/01T00:00:00Z", "+2026-01-01T00:00:00Z", "２０２６-01-01T00:00:00Z",
        "2026-01-01T00:00:00Zjunk", "2026-01-01T00:00:00.5", "yesterday",
    ]

    @Test(arguments: invalid)
    func invalidTimes(text: String) {
        #expect(!RFC3339.isValid(text))
        #expect(RFC3339.seconds(text) == nil)
    }

    @Test func formatAgreesWithFoundationOverFourCenturies() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        // 1600-01-01 .. 9999-12-31, where Foundation's calendar is the proleptic Gregorian one.
        let low: Int64 = -11_676_096_000, high: Int64 = 253_402_300_799
        var generator = SystemRandomNumberGenerator()
        for i in 0..<3000 {
            let s = i < 3 ? [low, 0, high][i] : Int64.random(in: low...high, using: &generator)
            let text = RFC3339.format(s)
            #expect(text == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(s))), "\(s)")
            #expect(RFC3339.seconds(text) == s, "\(text)")
        }
    }

    @Test func formatAgreesWithDate() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/date") || FileManager.default.isExecutableFile(atPath: "/bin/date") else {
            Issue.record("date(1) is not available")
            return
        }
        for s: Int64 in [0, 1, -1, 86_399, 86_400, 951_782_400, 1_682_697_120, 1_709_208_000, 4_102_444_800, -2_203_891_200] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["date", "-u", "-d", "@\(s)", "+%Y-%m-%dT%H:%M:%SZ"]
            process.environment = ["LC_ALL": "C", "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let out = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0)
            let text = String(decoding: out, as: UTF8.self).trimmingCharacters(in: .newlines)
            #expect(RFC3339.format(s) == text)
            #expect(RFC3339.seconds(text) == s)
        }
    }
}
