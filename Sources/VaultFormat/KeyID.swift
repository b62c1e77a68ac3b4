/// An 8-byte key identifier, written as 16 lowercase hex digits.
public struct KeyID: Hashable, Sendable, CustomStringConvertible {
    /// Size in bytes.
    public static let size = 8
    /// The 8 bytes.
    public let bytes: [UInt8]

    /// Wraps exactly 8 bytes.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == Self.size, "KeyID is 8 bytes")
        self.bytes = bytes
    }

    /// Parses exactly 16 lowercase hex digits; nil otherwise.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 2 * Self.size else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(Self.size)
        var i = 0
        while i < utf8.count {
            guard let hi = Self.lowerHexValue(utf8[i]), let lo = Self.lowerHexValue(utf8[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        self.bytes = bytes
    }

    /// 16 lowercase hex digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(16)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    private static func lowerHexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
