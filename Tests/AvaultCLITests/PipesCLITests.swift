import Foundation
import Testing

/// Runs `avault args…` with standard output sent to /dev/full (every write fails with ENOSPC).
func avaultToFullDisk(_ args: [String], env: [String: String] = [:], cwd: URL? = nil) throws -> CLI.Result {
    try CLI.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" > /dev/full", CLI.avaultPath] + args, cwd: cwd, env: env)
}

/// Runs `avault args…` with standard output, standard error, or both on a pipe whose reading
/// end is closed, as after `avault … | head -1` once `head` has exited, with SIGPIPE at its
/// default action; returns the exit status as Python gives it (-13: ended by SIGPIPE) and what
/// was written to the other stream. `command` runs `avault` (by default, itself), with `env`.
func avaultToClosedPipe(_ args: [String], closing streams: ClosedStreams = .output, command: [String] = [CLI.avaultPath],
                        env: [String: String] = [:]) throws -> (status: Int, other: String) {
    let script = """
        import os, signal, sys
        closed, broken = os.pipe()
        os.close(closed)
        other_read, other = os.pipe()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            os.dup2(broken if sys.argv[1] != "error" else other, 1)
            os.dup2(broken if sys.argv[1] != "output" else other, 2)
            os.execv(sys.argv[2], sys.argv[2:])
        os.close(broken)
        os.close(other)
        text = b""
        while chunk := os.read(other_read, 65536):
            text += chunk
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(str(os.waitstatus_to_exitcode(status)))
        sys.stderr.buffer.write(text)
        """
    let r = try CLI.run("python3", ["-c", script, streams.rawValue] + command + args, env: env)
    guard r.code == 0, let status = Int(r.out) else { throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "python3: \(r.code) \(r.err)"]) }
    return (status, r.err)
}

enum ClosedStreams: String { case output, error, both }

/// Python for a script that drives a command on a pseudo-terminal whose master is `fd`:
/// `read(timeout)` adds what the command wrote to `out`, and sets `ended` once it closed the
/// terminal. Interpolated at the script's top level (after `fd` is set).
let ptyReader = """
    out, ended = b"", False
    def read(timeout):
        global out, ended
        r, _, _ = select.select([fd], [], [], timeout)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                ended = True
            out += chunk
    """

/// Runs `avault args…` on a pseudo-terminal as `avaultOnTerminal` does, but types each of
/// `lines` only once a prompt (`…: `) is shown, as a user answering a passphrase prompt does
/// (what is typed before the prompt turns echo off would be flushed); stops typing when the
/// command ends. Every `AVAULT_*` variable is removed from its environment, then `env` is set.
func avaultAnsweringPrompts(_ args: [String], lines: [String], env: [String: String] = [:]) throws -> (screen: String, code: Int32) {
    let script = """
        import json, os, pty, select, sys, time
        env = {k: v for k, v in os.environ.items() if not k.startswith("AVAULT_")}
        env.update(json.loads(sys.argv[1]))
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(sys.argv[2], sys.argv[2:], env)
        \(ptyReader)
        typed = 0
        for line in sys.stdin.buffer.read().split(b"\\n")[:-1]:
            deadline = time.time() + 20
            while not ended and time.time() < deadline and not out[typed:].endswith(b": "):
                read(0.1)
            if ended:
                break
            typed = len(out)
            os.write(fd, line + b"\\n")
        while not ended:
            read(1)
        _, status = os.waitpid(pid, 0)
        sys.stdout.buffer.write(out)
        sys.exit(os.waitstatus_to_exitcode(status))
        """
    let environment = String(decoding: try JSONSerialization.data(withJSONObject: env), as: UTF8.self)
    let typed = lines.map { $0 + "\n" }.joined()
    let r = try CLI.run("python3", ["-c", script, environment, CLI.avaultPath] + args, stdin: Data(typed.utf8))
    return (r.out, r.code)
}

/// Runs `avault args…` on a pseudo-terminal (standard input, output and error all on it) with
/// `input` typed into it; returns what the terminal showed and the exit status.
func avaultOnTerminal(_ args: [String], input: String = "", env: [String: String] = [:], cwd: URL? = nil) throws -> (screen: String, code: Int32) {
    let script = """
        import os, pty, sys, time
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(sys.argv[1], sys.argv[1:])
        data = sys.stdin.buffer.read()
        if data:
            time.sleep(0.3)
            os.write(fd, data)
        out = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        sys.stdout.buffer.write(out)
        sys.exit(os.waitstatus_to_exitcode(status))
        """
    let r = try CLI.run("python3", ["-c", script, CLI.avaultPath] + args, stdin: Data(input.utf8), cwd: cwd, env: env)
    return (r.out, r.code)
}

