import Foundation
import Testing

private let keysUniformFailure = "avault: decryption failed: wrong key, wrong context, or tampered data"
private let keysSeedRecord = "Fixtures/seed/000_6e329c144f65a19c.txt"

@Suite struct KeysCLIBasics {
    @Test func generateEachKindAndListAsTextAndJSON() throws {
        let f = try KeysFixture()
        let c = try f.avault(["keys", "generate", "content", "--secret"])
        #expect(c.code == 0, "\(c.err)")
        #expect(c.out.hasPrefix("generated content key 'content' version 1 (xchacha20poly1305, id "))
        #expect(c.err.isEmpty)
        let s = try f.avault(["keys", "generate", "signer", "--signing"])
        #expect(s.code == 0, "\(s.err)")
        #expect(s.out.hasPrefix("generated signing key 'signer' version 1 (ed25519, id "))
        // Unprotected keys live in a keyring without passphrase (a keyring with one takes none).
        let g = try KeysFixture()
        let u = try g.avault(["keys", "generate", "throwaway", "--secret", "--unprotected"])
        #expect(u.code == 0, "\(u.err)")
        #expect(u.out.contains(", UNPROTECTED)"))
        #expect(u.err.contains("avault: warning: the secret of 'throwaway' is stored unprotected"))

        // Directory 700, file 600.
        #expect(try KeysFixture.mode(f.ring) == 0o700)
        #expect(try KeysFixture.mode(f.keyringFile) == 0o600)

        // Text listing.
        let text = try f.avault(["keys", "list"], env: ["AVAULT_PASSPHRASE": nil])
        #expect(text.code == 0, "list needs no passphrase: \(text.err)")
        let lines = text.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines.first?.hasPrefix("NAME") == true)
        #expect(lines.first?.contains("STATUS") == true)
        #expect(lines.contains { $0.hasPrefix("content ") && $0.contains("content (xchacha20poly1305)") && $0.hasSuffix("current") })
        #expect(lines.contains { $0.hasPrefix("signer ") && $0.contains("signing (ed25519)") && $0.hasSuffix("current") })
        #expect(lines.last?.hasPrefix("(not verified: listed without the passphrase") == true, "\(text.out)")
        let unprotectedLines = try g.avault(["keys", "list"], env: ["AVAULT_PASSPHRASE": nil]).out.split(separator: "\n")
        #expect(unprotectedLines.contains { $0.hasPrefix("throwaway ") && $0.hasSuffix("current, UNPROTECTED") })
        #expect(unprotectedLines.last?.hasPrefix("(cannot be verified") == true)

        // JSON listing.
        let object = try f.json(["keys", "list"], env: ["AVAULT_PASSPHRASE": nil])
        #expect(object["keyring"] as? String == f.ring)
        #expect(object["protected"] as? Bool == true)
        #expect(object["verified"] as? Bool == false)
        var keys = try #require(object["keys"] as? [[String: Any]])
        #expect(keys.map { $0["name"] as? String } == ["content", "signer"])
        let unprotectedObject = try g.json(["keys", "list"], env: ["AVAULT_PASSPHRASE": nil])
        #expect(unprotectedObject["protected"] as? Bool == false)
        #expect(unprotectedObject["verified"] as? Bool == false)
        keys += try #require(unprotectedObject["keys"] as? [[String: Any]])
        for k in keys {
            #expect(k["version"] as? Int == 1)
            #expect(k["status"] as? String == "active")
            #expect(k["retired"] is NSNull)
            #expect(k["current"] as? Bool == true)
            let created = try #require(k["created"] as? String)
            #expect(created.count == 20 && created.hasSuffix("Z") && created.dropFirst(10).hasPrefix("T"))
            let id = try #require(k["keyId"] as? String)
            #expect(id.count == 16)
        }
        let content = keys[0], signer = keys[1], throwaway = keys[2]
        #expect(content["kind"] as? String == "content")
        #expect(content["algorithm"] as? String == "xchacha20poly1305")
        #expect(content["protected"] as? Bool == true)
        #expect(content["publicKey"] == nil)
        #expect((content["keyId"] as? String).map { $0 == $0.lowercased() && $0.allSatisfy(\.isHexDigit) } == true)
        #expect(c.out.contains("id \(content["keyId"] as? String ?? "?")"))
        #expect(signer["kind"] as? String == "signing")
        #expect(signer["algorithm"] as? String == "ed25519")
        #expect(signer["protected"] as? Bool == true)
        let signerID = try #require(signer["keyId"] as? String)
        #expect(signerID == signerID.uppercased() && signerID.allSatisfy(\.isHexDigit))
        // publicKey is minisign's base64 line: "Ed" ‖ key id (little-endian of the printed id) ‖ 32 bytes.
        let pkLine = try #require(signer["publicKey"] as? String)
        let pk = [UInt8](try #require(Data(base64Encoded: pkLine)))
        #expect(pk.count == 42)
        #expect(Array(pk[0..<2]) == Array("Ed".utf8))
        #expect(CLI.hex(pk[2..<10].reversed()).uppercased() == signerID)
        #expect(throwaway["protected"] as? Bool == false)
        #expect(throwaway["kind"] as? String == "content")

        // export-public agrees with the listed publicKey.
        let pub = try f.avault(["keys", "export-public", "signer"])
        #expect(pub.code == 0)
        // minisign's comment prints the id without leading zeros (%PRIX64).
        #expect(pub.out == "untrusted comment: minisign public key \(minisignIDText(signerID))\n\(pkLine)\n")

        // The JSON for generate --json matches list.
        let second = try f.json(["keys", "generate", "second", "--secret"])
        #expect(second["name"] as? String == "second")
        #expect(second["current"] as? Bool == true)
        #expect(try f.listed("second", 1)["keyId"] as? String == second["keyId"] as? String)

        f.expectNoLeaks(of: try g.plainSecrets())
        g.expectNoLeaks(of: try g.plainSecrets())
    }

