import VaultCrypto
public import VaultFormat

/// The vault's tamper-evident log: one JSON object per line, each holding the BLAKE2b-256 of
/// the line before (`prev`), and signed heads in `log.heads`. Entries name objects by their
/// keyed file names, never by ID.
public enum VaultLog {
    /// The all-zero `prev` of the first entry.
    public static let genesis = VaultFiles.genesisHash

    /// Hex BLAKE2b-256 of a line (without its newline).
    public static func hash(_ line: some StringProtocol) -> String {
        // Hashed where the line lies when it is contiguous (every line of a log read whole).
        line.utf8.withContiguousStorageIfAvailable { Hex.encode(BLAKE2b.hash(UnsafeRawBufferPointer($0), digestSize: 32)) }
            ?? Hex.encode(BLAKE2b.hash(TextLines.bytes(of: line), digestSize: 32))
    }

    /// The message a head signature covers.
    public static func headMessage(vaultID: String, seq: Int, hash: String) -> [UInt8] {
        VaultFiles.SignedHead.message(vaultID: vaultID, head: VaultFiles.Head(seq: seq, hash: hash))
    }

    /// The log's complete lines, parsed and chain-checked up to the first problem.
    public struct Chain: Sendable {
        /// The entries that parse and follow each other, in order.
        public var entries: [VaultFiles.LogEntry] = []
        /// The hash of each of those entries' lines.
        public var hashes: [String] = []
        /// Where the chain breaks (nil: it does not), naming the line by its position.
        public var problem: String?
        /// The last line has no newline: an append cut short (never acknowledged).
        public var unfinishedTail = false
        /// The line number of the first of ``entries``: 1 for the whole log, more for the part
        /// after the head the keyring recorded (``readTail(_:from:)``).
        public var firstLine = 1
        /// The log's first entry (`init`) and its line's hash, whether or not ``entries`` holds it.
        public var creation: (entry: VaultFiles.LogEntry, hash: String)?
        private var positions: [Int: Int] = [:]

        /// The position of the entry with sequence number `seq`, if the chain has it.
        public func position(of seq: Int) -> Int? { positions[seq] }

        /// Whether this is only the part of the log after the keyring's head.
        var isTail: Bool { firstLine > 1 }

        /// Where the entry at `position` is, for the keyring's record of a head there.
        func anchor(at position: Int) -> KeyringFile.Anchor? {
            creation.map { KeyringFile.Anchor(line: UInt64(firstLine + position), first: $0.hash) }
        }

        /// The last entry's head.
        public var last: VaultFiles.Head? { entries.last.map { VaultFiles.Head(seq: $0.seq, hash: hashes[hashes.count - 1]) } }

        /// Parses strictly every entry from position `start` on that was read without its fields
        /// (``read(_:chained:)``); the message of the first that does not parse.
        mutating func parseStrictly(from start: Int) -> String? {
            for p in start..<entries.count where entries[p].isUnparsed {
                do { entries[p] = try entries[p].strictly() } catch { return "entry \(firstLine + p) is malformed (\(error))" }
            }
            return nil
        }

        mutating func add(_ entry: VaultFiles.LogEntry, hash: String) {
            if entries.isEmpty && firstLine == 1 { creation = (entry, hash) }
            positions[entry.seq] = entries.count
            entries.append(entry)
            hashes.append(hash)
        }
    }

