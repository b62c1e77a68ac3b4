import Foundation
import Testing
@testable import ArticleVault
import VaultCrypto
import VaultFormat

/// The head's commitment to the set of per-object entries (formats.md 8.3.1, 8.3.2): updating it
/// one entry at a time gives what computing it from scratch gives, and each change an attacker
/// with write access to the entries could make — an old entry restored, one dropped, two swapped,
/// one copied under another name, one added — gives another commitment, for the whole set and
/// for the bucket the change is in.
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
        #expect(c.entrySet == VaultFiles.EntryBucketSet.empty)
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
        #expect(c.whole.count == 50)
        // As a head stores it, and back.
        #expect(VaultEntryCommitment(c.entrySet) == c)
        #expect(c.matches(.buckets(c.entrySet)))
        #expect(VaultEntryCommitment(VaultFiles.EntryBucketSet(counts: [1], sums: "00")) == nil)
        #expect(VaultEntryCommitment(VaultFiles.EntryBucketSet(counts: c.counts, sums: String(c.entrySet.sums.dropLast(2)))) == nil)
        #expect(VaultEntryCommitment(VaultFiles.EntryBucketSet(counts: c.counts, sums: c.entrySet.sums.uppercased())) == nil)
        // Each bucket's sum (kept as the head's digits, decoded one bucket at a time), computed
        // here on its own from that bucket's entries.
        for b in 0..<VaultFiles.entryBuckets {
            let mine = current.filter { VaultEntryCommitment.bucket($0.key) == b }
            #expect(Hex.encode(c.sum(b)) == Self.wholeSum(mine, key: k), "bucket \(b)")
            #expect(c.counts[b] == mine.count)
        }
    }

    /// The sum of every term modulo 2^256, computed here on its own: what a head of format 3
    /// stores for the whole set.
    static func wholeSum(_ entries: [String: String], key: SecretBytes) -> String {
        var sum = [Int](repeating: 0, count: 32)
        for (name, digest) in entries {
            let term = BLAKE2b.hash(Array("\(name);\(digest)".utf8), digestSize: 32, key: key)
            var carry = 0
            for i in (0..<32).reversed() {
                let s = sum[i] + Int(term[i]) + carry
                sum[i] = s & 0xff
                carry = s >> 8
            }
        }
        return Hex.encode(sum.map { UInt8($0) })
    }

    @Test func theWholeSetIsTheSumOfTheBucketsAsFormatThreeStoredIt() throws {
        let k = try Self.key()
        var current: [String: String] = [:]
        for i in 0..<300 { current[Self.name(i)] = Self.digest(i, 0) }
        let c = VaultEntryCommitment.of(current, key: k)
        let whole = VaultFiles.EntrySet(count: 300, sum: Self.wholeSum(current, key: k))
        #expect(Hex.encode(c.whole.sum) == whole.sum)
        #expect(c.matches(.whole(whole)))
        #expect(!c.matches(.whole(VaultFiles.EntrySet(count: 299, sum: whole.sum))))
        #expect(!c.matches(.whole(VaultFiles.EntrySet(count: 300, sum: Self.wholeSum([Self.name(1): Self.digest(1, 0)], key: k)))))
        // Every name is in the bucket its first two hex digits spell.
        for name in current.keys {
            #expect(VaultEntryCommitment.bucket(name) == Int(name.prefix(2), radix: 16))
        }
        #expect(c.counts.reduce(0, +) == 300 && c.counts.count == 256)
    }

    @Test func aChangeInOneBucketShowsInThatBucketOnly() throws {
        let k = try Self.key()
        var current: [String: String] = [:]
        for i in 0..<100 { current[Self.name(i)] = Self.digest(i, 1) }
        let committed = VaultEntryCommitment.of(current, key: k).entrySet
        let victim = Self.name(3)
        let bucket = VaultEntryCommitment.bucket(victim)
        for altered in [current.merging([victim: Self.digest(3, 0)]) { $1 },   // an older entry
                        current.filter { $0.key != victim }] {                     // a deleted one
            let c = VaultEntryCommitment.of(altered, key: k)
            #expect(!c.matches(.buckets(committed)))
            #expect(!c.matches(.buckets(committed), bucket: bucket))
            for other in 0..<256 where other != bucket { #expect(c.matches(.buckets(committed), bucket: other)) }
        }
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
        #expect(VaultEntryCommitment.of(traded, key: k).whole.count == committed.whole.count)
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

    /// `K` is HKDF-SHA-256 as formats.md 8.3 defines it, computed here by the `openssl kdf`
    /// command (the agent derives it with the same function, docs/formats.md 9).
    @Test func theKeyIsTheHKDFOfFormatsMdAsOpenSSLComputesIt() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "kdf", "-keylen", "32", "-kdfopt", "digest:SHA256",
                             "-kdfopt", "hexkey:" + Self.namingKey.withUnsafeBytes { Hex.encode(Array($0)) },
                             "-kdfopt", "salt:" + Self.vault, "-kdfopt", "info:avault/vault/v3;entries", "HKDF"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let expected = printed.filter { $0 != ":" && !$0.isWhitespace }.lowercased()
        #expect(expected.count == 64, "\(printed)")
        #expect(try Self.key().withUnsafeBytes { Hex.encode(Array($0)) } == expected)
    }
}
