#if canImport(Glibc)
import Glibc
#endif
import VaultCrypto
internal import CPostgres

/// libpq, loaded with `dlopen` the first time a PostgreSQL vault is opened (never at start-up:
/// linked, it brings some 20 shared libraries into every command). The only file that touches
/// libpq; everything else goes through ``PostgresConnection``.
final class LibPQ: @unchecked Sendable {
    /// The shared object looked for (libpq's ABI has been version 5 since PostgreSQL 8.2).
    static let library = "libpq.so.5"

    let connectdb: avault_PQconnectdb_fn
    let status: avault_PQstatus_fn
    let errorMessage: avault_PQerrorMessage_fn
    let finish: avault_PQfinish_fn
    let setNoticeProcessor: avault_PQsetNoticeProcessor_fn
    let execParams: avault_PQexecParams_fn
    let resultStatus: avault_PQresultStatus_fn
    let resultErrorMessage: avault_PQresultErrorMessage_fn
    let resultErrorField: avault_PQresultErrorField_fn
    let ntuples: avault_PQntuples_fn
    let nfields: avault_PQnfields_fn
    let getvalue: avault_PQgetvalue_fn
    let getlength: avault_PQgetlength_fn
    let getisnull: avault_PQgetisnull_fn
    let clear: avault_PQclear_fn
    let conninfoParse: avault_PQconninfoParse_fn
    let conninfoFree: avault_PQconninfoFree_fn
    let freemem: avault_PQfreemem_fn
    /// Pipeline mode, when the library has it (libpq 14 and later).
    let pipeline: Pipeline?

    struct Pipeline {
        let sendQueryParams: avault_PQsendQueryParams_fn
        let getResult: avault_PQgetResult_fn
        let enter: avault_PQenterPipelineMode_fn
        let exit: avault_PQexitPipelineMode_fn
        let sync: avault_PQpipelineSync_fn
    }

    private static let monitor = Monitor()
    nonisolated(unsafe) private static var loaded: LibPQ?

