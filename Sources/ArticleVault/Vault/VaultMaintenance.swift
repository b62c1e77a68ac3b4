import VaultCrypto
import VaultFormat

extension Vault {
    /// Marks `id` removed (a tombstone); its versions and history are kept.
    public func remove(_ id: String, now: Int64) throws(AvaultError) {
        // Only the object's bucket of entries changes (a write of one bucket, as a put's).
        try transaction(bucket: try entryBucket(ofID: id)) { (tx: inout Transaction) throws(AvaultError) in
            guard let i = tx.index.objects.firstIndex(where: { Self.sameID($0.id, id) }) else { throw .noSuchObject(id: id) }
            guard tx.index.objects[i].deleted == nil else { throw .objectAlreadyRemoved(id: id) }
            tx.index.objects[i].deleted = Timestamp(seconds: now)
            tx.entries.append([("op", .string("rm")), ("object", .string(tx.index.objects[i].name))])
        }
    }

    /// Deletes every version of `id` and its index entry. The log keeps the record of it, and
    /// the index its highest version number, so that the ID's next version number is higher.
    public func purge(_ id: String) throws(AvaultError) {
        try transaction(bucket: try entryBucket(ofID: id)) { (tx: inout Transaction) throws(AvaultError) in
            guard let i = tx.index.objects.firstIndex(where: { Self.sameID($0.id, id) }) else {
                // An ID the index never listed may still have envelopes kept in quarantine (a
                // first put that crashed, which recovery keeps): they are purged all the same.
                let name = try objectName(id)
                let quarantined = try storage.removeQuarantined(object: name)
                guard quarantined > 0 else { throw .noSuchObject(id: id) }
                tx.entries.append(Self.purgeEntry(object: name, versions: 0, quarantined: quarantined))
                return
            }
            let object = tx.index.objects.remove(at: i)
            if let last = object.versions.last?.number { tx.index.used[object.name] = max(tx.index.used[object.name] ?? 0, last) }
            // What recovery or fsck moved aside under its names first (before the index: a purge
            // that dies here has purged nothing the index lists), so that nothing of the draft
            // stays readable with the vault's key.
            let quarantined = try storage.removeQuarantined(object: object.name)
            tx.entries.append(Self.purgeEntry(object: object.name, versions: object.versions.count, quarantined: quarantined))
            // After the index: an envelope no index entry names is a leftover, never a hole.
            tx.removals = object.versions.map { VaultFiles.envelopeFileName(object: object.name, version: $0.number) }
        }
    }

    /// Deletes everything recovery or `fsck` kept in quarantine, under any name (files no ID
    /// names among them, which ``purge(_:)`` of an ID never reaches), durably, with a
    /// `purge-quarantine` entry in the log. Returns how many were deleted.
    public func purgeQuarantined() throws(AvaultError) -> Int {
        try transaction { (tx: inout Transaction) throws(AvaultError) -> Int in
            let deleted = try storage.removeQuarantined(object: nil)
            if deleted > 0 { tx.entries.append([("op", .string("purge-quarantine")), ("quarantined", .number(Double(deleted)))]) }
            return deleted
        }
    }

    /// The log entry of a purge (`quarantined` only when it deleted something there).
    private static func purgeEntry(object name: String, versions: Int, quarantined: Int) -> [(key: String, value: FieldValue)] {
        [("op", .string("purge")), ("object", .string(name)), ("versions", .number(Double(versions)))]
            + (quarantined > 0 ? [("quarantined", .number(Double(quarantined)))] : [])
    }

    /// Re-encrypts every version, the naming key and the index under the newest version of the
    /// vault's key, streaming chunk by chunk: no plaintext touches the disk. The new envelopes
    /// are staged beside the old ones and take their place once the new index lists them.
    /// Returns how many envelopes were rewritten.
    public func rewrap() throws(AvaultError) -> Int {
        try transaction { (tx: inout Transaction) throws(AvaultError) -> Int in try rewrapEnvelopes(&tx) }
    }

