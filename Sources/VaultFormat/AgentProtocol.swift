public import VaultCrypto

/// The messages between `avault` and its agent (docs/formats.md §9): one request and one
/// answer per connection, each a frame
///
/// ```
/// frame = length:u32 body            ; big-endian; 6 <= length <= 4096
/// body  = "AVAG" version:u8 type:u8 fields
/// ```
///
/// with fields of fixed order and size for each type (a path is `length:u16` and that many
/// bytes of UTF-8: absolute, no NUL, at most 1024 bytes; a KDF is the keyring's Argon2id salt,
/// 16 bytes, then passes and memory as u64; a vault id its 32 lowercase hex digits, as ASCII).
/// Parsing is strict: an unknown version or type, a field out of range, a short or a long body
/// are refused; what parses serialises back to the identical bytes. Frames are built in secret memory, since some carry a key, and errors
/// never quote a message's bytes.
public enum AgentProtocol {
    /// The four bytes every body begins with.
    public static let magic: [UInt8] = Array("AVAG".utf8)
    /// The protocol version this build speaks.
    public static let version: UInt8 = 1
    /// The size of the length prefix.
    public static let prefixSize = 4
    /// The smallest body (magic, version, type) and the largest.
    public static let minimumBodySize = 6
    public static let maximumBodySize = 4096
    /// The size of the key an agent holds (the keyring's Argon2id output).
    public static let keySize = 32
    /// The size of a vault id (lowercase hex digits).
    public static let vaultIDSize = 32
    /// The size of an Argon2id salt.
    public static let saltSize = 16
    /// The longest path a message carries, in bytes.
    public static let maximumPathSize = 1024
    /// The longest idle timeout, in seconds (one day).
    public static let maximumIdleTimeout: UInt32 = 86_400

    /// The body length a 4-byte prefix announces, refused outside the bounds.
    public static func bodyLength(prefix: [UInt8]) throws(FormatError) -> Int {
        guard prefix.count == prefixSize else { throw .invalidAgentMessage("a frame begins with a 4-byte length") }
        let n = prefix.reduce(0) { $0 << 8 | Int($1) }
        guard (minimumBodySize...maximumBodySize).contains(n) else {
            throw .invalidAgentMessage("a frame of \(n) bytes (\(minimumBodySize) to \(maximumBodySize) allowed)")
        }
        return n
    }

    /// Whether `path` can travel in a message: absolute, UTF-8 without NUL, 1 to 1024 bytes.
    public static func isValidPath(_ path: String) -> Bool {
        let bytes = path.utf8
        return (1...maximumPathSize).contains(bytes.count) && bytes.first == UInt8(ascii: "/") && !bytes.contains(0)
    }

    // Message types: requests below 0x80, answers above.
    static let unlockKeyType: UInt8 = 0x01, statusType: UInt8 = 0x02, stopType: UInt8 = 0x03, replaceType: UInt8 = 0x04
    static let handoffType: UInt8 = 0x05, entriesKeyType: UInt8 = 0x06
    static let keyType: UInt8 = 0x81, refusedType: UInt8 = 0x82, statusAnswerType: UInt8 = 0x83, doneType: UInt8 = 0x84

    /// A whole frame (prefix included) of `type` with `fields`, in secret memory.
    static func frame(_ type: UInt8, _ fields: (inout AgentWriter) -> Void) -> SecretBytes {
        var counter = AgentWriter(out: nil)
        fields(&counter)
        let body = magic.count + 2 + counter.count
        precondition(body <= maximumBodySize, "agent message too large")
        return SecretBytes(count: prefixSize + body) { buffer in
            var w = AgentWriter(out: buffer)
            w.u32(UInt32(body))
            w.bytes(magic)
            w.u8(version)
            w.u8(type)
            fields(&w)
            precondition(w.count == buffer.count)
        }
    }

    /// The type of `body` after its magic and version, and a reader at its fields.
    static func open(_ body: UnsafeRawBufferPointer) throws(FormatError) -> (type: UInt8, reader: AgentReader) {
        var r = AgentReader(bytes: body)
        guard body.count >= minimumBodySize, body.count <= maximumBodySize else {
            throw .invalidAgentMessage("a body of \(body.count) bytes (\(minimumBodySize) to \(maximumBodySize) allowed)")
        }
        guard try r.take(magic.count).elementsEqual(magic) else { throw .invalidAgentMessage("not an avault agent message") }
        let v = try r.u8()
        guard v == version else { throw .invalidAgentMessage("agent protocol version \(v) (this avault speaks \(version))") }
        return (try r.u8(), r)
    }
}