    /// The part of the log from the head the keyring recorded, `seen`, on — what a command
    /// checks when its keyring saw the vault before (formats.md 8.6) — or nil when anything
    /// does not match what the keyring recorded, for the caller to read and check the whole
    /// log (``read(_:chained:)``) and report what it finds: the first line must hash to the
    /// recorded hash and be the vault's `init`; the line the keyring recorded the head on must
    /// hash to the head and carry its sequence number; every line after it must follow as in
    /// ``read(_:chained:)``. The lines before the head are not read: the keyring saw them
    /// checked when it recorded the head, and the facts a command needs from them are those of
    /// the first line (``Chain/creation``) and, for a vault to recipients, the digests of its
    /// data key and recipients the keyring recorded with the head; `verify` and `log --verify`
    /// read the whole log.
    static func readTail(_ storage: VaultStorage, from seen: Keyring.VaultHead) throws(AvaultError) -> Chain? {
        guard let anchor = seen.anchor, anchor.line <= UInt64(Int.max - 1), seen.seq <= UInt64(VaultFiles.maxInteger),
              let tail = try storage.readLog(fromLine: Int(anchor.line)), tail.start == Int(anchor.line) else { return nil }
        guard hash(tail.first) == anchor.first, let creation = try? VaultFiles.LogEntry(parsing: tail.first), creation.seq == 1,
              creation.op == "init" else { return nil }
        var lines = TextLines.split(tail.text, stripCR: false)
        let unfinished = !(lines.last?.isEmpty ?? true)
        lines.removeLast()
        guard let headLine = lines.first, hash(headLine) == seen.hash,
              let head = VaultFiles.LogEntry(chained: headLine) ?? (try? VaultFiles.LogEntry(parsing: headLine)),
              head.seq == Int(seen.seq) else { return nil }
        var chain = Chain()
        chain.firstLine = Int(anchor.line)
        chain.creation = (creation, anchor.first)
        chain.unfinishedTail = unfinished
        chain.add(head, hash: seen.hash)
        var prev = seen.hash
        var prevSeq = head.seq
        for line in lines.dropFirst() {
            guard let entry = VaultFiles.LogEntry(chained: line) ?? (try? VaultFiles.LogEntry(parsing: line)) else { return nil }
            let jump = entry.op == "accept-rollback" && entry.seq > prevSeq + 1
            guard entry.seq == prevSeq + 1 || jump, entry.prev == prev else { return nil }
            prev = hash(line)
            prevSeq = entry.seq
            chain.add(entry, hash: prev)
        }
        return chain
    }

    /// Reads `log` and checks its chain: sequence numbers count up by one from 1 (an
    /// `accept-rollback` entry may jump forward), each `prev` is the hash of the line before.
    ///
    /// With `chained`, a line in the exact form avault writes is read by
    /// ``VaultFiles/LogEntry/init(chained:)`` (seq, time, op and prev only; the rest parsed when
    /// asked for): for a reader that then checks the chain against the index's sealed head,
    /// which authenticates every line up to it, and parses the lines after it strictly
    /// (``Chain/parseStrictly(from:)``). Parsing every line was most of a `get` in a vault
    /// with a long history.
    static func read(_ storage: VaultStorage, chained: Bool = false) throws(AvaultError) -> Chain {
        var chain = Chain()
        guard let bytes = try storage.read("log") else { return chain }
        var lines = TextLines.split(String(decoding: bytes, as: UTF8.self), stripCR: false)
        chain.unfinishedTail = !(lines.last?.isEmpty ?? true)
        lines.removeLast()
        var prev = genesis
        var prevSeq = 0
        for (i, line) in lines.enumerated() {
            let entry: VaultFiles.LogEntry
            if chained, let quick = VaultFiles.LogEntry(chained: line) {
                entry = quick
            } else {
                do { entry = try VaultFiles.LogEntry(parsing: line) } catch {
                    chain.problem = "entry \(i + 1) is malformed (\(error))"
                    break
                }
            }
            let jump = entry.op == "accept-rollback" && entry.seq > prevSeq + 1
            if entry.seq != prevSeq + 1, !jump {
                chain.problem = "entry \(i + 1) has sequence number \(entry.seq): entries were removed or reordered"
                break
            }
            if entry.prev != prev {
                chain.problem = "entry \(i + 1) does not follow entry \(i): an entry was edited, removed or reordered"
                break
            }
            prev = hash(line)
            prevSeq = entry.seq
            chain.add(entry, hash: prev)
        }
        return chain
    }

    /// The heads in `log.heads` that parse (an unfinished last line is skipped).
    static func signedHeads(_ storage: VaultStorage) throws(AvaultError) -> [VaultFiles.SignedHead] {
        try VaultLogHeads.lines(storage).compactMap { try? VaultFiles.SignedHead(parsing: $0) }
    }

    /// What `log --verify` found.
    public struct Report: Sendable {
        /// Entries whose chain checks.
        public var entries = 0
        /// The last entry's sequence number.
        public var lastSeq = 0
        public var problems: [String] = []
        /// Those of ``problems`` that concern the entries themselves (a broken chain, an entry
        /// other than the one a head signed, a log cut or out of step with the index and the
        /// keyring), not a head's signature or its key: a log with any is not signed anew.
        public var entryProblems: [String] = []

