#if canImport(Glibc)
import Glibc
#endif
import VaultCrypto
import VaultFormat

/// How the vault's files are checked against each other and against the keyring, how a write
/// is committed, and how a writer recovers from a crashed one. The order of a write, and what
/// is authoritative after a crash, is in `docs/formats.md` section 8.5.
extension Vault {
    /// What a consistent read of the vault found.
    struct State {
        var index: VaultFiles.Index
        var indexKid: KeyID
        var log: VaultLog.Chain
        /// Sequence numbers of log entries after the index's head: written by a writer
        /// interrupted before its index landed (their changes never happened).
        var unindexed: [Int]
        /// The config was re-sealed by a rewrap whose index never landed.
        var interruptedRewrap: Bool
        /// The head this keyring has seen, when the vault is older and the user accepts that.
        var rolledBack: Keyring.VaultHead?
        /// What this keyring had recorded for the vault when the state was read.
        var seen: Keyring.VaultHead?
        /// The vault this keyring had recorded at the vault's location (this one, or none).
        var known: String?
        /// The index's format: 2 (one sealed index), 3 (a head committing to the whole set of
        /// per-object entries) or 4 (a head committing to each bucket of them); the next write
        /// migrates 2 and 3 to 4.
        var format = 4
        /// Only this bucket's entries were read (a reader of one object, or a write to one bucket
        /// of a store whose writes are atomic): `index` lists only its objects, and `entries` and
        /// `strayEntries` hold only its entries (`commitment` holds every bucket's, as the head
        /// stores them).
        var bucket: Int?
        /// Formats 3 and 4: the entry read for each object name, and the head's commitment to them.
        var entries: [String: EntryRef] = [:]
        var commitment = VaultEntryCommitment()
        /// Entry files no reader uses (leftovers of interrupted writes; removed by recovery).
        var strayEntries: [String] = []
        /// Entry files under names no writer gives one (reported by `verify`, moved aside by
        /// `fsck`, never deleted).
        var unexpectedEntries: [String] = []
        /// A vault to recipients: the digest of the recipients its log records at the index's
        /// head (``VaultRecipients/recordedDigest(vaultID:recipients:)``), for the keyring.
        var recipientsDigest: String?
    }

    static func head(_ h: Keyring.VaultHead) -> VaultFiles.Head? {
        h.seq <= UInt64(VaultFiles.maxInteger) ? VaultFiles.Head(seq: Int(h.seq), hash: h.hash) : nil
    }

    /// Reads the index, the log and the keyring's record, and checks them against each other.
    /// Throws `.tampered` (exit 1) for anything only an alteration explains, including a vault
    /// older than this keyring has seen (`the vault was rolled back`) unless ``acceptRollback``.
    /// With `bucket`, reads only that bucket's entries where the head commits to each bucket
    /// (format 4; a reader of one object, see ``State/bucket``).
    ///
    /// The log is checked from the head the keyring recorded on (``VaultLog/readTail(_:from:)``),
    /// or with `wholeLog` (and whenever that part does not match the keyring's record, or the
    /// vault is to recipients and the keyring recorded no digest of its recipients or their
    /// digest is not the config's, or a rollback is being accepted) from its first line.
    func loadState(bucket: Int? = nil, wholeLog: Bool = false) throws(AvaultError) -> State {
        // A reader takes no lock: when the entries do not match the head because a writer
        // committed between the two reads, the head has changed, and the reader starts over.
        for _ in 0..<8 {
            if let state = try loadStateOnce(bucket: bucket, wholeLog: wholeLog) { return state }
        }
        throw .tampered("the index and its entries never agreed in 8 reads, the index having changed between each read of it and of them: "
                        + "the vault was altered, or is written without pause", area: .vaultState)
    }

