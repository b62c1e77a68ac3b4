import ArgumentParser
import ArticleVault
import VaultFormat

struct TrustList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List trusted publisher keys.",
        discussion: "Example: avault keys trust list --json")

    @OptionGroup var store: TrustStoreOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let store = try store.open(existing: true)
        if json {
            try JSONOutput.print([("trustStore", .string(store.path)), ("keys", .array(store.file.entries.map { $0.json(in: store.file) }))])
            return
        }
        if store.file.entries.isEmpty {
            try Terminal.writeStdout("no trusted keys in \(store.path)\n")
            return
        }
        var out = ""
        for e in store.file.entries {
            var status = store.file.revocation(of: e).map { r in
                "REVOKED \(r.time)" + (r.keyID.map { " (as key \($0.printed))" } ?? "") + (r.reason.isEmpty ? "" : ": \(r.reason)")
            } ?? "trusted"
            if e.notBefore != nil || e.notAfter != nil { status += ", valid \(e.notBefore?.text ?? "…") to \(e.notAfter?.text ?? "…")" }
            let roles = e.roles.isEmpty ? "" : " [\(e.roles.joined(separator: ", "))]"
            out += "\(e.publicKey.keyID.printed)  \(Terminal.shown(e.name + roles + "  " + status))\n"
        }
        try Terminal.writeStdout(out)
    }
}