        mutating func entryProblem(_ problem: String) {
            problems.append(problem)
            entryProblems.append(problem)
        }
        /// Things worth knowing that are not problems (an interrupted write, a head by a key
        /// retired after it signed).
        public var notes: [String] = []
        public var signedHeads = 0
        /// Sequence number covered by the last valid signed head (0 if none).
        public var signedThrough = 0
        public var unfinishedTail = false
        public var ok: Bool { problems.isEmpty }
    }
}

extension Vault {
    /// Checks the log's chain, every signed head, and the vault's bindings (the index's head
    /// and signed head, the keyring's record). A head counts only when its signature verifies
    /// under a key of the keyring or the trust store: a head by a key whose public key the
    /// store revoked (under any id), by a trust-store key outside its validity window or from
    /// the future, by a keyring key retired before it signed (or with no time), or with a
    /// timestamp that is no time in the years 0000 to 9999, is a problem; a head signed before
    /// its keyring key was retired counts, with a note.
    public func verifyLog(trustStore: TrustStoreFile?, now: Int64) throws(AvaultError) -> VaultLog.Report {
        try verifyLog(trustStore: trustStore, checkedAt: now)
    }

    /// As ``verifyLog(trustStore:now:)`` with the trust store in the keyring's directory: a
    /// missing one is fine (heads may be by keyring keys); one that is refused or malformed is
    /// an error.
    public func verifyLog(now: Int64) throws(AvaultError) -> VaultLog.Report {
        try verifyLog(trustStore: try keyringTrustStore(), checkedAt: now)
    }

    /// The trust store in the keyring's directory, if there is one.
    private func keyringTrustStore() throws(AvaultError) -> TrustStoreFile? {
        guard case .store(let file)? = try TrustStore.source(publicKeyFiles: [], explicit: nil, keyringDirectory: keyring.directory, required: false) else {
            return nil
        }
        return file
    }