    /// One attempt of ``loadState()``: nil when the entries did not match the head and the head
    /// changed meanwhile.
    private func loadStateOnce(bucket: Int?, wholeLog: Bool) throws(AvaultError) -> State? {
        // The keyring first: a writer records a head only after its index landed, so an index
        // read after this is at least as new as what the keyring says.
        let vaultID = config.vaultID
        let location = locationDigest
        var record = try keyring.lastSeen(vaultID: vaultID, location: location)
        // What follows is read at once where the store can (one round trip to PostgreSQL): the
        // log from the line of the keyring's head on, when it recorded that line.
        let tailFrom = wholeLog || acceptRollback ? nil : record.head?.anchor.flatMap { $0.line <= UInt64(Int.max - 1) ? Int($0.line) : nil }
        try storage.readAhead(["config", "index", "log.heads"] + (tailFrom == nil ? ["log"] : []), logFromLine: tailFrom,
                              entryPrefix: Self.entryPrefix(bucket: bucket))
        try reloadConfig()
        if config.vaultID != vaultID { record = try keyring.lastSeen(vaultID: config.vaultID, location: location) }
        let (seen, known) = (record.head, record.vaultAtLocation)
        // Another vault where this keyring used one: only `vault forget` makes it take that.
        if let known, known != config.vaultID {
            throw .vaultReplaced(location: storage.location, known: known, found: config.vaultID)
        }
        let indexBytes = try storage.read("index")
        // The lines up to the index's head are authenticated by the chain that ends in the sealed
        // head (checked below); those after it are parsed strictly once the head is known.
        var log: VaultLog.Chain
        // A vault to recipients needs the recipients the log records up to the keyring's head:
        // read from the keyring, which recorded their digest with the head and its data key.
        let tailAllowed = !config.isToRecipients || (seen?.dataKey != nil && seen?.recipients != nil)
        if tailFrom != nil, config.vaultID == vaultID, tailAllowed, let seen, let tail = try VaultLog.readTail(storage, from: seen) {
            log = tail
        } else {
            log = try VaultLog.read(storage, chained: true)
        }
        let altered = { (what: String) -> AvaultError in
            .tampered(what, area: .vaultState)
        }
        if let problem = log.problem { throw altered("the log was altered: \(problem)") }
        // The log's first entry says which key the vault was created with; a config naming
        // another key (whose holder could then read every later put) was altered.
        if let first = log.creation?.entry {
            guard first.op == "init", let kid = first.string("kid") else { throw altered("the log was altered: entry 1 is not the vault's creation") }
            if let created = first.string("key"), created != config.keyName {
                throw altered("the config names key '\(config.keyName)', but the vault was created with key '\(created)': the config was altered")
            }
            let created = KeyID(hex: kid).map(KeyIdentifier.content)
            guard config.isToRecipients || keyring.versions(of: config.keyName).contains(where: { $0.id == created }) else {
                if let other = keyring.file.entries.first(where: { $0.id == created }) {
                    throw altered("the vault was created with key '\(other.name)' (id \(kid)), but the config names key '\(config.keyName)': the config was altered")
                }
                if keyring.versions(of: config.keyName).isEmpty { throw keyring.noSuchKey(config.keyName) }
                throw .vaultKeyNotInKeyring(key: config.keyName, id: kid, keyring: keyring.directory)
            }
        }
        guard let indexBytes else { throw .vaultIndexMissing(location: storage.location) }
        var (index, indexKid, indexHead) = try openIndex(indexBytes)
        guard index.vaultID == config.vaultID, index.keyName == config.keyName else {
            throw altered("the index was written for key '\(index.keyName)' of vault \(index.vaultID), not for the config's: the config was altered")
        }
        // Only the part after the keyring's head was read, and the index's head is not in it
        // (an index older than that head, or a log altered there): the whole log decides, and
        // words what it finds.
        if log.isTail, log.position(of: index.log.seq).map({ log.hashes[$0] != index.log.hash }) ?? true {
            return try loadStateOnce(bucket: bucket, wholeLog: true)
        }
        // The index's head must be in the log: a log cut or rewritten below it was altered.
        guard let indexPosition = log.position(of: index.log.seq) else {
            throw altered("the log was cut: the index was written at entry \(index.log.seq), the log has \(log.entries.last?.seq ?? 0) entries")
        }
        guard log.hashes[indexPosition] == index.log.hash else {
            throw altered("entry \(index.log.seq) of the log is not the one the index was written with: the log was rewritten")
        }
        if let problem = log.parseStrictly(from: indexPosition + 1) { throw altered("the log was altered: \(problem)") }
        if let problem = Self.tailJump(log, after: indexPosition, seen: seen) { throw altered("the log was altered: \(problem)") }
        let unindexed = log.entries[(indexPosition + 1)...].map(\.seq)
        var pinProblem: String?, recipientsDigest: String?
        // A vault to recipients: the config's recipients are those the log last recorded (at or
        // before the index's head), or those of a change whose index never landed.
        if config.isToRecipients {
            if known == nil, !firstSightReported {
                firstSightReported = true
                firstSight?(config.vaultID, seen == nil ? .new : record.placed ? .elsewhere : .unplaced)
            }
            // The data key that was current when this keyring last saw the vault must still be
            // among the config's (which keep every data key the vault has had): a state made by
            // someone who never held it — recipients are public, anyone can wrap a key to them —
            // cannot include it, whatever its log says. Only this keyring's own --accept-rollback
            // adopts such a state (checked below, after the log's own account of a rollback).
            if let seen { pinProblem = try dataKeyPinProblem(seen, log: log, indexPosition: indexPosition) }
            let configDigest = config.recipients.map { VaultRecipients.recordedDigest(vaultID: config.vaultID, recipients: $0) }
            if log.isTail {
                // Those of the newest applied entry after the keyring's head that records them,
                // else those the keyring recorded with its head. Anything but the config's sends
                // the command to the whole log, which decides and words what it finds.
                let recorded = Self.recordedRecipients(log, upTo: indexPosition).map { VaultRecipients.recordedDigest(vaultID: config.vaultID, recipients: $0) }
                    ?? seen?.recipients
                // An entry in the tail that declares the keyring's head or an earlier entry
                // unapplied (an adopted rollback does) may undo what the keyring recorded there.
                let reachesBack = Self.unappliedRanges(log, upTo: indexPosition).contains { $0.lowerBound <= Int(clamping: seen?.seq ?? 0) }
                guard let configDigest, recorded == configDigest, !reachesBack else { return try loadStateOnce(bucket: bucket, wholeLog: true) }
                recipientsDigest = configDigest
            } else {
                let recorded = Self.recordedRecipients(log, upTo: indexPosition)
                if recorded != config.recipients {
                    guard log.entries[(indexPosition + 1)...].contains(where: { $0.op == "recipients" && $0.strings("recipients") == config.recipients }) else {
                        throw altered("the config's recipients are not those the log records: the config was altered")
                    }
                }
                recipientsDigest = recorded.map { VaultRecipients.recordedDigest(vaultID: config.vaultID, recipients: $0) }
            }
        }
        // A naming key the index does not know: only a rewrap interrupted between re-sealing it
        // and writing its index explains that, and its log entry says so.
        var interruptedRewrap = false
        if index.namingKid != config.namingKey.kid {
            guard log.entries[(indexPosition + 1)...].contains(where: { $0.op == "rewrap" && $0.string("kid") == config.namingKey.kid.hex }) else {
                throw altered("the config's naming key is sealed under key id \(config.namingKey.kid.hex), the index says \(index.namingKid.hex): the config was altered")
            }
            interruptedRewrap = true
        }
        // The last signed head the index knows of must still be in log.heads (read in any case,
        // so that a link or a FIFO planted under its name is refused).
        let heads = try VaultLog.signedHeads(storage)
        if let signed = index.signedHead {
            guard heads.contains(where: { $0.head == signed }) else {
                throw altered("log.heads no longer holds the head signed at entry \(signed.seq) that the index records: it was removed or cut")
            }
        }
        var rolledBack: Keyring.VaultHead?
        if let seen, let problem = rollback(from: seen, log: log, indexPosition: indexPosition, index: index) {
            guard acceptRollback else {
                throw .tampered("the vault was rolled back: \(problem)", area: .rollback)
            }
            rolledBack = seen
        }
        if let pinProblem {
            guard acceptRollback else { throw .tampered(pinProblem, area: .rollback) }
            rolledBack = seen
        }
        // The objects, last: every binding of the head is checked (a rolled-back head is
        // reported as such, whatever its entries).
        var loaded = LoadedEntries()
        if let indexHead {
            do { loaded = try loadEntries(indexHead, bucket: bucket) } catch .tampered(let message, let area) {
                if try storage.read("index") != indexBytes { return nil }
                throw .tampered(message, area: area)
            }
            index.objects = loaded.objects
            index.used = loaded.used
        } else {
            // Format 2: any entry is a leftover of an interrupted migration.
            for (file, bytes) in try storage.readEntries() {
                if bytes != nil, VaultFiles.parseEntryFileName(file) != nil || storage.isEntryTemporary(file) {
                    loaded.strays.append(file)
                } else {
                    loaded.unexpected.append(file)
                }
            }
        }
        // A store whose writes are atomic (each one transaction: PostgreSQL) is never left as an
        // interrupted write leaves a directory: log entries after the index's head, a config
        // re-sealed ahead of its index, or entries no reader uses are someone else's work (an
        // older copy of some tables put back, rows written by hand), not a crash to recover from.
        // Unless a writer committed between this read of the index and of the rest (a reader
        // takes no lock): then the index has changed, and the reader starts over.
        if storage.writesAreAtomic, !unindexed.isEmpty || !loaded.strays.isEmpty || interruptedRewrap {
            if try storage.read("index") != indexBytes { return nil }
            loaded.unexpected += loaded.strays
            loaded.strays = []
            if !acceptRollback, let first = unindexed.first, let last = unindexed.last {
                throw .tampered("log entries \(first)–\(last) come after the index's head, which no write to \(storage.location) leaves (each "
                                + "commits its log entries and its index together): the index was put back from an older copy, or the log written to",
                                area: .rollback)
            }
            if !acceptRollback, interruptedRewrap {
                throw altered("the config's naming key (key id \(config.namingKey.kid.hex)) is not the index's, which no write to \(storage.location) leaves: the config was altered")
            }
        }
        var state = State(index: index, indexKid: indexKid, log: log, unindexed: unindexed, interruptedRewrap: interruptedRewrap,
                          rolledBack: nil, seen: seen, known: known, format: indexHead?.entries.format ?? 2,
                          bucket: indexHead?.entries.format == 4 ? bucket : nil, entries: loaded.refs,
                          commitment: loaded.commitment, strayEntries: loaded.strays, unexpectedEntries: loaded.unexpected,
                          recipientsDigest: recipientsDigest)
        state.rolledBack = rolledBack
        return state
    }

