import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What docs/architecture.md tells a database administrator, tried with PostgreSQL's own tools
/// on clusters of the test's own or databases of their own: a hot standby (`pg_basebackup -R`)
/// that serves readers and lags, a restored base backup and a point-in-time recovery from
/// archived WAL that bring back an older vault, a `pg_dump` taken while writers run, the
/// `GRANT`s of a named schema, and the index of schema version 2 in a database whose collation
/// is not "C".
@Suite struct PostgresOperationsTests {
    /// A draft in the fixture's work directory, for `vault put ID FILE`.
    static func draft(_ f: VaultFixture, _ text: String) throws -> String {
        let file = f.path("draft-" + UUID().uuidString)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// A copy of the fixture's keyring as it is now (the same keys, the heads seen so far).
    static func copyKeyring(_ f: VaultFixture, _ name: String) throws -> String {
        let copy = f.dir.appendingPathComponent(name).path
        let r = try CLI.run("/bin/cp", ["-a", f.ring, copy])
        try #require(r.code == 0, "\(r.err)")
        return copy
    }

    @Test(.timeLimit(.minutes(30))) func aHotStandbyServesReadersRefusesWritersAndItsLagIsARollbackAlarm() throws {
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

    @Test(.timeLimit(.minutes(30))) func aRestoredBackupIsARollbackThatEachKeyringThatSawLaterAcceptsOnce() throws {
        let primary = try PostgresServer.dedicated()
        defer { primary.stop() }
        let f = try VaultFixture(store: .postgres, server: primary)
        try f.put("a", Data("one\n".utf8))
        let backup = try primary.baseBackup(standby: false)
        defer { backup.stop() }
        // Three keyrings with the same keys: `early` saw only what the backup holds, `late`
        // the head after the second put, the fixture's own the head after the third.
        let early = try Self.copyKeyring(f, "ring-early")
        try f.put("a", Data("two\n".utf8))
        let late = try Self.copyKeyring(f, "ring-late")
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

    @Test(.timeLimit(.minutes(30))) func aPointInTimeRecoveryFromArchivedWALIsARollbackToKeyringsThatSawLater() throws {
        // WAL archived into a directory of the cluster's (archive_mode takes effect at a restart).
        let primary = try PostgresServer.dedicated()
        defer { primary.stop() }
        let archive = primary.directory + "/archive"
        try primary.psql("postgres", "ALTER SYSTEM SET archive_mode = on")
        try primary.psql("postgres", "ALTER SYSTEM SET archive_command = 'mkdir -p \(archive) && test ! -f \(archive)/%f && cp %p \(archive)/%f'")
        try primary.restart()
        let f = try VaultFixture(store: .postgres, server: primary)
        try f.put("a", Data("one\n".utf8))
        let backup = try primary.baseBackup(standby: false)
        defer { backup.stop() }
        // The target: just after the second put. `atTarget` is a keyring that saw that head.
        try f.put("a", Data("two\n".utf8))
        let target = try primary.psql("postgres", "SELECT clock_timestamp()").trimmingCharacters(in: .whitespacesAndNewlines)
        let atTarget = try Self.copyKeyring(f, "ring-target")
        try f.put("b", Data("after the target\n".utf8))
        try f.put("a", Data("three\n".utf8))
        // Every write so far in archived segments.
        let segment = try primary.psql("postgres", "SELECT pg_walfile_name(pg_switch_wal())").trimmingCharacters(in: .whitespacesAndNewlines)
        let deadline = Date().addingTimeInterval(60)
        while try primary.psql("postgres", "SELECT coalesce(last_archived_wal, '') >= '\(segment)' FROM pg_stat_archiver") != "t\n" {
            guard Date() < deadline else {
                Issue.record("segment \(segment) was not archived: \(try primary.psql("postgres", "SELECT * FROM pg_stat_archiver"))")
                return
            }
            usleep(50_000)
        }

        // The base backup, rolled forward from the archive to the target, then promoted.
        try backup.prepareTargetedRecovery([("restore_command", "cp \(archive)/%f %p"), ("recovery_target_time", target),
                                            ("recovery_target_action", "promote")])
        try backup.start()
        try backup.waitForPromotion()
        let database = PostgresServer.database(of: f.vault)
        let recovered = ["--vault", backup.url(database: database)]
        // Replayed past the backup: the second put is there, the later ones are not.
        #expect(try backup.psql(database, "SELECT count(*) FROM avault_log") == "3\n") // init and two puts

        // A consistent vault as at the target, to the keyring whose last head it holds.
        let get = try f.avault(["vault", "get", "a"] + recovered, env: ["AVAULT_KEYRING": atTarget])
        #expect(get.code == 0 && get.out == "two\n", "\(get.code) \(get.err)")
        #expect(try f.avault(["vault", "get", "b"] + recovered, env: ["AVAULT_KEYRING": atTarget]).code != 0)
        let verify = try f.avault(["vault", "verify"] + recovered, env: ["AVAULT_KEYRING": atTarget])
        #expect(verify.code == 0, "\(verify.out) \(verify.err)")
        let log = try f.avault(["vault", "log", "--verify"] + recovered, env: ["AVAULT_KEYRING": atTarget])
        #expect(log.code == 0, "\(log.out) \(log.err)")

        // To the keyring that saw the later puts, a rollback, refused until accepted.
        let refused = try f.avault(["vault", "get", "a"] + recovered)
        #expect(refused.code == 1, "\(refused.code) \(refused.err)")
        #expect(refused.err.contains("avault: the vault was rolled back") && refused.err.contains("--accept-rollback"), "\(refused.err)")
        #expect(refused.out.isEmpty)
        let accepted = try f.avault(["vault", "get", "a", "--accept-rollback"] + recovered)
        #expect(accepted.code == 0 && accepted.out == "two\n", "\(accepted.code) \(accepted.err)")
        #expect(try f.avault(["vault", "put", "b", Self.draft(f, "again\n")] + recovered).code == 0)
        #expect(try f.avault(["vault", "log", "--verify"] + recovered).code == 0)
    }

    @Test(.timeLimit(.minutes(30))) func aDumpTakenWhileAWriterRunsRestoresAConsistentVault() throws {
        let server = try PostgresServer.shared()
        let f = try VaultFixture(store: .postgres)
        try f.put("a", Data("one\n".utf8))
        let beforeDump = try Self.copyKeyring(f, "ring-before-dump")
        // A writer puts while pg_dump reads the avault_* tables (one snapshot: a state some
        // commit left, whichever).
        let loop = "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do printf 'write %s\\n' $i | \"$AVAULT\" vault put w$((i % 3)) - || exit 1; done"
        let writer = try VaultSpawn.start(["/bin/sh", "-c", loop], env: VaultSpawn.environment(f), stderr: f.path("writer.err"))
        let dump = f.path("vault.dump")
        let database = PostgresServer.database(of: f.vault)
        let dumped = try PostgresServer.execute(server.binDirectory + "/pg_dump", ["-h", server.directory, "-U", PostgresServer.role, "-Fc",
                                                                                    "-t", "avault_*", "-f", dump, database], cwd: "/")
        let wrote = VaultSpawn.wait(writer)
        #expect(dumped.code == 0, "\(dumped.err)")
        #expect(wrote.code == 0, "\((try? String(contentsOfFile: f.path("writer.err"), encoding: .utf8)) ?? "")")
        // The fixture's keyring now sees a head no dump can hold.
        try f.put("a", Data("after the dump\n".utf8))

        // Restored into a database of its own, as a role that owns nothing there beforehand.
        let copy = try server.createDatabase()
        let restored = try PostgresServer.execute(server.binDirectory + "/pg_restore", ["-h", server.directory, "-U", PostgresServer.role,
                                                                                        "--no-owner", "-d", PostgresServer.database(of: copy), dump], cwd: "/")
        #expect(restored.code == 0, "\(restored.err)")
        let copyDatabase = PostgresServer.database(of: copy)
        // The schema as vault init made it: version 2, its index, envelopes stored uncompressed.
        #expect(try server.psql(copyDatabase, "SELECT max(version) FROM avault_schema_version") == "2\n")
        #expect(try server.psql(copyDatabase, "SELECT count(*) FROM pg_indexes WHERE indexname = 'avault_files_name_prefix'") == "1\n")
        #expect(try server.psql(copyDatabase, "SELECT attstorage FROM pg_attribute WHERE attrelid = 'avault_envelopes'::regclass AND attname = 'bytes'") == "e\n")

        // To the keyring copied before the dump: a whole vault, every check passing.
        let restoredVault = ["--vault", copy]
        let verify = try f.avault(["vault", "verify"] + restoredVault, env: ["AVAULT_KEYRING": beforeDump])
        #expect(verify.code == 0, "\(verify.out) \(verify.err)")
        let log = try f.avault(["vault", "log", "--verify"] + restoredVault, env: ["AVAULT_KEYRING": beforeDump])
        #expect(log.code == 0, "\(log.out) \(log.err)")
        let get = try f.avault(["vault", "get", "a"] + restoredVault, env: ["AVAULT_KEYRING": beforeDump])
        #expect(get.code == 0 && get.out == "one\n", "\(get.code) \(get.err)")
        // Every object the dump holds reads back as one of the writer's drafts.
        let listed = try f.avault(["vault", "list"] + restoredVault, env: ["AVAULT_KEYRING": beforeDump])
        #expect(listed.code == 0, "\(listed.err)")
        for id in listed.out.split(separator: "\n").map({ String($0.split(separator: " ").first ?? "") }) where id.hasPrefix("w") {
            let g = try f.avault(["vault", "get", id] + restoredVault, env: ["AVAULT_KEYRING": beforeDump])
            #expect(g.code == 0 && g.out.hasPrefix("write "), "\(id): \(g.code) \(g.err)")
        }
        // To the keyring that saw the later head, a rollback.
        let refused = try f.avault(["vault", "get", "a"] + restoredVault)
        #expect(refused.code == 1 && refused.err.contains("avault: the vault was rolled back"), "\(refused.code) \(refused.err)")
    }

    @Test func theDocumentedGrantsOfANamedSchemaServeAWriterAndAReaderAndNothingMore() throws {
        // docs/architecture.md's least-privilege roles, word for word but for their names, in a
        // database of the test's own (it revokes CREATE on public).
        let server = try PostgresServer.shared()
        let f = try VaultFixture(store: .postgres, initialize: false)
        let database = PostgresServer.database(of: f.vault)
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let desk = "desk_\(suffix)", reader = "desk_reader_\(suffix)"
        try server.psql(database, "CREATE SCHEMA news; REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        let news = f.vault + "&options=-csearch_path%3Dnews"
        #expect(try f.avault(["keys", "generate", "drafts", "--secret", "--unprotected"]).code == 0)
        let initialized = try f.avault(["vault", "init", "--key", "drafts", "--vault", news])
        #expect(initialized.code == 0, "\(initialized.err)")
        #expect(try server.psql(database, "SELECT string_agg(DISTINCT schemaname, ',') || ' ' || count(*) FROM pg_tables WHERE tablename LIKE 'avault\\_%'") == "news 7\n")
        try server.psql(database, """
            CREATE ROLE \(desk) LOGIN;
            GRANT USAGE ON SCHEMA news TO \(desk);
            GRANT SELECT, INSERT, UPDATE, DELETE ON news.avault_schema_version, news.avault_head, news.avault_files,
              news.avault_log, news.avault_log_heads, news.avault_envelopes, news.avault_quarantine TO \(desk);
            CREATE ROLE \(reader) LOGIN;
            GRANT USAGE ON SCHEMA news TO \(reader);
            GRANT SELECT ON ALL TABLES IN SCHEMA news TO \(reader);
            """)
        let asDesk = ["--vault", news.replacingOccurrences(of: "user=avault", with: "user=\(desk)")]
        let asReader = ["--vault", news.replacingOccurrences(of: "user=avault", with: "user=\(reader)")]

        // The writer runs every command but init: puts, removal, a rewrap after a rotation, fsck.
        for (id, text) in [("a", "by the desk\n"), ("b", "short-lived\n"), ("a", "revised\n")] {
            let put = try f.avault(["vault", "put", id, Self.draft(f, text)] + asDesk)
            #expect(put.code == 0, "put \(id): \(put.err)")
        }
        #expect(try f.avault(["vault", "rm", "b"] + asDesk).code == 0)
        #expect(try f.avault(["vault", "history", "a"] + asDesk).code == 0)
        #expect(try f.avault(["keys", "rotate", "drafts"]).code == 0)
        let rewrap = try f.avault(["vault", "rewrap"] + asDesk)
        #expect(rewrap.code == 0, "\(rewrap.err)")
        let fsck = try f.avault(["vault", "fsck"] + asDesk)
        #expect(fsck.code == 0, "\(fsck.out) \(fsck.err)")
        #expect(try f.avault(["vault", "log", "--verify"] + asDesk).code == 0)

        // The reader reads, and its put is refused by the server.
        let get = try f.avault(["vault", "get", "a"] + asReader)
        #expect(get.code == 0 && get.out == "revised\n", "\(get.code) \(get.err)")
        #expect(try f.avault(["vault", "list"] + asReader).out.contains("a"))
        #expect(try f.avault(["vault", "history", "a"] + asReader).code == 0)
        let verify = try f.avault(["vault", "verify"] + asReader)
        #expect(verify.code == 0, "\(verify.out) \(verify.err)")
        let refused = try f.avault(["vault", "put", "c", Self.draft(f, "no\n")] + asReader)
        #expect(refused.code == 2 && refused.err.contains("SQLSTATE 42501"), "\(refused.code) \(refused.err)")

        // Neither role can drop, empty or alter the tables, nor plant tables of the same names in
        // public, where an unqualified name would otherwise find them first.
        for role in [desk, reader] {
            for sql in ["DROP TABLE news.avault_log", "TRUNCATE news.avault_log", "ALTER TABLE news.avault_files ADD COLUMN x int",
                        "CREATE TABLE public.avault_head (id integer)", "CREATE TABLE news.avault_extra (id integer)"] {
                let r = try server.psql(database, sql, as: role)
                #expect(r.code != 0 && (r.err.contains("must be owner") || r.err.contains("permission denied")), "\(role): \(sql): \(r.code) \(r.err)")
            }
        }
        #expect(try f.avault(["vault", "log", "--verify", "--vault", news]).code == 0)
        #expect(try f.avault(["vault", "get", "a", "--vault", news]).out == "revised\n")
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
