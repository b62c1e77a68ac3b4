import Foundation
import Testing
import VaultCrypto
import VaultFormat

/// Index formats 3 and 4 (a head and per-object entries, formats.md 8.3.1, 8.3.2): strict,
/// round-tripping, every number range-checked.
@Suite struct VaultEntriesFormatTests {
    static let hash = String(repeating: "ab", count: 32)
    static let name = String(repeating: "c", count: 32)
    static let vault = String(repeating: "0f", count: 16)
    static let kid = KeyID(hex: "0011223344556677")!

    static var head: VaultFiles.IndexHead {
        var counts = [Int](repeating: 0, count: 256)
        counts[0x9e] = 2
        counts[0xff] = 1
        return VaultFiles.IndexHead(vaultID: vault, keyName: "drafts", namingKid: kid, log: VaultFiles.Head(seq: 12, hash: hash), signedHead: nil,
                                    entries: .buckets(VaultFiles.EntryBucketSet(counts: counts, sums: String(repeating: "9e", count: 32 * 256))))
    }

    static var headV3: VaultFiles.IndexHead {
        var h = head
        h.entries = .whole(VaultFiles.EntrySet(count: 3, sum: String(repeating: "9e", count: 32)))
        return h
    }

    static var entry: VaultFiles.Entry {
        VaultFiles.Entry(vaultID: vault, seq: 12, name: name, object: VaultFiles.Object(id: "https://example.org/a", name: name, deleted: "2026-01-03T00:00:00Z", versions: [
            VaultFiles.Version(number: 5, size: 0, created: "2026-01-01T00:00:00Z", contentType: nil, kid: kid, digest: hash),
            VaultFiles.Version(number: 7, size: 70_000, created: "2026-01-02T00:00:00Z", contentType: "text/markdown", kid: kid, digest: hash),
        ]), used: 9)
    }

    @Test func theHeadAndAnEntryRoundTrip() throws {
        let h = VaultFiles.headJSON(Self.head)
        #expect(try VaultFiles.parseHeadJSON(h) == Self.head)
        #expect(try VaultFiles.headJSON(VaultFiles.parseHeadJSON(h)) == h)
        var signed = Self.head
        signed.signedHead = VaultFiles.Head(seq: 10, hash: Self.hash)
        #expect(try VaultFiles.parseHeadJSON(VaultFiles.headJSON(signed)) == signed)
        // Format 3, still read; each format only where the file says it.
        let h3 = VaultFiles.headJSON(Self.headV3)
        #expect(try VaultFiles.parseHeadJSON(h3, format: 3) == Self.headV3)
        #expect(try VaultFiles.headJSON(VaultFiles.parseHeadJSON(h3, format: 3)) == h3)
        #expect(throws: FormatError.self) { try VaultFiles.parseHeadJSON(h3) }
        #expect(throws: FormatError.self) { try VaultFiles.parseHeadJSON(h, format: 3) }
        let e = VaultFiles.entryJSON(Self.entry)
        #expect(try VaultFiles.parseEntryJSON(e) == Self.entry)
        #expect(try VaultFiles.entryJSON(VaultFiles.parseEntryJSON(e)) == e)
        var purged = Self.entry
        purged.object = nil
        #expect(try VaultFiles.parseEntryJSON(VaultFiles.entryJSON(purged)) == purged)
    }

    static func with(_ json: [UInt8], _ key: String, _ value: String) -> [UInt8] {
        let text = String(decoding: json, as: UTF8.self)
        let range = text.range(of: "\"\(key)\":[^,}\\]]*", options: .regularExpression)!
        return Array(text.replacingCharacters(in: range, with: "\"\(key)\":\(value)").utf8)
    }

    @Test(arguments: [("format", "2"), ("format", "4"), ("count", "-1"), ("count", "1e300"), ("count", "1.5"), ("sum", "\"00\""),
                      ("sum", "\"\(String(repeating: "AB", count: 32))\""), ("seq", "0"), ("hash", "\"ab\""), ("vault", "\"x\""),
                      ("namingKid", "\"0011\""), ("entries", "null")])
    func malformedHeadsOfFormatThreeAreErrors(_ key: String, _ value: String) {
        #expect(throws: FormatError.self) { try VaultFiles.parseHeadJSON(Self.with(VaultFiles.headJSON(Self.headV3), key, value), format: 3) }
    }

    @Test(arguments: [("format", "3"), ("format", "5"), ("sums", "\"00\""), ("sums", "\"\(String(repeating: "AB", count: 32 * 256))\""),
                      ("sums", "\"\(String(repeating: "ab", count: 32 * 256 + 1))\""), ("counts", "[]"), ("counts", "[0]"),
                      ("counts", "[\(Array(repeating: "0", count: 255).joined(separator: ",")),-1]"),
                      ("counts", "[\(Array(repeating: "0", count: 255).joined(separator: ",")),1.5]"),
                      ("counts", "[\(Array(repeating: "0", count: 257).joined(separator: ","))]"), ("counts", "null"),
                      ("seq", "0"), ("hash", "\"ab\""), ("entries", "null")])
    func malformedHeadsAreErrors(_ key: String, _ value: String) {
        let json = VaultFiles.headJSON(Self.head)
        let text = String(decoding: json, as: UTF8.self)
        // The counts array holds commas: replaced whole.
        let altered = key == "counts"
            ? Array(text.replacingCharacters(in: text.range(of: "\"counts\":\\[[^\\]]*\\]", options: .regularExpression)!, with: "\"counts\":\(value)").utf8)
            : Self.with(json, key, value)
        #expect(throws: FormatError.self) { try VaultFiles.parseHeadJSON(altered) }
    }

