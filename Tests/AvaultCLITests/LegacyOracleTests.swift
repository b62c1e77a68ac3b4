import Foundation
import Testing

/// Legacy v1 blobs are unauthenticated AES-CBC: whether their decryption succeeds is a padding
/// oracle. Unless a trusted signature covers the record, or the user opts in, every command that
/// would decrypt one answers the same for a valid and a tampered blob.
@Suite struct LegacyOracleClosed {
    /// The demo v1 record, and a copy whose ciphertext's last byte is flipped (bad padding).
    static func records(in demo: DemoRing) throws -> (valid: String, tampered: String) {
        let text = try String(contentsOf: CLI.repoRoot.appendingPathComponent("Fixtures/records/demo-v1.md"), encoding: .utf8)
        let blob = try #require(text.split(separator: "\n").first { $0.hasPrefix("secured: ") })
        let value = blob.dropFirst("secured: \"".count).dropLast()
        let parts = value.split(separator: ";")
        var ct = try #require(Data(base64Encoded: String(parts[0])))
        ct[ct.count - 1] ^= 0x5A
        let tampered = text.replacingOccurrences(of: String(value), with: ct.base64EncodedString() + ";" + parts[1])
        #expect(tampered != text)
        return (try demo.record("valid.md", text), try demo.record("tampered.md", tampered))
    }

    /// Runs `args` with `{}` replaced by each record and returns both results, comparing
    /// exit code, standard output and standard error with the record's path taken out.
    static func expectSame(_ args: [String], _ pair: (valid: String, tampered: String), code: Int32,
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
        var results: [(Int32, String, String)] = []
        for path in [pair.valid, pair.tampered] {
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
            let r = try CLI.avault(args.map { $0 == "{}" ? path : $0 })
            func scrub(_ s: String) -> String {
                s.replacingOccurrences(of: path, with: "FILE").replacingOccurrences(of: dir, with: "DIR")
                    .replacingOccurrences(of: #""seconds":[0-9.e+-]+"#, with: #""seconds":T"#, options: .regularExpression)
            }
            results.append((r.code, scrub(r.out), scrub(r.err)))
        }
        #expect(results[0].0 == code, "\(args): \(results[0].2)", sourceLocation: sourceLocation)
        #expect(results[0] == results[1], "\(args): \(results[0]) vs \(results[1])", sourceLocation: sourceLocation)
    }

    @Test func withoutTheOptInValidAndTamperedBlobsLookAlike() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let pair = try Self.records(in: demo)
        let keyFile = demo.dir.appendingPathComponent("aes.key")
        try CLI.write(String(contentsOf: CLI.repoRoot.appendingPathComponent("keys/demo-aes256.key"), encoding: .utf8), to: keyFile)
        // The bare blob (from a record, or as an argument) and the keyring's legacy key.
        try Self.expectSame(["secured", "decrypt", "--record", "{}", "--key-file", keyFile.path] + demo.args, pair, code: 2)
        try Self.expectSame(["secured", "decrypt", "--record", "{}", "--key", "demo-legacy"] + demo.args, pair, code: 2)
        try Self.expectSame(["unseal", "{}", "--key", "demo-legacy"] + demo.args, pair, code: 2)
        try Self.expectSame(["migrate", "{}", "--from-key", "demo-legacy", "--key", "demo-content"] + demo.args, pair, code: 2)
        // The gate: no decrypt answer is handed out for an unauthenticated blob.
        try Self.expectSame(["verify", "{}", "--json", "--allow-legacy-secured", "--check-decrypt", "--key", "demo-legacy"] + demo.args,
                            pair, code: 1)
        let v = try CLI.avault(["verify", pair.valid, "--json", "--allow-legacy-secured", "--check-decrypt", "--key", "demo-legacy"] + demo.args)
        #expect(v.out.contains("\"decrypts\":null"))
        // Nothing was rewritten.
        #expect(try String(contentsOfFile: pair.valid, encoding: .utf8).contains("secured: \""))
    }