    private func verifyLog(trustStore: TrustStoreFile?, checkedAt now: Int64) throws(AvaultError) -> VaultLog.Report {
        var report = VaultLog.Report()
        let chain = try VaultLog.read(storage)
        if let problem = chain.problem { report.entryProblem(problem) }
        report.entries = chain.entries.count
        report.lastSeq = chain.last?.seq ?? 0
        report.unfinishedTail = chain.unfinishedTail

        // The keyring's public keys count only once the keyring itself is authenticated.
        _ = try keyring.authenticate()
        var ringKeys: [Minisign.KeyID: KeyringFile.Entry] = [:]
        for e in keyring.file.entries where e.algorithm == .ed25519 {
            if case .minisign(let id) = e.id, e.publicKey != nil { ringKeys[id] = e }
        }
        let policy = trustStore.map { TrustPolicy(source: .store($0), now: now) }
        let lines = try VaultLogHeads.lines(storage)
        for line in lines {
            guard let head = try? VaultFiles.SignedHead(parsing: line),
                  let signature = try? Minisign.Signature(signatureLine: Substring(head.signatureLine), trustedComment: head.trustedComment,
                                                          globalSignatureLine: Substring(head.globalSignatureLine))
            else {
                report.problems.append("a signed head is malformed")
                continue
            }
            let seq = head.head.seq
            let digest = MinisignSigning.prehash(VaultFiles.SignedHead.message(vaultID: config.vaultID, head: head.head))
            let at = "the head signed at entry \(seq)"
            let storeEntry = trustStore?.entry(for: signature.keyID)
            let ringEntry = ringKeys[signature.keyID]
            // Revocation follows the public key, as in record verification (no signature covers
            // a key id): the store's entry for this id, or any entry with the keyring key's.
            var revoked: (time: Timestamp, reason: String, keyID: Minisign.KeyID?)?
            if let trustStore {
                if let storeEntry { revoked = trustStore.revocation(of: storeEntry) }
                if revoked == nil, let pk = ringEntry?.publicKey, let r = trustStore.revocation(ofPublicKey: pk) {
                    revoked = (r.time, r.reason, r.keyID == signature.keyID ? nil : r.keyID)
                }
            }
            if let revoked {
                report.problems.append("\(at) is by key \(signature.keyID.printed), which was revoked on \(revoked.time)"
                    + (revoked.keyID.map { " (its public key, as key \($0.printed))" } ?? "") + (revoked.reason.isEmpty ? "" : ": \(revoked.reason)"))
                continue
            }
            if let entry = ringEntry, let pk = entry.publicKey {
                guard MinisignSigning.check(signature, digest: digest, publicKey: Minisign.PublicKey(keyID: signature.keyID, key: pk)) == .valid else {
                    report.problems.append("the signature of the head at entry \(seq) does not verify")
                    continue
                }
                // A time RFC 3339 cannot write is no time, as in record verification.
                if signature.hasUnreadableTimestamp {
                    report.problems.append("\(at) has a timestamp that is not a time in the years 0000 to 9999")
                    continue
                }
                if let t = signature.representableTimestamp, t > now + TrustPolicy.futureTolerance {
                    report.problems.append("\(at) claims a time in the future (\(RFC3339.format(t)))")
                    continue
                }
                // The same key in the trust store: its validity window applies as to a head by a
                // key the store alone holds (before, the keyring's path skipped it).
                if let storeEntry, storeEntry.publicKey.key == pk, let policy {
                    let verdict = policy.judge(signature, domain: .file) { pk in MinisignSigning.check(signature, digest: digest, publicKey: pk) }
                    guard verdict.status == .valid else {
                        report.problems.append("\(at) does not count: " + (verdict.reason ?? verdict.status.rawValue))
                        continue
                    }
                }
                // Under another id too: a window follows the public key, as a revocation does.
                if let (other, _) = trustStore?.windowLeavingOut(signature.representableTimestamp, publicKey: pk),
                   let why = TrustPolicy.outsideWindow(signature.representableTimestamp, id: signature.keyID.printed, as: other.publicKey.keyID,
                                                       notBefore: other.notBefore, notAfter: other.notAfter) {
                    report.problems.append("\(at) does not count: " + why)
                    continue
                }
                if let retired = entry.retired {
                    let name = "key '\(entry.name)' version \(entry.version) (\(signature.keyID.printed))"
                    guard let t = signature.representableTimestamp, t < retired.seconds else {
                        report.problems.append("\(at) is by \(name), which was retired on \(retired), and it was not signed before that")
                        continue
                    }
                    report.notes.append("\(at) is by \(name), retired on \(retired) after it signed")
                }
            } else if storeEntry != nil, let policy {
                let verdict = policy.judge(signature, domain: .file) { pk in MinisignSigning.check(signature, digest: digest, publicKey: pk) }
                guard verdict.status == .valid else {
                    report.problems.append("\(at) does not count: " + (verdict.reason ?? verdict.status.rawValue))
                    continue
                }
            } else {
                report.problems.append("\(at) is by key \(signature.keyID.printed), which is not known")
                continue
            }
            report.signedHeads += 1
            if let p = chain.position(of: seq) {
                if chain.hashes[p] != head.head.hash {
                    report.entryProblem("entry \(seq) is not the one that was signed: the log was edited")
                } else {
                    report.signedThrough = max(report.signedThrough, seq)
                }
            } else if chain.problem != nil {
                report.entryProblem("\(at) cannot be checked: the chain breaks at entry \(chain.entries.count + 1)")
            } else if seq > report.lastSeq {
                report.entryProblem("the log was cut: a signed head covers \(seq) entries, the log has \(report.lastSeq)")
            } else {
                report.entryProblem("entry \(seq), which was signed, is not in the log: the log was edited")
            }
        }
        // The index binds the log's head and the last signed head; the keyring remembers the
        // newest head it has seen.
        if chain.problem == nil {
            do {
                let state = try checkedState(wholeLog: true)
                if let problem = Self.unindexedPutProblem(state) {
                    report.entryProblem("the log was altered: \(problem)")
                } else if let first = state.unindexed.first, let last = state.unindexed.last {
                    report.notes.append("entries \(first)–\(last) were written by an interrupted write whose index never landed (its changes did not happen); the next write records that")
                }
            } catch .tampered(let message, _) {
                report.entryProblem(message)
            }
        }
        return report
    }

