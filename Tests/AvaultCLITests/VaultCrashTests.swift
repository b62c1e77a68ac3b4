import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Writers killed with SIGKILL at random moments, and writers running all at once: every
/// acknowledged put survives byte for byte, and the vault stays consistent: right after every
/// kill, `vault verify` exits 0 (what the killed writers left is reported, not a failure).
@Suite(.serialized) struct VaultCrashTests {
    /// One ACK line: `ACK <n> stored <id> version <v> (<size> bytes)`.
    struct Ack: Hashable {
        var n: Int
        var id: String
        var version: Int
    }

    static func parseAcks(_ text: String) -> (acks: [Ack], failures: [String]) {
        var acks: [Ack] = [], failures: [String] = []
        // Only complete lines count: a line cut by the kill has no newline.
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()
        for line in lines {
            let w = line.split(separator: " ")
            if w.first == "ACK", w.count >= 6, w[2] == "stored", w[4] == "version", let n = Int(w[1]), let v = Int(w[5]) {
                acks.append(Ack(n: n, id: String(w[3]), version: v))
            } else if !line.isEmpty {
                failures.append(String(line))
            }
        }
        return (acks, failures)
    }

    /// A shell loop: put payload files `$P/p<i>` for i in [first, first+count) to `id<i % ids>`,
    /// appending `ACK i <avault's output>` after each acknowledged put, `FAIL i` otherwise.
    static let putLoop = """
        i=$1; end=$(( $1 + $2 ))
        while [ "$i" -lt "$end" ]; do
          if out=$("$AVAULT" vault put "id$(( i % $3 ))" "$P/p$i" 2>>"$ERRS"); then
            echo "ACK $i $out" >> "$ACKS"
          else
            echo "FAIL $i" >> "$ACKS"
          fi
          i=$(( i + 1 ))
        done
        """

