import ArgumentParser
import ArticleVault

struct Secured: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secured",
        abstract: "Inspect, decrypt and encrypt `secured` blobs (v1 legacy AES-CBC, v2 XChaCha20-Poly1305).",
        discussion: """
            A blob is given as an argument, as `-` for standard input, or with --record FILE \
            (the `secured` field of that record's front matter). Keys are read from files, \
            never from the command line.

            \(exitCodeHelp)

            Example: avault secured decrypt --record post.md --key desk-content
            """,
        subcommands: [SecuredInspect.self, SecuredDecrypt.self, SecuredEncrypt.self]
    )
}
