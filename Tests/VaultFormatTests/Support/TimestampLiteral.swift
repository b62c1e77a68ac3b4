import VaultFormat

/// Test-only: a time written as a literal (`notBefore: "2026-01-01T00:00:00Z"`). A literal that
/// is not RFC 3339 is a mistake in the test, so it stops the test run.
extension Timestamp: ExpressibleByStringLiteral {
    public init(stringLiteral text: String) {
        guard let time = Timestamp(text) else { preconditionFailure("not an RFC 3339 time: \(text)") }
        self = time
    }
}
