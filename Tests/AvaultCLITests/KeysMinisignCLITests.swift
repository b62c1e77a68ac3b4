import Foundation
import Testing

/// Interoperability with the real `minisign` (0.11) binary, which must be on PATH.
@Suite struct KeysCLIMinisignInterop {
    @Test func anUnprotectedMinisignKeyImportsAndExportsItsPublicKeyByteForByte() throws {
        try KeysFixture.requireMinisign()
        let f = try KeysFixture()
        let pub = f.path("X.pub"), key = f.path("X.key")
        let g = try CLI.run("minisign", ["-G", "-W", "-p", pub, "-s", key])
        try #require(g.code == 0, "minisign -G -W failed: \(g.err)")
        let minisignPub = try Data(contentsOf: URL(fileURLWithPath: pub))

        let imported = try f.json(["keys", "import-minisign", "mx", "--secret", key])
        #expect(imported["kind"] as? String == "signing")
        #expect(imported["algorithm"] as? String == "ed25519")
        #expect(imported["protected"] as? Bool == true)
        let pubText = String(decoding: minisignPub, as: UTF8.self)
        let lines = pubText.split(separator: "\n")
        #expect(lines.first == "untrusted comment: minisign public key \(minisignIDText(imported["keyId"] as? String ?? "?"))")
        #expect(imported["publicKey"] as? String == lines.last.map(String.init))

        let exported = try f.avault(["keys", "export-public", "mx"])
        #expect(exported.code == 0)
        #expect(exported.stdout == minisignPub)
        #expect(exported.err.isEmpty)
        let file = f.path("exported.pub")
        #expect(try f.avault(["keys", "export-public", "mx", "-o", file]).code == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == minisignPub)
        #expect(try KeysFixture.mode(file) == 0o644)
        // -o refuses to overwrite without --force.
        let again = try f.avault(["keys", "export-public", "mx", "-o", file])
        #expect(again.code == 2)
        #expect(try f.avault(["keys", "export-public", "mx", "-o", file, "--force"]).code == 0)

        // A signature made by minisign with its own key verifies against avault's export.
        let msg = f.path("msg.txt")
        try CLI.write("signed by minisign\n", to: URL(fileURLWithPath: msg), mode: 0o644)
        #expect(try CLI.run("minisign", ["-S", "-s", key, "-m", msg]).code == 0)
        #expect(try CLI.run("minisign", ["-V", "-p", file, "-m", msg]).code == 0)

        // Re-exported unprotected from avault, the key signs exactly like the original.
        let back = f.path("back.key")
        #expect(try f.avault(["keys", "export-minisign", "mx", "-o", back, "--unprotected"]).code == 0)
        #expect(try KeysFixture.minisignSeed(file: back) == KeysFixture.minisignSeed(file: key))
        f.expectNoLeaks(of: [try KeysFixture.minisignSeed(file: key)])
    }

    @Test func aPasswordProtectedMinisignKeyImportsWithItsPassword() throws {
        try KeysFixture.requireMinisign()
        let f = try KeysFixture()
        let pub = f.path("P.pub"), key = f.path("P.key")
        let g = try CLI.run("minisign", ["-G", "-p", pub, "-s", key], stdin: Data("minisign-pw-42\nminisign-pw-42\n".utf8))
        try #require(g.code == 0, "minisign -G failed: \(g.err)")

        let wrong = try f.avault(["keys", "import-minisign", "mp", "--secret", key],
                                 env: ["AVAULT_MINISIGN_PASSPHRASE": "not-the-minisign-pw"])
        #expect(wrong.code == 2)
        #expect(wrong.stdout.isEmpty)
        #expect(wrong.err.contains("avault: wrong passphrase"), "\(wrong.err)")
        #expect(wrong.err.contains("AVAULT_MINISIGN_PASSPHRASE"))
        #expect(!FileManager.default.fileExists(atPath: f.keyringFile))

        let ok = try f.avault(["keys", "import-minisign", "mp", "--secret", key], env: ["AVAULT_MINISIGN_PASSPHRASE": "minisign-pw-42"])
        #expect(ok.code == 0, "\(ok.err)")
        #expect(ok.out.hasPrefix("imported signing key 'mp' version 1 (ed25519, id "))
        let exported = try f.avault(["keys", "export-public", "mp"])
        #expect(exported.code == 0)
        #expect(exported.stdout == (try Data(contentsOf: URL(fileURLWithPath: pub))))
        f.expectNoLeaks(of: [])
    }

