import ArgumentParser
import ArticleVault

struct Trust: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "The trust store: publisher public keys (minisign format) that verification consults.",
        discussion: "Example: avault keys trust add desk.pub --name 'News desk' --role desk",
        subcommands: [TrustAdd.self, TrustList.self, TrustRevoke.self, TrustRemove.self]
    )
}
