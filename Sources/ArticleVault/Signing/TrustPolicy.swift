#if canImport(Glibc)
import Glibc // memcmp
#endif
public import VaultFormat

/// Whose signatures count.
public enum TrustSource: Sendable {
    /// Keys in a trust store, with roles, validity windows and revocation.
    case store(TrustStoreFile)
    /// Exactly these public keys (`--pubkey`, repeatable), with no roles or validity window.
    case publicKeys([Minisign.PublicKey])
}

/// One signature's verdict.
public enum SignatureStatus: String, Sendable, CaseIterable {
    /// Made by a trusted, unrevoked key, within its validity window, over this content.
    case valid
    /// By a trusted key, but it does not match, its trusted comment was altered, it is not a
    /// signature of this kind (no `canon:`), its timestamp is no time in the years 0000 to
    /// 9999, or it claims to come from the future.
    case invalid
    /// By a key that is not trusted.
    case untrusted
    /// By a revoked key (whenever it was made).
    case revoked
    /// Made outside the key's validity window.
    case expired
}

/// What one signature says, and who made it.
public struct SignatureReport: Sendable {
    /// The key id, as minisign prints it.
    public var keyID: String
    public var status: SignatureStatus
    /// The trust store's name for the key; nil for `--pubkey` keys and untrusted ones.
    public var signer: String?
    public var roles: [String]
    /// From the trusted comment's `timestamp:` field; nil when it has none, or one that is
    /// not a time in the years 0000 to 9999 (``RFC3339/representable``).
    public var timestamp: Int64?
    public var reason: String?
}

/// The one trust policy for embedded record signatures and detached `.minisig` signatures:
/// who is trusted, revocation, validity windows, required roles, and the domain and time
/// checks on the trusted comment.
public struct TrustPolicy: Sendable {
    /// A trusted key with what the store says about it.
    struct Trusted: Sendable {
        var publicKey: Minisign.PublicKey
        var name: String?
        var roles: [String]
        var notBefore: Timestamp?
        var notAfter: Timestamp?
        var revoked: (time: Timestamp, reason: String)?
        /// The key id the store revoked this public key under, when that is another.
        var revokedAs: Minisign.KeyID?
        /// The validity windows the store gives this public key under other ids: each applies,
        /// as a revocation does (no signature covers a key id).
        var otherWindows: [(keyID: Minisign.KeyID, notBefore: Timestamp?, notAfter: Timestamp?)] = []
    }

    /// What a signature signs, which decides what its trusted comment must say.
    public enum Domain: Sendable {
        /// The canonical bytes of a record: the comment must say so, as
        /// ``isRecordComment(_:canon:)`` reads it.
        case record
        /// The bytes of a file: the comment must have no `canon:` field anywhere.
        case file
        /// Any bytes (`verify --detached`, as `minisign -V`): no requirement on the comment.
        case any
    }

    /// Where the file a signature is checked for lies in a site, for the publishing gate
    /// (`verify`, `audit` of a site): a signature whose trusted comment names a place
    /// (``placeFieldPrefix``) counts only there, so that a signed post moved to another
    /// directory or name (which Jekyll turns into its URL, categories, date and title), or a
    /// signed file copied over another signed position, does not pass.
    public struct Place: Sendable {
        /// The file's path from the walked site's top (for a file named on the command line,
        /// its path as named, ``RecordSigner/sitePath(named:)``); nil when it has none
        /// (standard input).
        public var path: String?
        /// Whether a signature that names no place does not count (`--require-place`).
        public var required: Bool

        public init(path: String?, required: Bool) {
            self.path = path
            self.required = required
        }
    }

    /// The field of a trusted comment that names the path, from the site's top, of the file a
    /// signature is for (`avault sign --site DIR`; ``RecordSigner/placeField(_:)``).
    public static let placeFieldPrefix = "place:"

