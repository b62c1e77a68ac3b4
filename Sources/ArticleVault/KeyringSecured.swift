import VaultCrypto
public import VaultFormat

extension Keyring {
    /// Decrypts `blob` with the key named `name`: a v2 blob with the version whose id the blob
    /// names, a v1 blob — only with a `legacy` authorisation — with each active version of a
    /// legacy key in turn (newest first).
    public func decrypt(_ blob: SecuredBlob, keyName name: String, context: String,
                        legacy: LegacyAuthorization? = nil) throws(AvaultError) -> [UInt8] {
        if case .v1 = blob, legacy == nil { throw .unauthenticatedLegacy }
        let all = versions(of: name)
        guard let kind = all.first?.algorithm.kind else { throw noSuchKey(name) }
        switch blob {
        case .v2(let kid, _, _):
            guard kind == "content" else {
                throw .refused("key '\(name)' is a \(kind) key; a v2 blob needs a content key", hint: nil)
            }
            guard let entry = all.first(where: { $0.id == kid.hex }) else {
                let holder = file.entries.first { $0.id == kid.hex }
                let contentNames = Set(file.entries.filter { $0.algorithm.kind == "content" }.map(\.name)).sorted()
                throw .refused("key '\(name)' has no version with key id \(kid.hex), which the blob names",
                               hint: holder.map { "that is key '\($0.name)' version \($0.version)" }
                                   ?? (contentNames.isEmpty ? "the keyring has no content keys"
                                       : "the keyring lacks that key; its content keys are: \(contentNames.joined(separator: ", "))"))
            }
            guard entry.retired == nil else {
                throw .refused("key id \(kid.hex) is key '\(name)' version \(entry.version), which is retired", hint: nil)
            }
            return try SecuredField.decrypt(blob, key: try secret(of: entry), context: context)
        case .v1:
            guard kind == "legacy" else {
                throw .refused("key '\(name)' is a \(kind) key; a v1 blob needs a legacy AES key",
                               hint: "import one with 'avault keys import NAME --key-file F --legacy-aes-cbc'")
            }
            let active = all.filter { $0.retired == nil }
            guard !active.isEmpty else { throw .refused("key '\(name)' has no active version", hint: nil) }
            // Unseal first (a wrong passphrase is its own error), then try each version.
            var secrets: [SecretBytes] = []
            for entry in active.reversed() { secrets.append(try secret(of: entry)) }
            for key in secrets {
                if let plaintext = try? SecuredField.decrypt(blob, key: key, context: context, legacy: legacy) { return plaintext }
            }
            throw .decryptionFailed(hint: nil)
        }
    }

    /// Encrypts with the newest active version of `name`: v2 for a content key, v1 for a
    /// legacy key (which the caller must ask for with `legacy`).
    public func encrypt(_ plaintext: [UInt8], keyName name: String, context: String, legacy: Bool) throws(AvaultError) -> SecuredBlob {
        let entry = try current(name)
        switch (entry.algorithm.kind, legacy) {
        case ("content", false):
            return try SecuredField.encryptV2(plaintext, key: try secret(of: entry), context: context)
        case ("legacy", true):
            return try SecuredField.encryptV1(plaintext, key: try secret(of: entry))
        case ("legacy", false):
            throw .refused("key '\(name)' is a legacy AES key: it only makes unauthenticated v1 blobs",
                           hint: "pass --legacy-cbc if a v1 reader really needs it, or use a content key")
        case ("content", true):
            throw .refused("key '\(name)' is a content key; --legacy-cbc needs a legacy AES key", hint: nil)
        default:
            throw .refused("key '\(name)' is a \(entry.algorithm.kind) key; encryption needs a content key", hint: nil)
        }
    }
}
