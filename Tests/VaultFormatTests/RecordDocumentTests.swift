import Foundation
import TestSupport
import Testing
import VaultFormat

@Suite struct RecordDocuments {
    static let repoRoot: URL = Repository.root

    @Test func theSeedParses() throws {
        let text = try String(contentsOf: Self.repoRoot.appendingPathComponent("Fixtures/seed/000_6e329c144f65a19c.txt"), encoding: .utf8)
        let doc = try RecordDocument(parsing: text)
        #expect(doc.fields["category"] == .string("news"))
        #expect(doc.fields["quality"] == .number(41))
        #expect(doc.fields["heat"] == .number(-1))
        #expect(doc.fields["published"] == .bool(false))
        // Unquoted timestamps stay strings.
        #expect(doc.fields["publishedDateTime"] == .string("2023-04-28T15:52:00Z"))
        #expect(doc.fields["provider"]?["domain"] == .string("futurism.com"))
        #expect(doc.securedContext == "https://futurism.com/the-byte/facebook-execs-panicking-ai-race")
        #expect(doc.body == "\n")
    }

    @Test func contextFallsBackFromWebUrlToOriginalUrlToEmpty() throws {
        let both = try RecordDocument(parsing: "---\noriginalUrl: https://o\nwebUrl: https://w\n---\n")
        #expect(both.securedContext == "https://w")
        let original = try RecordDocument(parsing: "---\noriginalUrl: https://o\n---\nbody\n")
        #expect(original.securedContext == "https://o")
        #expect(original.body == "body\n")
        let none = try RecordDocument(parsing: "---\ntitle: x\n---\n")
        #expect(none.securedContext == "")
    }

    @Test func crlfRecordsParse() throws {
        let doc = try RecordDocument(parsing: "---\r\ntitle: \"x\"\r\nquality: 3\r\n---\r\nline one\r\n")
        #expect(doc.fields["title"] == .string("x"))
        #expect(doc.fields["quality"] == .number(3))
        #expect(doc.body == "line one\r\n")
    }

    /// The canonical bytes written piece by piece (for hashing as they are made) are exactly
    /// those of the whole value `{"body": BODY with CRLF → LF, "fields": FIELDS}`, wherever the
    /// pieces cut: inside a CRLF, an escape, a UTF-8 sequence.
    @Test func canonicalBytesInPiecesMatchTheWholeForm() throws {
        let bodies = ["", "line one\r\n", "\r", "\r\r\n\n\r", "a\r\nb\rc\n\r\n", "tab\there \"q\" \\ \u{1}\u{1F}",
                      "é€😀\r\n日本\r\n", String(repeating: "x\r\ny\u{7}😀", count: 500)]
        for body in bodies {
            let document = try RecordDocument(parsing: "---\ntitle: \"x\"\nsignatures: []\nb: [1, {c: d}]\n---\n" + body)
            guard case .object(let pairs) = document.fields else { Issue.record("not an object"); continue }
            let expected = FieldValue.object([("body", .string(body.replacing("\r\n", with: "\n"))),
                                              ("fields", .object(pairs.filter { $0.key != "signatures" }))]).canonicalJSON
            #expect(RecordSignatures.canonicalBytes(of: document) == expected)
            for pieceSize in [1, 2, 3, 7, 64, 1 << 16] {
                var joined: [UInt8] = []
                var pieces = 0
                RecordSignatures.writeCanonicalBytes(of: document, pieceSize: pieceSize) { joined.append(contentsOf: $0); pieces += 1 }
                #expect(joined == expected, "piece size \(pieceSize)")
                #expect(pieces >= min(body.utf8.count / pieceSize, 2))
            }
        }
    }

    @Test func coreSchemaScalars() throws {
        let doc = try RecordDocument(parsing: """
            ---
            a: ~
            b:
            c: null
            d: True
            e: 1.5e-3
            f: "42"
            g: "0x1F"
            h: ".inf"
            i: 'yes'
            j: -0.25
            k: 2023-04-28
            ---

            """)
        #expect(doc.fields["a"] == .null)
        #expect(doc.fields["b"] == .null)
        #expect(doc.fields["c"] == .null)
        #expect(doc.fields["d"] == .bool(true))
        #expect(doc.fields["e"] == .number(0.0015))
        #expect(doc.fields["f"] == .string("42"))
        #expect(doc.fields["g"] == .string("0x1F"))
        #expect(doc.fields["h"] == .string(".inf"))
        #expect(doc.fields["i"] == .string("yes"))
        // Unquoted, YAML 1.1 reads these otherwise (0x1F is 31, .inf infinity, yes true,
        // 1.5e3 text): they are refused (YAML11Tests).
        for refused in ["e: 1.5e3", "g: 0x1F", "h: .inf", "i: yes"] {
            #expect(throws: FormatError.self) { try RecordDocument(parsing: "---\n\(refused)\n---\n") }
        }
        #expect(doc.fields["j"] == .number(-0.25))
        #expect(doc.fields["k"] == .string("2023-04-28"))
    }

