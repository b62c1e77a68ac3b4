import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster for the tests of PostgreSQL vaults: Debian's server
/// (`postgresql`, `/usr/lib/postgresql/<major>/bin`), initialised in a fresh directory under
/// `/tmp` and listening only on a Unix socket in that directory (`listen_addresses=''`), with
/// `trust` authentication for its one role `avault` (nobody else can reach the socket: the
/// directory is mode 700). PostgreSQL refuses to run as root, so when the tests run as root
/// `initdb`, `pg_ctl` and the server run as the system user `avaultpg` (created if missing).
///
/// One cluster per test process, started by the first ``shared()`` and stopped when the
/// process exits (`atexit`), and, should the process die without exiting (a crash, SIGKILL),
/// by a watchdog started beside it that waits for the process to go away. Every test gets a
/// database of its own (``createDatabase()``). Nothing is skipped: a machine without the
/// server fails these tests with the reason (`scripts/setup` installs it).
public final class PostgresServer: @unchecked Sendable {
    /// The unprivileged system user the cluster runs as when the tests run as root.
    public static let systemUser = "avaultpg"
    /// The database superuser the tests connect as.
    public static let role = "avault"

    /// The temporary directory holding the cluster (`data/`), its socket and its log
    /// (`server.log`).
    public let directory: String
    /// The directory of the Unix socket (`host=` in a URL).
    public var socketDirectory: String { directory }
    /// Where `initdb`, `pg_ctl` and `psql` are.
    public let binDirectory: String
    /// The user the server runs as, when it is not this process's user.
    let runAs: String?
    /// Made by ``dedicated()`` or ``baseBackup(standby:)``: stopped by ``stop()`` or when
    /// released, not at exit.
    private let isOwned: Bool

    nonisolated(unsafe) private static var started: Result<PostgresServer, PostgresServerError>?
    private static let lock = NSLock()
    nonisolated(unsafe) fileprivate static var exitCommand: String?

    /// The cluster of this test process, started on first use.
    public static func shared() throws -> PostgresServer {
        lock.lock()
        defer { lock.unlock() }
        if let started { return try started.get() }
        let result = Result { () throws(PostgresServerError) -> PostgresServer in try PostgresServer() }
        started = result
        return try result.get()
    }

    private init(owned: Bool = false) throws(PostgresServerError) {
        binDirectory = try Self.findBinaries()
        runAs = getuid() == 0 ? try Self.unprivilegedUser() : nil
        isOwned = owned
        directory = try Self.makeDirectory(owner: runAs)
        try run(binDirectory + "/initdb", ["-D", directory + "/data", "-U", Self.role, "-A", "trust", "--no-locale", "-E", "UTF8", "--no-sync"])
        if !owned {
            // Stopped at exit, or by the watchdog if this process dies without exiting.
            Self.exitCommand = cleanupCommand
            atexit { if let command = PostgresServer.exitCommand { _ = system(command) } }
        }
        try start()
    }

    /// A cluster of the caller's own, started, for a test whose operations take the whole
    /// cluster (a base backup copies every database, and the shared cluster's hold every
    /// test's data and write WAL all the time). Stopped and removed by ``stop()`` or when
    /// released.
    public static func dedicated() throws -> PostgresServer {
        try PostgresServer(owned: true)
    }

    /// A copy of `primary` made with `pg_basebackup` (the WAL it needs streamed with it), in a
    /// directory of its own; not started.
    private init(backupOf primary: PostgresServer, standby: Bool) throws(PostgresServerError) {
        binDirectory = primary.binDirectory
        runAs = primary.runAs
        isOwned = true
        directory = try Self.makeDirectory(owner: runAs)
        try run(binDirectory + "/pg_basebackup", ["-h", primary.directory, "-U", Self.role, "-D", directory + "/data",
                                                  "-X", "stream", "-c", "fast", "--no-sync"] + (standby ? ["-R"] : []))
    }

    /// A base backup of this cluster (`pg_basebackup -X stream`) in a directory of its own, not
    /// started: with `standby`, a hot standby (`-R`) that streams and replays what this cluster
    /// writes once started; without, a restored backup, a cluster of its own as this one was
    /// when the backup was taken. Stopped and removed by ``stop()``, when released, or by a
    /// watchdog if the test process dies.
    public func baseBackup(standby: Bool) throws -> PostgresServer {
        try PostgresServer(backupOf: self, standby: standby)
    }