    /// Why the data keys of a vault to recipients fail the pin of `seen` (formats.md 8.7), or nil
    /// when they pass: the data key this keyring recorded with the head must be among them; for
    /// a head recorded without one (by an older avault), the one the log says was current at
    /// that head, and that head must be in the log (a log that no longer holds it could have been
    /// written by anyone, `accept-rollback` entry included).
    private func dataKeyPinProblem(_ seen: Keyring.VaultHead, log: VaultLog.Chain, indexPosition: Int) throws(AvaultError) -> String? {
        let replaced = "the vault was replaced, or restored from an older backup"
        if let pinned = seen.dataKey {
            if try dataKeys().contains(where: { Self.dataKeyDigest($0.key) == pinned }) { return nil }
            return "the vault's data keys no longer hold key id \(pinned.prefix(2 * KeyID.size)), current when this keyring last saw the vault at entry \(seen.seq): \(replaced)"
        }
        guard let seenHead = Self.head(seen), let p = log.position(of: seenHead.seq), p <= indexPosition, log.hashes[p] == seenHead.hash else {
            return "the log no longer holds entry \(seen.seq), which this keyring saw (recorded by an older avault, without the data key then current): \(replaced)"
        }
        if let pinned = Self.recordedDataKid(log, upTo: p), let kid = KeyID(hex: pinned), !(try dataKeys()).contains(where: { $0.kid == kid }) {
            return "the vault's data keys no longer hold key id \(pinned), current when this keyring last saw the vault at entry \(seenHead.seq): \(replaced)"
        }
        return nil
    }