/// The identity of a keyring's passphrase key: the Argon2id salt and limits of its `kdf:` line.
/// A new passphrase (`keys passwd`) gives a new salt, so a key held for the old one is stale.
public struct AgentKDF: Equatable, Sendable {
    /// 16 bytes.
    public var salt: [UInt8]
    /// Argon2id passes.
    public var opsLimit: UInt64
    /// Argon2id memory in bytes.
    public var memLimit: UInt64

    public init(salt: [UInt8], opsLimit: UInt64, memLimit: UInt64) {
        precondition(salt.count == AgentProtocol.saltSize)
        self.salt = salt; self.opsLimit = opsLimit; self.memLimit = memLimit
    }
}

/// What a client asks the agent.
public enum AgentRequest: Equatable, Sendable {
    /// The key of the keyring at the canonical path `keyring`, for the passphrase of `kdf`.
    case unlockKey(keyring: String, kdf: AgentKDF)
    /// What the agent holds and until when (no secret).
    case status
    /// Wipe the key, remove the socket, exit.
    case stop
    /// The keyring's passphrase changed from `old` to `new`: hold `key` (for `new`) instead.
    case replace(keyring: String, old: AgentKDF, new: AgentKDF, key: SecretBytes)
    /// The key of a vault's entry commitment (formats.md 8.3), derived from its naming key
    /// (``AgentProtocol/keySize`` bytes) and its id (32 lowercase hex digits) by the agent,
    /// whose OpenSSL is loaded already, so that a command need not load it for this alone.
    case entriesKey(namingKey: SecretBytes, vaultID: String)

    /// The request as a frame. Paths must be ``AgentProtocol/isValidPath(_:)`` and keys
    /// ``AgentProtocol/keySize`` bytes (checked by the caller).
    public func frame() -> SecretBytes {
        switch self {
        case let .unlockKey(keyring, kdf):
            return AgentProtocol.frame(AgentProtocol.unlockKeyType) { w in w.path(keyring); w.kdf(kdf) }
        case .status:
            return AgentProtocol.frame(AgentProtocol.statusType) { _ in }
        case .stop:
            return AgentProtocol.frame(AgentProtocol.stopType) { _ in }
        case let .replace(keyring, old, new, key):
            return AgentProtocol.frame(AgentProtocol.replaceType) { w in w.path(keyring); w.kdf(old); w.kdf(new); w.key(key) }
        case let .entriesKey(namingKey, vaultID):
            return AgentProtocol.frame(AgentProtocol.entriesKeyType) { w in w.key(namingKey); w.vaultID(vaultID) }
        }
    }

    /// Parses a request body (the frame without its length prefix), strictly.
    public init(body: UnsafeRawBufferPointer) throws(FormatError) {
        let opened = try AgentProtocol.open(body)
        let type = opened.type
        var r = opened.reader
        switch type {
        case AgentProtocol.unlockKeyType:
            self = .unlockKey(keyring: try r.path(), kdf: try r.kdf())
        case AgentProtocol.statusType:
            self = .status
        case AgentProtocol.stopType:
            self = .stop
        case AgentProtocol.replaceType:
            self = .replace(keyring: try r.path(), old: try r.kdf(), new: try r.kdf(), key: try r.key())
        case AgentProtocol.entriesKeyType:
            self = .entriesKey(namingKey: try r.key(), vaultID: try r.vaultID())
        default:
            throw .invalidAgentMessage("unknown request type \(type)")
        }
        try r.end()
    }
}

/// Why the agent did not hand out its key.
public enum AgentRefusal: UInt8, Equatable, Sendable {
    /// It holds the key of another keyring.
    case otherKeyring = 1
    /// It holds a key for an earlier (or another) passphrase of this keyring.
    case staleKey = 2
    /// The request did not parse.
    case badRequest = 3
}

