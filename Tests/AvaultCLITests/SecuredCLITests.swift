import Foundation
import Testing

let uniformFailure = "avault: decryption failed: wrong key, wrong context, or tampered data"
/// What `--allow-unauthenticated-legacy` says once on standard error.
let legacyOptInWarning = "avault: warning: decrypting an unauthenticated legacy v1 blob: anyone could have altered it, "
    + "and whether its decryption succeeds or fails is itself a padding oracle to whoever supplied it"
let seedPath = "Fixtures/seed/000_6e329c144f65a19c.txt"

/// Key files in `keys/` lose their mode in git; tests use private copies with mode 600.
func privateKey(_ name: String, in dir: URL) throws -> String {
    let text = try String(contentsOf: CLI.repoRoot.appendingPathComponent("keys/" + name), encoding: .utf8)
    let url = dir.appendingPathComponent(name)
    try CLI.write(text, to: url, mode: 0o600)
    return url.path
}

@Suite struct SecuredInspectCLI {
    @Test func theSeedIsAWellFormedV1BlobWith16ByteIVAnd400ByteCiphertext() throws {
        let r = try CLI.avault(["secured", "inspect", "--record", seedPath], cwd: CLI.repoRoot)
        #expect(r.code == 0)
        #expect(r.out.contains("format:          v1\n"))
        #expect(r.out.contains("ivBytes:         16\n"))
        #expect(r.out.contains("ciphertextBytes: 400\n"))
        #expect(r.out.contains("wellFormed:      yes\n"))
        #expect(r.err.isEmpty)

        let j = try CLI.avault(["secured", "inspect", "--record", seedPath, "--json"], cwd: CLI.repoRoot)
        #expect(j.code == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: j.stdout) as? [String: Any])
        #expect(object["format"] as? String == "v1")
        #expect(object["wellFormed"] as? Bool == true)
        #expect(object["ivBytes"] as? Int == 16)
        #expect(object["ciphertextBytes"] as? Int == 400)
        #expect(object["authenticated"] as? Bool == false)
    }

    @Test func aV2BlobFromStdinReportsItsKeyID() throws {
        let blob = try String(contentsOf: CLI.repoRoot.appendingPathComponent("Fixtures/blobs/demo-v2.blob"), encoding: .utf8)
        let r = try CLI.avault(["secured", "inspect", "-", "--json"], stdin: Data(blob.utf8))
        #expect(r.code == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(object["format"] as? String == "v2")
        #expect(object["nonceBytes"] as? Int == 24)
        #expect(object["tagBytes"] as? Int == 16)
        let kid = try #require(object["keyId"] as? String)
        #expect(blob.hasPrefix("v2;" + kid + ";"))
    }

    @Test func malformedBlobsExitOneAndSayWhy() throws {
        let r = try CLI.avault(["secured", "inspect", "v2;XYZ;abc;def", "--json"])
        #expect(r.code == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(object["wellFormed"] as? Bool == false)
        #expect(object["format"] as? String == "v2")
        #expect((object["error"] as? String)?.contains("16 lowercase hex digits") == true)
        #expect(r.err == "avault: malformed secured blob: v2 key id must be 16 lowercase hex digits\n")
    }
}

