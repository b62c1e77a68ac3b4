import VaultCrypto
import VaultFormat

/// The commitment of an index head (`docs/formats.md` 8.3.1, 8.3.2) to the set of per-object
/// entries, for each of 256 buckets (an entry's bucket is its name's first two hex digits):
/// their number, and the sum modulo 2^256 of one keyed hash per entry,
/// `e(name, digest) = BLAKE2b-256(UTF8(name ‖ ";" ‖ digest), key = K)`, where `digest` is the
/// hex BLAKE2b-256 of the entry file and `K` is derived from the vault's naming key. A head of
/// format 4 stores every bucket's, so a reader of one object reads and checks its bucket only;
/// one of format 3 stored the whole set's (the sum of the buckets').
///
/// A sum (an incremental multiset hash) lets a write that replaces one entry update the head in
/// constant time — subtract the old entry's term, add the new one's — without reading the others.
/// The terms are keyed: without `K` no one can compute them, so no one can search for a
/// different set with the same sum (the generalised-birthday attack on unkeyed sums needs the
/// terms); and the sum itself is only ever stored inside the sealed head.
struct VaultEntryCommitment: Equatable {
    /// Entries per bucket (``VaultFiles/entryBuckets`` of them; an entry's bucket is its name's
    /// first two hex digits).
    private(set) var counts: [Int]
    /// Each bucket's sum, 32 bytes big-endian, as the head stores them: 64 lowercase hex digits
    /// per bucket in bucket order. A reader compares its bucket's digits, and a write decodes
    /// only the bucket it changes: decoding all 256 was 0.6M instructions of a `get`.
    private var digits: [UInt8]

    /// The empty set.
    init() {
        counts = [Int](repeating: 0, count: VaultFiles.entryBuckets)
        digits = [UInt8](repeating: UInt8(ascii: "0"), count: 64 * VaultFiles.entryBuckets)
    }

    /// As a head of format 4 stores it; nil when its sums are not 64 lowercase hex digits per
    /// bucket.
    init?(_ set: VaultFiles.EntryBucketSet) {
        guard set.counts.count == VaultFiles.entryBuckets, VaultFiles.isLowerHex(set.sums, count: 64 * VaultFiles.entryBuckets) else { return nil }
        counts = set.counts
        digits = Array(set.sums.utf8)
    }

    /// As a head of format 4 stores it.
    var entrySet: VaultFiles.EntryBucketSet { VaultFiles.EntryBucketSet(counts: counts, sums: String(decoding: digits, as: UTF8.self)) }

    /// The sum of `bucket`, 32 bytes.
    func sum(_ bucket: Int) -> [UInt8] {
        // Lowercase hex by construction (checked when read, written by `setSum`).
        guard let bytes = try? Hex.decode(utf8: Array(digits[(64 * bucket)..<(64 * bucket + 64)])) else {
            preconditionFailure("VaultEntryCommitment holds hex digits only")
        }
        return bytes
    }

    private mutating func setSum(_ bucket: Int, _ sum: [UInt8]) {
        digits.replaceSubrange((64 * bucket)..<(64 * bucket + 64), with: Hex.encode(sum).utf8)
    }

    /// The commitment of format 3 to the whole set: the number of entries and the sum of every
    /// bucket's sum (the sum of every term) modulo 2^256.
    var whole: (count: Int, sum: [UInt8]) {
        var total = [UInt8](repeating: 0, count: 32)
        for b in 0..<VaultFiles.entryBuckets { Self.add(&total, sum(b)) }
        return (counts.reduce(0, +), total)
    }

