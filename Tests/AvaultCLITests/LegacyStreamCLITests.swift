// `secured decrypt` of a long legacy v1 blob from standard input (a pipe or a file) or -i FILE,
// streamed: round trips with blobs that `openssl enc` made, for sizes around the 384 KiB
// chunk; the padding checked before anything is written; -o atomic; the gate and the uniform
// failure unchanged; memory bounded.

import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Blobs made by `openssl enc -aes-256-cbc -a -A` under the demo AES-256 key.
final class OpenSSLBlobs {
    let dir: URL
    let keyHex: String
    let keyFile: String

    init() throws {
        dir = try CLI.tempDirectory()
        keyFile = try privateKey("demo-aes256.key", in: dir)
        keyHex = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Writes `plaintext` to NAME.plain and its v1 blob (with a trailing line break) to NAME.blob.
    @discardableResult
    func make(_ name: String, _ plaintext: Data, iv: String = "00112233445566778899aabbccddeeff") throws -> String {
        try plaintext.write(to: URL(fileURLWithPath: path(name + ".plain")))
        let r = try CLI.run("openssl", ["enc", "-aes-256-cbc", "-a", "-A", "-K", keyHex, "-iv", iv, "-in", path(name + ".plain"), "-out", path(name + ".ct")])
        try #require(r.code == 0, "openssl enc: \(r.err)")
        let ct = try String(contentsOfFile: path(name + ".ct"), encoding: .utf8)
        let ivBytes = Data(stride(from: 0, to: 32, by: 2).map { UInt8(iv.dropFirst($0).prefix(2), radix: 16)! })
        try Data((ct + ";" + ivBytes.base64EncodedString() + "\n").utf8).write(to: URL(fileURLWithPath: path(name + ".blob")))
        return path(name + ".blob")
    }

    /// `avault secured decrypt …` with standard input from `stdin` (a file, through the shell).
    func decrypt(stdinFile: String, _ args: [String]) throws -> CLI.Result {
        try CLI.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" < \"$AVAULT_STDIN\"", CLI.avaultPath] + args, env: ["AVAULT_STDIN": stdinFile])
    }

    /// Files in the directory whose names start with `.avault-tmp-` (temporary outputs).
    func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".avault-tmp-") }
    }
}

@Suite struct LegacyStreamCLI {
    static let chunk = 393_216 // plaintext bytes per 512 KiB of base64

    @Test func roundTripsWithOpenSSLAroundChunkBoundariesFromEveryInput() throws {
        let b = try OpenSSLBlobs()
        var rng = SystemRandomNumberGenerator()
        let sizes = [0, 1, 15, 16, 17, 65_536 - 17, 65_536 + 16, Self.chunk - 1, Self.chunk, Self.chunk + 1,
                     2 * Self.chunk - 16, 2 * Self.chunk + 16, 3 * 1024 * 1024 + 7]
        for size in sizes {
            let plaintext = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let blob = try b.make("s\(size)", plaintext)
            let args = ["secured", "decrypt", "-", "--key-file", b.keyFile, "--allow-unauthenticated-legacy"]
            // Standard input from a file (read from its end), and from a pipe (spooled).
            let fromFile = try b.decrypt(stdinFile: blob, args)
            #expect(fromFile.code == 0 && Bytes(fromFile.stdout) == Bytes(plaintext), "size \(size) from a file: \(fromFile.err)")
            #expect(fromFile.err == legacyOptInWarning + "\n", "size \(size)")
            let fromPipe = try CLI.avault(args, stdin: try Data(contentsOf: URL(fileURLWithPath: blob)))
            #expect(fromPipe.code == 0 && Bytes(fromPipe.stdout) == Bytes(plaintext), "size \(size) from a pipe: \(fromPipe.err)")
            // -i FILE to -o FILE: mode 600, nothing left beside it.
            let out = b.path("s\(size).out")
            let toFile = try CLI.avault(["secured", "decrypt", "-i", blob, "-o", out, "--key-file", b.keyFile, "--allow-unauthenticated-legacy", "-q"])
            #expect(toFile.code == 0, "size \(size) -i/-o: \(toFile.err)")
            #expect(Bytes(try Data(contentsOf: URL(fileURLWithPath: out))) == Bytes(plaintext), "size \(size) -o")
            #expect(FileSystemMode.of(out) == 0o600)
            #expect(try b.leftovers().isEmpty)
        }
    }

