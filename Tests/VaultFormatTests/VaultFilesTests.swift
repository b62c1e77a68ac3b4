import Foundation
import Testing
import VaultCrypto
import VaultFormat

/// The vault's pure parsers: strict, round-tripping, and every number range-checked (an
/// error, never a trap).
@Suite struct VaultFilesTests {
    static let hash = String(repeating: "ab", count: 32)
    static let name = String(repeating: "c", count: 32)

    static var index: VaultFiles.Index {
        VaultFiles.Index(vaultID: String(repeating: "0f", count: 16), keyName: "drafts", namingKid: KeyID(hex: "0011223344556677")!,
                         log: VaultFiles.Head(seq: 12, hash: hash), signedHead: VaultFiles.Head(seq: 9, hash: hash),
                         used: [name: 4],
                         objects: [VaultFiles.Object(id: "https://example.org/a", name: name, deleted: nil, versions: [
                             VaultFiles.Version(number: 5, size: 0, created: "2026-01-01T00:00:00Z", contentType: nil, kid: KeyID(hex: "0011223344556677")!, digest: hash),
                             VaultFiles.Version(number: 7, size: 70_000, created: "2026-01-02T00:00:00Z", contentType: "text/markdown",
                                                kid: KeyID(hex: "0011223344556677")!, digest: hash),
                         ])])
    }

    @Test func theIndexRoundTrips() throws {
        let bytes = VaultFiles.indexJSON(Self.index)
        #expect(try VaultFiles.parseIndexJSON(bytes) == Self.index)
        #expect(try VaultFiles.indexJSON(VaultFiles.parseIndexJSON(bytes)) == bytes)
    }

    /// Replaces the first `"key":value` in the index's JSON.
    static func indexWith(_ key: String, _ value: String) -> [UInt8] {
        let text = String(decoding: VaultFiles.indexJSON(index), as: UTF8.self)
        let range = text.range(of: "\"\(key)\":[^,}\\]]*", options: .regularExpression)!
        return Array(text.replacingCharacters(in: range, with: "\"\(key)\":\(value)").utf8)
    }

    @Test(arguments: [("n", "1e300"), ("n", "0"), ("n", "-1"), ("n", "2147483648"), ("n", "1.5"), ("size", "1e300"), ("size", "-1"),
                      ("size", "9007199254740992"), ("seq", "1e300"), ("seq", "0"), ("seq", "18446744073709551616"), ("last", "1e300"),
                      ("last", "0"), ("format", "1"), ("n", "\"5\""), ("digest", "\"abc\""), ("hash", "\"ABAB\""), ("name", "\"../x\""),
                      ("created", "\"yesterday\""), ("deleted", "\"soon\""), ("kid", "\"0011\""), ("kid", "\"0011223344556677 \"")])
    func outOfRangeOrMalformedIndexFieldsAreErrors(_ key: String, _ value: String) {
        #expect(throws: FormatError.self, "\(key): \(value)") { _ = try VaultFiles.parseIndexJSON(Self.indexWith(key, value)) }
    }

    @Test func versionsMustIncreaseAndNamesBeUnique() throws {
        var index = Self.index
        index.objects[0].versions.swapAt(0, 1)
        #expect(throws: FormatError.self) { _ = try VaultFiles.parseIndexJSON(VaultFiles.indexJSON(index)) }
        index = Self.index
        index.objects.append(index.objects[0])
        #expect(throws: FormatError.self) { _ = try VaultFiles.parseIndexJSON(VaultFiles.indexJSON(index)) }
    }