    @Test(arguments: [("format", "2"), ("seq", "0"), ("seq", "9007199254740992"), ("seq", "\"12\""), ("used", "7"), ("used", "0"),
                      ("used", "2147483648"), ("vault", "\"0F\""), ("n", "0"), ("digest", "\"abc\""), ("name", "\"../x\""),
                      ("deleted", "\"soon\""), ("name", "\"\(String(repeating: "d", count: 32))\"")])
    func malformedEntriesAreErrors(_ key: String, _ value: String) {
        #expect(throws: FormatError.self) { try VaultFiles.parseEntryJSON(Self.with(VaultFiles.entryJSON(Self.entry), key, value)) }
    }

    @Test func anEntryHoldsAnObjectOrAUsedVersion() throws {
        var empty = Self.entry
        empty.object = nil
        empty.used = nil
        #expect(throws: FormatError.self) { try VaultFiles.parseEntryJSON(VaultFiles.entryJSON(empty)) }
        var lower = Self.entry
        lower.used = 7  // not above version 7
        #expect(throws: FormatError.self) { try VaultFiles.parseEntryJSON(VaultFiles.entryJSON(lower)) }
    }

    @Test func theFilesAndTheirNamesAreStrict() throws {
        let sealed = VaultFiles.Sealed(kid: Self.kid, nonce: [UInt8](repeating: 1, count: 24), ciphertext: [UInt8](repeating: 2, count: 40))
        #expect(try VaultFiles.parseEntry(VaultFiles.entryText(sealed)) == sealed)
        let head = try VaultFiles.parseIndexFile(VaultFiles.headText(sealed))
        #expect(head.format == 4 && head.sealed == sealed)
        let head3 = try VaultFiles.parseIndexFile(VaultFiles.headText(sealed, format: 3))
        #expect(head3.format == 3 && head3.sealed == sealed)
        let old = try VaultFiles.parseIndexFile(VaultFiles.indexText(sealed))
        #expect(old.format == 2 && old.sealed == sealed)
        // An entry is not a head, nor a head an entry; no stray line.
        #expect(throws: FormatError.self) { try VaultFiles.parseIndexFile(VaultFiles.entryText(sealed)) }
        #expect(throws: FormatError.self) { try VaultFiles.parseEntry(VaultFiles.headText(sealed)) }
        #expect(throws: FormatError.self) { try VaultFiles.parseEntry(VaultFiles.entryText(sealed) + "\n") }
        #expect(throws: FormatError.self) { try VaultFiles.parseIndexFile("avault-vault-index v1\n" + VaultFiles.indexText(sealed).split(separator: "\n")[1] + "\n") }

        let file = VaultFiles.entryFileName(name: Self.name, seq: 42)
        #expect(file == Self.name + ".42")
        #expect(VaultFiles.parseEntryFileName(file)! == (Self.name, 42))
        #expect(VaultFiles.parseEntryFileName(Self.name + ".9007199254740991")! == (Self.name, 9_007_199_254_740_991))
        #expect(VaultFiles.entryBucket(ofName: "9e" + String(Self.name.dropFirst(2))) == 0x9e)
        #expect(VaultFiles.entryBucket(ofName: "9E") == nil && VaultFiles.entryBucket(ofName: "9") == nil)
        for bad in [Self.name + ".0", Self.name + ".042", Self.name + ".", Self.name, Self.name + ".4.2", Self.name + ".-4",
                    Self.name + ".9007199254740992", String(repeating: "C", count: 32) + ".4", ".tmp-0011223344556677",
                    Self.name + "-4", Self.name + ".4 ", Self.name + ".12345678901234567", "é" + String(Self.name.dropFirst(2)) + ".4",
                    String(Self.name.dropLast()) + "é.4", Self.name + ".4é", Self.name + "\u{301}.4", Self.name + ".٤"] {
            #expect(VaultFiles.parseEntryFileName(bad) == nil, "\(bad)")
        }
    }

    @Test func theAssociatedDataNamesTheObjectAndTheWrite() {
        let config = VaultFiles.Config(vaultID: Self.vault, keyName: "drafts",
                                       namingKey: VaultFiles.Sealed(kid: Self.kid, nonce: [UInt8](repeating: 0, count: 24), ciphertext: []))
        #expect(String(decoding: config.entryAssociatedData(name: Self.name, seq: 7, kid: Self.kid), as: UTF8.self)
                == "avault/vault/v3;entry;\(Self.vault);\(Self.name);7;0011223344556677")
        #expect(config.entryAssociatedData(name: Self.name, seq: 7, kid: Self.kid) != config.entryAssociatedData(name: Self.name, seq: 8, kid: Self.kid))
        #expect(String(decoding: config.headAssociatedData(kid: Self.kid), as: UTF8.self) == "avault/vault/v4;index;\(Self.vault);0011223344556677")
        #expect(String(decoding: config.headAssociatedData(kid: Self.kid, format: 3), as: UTF8.self) == "avault/vault/v3;index;\(Self.vault);0011223344556677")
        #expect(config.headAssociatedData(kid: Self.kid) != config.indexAssociatedData(kid: Self.kid))
    }
}
