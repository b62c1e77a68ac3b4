public import VaultFormat

extension Keyring {
    /// The names of the keys in the keyring at `directory` (of the given kinds, or all), sorted
    /// and without repeats, for shell completion. Read without the passphrase and never asking
    /// for one; a missing, unreadable or malformed keyring gives no names rather than an error.
    public static func keyNames(directory: String, kinds: Set<KeyKind> = Set(KeyKind.allCases)) -> [String] {
        // A source that is never read: listing names does not unlock anything.
        let never = PassphraseSource(file: "/dev/null", environmentVariable: "", label: "keyring passphrase")
        guard let ring = try? Keyring(directory: directory, passphrase: never) else { return [] }
        let names = ring.file.entries.filter { kinds.contains($0.algorithm.kind) }.map(\.name)
        return Array(Set(names)).sorted()
    }
}
