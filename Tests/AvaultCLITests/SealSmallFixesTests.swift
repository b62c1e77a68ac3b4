// Small things seal, unseal, migrate and secured say: a detached signature of the plaintext left
// beside a sealed record, a --field given twice, the file a legacy refusal is about, and the
// chmod hint for a secret that is not a regular file of its own.

import Foundation
import Testing

private let draft = "---\ntitle: \"Draft\"\nwebUrl: \"https://example.org/d\"\nsummary: the summary\n---\nThe sealed text.\n"

@Suite("seal warns of FILE.minisig beside the record: it signs the plaintext")
struct SealDetachedSignatureWarningTests {
    @Test func aDetachedSignatureOfThePlaintextIsWarnedOfEvenWithQuiet() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let path = try demo.record("d.md", draft)
        let signature = path + ".minisig"
        let signed = try CLI.avault(["sign", "--detached", path, "--key", "demo-desk"] + demo.args)
        #expect(signed.code == 0 && FileManager.default.fileExists(atPath: signature), "\(signed.err)")

        let s = try CLI.avault(["seal", path, "--key", "demo-content", "-q"] + demo.args)
        #expect(s.code == 0, "\(s.err)")
        #expect(s.stdout.isEmpty)
        #expect(s.err == "avault: warning: \(signature) is a detached signature of the record before it was sealed: it signs the plaintext, "
                + "so anyone can confirm a guess of the sealed text with 'avault verify --detached'\n"
                + "avault: hint: remove it: rm -- \(signature)\n", "\(s.err)")
        // It is left where it is, and it does what the warning says: a right guess verifies.
        #expect(FileManager.default.fileExists(atPath: signature))
        #expect(!(try String(contentsOfFile: path, encoding: .utf8)).contains("The sealed text."))
        let guess = try demo.record("guess.md", draft)
        let v = try CLI.avault(["verify", "--detached", guess, "-x", signature, "--pubkey", demo.pub])
        #expect(v.code == 0, "\(v.out) \(v.err)")

        // Without one, no such warning.
        let other = try demo.record("e.md", draft)
        let quiet = try CLI.avault(["seal", other, "--key", "demo-content", "-q"] + demo.args)
        #expect(quiet.code == 0 && quiet.err.isEmpty, "\(quiet.err)")
    }
}

@Suite("secured decrypt --key-file: a chmod hint only for a regular file of its own")
struct SecuredKeyFileHintTests {
    static let blob = "v2;a572a3388fab68b1;KVbpjlZ8obqBP529oPgaayiVW7FvwgIl;u6h4oatOS+HnGvXgxJBQkMHnxdbIJA=="

    @Test func noChmodHintForADeviceOrStandardInput() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = dir.appendingPathComponent("k.hex")
        try CLI.write(String(repeating: "ab", count: 32), to: key, mode: 0o644)

        let device = try CLI.avault(["secured", "decrypt", Self.blob, "--key-file", "/dev/zero"])
        #expect(device.code == 2 && device.err.contains("/dev/zero: secret file is accessible by group or others"), "\(device.err)")
        #expect(!device.err.contains("chmod"), "\(device.err)")
        // /dev/stdin redirected from a file of mode 644: chmod 600 /dev/stdin would name chmod's own standard input.
        let stdin = try CLI.run("/bin/sh", ["-c", "exec \"$0\" secured decrypt \"$1\" --key-file /dev/stdin < \"$2\"", CLI.avaultPath, Self.blob, key.path])
        #expect(stdin.code == 2 && stdin.err.contains("/dev/stdin: secret file is accessible by group or others"), "\(stdin.err)")
        #expect(!stdin.err.contains("chmod"), "\(stdin.err)")
        // The file itself still gets it.
        let file = try CLI.avault(["secured", "decrypt", Self.blob, "--key-file", key.path])
        #expect(file.code == 2 && file.err.contains("avault: hint: chmod 600 \(key.path)\n"), "\(file.err)")
    }
}
@Suite("seal --field NAME twice is a usage error")
struct SealRepeatedFieldTests {
    @Test func aFieldNamedTwiceIsAUsageError() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let path = try demo.record("d.md", draft)
        let r = try CLI.avault(["seal", path, "--key", "demo-content", "--field", "summary", "--field", "summary"] + demo.args)
        #expect(r.code == 64, "\(r.code) \(r.err)")
        #expect(r.err.contains("--field summary is given twice: name each field once"), "\(r.err)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == draft)
        #expect(try CLI.avault(["seal", path, "--key", "demo-content", "--field", "summary"] + demo.args).code == 0)
    }
}

@Suite("unseal and migrate name the record whose legacy v1 blob they refuse to decrypt")
struct UnsealLegacyRefusalNamesTheFileTests {
    @Test func theRefusalNamesTheRecord() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let path = try demo.copy("Fixtures/records/demo-v1.md", as: "legacy.md")
        let before = try String(contentsOfFile: path, encoding: .utf8)
        let refusal = "avault: \(path): refusing to decrypt a legacy v1 blob that no trusted signature authenticates\navault: hint: "
        let u = try CLI.avault(["unseal", path, "--key", "demo-legacy"] + demo.args)
        #expect(u.code == 2 && u.err.hasPrefix(refusal), "\(u.err)")
        let m = try CLI.avault(["migrate", path, "--from-key", "demo-legacy", "--key", "demo-content"] + demo.args)
        #expect(m.code == 2 && m.err.hasPrefix(refusal), "\(m.err)")
        let d = try CLI.avault(["secured", "decrypt", "--record", path, "--key", "demo-legacy"] + demo.args)
        #expect(d.code == 2 && d.err.hasPrefix(refusal), "\(d.err)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == before)
    }
}
