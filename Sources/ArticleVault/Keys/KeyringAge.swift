public import VaultCrypto
public import VaultFormat

/// Identities in the keyring: X25519 keys that open age files, and their recipients.
extension Keyring {
    /// The largest identity file read (`keys import-age`, `age decrypt -i`).
    public static let maximumIdentityFileSize = 1 << 20

    /// An identity's id: the first 8 bytes of BLAKE2b-256 of its X25519 public key, written
    /// in hex (public: anyone with the recipient can compute it).
    static func identityID(of publicKey: [UInt8]) -> KeyID {
        KeyID(bytes: Array(BLAKE2b.hash(publicKey, digestSize: 32).prefix(KeyID.size)))
    }

    /// The newest active version of identity `name`.
    func currentIdentity(_ name: String) throws(AvaultError) -> KeyringFile.Entry {
        let entry = try current(name)
        guard entry.algorithm == .x25519, entry.publicKey?.count == 32 else {
            throw .wrongKeyKind(key: name, kind: entry.algorithm.kind, use: .ageIdentity)
        }
        return entry
    }

    /// The recipient (`age1…`) of the newest active version of identity `name`, after the
    /// keyring was authenticated (a keyring with a passphrase asks for it): what is handed to
    /// others must be the key this keyring opens, not one put in its place.
    public func ageRecipient(ofIdentity name: String) throws(AvaultError) -> (entry: KeyringFile.Entry, recipient: String) {
        try authenticate()
        let entry = try currentIdentity(name)
        guard let publicKey = entry.publicKey else { throw .wrongKeyKind(key: name, kind: entry.algorithm.kind, use: .ageIdentity) }
        return (entry, AgeKeys.recipient(publicKey))
    }

    /// The secrets of every version of identity `name`, newest first, unsealed (each checked
    /// against its public key), to decrypt age files with. Retired versions are included: a
    /// retired identity is no longer handed out as a recipient (``ageRecipient(ofIdentity:)``
    /// and ``exportAge(name:to:overwrite:)`` take the newest active version), but what others
    /// sealed to it before still opens. (A retired content key is not used at all.)
    public func ageIdentities(named name: String) throws(AvaultError) -> [SecretBytes] {
        let all = versions(of: name)
        guard let first = all.first else { throw noSuchKey(name) }
        guard all.allSatisfy({ $0.algorithm == .x25519 && $0.publicKey?.count == 32 }) else {
            throw .wrongKeyKind(key: name, kind: first.algorithm.kind, use: .ageIdentity)
        }
        var secrets: [SecretBytes] = []
        for entry in all.reversed() {
            let secret = try secret(of: entry)
            try checkPublicKey(entry, secret)
            secrets.append(secret)
        }
        return secrets
    }

    /// The secrets of every version of every identity in the keyring, retired ones included
    /// (by name, each name's newest version first), unsealed and checked against their public
    /// keys: what `unseal` tries on a blob sealed to recipients, and what opens a vault to
    /// recipients.
    public func allAgeIdentities() throws(AvaultError) -> [SecretBytes] {
        var names: [String] = []
        for entry in file.entries where entry.algorithm == .x25519 && !names.contains(entry.name) { names.append(entry.name) }
        var secrets: [SecretBytes] = []
        for name in names { secrets += try ageIdentities(named: name) }
        return secrets
    }

    /// Reads an identity file (`age-keygen`'s, or `age -i`'s: one identity per line, `#`
    /// comments); mode 600 required, like every secret file avault reads.
    public static func readAgeIdentityFile(_ path: String) throws(AvaultError) -> [SecretBytes] {
        var bytes = try FileSystem.readInput(path, limit: maximumIdentityFileSize, what: "an identity file", secret: true)
        defer { wipe(&bytes) }
        do throws(AgeKeys.Problem) {
            return try withRaw(bytes) { raw throws(AgeKeys.Problem) in try AgeKeys.parseIdentityFile(raw) }
        } catch { throw .ageKey(error, file: FileSystem.inputName(path)) }
    }

