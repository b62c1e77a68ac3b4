import ArgumentParser
import ArticleVault
import VaultFormat

struct KeysList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every key version (no passphrase needed; --verify checks the keyring with it).",
        discussion: """
            Without --verify the listing is read without the passphrase and says that it is not \
            verified: someone who can write the keyring directory could have changed it. With \
            --verify the keyring's authentication code is checked first (exit 1 if it does not \
            match). A keyring without passphrase cannot be verified.

            Example: avault keys list --verify
            """)

    @OptionGroup var keyring: KeyringOptions
    @Flag(help: "Check the keyring's authentication code with the passphrase before listing.") var verify = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let ring = try keyring.open()
        // Nothing to verify is no answer a script gating on --verify may take for one.
        if verify, !FileSystem.exists(ring.path) { throw AvaultError.noKeyring(location: ring.directory) }
        let verified = verify ? try ring.authenticate() : false
        let entries = ring.file.entries.sorted { ($0.name, $0.version) < ($1.name, $1.version) }
        let currentVersions = Dictionary(grouping: entries.filter { $0.retired == nil }, by: \.name).mapValues { $0.map(\.version).max()! }
        if json {
            let keys = entries.map { $0.json(current: currentVersions[$0.name] == $0.version) }
            try JSONOutput.print([("keyring", .string(ring.directory)), ("protected", .bool(ring.isProtected)),
                              ("verified", .bool(verified)), ("keys", .array(keys))])
            return
        }
        if entries.isEmpty {
            try Terminal.writeStdout("no keys in \(ring.directory)\n")
            return
        }
        var rows = [["NAME", "KIND", "VERSION", "ID", "CREATED", "STATUS"]]
        for e in entries {
            var status = e.retired == nil ? (currentVersions[e.name] == e.version ? "current" : "active") : "retired"
            if !e.isProtected { status += ", UNPROTECTED" }
            rows.append([e.name, e.algorithm.kind.rawValue + " (\(e.algorithm.rawValue))", String(e.version), e.id.description, e.created.text, status])
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
            out += "(verified with \(ring.unlockedByAgent ? "the agent's key" : "the passphrase"): the keyring's authentication code matches)\n"
        } else {
            out += "(not verified: listed without the passphrase; 'avault keys list --verify' checks the keyring's authentication code)\n"
        }
        try Terminal.writeStdout(out)
    }
}
