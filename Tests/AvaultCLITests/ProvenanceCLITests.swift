import Foundation
import Testing

/// A scratch copy of the demo keyring (the repository's own copy is never modified).
struct DemoRing {
    let dir: URL
    var args: [String] { ["--keyring", dir.appendingPathComponent("ring").path, "--passphrase-file", dir.appendingPathComponent("pass").path] }
    var ring: String { dir.appendingPathComponent("ring").path }
    var pub: String { dir.appendingPathComponent("desk.pub").path }

    init() throws {
        dir = try CLI.tempDirectory()
        let src = CLI.repoRoot.appendingPathComponent("keys/demo-keyring")
        let ring = dir.appendingPathComponent("ring")
        try FileManager.default.createDirectory(at: ring, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        for name in ["keyring.avk", "trust.avt"] {
            try CLI.write(String(contentsOf: src.appendingPathComponent(name), encoding: .utf8), to: ring.appendingPathComponent(name), mode: 0o600)
        }
        try CLI.write(String(contentsOf: CLI.repoRoot.appendingPathComponent("keys/demo-passphrase.txt"), encoding: .utf8),
                      to: dir.appendingPathComponent("pass"), mode: 0o600)
        let r = try CLI.avault(["keys", "export-public", "demo-desk", "-o", pub] + args)
        #expect(r.code == 0, "\(r.err)")
    }

    func record(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try CLI.write(text, to: url, mode: 0o644)
        return url.path
    }

    func copy(_ fixture: String, as name: String) throws -> String {
        try record(name, String(contentsOf: CLI.repoRoot.appendingPathComponent(fixture), encoding: .utf8))
    }
}

/// Found by a review: the trust store's validity window applied only under the signature's own
/// key id, while a revocation follows the public key. A store that also holds the key under
/// another id with a window that is over let its records pass `verify`; the window now follows
/// the key, in records as in the log's heads.
@Suite struct TrustWindowFollowsTheKey {
    @Test func aWindowUnderAnotherIDApplies() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let record = try demo.record("a.md", "---\ntitle: \"Quarterly results\"\n---\nThe body.\n")
        #expect(try CLI.avault(["sign", record, "--key", "demo-desk"] + demo.args).code == 0)
        #expect(try CLI.avault(["verify", "--require-signature", record] + demo.args).code == 0)
        // demo-desk's public key under another id, valid only until 2020.
        let lines = try String(contentsOfFile: demo.pub, encoding: .utf8).split(separator: "\n")
        var raw = try #require(Data(base64Encoded: String(lines[1])))
        raw[2] ^= 0xFF
        let otherID = raw[2..<10].reversed().map { String(format: "%02X", $0) }.joined()
        let store = demo.ring + "/trust.avt"
        let text = try String(contentsOfFile: store, encoding: .utf8)
        try CLI.write(text + "\nkey: \(otherID) \(raw.base64EncodedString())\nname: old desk\nnot-after: 2020-01-01T00:00:00Z\nadded: 2019-01-01T00:00:00Z\n",
                      to: URL(fileURLWithPath: store), mode: 0o600)
        let r = try CLI.avault(["verify", "--require-signature", record] + demo.args)
        #expect(r.code == 1 && r.out.contains("(its public key, as key \(otherID)) expired (2020-01-01T00:00:00Z)"), "\(r.code) \(r.out) \(r.err)")
    }
}

@Suite struct MinisignInterop {
    @Test func ourDetachedSignaturesVerifyWithMinisignAndBack() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let file = try demo.record("payload.bin", String(repeating: "article text ", count: 50_000))
        let s = try CLI.avault(["sign", "--detached", file, "--key", "demo-desk"] + demo.args)
        #expect(s.code == 0, "\(s.err)")
        let m = try CLI.run("minisign", ["-Vm", file, "-p", demo.pub])
        #expect(m.code == 0, "minisign -V: \(m.err)")
        #expect(m.out.contains("Trusted comment: timestamp:"))
        #expect(m.out.contains("\tfile:payload.bin\thashed"))
        let v = try CLI.avault(["verify", "--detached", file, "--pubkey", demo.pub])
        #expect(v.code == 0)
        // What minisign prints, byte for byte: the trusted comment's fields apart by TABs.
        #expect(v.out == m.out, "\(v.out) against minisign's \(m.out)")
        // Any change to the file fails, in both tools.
        try Data("x".utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        #expect(try CLI.run("minisign", ["-Vm", file, "-p", demo.pub]).code != 0)
        let bad = try CLI.avault(["verify", "--detached", file, "--pubkey", demo.pub])
        #expect(bad.code == 1)
        #expect(bad.err.contains("does not match the file"))
    }

