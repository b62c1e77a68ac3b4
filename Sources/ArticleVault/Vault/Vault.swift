#if canImport(Glibc)
import Glibc
#endif
import VaultCrypto
public import VaultFormat

/// An encrypted store of article payloads with versions. Every version is an envelope: a
/// `secretstream` under a version of the vault's content key, each chunk bound to the vault,
/// the object and the version. File names are keyed hashes of the IDs; the index of IDs is
/// itself sealed, and binds the config, the log head it was written with, the last signed head
/// and every envelope's digest. Writers hold the vault's lock; every change is appended to a
/// hash-chained log; the keyring remembers the highest head it has seen, so an older copy of
/// the vault is refused (see `docs/formats.md` section 8).
public final class Vault {
    public let storage: VaultStorage
    public let keyring: Keyring
    public internal(set) var config: VaultFiles.Config
    /// Adopt the vault although the keyring has seen a newer state of it (a deliberate restore
    /// from a backup): the next check appends an `accept-rollback` entry to the log and the
    /// keyring then remembers the vault as it is. Off by default: such a vault is refused.
    public var acceptRollback = false
    /// Called with the vault's id and the sequence number of the head this keyring had seen,
    /// once a write adopted a rolled-back vault (``acceptRollback``).
    public var rollbackAdopted: ((_ vaultID: String, _ seen: UInt64) -> Void)?
    /// Called with the vault's id, once, when the vault is to recipients and this keyring has no
    /// record of a vault at its location: anyone who knows the recipients (they are public) can
    /// make a vault to them and to themselves (formats.md 8.7), so its maker should confirm the
    /// id. Another vault where the keyring used one is refused (``AvaultError/vaultReplaced(location:known:found:)``).
    public var firstSight: ((_ vaultID: String, _ sight: Sight) -> Void)?
    /// What a keyring knew of a vault it meets at a location it has no record of.
    public enum Sight: Sendable, Equatable {
        /// Nothing: a vault never seen.
        case new
        /// It has seen the vault at another location: moved, copied, reached by another path, or
        /// another vault of the user's put here.
        case elsewhere
        /// It has the vault's head from an avault that did not record locations: from now on, the
        /// vault is known here.
        case unplaced
    }
    var firstSightReported = false
    /// Memory for streaming envelopes in and out (see ``EnvelopeBuffers``), made when first
    /// needed and kept for the vault's lifetime.
    lazy var readingBuffers = EnvelopeBuffers()
    lazy var writingBuffers = EnvelopeBuffers()

    /// `explicit` (`--vault`), else `AVAULT_VAULT`, else `$XDG_DATA_HOME/avault/vault`, else
    /// `~/.local/share/avault/vault` (see ``UserDirectories``).
    public static func location(explicit: String?) throws(AvaultError) -> String {
        if let explicit { return explicit }
        if let env = getenv("AVAULT_VAULT"), env[0] != 0 { return String(cString: env) }
        return try UserDirectories.path("XDG_DATA_HOME", else: "/.local/share", "vault")
    }

    /// The store at `location`: a PostgreSQL vault for a `postgres://` or `postgresql://` URL
    /// (refused if it carries a password), else a directory. Refused: a location that starts
    /// like another URL (`word://`, `Postgresql://` among them) or that is a libpq connection
    /// string (`host=… dbname=…`), which would otherwise become a directory of that name
    /// (`./` before it names one). Nothing is opened yet.
    public static func storage(at location: String) throws(AvaultError) -> VaultStorage {
        if PostgresVaultStorage.isURL(location) { return try PostgresVaultStorage(url: location) }
        if let scheme = PostgresURL.otherScheme(location) { throw .vaultLocationScheme(scheme: scheme) }
        if let keyword = PostgresURL.connectionStringKeyword(location) { throw .postgresConnectionString(keyword: keyword) }
        return FileVaultStorage(directory: location)
    }

    /// Brings a PostgreSQL vault's schema up to the version this avault creates
    /// (``PostgresVaultStorage/upgradeSchema()``); a directory has none.
    public static func upgradeSchema(of storage: VaultStorage) throws(AvaultError) -> (from: Int, to: Int) {
        guard let postgres = storage as? PostgresVaultStorage else { throw .noSchema(location: storage.location) }
        return try postgres.upgradeSchema()
    }

