#if canImport(Glibc)
import Glibc
#endif
import VaultCrypto
public import VaultFormat

/// An encrypted store of article payloads with versions. Every version is an envelope: a
/// `secretstream` under a version of the vault's content key, each chunk bound to the vault,
/// the object and the version. File names are keyed hashes of the IDs; the index of IDs is
/// itself sealed. Writers hold the vault's lock; every change is appended to a hash-chained log.
public final class Vault {
    public let storage: VaultStorage
    public let keyring: Keyring
    public private(set) var config: VaultFiles.Config

    /// `explicit` (`--vault`), else `AVAULT_VAULT`, else `$XDG_DATA_HOME/avault/vault`, else
    /// `~/.local/share/avault/vault`.
    public static func location(explicit: String?) -> String {
        if let explicit { return explicit }
        if let env = getenv("AVAULT_VAULT"), env[0] != 0 { return String(cString: env) }
        if let xdg = getenv("XDG_DATA_HOME"), xdg[0] != 0 { return String(cString: xdg) + "/avault/vault" }
        let home = getenv("HOME").map { String(cString: $0) } ?? "."
        return home + "/.local/share/avault/vault"
    }

    /// Creates a vault protected by the content key `keyName`.
    @discardableResult
    public static func initialize(storage: VaultStorage, keyring: Keyring, keyName: String) throws(AvaultError) -> Vault {
        guard !storage.exists() else {
            throw .refused("\(storage.location): a vault already exists there", hint: nil)
        }
        let entry = try keyring.current(keyName)
        guard entry.algorithm == .xchacha20poly1305 else {
            throw .refused("key '\(keyName)' is a \(entry.algorithm.kind) key; a vault needs a content key", hint: "create one with 'avault keys generate NAME --secret'")
        }
        try storage.create()
        return try storage.withLock { () throws(AvaultError) -> Vault in
            let vaultID = Hex.encode(SecureRandom.bytes(count: 16))
            let namingKey = SecretBytes.random(count: 32)
            let key = try keyring.secret(of: entry)
            let sealed = try namingKey.withUnsafeBytes { raw in
                Result { () throws(AvaultError) in
                    try seal(raw, key: key, kid: entry.id, ad: { VaultFiles.Config.namingKeyAssociatedData(vaultID: vaultID, kid: $0) })
                }
            }.get()
            let config = VaultFiles.Config(vaultID: vaultID, keyName: keyName, namingKey: sealed)
            try storage.replace("config", Array(config.text.utf8))
            let vault = try Vault(storage: storage, keyring: keyring)
            try vault.writeIndex([])
            try vault.log([("op", .string("init")), ("kid", .string(entry.id))])
            return vault
        }
    }

    /// Opens the vault in `storage`.
    public init(storage: VaultStorage, keyring: Keyring) throws(AvaultError) {
        self.storage = storage
        self.keyring = keyring
        guard let bytes = try storage.read("config") else {
            throw .refused("no vault at \(storage.location)", hint: "create one with 'avault vault init --key NAME'")
        }
        do { config = try VaultFiles.Config(parsing: String(decoding: bytes, as: UTF8.self)) } catch {
            throw .malformed(error, file: storage.location + "/config")
        }
    }

    /// Replaces the in-memory config after `config` was rewritten on disk.
    func replaceConfig(_ new: VaultFiles.Config) throws(AvaultError) {
        config = new
        namingKeyCache = nil
    }

    // MARK: Keys

    private var keyCache: [String: SecretBytes] = [:]
    private var namingKeyCache: SecretBytes?

    /// The content key version with id `kid` (refused if retired or missing).
    func key(kid: String) throws(AvaultError) -> SecretBytes {
        if let k = keyCache[kid] { return k }
        guard let entry = keyring.versions(of: config.keyName).first(where: { $0.id == kid }) else {
            throw .refused("the vault needs key id \(kid), which key '\(config.keyName)' does not have", hint: "see 'avault keys list'")
        }
        guard entry.retired == nil else {
            throw .refused("the vault needs key '\(config.keyName)' version \(entry.version) (id \(kid)), which is retired", hint: nil)
        }
        let k = try keyring.secret(of: entry)
        keyCache[kid] = k
        return k
    }