    /// Starts the server on a socket in ``directory`` only, and the watchdog that stops it if
    /// the test process dies without exiting.
    public func start() throws(PostgresServerError) {
        let data = directory + "/data"
        do {
            try Self.detach("/bin/sh", ["-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; [ -d \(shellQuoted([data])) ] && { \(cleanupCommand); }"])
        } catch { throw .setup("cannot start the watchdog: \(error)") }
        let options = "-c listen_addresses='' -c unix_socket_directories='\(directory)' -c fsync=off -c max_connections=60"
        try run(binDirectory + "/pg_ctl", ["-D", data, "-l", directory + "/server.log", "-w", "-t", "60", "-o", options, "start"])
    }

    /// Restarts the server with the options it was started with (for settings that take effect
    /// only then, such as `archive_mode`).
    public func restart() throws(PostgresServerError) {
        try run(binDirectory + "/pg_ctl", ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60", "-m", "fast", "restart"])
    }

    /// Makes this cluster, not running (a restored base backup), recover to a target when it
    /// next starts: `settings` (`restore_command`, `recovery_target_time`, …) appended to
    /// `postgresql.auto.conf`, and `recovery.signal`, both owned by the server's user.
    public func prepareTargetedRecovery(_ settings: [(String, String)]) throws {
        let data = directory + "/data"
        let lines = settings.map { "\($0.0) = '\($0.1.replacingOccurrences(of: "'", with: "''"))'\n" }.joined()
        let conf = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/postgresql.auto.conf"))
        try conf.seekToEnd()
        try conf.write(contentsOf: Data(lines.utf8))
        try conf.close()
        try Data().write(to: URL(fileURLWithPath: data + "/recovery.signal"))
        if let runAs, let pw = getpwnam(runAs) { chown(data + "/recovery.signal", pw.pointee.pw_uid, pw.pointee.pw_gid) }
    }

    /// Waits until this server has finished recovery (a promoted standby, a restored backup
    /// that reached its target) and accepts writes.
    public func waitForPromotion(timeout: Double = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try psql("postgres", "SELECT pg_is_in_recovery()") != "f\n" {
            guard Date() < deadline else { throw PostgresServerError.command("recovery did not end in \(timeout) s") }
            usleep(50_000)
        }
    }

    /// Stops a cluster made by ``dedicated()`` or ``baseBackup(standby:)`` and removes its
    /// directory (the shared cluster stops at exit).
    public func stop() {
        if isOwned { _ = system(cleanupCommand) }
    }

    deinit { stop() }

    /// Stops the server (if it runs) and removes its directory.
    private var cleanupCommand: String {
        let stop = shellQuoted(asServer([binDirectory + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "stop"]))
        return "\(stop) >/dev/null 2>&1; rm -rf \(shellQuoted([directory]))"
    }

    /// A fresh directory under /tmp of mode 700, owned by the server's user.
    private static func makeDirectory(owner: String?) throws(PostgresServerError) -> String {
        var template = Array("/tmp/avault-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw .setup("mkdtemp: \(String(cString: strerror(errno)))") }
        let directory = String(cString: made)
        if let owner {
            guard let pw = getpwnam(owner) else { throw .setup("no user \(owner)") }
            guard chown(directory, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
                throw .setup("chown \(directory): \(String(cString: strerror(errno)))")
            }
        }
        chmod(directory, 0o700)
        return directory
    }

    /// Waits until this hot standby has replayed everything `primary` has written so far.
    public func waitForReplay(of primary: PostgresServer, timeout: Double = 60) throws {
        let lsn = try primary.psql("postgres", "SELECT pg_current_wal_lsn()").trimmingCharacters(in: .whitespacesAndNewlines)
        let deadline = Date().addingTimeInterval(timeout)
        while try psql("postgres", "SELECT pg_last_wal_replay_lsn() >= '\(lsn)'::pg_lsn") != "t\n" {
            guard Date() < deadline else { throw PostgresServerError.command("the standby did not replay up to \(lsn) in \(timeout) s") }
            usleep(50_000)
        }
    }

    /// Creates an empty database; returns a vault URL for it (`postgresql:///NAME?host=…&user=avault`).
    public func createDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        _ = try psql("postgres", "CREATE DATABASE \(name)")
        return url(database: name)
    }

    /// The URL of database `name`.
    public func url(database name: String) -> String {
        let host = directory.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? directory
        return "postgresql:///\(name)?host=\(host)&user=\(Self.role)"
    }

    /// The database name in a URL made by ``createDatabase()``.
    public static func database(of url: String) -> String {
        String(url.dropFirst("postgresql:///".count).prefix { $0 != "?" })
    }

    /// Runs `sql` in `database` with `psql` (unaligned, tuples only; stops at the first error)
    /// and returns what it printed.
    @discardableResult
    public func psql(_ database: String, _ sql: String) throws -> String {
        let r = try psql(database, sql, as: Self.role)
        guard r.code == 0 else { throw PostgresServerError.command("psql \(sql): \(r.err)") }
        return r.out
    }

    /// Runs `sql` in `database` with `psql` as `user`, and returns its exit status and output.
    public func psql(_ database: String, _ sql: String, as user: String) throws -> (code: Int32, out: String, err: String) {
        try Self.execute(binDirectory + "/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", directory, "-U", user,
                                                  "-d", database, "-c", sql], cwd: "/")
    }

    // MARK: Setup

    /// The newest major version's bin directory under /usr/lib/postgresql (Debian's layout;
    /// /usr/local/bin/pg_ctl and the like may be links to any version, so they are not used).
    static func findBinaries() throws(PostgresServerError) -> String {
        let root = "/usr/lib/postgresql"
        let majors = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for major in majors.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(major)/bin/initdb") {
            return "\(root)/\(major)/bin"
        }
        throw .setup("no PostgreSQL server under \(root) (install Debian's postgresql: apt-get install postgresql)")
    }