    /// Creates a vault protected by the content key `keyName`. The config is written last: a
    /// crash before it leaves no vault, and `init` can simply run again.
    @discardableResult
    public static func initialize(storage: VaultStorage, keyring: Keyring, keyName: String, now: Int64 = Int64(Glibc.time(nil))) throws(AvaultError) -> Vault {
        guard try !storage.exists() else {
            throw .vaultExists(location: storage.location)
        }
        let entry = try keyring.current(keyName)
        guard entry.algorithm == .xchacha20poly1305 else {
            throw .wrongKeyKind(key: keyName, kind: entry.algorithm.kind, use: .vault)
        }
        let key = try keyring.secret(of: entry)
        let kid = try contentKeyID(entry.id)
        return try create(storage: storage, keyring: keyring, key: key, kid: kid, now: now) { (vaultID, namingKey) throws(AvaultError) -> VaultFiles.Config in
            VaultFiles.Config(vaultID: vaultID, keyName: keyName, namingKey: namingKey)
        }
    }

    /// Writes a new vault whose naming key and index are sealed under `key` (`kid`), with the
    /// config `makeConfig` gives for the new vault id and sealed naming key, and a first log
    /// entry `init` (its key name, kid, and recipients if any). The config is written last and
    /// the whole is committed before the keyring records the vault's head: a crash before leaves
    /// no vault, and `init` can simply run again.
    static func create(storage: VaultStorage, keyring: Keyring, key: SecretBytes, kid: KeyID, now: Int64,
                       config makeConfig: (_ vaultID: String, _ namingKey: VaultFiles.Sealed) throws(AvaultError) -> VaultFiles.Config)
        throws(AvaultError) -> Vault {
        try storage.create()
        return try storage.withLock { () throws(AvaultError) -> Vault in
            guard try !storage.exists() else { throw .vaultExists(location: storage.location) }
            try refuseRemains(storage)
            let vaultID = Hex.encode(SecureRandom.bytes(count: 16))
            let namingKey = SecretBytes.random(count: 32)
            let sealed = try namingKey.withUnsafeBytes { raw in
                Result { () throws(AvaultError) in
                    try seal(raw, key: key, kid: kid, ad: { VaultFiles.Config.namingKeyAssociatedData(vaultID: vaultID, kid: $0) })
                }
            }.get()
            let config = try makeConfig(vaultID, sealed)
            var fields: [(key: String, value: FieldValue)] = [("op", .string("init")), ("key", .string(config.keyName)), ("kid", .string(kid.hex))]
            if let recipients = config.recipients { fields.append(("recipients", .array(recipients.map(FieldValue.string)))) }
            let line = VaultFiles.logLine(seq: 1, time: Timestamp(seconds: now), fields, prev: VaultFiles.genesisHash)
            let head = VaultFiles.Head(seq: 1, hash: VaultLog.hash(line))
            // Whatever an interrupted init left is replaced.
            if try storage.read("log.heads") != nil { try storage.replace("log.heads", []) }
            try storage.replace("log", Array((line + "\n").utf8))
            // Index format 4: a head over no entries yet.
            let index = VaultFiles.IndexHead(vaultID: vaultID, keyName: config.keyName, namingKid: sealed.kid, log: head, signedHead: nil,
                                             entries: .buckets(.empty))
            let sealedIndex = try seal(VaultFiles.headJSON(index), key: key, kid: kid, ad: { config.headAssociatedData(kid: $0) })
            try storage.replace("index", Array(VaultFiles.headText(sealedIndex).utf8))
            try storage.replace("config", Array(config.text.utf8))
            try storage.commitLocked()
            try keyring.noteHead(Keyring.VaultHead(seq: UInt64(head.seq), hash: head.hash, anchor: KeyringFile.Anchor(line: 1, first: head.hash),
                                                   dataKey: config.isToRecipients ? dataKeyDigest(key) : nil,
                                                   recipients: config.recipients.map { VaultRecipients.recordedDigest(vaultID: vaultID, recipients: $0) }),
                                 vaultID: vaultID, location: locationDigest(storage))
            return try Vault(storage: storage, keyring: keyring)
        }
    }

    /// A store without a config that holds more of a vault than an interrupted `init` leaves
    /// lost its config (removed, or a table's rows deleted): said as such, not as "no vault",
    /// and never written over by `init`.
    static func refuseRemains(_ storage: VaultStorage) throws(AvaultError) {
        let remains = try storage.vaultRemains()
        guard remains.isEmpty else {
            throw .tampered("\(storage.location) has no vault config, yet holds \(remains.joined(separator: ", ")): the config was removed", area: .missingConfig)
        }
    }