    /// Why `signature` (by key `id`, authenticated) does not count for a file at `place`; nil
    /// when it does. The place is the comment's last field (where avault writes it, and
    /// `minisign -t "place:PATH"` puts it): a `place:` field anywhere else is refused, as is
    /// more than one (stock minisign writes a file's name as it is after `file:`, so a name
    /// with a TAB in it could put one before `hashed`); none fails only when the place is
    /// required; a place that cannot be compared (standard input) fails only then too. Paths
    /// are compared by their bytes (canonically equivalent text names another file, and
    /// Jekyll publishes it under another URL).
    static func placeProblem(_ signature: Minisign.Signature, id: String, place: Place) -> String? {
        // By bytes (a field that starts with `place:` and a combining mark is one too), in one
        // pass over the comment without copying it (this is on every signature's path).
        var comment = signature.trustedComment
        let (count, signed, last) = comment.withUTF8 { c -> (Int, [UInt8]?, Bool) in
            var count = 0, signed: [UInt8]?, last = false, start = 0
            while true {
                var end = start
                while end < c.count && c[end] != 0x09 { end += 1 }
                // (A field not starting with `p` is passed over without comparing it.)
                last = end > start && c[start] == UInt8(ascii: "p")
                    && UnsafeBufferPointer(rebasing: c[start..<end]).starts(with: placeFieldPrefix.utf8)
                if last {
                    count += 1
                    signed = Array(c[(start + placeFieldPrefix.utf8.count)..<end])
                }
                guard end < c.count else { break }
                start = end + 1
            }
            return (count, signed, last)
        }
        guard count <= 1 else { return "the signature by \(id) names \(count) places (\(placeFieldPrefix) fields)" }
        if count == 1, !last {
            return "the signature by \(id) names a place in a field that is not the last of its trusted comment"
        }
        guard let signed else {
            return place.required ? "the signature by \(id) names no place in the site (sign with --site, or minisign -t \"\(placeFieldPrefix)PATH\")" : nil
        }
        guard let path = place.path else {
            return place.required ? "standard input has no place in a site to check the signature by \(id) against" : nil
        }
        let here = RecordSigner.commentText(path)
        guard !signed.elementsEqual(here.utf8) else { return nil }
        return "the signature by \(id) was made for \(String(decoding: signed, as: UTF8.self)), not for \(here)"
    }

    /// How far in the future a signature's timestamp may lie (clock skew), in seconds.
    public static let futureTolerance: Int64 = 300

    /// The `canon:` field a record signature's trusted comment carries.
    public static let recordCanonField = "canon:" + RecordSignatures.canonicalName

    /// Whether `signature`'s trusted comment says it signs a record (formats.md §7.3): its
    /// first field is `timestamp:…`, its second exactly ``recordCanonField``, and no other field
    /// starts with `canon:`. A `canon:` field anywhere else does not count: minisign's own
    /// comment is `timestamp:…`, `file:NAME`, `hashed`, with NAME as it is, TABs included, so a
    /// file's name can put fields after `file:` but never in second place. Compared by bytes.
    /// `canon`: the comment's `canon:` fields, when the caller has them.
    public static func isRecordComment(_ signature: Minisign.Signature, canon: [String]? = nil) -> Bool {
        isRecordComment(signature, canonCount: canon?.count ?? signature.trustedCommentFieldCount(withPrefix: "canon:"))
    }

    /// ``isRecordComment(_:canon:)``, given how many `canon:` fields the comment has.
    static func isRecordComment(_ signature: Minisign.Signature, canonCount: Int) -> Bool {
        guard canonCount == 1 else { return false }
        // The first two fields, read in place by their bytes (this is on every record's path).
        var comment = signature.trustedComment, canon = recordCanonField
        return comment.withUTF8 { c in
            canon.withUTF8 { canon in
                let timestamp: StaticString = "timestamp:"
                let t = timestamp.utf8CodeUnitCount
                guard let tab = c.firstIndex(of: 0x09), tab >= t, memcmp(c.baseAddress!, timestamp.utf8Start, t) == 0 else { return false }
                var end = tab + 1
                while end < c.count && c[end] != 0x09 { end += 1 }
                return end - (tab + 1) == canon.count && memcmp(c.baseAddress! + tab + 1, canon.baseAddress!, canon.count) == 0
            }
        }
    }

    private var trusted: [Minisign.KeyID: Trusted]
    /// The public keys the store revoked, under any id: the key id is covered by no signature,
    /// so a revocation follows the key (the first revoked entry of each key says when and why).
    private var revokedKeys: [[UInt8]: (keyID: Minisign.KeyID, time: Timestamp, reason: String)] = [:]
    /// Roles that valid signatures must cover between them (each by at least one).
    public let requiredRoles: [String]
    /// The current time (Unix seconds), for timestamps from the future.
    public let now: Int64

