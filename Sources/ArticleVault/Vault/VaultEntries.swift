import VaultCrypto
import VaultFormat

/// Index formats 3 and 4 (`docs/formats.md` 8.3.1, 8.3.2): the per-object entries under a head,
/// read and checked against the head's commitment, and written one object at a time.
extension Vault {
    /// The entry a reader chose for an object name.
    struct EntryRef: Equatable {
        var file: String
        var seq: Int
        /// Hex BLAKE2b-256 of the entry file.
        var digest: String
        var kid: KeyID
    }

    /// What the entries under a head hold.
    struct LoadedEntries {
        var objects: [VaultFiles.Object] = []
        var used: [String: Int] = [:]
        var refs: [String: EntryRef] = [:]
        var commitment = VaultEntryCommitment()
        /// Files no reader uses that writers leave: temporaries, entries above the head (a
        /// crashed writer's), superseded ones (a writer crashed before removing them).
        var strays: [String] = []
        /// Files under names no writer gives an entry: put there by someone else.
        var unexpected: [String] = []
    }

    /// The start of the entry file names in `bucket` (two hex digits; every name for nil).
    static func entryPrefix(bucket: Int?) -> String {
        bucket.map { Hex.encode([UInt8($0)]) } ?? ""
    }

    /// The key of the commitment's terms. The agent that unlocked the keyring derives it when it
    /// can: HKDF is OpenSSL's, and loading OpenSSL for it alone was a third of a `get`'s work.
    /// The agent's key is checked by the first commitment to an entry it opens; a write, which
    /// seals new terms with it, asks for a `checked` key, and one not checked yet (the entries
    /// read were none: an empty bucket) is checked against another bucket, or else derived here.
    func entryCommitmentKey(checked: Bool = false) throws(AvaultError) -> SecretBytes {
        let namingKey = try namingKey(evenRetired: true), vaultID = config.vaultID
        let cached = entriesKeyCache.flatMap { $0.vaultID == vaultID && $0.namingKey == namingKey ? $0 : nil }
        if let cached, cached.checked || !checked { return cached.key }
        if cached == nil, !checked, keyring.unlockedByAgent, let fromAgent = keyring.agent?.entriesKey(namingKey: namingKey, vaultID: vaultID) {
            entriesKeyCache = (namingKey, vaultID, fromAgent, false)
            return fromAgent
        }
        let key = try VaultEntryCommitment.key(namingKey: namingKey, vaultID: vaultID)
        if let cached, cached.key != key, let agent = keyring.agent {
            agent.report(.warning("the agent at \(agent.socket) gave a wrong key for the entries of vault \(vaultID); not using it"))
        }
        entriesKeyCache = (namingKey, vaultID, key, true)
        return key
    }