    /// Opens the vault in `storage`.
    public init(storage: VaultStorage, keyring: Keyring) throws(AvaultError) {
        self.storage = storage
        self.keyring = keyring
        guard try storage.exists() else {
            try Self.refuseRemains(storage)
            throw .noVault(location: storage.location)
        }
        config = try Self.readConfig(storage)
        // Another vault where this keyring used one is refused before anything else is read,
        // by every command (those that need no passphrase too): the keyring as loaded may only
        // refuse here; ``loadState(bucket:wholeLog:)`` checks again what it authenticates.
        if let known = keyring.file.places.first(where: { $0.location == locationDigest })?.vaultID, known != config.vaultID {
            throw .vaultReplaced(location: storage.location, known: known, found: config.vaultID)
        }
    }

    static func readConfig(_ storage: VaultStorage) throws(AvaultError) -> VaultFiles.Config {
        guard let bytes = try storage.read("config") else {
            throw .noVault(location: storage.location)
        }
        do { return try VaultFiles.Config(parsing: String(decoding: bytes, as: UTF8.self)) } catch {
            throw .malformed(error, file: storage.location + "/config")
        }
    }

    /// Re-reads `config` (another writer may have re-sealed the naming key).
    func reloadConfig() throws(AvaultError) {
        let fresh = try Self.readConfig(storage)
        if fresh != config {
            config = fresh
            namingKeyCache = nil
            dataKeyCache = nil
        }
    }

    // MARK: Keys

    private var keyCache: [KeyID: SecretBytes] = [:]
    private var namingKeyCache: SecretBytes?
    /// The entries' key, with the naming key and vault id it was derived from (once per command,
    /// by the agent or here: a put needs it before its lock and twice under it), and whether it
    /// is known to be right: derived here, or from the agent and matched by a commitment to at
    /// least one entry.
    var entriesKeyCache: (namingKey: SecretBytes, vaultID: String, key: SecretBytes, checked: Bool)?

    /// A vault to recipients: its data keys, the current one first, unwrapped once with the
    /// keyring's identities.
    var dataKeyCache: [(kid: KeyID, key: SecretBytes)]?
    /// During a rotation: the new data key, current before the config that wraps it is written.
    var pendingDataKey: (kid: KeyID, key: SecretBytes)?

    /// The digest by which the keyring knows the vault's location (formats.md 8.7):
    /// BLAKE2b-256 of `avault/vault/location;` ‖ ``VaultStorage/canonicalLocation``, in hex.
    public private(set) lazy var locationDigest = Self.locationDigest(storage)

    static func locationDigest(_ storage: VaultStorage) -> String {
        Hex.encode(BLAKE2b.hash(Array("avault/vault/location;".utf8) + storage.canonicalLocation, digestSize: 32))
    }

    /// BLAKE2b-256 of a data key, in hex: what the keyring records of a vault to recipients'
    /// current data key (its first 16 digits are the key's id).
    static func dataKeyDigest(_ key: SecretBytes) -> String {
        Hex.encode(key.withUnsafeBytes { BLAKE2b.hash($0, digestSize: 32) })
    }

    /// A vault to recipients: the digest of its current data key; nil for a content-key vault.
    func currentDataKeyDigest() throws(AvaultError) -> String? {
        config.isToRecipients ? Self.dataKeyDigest(try currentKey().key) : nil
    }

    /// Forgets which vault the keyring used at `storage`'s location (`vault forget`): the next
    /// vault met there is taken as one never seen, or, with `expecting` (a vault id checked with
    /// its maker), must be that one. The id forgotten, nil when none was recorded.
    public static func forget(storage: VaultStorage, keyring: Keyring, expecting: String? = nil) throws(AvaultError) -> String? {
        if let expecting, !KeyringFile.isLowercaseHex(expecting, count: 32) { throw .invalidVaultID(expecting) }
        return try keyring.forgetPlace(location: locationDigest(storage), expecting: expecting)
    }

    /// A vault to recipients: its data keys (the current one first).
    func dataKeys() throws(AvaultError) -> [(kid: KeyID, key: SecretBytes)] {
        if let cached = dataKeyCache { return cached }
        let keys = try VaultRecipients.unwrap(config, identities: try keyring.allAgeIdentities())
        dataKeyCache = keys
        return keys
    }

