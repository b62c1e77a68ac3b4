import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import ArticleVault

/// Shell completion of key names: the shell runs avault with the words typed so far, and the
/// names come from the keyring that `--keyring DIR` on that line (else AVAULT_KEYRING, else the
/// default) names, read without the passphrase.
enum KeyCompletion {
    /// Completes the names of keys of these kinds (all kinds when none are given).
    static func names(_ kinds: KeyKind...) -> CompletionKind {
        let wanted = kinds.isEmpty ? Set(KeyKind.allCases) : Set(kinds)
        return .custom { words, _, _ in
            guard let directory = try? Keyring.location(explicit: keyringArgument(in: words)) else { return [] }
            return Keyring.keyNames(directory: directory, kinds: wanted)
        }
    }

    /// The last `--keyring DIR` or `--keyring=DIR` among the words, with a leading `~/` expanded
    /// (the shell has not expanded it in a word still being typed).
    static func keyringArgument(in words: [String]) -> String? {
        var found: String?
        for (i, word) in words.enumerated() {
            if word == "--keyring", i + 1 < words.count, !words[i + 1].isEmpty { found = words[i + 1] }
            if word.hasPrefix("--keyring=") { found = String(word.dropFirst("--keyring=".count)) }
        }
        if let path = found, path.hasPrefix("~/"), let home = getenv("HOME") {
            return String(cString: home) + path.dropFirst(1)
        }
        return found
    }
}
