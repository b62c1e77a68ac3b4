import Foundation
import Testing

/// Runs every key command, successful and failing, and checks that no output ever holds a
/// secret key (hex, HEX or base64) or a passphrase.
@Suite struct KeysCLINoSecretInOutput {
    @Test func noCommandPrintsASecretOrAPassphrase() throws {
        try KeysFixture.requireMinisign()
        let f = try KeysFixture(passphrase: "leak-check-passphrase-1")
        // Unprotected keys live in a keyring of their own (a keyring with a passphrase takes none).
        let u = try KeysFixture(passphrase: "leak-check-passphrase-u")
        var secrets: [[UInt8]] = []

        // Raw keys imported (sealed).
        let v2Key = try f.keyFile("demo-v2.key"), aes256 = try f.keyFile("demo-aes256.key"), aes128 = try f.keyFile("demo-aes128.key")
        let otherKey = try f.keyFile("demo-other-v2.key")
        for file in [v2Key, aes256, aes128, otherKey] { secrets.append(try KeysFixture.rawKey(file: file)) }
        #expect(try f.avault(["keys", "import", "content", "--key-file", v2Key]).code == 0)
        #expect(try f.avault(["keys", "import", "legacy", "--key-file", aes256, "--legacy-aes-cbc", "--json"]).code == 0)
        #expect(try f.avault(["keys", "import", "legacy", "--key-file", aes128, "--legacy-aes-cbc"]).code == 0)
        // Unprotected keys (their secrets are in keyring.avk in the clear) and a rotation of one.
        #expect(try u.avault(["keys", "generate", "plain", "--secret", "--unprotected", "--json"]).code == 0)
        #expect(try u.avault(["keys", "rotate", "plain", "--json"]).code == 0)
        #expect(try u.avault(["keys", "import", "plainraw", "--key-file", otherKey, "--unprotected"]).code == 0)
        #expect(try f.avault(["keys", "import", "plainraw", "--key-file", otherKey, "--unprotected"]).code == 2)
        // Signing keys: generated, exported (seed taken from the unprotected export), rotated, exported again.
        #expect(try f.avault(["keys", "generate", "signer", "--signing"]).code == 0)
        let export1 = f.path("signer1.key"), export2 = f.path("signer2.key")
        #expect(try f.avault(["keys", "export-minisign", "signer", "-o", export1, "--unprotected"]).code == 0)
        #expect(try f.avault(["keys", "rotate", "signer"]).code == 0)
        #expect(try f.avault(["keys", "export-minisign", "signer", "-o", export2, "--unprotected"]).code == 0)
        #expect(try f.avault(["keys", "export-minisign", "signer", "-o", export2, "--unprotected"]).code == 2)
        #expect(try f.avault(["keys", "export-minisign", "signer", "-o", export2, "--unprotected", "--force"]).code == 0)
        secrets.append(try KeysFixture.minisignSeed(file: export1))
        secrets.append(try KeysFixture.minisignSeed(file: export2))
        // An unprotected minisign key made by minisign itself, imported sealed.
        let mkey = f.path("m.key"), mpub = f.path("m.pub")
        #expect(try CLI.run("minisign", ["-G", "-W", "-p", mpub, "-s", mkey]).code == 0)
        secrets.append(try KeysFixture.minisignSeed(file: mkey))
        #expect(try f.avault(["keys", "import-minisign", "minikey", "--secret", mkey, "--json"]).code == 0)
        #expect(try f.avault(["keys", "import-minisign", "minikey2", "--secret", mkey]).code == 2) // same key id again
        #expect(try f.avault(["keys", "export-public", "minikey"]).code == 0)
        #expect(try f.avault(["keys", "export-public", "signer", "-o", f.path("signer.pub")]).code == 0)
        #expect(try f.avault(["keys", "export-public", "content"]).code == 2) // not a signing key
        #expect(try f.avault(["keys", "export-minisign", "content", "-o", f.path("c.key"), "--unprotected"]).code == 2)

        let plain = try u.plainSecrets()
        #expect(plain.count == 3)
        #expect(try f.plainSecrets().isEmpty)
        secrets += plain

        // Listings.
        #expect(try f.avault(["keys", "list"]).code == 0)
        #expect(try f.avault(["keys", "list", "--json"]).code == 0)
        #expect(try f.avault(["keys", "list", "--verify"]).code == 0)
        #expect(try u.avault(["keys", "list", "--verify", "--json"]).code == 0)

        // Encrypt and decrypt, with the keyring and with key files, and failing variants.
        let blob = try f.encrypt("secret article text", key: "content")
        let plainBlob = try u.encrypt("plain key text", key: "plain")
        #expect(try f.avault(["secured", "decrypt", blob, "--key", "content", "--context", "ctx"]).code == 0)
        #expect(try u.avault(["secured", "decrypt", plainBlob, "--key", "plain", "--context", "ctx"]).code == 0)
        #expect(try f.avault(["secured", "decrypt", blob, "--key-file", v2Key, "--context", "ctx"]).code == 0)
        #expect(try f.avault(["secured", "decrypt", blob, "--key-file", otherKey, "--context", "ctx"]).code == 1)
        #expect(try f.avault(["secured", "decrypt", blob, "--key", "content", "--context", "wrong"]).code == 1)
        #expect(try u.avault(["secured", "decrypt", blob, "--key", "plain", "--context", "ctx"]).code == 2)
        #expect(try f.avault(["secured", "decrypt", blob, "--key", "legacy", "--context", "ctx"]).code == 2)
        #expect(try f.avault(["secured", "decrypt", blob, "--key", "content", "--context", "ctx"],
                             env: ["AVAULT_PASSPHRASE": "wrong-passphrase-xyz"]).code == 2)
        #expect(try f.avault(["secured", "decrypt", "--record", "Fixtures/records/demo-v1.md", "--key", "legacy", "--allow-unauthenticated-legacy"], cwd: CLI.repoRoot).code == 0)
        #expect(try f.avault(["secured", "decrypt", "--record", "Fixtures/seed/000_6e329c144f65a19c.txt", "--key", "legacy", "--allow-unauthenticated-legacy"], cwd: CLI.repoRoot).code == 1)
        #expect(try f.avault(["secured", "encrypt", "--key", "legacy", "--legacy-cbc"], stdin: Data("x".utf8)).code == 0)
        #expect(try f.avault(["secured", "encrypt", "--key-file", v2Key, "--context", "c"], stdin: Data("x".utf8)).code == 0)
        #expect(try f.avault(["secured", "encrypt", "--key-file", aes128], stdin: Data("x".utf8)).code != 0)
        #expect(try f.avault(["keys", "import", "bad", "--key-file", aes128]).code == 2)

        // Rotation and retirement, including refusals.
        #expect(try f.avault(["keys", "rotate", "content"]).code == 0)
        #expect(try f.avault(["keys", "retire", "content", "--version", "1"]).code == 0)
        #expect(try f.avault(["secured", "decrypt", blob, "--key", "content", "--context", "ctx"]).code == 2)
        #expect(try f.avault(["keys", "retire", "content", "--version", "2"]).code == 2)

        // Change the passphrase; the old one fails afterwards.
        #expect(try f.avault(["keys", "passwd"], env: ["AVAULT_NEW_PASSPHRASE": "leak-check-passphrase-2"]).code == 0)
        #expect(try f.avault(["keys", "passwd"], env: ["AVAULT_NEW_PASSPHRASE": "leak-check-passphrase-3"]).code == 2)
        f.passphrase = "leak-check-passphrase-2"
        #expect(try u.avault(["secured", "decrypt", plainBlob, "--key", "plain", "--context", "ctx"]).code == 0)
        #expect(try f.avault(["secured", "decrypt", blob, "--key", "content", "--context", "ctx"]).code == 2) // retired
        #expect(try f.avault(["keys", "export-minisign", "signer", "-o", f.path("signer3.key"), "--unprotected"]).code == 0)
        #expect(try f.avault(["keys", "upgrade"]).code == 2) // already version 2

        // Trust store commands with exported public keys.
        #expect(try f.avault(["keys", "trust", "add", f.path("signer.pub"), "--name", "Signer"]).code == 0)
        #expect(try f.avault(["keys", "trust", "list", "--json"]).code == 0)

        // A keyring whose plain secret is damaged: the parse error names the line, not the secret.
        let text = try String(contentsOfFile: u.keyringFile, encoding: .utf8)
        let damagedRing = f.path("damaged")
        try FileManager.default.createDirectory(atPath: damagedRing, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("secret: plain ") })
        let damagedText = text.replacingOccurrences(of: String(line), with: String(line.dropLast(5)) + "=")
        try CLI.write(damagedText, to: URL(fileURLWithPath: damagedRing + "/keyring.avk"), mode: 0o600)
        let damaged = try f.avault(["keys", "list", "--keyring", damagedRing], keyring: false)
        #expect(damaged.code == 2)
        #expect(damaged.err.contains("malformed keyring: line "), "\(damaged.err)")
        #expect(!damaged.err.contains(String(line.dropFirst("secret: plain ".count).dropLast(8))))

        // The checker looks for the right forms: they are found where the secrets are stored.
        let stored = try String(contentsOfFile: u.keyringFile, encoding: .utf8)
        for p in try u.plainSecrets() { #expect(stored.contains(KeysFixture.textForms(p)[2])) }
        #expect(try String(contentsOfFile: v2Key, encoding: .utf8).contains(KeysFixture.textForms(secrets[0])[0]))

        #expect(f.transcript.count + u.transcript.count > 40)
        #expect(secrets.count == 10)
        f.expectNoLeaks(of: secrets)
        u.expectNoLeaks(of: secrets)
    }
}