    @Test func minisignSignaturesVerifyWithAvault() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let key = demo.dir.appendingPathComponent("m.key").path, pub = demo.dir.appendingPathComponent("m.pub").path
        #expect(try CLI.run("minisign", ["-G", "-W", "-p", pub, "-s", key]).code == 0)
        let file = try demo.record("doc.txt", "hello from minisign\n")
        #expect(try CLI.run("minisign", ["-S", "-s", key, "-m", file]).code == 0)
        let v = try CLI.avault(["verify", "--detached", file, "--pubkey", pub])
        #expect(v.code == 0, "\(v.err)")
        // A legacy (non-prehashed) signature needs --allow-legacy.
        let legacy = demo.dir.appendingPathComponent("legacy.minisig").path
        #expect(try CLI.run("minisign", ["-S", "-l", "-s", key, "-m", file, "-x", legacy]).code == 0)
        let refused = try CLI.avault(["verify", "--detached", file, "-x", legacy, "--pubkey", pub])
        #expect(refused.code == 1)
        #expect(refused.err.contains("--allow-legacy"))
        #expect(try CLI.avault(["verify", "--detached", file, "-x", legacy, "--pubkey", pub, "--allow-legacy"]).code == 0)
        // Another key: the key ids are reported, no cryptography needed.
        let other = try CLI.avault(["verify", "--detached", file, "--pubkey", demo.pub])
        #expect(other.code == 1)
        #expect(other.err.contains("but the public key is"))
    }

    @Test func exportedCanonicalBytesVerifyWithStockMinisign() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let record = try demo.copy("Fixtures/records/demo-v2.md", as: "demo.md")
        #expect(try CLI.avault(["sign", record, "--key", "demo-desk"] + demo.args).code == 0)
        let out = demo.dir.appendingPathComponent("export").path
        let e = try CLI.avault(["sign", "--export-minisig", record, "-o", out])
        #expect(e.code == 0, "\(e.err)")
        let canonical = out + "/demo.md.canonical"
        let m = try CLI.run("minisign", ["-Vm", canonical, "-p", demo.pub])
        #expect(m.code == 0, "minisign: \(m.err)")
        #expect(m.out.contains("canon:avault-record-v1"))
        // The exported bytes are exactly what `avault canonical` prints.
        let c = try CLI.avault(["canonical", record])
        #expect(c.stdout == (try Data(contentsOf: URL(fileURLWithPath: canonical))))
    }
}

@Suite struct VerifyCLI {
    /// JSON leaves U+2028, U+2029 and U+0085 as they are in a string, and a reader that splits
    /// lines at them (Python's `splitlines`) cut a report of a file so named in two, neither
    /// of which parsed: every `--json` line escapes them (`verify`, `audit` here).
    @Test func jsonLinesHoldNoCharacterThatSplitsALine() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let content = demo.dir.appendingPathComponent("content")
        try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
        for name in ["a\u{2028}b.md", "c\u{2029}d.md", "e\u{85}f.md"] {
            try CLI.write("---\ntitle: x\n---\nbody\n", to: content.appendingPathComponent(name), mode: 0o644)
        }
        for command in [["verify", "--json"], ["audit", "--json"]] {
            let r = try CLI.avault(command + [content.path, "--keyring", demo.ring])
            #expect(r.code == 0 && r.err.isEmpty, "\(command): \(r.err)")
            #expect(!r.out.unicodeScalars.contains { ["\u{2028}", "\u{2029}", "\u{85}"].contains($0) }, "\(command): \(r.out)")
            for escaped in ["a\\u2028b.md", "c\\u2029d.md", "e\\u0085f.md"] { #expect(r.out.contains(escaped), "\(command): \(r.out)") }
            for line in r.out.split(separator: "\n") {
                let value = try JSONSerialization.jsonObject(with: Data(line.utf8))
                #expect(value is [String: Any], "\(line)")
            }
        }
    }

