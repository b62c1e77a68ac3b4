#if canImport(Glibc)
import Glibc
#endif
import VaultCrypto
import VaultFormat

/// The PostgreSQL store: the same bytes as the file store, in tables of one database (or of the
/// schema its `search_path` names first), reached through libpq (loaded when the store is first
/// used). The server keeps only what the file store keeps on disk: the config (a sealed naming
/// key), the sealed index, the hash-chained log and signed heads, and envelopes named by keyed
/// hashes, cut into rows of 64 KiB.
///
/// A locked section (``withLock(_:)``) is one transaction in `READ COMMITTED`: it starts by
/// locking the one row of `avault_head` (`SELECT … FOR UPDATE`), on which writers serialise,
/// and ends at ``commitLocked()`` or its end with `COMMIT` (or `ROLLBACK` when it throws): a
/// put — envelope rows, log rows, index — is acknowledged only once the server has committed
/// it, and a writer that dies leaves nothing behind. Readers take no lock: each statement sees
/// the last committed state (MVCC). The schema is in `docs/architecture.md`.
public final class PostgresVaultStorage: VaultStorage {
    /// The schema version this avault creates; it reads and writes every version from 1 up to
    /// it (``upgradeSchema()`` brings an older one up to it).
    public static let schemaVersion = 2
    /// The size of an envelope row.
    static let chunkSize = 65536