    /// Why the vault is older than `seen`, or nil when it is not: the index's head must be at
    /// or after `seen`, on the same chain (or an accepted rollback must have forgotten it).
    private func rollback(from seen: Keyring.VaultHead, log: VaultLog.Chain, indexPosition: Int, index: VaultFiles.Index) -> String? {
        guard let seenHead = Self.head(seen) else { return "this keyring records an impossible head (entry \(seen.seq))" }
        if index.log.seq < seenHead.seq {
            return "this keyring has seen entry \(seenHead.seq) of its log, but its index was written at entry \(index.log.seq)"
        }
        // Only an applied `accept-rollback` entry: one appended by someone without a key (and
        // declared unapplied by the next write, which chains it in) lets nothing go. It forgets
        // the head it names and, when that head is in the log, the heads before it that its
        // state held (on its chain, the log's hashes link them, and not undone up to it) and
        // that the same `recover` entry declared undone.
        let unapplied = Self.unappliedRanges(log, upTo: indexPosition)
        let inLog = log.position(of: seenHead.seq).map { $0 <= indexPosition && log.hashes[$0] == seenHead.hash } ?? false
        let forgotten = {
            log.entries[...indexPosition].contains { entry in
                guard entry.op == "accept-rollback", !unapplied.contains(where: { $0.contains(entry.seq) }),
                      let named = try? entry.forgotten() else { return false }
                if named == seenHead { return true }
                guard inLog, named.seq > seenHead.seq, let p = log.position(of: named.seq), p <= indexPosition, log.hashes[p] == named.hash,
                      !Self.unappliedRanges(log, upTo: p).contains(where: { $0.contains(seenHead.seq) }) else { return false }
                return unapplied.contains { $0.contains(seenHead.seq) && $0.contains(named.seq) }
            }
        }
        if inLog {
            // The head is in the log, but an applied `recover` entry may have declared it undone:
            // no honest write does that to a head a keyring recorded (it records one only once
            // its index landed, and a recovery undoes only what follows the index's head), so
            // the index was put back from before it (the log kept), unless a rollback that
            // forgets it was accepted.
            guard unapplied.contains(where: { $0.contains(seenHead.seq) }), !forgotten() else { return nil }
            return "entry \(seenHead.seq) of its log, which this keyring has seen, was declared undone by a later entry: its index was put back from before it"
        }
        if forgotten() { return nil }
        return "entry \(seenHead.seq) of its log is not the one this keyring has seen: the log was rewritten"
    }

    /// The checked state for a reader. With ``acceptRollback``, a rolled-back vault is first
    /// adopted (a write). The index's head is then recorded in the keyring if it is newer than
    /// the keyring's record (after syncing the vault's directory, so that a power cut cannot
    /// take back what the keyring remembers). With `bucket`, see ``loadState(bucket:)``.
    /// With `wholeLog`, the log is checked from its first line (``loadState(bucket:wholeLog:)``).
    func checkedState(bucket: Int? = nil, wholeLog: Bool = false) throws(AvaultError) -> State {
        var state = try loadState(bucket: bucket, wholeLog: wholeLog)
        if state.rolledBack != nil {
            try transaction { (_: inout Transaction) throws(AvaultError) in }
            state = try loadState(bucket: bucket, wholeLog: wholeLog)
        }
        // The keyring records the head, where it is in the log, the current data key (a vault to
        // recipients) and the vault's location. For the same head, it only fills in what an older
        // avault did not record, or records a location once; a keyring that cannot be written
        // then (a read-only one) does not fail a read that used to work.
        let anchor = state.log.position(of: state.index.log.seq).flatMap { state.log.anchor(at: $0) }
        let head = Keyring.VaultHead(seq: UInt64(state.index.log.seq), hash: state.index.log.hash, anchor: anchor,
                                     dataKey: try currentDataKeyDigest(), recipients: state.recipientsDigest)
        if UInt64(state.index.log.seq) > state.seen?.seq ?? 0 {
            try storage.syncFiles()
            try keyring.noteHead(head, vaultID: config.vaultID, location: locationDigest)
        } else if state.known == nil || (head.seq == state.seen?.seq
                    && ((anchor != nil && anchor != state.seen?.anchor) || (head.dataKey != nil && state.seen?.dataKey == nil)
                        || (head.recipients != nil && state.seen?.recipients == nil))) {
            try? keyring.noteHead(head, vaultID: config.vaultID, location: locationDigest)
        }
        return state
    }