    /// Reads the entries (with `bucket`, of a head of format 4, only that bucket's), takes for
    /// each name the one with the highest `seq` at or below the head's, authenticates it under
    /// its file name, and checks them against the head's commitment (the whole set's or every
    /// bucket's; with `bucket`, that bucket's). Throws `.tampered` when they do not match (the
    /// caller reads the head again: a writer may have committed meanwhile).
    func loadEntries(_ head: VaultFiles.IndexHead, bucket: Int? = nil) throws(AvaultError) -> LoadedEntries {
        // A head of format 3 commits to the whole set only: every entry is read.
        let bucket = head.entries.format == 4 ? bucket : nil
        var loaded = LoadedEntries()
        let best: [String: (seq: Int, file: String, bytes: [UInt8])]
        (best, loaded.strays, loaded.unexpected) = try latestEntries(bucket: bucket, upTo: head.log.seq)
        let termKey = try entryCommitmentKey()
        let altered = { (file: String, why: String) -> AvaultError in
            .tampered("the index entry entries/\(file) \(why): the vault was altered", area: .vaultState)
        }
        for (name, b) in best {
            let sealed: VaultFiles.Sealed
            do { sealed = try VaultFiles.parseEntry(String(decoding: b.bytes, as: UTF8.self)) } catch { throw altered(b.file, "is malformed (\(error))") }
            guard knows(kid: sealed.kid) else { throw altered(b.file, "is sealed under key id \(sealed.kid.hex), which is not a key of this vault") }
            let plain = try Self.open(sealed, key: try key(kid: sealed.kid, evenRetired: true), ad: config.entryAssociatedData(name: name, seq: b.seq, kid: sealed.kid),
                                      what: "the index entry entries/\(b.file)")
            let entry: VaultFiles.Entry
            do { entry = try VaultFiles.parseEntryJSON(plain) } catch { throw altered(b.file, "has malformed contents (\(error))") }
            guard entry.vaultID == config.vaultID, entry.seq == b.seq, entry.name == name else { throw altered(b.file, "was written for another file") }
            let digest = Hex.encode(BLAKE2b.hash(b.bytes, digestSize: 32))
            loaded.refs[name] = EntryRef(file: b.file, seq: b.seq, digest: digest, kid: sealed.kid)
            if let object = entry.object { loaded.objects.append(object) }
            if let used = entry.used { loaded.used[name] = used }
        }
        let stored: VaultEntryCommitment? = if case .buckets(let set) = head.entries { VaultEntryCommitment(set) } else { nil }
        let digests = loaded.refs.mapValues(\.digest)
        loaded.commitment = VaultEntryCommitment.of(digests, key: termKey)
        var matches = loaded.commitment.matches(head.entries, bucket: bucket, decoded: stored)
        // A key from the agent that opens no commitment may be the agent's fault, not the
        // vault's: the key derived here decides (and says so when the agent's was wrong).
        if !matches, entriesKeyCache?.checked == false {
            loaded.commitment = VaultEntryCommitment.of(digests, key: try entryCommitmentKey(checked: true))
            matches = loaded.commitment.matches(head.entries, bucket: bucket, decoded: stored)
        }
        if matches, !digests.isEmpty { entriesKeyCache?.checked = true }
        guard matches else {
            let listed = switch head.entries {
            case .whole(let set): set.count
            case .buckets(let set): bucket.map { set.counts[$0] } ?? set.counts.reduce(0, +)
            }
            throw .tampered("the index entries\(bucket.map { " of bucket \(Hex.encode([UInt8($0)]))" } ?? "") are not those the index was written with "
                            + "(it lists \(listed), there are \(best.count)): an entry was removed, added or replaced by an older one", area: .vaultState)
        }
        // The commitment a write starts from: every bucket's, as the head stores them (those
        // read were just found equal), so that a write from one bucket keeps the others'.
        if let stored { loaded.commitment = stored }
        // In the byte order of the IDs' UTF-8, as format 2 lists them; compared as arrays (the
        // String views' generic comparison was an eighth of a whole `get` at 1,000 objects).
        loaded.objects = loaded.objects.map { (key: Array($0.id.utf8), object: $0) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }.map(\.object)
        return loaded
    }

    /// The entry files of `bucket` (every bucket's for nil): for each name the one with the
    /// highest `seq` at or below `seq`, the files passed over, and those no writer makes: under
    /// names no writer gives an entry file, or not a file (which a recovery must not take for a
    /// crashed writer's and delete).
    private func latestEntries(bucket: Int?, upTo seq: Int) throws(AvaultError)
        -> (best: [String: (seq: Int, file: String, bytes: [UInt8])], strays: [String], unexpected: [String]) {
        var best: [String: (seq: Int, file: String, bytes: [UInt8])] = [:], strays: [String] = [], unexpected: [String] = []
        for (file, read) in try storage.readEntries(prefix: Self.entryPrefix(bucket: bucket)) {
            guard let bytes = read, let (name, s) = VaultFiles.parseEntryFileName(file) else {
                if read != nil, storage.isEntryTemporary(file) { strays.append(file) } else { unexpected.append(file) }
                continue
            }
            guard s <= seq else {
                strays.append(file)
                continue
            }
            if let b = best[name] {
                if b.seq > s {
                    strays.append(file)
                    continue
                }
                strays.append(b.file)
            }
            best[name] = (s, file, bytes)
        }
        return (best, strays, unexpected)
    }

