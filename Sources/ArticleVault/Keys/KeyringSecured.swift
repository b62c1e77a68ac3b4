import VaultCrypto
public import VaultFormat

extension Keyring {
    /// Decrypts `blob` with the key named `name`: a v2 blob with the version whose id the blob
    /// names, a v1 blob — only with a `legacy` authorisation — with the one active version of a
    /// legacy key under which it decrypts (see ``legacyKeys(_:)``).
    /// A v3 blob opens with the identity `name` (every version, retired ones too).
    public func decrypt(_ blob: SecuredBlob, keyName name: String, context: String,
                        legacy: LegacyAuthorization? = nil, record: String? = nil) throws(AvaultError) -> [UInt8] {
        if case .v1 = blob, legacy == nil { throw .unauthenticatedLegacy(path: record) }
        let all = versions(of: name)
        guard let kind = all.first?.algorithm.kind else { throw noSuchKey(name) }
        switch blob {
        case .v3:
            guard kind == .identity else { throw .wrongKeyKind(key: name, kind: kind, use: .v3Blob) }
            try SecuredField.checkV3Context(blob, context: context, file: record)
            return try SecuredField.decryptV3(blob, identities: try ageIdentities(named: name), context: context, file: record)
        case .v2(let kid, _, _):
            guard kind == .content else { throw .wrongKeyKind(key: name, kind: kind, use: .v2Blob) }
            guard let entry = all.first(where: { $0.id == .content(kid) }) else {
                let holder = file.entries.first { $0.id == .content(kid) }
                let contentNames = Set(file.entries.filter { $0.algorithm.kind == .content }.map(\.name)).sorted()
                throw .noKeyVersionWithID(key: name, id: kid.hex, holder: holder.map { ($0.name, $0.version) }, contentKeys: contentNames)
            }
            guard entry.retired == nil else { throw .keyRetired(key: name, version: entry.version, id: kid.hex) }
            return try SecuredField.decrypt(blob, key: try secret(of: entry), context: context)
        case .v1:
            let opened = try Self.soleLegacyFit(try legacyKeys(name), keyName: name, discard: { wipe(&$0) }) { key in
                try? SecuredField.decrypt(blob, key: key, context: context, legacy: legacy)
            }
            guard let opened else { throw .decryptionFailed(keyIDs: nil) }
            return opened
        }
    }

    /// What `attempt` gives for the one version of ``legacyKeys(_:)`` it accepts, when exactly
    /// one does and that one is active; nil when none does (or only a retired one). When more
    /// than one does, which is the blob's key cannot be told: what they gave is discarded and
    /// ``AvaultError/ambiguousLegacyKey(key:versions:)`` thrown.
    public static func soleLegacyFit<T>(_ keys: [(version: Int, active: Bool, secret: SecretBytes)], keyName: String,
                                        discard: (inout T) -> Void = { _ in },
                                        _ attempt: (SecretBytes) -> T?) throws(AvaultError) -> T? {
        var found: T?
        var fits: [Int] = []
        for key in keys {
            guard var value = attempt(key.secret) else { continue }
            fits.append(key.version)
            if found == nil, key.active { found = value } else { discard(&value) }
        }
        guard fits.count <= 1 else {
            if var found { discard(&found) }
            throw .ambiguousLegacyKey(key: keyName, versions: fits.sorted())
        }
        return found
    }

    /// The secrets of every version of the legacy key `name`, newest first, and whether each is
    /// active: the keys a v1 blob is tried with. A v1 blob names no key, and its padding is its
    /// only check: under a wrong key it holds for about one blob in 256. So a blob decrypts with
    /// an active version only when no other version (retired ones included) would decrypt it
    /// too; else it is refused as ambiguous, never handed on as another key's garbage (which
    /// `migrate` would seal and sign). All are unsealed before any is tried (a wrong passphrase
    /// is its own error, not a failed decryption).
    public func legacyKeys(_ name: String) throws(AvaultError) -> [(version: Int, active: Bool, secret: SecretBytes)] {
        let all = versions(of: name)
        guard let kind = all.first?.algorithm.kind else { throw noSuchKey(name) }
        guard kind == .legacy else { throw .wrongKeyKind(key: name, kind: kind, use: .v1Blob) }
        guard all.contains(where: { $0.retired == nil }) else { throw .noActiveVersion(key: name) }
        var secrets: [(version: Int, active: Bool, secret: SecretBytes)] = []
        for entry in all.reversed() { secrets.append((entry.version, entry.retired == nil, try secret(of: entry))) }
        return secrets
    }

    /// Encrypts with the newest active version of `name`: v2 for a content key, v1 for a
    /// legacy key (which the caller must ask for with `legacy`).
    public func encrypt(_ plaintext: [UInt8], keyName name: String, context: String, legacy: Bool) throws(AvaultError) -> SecuredBlob {
        let entry = try current(name)
        switch (entry.algorithm.kind, legacy) {
        case (.content, false):
            return try SecuredField.encryptV2(plaintext, key: try secret(of: entry), context: context)
        case (.legacy, true):
            return try SecuredField.encryptV1(plaintext, key: try secret(of: entry))
        case (let kind, false):
            throw .wrongKeyKind(key: name, kind: kind, use: .encryption)
        case (let kind, true):
            throw .wrongKeyKind(key: name, kind: kind, use: .legacyEncryption)
        }
    }
}