    /// Imports the one identity of the `age-keygen` file at `path` as the next version of
    /// identity `name`. A file with several identities is refused (import them one by one), and
    /// so is one whose `# public key:` comment names another recipient than its identity's.
    @discardableResult
    public func importAge(name: String, file path: String, protected: Bool, now: Int64) throws(AvaultError) -> KeyringFile.Entry {
        var bytes = try FileSystem.readInput(path, limit: Self.maximumIdentityFileSize, what: "an identity file", secret: true)
        defer { wipe(&bytes) }
        let identities: [SecretBytes]
        do throws(AgeKeys.Problem) {
            identities = try withRaw(bytes) { raw throws(AgeKeys.Problem) in try AgeKeys.parseIdentityFile(raw) }
        } catch { throw .ageKey(error, file: FileSystem.inputName(path)) }
        guard identities.count == 1, let secret = identities.first else {
            throw .ageIdentityCount(path: FileSystem.inputName(path), count: identities.count)
        }
        let publicKey: [UInt8]
        do throws(CryptoError) { publicKey = try X25519.publicKey(of: secret) } catch { throw .crypto(error) }
        let recipient = AgeKeys.recipient(publicKey)
        // age-keygen's comment, when present, must name this identity's recipient.
        // It is quoted in the error only when it is a recipient: a comment may hold anything,
        // an identity too, and a message never quotes one.
        for line in bytes.split(separator: 0x0A) where line.starts(with: Array("# public key: ".utf8)) {
            var named = line.dropFirst(14) // a slice: the secret file's bytes are not copied
            if named.last == 0x0D { named = named.dropLast() }
            guard !named.elementsEqual(recipient.utf8) else { continue }
            var quoted: String?
            if named.count <= 128, named.prefix(4).map({ $0 | 0x20 }).elementsEqual("age1".utf8) {
                let text = String(decoding: named, as: UTF8.self)
                if (try? AgeKeys.parseRecipient(text)) != nil { quoted = text }
            }
            throw .ageIdentityCommentMismatch(path: FileSystem.inputName(path), named: quoted, recipient: recipient)
        }
        return try update { ring throws(AvaultError) in
            try ring.add(name: name, algorithm: .x25519, secret: secret, id: .content(Self.identityID(of: publicKey)),
                         publicKey: publicKey, protected: protected, now: now)
        }
    }

    /// Writes the newest active version of identity `name` to `path` as `age-keygen` writes an
    /// identity file (mode 600, atomically; an existing file only with `overwrite`), read back
    /// and compared before it is reported. Returns the entry and its recipient.
    public func exportAge(name: String, to path: String, overwrite: Bool) throws(AvaultError) -> (entry: KeyringFile.Entry, recipient: String) {
        try FileSystem.checkOutput(path, force: overwrite)
        try authenticate()
        let entry = try currentIdentity(name)
        let secret = try secret(of: entry)
        try checkPublicKey(entry, secret)
        guard let publicKey = entry.publicKey else { throw .wrongKeyKind(key: name, kind: entry.algorithm.kind, use: .ageIdentity) }
        let text = AgeKeys.identityFile(secret: secret, publicKey: publicKey, created: entry.created.text)
        var bytes = text.withUnsafeBytes { Array($0) }
        defer { wipe(&bytes) }
        // What will be written must give back the identity it was made from.
        let reparsed: [SecretBytes]
        do throws(AgeKeys.Problem) {
            reparsed = try withRaw(bytes) { raw throws(AgeKeys.Problem) in try AgeKeys.parseIdentityFile(raw) }
        } catch { throw .internalFailure("the identity file made for '\(name)' does not parse back; nothing was written") }
        guard reparsed.count == 1, reparsed[0] == secret else {
            throw .internalFailure("the identity file made for '\(name)' does not give back its identity; nothing was written")
        }
        try FileSystem.writeAtomically(path, bytes, mode: 0o600, overwrite: overwrite)
        var written = try FileSystem.read(path, secret: true)
        defer { wipe(&written) }
        guard ConstantTime.equals(written, bytes) else { throw .io(path: path, reason: "the file read back differs from what was written") }
        return (entry, AgeKeys.recipient(publicKey))
    }
}