    @Test func aFormatOneIndexIsRefusedByName() {
        #expect { _ = try VaultFiles.parseIndex("avault-vault-index v1\nxyz\n") } throws: { error in
            "\(error)".contains("format 1")
        }
    }

    @Test(arguments: ["1e300", "-1", "0", "1.5", "9007199254740992", "1e-300", "\"1\"", "null", "true"])
    func logEntrySequenceNumbersAreRangeChecked(_ seq: String) {
        let line = "{\"seq\":\(seq),\"time\":\"2026-01-01T00:00:00Z\",\"op\":\"put\",\"prev\":\"\(Self.hash)\"}"
        #expect(throws: FormatError.self, "\(seq)") { _ = try VaultFiles.LogEntry(parsing: line) }
    }

    @Test(arguments: ["\"t\"", "\"2026-13-01T00:00:00Z\"", "\"2026-01-01 00:00:00\"", "1767225600", "null"])
    func logEntryTimesAreRFC3339(_ time: String) {
        let line = "{\"seq\":1,\"time\":\(time),\"op\":\"put\",\"prev\":\"\(Self.hash)\"}"
        #expect(throws: FormatError.self, "\(time)") { _ = try VaultFiles.LogEntry(parsing: line) }
        let missing = "{\"seq\":1,\"op\":\"put\",\"prev\":\"\(Self.hash)\"}"
        #expect(throws: FormatError.self) { _ = try VaultFiles.LogEntry(parsing: missing) }
    }

    @Test func logEntriesAndSignedHeadsParse() throws {
        let line = VaultFiles.logLine(seq: 3, time: Timestamp(seconds: 1_767_225_600), [("op", .string("put")), ("version", .number(7))], prev: Self.hash)
        let entry = try VaultFiles.LogEntry(parsing: line)
        #expect(entry.seq == 3 && entry.op == "put" && entry.prev == Self.hash && entry.time.seconds == 1_767_225_600)
        #expect(try entry.integer("version", in: 1...VaultFiles.maxVersion) == 7)
        #expect(throws: FormatError.self) { _ = try entry.integer("version", in: 8...9) }
        let head = VaultFiles.SignedHead(head: VaultFiles.Head(seq: 3, hash: Self.hash), keyID: "AB", signatureLine: "s",
                                         trustedComment: "c", globalSignatureLine: "g")
        let parsed = try VaultFiles.SignedHead(parsing: head.line)
        #expect(parsed.head == head.head && parsed.line == head.line)
        #expect(throws: FormatError.self) { _ = try VaultFiles.SignedHead(parsing: head.line.replacingOccurrences(of: "\"seq\":3", with: "\"seq\":1e300")) }
    }

    /// The quick read of a log line in the writer's form (for lines the hash chain authenticates)
    /// takes seq, time, op and prev from where the writer puts them, agrees with the strict
    /// parser on every line avault writes, and declines every other form (the reader then parses
    /// it strictly). What lies between op and prev is checked only by ``strictly()``.
    @Test func chainedLogLinesAgreeWithTheStrictParser() throws {
        let t = Timestamp(seconds: 1_767_225_600)
        let lines = [
            VaultFiles.logLine(seq: 1, time: t, [("op", .string("init")), ("key", .string("drafts")), ("kid", .string("0011223344556677"))], prev: VaultFiles.genesisHash),
            VaultFiles.logLine(seq: 9_007_199_254_740_991, time: t, [("op", .string("accept-rollback")),
                               ("forgotten", .object([("seq", .number(4)), ("hash", .string(Self.hash))]))], prev: Self.hash),
            VaultFiles.logLine(seq: 12, time: t, [("op", .string("recover")), ("removed", .array([.string("a\"b\\c")])), ("note", .string("é \u{1}"))], prev: Self.hash),
            VaultFiles.logLine(seq: 3, time: Timestamp(seconds: -62_135_596_800), [("op", .string("put"))], prev: Self.hash),
        ]
        for line in lines {
            let strict = try VaultFiles.LogEntry(parsing: line)
            let quick = try #require(VaultFiles.LogEntry(chained: line), "\(line)")
            #expect(quick.isUnparsed && !strict.isUnparsed)
            #expect(quick.seq == strict.seq, "\(line)")
            #expect(quick.time == strict.time, "\(line)")
            #expect(quick.op == strict.op && quick.prev == strict.prev, "\(line)")
            #expect(quick.fields.jsonText == strict.fields.jsonText)
            #expect(try quick.strictly().fields.jsonText == strict.fields.jsonText)
        }
        let good = lines[0]
        let declined = [
            good.replacingOccurrences(of: "{\"seq\":1,", with: "{\"seq\":01,"),
            good.replacingOccurrences(of: "{\"seq\":1,", with: "{ \"seq\":1,"),
            good.replacingOccurrences(of: "{\"seq\":1,", with: "{\"seq\":9007199254740992,"),
            good.replacingOccurrences(of: "{\"seq\":1,", with: "{\"seq\":12345678901234567,"),
            good.replacingOccurrences(of: "{\"seq\":1,", with: "{\"seq\":1.0,"),
            good.replacingOccurrences(of: "\"op\":\"init\"", with: "\"op\":\"In\\u0069t\""),
            good.replacingOccurrences(of: "\"op\":\"init\"", with: "\"op\":\"Init\""),
            good.replacingOccurrences(of: "\"op\":\"init\",", with: "\"key\":\"x\",\"op\":\"init\","),
            good.replacingOccurrences(of: "2026-01-01T00:00:00Z", with: "2026-02-30T00:00:00Z"),
            good.replacingOccurrences(of: "2026-01-01T00:00:00Z", with: "2026-01-01T00:00:00\\u005a"),
            good.replacingOccurrences(of: VaultFiles.genesisHash, with: String(repeating: "A", count: 64)),
            good + " ",
            String(good.dropLast()) + ",\"x\":1}",
            "{\"seq\":1,\"time\":\"2026-01-01T00:00:00Z\",\"op\":\"put\",\"prev\":\"\(Self.hash)\"}".replacingOccurrences(of: "\"op\":\"put\",", with: "\"op\":\"\","),
            "",
        ]
        for line in declined {
            #expect(VaultFiles.LogEntry(chained: line) == nil, "\(line)")
        }
        // The writer's form around a middle that is not JSON: read quickly (only a chain that
        // authenticates the line may vouch for it), refused by the strict parse.
        let broken = good.replacingOccurrences(of: "\"key\":\"drafts\"", with: "\"key\":drafts")
        let quick = try #require(VaultFiles.LogEntry(chained: broken))
        #expect(throws: FormatError.self) { _ = try quick.strictly() }
        #expect(quick.fields == .null)
    }

    @Test func envelopeFileNamesAreStrict() {
        #expect(VaultFiles.parseEnvelopeFileName(Self.name + "-12")! == (Self.name, 12))
        for bad in [Self.name + "-0", Self.name + "-012", Self.name + "-2147483648", Self.name + "-99999999999999999999999",
                    Self.name + "-+1", Self.name + "--1", Self.name.uppercased() + "-1", ".rewrap-" + Self.name + "-1", Self.name] {
            #expect(VaultFiles.parseEnvelopeFileName(bad) == nil, "\(bad)")
        }
    }

    @Test func envelopeSizes() {
        let h = VaultFiles.envelopeHeaderSize, o = 17
        #expect(VaultFiles.envelopeSize(plaintext: 0) == h + o)
        #expect(VaultFiles.envelopeSize(plaintext: 65_536) == h + 65_536 + o)
        #expect(VaultFiles.envelopeSize(plaintext: 65_537) == h + 65_537 + 2 * o)
    }
}

