import VaultCrypto

/// The vault's on-disk formats (see `docs/formats.md` section 8). Pure parse and serialise.
/// Every number read from a vault file is range-checked here: out of range, fractional or not
/// a number is a `FormatError`, never a trap.
public enum VaultFiles {
    /// First line of the config file.
    public static let configMagic = "avault-vault v1"
    /// First line of the index file.
    public static let indexMagic = "avault-vault-index v2"
    /// First line of an index written before version 2 (no bindings); refused.
    public static let legacyIndexMagic = "avault-vault-index v1"
    /// The bytes every envelope starts with.
    public static let envelopeMagic = Array("avault-envelope v1\n".utf8)
    /// Plaintext bytes per envelope chunk.
    public static let chunkSize = 1 << 16
    /// The largest version number (and purge high-water mark) a vault file may hold.
    public static let maxVersion = Int(Int32.max)
    /// The largest payload size, sequence number or count a vault file may hold: 2^53 − 1,
    /// the largest integer JSON (an IEEE double) keeps exactly.
    public static let maxInteger = (1 << 53) - 1

    /// An integer field of a vault JSON document, checked: present, a whole number, in `range`.
    public static func integer(_ value: FieldValue?, _ what: String, in range: ClosedRange<Int>) throws(FormatError) -> Int {
        guard case .number(let d)? = value else { throw .invalidVault("\(what): expected a number") }
        // Compare as doubles before converting: Int(d) traps on 1e300, NaN or infinity.
        guard d.isFinite, d == d.rounded(.towardZero), d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
            throw .invalidVault("\(what): expected an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(d)
    }

    /// Whether `text` is exactly `count` lowercase hex digits.
    public static func isLowerHex(_ text: some StringProtocol, count: Int) -> Bool {
        // On the contiguous bytes where there are (a large index has thousands of digests; a
        // head, 16 KiB of sums), one comparison of each byte against each range.
        text.utf8.withContiguousStorageIfAvailable { isLowerHex($0, count: count) }
            ?? (text.utf8.count == count && text.utf8.allSatisfy { $0 &- 0x30 < 10 || $0 &- 0x61 < 6 })
    }

    private static func isLowerHex(_ bytes: UnsafeBufferPointer<UInt8>, count: Int) -> Bool {
        guard bytes.count == count else { return false }
        for b in bytes where b &- 0x30 >= 10 && b &- 0x61 >= 6 { return false }
        return true
    }

    /// A sealed value: the key id that sealed it, a nonce and `ciphertext ‖ tag`.
    public struct Sealed: Equatable, Sendable {
        public var kid: KeyID
        public var nonce: [UInt8]
        public var ciphertext: [UInt8]
        public init(kid: KeyID, nonce: [UInt8], ciphertext: [UInt8]) { self.kid = kid; self.nonce = nonce; self.ciphertext = ciphertext }

        var text: String { "\(kid.hex) \(Base64.encode(nonce));\(Base64.encode(ciphertext))" }

        init(parsing text: Substring, what: String) throws(FormatError) {
            let (kidText, rest) = TextLines.splitAtFirstSpace(text)
            guard let kid = KeyID(hex: kidText), let rest else { throw .invalidVault("\(what): expected '<kid> <nonce>;<ciphertext>'") }
            // Split on the byte: a Character-level split of a large index walks grapheme breaks.
            let semicolon = TextLines.firstIndex(of: UInt8(ascii: ";"), in: rest)
            let parts = semicolon.map { [rest[..<$0], rest[rest.utf8.index(after: $0)...]] } ?? [rest]
            // A second ';' is in the ciphertext's piece, which base64 then refuses.
            // Nonce and ciphertext are public: the table decoder (not constant-time), which
            // accepts exactly what Base64.decode does, is several times faster on a large index.
            guard parts.count == 2, let nonce = Base64.decodePublic(parts[0]), nonce.count == 24,
                  let ct = Base64.decodePublic(parts[1]), ct.count >= 16 else {
                throw .invalidVault("\(what): expected '<kid> <nonce>;<ciphertext>'")
            }
            self.init(kid: kid, nonce: nonce, ciphertext: ct)
        }
    }

    /// `config`: the vault's id, the content key's name, and its naming key (sealed).
    public struct Config: Equatable, Sendable {
        /// 16 random bytes, in hex.
        public var vaultID: String
        /// The keyring name of the content key that protects the vault.
        public var keyName: String
        /// The key that turns object IDs into file names, sealed under the content key.
        public var namingKey: Sealed
        /// A vault to recipients (``recipientsKeyName``): the `age1…` recipients, in order.
        public var recipients: [String]?
        /// A vault to recipients: the age file that wraps its data keys to the recipients.
        public var dataKeys: [UInt8]?

        /// The `key:` of a vault whose data key is wrapped to recipients (not a keyring name:
        /// a name cannot start with `@`).
        public static let recipientsKeyName = "@recipients"
        /// The stanza type that binds a vault's data-key file to the vault and its recipients.
        public static let dataKeysStanzaType = "avault-vault"

        public init(vaultID: String, keyName: String, namingKey: Sealed, recipients: [String]? = nil, dataKeys: [UInt8]? = nil) {
            self.vaultID = vaultID; self.keyName = keyName; self.namingKey = namingKey
            self.recipients = recipients; self.dataKeys = dataKeys
        }

        /// Whether the vault's data key is wrapped to recipients rather than in a keyring.
        public var isToRecipients: Bool { keyName == Self.recipientsKeyName }

        public var text: String {
            var out = "\(configMagic)\nid: \(vaultID)\nkey: \(keyName)\nnaming-key: \(namingKey.text)\n"
            if let recipients, let dataKeys {
                out += "recipients: \(recipients.joined(separator: " "))\ndata-keys: \(Base64.encode(dataKeys))\n"
            }
            return out
        }

        public init(parsing text: String) throws(FormatError) {
            let lines = TextLines.split(text, stripCR: false)
            guard lines.count >= 5, lines[lines.count - 1].isEmpty, lines[0].utf8.elementsEqual(configMagic.utf8),
                  let id = TextLines.value(lines[1], after: "id: "), VaultFiles.isLowerHex(id, count: 32),
                  let key = TextLines.value(lines[2], after: "key: "),
                  key == Self.recipientsKeyName ? lines.count == 7 : (lines.count == 5 && KeyringFile.isValidName(String(key))),
                  let naming = TextLines.value(lines[3], after: "naming-key: ") else {
                throw .invalidVault("config: expected '\(configMagic)', id, key and naming-key lines (and recipients and data-keys lines for key \(Self.recipientsKeyName))")
            }
            var recipients: [String]?, dataKeys: [UInt8]?
            if key == Self.recipientsKeyName {
                guard let list = TextLines.value(lines[4], after: "recipients: "), let wrapped = TextLines.value(lines[5], after: "data-keys: ") else {
                    throw .invalidVault("config: expected recipients and data-keys lines after naming-key")
                }
                let names = list.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                for name in names {
                    do throws(AgeKeys.Problem) { _ = try AgeKeys.parseRecipient(name) } catch {
                        throw .invalidVault("config: the recipients line holds something that is not an age recipient")
                    }
                }
                guard Set(names).count == names.count else { throw .invalidVault("config: a recipient is listed twice") }
                guard let bytes = Base64.decodePublic(wrapped), !bytes.isEmpty else {
                    throw .invalidVault("config: data-keys is not strict base64")
                }
                recipients = names; dataKeys = bytes
            }
            self.init(vaultID: String(id), keyName: String(key), namingKey: try Sealed(parsing: naming, what: "config naming-key"),
                      recipients: recipients, dataKeys: dataKeys)
        }

        /// Associated data of the sealed naming key.
        public func namingKeyAssociatedData(kid: KeyID) -> [UInt8] {
            Self.namingKeyAssociatedData(vaultID: vaultID, kid: kid)
        }

        /// Associated data of the sealed naming key of vault `vaultID`.
        public static func namingKeyAssociatedData(vaultID: String, kid: KeyID) -> [UInt8] {
            Array("avault/vault/v1;naming;\(vaultID);\(kid.hex)".utf8)
        }

        /// Associated data of the sealed index (format 2).
        public func indexAssociatedData(kid: KeyID) -> [UInt8] {
            Array("avault/vault/v2;index;\(vaultID);\(kid.hex)".utf8)
        }

        /// Associated data of every chunk of an envelope: binds the vault, the object and the version.
        public func envelopeAssociatedData(object: String, version: Int, kid: KeyID) -> [UInt8] {
            Array("avault/vault/v1;envelope;\(vaultID);\(object);\(version);\(kid.hex)".utf8)
        }
    }

    // MARK: Index

    /// The index file: `avault-vault-index v2` then the sealed index on one line.
    public static func indexText(_ sealed: Sealed) -> String { "\(indexMagic)\n\(sealed.text)\n" }

    /// Parses the index file into its sealed line. An index of format 1 (which binds neither
    /// the log nor the config) is refused with its own message.
    public static func parseIndex(_ text: String) throws(FormatError) -> Sealed {
        let lines = TextLines.split(text, stripCR: false)
        if lines.first.map({ $0.utf8.elementsEqual(legacyIndexMagic.utf8) }) == true {
            throw .invalidVault("index: format 1, written by an earlier avault, which binds neither the log nor the config")
        }
        guard lines.count == 3, lines[2].isEmpty, lines[0].utf8.elementsEqual(indexMagic.utf8) else {
            throw .invalidVault("index: expected '\(indexMagic)' and one sealed line")
        }
        return try Sealed(parsing: lines[1], what: "index")
    }

    /// A point in the log: an entry's sequence number and the hex BLAKE2b-256 of its line.
    public struct Head: Equatable, Hashable, Sendable {
        public var seq: Int
        public var hash: String
        public init(seq: Int, hash: String) { self.seq = seq; self.hash = hash }

        var json: FieldValue { .object([("seq", .number(Double(seq))), ("hash", .string(hash))]) }

        init(parsing value: FieldValue?, _ what: String) throws(FormatError) {
            let (seq, hash) = try VaultFiles.numberAndDigest(value, what, number: "seq", digest: "hash", in: 1...VaultFiles.maxInteger)
            self.init(seq: seq, hash: hash)
        }
    }

    /// `{"<number>": n, "<digest>": "<64 lowercase hex digits>"}` with n in `range`: a log head,
    /// an index head's commitment to its entries.
    static func numberAndDigest(_ value: FieldValue?, _ what: String, number: String, digest: String,
                                in range: ClosedRange<Int>) throws(FormatError) -> (Int, String) {
        guard case .object? = value else { throw .invalidVault("\(what): expected {\"\(number)\", \"\(digest)\"}") }
        let n = try VaultFiles.integer(value?[number], "\(what) \(number)", in: range)
        guard case .string(let hex)? = value?[digest], VaultFiles.isLowerHex(hex, count: 64) else {
            throw .invalidVault("\(what) \(digest): expected 64 lowercase hex digits")
        }
        return (n, hex)
    }

    /// The decrypted index (format 2): the objects, and what it binds — the config it belongs
    /// to, the log entry it was written with, the last signed head — and the highest version
    /// number each object name has used beyond what `objects` lists (purged objects, versions
    /// of interrupted or rolled-back writes), so that a version number is never used twice.
    public struct Index: Equatable, Sendable {
        public var vaultID: String
        public var keyName: String
        /// The kid sealing `config`'s naming key when the index was written.
        public var namingKid: KeyID
        /// The last log entry when the index was written.
        public var log: Head
        /// The last head in `log.heads` when the index was written; nil if none was signed.
        public var signedHead: Head?
        /// Object name → the highest version number it has used, where that is more than its
        /// entry in `objects` lists (or it has none).
        public var used: [String: Int]
        public var objects: [Object]

        public init(vaultID: String, keyName: String, namingKid: KeyID, log: Head, signedHead: Head?,
                    used: [String: Int] = [:], objects: [Object] = []) {
            self.vaultID = vaultID; self.keyName = keyName; self.namingKid = namingKid; self.log = log
            self.signedHead = signedHead; self.used = used; self.objects = objects
        }
    }

    /// One object in the (decrypted) index.
    public struct Object: Equatable, Sendable {
        public var id: String
        /// The file-name stem: 32 hex digits of the keyed hash of `id`.
        public var name: String
        /// When it was removed (`vault rm`); nil while present.
        public var deleted: Timestamp?
        public var versions: [Version]
        public init(id: String, name: String, deleted: Timestamp? = nil, versions: [Version] = []) {
            self.id = id; self.name = name; self.deleted = deleted; self.versions = versions
        }
    }

    /// One stored version.
    public struct Version: Equatable, Sendable {
        public var number: Int
        /// The plaintext size in bytes.
        public var size: Int
        public var created: Timestamp
        public var contentType: String?
        /// The content key version that encrypts it.
        public var kid: KeyID
        /// Hex BLAKE2b-256 of the whole envelope file.
        public var digest: String
        public init(number: Int, size: Int, created: Timestamp, contentType: String?, kid: KeyID, digest: String) {
            self.number = number; self.size = size; self.created = created; self.contentType = contentType
            self.kid = kid; self.digest = digest
        }
    }

    /// The decrypted index as canonical JSON.
    public static func indexJSON(_ index: Index) -> [UInt8] {
        FieldValue.object([
            ("format", .number(2)),
            ("vault", .string(index.vaultID)), ("key", .string(index.keyName)), ("namingKid", .string(index.namingKid.hex)),
            ("log", index.log.json), ("signedHead", index.signedHead?.json ?? .null),
            ("used", .array(index.used.sorted { $0.key < $1.key }.map { .object([("name", .string($0.key)), ("last", .number(Double($0.value)))]) })),
            ("objects", .array(index.objects.map(objectJSON))),
        ]).canonicalJSON
    }

    /// What an index of either format (2, or a head of 3) binds: the vault, the key name, the
    /// naming key's kid, the log head and the last signed head (or null).
    static func parseIndexBindings(_ doc: FieldValue) throws(FormatError)
        -> (vault: String, key: String, namingKid: KeyID, log: Head, signedHead: Head?) {
        guard case .string(let vault)? = doc["vault"], isLowerHex(vault, count: 32),
              case .string(let key)? = doc["key"], KeyringFile.isValidName(key) || key == Config.recipientsKeyName,
              case .string(let naming)? = doc["namingKid"], let namingKid = KeyID(hex: naming) else {
            throw .invalidVault("index: malformed vault, key or namingKid")
        }
        let log = try Head(parsing: doc["log"], "index log")
        let signed: Head?
        if case .null? = doc["signedHead"] { signed = nil } else { signed = try Head(parsing: doc["signedHead"], "index signedHead") }
        return (vault, key, namingKid, log, signed)
    }

    /// Parses a decrypted index strictly: every number range-checked, every name and digest
    /// in its exact form, versions increasing, no object name twice.
    public static func parseIndexJSON(_ bytes: [UInt8]) throws(FormatError) -> Index {
        let doc = try JSONDocument.parse(bytes)
        guard case .object = doc else { throw .invalidVault("index: not an object") }
        guard try integer(doc["format"], "index format", in: 2...2) == 2 else { throw .invalidVault("index: unknown format") }
        let (vault, key, namingKid, log, signed) = try parseIndexBindings(doc)
        guard case .array(let usedItems)? = doc["used"] else { throw .invalidVault("index: no used list") }
        var used: [String: Int] = [:]
        for u in usedItems {
            guard case .string(let name)? = u["name"], isLowerHex(name, count: 32), used[name] == nil else {
                throw .invalidVault("index: malformed used entry")
            }
            used[name] = try integer(u["last"], "index used last", in: 1...maxVersion)
        }
        guard case .array(let items)? = doc["objects"] else { throw .invalidVault("index: no objects list") }
        var objects: [Object] = []
        objects.reserveCapacity(items.count)
        var names = Set<String>()
        for item in items {
            let object = try parseObject(item, "index")
            guard names.insert(object.name).inserted else { throw .invalidVault("index: malformed object") }
            objects.append(object)
        }
        return Index(vaultID: vault, keyName: key, namingKid: namingKid, log: log, signedHead: signed, used: used, objects: objects)
    }

    /// One object as the index (format 2) and an entry (format 3) write it.
    static func objectJSON(_ o: Object) -> FieldValue {
        .object([
            ("id", .string(o.id)), ("name", .string(o.name)), ("deleted", o.deleted.map { .string($0.text) } ?? .null),
            ("versions", .array(o.versions.map { v in
                .object([("n", .number(Double(v.number))), ("size", .number(Double(v.size))), ("created", .string(v.created.text)),
                         ("contentType", v.contentType.map(FieldValue.string) ?? .null), ("kid", .string(v.kid.hex)),
                         ("digest", .string(v.digest))])
            })),
        ])
    }

    /// Parses one object strictly (`what` names the file in messages): versions increasing,
    /// every number range-checked.
    static func parseObject(_ item: FieldValue, _ what: String) throws(FormatError) -> Object {
        guard case .string(let id)? = item["id"], !id.isEmpty, !id.utf8.contains(0),
              case .string(let name)? = item["name"], isLowerHex(name, count: 32),
              case .array(let vs)? = item["versions"] else {
            throw .invalidVault("\(what): malformed object")
        }
        var deleted: Timestamp?
        switch item["deleted"] {
        case .null?: deleted = nil
        case .string(let t)?:
            guard let time = Timestamp(t) else { throw .invalidVault("\(what): malformed object") }
            deleted = time
        default: throw .invalidVault("\(what): malformed object")
        }
        var versions: [Version] = []
        versions.reserveCapacity(vs.count)
        for v in vs {
            let n = try integer(v["n"], "\(what) version number", in: 1...maxVersion)
            let size = try integer(v["size"], "\(what) version size", in: 0...maxInteger)
            guard n > (versions.last?.number ?? 0) else { throw .invalidVault("\(what): version numbers must increase") }
            guard case .string(let createdText)? = v["created"], let created = Timestamp(createdText), case .string(let kidText)? = v["kid"], let kid = KeyID(hex: kidText),
                  case .string(let digest)? = v["digest"], isLowerHex(digest, count: 64) else {
                throw .invalidVault("\(what): malformed version")
            }
            var contentType: String?
            switch v["contentType"] {
            case .null?: contentType = nil
            case .string(let t)?: contentType = t
            default: throw .invalidVault("\(what): malformed version")
            }
            versions.append(Version(number: n, size: size, created: created, contentType: contentType, kid: kid, digest: digest))
        }
        return Object(id: id, name: name, deleted: deleted, versions: versions)
    }

    // MARK: Envelopes

    /// The size of an envelope's header: magic, kid, secretstream header.
    public static var envelopeHeaderSize: Int { envelopeMagic.count + KeyID.size + SecretStream.headerSize }

    /// The size of the envelope holding a `size`-byte payload.
    public static func envelopeSize(plaintext size: Int) -> Int {
        // Full chunks, the last one possibly shorter; an empty payload is one empty chunk.
        let chunks = size == 0 ? 1 : (size + chunkSize - 1) / chunkSize
        return envelopeHeaderSize + size + chunks * SecretStream.chunkOverhead
    }

    /// The kid in an envelope's header; nil if the bytes do not start like an envelope.
    public static func envelopeKid(_ head: [UInt8]) -> KeyID? {
        guard head.count >= envelopeMagic.count + KeyID.size, head.starts(with: envelopeMagic) else { return nil }
        return KeyID(bytes: Array(head[envelopeMagic.count..<(envelopeMagic.count + KeyID.size)]))
    }

    /// An envelope's header: ``envelopeMagic``, the kid of the content key version that
    /// encrypts it, and the secretstream header; ``envelopeHeaderSize`` bytes in all.
    public struct EnvelopeHeader: Equatable, Sendable {
        public var kid: KeyID
        /// The XChaCha20-Poly1305 secretstream header (``SecretStream/headerSize`` bytes).
        public var streamHeader: [UInt8]

        public init(kid: KeyID, streamHeader: [UInt8]) {
            precondition(streamHeader.count == SecretStream.headerSize, "a secretstream header is \(SecretStream.headerSize) bytes")
            self.kid = kid; self.streamHeader = streamHeader
        }

        /// Parses exactly ``envelopeHeaderSize`` bytes (the first bytes of an envelope file).
        public init(parsing head: [UInt8]) throws(FormatError) {
            guard head.count == VaultFiles.envelopeHeaderSize else {
                throw .invalidVault("envelope: the header is \(head.count) bytes, expected \(VaultFiles.envelopeHeaderSize)")
            }
            guard let kid = VaultFiles.envelopeKid(head) else { throw .invalidVault("envelope: bad magic") }
            self.init(kid: kid, streamHeader: Array(head.suffix(SecretStream.headerSize)))
        }

        /// The header's bytes, as an envelope starts.
        public var bytes: [UInt8] { VaultFiles.envelopeMagic + kid.bytes + streamHeader }
    }

    /// An envelope's file name: `<name>-<version>`.
    public static func envelopeFileName(object: String, version: Int) -> String { "\(object)-\(version)" }

    /// The prefix of an envelope re-encrypted by `rewrap`, waiting to replace the envelope of the
    /// same name once the index lists it.
    public static let stagedPrefix = ".rewrap-"

    /// Parses an envelope file name into (object name, version); nil if it is not one.
    public static func parseEnvelopeFileName(_ file: String) -> (String, Int)? {
        let parts = file.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, isLowerHex(parts[0], count: 32), (1...10).contains(parts[1].utf8.count),
              parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) }), parts[1].utf8.first != 0x30,
              let v = Int(parts[1]), v <= maxVersion else { return nil }
        return (String(parts[0]), v)
    }

    // MARK: Log

    /// The `prev` of the first log entry: 64 zeros.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// One line of `log`: `{"seq": n, "time": …, "op": …, …, "prev": <hash of the line before>}`.
    public struct LogEntry: Sendable {
        public var seq: Int
        /// When it was written (the writer's clock: informative, not checked against anything).
        public var time: Timestamp
        public var prev: String
        public var op: String
        /// The whole entry: parsed with the line, or (``init(chained:)``) each time it is asked
        /// for (.null if it does not parse).
        public var fields: FieldValue { parsed ?? (line.flatMap { try? JSONDocument.parse($0) } ?? .null) }
        private var parsed: FieldValue?
        /// The line, for an entry read by ``init(chained:)`` whose fields are not parsed yet.
        private var line: [UInt8]?
        /// Whether only seq, time, op and prev were read (``init(chained:)``).
        public var isUnparsed: Bool { parsed == nil }

        /// Parses one line (without its newline). `seq` must be 1…2^53 − 1, `time` an RFC 3339
        /// time, `prev` 64 hex digits.
        public init(parsing line: some StringProtocol) throws(FormatError) {
            try self.init(parsingBytes: TextLines.bytes(of: line))
        }

        /// Reads a line in exactly the form avault writes (``VaultFiles/logLine(seq:time:_:prev:)``:
        /// `{"seq":n,"time":"…","op":"…",…,"prev":"<64 hex>"}`), taking seq, time and op from
        /// their places and prev from the end, without parsing the rest; nil for any other line
        /// (the caller parses it with ``init(parsing:)``). Only for a line whose bytes something
        /// else authenticates — the hash chain up to a sealed head — since what lies between op
        /// and prev is not checked here: ``strictly()`` does that.
        public init?(chained line: some StringProtocol) {
            let bytes = TextLines.bytes(of: line)
            let parsedLine: (Int, Timestamp, String, String)? = bytes.withUnsafeBufferPointer { b in
                let n = b.count
                func expect(_ text: StaticString, at i: Int) -> Bool {
                    let count = text.utf8CodeUnitCount
                    guard i + count <= n else { return false }
                    return text.withUTF8Buffer { t in (0..<count).allSatisfy { b[i + $0] == t[$0] } }
                }
                // The end: ,"prev":"<64 lowercase hex>"}
                let prevStart = n - 75
                guard prevStart > 0, expect(",\"prev\":\"", at: prevStart), expect("\"}", at: n - 2) else { return nil }
                let hex = UnsafeBufferPointer(rebasing: b[(prevStart + 9)..<(n - 2)])
                guard hex.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
                // {"seq":<1 to 16 digits, no leading zero>
                guard expect("{\"seq\":", at: 0) else { return nil }
                var i = 7, seq = 0
                while i < n, (0x30...0x39).contains(b[i]), i - 7 < 16 {
                    seq = seq * 10 + Int(b[i] - 0x30)
                    i += 1
                }
                guard i > 7, b[7] != 0x30, seq <= VaultFiles.maxInteger else { return nil }
                // ,"time":"<no quote, no backslash, no control>"
                guard expect(",\"time\":\"", at: i) else { return nil }
                i += 9
                let timeStart = i
                while i < n, b[i] != 0x22 {
                    guard b[i] >= 0x20, b[i] != 0x5C, b[i] < 0x80 else { return nil }
                    i += 1
                }
                guard i < n, let time = Timestamp(String(decoding: UnsafeBufferPointer(rebasing: b[timeStart..<i]), as: UTF8.self)) else { return nil }
                // ,"op":"<lowercase letters and dashes>" then a comma (the next field, or prev)
                guard expect("\",\"op\":\"", at: i) else { return nil }
                i += 8
                let opStart = i
                while i < n, (0x61...0x7A).contains(b[i]) || b[i] == 0x2D { i += 1 }
                guard i > opStart, i + 1 <= prevStart, b[i] == 0x22, b[i + 1] == 0x2C else { return nil }
                return (seq, time, String(decoding: UnsafeBufferPointer(rebasing: b[opStart..<i]), as: UTF8.self),
                        String(decoding: hex, as: UTF8.self))
            }
            guard let (seq, time, op, prev) = parsedLine else { return nil }
            self.seq = seq
            self.time = time
            self.op = op
            self.prev = prev
            self.line = bytes
        }

        /// This entry parsed strictly (itself, if it already was): for a line of the log that no
        /// sealed head authenticates.
        public func strictly() throws(FormatError) -> LogEntry {
            guard let line else { return self }
            return try LogEntry(parsingBytes: line)
        }

        private init(parsingBytes bytes: [UInt8]) throws(FormatError) {
            let doc = try JSONDocument.parse(bytes)
            guard case .object = doc else { throw .invalidVault("log entry: not an object") }
            seq = try VaultFiles.integer(doc["seq"], "log entry seq", in: 1...VaultFiles.maxInteger)
            guard case .string(let p)? = doc["prev"], VaultFiles.isLowerHex(p, count: 64) else {
                throw .invalidVault("log entry: prev is not 64 lowercase hex digits")
            }
            guard case .string(let o)? = doc["op"] else { throw .invalidVault("log entry: no op") }
            guard case .string(let t)? = doc["time"], let parsedTime = Timestamp(t) else {
                throw .invalidVault("log entry: time is not an RFC 3339 time")
            }
            time = parsedTime
            prev = p
            op = o
            parsed = doc
        }

        /// A string field.
        public func string(_ key: String) -> String? { fields[key]?.stringValue }

        /// An array-of-strings field (nil when absent or anything else).
        public func strings(_ key: String) -> [String]? {
            guard case .array(let items)? = fields[key] else { return nil }
            let out = items.compactMap(\.stringValue)
            return out.count == items.count ? out : nil
        }

        /// An integer field, range-checked.
        public func integer(_ key: String, in range: ClosedRange<Int>) throws(FormatError) -> Int {
            try VaultFiles.integer(fields[key], "log entry \(seq) \(key)", in: range)
        }

        /// The head an `accept-rollback` entry says was forgotten.
        public func forgotten() throws(FormatError) -> Head { try Head(parsing: fields["forgotten"], "log entry \(seq) forgotten") }
    }

    /// The text of a log line: `seq`, `time`, the fields, `prev`, in that order.
    public static func logLine(seq: Int, time: Timestamp, _ fields: [(key: String, value: FieldValue)], prev: String) -> String {
        FieldValue.object([("seq", .number(Double(seq))), ("time", .string(time.text))] + fields + [("prev", .string(prev))]).jsonText
    }

    /// One line of `log.heads`: a minisign signature of a log head.
    public struct SignedHead: Sendable {
        public var head: Head
        public var keyID: String
        public var signatureLine: String
        public var trustedComment: String
        public var globalSignatureLine: String

        public init(head: Head, keyID: String, signatureLine: String, trustedComment: String, globalSignatureLine: String) {
            self.head = head; self.keyID = keyID; self.signatureLine = signatureLine
            self.trustedComment = trustedComment; self.globalSignatureLine = globalSignatureLine
        }

        public init(parsing line: some StringProtocol) throws(FormatError) {
            let doc = try JSONDocument.parse(TextLines.bytes(of: line))
            guard case .object = doc else { throw .invalidVault("signed head: not an object") }
            head = try Head(parsing: .object([("seq", doc["seq"] ?? .null), ("hash", doc["hash"] ?? .null)]), "signed head")
            guard case .string(let k)? = doc["keyId"], case .string(let s)? = doc["signature"],
                  case .string(let c)? = doc["trustedComment"], case .string(let g)? = doc["globalSignature"] else {
                throw .invalidVault("signed head: expected keyId, signature, trustedComment and globalSignature")
            }
            keyID = k; signatureLine = s; trustedComment = c; globalSignatureLine = g
        }

        public var line: String {
            FieldValue.object([
                ("seq", .number(Double(head.seq))), ("hash", .string(head.hash)), ("keyId", .string(keyID)),
                ("signature", .string(signatureLine)), ("trustedComment", .string(trustedComment)),
                ("globalSignature", .string(globalSignatureLine)),
            ]).jsonText
        }

        /// The message a head signature covers.
        public static func message(vaultID: String, head: Head) -> [UInt8] {
            Array("avault-vault-log-v1;\(vaultID);\(head.seq);\(head.hash)".utf8)
        }
    }
}
