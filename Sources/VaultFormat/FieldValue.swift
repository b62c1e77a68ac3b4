/// A front-matter value in the JSON data model (YAML 1.2 core schema).
///
/// Not `indirect`: arrays already hold their elements out of line, and an indirect enum boxed
/// every value (a heap allocation for each string, number or boolean of a record).
public enum FieldValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A decimal integer or float. Integers are exact within ±(2^53−1).
    case number(Double)
    case string(String)
    case array([FieldValue])
    /// Keys in document order; keys are unique.
    case object([(key: String, value: FieldValue)])

    public static func == (lhs: FieldValue, rhs: FieldValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The value of `key` when this is an object that has it.
    public subscript(key: String) -> FieldValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    /// The string when this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}
