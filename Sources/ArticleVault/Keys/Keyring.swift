#if canImport(Glibc)
import Glibc
#endif
public import VaultCrypto
public import VaultFormat

/// A keyring on disk: a directory (mode 700) holding `keyring.avk` (mode 600) with every key,
/// its versions and their secrets, and the highest log head seen per vault.
///
/// A keyring with a passphrase seals every secret under a key derived from it (Argon2id, then
/// one subkey to seal and one to authenticate), and every byte of `keyring.avk` before its last
/// line is covered by an authentication code that is checked on every unlock — before any
/// secret is handed out and before any change — and rewritten on every change. Such a keyring
/// never holds an unsealed secret. A throwaway keyring without passphrase (`kdf: none`) has
/// nothing secret to authenticate with: it is only as safe as its directory.
///
/// Files in the directory are opened relative to it, never through a symbolic link, and only
/// when they are regular files. Mutations hold an exclusive lock and replace the file atomically.
public final class Keyring {
    /// The keyring directory.
    public let directory: String
    /// The parsed keyring file (empty if the keyring does not exist yet). Until
    /// ``isAuthenticated`` is true, nothing vouches for it but the directory's permissions.
    public private(set) var file: KeyringFile
    /// Where the passphrase comes from when a secret must be sealed or unsealed.
    public let passphrase: PassphraseSource
    /// The agent asked for the passphrase's key before the passphrase is read (nil: none), and
    /// told of a new passphrase (``changePassphrase(to:)``).
    public let agent: AgentClient?
    /// Whether the keyring is unlocked with the agent's key when it has one (true), or only
    /// with the passphrase: `keys passwd` wants the passphrase it replaces.
    public var unlocksWithAgent = true
    /// Argon2id limits for a new keyring or a new passphrase.
    public static var newKDFLimits: PasswordHash.Limits { .interactive }
    /// The Argon2id limits a keyring may ask for: passes and memory in bytes.
    public static let acceptedOpsLimits: ClosedRange<UInt64> = 1...64
    public static let acceptedMemLimits: ClosedRange<UInt64> = 8192...(4 << 30)

    /// True once the loaded file's authentication code (and each signing key's public half)
    /// was checked with the passphrase. Always false for a keyring without passphrase.
    public private(set) var isAuthenticated = false
    /// Whether the keyring has a passphrase (and so an authentication code).
    public var isProtected: Bool { file.kdf != nil }

    /// The keys derived from the passphrase for one KDF line.
    struct UnlockedKeys {
        let kdf: KeyringFile.KDF
        /// The Argon2id output the two below derive from: what an agent holds.
        let master: SecretBytes
        /// Seals secrets and the passphrase check (XChaCha20-Poly1305).
        let seal: SecretBytes
        /// Keys the authentication code (BLAKE2b-256).
        let mac: SecretBytes
    }

    /// The keys of the loaded KDF line, once derived (or given by the agent).
    var keys: UnlockedKeys?
    /// Whether ``keys`` came from the agent: it is running and holds this keyring's key.
    public private(set) var unlockedByAgent = false
    /// The bytes the authentication code covers, as read (protected keyrings only).
    private var authenticatedBytes: [UInt8] = []

    static let fileName = "keyring.avk"
    static let lockName = ".lock"
    /// The `crypto_kdf` context of the keyring's subkeys, and their ids.
    static let subkeyContext = "avkeyrng"
    static let sealSubkeyID: UInt64 = 1
    static let macSubkeyID: UInt64 = 2

    /// The file holding the keys.
    public var path: String { directory + "/" + Self.fileName }

    /// `explicit` (`--keyring`), else `AVAULT_KEYRING`, else `$XDG_CONFIG_HOME/avault/keyring`,
    /// else `~/.config/avault/keyring` (see ``UserDirectories``).
    public static func location(explicit: String?) throws(AvaultError) -> String {
        if let explicit { return explicit }
        if let env = getenv("AVAULT_KEYRING"), env[0] != 0 { return String(cString: env) }
        return try UserDirectories.path("XDG_CONFIG_HOME", else: "/.config", "keyring")
    }

    /// Opens the keyring at `directory` for reading. A missing keyring reads as empty. What can
    /// be checked without the passphrase is checked here: a version 1 file is refused (see
    /// ``upgrade(directory:passphrase:sealUnprotected:)``), an unsealed secret in a keyring with
    /// a passphrase and a signing key whose stored public key is not its secret's are tampering.
    ///
    /// With an `agent`, a keyring with a passphrase is unlocked with the key the agent holds
    /// for it when it holds one (checked like a passphrase: the key must open the `kdf:` line's
    /// check and authenticate the file), else with the passphrase.
    public convenience init(directory: String, passphrase: PassphraseSource, agent: AgentClient? = nil) throws(AvaultError) {
        self.init(unloaded: directory, passphrase: passphrase, agent: agent)
        if let dir = try openDirectory() { try reload(dir) }
    }

    private init(unloaded directory: String, passphrase: PassphraseSource, agent: AgentClient? = nil) {
        self.directory = directory
        self.passphrase = passphrase
        self.agent = agent
        self.file = KeyringFile()
    }

