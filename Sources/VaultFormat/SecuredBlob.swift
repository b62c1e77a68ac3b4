#if canImport(Glibc)
import Glibc // memchr
#endif
import VaultCrypto

/// A `secured` field value, parsed strictly. See `docs/formats.md`.
///
/// - v1 (legacy): `B64(ciphertext);B64(iv)`, AES-CBC with PKCS#7, no authentication.
/// - v2: `v2;<kid>;B64(nonce);B64(ciphertext ‖ tag)`, XChaCha20-Poly1305-IETF bound to a context.
/// - v3: `v3;B64(age file)`, an age v1 file to X25519 recipients whose header carries an
///   `avault-context` stanza binding it to a context.
///
/// Parsing is strict: canonical padded base64 only, no whitespace, exact field counts and
/// sizes, so every blob that parses serialises back to the identical string.
public enum SecuredBlob: Equatable, Sendable {
    /// Legacy AES-CBC: `ciphertext` is a non-empty multiple of 16 bytes, `iv` 16 bytes.
    case v1(ciphertext: [UInt8], iv: [UInt8])
    /// XChaCha20-Poly1305: `nonce` is 24 bytes, `sealed` is ciphertext ‖ 16-byte tag.
    case v2(kid: KeyID, nonce: [UInt8], sealed: [UInt8])
    /// An age file to X25519 recipients (`age`), its header parsed (`header`): one or more
    /// `X25519` stanzas and exactly one ``v3ContextStanzaType`` stanza.
    case v3(age: [UInt8], header: AgeHeader)

    /// IV size for v1 (16).
    public static let v1IVSize = 16
    /// AES block size (16).
    public static let v1BlockSize = 16
    /// Nonce size for v2 (24).
    public static let v2NonceSize = 24
    /// Tag size for v2 (16).
    public static let v2TagSize = 16
    /// The v2 associated-data prefix.
    public static let v2AssociatedDataPrefix = "avault/secured/v2;"
    /// The type of the stanza that binds a v3 blob to its context.
    public static let v3ContextStanzaType = "avault-context"
    /// What the v3 context digest hashes before the context (formats.md §1.4).
    public static let v3ContextDigestPrefix = "avault/secured/v3;"
    /// The size of the v3 context digest (BLAKE2b-256).
    public static let v3ContextDigestSize = 32
    /// The smallest payload after a v3 blob's header: the 16-byte nonce and one sealed chunk.
    static let v3MinimumPayload = 16 + 16

    /// Parses `text` exactly as it appears in the field (no surrounding whitespace).
    /// Throws ``FormatError/invalidSecuredBlob(_:)`` saying precisely what is wrong.
    public init(parsing text: String) throws(FormatError) {
        switch try Self.read(text, field: { (s: Substring, name: String) throws(FormatError) in try Self.base64(s, name: name) }, count: \.count) {
        case let .v1(ciphertext, iv): self = .v1(ciphertext: ciphertext, iv: iv)
        case let .v2(kid, nonce, sealed): self = .v2(kid: kid, nonce: nonce, sealed: sealed)
        case let .v3(age):
            self = .v3(age: age, header: try Self.v3Header(age))
        }
    }

    /// What a blob is, as ``init(parsing:)`` reads it, without its bytes.
    public struct Form: Equatable, Sendable {
        /// `"v1"` or `"v2"` (``SecuredBlob/formatName``).
        public var formatName: String
        /// The kid of a v2 blob.
        public var keyID: KeyID?

        public init(formatName: String, keyID: KeyID?) {
            self.formatName = formatName
            self.keyID = keyID
        }
    }

    /// The form of the blob `text`: exactly the checks of ``init(parsing:)``, with the same
    /// errors, but its base64 fields are checked and measured without being decoded
    /// (``Base64/strictDecodedCount(_:)``) — for `avault verify`, which only reports a blob's
    /// format.
    /// A v3 blob is decoded: its header is part of what makes it well-formed.
    public static func form(of text: String) throws(FormatError) -> Form {
        if text.utf8.starts(with: "v3;".utf8) {
            let blob = try SecuredBlob(parsing: text)
            return Form(formatName: blob.formatName, keyID: nil)
        }
        switch try read(text, field: { (s: Substring, name: String) throws(FormatError) in try base64Count(s, name: name) }, count: { $0 }) {
        case .v1: return Form(formatName: "v1", keyID: nil)
        case let .v2(kid, _, _): return Form(formatName: "v2", keyID: kid)
        case .v3: return Form(formatName: "v3", keyID: nil)
        }
    }

    /// A blob's fields, each read by `field` (decoded, or only measured), `count` giving its
    /// length in bytes.
    private enum Fields<Field> {
        case v1(Field, Field)
        case v2(KeyID, Field, Field)
        case v3(Field)
    }

