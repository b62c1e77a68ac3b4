import Foundation
import TestSupport
import Testing
import VaultFormat
#if canImport(Glibc)
import Glibc
#endif

/// Payloads of every awkward size, versions, `get -o`, and the JSON of put, list and history,
/// all through the real binary.
@Suite struct VaultRoundTripTests {
    /// Envelope bytes: magic (19) ‖ kid (8) ‖ secretstream header (24) ‖ chunks of ≤ 65,536
    /// bytes plus 17 each; an empty payload is one empty chunk, and a payload of exactly k full
    /// chunks is k chunks (no empty one after them).
    static func envelopeSize(payload n: Int) -> Int {
        19 + 8 + 24 + max(1, (n + 65535) / 65536) * 17 + n
    }

    @Test func payloadsOfEverySizeRoundTripByteForByte() throws {
        let f = try VaultFixture()
        var rng = SeededRNG(seed: 0x5EED_0001)
        let sizes = [0, 1, 17, 65535, 65536, 65537, 131072, 3 * 1024 * 1024 + 12345]
        for (i, size) in sizes.enumerated() {
            let payload = rng.data(size)
            let id = "size-\(size)"
            let before = Set(try f.envelopeFiles().envelopes)
            // Alternate between a file argument and standard input.
            let version = try f.put(id, payload, viaStdin: i % 2 == 1)
            #expect(version == 1)
            let added = Set(try f.envelopeFiles().envelopes).subtracting(before)
            try #require(added.count == 1, "one envelope per put, got \(added)")
            let envelope = try vaultRead(f.objects + "/" + added.first!)
            #expect(envelope.count == Self.envelopeSize(payload: size), "envelope of a \(size)-byte payload is \(envelope.count) bytes")
            #expect(envelope.prefix(19) == Data("avault-envelope v1\n".utf8))

            let got = try f.get(id)
            #expect(got.code == 0, "get \(id): \(got.err)")
            #expect(got.stdout.count == size)
            #expect(Bytes(got.stdout) == Bytes(payload), "get \(id) differs from what was put")
            #expect(got.err.isEmpty)

            // -o: the same bytes, mode 600, and no temporary file left beside it.
            let out = f.path("out-\(size)")
            let o = try f.avault(["vault", "get", id, "-o", out])
            #expect(o.code == 0, "get -o: \(o.err)")
            #expect(Bytes(try vaultRead(out)) == Bytes(payload), "get -o \(id)")
            #expect(try vaultMode(out) == 0o600)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: f.path("")).filter { $0.hasPrefix(".avault-tmp") }
            #expect(leftovers.isEmpty, "get -o left \(leftovers)")
        }
        // The vault's own files: directories 700, files 600.
        for rel in try f.allVaultPaths() {
            let mode = try vaultMode(f.vault + "/" + rel)
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: f.vault + "/" + rel, isDirectory: &isDir)
            #expect(mode == (isDir.boolValue ? 0o700 : 0o600), "\(rel) has mode \(String(mode, radix: 8))")
        }
        #expect(try vaultMode(f.vault) == 0o700)
        let (code, report) = try f.verify()
        #expect(code == 0, "\(report)")
        #expect(report.objects == sizes.count && report.versions == sizes.count)
    }

    @Test(arguments: VaultStore.allCases)
    func olderVersionsStayReadableAndGetOReplacesAnExistingFileWhole(store: VaultStore) throws {
        let f = try VaultFixture(store: store)
        let texts = ["first draft\n", "second draft, longer than the first\n", "", "fourth\n"]
        for (i, t) in texts.enumerated() {
            #expect(try f.put("article", Data(t.utf8)) == i + 1)
        }
        for (i, t) in texts.enumerated() {
            let r = try f.get("article", version: i + 1)
            #expect(r.code == 0, "\(r.err)")
            #expect(r.out == t, "version \(i + 1)")
        }
        #expect(try f.get("article").out == texts.last!)
        let missing = try f.get("article", version: 9)
        #expect(missing.code == 2)
        #expect(missing.err.contains("has no version 9"), "\(missing.err)")
        #expect(missing.err.contains("hint: versions: 1, 2, 3, 4"), "\(missing.err)")
        let none = try f.get("no-such-article")
        #expect(none.code == 2)
        #expect(none.err.hasPrefix("avault: no object 'no-such-article' in the vault"), "\(none.err)")

        // -o over an existing, longer file (with --force): replaced whole, mode 600 even if it was 644.
        let out = f.path("existing")
        try CLI.write(String(repeating: "x", count: 5000), to: URL(fileURLWithPath: out), mode: 0o644)
        let o = try f.avault(["vault", "get", "article", "--version", "1", "-o", out, "--force"])
        #expect(o.code == 0, "\(o.err)")
        #expect(String(decoding: try vaultRead(out), as: UTF8.self) == texts[0])
        #expect(try vaultMode(out) == 0o600)
        // export is get -o for the newest version.
        let e = try f.avault(["vault", "export", "article", "-o", f.path("exported")])
        #expect(e.code == 0, "\(e.err)")
        #expect(String(decoding: try vaultRead(f.path("exported")), as: UTF8.self) == texts[3])
        #expect(try vaultMode(f.path("exported")) == 0o600)
    }

    @Test(arguments: VaultStore.allCases)
    func putListAndHistoryJSON(store: VaultStore) throws {
        let f = try VaultFixture(store: store)
        let kid = try #require(try f.json(["keys", "list"])["keys"].flatMap { $0 as? [[String: Any]] }?.first?["keyId"] as? String)

        let p = try f.avault(["vault", "put", "--json", "--content-type", "text/markdown", "b/article", "-"], stdin: Data("hello\n".utf8))
        #expect(p.code == 0, "\(p.err)")
        let stored = try #require(try JSONSerialization.jsonObject(with: p.stdout) as? [String: Any])
        #expect(stored["id"] as? String == "b/article")
        #expect(stored["version"] as? Int == 1)
        #expect(stored["size"] as? Int == 6)
        #expect(Set(stored.keys) == ["schemaVersion", "id", "version", "size"])
        try f.put("b/article", Data(repeating: 7, count: 70000))
        try f.put("a/other", Data("x".utf8))
        try f.put("c/gone", Data("bye".utf8))
        #expect(try f.avault(["vault", "rm", "c/gone"]).code == 0)

        let list = try f.json(["vault", "list"])
        let objects = try #require(list["objects"] as? [[String: Any]])
        #expect(objects.map { $0["id"] as? String } == ["a/other", "b/article", "c/gone"], "sorted by ID")
        for o in objects {
            #expect(Set(o.keys) == ["id", "versions", "latestSize", "updated", "keyId", "removed"], "\(o.keys)")
            #expect(o["keyId"] as? String == kid)
            let updated = try #require(o["updated"] as? String)
            #expect(updated.count == 20 && updated.hasSuffix("Z") && Array(updated)[10] == "T", "\(updated)")
        }
        #expect(objects[1]["versions"] as? Int == 2)
        #expect(objects[1]["latestSize"] as? Int == 70000)
        #expect(objects[1]["removed"] is NSNull)
        #expect(objects[0]["versions"] as? Int == 1)
        #expect(objects[0]["latestSize"] as? Int == 1)
        #expect(objects[2]["removed"] is String, "rm sets removed: \(objects[2])")
        let prefixed = try f.json(["vault", "list", "--prefix", "b/"])
        #expect((prefixed["objects"] as? [[String: Any]])?.map { $0["id"] as? String } == ["b/article"])

        let history = try f.json(["vault", "history", "b/article"])
        #expect(Set(history.keys) == ["schemaVersion", "id", "removed", "versions"])
        #expect(history["id"] as? String == "b/article")
        #expect(history["removed"] is NSNull)
        let versions = try #require(history["versions"] as? [[String: Any]])
        #expect(versions.count == 2)
        #expect(versions.map { $0["version"] as? Int } == [1, 2])
        #expect(versions.map { $0["size"] as? Int } == [6, 70000])
        #expect(versions[0]["contentType"] as? String == "text/markdown")
        #expect(versions[1]["contentType"] is NSNull)
        for v in versions {
            #expect(Set(v.keys) == ["version", "size", "created", "contentType", "keyId"])
            #expect(v["keyId"] as? String == kid)
            #expect((v["created"] as? String)?.hasSuffix("Z") == true)
        }
        let gone = try f.json(["vault", "history", "c/gone"])
        #expect(gone["removed"] is String)
        let empty = try VaultFixture()
        let none = try empty.json(["vault", "list"])
        #expect((none["objects"] as? [Any])?.isEmpty == true)
        #expect(try empty.avault(["vault", "list"]).out == "no objects\n")
    }

    @Test func withoutAVaultEveryCommandSaysSoAndTouchesNothingElse() throws {
        let f = try VaultFixture()
        let elsewhere = f.path("no-vault-here")
        for args in [["vault", "get", "x"], ["vault", "put", "x", "-"], ["vault", "list"], ["vault", "verify"], ["vault", "log", "--verify"]] {
            let r = try f.avault(args + ["--vault", elsewhere])
            #expect(r.code == 2, "\(args): \(r.code) \(r.err)")
            #expect(r.err.hasPrefix("avault: no vault at \(elsewhere)"), "\(args): \(r.err)")
            #expect(r.err.contains("hint: create one with 'avault vault init --key NAME'"))
        }
        #expect(!FileManager.default.fileExists(atPath: elsewhere))
        // A second init over an existing vault is refused.
        let again = try f.avault(["vault", "init", "--key", "drafts"])
        #expect(again.code == 2)
        #expect(again.err.contains("a vault already exists there"), "\(again.err)")
        // A signing key cannot protect a vault.
        #expect(try f.avault(["keys", "generate", "signer", "--signing", "--unprotected"]).code == 0)
        let wrong = try f.avault(["vault", "init", "--key", "signer", "--vault", elsewhere])
        #expect(wrong.code == 2)
        #expect(wrong.err.contains("a vault needs a content key"), "\(wrong.err)")
        // No default location was used.
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.dir.appendingPathComponent("xdg-data").path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.dir.appendingPathComponent("home").path).isEmpty)
    }
}

