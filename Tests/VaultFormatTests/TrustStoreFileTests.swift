import Foundation
import Testing
import VaultCrypto
import VaultFormat

private enum TrustSample {
    static let lineA = "RWQwvGHfpxqcnuXN8YMi2v+SyIWtlmpdsfpXvVtzeT5HJjXYP04obJEP" // 9E9C1AA7DF61BC30
    static let lineB = "RWSMoSCycnTPxHCJIekOW0ZjiNr5kzAUqEesATig99qeKL7JkjBEjJga" // C4CF7472B220A18C

    static let lines = [
        "avault-trust v1",                                    // 1
        "",                                                   // 2
        "key: 9E9C1AA7DF61BC30 \(lineA)",                     // 3
        "name: Alice at the desk",                            // 4
        "role: desk",                                         // 5
        "role: editor",                                       // 6
        "not-before: 2026-01-01T00:00:00Z",                   // 7
        "not-after: 2027-06-30T12:00:00+02:00",               // 8
        "added: 2026-11-27T12:00:00Z",                        // 9
        "revoked: 2026-11-28T08:30:00Z left the paper: for good", // 10
        "",                                                   // 11
        "key: C4CF7472B220A18C \(lineB)",                     // 12
        "name: Bob",                                          // 13
        "added: 2026-11-27T12:00:01Z",                        // 14
    ]
    static var text: String { lines.joined(separator: "\n") + "\n" }
    static func text(replacingLine n: Int, with replacement: String?) -> String {
        var l = lines
        if let replacement { l[n - 1] = replacement } else { l.remove(at: n - 1) }
        return l.joined(separator: "\n") + "\n"
    }
}

@Suite struct TrustStoreFileFormat {
    @Test func parseAndSerialiseRoundTrip() throws {
        let file = try TrustStoreFile(parsing: TrustSample.text)
        #expect(file.serialized() == TrustSample.text)
        #expect(file.entries.count == 2)
        let a = file.entries[0], b = file.entries[1]
        #expect(a.publicKey.keyID.printed == "9E9C1AA7DF61BC30")
        #expect(a.publicKey.line == TrustSample.lineA)
        #expect(a.name == "Alice at the desk")
        #expect(a.roles == ["desk", "editor"])
        #expect(a.notBefore == "2026-01-01T00:00:00Z")
        #expect(a.notAfter == "2027-06-30T12:00:00+02:00")
        #expect(a.added == "2026-11-27T12:00:00Z")
        #expect(a.revoked?.time == "2026-11-28T08:30:00Z")
        #expect(a.revoked?.reason == "left the paper: for good")
        #expect(b.name == "Bob" && b.roles.isEmpty && b.notBefore == nil && b.notAfter == nil && b.revoked == nil)
        #expect(file.entry(for: try #require(Minisign.KeyID(printed: "C4CF7472B220A18C"))) == b)
        #expect(file.entry(for: Minisign.KeyID(bytes: [UInt8](repeating: 0, count: 8))) == nil)

        // Built from values.
        var built = TrustStoreFile()
        #expect(built.serialized() == "avault-trust v1\n")
        #expect(try TrustStoreFile(parsing: "avault-trust v1\n") == built)
        built.entries = [
            .init(publicKey: try Minisign.PublicKey(parsing: TrustSample.lineA), name: "Alice at the desk", roles: ["desk", "editor"],
                  notBefore: "2026-01-01T00:00:00Z", notAfter: "2027-06-30T12:00:00+02:00", added: "2026-11-27T12:00:00Z",
                  revoked: ("2026-11-28T08:30:00Z", "left the paper: for good")),
            .init(publicKey: try Minisign.PublicKey(parsing: TrustSample.lineB), name: "Bob", added: "2026-11-27T12:00:01Z"),
        ]
        #expect(built == file)
        #expect(built.serialized() == TrustSample.text)
        // A revocation without a reason.
        built.entries[1].revoked = ("2026-12-01T00:00:00Z", "")
        let text = built.serialized()
        #expect(text.hasSuffix("added: 2026-11-27T12:00:01Z\nrevoked: 2026-12-01T00:00:00Z\n"))
        let back = try TrustStoreFile(parsing: text)
        #expect(back == built)
        #expect(back.entries[1].revoked?.reason == "")
        #expect(back.serialized() == text)
        // Names keep inner and outer spaces and non-ASCII text.
        built.entries[1].name = " Zoë  Ünal "
        #expect(try TrustStoreFile(parsing: built.serialized()).entries[1].name == " Zoë  Ünal ")
    }

