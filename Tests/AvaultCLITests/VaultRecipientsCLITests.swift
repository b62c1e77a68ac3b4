import Foundation
import Testing
import VaultCrypto
import VaultFormat
@testable import ArticleVault

/// Vaults to recipients (issue 13, item 4) and the issue's three-editor scenario, through the
/// real binary: each editor has a keyring of their own.
@Suite("vaults to recipients, and three editors sharing drafts and a vault")
struct VaultRecipientsCLITests {
    /// A shared working directory (mode 755) with a vault path in it.
    final class Desk {
        let dir: URL
        init() throws {
            dir = try CLI.tempDirectory()
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        }
        deinit { try? FileManager.default.removeItem(at: dir) }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        var vault: String { path("vault") }
    }

    static func logEntries(_ e: Editor, _ vault: String) throws -> [[String: Any]] {
        let r = try e.k.avault(["vault", "log", "--json", "--vault", vault])
        #expect(r.code == 0, "\(r.err)")
        return try r.out.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    static func kid(_ e: Editor, _ vault: String, _ id: String) throws -> String? {
        let r = try e.k.avault(["vault", "history", id, "--json", "--vault", vault])
        let doc = try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any]
        return ((doc?["versions"] as? [[String: Any]])?.last)?["keyId"] as? String
    }

    @Test("init to recipients, list, add, remove without and with --rotate; the log records each change; refusals")
    func recipientsLifecycle() throws {
        let a = try Editor("a"), b = try Editor("b"), c = try Editor("c")
        let desk = try Desk()
        let v = ["--vault", desk.vault]
        // --key and recipients together, or neither, are usage errors.
        #expect(try a.k.avault(["vault", "init"] + v).code == 64)
        #expect(try a.k.avault(["vault", "init", "--key", "x", "--recipient", a.recipient] + v).code == 64)
        try CLI.write("# the desk\n\(b.recipient)\n", to: URL(fileURLWithPath: desk.path("team.txt")), mode: 0o644)
        let i = try a.k.avault(["vault", "init", "--recipient", a.recipient, "--recipients-file", desk.path("team.txt")] + v)
        #expect(i.code == 0 && i.out.contains("(2 recipients)"), "\(i.err)")
        #expect(try String(contentsOfFile: desk.vault + "/config", encoding: .utf8).contains("key: @recipients\n"))

        try Data("draft one\n".utf8).write(to: URL(fileURLWithPath: desk.path("p1")))
        #expect(try a.k.avault(["vault", "put", "doc", desk.path("p1")] + v).code == 0)
        #expect(try b.k.avault(["vault", "get", "doc"] + v).out == "draft one\n")
        let list = try b.k.avault(["vault", "recipients", "list"] + v)
        #expect(list.out == "\(a.recipient)\n\(b.recipient)\n")
        let json = try b.k.json(["vault", "recipients", "list"] + v)
        #expect(json["recipients"] as? [String] == [a.recipient, b.recipient] && json["schemaVersion"] as? Int == 2)

        // c is not a recipient: a named refusal, exit 2, with the way in.
        let outsider = try c.k.avault(["vault", "get", "doc"] + v)
        #expect(outsider.code == 2 && outsider.err.contains("none of them an identity of this keyring") && outsider.err.contains("vault recipients add"),
                "\(outsider.err)")
        // Only a recipient can add one.
        #expect(try c.k.avault(["vault", "recipients", "add", c.recipient] + v).code == 2)
        let add = try b.k.avault(["vault", "recipients", "add", c.recipient] + v)
        #expect(add.code == 0 && add.out == "added 1 recipient; the vault has 3\n", "\(add.err)")
        #expect(try c.k.avault(["vault", "get", "doc"] + v).out == "draft one\n")
        #expect(try b.k.avault(["vault", "recipients", "add", c.recipient] + v).code == 2)
        #expect(try b.k.avault(["vault", "recipients", "remove", "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"] + v).code != 0)