    /// The body of ``rewrap()`` inside a transaction: every envelope not under the current key
    /// staged anew, the naming key re-sealed, a `rewrap` entry. Returns how many were rewritten.
    func rewrapEnvelopes(_ tx: inout Transaction) throws(AvaultError) -> Int {
        let (kid, key) = try currentKey()
        // The index entries are re-sealed under the new key too.
        tx.resealEntries = true
        let stale = tx.index.objects.reduce(0) { $0 + $1.versions.count { $0.kid != kid } }
        let committer = storage.envelopeCommitter(batch: stale)
        defer { committer.cancel() }
        var rewritten = 0
        var fromKids = Set<KeyID>()
        for o in tx.index.objects.indices {
            for v in tx.index.objects[o].versions.indices where tx.index.objects[o].versions[v].kid != kid {
                let version = tx.index.objects[o].versions[v]
                fromKids.insert(version.kid)
                let name = tx.index.objects[o].name
                let file = VaultFiles.envelopeFileName(object: name, version: version.number)
                let staged = VaultFiles.stagedPrefix + file
                let writer = try EnvelopeWriter(self, buffers: writingBuffers, file: staged, object: name, version: version.number, kid: kid, key: key)
                let written: (size: Int, digest: String, sink: EnvelopeSink)
                do throws(AvaultError) {
                    try readVersion(object: name, version, checkFirst: false) { (plain: UnsafeRawBufferPointer) throws(AvaultError) in try writer.add(plain) }
                    written = try writer.finish()
                } catch {
                    writer.abandon()
                    throw error
                }
                try committer.add(written.sink)
                tx.index.objects[o].versions[v].kid = kid
                tx.index.objects[o].versions[v].digest = written.digest
                tx.renames.append((staged, file))
                rewritten += 1
            }
        }
        try committer.finish()
        if rewritten > 0 { try storage.syncEnvelopes() }
        // The naming key, under the new key version too.
        if config.namingKey.kid != kid {
            var namingPlain = try Self.unsealNamingKey(self)
            defer { wipe(&namingPlain) }
            var newConfig = config
            let nonce = SecureRandom.bytes(count: 24)
            do {
                newConfig.namingKey = VaultFiles.Sealed(kid: kid, nonce: nonce,
                    ciphertext: try XChaCha20Poly1305.seal(namingPlain, key: key, nonce: nonce, associatedData: config.namingKeyAssociatedData(kid: kid)))
            } catch { throw .crypto(error) }
            tx.newConfig = newConfig
        }
        tx.entries.append([("op", .string("rewrap")), ("envelopes", .number(Double(rewritten))),
                           ("from", .array(fromKids.map(\.hex).sorted().map(FieldValue.string))), ("kid", .string(kid.hex))])
        return rewritten
    }

    private static func unsealNamingKey(_ vault: Vault) throws(AvaultError) -> [UInt8] {
        let sealed = vault.config.namingKey
        do {
            return try XChaCha20Poly1305.open(sealed.ciphertext, key: try vault.key(kid: sealed.kid), nonce: sealed.nonce,
                                              associatedData: vault.config.namingKeyAssociatedData(kid: sealed.kid))
        } catch let error as AvaultError { throw error } catch {
            throw .tampered("the vault's naming key does not authenticate: the config was altered", area: .vault)
        }
    }

    /// What ``keysInUse()`` found: the files each key id protects, and the envelopes whose
    /// header names no key id.
    public struct KeysInUse: Sendable {
        /// Key id → files (`objects/…`, `config`, `index`).
        public var files: [KeyID: [String]] = [:]
        /// Envelopes whose header could not be read.
        public var unreadable: [String] = []
    }

    /// Key ids that still protect something, read from the envelope headers, the naming key
    /// and the index, without decrypting anything.
    public func keysInUse() throws(AvaultError) -> KeysInUse {
        var use = KeysInUse()
        for file in try storage.envelopeFiles().envelopes {
            if let kid = envelopeKid(file) { use.files[kid, default: []].append("objects/" + file) } else { use.unreadable.append("objects/" + file) }
        }
        use.files[config.namingKey.kid, default: []].append("config")
        if let bytes = try storage.read("index"), let sealed = try? VaultFiles.parseIndexFile(String(decoding: bytes, as: UTF8.self)).sealed {
            use.files[sealed.kid, default: []].append("index")
        }
        for (file, bytes) in try storage.readEntries() {
            if let bytes, let sealed = try? VaultFiles.parseEntry(String(decoding: bytes, as: UTF8.self)) {
                use.files[sealed.kid, default: []].append("entries/" + file)
            } else {
                use.unreadable.append("entries/" + file)
            }
        }
        return use
    }

    /// What `vault verify` found.
    public struct Check: Sendable {
        public var objects = 0
        public var versions = 0
        public var missing: [String] = []
        public var corrupt: [String] = []
        public var unexpected: [String] = []
        /// What interrupted writes left (temporary files, envelopes no index lists that
        /// authenticate, staged rewraps): the next writer removes or finishes them. Not a failure.
        public var leftovers: [String] = []
        /// Intact-looking files that cannot be checked: their key version is retired or missing.
        public var unreadable: [String] = []
        /// Interrupted writes seen in the log or the config (not a failure).
        public var notes: [String] = []
        /// What recovery or `fsck` moved aside ("quarantine/NAME"): not checked, not a failure,
        /// kept until a purge of its draft (or by hand) deletes it; drafts the vault's key still opens.
        public var quarantined: [String] = []
        /// What the index says each listed envelope holds ("objects/FILE" → the object's ID and
        /// version), so that problems can be named by ID.
        public var versionsByFile: [String: (id: String, version: Int)] = [:]
        public var ok: Bool { missing.isEmpty && corrupt.isEmpty && unexpected.isEmpty && unreadable.isEmpty }
    }

