import ArgumentParser
import ArticleVault
import VaultFormat

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the keyring: content, legacy and signing keys, their versions, and trusted publishers.",
        discussion: """
            Secrets are sealed under the keyring passphrase (Argon2id, XChaCha20-Poly1305), read \
            from --passphrase-file, else AVAULT_PASSPHRASE, else the terminal, and the whole \
            keyring file is authenticated under it: a keyring modified outside avault is refused \
            (exit 1) whenever the passphrase is used. No command prints secret bytes.

            \(exitCodeHelp)
            """,
        subcommands: [KeysGenerate.self, KeysImport.self, KeysList.self, KeysRotate.self, KeysRetire.self,
                      KeysExportPublic.self, KeysImportMinisign.self, KeysExportMinisign.self, KeysPasswd.self, KeysUpgrade.self, Trust.self]
    )
}

/// `--secret` or `--signing`: the kind of key `keys generate` makes.
enum GeneratedKind: String, EnumerableFlag {
    case secret, signing

    static func help(for value: GeneratedKind) -> ArgumentHelp? {
        switch value {
        case .secret: "A 32-byte content key for v2 secured blobs."
        case .signing: "An Ed25519 signing key (minisign-compatible)."
        }
    }

    var kind: KeyKind { self == .signing ? .signing : .content }
}

func printEntry(_ entry: KeyringFile.Entry, json: Bool, verb: String) {
    if json {
        Terminal.writeStdout(entry.json(current: true).jsonText + "\n")
    } else {
        Terminal.writeStdout("\(verb) \(entry.summary)\n")
    }
}

struct KeysGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Create a new key (version 1).")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.") var name: String
    @Flag var kind: GeneratedKind
    @Flag(help: "Store the secret unsealed (still mode 600), for throwaway CI keyrings.") var unprotected = false
    @Flag(help: "Print the new key as JSON.") var json = false

    func run() throws {
        let ring = try keyring.open()
        let added = try ring.generateKey(name: name, kind: kind.kind, protected: !unprotected, now: now())
        printEntry(added, json: json, verb: "generated")
        if unprotected { Terminal.warning("the secret of '\(name)' is stored unprotected in \(ring.path)") }
    }
}

struct KeysImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a raw key file as a content key, or with --legacy-aes-cbc as a legacy AES key.",
        discussion: "If NAME exists, the key becomes its next version.")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.") var name: String
    @OptionGroup var key: KeyFileOption
    @Flag(name: .customLong("legacy-aes-cbc"), help: "Import a 16-, 24- or 32-byte AES key for legacy v1 blobs.") var legacy = false
    @Flag(help: "Store the secret unsealed (still mode 600).") var unprotected = false
    @Flag(help: "Print the key as JSON.") var json = false

    func run() throws {
        let added: KeyringFile.Entry
        do {
            added = try keyring.open().importKey(name: name, keyFile: key.keyFile, legacy: legacy, protected: !unprotected, now: now())
        } catch AvaultError.unsuitableKey(let why) where !legacy {
            throw Failure(message: why, hint: "import it with --legacy-aes-cbc if it is an AES key for v1 blobs", code: Exit.operational)
        }
        printEntry(added, json: json, verb: "imported")
    }
}

