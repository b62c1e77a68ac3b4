import ArticleVault
import VaultFormat

/// The one JSON vocabulary of every `--json` output (docs/cli.md, "JSON output"): `keyId` for
/// key identifiers, RFC 3339 UTC for times, every count present, null for an absent value, and
/// `schemaVersion` first in every top-level object.
enum JSONOutput {
    /// The version of the vocabulary; 2 since key ids are `keyId` everywhere and times are text.
    static let schemaVersion = 2

    /// A top-level object: `schemaVersion`, then `pairs`.
    static func document(_ pairs: [(key: String, value: FieldValue)]) -> FieldValue {
        .object([("schemaVersion", .number(Double(schemaVersion)))] + pairs)
    }

    /// A top-level object printed as one line.
    static func print(_ pairs: [(key: String, value: FieldValue)]) throws(AvaultError) {
        try Terminal.writeStdout(document(pairs).jsonLine + "\n")
    }

    /// A count.
    static func count(_ n: Int) -> FieldValue { .number(Double(n)) }

    /// An optional string, null when absent.
    static func string(_ s: String?) -> FieldValue { s.map(FieldValue.string) ?? .null }

    /// Unix seconds as RFC 3339 UTC text, null when absent.
    static func time(_ seconds: Int64?) -> FieldValue { seconds.map { .string(RFC3339.format($0)) } ?? .null }
}
