import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Durability is observed, not assumed: the real binary runs under `strace`, and every file it
/// renames into place in the vault or the keyring must have been `fsync`ed after its last write
/// and before the rename, every appended file `fsync`ed after its last write, and the
/// directory of every rename `fsync`ed after it — all before the command acknowledges (its
/// first write to standard output). SIGKILL keeps the page cache, so no crash test can see a
/// missing `fsync`; this one does.
@Suite(.serialized) struct VaultDurabilityTests {
    /// One system call from `strace -f -y`.
    struct Call: CustomStringConvertible {
        var index: Int
        /// The thread that made it.
        var pid: String = ""
        var name: String
        var args: String
        var result: String
        var description: String { "#\(index) \(name)(\(args)) = \(result)" }
    }

    static let strace: String? = ["/usr/bin/strace", "/bin/strace"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs `avault args…` under strace; returns the calls and the exit status.
    static func trace(_ f: VaultFixture, _ args: [String], stdin: Data = Data()) throws -> (calls: [Call], code: Int32?, out: String) {
        let strace = try #require(Self.strace, "strace is not installed (scripts/setup installs it)")
        let traceFile = f.path("trace-\(UUID().uuidString)"), input = f.path("stdin"), out = f.path("stdout"), err = f.path("stderr")
        try stdin.write(to: URL(fileURLWithPath: input))
        defer { for p in [traceFile, input, out, err] { unlink(p) } }
        let exit = try VaultSpawn.run([strace, "-f", "-y", "-qq", "-s", "256", "-o", traceFile,
                                       "-e", "trace=write,pwrite64,fsync,fdatasync,syncfs,rename,renameat,renameat2",
                                       CLI.avaultPath] + args,
                                      env: VaultSpawn.environment(f), stdin: input, stdout: out, stderr: err)
        let text = try String(contentsOfFile: traceFile, encoding: .utf8)
        #expect(exit.code == 0, "\(args): exit \(exit): \((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
        return (parse(text), exit.code, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }

    /// Parses strace's lines (`PID name(args) = result`), joining `<unfinished ...>` halves.
    static func parse(_ text: String) -> [Call] {
        var calls: [Call] = []
        var pending: [String: String] = [:]
        for raw in text.split(separator: "\n").map(String.init) {
            guard let space = raw.firstIndex(of: " ") else { continue }
            let pid = String(raw[..<space])
            var line = String(raw[raw.index(after: space)...].drop { $0 == " " })
            if line.hasSuffix("<unfinished ...>") {
                // A call another thread interrupted: `fsync(7</d/f> <unfinished ...>`, later
                // `<... fsync resumed>) = 0`.
                pending[pid] = String(line.dropLast("<unfinished ...>".count).reversed().drop { $0 == " " }.reversed())
                continue
            }
            if line.hasPrefix("<... "), let resumed = line.range(of: " resumed>") {
                line = (pending.removeValue(forKey: pid) ?? "") + line[resumed.upperBound...]
            }
            // strace pads short calls: `fsync(3</d>)      = 0`.
            guard let open = line.firstIndex(of: "("), let eq = line.range(of: " = ", options: .backwards) else { continue }
            let head = line[..<eq.lowerBound].reversed().drop { $0 == " " }
            guard head.first == ")" else { continue }
            let close = line.index(line.startIndex, offsetBy: head.count - 1)
            calls.append(Call(index: calls.count, pid: pid, name: String(line[..<open]), args: String(line[line.index(after: open)..<close]),
                              result: String(line[eq.upperBound...])))
        }
        return calls
    }

    /// The path strace shows for a descriptor argument: `5</a/b>` or `AT_FDCWD</a>`.
    static func fdPath(_ arg: Substring) -> String? {
        guard let lt = arg.firstIndex(of: "<"), arg.hasSuffix(">") else { return nil }
        return String(arg[arg.index(after: lt)..<arg.index(before: arg.endIndex)])
    }

    static func unquote(_ arg: Substring) -> String {
        var s = arg.trimmingCharacters(in: .whitespaces)
        if s.hasPrefix("\""), s.hasSuffix("\""), s.count >= 2 { s = String(s.dropFirst().dropLast()) }
        return s
    }

    /// The arguments split at top-level commas (strings may hold commas).
    static func arguments(_ args: String) -> [Substring] {
        var out: [Substring] = []
        var start = args.startIndex, inString = false, escaped = false, depth = 0
        var i = args.startIndex
        while i < args.endIndex {
            let c = args[i]
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            } else if c == "\"" { inString = true } else if c == "<" || c == "[" || c == "{" { depth += 1 } else if c == ">" || c == "]" || c == "}" {
                depth -= 1
            } else if c == ",", depth == 0 {
                out.append(args[start..<i].drop { $0 == " " })
                start = args.index(after: i)
            }
            i = args.index(after: i)
        }
        out.append(args[start...].drop { $0 == " " })
        return out
    }

    /// The paths of a successful rename.
    static func renamed(_ c: Call) -> (from: String, to: String)? {
        guard ["rename", "renameat", "renameat2"].contains(c.name), c.result == "0" else { return nil }
        let args = arguments(c.args)
        if c.name == "rename" { return args.count >= 2 ? (unquote(args[0]), unquote(args[1])) : nil }
        guard args.count >= 4, let fromDir = fdPath(args[0]), let toDir = fdPath(args[2]) else { return nil }
        let a = unquote(args[1]), b = unquote(args[3])
        return (a.hasPrefix("/") ? a : fromDir + "/" + a, b.hasPrefix("/") ? b : toDir + "/" + b)
    }

    /// The path of the descriptor a successful `fsync` synced.
    static func synced(_ c: Call) -> String? {
        guard c.name == "fsync" || c.name == "fdatasync", c.result == "0" else { return nil }
        return arguments(c.args).first.flatMap(fdPath)
    }

    /// What must come before the index of the vault at `vault` lands (its rename), for a write
    /// that stores envelopes (formats.md 8.5): every envelope renamed from its temporary file
    /// into `objects/`, then `objects/` synced, and the log synced after its last write.
    /// Renames of staged rewraps after the index are step 5, not checked here.
    static func orderProblems(_ calls: [Call], vault: String) -> [String] {
        guard let ack = calls.first(where: { ($0.name == "write") && $0.args.hasPrefix("1<") }) else { return ["no acknowledgement"] }
        let before = calls.filter { $0.index < ack.index }
        guard let index = before.first(where: { renamed($0)?.to == vault + "/index" }) else { return ["the index was never renamed into place"] }
        var problems: [String] = []
        // Envelopes in objects/, and the per-object index entries in entries/ that the index
        // (their head) commits to: in place, and their directory synced, before the index.
        for (directory, what) in [("objects", "an envelope"), ("entries", "an index entry")] {
            let path = vault + "/" + directory
            let moved = before.filter { c in renamed(c).map { $0.from.hasPrefix(path + "/.tmp-") && $0.to.hasPrefix(path + "/") } ?? false }
            for e in moved where e.index > index.index { problems.append("\(what) was renamed into place after the index (\(e))") }
            if let last = moved.last {
                let sync = before.first { $0.index > last.index && synced($0) == path }
                if sync == nil || sync!.index > index.index {
                    problems.append("\(directory)/ was not synced after its last rename (\(last)) and before the index's (\(index))")
                }
            }
        }
        let log = vault + "/log"
        if let lastWrite = before.last(where: { $0.name == "write" && arguments($0.args).first.flatMap(fdPath) == log }) {
            let sync = before.first { $0.index > lastWrite.index && synced($0) == log }
            if sync == nil || sync!.index > index.index { problems.append("the log was not synced after its last write and before the index's rename") }
        }
        return problems
    }

    /// The problems with the calls before the acknowledgement, for files under `root`, followed
    /// in order: a write makes a file dirty, its `fsync` clean; a rename needs a clean file (the
    /// state moves with the name) and leaves its directory to be synced; at the acknowledgement
    /// no directory may wait for a sync and no appended log be dirty.
    static func durabilityProblems(_ calls: [Call], root: String) -> (problems: [String], renamed: [String]) {
        guard let ack = calls.first(where: { ($0.name == "write") && $0.args.hasPrefix("1<") }) else {
            return (["the command never acknowledged (no write to standard output)"], [])
        }
        var problems: [String] = [], renamed: [String] = []
        var clean: [String: Bool] = [:]
        var unsyncedDirectories: [String: Call] = [:]
        func show(_ path: String) -> String { path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path }
        for c in calls where c.index < ack.index {
            let args = arguments(c.args)
            switch c.name {
            case "write", "pwrite64":
                if let path = args.first.flatMap(fdPath) { clean[path] = false }
            case "fsync", "fdatasync":
                guard c.result == "0", let path = args.first.flatMap(fdPath) else { break }
                clean[path] = true
                unsyncedDirectories[path] = nil
            case "syncfs":
                // Everything on the file system written out: every file and directory (all of
                // the fixture's are on one file system).
                guard c.result == "0", args.first.flatMap(fdPath)?.hasPrefix(root + "/") == true else { break }
                for path in clean.keys { clean[path] = true }
                unsyncedDirectories = [:]
            case "rename", "renameat", "renameat2":
                guard let (from, to) = Self.renamed(c), to.hasPrefix(root + "/") else { break }
                renamed.append(show(to))
                if clean[from] != true {
                    problems.append("\(show(to)) was renamed into place without an fsync of its bytes after their last write (\(c))")
                }
                clean[to] = clean.removeValue(forKey: from)
                unsyncedDirectories[String(to[..<to.lastIndex(of: "/")!])] = c
            default:
                break
            }
        }
        for (directory, c) in unsyncedDirectories.sorted(by: { $0.key < $1.key }) {
            problems.append("\(show(directory)) was not synced after a rename and before the acknowledgement (\(c))")
        }
        // Appended files (the log, log.heads): synced after their last write.
        for (path, isClean) in clean.sorted(by: { $0.key < $1.key }) where path.hasPrefix(root + "/") && !isClean
            && (path.hasSuffix("/log") || path.hasSuffix("/log.heads")) {
            problems.append("\(show(path)) was appended to and not synced before the acknowledgement")
        }
        return (problems, renamed)
    }

    static let batchSize = 40
    /// A batch this large is made durable with one `syncfs` (SyncfsEnvelopeCommitter.threshold).
    static let largeBatchSize = 100

    @Test(.disabled(if: CLI.sanitized, "LeakSanitizer does not run under ptrace (strace)")) func everyAcknowledgedWriteIsSyncedBeforeItsRenameAndItsDirectoryBeforeTheAcknowledgement() throws {
        let f = try VaultFixture()
        let resolved = try #require(realpath(f.dir.path, nil))
        let root = String(cString: resolved)
        free(resolved)
        try f.put("doc", Data("first".utf8))
        var rng = SeededRNG(seed: 0xD0_4AB1E)
        let records = f.path("records")
        try FileManager.default.createDirectory(atPath: records, withIntermediateDirectories: true)
        for i in 0..<3 {
            try CLI.write("---\ntitle: Record \(i)\nwebUrl: https://example.org/\(i)\n---\n\nBody \(i).\n", to: URL(fileURLWithPath: records + "/r\(i).md"))
        }
        let batch = f.path("batch")
        try FileManager.default.createDirectory(atPath: batch, withIntermediateDirectories: true)
        for i in 0..<Self.batchSize {
            try CLI.write("---\ntitle: Batch \(i)\nwebUrl: https://example.org/batch/\(i)\n---\n\n\(String(repeating: "Body \(i). ", count: 300))\n",
                          to: URL(fileURLWithPath: batch + "/b\(i).md"))
        }
        let largeBatch = f.path("large-batch")
        try FileManager.default.createDirectory(atPath: largeBatch, withIntermediateDirectories: true)
        for i in 0..<Self.largeBatchSize {
            try CLI.write("---\ntitle: Large \(i)\nwebUrl: https://example.org/large/\(i)\n---\n\nBody \(i).\n", to: URL(fileURLWithPath: largeBatch + "/l\(i).md"))
        }
        #expect(try f.avault(["keys", "generate", "logsigner", "--signing", "--unprotected"]).code == 0)
        let steps: [(String, [String], Data, [String])] = [
            ("a small put", ["vault", "put", "doc", "-"], Data("second".utf8), ["objects/", "entries/", "vault/index", "vault/log"]),
            ("a put of five chunks", ["vault", "put", "big", "-"], rng.data(300_000), ["objects/", "entries/", "vault/index"]),
            ("an import of three records", ["vault", "import", records], Data(), ["objects/", "entries/", "vault/index"]),
            ("an import of a batch", ["vault", "import", batch], Data(), ["objects/", "entries/", "vault/index"]),
            ("an import of a large batch", ["vault", "import", largeBatch], Data(), ["objects/", "entries/", "vault/index"]),
            ("rm", ["vault", "rm", "big"], Data(), ["entries/", "vault/index"]),
            ("purge", ["vault", "purge", "big", "--force"], Data(), ["entries/", "vault/index"]),
            ("log --sign", ["vault", "log", "--sign", "logsigner"], Data(), ["vault/index", "vault/log.heads"]),
        ]
        for (what, args, stdin, expected) in steps {
            let (calls, code, _) = try Self.trace(f, args, stdin: stdin)
            guard code == 0 else { continue }
            let (problems, renamed) = Self.durabilityProblems(calls, root: root)
            #expect(problems.isEmpty, "\(what): \(problems)")
            for e in expected where e != "vault/log" && e != "vault/log.heads" {
                #expect(renamed.contains { $0.contains(e) }, "\(what): no rename of \(e) seen; renamed: \(renamed)")
            }
            if expected.contains("entries/") {
                let order = Self.orderProblems(calls, vault: root + "/vault")
                #expect(order.isEmpty, "\(what): \(order)")
            }
            if args.first(where: { $0 == batch }) != nil {
                // The batch's envelopes: each fsynced (checked above), and one sync of objects/
                // for all of them. (That commits run on several threads at once is
                // EnvelopeCommitterTests.everyEnvelopeIsCommittedOnceWithSeveralAtOnce's to
                // check: here, whether a second thread starts depends on the machine's load, and
                // once under CI's all the fsyncs came from one thread.)
                let objects = root + "/vault/objects"
                let envelopeSyncs = calls.filter { Self.synced($0)?.hasPrefix(objects + "/.tmp-") == true }
                #expect(envelopeSyncs.count == Self.batchSize, "\(what): \(envelopeSyncs.count) envelope fsyncs")
                #expect(calls.filter { Self.synced($0) == objects }.count == 1, "\(what): objects/ synced more than once for one batch")
                #expect(!calls.contains { $0.name == "syncfs" }, "\(what): a batch of \(Self.batchSize) made durable with syncfs")
            }
            if args.first(where: { $0 == largeBatch }) != nil {
                // A large batch: no fsync of any envelope or entry, one syncfs for the envelopes
                // and one for the entries, each before its files' renames (checked above), and
                // one sync of each directory. (Where avault does not trust syncfs, an fsync each.)
                let perFile = calls.filter { c in Self.synced(c).map { $0.contains("/.tmp-") } ?? false }
                let syncfs = calls.filter { $0.name == "syncfs" && $0.result == "0" }
                if try BatchSync.usesSyncfs(at: root) {
                    #expect(perFile.isEmpty, "\(what): \(perFile.count) files fsynced one by one, as \(perFile.prefix(2))")
                    #expect(syncfs.count == 2, "\(what): \(syncfs)")
                } else {
                    #expect(perFile.count == 2 * Self.largeBatchSize && syncfs.isEmpty, "\(what): \(perFile.count) fsyncs, \(syncfs)")
                }
                for directory in ["objects", "entries"] {
                    #expect(calls.filter { Self.synced($0) == root + "/vault/" + directory }.count == 1, "\(what): \(directory)/ not synced once")
                }
            }
        }
        // A rotation and a rewrap: staged envelopes, the config, the index.
        #expect(try f.avault(["keys", "rotate", "drafts"]).code == 0)
        let (calls, code, out) = try Self.trace(f, ["vault", "rewrap"])
        let rewrapped = 5 + Self.batchSize + Self.largeBatchSize
        #expect(code == 0 && out.hasPrefix("rewrapped \(rewrapped) versions"), "\(out)")
        let (problems, renamed) = Self.durabilityProblems(calls, root: root)
        #expect(problems.isEmpty, "rewrap: \(problems)")
        #expect(Self.orderProblems(calls, vault: root + "/vault").isEmpty, "rewrap: \(Self.orderProblems(calls, vault: root + "/vault"))")
        #expect(renamed.contains("vault/config") && renamed.filter { $0.hasPrefix("vault/objects/.rewrap-") }.count == rewrapped, "\(renamed)")
        let syncfsExpected = try BatchSync.usesSyncfs(at: root)
        #expect(calls.contains { $0.name == "syncfs" } == syncfsExpected, "a rewrap of \(rewrapped) versions")
        #expect(try f.verify().code == 0)
    }

    /// The checker itself: a trace with the envelope's fsync removed, or the directory's, fails.
    /// A put after a write that finished (`finished` names the index's head, formats.md 8.5)
    /// reads only its bucket's entries and recovers nothing; without `finished` — as a write that
    /// crashed leaves the vault — or with another head in it, the put reads every entry and
    /// recovers what it finds, as every write did before.
    @Test(.disabled(if: CLI.sanitized, "LeakSanitizer does not run under ptrace (strace)"))
    func aPutAfterAFinishedWriteReadsOnlyItsBucket() throws {
        let f = try VaultFixture()
        for i in 0..<40 { try f.put("doc\(i)", Data("draft \(i)\n".utf8)) }
        // `finished` names the head the keyring recorded for the last put.
        let record = try #require(try String(contentsOfFile: f.ring + "/keyring.avk", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("vault: ") }).split(separator: " ")
        let finished = f.vault + "/finished"
        #expect(try String(contentsOfFile: finished, encoding: .utf8) == "\(record[2]) \(record[3])\n")

        /// The entry files a put (or another write) opens, and whether it logged a recovery.
        func put(_ id: String, command: [String]? = nil) throws -> (entriesOpened: Int, recovered: Bool) {
            let strace = try #require(Self.strace, "strace is not installed (scripts/setup installs it)")
            let before = try VaultLogTests.logLines(f).count
            let trace = f.path("trace-\(UUID().uuidString)"), draft = f.path("draft-\(id)")
            try Data("a new draft\n".utf8).write(to: URL(fileURLWithPath: draft))
            let exit = try VaultSpawn.run([strace, "-f", "-y", "-qq", "-o", trace, "-e", "trace=openat", CLI.avaultPath] + (command ?? ["vault", "put", id, draft]),
                                          env: VaultSpawn.environment(f), stdout: f.path("out"), stderr: f.path("err"))
            #expect(exit.code == 0, "\((try? String(contentsOfFile: f.path("err"), encoding: .utf8)) ?? "")")
            // (Entry files are opened relative to the descriptor of `entries/`, which -y names.)
            let opened = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
                .filter { $0.contains("openat(") && $0.contains("/entries>, ") }
            let added = try VaultLogTests.logLines(f).dropFirst(before - 1)
            return (opened.count, added.contains { $0.contains("\"op\":\"recover\"") })
        }
        // A leftover of a crashed write, which only recovery removes.
        let leftover = f.objects + "/.tmp-0123456789abcdef"
        try CLI.write("leftover", to: URL(fileURLWithPath: leftover))
        chmod(leftover, 0o600)

        // A write to one bucket opens entries/ to list it, each entry of its bucket, and its new
        // entry's temporary file: 2 + the objects in that bucket. Which of the 40 share a bucket
        // (of 256) depends on the vault's random naming key: one object had two others with it
        // in a CI run (5 opens); nine in its bucket is as likely as 3 in a trillion, and a full read
        // opens 40 or more.
        let bucketOnly = 10
        let quick = try put("doc1")
        #expect(quick.entriesOpened <= bucketOnly && !quick.recovered, "\(quick)")
        // So do a removal and a purge of one ID.
        for command in [["vault", "rm", "doc4"], ["vault", "purge", "doc5", "--force"]] {
            let one = try put("", command: command)
            #expect(one.entriesOpened <= bucketOnly && !one.recovered, "\(command): \(one)")
        }
        #expect(try f.get("doc4").code == 2 && f.get("doc5").code == 2 && f.get("doc6").out == "draft 6\n")
        #expect(FileManager.default.fileExists(atPath: leftover))
        #expect(try f.verify().report.leftovers == ["objects/.tmp-0123456789abcdef"])

        // Without `finished`, or naming another head: every entry is read, the leftover removed.
        #expect(unlink(finished) == 0)
        let full = try put("doc2")
        #expect(full.entriesOpened >= 40 && full.recovered, "\(full)")
        #expect(!FileManager.default.fileExists(atPath: leftover))
        try CLI.write("leftover", to: URL(fileURLWithPath: leftover))
        chmod(leftover, 0o600)
        try vaultOverwrite(finished, with: Data("\(record[2]) \(record[3])\n".utf8))
        let stale = try put("doc3")
        #expect(stale.entriesOpened >= 40 && stale.recovered, "\(stale)")
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(try f.verify().code == 0)
        #expect(try f.get("doc1").out == "a new draft\n" && f.get("doc39").out == "draft 39\n")
    }

    @Test func theCheckerCatchesAMissingSync() {
        let ok = """
            1  write(5</r/v/objects/.tmp-1>, "x", 1) = 1
            1 fsync(5</r/v/objects/.tmp-1>) = 0
            1 renameat(4</r/v/objects>, ".tmp-1", 4</r/v/objects>, "n-1") = 0
            1 fsync(4</r/v/objects>)     = 0
            1 write(6</r/v/log>, "{}\\n", 3) = 3
            1 fsync(6</r/v/log>) = 0
            1 write(1</r/out>, "stored", 6) = 6
            """
        #expect(Self.durabilityProblems(Self.parse(ok), root: "/r").problems.isEmpty)
        for (what, line) in [("the envelope's fsync", "1 fsync(5</r/v/objects/.tmp-1>) = 0"), ("the directory's fsync", "1 fsync(4</r/v/objects>)     = 0"),
                             ("the log's fsync", "1 fsync(6</r/v/log>) = 0")] {
            let broken = ok.split(separator: "\n").filter { $0 != line }.joined(separator: "\n")
            #expect(!Self.durabilityProblems(Self.parse(broken), root: "/r").problems.isEmpty, "without \(what)")
        }
        // A write after the fsync and before the rename is not durable either.
        let late = ok.replacingOccurrences(of: "1 renameat(", with: "1 write(5</r/v/objects/.tmp-1>, \"y\", 1) = 1\n1 renameat(")
        #expect(!Self.durabilityProblems(Self.parse(late), root: "/r").problems.isEmpty)
        // A syncfs of the file system before the rename does what the file's fsync did; after
        // the rename it comes too late.
        let fsyncLine = "1 fsync(5</r/v/objects/.tmp-1>) = 0", syncfsLine = "1 syncfs(4</r/v/objects>) = 0"
        let syncfs = ok.replacingOccurrences(of: fsyncLine, with: syncfsLine)
        #expect(Self.durabilityProblems(Self.parse(syncfs), root: "/r").problems.isEmpty)
        let lateSyncfs = ok.replacingOccurrences(of: fsyncLine + "\n", with: "")
            .replacingOccurrences(of: "\"n-1\") = 0\n", with: "\"n-1\") = 0\n" + syncfsLine + "\n")
        #expect(lateSyncfs.contains(syncfsLine) && !lateSyncfs.contains(fsyncLine))
        #expect(!Self.durabilityProblems(Self.parse(lateSyncfs), root: "/r").problems.isEmpty)
    }

    /// The order checker: an index renamed before its envelopes or entries, before the sync of
    /// objects/ or entries/, or before the log's sync, fails; and a call split by another thread is parsed whole.
    @Test func theOrderCheckerCatchesAnIndexLandingTooEarly() {
        let ok = """
            1 write(5</r/vault/objects/.tmp-1>, "x", 1) = 1
            2 fsync(5</r/vault/objects/.tmp-1> <unfinished ...>
            1 write(7</r/vault/objects/.tmp-2>, "y", 1) = 1
            2 <... fsync resumed>) = 0
            2 renameat(4</r/vault/objects>, ".tmp-1", 4</r/vault/objects>, "n-1") = 0
            3 fsync(7</r/vault/objects/.tmp-2>) = 0
            3 renameat(4</r/vault/objects>, ".tmp-2", 4</r/vault/objects>, "m-1") = 0
            1 fsync(4</r/vault/objects>)     = 0
            1 write(6</r/vault/log>, "{}\\n", 3) = 3
            1 fsync(6</r/vault/log>) = 0
            2 write(9</r/vault/entries/.tmp-3>, "e", 1) = 1
            2 fsync(9</r/vault/entries/.tmp-3>) = 0
            1 renameat(10</r/vault/entries>, ".tmp-3", 10</r/vault/entries>, "n.5") = 0
            1 fsync(10</r/vault/entries>) = 0
            1 write(8</r/vault/.avault-tmp-1>, "i", 1) = 1
            1 fsync(8</r/vault/.avault-tmp-1>) = 0
            1 rename("/r/vault/.avault-tmp-1", "/r/vault/index") = 0
            1 fsync(3</r/vault>) = 0
            1 write(1</r/out>, "stored", 6) = 6
            """
        let calls = Self.parse(ok)
        #expect(Self.durabilityProblems(calls, root: "/r").problems.isEmpty)
        #expect(Self.orderProblems(calls, vault: "/r/vault").isEmpty, "\(Self.orderProblems(calls, vault: "/r/vault"))")
        #expect(Set(calls.filter { Self.synced($0)?.contains(".tmp-") == true }.map(\.pid)) == ["2", "3"])
        let lines = ok.split(separator: "\n").map(String.init)
        let indexRename = lines.firstIndex { $0.contains("/r/vault/index") }!
        func moved(_ line: Int) -> String {
            var l = lines
            let moving = l.remove(at: line)
            l.insert(moving, at: l.firstIndex { $0.contains("/r/vault/index") }! + 1)
            return l.joined(separator: "\n")
        }
        for (what, line) in [("an envelope's rename", 6), ("the sync of objects/", 7), ("the log's sync", 9),
                             ("an index entry's rename", 12), ("the sync of entries/", 13)] {
            #expect(line < indexRename)
            #expect(!Self.orderProblems(Self.parse(moved(line)), vault: "/r/vault").isEmpty, "with \(what) after the index")
        }
    }
}