/// A key or passphrase pasted where its file's name goes: "no such file" named it, so the
/// secret landed on the terminal, in CI logs and in scripts' error files (a review).
@Suite struct PastedSecretNotEchoed {
    @Test func aSecretGivenAsAFileNameIsNotRepeated() throws {
        let f = try KeysFixture()
        let hexKey = String(repeating: "653f0a1b2c3d4e5f", count: 4)
        let ageKey = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
        let passphrase = "correct horse battery staple"
        let cases: [(args: [String], secret: String, stdin: Data)] = [
            (["secured", "encrypt", "--key-file", hexKey], hexKey, Data("draft".utf8)),
            (["age", "decrypt", "-i", ageKey, f.path("none.age")], ageKey, Data()),
            (["keys", "import", "k", "--key-file", hexKey, "--unprotected"], hexKey, Data()),
            (["keys", "list", "--verify", "--passphrase-file", passphrase], passphrase, Data()),
            // A base64 key with a '/' (a review of this change), a passphrase longer than a name
            // may be, and one of two lines.
            (["secured", "encrypt", "--key-file", "AbCdEfGh/IjKlMnOpQrStUvWxYz0123456789+AbCdE="], "IjKlMnOpQrStUvWxYz", Data("draft".utf8)),
            (["keys", "list", "--verify", "--passphrase-file", String(repeating: "correcthorse", count: 25)], "correcthorsecorrecthorse", Data()),
            (["keys", "list", "--verify", "--passphrase-file", "my\npass"], "my\npass", Data()),
        ]
        #expect(try f.avault(["keys", "generate", "seed", "--secret"]).code == 0)
        for (args, secret, stdin) in cases {
            let r = try f.avault(args, stdin: stdin)
            #expect(r.code == 2 && r.err.contains("not shown: it may be the secret itself"), "\(args): \(r.code) \(r.err)")
            #expect(!r.err.contains(secret) && !r.out.contains(secret), "\(args): \(r.err)")
        }
        // A name that looks like one is still shown.
        let named = try f.avault(["secured", "encrypt", "--key-file", "drafts.key"], stdin: Data("draft".utf8))
        #expect(named.code == 2 && named.err.contains("drafts.key: no such file"), "\(named.err)")
    }