/// The byte-level helpers the parsers use in place of `Character` operations.
@Suite struct ByteLevelTextTests {
    @Test func aSplitAtAByteKeepsEmptyPiecesAndSplitsWhatTheBytesSay() {
        #expect(TextLines.split("a b  c", at: 0x20) == ["a", "b", "", "c"])
        #expect(TextLines.split("", at: 0x3B) == [""])
        #expect(TextLines.split(";", at: 0x3B) == ["", ""])
        // A combining mark after the separator: one Character (" \u{301}"), which a
        // Character-level split would not split at; the bytes hold a space.
        let combining = Substring("x \u{301}y;é")
        #expect(TextLines.split(combining, at: 0x20).map { Array($0.utf8) } == [Array("x".utf8), Array("\u{301}y;é".utf8)])
        #expect(TextLines.split(combining, at: 0x3B).count == 2)
        // Pieces of a slice are pieces of the slice only.
        let line = "key: a b"
        #expect(TextLines.split(line.dropFirst(5), at: 0x20) == ["a", "b"])
    }

    @Test func lowercaseHexIsCheckedByteByByte() {
        #expect(VaultFiles.isLowerHex("0123456789abcdef", count: 16))
        for bad in ["0123456789abcdeF", "0123456789abcdeg", "0123456789abcde/", "0123456789abcde:", "0123456789abcde`", "0123456789abcdé"] {
            #expect(!VaultFiles.isLowerHex(bad, count: 16), "\(bad)")
        }
        #expect(!VaultFiles.isLowerHex("00", count: 4))
        #expect(VaultFiles.isLowerHex(Substring("xx00ff").dropFirst(2), count: 4))
    }
}
