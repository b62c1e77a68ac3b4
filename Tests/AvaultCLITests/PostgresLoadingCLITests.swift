import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What happens before a PostgreSQL vault is reached: libpq is loaded only when one is opened
/// (never by `--version` or a file vault), and a URL carrying a password is refused before
/// libpq is even loaded, without echoing the password. No server is needed.
@Suite struct PostgresLoadingCLITests {
    /// The shared objects the dynamic loader opened (`LD_DEBUG=files`), by file name.
    static func loadedLibraries(_ args: [String], env: [String: String] = [:]) throws -> (result: CLI.Result, libraries: [String]) {
        let r = try CLI.avault(args, env: env.merging(["LD_DEBUG": "files"]) { a, _ in a })
        let libraries = r.err.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "file=") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != " " })
        }
        return (r, libraries)
    }

    @Test func libpqIsLoadedOnlyWhenAPostgresVaultIsOpened() throws {
        let version = try Self.loadedLibraries(["--version"])
        #expect(version.result.code == 0)
        #expect(!version.libraries.isEmpty, "LD_DEBUG=files reported nothing: the check would be blind")
        #expect(!version.libraries.contains { $0.hasPrefix("libpq") }, "--version loaded \(version.libraries)")
        // A file vault does not load it either.
        let f = try VaultFixture()
        let list = try Self.loadedLibraries(["vault", "list"], env: f.environment)
        #expect(list.result.code == 0, "\(list.result.err.suffix(300))")
        #expect(!list.libraries.contains { $0.hasPrefix("libpq") }, "a file vault loaded \(list.libraries)")
        // The control: opening a PostgreSQL vault (here one nobody serves) does load it.
        let missing = try Self.loadedLibraries(["vault", "list", "--vault", "postgresql:///none?host=/nonexistent"], env: f.environment)
        #expect(missing.libraries.contains("libpq.so.5"), "\(missing.libraries)")
        #expect(missing.result.code == 2)
        let last = missing.result.err.split(separator: "\n").filter { $0.hasPrefix("avault:") }
        #expect(last.first?.hasPrefix("avault: cannot connect to the PostgreSQL vault postgresql:///none?host=/nonexistent: ") == true, "\(last)")
    }

    @Test(arguments: ["postgres://editor:s3cretpw@db.example/news", "postgresql://editor:s3cretpw@/news?host=/run/postgresql",
                      "postgresql:///news?user=editor&password=s3cretpw", "postgres://db.example/news?sslmode=verify-full&%70assword=s3cretpw",
                      "postgresql://:s3cretpw@db.example/news",
                      // libpq's user information runs to the first '@' before any '/', past a '?':
                      // here the user is "editor?x" and the password "s3cretpw".
                      "postgresql://editor?x:s3cretpw@/news?bad",
                      // A combining mark after '@', ':' or '=' made one Swift Character of the two,
                      // and the cut libpq makes went unseen (a review).
                      "postgres://editor:s3cretpw@\u{301}db.example/news", "postgres://editor:\u{301}s3cretpw@db.example/news",
                      "postgresql:///news?password=\u{301}s3cretpw"])
    func aURLWithAPasswordIsRefusedBeforeAnyConnection(url: String) throws {
        let f = try VaultFixture(initialize: false)
        for args in [["vault", "list", "--vault", url], ["vault", "init", "--key", "drafts", "--vault", url]] {
            let r = try Self.loadedLibraries(args, env: f.environment)
            #expect(r.result.code == 2, "\(url): \(r.result.code)")
            let lines = r.result.err.split(separator: "\n").filter { $0.hasPrefix("avault:") }
            #expect(lines.first == "avault: the PostgreSQL URL carries a password, which other users can read in the process list; it was not used", "\(lines)")
            #expect(lines.dropFirst().first?.contains("PGPASSFILE") == true, "\(lines)")
            #expect(!r.result.err.contains("s3cretpw") && !r.result.out.contains("s3cretpw"), "the password was echoed")
            #expect(!r.libraries.contains { $0.hasPrefix("libpq") }, "refused before libpq is even loaded")
        }
        // AVAULT_VAULT likewise.
        let env = try f.avault(["vault", "list"], env: ["AVAULT_VAULT": url])
        #expect(env.code == 2 && env.err.contains("carries a password"))
    }

    /// The passphrase of a TLS client key (`sslpassword`) is as visible in the process list as a
    /// password: refused likewise, with a hint of its own (a review found it hidden in messages,
    /// but used).
    @Test(arguments: ["postgresql:///news?host=/nonexistent&sslpassword=s3cretpw", "postgres://db.example/news?SSLPassword=s3cretpw",
                      "postgresql:///news?host=/nonexistent&ssl%70assword=s3cretpw"])
    func aURLWithATLSKeyPassphraseIsRefusedBeforeAnyConnection(url: String) throws {
        let f = try VaultFixture(initialize: false)
        let r = try Self.loadedLibraries(["vault", "list", "--vault", url], env: f.environment)
        let lines = r.result.err.split(separator: "\n").filter { $0.hasPrefix("avault:") }
        #expect(r.result.code == 2 && lines.first == "avault: the PostgreSQL URL carries the passphrase of a TLS client key (sslpassword), "
                + "which other users can read in the process list; it was not used", "\(r.result.code) \(lines)")
        #expect(lines.dropFirst().first?.contains("pg_service.conf") == true, "\(lines)")
        #expect(!r.result.err.contains("s3cretpw"), "the passphrase was echoed")
        #expect(!r.libraries.contains { $0.hasPrefix("libpq") }, "refused before libpq is even loaded")
    }

    /// A URL that is refused only by libpq (a parameter whose name is not quite `password`, a
    /// malformed host) or that fails to connect is never echoed as given: the message shows it
    /// with the values of password-like parameters hidden, and libpq's reason, which may quote
    /// the URL or a part of it, likewise.
    @Test(arguments: [
        ("postgresql:///news?host=/nonexistent&password%00=s3cretpw", "postgresql:///news?host=/nonexistent&password%00=***"),
        ("postgresql://[::1/news?pass%77ord%00=s3cretpw", "postgresql://[::1/news?pass%77ord%00=***"),
        ("postgresql:///news?host=/nonexistent&pw%zz=s3cret%zzpw", "postgresql:///news?host=/nonexistent&pw%zz=***"),
    ])
    func aConnectionErrorNeverEchoesAPasswordLikeValue(url: String, shown: String) throws {
        let f = try VaultFixture(initialize: false)
        for args in [["vault", "list", "--vault", url], ["vault", "init", "--key", "drafts", "--vault", url]] {
            let r = try f.avault(args)
            #expect(r.code == 2, "\(url): \(r.code) \(r.err)")
            #expect(!r.err.contains("s3cret") && !r.out.contains("s3cret"), "the password was echoed: \(r.err)")
            let lines = r.err.split(separator: "\n").filter { $0.hasPrefix("avault:") }
            #expect(lines.first?.hasPrefix("avault: cannot connect to the PostgreSQL vault \(shown): ") == true, "\(lines)")
        }
    }

    /// A location that is almost a PostgreSQL URL — another case (libpq reads only the two
    /// lowercase prefixes), another scheme, or a libpq connection string — is refused with a
    /// hint, not taken for a directory of that name; the password it holds is not echoed. `./`
    /// before it names the directory.
    @Test(arguments: [
        ("host=/tmp/x dbname=news user=avault password=s3cretpw", "the vault location is a libpq connection string (host=…)"),
        ("dbname = news password=s3cretpw", "the vault location is a libpq connection string (dbname=…)"),
        ("Postgresql://editor:s3cretpw@db.example/news", "the vault location starts with Postgresql://, which libpq does not read"),
        ("POSTGRES://db.example/news?password=s3cretpw", "the vault location starts with POSTGRES://, which libpq does not read"),
        ("postgresql+psycopg://editor:s3cretpw@db.example/news", "the vault location starts with postgresql+psycopg://: a vault is a directory"),
    ])
    func aLocationThatIsAlmostAPostgresURLIsRefusedNotMadeADirectory(location: String, message: String) throws {
        let f = try VaultFixture(initialize: false)
        #expect(try f.avault(["keys", "generate", "drafts", "--secret", "--unprotected"]).code == 0)
        let work = f.path("")
        for args in [["vault", "init", "--key", "drafts", "--vault", location], ["vault", "list", "--vault", location]] {
            let r = try CLI.run("/usr/bin/env", ["--chdir=" + work, CLI.avaultPath] + args, env: f.environment)
            #expect(r.code == 2, "\(location): \(r.code) \(r.out) \(r.err)")
            let lines = r.err.split(separator: "\n")
            #expect(lines.count == 2, "\(lines)")
            #expect(lines.first?.hasPrefix("avault: " + message) == true, "\(lines)")
            #expect(lines.dropFirst().first?.hasPrefix("avault: hint: ") == true, "\(lines)")
            #expect(!r.err.contains("s3cretpw") && !r.out.contains("s3cretpw"), "the password was echoed")
            #expect(try FileManager.default.contentsOfDirectory(atPath: work).isEmpty, "a directory was made")
        }
        // ./ before it names a directory of that name.
        let dir = try CLI.run("/usr/bin/env", ["--chdir=" + work, CLI.avaultPath, "vault", "init", "--key", "drafts", "--vault", "./" + location],
                              env: f.environment)
        #expect(dir.code == 0, "\(dir.err)")
    }

    /// A server (or anyone in between) that declines TLS and then asks for the password in
    /// clear: with no `sslmode` chosen, avault asks libpq for `verify-full`, which refuses such a
    /// server before sending the password (libpq's default, `prefer`, would send it). A
    /// weaker `sslmode`, in the URL or in `PGSSLMODE`, is the user's choice and is honoured.
    @Test func aServerThatDeclinesTLSIsNeverSentThePassword() throws {
        let f = try VaultFixture(initialize: false)
        let server = try FakePostgresServer()
        defer { server.stop() }
        let env: [String: String?] = ["PGPASSWORD": "s3cretpw", "PGSSLMODE": nil, "PGSERVICE": nil, "PGHOST": nil, "PGHOSTADDR": nil,
                                      "PGREQUIRESSL": nil]
        let url = "postgresql://editor@127.0.0.1:\(server.port)/news"
        let r = try f.avault(["vault", "list", "--vault", url], env: env)
        #expect(r.code == 2, "\(r.code) \(r.err)")
        let seen = server.record()
        #expect(seen.contains("tls-request"), "the fake server saw no connection: \(seen)")
        #expect(!seen.contains("password"), "the password was sent to a server without TLS: \(seen)")
        let lines = r.err.split(separator: "\n")
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.hasPrefix("avault: cannot connect to the PostgreSQL vault \(url) with a verified TLS connection, which avault asks for when the URL sets no sslmode: ") == true, "\(lines)")
        #expect(lines.first?.contains("SSL was required") == true, "\(lines)")
        #expect(lines.dropFirst().first?.hasPrefix("avault: hint: ") == true && lines.dropFirst().first?.contains("sslmode=") == true, "\(lines)")

        // The control: a weaker sslmode chosen in the URL or in PGSSLMODE is honoured (and the
        // fake server does see a password when one is sent).
        for (chosen, extra) in [(url + "?sslmode=prefer", [:]), (url, ["PGSSLMODE": "disable"])] as [(String, [String: String?])] {
            server.clear()
            let weak = try f.avault(["vault", "list", "--vault", chosen], env: env.merging(extra) { _, b in b })
            #expect(weak.code == 2)
            #expect(server.record().contains("password s3cretpw"), "\(chosen) \(extra): \(server.record()) \(weak.err)")
        }
    }
}