    @Test(.disabled(if: CLI.sanitized, "counts acknowledged puts in a fixed time: too slow under AddressSanitizer"), arguments: VaultStore.allCases)
    func killedWritersNeverLoseAnAcknowledgedPut(store: VaultStore) throws {
        let start = Date()
        let f = try VaultFixture(store: store)
        let seed = UInt64(ProcessInfo.processInfo.environment["AVAULT_CRASH_SEED"] ?? "") ?? 0xC4A5_0001
        var rng = SeededRNG(seed: seed)
        let payloads = f.path("payloads")
        try FileManager.default.createDirectory(atPath: payloads, withIntermediateDirectories: true)
        let script = f.path("loop.sh")
        try CLI.write(Self.putLoop, to: URL(fileURLWithPath: script))
        let acksFile = f.path("acks"), errs = f.path("errs")
        let env = VaultSpawn.environment(f, extra: ["P": payloads, "ACKS": acksFile, "ERRS": errs])

        // Payload i is "put i\n" and a slice of one of three random blobs: distinct per put,
        // cheap to regenerate. Every 8th is 0.4–1.4 MB (7–22 chunks), so that kills also land
        // while envelopes are being written; the rest are up to 3,000 bytes.
        let blobs = (0..<3).map { _ in rng.data(4 << 20) }
        var recipe: [Int: (blob: Int, offset: Int, size: Int)] = [:]
        func payload(_ i: Int) -> Data? {
            recipe[i].map { Data("put \(i)\n".utf8) + blobs[$0.blob][$0.offset..<($0.offset + $0.size)] }
        }
        // At least 24 rounds killed while puts run, more (up to 72) while too few puts were
        // acknowledged to mean anything: on a loaded machine each round acknowledges fewer.
        let rounds = 24, maxRounds = 72, perLoop = 30
        // How long a loop takes here, with this build (a release build puts several times
        // faster than a debug one): a small put and a large one, timed, make an eighth of it.
        // A round whose loops end before their kill is timed and not counted, and the next
        // rounds use its time: the machine may have been busier when the puts were timed.
        func seconds(_ work: () throws -> Void) rethrows -> Double {
            let t = Date(); try work(); return Date().timeIntervalSince(t)
        }
        let small = try seconds { _ = try f.put("calibration", rng.data(1_500)) }
        let large = try seconds { _ = try f.put("calibration", rng.data(900_000)) }
        var loopSeconds = Double(perLoop) / 8 * (7 * small + large)
        let maxEndedFirst = 8
        var killed = 0, endedFirst = 0, leftoversSeen = 0, round = 0
        func acknowledged() -> Int { Self.parseAcks((try? String(contentsOfFile: acksFile, encoding: .utf8)) ?? "").0.count }
        while endedFirst <= maxEndedFirst, killed < rounds || (killed < maxRounds && acknowledged() < 100) {
            defer { round += 1 }
            // Two concurrent loops per round.
            var firsts: [Int] = []
            for loop in 0..<2 {
                let first = round * 1000 + loop * 500
                firsts.append(first)
                for i in first..<(first + perLoop) {
                    let size = i % 8 == 0 ? 400_000 + Int(rng.next() % 1_000_000) : Int(rng.next() % 3000)
                    recipe[i] = (Int(rng.next() % 3), Int(rng.next() % UInt64((4 << 20) - size)), size)
                    try payload(i)!.write(to: URL(fileURLWithPath: payloads + "/p\(i)"))
                }
            }
            let command = firsts.map { "/bin/sh \(script) \($0) \(perLoop) 7 &" }.joined(separator: " ") + " wait"
            let pid = try VaultSpawn.start(["/bin/sh", "-c", command], env: env, stderr: errs)
            // The kill lands at random in the first three quarters of the loops' expected
            // time; the extra rounds of a slow machine run longer, to add acknowledgements faster.
            let fraction = (killed < rounds ? 0.2 : 0.45) + Double(rng.next() % 1000) / 1000 * (killed < rounds ? 0.55 : 0.3)
            let delay = max(0.02, loopSeconds * fraction)
            if let ended = VaultSpawn.wait(pid, atMost: delay) {
                endedFirst += 1
                loopSeconds = ended.after
            } else if VaultSpawn.killGroup(pid).signal == SIGKILL {
                killed += 1
            } else {
                endedFirst += 1 // between the last look and the kill
            }
            // SIGKILL reaches every member of the group at once; a killed writer finishes at most
            // the system call it is in. Verify at once, without the lock, as a user would.
            usleep(10_000)
            let (code, report) = try f.verify()
            #expect(code == 0, "verify right after round \(round) (seed \(seed)): \(report)")
            leftoversSeen += report.leftovers.count
            for first in firsts { for i in first..<(first + perLoop) { unlink(payloads + "/p\(i)") } }
        }
        #expect(endedFirst <= maxEndedFirst, "the kills should land while puts run: \(endedFirst) rounds ended first, even timed again (seed \(seed))")

        let (acks, failures) = Self.parseAcks((try? String(contentsOfFile: acksFile, encoding: .utf8)) ?? "")
        #expect(failures.isEmpty, "puts failed without being killed (seed \(seed)): \(failures.prefix(5)); stderr: \((try? String(contentsOfFile: errs, encoding: .utf8))?.suffix(2000) ?? "")")
        #expect(acks.count >= 100, "too few acknowledged puts to mean anything: \(acks.count)")
        let versions = Dictionary(grouping: acks, by: { "\($0.id) v\($0.version)" }).filter { $0.value.count > 1 }
        #expect(versions.isEmpty, "one version number acknowledged twice (seed \(seed)): \(versions.keys.sorted())")

        print("vault crash test: rounds took \(Int(Date().timeIntervalSince(start))) s")
        let (code, report) = try f.verify()
        print("vault crash test (seed \(seed)): \(acks.count) acknowledged puts in \(killed) killed rounds (\(endedFirst) more ended before their kill); \(leftoversSeen) leftovers seen by verify; at the end: \(report)")
        #expect(code == 0, "seed \(seed): \(report)")

        // Read every acknowledged version back, four readers at a time.
        let got = f.path("got")
        try FileManager.default.createDirectory(atPath: got, withIntermediateDirectories: true)
        try CLI.write(acks.map { "\($0.n) \($0.id) \($0.version)\n" }.joined(), to: URL(fileURLWithPath: got + "/list"))
        let reader = #"xargs -P 4 -n 3 sh -c '"$AVAULT" vault get --version "$2" -- "$1" > "$G/$0" 2>>"$G/errs" || echo "$0" >> "$G/failed"' < "$G/list""#
        let r = try VaultSpawn.run(["/bin/sh", "-c", reader], env: VaultSpawn.environment(f, extra: ["G": got]))
        #expect(r.code == 0, "the readers: \(r)")
        let failed = (try? String(contentsOfFile: got + "/failed", encoding: .utf8)) ?? ""
        #expect(failed.isEmpty, "ACKed puts that cannot be read (seed \(seed)): \(failed.split(separator: "\n").prefix(10)); \((try? String(contentsOfFile: got + "/errs", encoding: .utf8))?.prefix(1000) ?? "")")
        for ack in acks {
            #expect(Bytes(try? vaultRead(got + "/\(ack.n)")) == Bytes(payload(ack.n)), "ACKed put \(ack.n) (\(ack.id) v\(ack.version)) reads back different bytes (seed \(seed))")
        }
        let log = try f.avault(["vault", "log", "--verify"])
        #expect(log.code == 0, "log --verify after the crashes (seed \(seed)): \(log.out) \(log.err)")

        // Still writable: the next write removes what the killed writers left, and logs it.
        let after = try f.put("id0", Data("after the crashes".utf8))
        #expect(try f.get("id0", version: after).out == "after the crashes")
        #expect(try f.avault(["vault", "log", "--verify"]).code == 0)
        let clean = try f.verify()
        #expect(clean.code == 0 && clean.report.leftovers.isEmpty, "\(clean.report)")
        switch store {
        case .files: #expect(try f.envelopeFiles().leftovers.isEmpty)
        case .postgres, .postgresWithoutPipeline:
            // A killed writer's transaction was rolled back: no rows under a temporary name.
            #expect(try f.psql("SELECT count(*) FROM avault_envelopes WHERE name LIKE '.tmp-%'") == "0\n")
        }
        print("vault crash test (\(store)) took \(Int(Date().timeIntervalSince(start))) s")
    }