    /// A policy trusting `source`.
    public init(source: TrustSource, requiredRoles: [String] = [], now: Int64) {
        var trusted: [Minisign.KeyID: Trusted] = [:]
        switch source {
        case .store(let store):
            for e in store.entries {
                if let r = e.revoked, revokedKeys[e.publicKey.key] == nil { revokedKeys[e.publicKey.key] = (e.publicKey.keyID, r.time, r.reason) }
            }
            for e in store.entries where trusted[e.publicKey.keyID] == nil {
                var entry = Trusted(publicKey: e.publicKey, name: e.name, roles: e.roles, notBefore: e.notBefore,
                                    notAfter: e.notAfter, revoked: e.revoked)
                if entry.revoked == nil, let r = revokedKeys[e.publicKey.key] {
                    entry.revoked = (r.time, r.reason)
                    entry.revokedAs = r.keyID
                }
                for o in store.entries where o.publicKey.key == e.publicKey.key && o.publicKey.keyID != e.publicKey.keyID
                    && (o.notBefore != nil || o.notAfter != nil) {
                    entry.otherWindows.append((o.publicKey.keyID, o.notBefore, o.notAfter))
                }
                trusted[e.publicKey.keyID] = entry
            }
        case .publicKeys(let keys):
            for k in keys where trusted[k.keyID] == nil {
                trusted[k.keyID] = Trusted(publicKey: k, name: nil, roles: [])
            }
        }
        self.trusted = trusted
        self.requiredRoles = requiredRoles
        self.now = now
    }

    /// This policy, also trusting `key` (with no name and no roles) unless it already says
    /// something of it (a store's entry, revoked or not, stands; a public key the store
    /// revoked under another id is revoked).
    public func trusting(_ key: Minisign.PublicKey) -> TrustPolicy {
        var copy = self
        if copy.trusted[key.keyID] == nil {
            var entry = Trusted(publicKey: key, name: nil, roles: [])
            if let r = revokedKeys[key.key] { entry.revoked = (r.time, r.reason); entry.revokedAs = r.keyID }
            copy.trusted[key.keyID] = entry
        }
        return copy
    }

    /// The ids of the trusted keys, sorted.
    public var trustedKeyIDs: [String] { trusted.keys.map(\.printed).sorted() }

    /// The trusted public key with this id, if any.
    public func publicKey(for id: Minisign.KeyID) -> Minisign.PublicKey? { entry(for: id)?.publicKey }

    /// What the store says of the key with this id: a dictionary lookup, or with a handful of
    /// trusted keys, a scan of their ids (eight bytes each, compared without hashing them).
    private func entry(for id: Minisign.KeyID) -> Trusted? {
        guard trusted.count <= 8 else { return trusted[id] }
        for (key, entry) in trusted where key == id { return entry }
        return nil
    }

    /// Judges one signature. `check` runs the cryptography against the trusted key (it is not
    /// called for an untrusted key id).
    /// `place`: where the file lies in a site, for the publishing gate (``Place``); nil
    /// elsewhere, where no place is checked.
    public func judge(_ signature: Minisign.Signature, domain: Domain, place: Place? = nil,
                      check: (Minisign.PublicKey) -> MinisignSigning.Check) -> SignatureReport {
        let id = signature.keyID.printed
        // A time RFC 3339 cannot write is no time: never reported, and (once authenticated)
        // the signature is invalid.
        let timestamp = signature.representableTimestamp
        var s = SignatureReport(keyID: id, status: .untrusted, roles: [], timestamp: timestamp)
        guard let entry = entry(for: signature.keyID) else {
            s.reason = "key \(id) is not trusted"
            return s
        }
        s.signer = entry.name
        s.roles = entry.roles
        s.status = .invalid
        switch check(entry.publicKey) {
        case .valid:
            break
        case .badSignature:
            s.reason = "the signature by \(id) does not match the \(domain == .record ? "record" : "file")"
            return s
        case .badTrustedComment:
            s.reason = "the trusted comment of the signature by \(id) was altered"
            return s
        case .legacyRefused:
            s.reason = "the signature by \(id) is a legacy Ed signature (not prehashed)"
            return s
        case .keyMismatch:
            s.reason = "key id mismatch"
            return s
        }
        // The trusted comment is authenticated from here on.
        let canonCount = signature.trustedCommentFieldCount(withPrefix: "canon:")
        switch domain {
        case .record where !Self.isRecordComment(signature, canonCount: canonCount):
            s.reason = "the signature by \(id) is not a record signature (its trusted comment must start with timestamp:… "
                + "then \(Self.recordCanonField), and have no other canon: field)"
            return s
        case .file where canonCount > 0:
            let canon = signature.trustedCommentFields(withPrefix: "canon:")
            s.reason = "the signature by \(id) is a record signature (\(canon[0])), not a signature of this file's bytes"
            return s
        default:
            break
        }
        if let place, let why = Self.placeProblem(signature, id: id, place: place) {
            s.reason = why
            return s
        }
        // (``Minisign/Signature/hasUnreadableTimestamp``, with the timestamp read above.)
        if timestamp == nil && signature.hasTimestampField {
            s.reason = "the signature by \(id) has a timestamp that is not a time in the years 0000 to 9999"
            return s
        }
        if let t = timestamp, t > now + Self.futureTolerance {
            s.reason = "the signature by \(id) claims a time in the future (\(RFC3339.format(t)))"
            return s
        }
        if let revoked = entry.revoked {
            s.status = .revoked
            s.reason = "key \(id) was revoked on \(revoked.time)" + (entry.revokedAs.map { " (its public key, as key \($0.printed))" } ?? "")
                + (revoked.reason.isEmpty ? "" : ": \(revoked.reason)")
            return s
        }
        // Its own window, then those the store gives its public key under other ids.
        // (No array of them: this is on every signature's path.)
        if let reason = Self.outsideWindow(timestamp, id: id, notBefore: entry.notBefore, notAfter: entry.notAfter) {
            s.status = .expired
            s.reason = reason
            return s
        }
        for w in entry.otherWindows {
            if let reason = Self.outsideWindow(timestamp, id: id, as: w.keyID, notBefore: w.notBefore, notAfter: w.notAfter) {
                s.status = .expired
                s.reason = reason
                return s
            }
        }
        s.status = .valid
        s.reason = nil
        return s
    }

