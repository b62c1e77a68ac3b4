import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Where a fixture's vault lives: the tests that run against both stores take it as their argument.
enum VaultStore: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case files, postgres
    /// PostgreSQL through a debug build's switch that makes libpq's pipeline mode unavailable
    /// (`AVAULT_TEST_LIBPQ_WITHOUT_PIPELINE`): one statement at a time, as with libpq 13.
    case postgresWithoutPipeline = "postgres-without-pipeline"
    /// Every store the binary under test has; a release build has no switch for the last one.
    static var allCases: [VaultStore] { CLI.debugBuild ? [.files, .postgres, .postgresWithoutPipeline] : [.files, .postgres] }
    var testDescription: String { rawValue }
    var isPostgres: Bool { self != .files }
}

/// A throwaway keyring and vault in a fresh temporary directory, driven through the real
/// `avault` binary with a fully explicit environment: AVAULT_KEYRING, AVAULT_VAULT and
/// AVAULT_PASSPHRASE always point into the temporary directory, HOME and the XDG variables
/// too, and every other AVAULT_* variable is removed, so no test can touch the user's real
/// ~/.config or ~/.local.
final class VaultFixture {
    /// Variables removed from every command's environment unless the fixture sets them.
    static let clearedVariables = ["AVAULT_PASSPHRASE", "AVAULT_NEW_PASSPHRASE", "AVAULT_MINISIGN_PASSPHRASE",
                                   "AVAULT_KEYRING", "AVAULT_TRUST_STORE", "AVAULT_VAULT", "XDG_DATA_HOME", "XDG_CONFIG_HOME",
                                   "AVAULT_AGENT_SOCK", "XDG_RUNTIME_DIR", "AVAULT_TEST_LIBPQ_WITHOUT_PIPELINE"]

    let dir: URL
    let passphrase: String
    let keyName: String
    let store: VaultStore
    /// The vault's location: a directory in `dir`, or the URL of a fresh database of the test
    /// process's PostgreSQL cluster (or of the one given).
    let vault: String
    /// The PostgreSQL cluster of a `.postgres` fixture.
    let server: PostgresServer?

