// TEMPORARY STUB — replaced by the keyring branch (trust2-keyring) at merge.
//
// The real implementation keeps these heads inside the authenticated keyring (covered by its
// MAC). This stub only gives the vault branch the same API to code and test against: a plain
// `vault-heads` file in the keyring directory (one `<vault id> <seq> <hash>` line per vault),
// replaced atomically under the keyring's lock, with no MAC. Nothing outside this file may
// depend on that file's format. Delete this file when merging trust2-keyring.
#if canImport(Glibc)
import Glibc
#endif
import VaultFormat

extension Keyring {
    /// A vault's log head as a keyring remembers it.
    public struct VaultHead: Equatable, Sendable {
        public var seq: UInt64
        /// 64 lowercase hex digits.
        public var hash: String
        public init(seq: UInt64, hash: String) { self.seq = seq; self.hash = hash }
    }

    /// The highest log head this keyring has recorded for `vaultID` (32 lowercase hex), nil if none.
    public func lastSeenHead(vaultID: String) throws(AvaultError) -> VaultHead? {
        guard FileSystem.exists(directory) else { return nil }
        let dir = try SecureDirectory(path: directory, requirePrivate: true)
        return try Self.stubHeads(dir)[vaultID]
    }

    /// Records `head` for `vaultID` when its seq is higher than the recorded one (durable,
    /// under the keyring's lock). Lower or equal: no-op.
    public func noteHead(_ head: VaultHead, vaultID: String) throws(AvaultError) {
        guard VaultFiles.isLowerHex(vaultID, count: 32), VaultFiles.isLowerHex(head.hash, count: 64) else {
            throw .refused("not a vault id and log head: \(vaultID) \(head.seq)", hint: nil)
        }
        let dir = try SecureDirectory.create(path: directory, mode: 0o700, requirePrivate: true)
        let lock = try dir.lock(".lock")
        defer { withExtendedLifetime(lock) {} }
        var heads = try Self.stubHeads(dir)
        if let known = heads[vaultID], known.seq >= head.seq { return }
        heads[vaultID] = head
        let text = heads.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.seq) \($0.value.hash)\n" }.joined()
        try dir.writeAtomically("vault-heads", Array(text.utf8), mode: 0o600)
    }

    private static func stubHeads(_ dir: SecureDirectory) throws(AvaultError) -> [String: VaultHead] {
        guard let bytes = try dir.read("vault-heads", secret: true) else { return [:] }
        var heads: [String: VaultHead] = [:]
        for line in TextLines.split(String(decoding: bytes, as: UTF8.self), stripCR: false) where !line.isEmpty {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, VaultFiles.isLowerHex(parts[0], count: 32), let seq = UInt64(parts[1]),
                  seq <= UInt64(VaultFiles.maxInteger), VaultFiles.isLowerHex(parts[2], count: 64) else {
                throw .malformed(.invalidKeyring("vault-heads: malformed line", line: 1), file: dir.pathOf("vault-heads"))
            }
            heads[String(parts[0])] = VaultHead(seq: seq, hash: String(parts[2]))
        }
        return heads
    }
}
