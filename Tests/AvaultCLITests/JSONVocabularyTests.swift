import Foundation
import Testing

/// Every `--json` command speaks one vocabulary (docs/cli.md, "JSON output"): `schemaVersion`
/// first in every top-level object, `keyId` for every key identifier, RFC 3339 UTC text for
/// every time, every count present, null for an absent value.
@Suite struct JSONVocabularyTests {
    /// Keys that hold times.
    static let timeKeys: Set<String> = ["created", "updated", "retired", "removed", "timestamp", "added", "notBefore", "notAfter", "time"]

    /// Checks one top-level object and everything inside it; returns problems.
    static func problems(_ object: [String: Any], command: String) -> [String] {
        var found: [String] = []
        if object["schemaVersion"] as? Int != 2 { found.append("\(command): no schemaVersion 2 at the top level") }
        func walk(_ value: Any, _ path: String) {
            if let o = value as? [String: Any] {
                for (k, v) in o {
                    let here = path + "." + k
                    if k == "kid" { found.append("\(command): \(here) is 'kid', not 'keyId'") }
                    if k == "id", let s = v as? String, s.count == 16, s.allSatisfy(\.isHexDigit) {
                        found.append("\(command): \(here) holds a key id under 'id'")
                    }
                    if timeKeys.contains(k) {
                        if let s = v as? String {
                            if !(s.count == 20 && s.hasSuffix("Z") && Array(s)[10] == "T") { found.append("\(command): \(here) = \(s) is not RFC 3339 UTC") }
                        } else if !(v is NSNull) {
                            found.append("\(command): \(here) is not text (\(v))")
                        }
                    }
                    walk(v, here)
                }
            } else if let a = value as? [Any] {
                for (i, v) in a.enumerated() { walk(v, path + "[\(i)]") }
            }
        }
        walk(object, "")
        return found
    }

    /// Runs a `--json` command; every output line must be a JSON object.
    static func run(_ args: [String], code: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        let r = try CLI.avault(args)
        #expect(r.code == code, "\(args.joined(separator: " ")): \(r.err)", sourceLocation: sourceLocation)
        let lines = r.out.split(separator: "\n")
        #expect(!lines.isEmpty, "\(args.joined(separator: " ")) printed nothing", sourceLocation: sourceLocation)
        return try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(args): \(line)", sourceLocation: sourceLocation)
        }
    }

    @Test func everyJSONCommandSpeaksOneVocabulary() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let signed = try demo.copy("Fixtures/records/demo-v2.md", as: "signed.md")
        _ = try demo.copy("Fixtures/records/demo-v1.md", as: "legacy.md")
        #expect(try CLI.avault(["sign", signed, "--key", "demo-desk"] + demo.args).code == 0)
        let keyFile = demo.dir.appendingPathComponent("fresh.key")
        try CLI.write((0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() + "\n", to: keyFile, mode: 0o600)
        let vault = ["--vault", demo.dir.appendingPathComponent("vault").path]
        #expect(try CLI.avault(["vault", "init", "--key", "demo-content"] + vault + demo.args).code == 0)
        let payload = try demo.record("payload.txt", "draft text")

        var outputs: [(String, [[String: Any]])] = []
        func json(_ args: [String], code: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
            let lines = try Self.run(args + ["--json"], code: code, sourceLocation: sourceLocation)
            outputs.append((args.prefix(3).joined(separator: " "), lines))
            return lines
        }
        let inspect = try json(["secured", "inspect", "--record", signed])
        #expect(inspect[0]["keyId"] is String)
        let listed = try json(["keys", "list"] + demo.args)
        #expect((listed[0]["keys"] as? [[String: Any]])?.allSatisfy { $0["keyId"] is String } == true)
        _ = try json(["keys", "generate", "fresh-signing", "--signing"] + demo.args)
        _ = try json(["keys", "import", "fresh-content", "--key-file", keyFile.path] + demo.args)
        _ = try json(["keys", "rotate", "fresh-signing"] + demo.args)
        let identity = try json(["keys", "generate", "fresh-identity", "--identity"] + demo.args)
        #expect(identity[0]["kind"] as? String == "identity" && (identity[0]["recipient"] as? String)?.hasPrefix("age1") == true)
        _ = try json(["keys", "export-recipient", "fresh-identity"] + demo.args)
        _ = try json(["keys", "trust", "list", "--keyring", demo.ring])
        let verified = try json(["verify", signed, "--keyring", demo.ring])
        let signature = try #require((verified[0]["signatures"] as? [[String: Any]])?.first)
        #expect(signature["timestamp"] is String, "a signature time is RFC 3339 text")
        #expect(signature["signer"] as? String == "ArticleVault Demo Desk")
        let pinned = try json(["verify", signed, "--pubkey", demo.pub])
        let pinnedSignature = try #require((pinned[0]["signatures"] as? [[String: Any]])?.first)
        #expect(pinnedSignature["signer"] is NSNull, "with --pubkey there is no signer name: null")
        #expect(pinnedSignature["status"] as? String == "valid")
        let audit = try json(["audit", demo.dir.path, "--keyring", demo.ring])[0]
        #expect(audit["failing"] == nil)
        #expect(audit["failed"] as? Int == 1, "the legacy record fails, as verify says")
        #expect(Set((audit["outcomes"] as? [String: Int])?.keys ?? [:].keys)
                == ["valid", "invalid", "untrusted", "revoked", "expired", "unsigned", "malformed"], "every outcome counted, zero included")
        #expect((audit["secured"] as? [String: Int])?["malformed"] == 0)
        let put = try json(["vault", "put", "doc", payload] + vault + demo.args)
        #expect(put[0]["version"] as? Int == 1)
        let list = try json(["vault", "list"] + vault + demo.args)
        #expect((list[0]["objects"] as? [[String: Any]])?.first?["keyId"] is String)
        _ = try json(["vault", "history", "doc"] + vault + demo.args)
        _ = try json(["vault", "verify"] + vault + demo.args)
        let inUse = try json(["vault", "keys-in-use"] + vault + demo.args)
        let use = try #require((inUse[0]["keys"] as? [[String: Any]])?.first)
        #expect(use["name"] as? String == "demo-content" && use["files"] as? Int == 4, "the envelope, the config, the index and the object's index entry")

        #expect(outputs.count == 16)
        for (command, lines) in outputs {
            for line in lines {
                for p in Self.problems(line, command: command) { Issue.record(Comment(rawValue: p)) }
            }
        }
    }
}
