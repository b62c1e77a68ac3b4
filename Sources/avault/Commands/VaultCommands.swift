import ArgumentParser
import ArticleVault
import VaultFormat

struct VaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "Keep drafts encrypted at rest: versions, key rotation and rewrap, crash- and concurrency-safe, with a tamper-evident log.",
        discussion: """
            The vault is --vault DIR, else AVAULT_VAULT, else $XDG_DATA_HOME/avault/vault \
            (~/.local/share/avault/vault). Its content key comes from the keyring (--keyring, \
            --passphrase-file as for 'avault keys').

            \(exitCodeHelp)
            """,
        subcommands: [VaultInit.self, VaultPut.self, VaultGet.self, VaultList.self, VaultHistory.self, VaultRemove.self,
                      VaultPurge.self, VaultImport.self, VaultExport.self, VaultRewrap.self, VaultKeysInUse.self,
                      VaultVerify.self, VaultFsck.self, VaultLogCommand.self]
    )
}

/// `--vault DIR` and the keyring options.
struct VaultOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The vault directory (default: AVAULT_VAULT, else $XDG_DATA_HOME/avault/vault).", valueName: "dir"))
    var vault: String?
    @OptionGroup var keyring: KeyringOptions
    @Flag(name: .customLong("accept-rollback"),
          help: "Adopt the vault although this keyring has seen a newer state of it (a deliberate restore from a backup); the log records it.")
    var acceptRollback = false

    var storage: FileVaultStorage { FileVaultStorage(directory: Vault.location(explicit: vault)) }

    func open() throws(AvaultError) -> Vault {
        let vault = try Vault(storage: storage, keyring: try keyring.open())
        vault.acceptRollback = acceptRollback
        return vault
    }
}

struct VaultInit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create a vault protected by a content key.")
    @OptionGroup var options: VaultOptions
    @Option(help: ArgumentHelp("The content key's name in the keyring.", valueName: "name")) var key: String

    func run() throws {
        let vault = try Vault.initialize(storage: options.storage, keyring: try options.keyring.open(), keyName: key)
        Terminal.writeStdout("created vault \(vault.config.vaultID) at \(vault.storage.location) (key '\(key)')\n")
    }
}

struct VaultPut: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Store a new version of ID from FILE or standard input.")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID (any text).") var id: String
    @Argument(help: ArgumentHelp("The payload file, or - for standard input (the default).", valueName: "file")) var file: String = "-"
    @Option(name: .customLong("content-type"), help: ArgumentHelp("Recorded with the version.", valueName: "type")) var contentType: String?
    @Flag(help: "Print the stored version as JSON.") var json = false

    func run() throws {
        let stored = try options.open().put(id: id, path: file, contentType: contentType, now: now())
        printStored([stored], json: json)
    }
}

func printStored(_ stored: [(id: String, version: Int, size: Int)], json: Bool) {
    var out = ""
    for s in stored {
        out += json
            ? FieldValue.object([("id", .string(s.id)), ("version", .number(Double(s.version))), ("size", .number(Double(s.size)))]).jsonText + "\n"
            : "stored \(s.id) version \(s.version) (\(s.size) bytes)\n"
    }
    Terminal.writeStdout(out)
}

struct VaultGet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Write a version's payload (the newest by default), byte for byte.",
        discussion: "Each chunk is authenticated before it is written; with -o the file appears (mode 600) only once all of it has.")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID.") var id: String
    @Option(help: "The version (default: the newest).") var version: Int?
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write here instead of standard output.", valueName: "file"))
    var output: String?

    func run() throws {
        let vault = try options.open()
        if let output {
            try vault.get(id, version: version, toFile: output)
        } else {
            _ = try vault.get(id, version: version) { (chunk: [UInt8]) throws(AvaultError) in try FileSystem.writeAll(fd: 1, chunk, name: "standard output") }
        }
    }
}

extension VaultFiles.Object {
    var json: FieldValue {
        .object([
            ("id", .string(id)), ("versions", .number(Double(versions.count))),
            ("latestSize", versions.last.map { .number(Double($0.size)) } ?? .null),
            ("updated", versions.last.map { .string($0.created) } ?? .null),
            ("kid", versions.last.map { .string($0.kid) } ?? .null),
            ("removed", deleted.map(FieldValue.string) ?? .null),
        ])
    }
}