/// `vault import` and the errors that must leave the vault as it was.
@Suite struct VaultImportAndErrorTests {
    static let seed = "Fixtures/seed/000_6e329c144f65a19c.txt"

    @Test func importStoresRecordsUnderTheirURLsInOneTransaction() throws {
        let f = try VaultFixture()
        let text = try String(contentsOf: CLI.repoRoot.appendingPathComponent(Self.seed), encoding: .utf8)
        let url = "https://futurism.com/the-byte/facebook-execs-panicking-ai-race"
        #expect(text.contains("webUrl: \"\(url)\""))
        let dir = f.path("records")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let second = text.replacingOccurrences(of: "webUrl: \"\(url)\"", with: "webUrl: \"\(url)-2\"")
        let onlyOriginal = text.replacingOccurrences(of: "webUrl: \"\(url)\"\n", with: "")
            .replacingOccurrences(of: "originalUrl: \"\(url)\"", with: "originalUrl: \"\(url)-original\"")
        let neither = text.replacingOccurrences(of: "webUrl: \"\(url)\"\n", with: "").replacingOccurrences(of: "originalUrl: \"\(url)\"\n", with: "")
        for (name, body) in [("a.md", text), ("b.md", second), ("c.md", onlyOriginal), ("d.md", neither)] {
            try CLI.write(body, to: URL(fileURLWithPath: dir + "/" + name))
        }
        let r = try f.avault(["vault", "import", dir, "--json"])
        #expect(r.code == 0, "\(r.err)")
        let stored = r.out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(Set(stored.compactMap { $0["id"] as? String }) == [url, url + "-2", url + "-original", "d.md"], "\(r.out)")
        #expect(try f.get(url).out == text)
        #expect(try f.get(url + "-2").out == second)
        #expect(try f.get("d.md").out == neither)
        let history = try f.json(["vault", "history", url])
        #expect((history["versions"] as? [[String: Any]])?.first?["contentType"] as? String == "text/markdown")
        // The record's title and URL never reach the disk in the clear; the log has one entry per record.
        try VaultIDTests.expectNothingRecognisable(in: f, ids: [url, "d.md"], extra: [("record title", "Facebook Execs Panicking")])
        let log = try f.avault(["vault", "log", "--json"]).out
        #expect(log.split(separator: "\n").count == 1 + 4)

        // A batch with one bad record stores nothing.
        try CLI.write("---\ntitle: [unclosed\n---\nbody\n", to: URL(fileURLWithPath: dir + "/e.md"))
        let before = try f.envelopeFiles().envelopes
        let bad = try f.avault(["vault", "import", dir])
        expectVaultCleanFailure(bad, "import with a malformed record")
        #expect(try f.envelopeFiles().envelopes == before)
        #expect(try f.envelopeFiles().leftovers.isEmpty)
        #expect(try f.avault(["vault", "log", "--json"]).out == log)
    }