    // MARK: Transactions

    /// A write in progress: the new index, the log entries that describe it, and what to do
    /// once the index has landed.
    struct Transaction {
        var index: VaultFiles.Index
        var entries: [[(key: String, value: FieldValue)]] = []
        /// A re-sealed config, written after the log and before the index.
        var newConfig: VaultFiles.Config?
        /// Envelopes to delete once the index no longer lists them (purge).
        var removals: [String] = []
        /// Staged envelopes to rename over the ones they replace once the index lists them (rewrap).
        var renames: [(from: String, to: String)] = []
        /// A head to sign before the index is written (log --sign).
        var sign: ((VaultFiles.Head) throws(AvaultError) -> VaultFiles.Head)?
        /// The head the commit wrote.
        var committed: VaultFiles.Head?
        /// Re-seal every index entry not under the current key (rewrap).
        var resealEntries = false
        /// The state's ``State/unexpectedEntries`` (which `fsck` moves aside).
        var unexpectedEntries: [String] = []
    }

    /// Runs `body` as one write: under the lock, on a checked state, after recovering what
    /// crashed writers left; then commits (log, config, index, post-index steps, keyring).
    ///
    /// With `bucket` (a write that changes only that bucket's objects), on a store whose writes
    /// are atomic, the state holds only that bucket's entries (formats.md 8.3.2): a crashed
    /// writer left nothing to recover there, and the head's commitment keeps the other buckets'.
    /// Anything abnormal in the bucket read (a leftover entry, a log entry no index covers) and
    /// every other store take the whole state and recover first, as every write did before.
    func transaction<T>(bucket: Int? = nil, _ body: (inout Transaction) throws(AvaultError) -> T) throws(AvaultError) -> T {
        // A write of one bucket (a put, which unlocked the naming key to find its bucket): the
        // entries' key once before the lock, so that asking the agent for it, or loading
        // libcrypto for its HKDF, does not lengthen the time other writers wait. Under the lock
        // it is taken again for the config read there (from the cache when the naming key is
        // the same); a failure here (a config changed meanwhile) is reported there.
        if bucket != nil { _ = try? entryCommitmentKey() }
        return try storage.withLock { () throws(AvaultError) -> T in
            // A store whose writes are atomic leaves nothing to recover; a directory, when the
            // last write recorded that it finished at the index's head (formats.md 8.5).
            let finished = storage.writesAreAtomic ? nil : try storage.finishedWrite()
            var state = try loadState(bucket: (storage.writesAreAtomic || finished != nil) && !acceptRollback ? bucket : nil)
            if state.bucket != nil, (!storage.writesAreAtomic && finished != state.index.log) || !state.strayEntries.isEmpty
                || !state.unindexed.isEmpty || state.interruptedRewrap || state.rolledBack != nil {
                state = try loadState()
            }
            // (Best effort: a record that stays names a head this write moves on from, and one
            // that is not written only costs the next write a full recovery.)
            if !storage.writesAreAtomic { try? storage.writeStarting() }
            var tx = Transaction(index: state.index, unexpectedEntries: state.unexpectedEntries)
            if let seen = state.rolledBack {
                tx.entries.append([("op", .string("accept-rollback")),
                                   ("forgotten", .object([("seq", .number(Double(seen.seq))), ("hash", .string(seen.hash))])),
                                   ("index", .object([("seq", .number(Double(state.index.log.seq))), ("hash", .string(state.index.log.hash))]))])
            }
            // A write from one bucket changes nothing else, and has nothing to recover (above).
            if state.bucket == nil { try recover(state, &tx) }
            switch state.format {
            case 2:
                // Index format 2 becomes format 4 with this write: an entry per name, then the
                // head (formats.md 8.3.1).
                tx.entries.append([("op", .string("migrate")), ("from", .number(2)), ("to", .number(4)),
                                   ("entries", .number(Double(Set(state.index.objects.map(\.name)).union(state.index.used.keys).count)))])
            case 3:
                // Format 3 becomes format 4: the same entries, under a head that commits to each
                // bucket (formats.md 8.3.2).
                tx.entries.append([("op", .string("migrate")), ("from", .number(3)), ("to", .number(4))])
            default: break
            }
            let result = try body(&tx)
            try commit(state, &tx)
            if let seen = state.rolledBack { rollbackAdopted?(config.vaultID, seen.seq) }
            if !storage.writesAreAtomic, let head = tx.committed { try? storage.writeFinished(at: head) }
            return result
        }
    }

