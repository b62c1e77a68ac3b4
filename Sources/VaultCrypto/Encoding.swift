internal import CSodium

/// Strict standard base64 (RFC 4648 section 4, with padding), via libsodium's
/// constant-time codec.
///
/// Decoding refuses whitespace, missing or extra padding, characters outside the
/// standard alphabet, and non-canonical trailing bits, so every accepted string
/// re-encodes to itself.
public enum Base64 {
    /// The padded standard base64 of `bytes`.
    public static func encode<Bytes: BytesView>(_ bytes: Bytes) -> String {
        sodiumReady()
        return bytes.withUnsafeBytes { encode(raw: $0) }
    }

    /// The padded standard base64 of a secret. Only for writing key files.
    public static func encode(_ secret: SecretBytes) -> String {
        secret.withUnsafeBytes { encode(raw: $0) }
    }

    private static func encode(raw: UnsafeRawBufferPointer) -> String {
        sodiumReady()
        let variant = Int32(sodium_base64_VARIANT_ORIGINAL)
        let outLength = sodium_base64_encoded_len(raw.count, variant) // includes the NUL
        var out = [CChar](repeating: 0, count: outLength)
        let bin = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
        _ = out.withUnsafeMutableBufferPointer { o in
            sodium_bin2base64(o.baseAddress!, outLength, bin, raw.count, variant)
        }
        return String(decoding: out.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Decodes strict standard base64. Throws ``CryptoError/invalidBase64``.
    public static func decode<S: StringProtocol>(_ text: S) throws(CryptoError) -> [UInt8] {
        // The text's own UTF-8 when it is contiguous (native strings and their substrings): no copy.
        let decoded = text.utf8.withContiguousStorageIfAvailable { decode(utf8: $0) } ?? Array(text.utf8).withUnsafeBufferPointer { decode(utf8: $0) }
        guard let decoded else { throw .invalidBase64 }
        return decoded
    }

    /// Decodes strict standard base64. Throws ``CryptoError/invalidBase64``. (Not generic, so
    /// that callers in other modules do not go through the generic `utf8` view.)
    public static func decode(_ text: Substring) throws(CryptoError) -> [UInt8] {
        var text = text
        guard let decoded = text.withUTF8({ decode(utf8: $0) }) else { throw .invalidBase64 }
        return decoded
    }

    /// Decodes strict standard base64. Throws ``CryptoError/invalidBase64``.
    public static func decode(_ text: String) throws(CryptoError) -> [UInt8] {
        var text = text
        guard let decoded = text.withUTF8({ decode(utf8: $0) }) else { throw .invalidBase64 }
        return decoded
    }

    /// Decodes strict standard base64 from `utf8`; nil when it is not.
    static func decode(utf8: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard utf8.count % 4 == 0 else { return nil }
        var ok = false
        let out = [UInt8](unsafeUninitializedCapacity: utf8.count / 4 * 3) { buffer, count in
            count = 0
            guard let n = decodedLength(utf8: utf8, into: UnsafeMutableRawBufferPointer(buffer)) else { return }
            count = n
            ok = true
        }
        return ok ? out : nil
    }

    /// The length ``decode(_:)`` decodes `utf8` to, or nil when it refuses it — found without
    /// decoding, for checking the form of public text (a record's `secured` blob) without
    /// holding its bytes. Not for secrets: unlike libsodium's codec, this is not constant time.
    ///
    /// `decode` (libsodium's `sodium_base642bin`, standard alphabet, padding required, nothing
    /// ignored, after the length and ASCII checks) accepts exactly: a length that is a multiple
    /// of 4; k characters of the alphabet `A–Z a–z 0–9 + /` with k mod 4 ≠ 1; then one `=` when
    /// k mod 4 = 3 and two when k mod 4 = 2, nothing else; and zero bits past the last byte
    /// (the last character's low 2 bits when k mod 4 = 3, low 4 bits when 2). It decodes to
    /// ⌊6k / 8⌋ bytes. (The property tests compare this with `decode` on random text.)
    public static func strictDecodedCount(_ utf8: UnsafeBufferPointer<UInt8>) -> Int? {
        let n = utf8.count
        guard n % 4 == 0 else { return nil }
        guard n > 0 else { return 0 }
        let padding = utf8[n - 1] != UInt8(ascii: "=") ? 0 : utf8[n - 2] != UInt8(ascii: "=") ? 1 : 2
        let k = n - padding
        // The alphabet: `alphabet[c]` is "1" for each character c of it, "0" for any other byte.
        let alphabet: StaticString = """
            0000000000000000000000000000000000000000000100011111111111000000\
            0111111111111111111111111110000001111111111111111111111111100000\
            0000000000000000000000000000000000000000000000000000000000000000\
            0000000000000000000000000000000000000000000000000000000000000000
            """
        let table = alphabet.utf8Start
        var ok: UInt8 = 1
        for i in 0..<k { ok &= table[Int(utf8[i])] } // (the low bit of "1" is 1, of "0" is 0)
        guard ok == 1 else { return nil }
        if padding > 0 {
            // The last character's value: its unused low bits must be zero.
            let c = utf8[k - 1]
            let value: UInt8 = switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): 62
            default: 63
            }
            guard value & (padding == 2 ? 0x0F : 0x03) == 0 else { return nil }
        }
        return k * 6 / 8
    }