    @Test func theOptInSaysWhatItCostsAndThenAnswers() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let pair = try Self.records(in: demo)
        let ok = try CLI.avault(["secured", "decrypt", "--record", pair.valid, "--key", "demo-legacy", "--allow-unauthenticated-legacy"] + demo.args)
        #expect(ok.code == 0)
        #expect(ok.err == legacyOptInWarning + "\n")
        let bad = try CLI.avault(["secured", "decrypt", "--record", pair.tampered, "--key", "demo-legacy", "--allow-unauthenticated-legacy"] + demo.args)
        #expect(bad.code == 1)
        #expect(bad.err == legacyOptInWarning + "\n" + uniformFailure + "\n")
        let check = try CLI.avault(["verify", pair.valid, "--json", "--allow-legacy-secured", "--check-decrypt", "--key", "demo-legacy",
                                    "--allow-unauthenticated-legacy"] + demo.args)
        #expect(check.out.contains("\"decrypts\":true"), "\(check.out)")
        #expect(check.err.contains(legacyOptInWarning))
    }

    /// A valid signature by a trusted key authenticates the blob it covers: it then decrypts
    /// without the opt-in; a blob changed after signing is refused like any unauthenticated one.
    @Test func aTrustedSignatureAuthenticatesTheBlob() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let pair = try Self.records(in: demo)
        #expect(try CLI.avault(["sign", pair.valid, "--key", "demo-desk"] + demo.args).code == 0)
        let plaintext = try Data(contentsOf: CLI.repoRoot.appendingPathComponent("Fixtures/blobs/demo-plaintext.txt"))
        let ok = try CLI.avault(["secured", "decrypt", "--record", pair.valid, "--key", "demo-legacy"] + demo.args)
        #expect(ok.code == 0, "\(ok.err)")
        #expect(ok.stdout == plaintext)
        #expect(!ok.err.contains("warning"))
        let check = try CLI.avault(["verify", pair.valid, "--json", "--allow-legacy-secured", "--check-decrypt", "--key", "demo-legacy"] + demo.args)
        #expect(check.code == 0)
        #expect(check.out.contains("\"decrypts\":true"))
        // Tamper with the signed record's blob: the signature no longer verifies, so no decryption.
        let signed = try String(contentsOfFile: pair.valid, encoding: .utf8)
        let tamperedBlob = try String(contentsOfFile: pair.tampered, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("secured: ") }!
        let validBlob = signed.split(separator: "\n").first { $0.hasPrefix("secured: ") }!
        try CLI.write(signed.replacingOccurrences(of: String(validBlob), with: String(tamperedBlob)), to: URL(fileURLWithPath: pair.tampered), mode: 0o644)
        let refused = try CLI.avault(["secured", "decrypt", "--record", pair.tampered, "--key", "demo-legacy"] + demo.args)
        #expect(refused.code == 2)
        // A signature by a key the trust store does not hold authenticates nothing.
        let stranger = demo.dir.appendingPathComponent("stranger.pub").path
        #expect(try CLI.run("minisign", ["-G", "-W", "-p", stranger, "-s", demo.dir.appendingPathComponent("stranger.key").path]).code == 0)
        let other = try CLI.avault(["secured", "decrypt", "--record", pair.valid, "--key", "demo-legacy", "--pubkey", stranger] + demo.args)
        #expect(other.code == 2)
        #expect(other.stdout.isEmpty)
    }
}

/// A v1 blob names no key, and a wrong key's padding holds for about one blob in 256. The demo
/// keyring's `demo-legacy` has two versions (1 = `demo-aes128.key`, 2 = `demo-aes256.key`);
/// `Fixtures/blobs/demo-v1-aes128-ambiguous.blob` was made by `openssl enc -aes-128-cbc` under
/// version 1, with random IVs until `openssl enc -d -aes-256-cbc` under version 2 also
/// succeeded (204 tries). Newest first, version 2 "decrypted" it into garbage: `secured decrypt`
/// printed that with exit 0, and `migrate --sign` sealed and signed it in place of the text.
@Suite struct LegacyAmbiguousKey {
    static let text = "Embargoed: the minister resigns at noon.\n"