    /// Why a signature made at `timestamp` by key `id` falls outside the validity window
    /// `notBefore`…`notAfter` (which the store gives its public key under the key id `other`,
    /// when that is another): nil when it does not, or there is no window.
    static func outsideWindow(_ timestamp: Int64?, id: String, as other: Minisign.KeyID? = nil, notBefore: Timestamp?, notAfter: Timestamp?) -> String? {
        guard notBefore != nil || notAfter != nil else { return nil }
        let named = "key \(id)" + (other.map { " (its public key, as key \($0.printed))" } ?? "")
        guard let t = timestamp else { return "the signature has no timestamp, and \(named) is valid only for a period" }
        if let nb = notBefore, t < nb.seconds { return "signed at \(RFC3339.format(t)), before \(named) became valid (\(nb.text))" }
        if let na = notAfter, t > na.seconds { return "signed at \(RFC3339.format(t)), after \(named) expired (\(na.text))" }
        return nil
    }

    /// Judges a record's embedded signatures (of the domain ``Domain/record``) over its
    /// canonical bytes, whose BLAKE2b-512 `prehash` gives: called at most once, and only for a
    /// signature by a trusted key.
    public func judge(recordSignatures signatures: [Minisign.Signature], place: Place? = nil, prehash: () -> [UInt8]) -> [SignatureReport] {
        var digest: [UInt8]?
        return signatures.map { signature in
            judge(signature, domain: .record, place: place) { key in
                if digest == nil { digest = prehash() }
                return MinisignSigning.check(signature, digest: digest!, publicKey: key)
            }
        }
    }

    /// The verdict `avault verify` gives the record `document` by its embedded signatures:
    /// ``outcome(of:)`` of them judged, or `malformed` when its `signatures` field cannot be
    /// read; nil when it carries none.
    public func verdict(on document: RecordDocument) -> (outcome: RecordOutcome, reason: String?)? {
        let signatures: [Minisign.Signature]
        do { signatures = try RecordSignatures.entries(in: document.fields) } catch {
            var reason = "\(error)"
            if case .invalidRecord(let why, _) = error { reason = why }
            return (.malformed, reason)
        }
        return outcome(of: judge(recordSignatures: signatures) { MinisignSigning.prehash(canonicalBytesOf: document) })
    }

    /// The verdict on a set of signatures: valid when valid signatures exist and cover the
    /// required roles; otherwise the first of invalid, revoked, expired, untrusted found.
    /// `nil` when there are no signatures.
    public func outcome(of signatures: [SignatureReport]) -> (outcome: RecordOutcome, reason: String?)? {
        guard !signatures.isEmpty else { return nil }
        if signatures.contains(where: { $0.status == .valid }) {
            if requiredRoles.isEmpty { return (.valid, nil) }
            let covered = Set(signatures.filter { $0.status == .valid }.flatMap(\.roles))
            let missing = requiredRoles.filter { !covered.contains($0) }
            if missing.isEmpty { return (.valid, nil) }
            return (.untrusted, "no valid signature by a key with role " + missing.joined(separator: ", "))
        }
        for status in [SignatureStatus.invalid, .revoked, .expired] {
            if let s = signatures.first(where: { $0.status == status }) { return (RecordOutcome(status), s.reason) }
        }
        return (.untrusted, "no signature by a trusted key (signed by \(signatures.map(\.keyID).joined(separator: ", ")))")
    }
}

extension RecordOutcome {
    /// The record outcome a signature status leads to.
    init(_ status: SignatureStatus) {
        switch status {
        case .valid: self = .valid
        case .invalid: self = .invalid
        case .untrusted: self = .untrusted
        case .revoked: self = .revoked
        case .expired: self = .expired
        }
    }
}