    /// Where the entries after the index's head (nothing authenticates them: an interrupted
    /// write's, or anyone's who can write the log) number themselves otherwise than an
    /// interrupted write does: on from the head by one, or, adopting a rollback, from above the
    /// head this keyring recorded (`seen`), never higher. A number taken on from such an entry
    /// (up to the largest, which ends the log) would be every later write's. nil when they do not.
    static func tailJump(_ log: VaultLog.Chain, after indexPosition: Int, seen: Keyring.VaultHead?) -> String? {
        var previous = log.entries[indexPosition].seq
        let ceiling = seen.map { Int(clamping: $0.seq) + 1 } ?? 0
        for entry in log.entries[(indexPosition + 1)...] {
            guard entry.seq == previous + 1 || entry.seq > previous && entry.seq <= ceiling else {
                return "entry \(entry.seq) after the index's head follows entry \(previous), a number no interrupted write gives (above the head "
                    + (seen.map { "this keyring recorded, \($0.seq)" } ?? "this keyring would have recorded") + "): it was written by hand"
            }
            previous = entry.seq
        }
        return nil
    }

    /// The first `put` entry after the index's head (``State/unindexed``) that no interrupted
    /// write leaves: one that skips versions of its object (an interrupted write numbers on
    /// from the versions the index and the entries before it give the name; a version taken on
    /// up to the largest would leave the ID none to put). nil when there is none. `state` holds
    /// the whole index.
    static func unindexedPutProblem(_ state: State) -> String? {
        var highest: [String: Int] = [:]
        for o in state.index.objects { highest[o.name] = max(highest[o.name] ?? 0, o.versions.last?.number ?? 0) }
        for (name, used) in state.index.used { highest[name] = max(highest[name] ?? 0, used) }
        for seq in state.unindexed {
            guard let entry = state.log.position(of: seq).map({ state.log.entries[$0] }), entry.op == "put",
                  let name = entry.string("object"), let version = try? entry.integer("version", in: 1...VaultFiles.maxVersion) else { continue }
            let next = (highest[name] ?? 0) + 1
            guard version <= next else {
                return "entry \(seq) after the index's head puts version \(version) of an object whose next version is \(next), which no interrupted write does: it was written by hand"
            }
            highest[name] = max(highest[name] ?? 0, version)
        }
        return nil
    }

    /// Appends the entries, replaces the config if re-sealed, seals the index (bound to the
    /// new head), finishes what waited for the index, and records the head in the keyring.
    private func commit(_ state: State, _ tx: inout Transaction) throws(AvaultError) {
        var head = state.log.last ?? VaultFiles.Head(seq: 0, hash: VaultFiles.genesisHash)
        // Where the new head will be in the log: the line after the chain's last, and so on.
        var line = state.log.firstLine + state.log.entries.count - 1
        var first = state.log.creation?.hash
        if !tx.entries.isEmpty {
            let time = Timestamp(seconds: Int64(Glibc.time(nil)))
            var out = ""
            for (k, fields) in tx.entries.enumerated() {
                var seq = head.seq + 1
                // An accepted rollback continues above the head the keyring had seen, so that
                // the keyring (which only moves forward) can record the adopted vault.
                if k == 0, let seen = state.rolledBack, let seenHead = Self.head(seen) { seq = max(seq, seenHead.seq + 1) }
                guard seq <= VaultFiles.maxInteger else { throw .internalFailure("the log is full") }
                let text = VaultFiles.logLine(seq: seq, time: time, fields, prev: head.hash)
                head = VaultFiles.Head(seq: seq, hash: VaultLog.hash(text))
                out += text + "\n"
                line += 1
                if first == nil { first = head.hash }
            }
            try storage.append("log", Array(out.utf8))
        }
        if let sign = tx.sign { tx.index.signedHead = try sign(head) }
        if let newConfig = tx.newConfig {
            try storage.replace("config", Array(newConfig.text.utf8))
            config = newConfig
        }
        tx.index.log = head
        tx.index.vaultID = config.vaultID
        tx.index.keyName = config.keyName
        tx.index.namingKid = config.namingKey.kid
        var superseded: [String] = []
        if tx.index != state.index || state.format != 4 || tx.resealEntries {
            let (kid, key) = try currentKey()
            // The changed objects' entries first, then the head that commits to them.
            let (commitment, replaced) = try writeEntries(state, tx, head: head, kid: kid, key: key, reseal: tx.resealEntries)
            superseded = replaced
            let indexHead = VaultFiles.IndexHead(vaultID: tx.index.vaultID, keyName: tx.index.keyName, namingKid: tx.index.namingKid,
                                                 log: tx.index.log, signedHead: tx.index.signedHead, entries: .buckets(commitment.entrySet))
            let sealed = try Self.seal(VaultFiles.headJSON(indexHead), key: key, kid: kid, ad: { config.headAssociatedData(kid: $0) })
            try storage.replace("index", Array(VaultFiles.headText(sealed).utf8))
        }
        if !superseded.isEmpty {
            for file in superseded { try storage.removeEntry(file) }
            try storage.syncEntries()
        }
        if !tx.removals.isEmpty || !tx.renames.isEmpty {
            for (from, to) in tx.renames { try storage.renameEnvelope(from, to: to) }
            for file in tx.removals { try storage.removeEnvelope(file) }
            try storage.syncEnvelopes()
        }
        tx.committed = head
        try storage.commitLocked()
        let anchor = first.map { KeyringFile.Anchor(line: UInt64(line), first: $0) }
        // A vault to recipients: the recipients its log records at the new head. A write with a
        // `recipients` entry (a change, or a recovery that logs again those an unapplied change
        // left in the config alone) logs the config's as it just wrote it; any other keeps those
        // recorded at the index's head before it.
        let logsRecipients = tx.entries.contains { $0.first { $0.key == "op" }?.value == .string("recipients") }
        let recipients = !config.isToRecipients ? nil
            : logsRecipients ? config.recipients.map { VaultRecipients.recordedDigest(vaultID: config.vaultID, recipients: $0) } : state.recipientsDigest
        try keyring.noteHead(Keyring.VaultHead(seq: UInt64(head.seq), hash: head.hash, anchor: line >= 1 ? anchor : nil, dataKey: try currentDataKeyDigest(),
                                               recipients: recipients),
                             vaultID: config.vaultID, location: locationDigest)
    }