    static let malformed: [(String, String)] = [
        ("title: x\n", "first line must be '---'"),
        ("---\ntitle: x\n", "no closing '---'"),
        ("---\na: 1\na: 2\n---\n", "duplicate key"),
        ("---\na: &x 1\nb: *x\n---\n", "anchors and aliases"),
        ("---\na: &x [1]\n---\n", "anchors and aliases"),
        ("---\na: 1\n--- b\n---\n", "several YAML documents"),
        ("---\na: !custom 1\n---\n", "tags are not allowed"),
        ("---\na: !!str 1\n---\n", "tags are not allowed"),
        ("---\n%YAML 1.2\n---\n", "invalid YAML"),
        ("---\n%YAML 1.2\n--- {a: 1}\n---\n", "directives are not allowed"),
        ("---\n1: one\n---\n", "keys must be strings"),
        ("---\ntrue: yes\n---\n", "keys must be strings"),
        ("---\n? [a, b]\n: c\n---\n", "keys must be strings"),
        ("---\nbig: 9007199254740992\n---\n", "beyond ±(2^53−1)"),
        ("---\nsmall: -9007199254740992\n---\n", "beyond ±(2^53−1)"),
        ("---\nhuge: 1e400\n---\n", "out of range"),
        ("---\nx: \"\\ud800\"\n---\n", "invalid YAML"),
        ("---\n- a\n- b\n---\n", "must be a mapping"),
        ("---\na: [1, 2\n---\n", "invalid YAML"),
        ("---\npublished: no\n---\n", "read as false by YAML 1.1"),
        ("---\ntitle: Hello\u{2028}# and the CEO resigns\n---\n", "line separator U+2028"),
    ]

    @Test func errorsNameTheLineInTheFile() {
        #expect {
            _ = try RecordDocument(parsing: "---\ntitle: a\nquality: 3\ntitle: b\n---\n")
        } throws: { error in
            guard case .invalidRecord(_, let line) = error as? FormatError else { return false }
            return line == 4
        }
    }

    @Test func limitsAreEnforced() throws {
        let deep = "---\na: " + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "\n---\n"
        #expect(throws: FormatError.self) { try RecordDocument(parsing: deep) }
        let ok = "---\na: " + String(repeating: "[", count: 60) + String(repeating: "]", count: 60) + "\n---\n"
        _ = try RecordDocument(parsing: ok)
        let big = "---\na: \"" + String(repeating: "x", count: RecordLimits.frontMatterBytes) + "\"\n---\n"
        #expect(throws: FormatError.self) { try RecordDocument(parsing: big) }
        #expect(try RecordDocument(parsing: "---\nmax: 9007199254740991\nmin: -9007199254740991\n---\n").fields["max"] == .number(9007199254740991))
    }

    @Test func topLevelKeyLinesAndStyle() throws {
        let flow = try RecordDocument(parsing: "---\n{a: 1, b: [2, 3]}\n---\n")
        let doc = try RecordDocument(parsing: "---\ntitle: a\nlist:\n  - 1\n  - 2\nlast: x\n---\nbody\n")
        #expect(doc.frontMatter.keyLines.map(\.key) == ["title", "list", "last"])
        #expect(doc.frontMatter.keyLines.map(\.line) == [2, 3, 6])
        #expect(doc.frontMatter.isBlockMapping)
        #expect(!flow.frontMatter.isBlockMapping)
    }

    @Test(arguments: malformed)
    func malformedRecordsAreRefused(_ text: String, _ reason: String) {
        #expect {
            _ = try RecordDocument(parsing: text)
        } throws: { error in
            guard case .invalidRecord(let why, _) = error as? FormatError else { return false }
            return why.contains(reason)
        }
    }
}