    /// The directory, or nil when nothing is at its path.
    private func openDirectory() throws(AvaultError) -> SecureDirectory? {
        var st = stat()
        if lstat(directory, &st) != 0, errno == ENOENT { return nil }
        return try SecureDirectory(path: directory, requirePrivate: false)
    }

    /// What one read of `keyring.avk` gave.
    private struct Loaded {
        var file: KeyringFile
        /// The bytes the authentication code covers (empty for a keyring without passphrase).
        var authenticated: [UInt8]
    }

    /// Reads and parses `keyring.avk` (nil when there is none), with the checks that need no
    /// passphrase. The directory must be private once it holds a keyring.
    private func load(_ dir: SecureDirectory) throws(AvaultError) -> Loaded? {
        guard try dir.kind(of: Self.fileName) != nil else { return nil }
        try dir.checkPrivate()
        try Self.checkOwner(dir)
        guard var bytes = try dir.read(Self.fileName, secret: true, limit: FileLimits.keyring, what: "a keyring") else { return nil }
        defer { wipe(&bytes) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformed(.invalidKeyring("not UTF-8", line: 1), file: path)
        }
        if KeyringFile.formatVersion(of: text) == 1 { throw version1Refusal() }
        let file: KeyringFile
        do { file = try KeyringFile(parsing: text) } catch { throw .malformed(error, file: path) }
        try checkStructure(file)
        var authenticated: [UInt8] = []
        if file.kdf != nil {
            // The parser ends the file with exactly this line; the code covers what precedes it.
            let macLine = KeyringFile.macLine(file.mac).utf8.count
            authenticated = Array(bytes[0..<(bytes.count - macLine)])
        }
        return Loaded(file: file, authenticated: authenticated)
    }

    /// Refuses a keyring directory another user owns (root aside): its owner could replace or
    /// roll back the keyring, and a keyring written there would no longer be theirs.
    private static func checkOwner(_ dir: SecureDirectory) throws(AvaultError) {
        try dir.checkOwner(what: "the keyring's directory",
                           risk: "its owner could replace the keyring or put back an older one, and one written there would no longer be theirs")
    }

    private func reload(_ dir: SecureDirectory) throws(AvaultError) {
        let loaded = try load(dir)
        file = loaded?.file ?? KeyringFile()
        authenticatedBytes = loaded?.authenticated ?? []
        isAuthenticated = false
    }

    private func version1Refusal() -> AvaultError {
.keyringVersion1(path: path, directory: directory)
    }

    /// Tampering found in this keyring: exit status 1.
    func tampered(_ what: String) -> AvaultError {
.tampered("\(path): the keyring was modified outside avault: \(what)", area: .keyring(directory: directory))
    }

    /// What needs no passphrase: a keyring with a passphrase holds sealed secrets only, and an
    /// unsealed signing key's public key is its secret's.
    private func checkStructure(_ file: KeyringFile) throws(AvaultError) {
        for e in file.entries {
            switch e.secret {
            case .plain(let secret):
                if file.kdf != nil {
                    throw tampered("key '\(e.name)' version \(e.version) has an unsealed secret, which a keyring with a passphrase never holds")
                }
                try checkPublicKey(e, secret)
            case .sealed:
                break
            }
        }
    }

    /// A signing entry's or an identity's public key must be the one its secret derives (and an
    /// identity's id that of its public key).
    func checkPublicKey(_ entry: KeyringFile.Entry, _ secret: SecretBytes) throws(AvaultError) {
        if entry.algorithm == .x25519 {
            guard let derived = try? X25519.publicKey(of: secret), let stored = entry.publicKey,
                  ConstantTime.equals(derived, stored), .content(Self.identityID(of: stored)) == entry.id else {
                throw tampered("the public key of identity '\(entry.name)' version \(entry.version) does not match its secret")
            }
            return
        }
        guard entry.algorithm == .ed25519 else { return }
        guard let derived = try? Ed25519SigningKey(secretKey: secret), let stored = entry.publicKey,
              ConstantTime.equals(derived.publicKey.bytes, stored) else {
            throw tampered("the public key of signing key '\(entry.name)' version \(entry.version) does not match its secret")
        }
    }

    /// Runs `body` holding the keyring's exclusive lock (creating the directory, mode 700, if
    /// needed), on a fresh read of the file that is authenticated first when the keyring has a
    /// passphrase (so a change never launders a modification); then, if `body` changed the
    /// file, writes it atomically and durably with a new authentication code. Do not call
    /// `update` (or ``noteHead(_:vaultID:location:)``) from inside `body`: the lock is not reentrant.
    @discardableResult
    public func update<T>(_ body: (Keyring) throws(AvaultError) -> T) throws(AvaultError) -> T {
        let dir = try SecureDirectory.create(path: directory, mode: 0o700, requirePrivate: true)
        try Self.checkOwner(dir)
        let lock = try dir.lock(Self.lockName)
        defer { withExtendedLifetime(lock) {} }
        try reload(dir)
        if file.kdf != nil { try unlock() }
        let before = file
        let result = try body(self)
        if file != before {
            try write(file, to: dir)
            if let old = before.kdf, let new = file.kdf, old != new { tellAgent(old: old) }
        }
        return result
    }

