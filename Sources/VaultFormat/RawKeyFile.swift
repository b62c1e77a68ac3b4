public import VaultCrypto

/// A raw symmetric key file: the key as hex (32, 48 or 64 digits) or strict standard
/// base64 (of 16, 24 or 32 bytes), with surrounding ASCII whitespace ignored.
///
/// When the text is entirely hex digits of a valid hex length it is read as hex.
/// Errors never repeat the file's contents.
public enum RawKeyFile {
    /// Accepted key sizes in bytes.
    public static let keySizes: Set<Int> = [16, 24, 32]

    /// Parses the contents of a key file into secret memory. The caller wipes `contents`.
    public static func parse(_ contents: [UInt8]) throws(FormatError) -> SecretBytes {
        var start = contents.startIndex
        var end = contents.endIndex
        while start < end, isSpace(contents[start]) { start += 1 }
        while end > start, isSpace(contents[end - 1]) { end -= 1 }
        if start == end { throw .invalidKeyFile("the file is empty") }
        var text = Array(contents[start..<end])
        defer { wipe(&text) }

        if text.contains(where: isSpace) {
            throw .invalidKeyFile("whitespace inside the key (the file must hold one key on one line)")
        }
        if keySizes.contains(text.count / 2), text.count % 2 == 0, text.allSatisfy(isHexDigit) {
            if let key = try? Hex.decodeSecret(utf8: text) { return key }
        }
        guard let key = try? Base64.decodeSecret(utf8: text) else {
            throw .invalidKeyFile("expected 32, 48 or 64 hex digits, or standard base64 of 16, 24 or 32 bytes")
        }
        guard keySizes.contains(key.count) else {
            throw .invalidKeyFile("the key is \(key.count) bytes, expected 16, 24 or 32")
        }
        return key
    }

    /// Serialises a key as lowercase hex and a newline, the form `avault` writes.
    public static func serialize(_ key: SecretBytes) -> String {
        key.withUnsafeBytes { Hex.encode($0) } + "\n"
    }

    private static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (0x30...0x39).contains(c) || (0x41...0x46).contains(c) || (0x61...0x66).contains(c)
    }
}
