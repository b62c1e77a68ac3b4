import Foundation
import Testing
import TestSupport
import VaultCrypto
@testable import VaultFormat

/// `avault verify`'s quick path against the full reads it stands for: FastFrontMatter's
/// canonical sink against its tree, RecordScan against RecordDocument, the plain-scalar
/// shortcuts against the rules they skip, SecuredBlob.form against parsing, and the signature
/// helpers that read bytes against the string code they replace.
@Suite struct QuickPathTests {
    typealias RNG = FastFrontMatterTests.RNG

    static let capturedNames = ["secured", "publishedDateTime", "date", "webUrl", "originalUrl"]

    static func isCollection(_ value: FieldValue) -> Bool {
        switch value {
        case .array, .object: true
        default: false
        }
    }

    // MARK: The canonical sink

    /// Checks `FastFrontMatter.canonical` against `FastFrontMatter.parse` on the YAML `bytes`;
    /// returns whether the canonical sink read them.
    @discardableResult
    static func checkCanonical(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let tree = bytes.withUnsafeBytes { FastFrontMatter.parse($0, firstLine: 2) }
        let quick = bytes.withUnsafeBytes { FastFrontMatter.canonical($0, firstLine: 2) }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let tree else {
            #expect(quick == nil, "the canonical sink reads what the tree path declines:\n\(text)", sourceLocation: sourceLocation)
            return false
        }
        guard case .object(let pairs) = tree.fields else {
            Issue.record("the tree path read no mapping", sourceLocation: sourceLocation)
            return false
        }
        let kept = pairs.filter { pair in capturedNames.contains { $0 == pair.key } }
        let keptCollection = kept.contains { isCollection($0.value) }
        guard let quick else {
            #expect(keptCollection, "the canonical sink declines what the tree path reads:\n\(text)", sourceLocation: sourceLocation)
            return false
        }
        #expect(!keptCollection, "a captured field holds a collection:\n\(text)", sourceLocation: sourceLocation)
        let expected = FieldValue.object(pairs.filter { $0.key != RecordSignatures.fieldName }).canonicalJSON
        #expect(quick.fields == expected, "canonical bytes differ:\n\(text)\nquick: \(String(decoding: quick.fields, as: UTF8.self))\ntree:  \(String(decoding: expected, as: UTF8.self))", sourceLocation: sourceLocation)
        switch (quick.signatures, tree.fields[RecordSignatures.fieldName]) {
        case (nil, nil): break
        case let (q?, t?): #expect(FastFrontMatterTests.identical(q, t), "signatures differ:\n\(text)", sourceLocation: sourceLocation)
        default: Issue.record("signatures found by one path only:\n\(text)", sourceLocation: sourceLocation)
        }
        #expect(quick.captured.count == kept.count
                && zip(quick.captured, kept).allSatisfy { $0.key == $1.key && FastFrontMatterTests.identical($0.value, $1.value) },
                "captured fields differ:\n\(text)", sourceLocation: sourceLocation)
        #expect(quick.yamlCount == bytes.count, sourceLocation: sourceLocation)
        return true
    }

    /// Top-level lines that exercise what the canonical sink keeps aside.
    static let recordLines = [
        "secured: \"kb3cvdycREGW67szGbahRw==;9D+JsPb8z2y24TI0PUGv3A==\"", "secured: 'x'", "secured:", "secured: 12",
        "secured: plain text", "\"sec\\x75red\": \"escaped key\"", "date: 2023-04-28", "date: '2023-04-28'",
        "publishedDateTime: 2023-04-28T15:52:00Z", "publishedDateTime: \"2023-04-28T15:52:00Z\"", "webUrl: \"https://example.org/a\"",
        "originalUrl: https://example.org/b", "date:\n  - x", "webUrl:\n  a: b", "secured:\n- x",
        "signatures:\n  - keyId: \"A\"\n    signature: \"B\"\n    trustedComment: \"c\"\n    globalSignature: \"d\"",
        "signatures:\n- keyId: A\n  extra:\n    - 1\n    - true", "signatures: x", "signatures:", "'signatures':\n  - 1",
        "caf\u{E9}: 1", "cafe\u{301}x: 2", "\"\\u00e9\": 3", "zeta: 4", "Alpha: 5", "\u{1F600}: 6", "\u{FF21}: 7",
    ]

    @Test func theCanonicalSinkAgreesWithTheTree() {
        let rounds = ProcessInfo.processInfo.environment["QUICK_PATH_ROUNDS"].flatMap { Int($0) } ?? 2000
        var rng = RNG(state: 0xC0FFEE)
        var good = FastFrontMatterTests.Generator(rng: RNG(state: 11), exotic: false)
        var bad = FastFrontMatterTests.Generator(rng: RNG(state: 12), exotic: true)
        var accepted = 0, documents = 0
        for _ in 0..<rounds {
            var doc = rng.chance(50) ? good.document() : bad.document()
            if !doc.hasSuffix("\n") { doc += "\n" }
            for _ in 0..<rng.int(4) {
                let line = rng.pick(Self.recordLines) + "\n"
                if rng.chance(50) { doc += line } else { doc = line + doc }
            }
            for bytes in [Array(doc.utf8), FastFrontMatterTests.mutate(doc, &rng)] {
                documents += 1
                if Self.checkCanonical(bytes) { accepted += 1 }
            }
        }
        #expect(accepted > documents / 4, "the canonical sink read \(accepted) of \(documents)")
    }

    @Test(arguments: FastFrontMatterTests.accepted)
    func handWrittenDocumentsCanonicalise(_ yaml: String) {
        #expect(Self.checkCanonical(Array(yaml.utf8)))
    }

    // MARK: RecordScan

    /// Checks RecordScan against RecordDocument on a record's text; returns whether the scan read it.
    @discardableResult
    static func checkScan(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let scan = RecordScan(text)
        let document = try? RecordDocument(parsing: text)
        guard let scan else {
            // Declined: the document is malformed, outside the fast path, or keeps a collection
            // in a captured field.
            if let document, var yaml = try? RecordDocument.split(text).frontMatter,
               yaml.withUTF8({ FastFrontMatter.parse(UnsafeRawBufferPointer($0), firstLine: 2) }) != nil,
               case .object(let pairs) = document.fields,
               !pairs.contains(where: { pair in capturedNames.contains(pair.key) && isCollection(pair.value) }) {
                Issue.record("RecordScan declines a record the fast path reads:\n\(text)", sourceLocation: sourceLocation)
            }
            return false
        }
        guard let document else {
            Issue.record("RecordScan reads a record RecordDocument refuses:\n\(text)", sourceLocation: sourceLocation)
            return true
        }
        #expect(scan.layout == document.layout, sourceLocation: sourceLocation)
        var quick: [UInt8] = []
        RecordSignatures.writeCanonicalBytes(of: scan, pieceSize: 7) { quick.append(contentsOf: $0) }
        #expect(quick == RecordSignatures.canonicalBytes(of: document), "canonical bytes differ:\n\(text)", sourceLocation: sourceLocation)
        switch (scan.signaturesField, document.fields[RecordSignatures.fieldName]) {
        case (nil, nil): break
        case let (q?, t?): #expect(FastFrontMatterTests.identical(q, t), sourceLocation: sourceLocation)
        default: Issue.record("signatures found by one read only:\n\(text)", sourceLocation: sourceLocation)
        }
        let quickEntries = Result { () throws(FormatError) in try RecordSignatures.entries(of: scan.signaturesField) }
        let fullEntries = Result { () throws(FormatError) in try RecordSignatures.entries(in: document.fields) }
        #expect("\(quickEntries)" == "\(fullEntries)", sourceLocation: sourceLocation)
        guard case .object(let pairs) = document.fields, case .object(let kept) = scan.fields else {
            Issue.record("fields are not objects", sourceLocation: sourceLocation)
            return true
        }
        let expected = pairs.filter { pair in capturedNames.contains { $0 == pair.key } }
        #expect(kept.count == expected.count && zip(kept, expected).allSatisfy { $0.key == $1.key && FastFrontMatterTests.identical($0.value, $1.value) },
                "kept fields differ:\n\(text)", sourceLocation: sourceLocation)
        for name in ["publishedDateTime", "date", "secured", "webUrl", "originalUrl"] {
            #expect(scan.fields[name]?.stringValue == document.fields[name]?.stringValue, sourceLocation: sourceLocation)
        }
        #expect(RecordDocument.securedContext(of: scan.fields) == document.securedContext, sourceLocation: sourceLocation)
        return true
    }

    @Test func everyFixtureRecordIsScanned() throws {
        let records = try FastFrontMatterTests.fixtureRecords()
        #expect(records.count >= 3)
        for (path, text) in records {
            #expect(Self.checkScan(text), "\(path)")
        }
    }

    @Test func recordScanAgreesWithRecordDocument() {
        let rounds = ProcessInfo.processInfo.environment["QUICK_PATH_ROUNDS"].flatMap { Int($0) } ?? 2000
        var rng = RNG(state: 0x5CA7)
        var good = FastFrontMatterTests.Generator(rng: RNG(state: 21), exotic: false)
        var bad = FastFrontMatterTests.Generator(rng: RNG(state: 22), exotic: true)
        let openings = ["---\n", "---\n", "---  \n", "---\t\r\n", "\u{FEFF}---\n", "--- x\n", "----\n", "\n---\n", "---", "---\u{0B}\n", "--- \u{0C}\r\n"]
        let closings = ["---\n", "---\n", "...\n", "--- \t\n", "---\r\n", "---", "...", "--- x\n", "", "---\u{0B}\n", " ---\n"]
        let bodies = ["", "\n", "Body.\n", "\nLine one\r\nLine two\r\n", "---\nnot: front matter\n---\n", "\"q\" \\ \t \u{1} é 😀\n", "\r", "x\r\n\r\n"]
        var scanned = 0
        for round in 0..<rounds {
            var yaml = rng.chance(60) ? good.document() : bad.document()
            if !yaml.hasSuffix("\n") && rng.chance(80) { yaml += "\n" }
            for _ in 0..<rng.int(4) { yaml += rng.pick(Self.recordLines) + "\n" }
            var text = rng.pick(openings) + yaml + rng.pick(closings) + rng.pick(bodies)
            if round % 7 == 0 { text = String(decoding: FastFrontMatterTests.mutate(text, &rng), as: UTF8.self) }
            if Self.checkScan(text) { scanned += 1 }
        }
        // (Many of these are not records, or are malformed: what matters is that none of those
        // the fast path reads is declined, checked above, and that the scan does read some.)
        #expect(scanned > rounds / 10, "RecordScan read \(scanned) of \(rounds)")
    }

    // MARK: Plain scalars

    @Test func scalarShortcutsAgreeWithTheFullRules() {
        var samples = ["true", "false", "null", "True", "FALSE", "nULL", "0", "-0", "00", "01", "-01", "7", "-7", "42", "-1",
                       "123456789012345", "1234567890123456", "-123456789012345", "9007199254740991", "+5", "- 5", "5-",
                       "2023-04-28T15:52:00Z", "2023-04-28T15:52:00z", "2023-04-28t15:52:00Z", "2023-04-28 15:52:00Z",
                       "2023-13-45T99:99:99Z", "0000-00-00T00:00:00Z", "2023-04-28T15:52:00Z0", "2023-04-28T15:52:0Z",
                       "news", "title", "type", "topics", "name", "originalUrl", "yes", "no", "on", "off", "y", "n", "Y", "N",
                       "yesterday", "noon", "online", "offset", "nullable", "Truer", "falsey", "ye\u{17F}", "o\u{FB00}",
                       "a\nb", "n\no", "y\nno", "yes\nplease", "tomorrow\nnight", "x", "é", "", "~", "<<", "=", ":k", "k:"]
        var rng = RNG(state: 0x5CA1)
        var generator = YAML11Tests.Generator(rng: RNG(state: 31))
        for _ in 0..<4000 {
            samples.append(generator.plain())
            samples.append(String(generator.fuzzDocument().dropFirst(3).dropLast()))
            // Digit strings, signs, and timestamp-shaped strings with one character changed.
            let digits = (0..<(1 + rng.int(17))).map { _ in String(rng.int(10)) }.joined()
            samples.append(rng.pick(["", "-", "+", "0"]) + digits)
            var stamp = Array("2023-04-28T15:52:00Z")
            if rng.chance(70) { stamp[rng.int(stamp.count)] = rng.pick(Array("0123456789-:TZtz .+")) }
            samples.append(String(stamp))
            let letters = (0..<(1 + rng.int(8))).map { _ in rng.pick(Array("ntfyoNTFYOaexlrsuE\u{17F}\n")) }
            samples.append(String(letters))
        }
        for sample in samples {
            var text = sample
            text.withUTF8 { utf8 in
                let raw = UnsafeRawBufferPointer(utf8)
                let quick = Result { () throws(FormatError) in try FrontMatter.resolvePlain(raw, line: 3) }
                let full = Result { () throws(FormatError) in try FrontMatter.resolvePlainInFull(raw, line: 3) }
                #expect(quick == full, "value \(sample.debugDescription): \(quick) vs \(full)")
                let quickKey = Result { () throws(FormatError) in try FrontMatter.checkPlainKey(raw, line: 3) }
                let fullKey = Result { () throws(FormatError) in try FrontMatter.checkPlainKeyInFull(raw, line: 3) }
                #expect("\(quickKey)" == "\(fullKey)", "key \(sample.debugDescription): \(quickKey) vs \(fullKey)")
            }
        }
    }

    // MARK: Secured blobs

    @Test func secureBlobFormAgreesWithParsing() {
        var rng = RNG(state: 0xB10B)
        var samples = ["", ";", "v2", "v2;", "v1;x", "v3;a;b;c", "QQ==;QUJDREVGR0hJSktMTU5PUA==", "AAAAAAAAAAAAAAAAAAAAAA==;AAAAAAAAAAAAAAAAAAAAAA==",
                       "v2;0123456789abcdef;AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA;AAAAAAAAAAAAAAAAAAAAAA==",
                       "v2;0123456789ABCDEF;AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA;AAAAAAAAAAAAAAAAAAAAAA=="]
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        func b64(_ n: Int) -> String { Base64.encode((0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }) }
        for _ in 0..<3000 {
            var blob: String
            switch rng.int(4) {
            case 0: blob = b64(16 * rng.int(4)) + ";" + b64(rng.pick([16, 16, 15, 17, 0]))
            case 1: blob = "v2;" + (rng.chance(80) ? "0123456789abcdef" : "0123456789abcdeg") + ";" + b64(rng.pick([24, 24, 23])) + ";" + b64(rng.pick([16, 40, 15, 0]))
            case 2: blob = rng.pick(["v1", "v9", "x", ""]) + ";" + b64(rng.int(20)) + (rng.chance(50) ? ";" + b64(rng.int(20)) : "")
            default: blob = String((0..<rng.int(40)).map { _ in rng.chance(90) ? rng.pick(alphabet) : rng.pick(Array("=; \né")) })
            }
            if rng.chance(20), !blob.isEmpty {
                var chars = Array(blob)
                chars[rng.int(chars.count)] = rng.pick(Array("=;A/+ é\u{0}"))
                blob = String(chars)
            }
            samples.append(blob)
        }
        for text in samples {
            let parsed = Result { () throws(FormatError) in try SecuredBlob(parsing: text) }
            let form = Result { () throws(FormatError) in try SecuredBlob.form(of: text) }
            switch (parsed, form) {
            case let (.success(blob), .success(form)):
                #expect(form == SecuredBlob.Form(formatName: blob.formatName, keyID: blob.keyID), "\(text.debugDescription)")
            case let (.failure(a), .failure(b)):
                #expect(a == b, "\(text.debugDescription)")
            default:
                Issue.record("\(text.debugDescription): parsing \(parsed), form \(form)")
            }
        }
    }

    // MARK: Signature helpers

    /// The code the byte-level helpers replace.
    static func referenceTimestamp(_ comment: String) -> Int64? {
        let prefix = Array("timestamp:".utf8)
        for field in comment.utf8.split(separator: 0x09) where field.starts(with: prefix) {
            return Int64(String(decoding: field.dropFirst(prefix.count), as: UTF8.self))
        }
        return nil
    }

    @Test func signatureHelpersAgreeWithStringCode() throws {
        var rng = RNG(state: 0x516)
        let pieces = ["timestamp:", "timestamp:1796278738", "timestamp:-5", "timestamp:+7", "timestamp:", "timestamp:9223372036854775807",
                      "timestamp:9223372036854775808", "timestamp:-9223372036854775808", "timestamp:-9223372036854775809",
                      "timestamp:12a", "timestamp: 1", "timestamp:-", "timestamp:+", "timestamp:00012", "Timestamp:5",
                      "canon:avault-record-v1", "canon:", "canon:x", "canon:\u{301}y", "can", "canon", "file:a.md", "",
                      "\u{E9}", "canon:\u{E9}", "c\u{301}anon:x", "x\r\ny", "\t"]
        var comments = pieces
        for _ in 0..<3000 {
            comments.append((0..<rng.int(5)).map { _ in rng.pick(pieces) }.joined(separator: rng.chance(90) ? "\t" : " "))
        }
        for comment in comments {
            let signature = Minisign.Signature(algorithm: "ED", keyID: Minisign.KeyID(bytes: [1, 2, 3, 4, 5, 6, 7, 0xAB]),
                                               signature: [UInt8](repeating: 0, count: 64), trustedComment: comment,
                                               globalSignature: [UInt8](repeating: 0, count: 64))
            #expect(signature.timestamp == Self.referenceTimestamp(comment), "\(comment.debugDescription)")
            for prefix in ["canon:", "timestamp:", "", "c", "x\r"] {
                #expect(signature.trustedCommentFields(withPrefix: prefix) == signature.trustedCommentFields.filter { $0.hasPrefix(prefix) },
                        "\(comment.debugDescription) prefix \(prefix.debugDescription)")
            }
        }
        for _ in 0..<200 {
            let bytes = (0..<8).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let id = Minisign.KeyID(bytes: bytes)
            #expect(id.printed == Hex.encode(Array(bytes.reversed())).uppercased())
            #expect(Minisign.KeyID(printed: id.printed) == id)
        }
    }
}

