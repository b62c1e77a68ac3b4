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
        let location = TrustStore.location(explicit: trustStore, keyringDirectory: ring.directory)
        // With --trust, the store is read (and any refusal of it made) before the keyring is
        // written: a store that cannot be used changes nothing.
        let store = trust && ring.versions(of: name).first?.minisignPublicKey != nil ? try TrustStore(path: location) : nil
        let added = try ring.rotateKey(name: name, now: now())
        try printEntry(added, json: json, verb: "rotated to")
        guard let publicKey = added.minisignPublicKey else {
            if trust { Terminal.note("--trust does nothing for \(added.algorithm.kind.withArticle) key") }
            return
        }
        let previous = ring.versions(of: name).filter { $0.version != added.version }
        if let store {
            let (trustedName, roles, notAfter) = try store.trustRotated(previous: previous, new: publicKey, fallbackName: name, now: now())
            Terminal.note("trusted the new version (key id \(added.id)) as '\(trustedName)'\(roles.isEmpty ? "" : " with roles \(roles.joined(separator: ", "))")"
                          + (notAfter.map { ", not after \($0.text)," } ?? "") + " in \(store.path)")
            return
        }
        // (Only for the hint: a store that cannot be read names no entry.)
        let entry = (try? TrustStore(path: location))?.newestEntry(among: previous)
        let roles = (entry?.roles ?? []).map { " --role \(Terminal.shellWord($0))" }.joined()
        Terminal.note("the new version (key id \(added.id)) is not trusted yet: signatures it makes fail verification until it is")
        let pub = Terminal.shellWord(name + ".pub")
        Terminal.writeStderr("avault: hint: " + Terminal.shown("avault keys export-public \(Terminal.shellWord(name)) -o \(pub) && avault keys trust add \(pub) --name \(Terminal.shellWord(entry?.name ?? name))\(roles)"
                             + " (or rotate with --trust)") + "\n")
    }
}