    /// Signs the current head of the log with a signing key; the index then records it as the
    /// last signed head (so a removed `log.heads` shows). The signature is checked before it
    /// is written.
    public func signLog(key: Ed25519SigningKey, keyID: Minisign.KeyID, now: Int64) throws(AvaultError) -> (seq: Int, hash: String) {
        // A signature vouches for every entry its head chains over: not for a log altered
        // before the part a write checks (the keyring's record onwards).
        let store = try keyringTrustStore()
        if let problem = try verifyLog(trustStore: store, checkedAt: now).entryProblems.first {
            throw .tampered("the log was altered (\(problem)): its head was not signed", area: .vaultState)
        }
        // A head by a revoked key is a problem for every later check (verifyLog): not signed.
        if let r = store?.revocation(ofPublicKey: key.publicKey.bytes) {
            throw .signingKeyRevoked(keyID: keyID.printed, storeKeyID: r.keyID.printed, on: "\(r.time)", reason: r.reason)
        }
        // Nor by one the store trusts only for a period that does not hold now, under this id or
        // another (a window follows the public key, as a revocation does).
        if let (entry, before) = store?.windowLeavingOut(now, publicKey: key.publicKey.bytes) {
            let window = before ? "valid from \(entry.notBefore?.text ?? "")" : "expired \(entry.notAfter?.text ?? "")"
            throw .signingKeyOutsideWindow(keyID: keyID.printed, window: window + (entry.publicKey.keyID == keyID ? "" : ", as key \(entry.publicKey.keyID.printed)"))
        }
        let publicKey = Minisign.PublicKey(keyID: keyID, key: key.publicKey.bytes)
        let vaultID = config.vaultID
        let storage = self.storage
        var signed: VaultFiles.Head?
        try transaction { (tx: inout Transaction) throws(AvaultError) in
            tx.sign = { (head: VaultFiles.Head) throws(AvaultError) -> VaultFiles.Head in
                let comment = "timestamp:\(now)\tvault:\(vaultID)\tseq:\(head.seq)"
                let digest = MinisignSigning.prehash(VaultFiles.SignedHead.message(vaultID: vaultID, head: head))
                let signature = MinisignSigning.sign(digest: digest, key: key, keyID: keyID, trustedComment: comment)
                guard MinisignSigning.check(signature, digest: digest, publicKey: publicKey) == .valid else {
                    throw .crypto(.libraryFailure("the new head signature does not verify"))
                }
                let line = VaultFiles.SignedHead(head: head, keyID: keyID.printed, signatureLine: signature.signatureLine,
                                                 trustedComment: comment, globalSignatureLine: signature.globalSignatureLine).line
                try storage.append("log.heads", Array((line + "\n").utf8))
                signed = head
                return head
            }
        }
        guard let signed else { throw .crypto(.libraryFailure("no head was signed")) }
        return (signed.seq, signed.hash)
    }
}

/// The lines of `log.heads`.
enum VaultLogHeads {
    static func lines(_ storage: VaultStorage) throws(AvaultError) -> [Substring] {
        guard let bytes = try storage.read("log.heads") else { return [] }
        var lines = TextLines.split(String(decoding: bytes, as: UTF8.self), stripCR: false)
        // The last piece is empty, or an unfinished append (never acknowledged): skip it.
        lines.removeLast()
        return lines.filter { !$0.isEmpty }
    }
}

extension Vault {
    /// The log for reading: with `raw`, the file as it is (JSON Lines); otherwise each line's
    /// seq, time, op, object, version, size and kid, two spaces apart, and for a change of
    /// recipients the counts (a line that is not JSON as it is).
    public func logText(raw: Bool) throws(AvaultError) -> String {
        let text = String(decoding: try storage.read("log") ?? [], as: UTF8.self)
        if raw { return text }
        return text.split(separator: "\n").map { line -> String in
            guard let e = try? JSONDocument.parse(Array(line.utf8)) else { return String(line) }
            var parts: [String] = []
            for key in ["seq", "time", "op", "object", "version", "size", "kid"] {
                if let v = e[key] { parts.append(key == "seq" ? "#\(v.jsonText)" : (v.stringValue ?? v.jsonText)) }
            }
            // A change of recipients: how many came and went, how many there are, a rotation.
            if e["op"]?.stringValue == "recipients" {
                func count(_ key: String) -> Int { if case .array(let items)? = e[key] { items.count } else { 0 } }
                parts.append("+\(count("added")) -\(count("removed")) (\(count("recipients")) recipient\(count("recipients") == 1 ? "" : "s"))"
                             + (e["rotated"].map { ", rotated \($0.jsonText)" } ?? ""))
            }
            return parts.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
