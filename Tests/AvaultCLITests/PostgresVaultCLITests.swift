import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// PostgreSQL vaults through the real binary, against the test process's throwaway cluster
/// (TestSupport's `PostgresServer`): the cluster itself, the schema, the head-row lock, what the
/// server holds, and tampering with rows. The round trips shared with the file
/// store are the `store:` arguments of VaultRoundTripTests and VaultLogTests.
@Suite struct PostgresVaultCLITests {
    @Test func theTestClusterListensOnlyOnItsSocketAsAnUnprivilegedUser() throws {
        let server = try PostgresServer.shared()
        #expect(try server.psql("postgres", "SHOW listen_addresses") == "\n")
        #expect(try server.psql("postgres", "SHOW unix_socket_directories") == server.socketDirectory + "\n")
        // The postmaster (its pid is the first line of postmaster.pid) runs as someone else than root.
        let pidFile = try String(contentsOfFile: server.directory + "/data/postmaster.pid", encoding: .utf8)
        let pid = try #require(Int32(pidFile.prefix { $0 != "\n" }))
        var st = stat()
        #expect(stat("/proc/\(pid)", &st) == 0)
        #expect(st.st_uid != 0, "the server runs as root")
        #expect(try vaultMode(server.directory) == 0o700)
    }

    @Test func initCreatesAVersionedSchemaOnceAndRefusesAFutureOne() throws {
        let f = try VaultFixture(store: .postgres)
        #expect(try f.psql("SELECT version FROM avault_schema_version") == "2\n")
        #expect(try f.psql("SELECT indexdef FROM pg_indexes WHERE indexname = 'avault_files_name_prefix'").contains("(name text_pattern_ops)"))
        let tables = try f.psql("SELECT tablename FROM pg_tables WHERE tablename LIKE 'avault%' ORDER BY 1")
        #expect(tables == "avault_envelopes\navault_files\navault_head\navault_log\navault_log_heads\navault_quarantine\navault_schema_version\n")
        #expect(try f.psql("SELECT count(*) FROM avault_head") == "1\n")
        let again = try f.avault(["vault", "init", "--key", "drafts"])
        #expect(again.code == 2)
        #expect(again.err.hasPrefix("avault: \(f.vault): a vault already exists there"), "\(again.err)")
        let created = try f.avault(["vault", "list"])
        #expect(created.code == 0, "\(created.err)")

        try f.psql("UPDATE avault_schema_version SET version = 3")
        let future = try f.avault(["vault", "list"])
        #expect(future.code == 2)
        #expect(future.err.hasPrefix("avault: the PostgreSQL vault \(f.vault) has schema version 3; this avault knows versions up to 2"), "\(future.err)")
        let upgrade = try f.avault(["vault", "schema", "upgrade"])
        #expect(upgrade.code == 2 && upgrade.err.contains("has schema version 3"), "\(upgrade.err)")
        #expect(try f.psql("SELECT version FROM avault_schema_version") == "3\n")
    }