    @Test func aPublishingGateTrustsTheExitCode() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let content = demo.dir.appendingPathComponent("content")
        try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
        var paths: [String] = []
        for i in 0..<40 {
            let text = try String(contentsOf: CLI.repoRoot.appendingPathComponent("Fixtures/records/demo-v2.md"), encoding: .utf8)
                .replacingOccurrences(of: "Demo: embargoed draft", with: "Draft \(i)")
            let url = content.appendingPathComponent("r\(i).md")
            try CLI.write(text, to: url, mode: 0o644)
            paths.append(url.path)
        }
        try CLI.write("not a record, no front matter\n", to: content.appendingPathComponent("notes.txt"), mode: 0o644)
        let signed = try CLI.avault(["sign"] + paths + ["--key", "demo-desk"] + demo.args)
        #expect(signed.code == 0, "\(signed.err)")
        // A file without front matter is published too: unsigned, so the gate fails…
        let notes = try CLI.avault(["verify", "--require-signature", content.path, "--keyring", demo.ring])
        #expect(notes.code == 1)
        #expect(notes.out.contains("notes.txt: unsigned: no front matter\n"), "\(notes.out)")
        #expect(notes.out.hasSuffix("41 records: 40 passed, 1 failed (valid 40, unsigned 1)\n"))
        // …until a detached signature (as minisign writes it) lies beside it.
        let detached = try CLI.avault(["sign", "--detached", content.appendingPathComponent("notes.txt").path, "--key", "demo-desk"] + demo.args)
        #expect(detached.code == 0, "\(detached.err)")
        let ok = try CLI.avault(["verify", "--require-signature", content.path, "--keyring", demo.ring])
        #expect(ok.code == 0, "\(ok.out)\(ok.err)")
        #expect(ok.out.hasSuffix("41 records: 41 passed, 0 failed (valid 41)\n"))