    /// The argument parser repeated an argument it did not expect, and the unknown-command
    /// check the first word: a key pasted there went to the terminal and the logs (a review).
    /// Such an argument is named by its position; a plain one is still shown.
    @Test func anUnexpectedArgumentThatMayBeASecretIsNotRepeated() throws {
        let ageKey = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
        let hexKey = String(repeating: "653f0a1b2c3d4e5f", count: 4)
        let cases: [(args: [String], message: String)] = [
            (["keys", "list", ageKey], "avault: Unexpected argument #3 (not shown: it may be a secret)\n"),
            (["secured", "inspect", "a;b", "extra", hexKey], "avault: 2 unexpected arguments: 'extra', #5 (not shown: it may be a secret)\n"),
            ([ageKey, "list"], "avault: unknown command #1 (not shown: it may be a secret)\n"),
            (["keys", "list", "correct horse battery staple"], "avault: Unexpected argument #3 (not shown: it may be a secret)\n"),
        ]
        for (args, message) in cases {
            let r = try CLI.avault(args)
            #expect(r.code == 64 && r.err.hasPrefix(message), "\(args): \(r.code) \(r.err)")
            #expect(!r.err.contains(ageKey) && !r.err.contains(hexKey) && !r.err.contains("horse"), "\(args): \(r.err)")
        }
        #expect(try CLI.avault(["keys", "list", "extra"]).err.hasPrefix("avault: Unexpected argument 'extra'\n"))
        // A mistyped option is named, however long (it was hidden as a possible secret).
        let option = try CLI.avault(["verify", "--require-signatures", "."])
        #expect(option.code == 64 && option.err.hasPrefix("avault: Unknown option '--require-signatures'"), "\(option.err)")
    }
}