    /// Writes `new` (with a fresh authentication code) after reading it back: the bytes must
    /// parse to exactly `new` and authenticate.
    private func write(_ new: KeyringFile, to dir: SecureDirectory) throws(AvaultError) {
        var out = new
        out.entries.sort { ($0.name, $0.version) < ($1.name, $1.version) }
        out.vaultHeads.sort { $0.vaultID < $1.vaultID }
        out.places.sort { $0.location < $1.location }
        try checkStructure(out)
        var body = Array(out.authenticatedText().utf8)
        defer { wipe(&body) }
        if let kdf = out.kdf {
            guard let keys, keys.kdf == kdf else { throw .internalFailure("\(path): internal error: no key for the keyring's passphrase") }
            out.mac = BLAKE2b.hash(body, digestSize: KeyringFile.macSize, key: keys.mac)
        } else {
            out.mac = nil
        }
        var text = body + Array(KeyringFile.macLine(out.mac).utf8)
        defer { wipe(&text) }
        let readBack = try? KeyringFile(parsing: String(decoding: text, as: UTF8.self))
        let authenticates = out.kdf == nil || keys.map { ConstantTime.equals(BLAKE2b.hash(body, digestSize: KeyringFile.macSize, key: $0.mac), out.mac ?? []) } == true
        guard readBack == out, authenticates else {
            throw .internalFailure("\(path): the keyring about to be written did not read back as meant; nothing was written")
        }
        try dir.writeAtomically(Self.fileName, text, mode: 0o600)
        file = out
        authenticatedBytes = out.kdf == nil ? [] : body
        isAuthenticated = out.kdf != nil
    }

    // MARK: Queries

    /// Every version of `name`, oldest first.
    public func versions(of name: String) -> [KeyringFile.Entry] {
        file.entries.filter { $0.name == name }.sorted { $0.version < $1.version }
    }

    /// The newest active version of `name`, or a clear error naming the keys that exist.
    public func current(_ name: String) throws(AvaultError) -> KeyringFile.Entry {
        let all = versions(of: name)
        guard !all.isEmpty else { throw noSuchKey(name) }
        guard let entry = all.last(where: { $0.retired == nil }) else {
            throw .noActiveVersion(key: name)
        }
        return entry
    }

    /// Error for a missing key, listing the names that exist.
    public func noSuchKey(_ name: String) -> AvaultError {
        let names = Set(file.entries.map(\.name)).sorted()
        return .noSuchKey(name: name, keyring: directory, existing: names)
    }

    /// The public key of the newest active version of the signing key `name`, after the keyring
    /// was authenticated (a keyring with a passphrase asks for it): what is handed to others
    /// must be the key that signs.
    public func publicKey(ofSigningKey name: String) throws(AvaultError) -> Minisign.PublicKey {
        try authenticate()
        let entry = try current(name)
        guard entry.algorithm == .ed25519, case .minisign(let id) = entry.id, let key = entry.publicKey else {
            throw .wrongKeyKind(key: name, kind: entry.algorithm.kind, use: .signing)
        }
        return Minisign.PublicKey(keyID: id, key: key)
    }

    // MARK: Authentication

    /// Checks, with the passphrase, the keyring's authentication code and each signing key's
    /// public key against its secret. Returns true when they were checked, false for a keyring
    /// without passphrase, which nothing can authenticate. Throws ``AvaultError/tampered(_:hint:)``
    /// for a keyring modified outside avault.
    @discardableResult
    public func authenticate() throws(AvaultError) -> Bool {
        guard file.kdf != nil else { return false }
        try unlock()
        return true
    }

    /// The passphrase-derived keys, derived once per process and KDF line; the loaded file is
    /// authenticated with them before they are returned.
    @discardableResult
    private func unlock() throws(AvaultError) -> UnlockedKeys {
        guard let kdf = file.kdf else { throw .keyringHasNoPassphrase(path: path, need: .unlock) }
        let keys = try keys(for: kdf)
        if !isAuthenticated {
            try verify(file, authenticatedBytes, with: keys)
            isAuthenticated = true
        }
        return keys
    }

    /// The authentication code over `authenticated`, then every sealed signing key's public key.
    private func verify(_ file: KeyringFile, _ authenticated: [UInt8], with keys: UnlockedKeys) throws(AvaultError) {
        let expected = BLAKE2b.hash(authenticated, digestSize: KeyringFile.macSize, key: keys.mac)
        guard let mac = file.mac, !authenticated.isEmpty, ConstantTime.equals(expected, mac) else {
            throw tampered("its authentication code does not match (a key, its status or secret, a vault head, or the code itself was changed, added or removed)")
        }
        for e in file.entries where e.algorithm.hasPublicKey {
            guard case .sealed(let sealed) = e.secret else { continue }
            try checkPublicKey(e, try Self.open(sealed, e, keys.seal, associatedData: e.associatedData, or: tampered("the secret of key '\(e.name)' version \(e.version) does not authenticate")))
        }
    }

    private static func open(_ sealed: KeyringFile.Sealed, _ entry: KeyringFile.Entry, _ key: SecretBytes,
                             associatedData: [UInt8], or failure: @autoclosure () -> AvaultError) throws(AvaultError) -> SecretBytes {
        do {
            return try XChaCha20Poly1305.openSecret(sealed.ciphertext, key: key, nonce: sealed.nonce, associatedData: associatedData)
        } catch {
            throw failure()
        }
    }