    private static func read<Field>(_ text: String, field: (Substring, String) throws(FormatError) -> Field,
                                    count: (Field) -> Int) throws(FormatError) -> Fields<Field> {
        if text.isEmpty { throw .invalidSecuredBlob("the blob is empty") }
        let fields = Self.fields(text)
        if fields[0] == "v2" {
            return try Self.parseV2(fields, field: field, count: count)
        } else if fields[0] == "v3" {
            guard fields.count == 2 else {
                throw .invalidSecuredBlob("v3 blob has \(fields.count) fields, expected 2: v3;<age file>")
            }
            return .v3(try field(fields[1], "v3 age file"))
        } else if fields.count == 2 {
            do {
                return try Self.parseV1(fields, field: field, count: count)
            } catch {
                if Self.looksLikeVersionTag(fields[0]) { throw Self.unsupported(fields[0]) }
                throw error
            }
        } else if Self.looksLikeVersionTag(fields[0]) {
            throw Self.unsupported(fields[0])
        } else if fields.count == 1 {
            throw .invalidSecuredBlob(Self.noSemicolon)
        } else {
            throw .invalidSecuredBlob("expected 2 fields (v1), 4 fields starting with 'v2' (v2) or 2 starting with 'v3' (v3), found \(fields.count)")
        }
    }

    /// A blob with no `;` at all: every form it could have been.
    private static let noSemicolon =
        "expected '<base64 ciphertext>;<base64 iv>' (v1), 'v2;<kid>;<nonce>;<ciphertext>' (v2) or 'v3;<age file>' (v3), found no ';'"

    /// The longest blob read whole from a file or standard input when it starts with a version
    /// tag (a v2 blob is one authenticated message, a v3 blob one age file): a record's limit,
    /// as a `secured` field is part of one. (A long v1 blob is streamed instead.)
    public static let wholeLimit = RecordLimits.fileBytes

    /// The longest plaintext `secured encrypt` takes: its blob, in base64 with its other
    /// fields, stays under ``wholeLimit`` (48 MiB less 4 KiB).
    public static let plaintextLimit = wholeLimit / 4 * 3 - 4096

    /// How many bytes from the start of a blob ``startsWithVersionTag(_:)`` wants to see.
    public static let versionTagWindow = 16

    /// Whether a blob whose first `min(length, versionTagWindow)` bytes are `head` starts with a
    /// version tag and its `;` (`v2;`, `v3;`, or `v` and digits, as an unsupported version):
    /// such a blob is parsed whole (``init(parsing:)``), never read from its end as v1 — a v1
    /// blob's first field is base64 of at least 16 bytes, longer than the window, and holds no `;`.
    public static func startsWithVersionTag(_ head: some Collection<UInt8>) -> Bool {
        let head = Array(head.prefix(versionTagWindow))
        guard let semicolon = head.firstIndex(of: UInt8(ascii: ";")) else { return false }
        return looksLikeVersionTag(Substring(String(decoding: head[..<semicolon], as: UTF8.self)))
    }

    private static func unsupported(_ tag: Substring) -> FormatError {
        .invalidSecuredBlob("unsupported format version '\(tag)' (this avault reads v1, v2 and v3)")
    }

    private static func parseV2<Field>(_ fields: [Substring], field: (Substring, String) throws(FormatError) -> Field,
                                       count: (Field) -> Int) throws(FormatError) -> Fields<Field> {
        guard fields.count == 4 else {
            throw .invalidSecuredBlob("v2 blob has \(fields.count) fields, expected 4: v2;<kid>;<nonce>;<ciphertext>")
        }
        guard let kid = KeyID(hex: fields[1]) else {
            throw .invalidSecuredBlob("v2 key id must be 16 lowercase hex digits")
        }
        let nonce = try field(fields[2], "v2 nonce")
        guard count(nonce) == v2NonceSize else {
            throw .invalidSecuredBlob("v2 nonce is \(count(nonce)) bytes, expected \(v2NonceSize)")
        }
        let sealed = try field(fields[3], "v2 ciphertext")
        guard count(sealed) >= v2TagSize else {
            throw .invalidSecuredBlob("v2 ciphertext is \(count(sealed)) bytes, shorter than its \(v2TagSize)-byte tag")
        }
        return .v2(kid, nonce, sealed)
    }

    private static func parseV1<Field>(_ fields: [Substring], field: (Substring, String) throws(FormatError) -> Field,
                                       count: (Field) -> Int) throws(FormatError) -> Fields<Field> {
        let ciphertext = try field(fields[0], "v1 ciphertext")
        let iv = try field(fields[1], "v1 iv")
        try checkV1IV(count: count(iv))
        try checkV1Ciphertext(count: count(ciphertext))
        return .v1(ciphertext, iv)
    }