@Suite struct SecuredDecryptCLI {
    @Test func theSeedWithAKeyThatIsNotItsKeyFailsUniformly() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for key in ["demo-aes256.key", "demo-aes128.key"] {
            let r = try CLI.avault(["secured", "decrypt", "--record", seedPath, "--key-file", privateKey(key, in: dir),
                                    "--allow-unauthenticated-legacy"], cwd: CLI.repoRoot)
            #expect(r.code == 1)
            #expect(r.err == legacyOptInWarning + "\n" + uniformFailure + "\n")
            #expect(r.stdout.isEmpty)
        }
    }

    @Test func demoRecordsDecryptAndV1NeedsTheOptIn() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plaintext = try Data(contentsOf: CLI.repoRoot.appendingPathComponent("Fixtures/blobs/demo-plaintext.txt"))
        let v2 = try CLI.avault(["secured", "decrypt", "--record", "Fixtures/records/demo-v2.md", "--key-file", privateKey("demo-v2.key", in: dir)], cwd: CLI.repoRoot)
        #expect(v2.code == 0)
        #expect(v2.stdout == plaintext)
        #expect(v2.err.isEmpty)
        let v1Args = ["secured", "decrypt", "--record", "Fixtures/records/demo-v1.md", "--key-file", try privateKey("demo-aes256.key", in: dir)]
        let refused = try CLI.avault(v1Args, cwd: CLI.repoRoot, env: ["AVAULT_KEYRING": dir.appendingPathComponent("none").path])
        #expect(refused.code == 2)
        #expect(refused.stdout.isEmpty)
        #expect(refused.err.contains("avault: hint:") && refused.err.contains("--allow-unauthenticated-legacy"))
        let v1 = try CLI.avault(v1Args + ["--allow-unauthenticated-legacy"], cwd: CLI.repoRoot)
        #expect(v1.code == 0)
        #expect(v1.stdout == plaintext)
        #expect(v1.err == legacyOptInWarning + "\n")
    }

    @Test func wrongKeyWrongContextAndTamperingAllGiveTheSameMessage() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let blob = try String(contentsOf: CLI.repoRoot.appendingPathComponent("Fixtures/blobs/demo-v2.blob"), encoding: .utf8)
            .trimmingCharacters(in: .newlines)
        let good = try privateKey("demo-v2.key", in: dir)
        let ok = try CLI.avault(["secured", "decrypt", blob, "--key-file", good, "--context", "https://example.org/demo/ai-race-draft"])
        #expect(ok.code == 0)

        let wrongContext = try CLI.avault(["secured", "decrypt", blob, "--key-file", good, "--context", "https://example.org/other"])
        let wrongKey = try CLI.avault(["secured", "decrypt", blob, "--key-file", privateKey("demo-other-v2.key", in: dir), "--context", "https://example.org/demo/ai-race-draft"])
        var chars = Array(blob)
        chars[chars.count - 5] = chars[chars.count - 5] == "A" ? "B" : "A"
        let tampered = try CLI.avault(["secured", "decrypt", String(chars), "--key-file", good, "--context", "https://example.org/demo/ai-race-draft"])
        for r in [wrongContext, wrongKey, tampered] {
            #expect(r.code == 1)
            #expect(r.stdout.isEmpty)
            #expect(r.err.hasPrefix(uniformFailure + "\n"))
        }
        // The wrong key is named by key id in a hint (public information only).
        #expect(wrongKey.err.contains("avault: hint: the blob names key id"))
    }

    @Test func outputFilesAreWrittenAtomicallyWithMode600() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("plain.txt").path
        let r = try CLI.avault(["secured", "decrypt", "--record", "Fixtures/records/demo-v2.md", "--key-file", privateKey("demo-v2.key", in: dir), "-o", out], cwd: CLI.repoRoot)
        #expect(r.code == 0)
        #expect(r.stdout.isEmpty)
        let mode = try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: CLI.repoRoot.appendingPathComponent("Fixtures/blobs/demo-plaintext.txt")))
        // A failed decryption leaves no output file behind.
        let failed = dir.appendingPathComponent("never.txt").path
        let f = try CLI.avault(["secured", "decrypt", "--record", seedPath, "--key-file", privateKey("demo-aes256.key", in: dir), "-o", failed,
                                "--allow-unauthenticated-legacy"], cwd: CLI.repoRoot)
        #expect(f.code == 1)
        #expect(!FileManager.default.fileExists(atPath: failed))
    }
}

@Suite struct SecuredEncryptCLI {
    @Test func encryptThenDecryptBothFormats() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plaintext = Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        for (key, extra, prefix) in [("demo-v2.key", ["--context", "ctx"], "v2;"), ("demo-aes128.key", ["--legacy-cbc"], ""), ("demo-aes256.key", ["--legacy-cbc"], "")] {
            let k = try privateKey(key, in: dir)
            let e = try CLI.avault(["secured", "encrypt", "--key-file", k] + extra, stdin: plaintext)
            #expect(e.code == 0)
            #expect(e.out.hasSuffix("\n") && e.out.filter { $0 == "\n" }.count == 1)
            #expect(e.out.hasPrefix(prefix))
            let context = extra.first == "--context" ? ["--context", "ctx"] : ["--allow-unauthenticated-legacy"]
            let d = try CLI.avault(["secured", "decrypt", "-", "--key-file", k] + context, stdin: e.stdout)
            #expect(d.code == 0)
            #expect(d.stdout == plaintext)
        }
    }

    @Test func inputFileAndRandomness() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let k = try privateKey("demo-v2.key", in: dir)
        let input = dir.appendingPathComponent("in.txt")
        try Data("same text".utf8).write(to: input)
        let a = try CLI.avault(["secured", "encrypt", "--key-file", k, "-i", input.path])
        let b = try CLI.avault(["secured", "encrypt", "--key-file", k, "-i", input.path])
        #expect(a.code == 0 && b.code == 0)
        #expect(a.out != b.out)
    }
}

@Suite struct SecuredErrorsCLI {
    @Test func keyFileProblemsAreOperationalErrorsWithHints() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let loose = dir.appendingPathComponent("loose.key")
        let keyHex = String(repeating: "5a", count: 32)
        try CLI.write(keyHex, to: loose, mode: 0o644)
        let r1 = try CLI.avault(["secured", "encrypt", "--key-file", loose.path], stdin: Data("x".utf8))
        #expect(r1.code == 2)
        #expect(r1.err.contains("secret file is accessible by group or others"))
        #expect(r1.err.contains("avault: hint: chmod 600"))