    /// Whether `kid` names a key of this vault: a version of its content key, or one of its data keys.
    func knows(kid: KeyID) -> Bool {
        if config.isToRecipients { return isUsable(kid: kid) }
        return keyring.versions(of: config.keyName).contains { $0.id == .content(kid) }
    }

    /// The content key version with id `kid` (refused if retired, unless `evenRetired`, or
    /// missing); for a vault to recipients, the data key with that id. `evenRetired` is for the
    /// index entries only: an entry sealed before a rotation stays under the old version until a
    /// rewrap re-seals it, and retiring that version must not make every other object unreadable.
    func key(kid: KeyID, evenRetired: Bool = false) throws(AvaultError) -> SecretBytes {
        if config.isToRecipients {
            if let pending = pendingDataKey, pending.kid == kid { return pending.key }
            guard let found = try dataKeys().first(where: { $0.kid == kid }) else {
                throw .tampered("something is sealed under data key id \(kid.hex), which the vault's data keys do not hold: the vault was altered", area: .vault)
            }
            return found.key
        }
        if let k = keyCache[kid] { return k }
        guard let entry = keyring.versions(of: config.keyName).first(where: { $0.id == .content(kid) }) else {
            throw .noKeyVersionWithID(key: config.keyName, id: kid.hex, holder: nil, contentKeys: [])
        }
        guard entry.retired == nil || evenRetired else {
            throw .keyRetired(key: config.keyName, version: entry.version, id: kid.hex)
        }
        let k = try keyring.secret(of: entry)
        if entry.retired == nil { keyCache[kid] = k }
        return k
    }

    /// Whether `kid` is a version of the vault's key that can still read.
    func isUsable(kid: KeyID) -> Bool {
        if config.isToRecipients {
            return pendingDataKey?.kid == kid || ((try? dataKeys())?.contains { $0.kid == kid } ?? false)
        }
        return keyring.versions(of: config.keyName).contains { $0.id == .content(kid) && $0.retired == nil }
    }

    /// The newest active version of the vault's key.
    func currentKey() throws(AvaultError) -> (kid: KeyID, key: SecretBytes) {
        if config.isToRecipients {
            if let pending = pendingDataKey { return pending }
            guard let current = try dataKeys().first else { throw .internalFailure("a vault to recipients without a data key") }
            return current
        }
        let entry = try keyring.current(config.keyName)
        let kid = try Self.contentKeyID(entry.id)
        return (kid, try key(kid: kid))
    }

    /// The naming key. `evenRetired`: also when it is sealed under a retired key version, for
    /// reading the index entries only (then not kept: naming an object still needs an active one).
    func namingKey(evenRetired: Bool = false) throws(AvaultError) -> SecretBytes {
        if let k = namingKeyCache { return k }
        let sealed = config.namingKey
        if evenRetired, !isUsable(kid: sealed.kid) {
            let k = try Self.open(sealed, key: try key(kid: sealed.kid, evenRetired: true), ad: config.namingKeyAssociatedData(kid: sealed.kid),
                                  what: "the vault's naming key")
            return SecretBytes(copying: k)
        }
        let k = try Self.open(sealed, key: try key(kid: sealed.kid), ad: config.namingKeyAssociatedData(kid: sealed.kid), what: "the vault's naming key")
        let secret = SecretBytes(copying: k)
        namingKeyCache = secret
        return secret
    }

    /// The file-name stem of an object: 32 hex digits of BLAKE2b-256 keyed with the naming key.
    public func objectName(_ id: String) throws(AvaultError) -> String {
        Hex.encode(Array(try nameDigest(id)[0..<16]))
    }

    /// The keyed BLAKE2b-256 an object's name is the first half of (its first byte is the
    /// object's bucket of entries). `evenRetired`: see ``namingKey(evenRetired:)``.
    private func nameDigest(_ id: String, evenRetired: Bool = false) throws(AvaultError) -> [UInt8] {
        BLAKE2b.hash(Array(id.utf8), digestSize: 32, key: try namingKey(evenRetired: evenRetired))
    }

    /// The content kid of a keyring entry's identifier; another kind of id (a signing key
    /// named where a content key belongs) is an error, never a crash.
    static func contentKeyID(_ id: KeyIdentifier) throws(AvaultError) -> KeyID {
        guard case .content(let kid) = id else { throw .malformed(.invalidVault("key id '\(id)' is not a content key's"), file: nil) }
        return kid
    }