    /// Authenticates the naming key, the index (and everything it binds: the config, the log,
    /// the last signed head, the keyring's record) and every version of every object against
    /// its digest and size, and compares the files with the index. A vault that was rolled
    /// back or whose bindings fail throws `.tampered`.
    public func verify() throws(AvaultError) -> Check {
        // On a store whose writes are atomic, an envelope the index does not list is unexpected
        // (``checkFiles(_:into:)``), unless a writer committed it after the index was read (this
        // takes no lock): then the index has changed, and the check starts over.
        for _ in 0..<7 where storage.writesAreAtomic {
            let index = try storage.read("index")
            let check = try verifyOnce()
            if check.unexpected.contains(where: { $0.hasPrefix("objects/") }), try storage.read("index") != index { continue }
            return check
        }
        return try verifyOnce()
    }

    private func verifyOnce() throws(AvaultError) -> Check {
        var check = Check()
        do {
            _ = try Self.unsealNamingKey(self)
        } catch .tampered {
            check.corrupt.append("config")
        } catch {
            check.unreadable.append("config (" + error.message + ")")
        }
        let state: State
        do { state = try checkedState(wholeLog: true) } catch {
            if case .tampered(let message, _) = error, message.hasPrefix(Self.indexAuthenticationFailure) {
                check.corrupt.append("index")
                return check
            }
            throw error
        }
        try checkFiles(state.index, into: &check)
        check.quarantined = try storage.quarantinedFiles().map { "quarantine/" + $0 }
        check.leftovers += state.strayEntries.map { "entries/" + $0 }
        check.unexpected += state.unexpectedEntries.map { "entries/" + $0 }
        check.leftovers.sort()
        check.unexpected.sort()
        if let problem = Self.unindexedPutProblem(state) {
            check.corrupt.append("log")
            check.notes.append("the log was altered: \(problem)")
        } else if let first = state.unindexed.first, let last = state.unindexed.last {
            check.notes.append("log entries \(first)–\(last) were written by an interrupted write whose index never landed (its changes did not happen)")
        }
        if state.interruptedRewrap { check.notes.append("the config was re-sealed by a rewrap interrupted before its index landed") }
        return check
    }

    /// Checks every envelope against `index` and sorts the other files.
    private func checkFiles(_ index: VaultFiles.Index, into check: inout Check) throws(AvaultError) {
        let survey = try survey(index)
        for o in index.objects {
            check.objects += 1
            if let name = try? objectName(o.id), name != o.name { check.corrupt.append("index (object \(o.name) does not match its ID)") }
            for v in o.versions {
                check.versions += 1
                let file = VaultFiles.envelopeFileName(object: o.name, version: v.number)
                check.versionsByFile["objects/" + file] = (o.id, v.number)
                guard survey.present.contains(file) || survey.present.contains(VaultFiles.stagedPrefix + file) else {
                    check.missing.append("objects/" + file)
                    continue
                }
                do {
                    try readVersion(object: o.name, v, checkFirst: false, rewind: {}) { (_: UnsafeRawBufferPointer) throws(AvaultError) in }
                } catch .tampered {
                    check.corrupt.append("objects/" + file)
                } catch {
                    check.unreadable.append("objects/" + file + " (" + error.message + ")")
                }
            }
        }
        check.unexpected += survey.unexpected.map { "objects/" + $0 }
        // No write to a store whose writes are atomic leaves anything behind (see ``recover(_:_:)``).
        if storage.writesAreAtomic {
            check.unexpected += (survey.temporaries + survey.staged.map(\.file) + survey.unlisted.map(\.file)).map { "objects/" + $0 }
        } else {
            check.leftovers = survey.temporaries.map { $0.hasPrefix("../") ? String($0.dropFirst(3)) : "objects/" + $0 }
            check.leftovers += survey.staged.map { "objects/" + $0.file }
            for u in survey.unlisted {
                switch u.authentic {
                case true?: check.leftovers.append("objects/" + u.file)
                case false?: check.unexpected.append("objects/" + u.file)
                case nil: check.unreadable.append("objects/" + u.file + " (not in the index; its key version is retired or missing)")
                }
            }
        }
        check.leftovers.sort()
        check.unexpected.sort()
    }

