import Foundation
import Testing

@Suite struct MannersCLI {
    @Test func versionPrintsTheProgramAndItsVersion() throws {
        let r = try CLI.avault(["--version"])
        #expect(r.code == 0)
        #expect(r.out.hasPrefix("avault "))
        #expect(r.out.split(separator: " ").last?.split(separator: ".").count == 3, "\(r.out)")
    }

    @Test func anUnknownCommandSuggestsTheNearest() throws {
        let r = try CLI.avault(["verfy", "site"])
        #expect(r.code == 64)
        #expect(r.err == "avault: unknown command 'verfy'\navault: hint: did you mean 'verify'?\n")
        let nested = try CLI.avault(["vault", "gte", "x"])
        #expect(nested.code == 64)
        #expect(nested.err == "avault: unknown command 'gte'\navault: hint: did you mean 'get'?\n")
        let far = try CLI.avault(["zzzzzz"])
        #expect(far.code == 64)
        #expect(far.err == "avault: unknown command 'zzzzzz'\navault: hint: see 'avault --help' for the commands\n")
        let help = try CLI.avault(["help", "nosuch"])
        #expect(help.code == 64)
        #expect(help.out.isEmpty)
        #expect(help.err.hasPrefix("avault: unknown command 'nosuch'\n"))
        let helpNested = try CLI.avault(["help", "keys", "trust", "lst"])
        #expect(helpNested.code == 64)
        #expect(helpNested.err == "avault: unknown command 'lst'\navault: hint: did you mean 'list'?\n")
        // Real commands and help still work.
        #expect(try CLI.avault(["help", "vault", "get"]).code == 0)
        #expect(try CLI.avault(["vault", "get", "--help"]).code == 0)
    }

    @Test func overwritingAnOutputNeedsForce() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try privateKey("demo-v2.key", in: dir)
        let blob = try CLI.avault(["secured", "encrypt", "--key-file", key, "--context", "c"], stdin: Data("new\n".utf8)).out
            .trimmingCharacters(in: .newlines)
        let out = dir.appendingPathComponent("out.txt")
        try CLI.write("old\n", to: out)
        let refused = try CLI.avault(["secured", "decrypt", blob, "--key-file", key, "--context", "c", "-o", out.path])
        #expect(refused.code == 2)
        #expect(refused.err == "avault: \(out.path): already exists\navault: hint: use --force to overwrite it\n")
        #expect(try String(contentsOf: out, encoding: .utf8) == "old\n")
        let forced = try CLI.avault(["secured", "decrypt", blob, "--key-file", key, "--context", "c", "-o", out.path, "--force"])
        #expect(forced.code == 0, "\(forced.err)")
        #expect(try String(contentsOf: out, encoding: .utf8) == "new\n")

        let v = try VaultFixture()
        try v.put("doc", Data("payload\n".utf8))
        for command in [["vault", "get", "doc"], ["vault", "export", "doc"]] {
            let target = v.path("existing")
            try CLI.write("old\n", to: URL(fileURLWithPath: target))
            let no = try v.avault(command + ["-o", target])
            #expect(no.code == 2, "\(command)")
            #expect(no.err.hasSuffix("already exists\navault: hint: use --force to overwrite it\n"), "\(no.err)")
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "old\n")
            let yes = try v.avault(command + ["-o", target, "--force"])
            #expect(yes.code == 0, "\(yes.err)")
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "payload\n")
        }

        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let file = try demo.record("notes.txt", "notes\n")
        #expect(try CLI.avault(["sign", "--detached", file, "--key", "demo-desk"] + demo.args).code == 0)
        let first = try String(contentsOfFile: file + ".minisig", encoding: .utf8)
        let again = try CLI.avault(["sign", "--detached", file, "--key", "demo-desk"] + demo.args)
        #expect(again.code == 2)
        #expect(again.err == "avault: \(file).minisig: already exists\navault: hint: use --force to overwrite it\n")
        #expect(try String(contentsOfFile: file + ".minisig", encoding: .utf8) == first)
        #expect(try CLI.avault(["sign", "--detached", file, "--key", "demo-desk", "--force"] + demo.args).code == 0)

        let record = try demo.copy("Fixtures/records/demo-v2.md", as: "r.md")
        #expect(try CLI.avault(["sign", record, "--key", "demo-desk"] + demo.args).code == 0)
        let exportDir = demo.dir.appendingPathComponent("export").path
        #expect(try CLI.avault(["sign", "--export-minisig", record, "-o", exportDir]).code == 0)
        let twice = try CLI.avault(["sign", "--export-minisig", record, "-o", exportDir])
        #expect(twice.code == 2)
        #expect(twice.err == "avault: \(exportDir)/r.md.canonical: already exists\navault: hint: use --force to overwrite it\n")
        #expect(try CLI.avault(["sign", "--export-minisig", record, "-o", exportDir, "--force"]).code == 0)
        // An embedded signature replaces the key's own entry: --force means nothing there.
        #expect(try CLI.avault(["sign", record, "--key", "demo-desk", "--force"] + demo.args).code == 64)
    }

    @Test func quietSilencesNotesAndProgressButNotErrors() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let v1 = try demo.copy("Fixtures/records/demo-v1.md", as: "v1.md")
        #expect(try CLI.avault(["sign", v1, "--key", "demo-desk"] + demo.args).code == 0)
        let loud = try CLI.avault(["secured", "decrypt", "--record", v1, "--key", "demo-legacy"] + demo.args)
        #expect(loud.code == 0, "\(loud.err)")
        #expect(loud.err.hasPrefix("avault: note: legacy v1 blob authenticated by the record's signature"))
        let quiet = try CLI.avault(["secured", "decrypt", "-q", "--record", v1, "--key", "demo-legacy"] + demo.args)
        #expect(quiet.code == 0)
        #expect(quiet.err.isEmpty)
        #expect(quiet.out == loud.out)

        let d = try demo.record("d.md", "---\ntitle: \"Draft\"\nwebUrl: \"https://example.org/d\"\n---\nText.\n")
        let sealed = try CLI.avault(["seal", "--quiet", d, "--key", "demo-content"] + demo.args)
        #expect(sealed.code == 0, "\(sealed.err)")
        #expect(sealed.out.isEmpty && sealed.err.isEmpty)
        // Errors are never silenced.
        let missing = try CLI.avault(["verify", "-q", demo.dir.appendingPathComponent("nope.md").path, "--keyring", demo.ring])
        #expect(missing.code == 2)
        #expect(missing.err.contains("no such file or directory"))
        // Progress goes to a terminal only, and -q keeps it off: nothing but the result appears.
        let audit = try avaultOnTerminal(["audit", "-q", demo.dir.path, "--keyring", demo.ring])
        #expect(audit.code == 0)
        #expect(!audit.screen.contains("auditing:"))
        #expect(audit.screen.hasPrefix("records: "))
    }

    @Test func importShowsProgressOnlyOnATerminal() throws {
        let v = try VaultFixture()
        let content = v.path("content")
        try FileManager.default.createDirectory(atPath: content, withIntermediateDirectories: true)
        for i in 0..<3 {
            try CLI.write("---\ntitle: \"R\(i)\"\nwebUrl: \"https://example.org/\(i)\"\n---\nbody \(i)\n",
                          to: URL(fileURLWithPath: content + "/r\(i).md"))
        }
        let piped = try v.avault(["vault", "import", content])
        #expect(piped.code == 0, "\(piped.err)")
        #expect(piped.err.isEmpty)
        #expect(piped.out.components(separatedBy: "\n").filter { $0.hasPrefix("stored ") }.count == 3)
    }
}
