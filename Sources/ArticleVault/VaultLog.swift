public import VaultCrypto
public import VaultFormat

/// The vault's tamper-evident log: one JSON object per line, each holding the BLAKE2b-256 of
/// the line before (`prev`), and signed heads in `log.heads`. Entries name objects by their
/// keyed file names, never by ID.
public enum VaultLog {
    /// The all-zero `prev` of the first entry.
    public static let genesis = String(repeating: "0", count: 64)

    /// Hex BLAKE2b-256 of a line (without its newline).
    public static func hash(_ line: some StringProtocol) -> String { Hex.encode(BLAKE2b.hash(Array(line.utf8), digestSize: 32)) }

    /// The message a head signature covers.
    public static func headMessage(vaultID: String, seq: Int, hash: String) -> [UInt8] {
        Array("avault-vault-log-v1;\(vaultID);\(seq);\(hash)".utf8)
    }

    /// The complete lines of `log` (a final line without a newline is an unfinished append).
    static func lines(_ storage: VaultStorage) throws(AvaultError) -> (complete: [Substring], unfinished: Bool) {
        guard let bytes = try storage.read("log") else { return ([], false) }
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = TextLines.split(text, stripCR: false)
        let unfinished = !(lines.last?.isEmpty ?? true)
        lines.removeLast()
        return (lines, unfinished)
    }

    /// The last entry's sequence number and hash (0 and the genesis hash for an empty log).
    static func tail(_ storage: VaultStorage) throws(AvaultError) -> (Int, String) {
        let (lines, _) = try lines(storage)
        guard let last = lines.last else { return (0, genesis) }
        guard case .number(let seq)? = (try? JSONDocument.parse(Array(last.utf8)))?["seq"] else {
            throw .refused("\(storage.location)/log: the last entry is malformed", hint: "run 'avault vault log --verify'")
        }
        return (Int(seq), hash(last))
    }

    /// What `log --verify` found.
    public struct Report: Sendable {
        public var entries = 0
        public var problems: [String] = []
        public var signedHeads = 0
        /// Sequence number covered by the last valid signed head (0 if none).
        public var signedThrough = 0
        public var unfinishedTail = false
        public var ok: Bool { problems.isEmpty }
    }

    /// Checks the chain and every signed head. `publicKey` resolves a head's key id.
    public static func verify(_ storage: VaultStorage, vaultID: String,
                              publicKey: (Minisign.KeyID) -> Minisign.PublicKey?) throws(AvaultError) -> Report {
        var report = Report()
        let (lines, unfinished) = try lines(storage)
        report.unfinishedTail = unfinished
        var prev = genesis
        var hashes: [String] = []
        for (i, line) in lines.enumerated() {
            let entry = try? JSONDocument.parse(Array(line.utf8))
            guard case .number(let seq)? = entry?["seq"], case .string(let p)? = entry?["prev"] else {
                report.problems.append("entry \(i + 1) is malformed")
                break
            }
            if Int(seq) != i + 1 {
                report.problems.append("entry \(i + 1) has sequence number \(Int(seq)): entries were removed or reordered")
                break
            }
            if p != prev {
                report.problems.append("entry \(i + 1) does not follow entry \(i): an entry was edited, removed or reordered")
                break
            }
            prev = hash(line)
            hashes.append(prev)
        }
        report.entries = hashes.count
        if let bytes = try storage.read("log.heads") {
            var heads = TextLines.split(String(decoding: bytes, as: UTF8.self), stripCR: false)
            // The last piece is empty, or an unfinished append (never acknowledged): skip it.
            heads.removeLast()
            for line in heads where !line.isEmpty {
                guard let head = try? JSONDocument.parse(Array(line.utf8)), case .number(let s)? = head["seq"],
                      case .string(let h)? = head["hash"], case .string(let sig)? = head["signature"],
                      case .string(let comment)? = head["trustedComment"], case .string(let global)? = head["globalSignature"],
                      let signature = try? Minisign.Signature(signatureLine: Substring(sig), trustedComment: comment, globalSignatureLine: Substring(global))
                else {
                    report.problems.append("a signed head is malformed")
                    continue
                }
                let seq = Int(s)
                guard let key = publicKey(signature.keyID) else {
                    report.problems.append("the head signed at entry \(seq) is by key \(signature.keyID.printed), which is not known")
                    continue
                }
                let digest = MinisignSigning.prehash(headMessage(vaultID: vaultID, seq: seq, hash: h))
                guard MinisignSigning.check(signature, digest: digest, publicKey: key) == .valid else {
                    report.problems.append("the signature of the head at entry \(seq) does not verify")
                    continue
                }
                report.signedHeads += 1
                if seq > hashes.count, hashes.count < lines.count {
                    report.problems.append("the head signed at entry \(seq) cannot be checked: the chain breaks at entry \(hashes.count + 1)")
                } else if seq > hashes.count {
                    report.problems.append("the log was cut: a signed head covers \(seq) entries, the log has \(hashes.count)")
                } else if hashes[seq - 1] != h {
                    report.problems.append("entry \(seq) is not the one that was signed: the log was edited")
                } else {
                    report.signedThrough = max(report.signedThrough, seq)
                }
            }
        }
        return report
    }
}

extension Vault {
    /// Signs the current head of the log with a signing key.
    public func signLog(key: Ed25519SigningKey, keyID: Minisign.KeyID, now: Int64) throws(AvaultError) -> (seq: Int, hash: String) {
        try storage.withLock { () throws(AvaultError) -> (seq: Int, hash: String) in
            let (seq, hash) = try VaultLog.tail(storage)
            guard seq > 0 else { throw .refused("the log is empty", hint: nil) }
            let comment = "timestamp:\(now)\tvault:\(config.vaultID)\tseq:\(seq)"
            let signature = MinisignSigning.sign(digest: MinisignSigning.prehash(VaultLog.headMessage(vaultID: config.vaultID, seq: seq, hash: hash)),
                                                 key: key, keyID: keyID, trustedComment: comment)
            let line = FieldValue.object([
                ("seq", .number(Double(seq))), ("hash", .string(hash)), ("keyId", .string(keyID.printed)),
                ("signature", .string(signature.signatureLine)), ("trustedComment", .string(comment)),
                ("globalSignature", .string(signature.globalSignatureLine)),
            ]).jsonText
            try storage.append("log.heads", Array((line + "\n").utf8))
            return (seq, hash)
        }
    }
}