        // c keeps a copy of the vault's config (and with it, the data key wrapped to them).
        let cKept = try Data(contentsOf: URL(fileURLWithPath: desk.vault + "/config"))

        // Removed without --rotate: the data key stays; c's kept copy still opens what is written later.
        let removed = try a.k.avault(["vault", "recipients", "remove", c.recipient] + v)
        #expect(removed.code == 0 && removed.out == "removed 1 recipient; the vault has 2\n", "\(removed.err)")
        #expect(try c.k.avault(["vault", "get", "doc"] + v).code == 2)
        try Data("draft two\n".utf8).write(to: URL(fileURLWithPath: desk.path("p2")))
        #expect(try a.k.avault(["vault", "put", "doc", desk.path("p2")] + v).code == 0)
        let copy = desk.path("c-copy")
        #expect(try CLI.run("cp", ["-a", desk.vault, copy]).code == 0)
        let keptConfig = try Self.withConfig(cKept, in: copy) { try c.k.avault(["vault", "get", "doc", "--vault", copy]) }
        #expect(keptConfig.code != 0, "the kept config names other recipients: the state check refuses it")
        // (What c can still do with the data key itself is what formats.md §8.7 says: everything.)

        // Removed with --rotate: every version re-encrypted under a new data key.
        #expect(try a.k.avault(["vault", "recipients", "add", c.recipient] + v).code == 0)
        let before = try Self.kid(a, desk.vault, "doc")
        let rotated = try a.k.avault(["vault", "recipients", "remove", c.recipient, "--rotate"] + v)
        #expect(rotated.code == 0 && rotated.out.contains("rotated the data key (re-encrypted 2 versions)"), "\(rotated.err)")
        let after = try Self.kid(a, desk.vault, "doc")
        #expect(before != nil && after != nil && before != after)
        #expect(try b.k.avault(["vault", "get", "doc", "--version", "1"] + v).out == "draft one\n")
        #expect(try b.k.avault(["vault", "verify"] + v).code == 0)
        #expect(try b.k.avault(["vault", "log", "--verify"] + v).code == 0)
        #expect(try c.k.avault(["vault", "get", "doc"] + v).code == 2)

        // The log records every change of recipients.
        let entries = try Self.logEntries(a, desk.vault)
        let changes = entries.filter { $0["op"] as? String == "recipients" }
        #expect(changes.count == 4)
        #expect(changes.map { $0["added"] as? [String] ?? [] } == [[c.recipient], [], [c.recipient], []])
        #expect(changes.map { $0["removed"] as? [String] ?? [] } == [[], [c.recipient], [], [c.recipient]])
        #expect(changes.last?["rotated"] as? Int == 2 && changes.last?["recipients"] as? [String] == [a.recipient, b.recipient])
        #expect((entries.first?["recipients"] as? [String]) == [a.recipient, b.recipient])
        #expect(entries.contains { $0["op"] as? String == "rewrap" })
        #expect(try a.k.avault(["vault", "log"] + v).out.contains("  recipients  \(after!)  +0 -1 (2 recipients), rotated 2\n"))

