public import VaultCrypto

/// Bech32 (BIP 173, not Bech32m), as age writes its recipients (`age1…`) and identities
/// (`AGE-SECRET-KEY-1…`): a human-readable part, the separator `1`, 5-bit groups in the
/// alphabet `qpzry9x8gf2tvdw0s3jn54khce6mua7l`, and a 6-character BCH checksum. An encoding, not
/// cryptography: the checksum catches typing errors and nothing else.
///
/// Like age, no length limit (BIP 173's 90 characters) is applied, all-lowercase and
/// all-uppercase strings are accepted (mixed case is not), and the data must convert from 5-bit
/// groups to bytes with at most 4 zero bits of padding.
public enum Bech32 {
    static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    /// Each ASCII byte's 5-bit value in the alphabet (either case), or 0xFF.
    static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 128)
        for (i, c) in alphabet.enumerated() {
            table[Int(c)] = UInt8(i)
            if (0x61...0x7A).contains(c) { table[Int(c) - 0x20] = UInt8(i) }
        }
        return table
    }()

    private static func polymod(_ checksum: inout UInt32, _ value: UInt8) {
        let top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ UInt32(value)
        let generator: [UInt32] = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
        for i in 0..<5 where (top >> UInt32(i)) & 1 == 1 { checksum ^= generator[i] }
    }

    /// The checksum state after the expanded human-readable part (given in lowercase).
    private static func expandedPrefix(_ hrp: [UInt8]) -> UInt32 {
        var checksum: UInt32 = 1
        for c in hrp { polymod(&checksum, c >> 5) }
        polymod(&checksum, 0)
        for c in hrp { polymod(&checksum, c & 31) }
        return checksum
    }

    /// Why a string is not Bech32. Never quotes the string (it may be a secret key).
    public enum Problem: Error, Equatable, Sendable {
        case mixedCase, noSeparator, invalidPrefix, invalidCharacter, badChecksum, badPadding
    }

    /// The ASCII of `data` under `hrp` (lowercase letters, digits and `-`), in lowercase, or
    /// uppercase when `uppercase`.
    static func encode(hrp: String, data raw: UnsafeRawBufferPointer, uppercase: Bool, into out: inout [UInt8]) {
        let prefix = Array(hrp.utf8)
        var groups: [UInt8] = []
        groups.reserveCapacity((raw.count * 8 + 4) / 5)
        var accumulator: UInt32 = 0, bits = 0
        for byte in raw {
            accumulator = accumulator << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 { bits -= 5; groups.append(UInt8((accumulator >> UInt32(bits)) & 31)) }
        }
        if bits > 0 { groups.append(UInt8((accumulator << UInt32(5 - bits)) & 31)) }
        accumulator = 0
        var checksum = expandedPrefix(prefix)
        for g in groups { polymod(&checksum, g) }
        for _ in 0..<6 { polymod(&checksum, 0) }
        checksum ^= 1
        let letters = uppercase ? alphabet.map { (0x61...0x7A).contains($0) ? $0 - 0x20 : $0 } : alphabet
        out.append(contentsOf: uppercase ? prefix.map { (0x61...0x7A).contains($0) ? $0 - 0x20 : $0 } : prefix)
        out.append(UInt8(ascii: "1"))
        for g in groups { out.append(letters[Int(g)]) }
        for i in 0..<6 { out.append(letters[Int((checksum >> UInt32(5 * (5 - i))) & 31)]) }
        wipe(&groups)
    }

    /// The Bech32 string of public `data` under `hrp`, lowercase.
    public static func encode(hrp: String, data: [UInt8]) -> String {
        var out: [UInt8] = []
        data.withUnsafeBytes { encode(hrp: hrp, data: $0, uppercase: false, into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The Bech32 text of a secret under `hrp`, in uppercase as age writes identities, kept in
    /// secret memory.
    public static func encodeSecret(hrp: String, data: SecretBytes) -> SecretBytes {
        var out: [UInt8] = []
        out.reserveCapacity(hrp.utf8.count + 1 + (data.count * 8 + 4) / 5 + 6)
        data.withUnsafeBytes { encode(hrp: hrp, data: $0, uppercase: true, into: &out) }
        defer { wipe(&out) }
        return SecretBytes(copying: out)
    }

    /// Splits and checks `text`: the human-readable part exactly as written (age compares it with
    /// its case) and the number of data bytes; `sink` receives each decoded byte in order.
    static func decode(_ text: UnsafeBufferPointer<UInt8>, sink: (Int, UInt8) -> Void) throws(Problem) -> (hrp: [UInt8], count: Int) {
        var hasLower = false, hasUpper = false
        for c in text {
            if (0x61...0x7A).contains(c) { hasLower = true }
            if (0x41...0x5A).contains(c) { hasUpper = true }
        }
        guard !(hasLower && hasUpper) else { throw .mixedCase }
        guard let separator = text.lastIndex(of: UInt8(ascii: "1")), separator >= 1, separator + 7 <= text.count else {
            throw .noSeparator
        }
        let hrp = Array(text[0..<separator])
        guard hrp.allSatisfy({ (33...126).contains($0) }) else { throw .invalidPrefix }
        let lowered = hrp.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }
        var checksum = expandedPrefix(lowered)
        let dataEnd = text.count - 6
        var accumulator: UInt32 = 0, bits = 0, count = 0
        for i in (separator + 1)..<text.count {
            let c = text[i]
            guard c < 128, values[Int(c)] != 0xFF else { accumulator = 0; throw .invalidCharacter }
            let v = values[Int(c)]
            polymod(&checksum, v)
            guard i < dataEnd else { continue }
            accumulator = (accumulator << 5 | UInt32(v)) & 0xFFF
            bits += 5
            if bits >= 8 {
                bits -= 8
                sink(count, UInt8((accumulator >> UInt32(bits)) & 0xFF))
                count += 1
            }
        }
        let leftover = accumulator & ((1 << UInt32(bits)) - 1)
        accumulator = 0
        guard checksum == 1 else { throw .badChecksum }
        guard bits <= 4, leftover == 0 else { throw .badPadding }
        return (hrp, count)
    }

    /// Decodes public Bech32: the human-readable part as written, and the data.
    public static func decode(_ text: String) throws(Problem) -> (hrp: String, data: [UInt8]) {
        var data: [UInt8] = []
        var text = text
        var problem: Problem?
        var hrp: [UInt8] = []
        text.withUTF8 { u in
            do throws(Problem) { hrp = try decode(u) { _, b in data.append(b) }.hrp } catch { problem = error }
        }
        if let problem { throw problem }
        return (String(decoding: hrp, as: UTF8.self), data)
    }

    /// Decodes Bech32 whose data is secret straight into secret memory: the first
    /// `expectedCount` bytes are kept, and `count` says how many the text held (the caller
    /// refuses any other count). Errors never quote the text.
    public static func decodeSecret(_ text: UnsafeBufferPointer<UInt8>, expectedCount: Int) throws(Problem) -> (hrp: [UInt8], data: SecretBytes, count: Int) {
        var problem: Problem?
        var result: (hrp: [UInt8], count: Int) = ([], 0)
        let secret = SecretBytes(count: expectedCount) { out in
            let sink: (Int, UInt8) -> Void = { i, b in if i < expectedCount { out[i] = b } }
            do throws(Problem) {
                result = try decode(text, sink: sink)
            } catch { problem = error }
        }
        if let problem { throw problem }
        return (result.hrp, secret, result.count)
    }
}
