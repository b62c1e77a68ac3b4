public import VaultCrypto

/// The keyring file (`keyring.avk`): every key of a keyring, its versions, their secrets
/// (sealed under a passphrase-derived key or, for throwaway keyrings, in the clear), the highest
/// log head seen per vault, the vault used at each location, and an authentication code over all
/// of it. Pure parse and serialise: computing and checking the code is the caller's
/// (``authenticatedText()`` says what it covers).
/// See `docs/formats.md` section 4.
public struct KeyringFile: Equatable, Sendable {
    /// The first line of every keyring file avault writes.
    public static let magic = "avault-keyring v2"
    /// The first line of a version 1 keyring (read only by the upgrade, see ``init(parsingVersion1:)``).
    public static let magicV1 = "avault-keyring v1"
    /// The highest version number a key may have.
    public static let maximumVersion = 1_000_000
    /// The size of the authentication code (BLAKE2b-256).
    public static let macSize = 32

    /// How sealed secrets' key-encryption key is derived from the passphrase.
    public struct KDF: Equatable, Sendable {
        /// Argon2id passes.
        public var opsLimit: UInt64
        /// Argon2id memory in bytes.
        public var memLimit: UInt64
        /// 16-byte salt.
        public var salt: [UInt8]
        /// A constant sealed under the derived key, so a wrong passphrase is recognised.
        public var check: Sealed
        public init(opsLimit: UInt64, memLimit: UInt64, salt: [UInt8], check: Sealed) {
            self.opsLimit = opsLimit; self.memLimit = memLimit; self.salt = salt; self.check = check
        }
    }

    /// An XChaCha20-Poly1305 nonce and ciphertext ‖ tag.
    public struct Sealed: Equatable, Sendable {
        public var nonce: [UInt8]
        public var ciphertext: [UInt8]
        public init(nonce: [UInt8], ciphertext: [UInt8]) { self.nonce = nonce; self.ciphertext = ciphertext }
    }

    /// Kinds of key, by algorithm.
    public enum Algorithm: String, CaseIterable, Sendable {
        /// A 32-byte content key for v2 blobs.
        case xchacha20poly1305
        /// Legacy AES keys for v1 blobs.
        case aes128cbc = "aes128-cbc", aes192cbc = "aes192-cbc", aes256cbc = "aes256-cbc"
        /// An Ed25519 signing key (secret: 64 bytes, seed ‖ public key).
        case ed25519
        /// An X25519 identity for age files (secret: the 32-byte scalar; public: its point).
        case x25519

        /// The secret's size in bytes.
        public var secretSize: Int {
            switch self {
            case .xchacha20poly1305, .aes256cbc, .x25519: 32
            case .aes128cbc: 16
            case .aes192cbc: 24
            case .ed25519: 64
            }
        }

        /// What the key is for.
        public var kind: KeyKind {
            switch self {
            case .xchacha20poly1305: .content
            case .aes128cbc, .aes192cbc, .aes256cbc: .legacy
            case .ed25519: .signing
            case .x25519: .identity
            }
        }

        /// Whether entries carry a `public:` line (signing keys and identities).
        public var hasPublicKey: Bool { self == .ed25519 || self == .x25519 }

        /// The legacy AES algorithm for a key of `size` bytes.
        public static func aes(size: Int) -> Algorithm? {
            switch size {
            case 16: .aes128cbc
            case 24: .aes192cbc
            case 32: .aes256cbc
            default: nil
            }
        }
    }

    /// How an entry's secret is stored.
    public enum Secret: Equatable, Sendable {
        /// Sealed under the keyring's passphrase-derived key.
        case sealed(Sealed)
        /// Stored in the clear (`--unprotected`), still in secret memory once read.
        case plain(SecretBytes)
    }