    @Test func badPaddingWritesNothingAnywhere() throws {
        let b = try OpenSSLBlobs()
        let plaintext = Data(repeating: 0x41, count: 2 * Self.chunk + 100)
        let good = try String(contentsOfFile: try b.make("p", plaintext), encoding: .utf8)
        // Flip a bit in the second-to-last ciphertext block: the last block's padding breaks.
        let parts = good.dropLast().split(separator: ";")
        var ct = try #require(Data(base64Encoded: String(parts[0])))
        ct[ct.count - 17] ^= 0x04
        let tampered = b.path("tampered.blob")
        try Data((ct.base64EncodedString() + ";" + parts[1] + "\n").utf8).write(to: URL(fileURLWithPath: tampered))
        let args = ["--key-file", b.keyFile, "--allow-unauthenticated-legacy"]
        let toStdout = try b.decrypt(stdinFile: tampered, ["secured", "decrypt", "-"] + args)
        #expect(toStdout.code == 1)
        #expect(toStdout.stdout.isEmpty, "\(toStdout.stdout.count) bytes written before the padding was found bad")
        #expect(toStdout.err == legacyOptInWarning + "\n" + uniformFailure + "\n")
        let out = b.path("out")
        let toFile = try CLI.avault(["secured", "decrypt", "-i", tampered, "-o", out] + args)
        #expect(toFile.code == 1)
        #expect(toFile.err == legacyOptInWarning + "\n" + uniformFailure + "\n")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try b.leftovers().isEmpty)
        // An existing output is kept whole on failure even with --force.
        try Data("keep".utf8).write(to: URL(fileURLWithPath: out))
        let forced = try CLI.avault(["secured", "decrypt", "-i", tampered, "-o", out, "--force"] + args)
        #expect(forced.code == 1)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep")
        #expect(try b.leftovers().isEmpty)
    }

    @Test func aWrongKeyIsTheUniformFailure() throws {
        let b = try OpenSSLBlobs()
        let blob = try b.make("w", Data(repeating: 7, count: Self.chunk + 5))
        // A wrong key passes the padding check about once in 256 tries; two keys in a row do not.
        let wrong = [try privateKey("demo-v2.key", in: b.dir), try privateKey("demo-other-v2.key", in: b.dir)]
        var failures = 0
        for key in wrong {
            let r = try b.decrypt(stdinFile: blob, ["secured", "decrypt", "-", "--key-file", key, "--allow-unauthenticated-legacy", "-q"])
            if r.code == 1 {
                failures += 1
                #expect(r.err == legacyOptInWarning + "\n" + uniformFailure + "\n")
                #expect(r.stdout.isEmpty)
            }
        }
        #expect(failures >= 1)
        // A key that cannot be an AES key is an unsuitable key (exit 2), before any decryption.
        let short = b.path("short.key")
        try CLI.write(String(repeating: "ab", count: 20), to: URL(fileURLWithPath: short))
        let r = try b.decrypt(stdinFile: blob, ["secured", "decrypt", "-", "--key-file", short, "--allow-unauthenticated-legacy", "-q"])
        #expect(r.code == 2, "\(r.err)")
    }

    @Test func theGateStillHoldsAndValidAndTamperedLookAlike() throws {
        let b = try OpenSSLBlobs()
        let good = try b.make("g", Data(repeating: 1, count: Self.chunk))
        let text = try String(contentsOfFile: good, encoding: .utf8)
        let tampered = b.path("t.blob")
        var bytes = Array(text.utf8)
        bytes[1000] = bytes[1000] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try Data(bytes).write(to: URL(fileURLWithPath: tampered))
        var results: [CLI.Result] = []
        for blob in [good, tampered] {
            let r = try b.decrypt(stdinFile: blob, ["secured", "decrypt", "-", "--key-file", b.keyFile])
            #expect(r.code == 2)
            #expect(r.stdout.isEmpty)
            #expect(r.err.hasPrefix("avault: refusing to decrypt a legacy v1 blob that no trusted signature authenticates\n"), "\(r.err)")
            results.append(r)
        }
        #expect(results[0].err == results[1].err)
        // From a pipe too.
        let piped = try CLI.avault(["secured", "decrypt", "-", "--key-file", b.keyFile], stdin: Data(text.utf8))
        #expect(piped.code == 2 && piped.err == results[0].err)
    }