/// A server that speaks just enough of PostgreSQL's protocol to catch a password: it declines
/// TLS (and GSS encryption), asks for a cleartext password, and records what it is sent
/// (`tls-request`, `startup`, `password <text>`) in a file. python3, on 127.0.0.1.
final class FakePostgresServer {
    static let script = """
        import socket, struct, sys
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        s.settimeout(60)
        print(s.getsockname()[1], flush=True)
        def note(text):
            with open(sys.argv[1], "a") as out:
                out.write(text + "\\n")
        while True:
            try:
                c, _ = s.accept()
            except socket.timeout:
                break
            c.settimeout(10)
            def read(n):
                b = b""
                while len(b) < n:
                    x = c.recv(n - len(b))
                    if not x:
                        raise EOFError()
                    b += x
                return b
            try:
                while True:
                    n, code = struct.unpack("!II", read(8))
                    if code in (80877103, 80877104):
                        note("tls-request")
                        c.sendall(b"N")
                        continue
                    read(n - 8)
                    note("startup")
                    c.sendall(b"R" + struct.pack("!II", 8, 3))
                    kind = read(1)
                    n, = struct.unpack("!I", read(4))
                    body = read(n - 4)
                    if kind == b"p":
                        note("password " + body.rstrip(b"\\0").decode(errors="replace"))
                    fields = b"SFATAL\\0C28P01\\0Mpassword authentication failed\\0\\0"
                    c.sendall(b"E" + struct.pack("!I", 4 + len(fields)) + fields)
                    break
            except (EOFError, OSError):
                note("closed")
            c.close()
        """
    let process = Process()
    let recordPath: String
    let port: Int

    init() throws {
        recordPath = try CLI.tempDirectory().appendingPathComponent("record").path
        FileManager.default.createFile(atPath: recordPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, recordPath]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let more = out.fileHandleForReading.availableData
            guard !more.isEmpty else { break }
            line += more
        }
        port = try #require(Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), "the fake server did not start")
    }

    func record() -> String { (try? String(contentsOfFile: recordPath, encoding: .utf8)) ?? "" }
    func clear() { FileManager.default.createFile(atPath: recordPath, contents: nil) }
    /// Kills it (SIGKILL: the test runner's children may inherit an ignored SIGTERM).
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
