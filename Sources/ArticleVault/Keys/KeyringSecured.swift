import VaultCrypto
public import VaultFormat

extension Keyring {
    /// Decrypts `blob` with the key named `name`: a v2 blob with the version whose id the blob
    /// names, a v1 blob — only with a `legacy` authorisation — with the one active version of a
    /// legacy key under which it decrypts (see ``legacyKeys(_:)``).
    /// A v3 blob opens with the identity `name` (every version, retired ones too).
    public func decrypt(_ blob: SecuredBlob, keyName name: String, context: String,
                        legacy: LegacyAuthorization? = nil, record: String? = nil) throws(AvaultError) -> [UInt8] {
        if case .v1 = blob, legacy == nil { throw .unauthenticatedLegacy }
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
            let keys = try legacyKeys(name)
            var found: (version: Int, plaintext: [UInt8])?
            var fits: [Int] = []
            for key in keys {
                guard var plaintext = try? SecuredField.decrypt(blob, key: key.secret, context: context, legacy: legacy) else { continue }
                fits.append(key.version)
                if found == nil, key.active { found = (key.version, plaintext) } else { wipe(&plaintext) }
            }
            guard var found else { throw .decryptionFailed(keyIDs: nil) }
            guard fits.count == 1 else {
                wipe(&found.plaintext)
                throw .ambiguousLegacyKey(key: name, versions: fits.sorted())
            }
            return found.plaintext
        }
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
