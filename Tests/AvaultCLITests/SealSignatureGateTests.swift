// Rewriting a signed record (seal, unseal, reseal, migrate) drops its signatures, and --sign
// signs the result: the signatures are judged first, as 'avault verify' judges them, so that a
// record altered after it was signed never comes out signed by the desk.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("seal, unseal, reseal, migrate: signatures judged before a rewrite drops them or --sign re-signs")
struct SealSignatureGateTests {
    /// The demo ring with an identity `reader` to seal to, and its recipient.
    static func ring() throws -> (DemoRing, String) {
        let demo = try DemoRing()
        let g = try CLI.avault(["keys", "generate", "reader", "--identity"] + demo.args)
        #expect(g.code == 0, "\(g.err)")
        let r = try CLI.avault(["keys", "export-recipient", "reader"] + demo.args)
        #expect(r.code == 0, "\(r.err)")
        return (demo, r.out.trimmingCharacters(in: .newlines))
    }

    static let draft = "---\ntitle: \"Budget vote\"\nwebUrl: \"https://example.org/budget\"\n---\nThe council voted 7 to 2.\n"

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// `avault verify PATH --require-signature` against the demo ring's trust store.
    static func verify(_ path: String, _ demo: DemoRing) throws -> CLI.Result {
        try CLI.avault(["verify", path, "--require-signature", "--keyring", demo.ring])
    }

    /// The draft sealed to `recipient` and signed by the desk (`honest.md`), and a copy as an
    /// attacker leaves it who knows only the public recipient and the record's webUrl
    /// (`forged.md`): a blob of their own sealed to the same recipient and context, and the
    /// title edited.
    static func sealedAndForged(_ demo: DemoRing, _ recipient: String) throws -> (honest: String, forged: String) {
        let honest = try demo.record("honest.md", draft)
        let s = try CLI.avault(["seal", honest, "--recipient", recipient, "--sign", "demo-desk"] + demo.args)
        #expect(s.code == 0, "\(s.err)")
        #expect(try verify(honest, demo).code == 0)
        // The attacker's blob: sealed with no keyring at all.
        let theirs = try demo.record("theirs.md", draft.replacingOccurrences(of: "7 to 2", with: "2 to 7"))
        let t = try CLI.avault(["seal", theirs, "--recipient", recipient, "--keyring", demo.dir.appendingPathComponent("none").path])
        #expect(t.code == 0, "\(t.err)")
        let signed = try read(honest)
        let ours = try #require(signed.split(separator: "\n").first { $0.hasPrefix("secured: ") })
        let forgedLine = try #require(try read(theirs).split(separator: "\n").first { $0.hasPrefix("secured: ") })
        let forged = try demo.record("forged.md", signed.replacingOccurrences(of: String(ours), with: String(forgedLine))
            .replacingOccurrences(of: "Budget vote", with: "Budget vote withdrawn"))
        #expect(try read(forged).contains("signatures:"))
        let v = try verify(forged, demo)
        #expect(v.code == 1 && v.out.contains("invalid"), "\(v.out)")
        return (honest, forged)
    }

    @Test("unseal --sign and reseal --sign refuse a record altered after it was signed: exit 1, the file unchanged byte for byte")
    func forgedRecordIsNotResigned() throws {
        let (demo, recipient) = try Self.ring()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let (_, forged) = try Self.sealedAndForged(demo, recipient)
        let before = try Data(contentsOf: URL(fileURLWithPath: forged))
        for args in [["unseal", forged, "--sign", "demo-desk"], ["reseal", forged, "--recipient", recipient, "--sign", "demo-desk"]] {
            let r = try CLI.avault(args + demo.args)
            #expect(r.code == 1, "\(args): \(r.err)")
            #expect(r.err.hasPrefix("avault: \(forged): ") && r.err.contains("did not verify") && r.err.contains("invalid"), "\(r.err)")
            #expect(r.err.contains("nothing was written") && r.err.contains("avault: hint: ") && r.err.contains("avault verify"), "\(r.err)")
            #expect(r.out.isEmpty)
            #expect(try Data(contentsOf: URL(fileURLWithPath: forged)) == before)
        }
        #expect(try Self.verify(forged, demo).code == 1)
    }

