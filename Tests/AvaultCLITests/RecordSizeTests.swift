import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Records over the documented 64 MiB limit are malformed, and read in bounded memory; the
/// parsers are linear on pathological front matter through the real binary too.
@Suite(.serialized) struct RecordSizeTests {
    static let limit = 64 * 1024 * 1024

    /// A sparse file of `size` bytes starting with `head` (the rest reads as NUL bytes).
    static func sparse(_ path: String, head: String, size: Int) throws {
        try CLI.write(head, to: URL(fileURLWithPath: path), mode: 0o644)
        #expect(truncate(path, off_t(size)) == 0)
    }

    @Test func aRecordOver64MiBIsMalformedAndNotSigned() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let big = demo.dir.appendingPathComponent("big.md").path
        try Self.sparse(big, head: "---\ntitle: big\n---\n", size: Self.limit + 1024 * 1024)

        let v = try CLI.avault(["verify", "--json", big, "--keyring", demo.ring])
        #expect(v.code == 1, "\(v.err)")
        #expect(v.out.contains(#""outcome":"malformed""#), "\(v.out)")
        #expect(v.out.contains(#""reason":"record larger than 64 MiB""#), "\(v.out)")

        let s = try CLI.avault(["sign", big, "--key", "demo-desk"] + demo.args)
        #expect(s.code == 1)
        #expect(s.out.isEmpty)
        #expect(s.err == "avault: \(big): malformed record: record larger than 64 MiB\n")

        let c = try CLI.avault(["canonical", big])
        #expect(c.code == 1)
        #expect(c.err == "avault: \(big): malformed record: record larger than 64 MiB\n")
        let stdin = try CLI.run("/bin/sh", ["-c", "exec \"$0\" canonical - < \"$1\"", CLI.avaultPath, big])
        #expect(stdin.code == 1)
        #expect(stdin.err == "avault: -: malformed record: record larger than 64 MiB\n")