    /// The URL, as given (it holds no password libpq would read).
    public let url: String
    /// The URL as messages show it (``PostgresURL/redacted``): a URL that holds a password is
    /// refused, but a misspelt `password` parameter's value, which libpq refuses in its turn,
    /// is not shown either.
    public let location: String
    /// The URL as given, and the `PG*` variables that can choose the server, the database or
    /// the schema for it: the same database reached by another URL is another location to the
    /// keyring, but one URL does not name two places.
    public var canonicalLocation: [UInt8] {
        var text = Array(url.utf8)
        for name in ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "PGSERVICEFILE", "PGOPTIONS"] {
            text += [0] + Array(name.utf8) + [UInt8(ascii: "=")]
            if let value = getenv(name) { text += Array(UnsafeBufferPointer(start: UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self), count: strlen(value))) }
        }
        return text
    }
    private var connection: PostgresConnection?
    /// Inside a transaction of ours (``withLock(_:)`` or one write's), before its `COMMIT`.
    private var inTransaction = false
    /// The transaction's statements not sent yet (its `BEGIN`, its lock, its writes), each with
    /// what its result must satisfy: they travel with the next statement whose answer is
    /// needed, or with the `COMMIT`, in one round trip (pipeline mode).
    private var queued: [(statement: PostgresStatement, check: ((PostgresRows) throws(AvaultError) -> Void)?)] = []
    private var queuedBytes = 0
    /// Whether the transaction's `BEGIN` has left the queue (so the server has a transaction
    /// to roll back).
    private var begun = false
    /// Writes queued past this many bytes of values are sent (a large envelope's rows).
    static let queueLimit = 1 << 20
    /// Answers read ahead (``readAhead(_:entryPrefix:)``), each for the next read of its key.
    private var readsAhead: [String: PostgresRows] = [:]

    /// Whether `location` names a PostgreSQL vault (`postgres://…` or `postgresql://…`).
    public static func isURL(_ location: String) -> Bool {
        PostgresURL.isURL(location)
    }

    /// A store for `url`; refused if the URL carries a password (`user:password@` or a
    /// `password` parameter) or a TLS client key's passphrase (`sslpassword`), where libpq finds
    /// them (``PostgresURL``; libpq's own parse is asked again before connecting). Nothing is
    /// loaded or connected until the store is used.
    public init(url: String) throws(AvaultError) {
        if let password = PostgresURL(url)?.password { throw .postgresPasswordInURL(sslKey: password == .sslKey) }
        self.url = url
        location = PostgresURL(url)?.redacted ?? url
    }

    private func db() throws(AvaultError) -> PostgresConnection {
        if let connection { return connection }
        let c: PostgresConnection
        do { c = try PostgresConnection(conninfo: url, location: location) } catch {
            // libpq's reason may quote the URL, or a part of it.
            let redact = { (reason: String) in PostgresURL(self.url)?.redacting(reason, url: self.url) ?? reason }
            switch error {
            case let .postgresConnectionFailed(location, reason): throw .postgresConnectionFailed(location: location, reason: redact(reason))
            case let .postgresTLSRequired(location, reason): throw .postgresTLSRequired(location: location, reason: redact(reason))
            default: throw error
            }
        }
        connection = c
        return c
    }

    /// Runs `statement` and returns its rows, after the transaction's queued statements (in
    /// the same round trip).
    @discardableResult
    private func sql(_ statement: String, _ parameters: [PostgresValue] = []) throws(AvaultError) -> PostgresRows {
        try send([PostgresStatement(statement, parameters)])[0]
    }

    /// Runs the queued statements, then `statements`, in one round trip; returns the rows of
    /// `statements`.
    private func send(_ statements: [PostgresStatement]) throws(AvaultError) -> [PostgresRows] {
        let ahead = queued
        queued = []
        queuedBytes = 0
        if inTransaction { begun = true }
        let rows: [PostgresRows]
        do { rows = try db().run(ahead.map(\.statement) + statements) } catch .postgresQueryFailed(_, "23505", let reason) where reason.contains("avault_envelopes_pkey") {
            throw envelopeInTheWay(reason)
        }
        for (k, q) in ahead.enumerated() { try q.check?(rows[k]) }
        return Array(rows[ahead.count...])
    }

    /// A write: queued inside a transaction (sent with the next read or the `COMMIT`: a
    /// transaction lands whole or not at all, so nothing depends on when it travels), run at
    /// once outside one. Forgets what was read ahead.
    private func write(_ statement: String, _ parameters: [PostgresValue] = []) throws(AvaultError) {
        readsAhead = [:]
        guard inTransaction else {
            try sql(statement, parameters)
            return
        }
        let s = PostgresStatement(statement, parameters)
        queued.append((s, nil))
        queuedBytes += s.size
        if queuedBytes >= Self.queueLimit { _ = try send([]) }
    }

    /// Runs `body` in a transaction of ours, holding `avault_head`'s row lock if `lock`,
    /// committed at its end (unless ``commitLocked()`` did) or rolled back if it throws. The
    /// `BEGIN` and the lock are queued: they travel with the first read.
    private func transaction<T>(lock: Bool, _ body: () throws(AvaultError) -> T) throws(AvaultError) -> T {
        if inTransaction { return try body() }
        inTransaction = true
        begun = false
        queued.append((PostgresStatement("BEGIN ISOLATION LEVEL READ COMMITTED"), nil))
        // A role's or database's `synchronous_commit = off` (or `options=-csynchronous_commit%3Doff`
        // in the URL) would acknowledge the `COMMIT` before it is durable: this transaction
        // turns it on. Only `off` is raised: `local`, `remote_write` and `remote_apply` flush
        // locally, and `remote_apply` (which a reader on a standby may rely on) is stronger than `on`.
        queued.append((PostgresStatement(Self.durableCommit), nil))
        if lock {
            let location = location
            queued.append((PostgresStatement("SELECT id FROM avault_head WHERE id = 1 FOR UPDATE"), { rows throws(AvaultError) in
                guard rows.count == 1 else { throw Self.headRowLost(location) }
            }))
        }
        do throws(AvaultError) {
            let result = try body()
            try commitLocked()
            return result
        } catch {
            if inTransaction { rollBack() }
            throw error
        }
    }

    /// Ends the transaction without its writes (those still queued are never sent; if its
    /// `BEGIN` never left, there is nothing on the server to roll back).
    private func rollBack() {
        inTransaction = false
        queued = []
        queuedBytes = 0
        readsAhead = [:]
        if begun { _ = try? sql("ROLLBACK") }
    }

    /// Runs `body` in a transaction of its own, unless one is open already.
    private func atomically<T>(_ body: () throws(AvaultError) -> T) throws(AvaultError) -> T {
        try transaction(lock: false, body)
    }

    /// Sets `synchronous_commit` to `on` for the transaction if it is `off`.
    static let durableCommit = "SELECT set_config('synchronous_commit', 'on', true) WHERE current_setting('synchronous_commit') = 'off'"

    // MARK: The schema

    /// The tables of schema version 1 (each statement idempotent: an interrupted init runs again);
    /// ``upgrades`` holds what later versions add.
    static let schema = [
        "CREATE TABLE IF NOT EXISTS avault_schema_version (version integer NOT NULL)",
        "CREATE TABLE IF NOT EXISTS avault_head (id integer PRIMARY KEY CHECK (id = 1))",
        "CREATE TABLE IF NOT EXISTS avault_files (name text PRIMARY KEY, bytes bytea NOT NULL)",
        "CREATE TABLE IF NOT EXISTS avault_log (seq bigint PRIMARY KEY, line bytea NOT NULL)",
        "CREATE TABLE IF NOT EXISTS avault_log_heads (seq bigint PRIMARY KEY, line bytea NOT NULL)",
        "CREATE TABLE IF NOT EXISTS avault_envelopes (name text NOT NULL, chunk integer NOT NULL, bytes bytea NOT NULL, PRIMARY KEY (name, chunk))",
        "CREATE TABLE IF NOT EXISTS avault_quarantine (name text NOT NULL, chunk integer NOT NULL, bytes bytea NOT NULL, PRIMARY KEY (name, chunk))",
        // Envelopes are ciphertext: compressing them only costs time.
        "ALTER TABLE avault_envelopes ALTER COLUMN bytes SET STORAGE EXTERNAL",
        "INSERT INTO avault_head (id) VALUES (1) ON CONFLICT DO NOTHING",
    ]

    /// What each later version adds to the one before it (each statement idempotent).
    static let upgrades: [Int: [String]] = [
        // Version 2: an index that serves a reader's prefix of entries (`entries/<bucket>`)
        // whatever the database's collation (the primary key's serves prefixes only under "C").
        2: ["CREATE INDEX IF NOT EXISTS avault_files_name_prefix ON avault_files (name text_pattern_ops)"],
    ]

    /// The statements that bring the schema from `version` to ``schemaVersion`` and record it.
    private static func statements(from version: Int) -> [String] {
        guard version < schemaVersion else { return [] }
        return ((version + 1)...schemaVersion).flatMap { upgrades[$0] ?? [] }
            + ["INSERT INTO avault_schema_version (version) VALUES (\(schemaVersion))"]
    }

    /// The schema's version, nil when there is none; with it, the rows of `along`, read in
    /// the same round trip as the version.
    private func installedSchema(along: [PostgresStatement] = []) throws(AvaultError) -> (version: Int, along: [PostgresRows])? {
        let present = try sql("SELECT to_regclass('avault_schema_version') IS NOT NULL")
        guard present.count == 1, present.bytes(0, 0) == [1] else { return nil }
        let answers = try send([PostgresStatement("SELECT max(version) FROM avault_schema_version")] + along)
        guard let v = answers[0].count == 1 ? answers[0].integer(0, 0) : nil else { return nil }
        guard v <= Self.schemaVersion else { throw .postgresSchemaVersion(location: location, found: Int(v), supported: Self.schemaVersion) }
        return (Int(v), Array(answers.dropFirst()))
    }

    public func exists() throws(AvaultError) -> Bool {
        // The config is read with the schema's version, for the vault that opens it next, and
        // so is the head row: every command that opens the vault (`verify` among them) reports
        // its loss, which would otherwise surface only as the next write's failure.
        let config = Self.readStatement("config")
        guard let (_, answers) = try installedSchema(along: [config.statement, PostgresStatement("SELECT count(*) FROM avault_head WHERE id = 1")])
        else { return false }
        guard answers[0].count == 1 else { return false }
        guard answers[1].count == 1, answers[1].integer(0, 0) == 1 else { throw Self.headRowLost(location) }
        readsAhead[config.key] = answers[0]
        return true
    }

    public func vaultRemains() throws(AvaultError) -> [String] {
        // The tables, whether or not `avault_schema_version` still holds its rows (deleted with
        // the config, the rest is still a vault's).
        let tables = ["avault_log", "avault_envelopes", "avault_files", "avault_log_heads", "avault_quarantine"]
        let present = try sql("SELECT " + tables.map { "to_regclass('\($0)') IS NOT NULL" }.joined(separator: " AND "))
        guard present.count == 1, present.bytes(0, 0) == [1] else { return [] }
        let rows = try sql("""
            SELECT (SELECT count(*) FROM avault_log), (SELECT count(DISTINCT name) FROM avault_envelopes),
                   (SELECT count(*) FROM avault_files WHERE name LIKE 'entries/%'), (SELECT count(*) FROM avault_log_heads),
                   (SELECT count(DISTINCT name) FROM avault_quarantine)
            """)
        guard rows.count == 1 else { return [] }
        let (log, envelopes, entries, heads) = (rows.integer(0, 0) ?? 0, rows.integer(0, 1) ?? 0, rows.integer(0, 2) ?? 0, rows.integer(0, 3) ?? 0)
        let quarantined = rows.integer(0, 4) ?? 0
        return (log > 1 ? ["a log of \(log) entries"] : []) + (envelopes > 0 ? ["\(envelopes) envelopes"] : [])
            + (entries > 0 ? ["\(entries) index entries"] : []) + (heads > 0 ? ["signed heads"] : [])
            + (quarantined > 0 ? ["\(quarantined) quarantined files"] : [])
    }

    /// `avault_head` without its row: no writer can lock it, and only someone who altered the
    /// tables can have deleted it (`vault init` creates it with the tables, in one transaction).
    static func headRowLost(_ location: String) -> AvaultError {
        .tampered("\(location): the table avault_head has lost its row: the vault was altered", area: .headRow)
    }

    public func create() throws(AvaultError) {
        try atomically { () throws(AvaultError) in
            // Two inits at once: the second waits here, then finds the tables.
            try write("SELECT pg_advisory_xact_lock(7406201001)")
            for statement in Self.schema { try write(statement) }
            // An interrupted init left no version, or the one it was about to record.
            let found = try installedSchema()?.version ?? 0
            for statement in Self.statements(from: found) { try write(statement) }
        }
        guard try installedSchema()?.version == Self.schemaVersion else {
            throw .internalFailure("the schema just created does not read back")
        }
    }

    /// Brings the schema up to ``schemaVersion`` in one transaction (the statements of each
    /// later version, then the new version recorded beside the old, so the table keeps the
    /// history); returns the version found and the one it is now. Needs the tables' owner (an
    /// index is created); a schema already current is left as it is.
    public func upgradeSchema() throws(AvaultError) -> (from: Int, to: Int) {
        try atomically { () throws(AvaultError) in
            // One upgrade or init at a time: the second finds the first's work done.
            try write("SELECT pg_advisory_xact_lock(7406201001)")
            guard let (found, config) = try installedSchema(along: [Self.readStatement("config").statement]),
                  config[0].count == 1 else { throw .noVault(location: location) }
            for statement in Self.statements(from: found) { try write(statement) }
            // installedSchema refuses a version above schemaVersion.
            return (found, Self.schemaVersion)
        }
    }

    // MARK: Small files and the log

    /// The table of lines behind `log` and `log.heads`, nil for a whole-file name.
    private static func lineTable(_ name: String) -> String? {
        switch name {
        case "log": "avault_log"
        case "log.heads": "avault_log_heads"
        default: nil
        }
    }

    /// The statement that reads `name`, and the key of its answer among those read ahead.
    private static func readStatement(_ name: String) -> (key: String, statement: PostgresStatement) {
        if let table = lineTable(name) { return ("lines:" + name, PostgresStatement("SELECT line FROM \(table) ORDER BY seq")) }
        return ("file:" + name, PostgresStatement("SELECT bytes FROM avault_files WHERE name = $1", [.text(name)]))
    }

    private static func entriesStatement(_ prefix: String) -> (key: String, statement: PostgresStatement) {
        // LIKE with a constant prefix, which the index of schema version 2 serves (the prefix
        // holds hex digits and '/' only; escaped all the same).
        var pattern = ""
        for c in entryPrefix + prefix {
            if c == "\\" || c == "%" || c == "_" { pattern.append("\\") }
            pattern.append(c)
        }
        pattern.append("%")
        return ("entries:" + prefix, PostgresStatement("SELECT name, bytes FROM avault_files WHERE name LIKE $1", [.text(pattern)]))
    }

    /// The answer read ahead for `key`, once; or `statement`'s.
    private func answer(_ read: (key: String, statement: PostgresStatement)) throws(AvaultError) -> PostgresRows {
        if let rows = readsAhead.removeValue(forKey: read.key) { return rows }
        return try send([read.statement])[0]
    }

    /// The log's first line and its lines from `line` on, with their line numbers (rows are
    /// numbered from 1 in the order the lines were appended).
    private static func logTailStatement(_ line: Int) -> (key: String, statement: PostgresStatement) {
        ("log-tail:\(line)", PostgresStatement("SELECT seq, line FROM avault_log WHERE seq = 1 OR seq >= $1 ORDER BY seq", [.integer(Int64(line))]))
    }

    public func readAhead(_ names: [String], logFromLine: Int?, entryPrefix: String?) throws(AvaultError) {
        let reads = names.map(Self.readStatement) + (logFromLine.map { [Self.logTailStatement($0)] } ?? [])
            + (entryPrefix.map { [Self.entriesStatement($0)] } ?? [])
        let rows = try send(reads.map(\.statement))
        readsAhead = [:]
        for (read, answer) in zip(reads, rows) { readsAhead[read.key] = answer }
    }

    public func read(_ name: String) throws(AvaultError) -> [UInt8]? {
        let rows = try answer(Self.readStatement(name))
        if Self.lineTable(name) != nil {
            guard rows.count > 0 else { return nil }
            var out: [UInt8] = []
            for r in 0..<rows.count { out += (rows.bytes(r, 0) ?? []) + [0x0A] }
            return out
        }
        return rows.count == 1 ? rows.bytes(0, 0) ?? [] : nil
    }

    public func readLog(fromLine line: Int) throws(AvaultError) -> LogTail? {
        let rows = try answer(Self.logTailStatement(line))
        guard rows.count > 0, rows.integer(0, 0) == 1 else { return nil }
        // The rows from `line` on, up to any gap (which the reader's checks then refuse).
        var text: [UInt8] = []
        var expected = Int64(line)
        for r in 0..<rows.count where rows.integer(r, 0).map({ $0 >= line }) ?? false {
            guard rows.integer(r, 0) == expected else { break }
            text += (rows.bytes(r, 1) ?? []) + [0x0A]
            expected += 1
        }
        return LogTail(first: String(decoding: rows.bytes(0, 1) ?? [], as: UTF8.self), start: line, text: String(decoding: text, as: UTF8.self))
    }

    public func replace(_ name: String, _ bytes: [UInt8]) throws(AvaultError) {
        try atomically { () throws(AvaultError) in
            if let table = Self.lineTable(name) {
                try write("DELETE FROM \(table)")
                try insertLines(table, bytes)
            } else {
                try write("INSERT INTO avault_files (name, bytes) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET bytes = EXCLUDED.bytes",
                          [.text(name), .bytes(bytes)])
            }
        }
    }

    // MARK: Index entries

    /// Entries are rows of `avault_files` named `entries/<file>`: no new table, so schema
    /// version 1 holds them and a role that can write a vault can write them.
    static let entryPrefix = "entries/"

    public func readEntries(prefix: String) throws(AvaultError) -> [(file: String, bytes: [UInt8]?)] {
        let start = Self.entryPrefix + prefix
        let rows = try answer(Self.entriesStatement(prefix))
        var out: [(file: String, bytes: [UInt8]?)] = []
        for r in 0..<rows.count {
            guard let name = rows.text(r, 0), name.utf8.starts(with: start.utf8) else { continue }
            out.append((String(name.dropFirst(Self.entryPrefix.count)), rows.bytes(r, 1) ?? []))
        }
        return out
    }

    public func writeEntry(_ file: String, _ bytes: [UInt8]) throws(AvaultError) {
        try replace(Self.entryPrefix + file, bytes)
    }

    public func removeEntry(_ file: String) throws(AvaultError) {
        try write("DELETE FROM avault_files WHERE name = $1", [.text(Self.entryPrefix + file)])
    }

    public func syncEntries() throws(AvaultError) {}

    public func quarantineEntry(_ file: String) throws(AvaultError) -> String {
        let target = Self.quarantineName(file)
        try atomically { () throws(AvaultError) in
            try write("INSERT INTO avault_quarantine (name, chunk, bytes) SELECT $2, 0, bytes FROM avault_files WHERE name = $1",
                      [.text(Self.entryPrefix + file), .text(target)])
            try write("DELETE FROM avault_files WHERE name = $1", [.text(Self.entryPrefix + file)])
        }
        return "avault_quarantine: " + target
    }

    public func append(_ name: String, _ bytes: [UInt8]) throws(AvaultError) {
        guard let table = Self.lineTable(name) else { throw .internalFailure("\(name) is not a file of lines") }
        try atomically { () throws(AvaultError) in try insertLines(table, bytes) }
    }

    /// Appends complete lines (rows never hold an unfinished line: a transaction commits whole).
    private func insertLines(_ table: String, _ bytes: [UInt8]) throws(AvaultError) {
        guard !bytes.isEmpty else { return }
        guard bytes.last == 0x0A else { throw .internalFailure("an append to \(table) must end with a newline") }
        for line in bytes.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false) {
            try write("INSERT INTO \(table) (seq, line) SELECT coalesce(max(seq), 0) + 1, $1 FROM \(table)", [.bytes(Array(line))])
        }
    }

    // MARK: Envelopes

    public func newEnvelope(_ file: String) throws(AvaultError) -> EnvelopeSink {
        PostgresEnvelopeSink(store: self, name: file)
    }

    fileprivate func insertChunk(_ name: String, _ chunk: Int, _ bytes: [UInt8]) throws(AvaultError) {
        try write("INSERT INTO avault_envelopes (name, chunk, bytes) VALUES ($1, $2, $3)", [.text(name), .integer(Int64(chunk)), .bytes(bytes)])
    }

    /// Writes a whole envelope of one row under its own name in one statement (one round trip
    /// where a temporary row and an `UPDATE` took two). The temporary name is only needed for
    /// an envelope whose rows are sent as it is written. A new envelope never replaces a row:
    /// version numbers are never used twice, so a row already under its name is one the index
    /// does not list (put back from an older copy, or planted), which may be another client's
    /// acknowledged version; the write fails (``envelopeInTheWay``) and leaves it.
    fileprivate func writeEnvelope(_ name: String, _ bytes: [UInt8]) throws(AvaultError) {
        try write("INSERT INTO avault_envelopes (name, chunk, bytes) VALUES ($1, 0, $2)", [.text(name), .bytes(bytes)])
    }

    /// Names the rows written under `temp` `name`, which no row may have yet (see
    /// ``writeEnvelope(_:_:)``).
    fileprivate func publishNew(_ temp: String, as name: String) throws(AvaultError) {
        try write("UPDATE avault_envelopes SET name = $2 WHERE name = $1", [.text(temp), .text(name)])
    }

    /// The error of a write whose new envelope found a row under its name (a unique violation
    /// of `avault_envelopes`' key, reported when the queued statements reach the server).
    private func envelopeInTheWay(_ reason: String) -> AvaultError {
        .tampered("\(location): an envelope row the index does not list holds the name of one this write makes (rows put back from "
                  + "an older copy, or planted; it may be another client's acknowledged version): it was left as it is, and nothing was written",
                  area: .vault)
    }

    fileprivate func publish(_ temp: String, as name: String) throws(AvaultError) {
        try atomically { () throws(AvaultError) in
            try write("DELETE FROM avault_envelopes WHERE name = $1", [.text(name)])
            try write("UPDATE avault_envelopes SET name = $2 WHERE name = $1", [.text(temp), .text(name)])
        }
    }

    public func openEnvelope(_ file: String) throws(AvaultError) -> EnvelopeSource? {
        // One statement: the envelope as one committed state saw it, even if a writer replaces
        // it meanwhile.
        let rows = try sql("SELECT bytes FROM avault_envelopes WHERE name = $1 ORDER BY chunk", [.text(file)])
        guard rows.count > 0 else { return nil }
        var bytes: [UInt8] = []
        for r in 0..<rows.count { bytes += rows.bytes(r, 0) ?? [] }
        return MemoryEnvelopeSource(bytes)
    }

    public func envelopeFiles() throws(AvaultError) -> (envelopes: [String], leftovers: [String]) {
        let rows = try sql("SELECT DISTINCT name FROM avault_envelopes ORDER BY name")
        var envelopes: [String] = [], leftovers: [String] = []
        for r in 0..<rows.count {
            guard let name = rows.text(r, 0) else { continue }
            // Only a sink of this very transaction can still be under a temporary name.
            if name.hasPrefix(PostgresEnvelopeSink.temporaryPrefix) { leftovers.append(name) } else { envelopes.append(name) }
        }
        return (envelopes, leftovers)
    }

    public func removeEnvelope(_ file: String) throws(AvaultError) {
        try write("DELETE FROM avault_envelopes WHERE name = $1", [.text(file)])
    }

    public func renameEnvelope(_ from: String, to: String) throws(AvaultError) {
        try publish(from, as: to)
    }

    public func quarantine(_ file: String) throws(AvaultError) -> String {
        let target = Self.quarantineName(file)
        try atomically { () throws(AvaultError) in
            try write("INSERT INTO avault_quarantine (name, chunk, bytes) SELECT $2, chunk, bytes FROM avault_envelopes WHERE name = $1",
                    [.text(file), .text(target)])
            try write("DELETE FROM avault_envelopes WHERE name = $1", [.text(file)])
        }
        return "avault_quarantine: " + target
    }

    public func removeQuarantined(object name: String?) throws(AvaultError) -> Int {
        readsAhead = [:]
        guard let name else {
            let gone = try sql("WITH gone AS (DELETE FROM avault_quarantine RETURNING name) SELECT count(DISTINCT name) FROM gone")
            return Int(gone.integer(0, 0) ?? 0)
        }
        let gone = try sql("""
            WITH gone AS (DELETE FROM avault_quarantine WHERE left(name, length($1)) = $1 OR left(name, length($2)) = $2 RETURNING name)
            SELECT count(DISTINCT name) FROM gone
            """, [.text(name + "-"), .text(VaultFiles.stagedPrefix + name + "-")])
        return Int(gone.integer(0, 0) ?? 0)
    }

    public func quarantinedFiles() throws(AvaultError) -> [String] {
        let rows = try sql("SELECT DISTINCT name FROM avault_quarantine")
        return (0..<rows.count).compactMap { rows.text($0, 0) }.sorted()
    }

    /// Nothing to do: what is committed is durable (`synchronous_commit`).
    public func syncEnvelopes() throws(AvaultError) {}

    /// Nothing to do: a reader sees only committed, durable rows.
    public func syncFiles() throws(AvaultError) {}

    /// One transaction holding the lock on `avault_head`'s row; committed by
    /// ``commitLocked()`` or at the end, rolled back if `body` throws. Nested calls run in the
    /// transaction already open. Its `BEGIN` and lock travel with its first read, its writes
    /// with its `COMMIT`: a put is two round trips while it holds the lock.
    public func withLock<T>(_ body: () throws(AvaultError) -> T) throws(AvaultError) -> T {
        try transaction(lock: true, body)
    }

    /// A locked section is one transaction: a writer that dies leaves nothing.
    public var writesAreAtomic: Bool { true }

    /// `COMMIT`s the transaction (with its queued writes): from here on its writes are durable
    /// and visible, and the lock is released. When a write or the `COMMIT` fails, nothing of
    /// the transaction lands.
    public func commitLocked() throws(AvaultError) {
        guard inTransaction else { return }
        readsAhead = [:]
        do { try sql("COMMIT") } catch {
            rollBack()
            throw error
        }
        inTransaction = false
    }
}