    @Test func failedPutsLeaveNothingBehind() throws {
        let f = try VaultFixture()
        try f.put("doc", Data("v1".utf8))
        let index = try vaultRead(f.vault + "/index"), log = try vaultRead(f.vault + "/log")
        let cases: [([String], String)] = [
            (["vault", "put", "doc", f.path("does-not-exist")], "a missing file"),
            (["vault", "put", "doc", f.path("")], "a directory"),
            (["vault", "put", "", "-"], "an empty ID"),
            (["vault", "put", "doc", "-", "--vault", f.path("nowhere")], "no vault"),
            (["vault", "put", "doc", "-"], "a keyring without the vault's key"),
        ]
        for (args, what) in cases {
            let env: [String: String?] = what.contains("keyring") ? ["AVAULT_KEYRING": f.path("empty-ring")] : [:]
            let r = try f.avault(args, stdin: Data("x".utf8), env: env)
            expectVaultCleanFailure(r, "put of \(what)")
            #expect(r.code == 2, "put of \(what): \(r.code) \(r.err)")
            #expect(try vaultRead(f.vault + "/index") == index, "put of \(what) changed the index")
            #expect(try vaultRead(f.vault + "/log") == log, "put of \(what) changed the log")
            let files = try f.envelopeFiles()
            #expect(files.envelopes.count == 1 && files.leftovers.isEmpty, "put of \(what) left \(files)")
        }
        let missingDir = try f.avault(["vault", "get", "doc", "-o", f.path("no/such/dir/out")])
        #expect(missingDir.code == 2, "\(missingDir.err)")
        #expect(try f.verify().code == 0)
    }
}

