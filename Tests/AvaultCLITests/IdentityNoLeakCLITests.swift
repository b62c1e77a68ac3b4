import Foundation
import Testing

/// No downgrade (issue 13, item 5): an identity's secret leaves the keyring unsealed only through
/// `keys export-age`. Every other command that touches an identity — listing, recipients, the
/// exports meant for other kinds, the sealed backup, age files, sealed drafts, rename and
/// rotation — is run, and no output and no file but export-age's holds the secret in any form.
@Suite struct IdentityNoLeakCLITests {
    /// The 32 bytes of an `AGE-SECRET-KEY-1…` identity (Bech32 data without its checksum).
    static func secret(ofIdentity text: String) throws -> [UInt8] {
        let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l")
        let data = Array(text.lowercased().dropFirst("age-secret-key-1".count).dropLast(6))
        var bits = 0, value = 0
        var out: [UInt8] = []
        for c in data {
            value = (value << 5) | (try #require(charset.firstIndex(of: c)))
            bits += 5
            if bits >= 8 { bits -= 8; out.append(UInt8((value >> bits) & 0xFF)) }
        }
        try #require(out.count == 32)
        return out
    }

    @Test func anIdentitySecretLeavesOnlyThroughExportAge() throws {
        let f = try KeysFixture(passphrase: "identity-leak-pass-1")
        let keyFile = f.path("k.txt")
        let recipient = try AgeCLITests.keygen(keyFile)
        let identityLine = try #require(try String(contentsOfFile: keyFile, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-1") })
        var secrets = [try Self.secret(ofIdentity: String(identityLine))]
        var needles = [String(identityLine), identityLine.lowercased()]
        #expect(try f.avault(["keys", "import-age", "ed", "--identity", keyFile]).code == 0)
        #expect(try f.avault(["keys", "generate", "gen", "--identity", "--json"]).code == 0)
        #expect(try f.avault(["keys", "rotate", "gen"]).code == 0)

        // What may show: the recipients, the list; what is refused: exports meant for other kinds.
        #expect(try f.avault(["keys", "export-recipient", "ed"]).out == recipient + "\n")
        #expect(try f.avault(["keys", "list", "--verify", "--json"]).code == 0)
        #expect(try f.avault(["keys", "list"]).code == 0)
        #expect(try f.avault(["keys", "export-public", "ed"]).code == 2)
        #expect(try f.avault(["keys", "export-public", "ed", "-o", f.path("ed.pub")]).code == 2)
        #expect(try f.avault(["keys", "export-minisign", "ed", "-o", f.path("ed.key"), "--unprotected"]).code == 2)
        #expect(try f.avault(["secured", "encrypt", "--key", "ed"], stdin: Data("x".utf8)).code == 2)
        // The sealed backup holds every version, sealed under the export passphrase.
        let backup = f.path("ed.export")
        #expect(try f.avault(["keys", "export", "ed", "-o", backup], env: ["AVAULT_EXPORT_PASSPHRASE": "export-pass-123"]).code == 0)
        // Using the identity: age files and sealed drafts.
        #expect(try f.avault(["age", "encrypt", "-r", recipient, "-o", f.path("m.age")], stdin: Data("msg".utf8), keyring: false).code == 0)
        #expect(try f.avault(["age", "decrypt", "--key", "ed", f.path("m.age")]).out == "msg")
        try CLI.write("---\ntitle: t\n---\nbody\n", to: URL(fileURLWithPath: f.path("d.md")), mode: 0o644)
        #expect(try f.avault(["seal", f.path("d.md"), "--recipient", recipient]).code == 0)
        #expect(try f.avault(["unseal", f.path("d.md")]).code == 0)
        #expect(try f.avault(["keys", "rename", "ed", "editor"]).code == 0)

        // The identity given by mistake where a recipient belongs: refused without repeating it
        // (standard error ends up in logs).
        for args in [["age", "encrypt", "-r", String(identityLine)], ["seal", f.path("d.md"), "--recipient", String(identityLine)],
                     ["vault", "init", "--vault", f.path("v"), "--recipient", String(identityLine)],
                     ["vault", "init", "--vault", f.path("v"), "--recipient", try String(contentsOfFile: keyFile, encoding: .utf8)]] {
            let r = try f.avault(args, keyring: args[0] != "age")
            #expect(r.code == 2, "\(args[0]): \(r.err)")
            #expect(r.err.hasPrefix("avault: an age identity (a secret key) was given where a recipient (age1…) belongs; it is not repeated here\n"),
                    "\(args[0])")
        }

        // The one way out.
        let exported = f.path("exported.txt")
        #expect(try f.avault(["keys", "export-age", "gen", "-o", exported]).code == 0)
        let genLine = try #require(try String(contentsOfFile: exported, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-1") })
        secrets.append(try Self.secret(ofIdentity: String(genLine)))
        needles += [String(genLine), genLine.lowercased()]

        // No output held a secret; no file but the identity files themselves does.
        f.expectNoLeaks(of: secrets)
        for (args, r) in f.transcript {
            for needle in needles where (r.out + r.err).contains(needle) { Issue.record("avault \(args) printed an identity") }
        }
        let all = needles + secrets.flatMap(KeysFixture.textForms)
        let files = try FileManager.default.subpathsOfDirectory(atPath: f.dir.path)
        var scanned = 0
        for name in files where name != "k.txt" && name != "exported.txt" {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: f.path(name), isDirectory: &isDirectory), !isDirectory.boolValue,
                  let data = FileManager.default.contents(atPath: f.path(name)) else { continue }
            scanned += 1
            let text = String(decoding: data, as: UTF8.self)
            for needle in all where text.contains(needle) { Issue.record("\(name) holds an identity secret") }
            for secret in secrets where data.range(of: Data(secret)) != nil { Issue.record("\(name) holds an identity secret's bytes") }
        }
        #expect(scanned >= 5, "\(files)")
    }

    /// Found by a review: `keys import-age` quoted the `# public key:` comment that does not
    /// match the identity, whatever it held: a comment holding an identity printed that secret.
    /// It is quoted only when it is a recipient (public).
    @Test func aPublicKeyCommentIsQuotedOnlyWhenItIsARecipient() throws {
        let f = try KeysFixture()
        let recipient = try AgeCLITests.keygen(f.path("k.txt"))
        let other = try AgeCLITests.keygen(f.path("other.txt"))
        func identity(_ file: String) throws -> String {
            try #require(try String(contentsOfFile: f.path(file), encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-1") }).description
        }
        let mine = try identity("k.txt"), secret = try identity("other.txt")
        for (n, comment) in [secret, secret.lowercased(), "  " + secret, "not a key at all"].enumerated() {
            let file = f.path("comment-\(n).txt")
            try CLI.write("# public key: \(comment)\n\(mine)\n", to: URL(fileURLWithPath: file))
            let r = try f.avault(["keys", "import-age", "ed\(n)", "--identity", file])
            #expect(r.code == 2, "\(r.err)")
            #expect(r.err.hasPrefix("avault: \(file): its '# public key:' comment is not an age recipient (age1…), so not its identity's (\(recipient)); it is not repeated here\n"),
                    "\(r.err)")
            #expect(!r.err.contains(secret) && !r.err.contains(secret.lowercased()) && !r.err.contains(comment), "\(n): the comment was quoted")
        }
        // Another recipient is public, and quoted.
        let file = f.path("recipient.txt")
        try CLI.write("# public key: \(other)\r\n\(mine)\n", to: URL(fileURLWithPath: file))
        let r = try f.avault(["keys", "import-age", "ed", "--identity", file])
        #expect(r.code == 2 && r.err.hasPrefix("avault: \(file): its '# public key:' comment (\(other)) is not its identity's recipient (\(recipient))\n"),
                "\(r.err)")
        // Its own recipient, as age-keygen writes it.
        #expect(try f.avault(["keys", "import-age", "ed", "--identity", f.path("k.txt")]).code == 0)
    }
}