struct KeysList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every key version (no passphrase needed; --verify checks the keyring with it).",
        discussion: """
            Without --verify the listing is read without the passphrase and says that it is not \
            verified: someone who can write the keyring directory could have changed it. With \
            --verify the keyring's authentication code is checked first (exit 1 if it does not \
            match). A keyring without passphrase cannot be verified.
            """)

    @OptionGroup var keyring: KeyringOptions
    @Flag(help: "Check the keyring's authentication code with the passphrase before listing.") var verify = false
    @Flag(help: "Print one JSON object (fields documented in docs/cli.md).") var json = false

    func run() throws {
        let ring = try keyring.open()
        let verified = verify ? try ring.authenticate() : false
        let entries = ring.file.entries.sorted { ($0.name, $0.version) < ($1.name, $1.version) }
        let currentVersions = Dictionary(grouping: entries.filter { $0.retired == nil }, by: \.name).mapValues { $0.map(\.version).max()! }
        if json {
            let keys = entries.map { $0.json(current: currentVersions[$0.name] == $0.version) }
            Terminal.writeStdout(FieldValue.object([("keyring", .string(ring.directory)), ("protected", .bool(ring.isProtected)),
                                                    ("verified", .bool(verified)), ("keys", .array(keys))]).jsonText + "\n")
            return
        }
        if entries.isEmpty {
            Terminal.writeStdout("no keys in \(ring.directory)\n")
            return
        }
        var rows = [["NAME", "KIND", "VERSION", "ID", "CREATED", "STATUS"]]
        for e in entries {
            var status = e.retired == nil ? (currentVersions[e.name] == e.version ? "current" : "active") : "retired"
            if !e.isProtected { status += ", UNPROTECTED" }
            rows.append([e.name, e.algorithm.kind.rawValue + " (\(e.algorithm.rawValue))", String(e.version), e.id, e.created, status])
        }
        let widths = (0..<6).map { c in rows.map { $0[c].count }.max()! }
        var out = ""
        for row in rows {
            out += zip(row, widths).enumerated().map { i, cell in
                i == 5 ? cell.0 : cell.0 + String(repeating: " ", count: cell.1 - cell.0.count)
            }.joined(separator: "  ") + "\n"
        }
        if !ring.isProtected {
            out += "(cannot be verified: the keyring has no passphrase, so nothing authenticates it)\n"
        } else if verified {
            out += "(verified with the passphrase: the keyring's authentication code matches)\n"
        } else {
            out += "(not verified: listed without the passphrase; 'avault keys list --verify' checks the keyring's authentication code)\n"
        }
        Terminal.writeStdout(out)
    }
}

struct KeysRotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Add a new version of a key; it encrypts and signs from now on, older versions still decrypt and verify.")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.") var name: String
    @Flag(help: "Print the new version as JSON.") var json = false

    func run() throws {
        let added = try keyring.open().rotateKey(name: name, now: now())
        printEntry(added, json: json, verb: "rotated to")
    }
}

struct KeysRetire: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retire",
        abstract: "Stop a key version from being used at all (refused for the only active version).")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.") var name: String
    @Option(help: "The version to retire.") var version: Int
    @Option(help: ArgumentHelp("The vault to check first (default: AVAULT_VAULT, else $XDG_DATA_HOME/avault/vault).", valueName: "dir"))
    var vault: String?

    func run() throws {
        // A version that a vault in use still needs cannot be retired.
        let storage = FileVaultStorage(directory: Vault.location(explicit: vault))
        try keyring.open().retireKey(name: name, version: version, vault: storage, now: now())
        Terminal.writeStdout("retired key '\(name)' version \(version)\n")
    }
}

struct KeysExportPublic: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-public",
        abstract: "Write a signing key's public key as a minisign public key file.",
        discussion: "A keyring with a passphrase is authenticated first (so the passphrase is needed): the key handed out is the one that signs.")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The signing key's name.") var name: String
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write here instead of standard output.", valueName: "file"))
    var output: String?
    @Flag(help: "Overwrite an existing output file.") var force = false

    func run() throws {
        // What is handed to others must be the key that signs: the keyring is authenticated first.
        let text = try keyring.open().publicKey(ofSigningKey: name).fileText
        if let output {
            if !force, FileSystem.exists(output) { throw AvaultError.fileExists(path: output) }
            try FileSystem.writeAtomically(output, Array(text.utf8), mode: 0o644, overwrite: force)
        } else {
            Terminal.writeStdout(text)
        }
    }
}

/// The minisign password: `--minisign-passphrase-file`, else AVAULT_MINISIGN_PASSPHRASE, else the terminal.
struct MinisignPasswordOptions: ParsableArguments {
    @Option(name: .customLong("minisign-passphrase-file"), help: ArgumentHelp("Read the minisign key's password from this file (mode 600) instead of AVAULT_MINISIGN_PASSPHRASE or the terminal.", valueName: "file"))
    var file: String?

    var source: PassphraseSource {
        PassphraseSource(file: file, environmentVariable: "AVAULT_MINISIGN_PASSPHRASE", label: "minisign password")
    }
}