    private static func checkV1IV(count: Int) throws(FormatError) {
        guard count == v1IVSize else {
            throw .invalidSecuredBlob("v1 iv is \(count) bytes, expected \(v1IVSize)")
        }
    }

    /// Checks the size of a v1 blob's ciphertext: a non-empty multiple of 16 bytes.
    public static func checkV1Ciphertext(count: Int) throws(FormatError) {
        guard count > 0, count % v1BlockSize == 0 else {
            throw .invalidSecuredBlob("v1 ciphertext is \(count) bytes, expected a non-empty multiple of \(v1BlockSize)")
        }
    }

    /// What a v1 blob whose ciphertext field is not strict base64 is refused with.
    public static let v1CiphertextNotBase64 = notBase64("v1 ciphertext")

    /// The format a (possibly malformed) blob claims to be: `"v1"`, `"v2"` or `"unknown"`.
    public static func claimedFormat(of text: String) -> String {
        let fields = Self.fields(text)
        if fields[0] == "v2" || fields[0] == "v3" { return String(fields[0]) }
        return fields.count == 2 ? "v1" : "unknown"
    }

    /// The kid of a v2 blob.
    public var keyID: KeyID? {
        if case .v2(let kid, _, _) = self { return kid }
        return nil
    }

    /// `"v1"`, `"v2"` or `"v3"`.
    public var formatName: String {
        switch self {
        case .v1: "v1"
        case .v2: "v2"
        case .v3: "v3"
        }
    }

    /// The blob as it is written in a record.
    public var text: String {
        switch self {
        case let .v1(ciphertext, iv):
            return Base64.encode(ciphertext) + ";" + Base64.encode(iv)
        case let .v2(kid, nonce, sealed):
            return "v2;" + kid.hex + ";" + Base64.encode(nonce) + ";" + Base64.encode(sealed)
        case let .v3(age, _):
            return "v3;" + Base64.encode(age)
        }
    }

    /// The context digest a v3 blob's `avault-context` stanza carries (its one argument,
    /// unpadded base64), or nil for another form.
    public var v3ContextDigest: [UInt8]? {
        guard case .v3(_, let header) = self,
              let stanza = header.stanzas.first(where: { $0.type == Self.v3ContextStanzaType }) else { return nil }
        return Base64.decodeUnpadded(stanza.arguments[0].utf8)
    }

    /// The types of a v3 blob's stanzas, in order (empty for another form).
    public var stanzaTypes: [String] {
        guard case .v3(_, let header) = self else { return [] }
        return header.stanzas.map(\.type)
    }

    /// The stanza that binds a v3 blob to the context whose digest is `digest`.
    public static func v3ContextStanza(digest: [UInt8]) -> AgeStanza {
        AgeStanza(type: v3ContextStanzaType, arguments: [Base64.encodeUnpadded(digest)], body: [])
    }

    /// The header of a v3 blob's age file, checked: it parses, it holds X25519 stanzas and
    /// exactly one context stanza (one argument, unpadded base64 of 32 bytes, an empty body) and
    /// nothing else, and a payload follows it.
    static func v3Header(_ age: [UInt8]) throws(FormatError) -> AgeHeader {
        let parsed: AgeHeader.Parsed
        do throws(AgeFormatError) {
            parsed = try age.withUnsafeBytes { raw in Result { () throws(AgeFormatError) in try AgeHeader.parse(raw, atEnd: true) } }.get()
        } catch { throw .invalidSecuredBlob("v3 \(error)") }
        guard case let .header(header, length) = parsed else { throw .invalidSecuredBlob("v3 age file ends inside its header") }
        var contexts = 0, recipients = 0
        for stanza in header.stanzas {
            switch stanza.type {
            case "X25519": recipients += 1
            case v3ContextStanzaType:
                contexts += 1
                guard stanza.arguments.count == 1, stanza.body.isEmpty,
                      Base64.decodeUnpadded(stanza.arguments[0].utf8)?.count == v3ContextDigestSize else {
                    throw .invalidSecuredBlob("v3 context stanza is malformed (expected one argument, the unpadded base64 of a 32-byte digest, and an empty body)")
                }
            default:
                throw .invalidSecuredBlob("v3 age file has a '\(stanza.type)' stanza; a sealed draft is encrypted to X25519 recipients only")
            }
        }
        guard contexts == 1 else { throw .invalidSecuredBlob("v3 age file has \(contexts) context stanzas, expected 1") }
        guard recipients > 0 else { throw .invalidSecuredBlob("v3 age file has no X25519 recipient") }
        guard age.count - length >= v3MinimumPayload else { throw .invalidSecuredBlob("v3 age file ends before its payload") }
        return header
    }