    @Test func anEmptyKeyringListsAsEmpty() throws {
        let f = try KeysFixture()
        let r = try f.avault(["keys", "list"])
        #expect(r.code == 0)
        #expect(r.out == "no keys in \(f.ring)\n")
        let object = try f.json(["keys", "list"])
        #expect((object["keys"] as? [Any])?.isEmpty == true)
        f.expectNoLeaks(of: [])
    }

    @Test func aGroupReadableKeyringFileIsRefused() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "k", "--secret"]).code == 0)
        try KeysFixture.chmod(f.keyringFile, 0o640)
        for args in [["keys", "list"], ["keys", "generate", "other", "--secret"], ["keys", "rotate", "k"]] {
            let r = try f.avault(args)
            #expect(r.code == 2, "\(args)")
            #expect(r.stdout.isEmpty)
            #expect(r.err.contains("avault: hint: chmod 600"), "\(r.err)")
            #expect(r.err.contains("keyring.avk"))
        }
        try KeysFixture.chmod(f.keyringFile, 0o600)
        #expect(try f.avault(["keys", "list"]).code == 0)
        f.expectNoLeaks(of: [])
    }

    @Test func aKeyringDirectoryOthersCanReadIsRefused() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "k", "--secret"]).code == 0)
        try KeysFixture.chmod(f.ring, 0o755)
        for args in [["keys", "list"], ["keys", "generate", "other", "--secret"]] {
            let r = try f.avault(args)
            #expect(r.code == 2, "\(args)")
            #expect(r.stdout.isEmpty)
            #expect(r.err.contains("avault: hint: chmod 700"), "\(r.err)")
        }
        try KeysFixture.chmod(f.ring, 0o700)
        #expect(try f.avault(["keys", "list"]).code == 0)
        f.expectNoLeaks(of: [])
    }

    @Test func generatingAnExistingNameIsRefusedAndPointsAtRotate() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "k", "--secret"]).code == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: f.keyringFile))
        for kind in ["--secret", "--signing"] {
            let r = try f.avault(["keys", "generate", "k", kind])
            #expect(r.code == 2)
            #expect(r.err.contains("avault: key 'k' already exists"), "\(r.err)")
            #expect(r.err.contains("avault: hint:") && r.err.contains("rotate"))
            #expect(r.stdout.isEmpty)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.keyringFile)) == before)
        f.expectNoLeaks(of: [])
    }

    @Test(arguments: [".hidden", "a b", "x/y", "semi;colon", "é", String(repeating: "n", count: 65), "tab\tname"])
    func invalidNamesAreRefused(name: String) throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "ok", "--secret", "--unprotected"]).code == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: f.keyringFile))
        let r = try f.avault(["keys", "generate", name, "--secret"])
        #expect(r.code == 64) // a name given on the command line that is not one: a usage error
        #expect(r.err.contains("invalid key name"), "\(r.err)")
        #expect(r.err.contains("avault: hint: use 1 to 64 letters"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.keyringFile)) == before)
        // The longest valid name is accepted.
        let longest = String(repeating: "n", count: 64)
        #expect(try f.avault(["keys", "generate", longest, "--secret", "--unprotected"]).code == 0)
        f.expectNoLeaks(of: try f.plainSecrets())
    }
}

