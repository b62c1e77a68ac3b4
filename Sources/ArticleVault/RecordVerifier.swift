#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import VaultCrypto
public import VaultFormat

/// Whose signatures count.
public enum TrustSource: Sendable {
    /// Keys in a trust store, with roles, validity windows and revocation.
    case store(TrustStoreFile)
    /// Exactly one public key (`--pubkey`), with no roles or validity window.
    case publicKey(Minisign.PublicKey)
}

/// What `avault verify` requires of each record.
public struct VerifyPolicy: Sendable {
    public var trust: TrustSource
    /// Roles that valid signatures must cover (each by at least one).
    public var requiredRoles: [String] = []
    /// Fail unsigned records.
    public var requireSignature = false
    /// Let legacy v1 `secured` blobs pass.
    public var allowLegacySecured = false
    /// With `--check-decrypt`: whether a record's blob decrypts (blob, context).
    public var decryptCheck: (@Sendable (SecuredBlob, String) -> Bool)?

    public init(trust: TrustSource) { self.trust = trust }
}

/// The verdict on one record.
public enum RecordOutcome: String, Sendable, CaseIterable {
    case valid, invalid, untrusted, revoked, expired, unsigned, malformed
}

/// One signature's verdict.
public struct SignatureReport: Sendable {
    public var keyID: String
    /// `valid`, `invalid`, `untrusted`, `revoked` or `expired`.
    public var status: String
    public var signer: String?
    public var roles: [String]
    /// From the trusted comment's `timestamp:` field.
    public var timestamp: Int64?
    public var reason: String?
}

/// Everything `verify` and `audit` say about one record.
public struct RecordReport: Sendable {
    public var path: String
    public var outcome: RecordOutcome
    /// Whether the record passes the policy.
    public var passed: Bool
    /// Why it fails (or what is notable).
    public var reason: String?
    /// For malformed records, the line when known.
    public var line: Int?
    public var signatures: [SignatureReport] = []
    /// `none`, `v1`, `v2` or `malformed`.
    public var secured: String = "none"
    /// The kid of a v2 blob.
    public var securedKeyID: String?
    /// With `--check-decrypt`, whether the blob decrypts.
    public var decrypts: Bool?
}

/// Verifies records against a policy.
public struct RecordVerifier: Sendable {
    public let policy: VerifyPolicy
    private let trusted: [Minisign.KeyID: TrustStoreFile.Entry]

    public init(policy: VerifyPolicy) {
        self.policy = policy
        switch policy.trust {
        case .store(let store):
            trusted = Dictionary(store.entries.map { ($0.publicKey.keyID, $0) }, uniquingKeysWith: { a, _ in a })
        case .publicKey(let key):
            trusted = [key.keyID: TrustStoreFile.Entry(publicKey: key, name: "--pubkey", added: "1970-01-01T00:00:00Z")]
        }
    }

    /// Verifies the record at `path`. With `onlyRecords`, a file that does not start with a
    /// `---` line is not a record and gives nil.
    public func verify(path: String, onlyRecords: Bool = false) -> RecordReport? {
        let bytes: [UInt8]
        do { bytes = try FileSystem.read(path) } catch {
            return RecordReport(path: path, outcome: .malformed, passed: false, reason: error.message)
        }
        if onlyRecords, !(bytes.starts(with: Array("---\n".utf8)) || bytes.starts(with: Array("---\r\n".utf8))) {
            return nil
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return RecordReport(path: path, outcome: .malformed, passed: false, reason: "the file is not valid UTF-8")
        }
        let document: RecordDocument
        let signatures: [Minisign.Signature]
        do {
            document = try RecordDocument(parsing: text)
            signatures = try RecordSignatures.entries(in: document.fields)
        } catch {
            var line: Int?
            var reason = "\(error)"
            if case .invalidRecord(let why, let l) = error { line = l; reason = why }
            return RecordReport(path: path, outcome: .malformed, passed: false, reason: reason, line: line)
        }
        return verify(document: document, signatures: signatures, path: path)
    }