        // One tampered record fails the gate, and the JSON says which and why.
        let victim = paths[7]
        let tampered = try String(contentsOfFile: victim, encoding: .utf8).replacingOccurrences(of: "quality: 41", with: "quality: 99")
        try tampered.write(toFile: victim, atomically: true, encoding: .utf8)
        let bad = try CLI.avault(["verify", "--require-signature", content.path, "--keyring", demo.ring, "--json"])
        #expect(bad.code == 1)
        let lines = bad.out.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.count == 42)
        let records = lines.compactMap { $0 }.filter { $0["type"] as? String == "record" }
        let failing = records.filter { $0["passed"] as? Bool == false }
        #expect(failing.count == 1)
        #expect(failing.first?["path"] as? String == victim)
        #expect(failing.first?["outcome"] as? String == "invalid")
        let summary = try #require(lines.last!)
        #expect(summary["type"] as? String == "summary")
        #expect(summary["records"] as? Int == 41)
        #expect(summary["failed"] as? Int == 1)
        #expect((summary["outcomes"] as? [String: Int])?["invalid"] == 1)

        // Unsigned records pass unless --require-signature.
        let unsigned = try demo.copy("Fixtures/records/demo-v2.md", as: "unsigned.md")
        #expect(try CLI.avault(["verify", unsigned, "--keyring", demo.ring]).code == 0)
        let required = try CLI.avault(["verify", unsigned, "--keyring", demo.ring, "--require-signature"])
        #expect(required.code == 1)
        #expect(required.out.contains("unsigned"))
        // A revoked key fails; revocation is read from the trust store.
        // The id as minisign prints it in the .pub comment (possibly without leading zeros).
        let keyID = try #require(String(contentsOfFile: demo.pub, encoding: .utf8).split(separator: "\n").first?.split(separator: " ").last.map(String.init))
        #expect(try CLI.avault(["keys", "trust", "revoke", keyID, "--reason", "test", "--keyring", demo.ring]).code == 0)
        let revoked = try CLI.avault(["verify", paths[0], "--keyring", demo.ring])
        #expect(revoked.code == 1)
        #expect(revoked.out.contains("revoked"))
        // Operational errors exit 2.
        #expect(try CLI.avault(["verify", demo.dir.appendingPathComponent("missing").path, "--keyring", demo.ring]).code == 2)
        #expect(try CLI.avault(["verify", paths[0], "--trust-store", demo.dir.appendingPathComponent("nope.avt").path]).code == 2)
    }

    @Test func legacySecuredBlobsAndDecryptChecks() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let v1 = try demo.copy("Fixtures/records/demo-v1.md", as: "v1.md")
        let v2 = try demo.copy("Fixtures/records/demo-v2.md", as: "v2.md")
        #expect(try CLI.avault(["sign", v1, v2, "--key", "demo-desk"] + demo.args).code == 0)
        let strict = try CLI.avault(["verify", v1, "--keyring", demo.ring])
        #expect(strict.code == 1)
        #expect(strict.out.contains("legacy v1"))
        #expect(try CLI.avault(["verify", v1, "--keyring", demo.ring, "--allow-legacy-secured"]).code == 0)
        let check = try CLI.avault(["verify", v2, "--check-decrypt", "--key", "demo-content", "--json"] + demo.args)
        #expect(check.code == 0, "\(check.err)")
        #expect(check.out.contains("\"decrypts\":true"))
        let wrong = try CLI.avault(["verify", v1, "--allow-legacy-secured", "--check-decrypt", "--key", "demo-content"] + demo.args)
        #expect(wrong.code == 1)
    }

    @Test func auditInventoriesTheDesk() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let a = try demo.copy("Fixtures/records/demo-v2.md", as: "a.md")
        _ = try demo.copy("Fixtures/records/demo-v1.md", as: "b.md")
        _ = try demo.copy("Fixtures/seed/000_6e329c144f65a19c.txt", as: "seed.txt")
        #expect(try CLI.avault(["sign", a, "--key", "demo-desk"] + demo.args).code == 0)
        let r = try CLI.avault(["audit", demo.dir.path, "--keyring", demo.ring, "--json"])
        #expect(r.code == 0, "\(r.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(object["records"] as? Int == 3)
        #expect(object["unsigned"] as? Int == 2)
        #expect((object["secured"] as? [String: Int])?["v1"] == 2)
        #expect((object["bySigner"] as? [String: Int])?["ArticleVault Demo Desk"] == 1)
        #expect((object["byRole"] as? [String: Int])?["desk"] == 1)
        #expect((object["attention"] as? [[String: Any]])?.count == 2)
        let text = try CLI.avault(["audit", demo.dir.path, "--keyring", demo.ring])
        #expect(text.out.contains("2 still legacy v1"))
    }

    /// Found by a review: repeating a record's own signature entry needs no key, and each copy
    /// counted as one more record signed by its signer, key and role. A key counts once per record.
    @Test func aRepeatedSignatureEntryCountsOnce() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let a = try demo.copy("Fixtures/records/demo-v2.md", as: "a.md")
        #expect(try CLI.avault(["sign", a, "--key", "demo-desk"] + demo.args).code == 0)
        var lines = try String(contentsOfFile: a, encoding: .utf8).components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "signatures:")) + 1
        let entry = Array(lines[start..<(start + 4)])
        #expect(entry.first?.hasPrefix("  - keyId: ") == true && entry.last?.hasPrefix("    globalSignature: ") == true, "\(entry)")
        for _ in 0..<4 { lines.insert(contentsOf: entry, at: start) }
        try lines.joined(separator: "\n").write(toFile: a, atomically: true, encoding: .utf8)
        let r = try CLI.avault(["audit", a, "--keyring", demo.ring, "--json"])
        #expect(r.code == 0, "\(r.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(object["passed"] as? Int == 1, "the repeated entries are valid signatures: \(r.out)")
        #expect((object["bySigner"] as? [String: Int])?["ArticleVault Demo Desk"] == 1, "\(r.out)")
        #expect((object["byRole"] as? [String: Int])?["desk"] == 1, "\(r.out)")
        let byKey = try #require(object["byKeyId"] as? [String: [String: Any]])
        #expect(byKey.count == 1 && byKey.values.first?["records"] as? Int == 1, "\(byKey)")
    }

    @Test func malformedRecordsNameTheLine() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let bad = try demo.record("bad.md", "---\ntitle: a\ntitle: b\n---\n")
        let r = try CLI.avault(["verify", bad, "--keyring", demo.ring])
        #expect(r.code == 1)
        #expect(r.out.contains("bad.md: malformed (line 3): duplicate key 'title'"))
    }
}