    @Test("without --sign the rewrite goes on, and the warning says the signatures did not verify before the change")
    func forgedRecordWarnsWithoutSign() throws {
        let (demo, recipient) = try Self.ring()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let (_, forged) = try Self.sealedAndForged(demo, recipient)
        let u = try CLI.avault(["unseal", forged] + demo.args)
        #expect(u.code == 0, "\(u.err)")
        #expect(u.err.hasPrefix("avault: warning: \(forged): "), "\(u.err)")
        #expect(u.err.contains("did not verify before the change") && u.err.contains("invalid"), "\(u.err)")
        #expect(!u.err.contains("no longer match") && !u.err.contains("re-sign with --sign"), "\(u.err)")
        // Unsigned now, with the attacker's words: verify says so.
        #expect(try Self.read(forged).contains("2 to 7") && !(try Self.read(forged).contains("signatures:")))
        #expect(try Self.verify(forged, demo).code == 1)
    }

    @Test("an honest signed sealed record is still resealed and unsealed with --sign, and verifies")
    func honestRecordIsResigned() throws {
        let (demo, recipient) = try Self.ring()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let (honest, _) = try Self.sealedAndForged(demo, recipient)
        let r = try CLI.avault(["reseal", honest, "--recipient", recipient, "--sign", "demo-desk"] + demo.args)
        #expect(r.code == 0 && r.out.contains("and signed it"), "\(r.err)")
        #expect(r.err.contains("dropped signatures that no longer match"), "\(r.err)")
        #expect(try Self.verify(honest, demo).code == 0)
        let u = try CLI.avault(["unseal", honest, "--sign", "demo-desk"] + demo.args)
        #expect(u.code == 0 && u.out.contains("and signed it"), "\(u.err)")
        #expect(u.err.contains("dropped signatures that no longer match") && !u.err.contains("did not verify"), "\(u.err)")
        #expect(try Self.read(honest).hasPrefix("---\ntitle: \"Budget vote\"\nwebUrl: \"https://example.org/budget\"\n"))
        #expect(try Self.read(honest).hasSuffix("---\nThe council voted 7 to 2.\n"))
        #expect(try Self.verify(honest, demo).code == 0)
        // An unsigned record is signed as before.
        let plain = try demo.record("plain.md", Self.draft)
        #expect(try CLI.avault(["seal", plain, "--recipient", recipient, "--sign", "demo-desk"] + demo.args).code == 0)
        #expect(try Self.verify(plain, demo).code == 0)
    }

    @Test("seal --sign and migrate --sign refuse a signed record edited since; so does a signature no trusted key made")
    func sealAndMigrateJudgeToo() throws {
        let (demo, recipient) = try Self.ring()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        // seal: a signed record whose title was edited.
        let path = try demo.record("s.md", Self.draft)
        #expect(try CLI.avault(["sign", path, "--key", "demo-desk"] + demo.args).code == 0)
        try CLI.write(try Self.read(path).replacingOccurrences(of: "7 to 2", with: "2 to 7"), to: URL(fileURLWithPath: path), mode: 0o644)
        let edited = try Self.read(path)
        let s = try CLI.avault(["seal", path, "--recipient", recipient, "--sign", "demo-desk"] + demo.args)
        #expect(s.code == 1 && s.err.contains("did not verify") && s.err.contains("invalid"), "\(s.err)")
        #expect(try Self.read(path) == edited)

        // migrate: a signed v1 record whose title was edited; the opt-in decrypts it, but it is not re-signed.
        let v1 = try demo.copy("Fixtures/records/demo-v1.md", as: "m.md")
        #expect(try CLI.avault(["sign", v1, "--key", "demo-desk"] + demo.args).code == 0)
        try CLI.write(try Self.read(v1).replacingOccurrences(of: "legacy draft", with: "legacy draft, retracted"), to: URL(fileURLWithPath: v1), mode: 0o644)
        let editedV1 = try Self.read(v1)
        let m = try CLI.avault(["migrate", v1, "--from-key", "demo-legacy", "--key", "demo-content", "--sign", "demo-desk",
                                "--allow-unauthenticated-legacy"] + demo.args)
        #expect(m.code == 1 && m.err.contains("did not verify") && m.err.contains("invalid"), "\(m.err)")
        #expect(try Self.read(v1) == editedV1)

        // An honest record signed by a key that --pubkey does not name: untrusted, refused.
        let honest = try demo.record("h.md", Self.draft)
        #expect(try CLI.avault(["seal", honest, "--recipient", recipient, "--sign", "demo-desk"] + demo.args).code == 0)
        let sealed = try Self.read(honest)
        #expect(try CLI.avault(["keys", "generate", "other", "--signing"] + demo.args).code == 0)
        let other = demo.dir.appendingPathComponent("other.pub").path
        #expect(try CLI.avault(["keys", "export-public", "other", "-o", other] + demo.args).code == 0)
        // (Signed again by `other`: the key about to sign counts as trusted, demo-desk does not.)
        let u = try CLI.avault(["unseal", honest, "--sign", "other", "--pubkey", other] + demo.args)
        #expect(u.code == 1 && u.err.contains("did not verify") && u.err.contains("untrusted"), "\(u.err)")
        #expect(try Self.read(honest) == sealed)
        let r = try CLI.avault(["reseal", honest, "--recipient", recipient, "--sign", "other", "--pubkey", other] + demo.args)
        #expect(r.code == 1 && r.err.contains("untrusted"), "\(r.err)")
        #expect(try Self.read(honest) == sealed)
    }