/// What `avault agent status` shows.
public struct AgentStatus: Equatable, Sendable {
    /// The agent's process id.
    public var pid: UInt32
    /// The canonical path of the keyring whose key it holds.
    public var keyring: String
    /// The idle timeout, in seconds.
    public var idleTimeout: UInt32
    /// Seconds left before it exits if no key is asked for.
    public var remaining: UInt32

    public init(pid: UInt32, keyring: String, idleTimeout: UInt32, remaining: UInt32) {
        self.pid = pid; self.keyring = keyring; self.idleTimeout = idleTimeout; self.remaining = remaining
    }
}

/// What the agent answers.
public enum AgentResponse: Equatable, Sendable {
    /// The key (``AgentProtocol/keySize`` bytes).
    case key(SecretBytes)
    case refused(AgentRefusal)
    case status(AgentStatus)
    /// Done (stop, replace).
    case done

    /// The answer as a frame.
    public func frame() -> SecretBytes {
        switch self {
        case let .key(key):
            return AgentProtocol.frame(AgentProtocol.keyType) { w in w.key(key) }
        case let .refused(reason):
            return AgentProtocol.frame(AgentProtocol.refusedType) { w in w.u8(reason.rawValue) }
        case let .status(s):
            return AgentProtocol.frame(AgentProtocol.statusAnswerType) { w in
                w.u32(s.pid); w.path(s.keyring); w.u32(s.idleTimeout); w.u32(s.remaining)
            }
        case .done:
            return AgentProtocol.frame(AgentProtocol.doneType) { _ in }
        }
    }

    /// Parses an answer body, strictly.
    public init(body: UnsafeRawBufferPointer) throws(FormatError) {
        let opened = try AgentProtocol.open(body)
        let type = opened.type
        var r = opened.reader
        switch type {
        case AgentProtocol.keyType:
            self = .key(try r.key())
        case AgentProtocol.refusedType:
            let code = try r.u8()
            guard let reason = AgentRefusal(rawValue: code) else { throw .invalidAgentMessage("unknown refusal \(code)") }
            self = .refused(reason)
        case AgentProtocol.statusAnswerType:
            let pid = try r.u32(), keyring = try r.path(), timeout = try r.u32(), remaining = try r.u32()
            guard (1...AgentProtocol.maximumIdleTimeout).contains(timeout), remaining <= timeout else {
                throw .invalidAgentMessage("an idle timeout out of range")
            }
            self = .status(AgentStatus(pid: pid, keyring: keyring, idleTimeout: timeout, remaining: remaining))
        case AgentProtocol.doneType:
            self = .done
        default:
            throw .invalidAgentMessage("unknown answer type \(type)")
        }
        try r.end()
    }
}

/// What `avault agent start` hands the agent it starts in the background, over a socket pair
/// the two share (never the command line or the environment).
public struct AgentHandoff: Equatable, Sendable {
    /// The canonical path of the keyring.
    public var keyring: String
    /// The passphrase the key is for.
    public var kdf: AgentKDF
    /// The key (``AgentProtocol/keySize`` bytes).
    public var key: SecretBytes
    /// The idle timeout in seconds (1 to ``AgentProtocol/maximumIdleTimeout``).
    public var idleTimeout: UInt32
    /// The path of the listening socket the agent inherits.
    public var socket: String

    public init(keyring: String, kdf: AgentKDF, key: SecretBytes, idleTimeout: UInt32, socket: String) {
        self.keyring = keyring; self.kdf = kdf; self.key = key; self.idleTimeout = idleTimeout; self.socket = socket
    }

    /// The handoff as a frame.
    public func frame() -> SecretBytes {
        AgentProtocol.frame(AgentProtocol.handoffType) { w in
            w.path(keyring); w.kdf(kdf); w.key(key); w.u32(idleTimeout); w.path(socket)
        }
    }

    /// Parses a handoff body, strictly.
    public init(body: UnsafeRawBufferPointer) throws(FormatError) {
        let opened = try AgentProtocol.open(body)
        let type = opened.type
        var r = opened.reader
        guard type == AgentProtocol.handoffType else { throw .invalidAgentMessage("not a handoff (type \(type))") }
        keyring = try r.path()
        kdf = try r.kdf()
        key = try r.key()
        idleTimeout = try r.u32()
        guard (1...AgentProtocol.maximumIdleTimeout).contains(idleTimeout) else { throw .invalidAgentMessage("an idle timeout out of range") }
        socket = try r.path()
        try r.end()
    }
}

