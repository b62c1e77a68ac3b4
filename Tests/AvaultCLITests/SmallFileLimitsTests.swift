import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Files whose kind is small (minisign signatures and public keys, passphrases, secret key
/// files) are refused past their limit, by their size, before they fill memory: a sparse
/// file of a gibibyte planted as `FILE.minisig` beside a record costs `verify` nothing, and
/// a passphrase is refused whole rather than cut to the limit (a cut one is another
/// passphrase).
@Suite(.serialized) struct SmallFileLimitsTests {
    /// A sparse file of `size` bytes starting with `head`.
    static func sparse(_ path: String, head: String = "", size: Int, mode: Int = 0o644) throws {
        try CLI.write(head, to: URL(fileURLWithPath: path), mode: mode)
        #expect(truncate(path, off_t(size)) == 0)
    }

    static let gib = 1 << 30

    @Test func aHugeMinisigBesideAFileIsMalformedAndNeverRead() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let file = try demo.record("notes.txt", "not a record\n")
        try Self.sparse(file + ".minisig", head: "untrusted comment: x\n", size: Self.gib)

        let v = try CLI.avault(["verify", "--json", file, "--keyring", demo.ring])
        #expect(v.code == 1, "\(v.err)")
        #expect(v.out.contains(#""outcome":"malformed""#), "\(v.out)")
        #expect(v.out.contains(#""reason":"no front matter, and \#(file).minisig: larger than 65536 bytes, not a minisign signature""#), "\(v.out)")
        // Refused by its size: the gibibyte is never held.
        let peak = try VaultMemoryTests.peak([CLI.avaultPath, "verify", file], env: ["PATH": "/usr/bin:/bin", "AVAULT_KEYRING": demo.ring])
        #expect(peak.code == 1)
        #expect(peak.kib < 128 * 1024, "verify peaked at \(peak.kib) KiB")

        // At the limit it is read, and judged as what it holds.
        try Self.sparse(file + ".minisig", head: "untrusted comment: x\n", size: 65536)
        let edge = try CLI.avault(["verify", "--json", file, "--keyring", demo.ring])
        #expect(edge.code == 1)
        #expect(edge.out.contains(#""outcome":"malformed""#) && !edge.out.contains("larger than"), "\(edge.out)")
    }

    @Test func namedSignatureAndPublicKeyFilesAreRefusedPastTheLimit() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let file = try demo.record("payload.txt", "payload\n")
        #expect(try CLI.avault(["sign", "--detached", file, "--key", "demo-desk"] + demo.args).code == 0)
        let big = demo.dir.appendingPathComponent("big").path
        try Self.sparse(big, size: Self.gib)

        let x = try CLI.avault(["verify", "--detached", file, "-x", big, "--keyring", demo.ring])
        #expect(x.code == 2)
        #expect(x.err == "avault: \(big): larger than 65536 bytes, not a minisign signature\n")

        let p = try CLI.avault(["verify", "--detached", file, "--pubkey", big, "--keyring", demo.ring])
        #expect(p.code == 2)
        #expect(p.err == "avault: \(big): larger than 65536 bytes, not a minisign public key\n")

        let t = try CLI.avault(["keys", "trust", "add", big, "--name", "Big", "--role", "desk", "--keyring", demo.ring])
        #expect(t.code == 2)
        #expect(t.err == "avault: \(big): larger than 65536 bytes, not a minisign public key\n")

        // The real files still verify, so the refusals above are about size alone.
        let ok = try CLI.avault(["verify", "--detached", file, "--pubkey", demo.pub, "--keyring", demo.ring])
        #expect(ok.code == 0, "\(ok.err)")
    }

    @Test func aPassphraseIsRefusedPastTheLimitNeverCut() throws {
        let f = try KeysFixture()
        let limit = 65536
        // Exactly at the limit, from standard input: accepted, and the same file unlocks.
        let edge = f.path("edge-pass")
        try CLI.write(String(repeating: "p", count: limit), to: URL(fileURLWithPath: edge), mode: 0o600)
        let made = try f.avault(["keys", "generate", "desk", "--signing", "--passphrase-file", "-"], env: ["AVAULT_PASSPHRASE": nil],
                                stdin: try Data(contentsOf: URL(fileURLWithPath: edge)))
        #expect(made.code == 0, "\(made.err)")
        let unlocked = try f.avault(["keys", "export-public", "desk", "-o", f.path("desk.pub"), "--passphrase-file", edge], env: ["AVAULT_PASSPHRASE": nil])
        #expect(unlocked.code == 0, "\(unlocked.err)")

        // One byte more: refused from standard input (it was cut to the limit and accepted)
        // and from a file, before any key is made.
        let over = String(repeating: "p", count: limit + 1)
        let stdin = try f.avault(["keys", "generate", "desk2", "--signing", "--passphrase-file", "-"], env: ["AVAULT_PASSPHRASE": nil],
                                 stdin: Data(over.utf8))
        #expect(stdin.code == 2)
        #expect(stdin.err == "avault: standard input: larger than 65536 bytes, not a passphrase\n")
        let file = f.path("long-pass")
        try CLI.write(over, to: URL(fileURLWithPath: file), mode: 0o600)
        let fromFile = try f.avault(["keys", "generate", "desk2", "--signing", "--passphrase-file", file], env: ["AVAULT_PASSPHRASE": nil])
        #expect(fromFile.code == 2)
        #expect(fromFile.err == "avault: \(file): larger than 65536 bytes, not a passphrase\n")
        let list = try f.avault(["keys", "list"])
        #expect(!list.out.contains("desk2"), "\(list.out)")
    }

    @Test func secretKeyFilesAreRefusedPastTheLimit() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "desk", "--signing"]).code == 0)
        let big = f.path("big.key")
        try Self.sparse(big, size: Self.gib, mode: 0o600)
        let cases: [(args: [String], what: String)] = [
            (["keys", "import", "raw", "--key-file", big], "a raw key file"),
            (["keys", "import", "sealed", "--sealed", big], "a key export file"),
            (["keys", "import-minisign", "mx", "--secret", big], "a minisign secret key"),
        ]
        for (args, what) in cases {
            let r = try f.avault(args, env: ["AVAULT_EXPORT_PASSPHRASE": "x", "AVAULT_MINISIGN_PASSPHRASE": "x"])
            #expect(r.code == 2, "\(args)")
            #expect(r.err == "avault: \(big): larger than 1048576 bytes, not \(what)\n", "\(args)")
        }
    }

    @Test func aKeyringOrTrustStorePastItsLimitIsRefusedByItsSize() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let record = try demo.copy("Fixtures/seed/000_6e329c144f65a19c.txt", as: "seed.md")
        let trust = demo.ring + "/trust.avt"
        try Self.sparse(trust, size: Self.gib)
        let v = try CLI.avault(["verify", record, "--keyring", demo.ring])
        #expect(v.code == 2)
        #expect(v.err == "avault: \(trust): larger than 16777216 bytes, not a trust store\n")

        let keyring = demo.ring + "/keyring.avk"
        try Self.sparse(keyring, size: Self.gib, mode: 0o600)
        let peak = try VaultMemoryTests.peak([CLI.avaultPath, "keys", "list", "--keyring", demo.ring], env: ["PATH": "/usr/bin:/bin"])
        #expect(peak.code == 2)
        #expect(peak.kib < 128 * 1024, "keys list peaked at \(peak.kib) KiB")
        let list = try CLI.avault(["keys", "list", "--keyring", demo.ring])
        #expect(list.err == "avault: \(keyring): larger than 16777216 bytes, not a keyring\n")
    }

    /// A vault's small files planted huge (by whoever can write its directory) are refused by
    /// their size, not read into memory; a huge `finished` record is no record.
    @Test func aVaultsSmallFilesPastTheirLimitAreRefusedByTheirSize() throws {
        let f = try VaultFixture(store: .files)
        #expect(try f.put("a", Data("one\n".utf8)) == 1)
        let entries = try FileManager.default.contentsOfDirectory(atPath: f.vault + "/entries").filter { !$0.hasPrefix(".") }
        let entry = f.vault + "/entries/" + (try #require(entries.first))
        try Self.sparse(entry, size: Self.gib, mode: 0o600)
        let env = f.environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
        let get = try VaultMemoryTests.peak([CLI.avaultPath, "vault", "get", "a"], env: env)
        #expect(get.code == 2)
        #expect(get.kib < 128 * 1024, "vault get peaked at \(get.kib) KiB")
        let err = try f.get("a").err
        #expect(err == "avault: \(entry): larger than 67108864 bytes, not a vault entry\n", "\(err)")

        let g = try VaultFixture(store: .files)
        #expect(try g.put("a", Data("one\n".utf8)) == 1)
        // A `finished` record past its 100 bytes: ignored (the next write recovers in full).
        try Self.sparse(g.vault + "/finished", size: Self.gib, mode: 0o600)
        #expect(try g.put("b", Data("two\n".utf8)) == 1)
        try Self.sparse(g.vault + "/config", size: Self.gib, mode: 0o600)
        let list = try g.avault(["vault", "list"])
        #expect(list.code == 2)
        #expect(list.err == "avault: \(g.vault)/config: larger than 16777216 bytes, not a vault config\n", "\(list.err)")

        // The index and the log, read whole: refused far past their limits, not allocated
        // (a terabyte made avault stop on a failed allocation, exit 70, "internal error").
        for (file, size, message) in [("index", 1 << 40, "larger than 1073741824 bytes, not a vault index"),
                                      ("log", 1 << 40, "larger than 1073741824 bytes, not a vault log that avault can read whole")] {
            let h = try VaultFixture(store: .files)
            #expect(try h.put("a", Data("one\n".utf8)) == 1)
            try Self.sparse(h.vault + "/" + file, size: size, mode: 0o600)
            let peak = try VaultMemoryTests.peak([CLI.avaultPath, "vault", "get", "a"], env: h.environment.merging(["PATH": "/usr/bin:/bin"]) { $1 })
            #expect(peak.code == 2, "\(file)")
            #expect(peak.kib < 128 * 1024, "vault get peaked at \(peak.kib) KiB with a large \(file)")
            let get = try h.get("a")
            #expect(get.err == "avault: \(h.vault)/\(file): \(message)\n", "\(get.err)")
        }
    }
}
