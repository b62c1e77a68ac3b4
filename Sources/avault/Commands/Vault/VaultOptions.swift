import ArgumentParser
import ArticleVault
import VaultFormat

/// `--vault DIR|URL`.
struct VaultLocationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The vault: a directory, or a PostgreSQL URL postgres://… (default: AVAULT_VAULT, else $XDG_DATA_HOME/avault/vault).", valueName: "dir|url"), completion: .directory)
    var vault: String?

    func storage() throws(AvaultError) -> VaultStorage { try Vault.storage(at: try Vault.location(explicit: vault)) }
}

/// `--vault DIR|URL` and the keyring options.
struct VaultOptions: ParsableArguments {
    @OptionGroup var location: VaultLocationOptions
    @OptionGroup var keyring: KeyringOptions
    @Flag(name: .customLong("accept-rollback"),
          help: "Adopt the vault although this keyring has seen a newer state of it (a deliberate restore from a backup); the log records it.")
    var acceptRollback = false

    func storage() throws(AvaultError) -> VaultStorage { try location.storage() }

    /// What the options chose.
    var selection: VaultSelection { VaultSelection(vault: location.vault, keyring: keyring.selection, acceptRollback: acceptRollback) }
    func open() throws(AvaultError) -> Vault { try selection.open() }
}

/// The vault and keyring that ``VaultOptions`` choose, as plain values (``FastPath`` fills them
/// in without the argument parser).
struct VaultSelection: Equatable {
    var vault: String?
    var keyring: KeyringSelection
    var acceptRollback: Bool

    func open() throws(AvaultError) -> Vault {
        let vault = try Vault(storage: try Vault.storage(at: try Vault.location(explicit: self.vault)), keyring: try keyring.open())
        vault.acceptRollback = acceptRollback
        vault.rollbackAdopted = { id, seen in
            Terminal.warning("vault \(id) adopted as it is: this keyring had seen entry \(seen) of its log, which the vault's state no longer holds; the log records that it was accepted")
        }
        let location = vault.storage.location
        vault.firstSight = { id, sight in
            let what = switch sight {
            case .new: "this keyring has not seen vault \(id) before: check the id with whoever made the vault"
            case .elsewhere: "this keyring has seen vault \(id) elsewhere, not at \(location): check that it was moved or copied here"
            case .unplaced: "this keyring saw vault \(id) before it recorded where vaults are; from now on it knows it at \(location)"
            }
            Terminal.warning(what + " (this keyring will refuse any other vault at \(location))")
        }
        return vault
    }
}

/// The report of a put (its hint, should it be cut short, says the version stands: putting it
/// again would store another).
func printStored(_ stored: (id: String, version: Int, size: Int), json: Bool) throws {
    try Terminal.reportMade(storedText([stored], json: json), done: "the version was stored (putting it again would store another)")
}

func storedText(_ stored: [(id: String, version: Int, size: Int)], json: Bool) -> String {
    var out = ""
    for s in stored {
        out += json
            ? JSONOutput.document([("id", .string(s.id)), ("version", .number(Double(s.version))), ("size", .number(Double(s.size)))]).jsonLine + "\n"
            : "stored \(Terminal.quoted(s.id)) version \(s.version) (\(s.size) bytes)\n"
    }
    return out
}

extension VaultFiles.Object {
    var json: FieldValue {
        .object([
            ("id", .string(id)), ("versions", .number(Double(versions.count))),
            ("latestSize", versions.last.map { .number(Double($0.size)) } ?? .null),
            ("updated", versions.last.map { .string($0.created.text) } ?? .null),
            ("keyId", versions.last.map { .string($0.kid.hex) } ?? .null),
            ("removed", deleted.map { .string($0.text) } ?? .null),
        ])
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
        func entries(_ files: [String]) -> FieldValue { .array(files.map(entry)) }
        return JSONOutput.document([("ok", .bool(ok)), ("objects", .number(Double(objects))), ("versions", .number(Double(versions))),
                 ("missing", entries(missing)), ("corrupt", entries(corrupt)), ("unexpected", entries(unexpected)),
                 ("leftovers", entries(leftovers)), ("unreadable", entries(unreadable)), ("quarantined", entries(quarantined)),
                 ("notes", .array(notes.map(FieldValue.string)))])
    }

    /// One reported file: its ID and version when the index lists it, else null.
    private func entry(_ reported: String) -> FieldValue {
        let file = String(reported.prefix { $0 != " " })
        let named = versionsByFile[file]
        return .object([("file", .string(reported)), ("id", named.map { .string($0.id) } ?? .null),
                        ("version", named.map { .number(Double($0.version)) } ?? .null)])
    }

    var text: String {
        var out = "\(objects) objects, \(versions) versions: " + (ok ? "all authenticate\n" : "problems found\n")
        for (label, files) in [("missing", missing), ("corrupt", corrupt), ("unexpected", unexpected),
                               ("leftover from an interrupted write", leftovers), ("cannot be checked", unreadable),
                               ("kept in quarantine", quarantined)] {
            for f in files {
                // Named by ID when the index lists the file ("objects/F (reason)" included).
                let file = String(f.prefix { $0 != " " })
                let named = versionsByFile[file].map { "'\($0.id)' version \($0.version) (\(f))" } ?? f
                out += "  \(label): \(Terminal.shown(named))\n"
            }
        }
        for n in notes { out += "note: \(Terminal.shown(n))\n" }
        if !leftovers.isEmpty { out += "note: leftovers of interrupted writes are not a problem: 'avault vault fsck' removes them\n" }
        if !quarantined.isEmpty {
            out += "note: what is kept in quarantine is not checked and may hold drafts the vault's key opens: 'avault vault purge ID' deletes a draft's, 'avault vault purge --quarantined --force' all of it\n"
        }
        return out
    }
}