    /// Decodes strict standard base64 of public data: exactly what ``decode(_:)`` accepts
    /// (``strictDecodedCount(_:)`` checks it) and the same bytes, decoded here rather than by
    /// libsodium — for the signatures embedded in records, read for every record `avault
    /// verify` checks. Not for secrets: this is not constant time.
    public static func decodePublic(_ text: Substring) -> [UInt8]? {
        var text = text
        // A long text (a vault's sealed index) through the quantum decoder, a few times faster
        // than this one per character; both accept exactly what `decode` accepts.
        return text.withUTF8 { $0.count > 4096 ? try? decodePublic(UnsafeRawBufferPointer($0)) : decodePublic(utf8: $0) }
    }

    private static func decodePublic(utf8: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        // One pass: the length and the padding as strictDecodedCount reads them, each character's
        // value from a table, the zero bits at the end.
        let n = utf8.count
        guard n % 4 == 0 else { return nil }
        guard n > 0 else { return [] }
        let padding = utf8[n - 1] != UInt8(ascii: "=") ? 0 : utf8[n - 2] != UInt8(ascii: "=") ? 1 : 2
        let k = n - padding
        // Each ASCII character's value + 0x30 (A–Z 0–25, a–z 26–51, 0–9 52–61, + 62, / 63); "~"
        // for a byte outside the alphabet.
        let values: StaticString = "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~n~~~odefghijklm~~~~~~~0123456789:;<=>?@ABCDEFGHI~~~~~~JKLMNOPQRSTUVWXYZ[\\]^_`abc~~~~~"
        let table = values.utf8Start
        @inline(__always) func value(_ c: UInt8) -> UInt32 { UInt32(c < 128 ? table[Int(c)] &- 0x30 : 0xFF) }
        var bad: UInt32 = 0
        var last: UInt32 = 0
        let count = k * 6 / 8
        // Decoded on the stack, then copied into the array: `Array(unsafeUninitializedCapacity:)`
        // allocates through the standard library's unspecialised path (a generic metadata
        // lookup, a few hundred instructions), where copying a buffer is specialised here.
        let out = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(count, 1)) { out -> [UInt8] in
            // Four characters to three bytes; then the last two or three characters.
            var i = 0, o = 0
            while i + 4 <= k {
                let a = value(utf8[i]), b = value(utf8[i + 1]), c = value(utf8[i + 2]), d = value(utf8[i + 3])
                bad |= a | b | c | d
                let bits = a << 18 | b << 12 | c << 6 | d
                out[o] = UInt8(truncatingIfNeeded: bits >> 16)
                out[o + 1] = UInt8(truncatingIfNeeded: bits >> 8)
                out[o + 2] = UInt8(truncatingIfNeeded: bits)
                i += 4
                o += 3
            }
            if k - i >= 2 {
                let a = value(utf8[i]), b = value(utf8[i + 1])
                bad |= a | b
                last = b
                out[o] = UInt8(truncatingIfNeeded: a << 2 | b >> 4)
                o += 1
                if k - i == 3 {
                    let c = value(utf8[i + 2])
                    bad |= c
                    last = c
                    out[o] = UInt8(truncatingIfNeeded: b << 4 | c >> 2)
                    o += 1
                }
            }
            return Array(UnsafeBufferPointer(rebasing: out[..<o]))
        }
        // Values are below 64; "~" (0x4E after the subtraction) and any other byte (0xFF) are not.
        guard bad & ~0x3F == 0 else { return nil }
        if padding > 0, last & (padding == 2 ? 0x0F : 0x03) != 0 { return nil }
        return out
    }

    /// Decodes strict standard base64 straight into secret memory, for key files.
    /// The error never repeats the input.
    public static func decodeSecret(utf8: [UInt8]) throws(CryptoError) -> SecretBytes {
        guard utf8.count % 4 == 0 else { throw .invalidBase64 }
        var n: Int?
        let scratch = SecretBytes(count: utf8.count / 4 * 3) { raw in
            n = utf8.withUnsafeBufferPointer { decodedLength(utf8: $0, into: raw) }
        }
        guard let n else { throw .invalidBase64 }
        return scratch.slice(0..<n)
    }

    /// Decodes into `out` (at least 3/4 of the input length); returns the decoded length,
    /// or nil when the input is not strict base64.
    private static func decodedLength(utf8: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableRawBufferPointer) -> Int? {
        sodiumReady()
        guard let input = utf8.baseAddress, !utf8.isEmpty else { return 0 }
        // libsodium 1.0.18 reads its input as signed char and takes bytes 0x80...0xFF for '/':
        // refuse anything outside ASCII first.
        var high: UInt8 = 0
        for b in utf8 { high |= b }
        guard high < 0x80 else { return nil }
        var binLength = 0
        let rc = input.withMemoryRebound(to: CChar.self, capacity: utf8.count) { chars in
            sodium_base642bin(
                out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count,
                chars, utf8.count,
                nil, &binLength, nil, Int32(sodium_base64_VARIANT_ORIGINAL))
        }
        return rc == 0 ? binLength : nil
    }
}

