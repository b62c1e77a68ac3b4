/// A command as plain values, ready to run.
protocol Runnable {
    func run() throws
}

/// `vault get` and `vault put`, the commands scripts run in loops, read from the command line
/// without the argument parser. Its reflection was 13.6 million of the 22.0 million instructions
/// of a `get` the agent serves: the Swift runtime scans the binary's 4,300 protocol conformance
/// records for each type the parser reflects on. Only these commands' own options, each at most
/// once, as `--name VALUE`, `--name=VALUE`, `-o VALUE` or a flag, and their positional arguments
/// are taken here; anything else (help, `--`, an option twice, a value that starts with `-`, a
/// missing or extra argument, a mistake) gives nil, and the argument parser does it all, errors
/// and help included. `FastPathTests` checks that every command line taken here is one that the
/// argument parser reads as the same request.
enum FastPath {
    static func command(_ arguments: [String]) -> (any Runnable)? {
        guard arguments.count >= 3, arguments[0] == "vault" else { return nil }
        let vaultOptions: Set<String> = ["vault", "keyring", "passphrase-file"]
        switch arguments[1] {
        case "get":
            guard let line = Line(arguments.dropFirst(2), options: vaultOptions.union(["version", "output"]), short: ["-o": "output"],
                                  flags: ["accept-rollback", "force"]),
                  line.positionals.count == 1 else { return nil }
            var version: Int?
            if let text = line.values["version"] {
                guard let number = Int(text) else { return nil }
                version = number
            }
            return VaultGet.Request(vault: line.vaultSelection, id: line.positionals[0], version: version, output: line.values["output"],
                                    force: line.flags.contains("force"))
        case "put":
            guard let line = Line(arguments.dropFirst(2), options: vaultOptions.union(["content-type"]), flags: ["accept-rollback", "json"]),
                  (1...2).contains(line.positionals.count) else { return nil }
            let request = VaultPut.Request(vault: line.vaultSelection, id: line.positionals[0], file: line.positionals.count == 2 ? line.positionals[1] : "-",
                                           contentType: line.values["content-type"], json: line.flags.contains("json"))
            return request.readsStandardInputTwice ? nil : request
        default:
            return nil
        }
    }

    /// A command line's options (by long name), flags and positional arguments; nil when it
    /// holds anything else, or an option or flag twice.
    struct Line {
        var values: [String: String] = [:]
        var flags: Set<String> = []
        var positionals: [String] = []

        init?(_ words: ArraySlice<String>, options: Set<String>, short: [String: String] = [:], flags known: Set<String>) {
            var words = words
            while let word = words.popFirst() {
                if word == "-" || !word.hasPrefix("-") {
                    positionals.append(word)
                    continue
                }
                var name: String, inline: String?
                if word.hasPrefix("--") {
                    let body = word.dropFirst(2)
                    if let equals = body.firstIndex(of: "=") {
                        name = String(body[..<equals])
                        inline = String(body[body.index(after: equals)...])
                    } else {
                        name = String(body)
                    }
                } else if let long = short[word] {
                    name = long
                } else {
                    return nil
                }
                if known.contains(name), inline == nil {
                    guard flags.insert(name).inserted else { return nil }
                } else if options.contains(name), values[name] == nil, let value = inline ?? words.popFirst(),
                          value == "-" || (!value.hasPrefix("-") && !value.isEmpty) {
                    values[name] = value
                } else {
                    return nil
                }
            }
        }

        var vaultSelection: VaultSelection {
            VaultSelection(vault: values["vault"], keyring: KeyringSelection(keyring: values["keyring"], passphraseFile: values["passphrase-file"]),
                           acceptRollback: flags.contains("accept-rollback"))
        }
    }
}