    /// Whether this is the commitment a head stores, for every bucket or (format 4 only) for
    /// `bucket` alone: the same counts, and the same sums compared in constant time (like any
    /// other authenticator).
    /// `decoded`: the head's commitment of format 4 as ``init(_:)`` reads it, when the caller
    /// already has it (its sums are 16 KiB of hex).
    func matches(_ commitment: VaultFiles.EntryCommitment, bucket: Int? = nil, decoded: VaultEntryCommitment? = nil) -> Bool {
        switch commitment {
        case .whole(let set):
            guard let stored = try? Hex.decode(set.sum), stored.count == 32 else { return false }
            let (count, sum) = whole
            return ConstantTime.equals(sum, stored) && count == set.count
        case .buckets(let set):
            guard let stored = decoded ?? VaultEntryCommitment(set) else { return false }
            guard let bucket else { return ConstantTime.equals(digits, stored.digits) && counts == stored.counts }
            return sameBucket(bucket, as: stored)
        }
    }

    /// Whether `bucket` holds the same in both: its count, and its sum compared in constant time
    /// (as its digits: lowercase hex is one spelling per sum).
    func sameBucket(_ bucket: Int, as other: VaultEntryCommitment) -> Bool {
        let range = (64 * bucket)..<(64 * bucket + 64)
        return ConstantTime.equals(digits[range], other.digits[range]) && counts[bucket] == other.counts[bucket]
    }

    /// `K`: HKDF-SHA-256 of the naming key, salted with the vault id, for this use only. Not a
    /// keyed BLAKE2b of the naming key: object names are that, and an ID chosen as the right
    /// string would publish half of `K` as a file name.
    static func key(namingKey: SecretBytes, vaultID: String) throws(AvaultError) -> SecretBytes {
        do {
            return try HKDF.sha256(ikm: namingKey, salt: Array(vaultID.utf8), info: Array("avault/vault/v3;entries".utf8), length: 32)
        } catch { throw .crypto(error) }
    }

    /// The term of one entry.
    static func term(name: String, digest: String, key: SecretBytes) -> [UInt8] {
        BLAKE2b.hash(Array("\(name);\(digest)".utf8), digestSize: 32, key: key)
    }

    /// Adds an entry (a name that is not in the set yet, or the new entry of one just removed).
    mutating func insert(name: String, digest: String, key: SecretBytes) {
        let b = Self.bucket(name)
        counts[b] += 1
        var s = sum(b)
        Self.add(&s, Self.term(name: name, digest: digest, key: key))
        setSum(b, s)
    }

    /// Removes an entry that is in the set.
    mutating func remove(name: String, digest: String, key: SecretBytes) {
        let b = Self.bucket(name)
        counts[b] -= 1
        var s = sum(b)
        Self.subtract(&s, Self.term(name: name, digest: digest, key: key))
        setSum(b, s)
    }

    /// Replaces the entry of `name` (digest `old`, or none) with the one of digest `new`.
    mutating func replace(name: String, old: String?, new: String, key: SecretBytes) {
        if let old { remove(name: name, digest: old, key: key) }
        insert(name: name, digest: new, key: key)
    }

    /// The commitment to `entries` (name → digest), computed from scratch.
    static func of(_ entries: [String: String], key: SecretBytes) -> VaultEntryCommitment {
        var c = VaultEntryCommitment()
        for (name, digest) in entries { c.insert(name: name, digest: digest, key: key) }
        return c
    }

    /// The bucket of an entry's name (names are checked as 32 hex digits before they get here).
    static func bucket(_ name: String) -> Int { VaultFiles.entryBucket(ofName: name) ?? 0 }

    /// `a += b` modulo 2^256, big-endian, 32 bytes each.
    private static func add(_ a: inout [UInt8], _ b: [UInt8]) {
        var carry = 0
        for i in stride(from: 31, through: 0, by: -1) {
            let s = Int(a[i]) + Int(b[i]) + carry
            a[i] = UInt8(truncatingIfNeeded: s)
            carry = s >> 8
        }
    }

    /// `a -= b` modulo 2^256, big-endian, 32 bytes each.
    private static func subtract(_ a: inout [UInt8], _ b: [UInt8]) {
        var borrow = 0
        for i in stride(from: 31, through: 0, by: -1) {
            var d = Int(a[i]) - Int(b[i]) - borrow
            borrow = d < 0 ? 1 : 0
            if d < 0 { d += 256 }
            a[i] = UInt8(d)
        }
    }
}
