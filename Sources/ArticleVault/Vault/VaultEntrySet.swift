import VaultCrypto
import VaultFormat

/// The commitment of an index head (format 3, `docs/formats.md` 8.3) to the set of per-object
/// entries: their number, and the sum modulo 2^256 of one keyed hash per entry,
/// `e(name, digest) = BLAKE2b-256(UTF8(name ‖ ";" ‖ digest), key = K)`, where `digest` is the
/// hex BLAKE2b-256 of the entry file and `K` is derived from the vault's naming key.
///
/// A sum (an incremental multiset hash) lets a write that replaces one entry update the head in
/// constant time — subtract the old entry's term, add the new one's — without reading the others.
/// The terms are keyed: without `K` no one can compute them, so no one can search for a
/// different set with the same sum (the generalised-birthday attack on unkeyed sums needs the
/// terms); and the sum itself is only ever stored inside the sealed head.
struct VaultEntryCommitment: Equatable {
    private(set) var count: Int
    /// 32 bytes, big-endian.
    private(set) var sum: [UInt8]

    /// The empty set.
    init() {
        count = 0
        sum = [UInt8](repeating: 0, count: 32)
    }

    /// As a head stores it; nil when its sum is not 64 hex digits.
    init?(_ set: VaultFiles.EntrySet) {
        guard let bytes = try? Hex.decode(set.sum), bytes.count == 32 else { return nil }
        count = set.count
        sum = bytes
    }

    /// As a head stores it.
    var entrySet: VaultFiles.EntrySet { VaultFiles.EntrySet(count: count, sum: Hex.encode(sum)) }

    /// Whether this is the commitment a head stores: the same count, and the same sum compared
    /// in constant time (like any other authenticator).
    func matches(_ set: VaultFiles.EntrySet) -> Bool {
        guard let stored = VaultEntryCommitment(set) else { return false }
        return ConstantTime.equals(sum, stored.sum) && count == stored.count
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
        count += 1
        Self.add(&sum, Self.term(name: name, digest: digest, key: key))
    }

    /// Removes an entry that is in the set.
    mutating func remove(name: String, digest: String, key: SecretBytes) {
        count -= 1
        Self.subtract(&sum, Self.term(name: name, digest: digest, key: key))
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

    private static func add(_ a: inout [UInt8], _ b: [UInt8]) {
        var carry = 0
        for i in stride(from: 31, through: 0, by: -1) {
            let s = Int(a[i]) + Int(b[i]) + carry
            a[i] = UInt8(truncatingIfNeeded: s)
            carry = s >> 8
        }
    }

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