@Suite struct CanonicalCLI {
    @Test func canonicalJSONOfAnyDocument() throws {
        let r = try CLI.avault(["canonical", "--json", "-"], stdin: Data(#"{"b": [1.0, 1e21, "\u00e9"], "a": {"z": null, "y": true}}"#.utf8))
        #expect(r.code == 0)
        #expect(r.out == #"{"a":{"y":true,"z":null},"b":[1,1e+21,"é"]}"#)
        let bad = try CLI.avault(["canonical", "--json", "-"], stdin: Data("{\"a\":1,\"a\":2}".utf8))
        #expect(bad.code == 1)
        #expect(bad.err.hasPrefix("avault: "))
    }

    @Test func canonicalRecordBytes() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let path = try demo.record("c.md", "---\r\nb: 2\r\na: \"x\"\r\nsignatures: []\r\n---\r\nline\r\n")
        let r = try CLI.avault(["canonical", path])
        #expect(r.code == 0)
        #expect(r.out == #"{"body":"line\n","fields":{"a":"x","b":2}}"#)
    }
}

@Suite struct DraftsCLI {
    @Test func sealUnsealRoundTripsByteForByte() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let original = "---\ntitle: \"Draft\"\nwebUrl: \"https://example.org/d\"\nauthor: Jane   # staff\nsummary: |\n  two\n  lines\ntags: [a, b]\n---\n# Body\r\n\nText.\n"
        let path = try demo.record("d.md", original)
        let s = try CLI.avault(["seal", path, "--key", "demo-content", "--field", "summary", "--field", "author"] + demo.args)
        #expect(s.code == 0, "\(s.err)")
        let sealed = try String(contentsOfFile: path, encoding: .utf8)
        // Outside the blob (whose base64 may spell any short word by chance).
        let clear = sealed.split(separator: "\n").filter { !$0.hasPrefix("secured: ") }.joined(separator: "\n")
        #expect(!clear.contains("Jane") && !clear.contains("Text.") && !clear.contains("two"), "\(clear)")
        #expect(sealed.contains("title: \"Draft\"") && sealed.contains("secured: \"v2;"))
        // The blob is bound to the record's context.
        let d = try CLI.avault(["secured", "decrypt", "--record", path, "--key", "demo-content"] + demo.args)
        #expect(d.code == 0)
        let u = try CLI.avault(["unseal", path] + demo.args)
        #expect(u.code == 0, "\(u.err)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == original)
    }

    @Test func sealingASignedRecordDropsAndResigns() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let path = try demo.record("s.md", "---\ntitle: x\nwebUrl: https://example.org/s\n---\nbody\n")
        #expect(try CLI.avault(["sign", path, "--key", "demo-desk"] + demo.args).code == 0)
        let dropped = try CLI.avault(["seal", path, "--key", "demo-content"] + demo.args)
        #expect(dropped.code == 0)
        #expect(dropped.err.contains("avault: warning: ") && dropped.err.contains("dropped signatures"))
        #expect(try CLI.avault(["verify", path, "--keyring", demo.ring, "--require-signature"]).code == 1)
        let resigned = try CLI.avault(["unseal", path, "--sign", "demo-desk"] + demo.args)
        #expect(resigned.code == 0)
        #expect(try CLI.avault(["verify", path, "--keyring", demo.ring, "--require-signature"]).code == 0)
    }

    @Test func migrateRewritesV1AsV2() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let path = try demo.copy("Fixtures/records/demo-v1.md", as: "m.md")
        let before = try CLI.avault(["secured", "decrypt", "--record", path, "--key", "demo-legacy", "--allow-unauthenticated-legacy"] + demo.args)
        #expect(before.code == 0, "\(before.err)")
        // Unsigned, the v1 plaintext could be anyone's: migrating it into an authenticated v2 is refused…
        let unsigned = try CLI.avault(["migrate", path, "--from-key", "demo-legacy", "--key", "demo-content", "--sign", "demo-desk"] + demo.args)
        #expect(unsigned.code == 2)
        #expect(unsigned.err.contains("--allow-unauthenticated-legacy"))
        // …but once a trusted key has signed the record, its signature authenticates the blob.
        #expect(try CLI.avault(["sign", path, "--key", "demo-desk"] + demo.args).code == 0)
        let m = try CLI.avault(["migrate", path, "--from-key", "demo-legacy", "--key", "demo-content", "--sign", "demo-desk"] + demo.args)
        #expect(m.code == 0, "\(m.err)")
        #expect(!m.err.contains("warning: decrypting an unauthenticated"))
        let inspect = try CLI.avault(["secured", "inspect", "--record", path, "--json"])
        #expect(inspect.out.contains("\"format\":\"v2\""))
        let after = try CLI.avault(["secured", "decrypt", "--record", path, "--key", "demo-content"] + demo.args)
        #expect(after.code == 0)
        #expect(after.stdout == before.stdout)
        #expect(try CLI.avault(["verify", path, "--keyring", demo.ring, "--require-signature"]).code == 0)
        // The seed's blob needs a key nobody here holds: migrate refuses, the file is untouched.
        let seed = try demo.copy("Fixtures/seed/000_6e329c144f65a19c.txt", as: "seed.txt")
        let original = try String(contentsOfFile: seed, encoding: .utf8)
        let s = try CLI.avault(["migrate", seed, "--from-key", "demo-legacy", "--key", "demo-content", "--allow-unauthenticated-legacy"] + demo.args)
        #expect(s.code == 1)
        #expect(try String(contentsOfFile: seed, encoding: .utf8) == original)
    }
}