struct VaultList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List objects: id, versions, latest size, updated, key id.")
    @OptionGroup var options: VaultOptions
    @Option(help: ArgumentHelp("Only IDs starting with this.", valueName: "prefix")) var prefix: String?
    @Flag(help: "Print one JSON object (fields in docs/cli.md).") var json = false

    func run() throws {
        let objects = try options.open().readIndex().filter { prefix == nil || $0.id.hasPrefix(prefix!) }.sorted { $0.id < $1.id }
        if json {
            Terminal.writeStdout(FieldValue.object([("objects", .array(objects.map(\.json)))]).jsonText + "\n")
            return
        }
        var out = objects.isEmpty ? "no objects\n" : ""
        for o in objects {
            let latest = o.versions.last
            out += "\(o.id)  versions \(o.versions.count)  \(latest.map { "\($0.size) bytes" } ?? "-")  \(latest?.created ?? "-")  kid \(latest?.kid ?? "-")"
            out += o.deleted.map { "  REMOVED \($0)" } ?? ""
            out += "\n"
        }
        Terminal.writeStdout(out)
    }
}

struct VaultHistory: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Every version of an object.")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID.") var id: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let object = try options.open().history(id)
        if json {
            Terminal.writeStdout(FieldValue.object([
                ("id", .string(object.id)), ("removed", object.deleted.map(FieldValue.string) ?? .null),
                ("versions", .array(object.versions.map { v in
                    .object([("version", .number(Double(v.number))), ("size", .number(Double(v.size))), ("created", .string(v.created)),
                             ("contentType", v.contentType.map(FieldValue.string) ?? .null), ("kid", .string(v.kid))])
                })),
            ]).jsonText + "\n")
            return
        }
        var out = ""
        for v in object.versions {
            out += "version \(v.number)  \(v.size) bytes  \(v.created)  kid \(v.kid)\(v.contentType.map { "  \($0)" } ?? "")\n"
        }
        if let deleted = object.deleted { out += "removed \(deleted)\n" }
        Terminal.writeStdout(out)
    }
}

struct VaultRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove an object (a tombstone: its history is kept).")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID.") var id: String

    func run() throws {
        try options.open().remove(id, now: now())
        Terminal.writeStdout("removed \(id) (history kept)\n")
    }
}

struct VaultPurge: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "purge", abstract: "Delete every version of an object for good.")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID.") var id: String
    @Flag(help: "Required: purging cannot be undone.") var force = false

    func validate() throws { if !force { throw ValidationError("purge deletes every version for good; add --force") } }

    func run() throws {
        try options.open().purge(id)
        Terminal.writeStdout("purged \(id)\n")
    }
}

struct VaultImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store article records (files or directories); the ID is the record's webUrl, else originalUrl, else its file name.",
        discussion: "The whole batch is one locked transaction, acknowledged once everything is durable.")
    @OptionGroup var options: VaultOptions
    @Argument(help: ArgumentHelp("Records and directories.", valueName: "path")) var paths: [String]
    @Flag(help: "Print one JSON object per stored record.") var json = false

    func validate() throws { if paths.isEmpty { throw ValidationError("give records or directories to import") } }

    func run() throws {
        printStored(try options.open().importRecords(paths, now: now()), json: json)
    }
}

struct VaultExport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write an object's newest version to a file (mode 600).")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID.") var id: String
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("The file to write.", valueName: "file")) var output: String

    func run() throws {
        let v = try options.open().get(id, version: nil, toFile: output)
        Terminal.writeStdout("exported \(id) version \(v.number) to \(output)\n")
    }
}

struct VaultRewrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrap",
        abstract: "Re-encrypt every version under the newest key version, streaming: no plaintext touches the disk.")
    @OptionGroup var options: VaultOptions

    func run() throws {
        let n = try options.open().rewrap()
        Terminal.writeStdout("rewrapped \(n) version\(n == 1 ? "" : "s")\n")
    }
}

struct VaultKeysInUse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys-in-use",
        abstract: "Which key ids still protect something (read from headers; no passphrase needed).")
    @OptionGroup var options: VaultOptions
    @Flag(help: "Print one JSON object: kid → number of files.") var json = false

    func run() throws {
        let vault = try Vault(storage: options.storage, keyring: try options.keyring.open())
        let use = try vault.keysInUse()
        if json {
            Terminal.writeStdout(FieldValue.object(use.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value.count))) }).jsonText + "\n")
            return
        }
        let names = Dictionary(vault.keyring.versions(of: vault.config.keyName).map { ($0.id, "\($0.name) version \($0.version)") }, uniquingKeysWith: { a, _ in a })
        Terminal.writeStdout(use.sorted { $0.key < $1.key }.map { "\($0.key)  \(names[$0.key] ?? "unknown key")  \($0.value.count) file\($0.value.count == 1 ? "" : "s")" }.joined(separator: "\n") + "\n")
    }
}

extension Vault.Check {
    /// The one-line error for a vault that did not verify (exit status 1).
    var failure: Failure {
        let counts = [("missing", missing.count), ("corrupt", corrupt.count), ("unexpected", unexpected.count),
                      ("unreadable", unreadable.count)].filter { $0.1 > 0 }
        return Failure(message: "the vault did not verify: " + counts.map { "\($0.1) \($0.0)" }.joined(separator: ", "),
                       hint: corrupt.isEmpty && missing.isEmpty && !unexpected.isEmpty ? "'avault vault fsck' moves unexpected files aside" : nil,
                       code: Exit.no)
    }

