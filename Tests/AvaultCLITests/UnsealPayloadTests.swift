// What a sealed payload may restore. A v3 blob can be made by anyone who knows the desk's
// recipients, and a v2 blob by anyone who holds the content key: `unseal` must restore only what
// `seal` could have put there, never a field seal refuses to move.

import ArticleVault
import Foundation
import Testing
import VaultFormat

@Suite("unseal refuses a payload naming a field seal never moves: secured, signatures, webUrl, originalUrl")
struct UnsealReservedFieldTests {
    /// The legacy v1 blob of the demo record (a padding oracle once it is in a signed record).
    static func legacyBlob() throws -> String {
        let text = try String(contentsOf: CLI.repoRoot.appendingPathComponent("Fixtures/records/demo-v1.md"), encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("secured: \"") })
        return String(line.dropFirst("secured: \"".count).dropLast())
    }

    /// The JSON of a sealed payload restoring `fields` (name, the key it follows, its YAML lines).
    static func payload(_ fields: [(name: String, after: String?, yaml: String)], body: String = "Injected text.\n") throws -> Data {
        let list: [[String: Any]] = fields.map { ["name": $0.name, "after": $0.after as Any? ?? NSNull(), "yaml": $0.yaml] }
        return try JSONSerialization.data(withJSONObject: ["format": "avault-sealed-v1", "body": body, "fields": list], options: [.sortedKeys])
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// An outsider who knows only alice's recipient makes a v3 "sealed draft" whose payload puts a
    /// legacy v1 blob back as `secured`: unseal must refuse it (exit 1, nothing written) rather
    /// than write a record that `secured decrypt --record`, `migrate` and `unseal --key LEGACY`
    /// would then decrypt, once it is signed, with no opt-in.
    @Test func aV3PayloadRestoringSecuredIsRefused() throws {
        let alice = try Editor("alice")
        let dir = try SealRecipientsCLITests.desk()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = "https://example.org/inj"
        let legacy = try Self.legacyBlob()
        let payload = try Self.payload([("secured", "webUrl", "secured: \"\(legacy)\"\n")])
        let blob = try SecuredField.encryptV3(Array(payload), to: [try AgeKeys.parseRecipient(alice.recipient)], context: url)
        let record = "---\ntitle: \"Injected\"\nwebUrl: \"\(url)\"\nsecured: \"\(blob.text)\"\n---\n"
        let path = dir.appendingPathComponent("inj.md").path
        try SealRecipientsCLITests.write(record, path)

        let u = try alice.k.avault(["unseal", path])
        #expect(u.code == 1, "\(u.code) \(u.err)")
        #expect(u.err.hasPrefix("avault: \(path): the sealed payload is malformed: it holds the field 'secured', which seal never puts in a blob; nothing was written\navault: hint: "), "\(u.err)")
        #expect(try Self.read(path) == record)
        #expect(!(try Self.read(path)).contains(legacy))
    }

    /// The same through a v2 blob (an insider with the content key), for every name seal
    /// refuses, a key spelled with YAML escapes (compared as the parser reads it), and lines
    /// that carry another field besides the one they name.
    @Test func aV2PayloadRestoringAReservedFieldIsRefused() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let legacy = try Self.legacyBlob()
        let cases: [(name: String, field: (name: String, after: String?, yaml: String), withURL: Bool)] = [
            ("secured", ("secured", "title", "secured: \"\(legacy)\"\n"), true),
            ("webUrl", ("webUrl", "title", "webUrl: \"https://example.org/elsewhere\"\n"), false),
            // `original\x55rl` is `originalUrl` to YAML: the name is compared as the parser reads keys.
            ("originalUrl", ("originalUrl", "title", "\"original\\x55rl\": \"https://example.org/elsewhere\"\n"), true),
            ("signatures", ("signatures", "title", "\"sign\\u0061tures\": []\n"), true),
        ]
        for (index, c) in cases.enumerated() {
            let url = c.withURL ? "https://example.org/inj\(index)" : ""
            let e = try CLI.avault(["secured", "encrypt", "--key", "demo-content", "--context", url] + demo.args,
                                   stdin: try Self.payload([c.field]))
            #expect(e.code == 0, "\(e.err)")
            let blob = e.out.trimmingCharacters(in: .newlines)
            let record = "---\ntitle: \"Injected\"\n" + (c.withURL ? "webUrl: \"\(url)\"\n" : "") + "secured: \"\(blob)\"\n---\n"
            let path = try demo.record("inj\(index).md", record)
            let u = try CLI.avault(["unseal", path] + demo.args)
            #expect(u.code == 1, "\(c.name): \(u.code) \(u.err)")
            #expect(u.err.hasPrefix("avault: \(path): the sealed payload is malformed: it holds the field '\(c.name)', which seal never puts in a blob"),
                    "\(c.name): \(u.err)")
            #expect(try Self.read(path) == record, "\(c.name)")
        }
        // A field's lines that hold another key too (here `signatures`, which the read-back check leaves aside).
        let e = try CLI.avault(["secured", "encrypt", "--key", "demo-content", "--context", "https://example.org/x"] + demo.args,
                               stdin: try Self.payload([("summary", "title", "summary: s\nsignatures: []\n")]))
        let record = "---\ntitle: \"Injected\"\nwebUrl: \"https://example.org/x\"\nsecured: \"\(e.out.trimmingCharacters(in: .newlines))\"\n---\n"
        let path = try demo.record("extra.md", record)
        let u = try CLI.avault(["unseal", path] + demo.args)
        #expect(u.code == 1 && u.err.hasPrefix("avault: \(path): the sealed payload is malformed: the YAML for field 'summary' holds the field 'signatures' too"),
                "\(u.code) \(u.err)")
        #expect(try Self.read(path) == record)
        // An honest payload of the same shape still unseals.
        let ok = try CLI.avault(["secured", "encrypt", "--key", "demo-content", "--context", "https://example.org/x"] + demo.args,
                                stdin: try Self.payload([("summary", "title", "summary: s\n")]))
        let honest = try demo.record("honest.md", "---\ntitle: \"T\"\nwebUrl: \"https://example.org/x\"\nsecured: \"\(ok.out.trimmingCharacters(in: .newlines))\"\n---\n")
        let h = try CLI.avault(["unseal", honest] + demo.args)
        #expect(h.code == 0, "\(h.err)")
        #expect(try Self.read(honest) == "---\ntitle: \"T\"\nsummary: s\nwebUrl: \"https://example.org/x\"\n---\nInjected text.\n")
    }
}