    // MARK: Recovery

    /// What is among the envelopes, compared with the index.
    struct Survey {
        /// Temporary files of interrupted writes.
        var temporaries: [String] = []
        /// Staged rewraps: whether the index lists their digest (the rewrap's index landed).
        var staged: [(file: String, target: String, listed: Bool)] = []
        /// Envelopes the index does not list, and whether they authenticate (nil: cannot tell,
        /// their key version is retired or missing).
        var unlisted: [(file: String, authentic: Bool?)] = []
        /// Anything else.
        var unexpected: [String] = []
        /// Every file present.
        var present = Set<String>()
    }

    /// Lists the envelope directory and sorts what is there. Unlisted envelopes are
    /// authenticated (read in full), staged ones hashed.
    func survey(_ index: VaultFiles.Index) throws(AvaultError) -> Survey {
        var survey = Survey()
        let (files, temporaries) = try storage.envelopeFiles()
        survey.temporaries = temporaries
        survey.present = Set(files)
        var listed: [String: String] = [:]
        for o in index.objects {
            for v in o.versions { listed[VaultFiles.envelopeFileName(object: o.name, version: v.number)] = v.digest }
        }
        for file in files where listed[file] == nil {
            if file.hasPrefix(VaultFiles.stagedPrefix) {
                let target = String(file.dropFirst(VaultFiles.stagedPrefix.count))
                let digest = try? self.digest(of: file)
                survey.staged.append((file, target, digest != nil && listed[target] == digest))
            } else if VaultFiles.parseEnvelopeFileName(file) != nil {
                survey.unlisted.append((file, authenticates(file)))
            } else {
                survey.unexpected.append(file)
            }
        }
        return survey
    }

    /// Hex BLAKE2b-256 of an envelope file.
    func digest(of file: String) throws(AvaultError) -> String? {
        guard let source = try storage.openEnvelope(file) else { return nil }
        return try digest(of: source, buffers: readingBuffers)
    }