    /// Removes what interrupted writes left (as every writer does), then moves every corrupt
    /// or unexpected file into `quarantine/` (never deletes those).
    public func fsck() throws(AvaultError) -> (check: Check, moved: [String]) {
        try transaction { (tx: inout Transaction) throws(AvaultError) -> (check: Check, moved: [String]) in
            var check = Check()
            try checkFiles(tx.index, into: &check)
            var moved: [String] = []
            // Only files under objects/ move; config and index are reported, never touched.
            for file in check.corrupt + check.unexpected + check.leftovers where file.hasPrefix("objects/") {
                moved.append(try storage.quarantine(String(file.dropFirst("objects/".count))))
            }
            // Entry files under names no writer gives one (an entry that fails its checks fails
            // the state's read, and fsck with it).
            for file in tx.unexpectedEntries {
                check.unexpected.append("entries/" + file)
                moved.append(try storage.quarantineEntry(file))
            }
            check.unexpected.sort()
            if !moved.isEmpty { tx.entries.append([("op", .string("fsck")), ("quarantined", .number(Double(moved.count)))]) }
            return (check, moved)
        }
    }
}

extension Vault {
    /// Copies the vault byte for byte into `destination`, which must hold no vault — a directory
    /// and a PostgreSQL database alike, either way: every envelope (every version), the log,
    /// the signed heads, the index and, last, the config (so that an interrupted copy leaves no
    /// vault there). The source is read under its lock, as a writer would (what crashed writers
    /// left is cleared first, and committed before the copy: the keyring records the head that
    /// clearing wrote), so the copy is one consistent state. The copy is then opened and
    /// every version in it authenticated; the caller reports success only when the returned
    /// check is ``Check/ok``. What `fsck` moved into quarantine is not copied.
    public func copy(to destination: VaultStorage) throws(AvaultError) -> (copy: Vault, check: Check) {
        guard try !destination.exists() else { throw .vaultExists(location: destination.location) }
        let source = storage
        // A write with log entries of its own (a recovery, a migration, an accepted rollback)
        // commits them first; the copy is taken by a write that has none.
        var copied = false
        for _ in 0..<3 where !copied {
            copied = try transaction { (tx: inout Transaction) throws(AvaultError) -> Bool in
                guard tx.entries.isEmpty else { return false }
                // What no writer left (the copy would carry it, and then not verify): refused
                // before anything is written.
                let survey = try survey(tx.index)
                let atomic = storage.writesAreAtomic ? survey.temporaries + survey.staged.map(\.file) : []
                let unexpected = (survey.unexpected + survey.unlisted.map(\.file) + atomic).map { "objects/" + $0 } + tx.unexpectedEntries.map { "entries/" + $0 }
                guard unexpected.isEmpty else { throw .vaultHoldsUnexpectedFiles(unexpected.sorted()) }
                try copyLocked(source, to: destination)
                return true
            }
        }
        guard copied else { throw .internalFailure("the vault needed recovering on each of 3 tries to copy it") }
        // The copy is this vault at its new place, as `init` records a vault it made.
        try keyring.notePlace(location: Self.locationDigest(destination), vaultID: config.vaultID)
        let copy = try Vault(storage: destination, keyring: keyring)
        return (copy, try copy.verify())
    }

    /// The copy of ``copy(to:)``, under the source's lock.
    private func copyLocked(_ source: VaultStorage, to destination: VaultStorage) throws(AvaultError) {
        try destination.create()
        try destination.withLock { () throws(AvaultError) in
            guard try !destination.exists() else { throw .vaultExists(location: destination.location) }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { buffer.deallocate() }
            for file in try source.envelopeFiles().envelopes {
                guard let reader = try source.openEnvelope(file) else { continue }
                // No vault there (checked above): a file under the name is an interrupted copy's.
                let sink = try destination.newEnvelope(replacing: file)
                do throws(AvaultError) {
                    while true {
                        let n = try reader.read(into: buffer)
                        if n == 0 { break }
                        try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                    }
                    try sink.commit(syncDirectory: false)
                } catch {
                    sink.abandon()
                    throw error
                }
            }
            try destination.syncEnvelopes()
            // The index entries (a recovery committed before removed any leftover), then the head.
            for case let (file, bytes?) in try source.readEntries() where VaultFiles.parseEntryFileName(file) != nil { try destination.writeEntry(file, bytes) }
            try destination.syncEntries()
            for name in ["log", "log.heads", "index"] {
                if let bytes = try source.read(name) { try destination.replace(name, bytes) }
            }
            guard let config = try source.read("config") else { throw .noVault(location: source.location) }
            try destination.replace("config", config)
            try destination.syncFiles()
            try destination.commitLocked()
        }
    }
}
