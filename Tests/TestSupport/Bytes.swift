import Foundation

/// Bytes to compare in a test: `#expect(Bytes(got) == Bytes(expected), "…")`.
///
/// When `#expect(a == b)` fails and `a` and `b` are collections (`Data`, `[UInt8]`, `String`),
/// Swift Testing computes their difference for its message. That is quadratic: for two very
/// different values of a megabyte or more, a failing test spins for many minutes instead of
/// failing. `Bytes` is not a collection, so a failure shows only its `description`: the count,
/// the first and last few bytes, and a fingerprint.
public struct Bytes: Equatable, CustomStringConvertible, Sendable {
    /// nil stands for an optional that was nil, which is not equal to empty bytes.
    public let data: Data?

    public init(_ data: Data?) { self.data = data }
    public init<S: Sequence<UInt8>>(_ bytes: S?) { data = bytes.map { Data($0) } }

    /// How many bytes are shown from each end in `description`.
    static let shown = 8

    public var description: String {
        guard let data else { return "nil" }
        let bytes = [UInt8](data)
        func hex(_ part: some Sequence<UInt8>) -> String {
            part.map { String(format: "%02x", $0) }.joined(separator: " ")
        }
        let ends = bytes.count <= 2 * Self.shown
            ? "[\(hex(bytes))]"
            : "[\(hex(bytes.prefix(Self.shown))) … \(hex(bytes.suffix(Self.shown)))]"
        return "\(bytes.count) bytes \(ends) FNV-1a \(String(format: "%016llx", Self.fnv1a64(bytes)))"
    }

    /// 64-bit FNV-1a of `bytes`: a non-cryptographic fingerprint, only to tell two values apart
    /// in a failure message (TestSupport does not depend on the crypto modules).
    public static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBufferPointer { buffer in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in buffer {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
            return hash
        }
    }

    /// The offset of the first byte at which `a` and `b` differ (the shorter one's count if it
    /// is a prefix of the other; 0 if only one is nil), or nil if they are equal.
    public static func firstDifference(_ a: Bytes, _ b: Bytes) -> Int? {
        guard a != b else { return nil }
        guard let x = a.data, let y = b.data else { return 0 }
        return x.withUnsafeBytes { p in
            y.withUnsafeBytes { q in
                let n = min(p.count, q.count)
                var i = 0
                while i < n, p[i] == q[i] { i += 1 }
                return i
            }
        }
    }
}