    @Test func aPutIsOneTransactionAndWritersTakeTheHeadRowLock() throws {
        let f = try VaultFixture(store: .postgres)
        // While another session holds the head row, a put waits; it lands once that ends.
        let server = try PostgresServer.shared()
        let database = PostgresServer.database(of: f.vault)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: server.binDirectory + "/psql")
        holder.arguments = ["-X", "-q", "-h", server.socketDirectory, "-U", PostgresServer.role, "-d", database, "-c",
                            "BEGIN; SELECT id FROM avault_head FOR UPDATE; SELECT pg_sleep(2); COMMIT"]
        holder.standardOutput = FileHandle.nullDevice
        try holder.run()
        // Until the lock is taken, a put could still go first: wait for it.
        var locked = false
        for _ in 0..<100 where !locked {
            locked = try f.psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'avault_head' AND l.mode = 'RowShareLock'") != "0\n"
            if !locked { usleep(20_000) }
        }
        #expect(locked)
        let start = Date()
        let v = try f.put("waits", Data("after the lock\n".utf8))
        #expect(v == 1)
        #expect(Date().timeIntervalSince(start) > 1.0, "the put did not wait for the head row")
        holder.waitUntilExit()
        #expect(try f.get("waits").out == "after the lock\n")
        // An envelope of 3 rows of 64 KiB at most, the log and the index, all committed together.
        try f.put("big", Data(repeating: 0x41, count: 150_000))
        #expect(try f.psql("SELECT count(*) FROM avault_envelopes WHERE name LIKE '%-1' AND octet_length(bytes) <= 65536") == "4\n")
        #expect(try f.psql("SELECT count(*) FROM avault_envelopes WHERE name LIKE '.tmp-%'") == "0\n")
    }

    @Test func rowsAlteredByTheServerAreDetected() throws {
        let f = try VaultFixture(store: .postgres)
        try f.put("article", Data("the only copy\n".utf8))
        try f.put("other", Data(repeating: 9, count: 70_000))
        #expect(try f.verify().code == 0)
        let name = try f.psql("SELECT name FROM avault_envelopes WHERE chunk = 0 AND octet_length(bytes) < 1000").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(name.count == 34, "\(name)")

        // A flipped byte in an envelope row: get and verify say no (exit 1), nothing is printed.
        try f.psql("UPDATE avault_envelopes SET bytes = set_byte(bytes, 60, get_byte(bytes, 60) # 1) WHERE name = '\(name)'")
        let get = try f.get("article")
        #expect(get.code == 1, "\(get.err)")
        #expect(get.stdout.isEmpty)
        #expect(get.err.contains("corrupt or was tampered with"), "\(get.err)")
        let (code, report) = try f.verify()
        #expect(code == 1)
        #expect(report.corrupt.count == 1, "\(report)")
        try f.psql("UPDATE avault_envelopes SET bytes = set_byte(bytes, 60, get_byte(bytes, 60) # 1) WHERE name = '\(name)'")
        #expect(try f.verify().code == 0)

        // A chunk row of the large one deleted.
        try f.psql("BEGIN; CREATE TEMP TABLE saved AS SELECT * FROM avault_envelopes WHERE chunk = 1; DELETE FROM avault_envelopes WHERE chunk = 1; COMMIT")
        #expect(try f.get("other").code == 1)
        #expect(try f.verify().code == 1)

        // The index replaced by an older one: a rollback, refused.
        let f2 = try VaultFixture(store: .postgres)
        try f2.put("a", Data("1".utf8))
        let old = try f2.psql("SELECT encode(bytes, 'hex') FROM avault_files WHERE name = 'index'").trimmingCharacters(in: .whitespacesAndNewlines)
        try f2.put("a", Data("2".utf8))
        try f2.psql("UPDATE avault_files SET bytes = decode('\(old)', 'hex') WHERE name = 'index'")
        let rolled = try f2.get("a")
        #expect(rolled.code == 1, "\(rolled.err)")
        #expect(rolled.err.contains("rolled back") || rolled.err.contains("the log"), "\(rolled.err)")

        // The index row deleted.
        try f2.psql("DELETE FROM avault_files WHERE name = 'index'")
        let gone = try f2.avault(["vault", "list"])
        #expect(gone.code == 2 || gone.code == 1, "\(gone.err)")
        #expect(gone.err.contains("index"), "\(gone.err)")
    }

    /// The per-object index entries are rows too: the server replaying an object's older entry,
    /// deleting one, copying one over another object's or flipping a byte in one is refused
    /// (exit 1) by a get of that object and by verify, and the vault reads again once the rows
    /// are put back.
    @Test func entryRowsAlteredByTheServerAreDetected() throws {
        let f = try VaultFixture(store: .postgres)
        func entryRows() throws -> Set<String> {
            Set(try f.psql("SELECT name FROM avault_files WHERE name LIKE 'entries/%' ORDER BY name").split(separator: "\n").map(String.init))
        }
        func row(_ name: String) throws -> String {
            try f.psql("SELECT encode(bytes, 'hex') FROM avault_files WHERE name = '\(name)'").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try f.put("a", Data("a1".utf8))
        let aFirst = try #require(try entryRows().first)
        let aFirstBytes = try row(aFirst)
        try f.put("b", Data("b1".utf8))
        let bEntry = try #require(try entryRows().subtracting([aFirst]).first)
        try f.put("a", Data("a2".utf8))
        let rows = try entryRows()
        #expect(rows.count == 2 && !rows.contains(aFirst), "the superseded entry is removed: \(rows)")
        let aNow = try #require(rows.subtracting([bEntry]).first)
        let aNowBytes = try row(aNow), bBytes = try row(bEntry)
        #expect(try f.verify().code == 0)
        // `get` checks the bucket of entries its object is in (formats.md 8.3.2): each tampering
        // is tried on the entries of the object read.
        func refused(_ what: String, _ id: String) throws {
            let get = try f.get(id)
            #expect(get.code == 1 && get.stdout.isEmpty, "\(what): get: \(get.code) \(get.err)")
            #expect(get.err.contains("index entr"), "\(what): \(get.err)")
            let verify = try f.avault(["vault", "verify"])
            #expect(verify.code == 1 && verify.err.contains("index entr"), "\(what): verify: \(verify.code) \(verify.err)")
        }
        func restore() throws {
            try f.psql("BEGIN; DELETE FROM avault_files WHERE name LIKE 'entries/%'; "
                       + "INSERT INTO avault_files (name, bytes) VALUES ('\(aNow)', decode('\(aNowBytes)', 'hex')), ('\(bEntry)', decode('\(bBytes)', 'hex')); COMMIT")
            #expect(try f.get("a").stdout == Data("a2".utf8))
            #expect(try f.verify().code == 0)
        }

        let tamperings = [
            // a's older entry in place of its current one: the get would say a1.
            ("an older entry replayed", "a", "BEGIN; DELETE FROM avault_files WHERE name = '\(aNow)'; "
                + "INSERT INTO avault_files (name, bytes) VALUES ('\(aFirst)', decode('\(aFirstBytes)', 'hex')); COMMIT"),
            // b's entry gone: the head commits to two entries.
            ("an entry deleted", "b", "DELETE FROM avault_files WHERE name = '\(bEntry)'"),
            ("another object's entry copied in", "a", "UPDATE avault_files SET bytes = decode('\(bBytes)', 'hex') WHERE name = '\(aNow)'"),
            ("a flipped byte", "a", "UPDATE avault_files SET bytes = set_byte(bytes, octet_length(bytes) - 5, get_byte(bytes, octet_length(bytes) - 5) # 1) "
                + "WHERE name = '\(aNow)'"),
        ]
        for (what, id, sql) in tamperings {
            try f.psql(sql)
            try refused(what, id)
            try restore()
        }
    }

    /// A put to a PostgreSQL vault reads and writes only its object's bucket of entries
    /// (formats.md 8.3.2; a transaction leaves nothing for the next writer to recover): an entry
    /// row altered in another bucket does not stop it, while a get of that other object and
    /// verify still refuse the vault. A leftover row in the put's own bucket makes the put read
    /// everything and recover first, as every write to a directory vault does.
    @Test func aPutToPostgresReadsOnlyItsBucketOfEntries() throws {
        let f = try VaultFixture(store: .postgres)
        func entryRows() throws -> Set<String> {
            Set(try f.psql("SELECT name FROM avault_files WHERE name LIKE 'entries/%'").split(separator: "\n").map(String.init))
        }
        // Which bucket each ID's entry is in, from the rows' names (the first two hex digits).
        var rowOf: [String: String] = [:]
        for i in 0..<8 {
            let before = try entryRows()
            try f.put("id\(i)", Data("v1".utf8))
            rowOf["id\(i)"] = try #require(try entryRows().subtracting(before).first)
        }
        let bucket = { (id: String) in rowOf[id]!.dropFirst("entries/".count).prefix(2) }
        let p = "id0"
        let q = try #require(rowOf.keys.sorted().first { bucket($0) != bucket(p) })
        let pBytes = try f.psql("SELECT encode(bytes, 'hex') FROM avault_files WHERE name = '\(rowOf[p]!)'").trimmingCharacters(in: .whitespacesAndNewlines)
        try f.psql("UPDATE avault_files SET bytes = set_byte(bytes, 60, get_byte(bytes, 60) # 1) WHERE name = '\(rowOf[p]!)'")
        let put = try f.avault(["vault", "put", q, "-"], stdin: Data("v2".utf8))
        #expect(put.code == 0, "\(put.err)")
        #expect(try f.get(q).stdout == Data("v2".utf8))
        let getP = try f.get(p)
        #expect(getP.code == 1 && getP.err.contains("index entr"), "\(getP.err)")
        #expect(try f.avault(["vault", "verify"]).code == 1)
        #expect(try f.avault(["vault", "list"]).code == 1)
        try f.psql("UPDATE avault_files SET bytes = decode('\(pBytes)', 'hex') WHERE name = '\(rowOf[p]!)'")
        #expect(try f.verify().code == 0)

        // An entry row above the head in q's bucket, which an interrupted write leaves in a
        // directory: no write to PostgreSQL leaves one (each is one transaction), so it is
        // unexpected. The put leaves it (never deleted), verify reports it, fsck moves it aside.
        let stray = "entries/" + String(rowOf[q]!.dropFirst("entries/".count).prefix(32)) + ".900000"
        try f.psql("INSERT INTO avault_files (name, bytes) VALUES ('\(stray)', 'garbage'::bytea)")
        let again = try f.avault(["vault", "put", q, "-"], stdin: Data("v3".utf8))
        #expect(again.code == 0, "\(again.err)")
        #expect(try entryRows().contains(stray))
        #expect(try f.avault(["vault", "log"]).stdout.range(of: Data("recover".utf8)) == nil)
        #expect(try f.get(q).stdout == Data("v3".utf8))
        let (code, report) = try f.verify()
        #expect(code == 1 && report.unexpected == [stray] && report.leftovers.isEmpty, "\(report)")
        #expect(try f.avault(["vault", "fsck"]).code == 1)
        #expect(try !entryRows().contains(stray))
        #expect(try f.verify().code == 0)
    }

    /// Only some tables put back from an older copy (here `avault_files`: the config, the index
    /// and its entries), the log and the envelopes left newer: a directory vault holds that after
    /// a writer died before its index landed, and the next writer removes the newer envelopes.
    /// No write to PostgreSQL leaves it (the log rows, the envelopes and the index are one
    /// transaction), so it is a rollback to refuse, not a crash to repair: a keyring that never
    /// saw the newer head deleted two acknowledged versions and exited 0.
    @Test func aPartlyRestoredVaultIsRefusedNotRepaired() throws {
        let f = try VaultFixture(store: .postgres)
        try f.put("a", Data("a1".utf8))
        try f.psql("CREATE TABLE bak_files AS SELECT * FROM avault_files")
        // A keyring whose record of the vault is the head at the copy (another editor's, say).
        let older = f.dir.appendingPathComponent("older-ring").path
        #expect(try CLI.run("/bin/cp", ["-a", f.ring, older]).code == 0)
        try f.put("fresh", Data("f1".utf8))
        try f.put("a", Data("a2".utf8))
        let envelopes = "SELECT count(DISTINCT name) FROM avault_envelopes"
        #expect(try f.psql(envelopes) == "3\n")
        try f.psql("DELETE FROM avault_files")
        try f.psql("INSERT INTO avault_files SELECT * FROM bak_files")
        let asOlder: [String: String?] = ["AVAULT_KEYRING": older]
        let refused = "log entries 3–4 come after the index's head"
        for args in [["vault", "verify"], ["vault", "get", "a"], ["vault", "list"], ["vault", "put", "other", "-"]] {
            let r = try f.avault(args, stdin: Data("o1".utf8), env: asOlder)
            #expect(r.code == 1 && r.err.contains(refused) && r.err.contains("--accept-rollback"), "\(args): \(r.code) \(r.err)")
        }
        #expect(try f.psql(envelopes) == "3\n")
        #expect(try f.psql("SELECT count(*) FROM avault_log") == "4\n")
        // Adopted on purpose: the log records it, and the two newer envelopes stay, unexpected,
        // until fsck moves them aside (never deleted).
        let adopted = try f.avault(["vault", "put", "other", "-", "--accept-rollback"], stdin: Data("o1".utf8), env: asOlder)
        #expect(adopted.code == 0, "\(adopted.err)")
        #expect(try f.psql(envelopes) == "4\n")
        let (code, unexpected) = try f.verifyJSON(env: asOlder)
        #expect(code == 1 && unexpected.count == 2, "\(unexpected)")
        #expect(try f.avault(["vault", "fsck"], env: asOlder).code == 1)
        #expect(try f.psql("SELECT count(DISTINCT name) FROM avault_quarantine") == "2\n")
        #expect(try f.avault(["vault", "verify"], env: asOlder).code == 0)
        #expect(try f.avault(["vault", "get", "a"], env: asOlder).stdout == Data("a1".utf8))
    }

    /// `avault_files` and `avault_log` both put back from an older copy, the envelopes left
    /// newer: nothing comes after the index's head, so the state reads as the older one, and
    /// the newer versions' envelopes are not listed. A put of the same object by a keyring that
    /// never saw the newer head took the next version number, whose envelope another client's
    /// acknowledged version holds, and replaced it (`INSERT … ON CONFLICT DO UPDATE`, or a
    /// `DELETE` before the rename of a large one): exit 0, and verify passed (found by review).
    /// Now a new envelope never replaces a row: the write fails and leaves it; verify lists it,
    /// fsck moves it aside, and a put then takes the next number.
    @Test func aPutNeverReplacesAnEnvelopeTheIndexDoesNotList() throws {
        let f = try VaultFixture(store: .postgres)
        try f.put("a", Data("a1".utf8))
        try f.psql("CREATE TABLE bak_files AS SELECT * FROM avault_files")
        try f.psql("CREATE TABLE bak_log AS SELECT * FROM avault_log")
        let older = f.dir.appendingPathComponent("older-ring").path
        #expect(try CLI.run("/bin/cp", ["-a", f.ring, older]).code == 0)
        try f.put("a", Data("a2, acknowledged".utf8))
        let rows = "SELECT name, md5(string_agg(bytes, ''::bytea ORDER BY chunk)) FROM avault_envelopes GROUP BY name ORDER BY name"
        let before = try f.psql(rows)
        try f.psql("DELETE FROM avault_files")
        try f.psql("INSERT INTO avault_files SELECT * FROM bak_files")
        try f.psql("DELETE FROM avault_log")
        try f.psql("INSERT INTO avault_log SELECT * FROM bak_log")
        let asOlder: [String: String?] = ["AVAULT_KEYRING": older]
        // A small envelope (one row, one statement) and a large one (rows under a temporary name, then renamed).
        for payload in [Data("a2 by another".utf8), Data(repeating: 0x42, count: 200_000)] {
            let put = try f.avault(["vault", "put", "a", "-"], stdin: payload, env: asOlder)
            #expect(put.code == 1 && put.err.contains("an envelope row the index does not list holds the name of one this write makes"),
                    "\(payload.count) bytes: \(put.code) \(put.err)")
        }
        #expect(try f.psql(rows) == before)
        let (code, report) = try f.verifyJSON(env: asOlder)
        #expect(code == 1 && report.count == 1, "\(report)")
        #expect(try f.avault(["vault", "fsck"], env: asOlder).code == 1)
        #expect(try f.psql("SELECT count(DISTINCT name) FROM avault_quarantine") == "1\n")
        let again = try f.avault(["vault", "put", "a", "-"], stdin: Data("a3".utf8), env: asOlder)
        #expect(again.code == 0 && again.out.contains(" version 3 "), "\(again.out) \(again.err)")
        // `vault verify` lists it, kept (not a failure), until a purge of the object deletes it.
        let kept = try f.psql("SELECT DISTINCT 'quarantine/' || name FROM avault_quarantine")
        let listed = try f.avault(["vault", "verify"], env: asOlder)
        #expect(listed.code == 0 && listed.out.contains("kept in quarantine: " + kept.trimmingCharacters(in: .newlines)), "\(kept) \(listed.out)")
        #expect(try f.avault(["vault", "purge", "a", "--force"], env: asOlder).code == 0)
        #expect(try f.psql("SELECT count(*) FROM avault_quarantine") == "0\n")
        let after = try f.avault(["vault", "verify"], env: asOlder)
        #expect(after.code == 0 && !after.out.contains("quarantine"), "\(after.out)")
    }

    /// A vault to recipients on PostgreSQL: created, committed and recorded like a directory,
    /// each editor opens it with their own identity, and a removed one is locked out of what is
    /// written after `remove --rotate`.
    @Test func aVaultToRecipientsLivesOnPostgres() throws {
        let a = try Editor("a"), b = try Editor("b")
        let url = try PostgresServer.shared().createDatabase()
        let v = ["--vault", url]
        let made = try a.k.avault(["vault", "init", "--recipient", a.recipient, "--recipient", b.recipient] + v)
        #expect(made.code == 0 && made.out.contains("(2 recipients)"), "\(made.err)")
        #expect(try PostgresServer.shared().psql(PostgresServer.database(of: url), "SELECT count(*) FROM avault_files WHERE name = 'config'") == "1\n")
        let draft = a.k.path("draft")
        try Data("shared draft\n".utf8).write(to: URL(fileURLWithPath: draft))
        #expect(try a.k.avault(["vault", "put", "doc", draft] + v).code == 0)
        #expect(try b.k.avault(["vault", "get", "doc"] + v).out == "shared draft\n")
        let removed = try a.k.avault(["vault", "recipients", "remove", b.recipient, "--rotate"] + v)
        #expect(removed.code == 0, "\(removed.err)")
        let outsider = try b.k.avault(["vault", "get", "doc"] + v)
        #expect(outsider.code == 2 && outsider.err.contains("none of them an identity of this keyring"), "\(outsider.err)")
        #expect(try a.k.avault(["vault", "get", "doc"] + v).out == "shared draft\n")
        let verify = try a.k.avault(["vault", "verify"] + v)
        #expect(verify.code == 0, "\(verify.err)")
    }

    @Test func historyRemovePurgeFsckAndTheLogWorkOnPostgres() throws {
        let f = try VaultFixture(store: .postgres)
        try f.put("keep", Data("k1".utf8))
        try f.put("gone", Data("g1".utf8))
        try f.put("gone", Data("g2".utf8))
        let h = try f.json(["vault", "history", "gone"])
        #expect((h["versions"] as? [Any])?.count == 2)
        #expect(try f.avault(["vault", "rm", "gone"]).code == 0)
        let purge = try f.avault(["vault", "purge", "gone", "--force"])
        #expect(purge.code == 0, "\(purge.err)")
        #expect(try f.psql("SELECT count(DISTINCT name) FROM avault_envelopes") == "1\n")
        // An envelope and an entry row planted by the server's administrator are unexpected (no
        // writer to PostgreSQL leaves a temporary entry row); fsck moves both aside.
        try f.psql("INSERT INTO avault_envelopes (name, chunk, bytes) VALUES ('0123456789abcdef0123456789abcdef-1', 0, '\\x00')")
        try f.psql("INSERT INTO avault_files (name, bytes) VALUES ('entries/.tmp-0123456789abcdef', '\\x01')")
        let (code, report) = try f.verify()
        #expect(code == 1 && report.unexpected == ["entries/.tmp-0123456789abcdef", "objects/0123456789abcdef0123456789abcdef-1"], "\(report)")
        let fsck = try f.avault(["vault", "fsck"])
        #expect(fsck.code == 1, "fsck exits 1 when it moved something aside: \(fsck.err)")
        #expect(fsck.out.contains("moved aside: avault_quarantine: 0123456789abcdef0123456789abcdef-1."), "\(fsck.out)")
        #expect(fsck.out.contains("moved aside: avault_quarantine: .tmp-0123456789abcdef."), "\(fsck.out)")
        #expect(try f.psql("SELECT encode(bytes, 'hex') FROM avault_quarantine ORDER BY name") == "01\n00\n")
        #expect(try f.psql("SELECT count(*) FROM avault_files WHERE name LIKE 'entries/.%'") == "0\n")
        #expect(try f.verify().code == 0)
        let log = try f.avault(["vault", "log", "--verify"])
        #expect(log.code == 0, "\(log.out) \(log.err)")
        #expect(log.out.contains("entries, 0 signed heads"), "\(log.out)")
    }

    @Test func copyMovesAVaultToPostgresAndBackAndVerifiesTheCopy() throws {
        let f = try VaultFixture()
        var rng = SeededRNG(seed: 0xC0_B1E5)
        var stored: [String: [Int: Data]] = [:]
        for (id, size) in [("a", 10), ("a", 200_000), ("b/c", 0), ("é", 65_536), ("gone", 5)] {
            let payload = rng.data(size)
            stored[id, default: [:]][try f.put(id, payload)] = payload
        }
        #expect(try f.avault(["vault", "rm", "gone"]).code == 0)
        let url = try PostgresServer.shared().createDatabase()
        let toPG = try f.avault(["vault", "copy", "--to", url])
        #expect(toPG.code == 0, "\(toPG.err)")
        #expect(toPG.out == "copied 4 objects, 5 versions to \(url); the copy verifies\n", "\(toPG.out)")
        // The copy is the same vault: every version reads back from PostgreSQL, the log verifies.
        for (id, versions) in stored {
            for (v, payload) in versions {
                let g = try f.avault(["vault", "get", "--version", String(v), "--vault", url, "--", id])
                #expect(g.code == 0 && Bytes(g.stdout) == Bytes(payload), "\(id) v\(v): \(g.err)")
            }
        }
        #expect(try f.avault(["vault", "get", "gone", "--vault", url]).code == 2, "the tombstone came along")
        #expect(try f.avault(["vault", "log", "--verify", "--vault", url]).code == 0)
        let listed = try f.avault(["vault", "list", "--json", "--vault", url])
        #expect(listed.out == (try f.avault(["vault", "list", "--json"])).out)

        // A target that holds a vault is refused, either way.
        let again = try f.avault(["vault", "copy", "--to", url])
        #expect(again.code == 2 && again.err.contains("a vault already exists there"), "\(again.err)")

        // Back to a new directory, after a put on PostgreSQL.
        let p = try f.avault(["vault", "put", "a", "-", "--vault", url], stdin: Data("on postgres\n".utf8))
        #expect(p.code == 0, "\(p.err)")
        let back = f.path("back")
        let toDir = try f.avault(["vault", "copy", "--to", back, "--vault", url])
        #expect(toDir.code == 0, "\(toDir.err)")
        #expect(toDir.out.hasSuffix("; the copy verifies\n"), "\(toDir.out)")
        #expect(try f.avault(["vault", "get", "a", "--vault", back]).out == "on postgres\n")
        #expect(Bytes(try f.avault(["vault", "get", "a", "--version", "2", "--vault", back]).stdout) == Bytes(stored["a"]?[2]))
        #expect(try f.avault(["vault", "log", "--verify", "--vault", back]).code == 0)

        // A source whose envelope was altered: the copy does not verify, exit 1, no "copied".
        let pg = try VaultFixture(store: .postgres)
        try pg.put("x", Data("x".utf8))
        try pg.psql("UPDATE avault_envelopes SET bytes = set_byte(bytes, 60, get_byte(bytes, 60) # 1)")
        let bad = try pg.avault(["vault", "copy", "--to", pg.path("bad")])
        #expect(bad.code == 1, "\(bad.code): \(bad.err)")
        #expect(!bad.out.contains("copied"), "\(bad.out)")
        #expect(bad.err.contains("the vault did not verify: 1 corrupt"), "\(bad.err)")
    }

    @Test func aRoleWithTheDocumentedPrivilegesWritesAndAReadOnlyRoleReads() throws {
        let f = try VaultFixture(store: .postgres)
        try f.put("a", Data("by the owner\n".utf8))
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let writer = "desk_\(suffix)", reader = "reader_\(suffix)"
        let tables = "avault_schema_version, avault_head, avault_files, avault_log, avault_log_heads, avault_envelopes, avault_quarantine"
        try f.psql("CREATE ROLE \(writer) LOGIN; GRANT SELECT, INSERT, UPDATE, DELETE ON \(tables) TO \(writer); CREATE ROLE \(reader) LOGIN; GRANT SELECT ON \(tables) TO \(reader)")
        let asWriter = f.vault.replacingOccurrences(of: "user=avault", with: "user=\(writer)")
        let asReader = f.vault.replacingOccurrences(of: "user=avault", with: "user=\(reader)")
        let put = try f.avault(["vault", "put", "b", "-", "--vault", asWriter], stdin: Data("by the desk\n".utf8))
        #expect(put.code == 0, "\(put.err)")
        #expect(try f.avault(["vault", "rm", "b", "--vault", asWriter]).code == 0)
        #expect(try f.avault(["vault", "get", "a", "--vault", asReader]).out == "by the owner\n")
        #expect(try f.avault(["vault", "verify", "--vault", asReader]).code == 0)
        let refused = try f.avault(["vault", "put", "c", "-", "--vault", asReader], stdin: Data("x".utf8))
        #expect(refused.code == 2)
        #expect(refused.err.contains("refused a statement (SQLSTATE 42501)"), "\(refused.err)")
        #expect(try f.verify().code == 0)
    }

    /// A put's writes travel together with its `COMMIT` (one round trip): when the server
    /// refuses one of them after the envelope row was accepted, the put fails with the server's
    /// reason, nothing of it lands (no envelope row, no log row, no entry, the head unchanged),
    /// and the next put, as a role that may write, works.
    @Test func aPutWhoseLaterWriteIsRefusedLandsNothing() throws {
        let f = try VaultFixture(store: .postgres)
        try f.put("a", Data("first\n".utf8))
        let before = try f.psql("SELECT (SELECT count(*) FROM avault_envelopes) || ' ' || (SELECT count(*) FROM avault_log) || ' ' || (SELECT count(*) FROM avault_files) || ' ' || (SELECT md5(bytes) FROM avault_files WHERE name = 'index')")
        let role = "nolog_\(UUID().uuidString.prefix(8).lowercased())"
        // Everything a writer needs but INSERT on the log: the lock, the reads and the envelope
        // row succeed, the log row is refused.
        try f.psql("""
            CREATE ROLE \(role) LOGIN;
            GRANT SELECT, INSERT, UPDATE, DELETE ON avault_schema_version, avault_head, avault_files, avault_log_heads, avault_envelopes, avault_quarantine TO \(role);
            GRANT SELECT ON avault_log TO \(role)
            """)
        let vault = f.vault.replacingOccurrences(of: "user=avault", with: "user=\(role)")
        let refused = try f.avault(["vault", "put", "a", "-", "--vault", vault], stdin: Data("second\n".utf8))
        #expect(refused.code == 2, "\(refused.code): \(refused.err)")
        #expect(refused.err.contains("refused a statement (SQLSTATE 42501)"), "\(refused.err)")
        #expect(refused.err.contains("avault_log"), "\(refused.err)")
        #expect(try f.psql("SELECT (SELECT count(*) FROM avault_envelopes) || ' ' || (SELECT count(*) FROM avault_log) || ' ' || (SELECT count(*) FROM avault_files) || ' ' || (SELECT md5(bytes) FROM avault_files WHERE name = 'index')") == before)
        #expect(try f.verify().code == 0)
        #expect(try f.put("a", Data("second\n".utf8)) == 2)
        #expect(try f.get("a").out == "second\n")
        #expect(try f.avault(["vault", "log", "--verify"]).code == 0)
    }

    @Test(.disabled(if: CLI.sanitized, "LeakSanitizer does not run under ptrace (strace)"),
          .disabled(if: !CLI.debugBuild, "a release build has no such switch"))
    func theSuitesSwitchMakesAPutSendItsStatementsOneAtATime() throws {
        // The "postgres-without-pipeline" store of the shared vault suite is what it says: the
        // same put writes to the server's socket more often without pipeline mode than with it.
        func sends(_ store: VaultStore) throws -> Int {
            let f = try VaultFixture(store: store)
            try f.put("warm", Data("first\n".utf8))
            let strace = try #require(VaultDurabilityTests.strace, "strace is not installed (scripts/setup installs it)")
            let draft = f.path("draft"), trace = f.path("trace")
            try Data("a draft\n".utf8).write(to: URL(fileURLWithPath: draft))
            let exit = try VaultSpawn.run([strace, "-f", "-qq", "-o", trace, "-e", "trace=sendto", CLI.avaultPath, "vault", "put", "a", draft],
                                          env: VaultSpawn.environment(f), stdout: f.path("out"), stderr: f.path("err"))
            #expect(exit.code == 0, "\(store): \((try? String(contentsOfFile: f.path("err"), encoding: .utf8)) ?? "")")
            return try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").filter { $0.contains("sendto(") }.count
        }
        let pipelined = try sends(.postgres), oneAtATime = try sends(.postgresWithoutPipeline)
        #expect(pipelined > 0 && pipelined < oneAtATime, "\(pipelined) writes with pipeline mode, \(oneAtATime) without")
    }

    /// A vault made by an avault of schema version 1 (no prefix index) is read and written as
    /// it is; `vault schema upgrade` adds version 2 in one transaction, records it beside 1, and
    /// says so; run again it changes nothing. A role that does not own the tables cannot
    /// upgrade (and the version stays), and a directory has no schema.
    @Test func schemaUpgradeBringsAVersionOneVaultToTwo() throws {
        let f = try VaultFixture(store: .postgres)
        try f.put("a", Data("on version 2\n".utf8))
        // The schema of an avault of version 1.
        try f.psql("DROP INDEX avault_files_name_prefix; DELETE FROM avault_schema_version; INSERT INTO avault_schema_version (version) VALUES (1)")
        #expect(try f.put("a", Data("on version 1\n".utf8)) == 2)
        #expect(try f.get("a").out == "on version 1\n")
        #expect(try f.verify().code == 0)

        let role = "desk_\(UUID().uuidString.prefix(8).lowercased())"
        try f.psql("CREATE ROLE \(role) LOGIN; GRANT SELECT, INSERT, UPDATE, DELETE ON avault_schema_version, avault_head, avault_files, avault_log, avault_log_heads, avault_envelopes, avault_quarantine TO \(role)")
        let notOwner = try f.avault(["vault", "schema", "upgrade", "--vault", f.vault.replacingOccurrences(of: "user=avault", with: "user=\(role)")])
        #expect(notOwner.code == 2, "\(notOwner.code): \(notOwner.err)")
        #expect(notOwner.err.contains("refused a statement (SQLSTATE 42501)"), "\(notOwner.err)")
        #expect(try f.psql("SELECT version FROM avault_schema_version ORDER BY 1") == "1\n")

        let upgrade = try f.avault(["vault", "schema", "upgrade"])
        #expect(upgrade.code == 0, "\(upgrade.err)")
        #expect(upgrade.out == "schema upgraded from version 1 to 2\n")
        #expect(try f.psql("SELECT version FROM avault_schema_version ORDER BY 1") == "1\n2\n")
        #expect(try f.psql("SELECT indexdef FROM pg_indexes WHERE indexname = 'avault_files_name_prefix'").contains("(name text_pattern_ops)"))
        let again = try f.json(["vault", "schema", "upgrade"])
        #expect(again["from"] as? Int == 2 && again["to"] as? Int == 2, "\(again)")
        #expect(try f.get("a", version: 1).out == "on version 2\n")
        #expect(try f.put("b", Data("after\n".utf8)) == 1)
        #expect(try f.avault(["vault", "log", "--verify"]).code == 0)

        let directory = try VaultFixture()
        let none = try directory.avault(["vault", "schema", "upgrade"])
        #expect(none.code == 2)
        #expect(none.err.hasPrefix("avault: \(directory.vault) is a directory, which has no schema"), "\(none.err)")
        #expect(none.err.contains("avault: hint: name the PostgreSQL vault"), "\(none.err)")
        // An empty database holds no vault to upgrade.
        let empty = try f.avault(["vault", "schema", "upgrade", "--vault", f.vault.replacingOccurrences(of: PostgresServer.database(of: f.vault), with: "postgres")])
        #expect(empty.code == 2 && empty.err.contains("no vault"), "\(empty.err)")
    }

    /// A database's `synchronous_commit = off` (or one the URL's `options` sets) would have a
    /// put acknowledged before it is durable: each write transaction turns it on for itself. A
    /// trigger on the log records the setting each write runs with; a stronger setting than `on`
    /// (`remote_apply`) is kept.
    @Test func aPutRunsWithSynchronousCommitOnWhateverTheDatabaseSays() throws {
        let f = try VaultFixture(store: .postgres)
        let database = PostgresServer.database(of: f.vault)
        try f.psql("CREATE TABLE seen (setting text)")
        try f.psql("CREATE FUNCTION note_setting() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO seen VALUES (current_setting('synchronous_commit')); RETURN NEW; END $$")
        try f.psql("CREATE TRIGGER note_setting AFTER INSERT ON avault_log FOR EACH ROW EXECUTE FUNCTION note_setting()")
        try f.psql("ALTER DATABASE \(database) SET synchronous_commit = off")
        // The control: a new session of this database runs with it off.
        #expect(try f.psql("SHOW synchronous_commit") == "off\n")
        try f.put("a", Data("one\n".utf8))
        #expect(try f.psql("SELECT DISTINCT setting FROM seen") == "on\n")

        try f.psql("ALTER DATABASE \(database) RESET synchronous_commit; DELETE FROM seen")
        try f.put("a", Data("two\n".utf8), extra: ["--vault", f.vault + "&options=-csynchronous_commit%3Doff"])
        #expect(try f.psql("SELECT DISTINCT setting FROM seen") == "on\n")

        try f.psql("ALTER DATABASE \(database) SET synchronous_commit = remote_apply; DELETE FROM seen")
        try f.put("a", Data("three\n".utf8))
        #expect(try f.psql("SELECT DISTINCT setting FROM seen") == "remote_apply\n")
    }

    /// The head row deleted: no writer can take its lock, so every put would fail; `verify`
    /// and every other command that opens the vault report it as tampering (exit 1), with how
    /// to put it back. Put back, the vault verifies and takes puts again.
    @Test func aDeletedHeadRowIsReportedByVerify() throws {
        let f = try VaultFixture(store: .postgres)
        try f.put("a", Data("kept\n".utf8))
        try f.psql("DELETE FROM avault_head")
        for args in [["vault", "verify"], ["vault", "list"], ["vault", "put", "a", "-"]] {
            let r = try f.avault(args, stdin: Data("more\n".utf8))
            #expect(r.code == 1, "\(args): \(r.code) \(r.err)")
            let lines = r.err.split(separator: "\n")
            #expect(lines.first == "avault: \(f.vault): the table avault_head has lost its row: the vault was altered", "\(lines)")
            #expect(lines.dropFirst().first?.contains("INSERT INTO avault_head (id) VALUES (1)") == true, "\(lines)")
        }
        try f.psql("INSERT INTO avault_head (id) VALUES (1)")
        #expect(try f.verify().code == 0)
        #expect(try f.put("a", Data("more\n".utf8)) == 2)
    }
}