    /// A key from the agent that no entry has checked yet (a write's bucket had none): checked
    /// against the commitment to the smallest other bucket, so that the write need not load
    /// OpenSSL to derive it. That bucket's files are hashed, not opened: a commitment under the
    /// wrong key matches no set of files, and a planted file (or one that cannot be read) only
    /// sends the write to derive it.
    private func checkEntriesKeyElsewhere(_ state: State) throws(AvaultError) {
        let key = try entryCommitmentKey()
        guard entriesKeyCache?.checked == false, state.bucket != nil else { return }
        let counts = state.commitment.counts
        guard let other = counts.indices.filter({ counts[$0] > 0 }).min(by: { counts[$0] < counts[$1] }) else { return }
        // A file there that cannot be read is that bucket's readers' problem: derived here.
        guard let files = try? latestEntries(bucket: other, upTo: state.index.log.seq).best else { return }
        let there = VaultEntryCommitment.of(files.mapValues { Hex.encode(BLAKE2b.hash($0.bytes, digestSize: 32)) }, key: key)
        if there.sameBucket(other, as: state.commitment) { entriesKeyCache?.checked = true }
    }

    /// Writes the entry of every object name whose object or `used` changed between `state` and
    /// `tx` (every name when `state` is of format 2: the migration; with `reseal`, also every
    /// entry not sealed under `kid`), sealed as of `head`; returns the commitment to the new set
    /// and the entry files it superseded (to remove once the head has landed).
    func writeEntries(_ state: State, _ tx: Transaction, head: VaultFiles.Head, kid: KeyID, key: SecretBytes, reseal: Bool)
        throws(AvaultError) -> (VaultEntryCommitment, superseded: [String]) {
        try checkEntriesKeyElsewhere(state)
        let termKey = try entryCommitmentKey(checked: true)
        var commitment = state.format >= 3 ? state.commitment : VaultEntryCommitment()
        let before = state.format >= 3 ? Dictionary(state.index.objects.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }) : [:]
        let after = Dictionary(tx.index.objects.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var names = Set(after.keys).union(tx.index.used.keys)
        if state.format >= 3 { names.formUnion(state.entries.keys) }
        var superseded: [String] = []
        var wrote = false
        // The names whose entry changes.
        let changes = names.sorted().compactMap { name -> (name: String, old: EntryRef?, object: VaultFiles.Object?, used: Int?)? in
            let old = state.entries[name]
            let object = after[name]
            // `used` records only a version above the object's last (format 2 could keep a stale one).
            let used = tx.index.used[name].flatMap { $0 > (object?.versions.last?.number ?? 0) ? $0 : nil }
            if state.format >= 3, let old, object == before[name], used == state.index.used[name], !(reseal && old.kid != kid) { return nil }
            return (name: name, old: old, object: object, used: used)
        }
        // Committed (fsync, rename) several at once where the store can, like a batch's envelopes.
        let committer = storage.envelopeCommitter(batch: changes.count)
        defer { committer.cancel() }
        for (name, old, object, used) in changes {
            if object == nil && used == nil {
                // Nothing left to record (never the case in practice: a purge records `used`).
                if let old {
                    commitment.remove(name: name, digest: old.digest, key: termKey)
                    superseded.append(old.file)
                }
                continue
            }
            // A new entry needs a new head: its file name and associated data hold the head's seq.
            guard head.seq > state.index.log.seq || state.format == 2 else {
                throw .internalFailure("an index entry changed without a log entry")
            }
            let entry = VaultFiles.Entry(vaultID: config.vaultID, seq: head.seq, name: name, object: object, used: used)
            let sealed = try Self.seal(VaultFiles.entryJSON(entry), key: key, kid: kid,
                                       ad: { config.entryAssociatedData(name: name, seq: head.seq, kid: $0) })
            let bytes = Array(VaultFiles.entryText(sealed).utf8)
            let file = VaultFiles.entryFileName(name: name, seq: head.seq)
            let sink = try storage.newEntry(file)
            do throws(AvaultError) {
                try bytes.withUnsafeBytes { raw in Result { () throws(AvaultError) in try sink.write(raw) } }.get()
            } catch {
                sink.abandon()
                throw error
            }
            try committer.add(sink)
            wrote = true
            commitment.replace(name: name, old: old?.digest, new: Hex.encode(BLAKE2b.hash(bytes, digestSize: 32)), key: termKey)
            if let old, old.file != file { superseded.append(old.file) }
        }
        try committer.finish()
        if wrote { try storage.syncEntries() }
        return (commitment, superseded)
    }
}