/// FieldValue.jsonText, written as bytes, against the String code it replaces.
@Suite struct JSONTextTests {
    static func reference(_ value: FieldValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let d):
            if d == d.rounded(), abs(d) <= 9_007_199_254_740_991 { out += String(Int64(d)) } else { out += "\(d)" }
        case .string(let s): JSONString.append(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                reference(item, into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += "," }
                JSONString.append(pair.key, to: &out)
                out += ":"
                reference(pair.value, into: &out)
            }
            out += "}"
        }
    }

    @Test func jsonTextAgreesWithTheStringWriter() {
        var rng = FastFrontMatterTests.RNG(state: 0x750)
        let strings = ["", "a", "\"", "\\", "\u{0}", "\u{1F}", "\u{7F}", "\n\r\t\u{8}\u{C}", "é", "e\u{301}", "😀", "\u{2028}",
                       "\u{FEFF}", "x\u{85}y", "path/to/file.md", "timestamp:1\tcanon:x"]
        let numbers: [Double] = [0, -0.0, 1, -1, 41, 1200, 9_007_199_254_740_991, 9_007_199_254_740_992, 0.5, -2.5e-7, 1e21, 3.141592653589793]
        func value(_ depth: Int) -> FieldValue {
            switch rng.int(depth > 2 ? 4 : 6) {
            case 0: return .null
            case 1: return .bool(rng.chance(50))
            case 2: return .number(rng.pick(numbers))
            case 3: return .string((0..<rng.int(4)).map { _ in rng.pick(strings) }.joined())
            case 4: return .array((0..<rng.int(4)).map { _ in value(depth + 1) })
            default: return .object((0..<rng.int(4)).map { _ in (rng.pick(strings), value(depth + 1)) })
            }
        }
        for _ in 0..<2000 {
            let v = value(0)
            var expected = ""
            Self.reference(v, into: &expected)
            #expect(Array(v.jsonText.utf8) == Array(expected.utf8), "\(v)")
        }
    }
}
