// The mode of a record that seal, unseal, reseal or sign rewrites: that of the file read (for
// unseal, without group and other bits), never that of what the path names afterwards.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("seal, unseal, reseal, sign: the mode of a rewritten record")
struct SealModeTests {
    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test("unseal writes the plaintext for its owner only (0600 from 0666 or 0640); reseal and sign keep the mode")
    func unsealedPlaintextIsPrivate() throws {
        let alice = try Editor("alice")
        #expect(try alice.k.avault(["keys", "generate", "desk", "--signing"]).code == 0)
        let path = alice.k.path("d.md")
        try CLI.write(SealSignatureGateTests.draft, to: URL(fileURLWithPath: path), mode: 0o644)
        #expect(try alice.k.avault(["seal", path, "--recipient", alice.recipient]).code == 0)
        #expect(try Self.mode(path) == 0o644)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        #expect(try alice.k.avault(["reseal", path, "--recipient", alice.recipient]).code == 0)
        #expect(try Self.mode(path) == 0o640)
        #expect(try alice.k.avault(["sign", path, "--key", "desk"]).code == 0)
        #expect(try Self.mode(path) == 0o640)
        for mode in [0o666, 0o640] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            let u = try alice.k.avault(["unseal", path])
            #expect(u.code == 0, "\(u.err)")
            #expect(try Self.mode(path) == 0o600, "unsealed from \(String(mode, radix: 8))")
            #expect(try String(contentsOfFile: path, encoding: .utf8) == SealSignatureGateTests.draft)
            #expect(try alice.k.avault(["seal", path, "--recipient", alice.recipient]).code == 0)
        }
    }

    /// Root (an admin, a CI job) rewriting an editor's record left it root's (a review). The
    /// owner and group are kept where they can be, but not by `unseal`: a later review showed
    /// that whoever owns a sealed record (anyone can copy one where a root job unseals) then got
    /// its plaintext. In a setgid directory the group is the old file's, not the directory's.
    @Test(.enabled(if: geteuid() == 0, "only root may give a file to another user"))
    func aRewrittenRecordKeepsItsOwnerAndGroup() throws {
        let alice = try Editor("alice")
        #expect(try alice.k.avault(["keys", "generate", "desk", "--signing"]).code == 0)
        let path = alice.k.path("d.md")
        try CLI.write(SealSignatureGateTests.draft, to: URL(fileURLWithPath: path), mode: 0o664)
        #expect(chown(path, 65534, 65533) == 0)
        func owner() throws -> (uid: uid_t, gid: gid_t, mode: Int) {
            var st = stat()
            #expect(stat(path, &st) == 0)
            return (st.st_uid, st.st_gid, Int(st.st_mode & 0o7777))
        }
        for args in [["seal", path, "--recipient", alice.recipient], ["reseal", path, "--recipient", alice.recipient], ["sign", path, "--key", "desk"]] {
            let r = try alice.k.avault(args)
            let o = try owner()
            #expect(r.code == 0 && o.uid == 65534 && o.gid == 65533 && o.mode == 0o664, "\(args[0]): \(o) \(r.err)")
        }
        let u = try alice.k.avault(["unseal", path])
        let o = try owner()
        #expect(u.code == 0 && o.uid == 0 && o.gid == getegid() && o.mode == 0o600, "unseal: \(o) \(u.err)")
        // A setgid directory of another group gives new files its group: the record keeps its own.
        let dir = alice.k.path("sgid")
        #expect(mkdir(dir, 0o2775) == 0 && chown(dir, 0, 65532) == 0 && chmod(dir, 0o2775) == 0)
        let inDir = dir + "/d.md"
        try CLI.write(SealSignatureGateTests.draft, to: URL(fileURLWithPath: inDir), mode: 0o640)
        #expect(chown(inDir, 0, 0) == 0)
        #expect(try alice.k.avault(["sign", inDir, "--key", "desk"]).code == 0)
        var st = stat()
        #expect(stat(inDir, &st) == 0 && st.st_gid == 0 && st.st_mode & 0o7777 == 0o640, "\(st.st_gid) \(String(st.st_mode, radix: 8))")
    }
}