@Suite struct KeysCLIPassphrase {
    @Test func roundTripWithTheKeyringAndAWrongPassphrase() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "k", "--secret"]).code == 0)
        let blob = try f.encrypt("hello keyring\n", key: "k")
        #expect(blob.hasPrefix("v2;"))
        let ok = try f.avault(["secured", "decrypt", blob, "--key", "k", "--context", "ctx"])
        #expect(ok.code == 0)
        #expect(ok.out == "hello keyring\n")
        #expect(ok.err.isEmpty)

        let wrong = try f.avault(["secured", "decrypt", blob, "--key", "k", "--context", "ctx"],
                                 env: ["AVAULT_PASSPHRASE": "not-the-passphrase"])
        #expect(wrong.code == 2)
        #expect(wrong.stdout.isEmpty)
        #expect(wrong.err.contains("avault: wrong passphrase"), "\(wrong.err)")
        #expect(wrong.err.contains("AVAULT_PASSPHRASE"))
        // Encrypting needs the secret too.
        let wrongEnc = try f.avault(["secured", "encrypt", "--key", "k"], env: ["AVAULT_PASSPHRASE": "not-the-passphrase"],
                                    stdin: Data("x".utf8))
        #expect(wrongEnc.code == 2)
        #expect(wrongEnc.stdout.isEmpty)
        #expect(wrongEnc.err.contains("wrong passphrase"))
        // Adding a sealed key under a wrong passphrase changes nothing.
        let before = try Data(contentsOf: URL(fileURLWithPath: f.keyringFile))
        let wrongGen = try f.avault(["keys", "generate", "k2", "--secret"], env: ["AVAULT_PASSPHRASE": "not-the-passphrase"])
        #expect(wrongGen.code == 2)
        #expect(wrongGen.err.contains("wrong passphrase"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.keyringFile)) == before)
        f.expectNoLeaks(of: [])
    }

    @Test func passphraseFileIsUsedAndALooseModeIsRefused() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "k", "--secret"]).code == 0)
        let blob = try f.encrypt("via file", key: "k")
        let file = f.path("pass.txt")
        try CLI.write(f.passphrase + "\n", to: URL(fileURLWithPath: file), mode: 0o600)
        // The file wins over a wrong AVAULT_PASSPHRASE.
        let ok = try f.avault(["secured", "decrypt", blob, "--key", "k", "--context", "ctx", "--passphrase-file", file],
                              env: ["AVAULT_PASSPHRASE": "wrong-env-passphrase"])
        #expect(ok.code == 0, "\(ok.err)")
        #expect(ok.out == "via file")
        for mode in [0o640, 0o644, 0o604] {
            try KeysFixture.chmod(file, mode)
            let r = try f.avault(["secured", "decrypt", blob, "--key", "k", "--context", "ctx", "--passphrase-file", file])
            #expect(r.code == 2)
            #expect(r.stdout.isEmpty)
            #expect(r.err.contains("accessible by group or others"), "\(r.err)")
            #expect(r.err.contains("avault: hint: chmod 600"))
        }
        f.expectNoLeaks(of: [])
    }

    /// A passphrase typed at the prompt is the whole line typed: not cut to a buffer of 1,024
    /// bytes (it was: the keyring then opened with its first 1,024 bytes alone). A line that
    /// fills the terminal's line buffer (4,095 bytes; what is typed past it is dropped) may have
    /// been cut, and is refused.
    @Test func aTypedPassphraseIsNeverCut() throws {
        let f = try KeysFixture()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        func passphrase(_ count: Int) -> String { String((0..<count).map { alphabet[($0 * 7 + $0 / 36) % alphabet.count] }) }
        let noAgent = ["AVAULT_AGENT_SOCK": ""]
        for (count, name) in [(1100, "t1"), (4094, "t2")] {
            let typed = passphrase(count)
            let ring = f.path("ring-\(count)")
            let made = try avaultAnsweringPrompts(["keys", "generate", name, "--secret", "--keyring", ring], lines: [typed, typed], env: noAgent)
            #expect(made.code == 0, "\(count): \(made.screen)")
            let file = f.path("pass-\(count)")
            try CLI.write(typed + "\n", to: URL(fileURLWithPath: file), mode: 0o600)
            let opened = try f.avault(["keys", "list", "--verify", "--keyring", ring, "--passphrase-file", file],
                                      env: ["AVAULT_PASSPHRASE": nil], keyring: false)
            #expect(opened.code == 0 && opened.out.contains(name), "\(count): \(opened.err)")
            // Its first 1,024 bytes are another passphrase.
            try CLI.write(String(typed.prefix(1024)) + "\n", to: URL(fileURLWithPath: file), mode: 0o600)
            let cut = try f.avault(["keys", "list", "--verify", "--keyring", ring, "--passphrase-file", file],
                                   env: ["AVAULT_PASSPHRASE": nil], keyring: false)
            #expect(cut.code == 2 && cut.err.contains("wrong passphrase"), "\(count): \(cut.err)")
            // Opening it at the prompt takes the same whole line.
            let typedAgain = try avaultAnsweringPrompts(["keys", "list", "--verify", "--keyring", ring], lines: [typed], env: noAgent)
            #expect(typedAgain.code == 0, "\(count): \(typedAgain.screen)")
        }
        for count in [4095, 5000] {
            let typed = passphrase(count)
            let ring = f.path("ring-\(count)")
            let refused = try avaultAnsweringPrompts(["keys", "generate", "t", "--secret", "--keyring", ring], lines: [typed, typed], env: noAgent)
            #expect(refused.code == 2, "\(count): \(refused.screen)")
            #expect(refused.screen.contains("avault: the keyring passphrase typed fills a terminal line (4095 bytes)"), "\(count): \(refused.screen)")
            #expect(refused.screen.contains("avault: hint: put it in a file (mode 600) and give --passphrase-file FILE, or set AVAULT_PASSPHRASE"),
                    "\(refused.screen)")
            #expect(!refused.screen.contains("(again)"), "\(refused.screen)")
            #expect(!FileManager.default.fileExists(atPath: ring + "/keyring.avk"))
        }
    }

    /// A terminal left in non-canonical mode with `VMIN=0` and `VTIME=0` (a program that set
    /// it raw and did not put it back) makes `read` return 0 whenever nothing is typed yet. The
    /// prompt took that 0 as the end of the passphrase: it read whatever had been typed when
    /// it caught up (at once, nothing: an empty passphrase, refused; typed while it was
    /// reading, the part typed so far) and, when both prompts were cut at the same point, took
    /// the cut passphrase. It now reads in canonical mode with echo off (Enter, which a raw
    /// terminal does not turn into a newline, ends the line), and puts the terminal back as it
    /// was. Each passphrase here is typed in two parts, half a second apart, after its prompt.
    @Test func aPromptOnARawTerminalWithVMINZeroReadsTheWholePassphrase() throws {
        let f = try KeysFixture()
        let typed = "correct horse battery staple 42"
        let ring = f.path("raw-ring")
        let script = """
            import json, os, pty, select, subprocess, sys, termios, time, tty
            env = {k: v for k, v in os.environ.items() if not k.startswith("AVAULT_")}
            env.update(json.loads(sys.argv[1]))
            pid, fd = pty.fork()
            if pid == 0:
                tty.setraw(0)
                attrs = termios.tcgetattr(0)
                attrs[6][termios.VMIN] = 0
                attrs[6][termios.VTIME] = 0
                termios.tcsetattr(0, termios.TCSANOW, attrs)
                before = termios.tcgetattr(0)
                code = subprocess.call(sys.argv[3:], env=env)
                after = termios.tcgetattr(0)
                os.write(1, b"[termios " + (b"restored" if after == before else b"changed") + b"]")
                os._exit(code)
            \(ptyReader)
            typed, line = 0, sys.argv[2].encode()
            for prompt in range(2):
                deadline = time.time() + 20
                while not ended and time.time() < deadline and not out[typed:].endswith(b": "):
                    read(0.1)
                if ended:
                    break
                typed = len(out)
                os.write(fd, line[:10])
                time.sleep(0.5)
                os.write(fd, line[10:] + b"\\r")
            while not ended:
                read(1)
            _, status = os.waitpid(pid, 0)
            sys.stdout.buffer.write(out)
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        let r = try CLI.run("python3", ["-c", script, "{\"AVAULT_AGENT_SOCK\": \"\"}", typed, CLI.avaultPath,
                                        "keys", "generate", "k", "--secret", "--keyring", ring])
        #expect(r.code == 0, "\(r.out)")
        #expect(r.out.contains("keyring passphrase (again): "), "\(r.out)")
        #expect(!r.out.contains("is empty") && !r.out.contains("differ"), "\(r.out)")
        #expect(!r.out.contains(String(typed.prefix(10))), "the passphrase was echoed: \(r.out)")
        #expect(r.out.hasSuffix("[termios restored]"), "\(r.out)")
        // The keyring opens with the whole passphrase, and not with the part typed first.
        try #require(FileManager.default.fileExists(atPath: ring + "/keyring.avk"), "no keyring was made")
        let file = f.path("raw-pass")
        for (passphrase, opens) in [(typed, true), (String(typed.prefix(10)), false)] {
            try CLI.write(passphrase + "\n", to: URL(fileURLWithPath: file), mode: 0o600)
            let opened = try f.avault(["keys", "list", "--verify", "--keyring", ring, "--passphrase-file", file],
                                      env: ["AVAULT_PASSPHRASE": nil], keyring: false)
            #expect(opens ? opened.code == 0 : opened.code == 2 && opened.err.contains("wrong passphrase"), "\(passphrase): \(opened.code) \(opened.err)")
        }
    }

    /// A passphrase prompt under job control, on a pseudo-terminal: the script's child plays the
    /// shell (avault in a process group of its own, in the foreground), and `keys generate` is
    /// interrupted at its first prompt after "xyz" is typed, by Ctrl-C, Ctrl-\ or Ctrl-Z;
    /// `ignored` names the signal the "shell" starts avault with set to be ignored (as `nohup`
    /// does); with `background`, avault stopped is continued in the background first (`bg`,
    /// with `stty tostop`), then in the foreground once it stops there. The screen, then
    /// `[stopped, termios …]` each time avault stopped, `[code N]` and `[termios restored|changed]`.
    func promptInterrupted(by key: String, raw: Bool = false, background: Bool = false, ignored: String? = nil, passphrase: String,
                           ring: String) throws -> String {
        let script = """
            import json, os, pty, select, signal, subprocess, sys, termios, time, tty
            env = {k: v for k, v in os.environ.items() if not k.startswith("AVAULT_")}
            env.update(json.loads(sys.argv[1]))
            ignored = sys.argv[4]
            pid, fd = pty.fork()
            if pid == 0:
                signal.signal(signal.SIGTTOU, signal.SIG_IGN)
                if sys.argv[3] == "raw":
                    tty.setraw(0)
                before = termios.tcgetattr(0)
                def start():
                    # As a shell starts it: no signal blocked (the test runner blocks most).
                    signal.pthread_sigmask(signal.SIG_SETMASK, [])
                    os.setpgrp()
                    os.tcsetpgrp(0, os.getpgrp())
                    for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP, signal.SIGTTOU):
                        signal.signal(s, signal.SIG_IGN if s.name == ignored else signal.SIG_DFL)
                p = subprocess.Popen(sys.argv[5:], env=env, preexec_fn=start)
                stops = 0
                while True:
                    _, status = os.waitpid(p.pid, os.WUNTRACED)
                    if not os.WIFSTOPPED(status) or stops > 5:
                        break
                    stops += 1
                    mid = termios.tcgetattr(0)
                    os.write(1, b"[stopped, termios " + (b"restored" if mid == before else b"changed") + b"]")
                    attrs = termios.tcgetattr(0)
                    if sys.argv[3] == "bg" and stops == 1:
                        attrs[3] |= termios.TOSTOP
                        termios.tcsetattr(0, termios.TCSANOW, attrs)
                        os.tcsetpgrp(0, os.getpgrp())
                    else:
                        attrs[3] &= ~termios.TOSTOP
                        termios.tcsetattr(0, termios.TCSANOW, attrs)
                        os.tcsetpgrp(0, p.pid)
                    os.killpg(p.pid, signal.SIGCONT)
                os.tcsetpgrp(0, os.getpgrp())
                after = termios.tcgetattr(0)
                os.write(1, b"[code %d][termios " % os.waitstatus_to_exitcode(status) + (b"restored" if after == before else b"changed") + b"]")
                os._exit(0)
            \(ptyReader)
            def await_prompt(start):
                deadline = time.time() + 20
                while not ended and time.time() < deadline and not out[start:].endswith(b": "):
                    read(0.1)
            await_prompt(0)
            os.write(fd, b"xyz")
            time.sleep(0.3)
            os.write(fd, sys.argv[2].encode())
            seen = len(out)
            deadline = time.time() + 3
            while not ended and time.time() < deadline and b"[" not in out[seen:] and b": " not in out[seen:]:
                read(0.1)
            # Once avault goes on (it ignored the signal, or was continued), answer both prompts.
            pending = out.endswith(b": ")
            for answer in range(2):
                if not pending:
                    await_prompt(len(out))
                    if ended or not out.endswith(b": "):
                        break
                os.write(fd, json.loads(sys.argv[1])["PASS"].encode() + b"\\r")
                pending = False
            deadline = time.time() + 20
            while not ended and time.time() < deadline:
                read(0.5)
            if not ended:
                os.killpg(pid, signal.SIGKILL) # no hang
            os.waitpid(pid, 0)
            sys.stdout.buffer.write(out)
            """
        let env = "{\"AVAULT_AGENT_SOCK\": \"\", \"PASS\": \"\(passphrase)\"}"
        return try CLI.run("python3", ["-c", script, env, key, raw ? "raw" : background ? "bg" : "cooked", ignored ?? "", CLI.avaultPath,
                                      "keys", "generate", "k", "--secret", "--keyring", ring]).out
    }

    /// Ctrl-C (or Ctrl-\) at a passphrase prompt ended avault with the terminal's echo still
    /// off, and the shell then showed nothing typed; on a terminal left raw (ISIG off) it was
    /// read as a byte of the passphrase. The prompt turns ISIG on, and a signal that ends
    /// avault there puts the terminal back first, then ends it as it would have.
    @Test(arguments: [("\u{3}", false, -2), ("\u{3}", true, -2), ("\u{1C}", false, -3)])
    func anInterruptAtAPromptPutsTheTerminalBack(key: String, raw: Bool, code: Int) throws {
        let f = try KeysFixture()
        let out = try promptInterrupted(by: key, raw: raw, passphrase: "not typed", ring: f.path("ring"))
        #expect(out.contains("keyring passphrase: "), "\(out)")
        #expect(out.contains("[code \(code)]"), "ended by the signal: \(out)")
        #expect(out.hasSuffix("[termios restored]"), "\(out)")
        #expect(!out.contains("xyz"), "echoed: \(out)")
        #expect(!FileManager.default.fileExists(atPath: f.path("ring") + "/keyring.avk"))
    }

    /// Ctrl-Z at a prompt stopped avault with echo off (bash puts its own settings back, and
    /// avault continued with whatever they were, echo on). It now puts the terminal back before
    /// it stops, and once continued asks again from the start, with echo off: what was typed
    /// before the stop ("xyz": no key id, hex, can hold it) is not part of the passphrase.
    @Test func ctrlZAtAPromptStopsAndAsksAgainWhenContinued() throws {
        let f = try KeysFixture()
        let ring = f.path("ring")
        let out = try promptInterrupted(by: "\u{1A}", passphrase: f.passphrase, ring: ring)
        #expect(out.contains("[stopped, termios restored]"), "\(out)")
        #expect(out.contains("[code 0][termios restored]"), "\(out)")
        #expect(out.components(separatedBy: "keyring passphrase: ").count == 3, "asked again once continued: \(out)")
        #expect(!out.contains("xyz") && !out.contains(f.passphrase), "echoed: \(out)")
        let file = f.path("pass")
        try CLI.write(f.passphrase + "\n", to: URL(fileURLWithPath: file), mode: 0o600)
        let opened = try f.avault(["keys", "list", "--verify", "--keyring", ring, "--passphrase-file", file], env: ["AVAULT_PASSPHRASE": nil], keyring: false)
        #expect(opened.code == 0, "\(opened.err)")
    }

    /// Found by a review: continued in the background (`bg`, with `stty tostop`), avault stopped
    /// on its SIGTTOU as it should, but once brought back (`fg`) it stopped a second time: the
    /// line break after the prompt was written after the handlers were removed. It stops once,
    /// then asks again.
    @Test func continuedInTheBackgroundAPromptStopsOnceThenAsksInTheForeground() throws {
        let f = try KeysFixture()
        let out = try promptInterrupted(by: "\u{1A}", background: true, passphrase: f.passphrase, ring: f.path("ring"))
        #expect(out.components(separatedBy: "[stopped").count == 3, "stopped by Ctrl-Z, then in the background only: \(out)")
        #expect(out.contains("[code 0][termios restored]"), "\(out)")
        #expect(!out.contains("xyz") && !out.contains(f.passphrase), "echoed: \(out)")
    }

    /// Found by a review: a SIGTERM then a SIGTSTP at a prompt kept only the last, and avault
    /// asked again once continued. A signal that ends avault takes its course before one that
    /// stops it. (Sent one right after the other, five times: the two arrive before the prompt
    /// looks in most runs. Not while stopped by SIGSTOP: SIGCONT discards a pending SIGTSTP.)
    @Test func anEndingSignalWinsOverAStopAtAPrompt() throws {
        let f = try KeysFixture()
        let script = """
            import os, pty, select, signal, sys, time
            env = {k: v for k, v in os.environ.items() if not k.startswith("AVAULT_")}
            env["AVAULT_AGENT_SOCK"] = ""
            for attempt in range(5):
                pid, fd = pty.fork()
                if pid == 0:
                    os.execve(sys.argv[1], sys.argv[1:], env)
                \(ptyReader.split(separator: "\n").joined(separator: "\n    "))
                deadline = time.time() + 20
                while not ended and time.time() < deadline and not out.endswith(b": "):
                    read(0.1)
                os.kill(pid, signal.SIGTERM)
                os.kill(pid, signal.SIGTSTP)
                deadline = time.time() + 3
                while not ended and time.time() < deadline:
                    read(0.2)
                if not ended:
                    os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                os.close(fd)
                sys.stdout.write("[code %d]" % os.waitstatus_to_exitcode(status))
            """
        let r = try CLI.run("python3", ["-c", script, CLI.avaultPath, "keys", "generate", "k", "--secret", "--keyring", f.path("ring")])
        #expect(r.out == String(repeating: "[code -15]", count: 5), "\(r.out)")
    }

    /// A signal the parent set to be ignored (`nohup`, a background job of a shell without job
    /// control) stays ignored at the prompt: Ctrl-C only drops the line typed so far, and the
    /// prompt goes on. (A first handler for Ctrl-C took SIGINT over.)
    @Test func aSignalTheParentIgnoresStaysIgnoredAtAPrompt() throws {
        let f = try KeysFixture()
        let out = try promptInterrupted(by: "\u{3}", ignored: "SIGINT", passphrase: f.passphrase, ring: f.path("ring"))
        #expect(out.contains("[code 0][termios restored]"), "\(out)")
        #expect(FileManager.default.fileExists(atPath: f.path("ring") + "/keyring.avk"), "\(out)")
    }

    /// Found by a review: a secret file named by a path that is the terminal (`/dev/stdin`,
    /// `/dev/fd/0`, `/dev/tty`) was read as a file, with echo on, where `-` is refused. Every
    /// file that holds a secret is refused when it is a terminal, as `-` is.
    @Test func aPassphraseOrKeyFileThatIsATerminalIsRefused() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "k", "--secret"]).code == 0)
        let noAgent = ["AVAULT_AGENT_SOCK": ""]
        for path in ["/dev/stdin", "/dev/fd/0", "/dev/tty"] {
            let r = try avaultOnTerminal(["keys", "list", "--verify", "--keyring", f.ring, "--passphrase-file", path],
                                         input: f.passphrase + "\n\u{4}", env: noAgent)
            #expect(r.code == 2, "\(path): \(r.code) \(r.screen)")
            #expect(r.screen.contains("avault: \(path): is a terminal, which would show a passphrase as it is typed: pipe it in, or name its file"),
                    "\(path): \(r.screen)")
        }
        let plain = f.path("plain.txt")
        try CLI.write("plain\n", to: URL(fileURLWithPath: plain))
        let key = try avaultOnTerminal(["secured", "encrypt", "--key-file", "/dev/stdin", "-i", plain],
                                       input: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n\u{4}", env: noAgent)
        #expect(key.code == 2 && key.screen.contains("avault: /dev/stdin: is a terminal, which would show a raw key file as it is typed"),
                "\(key.code) \(key.screen)")
    }

    @Test func passwdReSealsEverythingAtomically() throws {
        let f = try KeysFixture(passphrase: "old-passphrase-1234")
        let newPass = "new-passphrase-5678"
        let raw = try f.keyFile("demo-v2.key")
        #expect(try f.avault(["keys", "import", "imported", "--key-file", raw]).code == 0)
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        let v1Blob = try f.encrypt("version one", key: "c")
        #expect(try f.avault(["keys", "rotate", "c"]).code == 0)
        let v2Blob = try f.encrypt("version two", key: "c")
        #expect(try f.avault(["keys", "generate", "s", "--signing"]).code == 0)
        let pubBefore = try f.avault(["keys", "export-public", "s"]).out
        let importedBlob = try f.encrypt("imported", key: "imported")

        let ringURL = URL(fileURLWithPath: f.keyringFile)
        let before = try Data(contentsOf: ringURL)
        let inodeBefore = try FileManager.default.attributesOfItem(atPath: f.keyringFile)[.systemFileNumber] as? Int

        // A wrong old passphrase changes nothing.
        let refused = try f.avault(["keys", "passwd"], env: ["AVAULT_PASSPHRASE": "wrong-old-pass", "AVAULT_NEW_PASSPHRASE": newPass])
        #expect(refused.code == 2)
        #expect(refused.err.contains("wrong passphrase"))
        #expect(try Data(contentsOf: ringURL) == before)

        let r = try f.avault(["keys", "passwd"], env: ["AVAULT_NEW_PASSPHRASE": newPass])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out == "re-sealed 4 secrets under the new passphrase\n")

        // Replaced atomically: a new inode, still mode 600, no temporary file left behind.
        let inodeAfter = try FileManager.default.attributesOfItem(atPath: f.keyringFile)[.systemFileNumber] as? Int
        #expect(inodeBefore != nil && inodeBefore != inodeAfter)
        #expect(try KeysFixture.mode(f.keyringFile) == 0o600)
        let left = try FileManager.default.contentsOfDirectory(atPath: f.ring).sorted()
        #expect(left == [".lock", "keyring.avk"], "\(left)")
        let after = try Data(contentsOf: ringURL)
        #expect(after != before)
        // Ids, names and versions are unchanged; only the sealing changed.
        let headers = { (d: Data) in
            String(decoding: d, as: UTF8.self).split(separator: "\n").filter {
                !$0.hasPrefix("secret:") && !$0.hasPrefix("kdf:") && !$0.hasPrefix("check:") && !$0.hasPrefix("mac:")
            }
        }
        #expect(headers(after) == headers(before))

        // The old passphrase no longer opens anything.
        let old = try f.avault(["secured", "decrypt", v2Blob, "--key", "c", "--context", "ctx"])
        #expect(old.code == 2)
        #expect(old.stdout.isEmpty)
        #expect(old.err.contains("wrong passphrase"))

        // The new one opens every key, including the older version and the signing key.
        f.passphrase = newPass
        for (blob, key, text) in [(v1Blob, "c", "version one"), (v2Blob, "c", "version two"), (importedBlob, "imported", "imported")] {
            let d = try f.avault(["secured", "decrypt", blob, "--key", key, "--context", "ctx"])
            #expect(d.code == 0, "\(d.err)")
            #expect(d.out == text)
        }
        let exported = f.path("s.key")
        let e = try f.avault(["keys", "export-minisign", "s", "-o", exported, "--unprotected"])
        #expect(e.code == 0, "\(e.err)")
        #expect(try f.avault(["keys", "export-public", "s"]).out == pubBefore)
        #expect(try f.avault(["keys", "rotate", "s"]).code == 0)

        f.expectNoLeaks(of: [try KeysFixture.rawKey(file: raw), try KeysFixture.minisignSeed(file: exported)])
    }
}

@Suite struct KeysCLIRotation {
    @Test func rotateRetireAndWhichVersionDecrypts() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "c", "--secret"]).code == 0)
        #expect(try f.avault(["keys", "generate", "other", "--secret"]).code == 0)
        let v1ID = try #require(try f.listed("c", 1)["keyId"] as? String)
        let v1Blob = try f.encrypt("from version one", key: "c")
        #expect(v1Blob.hasPrefix("v2;\(v1ID);"))

        let rotated = try f.json(["keys", "rotate", "c"])
        #expect(rotated["version"] as? Int == 2)
        let v2 = try f.listed("c", 2)
        let v2ID = try #require(v2["keyId"] as? String)
        #expect(rotated["keyId"] as? String == v2ID)
        #expect(v2ID != v1ID)
        #expect(v2["current"] as? Bool == true)
        #expect(v2["protected"] as? Bool == true)
        #expect(try f.listed("c", 1)["current"] as? Bool == false)
        #expect(try f.listed("c", 1)["status"] as? String == "active")
        let text = try f.avault(["keys", "list"]).out
        #expect(text.split(separator: "\n").contains { $0.hasPrefix("c ") && $0.contains(v1ID) && $0.hasSuffix("active") })
        #expect(text.split(separator: "\n").contains { $0.hasPrefix("c ") && $0.contains(v2ID) && $0.hasSuffix("current") })

        // New blobs are made with version 2.
        let v2Blob = try f.encrypt("from version two", key: "c")
        let inspect = try f.json(["secured", "inspect", v2Blob], keyring: false)
        #expect(inspect["keyId"] as? String == v2ID)

        // Version 1 blobs still decrypt.
        let old = try f.avault(["secured", "decrypt", v1Blob, "--key", "c", "--context", "ctx"])
        #expect(old.code == 0, "\(old.err)")
        #expect(old.out == "from version one")

        // Retire version 1.
        let retire = try f.avault(["keys", "retire", "c", "--version", "1"])
        #expect(retire.code == 0, "\(retire.err)")
        #expect(retire.out == "retired key 'c' version 1\n")
        let retiredEntry = try f.listed("c", 1)
        #expect(retiredEntry["status"] as? String == "retired")
        #expect((retiredEntry["retired"] as? String).map { $0.hasSuffix("Z") } == true)
        #expect(retiredEntry["current"] as? Bool == false)
        #expect(try f.avault(["keys", "list"]).out.split(separator: "\n").contains { $0.contains(v1ID) && $0.hasSuffix("retired") })

        let refused = try f.avault(["secured", "decrypt", v1Blob, "--key", "c", "--context", "ctx"])
        #expect(refused.code == 2)
        #expect(refused.stdout.isEmpty)
        #expect(refused.err.contains("retired"), "\(refused.err)")
        #expect(refused.err.contains(v1ID))
        let stillOK = try f.avault(["secured", "decrypt", v2Blob, "--key", "c", "--context", "ctx"])
        #expect(stillOK.code == 0)
        #expect(stillOK.out == "from version two")

        // Retiring twice, retiring the only active version, a version that does not exist.
        let twice = try f.avault(["keys", "retire", "c", "--version", "1"])
        #expect(twice.code == 2)
        #expect(twice.err.contains("already retired"), "\(twice.err)")
        let only = try f.avault(["keys", "retire", "c", "--version", "2"])
        #expect(only.code == 2)
        #expect(only.err.contains("only active version"), "\(only.err)")
        #expect(only.err.contains("avault: hint:") && only.err.contains("rotate"))
        let missing = try f.avault(["keys", "retire", "c", "--version", "7"])
        #expect(missing.code == 2)
        #expect(missing.err.contains("no version 7"))
        let noKey = try f.avault(["keys", "retire", "nope", "--version", "1"])
        #expect(noKey.code == 2)
        #expect(noKey.err.contains("no key named 'nope'"))

        // A v2 blob decrypted with another key's name: names the kid and which key holds it.
        let wrongName = try f.avault(["secured", "decrypt", v2Blob, "--key", "other", "--context", "ctx"])
        #expect(wrongName.code == 2)
        #expect(wrongName.stdout.isEmpty)
        #expect(wrongName.err.contains(v2ID), "\(wrongName.err)")
        #expect(wrongName.err.contains("avault: hint: that is key 'c' version 2"), "\(wrongName.err)")

        // The current version stays usable after more rotations; list shows 3 versions.
        #expect(try f.avault(["keys", "rotate", "c"]).code == 0)
        #expect(try f.listedKeys().filter { $0["name"] as? String == "c" }.map { $0["current"] as? Bool } == [false, false, true])
        f.expectNoLeaks(of: [])
    }

    @Test func rotatingAnUnprotectedKeyKeepsItUnprotectedAndAMissingKeyIsNamed() throws {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "u", "--secret", "--unprotected"]).code == 0)
        let r = try f.avault(["keys", "rotate", "u"], env: ["AVAULT_PASSPHRASE": nil])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.hasPrefix("rotated to content key 'u' version 2"))
        #expect(try f.listed("u", 2)["protected"] as? Bool == false)
        #expect(try f.plainSecrets().count == 2)
        let missing = try f.avault(["keys", "rotate", "nope"])
        #expect(missing.code == 2)
        #expect(missing.err.contains("no key named 'nope'"))
        #expect(missing.err.contains("avault: hint: the keyring has: u"))
        f.expectNoLeaks(of: try f.plainSecrets())
    }

    @Test func legacyKeysImportAndDecryptV1Records() throws {
        let f = try KeysFixture()
        let aes256 = try f.keyFile("demo-aes256.key")
        let imported = try f.json(["keys", "import", "legacy", "--key-file", aes256, "--legacy-aes-cbc"])
        #expect(imported["kind"] as? String == "legacy")
        #expect(imported["algorithm"] as? String == "aes256-cbc")
        #expect(imported["version"] as? Int == 1)

        let plaintext = try Data(contentsOf: CLI.repoRoot.appendingPathComponent("Fixtures/blobs/demo-plaintext.txt"))
        let ok = try f.avault(["secured", "decrypt", "--record", "Fixtures/records/demo-v1.md", "--key", "legacy",
                               "--allow-unauthenticated-legacy"], cwd: CLI.repoRoot)
        #expect(ok.code == 0, "\(ok.err)")
        #expect(ok.stdout == plaintext)
        #expect(ok.err.contains("avault: warning: decrypting an unauthenticated legacy v1 blob"))

        let seed = try f.avault(["secured", "decrypt", "--record", keysSeedRecord, "--key", "legacy", "--allow-unauthenticated-legacy"], cwd: CLI.repoRoot)
        #expect(seed.code == 1)
        #expect(seed.stdout.isEmpty)
        #expect(seed.err.contains(keysUniformFailure + "\n"), "\(seed.err)")

        // A legacy key makes no v2 blobs unless asked for v1.
        let v2 = try f.avault(["secured", "encrypt", "--key", "legacy"], stdin: Data("x".utf8))
        #expect(v2.code == 2)
        #expect(v2.err.contains("--legacy-cbc"))
        let v1 = try f.avault(["secured", "encrypt", "--key", "legacy", "--legacy-cbc"], stdin: Data("legacy text".utf8))
        #expect(v1.code == 0)
        let back = try f.avault(["secured", "decrypt", v1.out.trimmingCharacters(in: .newlines), "--key", "legacy", "--allow-unauthenticated-legacy"])
        #expect(back.code == 0)
        #expect(back.out == "legacy text")

        // A 16-byte key is refused as a content key, with a hint; accepted as legacy.
        let aes128 = try f.keyFile("demo-aes128.key")
        let refused = try f.avault(["keys", "import", "short", "--key-file", aes128])
        #expect(refused.code == 2)
        #expect(refused.err.contains("16 bytes"), "\(refused.err)")
        #expect(refused.err.contains("avault: hint:") && refused.err.contains("--legacy-aes-cbc"))
        #expect(try f.listedKeys().count == 1)
        let short = try f.json(["keys", "import", "short", "--key-file", aes128, "--legacy-aes-cbc"])
        #expect(short["algorithm"] as? String == "aes128-cbc")
        // The same key again is refused (under any name).
        let again = try f.avault(["keys", "import", "dupe", "--key-file", aes128, "--legacy-aes-cbc"])
        #expect(again.code == 2)
        #expect(again.err.contains("already in the keyring as 'short'"))
        // A key file others can read is refused before anything is stored.
        try KeysFixture.chmod(aes128, 0o644)
        let loose = try f.avault(["keys", "import", "loose", "--key-file", aes128, "--legacy-aes-cbc"])
        #expect(loose.code == 2)
        #expect(loose.err.contains("avault: hint: chmod 600"))

        // A v2 blob given a legacy key, a v1 record given a content key: refused, exit 2.
        #expect(try f.avault(["keys", "import", "content", "--key-file", try f.keyFile("demo-v2.key")]).code == 0)
        let v1WithContent = try f.avault(["secured", "decrypt", "--record", "Fixtures/records/demo-v1.md", "--key", "content"], cwd: CLI.repoRoot)
        #expect(v1WithContent.code == 2)
        #expect(v1WithContent.err.contains("legacy"))
        let v2Record = try f.avault(["secured", "decrypt", "--record", "Fixtures/records/demo-v2.md", "--key", "content"], cwd: CLI.repoRoot)
        #expect(v2Record.code == 0, "\(v2Record.err)")
        #expect(v2Record.stdout == plaintext)

        f.expectNoLeaks(of: [try KeysFixture.rawKey(file: aes256), try KeysFixture.rawKey(file: aes128),
                             try KeysFixture.rawKey(file: f.path("demo-v2.key"))])
    }
}
