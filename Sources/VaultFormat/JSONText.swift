extension FieldValue {
    /// Compact JSON text with keys in stored order (for CLI output; not the canonical form).
    /// Whole numbers within ±(2^53−1) print without a fraction.
    public var jsonText: String {
        // Written as UTF-8 bytes (strings escaped by the rule of JSONString, byte for byte what
        // `append(_:to:)` on a String writes), then made a String once.
        var out: [UInt8] = []
        out.reserveCapacity(256)
        appendJSON(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends ``jsonText``'s UTF-8 to `out` (for output made of many objects, without a
    /// `String` for each).
    public func appendJSON(to out: inout [UInt8]) {
        switch self {
        case .null: Self.append("null", to: &out)
        case .bool(let b): Self.append(b ? "true" : "false", to: &out)
        case .number(let d):
            var text = d == d.rounded() && abs(d) <= 9_007_199_254_740_991 ? String(Int64(d)) : "\(d)"
            text.withUTF8 { out.append(contentsOf: $0) }
        case .string(let s): JSONString.append(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.appendJSON(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let pairs):
            out.append(UInt8(ascii: "{"))
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.append(pair.key, to: &out)
                out.append(UInt8(ascii: ":"))
                pair.value.appendJSON(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// ``jsonText`` as a line of output: U+0085, U+2028 and U+2029, which JSON leaves as they
    /// are, escaped (`\u2028`), so that a reader that splits lines at them too (Python's
    /// `splitlines`, JavaScript's line terminators) does not cut the object. (Not for stored
    /// text, whose bytes are hashed: a vault's log lines are ``jsonText``.)
    public var jsonLine: String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        appendJSONLine(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends ``jsonLine``'s UTF-8 to `out`.
    public func appendJSONLine(to out: inout [UInt8]) {
        let start = out.count
        appendJSON(to: &out)
        // Only in strings (no JSON token holds a byte above 0x7F), and only as these sequences.
        guard out[start...].contains(where: { $0 == 0xC2 || $0 == 0xE2 }) else { return }
        var line: [UInt8] = []
        line.reserveCapacity(out.count - start + 16)
        var i = start
        while i < out.count {
            let b = out[i]
            if b == 0xC2, i + 1 < out.count, out[i + 1] == 0x85 {
                line += Array("\\u0085".utf8)
                i += 2
            } else if b == 0xE2, i + 2 < out.count, out[i + 1] == 0x80, out[i + 2] == 0xA8 || out[i + 2] == 0xA9 {
                line += Array((out[i + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                i += 3
            } else {
                line.append(b)
                i += 1
            }
        }
        out.replaceSubrange(start..., with: line)
    }

    private static func append(_ s: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
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
