import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `vault put` and `vault get` stream: a 256 MiB payload keeps the process's peak resident
/// memory under 64 MiB. The key is unprotected: Argon2id for a protected keyring alone takes
/// 64 MiB by design.
///
/// How the peak is measured: `ru_maxrss` of the command from wait4(2), taken by a small
/// python3 parent that fork()s and exec()s it (python3 is already required by the interop
/// tests; GNU time is not needed). It cannot be taken from this test process directly:
/// posix_spawn and Foundation's Process start children with vfork semantics, and Linux then
/// charges the *parent's* peak (this test runner's, often over 64 MiB) to the child at exec.
@Suite(.serialized) struct VaultMemoryTests {
    static let size = 256 * 1024 * 1024
    static let limitKiB = 64 * 1024

    static let measure = """
        import os, sys
        stdin, stdout, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(os.open(stdin, os.O_RDONLY), 0)
                os.dup2(os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        _, status, usage = os.wait4(pid, 0)
        print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
        """

    /// Runs `argv` (with the fixture's environment) and returns its exit code and peak RSS in KiB.
    static func peak(_ argv: [String], env: [String: String], stdin: String = "/dev/null", stdout: String = "/dev/null",
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> (code: Int, kib: Int) {
        let r = try CLI.run("/usr/bin/env", ["-i"] + env.map { "\($0.key)=\($0.value)" } + ["python3", "-c", measure, stdin, stdout] + argv)
        try #require(r.code == 0, "python3 is required to measure peak memory: \(r.err)", sourceLocation: sourceLocation)
        let w = r.out.split(whereSeparator: \.isWhitespace)
        try #require(w.count == 2, "measure printed \(r.out)", sourceLocation: sourceLocation)
        return (try #require(Int(w[0])), try #require(Int(w[1])))
    }

    @Test(.disabled(if: CLI.sanitized, "AddressSanitizer's shadow memory and quarantine dwarf the budget")) func a256MiBPutAndGetStayUnder64MiB() throws {
        let f = try VaultFixture()
        let big = f.path("big"), out = f.path("big.out")
        defer { unlink(big); unlink(out) }
        let env = VaultSpawn.environment(f, extra: ["BIG": big])
        let avault = CLI.avaultPath

        // The measurement sees a real peak (and is not the python3 parent's own).
        let hog = try Self.peak(["/usr/bin/env", "python3", "-c", "b = bytearray(100 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"], env: env)
        #expect(hog.code == 0 && hog.kib > 100 * 1024, "a 100 MiB allocation measured as \(hog.kib) KiB")
        let small = try Self.peak(["/bin/true"], env: env)
        #expect(small.code == 0 && small.kib < 16 * 1024, "/bin/true measured as \(small.kib) KiB")

        let made = try VaultSpawn.run(["/usr/bin/head", "-c", String(Self.size), "/dev/urandom"], env: [:], stdout: big)
        try #require(made.code == 0)

        // put from a file argument, and from a pipe (standard input that is not a regular file).
        let put = try Self.peak([avault, "vault", "put", "big", big], env: env, stdout: f.path("put.out"))
        #expect(put.code == 0)
        #expect(put.kib < Self.limitKiB, "put of 256 MiB peaked at \(put.kib / 1024) MiB")
        #expect(try String(contentsOfFile: f.path("put.out"), encoding: .utf8) == "stored big version 1 (\(Self.size) bytes)\n")
        let piped = try Self.peak(["/bin/sh", "-c", "cat \"$BIG\" | \"$AVAULT\" vault put big -"], env: env)
        #expect(piped.code == 0)
        #expect(piped.kib < Self.limitKiB, "put of 256 MiB from a pipe peaked at \(piped.kib / 1024) MiB")

        // get -o, and get to a pipe compared on the fly.
        let get = try Self.peak([avault, "vault", "get", "big", "--version", "1", "-o", out], env: env)
        #expect(get.code == 0)
        #expect(get.kib < Self.limitKiB, "get -o of 256 MiB peaked at \(get.kib / 1024) MiB")
        #expect(try CLI.run("cmp", ["-s", big, out]).code == 0, "get -o wrote different bytes")
        unlink(out)
        let streamed = try Self.peak(["/bin/sh", "-c", "\"$AVAULT\" vault get big --version 2 | cmp -s - \"$BIG\""], env: env)
        #expect(streamed.code == 0, "get to a pipe did not give the payload back")
        #expect(streamed.kib < Self.limitKiB, "get of 256 MiB to a pipe peaked at \(streamed.kib / 1024) MiB")

        // verify, and rewrap after a rotation, stream too.
        let verify = try Self.peak([avault, "vault", "verify"], env: env)
        #expect(verify.code == 0)
        #expect(verify.kib < Self.limitKiB, "verify peaked at \(verify.kib / 1024) MiB")
        #expect(try f.avault(["keys", "rotate", "drafts"]).code == 0)
        let rewrap = try Self.peak([avault, "vault", "rewrap"], env: env)
        #expect(rewrap.code == 0)
        #expect(rewrap.kib < Self.limitKiB, "rewrap of 2 × 256 MiB peaked at \(rewrap.kib / 1024) MiB")
        print("vault memory (peak RSS, KiB): put \(put.kib), put from a pipe \(piped.kib), get -o \(get.kib), get to a pipe \(streamed.kib), verify \(verify.kib), rewrap \(rewrap.kib)")
        let again = try Self.peak(["/bin/sh", "-c", "\"$AVAULT\" vault get big --version 1 | cmp -s - \"$BIG\""], env: env)
        #expect(again.code == 0, "after rewrap the payload reads back")
    }
}
