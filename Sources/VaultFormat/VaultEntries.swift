/// Formats 3 and 4 of the vault's index (`docs/formats.md` 8.3.1 and 8.3.2): a small sealed head
/// that binds the config, the log head, the last signed head and a commitment to the set of
/// per-object entries, and one sealed entry per object. Format 3 commits to the whole set;
/// format 4 to each of 256 buckets of it, so that a reader of one object checks its bucket only.
/// Pure parse and serialise, like the rest of ``VaultFiles``; the sealing and the commitment's
/// keyed hash are ArticleVault's.
extension VaultFiles {
    /// First line of an index of format 3 (a head committing to the whole set of entries).
    public static let headMagicV3 = "avault-vault-index v3"
    /// First line of an index of format 4 (a head committing to each bucket of entries).
    public static let headMagic = "avault-vault-index v4"
    /// How many buckets a format 4 head commits to: an entry's bucket is the number its name's
    /// first two hex digits spell.
    public static let entryBuckets = 256
    /// First line of an entry file.
    public static let entryMagic = "avault-vault-entry v1"
    /// The prefix of a crash-interrupted entry write in `entries/`.
    public static let entryTemporaryPrefix = ".tmp-"

    /// The commitment to a set of entries: how many, and the sum modulo 2^256 of one keyed
    /// hash per entry (`docs/formats.md` 8.3), as 64 lowercase hex digits (big-endian).
    public struct EntrySet: Equatable, Hashable, Sendable {
        public var count: Int
        public var sum: String
        public init(count: Int, sum: String) { self.count = count; self.sum = sum }
        /// The empty set.
        public static let empty = EntrySet(count: 0, sum: String(repeating: "0", count: 64))

        var json: FieldValue { .object([("count", .number(Double(count))), ("sum", .string(sum))]) }

        init(parsing value: FieldValue?, _ what: String) throws(FormatError) {
            let (count, sum) = try VaultFiles.numberAndDigest(value, what, number: "count", digest: "sum", in: 0...VaultFiles.maxInteger)
            self.init(count: count, sum: sum)
        }
    }

    /// The commitment of a format 4 head: for each of the ``entryBuckets`` buckets, how many
    /// entries it holds and the sum modulo 2^256 of their keyed hashes (`docs/formats.md` 8.3.2);
    /// the sums as one string of 64 lowercase hex digits per bucket, in bucket order.
    public struct EntryBucketSet: Equatable, Hashable, Sendable {
        public var counts: [Int]
        public var sums: String
        public init(counts: [Int], sums: String) { self.counts = counts; self.sums = sums }
        /// The empty set.
        public static let empty = EntryBucketSet(counts: [Int](repeating: 0, count: entryBuckets),
                                                 sums: String(repeating: "0", count: 64 * entryBuckets))

        var json: FieldValue { .object([("counts", .array(counts.map { .number(Double($0)) })), ("sums", .string(sums))]) }

        init(parsing value: FieldValue?, _ what: String) throws(FormatError) {
            guard case .object? = value, case .array(let items)? = value?["counts"], items.count == VaultFiles.entryBuckets else {
                throw .invalidVault("\(what): expected {\"counts\": \(VaultFiles.entryBuckets) numbers, \"sums\"}")
            }
            var counts: [Int] = []
            counts.reserveCapacity(items.count)
            let named = "\(what) count" // once, not for each of the 256
            for item in items { counts.append(try VaultFiles.integer(item, named, in: 0...VaultFiles.maxInteger)) }
            guard case .string(let sums)? = value?["sums"], VaultFiles.isLowerHex(sums, count: 64 * VaultFiles.entryBuckets) else {
                throw .invalidVault("\(what) sums: expected \(64 * VaultFiles.entryBuckets) lowercase hex digits")
            }
            self.init(counts: counts, sums: sums)
        }
    }

    /// What a head commits to: the whole set (format 3) or each bucket (format 4).
    public enum EntryCommitment: Equatable, Sendable {
        case whole(EntrySet)
        case buckets(EntryBucketSet)

        /// The index format whose head holds this commitment.
        public var format: Int {
            switch self {
            case .whole: 3
            case .buckets: 4
            }
        }
    }

    /// The bucket of an object name (32 lowercase hex digits): its first two digits.
    public static func entryBucket(ofName name: some StringProtocol) -> Int? {
        let digits = name.utf8.prefix(2).map { b -> Int in
            switch b {
            case 0x30...0x39: Int(b - 0x30)
            case 0x61...0x66: Int(b - 0x61 + 10)
            default: -1
            }
        }
        guard digits.count == 2, digits.allSatisfy({ $0 >= 0 }) else { return nil }
        return digits[0] * 16 + digits[1]
    }