/// Hexadecimal encoding via libsodium's constant-time codec.
public enum Hex {
    /// Lowercase hex of `bytes`.
    public static func encode<Bytes: BytesView>(_ bytes: Bytes) -> String {
        sodiumReady()
        return bytes.withUnsafeBytes { raw in
            // Written straight into the string's storage (with room for libsodium's NUL, which is
            // not counted): the copy through a [CChar] was most of the cost of hashing a log line.
            String(unsafeUninitializedCapacity: raw.count * 2 + 1) { out in
                out.withMemoryRebound(to: CChar.self) { o in
                    _ = sodium_bin2hex(o.baseAddress!, o.count, raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count)
                }
                return raw.count * 2
            }
        }
    }

    /// Decodes hex (either case, no separators, even length). Throws ``CryptoError/invalidHex``.
    public static func decode<S: StringProtocol>(_ text: S) throws(CryptoError) -> [UInt8] {
        // One copy from contiguous storage where the string has it (a large index line).
        try decode(utf8: text.utf8.withContiguousStorageIfAvailable { Array($0) } ?? Array(text.utf8))
    }

    /// ``decode(_:)`` of the characters' bytes.
    public static func decode(utf8: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard utf8.count % 2 == 0 else { throw .invalidHex }
        var out = [UInt8](repeating: 0, count: utf8.count / 2)
        guard out.withUnsafeMutableBytes({ decode(utf8: utf8, into: $0) }) else { throw .invalidHex }
        return out
    }

    /// Decodes hex straight into secret memory, for key files. The error never repeats the input.
    public static func decodeSecret(utf8: [UInt8]) throws(CryptoError) -> SecretBytes {
        guard utf8.count % 2 == 0 else { throw .invalidHex }
        var ok = false
        let secret = SecretBytes(count: utf8.count / 2) { dest in ok = decode(utf8: utf8, into: dest) }
        guard ok else { throw .invalidHex }
        return secret
    }

    /// Decodes exactly `out.count` bytes; false when the input is not that much hex.
    private static func decode(utf8: [UInt8], into out: UnsafeMutableRawBufferPointer) -> Bool {
        sodiumReady()
        if utf8.isEmpty { return out.isEmpty }
        var binLength = 0
        let rc = utf8.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { chars in
                sodium_hex2bin(out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count,
                               chars.baseAddress!, chars.count, nil, &binLength, nil)
            }
        }
        return rc == 0 && binLength == out.count
    }
}

/// Wipes a buffer with `sodium_memzero`.
func zero(_ buffer: UnsafeMutableRawBufferPointer) {
    if let base = buffer.baseAddress, buffer.count > 0 { sodium_memzero(base, buffer.count) }
}

/// Wipes a byte array in place (`sodium_memzero`), for transient copies of secrets.
public func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { zero($0) }
}

/// Wipes memory in place (`sodium_memzero`): a reused buffer that held plaintext, before it is
/// freed.
public func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
    zero(buffer)
}

extension Base64 {
    /// Unpadded standard base64 (RFC 4648 section 3.2: the padding left out), as age writes
    /// stanza arguments, stanza bodies and the header's code.
    public static func encodeUnpadded<Bytes: BytesView>(_ bytes: Bytes) -> String {
        var text = encode(bytes)
        while text.utf8.last == UInt8(ascii: "=") { text.removeLast() }
        return text
    }

    /// Decodes canonical unpadded standard base64: no `=`, no whitespace, nothing outside the
    /// alphabet, and the unused low bits of the last character zero (so every accepted string
    /// re-encodes to itself). Nil otherwise.
    public static func decodeUnpadded<C: Collection>(_ utf8: C) -> [UInt8]? where C.Element == UInt8 {
        guard utf8.count % 4 != 1, !utf8.contains(UInt8(ascii: "=")) else { return nil }
        var padded = Array(utf8)
        while padded.count % 4 != 0 { padded.append(UInt8(ascii: "=")) }
        return padded.withUnsafeBufferPointer { decode(utf8: $0) }
    }
}