    /// Malformed is "the answer is no" (exit 1), as for a blob held whole.
    @Test func aMalformedBlobIsRefusedAsMalformed() throws {
        let b = try OpenSSLBlobs()
        let good = try String(contentsOfFile: try b.make("m", Data(repeating: 3, count: 3 * Self.chunk)), encoding: .utf8)
        var bytes = Array(good.utf8)
        bytes[2 * 524_288 + 10] = UInt8(ascii: "*")
        let bad = b.path("bad.blob")
        try Data(bytes).write(to: URL(fileURLWithPath: bad))
        let out = b.path("out")
        let r = try CLI.avault(["secured", "decrypt", "-i", bad, "-o", out, "--key-file", b.keyFile, "--allow-unauthenticated-legacy", "-q"])
        #expect(r.code == 1) // malformed: the answer is no
        #expect(r.err == legacyOptInWarning + "\n" + "avault: malformed secured blob: v1 ciphertext is not strict base64 (standard alphabet, padded, no whitespace)\n")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try b.leftovers().isEmpty)
        // The IV at the end is checked before the gate, as the whole-blob parser does.
        let shortIV = b.path("short-iv.blob")
        try Data(good.utf8.dropLast(5) + Array("\n".utf8)).write(to: URL(fileURLWithPath: shortIV))
        let s = try b.decrypt(stdinFile: shortIV, ["secured", "decrypt", "-", "--key-file", b.keyFile])
        #expect(s.code == 1)
        #expect(s.err.contains("v1 iv is 15 bytes, expected 16"), "\(s.err)")
    }

