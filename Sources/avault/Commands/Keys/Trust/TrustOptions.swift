import ArgumentParser
import ArticleVault
import VaultFormat

/// `--trust-store FILE`, else `trust.avt` in the keyring directory.
struct TrustStoreOptions: ParsableArguments {
    @Option(name: .customLong("keyring"), help: ArgumentHelp("The keyring directory holding trust.avt.", valueName: "dir"), completion: .directory)
    var keyring: String?

    @Option(name: .customLong("trust-store"), help: ArgumentHelp("The trust store file (default: trust.avt in the keyring directory).", valueName: "file"), completion: .file())
    var trustStore: String?

    func validate() throws { try refuseStandardInputTrustStore(trustStore) }

    /// The store; with `existing`, one named by `--trust-store` must exist (a mistyped name
    /// is not an empty store), as verification requires.
    func open(existing: Bool = false) throws(AvaultError) -> TrustStore {
        try TrustStore(path: TrustStore.location(explicit: trustStore, keyringDirectory: try Keyring.location(explicit: keyring)),
                       mustExist: existing && trustStore != nil)
    }
}

func parseKeyID(_ text: String) throws(Failure) -> MinisignKeyID {
    guard let id = MinisignKeyID(printed: text) else {
        throw Failure(message: "'\(text)' is not a key id (16 hex digits, as minisign prints it)", code: Exit.operational)
    }
    return id
}

func parseTime(_ value: String?, _ option: String) throws(Failure) -> Timestamp? {
    guard let value else { return nil }
    guard let time = Timestamp(value) else {
        throw Failure(message: "\(option) '\(value)' is not an RFC 3339 time", hint: "for example 2026-01-31T00:00:00Z", code: Exit.usage)
    }
    return time
}

extension TrustStore.Entry {
    /// As `keys trust list --json` shows it in `file`: with the revocation that holds for it.
    func json(in file: TrustStoreFile) -> FieldValue {
        .object([
            ("keyId", .string(publicKey.keyID.printed)), ("publicKey", .string(publicKey.line)), ("name", .string(name)),
            ("roles", .array(roles.map(FieldValue.string))), ("notBefore", notBefore.map { .string($0.text) } ?? .null),
            ("notAfter", notAfter.map { .string($0.text) } ?? .null), ("added", .string(added.text)),
            ("revoked", file.revocation(of: self).map { r in
                .object([("time", .string(r.time.text)), ("reason", .string(r.reason))] + (r.keyID.map { [("asKeyId", .string($0.printed))] } ?? []))
            } ?? .null),
        ])
    }
}