    var json: FieldValue {
        .object([("ok", .bool(ok)), ("objects", .number(Double(objects))), ("versions", .number(Double(versions))),
                 ("missing", .array(missing.map(FieldValue.string))), ("corrupt", .array(corrupt.map(FieldValue.string))),
                 ("unexpected", .array(unexpected.map(FieldValue.string))), ("leftovers", .array(leftovers.map(FieldValue.string))),
                 ("unreadable", .array(unreadable.map(FieldValue.string))), ("notes", .array(notes.map(FieldValue.string)))])
    }

    var text: String {
        var out = "\(objects) objects, \(versions) versions: " + (ok ? "all authenticate\n" : "problems found\n")
        for (label, files) in [("missing", missing), ("corrupt", corrupt), ("unexpected", unexpected),
                               ("leftover from an interrupted write", leftovers), ("cannot be checked", unreadable)] {
            for f in files { out += "  \(label): \(f)\n" }
        }
        for n in notes { out += "note: \(n)\n" }
        if !leftovers.isEmpty { out += "note: leftovers of interrupted writes are not a problem: the next write removes them\n" }
        return out
    }
}

struct VaultVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Authenticate every version; report missing, corrupt or unexpected files, and what interrupted writes left.",
        discussion: "Exit status: 0 all is well (leftovers of interrupted writes included); 1 something is missing, corrupt or unexpected, or the vault was rolled back; 2 operational error.")
    @OptionGroup var options: VaultOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let check = try options.open().verify()
        Terminal.writeStdout(json ? check.json.jsonText + "\n" : check.text)
        if !check.ok { throw check.failure }
    }
}

struct VaultFsck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Report problems and move unreadable or unexpected files into quarantine/ (nothing is deleted).")
    @OptionGroup var options: VaultOptions

    func run() throws {
        let (check, moved) = try options.open().fsck()
        var out = check.text
        for m in moved { out += "moved aside: \(m)\n" }
        Terminal.writeStdout(out)
        if !check.missing.isEmpty { throw ExitCode(Exit.no) }
    }
}

struct VaultLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show the hash-chained log; --verify checks it; --sign NAME signs its head.",
        discussion: "Exit status with --verify: 0 intact; 1 edited, reordered, removed or cut entries; 2 operational error.")
    @OptionGroup var options: VaultOptions
    @Flag(help: "Print the entries as JSON Lines.") var json = false
    @Flag(help: "Check the chain and every signed head.") var verify = false
    @Option(help: ArgumentHelp("Sign the current head with this signing key.", valueName: "name")) var sign: String?

    func run() throws {
        let vault = try options.open()
        if let sign {
            let (seq, hash) = try vault.signLog(keyName: sign, now: now())
            Terminal.writeStdout("signed the log head: entry \(seq), \(hash)\n")
            return
        }
        if verify {
            // A missing trust store is fine (heads may be by keyring keys); a refused or malformed one is an error.
            var store: TrustStoreFile?
            if case .store(let file)? = try TrustStore.source(publicKeyFiles: [], explicit: nil,
                                                             keyringDirectory: vault.keyring.directory, required: false) {
                store = file
            }
            let report = try vault.verifyLog(trustStore: store, now: now())
            var out = "\(report.entries) entries, \(report.signedHeads) signed head\(report.signedHeads == 1 ? "" : "s")"
            out += report.signedThrough > 0 ? ", signed through entry \(report.signedThrough)\n" : "\n"
            for p in report.problems { out += "problem: \(p)\n" }
            for n in report.notes { out += "note: \(n)\n" }
            if report.lastSeq > report.signedThrough, report.problems.isEmpty {
                out += "note: entries \(report.signedThrough + 1)–\(report.lastSeq) are after the last signed head: only the index and the keyring's record protect them\n"
            }
            if report.unfinishedTail { out += "note: the last line is unfinished (an interrupted append)\n" }
            Terminal.writeStdout(out)
            if !report.ok { throw ExitCode(Exit.no) }
            return
        }
        let text = String(decoding: try vault.storage.read("log") ?? [], as: UTF8.self)
        Terminal.writeStdout(json ? text : text.split(separator: "\n").map { line -> String in
            guard let e = try? JSONDocument.parse(Array(line.utf8)) else { return String(line) }
            var parts: [String] = []
            for key in ["seq", "time", "op", "object", "version", "size", "kid"] {
                if let v = e[key] { parts.append(key == "seq" ? "#\(v.jsonText)" : (v.stringValue ?? v.jsonText)) }
            }
            return parts.joined(separator: "  ")
        }.joined(separator: "\n") + "\n")
    }
}