    /// Creates the fixture; unless `initialize` is false, also a content key `keyName`
    /// (unprotected unless `protected`) and a vault protected by it.
    init(store: VaultStore = .files, keyName: String = "drafts", protected: Bool = false, initialize: Bool = true,
         server: PostgresServer? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        dir = try CLI.tempDirectory()
        self.store = store
        switch store {
        case .files:
            vault = dir.appendingPathComponent("vault").path
            self.server = nil
        case .postgres, .postgresWithoutPipeline:
            let server = try server ?? PostgresServer.shared()
            vault = try server.createDatabase()
            self.server = server
        }
        passphrase = "vt-pass-" + UUID().uuidString.prefix(8).lowercased()
        self.keyName = keyName
        for sub in ["home", "xdg-data", "xdg-config", "work"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        if initialize {
            let g = try avault(["keys", "generate", keyName, "--secret"] + (protected ? [] : ["--unprotected"]))
            try #require(g.code == 0, "keys generate: \(g.err)", sourceLocation: sourceLocation)
            let i = try avault(["vault", "init", "--key", keyName])
            try #require(i.code == 0, "vault init: \(i.err)", sourceLocation: sourceLocation)
        }
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    var ring: String { dir.appendingPathComponent("ring").path }

    /// The bytes of the vault's log (a file, or the rows of `avault_log`, a newline after each).
    func readLog() throws -> Data {
        switch store {
        case .files: return try vaultRead(vault + "/log")
        case .postgres, .postgresWithoutPipeline:
            let rows = try psql("SELECT encode(line, 'hex') FROM avault_log ORDER BY seq")
            var out = Data()
            for row in rows.split(separator: "\n") { out += Self.unhex(row) + Data("\n".utf8) }
            return out
        }
    }

    /// Replaces the vault's log behind avault's back (in PostgreSQL, one row per line; a last
    /// line without its newline becomes a row like the others).
    /// How many signed heads `log.heads` (or its table) holds.
    func signedHeadCount() throws -> Int {
        switch store {
        case .files: return ((try? String(contentsOfFile: vault + "/log.heads", encoding: .utf8)) ?? "").split(separator: "\n").count
        case .postgres, .postgresWithoutPipeline: return Int(try psql("SELECT count(*) FROM avault_log_heads").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
    }

    func writeLog(_ bytes: Data) throws {
        switch store {
        case .files: try vaultOverwrite(vault + "/log", with: bytes)
        case .postgres, .postgresWithoutPipeline:
            var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
            if lines.last?.isEmpty == true { lines.removeLast() }
            let values = lines.enumerated().map { "(\($0.offset + 1), decode('\(CLI.hex($0.element))', 'hex'))" }
            try psql("BEGIN; DELETE FROM avault_log;" + (values.isEmpty ? "" : " INSERT INTO avault_log (seq, line) VALUES " + values.joined(separator: ", ") + ";") + " COMMIT")
        }
    }

    static func unhex(_ hex: some StringProtocol) -> Data {
        var out = Data()
        var high: UInt8?
        for c in hex.utf8 {
            guard let v = UInt8(String(UnicodeScalar(c)), radix: 16) else { continue }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }

    /// Runs `sql` in the fixture's database (a PostgreSQL vault only).
    @discardableResult
    func psql(_ sql: String) throws -> String {
        guard let server else { preconditionFailure("psql on a file vault") }
        return try server.psql(PostgresServer.database(of: vault), sql)
    }
    var objects: String { vault + "/objects" }
    /// A scratch path inside the fixture's directory.
    func path(_ name: String) -> String { dir.appendingPathComponent("work/" + name).path }

    /// The environment every command gets.
    var environment: [String: String] {
        var env = ["AVAULT_KEYRING": ring, "AVAULT_VAULT": vault, "AVAULT_PASSPHRASE": passphrase,
                   "HOME": dir.appendingPathComponent("home").path,
                   "XDG_DATA_HOME": dir.appendingPathComponent("xdg-data").path,
                   "XDG_CONFIG_HOME": dir.appendingPathComponent("xdg-config").path]
        if store == .postgresWithoutPipeline { env["AVAULT_TEST_LIBPQ_WITHOUT_PIPELINE"] = "1" }
        return env
    }

    /// Runs `avault args…`; `env` values override the fixture's (nil unsets).
    @discardableResult
    func avault(_ args: [String], stdin: Data = Data(), env: [String: String?] = [:]) throws -> CLI.Result {
        var given: [String: String?] = environment.mapValues { $0 }
        for (k, v) in env { given[k] = v }
        var set: [String: String] = [:]
        for (k, v) in given { if let v { set[k] = v } }
        var unset: [String] = []
        for name in Self.clearedVariables where set[name] == nil { unset += ["-u", name] }
        return try CLI.run("/usr/bin/env", unset + [CLI.avaultPath] + args, stdin: stdin, env: set)
    }

    /// Parses the JSON object a `--json` command printed (expects exit 0 unless `code` says).
    func json(_ args: [String], code: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let r = try avault(args + ["--json"])
        #expect(r.code == code, "\(args): exit \(r.code): \(r.err)", sourceLocation: sourceLocation)
        return try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any],
                            "\(args): not JSON: \(r.out) \(r.err)", sourceLocation: sourceLocation)
    }

    /// Stores `payload` as a new version of `id` (through a file, or standard input when
    /// `viaStdin`); returns the version avault reported.
    @discardableResult
    func put(_ id: String, _ payload: Data, viaStdin: Bool = false, extra: [String] = [],
             sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let r: CLI.Result
        if viaStdin {
            r = try avault(["vault", "put"] + extra + ["--", id, "-"], stdin: payload)
        } else {
            let file = path("payload-" + UUID().uuidString)
            try payload.write(to: URL(fileURLWithPath: file))
            defer { unlink(file) }
            r = try avault(["vault", "put"] + extra + ["--", id, file])
        }
        try #require(r.code == 0, "put \(id.prefix(40)): exit \(r.code): \(r.err)", sourceLocation: sourceLocation)
        return try #require(Self.storedVersion(r.out), "put printed: \(r.out)", sourceLocation: sourceLocation)
    }

    /// The version N in avault's `stored ID version N (S bytes)` line.
    static func storedVersion(_ out: String) -> Int? {
        guard let range = out.range(of: " version ", options: .backwards) else { return nil }
        return Int(out[range.upperBound...].prefix(while: \.isNumber))
    }

    /// `vault get ID [--version N]` (the ID after `--`).
    func get(_ id: String, version: Int? = nil) throws -> CLI.Result {
        try avault(["vault", "get"] + (version.map { ["--version", String($0)] } ?? []) + ["--", id])
    }

    /// The committed envelope file names in objects/ (sorted), and the leftovers.
    func envelopeFiles() throws -> (envelopes: [String], leftovers: [String]) {
        let names = try FileManager.default.contentsOfDirectory(atPath: objects).sorted()
        return (names.filter { !$0.hasPrefix(".") }, names.filter { $0.hasPrefix(".") })
    }

    /// Every path under the vault directory, relative to it, recursively.
    func allVaultPaths() throws -> [String] {
        let e = try #require(FileManager.default.enumerator(atPath: vault))
        return e.compactMap { $0 as? String }.sorted()
    }

    /// `vault verify --json`'s lists.
    /// `vault verify --json` with `env`: its exit code and its `unexpected` files (with no
    /// leftovers: a store whose writes are atomic leaves none).
    func verifyJSON(env: [String: String?] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> (code: Int32, unexpected: [Any]) {
        let r = try avault(["vault", "verify", "--json"], env: env)
        let report = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], "\(r.err)", sourceLocation: sourceLocation)
        #expect((report["leftovers"] as? [Any])?.isEmpty == true, "\(report)", sourceLocation: sourceLocation)
        return (r.code, report["unexpected"] as? [Any] ?? [])
    }

    func verify(sourceLocation: SourceLocation = #_sourceLocation) throws -> (code: Int32, report: VerifyReport) {
        let r = try avault(["vault", "verify", "--json"])
        let object = try #require(try? JSONSerialization.jsonObject(with: r.stdout) as? [String: Any],
                                  "verify printed no JSON (exit \(r.code)): \(r.out) \(r.err)", sourceLocation: sourceLocation)
        return (r.code, VerifyReport(object))
    }
}

struct VerifyReport: CustomStringConvertible {
    var ok: Bool
    var objects: Int
    var versions: Int
    var missing: [String]
    var corrupt: [String]
    var unexpected: [String]
    var leftovers: [String]
    var quarantined: [String]
    /// The IDs the corrupt and missing entries name (null entries left out).
    var namedIDs: [String]