    /// The master key: Argon2id of the passphrase, with the file's limits range-checked first.
    private static func master(_ pass: SecretBytes, _ salt: [UInt8], _ limits: PasswordHash.Limits) throws(AvaultError) -> SecretBytes {
        guard acceptedOpsLimits.contains(limits.opsLimit), acceptedMemLimits.contains(limits.memLimit) else {
            throw .kdfLimits(opsLimit: limits.opsLimit, memLimit: limits.memLimit)
        }
        do {
            return try PasswordHash.argon2id(length: KeyDerivation.masterKeySize, passphrase: pass, salt: salt, limits: limits)
        } catch {
            throw .crypto(error)
        }
    }

    /// The keys for `kdf`: cached (one derivation per process and KDF line), else the agent's
    /// (when it holds this keyring's and they open the check), else from the passphrase.
    private func keys(for kdf: KeyringFile.KDF) throws(AvaultError) -> UnlockedKeys {
        if let cached = keys, cached.kdf == kdf { return cached }
        let derived: UnlockedKeys
        if unlocksWithAgent, let fromAgent = keysFromAgent(kdf) {
            derived = fromAgent
            unlockedByAgent = true
        } else {
            derived = try Self.deriveKeys(try passphrase.read(), kdf, what: "the keyring \(directory)", origin: passphrase.origin)
        }
        keys = derived
        return derived
    }

    /// The sealing and authentication keys for `kdf`, after checking the passphrase against it.
    private static func deriveKeys(_ pass: SecretBytes, _ kdf: KeyringFile.KDF, what: String, origin: String) throws(AvaultError) -> UnlockedKeys {
        let master = try master(pass, kdf.salt, PasswordHash.Limits(opsLimit: kdf.opsLimit, memLimit: kdf.memLimit))
        let keys = try subkeys(master, kdf)
        guard opensCheck(keys) else { throw .wrongPassphrase(what: what, origin: origin) }
        return keys
    }

    /// Whether the sealing key opens the `kdf:` line's check: the key is this passphrase's.
    static func opensCheck(_ keys: UnlockedKeys) -> Bool {
        (try? XChaCha20Poly1305.open(keys.kdf.check.ciphertext, key: keys.seal, nonce: keys.kdf.check.nonce,
                                     associatedData: KeyringFile.checkAssociatedData)) == KeyringFile.checkPlaintext
    }

    static func subkeys(_ master: SecretBytes, _ kdf: KeyringFile.KDF) throws(AvaultError) -> UnlockedKeys {
        do {
            return UnlockedKeys(kdf: kdf, master: master,
                                seal: try KeyDerivation.subkey(length: XChaCha20Poly1305.keySize, id: sealSubkeyID, context: subkeyContext, master: master),
                                mac: try KeyDerivation.subkey(length: KeyringFile.macSize, id: macSubkeyID, context: subkeyContext, master: master))
        } catch {
            throw .crypto(error)
        }
    }

    /// A fresh KDF line (salt, limits, check) for `pass`, and its keys.
    private static func newKDF(_ pass: SecretBytes) throws(AvaultError) -> UnlockedKeys {
        let limits = newKDFLimits
        let salt = SecureRandom.bytes(count: PasswordHash.argon2idSaltSize)
        let master = try master(pass, salt, limits)
        let placeholder = KeyringFile.KDF(opsLimit: limits.opsLimit, memLimit: limits.memLimit, salt: salt,
                                          check: KeyringFile.Sealed(nonce: [], ciphertext: []))
        let keys = try subkeys(master, placeholder)
        let nonce = SecureRandom.bytes(count: XChaCha20Poly1305.nonceSize)
        do {
            let check = try XChaCha20Poly1305.seal(KeyringFile.checkPlaintext, key: keys.seal, nonce: nonce,
                                                   associatedData: KeyringFile.checkAssociatedData)
            var kdf = placeholder
            kdf.check = KeyringFile.Sealed(nonce: nonce, ciphertext: check)
            return UnlockedKeys(kdf: kdf, master: master, seal: keys.seal, mac: keys.mac)
        } catch {
            throw .crypto(error)
        }
    }

    // MARK: Secrets

    /// The secret of `entry`, unsealing it with the passphrase if needed (which first
    /// authenticates the whole keyring).
    public func secret(of entry: KeyringFile.Entry) throws(AvaultError) -> SecretBytes {
        switch entry.secret {
        case .plain(let secret):
            guard file.kdf == nil else {
                throw tampered("key '\(entry.name)' version \(entry.version) has an unsealed secret, which a keyring with a passphrase never holds")
            }
            return secret
        case .sealed(let sealed):
            let keys = try unlock()
            return try Self.open(sealed, entry, keys.seal, associatedData: entry.associatedData,
                                 or: tampered("the secret of key '\(entry.name)' version \(entry.version) does not authenticate"))
        }
    }

    private func seal(_ secret: SecretBytes, for entry: KeyringFile.Entry) throws(AvaultError) -> KeyringFile.Sealed {
        let keys: UnlockedKeys
        if file.kdf == nil {
            // First sealed secret: set the passphrase, asked twice on a terminal.
            keys = try Self.newKDF(try passphrase.read(confirm: true))
            file.kdf = keys.kdf
            self.keys = keys
            // What is in memory now is what this process made: nothing on disk to check yet.
            isAuthenticated = true
        } else {
            keys = try unlock()
        }
        return try Self.seal(secret, for: entry, with: keys.seal)
    }