    @Test func aBlobThatTwoVersionsDecryptIsRefused() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let blobFile = CLI.repoRoot.appendingPathComponent("Fixtures/blobs/demo-v1-aes128-ambiguous.blob").path
        let blob = try String(contentsOfFile: blobFile, encoding: .utf8).trimmingCharacters(in: .newlines)
        // openssl, not avault, says the fixture is what it claims: both keys' padding holds.
        let parts = blob.split(separator: ";")
        try Data(base64Encoded: String(parts[0]))!.write(to: demo.dir.appendingPathComponent("ct"))
        let iv = Data(base64Encoded: String(parts[1]))!.map { String(format: "%02x", $0) }.joined()
        let key128 = Data(base64Encoded: try String(contentsOf: CLI.repoRoot.appendingPathComponent("keys/demo-aes128.key"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines))!.map { String(format: "%02x", $0) }.joined()
        let key256 = try String(contentsOf: CLI.repoRoot.appendingPathComponent("keys/demo-aes256.key"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let ct = demo.dir.appendingPathComponent("ct").path
        let right = try CLI.run("openssl", ["enc", "-d", "-aes-128-cbc", "-K", key128, "-iv", iv, "-in", ct])
        #expect(right.code == 0 && right.out == Self.text, "\(right.err)")
        let wrong = try CLI.run("openssl", ["enc", "-d", "-aes-256-cbc", "-K", key256, "-iv", iv, "-in", ct])
        #expect(wrong.code == 0 && wrong.stdout != Data(Self.text.utf8), "\(wrong.err)")

        let refusal = "avault: the v1 blob decrypts under versions 1, 2 of demo-legacy"
        // In memory (an argument) and streamed (a file).
        let bare = try CLI.avault(["secured", "decrypt", blob, "--key", "demo-legacy", "--allow-unauthenticated-legacy"] + demo.args)
        #expect(bare.code == 2 && bare.out.isEmpty && bare.err.contains(refusal) && bare.err.contains("avault: hint: import the raw key file"),
                "\(bare.code) \(bare.err)")
        let output = demo.dir.appendingPathComponent("out").path
        let streamed = try CLI.avault(["secured", "decrypt", "-i", blobFile, "--key", "demo-legacy", "--allow-unauthenticated-legacy", "-o", output] + demo.args)
        #expect(streamed.code == 2 && streamed.err.contains(refusal) && !FileManager.default.fileExists(atPath: output), "\(streamed.code) \(streamed.err)")
        // The key file it was made with decrypts it.
        let keyFile = demo.dir.appendingPathComponent("aes128.key")
        try CLI.write(String(contentsOf: CLI.repoRoot.appendingPathComponent("keys/demo-aes128.key"), encoding: .utf8), to: keyFile)
        let byFile = try CLI.avault(["secured", "decrypt", blob, "--key-file", keyFile.path, "--allow-unauthenticated-legacy"])
        #expect(byFile.code == 0 && byFile.out == Self.text, "\(byFile.err)")

        // A record signed by the trusted desk: migrate refuses, and leaves it as it was.
        let text = "---\ntitle: \"Minister\"\nwebUrl: \"https://example.org/minister\"\nsecured: \"\(blob)\"\n---\n"
        let record = try demo.record("minister.md", text)
        #expect(try CLI.avault(["sign", record, "--key", "demo-desk"] + demo.args).code == 0)
        let signed = try String(contentsOfFile: record, encoding: .utf8)
        let migrate = try CLI.avault(["migrate", record, "--from-key", "demo-legacy", "--key", "demo-content", "--sign", "demo-desk"] + demo.args)
        #expect(migrate.code == 2 && migrate.err.contains("decrypts under versions 1, 2 of demo-legacy"), "\(migrate.code) \(migrate.err)")
        #expect(try String(contentsOfFile: record, encoding: .utf8) == signed)
        // verify --check-decrypt answers as the commands that decrypt do (a review found it
        // taking the first version that fitted: decrypts true).
        let check = try CLI.avault(["verify", record, "--json", "--allow-legacy-secured", "--check-decrypt", "--key", "demo-legacy"] + demo.args)
        #expect(check.code == 1 && check.out.contains("\"decrypts\":false"), "\(check.code) \(check.out) \(check.err)")
        let unseal = try CLI.avault(["unseal", record, "--key", "demo-legacy"] + demo.args)
        #expect(unseal.code == 2 && unseal.err.contains("decrypts under versions 1, 2"), "\(unseal.code) \(unseal.err)")
        #expect(try String(contentsOfFile: record, encoding: .utf8) == signed)
    }
}