    /// The newest active version of the vault's key.
    func currentKey() throws(AvaultError) -> (kid: String, key: SecretBytes) {
        let entry = try keyring.current(config.keyName)
        return (entry.id, try key(kid: entry.id))
    }

    private func namingKey() throws(AvaultError) -> SecretBytes {
        if let k = namingKeyCache { return k }
        let sealed = config.namingKey
        let k = try Self.open(sealed, key: try key(kid: sealed.kid.hex), ad: config.namingKeyAssociatedData(kid: sealed.kid), what: "the vault's naming key")
        let secret = SecretBytes(copying: k)
        namingKeyCache = secret
        return secret
    }

    /// The file-name stem of an object: 32 hex digits of BLAKE2b-256 keyed with the naming key.
    public func objectName(_ id: String) throws(AvaultError) -> String {
        let digest = BLAKE2b.hash(Array(id.utf8), digestSize: 32, key: try namingKey())
        return Hex.encode(Array(digest[0..<16]))
    }

    private static func seal<P: BytesView>(_ plaintext: P, key: SecretBytes, kid: String, ad: (KeyID) -> [UInt8]) throws(AvaultError) -> VaultFiles.Sealed {
        let id = KeyID(hex: kid)!
        let nonce = SecureRandom.bytes(count: 24)
        do {
            return VaultFiles.Sealed(kid: id, nonce: nonce, ciphertext: try XChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce, associatedData: ad(id)))
        } catch { throw .crypto(error) }
    }

    private static func open(_ sealed: VaultFiles.Sealed, key: SecretBytes, ad: [UInt8], what: String) throws(AvaultError) -> [UInt8] {
        do { return try XChaCha20Poly1305.open(sealed.ciphertext, key: key, nonce: sealed.nonce, associatedData: ad) } catch {
            throw .tampered("\(what) does not authenticate: the vault was altered", hint: "run 'avault vault verify'")
        }
    }

    // MARK: Index

    /// The decrypted index.
    public func readIndex() throws(AvaultError) -> [VaultFiles.Object] {
        guard let bytes = try storage.read("index") else { throw .refused("\(storage.location): the vault has no index", hint: nil) }
        let sealed: VaultFiles.Sealed
        do { sealed = try VaultFiles.parseIndex(String(decoding: bytes, as: UTF8.self)) } catch {
            // Only avault writes the index: a malformed one was altered or damaged.
            throw .tampered("the index does not authenticate: it is malformed (\(error))", hint: "run 'avault vault verify'")
        }
        let plain = try Self.open(sealed, key: try key(kid: sealed.kid.hex), ad: config.indexAssociatedData(kid: sealed.kid), what: "the index")
        do { return try VaultFiles.parseIndexJSON(plain) } catch { throw .malformed(error, file: storage.location + "/index") }
    }

    func writeIndex(_ objects: [VaultFiles.Object]) throws(AvaultError) {
        let (kid, key) = try currentKey()
        let sealed = try Self.seal(VaultFiles.indexJSON(objects), key: key, kid: kid, ad: { config.indexAssociatedData(kid: $0) })
        try storage.replace("index", Array(VaultFiles.indexText(sealed).utf8))
    }

    // MARK: Log

    /// Appends one entry to the hash-chained log.
    func log(_ fields: [(key: String, value: FieldValue)]) throws(AvaultError) {
        try appendLog([fields])
    }

    func appendLog(_ entries: [[(key: String, value: FieldValue)]]) throws(AvaultError) {
        var (seq, prev) = try VaultLog.tail(storage)
        var out = ""
        let time = RFC3339.format(Int64(Glibc.time(nil)))
        for fields in entries {
            seq += 1
            let line = FieldValue.object([("seq", .number(Double(seq))), ("time", .string(time))] + fields + [("prev", .string(prev))]).jsonText
            prev = VaultLog.hash(line)
            out += line + "\n"
        }
        try storage.append("log", Array(out.utf8))
    }

    // MARK: Writing

    /// One payload to store.
    public struct Input {
        public var id: String
        public var fd: Int32
        public var contentType: String?
        public init(id: String, fd: Int32, contentType: String?) { self.id = id; self.fd = fd; self.contentType = contentType }
    }

    /// Stores a new version of each input, acknowledged (returned) only once every envelope,
    /// the log and the index are durable. One lock, one directory sync and one index write for
    /// the whole batch.
    public func put(_ inputs: [Input], now: Int64) throws(AvaultError) -> [(id: String, version: Int, size: Int)] {
        try storage.withLock { () throws(AvaultError) -> [(id: String, version: Int, size: Int)] in
            var objects = try readIndex()
            let (kid, key) = try currentKey()
            var results: [(id: String, version: Int, size: Int)] = []
            var logEntries: [[(key: String, value: FieldValue)]] = []
            // IDs by their exact bytes (see sameID), for batches of thousands.
            var positions = Dictionary(objects.indices.map { (Array(objects[$0].id.utf8), $0) }, uniquingKeysWith: { a, _ in a })
            for input in inputs {
                guard !input.id.isEmpty, !input.id.utf8.contains(0) else { throw .refused("an object ID must be non-empty text", hint: nil) }
                let name = try objectName(input.id)
                var index = positions[Array(input.id.utf8)]
                if index == nil {
                    objects.append(VaultFiles.Object(id: input.id, name: name))
                    index = objects.count - 1
                    positions[Array(input.id.utf8)] = index
                }
                let version = (objects[index!].versions.map(\.number).max() ?? 0) + 1
                let size = try writeEnvelope(object: name, version: version, kid: kid, key: key, from: input.fd, name: input.id)
                objects[index!].versions.append(VaultFiles.Version(number: version, size: size, created: RFC3339.format(now),
                                                                   contentType: input.contentType, kid: kid))
                objects[index!].deleted = nil
                results.append((input.id, version, size))
                logEntries.append([("op", .string("put")), ("object", .string(name)), ("version", .number(Double(version))),
                                   ("size", .number(Double(size))), ("kid", .string(kid))])
            }
            try storage.syncEnvelopes()
            try appendLog(logEntries)
            try writeIndex(objects)
            return results
        }
    }

    /// Encrypts everything readable from `fd` into a new envelope; returns the plaintext size.
    private func writeEnvelope(object: String, version: Int, kid: String, key: SecretBytes, from fd: Int32, name: String) throws(AvaultError) -> Int {
        let sink = try storage.newEnvelope(VaultFiles.envelopeFileName(object: object, version: version))
        let encryptor: SecretStream.Encryptor
        do { encryptor = try SecretStream.Encryptor(key: key) } catch { sink.abandon(); throw .crypto(error) }
        let ad = config.envelopeAssociatedData(object: object, version: version, kid: KeyID(hex: kid)!)
        var size = 0
        do throws(AvaultError) {
            try sink.write(VaultFiles.envelopeMagic + KeyID(hex: kid)!.bytes + encryptor.header)
            var chunk = try FileSystem.readUpTo(fd: fd, VaultFiles.chunkSize, name: name)
            while true {
                // Look one chunk ahead: the last chunk is the one followed by nothing.
                let next = chunk.count == VaultFiles.chunkSize ? try FileSystem.readUpTo(fd: fd, VaultFiles.chunkSize, name: name) : []
                let final = next.isEmpty
                try sink.write(chunk.withUnsafeBytes { encryptor.push($0, associatedData: ad, final: final) })
                size += chunk.count
                if final { break }
                chunk = next
            }
            try sink.commit(syncDirectory: false)
        } catch {
            sink.abandon()
            throw error
        }
        return size
    }

    // MARK: Reading

    /// The object `id` (nil if absent).
    public func object(_ id: String, in objects: [VaultFiles.Object]) -> VaultFiles.Object? {
        objects.first { Self.sameID($0.id, id) }
    }

    /// IDs are compared byte for byte (as their keyed file names are), never by Unicode
    /// equivalence: "café" in NFC and in NFD are two objects.
    static func sameID(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    /// Decrypts version `version` of `id` (the newest if nil) into `write`, chunk by chunk.
    /// Every chunk is authenticated before it is passed on; a truncated or altered envelope
    /// throws after the chunks that did authenticate.
    public func get(_ id: String, version: Int?, write: ([UInt8]) throws(AvaultError) -> Void) throws(AvaultError) -> VaultFiles.Version {
        let objects = try readIndex()
        guard let object = object(id, in: objects), !object.versions.isEmpty else {
            throw .refused("no object '\(id)' in the vault", hint: "see 'avault vault list'")
        }
        if version == nil, let deleted = object.deleted {
            throw .refused("'\(id)' was removed on \(deleted)", hint: "its history is kept: 'avault vault get \(id) --version N'")
        }
        guard let v = version.map({ n in object.versions.first { $0.number == n } }) ?? object.versions.last else {
            throw .refused("'\(id)' has no version \(version!)", hint: "versions: \(object.versions.map { String($0.number) }.joined(separator: ", "))")
        }
        try readEnvelope(object: object.name, version: v.number, expectedKid: v.kid, write: write)
        return v
    }

    /// Authenticates and decrypts an envelope.
    func readEnvelope(object: String, version: Int, expectedKid: String, write: ([UInt8]) throws(AvaultError) -> Void) throws(AvaultError) {
        let file = VaultFiles.envelopeFileName(object: object, version: version)
        let source = try storage.openEnvelope(file)
        let corrupt = AvaultError.tampered("\(storage.location): \(file) is corrupt or was tampered with", hint: "run 'avault vault verify'")
        let head = try source.read(VaultFiles.envelopeMagic.count + 8 + SecretStream.headerSize)
        guard head.count == VaultFiles.envelopeMagic.count + 8 + SecretStream.headerSize, head.starts(with: VaultFiles.envelopeMagic) else { throw corrupt }
        let kidBytes = Array(head[VaultFiles.envelopeMagic.count..<VaultFiles.envelopeMagic.count + 8])
        let kid = KeyID(bytes: kidBytes)
        // The sealed index says which key version encrypted this version. The header may name a
        // newer one (a rewrap interrupted before it rewrote the index) — the kid is bound into
        // every chunk's associated data, so that is safe — but a kid that is neither the
        // index's nor a usable version of the vault's key is tampering, not a missing key.
        if kid.hex != expectedKid,
           !keyring.versions(of: config.keyName).contains(where: { $0.id == kid.hex && $0.retired == nil }) {
            throw corrupt
        }
        let decryptor: SecretStream.Decryptor
        do { decryptor = try SecretStream.Decryptor(key: try key(kid: kid.hex), header: Array(head.suffix(SecretStream.headerSize))) } catch let e as AvaultError {
            throw e
        } catch { throw corrupt }
        let ad = config.envelopeAssociatedData(object: object, version: version, kid: kid)
        while true {
            let chunk = try source.read(VaultFiles.chunkSize + SecretStream.chunkOverhead)
            if chunk.isEmpty { break }
            guard let plain = try? chunk.withUnsafeBytes({ raw throws(CryptoError) in try decryptor.pull(raw, associatedData: ad) }) else { throw corrupt }
            try write(plain)
            if decryptor.finished { break }
        }
        guard decryptor.finished, try source.read(1).isEmpty else { throw corrupt }
    }

    /// The kid in an envelope's header, without decrypting anything.
    func envelopeKid(_ file: String) -> String? {
        guard let source = try? storage.openEnvelope(file), let head = try? source.read(VaultFiles.envelopeMagic.count + 8),
              head.count == VaultFiles.envelopeMagic.count + 8, head.starts(with: VaultFiles.envelopeMagic) else { return nil }
        return Hex.encode(Array(head.suffix(8)))
    }
}