    private static func seal(_ secret: SecretBytes, for entry: KeyringFile.Entry, with key: SecretBytes) throws(AvaultError) -> KeyringFile.Sealed {
        let nonce = SecureRandom.bytes(count: XChaCha20Poly1305.nonceSize)
        do {
            let ct = try secret.withUnsafeBytes { raw in
                try XChaCha20Poly1305.seal(raw, key: key, nonce: nonce, associatedData: entry.associatedData)
            }
            return KeyringFile.Sealed(nonce: nonce, ciphertext: ct)
        } catch {
            throw .crypto(error as? CryptoError ?? .libraryFailure("seal"))
        }
    }

    // MARK: Mutations (call inside `update`)

    /// Adds `secret` as the next version of `name` (version 1 if new). A keyring with a
    /// passphrase takes only `protected` secrets, a keyring without one only unprotected ones.
    @discardableResult
    public func add(name: String, algorithm: KeyringFile.Algorithm, secret: SecretBytes, id: KeyIdentifier,
                    publicKey: [UInt8]? = nil, protected: Bool, now: Int64) throws(AvaultError) -> KeyringFile.Entry {
        guard KeyringFile.isValidName(name) else {
            throw .invalidKeyName(name)
        }
        let existing = versions(of: name)
        if let first = existing.first, first.algorithm.kind != algorithm.kind {
            throw .wrongKeyKind(key: name, kind: first.algorithm.kind, use: .newVersion(algorithm.kind))
        }
        if let clash = file.entries.first(where: { $0.id == id }) {
            throw .keyAlreadyPresent(name: clash.name, version: clash.version, id: id.description)
        }
        if protected, file.entries.contains(where: { !$0.isSealed }) {
            throw .keyringProtectionMismatch(keyring: directory, keyringIsProtected: false)
        }
        if !protected, file.kdf != nil {
            throw .keyringProtectionMismatch(keyring: directory, keyringIsProtected: true)
        }
        let version = (existing.last?.version ?? 0) + 1
        guard version <= KeyringFile.maximumVersion else {
            throw .lastKeyVersion(key: name)
        }
        var entry = KeyringFile.Entry(algorithm: algorithm, id: id, name: name, version: version,
                                      created: Timestamp(seconds: now), publicKey: publicKey, secret: .plain(secret))
        if entry.algorithm.hasPublicKey { try checkPublicKey(entry, secret) }
        if protected { entry.secret = .sealed(try seal(secret, for: entry)) }
        file.entries.append(entry)
        return entry
    }

    /// Retires `version` of `name`; refused for the only active version.
    public func retire(name: String, version: Int, now: Int64) throws(AvaultError) {
        let all = versions(of: name)
        guard !all.isEmpty else { throw noSuchKey(name) }
        guard let index = file.entries.firstIndex(where: { $0.name == name && $0.version == version }) else {
            throw .noSuchKeyVersion(key: name, version: version, versions: all.map(\.version))
        }
        guard file.entries[index].retired == nil else { throw .keyAlreadyRetired(key: name, version: version) }
        guard all.contains(where: { $0.version != version && $0.retired == nil }) else {
            throw .onlyActiveVersion(key: name, version: version)
        }
        file.entries[index].retired = Timestamp(seconds: now)
    }

    /// Removes `version` of `name`, or every version when `version` is nil; returns what was
    /// removed. (Whether anything still needs it is ``deleteKey(name:version:vault:trustStore:force:)``'s question.)
    @discardableResult
    public func remove(name: String, version: Int?) throws(AvaultError) -> [KeyringFile.Entry] {
        let all = versions(of: name)
        guard !all.isEmpty else { throw noSuchKey(name) }
        let removed = all.filter { version == nil || $0.version == version }
        if let version, removed.isEmpty { throw .noSuchKeyVersion(key: name, version: version, versions: all.map(\.version)) }
        file.entries.removeAll { $0.name == name && (version == nil || $0.version == version) }
        return removed
    }

    /// Makes the retired `version` of `name` active again (undoes ``retire(name:version:now:)``).
    public func reinstate(name: String, version: Int) throws(AvaultError) {
        let all = versions(of: name)
        guard !all.isEmpty else { throw noSuchKey(name) }
        guard let index = file.entries.firstIndex(where: { $0.name == name && $0.version == version }) else {
            throw .noSuchKeyVersion(key: name, version: version, versions: all.map(\.version))
        }
        guard file.entries[index].retired != nil else { throw .keyNotRetired(key: name, version: version) }
        file.entries[index].retired = nil
    }

    /// Renames every version of `old` to `new`. A sealed secret's associated data names its
    /// key, so each is unsealed and sealed again for its new name, and checked to open.
    public func rename(_ old: String, to new: String) throws(AvaultError) {
        guard KeyringFile.isValidName(new) else { throw .invalidKeyName(new) }
        guard !versions(of: old).isEmpty else { throw noSuchKey(old) }
        guard versions(of: new).isEmpty else { throw .keyExists(name: new) }
        for i in file.entries.indices where file.entries[i].name == old {
            let secret = try secret(of: file.entries[i])
            file.entries[i].name = new
            guard file.entries[i].isSealed else { continue }
            let key = try unlock().seal
            let sealed = try Self.seal(secret, for: file.entries[i], with: key)
            let reopened = try Self.open(sealed, file.entries[i], key, associatedData: file.entries[i].associatedData,
                                         or: .internalFailure("key '\(old)' version \(file.entries[i].version) did not re-seal as meant; nothing was written"))
            guard reopened == secret else {
                throw .internalFailure("key '\(old)' version \(file.entries[i].version) did not re-seal as meant; nothing was written")
            }
            file.entries[i].secret = .sealed(sealed)
        }
    }