    static func seal<P: BytesView>(_ plaintext: P, key: SecretBytes, kid id: KeyID, ad: (KeyID) -> [UInt8]) throws(AvaultError) -> VaultFiles.Sealed {
        let nonce = SecureRandom.bytes(count: 24)
        do {
            return VaultFiles.Sealed(kid: id, nonce: nonce, ciphertext: try XChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce, associatedData: ad(id)))
        } catch { throw .crypto(error) }
    }

    static func open(_ sealed: VaultFiles.Sealed, key: SecretBytes, ad: [UInt8], what: String) throws(AvaultError) -> [UInt8] {
        do { return try XChaCha20Poly1305.open(sealed.ciphertext, key: key, nonce: sealed.nonce, associatedData: ad) } catch {
            throw .tampered("\(what) does not authenticate: the vault was altered", area: .vault)
        }
    }

    // MARK: Index

    /// The start of the message when the index itself does not authenticate.
    static let indexAuthenticationFailure = "the index does not authenticate"

    /// The decrypted index, after every check of ``checkedState(bucket:)``.
    public func readIndex() throws(AvaultError) -> [VaultFiles.Object] {
        try checkedState().index.objects
    }

    /// The object `id` as the index lists it (nil if absent), after every check of
    /// ``checkedState(bucket:)`` on the bucket of entries that holds it: the head, the log, the
    /// keyring's record, and that bucket's entries against the head (format 4; a vault of
    /// format 3 or 2 is read whole). Entries of other buckets are not read.
    func indexedObject(_ id: String) throws(AvaultError) -> VaultFiles.Object? {
        // The naming key even when sealed under a retired key version, as for reading entries.
        object(id, in: try checkedState(bucket: try entryBucket(ofID: id, evenRetired: true)).index.objects)
    }

    /// The bucket of entries (formats.md 8.3.2) that holds the object `id`: the first byte of
    /// its name (``objectName(_:)``).
    func entryBucket(ofID id: String, evenRetired: Bool = false) throws(AvaultError) -> Int {
        Int(try nameDigest(id, evenRetired: evenRetired)[0])
    }

    /// Parses and authenticates the index file's bytes (no binding checked yet): format 2 (the
    /// whole index), or format 3 or 4 (a head, returned with the index's bindings and no objects
    /// yet: they are in the entries, see ``loadEntries(_:bucket:)``).
    func openIndex(_ bytes: [UInt8]) throws(AvaultError) -> (index: VaultFiles.Index, kid: KeyID, head: VaultFiles.IndexHead?) {
        let format: Int
        let sealed: VaultFiles.Sealed
        do { (format, sealed) = try VaultFiles.parseIndexFile(String(decoding: bytes, as: UTF8.self)) } catch {
            // Only avault writes the index: a malformed one was altered or damaged.
            throw .tampered("\(Self.indexAuthenticationFailure): it is malformed (\(error))", area: .vault)
        }
        // A vault to recipients: not being one is its own answer, before any other.
        if config.isToRecipients { _ = try dataKeys() }
        guard knows(kid: sealed.kid) else {
            throw .tampered("\(Self.indexAuthenticationFailure): it is sealed under key id \(sealed.kid.hex), which is not a version of key '\(config.keyName)'",
                            area: .vault)
        }
        if format >= 3 {
            let plain = try Self.open(sealed, key: try key(kid: sealed.kid), ad: config.headAssociatedData(kid: sealed.kid, format: format),
                                      what: "the index")
            let head: VaultFiles.IndexHead
            do { head = try VaultFiles.parseHeadJSON(plain, format: format) } catch {
                throw .tampered("\(Self.indexAuthenticationFailure): its contents are malformed (\(error))", area: .vault)
            }
            let index = VaultFiles.Index(vaultID: head.vaultID, keyName: head.keyName, namingKid: head.namingKid, log: head.log,
                                         signedHead: head.signedHead)
            return (index, sealed.kid, head)
        }
        let plain = try Self.open(sealed, key: try key(kid: sealed.kid), ad: config.indexAssociatedData(kid: sealed.kid), what: "the index")
        do { return (try VaultFiles.parseIndexJSON(plain), sealed.kid, nil) } catch {
            throw .tampered("\(Self.indexAuthenticationFailure): its contents are malformed (\(error))", area: .vault)
        }
    }

    // MARK: Reading

    /// The object `id` (nil if absent).
    public func object(_ id: String, in objects: [VaultFiles.Object]) -> VaultFiles.Object? {
        objects.first { Self.sameID($0.id, id) }
    }

    /// IDs are compared byte for byte (as their keyed file names are), never by Unicode
    /// equivalence: "café" in NFC and in NFD are two objects.
    static func sameID(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    /// Decrypts version `version` of `id` (the newest if nil) into `write`, a block of chunks at
    /// a time. The envelope is first checked against the index's digest, so no byte of any other
    /// envelope (an older one replayed, one from before a purge) is ever passed on; every chunk
    /// is authenticated before it is.
    public func get(_ id: String, version: Int?, write: (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) -> VaultFiles.Version {
        try get(id, version: version, checkFirst: true, rewind: nil, write: write)
    }

    /// As ``get(_:version:write:)``, with each block of the payload copied into an array.
    public func get(_ id: String, version: Int?, write: ([UInt8]) throws(AvaultError) -> Void) throws(AvaultError) -> VaultFiles.Version {
        try get(id, version: version, checkFirst: true, rewind: nil) { (block: UnsafeRawBufferPointer) throws(AvaultError) in try write(Array(block)) }
    }

    /// With `checkFirst` false, see ``readVersion(object:_:checkFirst:rewind:write:)``.
    func get(_ id: String, version: Int?, checkFirst: Bool, rewind: (() throws(AvaultError) -> Void)?,
             write: (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) -> VaultFiles.Version {
        guard let object = try indexedObject(id), !object.versions.isEmpty else {
            throw .noSuchObject(id: id)
        }
        if version == nil, let deleted = object.deleted {
            throw .objectRemoved(id: id, time: deleted)
        }
        guard let v = version.map({ n in object.versions.first { $0.number == n } }) ?? object.versions.last else {
            throw .noSuchObjectVersion(id: id, version: version!, versions: object.versions.map(\.number))
        }
        do {
            try readVersion(object: object.name, v, checkFirst: checkFirst, rewind: rewind, write: write)
        } catch {
            // Name the object the caller asked for, not only its hashed file name.
            if case let .tampered(message, area) = error { throw .tampered("'\(id)' version \(v.number): \(message)", area: area) }
            throw error
        }
        return v
    }

    /// Envelopes up to this size are read into memory once; larger ones are read twice (the
    /// digest first, then the chunks), in bounded memory.
    static let inMemoryLimit = 1 << 20

    /// Checks version `v` of `object` against the index's digest, then authenticates and
    /// decrypts it. When the envelope does not match but a staged rewrap of it does (a rewrap
    /// interrupted after its index landed), the staged one is read.
    ///
    /// With `checkFirst` false, for callers that pass nothing on before this returns (verify;
    /// rewrap, whose new envelope is committed only afterwards; `get -o`, whose temporary file
    /// appears under its name only afterwards), each candidate is read once, its digest
    /// computed while it is decrypted. If a candidate fails after some of it was written, the
    /// next is tried only after `rewind` (which discards what was written); without `rewind`,
    /// the read fails.
    func readVersion(object: String, _ v: VaultFiles.Version, checkFirst: Bool = true, rewind: (() throws(AvaultError) -> Void)? = nil,
                     write: (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) {
        let file = VaultFiles.envelopeFileName(object: object, version: v.number)
        let corrupt = AvaultError.tampered("\(storage.location): \(file) is corrupt or was tampered with", area: .vault)
        let missing = AvaultError.tampered("\(storage.location): objects/\(file) is missing: the vault was altered", area: .vault)
        let buffers = readingBuffers
        if !checkFirst {
            var found = false
            var wrote = false
            for candidate in [file, VaultFiles.stagedPrefix + file] {
                guard let source = try storage.openEnvelope(candidate) else { continue }
                if wrote {
                    guard let rewind else { throw corrupt }
                    try rewind()
                    wrote = false
                }
                found = true
                let digest = EnvelopeDigest()
                let size: Int
                do {
                    size = try decrypt({ (buffer: UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int in try source.read(into: buffer) },
                                       buffers: buffers, digest: digest, object: object, version: v.number, expectedKid: v.kid, corrupt: corrupt) {
                        (block: UnsafeRawBufferPointer) throws(AvaultError) in
                        wrote = true
                        try write(block)
                    }
                } catch .tampered {
                    continue
                }
                if digest.hex() == v.digest, size == v.size { return }
            }
            throw found ? corrupt : missing
        }
        var chosen: String?
        var memory: [UInt8]?
        for candidate in [file, VaultFiles.stagedPrefix + file] {
            guard let source = try storage.openEnvelope(candidate) else { continue }
            let first = try source.read(Self.inMemoryLimit + 1)
            let matches: Bool
            if first.count <= Self.inMemoryLimit {
                memory = first
                let digest = EnvelopeDigest()
                digest.update(first)
                matches = digest.hex() == v.digest
            } else {
                memory = nil
                // The rest of it, and then the whole file again from its start.
                guard let whole = try storage.openEnvelope(candidate) else { continue }
                // (Read no further than the envelope of `v.size` bytes is, with room to spare.)
                matches = try digest(of: whole, buffers: buffers, upTo: VaultFiles.envelopeSize(plaintext: v.size) + Self.inMemoryLimit) == v.digest
            }
            if matches {
                chosen = candidate
                break
            }
        }
        guard let chosen else {
            if try storage.openEnvelope(file) == nil, try storage.openEnvelope(VaultFiles.stagedPrefix + file) == nil { throw missing }
            throw corrupt
        }
        let size: Int
        if let bytes = memory {
            var offset = 0
            size = try decrypt({ (buffer: UnsafeMutableRawBufferPointer) -> Int in
                let n = min(buffer.count, bytes.count - offset)
                bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)])) }
                offset += n
                return n
            }, buffers: buffers, digest: nil, object: object, version: v.number, expectedKid: v.kid, corrupt: corrupt, write: write)
        } else {
            // Read again, and hash again: the file must not change between the two passes.
            guard let source = try storage.openEnvelope(chosen) else { throw corrupt }
            let digest = EnvelopeDigest()
            size = try decrypt({ (buffer: UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int in try source.read(into: buffer) },
                               buffers: buffers, digest: digest, object: object, version: v.number, expectedKid: v.kid, corrupt: corrupt, write: write)
            if digest.hex() != v.digest { throw corrupt }
        }
        guard size == v.size else { throw corrupt }
    }

    /// Whether an envelope that the index does not list authenticates as `file` (its header's
    /// key version, the vault, its object and version); nil when that cannot be checked (its
    /// key version is retired or missing).
    func authenticates(_ file: String) -> Bool? {
        guard let (object, version) = VaultFiles.parseEnvelopeFileName(file) else { return false }
        guard let source = try? storage.openEnvelope(file) else { return false }
        let corrupt = AvaultError.tampered("", area: .vault)
        var sawHeader = false
        do {
            _ = try decrypt({ (buffer: UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int in
                let n = try source.read(into: buffer)
                if !sawHeader {
                    sawHeader = true
                    if let kid = VaultFiles.envelopeKid(Array(buffer[0..<n])),
                       !config.isToRecipients, let entry = keyring.versions(of: config.keyName).first(where: { $0.id == .content(kid) }), entry.retired != nil {
                        throw .keyRetired(key: config.keyName, version: entry.version, id: kid.hex)
                    }
                }
                return n
            }, buffers: readingBuffers, digest: nil, object: object, version: version, expectedKid: nil, corrupt: corrupt) { (_: UnsafeRawBufferPointer) throws(AvaultError) in }
            return true
        } catch .keyRetired {
            return nil
        } catch {
            return false
        }
    }

    /// The kid in an envelope's header, without decrypting anything.
    func envelopeKid(_ file: String) -> KeyID? {
        guard let source = try? storage.openEnvelope(file), let head = try? source.read(VaultFiles.envelopeMagic.count + KeyID.size) else { return nil }
        return VaultFiles.envelopeKid(head)
    }

    // MARK: Writing

    /// One payload to store.
    public struct Input {
        public var id: String
        public var source: Source
        public var contentType: String?

        /// Where a payload is read from.
        public enum Source {
            /// An open descriptor, read to its end (the caller closes it).
            case descriptor(Int32)
            /// A regular file, opened only when its turn comes and closed after it (a batch of
            /// any size holds one at a time), which must still be the file `identity`
            /// describes: a file replaced or written since is refused
            /// (``AvaultError/fileChangedMeanwhile(path:)``).
            case file(path: String, identity: FileSystem.Identity)
        }

        public init(id: String, fd: Int32, contentType: String?) { self.init(id: id, source: .descriptor(fd), contentType: contentType) }
        public init(id: String, source: Source, contentType: String?) { self.id = id; self.source = source; self.contentType = contentType }

        /// Runs `body` with a descriptor to read the payload from.
        func withDescriptor<T>(_ body: (Int32) throws(AvaultError) -> T) throws(AvaultError) -> T {
            switch source {
            case .descriptor(let fd):
                return try body(fd)
            case let .file(path, identity):
                let (fd, opened) = try FileSystem.openRegular(path, seenRegular: true)
                defer { close(fd) }
                guard opened == identity else { throw .fileChangedMeanwhile(path: path) }
                let result = try body(fd)
                // Written while it was read: what was stored is not what was parsed.
                var st = stat()
                guard fstat(fd, &st) == 0, FileSystem.Identity(st) == identity else { throw .fileChangedMeanwhile(path: path) }
                return result
            }
        }
    }

    /// Stores a new version of each input, acknowledged (returned) only once every envelope,
    /// the log, the index and the keyring's record of the new head are durable. One lock, one
    /// directory sync and one index write for the whole batch. Version numbers are never
    /// reused, not even after a purge.
    /// `progress` is called with the number of inputs stored so far (not yet durable).
    public func put(_ inputs: [Input], now: Int64, progress: ((Int) -> Void)? = nil) throws(AvaultError) -> [(id: String, version: Int, size: Int)] {
        // Inputs whose objects are all in one bucket of entries change only that bucket.
        let buckets = Set(try inputs.map { (input: Input) throws(AvaultError) -> Int in try entryBucket(ofID: input.id) })
        return try transaction(bucket: buckets.count == 1 ? buckets.first : nil) { (tx: inout Transaction) throws(AvaultError) -> [(id: String, version: Int, size: Int)] in
            let (kid, key) = try currentKey()
            // Each envelope is committed (fsync, rename) while the next ones are written, several
            // at once; all of them before the directory sync, the log and the index.
            let committer = storage.envelopeCommitter(batch: inputs.count)
            defer { committer.cancel() }
            var results: [(id: String, version: Int, size: Int)] = []
            // IDs by their exact bytes (see sameID), for batches of thousands.
            var positions = Dictionary(tx.index.objects.indices.map { (Array(tx.index.objects[$0].id.utf8), $0) }, uniquingKeysWith: { a, _ in a })
            for input in inputs {
                guard !input.id.isEmpty, !input.id.utf8.contains(0) else { throw .invalidObjectID }
                let name = try objectName(input.id)
                let i: Int
                if let known = positions[Array(input.id.utf8)] {
                    i = known
                } else {
                    tx.index.objects.append(VaultFiles.Object(id: input.id, name: name))
                    i = tx.index.objects.count - 1
                    positions[Array(input.id.utf8)] = i
                }
                let version = max(tx.index.objects[i].versions.last?.number ?? 0, tx.index.used[name] ?? 0) + 1
                guard version <= VaultFiles.maxVersion else { throw .objectVersionsExhausted(id: input.id) }
                let (size, digest) = try input.withDescriptor { (fd: Int32) throws(AvaultError) in
                    try writeEnvelope(object: name, version: version, kid: kid, key: key, from: fd, name: input.id, committer: committer)
                }
                tx.index.objects[i].versions.append(VaultFiles.Version(number: version, size: size, created: Timestamp(seconds: now),
                                                                       contentType: input.contentType, kid: kid, digest: digest))
                tx.index.objects[i].deleted = nil
                results.append((input.id, version, size))
                progress?(results.count)
                tx.entries.append([("op", .string("put")), ("object", .string(name)), ("version", .number(Double(version))),
                                   ("size", .number(Double(size))), ("kid", .string(kid.hex))])
            }
            try committer.finish()
            try storage.syncEnvelopes()
            return results
        }
    }

    /// Encrypts everything readable from `fd` into a new envelope and hands it to `committer`;
    /// returns the plaintext size and the envelope's digest.
    private func writeEnvelope(object: String, version: Int, kid: KeyID, key: SecretBytes, from fd: Int32, name: String,
                               committer: EnvelopeCommitter) throws(AvaultError) -> (Int, String) {
        let writer = try EnvelopeWriter(self, buffers: writingBuffers, file: VaultFiles.envelopeFileName(object: object, version: version),
                                        object: object, version: version, kid: kid, key: key)
        let written: (size: Int, digest: String, sink: EnvelopeSink)
        do throws(AvaultError) {
            try writer.add(reading: fd, name: name)
            written = try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        try committer.add(written.sink)
        return (written.size, written.digest)
    }
}
