#if canImport(Glibc)
import Glibc
#endif
public import VaultCrypto
public import VaultFormat

/// A keyring on disk: a directory (mode 700) holding `keyring.avk` (mode 600) with every key,
/// its versions and their secrets, sealed under an Argon2id-derived key or, for throwaway
/// keyrings, in the clear. Mutations hold an exclusive lock and replace the file atomically.
public final class Keyring {
    /// The keyring directory.
    public let directory: String
    /// The parsed keyring file (empty if the keyring does not exist yet).
    public private(set) var file: KeyringFile
    /// Where the passphrase comes from when a secret must be sealed or unsealed.
    public let passphrase: PassphraseSource
    /// Argon2id limits for a new keyring or a new passphrase.
    public static var newKDFLimits: PasswordHash.Limits { .interactive }

    private var kek: SecretBytes?
    private var lockFD: Int32 = -1

    /// The file holding the keys.
    public var path: String { directory + "/keyring.avk" }

    /// `explicit` (`--keyring`), else `AVAULT_KEYRING`, else `$XDG_CONFIG_HOME/avault/keyring`,
    /// else `~/.config/avault/keyring`.
    public static func location(explicit: String?) -> String {
        if let explicit { return explicit }
        if let env = getenv("AVAULT_KEYRING"), env[0] != 0 { return String(cString: env) }
        if let xdg = getenv("XDG_CONFIG_HOME"), xdg[0] != 0 { return String(cString: xdg) + "/avault/keyring" }
        let home = getenv("HOME").map { String(cString: $0) } ?? "."
        return home + "/.config/avault/keyring"
    }

    /// Opens the keyring at `directory` for reading. A missing keyring reads as empty.
    public init(directory: String, passphrase: PassphraseSource) throws(AvaultError) {
        self.directory = directory
        self.passphrase = passphrase
        self.file = KeyringFile()
        try reload()
    }

    deinit {
        if lockFD >= 0 { close(lockFD) }
    }

    private func reload() throws(AvaultError) {
        guard access(path, F_OK) == 0 else {
            file = KeyringFile()
            return
        }
        try Self.checkDirectory(directory)
        var bytes = try FileSystem.read(path, secret: true)
        defer { wipe(&bytes) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformed(.invalidKeyring("not UTF-8", line: 1), file: path)
        }
        do { file = try KeyringFile(parsing: text) } catch { throw .malformed(error, file: path) }
    }