    /// Adds `entries` — every version of one key with unsealed secrets, as a key export holds
    /// them — as key `name`, keeping their versions, creation times and statuses. `name` must
    /// be new; each secret is checked (a signing key's public key against it) and sealed when
    /// `protected`, which must match the keyring as in ``add(name:algorithm:secret:id:publicKey:protected:now:)``.
    @discardableResult
    public func restore(_ entries: [KeyringFile.Entry], as name: String, protected: Bool) throws(AvaultError) -> [KeyringFile.Entry] {
        guard KeyringFile.isValidName(name) else { throw .invalidKeyName(name) }
        guard versions(of: name).isEmpty else { throw .keyExists(name: name) }
        guard let kind = entries.first?.algorithm.kind, entries.allSatisfy({ $0.algorithm.kind == kind }),
              Set(entries.map(\.version)).count == entries.count,
              entries.allSatisfy({ (1...KeyringFile.maximumVersion).contains($0.version) }) else {
            throw .invalidKeyExport(path: nil, reason: "the exported versions are not one key's")
        }
        if protected, file.entries.contains(where: { !$0.isSealed }) {
            throw .keyringProtectionMismatch(keyring: directory, keyringIsProtected: false)
        }
        if !protected, file.kdf != nil {
            throw .keyringProtectionMismatch(keyring: directory, keyringIsProtected: true)
        }
        var added: [KeyringFile.Entry] = []
        for e in entries.sorted(by: { $0.version < $1.version }) {
            guard case .plain(let secret) = e.secret else { throw .invalidKeyExport(path: nil, reason: "an exported secret is not in the clear inside its seal") }
            if let clash = file.entries.first(where: { $0.id == e.id }) {
                throw .keyAlreadyPresent(name: clash.name, version: clash.version, id: e.id.description)
            }
            var entry = e
            entry.name = name
            try checkPublicKey(entry, secret)
            if !entry.algorithm.hasPublicKey, .content(SecuredField.keyID(for: secret)) != entry.id {
                throw .invalidKeyExport(path: nil, reason: "exported key version \(e.version) does not have the key id it claims")
            }
            if protected { entry.secret = .sealed(try seal(secret, for: entry)) }
            file.entries.append(entry)
            added.append(entry)
        }
        return added
    }

    /// Re-seals every secret under `newPassphrase` with a fresh salt (and so new keys and a
    /// new authentication code).
    public func changePassphrase(to newPassphrase: SecretBytes) throws(AvaultError) {
        guard file.kdf != nil else { throw .keyringHasNoPassphrase(path: path, need: .change) }
        var secrets: [(Int, SecretBytes)] = []
        for (i, e) in file.entries.enumerated() { secrets.append((i, try secret(of: e))) }
        let keys = try Self.newKDF(newPassphrase)
        file.kdf = keys.kdf
        self.keys = keys
        for (i, secret) in secrets {
            file.entries[i].secret = .sealed(try Self.seal(secret, for: file.entries[i], with: keys.seal))
        }
    }
}

// MARK: - Vault heads

extension Keyring {
    /// A vault's log head as last seen by this keyring.
    public struct VaultHead: Equatable, Sendable {
        /// The log head's sequence number.
        public var seq: UInt64
        /// The log head's hash: 64 lowercase hex digits.
        public var hash: String // 64 lowercase hex digits
        /// Where it is in the log (nil: not recorded, a keyring written by an older avault).
        public var anchor: KeyringFile.Anchor?
        /// A vault to recipients: BLAKE2b-256 of its data key current at that head, 64 lowercase
        /// hex digits (nil: a content-key vault, or not recorded by an older avault).
        public var dataKey: String?
        /// A vault to recipients: the digest of the recipients its log records at that head
        /// (``Vault``'s `recipientsDigest`), 64 lowercase hex digits; recorded only with an anchor
        /// and a data key (nil: a content-key vault, or not recorded), so that a command can read
        /// the log from the anchor on.
        public var recipients: String?
        public init(seq: UInt64, hash: String, anchor: KeyringFile.Anchor? = nil, dataKey: String? = nil, recipients: String? = nil) {
            self.seq = seq; self.hash = hash; self.anchor = anchor; self.dataKey = dataKey; self.recipients = recipients
        }
    }

    /// The highest log head this keyring has recorded for `vaultID` (32 lowercase hex), nil if none.
    /// Authenticated like every other byte of the keyring (unlocks a protected keyring).
    ///
    /// Read afresh from disk, so a head another process recorded since this keyring was opened
    /// counts. A keyring without passphrase cannot authenticate what it remembers.
    public func lastSeenHead(vaultID: String) throws(AvaultError) -> VaultHead? {
        try lastSeen(vaultID: vaultID, location: nil).head
    }

