import ArgumentParser
import ArticleVault
import VaultFormat

struct KeysImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a raw key file as a content key, or with --legacy-aes-cbc as a legacy AES key.",
        discussion: "If NAME exists, the key becomes its next version.\n\nExample: avault keys import old-aes --key-file old-aes.key --legacy-aes-cbc")

    @OptionGroup var keyring: KeyringOptions
    @Argument(help: "The key's name.", completion: KeyCompletion.names(.content, .legacy)) var name: String
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