/// An envelope written as rows under a temporary name as they fill, and renamed to its own at
/// `commit` (one under 64 KiB is written at `commit`, under its own name, by one statement); all
/// inside the writer's transaction, so nothing is visible to others before its `COMMIT`.
final class PostgresEnvelopeSink: EnvelopeSink {
    static let temporaryPrefix = ".tmp-"
    private let store: PostgresVaultStorage
    private let name: String
    private let temp: String
    private var pending: [UInt8] = []
    private var chunks = 0
    private var done = false

    init(store: PostgresVaultStorage, name: String) {
        self.store = store
        self.name = name
        temp = Self.temporaryPrefix + Hex.encode(SecureRandom.bytes(count: 8))
        pending.reserveCapacity(PostgresVaultStorage.chunkSize)
    }

    deinit { if !done { abandon() } }

    func write(_ bytes: UnsafeRawBufferPointer) throws(AvaultError) {
        var rest = bytes[...]
        while !rest.isEmpty {
            let n = min(rest.count, PostgresVaultStorage.chunkSize - pending.count)
            pending += rest.prefix(n)
            rest = rest.dropFirst(n)
            if pending.count == PostgresVaultStorage.chunkSize { try flush() }
        }
    }

    private func flush() throws(AvaultError) {
        try store.insertChunk(temp, chunks, pending)
        chunks += 1
        pending.removeAll(keepingCapacity: true)
    }

    func commit(syncDirectory: Bool) throws(AvaultError) {
        if chunks == 0 {
            // Nothing sent yet (an envelope under 64 KiB, as most drafts are): no temporary row.
            try store.writeEnvelope(name, pending)
        } else {
            if !pending.isEmpty { try flush() }
            try store.publishNew(temp, as: name)
        }
        done = true
    }

    func abandon() {
        guard !done else { return }
        done = true
        if chunks > 0 { try? store.removeEnvelope(temp) }
    }
}

/// An envelope read whole by one statement.
final class MemoryEnvelopeSource: EnvelopeSource {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(_ count: Int) throws(AvaultError) -> [UInt8] {
        let n = min(count, bytes.count - offset)
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int {
        let n = min(buffer.count, bytes.count - offset)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)])) }
        offset += n
        return n
    }
}