    /// What a keyring records of one vault, and of one location.
    public struct VaultRecord: Equatable, Sendable {
        /// The vault's head, nil when the keyring has none.
        public var head: VaultHead?
        /// The id of the vault this keyring last used at the location, nil when none is recorded.
        public var vaultAtLocation: String?
        /// Whether the keyring records the vault at any location (false for a head recorded by an
        /// avault that did not record locations).
        public var placed: Bool
        public init(head: VaultHead?, vaultAtLocation: String?, placed: Bool) {
            self.head = head; self.vaultAtLocation = vaultAtLocation; self.placed = placed
        }
    }

    /// In one read (as ``lastSeenHead(vaultID:)``): what this keyring records of `vaultID`, and
    /// of `location` (a digest, see ``KeyringFile/Place``).
    public func lastSeen(vaultID: String, location: String?) throws(AvaultError) -> VaultRecord {
        try Self.checkVaultID(vaultID)
        guard let dir = try openDirectory(), let loaded = try load(dir) else { return VaultRecord(head: nil, vaultAtLocation: nil, placed: false) }
        if let kdf = loaded.file.kdf {
            // Authenticate this read with the keys for its KDF line (derived once per process).
            try verify(loaded.file, loaded.authenticated, with: try keys(for: kdf))
        }
        let head = loaded.file.vaultHeads.first { $0.vaultID == vaultID }.map {
            VaultHead(seq: $0.seq, hash: $0.hash, anchor: $0.anchor, dataKey: $0.dataKey, recipients: $0.recipients)
        }
        return VaultRecord(head: head, vaultAtLocation: location.flatMap { l in loaded.file.places.first { $0.location == l }?.vaultID },
                           placed: loaded.file.places.contains { $0.vaultID == vaultID })
    }

    /// Records `head` for `vaultID` when its seq is higher than the recorded one, durably, under
    /// the keyring's lock, with the MAC rewritten; the same head with another anchor replaces
    /// the anchor, and one with a data key fills in a line that had none. A lower seq, or the
    /// same head and anchor, is a no-op. With `location` (a digest), records that `vaultID` is
    /// the vault this keyring uses there.
    public func noteHead(_ head: VaultHead, vaultID: String, location: String? = nil) throws(AvaultError) {
        try Self.checkVaultID(vaultID)
        guard KeyringFile.isLowercaseHex(head.hash, count: 64), head.dataKey.map({ KeyringFile.isLowercaseHex($0, count: 64) }) ?? true,
              head.recipients.map({ KeyringFile.isLowercaseHex($0, count: 64) }) ?? true,
              location.map({ KeyringFile.isLowercaseHex($0, count: 64) }) ?? true else {
            throw .internalFailure("a log head hash, a data key digest, a recipients digest and a location digest are 64 lowercase hex digits")
        }
        if let anchor = head.anchor, !KeyringFile.isLowercaseHex(anchor.first, count: 64) || anchor.line < 1 {
            throw .internalFailure("a log anchor is a line from 1 and 64 lowercase hex digits")
        }
        try update { ring throws(AvaultError) in
            // A recipients digest is kept only beside the anchor and the data key it goes with.
            let recipients = head.anchor != nil && head.dataKey != nil ? head.recipients : nil
            let new = KeyringFile.VaultHead(vaultID: vaultID, seq: head.seq, hash: head.hash, anchor: head.anchor, dataKey: head.dataKey, recipients: recipients)
            if let i = ring.file.vaultHeads.firstIndex(where: { $0.vaultID == vaultID }) {
                let old = ring.file.vaultHeads[i]
                if head.seq > old.seq {
                    ring.file.vaultHeads[i] = new
                } else if head.seq == old.seq, head.hash == old.hash {
                    if let anchor = head.anchor { ring.file.vaultHeads[i].anchor = anchor }
                    if old.dataKey == nil { ring.file.vaultHeads[i].dataKey = head.dataKey }
                    // Non-nil only with this head's anchor and data key, both now in the record.
                    if old.recipients == nil { ring.file.vaultHeads[i].recipients = recipients }
                }
            } else {
                ring.file.vaultHeads.append(new)
                ring.file.vaultHeads.sort { $0.vaultID < $1.vaultID }
            }
            if let location { Self.setPlace(&ring.file, location: location, vaultID: vaultID) }
        }
    }

    /// Records that `vaultID` is the vault this keyring uses at `location` (a digest), as
    /// ``noteHead(_:vaultID:location:)`` does, for a vault whose head is recorded otherwise (a copy).
    public func notePlace(location: String, vaultID: String) throws(AvaultError) {
        try Self.checkVaultID(vaultID)
        guard KeyringFile.isLowercaseHex(location, count: 64) else { throw .internalFailure("a location digest is 64 lowercase hex digits") }
        try update { ring throws(AvaultError) in Self.setPlace(&ring.file, location: location, vaultID: vaultID) }
    }

    private static func setPlace(_ file: inout KeyringFile, location: String, vaultID: String) {
        file.places.removeAll { $0.location == location }
        file.places.append(KeyringFile.Place(location: location, vaultID: vaultID))
        file.places.sort { $0.location < $1.location }
    }