    /// ``systemUser``, created (a system user without a home or a login shell) if missing.
    static func unprivilegedUser() throws(PostgresServerError) -> String {
        if getpwnam(systemUser) != nil { return systemUser }
        let r = try? execute("/usr/sbin/useradd", ["--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", systemUser], cwd: "/")
        // Another test process may have created it meanwhile.
        guard getpwnam(systemUser) != nil else { throw .setup("cannot create the user \(systemUser): \(r?.err ?? "useradd did not run")") }
        return systemUser
    }

    /// `command` as the server's user.
    private func asServer(_ command: [String]) -> [String] {
        guard let runAs else { return command }
        return ["/usr/sbin/runuser", "-u", runAs, "--"] + command
    }

    private func run(_ program: String, _ args: [String]) throws(PostgresServerError) {
        let command = asServer([program] + args)
        let r: (code: Int32, out: String, err: String)
        do { r = try Self.execute(command[0], Array(command.dropFirst()), cwd: directory) } catch { throw .setup("\(program): \(error)") }
        guard r.code == 0 else {
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
            throw .setup("\(FileSystemName.base(program)) failed (\(r.code)): \(r.err) \(r.out) \(log.suffix(2000))")
        }
    }

    /// Runs `program` and waits for it (posix_spawn and waitpid: the server that pg_ctl starts
    /// outlives it and inherits its descriptors, so neither pipes nor Foundation's `Process`
    /// bookkeeping are used). Output goes to temporary files; the caller's PG* variables are
    /// left out.
    public static func execute(_ program: String, _ args: [String], cwd: String) throws -> (code: Int32, out: String, err: String) {
        let base = "/tmp/avault-pg-out-" + UUID().uuidString
        defer { unlink(base + ".out"); unlink(base + ".err") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // Nothing else: a server or a watchdog started here outlives the call, and a descriptor it
        // inherited — the write end of the pipe another test is reading a command's output
        // from (Foundation's pipes are not close-on-exec) — would keep that pipe open until the
        // test process exits, and that test waiting for its end forever.
        // (glibc 2.34 and later; not visible through the Glibc module.)
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let closeFrom = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map({ unsafeBitCast($0, to: CloseFrom.self) }),
              closeFrom(&actions, 3) == 0 else {
            throw PostgresServerError.command("posix_spawn_file_actions_addclosefrom_np is missing (glibc 2.34 or later)")
        }
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }.map { "\($0.key)=\($0.value)" }
        // env --chdir: posix_spawn_file_actions_addchdir_np is not visible through Glibc.
        let argv = (["/usr/bin/env", "--chdir=" + cwd, program] + args).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, envp)
        guard rc == 0 else { throw PostgresServerError.command("\(program): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let out = FileManager.default.contents(atPath: base + ".out") ?? Data()
        let err = FileManager.default.contents(atPath: base + ".err") ?? Data()
        return (code, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// Starts `program` in a session of its own and does not wait for it.
    static func detach(_ program: String, _ args: [String]) throws {
        _ = try execute("/usr/bin/setsid", ["-f", program] + args, cwd: "/")
    }

    private func shellQuoted(_ words: [String]) -> String {
        words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    }
}

private enum FileSystemName {
    static func base(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }
}

/// Why the throwaway cluster could not be used.
public enum PostgresServerError: Error, CustomStringConvertible {
    case setup(String)
    case command(String)

    public var description: String {
        switch self {
        case .setup(let s): "PostgreSQL test cluster: \(s)"
        case .command(let s): "PostgreSQL test cluster: \(s)"
        }
    }
}