// MARK: - Reading and writing fields

/// Writes fields big-endian into a buffer, or only counts them (`out` nil).
struct AgentWriter {
    let out: UnsafeMutableRawBufferPointer?
    var count = 0

    mutating func u8(_ v: UInt8) {
        out?[count] = v
        count += 1
    }
    mutating func u16(_ v: UInt16) { for shift in stride(from: 8, through: 0, by: -8) { u8(UInt8(truncatingIfNeeded: v >> UInt16(shift))) } }
    mutating func u32(_ v: UInt32) { for shift in stride(from: 24, through: 0, by: -8) { u8(UInt8(truncatingIfNeeded: v >> UInt32(shift))) } }
    mutating func u64(_ v: UInt64) { for shift in stride(from: 56, through: 0, by: -8) { u8(UInt8(truncatingIfNeeded: v >> UInt64(shift))) } }
    mutating func bytes<C: Collection<UInt8>>(_ b: C) { for x in b { u8(x) } }
    mutating func path(_ p: String) {
        precondition(AgentProtocol.isValidPath(p), "an agent message path must be absolute and at most 1024 bytes")
        u16(UInt16(p.utf8.count))
        bytes(p.utf8)
    }
    mutating func kdf(_ k: AgentKDF) {
        bytes(k.salt)
        u64(k.opsLimit)
        u64(k.memLimit)
    }
    mutating func vaultID(_ id: String) {
        precondition(VaultFiles.isLowerHex(id, count: AgentProtocol.vaultIDSize), "a vault id is 32 lowercase hex digits")
        bytes(id.utf8)
    }
    mutating func key(_ k: SecretBytes) {
        precondition(k.count == AgentProtocol.keySize)
        k.withUnsafeBytes { raw in
            if let out { UnsafeMutableRawBufferPointer(rebasing: out[count..<(count + raw.count)]).copyMemory(from: raw) }
            count += raw.count
        }
    }
}

/// Reads fields from a body; every read is bounds-checked.
struct AgentReader {
    let bytes: UnsafeRawBufferPointer
    var at = 0

    mutating func take(_ n: Int) throws(FormatError) -> UnsafeRawBufferPointer {
        guard n >= 0, bytes.count - at >= n else { throw .invalidAgentMessage("the message ends early") }
        defer { at += n }
        return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)])
    }
    mutating func u8() throws(FormatError) -> UInt8 { try take(1)[0] }
    mutating func u16() throws(FormatError) -> UInt16 { try take(2).reduce(0) { $0 << 8 | UInt16($1) } }
    mutating func u32() throws(FormatError) -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }
    mutating func u64() throws(FormatError) -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
    mutating func path() throws(FormatError) -> String {
        let n = Int(try u16())
        guard (1...AgentProtocol.maximumPathSize).contains(n) else { throw .invalidAgentMessage("a path of \(n) bytes") }
        let raw = try take(n)
        guard let text = String(validating: raw, as: UTF8.self), AgentProtocol.isValidPath(text) else {
            throw .invalidAgentMessage("a path that is not absolute UTF-8 without NUL")
        }
        return text
    }
    mutating func kdf() throws(FormatError) -> AgentKDF {
        let salt = Array(try take(AgentProtocol.saltSize))
        return AgentKDF(salt: salt, opsLimit: try u64(), memLimit: try u64())
    }
    mutating func vaultID() throws(FormatError) -> String {
        let raw = try take(AgentProtocol.vaultIDSize)
        guard let text = String(validating: raw, as: UTF8.self), VaultFiles.isLowerHex(text, count: AgentProtocol.vaultIDSize) else {
            throw .invalidAgentMessage("a vault id that is not 32 lowercase hex digits")
        }
        return text
    }
    mutating func key() throws(FormatError) -> SecretBytes {
        SecretBytes(copying: try take(AgentProtocol.keySize))
    }
    func end() throws(FormatError) {
        guard at == bytes.count else { throw .invalidAgentMessage("\(bytes.count - at) bytes after the message") }
    }
}