    /// Runs `body` holding the keyring's exclusive lock (creating the directory, mode 700, if
    /// needed), on a fresh read of the file; then writes the file atomically.
    @discardableResult
    public func update<T>(_ body: (Keyring) throws(AvaultError) -> T) throws(AvaultError) -> T {
        try FileSystem.makeDirectory(directory, mode: 0o700)
        try Self.checkDirectory(directory)
        let fd = open(directory + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: directory + "/.lock", reason: FileSystem.errnoText()) }
        lockFD = fd
        defer { close(fd); lockFD = -1 }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .io(path: directory + "/.lock", reason: FileSystem.errnoText()) }
        }
        try reload()
        let result = try body(self)
        var text = Array(file.serialized().utf8)
        defer { wipe(&text) }
        try FileSystem.writeAtomically(path, text, mode: 0o600)
        return result
    }

    private static func checkDirectory(_ directory: String) throws(AvaultError) {
        var st = stat()
        guard stat(directory, &st) == 0 else { return }
        if st.st_mode & 0o077 != 0 {
            throw .refused("\(directory): keyring directory is accessible by group or others (mode \(String(st.st_mode & 0o777, radix: 8)))",
                           hint: "chmod 700 '\(directory)'")
        }
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
            throw .refused("key '\(name)' has no active version", hint: "see 'avault keys list'")
        }
        return entry
    }

    /// Error for a missing key, listing the names that exist.
    public func noSuchKey(_ name: String) -> AvaultError {
        let names = Set(file.entries.map(\.name)).sorted()
        return .refused("no key named '\(name)' in \(directory)",
                        hint: names.isEmpty ? "the keyring is empty; create a key with 'avault keys generate'"
                                            : "the keyring has: \(names.joined(separator: ", "))")
    }

    // MARK: Secrets

    /// The secret of `entry`, unsealing it with the passphrase if needed.
    public func secret(of entry: KeyringFile.Entry) throws(AvaultError) -> SecretBytes {
        switch entry.secret {
        case .plain(let secret):
            return secret
        case .sealed(let sealed):
            let kek = try unlock()
            do {
                return try XChaCha20Poly1305.openSecret(sealed.ciphertext, key: kek, nonce: sealed.nonce,
                                                        associatedData: entry.associatedData)
            } catch {
                throw .refused("\(path): the secret of key '\(entry.name)' version \(entry.version) does not authenticate (the file was altered)", hint: nil)
            }
        }
    }

    /// The key-encryption key, derived once per process from the passphrase and checked.
    private func unlock() throws(AvaultError) -> SecretBytes {
        if let kek { return kek }
        guard let kdf = file.kdf else { throw .refused("\(path): the keyring has no passphrase set", hint: nil) }
        let pass = try passphrase.read()
        let key = try Self.derive(pass, kdf.salt, PasswordHash.Limits(opsLimit: kdf.opsLimit, memLimit: kdf.memLimit))
        guard (try? XChaCha20Poly1305.open(kdf.check.ciphertext, key: key, nonce: kdf.check.nonce,
                                           associatedData: KeyringFile.checkAssociatedData)) == KeyringFile.checkPlaintext else {
            throw .wrongPassphrase(what: "the keyring \(directory)", hint: passphrase.origin)
        }
        kek = key
        return key
    }

    private static func derive(_ pass: SecretBytes, _ salt: [UInt8], _ limits: PasswordHash.Limits) throws(AvaultError) -> SecretBytes {
        guard limits.memLimit <= 4 << 30, limits.opsLimit <= 64 else {
            throw .refused("the keyring asks for key-derivation limits beyond what avault allows (ops ≤ 64, memory ≤ 4 GiB)", hint: nil)
        }
        do {
            return try PasswordHash.argon2id(length: XChaCha20Poly1305.keySize, passphrase: pass, salt: salt, limits: limits)
        } catch {
            throw .crypto(error)
        }
    }

    /// A fresh KDF (salt, limits, check) for `pass`; returns it and its key.
    private static func newKDF(_ pass: SecretBytes) throws(AvaultError) -> (KeyringFile.KDF, SecretBytes) {
        let limits = newKDFLimits
        let salt = SecureRandom.bytes(count: PasswordHash.argon2idSaltSize)
        let key = try derive(pass, salt, limits)
        let nonce = SecureRandom.bytes(count: XChaCha20Poly1305.nonceSize)
        do {
            let check = try XChaCha20Poly1305.seal(KeyringFile.checkPlaintext, key: key, nonce: nonce,
                                                   associatedData: KeyringFile.checkAssociatedData)
            return (KeyringFile.KDF(opsLimit: limits.opsLimit, memLimit: limits.memLimit, salt: salt,
                                    check: KeyringFile.Sealed(nonce: nonce, ciphertext: check)), key)
        } catch {
            throw .crypto(error)
        }
    }

    private func seal(_ secret: SecretBytes, for entry: KeyringFile.Entry) throws(AvaultError) -> KeyringFile.Sealed {
        let kek: SecretBytes
        if file.kdf == nil {
            // First sealed secret: set the passphrase, asked twice on a terminal.
            let (kdf, key) = try Self.newKDF(try passphrase.read(confirm: true))
            file.kdf = kdf
            self.kek = key
            kek = key
        } else {
            kek = try unlock()
        }
        let nonce = SecureRandom.bytes(count: XChaCha20Poly1305.nonceSize)
        do {
            let ct = try secret.withUnsafeBytes { raw in
                try XChaCha20Poly1305.seal(raw, key: kek, nonce: nonce, associatedData: entry.associatedData)
            }
            return KeyringFile.Sealed(nonce: nonce, ciphertext: ct)
        } catch {
            throw .crypto(error as? CryptoError ?? .libraryFailure("seal"))
        }
    }

    // MARK: Mutations (call inside `update`)

    /// Adds `secret` as the next version of `name` (version 1 if new).
    @discardableResult
    public func add(name: String, algorithm: KeyringFile.Algorithm, secret: SecretBytes, id: String,
                    publicKey: [UInt8]? = nil, protected: Bool, now: Int64) throws(AvaultError) -> KeyringFile.Entry {
        guard KeyringFile.isValidName(name) else {
            throw .refused("invalid key name '\(name)'", hint: "use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'")
        }
        let existing = versions(of: name)
        if let first = existing.first, first.algorithm.kind != algorithm.kind {
            throw .refused("key '\(name)' is a \(first.algorithm.kind) key, not a \(algorithm.kind) key", hint: nil)
        }
        if let clash = file.entries.first(where: { $0.id == id }) {
            throw .refused("this key is already in the keyring as '\(clash.name)' version \(clash.version) (id \(id))", hint: nil)
        }
        var entry = KeyringFile.Entry(algorithm: algorithm, id: id, name: name, version: (existing.last?.version ?? 0) + 1,
                                      created: RFC3339.format(now), publicKey: publicKey, secret: .plain(secret))
        if protected { entry.secret = .sealed(try seal(secret, for: entry)) }
        file.entries.append(entry)
        return entry
    }

    /// Retires `version` of `name`; refused for the only active version.
    public func retire(name: String, version: Int, now: Int64) throws(AvaultError) {
        let all = versions(of: name)
        guard !all.isEmpty else { throw noSuchKey(name) }
        guard let index = file.entries.firstIndex(where: { $0.name == name && $0.version == version }) else {
            throw .refused("key '\(name)' has no version \(version)", hint: "versions: \(all.map { String($0.version) }.joined(separator: ", "))")
        }
        guard file.entries[index].retired == nil else { throw .refused("key '\(name)' version \(version) is already retired", hint: nil) }
        guard all.contains(where: { $0.version != version && $0.retired == nil }) else {
            throw .refused("version \(version) is the only active version of '\(name)'", hint: "rotate first: 'avault keys rotate \(name)'")
        }
        file.entries[index].retired = RFC3339.format(now)
    }

    /// Re-seals every sealed secret under `newPassphrase` with a fresh salt.
    public func changePassphrase(to newPassphrase: SecretBytes) throws(AvaultError) {
        guard file.kdf != nil else { throw .refused("the keyring has no sealed secrets to re-seal", hint: nil) }
        var secrets: [(Int, SecretBytes)] = []
        for (i, e) in file.entries.enumerated() {
            if case .sealed = e.secret { secrets.append((i, try secret(of: e))) }
        }
        let (kdf, key) = try Self.newKDF(newPassphrase)
        file.kdf = kdf
        kek = key
        for (i, secret) in secrets {
            file.entries[i].secret = .sealed(try seal(secret, for: file.entries[i]))
        }
    }
}
