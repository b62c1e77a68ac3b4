// age interoperability through the real binaries: avault against Debian's `age` and
// `age-keygen` (REQUIRED: scripts/setup installs the `age` package; a missing tool fails,
// never skips). age reads a passphrase only from the terminal, so the passphrase tests run it under
// `script` (util-linux, always present on Debian), which gives it a pseudo-terminal fed from
// standard input.

import Foundation
import TestSupport
import Testing

@Suite("age: identities in the keyring and age files, against age itself")
struct AgeCLITests {
    /// Runs `age`/`age-keygen` with `args`; fails the test when it fails.
    @discardableResult
    static func tool(_ program: String, _ args: [String], stdin: Data = Data(), sourceLocation: SourceLocation = #_sourceLocation) throws -> CLI.Result {
        let r = try CLI.run(program, args, stdin: stdin)
        try #require(r.code != 127, "\(program) is not installed: scripts/setup installs Debian's age", sourceLocation: sourceLocation)
        #expect(r.code == 0, "\(program) \(args): \(r.err)", sourceLocation: sourceLocation)
        return r
    }

    /// `age-keygen -o path`; returns the recipient.
    static func keygen(_ path: String) throws -> String {
        try tool("age-keygen", ["-o", path])
        return try tool("age-keygen", ["-y", path]).out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    /// A payload of several chunks, not a multiple of 64 KiB. Made on each use: LeakSanitizer
    /// cannot follow a global `Data`'s storage (its pointer sits in an enum's spare bits) and
    /// would report it as a leak at exit.
    static var payload: Data { Data((0..<(3 * 65536 + 1234)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }) }

    @Test("an identity made in the keyring: its recipient, its age-keygen file, age decrypts what avault encrypts to it")
    func generatedIdentityWorksWithAge() throws {
        let k = try KeysFixture()
        let made = try k.avault(["keys", "generate", "desk", "--identity", "--json"])
        #expect(made.code == 0, "\(made.err)")
        let recipient = try k.avault(["keys", "export-recipient", "desk"]).out.trimmingCharacters(in: .newlines)
        #expect(recipient.hasPrefix("age1") && recipient.count == 62)
        let json = try k.json(["keys", "export-recipient", "desk"])
        #expect(json["recipient"] as? String == recipient && json["kind"] as? String == "identity")

        let idFile = k.path("desk.txt")
        let export = try k.avault(["keys", "export-age", "desk", "-o", idFile])
        #expect(export.code == 0, "\(export.err)")
        #expect(!export.out.contains("AGE-SECRET-KEY") && !export.err.contains("AGE-SECRET-KEY"))
        #expect(try Self.mode(idFile) == 0o600)
        let lines = try String(contentsOfFile: idFile, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4 && lines[3].isEmpty)
        #expect(lines[0].hasPrefix("# created: ") && lines[1] == "# public key: \(recipient)")
        #expect(lines[2].hasPrefix("AGE-SECRET-KEY-1") && lines[2].count == 74 && lines[2] == lines[2].uppercased())
        // age-keygen reads it and names the same recipient.
        #expect(try Self.tool("age-keygen", ["-y", idFile]).out == recipient + "\n")

        // Encrypted by avault (binary and armored), decrypted by age.
        try Self.payload.write(to: URL(fileURLWithPath: k.path("plain")))
        for armor in [false, true] {
            let out = k.path(armor ? "f.age.asc" : "f.age")
            let enc = try k.avault(["age", "encrypt", "-r", recipient, "-o", out, k.path("plain")] + (armor ? ["-a"] : []), keyring: false)
            #expect(enc.code == 0, "\(enc.err)")
            let text = try Data(contentsOf: URL(fileURLWithPath: out))
            #expect(text.starts(with: Data((armor ? "-----BEGIN AGE ENCRYPTED FILE-----\n" : "age-encryption.org/v1\n").utf8)))
            #expect(Bytes(try Self.tool("age", ["-d", "-i", idFile, out]).stdout) == Bytes(Self.payload))
            // And by avault itself, with the keyring's identity.
            #expect(Bytes(try k.avault(["age", "decrypt", "--key", "desk", out]).stdout) == Bytes(Self.payload))
        }

        // Refused over an existing file without --force; replaced with it.
        let again = try k.avault(["keys", "export-age", "desk", "-o", idFile])
        #expect(again.code == 2 && again.err.contains("already exists") && again.err.contains("--force"))
        #expect(try k.avault(["keys", "export-age", "desk", "-o", idFile, "--force"]).code == 0)
    }

    @Test("an age-keygen identity imported with keys import-age decrypts what age encrypted; armored, several recipients")
    func importedIdentityDecryptsAgeFiles() throws {
        let k = try KeysFixture()
        let keyFile = k.path("k.txt")
        let recipient = try Self.keygen(keyFile)
        let other = try Self.keygen(k.path("other.txt"))
        let imported = try k.avault(["keys", "import-age", "ed", "--identity", keyFile])
        #expect(imported.code == 0, "\(imported.err)")
        #expect(try k.avault(["keys", "export-recipient", "ed"]).out == recipient + "\n")
        try Self.payload.write(to: URL(fileURLWithPath: k.path("plain")))
        for armor in [[], ["-a"]] {
            let out = k.path("age-made")
            try Self.tool("age", ["-e", "-r", other, "-r", recipient] + armor + ["-o", out, k.path("plain")])
            let dec = try k.avault(["age", "decrypt", "--key", "ed", out])
            #expect(dec.code == 0 && Bytes(dec.stdout) == Bytes(Self.payload), "\(dec.err)")
            try? FileManager.default.removeItem(atPath: out)
        }
        // A key file readable by others is refused, as every secret file avault reads.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyFile)
        let loose = try k.avault(["keys", "import-age", "ed2", "--identity", keyFile])
        #expect(loose.code == 2 && loose.err.contains("accessible by group or others"))
    }

    @Test("an identity file with comments and several identities; avault encrypts to several recipients for age")
    func identityFileWithSeveralIdentities() throws {
        let k = try KeysFixture()
        let r1 = try Self.keygen(k.path("one.txt")), r2 = try Self.keygen(k.path("two.txt"))
        let secret1 = try String(contentsOfFile: k.path("one.txt"), encoding: .utf8)
        let secret2 = try String(contentsOfFile: k.path("two.txt"), encoding: .utf8)
        try CLI.write("# team keys\n\n" + secret1 + "\r\n# the second one\n" + secret2, to: k.dir.appendingPathComponent("both.txt"))
        try Self.payload.write(to: URL(fileURLWithPath: k.path("plain")))
        let out = k.path("to-both.age")
        let enc = try k.avault(["age", "encrypt", "-r", r1, "-R", k.path("one.txt.pub"), "-o", out, k.path("plain")], keyring: false)
        #expect(enc.code == 2, "a missing recipients file is an error")
        try CLI.write("# recipients\n\(r2)\n", to: k.dir.appendingPathComponent("r2.txt"), mode: 0o644)
        #expect(try k.avault(["age", "encrypt", "-r", r1, "-R", k.path("r2.txt"), "-o", out, k.path("plain")], keyring: false).code == 0)
        #expect(Bytes(try Self.tool("age", ["-d", "-i", k.path("one.txt"), out]).stdout) == Bytes(Self.payload))
        #expect(Bytes(try Self.tool("age", ["-d", "-i", k.path("two.txt"), out]).stdout) == Bytes(Self.payload))
        // age encrypts to the second only: the file of both identities opens it.
        let onlyTwo = k.path("two.age")
        try Self.tool("age", ["-e", "-r", r2, "-o", onlyTwo, k.path("plain")])
        let dec = try k.avault(["age", "decrypt", "-i", k.path("both.txt"), onlyTwo], keyring: false)
        #expect(dec.code == 0 && Bytes(dec.stdout) == Bytes(Self.payload), "\(dec.err)")
        // A last line that ends in CR and no LF: age drops the CR (Go's ScanLines), as avault
        // now does, for identities and recipients (a review: avault refused both).
        let identity = secret2.split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-1") }!
        try CLI.write(identity + "\r", to: k.dir.appendingPathComponent("cr.txt"))
        #expect(Bytes(try Self.tool("age", ["-d", "-i", k.path("cr.txt"), onlyTwo]).stdout) == Bytes(Self.payload))
        let crDec = try k.avault(["age", "decrypt", "-i", k.path("cr.txt"), onlyTwo], keyring: false)
        #expect(crDec.code == 0 && Bytes(crDec.stdout) == Bytes(Self.payload), "\(crDec.err)")
        try CLI.write(r2 + "\r", to: k.dir.appendingPathComponent("r2cr.txt"), mode: 0o644)
        try Self.tool("age", ["-e", "-R", k.path("r2cr.txt"), "-o", k.path("cr-age.age"), k.path("plain")])
        #expect(try k.avault(["age", "encrypt", "-R", k.path("r2cr.txt"), "-o", k.path("cr.age"), k.path("plain")], keyring: false).code == 0)
        #expect(Bytes(try Self.tool("age", ["-d", "-i", k.path("two.txt"), k.path("cr.age")]).stdout) == Bytes(Self.payload))
        // Not to the first alone.
        let miss = try k.avault(["age", "decrypt", "-i", k.path("one.txt"), onlyTwo], keyring: false)
        #expect(miss.code == 1 && miss.err.contains("no identity matched") && miss.err.contains("avault: hint:"))
        #expect(miss.stdout.isEmpty)
        // A malformed identity file is refused without quoting it.
        try CLI.write("AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n", to: k.dir.appendingPathComponent("bad.txt"))
        let bad = try k.avault(["age", "decrypt", "-i", k.path("bad.txt"), onlyTwo], keyring: false)
        #expect(bad.code == 2 && bad.err.contains("line 1") && !bad.err.contains("QQQQ"))
    }

    @Test("passphrase files both ways (age under a pseudo-terminal)")
    func passphraseBothWays() throws {
        let k = try KeysFixture()
        try Data("a passphrase-encrypted draft\n".utf8).write(to: URL(fileURLWithPath: k.path("plain")))
        // age → avault.
        let ageMade = k.path("age-p.age")
        try Self.tool("script", ["-qec", "age -e -p -o '\(ageMade)' '\(k.path("plain"))'", "/dev/null"], stdin: Data("pw-age-1\npw-age-1\n".utf8))
        let dec = try k.avault(["age", "decrypt", ageMade], env: ["AVAULT_AGE_PASSPHRASE": "pw-age-1"], keyring: false)
        #expect(dec.code == 0 && dec.out == "a passphrase-encrypted draft\n", "\(dec.err)")
        let wrong = try k.avault(["age", "decrypt", ageMade], env: ["AVAULT_AGE_PASSPHRASE": "not it"], keyring: false)
        #expect(wrong.code == 1 && wrong.err.contains("no identity matched"))
        // avault → age (the passphrase from a file, mode 600).
        try CLI.write("pw-av-2\n", to: k.dir.appendingPathComponent("pass"))
        let ours = k.path("avault-p.age")
        let enc = try k.avault(["age", "encrypt", "-p", "--age-passphrase-file", k.path("pass"), "-a", "-o", ours, k.path("plain")], keyring: false)
        #expect(enc.code == 0, "\(enc.err)")
        let out = try Self.tool("script", ["-qec", "age -d -o '\(k.path("back"))' '\(ours)'", "/dev/null"], stdin: Data("pw-av-2\n".utf8))
        #expect(out.code == 0)
        #expect(try String(contentsOfFile: k.path("back"), encoding: .utf8) == "a passphrase-encrypted draft\n")
        // A passphrase cannot be combined with recipients.
        let mixed = try k.avault(["age", "encrypt", "-p", "-r", try Self.keygen(k.path("x.txt")), k.path("plain")], keyring: false)
        #expect(mixed.code == 64)
    }

    /// Found by a review: a passphrase file given `-i` was answered "a passphrase given was not
    /// its passphrase" (none was given), and a file to recipients given no identity at all "no
    /// identity matched … encrypted to other recipients" (exit 1). The first is refused as age
    /// refuses it (exit 1, as "no identity matches"); the second says no identity was given,
    /// the option only the header showed to be missing (exit 64). `--help` said `--key` uses
    /// "every active version"; retired ones are used too.
    @Test func identitiesThatDoNotFitTheFileAreNamedSo() throws {
        let k = try KeysFixture()
        let r1 = try Self.keygen(k.path("one.txt")), r2 = try Self.keygen(k.path("two.txt"))
        try Data("plain\n".utf8).write(to: URL(fileURLWithPath: k.path("plain")))
        try CLI.write("pw-1\n", to: k.dir.appendingPathComponent("pass"))
        let pfile = k.path("p.age"), xfile = k.path("x.age")
        #expect(try k.avault(["age", "encrypt", "-p", "--age-passphrase-file", k.path("pass"), "-o", pfile, k.path("plain")], keyring: false).code == 0)
        #expect(try k.avault(["age", "encrypt", "-r", r1, "-r", r2, "-o", xfile, k.path("plain")], keyring: false).code == 0)

        let given = try k.avault(["age", "decrypt", "-i", k.path("one.txt"), pfile], env: ["AVAULT_AGE_PASSPHRASE": "pw-1"], keyring: false)
        #expect(given.code == 1 && given.out.isEmpty, "\(given.code)")
        #expect(given.err == "avault: the file is passphrase-encrypted, but identities were given\n"
                + "avault: hint: remove every --key and -i to decrypt it with its passphrase\n", "\(given.err)")
        let wrong = try k.avault(["age", "decrypt", pfile], env: ["AVAULT_AGE_PASSPHRASE": "not it"], keyring: false)
        #expect(wrong.code == 1 && wrong.err == "avault: no identity matched any of the file's recipient stanzas (scrypt)\n"
                + "avault: hint: the file is encrypted with a passphrase, and the passphrase given is not its passphrase\n", "\(wrong.err)")