/// A record with other names (hard links): seal, reseal and migrate replace the name given, so
/// the others kept the plaintext (seal), the blob sealed to the former recipients (reseal) or
/// the legacy v1 blob (migrate) while the command reported success. Refused now, before any record of the batch is written.
@Suite struct SealHardLinkTests {
    @Test func aRecordWithOtherNamesIsNotSealedOrResealed() throws {
        let alice = try Editor("alice")
        let path = alice.k.path("d.md"), other = alice.k.path("published.md"), plain = alice.k.path("first.md")
        try CLI.write(SealSignatureGateTests.draft, to: URL(fileURLWithPath: path), mode: 0o644)
        try CLI.write(SealSignatureGateTests.draft, to: URL(fileURLWithPath: plain), mode: 0o644)
        try #require(link(path, other) == 0)
        let seal = try alice.k.avault(["seal", plain, path, "--recipient", alice.recipient])
        #expect(seal.code == 2 && seal.err.contains("d.md: the file has 2 names (hard links)") && seal.err.contains("avault: hint: remove the other names"),
                "\(seal.code) \(seal.err)")
        for file in [path, other, plain] { #expect(try String(contentsOfFile: file, encoding: .utf8) == SealSignatureGateTests.draft) }
        // Sealed while it had one name, then linked: reseal (to drop a recipient) is refused too.
        try FileManager.default.removeItem(atPath: other)
        #expect(try alice.k.avault(["seal", path, "--recipient", alice.recipient]).code == 0)
        try #require(link(path, other) == 0)
        let sealed = try String(contentsOfFile: path, encoding: .utf8)
        let reseal = try alice.k.avault(["reseal", path, "--recipient", alice.recipient])
        #expect(reseal.code == 2 && reseal.err.contains("the others would still hold the blob as it was sealed before"), "\(reseal.code) \(reseal.err)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == sealed)
        // unseal and sign leave the other name as it was, which holds nothing they remove.
        #expect(try alice.k.avault(["unseal", path]).code == 0)
        #expect(try String(contentsOfFile: other, encoding: .utf8) == sealed)
        // migrate would leave the legacy v1 blob (a review found it rewriting one name only).
        let legacy = alice.k.path("legacy.md"), legacyOther = alice.k.path("legacy-published.md")
        try FileManager.default.copyItem(atPath: CLI.repoRoot.appendingPathComponent("Fixtures/records/demo-v1.md").path, toPath: legacy)
        try #require(link(legacy, legacyOther) == 0)
        let before = try String(contentsOfFile: legacy, encoding: .utf8)
        #expect(try alice.k.avault(["keys", "import", "old", "--key-file", try alice.k.keyFile("demo-aes256.key"), "--legacy-aes-cbc"]).code == 0)
        #expect(try alice.k.avault(["keys", "generate", "new", "--secret"]).code == 0)
        let migrate = try alice.k.avault(["migrate", legacy, "--from-key", "old", "--key", "new", "--allow-unauthenticated-legacy"])
        #expect(migrate.code == 2 && migrate.err.contains("the others would still hold the legacy v1 blob"), "\(migrate.code) \(migrate.err)")
        #expect(try String(contentsOfFile: legacy, encoding: .utf8) == before)
        try FileManager.default.removeItem(atPath: legacyOther)
        #expect(try alice.k.avault(["migrate", legacy, "--from-key", "old", "--key", "new", "--allow-unauthenticated-legacy"]).code == 0)
    }
}

/// A blob's context is the record's `webUrl` (else `originalUrl`) string, so every record with
/// neither shares the empty context, and a blob sealed in one opens in the others (formats.md
/// §1.4). seal, reseal and migrate said nothing of it; they now warn, even with -q.
@Suite struct SealContextWarningTests {
    static let warning = "the record has no webUrl or originalUrl, so its blob would open in any other record without one too"

    @Test func aBlobBoundToNoURLIsWarnedOf() throws {
        let demo = try DemoRing()
        let bare = try demo.record("bare.md", "---\ntitle: \"Draft\"\n---\nThe plan.\n")
        let other = try demo.record("other.md", "---\ntitle: \"Another\"\n---\nAnother text.\n")
        let bound = try demo.record("bound.md", "---\ntitle: \"Draft\"\nwebUrl: \"https://example.org/d\"\n---\nThe plan.\n")
        // A webUrl that is not a string is passed over as well.
        let numeric = try demo.record("numeric.md", "---\ntitle: \"Draft\"\nwebUrl: 42\n---\nThe plan.\n")
        // A blank URL binds to no page either (a review: said nothing).
        let blank = try demo.record("blank.md", "---\ntitle: \"Draft\"\noriginalUrl: \" \\t\"\n---\nThe plan.\n")
        let sealed = try CLI.avault(["seal", "-q", bare, bound, numeric, blank, "--key", "demo-content"] + demo.args)
        #expect(sealed.code == 0, "\(sealed.err)")
        #expect(sealed.err == "avault: warning: \(bare): \(Self.warning); to bind it, unseal it, give it its webUrl and seal it again\n"
                + "avault: warning: \(numeric): \(Self.warning); to bind it, unseal it, give it its webUrl and seal it again\n"
                + "avault: warning: \(blank): the record's webUrl (or originalUrl) is blank, so its blob would open in any other record whose URL "
                + "is the same blank; to bind it, unseal it, give it its webUrl and seal it again\n", "\(sealed.err)")
        // What the warning is about: the blob, moved into another record without a URL, opens there.
        let blob = try #require(try String(contentsOfFile: bare, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("secured:") })
        try CLI.write("---\ntitle: \"Another\"\n\(blob)\n---\n", to: URL(fileURLWithPath: other))
        let opened = try CLI.avault(["unseal", other] + demo.args)
        #expect(opened.code == 0 && opened.err.isEmpty, "\(opened.err)")
        #expect(try String(contentsOfFile: other, encoding: .utf8).hasSuffix("---\nThe plan.\n"))
        // Migrated to v2: the same warning in a record without a URL; none with one.
        let v1 = try demo.copy("Fixtures/records/demo-v1.md", as: "v1.md")
        let v1bare = try demo.record("v1bare.md", try String(contentsOfFile: v1, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("webUrl:") && !$0.hasPrefix("originalUrl:") }.joined(separator: "\n"))
        for record in [v1, v1bare] { #expect(try CLI.avault(["sign", record, "--key", "demo-desk"] + demo.args).code == 0) }
        let migrated = try CLI.avault(["migrate", v1, v1bare, "--from-key", "demo-legacy", "--key", "demo-content"] + demo.args)
        #expect(migrated.code == 0, "\(migrated.err)")
        #expect(migrated.err.split(separator: "\n").filter { $0.contains(Self.warning) } == ["avault: warning: \(v1bare): \(Self.warning); to bind it, unseal it, give it its webUrl and seal it again"],
                "\(migrated.err)")
    }
}
