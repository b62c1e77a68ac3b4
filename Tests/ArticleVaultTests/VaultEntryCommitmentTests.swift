import Testing
@testable import ArticleVault
import VaultCrypto
import VaultFormat

/// The head's commitment to the set of per-object entries (formats.md 8.3): updating it one
/// entry at a time gives what computing it from scratch gives, and each change an attacker with
/// write access to the entries could make — an old entry restored, one dropped, two swapped, one
/// copied under another name, one added — gives another commitment.
@Suite struct VaultEntryCommitmentTests {
    static let namingKey = SecretBytes(copying: [UInt8](repeating: 7, count: 32))
    static let vault = String(repeating: "0f", count: 16)

    static func name(_ i: Int) -> String { Hex.encode(BLAKE2b.hash(Array("object \(i)".utf8), digestSize: 16)) }
    static func digest(_ i: Int, _ write: Int) -> String { Hex.encode(BLAKE2b.hash(Array("entry \(i) \(write)".utf8))) }

    static func key() throws -> SecretBytes { try VaultEntryCommitment.key(namingKey: namingKey, vaultID: vault) }

    @Test func incrementalUpdatesMatchTheSetComputedFromScratch() throws {
        let k = try Self.key()
        var current: [String: String] = [:]
        var c = VaultEntryCommitment()
        #expect(c.entrySet == VaultFiles.EntrySet.empty)
        for i in 0..<50 {
            c.insert(name: Self.name(i), digest: Self.digest(i, 0), key: k)
            current[Self.name(i)] = Self.digest(i, 0)
        }
        // Later writes replace some entries, each in constant time.
        for w in 1...3 {
            for i in stride(from: w, to: 50, by: 7) {
                c.replace(name: Self.name(i), old: current[Self.name(i)], new: Self.digest(i, w), key: k)
                current[Self.name(i)] = Self.digest(i, w)
            }
        }
        #expect(c == VaultEntryCommitment.of(current, key: k))
        #expect(c.count == 50)
        // As a head stores it, and back.
        #expect(VaultEntryCommitment(c.entrySet) == c)
        #expect(VaultEntryCommitment(VaultFiles.EntrySet(count: 1, sum: "00")) == nil)
    }

    @Test func everyAlterationOfTheSetChangesTheCommitment() throws {
        let k = try Self.key()
        var current: [String: String] = [:]
        for i in 0..<20 { current[Self.name(i)] = Self.digest(i, i % 3 == 0 ? 1 : 0) }
        let committed = VaultEntryCommitment.of(current, key: k)

        var replayed = current
        replayed[Self.name(3)] = Self.digest(3, 0)  // an older entry of object 3
        #expect(VaultEntryCommitment.of(replayed, key: k) != committed)

        var dropped = current
        dropped[Self.name(5)] = nil
        #expect(VaultEntryCommitment.of(dropped, key: k) != committed)

        var swapped = current
        (swapped[Self.name(1)], swapped[Self.name(2)]) = (current[Self.name(2)], current[Self.name(1)])
        #expect(VaultEntryCommitment.of(swapped, key: k) != committed)

        var copied = current
        copied[Self.name(4)] = current[Self.name(7)]
        #expect(VaultEntryCommitment.of(copied, key: k) != committed)

        var added = current
        added[Self.name(99)] = Self.digest(99, 0)
        #expect(VaultEntryCommitment.of(added, key: k) != committed)

        // Dropping one entry and adding another keeps the count but not the sum.
        var traded = dropped
        traded[Self.name(98)] = Self.digest(98, 0)
        #expect(VaultEntryCommitment.of(traded, key: k).count == committed.count)
        #expect(VaultEntryCommitment.of(traded, key: k) != committed)
    }

    @Test func theTermsAreKeyedPerVault() throws {
        let k = try Self.key()
        let other = try VaultEntryCommitment.key(namingKey: Self.namingKey, vaultID: String(repeating: "1e", count: 16))
        let set = [Self.name(1): Self.digest(1, 0)]
        #expect(VaultEntryCommitment.of(set, key: k) != VaultEntryCommitment.of(set, key: other))
        // Not the naming key itself, so not what an object's name is computed with.
        #expect(!(k == Self.namingKey))
        // Removing what was added gives the empty set back (the subtraction borrows across bytes).
        var c = VaultEntryCommitment.of(set, key: k)
        c.remove(name: Self.name(1), digest: Self.digest(1, 0), key: k)
        #expect(c == VaultEntryCommitment())
    }
}