struct KeysImportMinisign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-minisign",
        abstract: "Import a minisign secret key (password-protected, or made with minisign -G -W) as a signing key.",
        discussion: "If NAME exists, the key becomes its next version. The key id is kept, so minisign's .pub file stays valid.")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name in the keyring.") var name: String
    @Option(help: ArgumentHelp("The minisign secret key file.", valueName: "file")) var secret: String
    @OptionGroup var password: MinisignPasswordOptions
    @Flag(help: "Store the secret unsealed (still mode 600).") var unprotected = false
    @Flag(help: "Print the key as JSON.") var json = false

    func run() throws {
        let added = try keyring.open().importMinisign(name: name, file: secret, password: password.source,
                                                      protected: !unprotected, now: now())
        printEntry(added, json: json, verb: "imported")
    }
}

struct KeysExportMinisign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-minisign",
        abstract: "Write a signing key as a minisign secret key file that 'minisign -S -s FILE' signs with.",
        discussion: "Protected with a minisign password (scrypt, as minisign does) unless --unprotected. The file is created with mode 600.")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The signing key's name.") var name: String
    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("The secret key file to write.", valueName: "file"))
    var output: String
    @OptionGroup var password: MinisignPasswordOptions
    @Flag(help: "Write the key without a password, like minisign -G -W.") var unprotected = false
    @Flag(help: "Overwrite an existing file.") var force = false

    func run() throws {
        if !force, FileSystem.exists(output) { throw AvaultError.fileExists(path: output) }
        let ring = try keyring.open()
        _ = try ring.signingKeyID(named: name)
        let pass = unprotected ? nil : try password.source.read(confirm: true)
        let entry = try ring.exportMinisign(name: name, password: pass, to: output, overwrite: force)
        Terminal.writeStdout("wrote \(entry.summary) to \(output)\n")
    }
}

struct KeysPasswd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Re-seal every secret under a new passphrase, atomically.",
        discussion: "The new passphrase comes from --new-passphrase-file, else AVAULT_NEW_PASSPHRASE, else the terminal (asked twice).")

    @OptionGroup var keyring: KeyringOptions
    @Option(name: .customLong("new-passphrase-file"), help: ArgumentHelp("Read the new passphrase from this file (mode 600).", valueName: "file"))
    var newPassphraseFile: String?

    func run() throws {
        let ring = try keyring.open()
        let source = PassphraseSource(file: newPassphraseFile, environmentVariable: "AVAULT_NEW_PASSPHRASE", label: "new keyring passphrase")
        let count = try ring.update { ring throws(AvaultError) -> Int in
            // Check the old passphrase before asking for a new one.
            if let first = ring.file.entries.first(where: { $0.isProtected }) { _ = try ring.secret(of: first) }
            try ring.changePassphrase(to: try source.read(confirm: true))
            return ring.file.entries.filter(\.isProtected).count
        }
        Terminal.writeStdout("re-sealed \(count) secret\(count == 1 ? "" : "s") under the new passphrase\n")
    }
}

struct KeysUpgrade: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upgrade",
        abstract: "Rewrite a version 1 keyring as version 2, whose every byte the passphrase authenticates.",
        discussion: """
            Asks for the passphrase, checks every sealed secret against its own entry and every \
            signing key's public key against its secret, then writes avault-keyring v2 with an \
            authentication code, atomically. Version 1 let a keyring with a passphrase hold unsealed \
            secrets; version 2 does not: the upgrade names them and writes nothing, unless \
            --seal-unprotected says they are yours and seals them. Nothing in version 1 vouches for \
            statuses and creation times: review them with 'avault keys list --verify' afterwards.

            \(exitCodeHelp)
            """)

    @OptionGroup var keyring: KeyringOptions
    @Flag(name: .customLong("seal-unprotected"), help: "Seal the unsealed secrets of a version 1 keyring with a passphrase (they are yours).")
    var sealUnprotected = false

    func run() throws {
        let up = try Keyring.upgrade(directory: keyring.directory, passphrase: keyring.passphraseSource, sealUnprotected: sealUnprotected)
        var out = ""
        for key in up.sealed { out += "sealed the secret of key \(key)\n" }
        let count = up.keyring.file.entries.count
        out += "upgraded \(up.keyring.path) to \(KeyringFile.magic) (\(count) key version\(count == 1 ? "" : "s")"
            + (up.keyring.isProtected ? ", authenticated with the passphrase)" : ", no passphrase: nothing authenticates it)") + "\n"
        Terminal.writeStdout(out)
        Terminal.note("version 1 did not authenticate statuses or creation times: review them with 'avault keys list --verify'")
    }
}