        let none = try k.avault(["age", "decrypt", xfile], keyring: false)
        #expect(none.code == 64 && none.out.isEmpty, "\(none.code)")
        #expect(none.err == "avault: no identity was given, and the file is encrypted to recipients (X25519, X25519), not with a passphrase\n"
                + "avault: hint: name the identity that opens it: --key NAME (an identity of the keyring) or -i FILE (an age identity file)\n", "\(none.err)")
        #expect(try k.avault(["age", "decrypt", "-i", k.path("two.txt"), xfile], keyring: false).out == "plain\n")

        let help = try k.avault(["age", "decrypt", "--help"], keyring: false)
        let words = help.out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("(every version, retired ones included)") && !words.contains("active version"), "\(help.out)")
    }

    @Test("a payload that fails: stdout has what was authenticated, -o FILE gets nothing at all")
    func failedPayloadWritesNoFile() throws {
        let k = try KeysFixture()
        let recipient = try Self.keygen(k.path("k.txt"))
        try Self.payload.write(to: URL(fileURLWithPath: k.path("plain")))
        let file = k.path("f.age")
        try Self.tool("age", ["-e", "-r", recipient, "-o", file, k.path("plain")])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count - 5] ^= 1 // in the last chunk's tag
        try bytes.write(to: URL(fileURLWithPath: file))
        let streamed = try k.avault(["age", "decrypt", "-i", k.path("k.txt"), file], keyring: false)
        #expect(streamed.code == 1 && streamed.err.contains("payload"))
        #expect(Bytes(streamed.stdout) == Bytes(Self.payload.prefix(3 * 65536)), "the three authenticated chunks, released as age does")
        let target = k.path("out.txt")
        let toFile = try k.avault(["age", "decrypt", "-i", k.path("k.txt"), "-o", target, file], keyring: false)
        #expect(toFile.code == 1)
        #expect(!FileManager.default.fileExists(atPath: target))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: k.dir.path).filter { $0.hasPrefix(".avault-tmp") }
        #expect(leftovers.isEmpty)
        // Truncated: the same.
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: file))
        #expect(try k.avault(["age", "decrypt", "-i", k.path("k.txt"), "-o", target, file], keyring: false).code == 1)
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test("an identity's public key is covered by the keyring's code: a swapped recipient is tampering")
    func swappedRecipientIsTampering() throws {
        let k = try KeysFixture()
        #expect(try k.avault(["keys", "generate", "desk", "--identity"]).code == 0)
        let theirs = try Self.keygen(k.path("attacker.txt"))
        let theirKey = try #require(Self.publicKeyBase64(of: theirs))
        var text = try String(contentsOfFile: k.keyringFile, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("public: ") })
        text = text.replacingOccurrences(of: String(line), with: "public: " + theirKey)
        try CLI.write(text, to: URL(fileURLWithPath: k.keyringFile))
        let r = try k.avault(["keys", "export-recipient", "desk"])
        #expect(r.code == 1 && r.err.contains("modified outside avault"))
        #expect(!r.out.contains("age1"))
    }

    /// The standard base64 of an age1… recipient's public key (a small Bech32 decoder of the
    /// test's own, without checksum: the input comes from age-keygen).
    static func publicKeyBase64(of recipient: String) -> String? {
        let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l")
        guard let sep = recipient.lastIndex(of: "1") else { return nil }
        let data = recipient[recipient.index(after: sep)...].dropLast(6).compactMap { alphabet.firstIndex(of: $0) }
        var acc = 0, bits = 0
        var out: [UInt8] = []
        for v in data { acc = (acc << 5 | v) & 0xFFF; bits += 5; if bits >= 8 { bits -= 8; out.append(UInt8((acc >> bits) & 0xFF)) } }
        return out.count == 32 ? Data(out).base64EncodedString() : nil
    }
}