    init(_ o: [String: Any]) {
        // Each entry is {"file", "id", "version"}; the tests compare the file names.
        func files(_ key: String) -> [String] {
            (o[key] as? [[String: Any]])?.map { $0["file"] as? String ?? "<no file>" } ?? ["<absent>"]
        }
        ok = o["ok"] as? Bool ?? false
        objects = o["objects"] as? Int ?? -1
        versions = o["versions"] as? Int ?? -1
        missing = files("missing")
        corrupt = files("corrupt")
        unexpected = files("unexpected")
        leftovers = files("leftovers")
        quarantined = files("quarantined")
        namedIDs = ["missing", "corrupt"].flatMap { (o[$0] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }
    }

    var description: String {
        "ok \(ok), \(objects) objects, \(versions) versions, missing \(missing), corrupt \(corrupt), unexpected \(unexpected), leftovers \(leftovers)"
    }
}


/// Processes started with posix_spawn: each in a process group of its own (so a test can
/// SIGKILL a whole tree), standard streams from and to files, only fds 0–2 inherited, and
/// the child's peak resident memory read back with wait4.
enum VaultSpawn {
    struct Exit {
        var code: Int32?
        var signal: Int32?
        /// Peak resident set size in KiB (the child's, and any of its waited-for descendants').
        var maxRSSKiB: Int
    }

    /// Starts `argv` with exactly `env`; returns its pid (also its process group id).
    static func start(_ argv: [String], env: [String: String], stdin: String = "/dev/null",
                      stdout: String = "/dev/null", stderr: String = "/dev/null") throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        closeFrom3(&actions)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in cArgs + cEnv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attr, cArgs, cEnv)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        return pid
    }