    /// Forgets which vault this keyring used at `location` (a digest): the next vault met there
    /// is taken as one never seen, or, with `expecting`, must be that vault. Returns the
    /// forgotten vault's id, nil when there was none. The vault's head stays recorded (it still
    /// protects that vault wherever it is).
    public func forgetPlace(location: String, expecting: String? = nil) throws(AvaultError) -> String? {
        if let expecting { try Self.checkVaultID(expecting) }
        // No keyring yet: nothing to forget, and none is made to hold only a place.
        guard let dir = try openDirectory(), try load(dir) != nil else {
            if expecting == nil { return nil }
            throw .noKeyring(location: directory)
        }
        return try update { ring throws(AvaultError) -> String? in
            let forgotten = ring.file.places.first { $0.location == location }?.vaultID
            ring.file.places.removeAll { $0.location == location }
            if let expecting { Self.setPlace(&ring.file, location: location, vaultID: expecting) }
            return forgotten
        }
    }

    private static func checkVaultID(_ id: String) throws(AvaultError) {
        guard KeyringFile.isLowercaseHex(id, count: 32) else {
            throw .internalFailure("a vault id is 32 lowercase hex digits")
        }
    }
}

// MARK: - Upgrade from version 1

extension Keyring {
    /// What ``upgrade(directory:passphrase:sealUnprotected:)`` did.
    public struct Upgrade {
        /// The keyring, now version 2 (authenticated when it has a passphrase).
        public var keyring: Keyring
        /// The entries (`'name' version N`) that were unsealed in the version 1 file and are sealed now.
        public var sealed: [String]
    }

    /// Rewrites a version 1 keyring as version 2, under the keyring's lock, after checking what
    /// version 1 allows: the passphrase; every sealed secret against its own entry (algorithm,
    /// id, name, version); every signing key's public key against its secret. Nothing in a
    /// version 1 file vouches for statuses or creation times: review them afterwards.
    ///
    /// An unsealed secret in a version 1 keyring with a passphrase (which version 1 allowed, and
    /// which is how an appended key took over) is refused unless `sealUnprotected`: the caller
    /// vouches that it is theirs, and it is sealed. A keyring without passphrase stays so.
    public static func upgrade(directory: String, passphrase: PassphraseSource, sealUnprotected: Bool) throws(AvaultError) -> Upgrade {
        let ring = Keyring(unloaded: directory, passphrase: passphrase)
        guard try ring.openDirectory() != nil else { throw .noKeyring(location: directory) }
        let dir = try SecureDirectory(path: directory, requirePrivate: true)
        try checkOwner(dir)
        let lock = try dir.lock(lockName)
        defer { withExtendedLifetime(lock) {} }
        guard var bytes = try dir.read(fileName, secret: true, limit: FileLimits.keyring, what: "a keyring") else { throw .noKeyring(location: ring.path) }
        defer { wipe(&bytes) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformed(.invalidKeyring("not UTF-8", line: 1), file: ring.path)
        }
        switch KeyringFile.formatVersion(of: text) {
        case 2: throw .keyringAlreadyCurrent(path: ring.path)
        case 1: break
        default: throw .malformed(.invalidKeyring("not an avault keyring (expected '\(KeyringFile.magicV1)')", line: 1), file: ring.path)
        }
        let old: KeyringFile
        do { old = try KeyringFile(parsingVersion1: text) } catch { throw .malformed(error, file: ring.path) }

        // Every secret, each sealed one checked against its own entry.
        var secrets: [SecretBytes] = []
        var unsealed: [String] = []
        var pass: SecretBytes?
        if let kdf = old.kdf {
            let p = try passphrase.read()
            pass = p
            let kek = try master(p, kdf.salt, PasswordHash.Limits(opsLimit: kdf.opsLimit, memLimit: kdf.memLimit))
            guard (try? XChaCha20Poly1305.open(kdf.check.ciphertext, key: kek, nonce: kdf.check.nonce,
                                               associatedData: KeyringFile.checkAssociatedDataV1)) == KeyringFile.checkPlaintext else {
                throw .wrongPassphrase(what: "the keyring \(directory)", origin: passphrase.origin)
            }
            for e in old.entries {
                switch e.secret {
                case .sealed(let sealed):
                    secrets.append(try open(sealed, e, kek, associatedData: e.associatedDataV1,
                                            or: ring.tampered("the secret of key '\(e.name)' version \(e.version) does not authenticate")))
                case .plain(let secret):
                    secrets.append(secret)
                    unsealed.append("'\(e.name)' version \(e.version)")
                }
            }
        } else {
            for e in old.entries {
                guard case .plain(let secret) = e.secret else { continue }
                secrets.append(secret)
            }
        }
        for (e, secret) in zip(old.entries, secrets) { try ring.checkPublicKey(e, secret) }
        if !unsealed.isEmpty, !sealUnprotected {
            throw .unsealedSecrets(path: ring.path, keys: unsealed, directory: directory)
        }

        var new = KeyringFile(kdf: nil, entries: old.entries)
        if let pass {
            let keys = try newKDF(pass)
            new.kdf = keys.kdf
            ring.keys = keys
            for i in new.entries.indices {
                new.entries[i].secret = .sealed(try seal(secrets[i], for: new.entries[i], with: keys.seal))
            }
        }
        try ring.write(new, to: dir)
        return Upgrade(keyring: ring, sealed: unsealed)
    }
}