    @Test func aKeyringLegacyKeyDecryptsAStreamedBlob() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let plain = demo.dir.appendingPathComponent("plain")
        let plaintext = Data((0..<(Self.chunk + 99)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try plaintext.write(to: plain)
        let enc = try CLI.avault(["secured", "encrypt", "--key", "demo-legacy", "--legacy-cbc", "-i", plain.path] + demo.args)
        try #require(enc.code == 0, "\(enc.err)")
        let blob = demo.dir.appendingPathComponent("blob").path
        try enc.stdout.write(to: URL(fileURLWithPath: blob))
        let r = try CLI.avault(["secured", "decrypt", "-i", blob, "--key", "demo-legacy", "--allow-unauthenticated-legacy", "-q"] + demo.args)
        #expect(r.code == 0, "\(r.err)")
        #expect(Bytes(r.stdout) == Bytes(plaintext))
    }

    @Test func anExistingOutputNeedsForce() throws {
        let b = try OpenSSLBlobs()
        let blob = try b.make("f", Data(repeating: 9, count: Self.chunk))
        let out = b.path("out")
        try Data("old".utf8).write(to: URL(fileURLWithPath: out))
        let args = ["secured", "decrypt", "-i", blob, "-o", out, "--key-file", b.keyFile, "--allow-unauthenticated-legacy", "-q"]
        let refused = try CLI.avault(args)
        #expect(refused.code == 2)
        #expect(refused.err == "avault: \(out): already exists\navault: hint: use --force to overwrite it\n")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "old")
        let forced = try CLI.avault(args + ["--force"])
        #expect(forced.code == 0)
        #expect(Bytes(try Data(contentsOf: URL(fileURLWithPath: out))) == Bytes(Data(repeating: 9, count: Self.chunk)))
    }

    /// On a terminal, text is shown piece by piece (a character cut between two pieces too),
    /// and the first binary piece stops it.
    @Test func onATerminalTextIsShownAndBinaryStops() throws {
        let b = try OpenSSLBlobs()
        // "é" is 2 bytes, the first the last of the first piece, the second the first of the next.
        let text = Data(String(repeating: "a", count: Self.chunk - 1).utf8) + Data("é".utf8) + Data(String(repeating: "b", count: 100).utf8)
        let blob = try b.make("text", text)
        let shown = try avaultOnTerminal(["secured", "decrypt", "-i", blob, "--key-file", b.keyFile, "--allow-unauthenticated-legacy", "-q"])
        #expect(shown.code == 0, "\(shown.screen.suffix(300))")
        #expect(shown.screen.hasSuffix("aé" + String(repeating: "b", count: 100)), "\(shown.screen.suffix(200))")
        let binary = try b.make("binary", Data(repeating: 0x61, count: Self.chunk + 10) + Data([0x1B, 0x5B, 0x32, 0x4A]))
        let refused = try avaultOnTerminal(["secured", "decrypt", "-i", binary, "--key-file", b.keyFile, "--allow-unauthenticated-legacy", "-q"])
        #expect(refused.code == 2)
        #expect(refused.screen.hasSuffix("avault: refusing to output binary to the terminal\r\navault: hint: use -o FILE or pipe it\r\n"), "\(refused.screen.suffix(200))")
        #expect(!refused.screen.contains("\u{1B}[2J"))
    }

    @Test func oneSourceOnly() throws {
        let r = try CLI.avault(["secured", "decrypt", "-", "-i", "x", "--key-file", "k"])
        #expect(r.code == 64)
    }
}

/// Peak memory of a streamed decryption: under 16 MiB above what `avault --version` takes,
/// whatever the blob's size (measured as VaultMemoryTests does).
@Suite(.serialized) struct LegacyStreamMemory {
    @Test(.disabled(if: CLI.sanitized, "AddressSanitizer's shadow memory and quarantine dwarf the budget"))
    func a96MiBBlobStaysWithin16MiBOfStartUp() throws {
        let b = try OpenSSLBlobs()
        let size = 96 * 1024 * 1024
        let plain = b.path("big.plain")
        let made = try CLI.run("/bin/sh", ["-c", "head -c \(size) /dev/urandom > \"$0\"", plain])
        try #require(made.code == 0)
        let ct = b.path("big.ct")
        let enc = try CLI.run("openssl", ["enc", "-aes-256-cbc", "-a", "-A", "-K", b.keyHex, "-iv", "000102030405060708090a0b0c0d0e0f", "-in", plain, "-out", ct])
        try #require(enc.code == 0)
        let blob = b.path("big.blob")
        let cat = try CLI.run("/bin/sh", ["-c", "cat \"$0\" > \"$1\" && printf ';AAECAwQFBgcICQoLDA0ODw==\\n' >> \"$1\"", ct, blob])
        try #require(cat.code == 0)
        let env = ["AVAULT": CLI.avaultPath, "BLOB": blob, "PLAIN": plain, "KEY": b.keyFile, "OUT": b.path("big.out")]
        let start = try VaultMemoryTests.peak([CLI.avaultPath, "--version"], env: env)
        let limit = start.kib + 16 * 1024
        let decrypt = [CLI.avaultPath, "secured", "decrypt", "-", "--key-file", b.keyFile, "--allow-unauthenticated-legacy", "-q"]
        let fromFile = try VaultMemoryTests.peak(decrypt, env: env, stdin: blob, stdout: b.path("big.out"))
        #expect(fromFile.code == 0)
        #expect(fromFile.kib < limit, "from a file: \(fromFile.kib) KiB, start-up \(start.kib) KiB")
        #expect(try CLI.run("cmp", ["-s", plain, b.path("big.out")]).code == 0, "from a file: different bytes")
        let piped = try VaultMemoryTests.peak(["/bin/sh", "-c", "cat \"$BLOB\" | \"$AVAULT\" secured decrypt - --key-file \"$KEY\" --allow-unauthenticated-legacy -q | cmp -s - \"$PLAIN\""], env: env)
        #expect(piped.code == 0, "from a pipe: different bytes")
        #expect(piped.kib < limit, "from a pipe: \(piped.kib) KiB")
        unlink(b.path("big.out"))
        let toFile = try VaultMemoryTests.peak([CLI.avaultPath, "secured", "decrypt", "-i", blob, "-o", b.path("big.out"), "--key-file", b.keyFile,
                                                "--allow-unauthenticated-legacy", "-q"], env: env)
        #expect(toFile.code == 0)
        #expect(toFile.kib < limit, "-i/-o: \(toFile.kib) KiB")
        #expect(try CLI.run("cmp", ["-s", plain, b.path("big.out")]).code == 0, "-o: different bytes")
        print("legacy stream memory (peak RSS, KiB): start-up \(start.kib), from a file \(fromFile.kib), from a pipe \(piped.kib), -i/-o \(toFile.kib)")
    }
}

enum FileSystemMode {
    static func of(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int).flatMap { $0 }
    }
}