        // The last recipient cannot be removed; a keyring vault has no recipients.
        #expect(try a.k.avault(["vault", "recipients", "remove", b.recipient] + v).code == 0)
        let last = try a.k.avault(["vault", "recipients", "remove", a.recipient] + v)
        #expect(last.code == 2 && last.err.contains("at least one recipient"), "\(last.err)")
        #expect(try a.k.avault(["keys", "generate", "content", "--secret"]).code == 0)
        #expect(try a.k.avault(["vault", "init", "--key", "content", "--vault", desk.path("kv")]).code == 0)
        let keyVault = try a.k.avault(["vault", "recipients", "list", "--vault", desk.path("kv")])
        #expect(keyVault.code == 2 && keyVault.err.contains("not by recipients"), "\(keyVault.err)")
    }

    /// Runs `body` with `config` in place of the vault `vault`'s config.
    static func withConfig<T>(_ config: Data, in vault: String, _ body: () throws -> T) throws -> T {
        let path = vault + "/config"
        try config.write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return try body()
    }

    @Test("a config whose recipients or data keys were changed outside avault is refused; a rollback is still caught")
    func tamperingAndRollback() throws {
        let a = try Editor("a"), b = try Editor("b"), m = try Editor("mallory")
        let desk = try Desk()
        let v = ["--vault", desk.vault]
        #expect(try a.k.avault(["vault", "init", "--recipient", a.recipient, "--recipient", b.recipient] + v).code == 0)
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: desk.path("p")))
        #expect(try a.k.avault(["vault", "put", "doc", desk.path("p")] + v).code == 0)
        let original = try String(contentsOfFile: desk.vault + "/config", encoding: .utf8)

        // Mallory adds herself to the recipients line: the data-key file is bound to the old list.
        let added = original.replacingOccurrences(of: "recipients: \(a.recipient) \(b.recipient)", with: "recipients: \(a.recipient) \(b.recipient) \(m.recipient)")
        #expect(added != original)
        let r1 = try Self.withConfig(Data(added.utf8), in: desk.vault) { try a.k.avault(["vault", "get", "doc"] + v) }
        #expect(r1.code == 1 && r1.err.contains("not bound to this vault and its recipients"), "\(r1.err)")

        // Mallory wraps a data key of her own to everyone (recipients are public): the index does not open under it.
        let other = desk.path("other")
        #expect(try m.k.avault(["vault", "init", "--recipient", a.recipient, "--recipient", b.recipient, "--recipient", m.recipient, "--vault", other]).code == 0)
        let otherConfig = try String(contentsOfFile: other + "/config", encoding: .utf8)
        let swapped = original.split(separator: "\n").map { line -> String in
            if line.hasPrefix("data-keys: ") || line.hasPrefix("recipients: ") {
                return String(otherConfig.split(separator: "\n").first { $0.hasPrefix(line.prefix(11)) }!)
            }
            return String(line)
        }.joined(separator: "\n") + "\n"
        let r2 = try Self.withConfig(Data(swapped.utf8), in: desk.vault) { try a.k.avault(["vault", "get", "doc"] + v) }
        #expect(r2.code == 1 && !r2.out.contains("secret"), "\(r2.err)")
        try Self.withConfig(Data(original.utf8), in: desk.vault) {}
        #expect(try a.k.avault(["vault", "get", "doc"] + v).out == "secret\n")

        // A rollback to a copy from before a change of recipients is refused as before.
        let backup = desk.path("backup")
        #expect(try CLI.run("cp", ["-a", desk.vault, backup]).code == 0)
        #expect(try a.k.avault(["vault", "recipients", "remove", b.recipient, "--rotate"] + v).code == 0)
        #expect(try CLI.run("rm", ["-rf", desk.vault]).code == 0)
        #expect(try CLI.run("mv", [backup, desk.vault]).code == 0)
        let rolled = try a.k.avault(["vault", "get", "doc"] + v)
        #expect(rolled.code == 1 && rolled.err.contains("the vault was rolled back"), "\(rolled.err)")
    }

    /// Found by a review: only the binding stanza of `data-keys` was checked, so a recipient
    /// who may write the config could wrap the data keys to someone more, with a header code
    /// that matches (a recipient knows the file key), and `vault recipients list` did not show
    /// them. The X25519 stanzas must be as many as the recipients listed. The tampered file is
    /// made here as such a recipient would: a's identity opens the data keys, which are wrapped
    /// again to a and hidden m, bound to the list [a].
    @Test("data keys wrapped to someone the recipients list does not show are refused")
    func aHiddenStanzaInTheDataKeysIsRefused() throws {
        let a = try Editor("a"), m = try Editor("m")
        let desk = try Desk()
        let v = ["--vault", desk.vault]
        #expect(try a.k.avault(["vault", "init", "--recipient", a.recipient] + v).code == 0)
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: desk.path("p")))
        #expect(try a.k.avault(["vault", "put", "doc", desk.path("p")] + v).code == 0)

        #expect(try a.k.avault(["keys", "export-age", "a", "-o", a.k.path("a.txt")]).code == 0)
        let identities = try Data(contentsOf: URL(fileURLWithPath: a.k.path("a.txt"))).withUnsafeBytes { raw in
            try AgeKeys.parseIdentityFile(raw)
        }
        let original = try String(contentsOfFile: desk.vault + "/config", encoding: .utf8)
        var config = try VaultFiles.Config(parsing: original)
        let keys = try VaultRecipients.unwrap(config, identities: identities)
        var plain: [UInt8] = []
        for key in keys { key.key.withUnsafeBytes { plain.append(contentsOf: $0) } }
        var wrapped: [UInt8] = []
        _ = try AgeFile.encrypt(AgeBytesInput(plain), to: [.x25519(try AgeKeys.parseRecipient(a.recipient)), .x25519(try AgeKeys.parseRecipient(m.recipient))],
                                extraStanzas: [VaultRecipients.bindingStanza(vaultID: config.vaultID, recipients: [a.recipient])],
                                armor: false) { (piece: UnsafeRawBufferPointer) throws(AvaultError) in wrapped.append(contentsOf: piece) }
        config.dataKeys = wrapped
        try Self.withConfig(Data(config.text.utf8), in: desk.vault) {}

        let list = try a.k.avault(["vault", "recipients", "list"] + v)
        #expect(list.code == 1 && list.out.isEmpty, "\(list.code) \(list.out)")
        #expect(list.err.hasPrefix("avault: the vault's data keys are wrapped to 2 stanzas, but its config lists 1 recipient: the config was altered"), "\(list.err)")
        let hidden = try m.k.avault(["vault", "get", "doc"] + v)
        #expect(hidden.code == 1 && !hidden.out.contains("secret"), "\(hidden.code) \(hidden.err)")
        try Self.withConfig(Data(original.utf8), in: desk.vault) {}
        #expect(try a.k.avault(["vault", "get", "doc"] + v).out == "secret\n")
    }

    /// Found by a review: a vault's recipients file that others may write was refused with the
    /// words of `seal`'s ("decides who can read the drafts sealed under it").
    @Test("a recipients file others may write is refused in the words of a vault")
    func aVaultsRecipientsFileOthersMayWrite() throws {
        let a = try Editor("a"), b = try Editor("b")
        let desk = try Desk()
        let v = ["--vault", desk.vault]
        #expect(try a.k.avault(["vault", "init", "--recipient", a.recipient] + v).code == 0)
        let file = desk.path("team.txt")
        try CLI.write("\(b.recipient)\n", to: URL(fileURLWithPath: file), mode: 0o666)
        let add = try a.k.avault(["vault", "recipients", "add", "--recipients-file", file] + v)
        #expect(add.code == 2 && add.err.contains("anyone who can write it decides who can read the vault") && !add.err.contains("drafts"), "\(add.err)")
    }

    /// A command reads a vault to recipients' log from its keyring's head on, as for a vault of
    /// a content key (formats.md 8.6): the keyring records, with the head and its data key, the
    /// digest of the recipients the log records there (BLAKE2b-256 of "avault/vault/recipients;",
    /// the vault id, ";" and the recipients joined by spaces, computed here by Python's hashlib).
    /// An edit of the log before that head is then found only by `verify`; a config whose
    /// recipients are not those is refused as before. (A keyring without the digest:
    /// `VaultRecipientsForgeryTests`.)
    @Test("a vault to recipients is read from the keyring's head on, with the recipients recorded there")
    func theLogIsReadFromTheKeyringsHeadOn() throws {
        let a = try Editor("a"), b = try Editor("b")
        let desk = try Desk()
        let v = ["--vault", desk.vault]
        #expect(try a.k.avault(["vault", "init", "--recipient", a.recipient, "--recipient", b.recipient] + v).code == 0)
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: desk.path("p")))
        for i in 1...4 { #expect(try a.k.avault(["vault", "put", "doc\(i)", desk.path("p")] + v).code == 0) }
        let id = try Self.vaultID(desk.vault)
        let ringFile = a.k.ring + "/keyring.avk"
        func record() throws -> [Substring] {
            let text = try String(contentsOfFile: ringFile, encoding: .utf8)
            return try #require(text.split(separator: "\n").first { $0.hasPrefix("vault: ") }).split(separator: " ")
        }
        func digest(_ recipients: [String]) throws -> String {
            let r = try CLI.run("python3", ["-c", "import hashlib, sys; print(hashlib.blake2b(sys.argv[1].encode(), digest_size=32).hexdigest())",
                                            "avault/vault/recipients;\(id);" + recipients.joined(separator: " ")])
            return r.out.trimmingCharacters(in: .newlines)
        }
        // vault: ID SEQ HASH LINE FIRST DATAKEY RECIPIENTS
        var words = try record()
        #expect(words.count == 8 && words[2] == "5" && words[4] == "5", "\(words)")
        #expect(String(words[7]) == (try digest([a.recipient, b.recipient])))

        // An edit between the first line and the head's: a get does not read it; verify does.
        let logPath = desk.vault + "/log"
        let original = try String(contentsOfFile: logPath, encoding: .utf8)
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[2] = lines[2].replacingOccurrences(of: "\"time\":\"2", with: "\"time\":\"1")
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: logPath))
        let get = try a.k.avault(["vault", "get", "doc4"] + v)
        #expect(get.code == 0 && get.out == "secret\n", "\(get.err)")
        let verify = try a.k.avault(["vault", "verify"] + v)
        #expect(verify.code == 1 && verify.err.contains("entry 4 does not follow entry 3"), "\(verify.err)")
        try Data(original.utf8).write(to: URL(fileURLWithPath: logPath))

        // A change of recipients: the record follows it.
        #expect(try a.k.avault(["vault", "recipients", "remove", b.recipient] + v).code == 0)
        words = try record()
        let onlyA = try digest([a.recipient])
        #expect(words.count == 8 && String(words[7]) == onlyA, "\(words)")
        #expect(try a.k.avault(["vault", "get", "doc1"] + v).out == "secret\n")

        // The config's recipients line put back to both (its data-key file is then not bound to
        // it): refused, whatever part of the log was read.
        let config = try String(contentsOfFile: desk.vault + "/config", encoding: .utf8)
        let both = config.replacingOccurrences(of: "recipients: \(a.recipient)\n", with: "recipients: \(a.recipient) \(b.recipient)\n")
        #expect(both != config)
        let r = try Self.withConfig(Data(both.utf8), in: desk.vault) { try a.k.avault(["vault", "get", "doc1"] + v) }
        #expect(r.code == 1 && r.out.isEmpty, "\(r.err)")
        try Self.withConfig(Data(config.utf8), in: desk.vault) {}

    }

    /// Someone who can write where a vault to recipients lives knows its recipients (they are
    /// public) and can put a vault of their own in its place, to them and to herself. The keyring
    /// knows which vault it used at that location and refuses the other one (exit 1, nothing
    /// stored) until the user runs `vault forget`; the vault is then named on first sight.
    @Test("a vault put in the place of one the keyring used is refused until 'vault forget', then named on first sight")
    func aReplacedVaultIsRefusedUntilForgotten() throws {
        let a = try Editor("a"), m = try Editor("mallory")
        let desk = try Desk()
        let v = ["--vault", desk.vault]
        let created = try a.k.avault(["vault", "init", "--recipient", a.recipient] + v)
        #expect(created.code == 0 && created.err.isEmpty, "\(created.err)")
        try Data("one\n".utf8).write(to: URL(fileURLWithPath: desk.path("p1")))
        let first = try a.k.avault(["vault", "put", "doc", desk.path("p1")] + v)
        #expect(first.code == 0 && first.err.isEmpty, "the maker's keyring has seen it: \(first.err)")
        let originalID = try Self.vaultID(desk.vault)

        // Mallory makes a vault to a's recipient and to herself, and puts it in its place.
        let forged = desk.path("forged")
        #expect(try m.k.avault(["vault", "init", "--recipient", a.recipient, "--recipient", m.recipient, "--vault", forged]).code == 0)
        let forgedID = try Self.vaultID(forged)
        #expect(try CLI.run("rm", ["-rf", desk.vault]).code == 0)
        #expect(try CLI.run("mv", [forged, desk.vault]).code == 0)
        try Data("two\n".utf8).write(to: URL(fileURLWithPath: desk.path("p2")))
        let put = try a.k.avault(["vault", "put", "doc2", desk.path("p2")] + v)
        #expect(put.code == 1 && put.out.isEmpty, "\(put.err)")
        #expect(put.err == "avault: the vault at \(desk.vault) is vault \(forgedID), but this keyring last used vault \(originalID) there: it was replaced\n"
                + "avault: hint: if it was re-created on purpose, check its id (the 'id:' line of its config) with whoever made it, "
                + "then run 'avault vault forget --vault \(desk.vault)'\n", "\(put.err)")
        let reached = try m.k.avault(["vault", "get", "doc2"] + v)
        #expect(reached.code == 2 && reached.err.contains("no object"), "nothing reached Mallory's vault: \(reached.err)")
        // Every command refuses it, those that need no passphrase and the key checks too, and
        // by another spelling of the same path.
        for command in [["vault", "log"], ["vault", "keys-in-use"], ["vault", "verify"], ["vault", "recipients", "list"],
                        ["keys", "delete", "a", "--yes"]] {
            let r = try a.k.avault(command + v)
            #expect(r.code == 1 && r.err.hasPrefix("avault: the vault at \(desk.vault) is vault \(forgedID), but"), "\(command): \(r.err)")
        }
        let spelled = try a.k.avault(["vault", "list", "--vault", desk.vault + "/./"])
        #expect(spelled.code == 1 && spelled.err.contains("is vault \(forgedID), but this keyring last used vault \(originalID) there"), "\(spelled.err)")

        // Told to forget, the keyring takes it as a vault never seen, and says so once.
        let forget = try a.k.avault(["vault", "forget"] + v)
        #expect(forget.code == 0 && forget.out == "forgot vault \(originalID) at \(desk.vault)\n", "\(forget.err)")
        let again = try a.k.avault(["vault", "put", "doc2", desk.path("p2")] + v)
        #expect(again.code == 0)
        #expect(again.err == "avault: warning: this keyring has not seen vault \(forgedID) before: check the id with whoever made the vault "
                + "(this keyring will refuse any other vault at \(desk.vault))\n", "\(again.err)")
        #expect(try a.k.avault(["vault", "get", "doc2"] + v).err.isEmpty)
        #expect(try a.k.avault(["vault", "forget", "--vault", desk.path("nowhere")]).out == "this keyring has no record of a vault at \(desk.path("nowhere"))\n")

        // Moved (or reached by another path), the vault is named again, as one seen elsewhere.
        let moved = desk.path("moved")
        #expect(try CLI.run("mv", [desk.vault, moved]).code == 0)
        let elsewhere = try a.k.avault(["vault", "get", "doc2", "--vault", moved])
        #expect(elsewhere.code == 0 && elsewhere.err == "avault: warning: this keyring has seen vault \(forgedID) elsewhere, not at \(moved): "
                + "check that it was moved or copied here (this keyring will refuse any other vault at \(moved))\n", "\(elsewhere.err)")
        // A copy to where the keyring used another vault takes its place: the copy is made here.
        #expect(try a.k.avault(["vault", "copy", "--vault", moved, "--to", desk.vault]).code == 0)
        #expect(try a.k.avault(["vault", "get", "doc2"] + v).err.isEmpty)
    }

    /// A command that only looks at a vault (the key checks of `keys retire` and `keys delete`)
    /// does not record it: a vault to recipients first met there is named by the next command
    /// that uses it.
    @Test("the key checks do not adopt a vault they meet for the first time")
    func keyChecksDoNotAdoptAVault() throws {
        let a = try Editor("a"), m = try Editor("mallory")
        let desk = try Desk()
        let v = ["--vault", desk.vault]
        #expect(try m.k.avault(["vault", "init", "--recipient", a.recipient, "--recipient", m.recipient] + v).code == 0)
        #expect(try a.k.avault(["keys", "rotate", "a"]).code == 0)
        let retire = try a.k.avault(["keys", "retire", "a", "--version", "1"] + v)
        #expect(retire.code == 2 && retire.err.contains("still"), "\(retire.err)")
        try Data("two\n".utf8).write(to: URL(fileURLWithPath: desk.path("p2")))
        let put = try a.k.avault(["vault", "put", "doc", desk.path("p2")] + v)
        #expect(put.code == 0 && put.err.contains("this keyring has not seen vault"), "\(put.err)")
    }

    /// `vault forget --expect ID` takes the vault whose id was checked with its maker, and only
    /// that one, with no first-sight warning.
    @Test("'vault forget --expect ID' pins the re-created vault's id at once")
    func forgetExpectingAnID() throws {
        let a = try Editor("a"), m = try Editor("mallory")
        let desk = try Desk()
        let v = ["--vault", desk.vault]
        #expect(try a.k.avault(["vault", "init", "--recipient", a.recipient] + v).code == 0)
        let originalID = try Self.vaultID(desk.vault)
        let remade = desk.path("remade")
        #expect(try m.k.avault(["vault", "init", "--recipient", a.recipient, "--vault", remade]).code == 0)
        let remadeID = try Self.vaultID(remade)
        #expect(try CLI.run("rm", ["-rf", desk.vault]).code == 0)
        #expect(try CLI.run("mv", [remade, desk.vault]).code == 0)

        let bad = try a.k.avault(["vault", "forget", "--expect", remadeID.uppercased()] + v)
        #expect(bad.code == 64 && bad.err.hasPrefix("avault: '\(remadeID.uppercased())' is not a vault id (32 lowercase hex digits)\n"), "\(bad.err)")
        // A secret pasted by mistake is not repeated; without a keyring, no keyring is made for it.
        let secret = try a.k.avault(["vault", "forget", "--expect", "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"] + v)
        #expect(secret.code == 64 && !secret.err.contains("AGE-SECRET-KEY-1QQQ"), "\(secret.err)")
        let nowhere = desk.path("no-keyring")
        let none = try a.k.avault(["vault", "forget", "--expect", remadeID, "--keyring", nowhere] + v, keyring: false)
        #expect(none.code == 2 && !FileManager.default.fileExists(atPath: nowhere + "/keyring.avk"), "\(none.err)")
        // Expecting another id than the one there: still refused.
        let wrong = try a.k.avault(["vault", "forget", "--expect", String(repeating: "ab", count: 16)] + v)
        #expect(wrong.code == 0 && wrong.out == "forgot vault \(originalID) at \(desk.vault)\n"
                + "this keyring now expects vault \(String(repeating: "ab", count: 16)) at \(desk.vault)\n", "\(wrong.out)")
        #expect(try a.k.avault(["vault", "list"] + v).code == 1)
        #expect(try a.k.avault(["vault", "forget", "--expect", remadeID] + v).code == 0)
        try Data("two\n".utf8).write(to: URL(fileURLWithPath: desk.path("p2")))
        let put = try a.k.avault(["vault", "put", "doc", desk.path("p2")] + v)
        #expect(put.code == 0 && put.err.isEmpty, "\(put.err)")
    }

    /// The id on a vault's config's `id:` line.
    static func vaultID(_ vault: String) throws -> String {
        String(try #require(try String(contentsOfFile: vault + "/config", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("id: ") }).dropFirst(4))
    }

    @Test("three editors: a shared .avault-recipients, each unseals with their own keyring; one removed, reseal and remove --rotate lock them out of every new version")
    func threeEditors() throws {
        let ana = try Editor("ana"), ben = try Editor("ben"), cy = try Editor("cy")
        let desk = try Desk()
        let v = ["--vault", desk.vault]
        let rules = desk.path(".avault-recipients")
        try CLI.write("# the desk\n\(ana.recipient)\n\(ben.recipient)\n\(cy.recipient)\n", to: URL(fileURLWithPath: rules), mode: 0o644)
        let record = "---\ntitle: \"Scoop\"\nwebUrl: \"https://example.org/scoop\"\nsource: a name\n---\nThe story.\n"
        try FileManager.default.createDirectory(atPath: desk.path("drafts"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let draft = desk.path("drafts/scoop.md")
        try CLI.write(record, to: URL(fileURLWithPath: draft), mode: 0o644)

        // Ana seals (no flag: the shared file); each editor unseals with their own keyring.
        #expect(try ana.k.avault(["seal", draft, "--field", "source"]).code == 0)
        let sealed = try String(contentsOfFile: draft, encoding: .utf8)
        for editor in [ana, ben, cy] {
            #expect(try editor.k.avault(["unseal", draft]).code == 0)
            #expect(try String(contentsOfFile: draft, encoding: .utf8) == record)
            try CLI.write(sealed, to: URL(fileURLWithPath: draft), mode: 0o644)
        }
        // The shared vault, to the same recipients; each reads.
        #expect(try ana.k.avault(["vault", "init", "--recipients-file", rules] + v).code == 0)
        #expect(try ben.k.avault(["vault", "import", draft] + v).code == 0)
        for editor in [ana, ben, cy] { #expect(try editor.k.avault(["vault", "get", "https://example.org/scoop"] + v).out == sealed) }

        // Cy leaves: the file loses the line, ben reseals, ana removes cy from the vault with --rotate.
        let cyKeptDraft = sealed
        try CLI.write("# the desk\n\(ana.recipient)\n\(ben.recipient)\n", to: URL(fileURLWithPath: rules), mode: 0o644)
        #expect(try ben.k.avault(["reseal", draft]).code == 0)
        #expect(try ana.k.avault(["vault", "recipients", "remove", cy.recipient, "--rotate"] + v).code == 0)

        // Every new version is out of cy's reach: the resealed draft, the vault's versions old and new.
        let resealed = try String(contentsOfFile: draft, encoding: .utf8)
        #expect(resealed != sealed)
        let cyUnseal = try cy.k.avault(["unseal", draft])
        #expect(cyUnseal.code == 1 && cyUnseal.err.contains("none of them an identity tried here"), "\(cyUnseal.err)")
        #expect(try String(contentsOfFile: draft, encoding: .utf8) == resealed)
        #expect(try ana.k.avault(["vault", "put", "https://example.org/scoop", draft] + v).code == 0)
        for version in ["1", "2"] {
            let r = try cy.k.avault(["vault", "get", "https://example.org/scoop", "--version", version] + v)
            #expect(r.code == 2 && r.stdout.isEmpty, "\(r.err)")
        }
        // Ana and ben still read everything.
        for editor in [ana, ben] {
            #expect(try editor.k.avault(["vault", "get", "https://example.org/scoop"] + v).out == resealed)
            #expect(try editor.k.avault(["vault", "get", "https://example.org/scoop", "--version", "1"] + v).out == sealed)
            #expect(try editor.k.avault(["unseal", draft]).code == 0)
            #expect(try String(contentsOfFile: draft, encoding: .utf8) == record)
            try CLI.write(resealed, to: URL(fileURLWithPath: draft), mode: 0o644)
        }
        // What cy kept before leaving still opens for cy: removal protects what comes after, as documented.
        let kept = desk.path("kept.md")
        try CLI.write(cyKeptDraft, to: URL(fileURLWithPath: kept), mode: 0o644)
        // (Moved to another path, same record and context: it is cy's old copy.)
        #expect(try cy.k.avault(["unseal", kept]).code == 0)
    }
}
