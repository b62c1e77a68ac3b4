import ArgumentParser
import ArticleVault

struct KeysRotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Add a new version of a key; it encrypts and signs from now on, older versions still decrypt and verify.",
        discussion: """
            A new signing version is not trusted until its public key is in the trust store: \
            --trust adds it, under the name and roles of the version it replaces (or the key's \
            name); without --trust a note says how.

            Example: avault keys rotate desk-content
            """)

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.", completion: KeyCompletion.names()) var name: String
    @Flag(help: "Print the new version as JSON.") var json = false
    @Flag(help: "Signing keys: trust the new public key in the trust store, as the previous version is trusted.") var trust = false
    @Option(name: .customLong("trust-store"), help: ArgumentHelp("With --trust: the trust store (default: trust.avt in the keyring directory).", valueName: "file"))
    var trustStore: String?

    func validate() throws { try refuseStandardInputTrustStore(trustStore) }

    func run() throws {
        // Two files with --trust (the keyring, then the trust store): standard output between
        // them must not stop the second.
        try Terminal.writingBatch(rotate)
    }

    private func rotate() throws {
        let ring = try keyring.open()
        let rotation = try ring.rotateKey(name: name, now: now(), trustStore: TrustStore.location(explicit: trustStore, keyringDirectory: ring.directory),
                                          trust: trust)
        let added = rotation.added
        try printEntry(added, json: json, verb: "rotated to")
        guard added.minisignPublicKey != nil else {
            if trust { Terminal.note("--trust does nothing for \(added.algorithm.kind.withArticle) key") }
            return
        }
        if let t = rotation.trusted {
            Terminal.note("trusted the new version (key id \(added.id)) as '\(t.name)'\(t.roles.isEmpty ? "" : " with roles \(t.roles.joined(separator: ", "))")"
                          + (t.notAfter.map { ", not after \($0.text)," } ?? "") + " in \(t.store)")
            return
        }
        let entry = rotation.previousEntry
        let roles = (entry?.roles ?? []).map { " --role \(Terminal.shellWord($0))" }.joined()
        Terminal.note("the new version (key id \(added.id)) is not trusted yet: signatures it makes fail verification until it is")
        let pub = Terminal.shellWord(name + ".pub")
        Terminal.writeStderr("avault: hint: " + Terminal.shown("avault keys export-public \(Terminal.shellWord(name)) -o \(pub) && avault keys trust add \(pub) --name \(Terminal.shellWord(entry?.name ?? name))\(roles)"
                             + " (or rotate with --trust)") + "\n")
    }
}
