import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What docs/architecture.md tells a database administrator, tried on copies of a cluster of
/// the test's own made with PostgreSQL's own tools: a hot standby (`pg_basebackup -R`) that serves
/// readers and lags, a restored base backup that brings back an older vault, and the index
/// of schema version 2 in a database whose collation is not "C".
@Suite struct PostgresOperationsTests {
    /// A draft in the fixture's work directory, for `vault put ID FILE`.
    static func draft(_ f: VaultFixture, _ text: String) throws -> String {
        let file = f.path("draft-" + UUID().uuidString)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    @Test(.timeLimit(.minutes(3))) func aHotStandbyServesReadersRefusesWritersAndItsLagIsARollbackAlarm() throws {
        let primary = try PostgresServer.dedicated()
        defer { primary.stop() }
        let f = try VaultFixture(store: .postgres, server: primary)
        try f.put("a", Data("first\n".utf8))
        try f.put("b", Data("other\n".utf8))
        let standby = try primary.baseBackup(standby: true)
        defer { standby.stop() }
        try standby.start()
        let database = PostgresServer.database(of: f.vault)
        #expect(try standby.psql(database, "SELECT pg_is_in_recovery()") == "t\n")
        let replica = ["--vault", standby.url(database: database)]
        try standby.waitForReplay(of: primary)

        // Readers need only SELECT.
        let get = try f.avault(["vault", "get", "a"] + replica)
        #expect(get.code == 0 && get.out == "first\n", "\(get.code) \(get.err)")
        let list = try f.avault(["vault", "list"] + replica)
        #expect(list.code == 0 && list.out.contains("a") && list.out.contains("b"), "\(list.out) \(list.err)")
        #expect(try f.avault(["vault", "history", "a"] + replica).code == 0)
        let verify = try f.avault(["vault", "verify"] + replica)
        #expect(verify.code == 0, "\(verify.out) \(verify.err)")
        #expect(try f.avault(["vault", "log", "--verify"] + replica).code == 0)

        // A writer is refused by the server, and the standby serves what the primary holds.
        let put = try f.avault(["vault", "put", "c", Self.draft(f, "nowhere\n")] + replica)
        #expect(put.code == 2, "\(put.code) \(put.err)")
        #expect(put.err.contains("SQLSTATE 25006"), "\(put.err)")
        #expect(try f.psql("SELECT count(*) FROM avault_log") == "3\n") // init and two puts

        // A put on the primary reaches the standby.
        try f.put("a", Data("second\n".utf8))
        try standby.waitForReplay(of: primary)
        #expect(try f.avault(["vault", "get", "a"] + replica).out == "second\n")

        // A standby that lags serves an older vault: to this keyring, which saw the newer head,
        // a rollback (exit 1), until the standby catches up; nothing to accept.
        try standby.psql(database, "SELECT pg_wal_replay_pause()")
        try f.put("a", Data("third\n".utf8))
        let lagging = try f.avault(["vault", "get", "a"] + replica)
        #expect(lagging.code == 1, "\(lagging.code) \(lagging.out) \(lagging.err)")
        #expect(lagging.err.contains("avault: the vault was rolled back"), "\(lagging.err)")
        #expect(!lagging.out.contains("second"))
        try standby.psql(database, "SELECT pg_wal_replay_resume()")
        try standby.waitForReplay(of: primary)
        let caughtUp = try f.avault(["vault", "get", "a"] + replica)
        #expect(caughtUp.code == 0 && caughtUp.out == "third\n", "\(caughtUp.code) \(caughtUp.err)")
    }

    @Test(.timeLimit(.minutes(3))) func aRestoredBackupIsARollbackThatEachKeyringThatSawLaterAcceptsOnce() throws {
        let primary = try PostgresServer.dedicated()
        defer { primary.stop() }
        let f = try VaultFixture(store: .postgres, server: primary)
        try f.put("a", Data("one\n".utf8))
        let backup = try primary.baseBackup(standby: false)
        defer { backup.stop() }
        // Three keyrings with the same keys: `early` saw only what the backup holds, `late`
        // the head after the second put, the fixture's own the head after the third.
        func copyKeyring(_ name: String) throws -> String {
            let copy = f.dir.appendingPathComponent(name).path
            let r = try CLI.run("/bin/cp", ["-a", f.ring, copy])
            try #require(r.code == 0, "\(r.err)")
            return copy
        }
        let early = try copyKeyring("ring-early")
        try f.put("a", Data("two\n".utf8))
        let late = try copyKeyring("ring-late")
        try f.put("b", Data("lost\n".utf8))

        try backup.start()
        let database = PostgresServer.database(of: f.vault)
        let restored = ["--vault", backup.url(database: database)]
        #expect(try backup.psql(database, "SELECT count(*) FROM avault_log") == "2\n")

        // Every command refuses the older vault to a keyring that saw a later head, with a hint.
        for ring in [f.ring, late] {
            let g = try f.avault(["vault", "get", "a"] + restored, env: ["AVAULT_KEYRING": ring])
            #expect(g.code == 1, "\(ring): \(g.code) \(g.err)")
            #expect(g.err.contains("avault: the vault was rolled back"), "\(g.err)")
            #expect(g.err.contains("hint: ") && g.err.contains("--accept-rollback"), "\(g.err)")
            #expect(g.out.isEmpty)
            let put = try f.avault(["vault", "put", "c", Self.draft(f, "on top\n")] + restored, env: ["AVAULT_KEYRING": ring])
            #expect(put.code == 1 && put.err.contains("the vault was rolled back"), "\(put.err)")
        }
        #expect(try backup.psql(database, "SELECT count(*) FROM avault_log") == "2\n")
        // A keyring that never saw a later head sees a normal vault.
        let fresh = try f.avault(["vault", "get", "a"] + restored, env: ["AVAULT_KEYRING": early])
        #expect(fresh.code == 0 && fresh.out == "one\n", "\(fresh.code) \(fresh.err)")

        // One command with --accept-rollback adopts it for the keyring that runs it; then no flag.
        let accept = try f.avault(["vault", "list", "--accept-rollback"] + restored)
        #expect(accept.code == 0, "\(accept.code) \(accept.err)")
        let after = try f.avault(["vault", "get", "a"] + restored)
        #expect(after.code == 0 && after.out == "one\n", "\(after.code) \(after.err)")
        #expect(try f.avault(["vault", "get", "b"] + restored).code != 0) // put after the backup: gone
        // Its acceptance forgives only the head it names: `late` saw another, and accepts in turn.
        let stillLate = try f.avault(["vault", "get", "a"] + restored, env: ["AVAULT_KEYRING": late])
        #expect(stillLate.code == 1 && stillLate.err.contains("the vault was rolled back"), "\(stillLate.code) \(stillLate.err)")
        let acceptLate = try f.avault(["vault", "get", "a", "--accept-rollback"] + restored, env: ["AVAULT_KEYRING": late])
        #expect(acceptLate.code == 0 && acceptLate.out == "one\n", "\(acceptLate.code) \(acceptLate.err)")
        for ring in [f.ring, late, early] {
            let g = try f.avault(["vault", "get", "a"] + restored, env: ["AVAULT_KEYRING": ring])
            #expect(g.code == 0 && g.out == "one\n", "\(ring): \(g.code) \(g.err)")
        }

        // The log says so; the restored vault is whole and takes puts again.
        let ops = try backup.psql(database, "SELECT convert_from(line, 'UTF8')::json->>'op' FROM avault_log ORDER BY seq")
        #expect(ops == "init\nput\naccept-rollback\naccept-rollback\n", "\(ops)")
        #expect(try f.avault(["vault", "put", "b", Self.draft(f, "again\n")] + restored).code == 0)
        #expect(try f.avault(["vault", "verify"] + restored).code == 0)
        let log = try f.avault(["vault", "log", "--verify"] + restored)
        #expect(log.code == 0, "\(log.out) \(log.err)")
        // The primary was never touched (its log: init and three puts). To every keyring here it
        // is now another branch of the vault, which they no longer follow.
        #expect(try f.psql("SELECT count(*) FROM avault_log") == "4\n")
    }

    @Test func theClusterHelperPassesNoOtherDescriptorToWhatItStarts() throws {
        // A pipe open in this process, as a concurrent test's command output is, while the
        // helper starts a program (here one that lists its own descriptors).
        let pipe = Pipe()
        let writer = pipe.fileHandleForWriting.fileDescriptor
        let listing = try PostgresServer.execute("/bin/ls", ["/proc/self/fd"], cwd: "/")
        let open = listing.out.split(separator: "\n").compactMap { Int32($0) }
        // 0 to 2, and the directory ls reads (3 when nothing else is inherited).
        #expect(open == [0, 1, 2, 3], "\(open); the pipe's write end is \(writer)")
        withExtendedLifetime(pipe) {}
    }

    @Test func theEntriesIndexOfSchemaVersionTwoServesABucketInAnICUCollation() throws {
        // A database whose collation is ICU's en-US, where the primary key's index cannot serve
        // `name LIKE 'entries/ab%'`; auto_explain logs the plan of each statement avault sends,
        // with sequential scans priced out so that any index that can serve is used.
        let server = try PostgresServer.shared()
        let database = "t_icu_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try server.psql("postgres", "CREATE DATABASE \(database) TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
        #expect(try server.psql(database, "SELECT datlocprovider FROM pg_database WHERE datname = current_database()") == "i\n")
        for setting in ["session_preload_libraries = 'auto_explain'", "auto_explain.log_min_duration = 0", "enable_seqscan = off"] {
            try server.psql("postgres", "ALTER DATABASE \(database) SET \(setting)")
        }
        let f = try VaultFixture(store: .postgres, initialize: false)
        let env: [String: String?] = ["AVAULT_VAULT": server.url(database: database)]
        #expect(try f.avault(["keys", "generate", "drafts", "--secret", "--unprotected"]).code == 0)
        #expect(try f.avault(["vault", "init", "--key", "drafts"], env: env).code == 0)
        for id in ["a", "b", "c"] {
            #expect(try f.avault(["vault", "put", id, Self.draft(f, "draft \(id)\n")], env: env).code == 0)
        }

        /// The plan the server logged for the bucket's read during one `vault get a`.
        func planOfTheBucketRead() throws -> String {
            let log = server.directory + "/server.log"
            let before = try #require(FileManager.default.contents(atPath: log)).count
            let get = try f.avault(["vault", "get", "a"], env: env)
            #expect(get.code == 0 && get.out == "draft a\n", "\(get.err)")
            let added = try #require(FileManager.default.contents(atPath: log)).dropFirst(before)
            let text = String(decoding: added, as: UTF8.self)
            // auto_explain's entry: the query text, then the plan's lines (indented).
            let query = "Query Text: SELECT name, bytes FROM avault_files WHERE name LIKE $1"
            let start = try #require(text.range(of: query), "no plan logged for the bucket's read: \(text.suffix(3000))")
            return String(text[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropFirst().prefix { $0.hasPrefix("\t") }.joined(separator: "\n"))
        }
        let plan = try planOfTheBucketRead()
        #expect(plan.contains("Index Scan on avault_files_name_prefix") || plan.contains("Index Scan using avault_files_name_prefix"), "\(plan)")
        #expect(plan.contains("~>=~ 'entries/"), "\(plan)")
        // Without it (version 1), only a sequential scan can read the bucket.
        try server.psql(database, "DROP INDEX avault_files_name_prefix")
        let without = try planOfTheBucketRead()
        #expect(without.contains("Seq Scan on avault_files") && !without.contains("avault_files_name_prefix"), "\(without)")
    }
}
