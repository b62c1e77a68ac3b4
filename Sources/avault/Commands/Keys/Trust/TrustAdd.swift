import ArgumentParser
import ArticleVault

struct TrustAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Trust a publisher's minisign public key.",
        discussion: "Example: avault keys trust add desk.pub --name 'News desk' --role desk")

    @OptionGroup var store: TrustStoreOptions
    @Argument(help: ArgumentHelp("A minisign public key file (- is standard input).", valueName: "pubfile"), completion: .file(extensions: ["pub"])) var pubfile: String
    @Option(help: "Who the key belongs to.") var name: String
    @Option(help: ArgumentHelp("A role the key holds (repeatable), e.g. desk or editor.", valueName: "role")) var role: [String] = []
    @Option(name: .customLong("not-before"), help: ArgumentHelp("Do not trust signatures made before this RFC 3339 time.", valueName: "time"))
    var notBefore: String?
    @Option(name: .customLong("not-after"), help: ArgumentHelp("Do not trust signatures made after this RFC 3339 time.", valueName: "time"))
    var notAfter: String?

    func validate() throws {
        guard TrustStore.isValidName(name) else { throw ValidationError("--name must be non-empty text on one line") }
        for r in role where !TrustStore.isValidRole(r) {
            throw ValidationError("role '\(r)' must be 1 to 64 of a-z, 0-9, '.', '_' and '-'")
        }
    }

    func run() throws {
        let nb = try parseTime(notBefore, "--not-before"), na = try parseTime(notAfter, "--not-after")
        if let nb, let na, nb > na { throw Failure(message: "--not-before is after --not-after", code: Exit.usage) }
        let store = try store.open()
        let key = try store.add(publicKeyFile: pubfile, name: name, roles: role, notBefore: nb, notAfter: na, now: now())
        try Terminal.writeStdout("trusted key \(key.keyID.printed) as '\(name)' in \(store.path)\n")
    }
}