/// What a trusted comment must say for a signature to count as a record's (formats.md §7.3).
@Suite struct RecordSignatureDomainCLI {
    /// The name of a file whose detached signature, as minisign writes it, has the trusted
    /// comment `timestamp:…\tfile:report.json\tcanon:avault-record-v1\thashed`.
    static let trickName = "report.json\tcanon:avault-record-v1"

    /// `record` with the detached signature in `minisig` pasted in as its `signatures` list.
    static func pasting(_ minisig: String, into record: String) throws -> String {
        let lines = minisig.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        try #require(lines.count >= 4 && lines[2].hasPrefix("trusted comment: "))
        let raw = [UInt8](try #require(Data(base64Encoded: lines[1])))
        let keyID = CLI.hex(raw[2..<10].reversed()).uppercased()
        let comment = String(lines[2].dropFirst("trusted comment: ".count))
        let quoted = String(decoding: try JSONSerialization.data(withJSONObject: comment, options: [.fragmentsAllowed, .withoutEscapingSlashes]),
                            as: UTF8.self)
        let entry = "signatures:\n  - keyId: \"\(keyID)\"\n    signature: \"\(lines[1])\"\n    trustedComment: \(quoted)\n"
            + "    globalSignature: \"\(lines[3])\"\n"
        let close = try #require(record.range(of: "\n---\n"))
        return String(record[..<close.lowerBound]) + "\n" + entry + String(record[record.index(after: close.lowerBound)...])
    }

    /// A detached signature of a file holding a record's canonical bytes, whose name puts a
    /// TAB and `canon:avault-record-v1` into the `file:` field, is no record signature.
    @Test func aFileNameCannotMakeADetachedSignatureARecordSignature() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let fixture = try String(contentsOf: CLI.repoRoot.appendingPathComponent("Fixtures/records/demo-v2.md"), encoding: .utf8)
        let record = try demo.record("R.md", fixture)
        let canonical = try CLI.avault(["canonical", record])
        try #require(canonical.code == 0)
        let trick = demo.dir.appendingPathComponent(Self.trickName).path
        try canonical.stdout.write(to: URL(fileURLWithPath: trick))

        // avault's own detached signature: the name is written escaped, on one field.
        let s = try CLI.avault(["sign", "--detached", trick, "--key", "demo-desk"] + demo.args)
        #expect(s.code == 0, "\(s.err)")
        let ours = try String(contentsOfFile: trick + ".minisig", encoding: .utf8)
        #expect(ours.contains("\tfile:report.json\\tcanon:avault-record-v1\thashed\n"), "\(ours)")
        #expect(try CLI.run("minisign", ["-Vm", trick, "-p", demo.pub]).code == 0)
        try CLI.write(try Self.pasting(ours, into: fixture), to: URL(fileURLWithPath: record), mode: 0o644)
        let v = try CLI.avault(["verify", "--require-signature", record, "--keyring", demo.ring])
        #expect(v.code == 1, "\(v.out)")
        #expect(v.out.contains("invalid"), "\(v.out)")
        #expect(v.out.contains("not a record signature"), "\(v.out)")

        // The same with the name unescaped, as stock minisign writes it.
        let key = demo.dir.appendingPathComponent("m.key").path, pub = demo.dir.appendingPathComponent("m.pub").path
        #expect(try CLI.run("minisign", ["-G", "-W", "-p", pub, "-s", key]).code == 0)
        let m = try CLI.run("minisign", ["-S", "-s", key, "-m", trick, "-x", trick + ".stock"])
        #expect(m.code == 0, "\(m.err)")
        let stock = try String(contentsOfFile: trick + ".stock", encoding: .utf8)
        #expect(stock.contains("\tfile:report.json\tcanon:avault-record-v1\thashed\n"), "\(stock)")
        try CLI.write(try Self.pasting(stock, into: fixture), to: URL(fileURLWithPath: record), mode: 0o644)
        let w = try CLI.avault(["verify", "--require-signature", record, "--pubkey", pub])
        #expect(w.code == 1, "\(w.out)")
        #expect(w.out.contains("not a record signature"), "\(w.out)")
        // A record signature proper still verifies.
        try CLI.write(fixture, to: URL(fileURLWithPath: record), mode: 0o644)
        #expect(try CLI.avault(["sign", record, "--key", "demo-desk"] + demo.args).code == 0)
        #expect(try CLI.avault(["verify", "--require-signature", record, "--keyring", demo.ring]).code == 0)
    }
}

