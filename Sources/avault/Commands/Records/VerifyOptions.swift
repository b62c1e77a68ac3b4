import ArgumentParser
import ArticleVault
import VaultFormat
#if canImport(Glibc)
import Glibc
#endif

/// Where trusted keys come from: `--pubkey PUB` (repeatable) or `--trust-store FILE` (default:
/// the keyring's).
struct TrustOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Trust this minisign public key file (repeatable; - is standard input).", valueName: "pubfile"), completion: .file(extensions: ["pub"])) var pubkey: [String] = []
    @Option(name: .customLong("trust-store"), help: ArgumentHelp("The trust store (default: trust.avt in the keyring).", valueName: "file"), completion: .file())
    var trustStore: String?

    func validate() throws {
        if !pubkey.isEmpty, trustStore != nil { throw ValidationError("give --pubkey or --trust-store, not both") }
        try refuseStandardInputTrustStore(trustStore)
    }

    /// The files named for the trusted keys.
    var files: [String] { pubkey + (trustStore.map { [$0] } ?? []) }

    /// The trust policy; with `required`, a missing default trust store is an error.
    func policy(keyringDirectory: String, requiredRoles: [String] = [], required: Bool = true) throws(AvaultError) -> TrustPolicy? {
        try TrustStore.source(publicKeyFiles: pubkey, explicit: trustStore, keyringDirectory: keyringDirectory, required: required)
            .map { TrustPolicy(source: $0, requiredRoles: requiredRoles, now: now()) }
    }

    /// The policy (none needed: nil), read only when first asked for — by a command that needs
    /// it only for some records (signed ones), so that the others do not depend on the store.
    /// Keys named on the command line are read at once: a batch that cannot read them would
    /// stop at its first signed record, after rewriting those before it.
    func lazyPolicy(keyringDirectory: String) throws(AvaultError) -> LazyTrustPolicy {
        let lazy = LazyTrustPolicy { () throws(AvaultError) in try policy(keyringDirectory: keyringDirectory, required: false) }
        if !files.isEmpty { _ = try lazy.get() }
        return lazy
    }
}

/// A trust policy read once, when first asked for.
final class LazyTrustPolicy {
    private let load: () throws(AvaultError) -> TrustPolicy?
    private var loaded: TrustPolicy??

    init(_ load: @escaping () throws(AvaultError) -> TrustPolicy?) { self.load = load }

    func get() throws(AvaultError) -> TrustPolicy? {
        if let loaded { return loaded }
        let policy = try load()
        loaded = .some(policy)
        return policy
    }
}

extension RecordReport {
    /// The JSON Lines object documented in docs/cli.md.
    var json: FieldValue {
        JSONOutput.document([
            ("type", .string("record")), ("path", .string(path)), ("pathEscaped", .bool(pathIsEscaped)), ("outcome", .string(outcome.rawValue)),
            ("passed", .bool(passed)), ("reason", reason.map(FieldValue.string) ?? .null),
            ("line", line.map { .number(Double($0)) } ?? .null),
            ("signatures", .array(signatures.map { s in
                .object([
                    ("keyId", .string(s.keyID)), ("status", .string(s.status.rawValue)), ("detached", .bool(detached)), ("signer", s.signer.map(FieldValue.string) ?? .null),
                    ("roles", .array(s.roles.map(FieldValue.string))),
                    ("timestamp", JSONOutput.time(s.timestamp)), ("reason", s.reason.map(FieldValue.string) ?? .null),
                ])
            })),
            ("secured", .object([("format", .string(secured)), ("keyId", securedKeyID.map(FieldValue.string) ?? .null),
                                 ("decrypts", decrypts.map(FieldValue.bool) ?? .null)])),
        ])
    }
}

func cpuCount() -> Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