    /// Verifies a parsed record.
    public func verify(document: RecordDocument, signatures: [Minisign.Signature], path: String) -> RecordReport {
        var report = RecordReport(path: path, outcome: .unsigned, passed: false)
        var digest: [UInt8]?
        var validRoles = Set<String>()
        var anyValid = false
        for signature in signatures {
            var s = SignatureReport(keyID: signature.keyID.printed, status: "untrusted", roles: [], timestamp: signature.timestamp)
            guard let entry = trusted[signature.keyID] else {
                s.reason = "key \(signature.keyID.printed) is not trusted"
                report.signatures.append(s)
                continue
            }
            s.signer = entry.name
            s.roles = entry.roles
            if digest == nil { digest = MinisignSigning.prehash(RecordSignatures.canonicalBytes(of: document)) }
            switch MinisignSigning.check(signature, digest: digest!, publicKey: entry.publicKey) {
            case .valid:
                if let revoked = entry.revoked {
                    s.status = "revoked"
                    s.reason = "key \(s.keyID) was revoked on \(revoked.time)" + (revoked.reason.isEmpty ? "" : ": \(revoked.reason)")
                } else if let window = outsideValidity(entry, signature.timestamp) {
                    s.status = "expired"
                    s.reason = window
                } else {
                    s.status = "valid"
                    anyValid = true
                    validRoles.formUnion(entry.roles)
                }
            case .badSignature:
                s.status = "invalid"
                s.reason = "the signature by \(s.keyID) does not match the record"
            case .badTrustedComment:
                s.status = "invalid"
                s.reason = "the trusted comment of the signature by \(s.keyID) was altered"
            case .legacyRefused:
                s.status = "invalid"
                s.reason = "the signature by \(s.keyID) is a legacy Ed signature; records need ED"
            case .keyMismatch:
                s.status = "invalid"
                s.reason = "key id mismatch"
            }
            report.signatures.append(s)
        }

        let missingRoles = policy.requiredRoles.filter { !validRoles.contains($0) }
        if anyValid, missingRoles.isEmpty {
            report.outcome = .valid
        } else if anyValid {
            report.outcome = .untrusted
            report.reason = "no valid signature by a key with role " + missingRoles.joined(separator: ", ")
        } else if signatures.isEmpty {
            report.outcome = .unsigned
            report.reason = "the record is not signed"
        } else {
            for status in ["invalid", "revoked", "expired", "untrusted"] {
                if let s = report.signatures.first(where: { $0.status == status }) {
                    report.outcome = RecordOutcome(rawValue: status)!
                    report.reason = s.reason
                    break
                }
            }
            if report.outcome == .untrusted, report.signatures.allSatisfy({ $0.status == "untrusted" }) {
                report.reason = "no signature by a trusted key (signed by \(report.signatures.map(\.keyID).joined(separator: ", ")))"
            }
        }
        report.passed = report.outcome == .valid || (report.outcome == .unsigned && !policy.requireSignature)

        // The secured field.
        if let value = document.fields["secured"] {
            if case .string(let text) = value, let blob = try? SecuredBlob(parsing: text) {
                report.secured = blob.formatName
                if case .v2(let kid, _, _) = blob { report.securedKeyID = kid.hex }
                if case .v1 = blob, !policy.allowLegacySecured {
                    report.passed = false
                    report.reason = report.reason.map { $0 + "; " } ?? ""
                    report.reason! += "legacy v1 secured blob (unauthenticated; allow with --allow-legacy-secured)"
                }
                if let check = policy.decryptCheck {
                    let ok = check(blob, document.securedContext)
                    report.decrypts = ok
                    if !ok {
                        report.passed = false
                        report.reason = (report.reason.map { $0 + "; " } ?? "") + "the secured blob does not decrypt"
                    }
                }
            } else {
                report.secured = "malformed"
                report.passed = false
                report.reason = (report.reason.map { $0 + "; " } ?? "") + "the secured field is malformed"
            }
        }
        return report
    }

    /// Why `timestamp` is outside the entry's validity window, or nil if it is inside.
    private func outsideValidity(_ entry: TrustStoreFile.Entry, _ timestamp: Int64?) -> String? {
        guard entry.notBefore != nil || entry.notAfter != nil else { return nil }
        guard let timestamp else { return "the signature has no timestamp, and key \(entry.publicKey.keyID.printed) is valid only for a period" }
        if let nb = entry.notBefore, let t = RFC3339.seconds(nb), timestamp < t {
            return "signed at \(RFC3339.format(timestamp)), before key \(entry.publicKey.keyID.printed) became valid (\(nb))"
        }
        if let na = entry.notAfter, let t = RFC3339.seconds(na), timestamp > t {
            return "signed at \(RFC3339.format(timestamp)), after key \(entry.publicKey.keyID.printed) expired (\(na))"
        }
        return nil
    }

    /// Verifies every path on `jobs` threads; `progress` is called with the number done.
    /// Reports come back in the order of `paths`; non-records found by walking are dropped.
    public func verifyAll(_ paths: [(path: String, named: Bool)], jobs: Int,
                          progress: (@Sendable (Int) -> Void)? = nil) -> [RecordReport] {
        let results = Mutex<[RecordReport?]>(Array(repeating: nil, count: paths.count))
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, paths.count))) { _ in
            var local: [(Int, RecordReport?)] = []
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                guard i < paths.count else { break }
                local.append((i, verify(path: paths[i].path, onlyRecords: !paths[i].named)))
                if local.count == 64 {
                    results.withLock { r in for (i, report) in local { r[i] = report } }
                    local.removeAll(keepingCapacity: true)
                }
                let n = done.add(1, ordering: .relaxed).newValue
                if n % 256 == 0 { progress?(n) }
            }
            results.withLock { r in for (i, report) in local { r[i] = report } }
        }
        return results.withLock { $0.compactMap { $0 } }
    }
}