    /// One version of one named key.
    public struct Entry: Equatable, Sendable {
        public var algorithm: Algorithm
        /// The key's identifier, parsed once where the file is read: for content and legacy
        /// keys the kid (``KeyIdentifier/content(_:)``, written as 16 lowercase hex digits, the
        /// BLAKE2b-256 prefix of the key); for identities the same shape, of the public key; for
        /// signing keys the minisign key id (``KeyIdentifier/minisign(_:)``, written as 16
        /// uppercase hex digits as minisign prints it). Its case must fit ``algorithm``'s kind:
        /// a mismatched entry serialises to a file that does not parse.
        public var id: KeyIdentifier
        public var name: String
        /// 1 to ``KeyringFile/maximumVersion``.
        public var version: Int
        /// When the version was made; serialised as the text it was read as (avault writes UTC).
        public var created: Timestamp
        /// When it was retired; nil while active.
        public var retired: Timestamp?
        /// The public key: Ed25519 (signing keys) or X25519 (identities); nil for other keys.
        public var publicKey: [UInt8]?
        public var secret: Secret

        public init(algorithm: Algorithm, id: KeyIdentifier, name: String, version: Int, created: Timestamp,
                    retired: Timestamp? = nil, publicKey: [UInt8]? = nil, secret: Secret) {
            self.algorithm = algorithm; self.id = id; self.name = name; self.version = version
            self.created = created; self.retired = retired; self.publicKey = publicKey; self.secret = secret
        }

        /// The associated data binding a sealed secret to this entry (version 2 keyrings).
        public var associatedData: [UInt8] {
            Array("avault/keyring/v2;\(algorithm.rawValue);\(id);\(name);\(version)".utf8)
        }

        /// The associated data a version 1 keyring sealed this entry's secret with.
        public var associatedDataV1: [UInt8] {
            Array("avault/keyring/v1;\(algorithm.rawValue);\(id);\(name);\(version)".utf8)
        }

        /// Whether the secret is sealed.
        public var isSealed: Bool {
            if case .sealed = secret { return true }
            return false
        }
    }

    /// The highest log head a keyring has seen for one vault.
    public struct VaultHead: Equatable, Sendable {
        /// The vault's id: 32 lowercase hex digits.
        public var vaultID: String
        /// The log head's sequence number.
        public var seq: UInt64
        /// The log head's hash: 64 lowercase hex digits.
        public var hash: String
        /// Where the head is in the log, so that the next command reads only what follows it;
        /// nil in a line written before avault recorded it.
        public var anchor: Anchor?
        /// A vault to recipients: BLAKE2b-256 of the data key that was current at that head (64
        /// lowercase hex digits), which every later state of the vault must still hold; nil for a
        /// content-key vault, or in a line written before avault recorded it.
        public var dataKey: String?
        /// A vault to recipients: the digest of the recipients its log records at that head (64
        /// lowercase hex digits), so that the next command can read the log from there; only
        /// beside an anchor and a data key, nil otherwise.
        public var recipients: String?
        public init(vaultID: String, seq: UInt64, hash: String, anchor: Anchor? = nil, dataKey: String? = nil, recipients: String? = nil) {
            precondition(recipients == nil || (anchor != nil && dataKey != nil), "a recipients digest is recorded only beside an anchor and a data key")
            self.vaultID = vaultID; self.seq = seq; self.hash = hash; self.anchor = anchor; self.dataKey = dataKey; self.recipients = recipients
        }
    }

    /// Which vault this keyring last used at one location (`at:` line).
    public struct Place: Equatable, Sendable {
        /// BLAKE2b-256 of the location's canonical text (64 lowercase hex digits): the file
        /// records where its owner keeps vaults without spelling the places out.
        public var location: String
        /// The vault's id: 32 lowercase hex digits.
        public var vaultID: String
        public init(location: String, vaultID: String) { self.location = location; self.vaultID = vaultID }
    }

    /// The line of the log that holds a recorded head, and the hash of the log's first line
    /// (its `init` entry), both checked again by the command that uses them (formats.md 8.6).
    public struct Anchor: Equatable, Sendable {
        /// The head's line number in the log (1 for the first line).
        public var line: UInt64
        /// The hash of the log's first line: 64 lowercase hex digits.
        public var first: String
        public init(line: UInt64, first: String) { self.line = line; self.first = first }
    }

    /// The associated data of the passphrase check (version 2).
    public static let checkAssociatedData = Array("avault/keyring/v2;check".utf8)
    /// The associated data of a version 1 keyring's passphrase check.
    public static let checkAssociatedDataV1 = Array("avault/keyring/v1;check".utf8)
    /// The plaintext of the passphrase check.
    public static let checkPlaintext = Array("avault keyring passphrase check".utf8)