/// IDs of every shape round-trip, and no ID or title ever shows in a file name or in
/// plaintext anywhere in the vault.
@Suite struct VaultIDTests {
    static let title = "Zebra Quantum Marmalade Conspiracy 4711"

    static let ids: [String] = [
        "plain", "a/b/c", "/leading/slash", "trailing/", "dots.in.name", ".", "..", "../../etc/passwd", "a/../b",
        "with space", "  padded  ", "-leading-dash", "--double-dash", "-", "é", "café au lait", "漢字のタイトル", "🦓🔒",
        "tab\there", "line\nbreak", "quote\"and\\backslash", "percent%2Fencoded", String(repeating: "long-id-", count: 125),
    ]

    /// A markdown record whose title is `title` and whose body mentions the ID.
    static func record(_ id: String, _ n: Int) -> Data {
        Data("---\ntitle: \"\(title)\"\nn: \(n)\n---\n\nBody of \(id.prefix(20)) #\(n).\n".utf8)
    }

    @Test(arguments: VaultStore.allCases)
    func awkwardIDsRoundTrip(store: VaultStore) throws {
        let f = try VaultFixture(store: store)
        #expect(Self.ids.last!.count == 1000)
        for (n, id) in Self.ids.enumerated() {
            #expect(try f.put(id, Self.record(id, n)) == 1, "\(id.debugDescription)")
            #expect(try f.put(id, Self.record(id, n + 1000), viaStdin: true) == 2)
        }
        for (n, id) in Self.ids.enumerated() {
            let latest = try f.get(id)
            #expect(latest.code == 0, "get \(id.debugDescription): \(latest.err)")
            #expect(latest.stdout == Self.record(id, n + 1000), "\(id.debugDescription)")
            let first = try f.get(id, version: 1)
            #expect(first.stdout == Self.record(id, n), "\(id.debugDescription)")
            let h = try f.avault(["vault", "history", "--json", "--", id])
            #expect(h.code == 0, "history \(id.debugDescription): \(h.err)")
            let history = try #require(try JSONSerialization.jsonObject(with: h.stdout) as? [String: Any])
            #expect(history["id"] as? String == id)
            #expect((history["versions"] as? [Any])?.count == 2)
        }
        let listed = try #require(try f.json(["vault", "list"])["objects"] as? [[String: Any]]).compactMap { $0["id"] as? String }
        #expect(Set(listed) == Set(Self.ids), "list: \(Set(listed).symmetricDifference(Self.ids))")
        #expect(listed.count == Self.ids.count)

        let (code, report) = try f.verify()
        #expect(code == 0, "\(report)")
        #expect(report.objects == Self.ids.count && report.versions == 2 * Self.ids.count)
        try Self.expectNothingRecognisable(in: f, ids: Self.ids)
    }