/// A timestamp in a trusted comment is any text a signer wrote: none may crash verify.
@Suite struct SignatureTimestampCLI {
    @Test func aTimestampNoRFC3339TimeCanHoldIsInvalidAndNeverCrashes() throws {
        try KeysFixture.requireMinisign()
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let tree = demo.dir.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        let windowed = demo.dir.appendingPathComponent("windowed.avt").path
        #expect(try CLI.avault(["keys", "trust", "add", demo.pub, "--name", "Desk", "--not-before", "2020-01-01T00:00:00Z",
                                "--trust-store", windowed]).code == 0)
        // Stock minisign -t writes any trusted comment (avault sign writes its clock's time).
        let secretKey = demo.dir.appendingPathComponent("desk.key").path
        #expect(try CLI.avault(["keys", "export-minisign", "demo-desk", "-o", secretKey, "--unprotected"] + demo.args).code == 0)
        for time in ["-9223372036854775808", "-9223372036854775800", "9223372036854775807", "9223372036854775800", "-62167219201"] {
            let file = tree.appendingPathComponent("notes.txt").path
            try CLI.write("no front matter\n", to: URL(fileURLWithPath: file), mode: 0o644)
            let s = try CLI.run("minisign", ["-S", "-s", secretKey, "-m", file, "-x", file + ".minisig",
                                             "-t", "timestamp:\(time)\tfile:notes.txt\thashed"])
            #expect(s.code == 0, "\(s.err)")
            // Untrusted: reported, with no time.
            let other = demo.dir.appendingPathComponent("empty.avt").path
            try CLI.write("avault-trust v1\n", to: URL(fileURLWithPath: other), mode: 0o600)
            let u = try CLI.avault(["verify", "--json", tree.path, "--trust-store", other])
            #expect(u.code == 1, "\(time): \(u.err)")
            #expect(u.out.contains("\"status\":\"untrusted\"") && u.out.contains("\"timestamp\":null"), "\(time): \(u.out)")
            // Trusted, with and without a window, walked and --detached: invalid.
            for store in [demo.ring + "/trust.avt", windowed] {
                let v = try CLI.avault(["verify", "--json", tree.path, "--trust-store", store])
                #expect(v.code == 1, "\(time): \(v.err)")
                #expect(v.out.contains("\"status\":\"invalid\"") && v.out.contains("\"timestamp\":null"), "\(time): \(v.out)")
                #expect(v.out.contains("years 0000 to 9999"), "\(time): \(v.out)")
                let d = try CLI.avault(["verify", "--detached", file, "--trust-store", store])
                #expect(d.code == 1, "\(time): \(d.err)")
                #expect(d.err.contains("years 0000 to 9999"), "\(time): \(d.err)")
            }
        }
    }
}