    /// Present once any sealed secret exists.
    public var kdf: KDF?
    /// Entries, by name then version.
    public var entries: [Entry]
    /// The highest log head seen per vault, by vault id.
    public var vaultHeads: [VaultHead]
    /// The vault last used at each location, by location.
    public var places: [Place]
    /// The authentication code of ``authenticatedText()`` as the file carries it: 32 bytes, or
    /// nil for a keyring without passphrase (`mac: none`), which nothing can authenticate.
    public var mac: [UInt8]?

    public init(kdf: KDF? = nil, entries: [Entry] = [], vaultHeads: [VaultHead] = [], places: [Place] = [], mac: [UInt8]? = nil) {
        self.kdf = kdf
        self.entries = entries
        self.vaultHeads = vaultHeads
        self.places = places
        self.mac = mac
    }

    /// Whether `name` is a valid key name: 1–64 of `A–Z a–z 0–9 . _ -`, not starting with `.` or `-`.
    public static func isValidName(_ name: String) -> Bool {
        let u = Array(name.utf8)
        guard (1...64).contains(u.count), u[0] != UInt8(ascii: "."), u[0] != UInt8(ascii: "-") else { return false }
        return u.allSatisfy { c in
            (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
        }
    }

    /// Whether `text` is `count` lowercase hex digits (a vault id: 32; a log head hash: 64).
    public static func isLowercaseHex(_ text: String, count: Int) -> Bool {
        let u = Array(text.utf8)
        return u.count == count && u.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Which format `text` is in, from its first line: 1, 2, or nil when it is no keyring.
    public static func formatVersion(of text: String) -> Int? {
        let first = TextLines.split(text, stripCR: false)[0]
        if first.utf8.elementsEqual(magic.utf8) { return 2 }
        if first.utf8.elementsEqual(magicV1.utf8) { return 1 }
        return nil
    }
}

// MARK: - Serialisation

extension KeyringFile {
    /// Everything the authentication code covers: the whole file up to, not including, the
    /// `mac:` line. Entries are written sorted by name, then version; vault heads by vault id; places
    /// by location.
    public func authenticatedText() -> String {
        var out = Self.magic + "\n"
        if let kdf {
            out += "kdf: argon2id \(kdf.opsLimit) \(kdf.memLimit) \(Base64.encode(kdf.salt))\n"
            out += "check: \(Self.text(kdf.check))\n"
        } else {
            out += "kdf: none\n"
        }
        for e in entries.sorted(by: { ($0.name, $0.version) < ($1.name, $1.version) }) {
            out += "\nkey: \(e.algorithm.rawValue) \(e.id.description) \(e.name) \(e.version)\n"
            out += "created: \(e.created.text)\n"
            out += "status: " + (e.retired.map { "retired \($0.text)" } ?? "active") + "\n"
            if let pk = e.publicKey { out += "public: \(Base64.encode(pk))\n" }
            switch e.secret {
            case .sealed(let s): out += "secret: sealed \(Self.text(s))\n"
            case .plain(let secret): out += "secret: plain \(Base64.encode(secret))\n"
            }
        }
        if !vaultHeads.isEmpty {
            out += "\n"
            for h in vaultHeads.sorted(by: { $0.vaultID < $1.vaultID }) {
                out += "vault: \(h.vaultID) \(h.seq) \(h.hash)" + (h.anchor.map { " \($0.line) \($0.first)" } ?? "")
                    + (h.dataKey.map { " \($0)" } ?? "") + (h.anchor != nil && h.dataKey != nil ? h.recipients.map { " \($0)" } ?? "" : "") + "\n"
            }
        }
        if !places.isEmpty {
            out += "\n"
            for p in places.sorted(by: { $0.location < $1.location }) { out += "at: \(p.location) \(p.vaultID)\n" }
        }
        return out + "\n"
    }

    /// The last line of the file for `mac` (nil: `mac: none`).
    public static func macLine(_ mac: [UInt8]?) -> String {
        "mac: " + (mac.map { Base64.encode($0) } ?? "none") + "\n"
    }

    /// The file's text: ``authenticatedText()`` followed by the `mac:` line of ``mac``.
    public func serialized() -> String {
        authenticatedText() + Self.macLine(mac)
    }

    private static func text(_ s: Sealed) -> String {
        Base64.encode(s.nonce) + ";" + Base64.encode(s.ciphertext)
    }

    /// Parses a version 2 keyring strictly: exactly the text ``serialized()`` writes (so every
    /// file that parses serialises back to the same bytes). Errors name the line and never quote
    /// a secret. A version 1 file is refused (see ``init(parsingVersion1:)``).
    public init(parsing text: String) throws(FormatError) {
        try self.init(text, format: 2)
    }

    /// Parses a version 1 keyring (`avault-keyring v1`: no vault heads, no `mac:` line, entries
    /// in any order), for the one-time upgrade. Nothing in such a file is authenticated but
    /// each sealed secret with its own entry's name, id and version.
    public init(parsingVersion1 text: String) throws(FormatError) {
        try self.init(text, format: 1)
    }

    private init(_ text: String, format: Int) throws(FormatError) {
        let magic = format == 2 ? Self.magic : Self.magicV1
        var lines = TextLines.split(text, stripCR: false)
        guard lines.last?.isEmpty == true else { throw Self.error("the file does not end with a newline", line: lines.count) }
        lines.removeLast()
        guard lines.first.map({ $0.utf8.elementsEqual(magic.utf8) }) == true else {
            if format == 2, lines.first.map({ $0.utf8.elementsEqual(Self.magicV1.utf8) }) == true {
                throw Self.error("a version 1 keyring ('\(Self.magicV1)'): upgrade it with 'avault keys upgrade'", line: 1)
            }
            throw Self.error("not an avault keyring (expected '\(magic)')", line: 1)
        }
        var i = 1
        func field(_ name: String) throws(FormatError) -> Substring {
            guard i < lines.count, let value = TextLines.value(lines[i], after: name + ": ") else {
                throw Self.error("expected '\(name): …'", line: i + 1)
            }
            i += 1
            return value
        }

        let kdfWords = TextLines.split(try field("kdf"), at: 0x20)
        var kdf: KDF?
        if kdfWords == ["none"] {
            kdf = nil
        } else {
            guard kdfWords.count == 4, kdfWords[0] == "argon2id",
                  let ops = Self.decimal(kdfWords[1]), let mem = Self.decimal(kdfWords[2]),
                  let salt = try? Base64.decode(kdfWords[3]), salt.count == 16 else {
                throw Self.error("expected 'kdf: argon2id <ops> <mem> <base64 16-byte salt>' or 'kdf: none' (numbers in decimal, at most \(UInt64.max))", line: i)
            }
            let checkText = try field("check")
            let check = try Self.sealed(checkText, line: i)
            kdf = KDF(opsLimit: ops, memLimit: mem, salt: salt, check: check)
        }

        var entries: [Entry] = []
        var seen = Set<String>()
        var ids = Set<String>()
        var heads: [VaultHead] = []
        var places: [Place] = []
        var mac: [UInt8]?
        var sawMAC = false
        while i < lines.count {
            guard lines[i].utf8.isEmpty else { throw Self.error("expected a blank line before the next block", line: i + 1) }
            i += 1
            if format == 2, i == lines.count { throw Self.error("expected 'mac: …' after the last blank line", line: i + 1) }
            if format == 2, i < lines.count, TextLines.value(lines[i], after: "mac: ") != nil {
                let macLine = i + 1
                let value = try field("mac")
                if value.utf8.elementsEqual("none".utf8) {
                    guard kdf == nil else { throw Self.error("'mac: none' in a keyring with a passphrase", line: macLine) }
                } else {
                    guard let m = try? Base64.decode(value), m.count == Self.macSize else {
                        throw Self.error("expected 'mac: <base64 32-byte code>' or 'mac: none'", line: macLine)
                    }
                    guard kdf != nil else { throw Self.error("an authentication code in a keyring without passphrase ('kdf: none')", line: macLine) }
                    mac = m
                }
                guard i == lines.count else { throw Self.error("nothing may follow the 'mac:' line", line: i + 1) }
                sawMAC = true
                break
            }
            if format == 2, i < lines.count, TextLines.value(lines[i], after: "vault: ") != nil {
                guard heads.isEmpty, places.isEmpty else {
                    throw Self.error(heads.isEmpty ? "vault heads come before the 'at:' lines" : "a second block of vault heads", line: i + 1)
                }
                while i < lines.count, TextLines.value(lines[i], after: "vault: ") != nil {
                    let lineNumber = i + 1
                    let words = TextLines.split(try field("vault"), at: 0x20)
                    let usage = "expected 'vault: <32 hex digits> <seq> <64 hex digits> [<line> <64 hex digits>] [<64 hex digits>]', or with both of those and one more <64 hex digits>"
                        + " (lowercase hex, seq and line in decimal, at most \(UInt64.max), line from 1)"
                    guard (3...7).contains(words.count), Self.isLowercaseHex(String(words[0]), count: 32), let seq = Self.decimal(words[1]),
                          Self.isLowercaseHex(String(words[2]), count: 64) else {
                        throw Self.error(usage, line: lineNumber)
                    }
                    var anchor: Anchor?
                    if words.count >= 5 {
                        guard let line = Self.decimal(words[3]), line >= 1, Self.isLowercaseHex(String(words[4]), count: 64) else {
                            throw Self.error(usage, line: lineNumber)
                        }
                        anchor = Anchor(line: line, first: String(words[4]))
                    }
                    var dataKey: String?, recipients: String?
                    if words.count == 4 || words.count >= 6 {
                        let word = words[words.count == 4 ? 3 : 5]
                        guard Self.isLowercaseHex(String(word), count: 64) else { throw Self.error(usage, line: lineNumber) }
                        dataKey = String(word)
                    }
                    if words.count == 7 {
                        guard Self.isLowercaseHex(String(words[6]), count: 64) else { throw Self.error(usage, line: lineNumber) }
                        recipients = String(words[6])
                    }
                    let head = VaultHead(vaultID: String(words[0]), seq: seq, hash: String(words[2]), anchor: anchor, dataKey: dataKey, recipients: recipients)
                    if let last = heads.last, !(last.vaultID < head.vaultID) {
                        throw Self.error(last.vaultID == head.vaultID ? "vault \(head.vaultID) appears twice" : "vault heads out of order (sorted by vault id)", line: lineNumber)
                    }
                    heads.append(head)
                }
                continue
            }
            if format == 2, i < lines.count, TextLines.value(lines[i], after: "at: ") != nil {
                guard places.isEmpty else { throw Self.error("a second block of 'at:' lines", line: i + 1) }
                while i < lines.count, TextLines.value(lines[i], after: "at: ") != nil {
                    let lineNumber = i + 1
                    let words = TextLines.split(try field("at"), at: 0x20)
                    guard words.count == 2, Self.isLowercaseHex(String(words[0]), count: 64), Self.isLowercaseHex(String(words[1]), count: 32) else {
                        throw Self.error("expected 'at: <64 hex digits> <32 hex digits>' (lowercase hex)", line: lineNumber)
                    }
                    let place = Place(location: String(words[0]), vaultID: String(words[1]))
                    if let last = places.last, !(last.location < place.location) {
                        throw Self.error(last.location == place.location ? "location \(place.location) appears twice" : "'at:' lines out of order (sorted by location)", line: lineNumber)
                    }
                    places.append(place)
                }
                continue
            }
            guard heads.isEmpty, places.isEmpty else {
                let isKey = i < lines.count && TextLines.value(lines[i], after: "key: ") != nil
                throw Self.error(isKey ? "keys come before the vault heads" : "expected 'mac: …' after the vault heads", line: i + 1)
            }
            let headerLine = i + 1
            let head = TextLines.split(try field("key"), at: 0x20)
            guard head.count == 4, let algorithm = Algorithm(rawValue: String(head[0])),
                  let version = Int(head[3]), version >= 1, String(version) == head[3] else {
                throw Self.error("expected 'key: <algorithm> <id> <name> <version>'", line: headerLine)
            }
            guard version <= Self.maximumVersion else {
                throw Self.error("version \(head[3]) is beyond the last a key may have (\(Self.maximumVersion))", line: headerLine)
            }
            let idText = String(head[1]), name = String(head[2])
            guard Self.isValidID(idText, for: algorithm), let id = KeyIdentifier(idText, kind: algorithm.kind) else {
                throw Self.error("malformed key id", line: headerLine)
            }
            guard Self.isValidName(name) else { throw Self.error("invalid key name", line: headerLine) }
            guard seen.insert("\(name) \(version)").inserted else {
                throw Self.error("key '\(name)' version \(version) appears twice", line: headerLine)
            }
            // Compared as written (a signing id and a content kid of the same digits clash too).
            guard ids.insert(idText).inserted else { throw Self.error("key id \(idText) appears twice", line: headerLine) }
            if format == 2, let last = entries.last, !((last.name, last.version) < (name, version)) {
                throw Self.error("keys out of order (sorted by name, then version)", line: headerLine)
            }
            guard let created = Timestamp(String(try field("created"))) else {
                throw Self.error("'created' is not an RFC 3339 time", line: i)
            }
            let status = try field("status")
            var retired: Timestamp?
            if !status.utf8.elementsEqual("active".utf8) {
                guard let text = TextLines.value(status, after: "retired "), let time = Timestamp(String(text)) else {
                    throw Self.error("expected 'status: active' or 'status: retired <time>'", line: i)
                }
                retired = time
            }
            var publicKey: [UInt8]?
            if algorithm.hasPublicKey {
                let publicText = try field("public")
                guard let pk = try? Base64.decode(publicText), pk.count == 32 else {
                    throw Self.error("expected 'public: <base64 32-byte key>'", line: i)
                }
                publicKey = pk
            }
            let secretText = try field("secret")
            let secret: Secret
            if let sealedText = TextLines.value(secretText, after: "sealed ") {
                let s = try Self.sealed(sealedText, line: i)
                guard s.ciphertext.count == algorithm.secretSize + 16 else {
                    throw Self.error("sealed secret has the wrong size for \(algorithm.rawValue)", line: i)
                }
                secret = .sealed(s)
            } else if let plainText = TextLines.value(secretText, after: "plain ") {
                guard let key = try? Base64.decodeSecret(utf8: Array(plainText.utf8)),
                      key.count == algorithm.secretSize else {
                    throw Self.error("malformed plain secret (expected base64 of \(algorithm.secretSize) bytes)", line: i)
                }
                secret = .plain(key)
            } else {
                throw Self.error("expected 'secret: sealed …' or 'secret: plain …'", line: i)
            }
            entries.append(Entry(algorithm: algorithm, id: id, name: name, version: version, created: created,
                                 retired: retired, publicKey: publicKey, secret: secret))
        }
        if format == 2, !sawMAC { throw Self.error("expected a blank line and 'mac: …' at the end", line: lines.count + 1) }
        if kdf == nil, entries.contains(where: \.isSealed) {
            throw Self.error("sealed secrets but 'kdf: none'", line: 2)
        }
        self.init(kdf: kdf, entries: entries, vaultHeads: heads, places: places, mac: mac)
    }

    /// A decimal `UInt64` written the one way ``serialized()`` writes it: no sign, no leading
    /// zero; nil when it is not, or when it does not fit.
    private static func decimal(_ text: Substring) -> UInt64? {
        let u = text.utf8
        guard let first = u.first, u.allSatisfy({ (0x30...0x39).contains($0) }), first != 0x30 || u.count == 1 else { return nil }
        return UInt64(text)
    }

    private static func sealed(_ text: Substring, line: Int) throws(FormatError) -> Sealed {
        let parts = TextLines.split(text, at: 0x3B)
        guard parts.count == 2, let nonce = try? Base64.decode(parts[0]), nonce.count == 24,
              let ct = try? Base64.decode(parts[1]), ct.count >= 16 else {
            throw error("expected '<base64 24-byte nonce>;<base64 ciphertext>'", line: line)
        }
        return Sealed(nonce: nonce, ciphertext: ct)
    }

    /// Content and legacy ids are lowercase hex; signing ids uppercase (as minisign prints).
    static func isValidID(_ id: String, for algorithm: Algorithm) -> Bool {
        let u = Array(id.utf8)
        guard u.count == 16 else { return false }
        let upper = algorithm == .ed25519
        return u.allSatisfy { c in
            (0x30...0x39).contains(c) || (upper ? (0x41...0x46).contains(c) : (0x61...0x66).contains(c))
        }
    }

    private static func error(_ why: String, line: Int) -> FormatError {
        .invalidKeyring(why, line: line)
    }
}
