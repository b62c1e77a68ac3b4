import ArgumentParser
import Foundation
@testable import avault
import TestSupport
import Testing

/// `vault get` and `vault put` are read without the argument parser (``FastPath``). Every command
/// line read so must be one the argument parser reads as the same request; every other one is
/// left to the argument parser.
@Suite struct FastPathTests {
    /// The request the argument parser reads from `arguments`, nil when it reads no `get` or `put`.
    static func parsed(_ arguments: [String]) -> (any Runnable)? {
        switch try? Avault.parseAsRoot(arguments) {
        case let get as VaultGet: get.request
        case let put as VaultPut: put.request
        default: nil
        }
    }

    static func same(_ a: (any Runnable)?, _ b: (any Runnable)?) -> Bool {
        switch (a, b) {
        case (let x as VaultGet.Request, let y as VaultGet.Request): x == y
        case (let x as VaultPut.Request, let y as VaultPut.Request): x == y
        default: false
        }
    }

    static let taken: [[String]] = [
        ["vault", "get", "doc"],
        ["vault", "get", "doc", "--vault", "/v", "--keyring", "/k", "--passphrase-file", "/p", "--accept-rollback", "--version", "2", "-o", "out", "--force"],
        ["vault", "get", "--force", "--vault=/v", "https://example.org/a?b=c", "--output=-", "--keyring=/k"],
        ["vault", "get", "doc", "-o", "-"],
        ["vault", "get", "-"],
        ["vault", "get", "doc", "--version", "+3"],
        ["vault", "get", "a=b c", "--passphrase-file", "-"],
        ["vault", "get", "héllo wörld", "--output", "x=y"],
        ["vault", "put", "doc"],
        ["vault", "put", "doc", "file.md", "--content-type", "text/markdown", "--json"],
        ["vault", "put", "doc", "-", "--passphrase-file", "/p"],
        ["vault", "put", "--json", "doc", "--vault", "postgresql:///x?host=/tmp", "--accept-rollback"],
        ["vault", "put", "doc", "payload", "--passphrase-file", "-", "--content-type=a/b"],
        ["vault", "get", "help"], ["vault", "put", "help", "file"],
    ]

    @Test(arguments: taken) func aCommandLineTakenHereIsOneTheArgumentParserReadsTheSame(_ arguments: [String]) {
        let fast = FastPath.command(arguments)
        #expect(fast != nil, "not taken: \(arguments)")
        #expect(Self.same(fast, Self.parsed(arguments)), "\(arguments): \(String(describing: fast)) ≠ \(String(describing: Self.parsed(arguments)))")
    }

    static let left: [[String]] = [
        ["vault", "get"], ["vault", "get", "doc", "extra"], ["vault", "put"], ["vault", "put", "a", "b", "c"],
        ["vault", "get", "doc", "--help"], ["vault", "get", "-h", "doc"],
        ["vault", "get", "doc", "--force", "--force"], ["vault", "get", "doc", "--vault", "a", "--vault=b"],
        ["vault", "get", "--", "-doc"], ["vault", "get", "doc", "--nosuch"], ["vault", "get", "doc", "--json"],
        ["vault", "get", "doc", "--version", "x"], ["vault", "get", "doc", "--version", "-1"], ["vault", "get", "doc", "--version"],
        ["vault", "get", "doc", "--vault"], ["vault", "get", "doc", "--vault="], ["vault", "get", "doc", "--vault", ""], ["vault", "get", "doc", "-o"],
        ["vault", "get", "doc", "--force=yes"], ["vault", "get", "doc", "-o", "--force"], ["vault", "get", "doc", "-ofile"],
        ["vault", "put", "doc", "-", "--passphrase-file", "-"], ["vault", "put", "doc", "--passphrase-file", "-"],
        ["vault", "put", "doc", "--force"], ["vault", "put", "doc", "--version", "2"], ["vault", "list"], ["get", "doc", "x"],
        ["vault", "get", "doc", "--generate-completion-script", "bash"], ["vault", "get", "doc", "--experimental-dump-help"],
    ]

    /// Help, mistakes and unusual spellings: the argument parser's, whatever it makes of them.
    @Test(arguments: left) func everyOtherCommandLineIsLeftToTheArgumentParser(_ arguments: [String]) {
        #expect(FastPath.command(arguments) == nil, "\(arguments)")
    }

    /// Every option of the two commands in every order, with and without a value inline: each
    /// line taken here is read the same by the argument parser (a seeded sample of orders).
    @Test func everyOptionInAnyOrderIsReadTheSame() {
        let get: [[String]] = [["--vault", "/v"], ["--keyring=/k"], ["--passphrase-file", "-"], ["--accept-rollback"], ["--version", "7"],
                               ["-o", "-"], ["--output=f"], ["--force"], ["doc"]]
        let put: [[String]] = [["--vault=postgres://h/db"], ["--keyring", "/k"], ["--passphrase-file", "p"], ["--accept-rollback"],
                               ["--content-type", "text/plain"], ["--json"], ["doc"], ["-"]]
        var rng = SeededRNG(seed: 0xFA57)
        var taken = 0
        for (command, words) in [("get", get), ("put", put)] {
            for _ in 0..<200 {
                let chosen = words.filter { _ in Bool.random(using: &rng) }.shuffled(using: &rng)
                let arguments = ["vault", command] + chosen.flatMap { $0 }
                guard let fast = FastPath.command(arguments) else { continue }
                taken += 1
                #expect(Self.same(fast, Self.parsed(arguments)), "\(arguments)")
            }
        }
        #expect(taken > 100)
    }

    /// The options each command has, by the argument parser's own account of them (its help's
    /// JSON), are those read here: an option added to `get` or `put` and not here would send
    /// every command line that uses it to the slow path, and one removed there would still be
    /// taken here.
    @Test(arguments: [("get", ["vault", "keyring", "passphrase-file", "accept-rollback", "version", "output", "force"]),
                      ("put", ["vault", "keyring", "passphrase-file", "accept-rollback", "content-type", "json"])])
    func theOptionsReadHereAreTheCommandsOptions(_ command: String, _ names: [String]) throws {
        let r = try CLI.avault(["vault", command, "--experimental-dump-help"])
        #expect(r.code == 0, "\(r.err)")
        let dump = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let arguments = try #require((dump["command"] as? [String: Any])?["arguments"] as? [[String: Any]])
        let options = arguments.compactMap { argument -> String? in
            // Not the positional arguments, nor the flags every command has.
            guard argument["kind"] as? String != "positional", !["Show the version.", "Show help information."].contains(argument["abstract"] as? String) else { return nil }
            return (argument["names"] as? [[String: Any]])?.first { $0["kind"] as? String == "long" }?["name"] as? String
        }
        #expect(Set(options) == Set(names), "\(command): \(options)")
        // Each is taken here (a value that is a word, or a flag).
        for name in names {
            let word = ["vault", command, "doc", "--" + name] + (["accept-rollback", "force", "json"].contains(name) ? [] : [name == "version" ? "1" : "x"])
            #expect(FastPath.command(word) != nil, "\(word)")
        }
    }
}
