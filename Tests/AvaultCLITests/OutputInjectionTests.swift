import Foundation
import Testing

/// Names that an adversary chooses (a file in a directory the gate walks, an object ID another
/// writer of a shared vault put) cannot forge lines of a text report, move the terminal's
/// cursor or reorder what is shown: line breaks, escape sequences and bidirectional controls in
/// them are shown as escapes, and such a name is quoted (as git quotes paths).
@Suite struct OutputInjectionTests {
    /// A file name that, printed raw, ends the report's line, forges a passing summary, then
    /// moves the cursor up and clears the real line.
    static let forged = "a: valid\n1 record: 1 passed, 0 failed\n\u{1B}[1A\u{1B}[2Kx.md"
    /// How it is shown: quoted, with escapes.
    static let shownForged = #"a: valid\n1 record: 1 passed, 0 failed\n\x1B[1A\x1B[2Kx.md""#

    static func lines(_ text: String) -> [Substring] { text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() }

    @Test func aFileNameCannotForgeTheVerifyOrAuditReport() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let site = demo.dir.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: false)
        try CLI.write("---\ntitle: forged\n---\nbody\n", to: site.appendingPathComponent(Self.forged), mode: 0o644)
        // A right-to-left override: "report\u{202E}dm.txt" would read as "reporttxt.md".
        try CLI.write("---\ntitle: bidi\n---\nbody\n", to: site.appendingPathComponent("report\u{202E}dm.txt"), mode: 0o644)
        // Characters that draw nothing, or look like a space: each of these names looked like
        // "index.md" or "ind ex.md" (reviews found the soft hyphen, the Mongolian vowel
        // separator, tag characters and the no-break and other spaces printed raw).
        let invisible: [Unicode.Scalar] = ["\u{AD}", "\u{180E}", "\u{E0069}", "\u{FE0F}", "\u{3164}", "\u{115F}", "\u{FFA0}", "\u{2029}", "\u{1D173}",
                                       "\u{A0}", "\u{2007}", "\u{205F}", "\u{3000}", "\u{2800}"]
        for s in invisible {
            try CLI.write("---\ntitle: invisible\n---\nbody\n", to: site.appendingPathComponent("ind\(s)ex.md"), mode: 0o644)
        }

        let v = try CLI.avault(["verify", "--require-signature", site.path, "--keyring", demo.ring])
        #expect(v.code == 1)
        #expect(!v.out.contains("\u{1B}") && !v.out.contains("\u{202E}"), "\(v.out.debugDescription)")
        let lines = Self.lines(v.out)
        #expect(lines.count == 3 + invisible.count, "\(v.out.debugDescription)")
        for s in invisible {
            let hex = String(s.value, radix: 16, uppercase: true)
            let shown = "\"\(site.path)/ind" + (s.value < 0x100 ? "\\x" + hex : "\\u{" + hex + "}") + "ex.md\": unsigned"
            #expect(lines.contains { $0.hasPrefix(shown) } && !v.out.unicodeScalars.contains(s), "\(shown) in \(v.out.debugDescription)")
        }
        #expect(lines.contains { $0 == "\"\(site.path)/\(Self.shownForged): unsigned: the record is not signed" }, "\(v.out.debugDescription)")
        #expect(lines.contains { $0.hasPrefix("\"\(site.path)/report\\u{202E}dm.txt\": unsigned") }, "\(v.out.debugDescription)")
        #expect(lines.last == "\(2 + invisible.count) records: 0 passed, \(2 + invisible.count) failed (unsigned \(2 + invisible.count))")

        let a = try CLI.avault(["audit", site.path, "--keyring", demo.ring])
        #expect(!a.out.contains("\u{1B}") && !a.out.contains("\u{202E}"), "\(a.out.debugDescription)")
        #expect(a.out.contains("  \"\(site.path)/\(Self.shownForged): "), "\(a.out.debugDescription)")

        // The HTML report shows them the same way.
        let html = demo.dir.appendingPathComponent("audit.html").path
        #expect(try CLI.avault(["audit", site.path, "--html", html, "--keyring", demo.ring]).code == 0)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(!page.contains("\u{1B}") && !page.contains("\u{202E}"))
        #expect(page.contains("report\\u{202E}dm.txt") && page.contains("x1B[2Kx.md"))
        #expect(page.contains("ind\\u{E0069}ex.md") && !invisible.contains { page.unicodeScalars.contains($0) })

        // JSON keeps the name as it is (its escapes are JSON's).
        let j = try CLI.avault(["verify", "--json", site.appendingPathComponent(Self.forged).path, "--keyring", demo.ring])
        let record = try #require(try JSONSerialization.jsonObject(with: Data(j.out.split(separator: "\n")[0].utf8)) as? [String: Any])
        #expect(record["path"] as? String == site.appendingPathComponent(Self.forged).path)
    }

    @Test func anErrorNamingSuchAFileStaysOneLine() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let missing = demo.dir.appendingPathComponent("gone\n\u{1B}[2Kok.md").path
        let c = try CLI.avault(["canonical", missing])
        #expect(c.code == 2)
        #expect(Self.lines(c.err).count == 1, "\(c.err.debugDescription)")
        #expect(c.err.hasPrefix("avault: \(demo.dir.path)/gone\\n\\x1B[2Kok.md: "), "\(c.err.debugDescription)")
    }

    @Test func anObjectIDCannotForgeVaultListings() throws {
        let f = try VaultFixture(store: .files)
        let id = "draft\n\u{1B}[2Kother-draft  versions 9"
        let put = try f.avault(["vault", "put", "--", id, "-"], stdin: Data("text\n".utf8))
        #expect(put.code == 0, "\(put.err)")
        #expect(put.out == #"stored "draft\n\x1B[2Kother-draft  versions 9" version 1 (5 bytes)"# + "\n")
        #expect(try f.put("plain", Data("x\n".utf8)) == 1)
        let list = try f.avault(["vault", "list"])
        #expect(list.code == 0, "\(list.err)")
        let lines = Self.lines(list.out)
        #expect(lines.count == 2, "\(list.out.debugDescription)")
        #expect(lines[0].hasPrefix(#""draft\n\x1B[2Kother-draft  versions 9"  versions 1  5 bytes"#), "\(list.out.debugDescription)")
        #expect(lines[1].hasPrefix("plain  versions 1"), "\(list.out.debugDescription)")
        // The ID itself is unchanged: it reads back under its own name.
        #expect(try f.get(id).stdout == Data("text\n".utf8))
        // A content type another writer chose, in the history.
        #expect(try f.put("typed", Data("x\n".utf8), extra: ["--content-type", "text/plain\n\u{1B}[2Kversion 9"]) == 1)
        let history = try f.avault(["vault", "history", "typed"])
        #expect(history.code == 0, "\(history.err)")
        #expect(Self.lines(history.out).count == 1 && history.out.hasSuffix(#"  text/plain\n\x1B[2Kversion 9"# + "\n"), "\(history.out.debugDescription)")
    }

    /// A hint's command, pasted into a shell, acts on the name it gives and does nothing more,
    /// whatever quotes and shell syntax the name holds.
    @Test func aHintsCommandRunsOnTheNameAndNothingMore() throws {
        let f = try VaultFixture(store: .files)
        let marker = f.path("pwned")
        // Pasted as the old hint gave it, the first ran `touch`; the second holds quotes.
        for id in ["gone$(touch \(marker))", "it's \"$(touch \(marker))\" \\"] {
            #expect(try f.put(id, Data("first\n".utf8)) == 1)
            #expect(try f.avault(["vault", "rm", "--", id]).code == 0)
            let refused = try f.get(id)
            #expect(refused.code != 0)
            let prefix = "avault: hint: its history is kept: "
            let line = try #require(refused.err.split(separator: "\n").first { $0.hasPrefix(prefix) }, "\(refused.err)")
            // The hint ends with the command, which nothing quotes: pasted, it is what runs.
            var command = String(line.dropFirst(prefix.count))
            #expect(command.hasPrefix("avault vault get --version N -- "), "\(command)")
            command = "\"$AVAULT\"" + command.dropFirst("avault".count).replacingOccurrences(of: "--version N", with: "--version 1")
            var env = f.environment
            env["AVAULT"] = CLI.avaultPath
            let run = try CLI.run("/bin/sh", ["-c", command], env: env)
            #expect(run.code == 0, "\(command): \(run.err)")
            #expect(run.out == "first\n")
            #expect(!FileManager.default.fileExists(atPath: marker), "the hint ran: touch")
        }
    }

    /// The hints of `keys retire` and `keys delete` for an identity a vault still needs name
    /// the vault's path, which a directory someone else named can hold: pasted, each hint's
    /// command gives `avault` that path as one word, and runs nothing of it.
    @Test func theRecipientHintsQuoteTheVaultsPath() throws {
        let me = try Editor("me")
        let desk = try VaultRecipientsCLITests.Desk()
        let vault = desk.path("v$(touch pwned) x")
        let v = ["--vault", vault]
        #expect(try me.k.avault(["vault", "init", "--recipient", me.recipient] + v).code == 0)
        #expect(try me.k.avault(["keys", "rotate", "me"]).code == 0)
        for command in [["keys", "retire", "me", "--version", "1"], ["keys", "delete", "me", "--version", "1", "--yes"]] {
            let refused = try me.k.avault(command + v)
            #expect(refused.code == 2, "\(refused.err)")
            let hint = try #require(refused.err.split(separator: "\n").first { $0.hasPrefix("avault: hint: ") }, "\(refused.err)")
            let pasted = try #require(hint.range(of: ": avault ", options: .backwards).map { String(hint[$0.upperBound...]) }, "\(hint)")
            // The words the shell gives avault, printed one a line instead.
            let words = try CLI.run("/bin/sh", ["-c", "printf '%s\\n' " + pasted], cwd: desk.dir)
            #expect(words.code == 0, "\(pasted): \(words.err)")
            #expect(words.out == ["vault", "recipients", "remove", me.recipient, "--vault", vault].map { $0 + "\n" }.joined(), "\(pasted)")
            #expect(!FileManager.default.fileExists(atPath: desk.path("pwned")), "the hint of \(command[1]) ran: touch")
        }
    }
}