        let bad = dir.appendingPathComponent("bad.key")
        try CLI.write("5a5a5a5a-not-a-key", to: bad)
        let r2 = try CLI.avault(["secured", "encrypt", "--key-file", bad.path], stdin: Data("x".utf8))
        #expect(r2.code == 2)
        #expect(r2.err.contains("malformed key file"))
        #expect(!r2.err.contains("5a5a5a5a"))

        let r3 = try CLI.avault(["secured", "encrypt", "--key-file", dir.appendingPathComponent("missing.key").path], stdin: Data("x".utf8))
        #expect(r3.code == 2)
        #expect(r3.err.contains("no such file or directory"))

        // A 16-byte key cannot make v2 blobs.
        let short = try privateKey("demo-aes128.key", in: dir)
        let r4 = try CLI.avault(["secured", "encrypt", "--key-file", short], stdin: Data("x".utf8))
        #expect(r4.code == 2)
        #expect(r4.err.contains("32-byte key"))
    }

    @Test func usageErrorsExit64() throws {
        let cases: [[String]] = [
            ["secured", "inspect"],
            ["secured", "inspect", "a;b", "--record", "x"],
            ["secured", "decrypt", "a;b"],
            ["secured", "encrypt", "--key-file", "k", "--legacy-cbc", "--context", "c"],
            ["secured", "bogus"],
            ["--key", "deadbeef"],
        ]
        for args in cases {
            let r = try CLI.avault(args)
            #expect(r.code == 64, "\(args)")
            #expect(r.err.hasPrefix("avault: "), "\(args)")
        }
    }

    /// A group of commands named without one (`avault keys`, as a script that lost its
    /// variable runs it) printed its help and exited 0. It is a usage error, and stdout stays
    /// empty; `--help` and `help` still give the help.
    @Test func aGroupNamedWithoutACommandIsAUsageError() throws {
        for args in [[], ["keys"], ["keys", "trust"], ["vault"], ["agent"], ["age"], ["secured"]] {
            let named = (["avault"] + args).joined(separator: " ")
            let r = try CLI.avault(args)
            #expect(r.code == 64 && r.out.isEmpty, "\(args): \(r.code) \(r.out)")
            #expect(r.err == "avault: '\(named)' needs a command\navault: hint: see '\(named) --help' for them\n", "\(args): \(r.err)")
            #expect(try CLI.avault(args + ["--help"]).code == 0)
        }
        #expect(try CLI.avault(["help", "keys"]).out.contains("USAGE: avault keys <subcommand>"))
    }

    @Test func helpDocumentsTheExitCodes() throws {
        for args in [["--help"], ["secured", "--help"], ["secured", "decrypt", "--help"]] {
            let r = try CLI.avault(args)
            #expect(r.code == 0)
            #expect(r.out.contains("64 usage error"))
        }
    }

    /// Hostile inputs end in a clear message and a documented exit code, never a crash.
    @Test func badInputsNeverCrash() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let k = try privateKey("demo-v2.key", in: dir)
        let records: [String: String] = [
            "not-utf8.md": "---\ntitle: \u{FFFD}\n---\n",
            "no-front-matter.md": "just text\n",
            "unterminated.md": "---\ntitle: x\n",
            "no-secured.md": "---\ntitle: x\n---\n",
            "secured-number.md": "---\nsecured: 12\n---\n",
            "bad-yaml.md": "---\nsecured: [\n---\n",
            "empty.md": "",
        ]
        for (name, text) in records {
            try CLI.write(text, to: dir.appendingPathComponent(name), mode: 0o644)
        }
        var raw = Data("---\nsecured: \"".utf8); raw.append(contentsOf: [0xff, 0xfe]); raw.append(Data("\"\n---\n".utf8))
        try raw.write(to: dir.appendingPathComponent("binary.md"))
        for name in records.keys.sorted() + ["binary.md", "missing.md"] {
            for args in [["secured", "inspect", "--record", dir.appendingPathComponent(name).path],
                         ["secured", "decrypt", "--record", dir.appendingPathComponent(name).path, "--key-file", k]] {
                let r = try CLI.avault(args)
                #expect([1, 2].contains(r.code), "\(name): \(r.code) \(r.err)")
                #expect(r.err.hasPrefix("avault: "), "\(name)")
                #expect(r.err.split(separator: "\n").allSatisfy { $0.hasPrefix("avault: ") }, "\(name)")
            }
        }
        for blob in ["", ";", ";;;", "v2;;;", "====;====", String(repeating: "A", count: 100_000) + ";x", "\u{0}", "é;é"] {
            let r = try CLI.avault(["secured", "decrypt", "-", "--key-file", k], stdin: Data(blob.utf8))
            #expect(r.code == 1, "\(blob.prefix(20))")
            #expect(r.err.hasPrefix("avault: malformed secured blob: "), "\(blob.prefix(20))")
        }
    }
}
