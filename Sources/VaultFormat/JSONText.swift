extension FieldValue {
    /// Compact JSON text with keys in stored order (for CLI output; not the canonical form).
    /// Whole numbers within ±(2^53−1) print without a fraction.
    public var jsonText: String {
        var out = ""
        write(into: &out)
        return out
    }

    private func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let d):
            if d == d.rounded(), abs(d) <= 9_007_199_254_740_991 { out += String(Int64(d)) } else { out += "\(d)" }
        case .string(let s): JSONString.append(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += "," }
                JSONString.append(pair.key, to: &out)
                out += ":"
                pair.value.write(into: &out)
            }
            out += "}"
        }
    }
}

/// JSON string escaping as RFC 8785 prescribes: `"` `\` and control characters escaped,
/// `\b \f \n \r \t` by name, other controls as `\u00xx` (lowercase hex), everything else literal.
public enum JSONString {
    /// Appends the quoted, escaped form of `s` to `out`.
    public static func append(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