    @Test("with no trust store, only the signing key's own signatures are judged: a record it signed is re-signed unless altered since; one another key signed is not (exit 2), and without --sign the warning says its signatures were not checked")
    func noTrustStore() throws {
        let alice = try Editor("alice")
        #expect(try alice.k.avault(["keys", "generate", "desk", "--signing"]).code == 0)
        #expect(try alice.k.avault(["keys", "generate", "other", "--signing"]).code == 0)
        let path = alice.k.path("d.md")
        try CLI.write(Self.draft, to: URL(fileURLWithPath: path), mode: 0o644)
        // An unsigned record is unaffected: sealed and signed.
        let s = try alice.k.avault(["seal", path, "--recipient", alice.recipient, "--sign", "desk"])
        #expect(s.code == 0, "\(s.err)")
        // Signed by the key that signs again (one editor alone): judged by it, and re-signed.
        let u = try alice.k.avault(["unseal", path, "--sign", "desk"])
        #expect(u.code == 0, "\(u.err)")
        // Altered since, it is refused by that same judgement.
        let signed = try Self.read(path)
        try CLI.write(signed.replacingOccurrences(of: "7 to 2", with: "2 to 7"), to: URL(fileURLWithPath: path), mode: 0o644)
        let altered = try Self.read(path)
        let a = try alice.k.avault(["seal", path, "--recipient", alice.recipient, "--sign", "desk"])
        #expect(a.code == 1 && a.err.contains("did not verify before the change (invalid"), "\(a.err)")
        #expect(try Self.read(path) == altered)
        // Signed by another key: nothing to judge it by.
        try CLI.write(signed, to: URL(fileURLWithPath: path), mode: 0o644)
        let o = try alice.k.avault(["seal", path, "--recipient", alice.recipient, "--sign", "other"])
        #expect(o.code == 2 && o.err.contains("\(path): ") && o.err.contains("trust"), "\(o.err)")
        #expect(o.err.contains("avault: hint: ") && o.err.contains("--pubkey"), "\(o.err)")
        #expect(try Self.read(path) == signed)
        let plain = try alice.k.avault(["seal", path, "--recipient", alice.recipient])
        #expect(plain.code == 0, "\(plain.err)")
        #expect(plain.err.contains("not checked") && !plain.err.contains("no longer match"), "\(plain.err)")
    }

    @Test("seal of an unsigned record reads no trust store: a broken one is no concern of it")
    func unsignedRecordsNeedNoTrustStore() throws {
        let (demo, recipient) = try Self.ring()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let store = demo.ring + "/trust.avt"
        #expect(FileManager.default.fileExists(atPath: store))
        #expect(chmod(store, 0o666) == 0)
        let path = try demo.record("u.md", Self.draft)
        let s = try CLI.avault(["seal", path, "--recipient", recipient] + demo.args)
        #expect(s.code == 0, "\(s.err)")
        let r = try CLI.avault(["reseal", path, "--recipient", recipient] + demo.args)
        #expect(r.code == 0, "\(r.err)")
        // A signed one needs it, and is refused by it.
        let signed = try demo.record("s.md", Self.draft)
        #expect(try CLI.avault(["sign", signed, "--key", "demo-desk"] + demo.args).code == 0)
        let refused = try CLI.avault(["seal", signed, "--recipient", recipient] + demo.args)
        #expect(refused.code == 2 && refused.err.contains("writable by group or others"), "\(refused.err)")
    }
}
