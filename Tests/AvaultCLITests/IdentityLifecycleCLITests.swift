// Issue 13's remaining gaps, through the real binary: an identity a vault to recipients still
// needs cannot be retired or deleted; a retired identity still opens what was sealed to it;
// a `.avault-recipients` search that cannot look in a directory fails closed.

import Foundation
import Testing

@Suite("identities: retirement, what still needs them, and the recipients search")
struct IdentityLifecycleCLITests {
    static let draft = "---\ntitle: \"Draft\"\nwebUrl: \"https://example.org/d\"\n---\nThe sealed text.\n"

    static func recipient(_ e: Editor) throws -> String {
        try e.k.avault(["keys", "export-recipient", "me"]).out.trimmingCharacters(in: .newlines)
    }

    @Test("retire and delete of an identity that is a recipient of the vault are refused, with the way out; after the vault drops it, retire works")
    func anIdentityTheVaultStillNeeds() throws {
        let a = try Editor("me")
        let desk = try VaultRecipientsCLITests.Desk()
        let v = ["--vault", desk.vault]
        let first = a.recipient
        #expect(try a.k.avault(["vault", "init", "--recipient", first] + v).code == 0)
        try Data("draft\n".utf8).write(to: URL(fileURLWithPath: desk.path("p")))
        #expect(try a.k.avault(["vault", "put", "doc", desk.path("p")] + v).code == 0)
        #expect(try a.k.avault(["keys", "rotate", "me"]).code == 0)
        let second = try Self.recipient(a)
        #expect(second != first)

        let retire = try a.k.avault(["keys", "retire", "me", "--version", "1"] + v)
        #expect(retire.code == 2, "\(retire.err)")
        #expect(retire.err.contains("avault: identity 'me' version 1 is still a recipient of the vault at \(desk.vault) (\(first))"), "\(retire.err)")
        #expect(retire.err.contains("hint: after adding a recipient of yours that stays, remove it from the vault first (with --rotate, what is put afterwards is out of its reach): avault vault recipients remove \(first) --vault \(desk.vault)\n"), "\(retire.err)")
        let delete = try a.k.avault(["keys", "delete", "me", "--version", "1", "--yes"] + v)
        #expect(delete.code == 2 && delete.err.contains("is still a recipient of the vault") && delete.err.contains("--force"), "\(delete.err)")
        // Nothing changed: version 1 is active and still there.
        let listed = try a.k.json(["keys", "list"])
        let versions = (listed["keys"] as? [[String: Any]] ?? []).filter { $0["name"] as? String == "me" }
        #expect(versions.map { $0["status"] as? String } == ["active", "active"])
        // The other version is no recipient of the vault: retiring it would be allowed (not done here).

        // The vault is moved to the new version; then the old one can be retired.
        #expect(try a.k.avault(["vault", "recipients", "add", second] + v).code == 0)
        #expect(try a.k.avault(["vault", "recipients", "remove", first] + v).code == 0)
        let retired = try a.k.avault(["keys", "retire", "me", "--version", "1"] + v)
        #expect(retired.code == 0 && retired.out == "retired key 'me' version 1\n", "\(retired.err)")
        #expect(try a.k.avault(["vault", "get", "doc"] + v).out == "draft\n")
    }