/// `sign --trusted-comment TEXT`: avault writes the fields a record signature needs, and TEXT after them.
@Suite struct SignTrustedCommentCLI {
    @Test func aCustomCommentStillMakesARecordSignature() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let record = try demo.copy("Fixtures/records/demo-v2.md", as: "R.md")
        let s = try CLI.avault(["sign", record, "--key", "demo-desk", "--trusted-comment", "desk approval #42\treviewed:jane"] + demo.args)
        #expect(s.code == 0, "\(s.err)")
        let v = try CLI.avault(["verify", "--require-signature", record, "--keyring", demo.ring])
        #expect(v.code == 0, "\(v.out)")
        let text = try String(contentsOfFile: record, encoding: .utf8)
        let comment = try #require(text.firstMatch(of: /trustedComment: "([^"]*)"/)).1
        #expect(comment.hasPrefix("timestamp:"), "\(comment)")
        #expect(comment.hasSuffix("\\tcanon:avault-record-v1\\tdesk approval #42\\treviewed:jane"), "\(comment)")
        #expect(!comment.contains("file:"), "\(comment)")
    }

    @Test func textWithAReservedFieldOrAControlCharacterIsRefused() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let record = try demo.copy("Fixtures/records/demo-v2.md", as: "R.md")
        let before = try Data(contentsOf: URL(fileURLWithPath: record))
        let reserved = ["canon:avault-record-v1", "note\tcanon:other", "timestamp:1", "x\ttimestamp:1796000000", "file:other.md", "a\tfile:b"]
        let controls = ["a\u{1B}[2Jb", "a\u{7F}", "a\u{85}b", "line\nbreak", "cr\rhere", "a\u{2028}b", "nul\u{1}"]
        for text in reserved + controls {
            let r = try CLI.avault(["sign", record, "--key", "demo-desk", "--trusted-comment", text] + demo.args)
            #expect(r.code == 64, "\(text.debugDescription): \(r.err)")
            #expect(r.err.hasPrefix("avault: "), "\(r.err)")
            #expect(r.err.contains("\navault: hint: "), "\(text.debugDescription): \(r.err)")
            #expect(r.err.contains(reserved.contains(text) ? "a field avault writes itself" : "a control character"), "\(r.err)")
            #expect(!r.err.contains("\u{1B}") && !r.err.contains("\u{85}"), "the text is not echoed raw")
            #expect(try Data(contentsOf: URL(fileURLWithPath: record)) == before)
        }
    }

    /// A detached signature's comment is `timestamp:` then TEXT, and TEXT is refused as for an
    /// embedded one: with `canon:` in it, `verify FILE` refused the signature (a record
    /// signature's) and `verify --detached` accepted it.
    @Test func detachedTextFollowsAvaultsTimestampAndIsRefusedAsForARecord() throws {
        try KeysFixture.requireMinisign()
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let tree = demo.dir.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        let file = tree.appendingPathComponent("notes.txt").path
        try CLI.write("no front matter\n", to: URL(fileURLWithPath: file), mode: 0o644)
        let reserved = ["canon:avault-record-v1", "note\tcanon:other", "timestamp:1", "x\ttimestamp:1796000000", "file:other.md", "a\tfile:b"]
        let controls = ["a\u{1B}[2Jb", "a\u{7F}", "a\u{85}b", "line\nbreak", "cr\rhere", "a\u{2028}b", "nul\u{1}"]
        for text in reserved + controls {
            let r = try CLI.avault(["sign", "--detached", file, "--key", "demo-desk", "--trusted-comment", text] + demo.args)
            #expect(r.code == 64, "\(text.debugDescription): \(r.err)")
            #expect(r.err.hasPrefix("avault: "), "\(r.err)")
            #expect(r.err.contains("\navault: hint: "), "\(text.debugDescription): \(r.err)")
            #expect(r.err.contains(reserved.contains(text) ? "a field avault writes itself" : "a control character"), "\(r.err)")
            #expect(!r.err.contains("\u{1B}") && !r.err.contains("\u{85}"), "the text is not echoed raw")
            #expect(!FileManager.default.fileExists(atPath: file + ".minisig"), "\(text.debugDescription): a signature was written")
        }
        // Text of one's own: after avault's timestamp, and every verifier agrees.
        let s = try CLI.avault(["sign", "--detached", file, "--key", "demo-desk", "--trusted-comment", "release 1.2\treviewed:jane"] + demo.args)
        #expect(s.code == 0, "\(s.err)")
        let lines = try String(contentsOfFile: file + ".minisig", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4 && lines[2].hasPrefix("trusted comment: timestamp:") && lines[2].hasSuffix("\trelease 1.2\treviewed:jane"),
                "\(lines)")
        let walked = try CLI.avault(["verify", "--require-signature", tree.path, "--keyring", demo.ring])
        #expect(walked.code == 0, "\(walked.out)")
        let detached = try CLI.avault(["verify", "--detached", file, "--trust-store", demo.ring + "/trust.avt"])
        #expect(detached.code == 0, "\(detached.out) \(detached.err)")
        let stock = try CLI.run("minisign", ["-V", "-p", demo.pub, "-m", file, "-x", file + ".minisig"])
        #expect(stock.code == 0 && stock.out.contains("release 1.2"), "minisign -V: \(stock.out) \(stock.err)")
    }
}