    @Test func anAvaultSigningKeyExportedUnprotectedSignsWithMinisign() throws {
        try KeysFixture.requireMinisign()
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "S", "--signing"]).code == 0)
        let sk = f.path("S.key"), pk = f.path("S.pub"), msg = f.path("msg.txt")
        let e = try f.avault(["keys", "export-minisign", "S", "-o", sk, "--unprotected"])
        #expect(e.code == 0, "\(e.err)")
        #expect(e.out.hasPrefix("wrote signing key 'S' version 1"))
        #expect(try KeysFixture.mode(sk) == 0o600)
        #expect(try f.avault(["keys", "export-public", "S", "-o", pk]).code == 0)
        try CLI.write("an article to sign\n", to: URL(fileURLWithPath: msg), mode: 0o644)

        let sign = try CLI.run("minisign", ["-S", "-s", sk, "-m", msg, "-x", msg + ".minisig"])
        #expect(sign.code == 0, "minisign -S: \(sign.err)")
        let verify = try CLI.run("minisign", ["-V", "-p", pk, "-m", msg, "-x", msg + ".minisig"])
        #expect(verify.code == 0, "minisign -V: \(verify.err)")
        #expect(verify.out.contains("Signature and comment signature verified"))
        // A changed message does not verify.
        try CLI.write("an article to sign, altered\n", to: URL(fileURLWithPath: msg), mode: 0o644)
        #expect(try CLI.run("minisign", ["-V", "-p", pk, "-m", msg, "-x", msg + ".minisig"]).code != 0)

        // The exported key imports back into another keyring with the same id and public key.
        let g = try KeysFixture()
        let back = try g.json(["keys", "import-minisign", "S", "--secret", sk])
        #expect(back["keyId"] as? String == (try f.listed("S", 1)["keyId"] as? String))
        #expect(try g.avault(["keys", "export-public", "S"]).stdout == (try Data(contentsOf: URL(fileURLWithPath: pk))))

        // export-minisign never overwrites without --force; the refused file stays as it was.
        let before = try Data(contentsOf: URL(fileURLWithPath: sk))
        let refused = try f.avault(["keys", "export-minisign", "S", "-o", sk, "--unprotected"])
        #expect(refused.code == 2)
        #expect(refused.stdout.isEmpty)
        #expect(refused.err.contains("already exists"), "\(refused.err)")
        #expect(refused.err.contains("--force"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: sk)) == before)
        // With --force a rotated key replaces it, still mode 600.
        #expect(try f.avault(["keys", "rotate", "S"]).code == 0)
        #expect(try f.avault(["keys", "export-minisign", "S", "-o", sk, "--unprotected", "--force"]).code == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: sk)) != before)
        #expect(try KeysFixture.mode(sk) == 0o600)
        // Not a signing key.
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        let notSigning = try f.avault(["keys", "export-minisign", "c", "-o", f.path("c.key"), "--unprotected"])
        #expect(notSigning.code == 2)
        #expect(notSigning.err.contains("not a signing key"))
        #expect(!FileManager.default.fileExists(atPath: f.path("c.key")))

        f.expectNoLeaks(of: [try KeysFixture.minisignSeed(file: sk)])
        g.expectNoLeaks(of: [try KeysFixture.minisignSeed(file: sk)])
    }

    @Test func anAvaultSigningKeyExportedWithAPasswordSignsWithMinisign() throws {
        try KeysFixture.requireMinisign()
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "S", "--signing"]).code == 0)
        let sk = f.path("S.key"), pk = f.path("S.pub"), msg = f.path("msg.txt")
        let e = try f.avault(["keys", "export-minisign", "S", "-o", sk], env: ["AVAULT_MINISIGN_PASSPHRASE": "export-pw-77"])
        #expect(e.code == 0, "\(e.err)")
        #expect(try KeysFixture.mode(sk) == 0o600)
        let raw = [UInt8](try #require(Data(base64Encoded: String(try String(contentsOfFile: sk, encoding: .utf8).split(separator: "\n")[1]))))
        #expect(Array(raw[0..<6]) == Array("EdScB2".utf8))
        #expect(try f.avault(["keys", "export-public", "S", "-o", pk]).code == 0)
        try CLI.write("signed with a protected key\n", to: URL(fileURLWithPath: msg), mode: 0o644)
        let sign = try CLI.run("minisign", ["-S", "-s", sk, "-m", msg, "-x", msg + ".minisig"], stdin: Data("export-pw-77\n".utf8))
        #expect(sign.code == 0, "minisign -S: \(sign.err)")
        let verify = try CLI.run("minisign", ["-V", "-p", pk, "-m", msg, "-x", msg + ".minisig"])
        #expect(verify.code == 0, "minisign -V: \(verify.err)")
        f.expectNoLeaks(of: [])
    }
}