@Suite struct PipesCLI {
    @Test func dashOutputIsStandardOutput() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try privateKey("demo-v2.key", in: dir)
        let enc = try CLI.avault(["secured", "encrypt", "--key-file", key, "--context", "c", "-i", "-"], stdin: Data("hello\n".utf8), cwd: dir)
        #expect(enc.code == 0, "\(enc.err)")
        let blob = enc.out.trimmingCharacters(in: .newlines)
        let dec = try CLI.avault(["secured", "decrypt", blob, "--key-file", key, "--context", "c", "-o", "-"], cwd: dir)
        #expect(dec.code == 0, "\(dec.err)")
        #expect(dec.out == "hello\n")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("-").path))

        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let pub = try CLI.avault(["keys", "export-public", "demo-desk", "-o", "-"] + demo.args, cwd: demo.dir)
        #expect(pub.code == 0, "\(pub.err)")
        #expect(pub.out.hasPrefix("untrusted comment:"))
        #expect(!FileManager.default.fileExists(atPath: demo.dir.appendingPathComponent("-").path))
    }

    @Test func vaultGetAndExportToDash() throws {
        let v = try VaultFixture()
        try v.put("doc", Data("payload\n".utf8))
        let get = try v.avault(["vault", "get", "doc", "-o", "-"])
        #expect(get.code == 0, "\(get.err)")
        #expect(get.out == "payload\n")
        let export = try v.avault(["vault", "export", "doc", "-o", "-"])
        #expect(export.code == 0, "\(export.err)")
        #expect(export.out == "payload\n")
    }

    @Test func passphraseFromStandardInput() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let pass = try String(contentsOf: CLI.repoRoot.appendingPathComponent("keys/demo-passphrase.txt"), encoding: .utf8)
        let r = try CLI.avault(["keys", "export-public", "demo-desk", "--keyring", demo.ring, "--passphrase-file", "-"],
                               stdin: Data(pass.utf8), env: ["AVAULT_PASSPHRASE": ""])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.hasPrefix("untrusted comment:"))
        // Standard input cannot carry two things.
        let both = try CLI.avault(["secured", "encrypt", "--key", "x", "--keyring", demo.ring, "--passphrase-file", "-"])
        #expect(both.code == 64)
        #expect(both.err.contains("standard input cannot hold both the plaintext and the passphrase"))
    }

    /// Found by a review: `-o /dev/null --force`, run as root, renamed a new regular file over
    /// /dev/null. A device, FIFO or socket in the output's place is refused and left as it is.
    @Test func anOutputThatIsNotARegularFileIsRefusedAndLeftAlone() throws {
        let v = try VaultFixture()
        try v.put("doc", Data("payload\n".utf8))
        let fifo = v.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        // A link (`-o /dev/stdout`) would be replaced by a file holding the output.
        let target = v.path("target"), link = v.path("link")
        #expect(FileManager.default.createFile(atPath: target, contents: Data("theirs".utf8)))
        #expect(symlink(target, link) == 0)
        let blob = try v.avault(["secured", "encrypt", "--key", "drafts"], stdin: Data("secret\n".utf8))
        #expect(blob.code == 0, "\(blob.err)")
        for (path, what) in [(fifo, "a FIFO, not a regular file"), (link, "a symbolic link, which would be replaced")] {
            for args in [["vault", "get", "doc", "-o", path], ["vault", "export", "doc", "-o", path],
                         ["secured", "decrypt", blob.out.trimmingCharacters(in: .newlines), "--key", "drafts", "-o", path]] {
                // Refused as what it is with --force or without: not first with "use --force",
                // which then fails too (a review).
                for force in [["--force"], []] {
                    let r = try v.avault(args + force)
                    #expect(r.code == 2 && r.err.hasPrefix("avault: \(path): \(what)"), "\(args + force): \(r.code) \(r.err)")
                }
            }
        }
        var st = stat()
        #expect(stat(fifo, &st) == 0 && st.st_mode & S_IFMT == S_IFIFO, "the FIFO was replaced")
        #expect(lstat(link, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK && (try? String(contentsOfFile: target, encoding: .utf8)) == "theirs", "the link was replaced")
    }

    /// Found by a review: the refusal of a link, FIFO or device at an output's path advised
    /// "use -o - and a redirection" for outputs that refuse `-`: `keys export-age -o` and
    /// `audit --html`. Only an output that can be standard output is advised to be.
    @Test func onlyAnOutputThatCanBeStandardOutputIsAdvisedToBe() throws {
        let k = try KeysFixture()
        #expect(try k.avault(["keys", "generate", "desk", "--identity"]).code == 0)
        #expect(try k.avault(["keys", "generate", "signer", "--signing"]).code == 0)
        let target = k.path("target"), link = k.path("link"), fifo = k.path("fifo")
        #expect(FileManager.default.createFile(atPath: target, contents: Data("theirs".utf8)))
        #expect(symlink(target, link) == 0 && mkfifo(fifo, 0o600) == 0)
        let records = k.path("site")
        #expect(mkdir(records, 0o755) == 0)
        let linkRefusal = "avault: \(link): a symbolic link, which would be replaced rather than written through "
            + "(an output is written under another name and renamed into place: name the file it points to, or a path where nothing is)\n"
        let exportAge = try k.avault(["keys", "export-age", "desk", "-o", link, "--force"])
        #expect(exportAge.code == 2 && exportAge.err == linkRefusal, "\(exportAge.code) \(exportAge.err)")
        let audit = try k.avault(["audit", "--html", link, "--force", records], keyring: false)
        #expect(audit.code == 2 && audit.err == linkRefusal, "\(audit.code) \(audit.err)")
        let auditFIFO = try k.avault(["audit", "--html", fifo, records], keyring: false)
        #expect(auditFIFO.code == 2 && auditFIFO.err == "avault: \(fifo): a FIFO, not a regular file "
                + "(an output is written under another name and renamed into place: name a regular file, or a path where nothing is)\n",
                "\(auditFIFO.code) \(auditFIFO.err)")
        // Where -o - is standard output, that is still the advice.
        let exportPublic = try k.avault(["keys", "export-public", "signer", "-o", link, "--force"])
        #expect(exportPublic.code == 2 && exportPublic.err.contains("use -o - and a redirection, or name a regular file)"), "\(exportPublic.err)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "theirs")
    }

    /// Found by a review: a batch whose second record is a symbolic link (refused, as above)
    /// signed or sealed the first and stopped. Every path is checked before any is written.
    @Test func aBatchWithAnOutputThatIsNotARegularFileWritesNothing() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let first = try demo.copy("Fixtures/records/demo-v2.md", as: "first.md")
        let target = try demo.copy("Fixtures/records/demo-v2.md", as: "target.md")
        let last = try demo.copy("Fixtures/records/demo-v2.md", as: "last.md")
        let link = demo.dir.appendingPathComponent("link.md").path
        #expect(symlink(target, link) == 0)
        let original = try String(contentsOfFile: first, encoding: .utf8)
        let records = [first, link, last]
        for args in [["sign", "--key", "demo-desk"], ["seal", "--key", "demo-content"], ["unseal"]] {
            let r = try CLI.avault(args + records + demo.args)
            #expect(r.code == 2 && r.err.hasPrefix("avault: \(link): a symbolic link") && r.out.isEmpty, "\(args): \(r.code) \(r.out) \(r.err)")
            for record in [first, target, last] {
                #expect(try String(contentsOfFile: record, encoding: .utf8) == original, "\(args): \(record) was written")
            }
        }
        // A detached signature, or an exported one, whose file is a link.
        let signature = demo.dir.appendingPathComponent("last.md.minisig").path
        #expect(symlink(target, signature) == 0)
        let detached = try CLI.avault(["sign", "--detached", "--force", "--key", "demo-desk", first, last] + demo.args)
        #expect(detached.code == 2 && detached.err.hasPrefix("avault: \(signature): a symbolic link"), "\(detached.code) \(detached.err)")
        #expect(!FileManager.default.fileExists(atPath: first + ".minisig"), "the first file was signed")
        #expect(try CLI.avault(["sign", "--key", "demo-desk", first, last] + demo.args).code == 0)
        let out = demo.dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: false)
        let exported = out.appendingPathComponent("last.md.canonical.minisig").path
        #expect(symlink(target, exported) == 0)
        let export = try CLI.avault(["sign", "--export-minisig", "--force", "-o", out.path, first, last])
        #expect(export.code == 2 && export.err.hasPrefix("avault: \(exported): a symbolic link"), "\(export.code) \(export.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["last.md.canonical.minisig"], "something was exported")
    }

    /// Found by the review of that fix: a batch could still stop halfway on its own paths. Two
    /// records exported under one name, a record named twice (or by a hard link), an output that
    /// is one of the batch's inputs, a name too long for the file system, or a trusted key that
    /// cannot be read: each is refused before anything is written.
    @Test func aBatchThatWouldWriteAFileTwiceOrFailLaterWritesNothing() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let fm = FileManager.default
        for sub in ["b1", "b2", "out"] { try fm.createDirectory(at: demo.dir.appendingPathComponent(sub), withIntermediateDirectories: false) }
        let a = try demo.copy("Fixtures/records/demo-v2.md", as: "b1/r.md")
        let b = try demo.copy("Fixtures/records/demo-v2.md", as: "b2/r.md")
        #expect(try CLI.avault(["sign", "--key", "demo-desk", a, b] + demo.args).code == 0)
        let signed = try String(contentsOfFile: a, encoding: .utf8)
        let hardLink = demo.dir.appendingPathComponent("hard.md").path
        #expect(link(a, hardLink) == 0)
        let out = demo.dir.appendingPathComponent("out").path
        let canonical = demo.dir.appendingPathComponent("b1/r.md.canonical").path
        #expect(fm.createFile(atPath: canonical, contents: Data("mine\n".utf8)))
        let long = demo.dir.appendingPathComponent(String(repeating: "n", count: 250)).path
        #expect(fm.createFile(atPath: long, contents: Data("long\n".utf8)))
        for (args, message) in [(["sign", "--export-minisig", "--force", "-o", out, a, b], "name each file once"),
                                (["sign", "--export-minisig", "--force", "-o", demo.dir.appendingPathComponent("b1").path, a, canonical], "name each file once"),
                                (["sign", "--key", "demo-desk", b, a, demo.dir.appendingPathComponent("b1/./r.md").path], "name each file once"),
                                (["seal", "--key", "demo-content", b, a, hardLink], "name each file once"),
                                (["sign", "--detached", "--key", "demo-desk", b, a + ".minisig", a], "named too: leave the .minisig files out"),
                                // An output directory not made yet.
                                (["sign", "--export-minisig", "--force", "-o", demo.dir.appendingPathComponent("b1/new/..").path, a, canonical],
                                 "name each file once")] {
            let r = try CLI.avault(args + (args.contains("--export-minisig") ? [] : demo.args))
            #expect(r.code == 64 && r.err.contains(message) && r.out.isEmpty, "\(args): \(r.code) \(r.out) \(r.err)")
        }
        // A record that is not there, after one that is.
        let absent = demo.dir.appendingPathComponent("absent.md").path
        for args in [["sign", "--key", "demo-desk"], ["sign", "--detached", "--key", "demo-desk"], ["seal", "--key", "demo-content"], ["unseal"]] {
            let r = try CLI.avault(args + [b, absent] + demo.args)
            #expect(r.code == 2 && r.err.hasPrefix("avault: \(absent): no such file"), "\(args): \(r.code) \(r.err)")
        }
        let detached = try CLI.avault(["sign", "--detached", "--key", "demo-desk", b, long] + demo.args)
        #expect(detached.code == 2 && detached.err.hasPrefix("avault: \(long).minisig: "), "\(detached.code) \(detached.err)")
        // A record with nothing sealed and no signature, then a signed one.
        let plain = "---\ntitle: Plain\n---\nA body.\n"
        let unsigned = try demo.record("plain.md", plain)
        let missing = try CLI.avault(["seal", "--key", "demo-content", "--pubkey", demo.dir.appendingPathComponent("none.pub").path, unsigned, b] + demo.args)
        #expect(missing.code == 2 && missing.out.isEmpty, "\(missing.code) \(missing.out) \(missing.err)")
        #expect(try String(contentsOfFile: unsigned, encoding: .utf8) == plain, "the record before the signed one was sealed")
        #expect(try String(contentsOfFile: a, encoding: .utf8) == signed && String(contentsOfFile: b, encoding: .utf8) == signed, "a record was written")
        #expect(try String(contentsOfFile: canonical, encoding: .utf8) == "mine\n", "an input was replaced")
        #expect(try fm.contentsOfDirectory(atPath: out).isEmpty && !fm.fileExists(atPath: b + ".minisig"), "something was written")
        // An export whose second record has no signature writes nothing, and makes no directory.
        let exportDir = demo.dir.appendingPathComponent("exports/new").path
        let unsignedExport = try CLI.avault(["sign", "--export-minisig", "-o", exportDir, a, unsigned])
        #expect(unsignedExport.code != 0 && unsignedExport.out.isEmpty, "\(unsignedExport.code) \(unsignedExport.out) \(unsignedExport.err)")
        #expect(!fm.fileExists(atPath: demo.dir.appendingPathComponent("exports").path), "the export made its directory")
        try fm.createDirectory(at: URL(fileURLWithPath: exportDir), withIntermediateDirectories: true)
        #expect(try CLI.avault(["sign", "--export-minisig", "-o", exportDir, a, unsigned]).code != 0)
        #expect(try fm.contentsOfDirectory(atPath: exportDir).isEmpty, "the export wrote the first record's files")
        // …and a name that is too long only inside the directory, once it is made.
        let longSigned = demo.dir.appendingPathComponent(String(repeating: "k", count: 240) + ".md").path
        try fm.copyItem(atPath: a, toPath: longSigned)
        let longExport = try CLI.avault(["sign", "--export-minisig", "-o", demo.dir.appendingPathComponent("exports2/sub").path, a, longSigned])
        #expect(longExport.code == 2 && longExport.out.isEmpty, "\(longExport.code) \(longExport.out) \(longExport.err)")
        #expect(!fm.fileExists(atPath: demo.dir.appendingPathComponent("exports2").path), "the export left the directories it made")
        // Two names of one file read are no conflict: their signatures are two files.
        #expect(try CLI.avault(["sign", "--detached", "--key", "demo-desk", a, hardLink] + demo.args).code == 0)
    }

    /// Found by a review: standard input named by a path (`/dev/stdin`) passed that check; the
    /// passphrase read it to its end, and `vault put` stored an empty payload.
    @Test(arguments: ["/dev/stdin", "/proc/self/fd/0"]) func standardInputByAnotherNameIsReadOnce(_ name: String) throws {
        let v = try VaultFixture()
        let put = try v.avault(["vault", "put", "doc", "-", "--passphrase-file", name], stdin: Data("a passphrase\n".utf8))
        #expect(put.code == 64 && put.err.contains("standard input cannot hold both the payload and the passphrase"), "\(put.code) \(put.err)")
        #expect(try v.avault(["vault", "list"]).out == "no objects\n", "something was stored")
        // …and the payload named so, the passphrase from `-`.
        let mirrored = try v.avault(["vault", "put", "doc", name, "--passphrase-file", "-"], stdin: Data("a passphrase\n".utf8))
        #expect(mirrored.code == 64 && mirrored.err.contains("standard input cannot hold both the payload and the passphrase"), "\(mirrored.code) \(mirrored.err)")
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        for args in [["secured", "encrypt", "--key", "x", "--keyring", demo.ring, "--passphrase-file", name],
                     ["secured", "encrypt", "-i", name, "--key", "x", "--keyring", demo.ring, "--passphrase-file", "-"],
                     ["verify", "-", "--keyring", demo.ring, "--passphrase-file", name],
                     ["secured", "encrypt", "--key-file", name],
                     ["age", "encrypt", "-p", "--age-passphrase-file", name],
                     ["age", "encrypt", "-p", "--age-passphrase-file", "-"],
                     ["age", "encrypt", "-R", name, "-o", v.path("empty.age")],
                     // Left by the last session's review: these failed closed, but exit 1 or 2 with
                     // another error (an empty passphrase, a malformed file).
                     ["verify", "--detached", name, "-x", name],
                     ["age", "decrypt", "-i", name],
                     // …and by the review of that fix: every file named for standard input counts,
                     // a trusted key (--pubkey) too.
                     ["age", "encrypt", "-R", name, "-R", name, "-o", v.path("twice.age"), CLI.repoRoot.appendingPathComponent("README.md").path],
                     ["age", "decrypt", "-i", name, "-i", name, v.path("any.age")],
                     ["verify", "-", name],
                     ["verify", "-", "--pubkey", name],
                     ["seal", v.path("any.md"), "--key", "x", "--keyring", demo.ring, "--passphrase-file", "-", "--pubkey", name],
                     ["unseal", v.path("any.md"), "--keyring", demo.ring, "--passphrase-file", name, "--pubkey", "-"],
                     // Recipients files, which `-` now names standard input for too.
                     ["seal", v.path("any.md"), "--recipients-file", name, "--keyring", demo.ring, "--passphrase-file", "-"],
                     ["reseal", v.path("any.md"), "--recipients-file", "-", "--keyring", demo.ring, "--passphrase-file", name],
                     ["vault", "init", "--vault", v.path("new-vault"), "--recipients-file", name, "--keyring", demo.ring, "--passphrase-file", "-"],
                     ["vault", "recipients", "add", "--vault", v.path("new-vault"), "--recipients-file", "-", "--keyring", demo.ring,
                      "--passphrase-file", name],
                     ["secured", "decrypt", "--record", name, "--key-file", v.path("k"), "--pubkey", "-"],
                     ["age", "decrypt", "--age-passphrase-file", name],
                     ["age", "decrypt", "--key", "x", "--keyring", demo.ring, "--passphrase-file", name],
                     ["secured", "decrypt", "--record", "-", "--key-file", name],
                     ["secured", "decrypt", "--record", name, "--key", "x", "--keyring", demo.ring, "--passphrase-file", "-"],
                     ["keys", "passwd", "--keyring", demo.ring, "--passphrase-file", "-", "--new-passphrase-file", name],
                     ["keys", "export", "x", "-o", v.path("x.export"), "--keyring", demo.ring, "--passphrase-file", name,
                      "--export-passphrase-file", "-"],
                     ["keys", "import", "x", "--sealed", name, "--keyring", demo.ring, "--export-passphrase-file", "-"],
                     ["keys", "import", "x", "--key-file", name, "--keyring", demo.ring, "--passphrase-file", "-"],
                     ["keys", "import-age", "x", "--identity", name, "--keyring", demo.ring, "--passphrase-file", "-"],
                     ["keys", "import-minisign", "x", "--secret", name, "--keyring", demo.ring, "--minisign-passphrase-file", "-"],
                     ["keys", "export-minisign", "x", "-o", v.path("x.key"), "--keyring", demo.ring, "--passphrase-file", name,
                      "--minisign-passphrase-file", "-"]] {
            let r = try CLI.avault(args, stdin: Data("x\n".utf8))
            #expect(r.code == 64 && r.err.contains("standard input cannot hold both"), "\(args): \(r.code) \(r.err)")
        }
    }

    /// `-` is standard input for every file an option names for avault to read, as `age -R -`
    /// and `age -i -` are; before, `--pubkey -` opened a file named `-`, although the check of
    /// standard input named twice counted it as standard input. `./-` is the file.
    @Test func dashIsStandardInputForEveryFileAnOptionReads() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let pub = try Data(contentsOf: URL(fileURLWithPath: demo.pub))
        let record = try demo.copy("Fixtures/records/demo-v2.md", as: "a.md")
        #expect(try CLI.avault(["sign", record, "--key", "demo-desk"] + demo.args).code == 0)
        let verified = try CLI.avault(["verify", record, "--pubkey", "-", "--require-signature"], stdin: pub)
        #expect(verified.code == 0 && verified.out == "1 record: 1 passed, 0 failed (valid 1)\n", "\(verified.code) \(verified.err)")
        let otherKey = try CLI.avault(["verify", record, "--pubkey", "-", "--require-signature"],
                                      stdin: Data("untrusted comment: x\nRWQBAgMEBQYHCCgpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZH\n".utf8))
        #expect(otherKey.code == 1, "the key on standard input was not the one used: \(otherKey.code) \(otherKey.err)")
        // `./-` is a file named `-`.
        try pub.write(to: demo.dir.appendingPathComponent("-"))
        #expect(try CLI.avault(["verify", record, "--pubkey", "./-", "--require-signature"], cwd: demo.dir).code == 0)
        // A detached signature of standard input, checked against its signature file.
        let file = try demo.record("notes.txt", "text signed detached\n")
        #expect(try CLI.avault(["sign", "--detached", file, "--key", "demo-desk"] + demo.args).code == 0)
        let detached = try CLI.avault(["verify", "--detached", "-", "-x", file + ".minisig", "--pubkey", demo.pub], stdin: Data("text signed detached\n".utf8))
        #expect(detached.code == 0, "\(detached.err)")
        let changed = try CLI.avault(["verify", "--detached", "-", "-x", file + ".minisig", "--pubkey", demo.pub], stdin: Data("text signed detached!\n".utf8))
        #expect(changed.code == 1, "\(changed.err)")
        let noSignature = try CLI.avault(["verify", "--detached", "-", "--pubkey", demo.pub])
        #expect(noSignature.code == 64 && noSignature.err.contains("--detached - (standard input) needs -x SIGFILE"), "\(noSignature.err)")
        // age recipients and identities, against age itself.
        let identity = demo.dir.appendingPathComponent("id.txt").path
        let recipient = try AgeCLITests.keygen(identity)
        let plain = try demo.record("plain.txt", "for the desk\n")
        let sealedFile = demo.dir.appendingPathComponent("plain.age").path
        #expect(try CLI.avault(["age", "encrypt", "-R", "-", "-o", sealedFile, plain], stdin: Data("\(recipient)\n".utf8)).code == 0)
        #expect(try AgeCLITests.tool("age", ["-d", "-i", identity, sealedFile]).out == "for the desk\n")
        let identityBytes = try Data(contentsOf: URL(fileURLWithPath: identity))
        let opened = try CLI.avault(["age", "decrypt", "-i", "-", sealedFile], stdin: identityBytes)
        #expect(opened.code == 0 && opened.out == "for the desk\n", "\(opened.err)")
        #expect(try CLI.avault(["keys", "import-age", "desk-id", "--identity", "-"] + demo.args, stdin: identityBytes).code == 0)
        let draftText = "---\ntitle: Draft\nwebUrl: \"https://example.org/d\"\n---\nThe embargoed body.\n"
        let draft = try demo.record("draft.md", draftText)
        let sealed = try CLI.avault(["seal", draft, "--recipients-file", "-"], stdin: Data("\(recipient)\n".utf8))
        #expect(sealed.code == 0, "\(sealed.err)")
        #expect(try String(contentsOfFile: draft, encoding: .utf8).contains("secured: \"v3;"))
        #expect(try CLI.avault(["unseal", draft] + demo.args).code == 0)
        #expect(try String(contentsOfFile: draft, encoding: .utf8) == draftText)
        // A raw key file, and a trusted key added from standard input.
        let key = try Data(contentsOf: CLI.repoRoot.appendingPathComponent("keys/demo-v2.key"))
        let blob = try CLI.avault(["secured", "encrypt", "--key-file", "-", "-i", plain], stdin: key)
        #expect(blob.code == 0, "\(blob.err)")
        let back = try CLI.avault(["secured", "decrypt", "--key-file", "-", blob.out.trimmingCharacters(in: .newlines)], stdin: key)
        #expect(back.code == 0 && back.out == "for the desk\n", "\(back.err)")
        let store = demo.dir.appendingPathComponent("team.avt").path
        let added = try CLI.avault(["keys", "trust", "add", "-", "--name", "Desk", "--trust-store", store], stdin: pub)
        #expect(added.code == 0, "\(added.err)")
        #expect(try CLI.avault(["verify", record, "--trust-store", store, "--require-signature"]).code == 0)
        // Messages name standard input so.
        let junk = try CLI.avault(["verify", record, "--pubkey", "-"], stdin: Data("not a key\n".utf8))
        #expect(junk.code == 2 && junk.err.hasPrefix("avault: standard input: "), "\(junk.err)")
        let junkIdentity = try CLI.avault(["age", "decrypt", "-i", "-", sealedFile], stdin: Data("AGE-SECRET-KEY-1X\n".utf8))
        #expect(junkIdentity.code != 0 && junkIdentity.err.hasPrefix("avault: standard input: "), "\(junkIdentity.err)")
        // A secret is not read from a terminal, which would show it as it is typed; a passphrase
        // neither (without --passphrase-file, the prompt does not show it).
        let typedPassphrase = try avaultOnTerminal(["secured", "encrypt", "--key", "demo-content", "-i", plain, "--keyring", demo.ring, "--passphrase-file", "-"],
                                                   input: "demo passphrase -- public, not secret\n\u{4}")
        #expect(typedPassphrase.code == 2 && typedPassphrase.screen.contains("standard input: is a terminal"), "\(typedPassphrase.code) \(typedPassphrase.screen)")
        let typed = try avaultOnTerminal(["secured", "decrypt", "--key-file", "-", blob.out.trimmingCharacters(in: .newlines)],
                                         input: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n\u{4}")
        #expect(typed.code == 2 && typed.screen.contains("standard input: is a terminal"), "\(typed.code) \(typed.screen)")
        // An identity file larger than 16 KiB (the first piece a pipe is read in) on standard input.
        let padded = identityBytes + Data(String(repeating: "# a comment line to pad the file past 16 KiB\n", count: 500).utf8)
        let paddedOpen = try CLI.avault(["age", "decrypt", "-i", "-", sealedFile], stdin: padded)
        #expect(paddedOpen.code == 0 && paddedOpen.out == "for the desk\n", "\(paddedOpen.err)")
        // A trust store is a file checked and rewritten in place: standard input cannot be one.
        for args in [["verify", record, "--trust-store", "-"], ["keys", "trust", "list", "--trust-store", "-"]] {
            let r = try CLI.avault(args, stdin: pub)
            #expect(r.code == 64 && r.err.contains("- (standard input) cannot be one"), "\(args): \(r.code) \(r.err)")
        }
    }

    /// Found by the review of the change that made `-` standard input for every file read: the
    /// library's own reader took it so too, and `keys export-age NAME -o -` wrote the unsealed
    /// identity to a file named `-`, then read standard input to check it. `-o -` of a file that
    /// cannot be standard output, and `-` for a record rewritten in place, are usage errors.
    @Test func dashWhereAFileIsWrittenOrRewrittenIsAUsageError() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        #expect(try CLI.avault(["keys", "generate", "desk-id", "--identity"] + demo.args).code == 0)
        let record = try demo.copy("Fixtures/records/demo-v2.md", as: "a.md")
        for (args, message) in [(["keys", "export-age", "desk-id", "-o", "-"] + demo.args, "- (standard output) cannot be one"),
                                (["keys", "export", "demo-content", "-o", "-", "--export-passphrase-file", demo.dir.appendingPathComponent("pass").path] + demo.args,
                                 "- (standard output) cannot be one"),
                                (["keys", "export-minisign", "demo-desk", "-o", "-", "--unprotected"] + demo.args, "- (standard output) cannot be one"),
                                (["audit", record, "--html", "-"], "- (standard output) cannot be one"),
                                (["sign", "--export-minisig", record, "-o", "-"], "- (standard output) cannot be one"),
                                (["seal", "-", "--key", "demo-content"] + demo.args, "cannot be rewritten in place"),
                                (["unseal", "-"] + demo.args, "cannot be rewritten in place")] {
            let r = try CLI.avault(args, stdin: Data("standard input\n".utf8), cwd: demo.dir)
            #expect(r.code == 64 && r.err.contains(message), "\(args): \(r.code) \(r.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: demo.dir.appendingPathComponent("-").path), "a file named - was written")
    }

    /// A batch rewrites every record in memory before it writes any: a record it cannot rewrite
    /// stops it before the first write. Before, the records named before it were rewritten (the
    /// last left item of an earlier session: a malformed trust store met at a signed record).
    @Test func aBatchThatCannotRewriteEveryRecordRewritesNone() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let plain = "---\ntitle: Plain\nwebUrl: \"https://example.org/p\"\n---\nA body.\n"
        let first = try demo.record("first.md", plain)
        let alreadySealed = try demo.copy("Fixtures/records/demo-v2.md", as: "sealed.md")
        let sealTwice = try CLI.avault(["seal", "--key", "demo-content", first, alreadySealed] + demo.args)
        #expect(sealTwice.code == 2 && sealTwice.err.contains("already has a secured field") && sealTwice.out.isEmpty, "\(sealTwice.code) \(sealTwice.err)")
        #expect(try String(contentsOfFile: first, encoding: .utf8) == plain, "the record before the refused one was sealed")
        // `sign` of several records too (a review found it signed those before a malformed one).
        let malformedRecord = try demo.record("malformed.md", "---\ntitle: [unclosed\n---\nA body.\n")
        let signBatch = try CLI.avault(["sign", "--key", "demo-desk", first, malformedRecord] + demo.args)
        #expect(signBatch.code != 0 && signBatch.out.isEmpty && signBatch.err.contains("\(malformedRecord) could not be signed"), "\(signBatch.code) \(signBatch.err)")
        #expect(try String(contentsOfFile: first, encoding: .utf8) == plain, "the record before the malformed one was signed")
        // A draft sealed to a recipient this keyring has no identity of, after one it opens.
        let stranger = demo.dir.appendingPathComponent("stranger.txt").path
        let recipient = try AgeCLITests.keygen(stranger)
        let foreign = try demo.record("foreign.md", plain)
        #expect(try CLI.avault(["seal", "--key", "demo-content", first] + demo.args).code == 0)
        #expect(try CLI.avault(["seal", "--recipient", recipient, foreign]).code == 0)
        let sealedFirst = try String(contentsOfFile: first, encoding: .utf8)
        let unseal = try CLI.avault(["unseal", first, foreign] + demo.args)
        #expect(unseal.code != 0 && unseal.out.isEmpty, "\(unseal.code) \(unseal.err)")
        #expect(unseal.err.hasPrefix("avault: \(foreign) could not be unsealed, so no record was written:\n"), "\(unseal.err)")
        #expect(try String(contentsOfFile: first, encoding: .utf8) == sealedFirst, "the record before the one that does not open was unsealed")
        // A signed record after an unsigned one, with a malformed trust store.
        let unsigned = try demo.record("unsigned.md", plain)
        let signed = try demo.record("signed.md", plain)
        #expect(try CLI.avault(["sign", signed, "--key", "demo-desk"] + demo.args).code == 0)
        let signedText = try String(contentsOfFile: signed, encoding: .utf8)
        try CLI.write("not a trust store\n", to: URL(fileURLWithPath: demo.ring).appendingPathComponent("trust.avt"), mode: 0o600)
        let malformed = try CLI.avault(["seal", "--key", "demo-content", unsigned, signed] + demo.args)
        #expect(malformed.code == 2 && malformed.out.isEmpty, "\(malformed.code) \(malformed.err)")
        #expect(try String(contentsOfFile: unsigned, encoding: .utf8) == plain, "the unsigned record before the signed one was sealed")
        #expect(try String(contentsOfFile: signed, encoding: .utf8) == signedText)
        // Each alone: the unsigned record does not depend on the store, and is sealed.
        #expect(try CLI.avault(["seal", "--key", "demo-content", unsigned] + demo.args).code == 0)
        // A record in a directory where its rewrite cannot be written (found by a review: the
        // in-memory pass does not write). Here the temporary file's path is too long, while the
        // record's is not; without root, a directory that cannot be written does the same.
        var deep = demo.dir.path
        while deep.utf8.count < 4_070 - 200 { deep += "/" + String(repeating: "d", count: 200) }
        deep += "/" + String(repeating: "e", count: 4_070 - deep.utf8.count - 1)
        try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
        let unwritable = deep + "/b.md"
        try CLI.write(plain, to: URL(fileURLWithPath: unwritable), mode: 0o644)
        let second = try demo.record("second.md", plain)
        let tooLong = try CLI.avault(["seal", "--key", "demo-content", second, unwritable] + demo.args)
        #expect(tooLong.code == 2 && tooLong.err.contains("cannot create a file in") && tooLong.out.isEmpty, "\(tooLong.code) \(tooLong.err)")
        #expect(try String(contentsOfFile: second, encoding: .utf8) == plain, "the record before the one that cannot be written was sealed")
    }

    /// Found by a review: in a sticky directory (`/tmp`, a shared folder), only a file's owner
    /// may rename over it, which creating a temporary file there does not show; a batch that
    /// met another user's record sealed those before it, then failed. Run as `nobody`.
    @Test(.enabled(if: AgentCLITests.isRootWithSetpriv, "needs root, to run avault as nobody"))
    func aBatchStopsBeforeAnotherUsersRecordInAStickyDirectory() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(chmod(dir.path, 0o755) == 0)
        let shared = dir.appendingPathComponent("shared").path
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: false)
        #expect(chmod(shared, 0o1777) == 0)
        let plain = "---\ntitle: Plain\nwebUrl: \"https://example.org/p\"\n---\nA body.\n"
        let mine = shared + "/mine.md", theirs = shared + "/theirs.md"
        try CLI.write(plain, to: URL(fileURLWithPath: mine), mode: 0o644)
        #expect(chown(mine, 65534, 65534) == 0)
        try CLI.write(plain, to: URL(fileURLWithPath: theirs), mode: 0o666)
        let recipient = try AgeCLITests.keygen(dir.appendingPathComponent("id.txt").path)
        let r = try CLI.run("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/env", "HOME=\(shared)",
                                                 "AVAULT_KEYRING=\(shared)/no-ring", CLI.avaultPath, "seal", "--recipient", recipient, mine, theirs])
        #expect(r.code == 2 && r.err.contains("another user's file in a sticky directory") && r.out.isEmpty, "\(r.code) \(r.out) \(r.err)")
        #expect(try String(contentsOfFile: mine, encoding: .utf8) == plain, "the record before the other user's was sealed")
        #expect(try String(contentsOfFile: theirs, encoding: .utf8) == plain)
    }

    /// Left by the last session, from its third review: a closed pipe on standard output (the
    /// reader gone, as after `| head -1`) ended a batch by SIGPIPE at the line that reported its
    /// first record, after that record was written and before the others; a full one stopped
    /// it there with exit 2. Now every record is written first; then SIGPIPE ends the process
    /// as it would have, or the full disk is the error, with a hint that says so.
    @Test func standardOutputCannotStopABatchPartway() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let plain = "---\ntitle: Plain\nwebUrl: \"https://example.org/p\"\n---\nA body.\n"
        func records(_ prefix: String) throws -> [String] { try (1...3).map { try demo.record("\(prefix)\($0).md", plain) } }
        func unchanged(_ files: [String]) throws -> [String] { try files.filter { try String(contentsOfFile: $0, encoding: .utf8) == plain } }

        let piped = try records("piped")
        let closed = try avaultToClosedPipe(["seal", "--key", "demo-content"] + piped + demo.args)
        #expect(closed.status == -SIGPIPE && closed.other.isEmpty, "\(closed.status) \(closed.other)")
        let unsealedPiped = try unchanged(piped)
        #expect(unsealedPiped.isEmpty, "left unsealed: \(unsealedPiped)")

        let full = try records("full")
        let r = try avaultToFullDisk(["seal", "--key", "demo-content"] + full + demo.args)
        #expect(r.code == 2 && r.err == "avault: standard output: no space left on device\n"
                + "avault: hint: every file was written; only the report of them was cut short\n", "\(r.code) \(r.err)")
        let unsealedFull = try unchanged(full)
        #expect(unsealedFull.isEmpty, "left unsealed: \(unsealedFull)")

        // Standard error closed too, and a warning for each record (signatures the seal drops).
        let signed = try records("signed")
        #expect(try CLI.avault(["sign", "--key", "demo-desk"] + signed + demo.args).code == 0)
        let texts = try signed.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let both = try avaultToClosedPipe(["seal", "--key", "demo-content"] + signed + demo.args, closing: .both)
        #expect(both.status == -SIGPIPE, "\(both.status)")
        for (file, text) in zip(signed, texts) {
            #expect(try String(contentsOfFile: file, encoding: .utf8) != text, "\(file) was left as it was")
        }

        // Standard error alone closed: the warnings are lost, so the process ends by SIGPIPE
        // once every record is sealed (a review found exit 0 with the warnings gone).
        let warned = try records("warned")
        #expect(try CLI.avault(["sign", "--key", "demo-desk"] + warned + demo.args).code == 0)
        let warnedTexts = try warned.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let noErrors = try avaultToClosedPipe(["seal", "--key", "demo-content"] + warned + demo.args, closing: .error)
        #expect(noErrors.status == -SIGPIPE && noErrors.other.hasPrefix("sealed "), "\(noErrors.status) \(noErrors.other)")
        for (file, text) in zip(warned, warnedTexts) {
            #expect(try String(contentsOfFile: file, encoding: .utf8) != text, "\(file) was left as it was")
        }

        // Standard output past the file size limit (`ulimit -f`): SIGXFSZ ended the process
        // at the first report (a review). And a record that cannot be written under that limit
        // after standard output failed: its error, after a line saying the report fell short,
        // and no temporary file left half-written.
        let log = demo.dir.appendingPathComponent("report.log").path
        try CLI.write(String(repeating: "x", count: 30_000), to: URL(fileURLWithPath: log))
        func limited(_ files: [String]) throws -> CLI.Result {
            try CLI.run("/bin/sh", ["-c", "ulimit -f 20; exec \"$0\" \"$@\" >> \(log)", CLI.avaultPath, "seal", "--key", "demo-content"] + files + demo.args)
        }
        let capped = try records("capped")
        let c = try limited(capped)
        #expect(c.code == 2 && c.err == "avault: standard output: file too large\n"
                + "avault: hint: every file was written; only the report of them was cut short\n", "\(c.code) \(c.err)")
        let unsealedCapped = try unchanged(capped)
        #expect(unsealedCapped.isEmpty, "left unsealed: \(unsealedCapped)")
        let large = try demo.record("large.md", plain + String(repeating: "A long body line.\n", count: 2_000))
        let small = try records("small")
        let l = try limited(small + [large])
        #expect(l.code == 2 && l.err.hasPrefix("avault: standard output: file too large: files written before the error below may be missing from the report\n")
                && l.err.contains("large.md"), "\(l.code) \(l.err)")
        let unsealedSmall = try unchanged(small)
        #expect(unsealedSmall.isEmpty, "left unsealed: \(unsealedSmall)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: demo.dir.path).filter { $0.hasPrefix(".avault-tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")

        // Detached signatures and a minisign export report each file too.
        let detached = try records("detached")
        let d = try avaultToClosedPipe(["sign", "--detached", "--key", "demo-desk"] + detached + demo.args)
        #expect(d.status == -SIGPIPE && d.other.isEmpty, "\(d.status) \(d.other)")
        #expect(detached.allSatisfy { FileManager.default.fileExists(atPath: $0 + ".minisig") })
        let toExport = try records("export")
        #expect(try CLI.avault(["sign", "--key", "demo-desk"] + toExport + demo.args).code == 0)
        let exported = demo.dir.appendingPathComponent("exported").path
        let e = try avaultToClosedPipe(["sign", "--export-minisig", "-o", exported] + toExport + demo.args)
        #expect(e.status == -SIGPIPE && e.other.isEmpty, "\(e.status) \(e.other)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: exported).count == 2 * toExport.count)

        // `keys rotate --trust` writes the keyring, reports, then writes the trust store (a
        // review found the new version left untrusted).
        let store = URL(fileURLWithPath: demo.ring).appendingPathComponent("trust.avt")
        let trusted = try String(contentsOf: store, encoding: .utf8)
        let rotate = try avaultToClosedPipe(["keys", "rotate", "demo-desk", "--trust"] + demo.args)
        #expect(rotate.status == -SIGPIPE, "\(rotate.status) \(rotate.other)")
        #expect(try String(contentsOf: store, encoding: .utf8) != trusted, "the new version was not trusted")
    }

    /// Found by a review: standard output on a pipe the caller made non-blocking (as some
    /// runtimes leave it) ended the report at the first full pipe ("resource temporarily
    /// unavailable", exit 2). Now a write waits until the pipe takes more.
    @Test func aNonBlockingStandardOutputIsWaitedFor() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let plain = "---\ntitle: Plain\nwebUrl: \"https://example.org/p\"\n---\nA body.\n"
        let files = try (1...80).map { try demo.record("nonblocking-record-\($0).md", plain) }
        let script = """
            import fcntl, os, sys, time
            read_end, write_end = os.pipe()
            fcntl.fcntl(write_end, 1031, 4096)  # F_SETPIPE_SZ: one page
            fcntl.fcntl(write_end, fcntl.F_SETFL, fcntl.fcntl(write_end, fcntl.F_GETFL) | os.O_NONBLOCK)
            pid = os.fork()
            if pid == 0:
                os.dup2(write_end, 1)
                os.execv(sys.argv[1], sys.argv[1:])
            os.close(write_end)
            time.sleep(1)
            out = b""
            while chunk := os.read(read_end, 65536):
                out += chunk
            _, status = os.waitpid(pid, 0)
            sys.stdout.buffer.write(out)
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        let r = try CLI.run("python3", ["-c", script, CLI.avaultPath, "seal", "--key", "demo-content"] + files + demo.args)
        #expect(r.code == 0 && r.err.isEmpty, "\(r.code) \(r.err)")
        #expect(r.out == files.map { "sealed \($0)\n" }.joined())
    }

    /// A closed descriptor 0, 1 or 2 is not given to a file: `vault put ID <&-` read its payload
    /// from the first file it opened as 0, the vault's own directory ("is a directory"). Now it
    /// fails as reading a closed standard input does, and stores nothing.
    @Test func aClosedStandardDescriptorIsNotReusedForAFile() throws {
        let v = try VaultFixture()
        let put = try CLI.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" <&-", CLI.avaultPath, "vault", "put", "doc"], env: v.environment)
        #expect(put.code == 2 && put.err == "avault: doc: bad file descriptor\n", "\(put.code) \(put.err)")
        #expect(try v.avault(["vault", "list"]).out == "no objects\n")
        // Output and messages on closed descriptors: the put is stored, its report fails.
        let closedOutput = try CLI.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" >&-", CLI.avaultPath, "vault", "put", "doc"],
                                       stdin: Data("payload\n".utf8), env: v.environment)
        #expect(closedOutput.code == 2 && closedOutput.err == "avault: standard output: bad file descriptor\n"
                + "avault: hint: the version was stored (putting it again would store another); only the report of it was cut short\n", "\(closedOutput.err)")
        let closedError = try CLI.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" 2>&-", CLI.avaultPath, "vault", "get", "doc"], env: v.environment)
        #expect(closedError.code == 0 && closedError.out == "payload\n")
        let missing = try CLI.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" 2>&-", CLI.avaultPath, "vault", "get", "nosuch"], env: v.environment)
        #expect(missing.code == 2 && missing.err.isEmpty)
        #expect(try v.avault(["vault", "verify"]).code == 0)
    }

    @Test func verifyReadsOneRecordFromStandardInput() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let a = try demo.copy("Fixtures/records/demo-v2.md", as: "a.md")
        #expect(try CLI.avault(["sign", a, "--key", "demo-desk"] + demo.args).code == 0)
        let text = try Data(contentsOf: URL(fileURLWithPath: a))
        let ok = try CLI.avault(["verify", "-", "--keyring", demo.ring, "--require-signature"], stdin: text)
        #expect(ok.code == 0, "\(ok.out)\(ok.err)")
        #expect(ok.out == "1 record: 1 passed, 0 failed (valid 1)\n")
        let tampered = Data(String(decoding: text, as: UTF8.self).replacingOccurrences(of: "quality: 41", with: "quality: 99").utf8)
        let bad = try CLI.avault(["verify", "-", "--keyring", demo.ring], stdin: tampered)
        #expect(bad.code == 1)
        #expect(bad.out.hasPrefix("-: invalid"), "\(bad.out)")
    }

    @Test func signRefusesStandardInput() throws {
        let r = try CLI.avault(["sign", "-", "--key", "k"])
        #expect(r.code == 64)
        #expect(r.err.contains("- (standard input) cannot be signed: sign rewrites the record in place"), "\(r.err)")
        let d = try CLI.avault(["sign", "--detached", "-", "--key", "k"])
        #expect(d.code == 64)
        #expect(d.err.contains("standard input has no name"))
    }

    @Test func aFailedWriteToStandardOutputExitsTwo() throws {
        let expected = "avault: standard output: no space left on device\n"
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try privateKey("demo-v2.key", in: dir)
        let enc = try avaultToFullDisk(["secured", "encrypt", "--key-file", key, "-i", key])
        #expect(enc.code == 2)
        #expect(enc.err == expected)

        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let list = try avaultToFullDisk(["keys", "list"] + demo.args)
        #expect(list.code == 2)
        #expect(list.err == expected)
        let a = try demo.copy("Fixtures/records/demo-v2.md", as: "a.md")
        let verify = try avaultToFullDisk(["verify", "--json", a, "--keyring", demo.ring])
        #expect(verify.code == 2)
        #expect(verify.err == expected)
        let audit = try avaultToFullDisk(["audit", a, "--keyring", demo.ring])
        #expect(audit.code == 2)
        #expect(audit.err == expected)
        // Help and the version too (the argument parser printed them and exited 0 whatever
        // the write did: a review).
        for args in [["--help"], ["--version"], ["verify", "--help"], ["help", "vault"], ["vault", "put", "--help"]] {
            let r = try avaultToFullDisk(args)
            #expect(r.code == 2 && r.err == expected, "\(args): \(r.code) \(r.err)")
        }

        let v = try VaultFixture()
        try v.put("doc", Data("payload\n".utf8))
        let env = v.environment
        let vlist = try avaultToFullDisk(["vault", "list"], env: env)
        #expect(vlist.code == 2)
        #expect(vlist.err == expected)
        let get = try avaultToFullDisk(["vault", "get", "doc"], env: env)
        #expect(get.code == 2)
        #expect(get.err == expected)

        // `canonical --json`: the output's failure is exit 2, not the answer "no" (a review).
        let json = dir.appendingPathComponent("d.json").path
        try CLI.write("{\"b\": 1, \"a\": 2}", to: URL(fileURLWithPath: json))
        let canonical = try avaultToFullDisk(["canonical", "--json", json])
        #expect(canonical.code == 2 && canonical.err == expected, "\(canonical.code) \(canonical.err)")

        // A change that is made before its report says so when the report fails, so that a
        // script does not make it again (a review found `put` retried into a second version).
        let put = try avaultToFullDisk(["vault", "put", "doc", "-"], env: env)
        #expect(put.code == 2 && put.err == expected.dropLast() + "\navault: hint: the version was stored (putting it again would store another); "
                + "only the report of it was cut short\n", "\(put.err)")
        #expect(try v.get("doc", version: 2).code == 0)
        for (args, done) in [(["vault", "rm", "doc"], "it was removed"), (["vault", "purge", "doc", "--force"], "it was purged")] {
            let r = try avaultToFullDisk(args, env: env)
            #expect(r.code == 2 && r.err.contains("avault: hint: \(done); only the report of it was cut short"), "\(args): \(r.err)")
        }
        #expect(try v.get("doc").code == 2, "the purge stands")
    }

    /// Options that apply to records only are refused with --detached rather than ignored: a
    /// script reading `--json` got text (a review).
    @Test func optionsForRecordsAreRefusedWithDetached() throws {
        for extra in [["--json"], ["-q"], ["--require-signature"], ["--jobs", "2"], ["--include", "*.md"]] {
            let r = try CLI.avault(["verify", "--detached", "x.md"] + extra)
            #expect(r.code == 64 && r.err.contains("applies to records, not to --detached"), "\(extra): \(r.code) \(r.err)")
        }
        let x = try CLI.avault(["verify", "x.md", "-x", "x.md.minisig"])
        #expect(x.code == 64 && x.err.contains("go with --detached"), "\(x.err)")
        // `keys list --verify` with no keyring there is no verification (it listed nothing and exited 0).
        let missing = try CLI.avault(["keys", "list", "--verify", "--json", "--keyring", "/nonexistent/avault-keyring"])
        #expect(missing.code == 2 && missing.err.hasPrefix("avault: no keyring at /nonexistent/avault-keyring\n") && missing.stdout.isEmpty, "\(missing.err)")
        // A hint's path that starts with `-` comes after `--`.
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = dir.appendingPathComponent("-k.key")
        try CLI.write(String(repeating: "ab", count: 32), to: key, mode: 0o644)
        let loose = try CLI.avault(["secured", "encrypt", "--key-file=-k.key"], stdin: Data("x".utf8), cwd: dir)
        #expect(loose.code == 2 && loose.err.contains("avault: hint: chmod 600 -- -k.key\n"), "\(loose.err)")
    }

    @Test func binaryIsNotWrittenToATerminal() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try privateKey("demo-v2.key", in: dir)
        let binary = dir.appendingPathComponent("bin")
        try Data([0x00, 0xFF, 0x1B, 0x5B, 0x32, 0x4A, 0x41]).write(to: binary)
        let enc = try CLI.avault(["secured", "encrypt", "--key-file", key, "--context", "c", "-i", binary.path])
        let blob = enc.out.trimmingCharacters(in: .newlines)
        let refused = try avaultOnTerminal(["secured", "decrypt", blob, "--key-file", key, "--context", "c"])
        #expect(refused.code == 2)
        #expect(refused.screen.contains("avault: refusing to output binary to the terminal\r\navault: hint: use -o FILE or pipe it"), "\(refused.screen)")
        // Text is fine, and so is binary into a pipe.
        let text = try CLI.avault(["secured", "encrypt", "--key-file", key, "--context", "c"], stdin: Data("héllo\tthere\n".utf8))
        let shown = try avaultOnTerminal(["secured", "decrypt", text.out.trimmingCharacters(in: .newlines), "--key-file", key, "--context", "c"])
        #expect(shown.code == 0)
        #expect(shown.screen == "héllo\tthere\r\n")
        let piped = try CLI.avault(["secured", "decrypt", blob, "--key-file", key, "--context", "c"])
        #expect(piped.code == 0)
        #expect(piped.stdout == (try Data(contentsOf: binary)))

        let v = try VaultFixture()
        try v.put("bin", Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        try v.put("txt", Data("plain\n".utf8))
        let get = try avaultOnTerminal(["vault", "get", "bin"], env: v.environment)
        #expect(get.code == 2)
        #expect(get.screen.contains("refusing to output binary to the terminal"))
        let ok = try avaultOnTerminal(["vault", "get", "txt"], env: v.environment)
        #expect(ok.code == 0)
        #expect(ok.screen == "plain\r\n")
    }
}