    /// Before a write: removes what crashed writers left — temporary files, envelopes the
    /// index does not list that authenticate (an interrupted put or purge; moved into
    /// quarantine instead when a rollback is being accepted, since they may be newer than the
    /// adopted index), staged rewraps whose index never landed — and finishes a rewrap whose
    /// index did. Logs what it did, and the log entries that no index ever covered.
    ///
    /// A store whose writes are atomic has nothing of crashed writers to recover: what a survey
    /// of it finds besides the index's envelopes was put there otherwise, and stays for `verify`
    /// to report and `fsck` to move aside (its version numbers are still never used again).
    private func recover(_ state: State, _ tx: inout Transaction) throws(AvaultError) {
        if let problem = Self.unindexedPutProblem(state) { throw .tampered("the log was altered: \(problem)", area: .vaultState) }
        var survey = try survey(state.index)
        var foreign: [String] = []
        if storage.writesAreAtomic {
            foreign = survey.unlisted.map(\.file)
            survey = Survey()
        }
        var removed: [String] = []
        var quarantined = 0
        for file in survey.temporaries { try storage.removeEnvelope(file) }
        // Entries no reader uses; their removal is durable before this write's head can cover
        // their sequence numbers.
        for file in state.strayEntries { try storage.removeEntry(file) }
        if !state.strayEntries.isEmpty { try storage.syncEntries() }
        for s in survey.staged {
            if s.listed {
                try storage.renameEnvelope(s.file, to: s.target)
            } else {
                try storage.removeEnvelope(s.file)
            }
        }
        // Version numbers the interrupted (or rolled-back) writes used are never used again.
        func burn(_ name: String, _ version: Int) {
            if version > tx.index.objects.first(where: { $0.name == name })?.versions.last?.number ?? 0 {
                tx.index.used[name] = max(tx.index.used[name] ?? 0, version)
            }
        }
        for seq in state.unindexed {
            guard let entry = state.log.position(of: seq).map({ state.log.entries[$0] }), entry.op == "put",
                  let name = entry.string("object"), VaultFiles.isLowerHex(name, count: 32),
                  let version = try? entry.integer("version", in: 1...VaultFiles.maxVersion) else { continue }
            burn(name, version)
        }
        for file in foreign { if let (name, version) = VaultFiles.parseEnvelopeFileName(file) { burn(name, version) } }
        for u in survey.unlisted where u.authentic == true {
            // A version above every number the index knows for its object is a crashed put's, or
            // one the index never saw because it was put back from an older copy while objects/
            // was not: another writer's acknowledged version. They look alike, so it is kept
            // (a purge of the object deletes it). One below a number the index knows (a purge
            // that died after its index) is removed.
            var newer = false
            if let (name, version) = VaultFiles.parseEnvelopeFileName(u.file) {
                burn(name, version)
                let known = state.index.objects.first(where: { $0.name == name })?.versions.last?.number ?? 0
                newer = version > max(known, state.index.used[name] ?? 0)
            }
            if state.rolledBack != nil || newer {
                _ = try storage.quarantine(u.file)
                quarantined += 1
            } else {
                try storage.removeEnvelope(u.file)
            }
            removed.append(u.file)
        }
        let finished = survey.staged.filter(\.listed).count
        if !survey.staged.isEmpty || !removed.isEmpty { try storage.syncEnvelopes() }
        guard !survey.temporaries.isEmpty || !survey.staged.isEmpty || !removed.isEmpty || !state.unindexed.isEmpty || state.interruptedRewrap
                || !state.strayEntries.isEmpty else { return }
        var fields: [(key: String, value: FieldValue)] = [("op", .string("recover"))]
        fields.append(("temporary", .number(Double(survey.temporaries.count + survey.staged.count - finished))))
        fields.append(("removed", .array(removed.map(FieldValue.string))))
        if !state.strayEntries.isEmpty { fields.append(("entries", .number(Double(state.strayEntries.count)))) }
        if quarantined > 0 { fields.append(("quarantined", .number(Double(quarantined)))) }
        if finished > 0 { fields.append(("rewrapFinished", .number(Double(finished)))) }
        if let first = state.unindexed.first, let last = state.unindexed.last {
            fields.append(("unapplied", .array([.number(Double(first)), .number(Double(last))])))
        }
        tx.entries.append(fields)
        // A change of recipients whose config landed but whose index did not: the config holds
        // the new list (and data keys) while its log entry is now unapplied. Record it again, so
        // that the log says what the config is. (Undoing it instead wrapped to the old list the
        // data keys the change had drawn, a rotation's new key included. A config replayed from
        // before a change that no `--rotate` followed is something its removed recipient, who
        // holds the current key, could write anyway; after a `--rotate`, its keys no longer open
        // the index.)
        if config.isToRecipients, let position = state.log.position(of: state.index.log.seq),
           let now = config.recipients, let was = Self.recordedRecipients(state.log, upTo: position), was != now {
            tx.entries.append(VaultRecipients.logEntry(from: was, to: now, kid: try currentKey().kid) + [("recovered", .bool(true))])
        }
    }

    /// The data key id the log last records at or before `position` (an `init`, `recipients` or
    /// `rewrap` entry no `recover` entry declared unapplied).
    static func recordedDataKid(_ log: VaultLog.Chain, upTo position: Int) -> String? {
        let unapplied = unappliedRanges(log, upTo: position)
        return log.entries[...position].last(where: { entry in
            ["init", "recipients", "rewrap"].contains(entry.op) && !unapplied.contains { $0.contains(entry.seq) }
        })?.string("kid")
    }

    /// The sequence numbers `recover` entries up to `position` declared unapplied. Only an
    /// applied `recover` entry counts, so they are taken from the newest back: one that a later
    /// one declared unapplied changed nothing, its own declaration included (a line appended by
    /// someone without a key is always that: the next write declares it unapplied and chains it
    /// in). A range is of entries before the one that declares it; any other is not avault's.
    static func unappliedRanges(_ log: VaultLog.Chain, upTo position: Int) -> [ClosedRange<Int>] {
        var unapplied: [ClosedRange<Int>] = []
        for entry in log.entries[...position].reversed() where entry.op == "recover" {
            if unapplied.contains(where: { $0.contains(entry.seq) }) { continue }
            if case .array(let range)? = entry.fields["unapplied"], range.count == 2,
               case .number(let first) = range[0], case .number(let last) = range[1],
               first >= 1, first <= last, last < Double(entry.seq) {
                unapplied.append(Int(first)...Int(last))
            }
        }
        return unapplied
    }

    /// The recipients the log last records at or before `position`: the newest `init` or
    /// `recipients` entry that no `recover` entry up to there declared unapplied.
    static func recordedRecipients(_ log: VaultLog.Chain, upTo position: Int) -> [String]? {
        let unapplied = unappliedRanges(log, upTo: position)
        return log.entries[...position].last(where: { entry in
            (entry.op == "init" || entry.op == "recipients") && !unapplied.contains { $0.contains(entry.seq) }
        })?.strings("recipients")
    }
}