    /// Every name under the vault is one of the fixed ones or `objects/<32 hex>-<version>`,
    /// and no file holds an ID (raw, hex) or the records' title in plaintext.
    static func expectNothingRecognisable(in f: VaultFixture, ids: [String], extra: [(String, String)] = [],
                                          sourceLocation: SourceLocation = #_sourceLocation) throws {
        let needles: [(String, Data)] = [("title", Data(title.utf8)), ("body", Data("Body of ".utf8))] + extra.map { ($0.0, Data($0.1.utf8)) }
            + ids.filter { $0.utf8.count >= 4 }.flatMap { id in
                [("ID \(id.prefix(30).debugDescription)", Data(id.utf8)), ("hex ID \(id.prefix(30).debugDescription)", Data(CLI.hex(Array(id.utf8)).utf8))]
            }
        if f.store.isPostgres {
            // What the server holds: two named documents, envelopes under keyed names, log rows.
            // …and the index entries (formats.md 8.3.1), under keyed names too.
            let files = try f.psql("SELECT name FROM avault_files ORDER BY name").split(separator: "\n")
            #expect(files.filter { !$0.hasPrefix("entries/") } == ["config", "index"], "\(files)", sourceLocation: sourceLocation)
            for name in files where name.hasPrefix("entries/") {
                #expect(VaultFiles.parseEntryFileName(String(name.dropFirst(8))) != nil, "unexpected entry name \(name.debugDescription)",
                        sourceLocation: sourceLocation)
            }
            for name in try f.psql("SELECT DISTINCT name FROM avault_envelopes").split(separator: "\n") {
                #expect(Self.isEnvelopeName(String(name)), "unexpected envelope name \(name.debugDescription)", sourceLocation: sourceLocation)
            }
            for table in ["avault_files", "avault_log", "avault_log_heads", "avault_envelopes", "avault_quarantine"] {
                let column = table.hasPrefix("avault_log") ? "line" : "bytes"
                for row in try f.psql("SELECT encode(\(column), 'hex') FROM \(table)").split(separator: "\n") {
                    let content = VaultFixture.unhex(row)
                    for (what, needle) in needles where content.range(of: needle) != nil {
                        Issue.record("a row of \(table) contains the \(what) in plaintext", sourceLocation: sourceLocation)
                    }
                }
            }
            return
        }
        let fixed: Set<String> = ["config", "index", "log", "log.heads", "lock", "finished", "objects", "quarantine", "entries"]
        let paths = try f.allVaultPaths()
        for p in paths {
            let ok = fixed.contains(p) || (p.hasPrefix("objects/") && Self.isEnvelopeName(String(p.dropFirst(8))))
                || (p.hasPrefix("entries/") && VaultFiles.parseEntryFileName(String(p.dropFirst(8))) != nil)
            #expect(ok, "unexpected name under the vault: \(p.debugDescription)", sourceLocation: sourceLocation)
            for id in ids {
                // Any run of 4+ letters or digits from the ID (pure hex runs are covered by the
                // shape check above: names hold nothing but hex).
                for piece in id.split(whereSeparator: { !($0.isLetter || $0.isNumber) })
                where piece.count >= 4 && !piece.allSatisfy({ $0.isASCII && $0.isHexDigit }) {
                    #expect(!p.contains(piece), "\(p) contains \(piece) from ID \(id.debugDescription)", sourceLocation: sourceLocation)
                }
            }
        }
        for p in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: f.vault + "/" + p, isDirectory: &isDir), !isDir.boolValue else { continue }
            let content = try vaultRead(f.vault + "/" + p)
            for (what, needle) in needles where content.range(of: needle) != nil {
                Issue.record("\(p) contains the \(what) in plaintext", sourceLocation: sourceLocation)
            }
        }
    }

    static func isEnvelopeName(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 32, parts[0].allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
              let v = Int(parts[1]), v >= 1, String(v) == parts[1] else { return false }
        return true
    }

    @Test func fileNamesAreKeyedPerVault() throws {
        // The same ID gets unrelated names in two vaults (the naming key is per vault).
        let a = try VaultFixture(), b = try VaultFixture()
        try a.put("same-id", Data("1".utf8))
        try b.put("same-id", Data("1".utf8))
        let na = try a.envelopeFiles().envelopes, nb = try b.envelopeFiles().envelopes
        #expect(na.count == 1 && nb.count == 1)
        #expect(na != nb, "two vaults name the same ID identically: \(na)")
        // …and two IDs that differ in one character get unrelated names in one vault.
        try a.put("same-ie", Data("1".utf8))
        let names = try a.envelopeFiles().envelopes.map { $0.prefix(32) }
        #expect(Set(names).count == 2)
        #expect(names[0].prefix(8) != names[1].prefix(8))
        // The log names objects by file name only.
        let log = try #require(String(data: try vaultRead(a.vault + "/log"), encoding: .utf8))
        #expect(!log.contains("same-id") && !log.contains("same-ie"))
    }

    /// "é" (U+00E9) and "e" + U+0301 are different byte strings, and avault names files by the
    /// bytes, so they must be two objects; an acknowledged put must always be readable.
    @Test(arguments: VaultStore.allCases)
    func canonicallyEquivalentIDsStayDistinctAndReadable(store: VaultStore) throws {
        let f = try VaultFixture(store: store)
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        #expect(Array(composed.utf8) != Array(decomposed.utf8))
        let v1 = try f.put(composed, Data("composed\n".utf8))
        let v2 = try f.put(decomposed, Data("decomposed\n".utf8))
        // Whatever numbering avault chose, every acknowledged version reads back.
        let r1 = try f.get(composed, version: v1)
        #expect(r1.code == 0, "get composed v\(v1): \(r1.err)")
        #expect(r1.out == "composed\n")
        let r2 = try f.get(decomposed, version: v2)
        #expect(r2.code == 0, "get decomposed v\(v2): \(r2.err)")
        #expect(r2.out == "decomposed\n")
        let (code, report) = try f.verify()
        #expect(code == 0, "after putting canonically equivalent IDs: \(report)")
        #expect(report.missing.isEmpty, "an acknowledged put is missing: \(report)")
    }
}