    /// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+; not in Swift's Glibc module): so a
    /// long-lived child does not hold other tests' pipes open.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private static func closeFrom3(_ actions: inout posix_spawn_file_actions_t) {
        if let addCloseFrom { _ = addCloseFrom(&actions, 3) }
    }

    /// Waits for `pid` (a child of this process).
    static func wait(_ pid: pid_t) -> Exit {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            if errno != EINTR { return Exit(code: nil, signal: nil, maxRSSKiB: 0) }
        }
        return Exit(status: status, usage: usage)
    }

    /// Waits for `pid` (a child of this process) for at most `seconds`: its exit and how long
    /// after the call it came, or nil while it still runs.
    static func wait(_ pid: pid_t, atMost seconds: Double) -> (exit: Exit, after: Double)? {
        let start = Date()
        while true {
            var status: Int32 = 0
            var usage = rusage()
            let rc = wait4(pid, &status, WNOHANG, &usage)
            let elapsed = Date().timeIntervalSince(start)
            if rc == pid { return (Exit(status: status, usage: usage), elapsed) }
            if rc < 0, errno != EINTR { return (Exit(code: nil, signal: nil, maxRSSKiB: 0), elapsed) }
            if elapsed >= seconds { return nil }
            usleep(UInt32(min(seconds - elapsed, 0.002) * 1_000_000))
        }
    }

    /// Runs to completion.
    static func run(_ argv: [String], env: [String: String], stdin: String = "/dev/null",
                    stdout: String = "/dev/null", stderr: String = "/dev/null") throws -> Exit {
        wait(try start(argv, env: env, stdin: stdin, stdout: stdout, stderr: stderr))
    }

    /// SIGKILLs the whole process group `pid` and reaps its leader.
    static func killGroup(_ pid: pid_t) -> Exit {
        kill(-pid, SIGKILL)
        return wait(pid)
    }

    /// Whether any process of group `pgid` is still alive.
    static func groupAlive(_ pgid: pid_t) -> Bool { kill(-pgid, 0) == 0 }

    /// The fixture's environment for a spawned shell: exactly the fixture's variables, PATH,
    /// and `AVAULT` (the binary).
    static func environment(_ f: VaultFixture, extra: [String: String] = [:]) -> [String: String] {
        var env = f.environment
        env["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        env["AVAULT"] = CLI.avaultPath
        env["LC_ALL"] = "C"
        for (k, v) in extra { env[k] = v }
        return env
    }
}

extension Data {
    /// Flips bit 0 of the byte at `offset` (negative: from the end).
    mutating func vaultFlip(at offset: Int, mask: UInt8 = 0x01) {
        let i = offset >= 0 ? offset : count + offset
        self[i] ^= mask
    }
}

/// Overwrites `path` in place, keeping its mode (avault refuses vault files that others can read).
func vaultOverwrite(_ path: String, with data: Data) throws {
    let fd = open(path, O_WRONLY | O_TRUNC)
    guard fd >= 0 else { throw POSIXError(.ENOENT) }
    defer { close(fd) }
    _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

/// The permission bits of `path`.
func vaultMode(_ path: String) throws -> Int {
    try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
}

func vaultRead(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

/// The exit status of a process that ended normally and said why on stderr: 1 or 2 with
/// `avault: …` (anything else, including a signal or a Swift trap, is a crash).
func expectVaultCleanFailure(_ r: CLI.Result, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.code == 1 || r.code == 2, "\(what): exit \(r.code) (a crash?): \(r.err)", sourceLocation: sourceLocation)
    #expect(r.err.hasPrefix("avault: "), "\(what): stderr \(r.err.debugDescription)", sourceLocation: sourceLocation)
    #expect(!r.err.contains("Fatal error") && !r.err.contains("Stack dump"), "\(what): \(r.err)", sourceLocation: sourceLocation)
}

extension VaultSpawn.Exit {
    /// From what `wait4` gave.
    init(status: Int32, usage: rusage) {
        let sig = status & 0x7f
        self.init(code: sig == 0 ? (status >> 8) & 0xff : nil, signal: sig == 0 ? nil : sig, maxRSSKiB: Int(usage.ru_maxrss))
    }
}