    @Test("a retired identity still opens drafts sealed to it and a vault to it; it is no longer handed out as a recipient")
    func aRetiredIdentityStillDecrypts() throws {
        let a = try Editor("me"), b = try Editor("other")
        let desk = try VaultRecipientsCLITests.Desk()
        let v = ["--vault", desk.vault]
        let old = a.recipient
        // Sealed to version 1, and a vault someone else made with version 1 among its recipients.
        let draft = desk.path("d.md")
        try CLI.write(Self.draft, to: URL(fileURLWithPath: draft), mode: 0o644)
        #expect(try CLI.avault(["seal", draft, "--recipient", old]).code == 0)
        #expect(try b.k.avault(["vault", "init", "--recipient", b.recipient, "--recipient", old] + v).code == 0)
        try Data("shared\n".utf8).write(to: URL(fileURLWithPath: desk.path("p")))
        #expect(try b.k.avault(["vault", "put", "doc", desk.path("p")] + v).code == 0)
        // Version 1 is retired (checked against no vault: the default location has none).
        #expect(try a.k.avault(["keys", "rotate", "me"]).code == 0)
        let retire = try a.k.avault(["keys", "retire", "me", "--version", "1", "--vault", desk.path("no-vault")])
        #expect(retire.code == 0, "\(retire.err)")
        #expect(try Self.recipient(a) != old)

        // It still opens what was sealed to it: secured decrypt, unseal, age decrypt, the vault.
        let shown = try a.k.avault(["secured", "decrypt", "--record", draft, "--key", "me"])
        #expect(shown.code == 0 && shown.out.contains("The sealed text."), "\(shown.err)")
        let get = try a.k.avault(["vault", "get", "doc"] + v)
        #expect(get.code == 0 && get.out == "shared\n", "\(get.err)")
        let unseal = try a.k.avault(["unseal", draft])
        #expect(unseal.code == 0, "\(unseal.err)")
        #expect(try String(contentsOfFile: draft, encoding: .utf8) == Self.draft)

        // With version 1 deleted, none of it opens: the retired version was what opened it.
        #expect(try CLI.avault(["seal", draft, "--recipient", old]).code == 0)
        #expect(try a.k.avault(["keys", "delete", "me", "--version", "1", "--yes", "--vault", desk.path("no-vault")]).code == 0)
        #expect(try a.k.avault(["unseal", draft]).code == 1)
        #expect(try a.k.avault(["vault", "get", "doc"] + v).code == 2)
    }

    @Test("a directory the .avault-recipients search cannot look in stops it with a named error, not a rule from above it")
    func anUnsearchableDirectoryFailsClosed() throws {
        let a = try Editor("me"), b = try Editor("other")
        let desk = try VaultRecipientsCLITests.Desk()
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: desk.path("team")) }
        // The top rule names b; a rule in team/ (which the search cannot read) would name a.
        try CLI.write("\(b.recipient)\n", to: URL(fileURLWithPath: desk.path(".avault-recipients")), mode: 0o644)
        try FileManager.default.createDirectory(atPath: desk.path("team/drafts"), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        try CLI.write("\(a.recipient)\n", to: URL(fileURLWithPath: desk.path("team/.avault-recipients")), mode: 0o644)
        let draft = desk.path("team/drafts/d.md")
        try CLI.write(Self.draft, to: URL(fileURLWithPath: draft), mode: 0o644)
        // Search permission but no read permission: the path resolves, the directory does not open.
        try FileManager.default.setAttributes([.posixPermissions: 0o311], ofItemAtPath: desk.path("team"))

        // Root reads any directory whatever its mode: run without the capabilities that allow it.
        var command = [CLI.avaultPath]
        if getuid() == 0 {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
                print("SKIPPED assertion: running as root and /usr/bin/setpriv is missing, so a mode-0311 directory cannot be made unreadable")
                return
            }
            command = ["/usr/bin/setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"] + command
        }
        let r = try CLI.run(command[0], Array(command.dropFirst()) + ["seal", draft])
        #expect(r.code == 2, "\(r.err)")
        #expect(r.err.contains("avault: \(draft): cannot look for .avault-recipients in \(desk.path("team")): permission denied"), "\(r.err)")
        #expect(r.err.contains("hint: a .avault-recipients file there would decide who can read the draft"), "\(r.err)")
        // Nothing was sealed (to b's rule above, or at all).
        #expect(try String(contentsOfFile: draft, encoding: .utf8) == Self.draft)

        // Readable again, the nearest file (team/'s) is used.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: desk.path("team"))
        #expect(try CLI.avault(["seal", draft]).code == 0)
        #expect(try a.k.avault(["unseal", draft]).code == 0)
    }
}