    /// The decrypted head (index formats 3 and 4): what the index of format 2 binds, with the
    /// objects and `used` moved out into entries and replaced by a commitment to them.
    public struct IndexHead: Equatable, Sendable {
        public var vaultID: String
        public var keyName: String
        /// The kid sealing `config`'s naming key when the head was written.
        public var namingKid: KeyID
        /// The last log entry when the head was written; every entry it covers has `seq` at or
        /// below it.
        public var log: Head
        /// The last head in `log.heads` when the head was written; nil if none was signed.
        public var signedHead: Head?
        /// The entries current at `log`.
        public var entries: EntryCommitment

        public init(vaultID: String, keyName: String, namingKid: KeyID, log: Head, signedHead: Head?, entries: EntryCommitment) {
            self.vaultID = vaultID; self.keyName = keyName; self.namingKid = namingKid; self.log = log
            self.signedHead = signedHead; self.entries = entries
        }
    }

    /// One object name's entry: the object as format 2 lists it (nil once every version was
    /// purged), the highest version number the name has used beyond its versions (or nil), and
    /// the log head of the write that sealed it.
    public struct Entry: Equatable, Sendable {
        public var vaultID: String
        /// The sequence number of the last log entry of the write that sealed this entry (its
        /// head); also in the file name and the associated data.
        public var seq: Int
        /// The object name (32 hex digits): the file name's, and the object's.
        public var name: String
        public var object: Object?
        public var used: Int?

        public init(vaultID: String, seq: Int, name: String, object: Object?, used: Int?) {
            self.vaultID = vaultID; self.seq = seq; self.name = name; self.object = object; self.used = used
        }
    }

    /// The head file of `format` (3 or 4): its magic line, then the sealed head on one line.
    public static func headText(_ sealed: Sealed, format: Int = 4) -> String {
        "\(format == 3 ? headMagicV3 : headMagic)\n\(sealed.text)\n"
    }

    /// The index file of any format read: 2 (one sealed index), 3 or 4 (a sealed head). Format 1
    /// is refused as ``parseIndex(_:)`` refuses it.
    public static func parseIndexFile(_ text: String) throws(FormatError) -> (format: Int, sealed: Sealed) {
        let lines = TextLines.split(text, stripCR: false)
        if lines.count == 3, lines[2].isEmpty {
            if lines[0].utf8.elementsEqual(headMagic.utf8) { return (4, try Sealed(parsing: lines[1], what: "index")) }
            if lines[0].utf8.elementsEqual(headMagicV3.utf8) { return (3, try Sealed(parsing: lines[1], what: "index")) }
        }
        return (2, try parseIndex(text))
    }

    /// The decrypted head as canonical JSON (its format is its commitment's).
    public static func headJSON(_ head: IndexHead) -> [UInt8] {
        let entries = switch head.entries {
        case .whole(let set): set.json
        case .buckets(let set): set.json
        }
        return FieldValue.object([
            ("format", .number(Double(head.entries.format))),
            ("vault", .string(head.vaultID)), ("key", .string(head.keyName)), ("namingKid", .string(head.namingKid.hex)),
            ("log", head.log.json), ("signedHead", head.signedHead?.json ?? .null),
            ("entries", entries),
        ]).canonicalJSON
    }

    /// Parses a decrypted head of `format` (3 or 4, the file's) strictly: every field in its
    /// exact form, and the format inside the file's.
    public static func parseHeadJSON(_ bytes: [UInt8], format: Int = 4) throws(FormatError) -> IndexHead {
        let doc = try JSONDocument.parse(bytes)
        guard case .object = doc else { throw .invalidVault("index: not an object") }
        _ = try integer(doc["format"], "index format", in: format...format)
        let (vault, key, namingKid, log, signed) = try parseIndexBindings(doc)
        let entries: EntryCommitment = format == 3 ? .whole(try EntrySet(parsing: doc["entries"], "index entries"))
                                                   : .buckets(try EntryBucketSet(parsing: doc["entries"], "index entries"))
        return IndexHead(vaultID: vault, keyName: key, namingKid: namingKid, log: log, signedHead: signed, entries: entries)
    }

    /// An entry's file name (a row's key): `<name>.<seq>`.
    public static func entryFileName(name: String, seq: Int) -> String { "\(name).\(seq)" }