    /// Imports of batches (their envelopes committed several at once, or with one syncfs)
    /// killed with SIGKILL at random moments: right after every kill `vault verify` exits 0,
    /// and an import that exited 0 left every one of its records listed and readable byte for
    /// byte. (An import writes nothing before it reports the whole batch, so each batch is all
    /// or nothing.)
    @Test(.disabled(if: CLI.sanitized, "too slow under AddressSanitizer")) func killedImportsNeverLoseAnAcknowledgedBatch() throws {
        let f = try VaultFixture()
        let seed = UInt64(ProcessInfo.processInfo.environment["AVAULT_CRASH_SEED"] ?? "") ?? 0x1_4B0_0001
        var rng = SeededRNG(seed: seed)
        let acksFile = f.path("acks"), errs = f.path("errs")
        let loop = """
            for b in "$@"; do
              if "$AVAULT" vault import -q "$D/$b" > /dev/null 2>>"$ERRS"; then echo "ACK $b" >> "$ACKS"; else echo "FAIL $b" >> "$ACKS"; fi
            done
            """
        try CLI.write(loop, to: URL(fileURLWithPath: f.path("import.sh")))
        let env = VaultSpawn.environment(f, extra: ["D": f.path(""), "ACKS": acksFile, "ERRS": errs])
        var records: [String: [(id: String, bytes: Data)]] = [:]
        // Batches of 40 records commit with an fsync of each file, batches of 100 with one
        // syncfs for all (SyncfsEnvelopeCommitter.threshold is 64).
        let rounds = 10, perRound = 3
        func perBatch(_ b: Int) -> Int { b == 1 ? 100 : 40 }
        var killed = 0
        // The kill lands at a random point of the round; a round that ended before it shows the
        // rounds are shorter than that here (a quiet machine), so later kills come sooner.
        var maxDelay = 950_000
        for round in 0..<rounds {
            var batches: [String] = []
            for b in 0..<perRound {
                let name = "batch-\(round)-\(b)"
                let dir = f.path(name)
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                var batch: [(id: String, bytes: Data)] = []
                for i in 0..<perBatch(b) {
                    // Some IDs come back in later rounds: new versions of them.
                    let id = "https://example.org/\(Int(rng.next() % 400))/\(round % 2 == 0 ? name : "later")/\(i)"
                    let text = "---\ntitle: Record \(i) of \(name)\nwebUrl: \(id)\n---\n\n" + String(repeating: "Body of \(name) \(i). ", count: 20 + Int(rng.next() % 300)) + "\n"
                    try CLI.write(text, to: URL(fileURLWithPath: dir + "/r\(i).md"))
                    batch.append((id, Data(text.utf8)))
                }
                records[name] = batch
                batches.append(name)
            }
            let pid = try VaultSpawn.start(["/bin/sh", f.path("import.sh")] + batches, env: env, stderr: errs)
            let delay = 50_000 + Int(rng.next() % UInt64(maxDelay - 50_000))
            usleep(UInt32(delay))
            if VaultSpawn.killGroup(pid).signal == SIGKILL { killed += 1 } else { maxDelay = max(100_000, delay * 7 / 10) }
            usleep(10_000)
            let (code, report) = try f.verify()
            #expect(code == 0, "verify right after the kill of round \(round) (seed \(seed)): \(report)")
        }
        let lines = ((try? String(contentsOfFile: acksFile, encoding: .utf8)) ?? "").split(separator: "\n")
        let acked = lines.filter { $0.hasPrefix("ACK ") }.map { String($0.dropFirst(4)) }
        let failed = lines.filter { !$0.hasPrefix("ACK ") }
        #expect(failed.isEmpty, "imports failed without being killed (seed \(seed)): \(failed.prefix(5)); \((try? String(contentsOfFile: errs, encoding: .utf8))?.suffix(1500) ?? "")")
        #expect(killed >= rounds / 2, "the kills should land while imports run (seed \(seed)): \(killed) of \(rounds)")
        #expect(!acked.isEmpty, "no import finished before its kill (seed \(seed))")
        print("vault import crash test (seed \(seed)): \(acked.count) of \(rounds * perRound) batches acknowledged, \(killed) rounds killed mid-run")

        // Every acknowledged record is listed, and a sample of them reads back.
        let listed = Set(try #require(try f.json(["vault", "list"])["objects"] as? [[String: Any]]).compactMap { $0["id"] as? String })
        for name in acked {
            for r in records[name] ?? [] {
                #expect(listed.contains(r.id), "\(r.id) of acknowledged \(name) is not listed (seed \(seed))")
            }
        }
        let (code, report) = try f.verify()
        #expect(code == 0, "\(report)")
        for name in acked {
            for r in (records[name] ?? []).prefix(4) {
                let got = try f.get(r.id)
                // A later batch, acknowledged or killed after its index landed, may have stored
                // a newer version of a returning ID: the bytes are one of those put for it.
                let candidates = records.values.flatMap { $0 }.filter { $0.id == r.id }.map(\.bytes)
                #expect(got.code == 0 && candidates.contains(got.stdout), "\(r.id) of \(name) (seed \(seed)): \(got.err)")
            }
        }
        #expect(try f.avault(["vault", "log", "--verify"]).code == 0)
        // The next write clears what the killed imports left.
        _ = try f.put("after", Data("after the kills".utf8))
        let clean = try f.verify()
        #expect(clean.code == 0 && clean.report.leftovers.isEmpty, "\(clean.report)")
    }

    /// 4 processes × 25 puts to overlapping IDs, with gets in between, all at once.
    /// Found by a review: `vault copy` of a vault with something to recover (here a crashed
    /// writer's temporary file) took the copy before the recovery's log entry, which the keyring
    /// then recorded: the copy, one entry older, was refused as rolled back by that keyring.
    @Test func aCopyOfAVaultWithSomethingToRecoverIsOfTheRecoveredVault() throws {
        let f = try VaultFixture()
        #expect(try f.put("doc", Data("first draft".utf8)) == 1)
        FileManager.default.createFile(atPath: f.objects + "/.tmp-0123456789abcdef", contents: Data("partial".utf8), attributes: [.posixPermissions: 0o600])
        let to = f.path("copy")
        let copy = try f.avault(["vault", "copy", "--to", to])
        #expect(copy.code == 0, "\(copy.err)")
        #expect(try VaultLogTests.entries(f).last?["op"] as? String == "recover")
        #expect(try vaultRead(to + "/log") == vaultRead(f.vault + "/log"), "the copy's log is not the source's")
        #expect(!FileManager.default.fileExists(atPath: to + "/objects/.tmp-0123456789abcdef"))
        let g = try f.avault(["vault", "get", "doc", "--vault", to])
        #expect(g.code == 0 && g.out == "first draft", "\(g.err)")
        let v = try f.avault(["vault", "verify", "--vault", to])
        #expect(v.code == 0, "\(v.err)")
    }

    /// A copy into a directory that an interrupted copy left envelopes in (and no vault: the
    /// config comes last) replaces them: a new envelope of a vault never replaces a file, but
    /// a copy's destination is no vault yet (a review found the retry refused).
    @Test func aCopyCanBeRunAgainAfterAnInterruptedOne() throws {
        let f = try VaultFixture()
        #expect(try f.put("doc", Data("first draft".utf8)) == 1)
        let to = f.path("copy")
        #expect(try f.avault(["vault", "copy", "--to", to]).code == 0)
        #expect(unlink(to + "/config") == 0)
        for file in try FileManager.default.contentsOfDirectory(atPath: to + "/objects") {
            try vaultOverwrite(to + "/objects/" + file, with: Data("half".utf8))
        }
        let again = try f.avault(["vault", "copy", "--to", to])
        #expect(again.code == 0, "\(again.err)")
        #expect(try f.avault(["vault", "get", "doc", "--vault", to]).out == "first draft")
    }

    @Test(arguments: VaultStore.allCases)
    func concurrentWritersAndReaders(store: VaultStore) throws {
        let f = try VaultFixture(store: store)
        var rng = SeededRNG(seed: 0xC0C0_4)
        let dir = f.path("conc")
        try FileManager.default.createDirectory(atPath: dir + "/got", withIntermediateDirectories: true)
        var byID: [String: [Data]] = [:]
        for k in 0..<5 {
            let data = Data("initial c\(k)\n".utf8)
            #expect(try f.put("c\(k)", data) == 1)
            byID["c\(k)", default: []].append(data)
        }
        var payload: [String: Data] = [:]
        for w in 0..<4 {
            for i in 1...25 {
                let data = Data("worker \(w) put \(i)\n".utf8) + rng.data(i % 8 == 0 ? 100_000 : Int(rng.next() % 2000))
                payload["\(w)_\(i)"] = data
                byID["c\((i + w) % 5)", default: []].append(data)
                try data.write(to: URL(fileURLWithPath: dir + "/w\(w)_\(i)"))
            }
        }
        let worker = """
            w=$1
            for i in $(seq 1 25); do
              id="c$(( (i + w) % 5 ))"
              if out=$("$AVAULT" vault put "$id" "$D/w${w}_$i" 2>>"$D/errs"); then echo "ACK ${w}_$i $out" >> "$D/acks.$w"; else echo "FAIL ${w}_$i" >> "$D/acks.$w"; fi
              g="c$(( i % 5 ))"
              if "$AVAULT" vault get "$g" > "$D/got/${w}_$i" 2>>"$D/errs"; then echo "GOT ${w}_$i $g" >> "$D/gets.$w"; else echo "GETFAIL ${w}_$i $g" >> "$D/gets.$w"; fi
            done
            """
        try CLI.write(worker, to: URL(fileURLWithPath: dir + "/worker.sh"))
        let env = VaultSpawn.environment(f, extra: ["D": dir])
        let pids = try (0..<4).map { w in try VaultSpawn.start(["/bin/sh", dir + "/worker.sh", String(w)], env: env, stderr: dir + "/errs") }
        for pid in pids {
            let e = VaultSpawn.wait(pid)
            #expect(e.code == 0, "worker exit \(e)")
        }
        let errs = (try? String(contentsOfFile: dir + "/errs", encoding: .utf8)) ?? ""
        var acks: [(key: String, id: String, version: Int)] = []
        for w in 0..<4 {
            let text = (try? String(contentsOfFile: dir + "/acks.\(w)", encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                let p = line.split(separator: " ")
                if p.first == "ACK", p.count >= 6, let v = Int(p[5]) { acks.append((String(p[1]), String(p[3]), v)) } else {
                    Issue.record("a concurrent put failed: \(line); stderr: \(errs.suffix(1500))")
                }
            }
            let gets = (try? String(contentsOfFile: dir + "/gets.\(w)", encoding: .utf8)) ?? ""
            for line in gets.split(separator: "\n") {
                let p = line.split(separator: " ")
                guard p.first == "GOT", p.count == 3 else {
                    Issue.record("a concurrent get failed: \(line); stderr: \(errs.suffix(1500))")
                    continue
                }
                // What a reader got is one of the payloads put for that ID, whole.
                let got = try vaultRead(dir + "/got/" + p[1])
                #expect(byID[String(p[2])]?.contains(got) == true, "get \(p[2]) by \(p[1]) returned bytes nobody put (\(got.count) bytes)")
            }
        }
        #expect(acks.count == 100)
        let dup = Dictionary(grouping: acks, by: { "\($0.id) v\($0.version)" }).filter { $0.value.count > 1 }
        #expect(dup.isEmpty, "duplicated version numbers: \(dup.keys.sorted())")
        for k in 0..<5 {
            let vs = acks.filter { $0.id == "c\(k)" }.map(\.version).sorted()
            #expect(vs == Array(2...21), "c\(k)'s versions: \(vs)")
        }
        for a in acks {
            let g = try f.get(a.id, version: a.version)
            #expect(g.code == 0 && Bytes(g.stdout) == Bytes(payload[a.key]), "\(a.key) as \(a.id) v\(a.version): \(g.err)")
        }
        let (code, report) = try f.verify()
        #expect(code == 0, "\(report)")
        #expect(report.versions == 105)
        let log = try f.avault(["vault", "log", "--verify"])
        #expect(log.code == 0, "\(log.out)")
        #expect(log.out.hasPrefix("106 entries"), "\(log.out)")
    }

    /// Eight writer processes at once, first each on its own ID, then all on one ID: every put
    /// is acknowledged, no version number is given twice, and every version reads back.
    @Test(arguments: VaultStore.allCases)
    func eightWritersOnDifferentIDsAndOnTheSameIDLoseNothing(store: VaultStore) throws {
        let f = try VaultFixture(store: store)
        let dir = f.path("eight")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let perWriter = 6
        let worker = """
            w=$1; id=$2
            for i in $(seq 1 \(perWriter)); do
              printf 'writer %s put %s of %s\\n' "$w" "$i" "$id" > "$D/p.$w.$i"
              if out=$("$AVAULT" vault put "$id" "$D/p.$w.$i" 2>>"$D/errs"); then echo "ACK $w $i $out" >> "$D/acks"; else echo "FAIL $w $i" >> "$D/acks"; fi
            done
            """
        try CLI.write(worker, to: URL(fileURLWithPath: dir + "/worker.sh"))
        let env = VaultSpawn.environment(f, extra: ["D": dir])
        for sameID in [false, true] {
            unlink(dir + "/acks")
            let pids = try (0..<8).map { w in
                try VaultSpawn.start(["/bin/sh", dir + "/worker.sh", String(w), sameID ? "shared" : "own-\(w)"], env: env, stderr: dir + "/errs")
            }
            for pid in pids { #expect(VaultSpawn.wait(pid).code == 0) }
            let errs = (try? String(contentsOfFile: dir + "/errs", encoding: .utf8)) ?? ""
            let lines = ((try? String(contentsOfFile: dir + "/acks", encoding: .utf8)) ?? "").split(separator: "\n")
            // "ACK w i stored ID version N (S bytes)"
            var versions: [String: [Int]] = [:]
            for line in lines {
                let p = line.split(separator: " ")
                guard p.first == "ACK", p.count >= 7, let v = Int(p[6]) else {
                    Issue.record("a put failed (\(store), same ID: \(sameID)): \(line); stderr: \(errs.suffix(1500))")
                    continue
                }
                versions[String(p[4]), default: []].append(v)
                let got = try f.get(String(p[4]), version: v)
                #expect(got.out == "writer \(p[1]) put \(p[2]) of \(p[4])\n", "\(line): \(got.err)")
            }
            #expect(lines.count == 8 * perWriter)
            for (id, vs) in versions {
                #expect(vs.sorted() == Array(1...vs.count), "\(id): \(vs.sorted())")
            }
            #expect(versions.count == (sameID ? 1 : 8))
        }
        let (code, report) = try f.verify()
        #expect(code == 0 && report.versions == 16 * perWriter, "\(report)")
        #expect(try f.avault(["vault", "log", "--verify"]).code == 0)
    }
}
