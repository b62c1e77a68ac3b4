import ArgumentParser
import ArticleVault
import VaultFormat

struct Trust: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "The trust store: publisher public keys (minisign format) that verification consults.",
        subcommands: [TrustAdd.self, TrustList.self, TrustRevoke.self, TrustRemove.self]
    )
}

/// `--trust-store FILE`, else `trust.avt` in the keyring directory.
struct TrustStoreOptions: ParsableArguments {
    @Option(name: .customLong("keyring"), help: ArgumentHelp("The keyring directory holding trust.avt.", valueName: "dir"))
    var keyring: String?

    @Option(name: .customLong("trust-store"), help: ArgumentHelp("The trust store file (default: trust.avt in the keyring directory).", valueName: "file"))
    var trustStore: String?

    func open() throws(AvaultError) -> TrustStore {
        try TrustStore(path: TrustStore.location(explicit: trustStore, keyringDirectory: Keyring.location(explicit: keyring)))
    }
}

func parseKeyID(_ text: String) throws(Failure) -> Minisign.KeyID {
    guard let id = Minisign.KeyID(printed: text) else {
        throw Failure(message: "'\(text)' is not a key id (16 hex digits, as minisign prints it)", code: Exit.operational)
    }
    return id
}

func parseTime(_ value: String?, _ option: String) throws(Failure) -> Timestamp? {
    guard let value else { return nil }
    guard let time = Timestamp(value) else {
        throw Failure(message: "\(option) '\(value)' is not an RFC 3339 time", hint: "for example 2026-01-31T00:00:00Z", code: Exit.operational)
    }
    return time
}

extension TrustStoreFile.Entry {
    var json: FieldValue {
        .object([
            ("keyId", .string(publicKey.keyID.printed)), ("publicKey", .string(publicKey.line)), ("name", .string(name)),
            ("roles", .array(roles.map(FieldValue.string))), ("notBefore", notBefore.map(FieldValue.string) ?? .null),
            ("notAfter", notAfter.map(FieldValue.string) ?? .null), ("added", .string(added)),
            ("revoked", revoked.map { .object([("time", .string($0.time)), ("reason", .string($0.reason))]) } ?? .null),
        ])
    }
}

struct TrustAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Trust a publisher's minisign public key.")

    @OptionGroup var store: TrustStoreOptions
    @Argument(help: ArgumentHelp("A minisign public key file.", valueName: "pubfile")) var pubfile: String
    @Option(help: "Who the key belongs to.") var name: String
    @Option(help: ArgumentHelp("A role the key holds (repeatable), e.g. desk or editor.", valueName: "role")) var role: [String] = []
    @Option(name: .customLong("not-before"), help: ArgumentHelp("Do not trust signatures made before this RFC 3339 time.", valueName: "time"))
    var notBefore: String?
    @Option(name: .customLong("not-after"), help: ArgumentHelp("Do not trust signatures made after this RFC 3339 time.", valueName: "time"))
    var notAfter: String?

    func validate() throws {
        guard TrustStoreFile.isValidText(name) else { throw ValidationError("--name must be non-empty text on one line") }
        for r in role where !TrustStoreFile.isValidRole(r) {
            throw ValidationError("role '\(r)' must be 1 to 64 of a-z, 0-9, '.', '_' and '-'")
        }
    }

    func run() throws {
        let text = String(decoding: try FileSystem.read(pubfile), as: UTF8.self)
        let key: Minisign.PublicKey
        do { key = try Minisign.PublicKey(parsing: text) } catch { throw AvaultError.malformed(error, file: pubfile) }
        let nb = try parseTime(notBefore, "--not-before"), na = try parseTime(notAfter, "--not-after")
        if let nb, let na, nb > na { throw Failure(message: "--not-before is after --not-after", code: Exit.operational) }
        let store = try store.open()
        try store.add(key, name: name, roles: role, notBefore: nb, notAfter: na, now: now())
        Terminal.writeStdout("trusted key \(key.keyID.printed) as '\(name)' in \(store.path)\n")
    }
}

struct TrustList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List trusted publisher keys.")

    @OptionGroup var store: TrustStoreOptions
    @Flag(help: "Print one JSON object (fields documented in docs/cli.md).") var json = false

    func run() throws {
        let store = try store.open()
        if json {
            Terminal.writeStdout(FieldValue.object([("trustStore", .string(store.path)),
                                                    ("keys", .array(store.file.entries.map(\.json)))]).jsonText + "\n")
            return
        }
        if store.file.entries.isEmpty {
            Terminal.writeStdout("no trusted keys in \(store.path)\n")
            return
        }
        var out = ""
        for e in store.file.entries {
            var status = e.revoked.map { "REVOKED \($0.time)" + ($0.reason.isEmpty ? "" : ": \($0.reason)") } ?? "trusted"
            if e.notBefore != nil || e.notAfter != nil { status += ", valid \(e.notBefore ?? "…") to \(e.notAfter ?? "…")" }
            let roles = e.roles.isEmpty ? "" : " [\(e.roles.joined(separator: ", "))]"
            out += "\(e.publicKey.keyID.printed)  \(e.name)\(roles)  \(status)\n"
        }
        Terminal.writeStdout(out)
    }
}

struct TrustRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a trusted key: its signatures no longer pass, and it stays listed as revoked.")

    @OptionGroup var store: TrustStoreOptions
    @Argument(help: ArgumentHelp("The key id, as minisign prints it.", valueName: "keyid")) var keyID: String
    @Option(help: "Why (recorded in the trust store).") var reason: String = ""

    func validate() throws {
        guard TrustStoreFile.isValidText(reason, allowEmpty: true) else { throw ValidationError("--reason must be text on one line") }
    }

    func run() throws {
        let id = try parseKeyID(keyID)
        try store.open().revoke(id, reason: reason, now: now())
        Terminal.writeStdout("revoked key \(id.printed)\n")
    }
}

struct TrustRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a key from the trust store.")

    @OptionGroup var store: TrustStoreOptions
    @Argument(help: ArgumentHelp("The key id, as minisign prints it.", valueName: "keyid")) var keyID: String

    func run() throws {
        let id = try parseKeyID(keyID)
        try store.open().remove(id)
        Terminal.writeStdout("removed key \(id.printed)\n")
    }
}