    /// The loaded library (loaded once per process; never unloaded).
    static func shared() throws(AvaultError) -> LibPQ {
        let result = monitor.locked { () -> Result<LibPQ, AvaultError> in
            if let loaded { return .success(loaded) }
            do throws(AvaultError) {
                let lib = try LibPQ()
                loaded = lib
                return .success(lib)
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    private init() throws(AvaultError) {
        // Lazy binding: every function used is looked up below, and the few of libpq's
        // dependencies not linked with BIND_NOW (Kerberos) then skip binding functions never
        // called (1.8 million fewer instructions per process than RTLD_NOW, callgrind).
        // libpq loads libcrypto too (TLS, SCRAM): loaded first, it is set up as VaultCrypto needs.
        LibCrypto.loadBeforeALibraryThatUsesIt()
        guard let handle = dlopen(Self.library, RTLD_LAZY | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            throw .postgresLibraryMissing(library: Self.library, reason: reason)
        }
        func symbol<F>(_ name: String, _: F.Type) throws(AvaultError) -> F {
            guard let pointer = dlsym(handle, name) else {
                throw .postgresLibraryMissing(library: Self.library, reason: "it has no function \(name)")
            }
            return unsafeBitCast(pointer, to: F.self)
        }
        connectdb = try symbol("PQconnectdb", avault_PQconnectdb_fn.self)
        status = try symbol("PQstatus", avault_PQstatus_fn.self)
        errorMessage = try symbol("PQerrorMessage", avault_PQerrorMessage_fn.self)
        finish = try symbol("PQfinish", avault_PQfinish_fn.self)
        setNoticeProcessor = try symbol("PQsetNoticeProcessor", avault_PQsetNoticeProcessor_fn.self)
        execParams = try symbol("PQexecParams", avault_PQexecParams_fn.self)
        resultStatus = try symbol("PQresultStatus", avault_PQresultStatus_fn.self)
        resultErrorMessage = try symbol("PQresultErrorMessage", avault_PQresultErrorMessage_fn.self)
        resultErrorField = try symbol("PQresultErrorField", avault_PQresultErrorField_fn.self)
        ntuples = try symbol("PQntuples", avault_PQntuples_fn.self)
        nfields = try symbol("PQnfields", avault_PQnfields_fn.self)
        getvalue = try symbol("PQgetvalue", avault_PQgetvalue_fn.self)
        getlength = try symbol("PQgetlength", avault_PQgetlength_fn.self)
        getisnull = try symbol("PQgetisnull", avault_PQgetisnull_fn.self)
        clear = try symbol("PQclear", avault_PQclear_fn.self)
        conninfoParse = try symbol("PQconninfoParse", avault_PQconninfoParse_fn.self)
        conninfoFree = try symbol("PQconninfoFree", avault_PQconninfoFree_fn.self)
        freemem = try symbol("PQfreemem", avault_PQfreemem_fn.self)
        var pipeline = try? Pipeline(sendQueryParams: symbol("PQsendQueryParams", avault_PQsendQueryParams_fn.self),
                                     getResult: symbol("PQgetResult", avault_PQgetResult_fn.self),
                                     enter: symbol("PQenterPipelineMode", avault_PQenterPipelineMode_fn.self),
                                     exit: symbol("PQexitPipelineMode", avault_PQexitPipelineMode_fn.self),
                                     sync: symbol("PQpipelineSync", avault_PQpipelineSync_fn.self))
        #if DEBUG
        // The tests run the PostgreSQL vault suite once more as with a libpq older than 14, one
        // statement at a time (a debug build only; a release build has no such switch).
        if getenv("AVAULT_TEST_LIBPQ_WITHOUT_PIPELINE") != nil { pipeline = nil }
        #endif
        self.pipeline = pipeline
    }

    /// The keywords of a connection string or URL that have a value, with it, as libpq parses
    /// it (percent-decoding, `?password=`, `user:password@` alike); libpq's reason when it does
    /// not parse.
    func keywords(of conninfo: String) -> (keywords: [String: String], problem: String?) {
        var message: UnsafeMutablePointer<CChar>?
        guard let options = conninfoParse(conninfo, &message) else {
            let problem = message.map { String(cString: $0) } ?? "it does not parse"
            if let message { freemem(message) }
            return ([:], problem.trimmedTrailingNewlines)
        }
        defer { conninfoFree(options) }
        var found: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { found[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return (found, nil)
    }
}

extension String {
    /// libpq's message on one line: its lines joined with spaces, without the final newline.
    var trimmedTrailingNewlines: String {
        split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map { $0.drop { $0 == " " || $0 == "\t" } }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// A parameter of a statement: text (sent as text, its type inferred by the server) or bytes
/// (sent in binary as `bytea`). Values always travel apart from the statement's text.
enum PostgresValue {
    case text(String)
    case bytes([UInt8])
    case integer(Int64)
}

/// A statement and its parameters ($1, $2, …).
struct PostgresStatement {
    var sql: String
    var parameters: [PostgresValue] = []

    init(_ sql: String, _ parameters: [PostgresValue] = []) {
        self.sql = sql
        self.parameters = parameters
    }

    /// The bytes of the parameters' values.
    var size: Int {
        parameters.reduce(0) {
            switch $1 {
            case .bytes(let b): $0 + b.count
            case .text(let t): $0 + t.utf8.count
            case .integer: $0 + 8
            }
        }
    }
}

/// The rows of a statement's result, every column in binary format (`bytea` as its bytes,
/// `int4`/`int8` big-endian, `text` as UTF-8).
struct PostgresRows {
    fileprivate var rows: [[[UInt8]?]] = []

    var count: Int { rows.count }

    /// The bytes of column `column` of row `row` (nil for NULL).
    func bytes(_ row: Int, _ column: Int) -> [UInt8]? { rows[row][column] }

    /// An integer column (`int2`, `int4`, `int8`, big-endian); nil for NULL.
    func integer(_ row: Int, _ column: Int) -> Int64? {
        guard let b = rows[row][column], [2, 4, 8].contains(b.count) else { return nil }
        var v: Int64 = b[0] & 0x80 != 0 ? -1 : 0
        for byte in b { v = (v << 8) | Int64(byte) }
        return v
    }

    /// A text column; nil for NULL.
    func text(_ row: Int, _ column: Int) -> String? { rows[row][column].map { String(decoding: $0, as: UTF8.self) } }
}

/// One connection to a PostgreSQL server, made by `PQconnectdb` from a URL or connection string
/// (so `PG*` variables, `~/.pgpass`, service files and `sslmode` all apply). Statements are
/// sent with `PQexecParams` (values apart from the text, `bytea` in binary); calls are
/// serialised, so the connection may be used from several threads one at a time.
final class PostgresConnection: @unchecked Sendable {
    private let lib: LibPQ
    private let conn: OpaquePointer
    private let monitor = Monitor()
    /// Where, for messages.
    let location: String

    /// Connects to `conninfo`. A password in it is refused before any connection is made. For a
    /// server reached over TCP, when the user has chosen no `sslmode` (``requiringTLS(_:options:)``),
    /// with `sslmode=verify-full`.
    init(conninfo given: String, location: String) throws(AvaultError) {
        self.location = location
        lib = try LibPQ.shared()
        let (keywords, problem) = lib.keywords(of: given)
        if let problem { throw .postgresConnectionFailed(location: location, reason: problem) }
        if keywords["password"] != nil { throw .postgresPasswordInURL(sslKey: false) }
        if keywords["sslpassword"] != nil { throw .postgresPasswordInURL(sslKey: true) }
        let careful = Self.requiringTLS(given, options: keywords)
        let conninfo = careful ?? given
        guard let conn = lib.connectdb(conninfo) else {
            throw .postgresConnectionFailed(location: location, reason: "libpq could not allocate a connection")
        }
        // Notices (such as "relation already exists, skipping") are not for the user's terminal.
        _ = lib.setNoticeProcessor(conn, { _, _ in }, nil)
        guard lib.status(conn) == AVAULT_CONNECTION_OK else {
            let reason = lib.errorMessage(conn).map { String(cString: $0) }?.trimmedTrailingNewlines ?? "unknown"
            lib.finish(conn)
            if careful != nil, reason.lowercased().contains("ssl") || reason.contains("certificate") {
                throw .postgresTLSRequired(location: location, reason: reason)
            }
            throw .postgresConnectionFailed(location: location, reason: reason)
        }
        self.conn = conn
    }

    /// `url` with `sslmode=verify-full` added, when it reaches a server over TCP and the user
    /// has chosen no `sslmode`; nil when it is left as it is. libpq's default, `prefer`, lets the
    /// server (or anyone in between) decline TLS and then ask for the password in clear, which
    /// libpq sends (from `~/.pgpass` or `PGPASSWORD`); `verify-full` refuses such a server before
    /// any password is sent, and checks that the certificate names the host. Left alone: an
    /// `sslmode` (or the older `requiressl`) in the URL or in `PGSSLMODE`/`PGREQUIRESSL` (a
    /// weaker one is the user's choice), a service (`service=` or `PGSERVICE`: its file may
    /// set one, and libpq lets the URL override the file, so adding one would overrule it), and
    /// Unix sockets only (a `host` that starts with `/` or `@`, or none: libpq's default is a
    /// socket; TLS is never used on one).
    static func requiringTLS(_ url: String, options: [String: String]) -> String? {
        func env(_ name: String) -> String? {
            guard let v = getenv(name), v[0] != 0 else { return nil }
            return String(cString: v)
        }
        guard let parsed = PostgresURL(url) else { return nil }
        for (keyword, variable) in [("sslmode", "PGSSLMODE"), ("requiressl", "PGREQUIRESSL"), ("service", "PGSERVICE")]
        where options[keyword] != nil || env(variable) != nil { return nil }
        let hostaddr = options["hostaddr"] ?? env("PGHOSTADDR") ?? ""
        let hosts = (options["host"] ?? env("PGHOST") ?? "").split(separator: ",", omittingEmptySubsequences: false)
        let tcp = !hostaddr.isEmpty || hosts.contains { !$0.isEmpty && !$0.hasPrefix("/") && !$0.hasPrefix("@") }
        guard tcp else { return nil }
        let separator = parsed.parameters == nil ? "?" : (url.hasSuffix("?") || url.hasSuffix("&") ? "" : "&")
        return url + separator + "sslmode=verify-full"
    }

    deinit { lib.finish(conn) }

    /// Runs `statements` in order and returns the rows of each; stops at the first that fails
    /// and throws its error. With pipeline mode (libpq 14 and later) they travel to the server
    /// together and their results come back together, one round trip in all: the server runs
    /// them in order, as one implicit transaction unless they hold their own `BEGIN`, and skips
    /// those after a failure. Without it, one round trip each.
    func run(_ statements: [PostgresStatement]) throws(AvaultError) -> [PostgresRows] {
        let outcome = monitor.locked { () -> Result<[PostgresRows], AvaultError> in
            guard statements.count > 1, let pipeline = lib.pipeline else {
                var out: [PostgresRows] = []
                for statement in statements {
                    let result = send(statement) { lib.execParams(conn, $0, $1, $2, $3, $4, $5, $6) }
                    guard let result else { return .failure(connectionError("no result")) }
                    switch rows(of: result) {
                    case .success(let r): out.append(r)
                    case .failure(let e): return .failure(e)
                    }
                }
                return .success(out)
            }
            return runPipelined(statements, pipeline)
        }
        return try outcome.get()
    }

    private func runPipelined(_ statements: [PostgresStatement], _ pipeline: LibPQ.Pipeline) -> Result<[PostgresRows], AvaultError> {
        guard pipeline.enter(conn) == 1 else { return .failure(connectionError("could not enter pipeline mode")) }
        var failure: AvaultError?
        var sent = 0
        for statement in statements {
            guard send(statement, { pipeline.sendQueryParams(conn, $0, $1, $2, $3, $4, $5, $6) }) == 1 else {
                failure = connectionError("the statement could not be sent")
                break
            }
            sent += 1
        }
        // Whatever was sent is followed by a sync and read back to it, so that the connection
        // leaves pipeline mode in a known state even after a failure.
        var out: [PostgresRows] = []
        var done = false
        var lastWasEnd = false
        if pipeline.sync(conn) != 1 { return .failure(failure ?? connectionError("the pipeline could not be synced")) }
        while !done {
            guard let result = pipeline.getResult(conn) else {
                // The end of one statement's results; two in a row, or a lost connection, mean
                // the sync will not come.
                if lastWasEnd || lib.status(conn) != AVAULT_CONNECTION_OK {
                    return .failure(failure ?? connectionError("the connection was lost"))
                }
                lastWasEnd = true
                continue
            }
            lastWasEnd = false
            let status = lib.resultStatus(result)
            if status == AVAULT_PGRES_PIPELINE_SYNC {
                lib.clear(result)
                done = true
            } else if status == AVAULT_PGRES_PIPELINE_ABORTED {
                lib.clear(result)
                if failure == nil { failure = connectionError("the statement was not run") }
            } else {
                switch rows(of: result) {
                case .success(let r): out.append(r)
                case .failure(let e): if failure == nil { failure = e }
                }
            }
        }
        if pipeline.exit(conn) != 1, failure == nil { failure = connectionError("could not leave pipeline mode") }
        if let failure { return .failure(failure) }
        guard out.count == statements.count else { return .failure(connectionError("\(out.count) results for \(statements.count) statements")) }
        return .success(out)
    }

    private func connectionError(_ fallback: String) -> AvaultError {
        let reason = lib.errorMessage(conn).map { String(cString: $0) }?.trimmedTrailingNewlines ?? ""
        return .postgresQueryFailed(location: location, sqlState: "", reason: reason.isEmpty ? fallback : reason)
    }

    /// Calls `call` (`PQexecParams` or `PQsendQueryParams`) with the statement's text and its
    /// values (text as C strings, bytes in binary as `bytea`), kept alive for the call; results
    /// are asked for in binary.
    private func send<R>(_ statement: PostgresStatement,
                         _ call: (String, Int32, [avault_pg_oid], UnsafePointer<UnsafePointer<CChar>?>?, [Int32], [Int32], Int32) -> R) -> R {
        var buffers: [UnsafeMutableRawPointer?] = []
        defer { for b in buffers { b?.deallocate() } }
        var types: [avault_pg_oid] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        for p in statement.parameters {
            let bytes: [UInt8]
            switch p {
            case .text(let s): bytes = Array(s.utf8) + [0]; types.append(0); formats.append(0)
            case .integer(let n): bytes = Array(String(n).utf8) + [0]; types.append(0); formats.append(0)
            case .bytes(let b): bytes = b; types.append(AVAULT_BYTEA_OID); formats.append(1)
            }
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            bytes.withUnsafeBytes { if let base = $0.baseAddress { buffer.copyMemory(from: base, byteCount: $0.count) } }
            buffers.append(buffer)
            lengths.append(Int32(bytes.count))
        }
        let values: [UnsafePointer<CChar>?] = buffers.map { $0.map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) } }
        return values.withUnsafeBufferPointer { v in
            call(statement.sql, Int32(statement.parameters.count), types, v.baseAddress, lengths, formats, 1)
        }
    }

    /// The rows of `result`, or its error; clears it.
    private func rows(of result: OpaquePointer) -> Result<PostgresRows, AvaultError> {
        defer { lib.clear(result) }
        let status = lib.resultStatus(result)
        guard status == AVAULT_PGRES_COMMAND_OK || status == AVAULT_PGRES_TUPLES_OK else {
            let reason = lib.resultErrorMessage(result).map { String(cString: $0) }?.trimmedTrailingNewlines ?? "failed"
            let state = lib.resultErrorField(result, AVAULT_PG_DIAG_SQLSTATE).map { String(cString: $0) } ?? ""
            return .failure(.postgresQueryFailed(location: location, sqlState: state, reason: reason))
        }
        var rows = PostgresRows()
        let n = lib.ntuples(result)
        guard n > 0 else { return .success(rows) }
        let columns = lib.nfields(result)
        rows.rows.reserveCapacity(Int(n))
        for r in 0..<n {
            var row: [[UInt8]?] = []
            for c in 0..<columns {
                if lib.getisnull(result, r, c) != 0 { row.append(nil); continue }
                let length = Int(lib.getlength(result, r, c))
                guard length > 0, let value = lib.getvalue(result, r, c) else { row.append([]); continue }
                row.append(Array(UnsafeRawBufferPointer(start: value, count: length)))
            }
            rows.rows.append(row)
        }
        return .success(rows)
    }
}