        // A fence line cut short by the part that is read still makes it a record.
        try Self.sparse(big, head: "---" + String(repeating: " ", count: 70_000), size: Self.limit + 1)
        let cut = try CLI.avault(["verify", "--json", big, "--keyring", demo.ring])
        #expect(cut.out.contains(#""reason":"record larger than 64 MiB""#), "\(cut.out)")
    }

    /// A record named on the command line that is a FIFO is refused unread, by every command
    /// that reads records (opened as it was, it blocked the command until someone wrote to it;
    /// `verify` already reported it unopened).
    @Test func aFIFONamedAsARecordIsRefusedWithoutBlocking() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let fifo = demo.dir.appendingPathComponent("pipe.md").path
        try #require(mkfifo(fifo, 0o644) == 0)
        // (verify --detached reads the signature first: one must be there.)
        let text = demo.dir.appendingPathComponent("text.txt").path
        try CLI.write("text\n", to: URL(fileURLWithPath: text), mode: 0o644)
        #expect(try CLI.avault(["sign", "--detached", text, "--key", "demo-desk"] + demo.args).code == 0)
        let commands: [[String]] = [["sign", fifo, "--key", "demo-desk"] + demo.args, ["canonical", fifo],
                                    ["seal", fifo, "--key", "demo-content"] + demo.args, ["unseal", fifo] + demo.args,
                                    ["reseal", fifo, "--key", "demo-content"] + demo.args, ["secured", "decrypt", "--record", fifo, "--key", "demo-content"] + demo.args,
                                    ["sign", "--detached", fifo, "--key", "demo-desk"] + demo.args, ["verify", "--detached", fifo, "-x", text + ".minisig"] + demo.args]
        for args in commands {
            // (Under timeout(1): a command that blocks is stopped and shows as exit 124.)
            let r = try CLI.run("/usr/bin/timeout", ["20", CLI.avaultPath] + args)
            #expect(r.code == 2, "\(args[0]): exit \(r.code): \(r.err)")
            #expect(r.err.hasPrefix("avault: \(fifo): a FIFO, not a regular file\n"), "\(args[0]): \(r.err)")
        }
    }

    @Test func aRecordOfExactly64MiBIsRead() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let path = demo.dir.appendingPathComponent("edge.md").path
        let head = "---\ntitle: edge\n---\n"
        try Self.sparse(path, head: head, size: Self.limit)
        let v = try CLI.avault(["verify", "--json", path, "--keyring", demo.ring])
        #expect(v.code == 0, "\(v.err)")
        #expect(v.out.contains(#""outcome":"unsigned""#), "\(v.out)")
        // The body is NUL bytes: \u0000, six bytes each in the canonical form, streamed out.
        let c = try CLI.run("/bin/sh", ["-c", "\"$0\" canonical \"$1\" | wc -c", CLI.avaultPath, path])
        #expect(c.code == 0, "\(c.err)")
        let expected = #"{"body":"","fields":{"title":"edge"}}"#.utf8.count + 6 * (Self.limit - head.utf8.count)
        #expect(c.out.trimmingCharacters(in: .whitespacesAndNewlines) == String(expected))
    }

    @Test func aLargeFileWithoutFrontMatterKeepsItsMeaning() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let big = demo.dir.appendingPathComponent("video.md").path
        try Self.sparse(big, head: "not a record\n", size: Self.limit + 4096)
        let plain = try CLI.avault(["verify", "--json", big, "--keyring", demo.ring])
        #expect(plain.code == 0, "\(plain.err)")
        #expect(plain.out.contains(#""outcome":"unsigned""#) && plain.out.contains(#""reason":"no front matter""#), "\(plain.out)")
        // Signed detached: hashed as it is read, and valid.
        #expect(try CLI.avault(["sign", "--detached", big, "--key", "demo-desk"] + demo.args).code == 0)
        let signed = try CLI.avault(["verify", "--json", "--require-signature", big, "--keyring", demo.ring])
        #expect(signed.code == 0, "\(signed.out)")
        #expect(signed.out.contains(#""outcome":"valid""#), "\(signed.out)")
        // One byte changed past the part read first: invalid.
        let fd = open(big, O_WRONLY)
        #expect(fd >= 0)
        #expect(pwrite(fd, "x", 1, off_t(Self.limit)) == 1)
        close(fd)
        let tampered = try CLI.avault(["verify", "--json", "--require-signature", big, "--keyring", demo.ring])
        #expect(tampered.code == 1)
        #expect(tampered.out.contains(#""outcome":"invalid""#), "\(tampered.out)")
    }

    /// `verify` and `canonical` of a 60 MB body: the body is held once as text (plus the
    /// bytes read, briefly), never again in a String copy or the canonical form.
    @Test(.disabled(if: CLI.sanitized, "AddressSanitizer's shadow memory and quarantine dwarf the budget"))
    func a60MBBodyIsNotCopiedAgain() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let path = demo.dir.appendingPathComponent("long.md").path
        let line = String(repeating: "Lorem ipsum dolor sit amet, \"quoted\".\r\n", count: 1000)
        let body = String(repeating: line, count: 60_000_000 / line.utf8.count)
        try CLI.write("---\ntitle: long\n---\n" + body, to: URL(fileURLWithPath: path), mode: 0o644)
        let sign = try CLI.avault(["sign", path, "--key", "demo-desk"] + demo.args)
        #expect(sign.code == 0, "\(sign.err)")
        let env = ["PATH": "/usr/bin:/bin", "AVAULT_KEYRING": demo.ring]
        let verify = try VaultMemoryTests.peak([CLI.avaultPath, "verify", path, "--require-signature"], env: env)
        #expect(verify.code == 0)
        let canonical = try VaultMemoryTests.peak([CLI.avaultPath, "canonical", path], env: env)
        #expect(canonical.code == 0)
        // The file's bytes and its text, about 120 MiB with the runtime (release: 130 MiB); it
        // was 230 to 270 MiB when the body was copied into a String and a canonical buffer too.
        #expect(verify.kib < 180 * 1024, "verify peaked at \(verify.kib) KiB")
        #expect(canonical.kib < 180 * 1024, "canonical peaked at \(canonical.kib) KiB")
    }

    /// Pathological front matter through the binary: each well within time in a debug build.
    @Test func pathologicalFrontMatterThroughTheBinary() throws {
        let demo = try DemoRing()
        let dir = demo.dir
        defer { try? FileManager.default.removeItem(at: dir) }
        let shapes = [
            "flow-sequence": "tags: [" + (0..<100_000).map { "\"i\($0)\"" }.joined(separator: ", ") + "]\n",
            "keys-libyaml": "# a\tcomment\n" + (0..<60_000).map { "k\($0): v\($0)\n" }.joined(),
        ]
        for (name, yaml) in shapes {
            let path = dir.appendingPathComponent(name + ".md").path
            try CLI.write("---\n" + yaml + "---\nbody\n", to: URL(fileURLWithPath: path), mode: 0o644)
            let start = ContinuousClock.now
            let v = try CLI.avault(["verify", "--json", path, "--keyring", demo.ring])
            let c = try CLI.avault(["canonical", path])
            let elapsed = ContinuousClock.now - start
            #expect(v.code == 0 && c.code == 0, "\(name): \(v.out) \(c.err)")
            #expect(elapsed < .seconds(CLI.sanitized ? 60 : 20), "\(name) took \(elapsed)")
        }
    }
}
