/// Format 3 of the vault's index (`docs/formats.md` section 8.3, "Per-object entries"): a small
/// sealed head that binds the config, the log head, the last signed head and a commitment to the
/// set of per-object entries, and one sealed entry per object. Pure parse and serialise, like the
/// rest of ``VaultFiles``; the sealing and the commitment's keyed hash are ArticleVault's.
extension VaultFiles {
    /// First line of an index of format 3 (a head).
    public static let headMagic = "avault-vault-index v3"
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

    /// The decrypted head (index format 3): what the index of format 2 binds, with the objects
    /// and `used` moved out into entries and replaced by a commitment to the set of entries.
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
        public var entries: EntrySet

        public init(vaultID: String, keyName: String, namingKid: KeyID, log: Head, signedHead: Head?, entries: EntrySet) {
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

    /// The head file: `avault-vault-index v3` then the sealed head on one line.
    public static func headText(_ sealed: Sealed) -> String { "\(headMagic)\n\(sealed.text)\n" }

    /// The index file of either format: 2 (one sealed index) or 3 (a sealed head). Format 1 is
    /// refused as ``parseIndex(_:)`` refuses it.
    public static func parseIndexFile(_ text: String) throws(FormatError) -> (format: Int, sealed: Sealed) {
        let lines = TextLines.split(text, stripCR: false)
        if lines.count == 3, lines[2].isEmpty, lines[0].utf8.elementsEqual(headMagic.utf8) {
            return (3, try Sealed(parsing: lines[1], what: "index"))
        }
        return (2, try parseIndex(text))
    }

    /// The decrypted head as canonical JSON.
    public static func headJSON(_ head: IndexHead) -> [UInt8] {
        FieldValue.object([
            ("format", .number(3)),
            ("vault", .string(head.vaultID)), ("key", .string(head.keyName)), ("namingKid", .string(head.namingKid.hex)),
            ("log", head.log.json), ("signedHead", head.signedHead?.json ?? .null),
            ("entries", head.entries.json),
        ]).canonicalJSON
    }

    /// Parses a decrypted head strictly (format 3, every field in its exact form).
    public static func parseHeadJSON(_ bytes: [UInt8]) throws(FormatError) -> IndexHead {
        let doc = try JSONDocument.parse(bytes)
        guard case .object = doc else { throw .invalidVault("index: not an object") }
        _ = try integer(doc["format"], "index format", in: 3...3)
        let (vault, key, namingKid, log, signed) = try parseIndexBindings(doc)
        let entries = try EntrySet(parsing: doc["entries"], "index entries")
        return IndexHead(vaultID: vault, keyName: key, namingKid: namingKid, log: log, signedHead: signed, entries: entries)
    }

    /// An entry's file name (a row's key): `<name>.<seq>`.
    public static func entryFileName(name: String, seq: Int) -> String { "\(name).\(seq)" }

    /// Parses an entry file name into (object name, seq); nil if it is not one (a temporary
    /// file, anything planted).
    public static func parseEntryFileName(_ file: String) -> (name: String, seq: Int)? {
        let parts = file.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, isLowerHex(parts[0], count: 32), (1...16).contains(parts[1].utf8.count),
              parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) }), parts[1].utf8.first != 0x30,
              let seq = Int(parts[1]), seq <= maxInteger else { return nil }
        return (String(parts[0]), seq)
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
    /// Associated data of the sealed head (index format 3).
    public func headAssociatedData(kid: KeyID) -> [UInt8] {
        Array("avault/vault/v3;index;\(vaultID);\(kid.hex)".utf8)
    }

    /// Associated data of an object's sealed entry: bound to the vault, the object's name and
    /// the write that sealed it, so that an entry moved to another name or file, or an older one
    /// renamed, fails to authenticate.
    public func entryAssociatedData(name: String, seq: Int, kid: KeyID) -> [UInt8] {
        Array("avault/vault/v3;entry;\(vaultID);\(name);\(seq);\(kid.hex)".utf8)
    }
}
