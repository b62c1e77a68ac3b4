import Foundation
import Testing
import VaultFormat

/// Found by an attack review: avault signed, and accepted, `.minisig` files stock minisign
/// refuses: a trusted comment longer than minisign reads (`Trusted comment too long`), and an
/// untrusted comment longer than it reads (`Untrusted signature comment too long`). The limits
/// (``Minisign/trustedCommentLimit``, ``Minisign/untrustedCommentLimit``)
/// were measured with minisign 0.11; here the real `minisign -V` checks both sides of each.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/minisign"), "needs minisign"))
struct MinisignCommentLimitTests {
    func fixture() throws -> (KeysFixture, String) {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "desk", "--signing"]).code == 0)
        let pub = f.path("desk.pub")
        #expect(try f.avault(["keys", "export-public", "desk", "-o", pub]).code == 0)
        #expect(try f.avault(["keys", "trust", "add", pub, "--name", "Desk"]).code == 0)
        return (f, pub)
    }

    func minisignAccepts(_ file: String, _ pub: String) throws -> Bool {
        try CLI.run("/usr/bin/minisign", ["-V", "-m", file, "-p", pub]).code == 0
    }

    @Test func noTrustedCommentLongerThanMinisignReadsIsSigned() throws {
        let (f, pub) = try fixture()
        let file = f.path("f.txt")
        try CLI.write("content\n", to: URL(fileURLWithPath: file), mode: 0o644)
        // `timestamp:<10 digits>` and a TAB before the text: 21 bytes.
        let longest = String(repeating: "x", count: Minisign.trustedCommentLimit - 21)
        let signed = try f.avault(["sign", "--detached", file, "--key", "desk", "--trusted-comment", longest])
        #expect(signed.code == 0, "\(signed.err)")
        #expect(try minisignAccepts(file, pub))
        #expect(try f.avault(["verify", "--detached", file]).code == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: file + ".minisig"))
        let tooLong = try f.avault(["sign", "--detached", file, "--key", "desk", "--force", "--trusted-comment", longest + "x"])
        #expect(tooLong.code == 64 && tooLong.err.hasPrefix(
            "avault: the trusted comment would be \(Minisign.trustedCommentLimit + 1) bytes, more than minisign reads (\(Minisign.trustedCommentLimit))\n"),
                "\(tooLong.code) \(tooLong.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file + ".minisig")) == before)
        // Embedded: the record is not touched.
        let record = f.path("r.md")
        try CLI.write("---\ntitle: t\n---\nbody\n", to: URL(fileURLWithPath: record), mode: 0o644)
        let embedded = try f.avault(["sign", record, "--key", "desk", "--trusted-comment", longest])
        #expect(embedded.code == 64 && embedded.err.contains("more than minisign reads"), "\(embedded.code) \(embedded.err)")
        #expect(try String(contentsOfFile: record, encoding: .utf8) == "---\ntitle: t\n---\nbody\n")
    }

    @Test func aMinisigWhoseCommentsMinisignDoesNotReadIsMalformed() throws {
        let (f, pub) = try fixture()
        let file = f.path("g.txt")
        try CLI.write("content\n", to: URL(fileURLWithPath: file), mode: 0o644)
        #expect(try f.avault(["sign", "--detached", file, "--key", "desk"]).code == 0)
        let lines = try String(contentsOfFile: file + ".minisig", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        for (length, accepted) in [(Minisign.untrustedCommentLimit, true), (Minisign.untrustedCommentLimit + 1, false)] {
            let text = (["untrusted comment: " + String(repeating: "A", count: length)] + lines.dropFirst()).joined(separator: "\n")
            try CLI.write(text, to: URL(fileURLWithPath: file + ".minisig"), mode: 0o644)
            #expect(try minisignAccepts(file, pub) == accepted, "\(length)")
            let r = try f.avault(["verify", "--detached", file])
            #expect((r.code == 0) == accepted, "\(length): \(r.code) \(r.out)\(r.err)")
            if !accepted { #expect(r.err.contains("the untrusted comment is longer than minisign reads (\(Minisign.untrustedCommentLimit) bytes)"), "\(r.err)") }
        }
    }
}

/// Found by an attack review: a genuine minisign signature whose trusted comment is not UTF-8
/// (minisign takes any bytes) was read as text with U+FFFD in place of the bytes, and then
/// reported as `the trusted comment … was altered`, which it was not. It is now malformed,
/// saying why; still refused (fail closed).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/minisign"), "needs minisign"))
struct MinisignNonUTF8CommentTests {
    @Test func aSignatureWhoseCommentIsNotUTF8IsMalformedNotAltered() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "desk", "--signing", "--unprotected"]).code == 0)
        let pub = f.path("desk.pub"), sec = f.path("desk.sec")
        #expect(try f.avault(["keys", "export-public", "desk", "-o", pub]).code == 0)
        #expect(try f.avault(["keys", "trust", "add", pub, "--name", "Desk"]).code == 0)
        #expect(try f.avault(["keys", "export-minisign", "desk", "-o", sec, "--unprotected"]).code == 0)
        let file = f.path("a.txt")
        try CLI.write("hi\n", to: URL(fileURLWithPath: file), mode: 0o644)
        // The comment's bytes go through a shell's printf: argv holds any bytes, a Swift String does not.
        let signed = try CLI.run("/bin/sh", ["-c", #"minisign -S -s "$1" -m "$2" -t "$(printf 'timestamp:1700000000\tcaf\377')" </dev/null"#, "sh", sec, file])
        #expect(signed.code == 0, "\(signed.err)")
        #expect(try CLI.run("/usr/bin/minisign", ["-V", "-m", file, "-p", pub]).code == 0)
        let r = try f.avault(["verify", "--detached", file])
        #expect(r.code == 1 && r.err.contains("is not UTF-8") && !r.err.contains("altered"), "\(r.code) \(r.out)\(r.err)")
    }
}
