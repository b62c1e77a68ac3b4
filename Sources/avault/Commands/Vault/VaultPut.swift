import ArgumentParser
import ArticleVault
#if canImport(Glibc)
import Glibc
#endif

struct VaultPut: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Store a new version of ID from FILE or standard input.",
        discussion: "On a terminal, standard input is read until Ctrl-D; nothing typed stores nothing.\n\nExample: avault vault put https://example.org/a draft.md")
    @OptionGroup var options: VaultOptions
    @Argument(help: "The object's ID (any text).") var id: String
    @Argument(help: ArgumentHelp("The payload file, or - for standard input (the default).", valueName: "file"), completion: .file()) var file: String = "-"
    @Option(name: .customLong("content-type"), help: ArgumentHelp("Recorded with the version.", valueName: "type")) var contentType: String?
    @Flag(help: "Print the stored version as JSON.") var json = false

    func validate() throws {
        if request.readsStandardInputTwice {
            throw ValidationError("standard input cannot hold both the payload and the passphrase: give FILE or a --passphrase-file FILE")
        }
    }

    var request: Request { Request(vault: options.selection, id: id, file: file, contentType: contentType, json: json) }
    func run() throws { try request.run() }

    /// What the command line asks for, as plain values (``FastPath`` fills them in too).
    struct Request: Equatable, Runnable {
        var vault: VaultSelection
        var id: String
        var file: String
        var contentType: String?
        var json: Bool

        /// The payload and the passphrase both from standard input: refused by ``validate()``.
        var readsStandardInputTwice: Bool { FileSystem.namesStandardInputStream(vault.keyring.passphraseFile) && FileSystem.namesStandardInputStream(file) }

        func run() throws {
            let vault = try vault.open()
            if file == "-", isatty(0) == 1 {
                // A terminal: say what is awaited, and do not store an empty version by accident.
                Terminal.writeStderr("avault: reading the payload from standard input (end with Ctrl-D)\n")
                let payload = try FileSystem.readAll(fd: 0, name: "standard input", limit: Vault.smallPayloadLimit + 1)
                if payload.count > Vault.smallPayloadLimit {
                    throw Failure(message: "more than \(Vault.smallPayloadLimit) bytes typed on a terminal; nothing was stored",
                                  hint: "give FILE, or pipe the payload in", code: Exit.operational)
                }
                if payload.isEmpty {
                    throw Failure(message: "nothing was read from the terminal; nothing was stored",
                                  hint: "type the payload, or give FILE or a pipe", code: Exit.operational)
                }
                let stored = try vault.put(id: id, bytes: payload, contentType: contentType, now: now())
                return try printStored(stored, json: json)
            }
            let stored = try vault.put(id: id, path: file, contentType: contentType, now: now())
            try printStored(stored, json: json)
        }
    }
}