    /// Parses an entry file name into (object name, seq); nil if it is not one (a temporary
    /// file, anything planted).
    public static func parseEntryFileName(_ file: String) -> (name: String, seq: Int)? {
        // On the bytes: 32 hex digits, a dot, 1 to 16 decimal digits without a leading zero (a
        // split of the String walks grapheme breaks: a tenth of a `get` at 1,000 objects).
        let utf8 = file.utf8
        guard (34...49).contains(utf8.count) else { return nil }
        let dot = utf8.index(utf8.startIndex, offsetBy: 32)
        guard utf8[dot] == 0x2E else { return nil }
        let name = file[..<dot]
        let digits = utf8[utf8.index(after: dot)...]
        guard isLowerHex(name, count: 32), digits.first != 0x30 else { return nil }
        var seq = 0
        for d in digits {
            guard (0x30...0x39).contains(d) else { return nil }
            seq = seq * 10 + Int(d - 0x30)
        }
        guard seq <= maxInteger else { return nil }
        return (String(name), seq)
    }

    /// An entry file: `avault-vault-entry v1` then the sealed entry on one line.
    public static func entryText(_ sealed: Sealed) -> String { "\(entryMagic)\n\(sealed.text)\n" }

    /// Parses an entry file into its sealed line.
    public static func parseEntry(_ text: String) throws(FormatError) -> Sealed {
        let lines = TextLines.split(text, stripCR: false)
        guard lines.count == 3, lines[2].isEmpty, lines[0].utf8.elementsEqual(entryMagic.utf8) else {
            throw .invalidVault("entry: expected '\(entryMagic)' and one sealed line")
        }
        return try Sealed(parsing: lines[1], what: "entry")
    }

    /// The decrypted entry as canonical JSON.
    public static func entryJSON(_ entry: Entry) -> [UInt8] {
        FieldValue.object([
            ("format", .number(1)), ("vault", .string(entry.vaultID)), ("seq", .number(Double(entry.seq))), ("name", .string(entry.name)),
            ("object", entry.object.map(objectJSON) ?? .null), ("used", entry.used.map { .number(Double($0)) } ?? .null),
        ]).canonicalJSON
    }

    /// Parses a decrypted entry strictly: the object (if any) has the entry's name, `used` (if
    /// any) is above the object's last version, and one of them is there.
    public static func parseEntryJSON(_ bytes: [UInt8]) throws(FormatError) -> Entry {
        let doc = try JSONDocument.parse(bytes)
        guard case .object = doc else { throw .invalidVault("entry: not an object") }
        _ = try integer(doc["format"], "entry format", in: 1...1)
        guard case .string(let vault)? = doc["vault"], isLowerHex(vault, count: 32) else { throw .invalidVault("entry: malformed vault") }
        let seq = try integer(doc["seq"], "entry seq", in: 1...maxInteger)
        guard case .string(let name)? = doc["name"], isLowerHex(name, count: 32) else { throw .invalidVault("entry: malformed name") }
        let object: Object?
        switch doc["object"] {
        case .null?: object = nil
        case let item?:
            let o = try parseObject(item, "entry")
            guard o.name == name else { throw .invalidVault("entry: the object's name is not the entry's") }
            object = o
        case nil: throw .invalidVault("entry: no object")
        }
        let used: Int?
        if case .null? = doc["used"] {
            used = nil
        } else {
            let u = try integer(doc["used"], "entry used", in: 1...maxVersion)
            guard u > (object?.versions.last?.number ?? 0) else { throw .invalidVault("entry: used must be above the last version") }
            used = u
        }
        guard object != nil || used != nil else { throw .invalidVault("entry: neither an object nor a used version") }
        return Entry(vaultID: vault, seq: seq, name: name, object: object, used: used)
    }
}

extension VaultFiles.Config {
    /// Associated data of the sealed head of index format `format` (3 or 4): a head of one
    /// format never opens as the other.
    public func headAssociatedData(kid: KeyID, format: Int = 4) -> [UInt8] {
        Array("avault/vault/v\(format);index;\(vaultID);\(kid.hex)".utf8)
    }

    /// Associated data of an object's sealed entry: bound to the vault, the object's name and
    /// the write that sealed it, so that an entry moved to another name or file, or an older one
    /// renamed, fails to authenticate.
    public func entryAssociatedData(name: String, seq: Int, kid: KeyID) -> [UInt8] {
        Array("avault/vault/v3;entry;\(vaultID);\(name);\(seq);\(kid.hex)".utf8)
    }
}
