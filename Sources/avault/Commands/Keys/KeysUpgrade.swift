import ArgumentParser
import ArticleVault

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

            Example: avault keys upgrade
            """)

    @OptionGroup var keyring: KeyringOptions
    @Flag(name: .customLong("seal-unprotected"), help: "Seal the unsealed secrets of a version 1 keyring with a passphrase (they are yours).")
    var sealUnprotected = false

    func run() throws {
        let up = try Keyring.upgrade(directory: keyring.directory, passphrase: keyring.passphraseSource, sealUnprotected: sealUnprotected)
        var out = ""
        for key in up.sealed { out += "sealed the secret of key \(key)\n" }
        let count = up.keyring.file.entries.count
        out += "upgraded \(up.keyring.path) to \(Keyring.currentFormat) (\(count) key version\(count == 1 ? "" : "s")"
            + (up.keyring.isProtected ? ", authenticated with the passphrase)" : ", no passphrase: nothing authenticates it)") + "\n"
        try Terminal.writeStdout(out)
        Terminal.note("version 1 did not authenticate statuses or creation times: review them with 'avault keys list --verify'")
    }
}
