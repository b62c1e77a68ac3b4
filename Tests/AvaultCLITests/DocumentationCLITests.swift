import Foundation
import Testing

/// Help that ships with the binary: an example in every command's help, no pointer at files
/// of the repository, and shell completions that complete files and key names.
@Suite struct DocumentationCLITests {
    /// Every command and group, with its help text, from the parser's own description.
    private func commands() throws -> [(path: String, text: String)] {
        let r = try CLI.avault(["--experimental-dump-help"])
        #expect(r.code == 0, "\(r.err)")
        let root = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        var out: [(String, String)] = []
        func walk(_ command: [String: Any], _ path: [String]) {
            let name = command["commandName"] as? String ?? "?"
            let here = path + [name]
            var text = [command["abstract"], command["discussion"]].compactMap { $0 as? String }
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                text += [argument["abstract"], argument["discussion"]].compactMap { $0 as? String }
            }
            if name != "help" { out.append((here.joined(separator: " "), text.joined(separator: "\n"))) }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { walk(sub, here) }
        }
        walk(try #require(root["command"] as? [String: Any]), [])
        return out
    }

    @Test func everyCommandsHelpHasAnExampleOfItself() throws {
        let all = try commands()
        #expect(all.count >= 40, "\(all.map(\.path))")
        for (path, text) in all {
            // A group's example may show one of its commands; a command's shows itself.
            let example = text.split(separator: "\n").first { $0.hasPrefix("Example: ") }
            #expect(example?.hasPrefix("Example: " + path) == true, "\(path): \(example ?? "no example")")
        }
        let verify = try CLI.avault(["verify", "--help"])
        #expect(verify.out.contains("Example: avault verify --require-signature site/"))
    }

    @Test func helpNeverPointsAtRepositoryFiles() throws {
        for (path, text) in try commands() {
            for word in ["docs/", "README", "cli.md", "formats.md", "architecture.md"] {
                #expect(!text.contains(word), "\(path) mentions \(word)")
            }
        }
    }

    @Test func completionScriptsAreGeneratedForBashZshAndFish() throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try CLI.avault(["--generate-completion-script", shell])
            #expect(r.code == 0, "\(shell): \(r.err)")
            // Key names come from avault itself, at completion time.
            #expect(r.out.contains("---completion"), "\(shell)")
        }
    }

    /// Runs the bash completion function for the words of a command line ending in `current`
    /// (the word being completed), as bash's programmable completion would, and returns
    /// COMPREPLY.
    private func bashComplete(_ words: [String], current: String, cwd: URL, env: [String: String] = [:]) throws -> [String] {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("avault.bash")
        try Data(try CLI.avault(["--generate-completion-script", "bash"]).stdout).write(to: script)
        let all = [CLI.avaultPath] + words + [current]
        func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let line = (["avault"] + words + [current]).joined(separator: " ")
        let program = """
            source \(quote(script.path))
            COMP_WORDS=(\(all.map(quote).joined(separator: " ")))
            COMP_CWORD=\(all.count - 1)
            COMP_LINE=\(quote(line))
            COMP_POINT=${#COMP_LINE}
            COMPREPLY=()
            _avault avault \(quote(current)) \(quote(words.last ?? "avault"))
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let unset = env["AVAULT_KEYRING"] == nil ? ["-u", "AVAULT_KEYRING"] : []
        let r = try CLI.run("/usr/bin/env", unset + ["bash", "--norc", "--noprofile", "-c", program], cwd: cwd, env: env)
        #expect(r.code == 0, "\(r.err)")
        return r.out.split(separator: "\n").map(String.init)
    }

    @Test func bashCompletesFileNamesWhereFilesGo() throws {
        // Before, `avault verify Fix<TAB>` offered nothing (the paths had no completion kind).
        let reply = try bashComplete(["verify"], current: "Fix", cwd: CLI.repoRoot)
        #expect(reply == ["Fixtures"], "\(reply)") // bash adds the slash (complete -o filenames)
        let record = try bashComplete(["secured", "inspect", "--record"], current: "Fixtures/records/demo-v", cwd: CLI.repoRoot)
        #expect(Set(record) == ["Fixtures/records/demo-v1.md", "Fixtures/records/demo-v2.md"], "\(record)")
        let keyring = try bashComplete(["sign", "--keyring"], current: "key", cwd: CLI.repoRoot)
        #expect(keyring == ["keys"], "\(keyring)")
    }

    @Test func bashCompletesKeyNamesFromTheKeyringWithoutThePassphrase() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "kt-desk", "--signing"]).code == 0)
        #expect(try f.avault(["keys", "generate", "kt-content", "--secret"]).code == 0)
        #expect(try f.avault(["keys", "generate", "kt-other", "--secret"]).code == 0)

        // --keyring on the line; only signing keys for `sign --key`.
        let sign = try bashComplete(["sign", "--keyring", f.ring, "--key"], current: "", cwd: f.dir)
        #expect(sign == ["kt-desk"], "\(sign)")
        // AVAULT_KEYRING, and the prefix typed so far.
        let rotate = try bashComplete(["keys", "rotate"], current: "kt-", cwd: f.dir, env: ["AVAULT_KEYRING": f.ring])
        #expect(rotate == ["kt-content", "kt-desk", "kt-other"], "\(rotate)")
        let content = try bashComplete(["secured", "decrypt", "--key"], current: "kt-c", cwd: f.dir, env: ["AVAULT_KEYRING": f.ring])
        #expect(content == ["kt-content"], "\(content)")
        // No keyring there: no names, and no error on the terminal.
        let none = try bashComplete(["sign", "--keyring", f.path("nothing-here"), "--key"], current: "", cwd: f.dir)
        #expect(none.isEmpty, "\(none)")
    }
}