    static let damaged: [(Int, String?, Int, String)] = [
        (1, "avault-trust v2", 1, "not an avault trust store"),
        (2, "junk", 2, "expected a blank line"),
        (3, "key: 9E9C1AA7DF61BC31 \(TrustSample.lineA)", 3, "key id 9E9C1AA7DF61BC31 does not match the public key's id 9E9C1AA7DF61BC30"),
        (3, "key: 9e9c1aa7df61bc30 \(TrustSample.lineA)", 3, "does not match"),
        (3, "key: C4CF7472B220A18C \(TrustSample.lineA)", 3, "does not match"),
        (3, "key: 9E9C1AA7DF61BC30", 3, "expected 'key: <KEYID> <base64 public key>'"),
        (3, "key: 9E9C1AA7DF61BC30 AAAA", 3, "not base64 of 42 bytes"),
        (12, "key: 9E9C1AA7DF61BC30 \(TrustSample.lineA)", 12, "key 9E9C1AA7DF61BC30 appears twice"),
        (4, "name: ", 4, "invalid name"),
        (4, nil, 4, "expected 'name: …'"),
        (5, "role: Desk", 5, "invalid role"),
        (7, "not-before: 2026-02-30T00:00:00Z", 7, "'not-before' is not an RFC 3339 time"),
        (8, "not-after: tomorrow", 8, "'not-after' is not an RFC 3339 time"),
        (9, "added: 2026-11-27", 9, "'added' is not an RFC 3339 time"),
        (14, nil, 14, "expected 'added: …'"),
        (10, "revoked: soon left", 10, "'revoked' is not an RFC 3339 time"),
        (10, "comment: hello", 10, "expected a blank line"),
    ]

    @Test(arguments: 0..<damaged.count)
    func parseErrorsNameTheLine(index: Int) {
        let (line, replacement, expectedLine, words) = Self.damaged[index]
        do {
            _ = try TrustStoreFile(parsing: TrustSample.text(replacingLine: line, with: replacement))
            Issue.record("parsed a trust store with line \(line) damaged")
        } catch {
            #expect(error.description.hasPrefix("malformed trust store: line \(expectedLine): "), "\(error.description)")
            #expect(error.description.contains(words), "\(error.description)")
        }
    }

    @Test func wholeFileErrorsAndValidators() {
        #expect(throws: FormatError.invalidTrustStore("the file does not end with a newline", line: 14)) {
            try TrustStoreFile(parsing: String(TrustSample.text.dropLast()))
        }
        #expect(throws: FormatError.invalidTrustStore("not an avault trust store (expected 'avault-trust v1')", line: 1)) {
            try TrustStoreFile(parsing: "")
        }
        #expect(throws: FormatError.self) { try TrustStoreFile(parsing: TrustSample.text + "\n") }
        #expect(TrustStoreFile.isValidText("Alice"))
        #expect(TrustStoreFile.isValidText("Zoë Ünal"))
        #expect(!TrustStoreFile.isValidText(""))
        #expect(TrustStoreFile.isValidText("", allowEmpty: true))
        for bad in ["a\nb", "a\rb", "tab\there", "del\u{7F}"] { #expect(!TrustStoreFile.isValidText(bad), "\(bad)") }
        for good in ["desk", "editor", "a.b_c-d", "0", String(repeating: "r", count: 64)] { #expect(TrustStoreFile.isValidRole(good)) }
        for bad in ["", "Desk", "a b", "é", String(repeating: "r", count: 65)] { #expect(!TrustStoreFile.isValidRole(bad), "\(bad)") }
    }
}