/// An output that is plaintext (`age decrypt -o`, a streamed `secured decrypt -o`) has no name
/// until it is complete: a writer killed partway (SIGTERM, SIGKILL) left a hidden
/// `.avault-tmp-…` file next to OUT holding the plaintext decrypted so far.
@Suite struct KilledWriterTests {
    /// Starts `avault args` in `dir`, waits until it has written `bytes` bytes, kills it with
    /// `signal` and returns what is then in `dir`.
    static func kill(_ args: [String], in dir: URL, after bytes: Int, signal: Int32) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.avaultPath)
        process.arguments = args
        process.currentDirectoryURL = dir
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var written = 0
        for _ in 0..<2000 where written < bytes && process.isRunning {
            let io = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/io", encoding: .utf8)) ?? ""
            written = io.split(separator: "\n").first { $0.hasPrefix("wchar: ") }.flatMap { Int($0.dropFirst(7)) } ?? 0
            usleep(2000)
        }
        #expect(process.isRunning && written >= bytes, "the writer finished before it could be killed (\(written) bytes)")
        Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal)
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    /// SIGKILL, which no handler sees: the case every other signal is no worse than.
    @Test func aKilledDecryptionLeavesNoPlaintext() throws {
        let signal = SIGKILL
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let recipient = try AgeCLITests.keygen(dir.appendingPathComponent("id.txt").path)
        let plain = dir.appendingPathComponent("plain").path
        #expect(FileManager.default.createFile(atPath: plain, contents: Data(count: 256 << 20)))
        try AgeCLITests.tool("age", ["-r", recipient, "-o", dir.appendingPathComponent("big.age").path, plain])
        // A v1 blob of the same size, as openssl makes one.
        let key = try privateKey("demo-aes256.key", in: dir)
        let keyHex = try String(contentsOfFile: key, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let ct = dir.appendingPathComponent("big.ct").path
        #expect(try CLI.run("openssl", ["enc", "-aes-256-cbc", "-a", "-A", "-K", keyHex, "-iv", String(repeating: "0", count: 32), "-in", plain, "-out", ct]).code == 0)
        let blob = dir.appendingPathComponent("big.v1")
        try Data((try String(contentsOfFile: ct, encoding: .utf8) + ";" + Data(count: 16).base64EncodedString() + "\n").utf8).write(to: blob)
        try FileManager.default.removeItem(atPath: plain)
        try FileManager.default.removeItem(atPath: ct)
        let before = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        for args in [["age", "decrypt", "-i", "id.txt", "-o", "out", "big.age"],
                     ["secured", "decrypt", "-i", "big.v1", "--key-file", key, "--allow-unauthenticated-legacy", "-q", "-o", "out"]] {
            let after = try Self.kill(args, in: dir, after: 16 << 20, signal: signal)
            #expect(after == before, "\(args[0]) killed by \(signal) left \(Set(after).subtracting(before))")
            for name in after where name.hasPrefix(".avault-tmp-") { try? FileManager.default.removeItem(at: dir.appendingPathComponent(name)) }
        }
    }
}