    /// The v2 associated data: UTF-8 of `avault/secured/v2;` + kid + `;` + context.
    public static func v2AssociatedData(kid: KeyID, context: String) -> [UInt8] {
        Array((v2AssociatedDataPrefix + kid.hex + ";" + context).utf8)
    }

    /// `text` split at every `;` byte, empty pieces kept.
    private static func fields(_ text: String) -> [Substring] {
        var text = text
        // The offsets of the `;` bytes, found in the UTF-8 itself (a blob has three at most).
        var semicolons: [Int] = []
        text.withUTF8 { utf8 in
            guard let base = utf8.baseAddress else { return }
            var i = 0
            while i < utf8.count, let found = memchr(base + i, Int32(UInt8(ascii: ";")), utf8.count - i) {
                let at = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                semicolons.append(at)
                i = at + 1
            }
        }
        let utf8 = text.utf8
        var out: [Substring] = []
        out.reserveCapacity(semicolons.count + 1)
        var start = utf8.startIndex
        for offset in semicolons {
            let semicolon = utf8.index(utf8.startIndex, offsetBy: offset)
            out.append(text[start..<semicolon])
            start = utf8.index(after: semicolon)
        }
        out.append(text[start...])
        return out
    }

    /// `v` followed by one or more digits.
    private static func looksLikeVersionTag(_ s: Substring) -> Bool {
        let u = s.utf8
        guard u.count >= 2, u.first == UInt8(ascii: "v") else { return false }
        return u.dropFirst().allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// The decoded length of a base64 field, checked as ``base64(_:name:)`` checks it.
    private static func base64Count(_ s: Substring, name: String) throws(FormatError) -> Int {
        if s.isEmpty { throw .invalidSecuredBlob("\(name) is empty") }
        var s = s
        guard let count = s.withUTF8({ Base64.strictDecodedCount($0) }) else {
            throw notBase64(name)
        }
        return count
    }

    private static func base64(_ s: Substring, name: String) throws(FormatError) -> [UInt8] {
        if s.isEmpty { throw .invalidSecuredBlob("\(name) is empty") }
        do {
            if let bytes = try s.utf8.withContiguousStorageIfAvailable({ try Base64.decodePublic(UnsafeRawBufferPointer($0)) }) {
                return bytes
            }
            return try Base64.decodePublic(Array(s.utf8))
        } catch {
            throw notBase64(name)
        }
    }

    private static func notBase64(_ name: String) -> FormatError {
        .invalidSecuredBlob("\(name) is not strict base64 (standard alphabet, padded, no whitespace)")
    }
}

// MARK: - A v1 blob read from its end

extension SecuredBlob {
    /// The end of a v1 blob too long to hold in memory, which is read from its end: the IV is
    /// its last field, after the ciphertext (formats.md §1.2).
    public struct V1Tail: Equatable, Sendable {
        /// The 16-byte IV.
        public let iv: [UInt8]
        /// How many characters `B64(ciphertext)` takes: everything before the `;`.
        public let ciphertextCharacters: Int
    }

    /// How many bytes from the end of a v1 blob ``v1Tail(length:tail:)`` wants to see: the
    /// IV's 24 characters and the `;` with room to spare, so that a wrong IV is reported as
    /// the whole-blob parser reports it.
    public static let v1TailWindow = 64

    /// Parses the end of a v1 blob of `length` bytes, given its last
    /// `min(length, v1TailWindow)` bytes as `tail`: the IV field after the last `;`, checked as
    /// ``init(parsing:)`` checks it, and where the ciphertext field ends. The ciphertext itself
    /// is for the caller to decode and check (``v1CiphertextNotBase64``,
    /// ``checkV1Ciphertext(count:)``); a second `;` inside it makes it not strict base64.
    public static func v1Tail(length: Int, tail: [UInt8]) throws(FormatError) -> V1Tail {
        precondition(tail.count == min(length, v1TailWindow), "v1Tail wants the last min(length, \(v1TailWindow)) bytes")
        guard let semicolon = tail.lastIndex(of: UInt8(ascii: ";")) else {
            if tail.count == length { throw .invalidSecuredBlob(Self.noSemicolon) }
            throw .invalidSecuredBlob("expected '<base64 ciphertext>;<base64 iv>' (v1: the blob does not start 'v2;' or 'v3;'), "
                                      + "found no ';' in the last \(tail.count) bytes, where the iv belongs")
        }
        let ivField = String(decoding: tail[(semicolon + 1)...], as: UTF8.self)
        let iv = try base64(ivField[...], name: "v1 iv")
        try checkV1IV(count: iv.count)
        let ciphertextCharacters = length - (tail.count - semicolon)
        if ciphertextCharacters == 0 { throw .invalidSecuredBlob("v1 ciphertext is empty") }
        return V1Tail(iv: iv, ciphertextCharacters: ciphertextCharacters)
    }
}
