#if canImport(Glibc)
import Glibc // memchr
#endif
/// Line handling for avault's text formats, done on UTF-8 bytes: Swift's `Character`-level
/// operations would treat CRLF as one character and merge a combining mark into the
/// character before it, so a split or prefix test could miss what is plainly in the bytes.
public enum TextLines {
    /// `text` split at every LF byte (empty pieces kept); with `stripCR`, one CR byte at the
    /// end of each piece is dropped.
    public static func split(_ text: some StringProtocol, stripCR: Bool) -> [Substring] {
        let whole = Substring(text)
        let utf8 = whole.utf8
        // The byte ranges of the lines, found on contiguous storage when there is one (a
        // large index or log: the scan of a generic view costs more than the rest).
        let ranges: [Range<Int>]? = utf8.withContiguousStorageIfAvailable { bytes in
            var found: [Range<Int>] = []
            var start = 0
            while true {
                var i = bytes.count
                if let base = bytes.baseAddress, start < bytes.count,
                   let hit = memchr(base + start, 0x0A, bytes.count - start) {
                    i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                }
                var end = i
                if stripCR, end > start, bytes[end - 1] == 0x0D { end -= 1 }
                found.append(start..<end)
                if i == bytes.count { return found }
                start = i + 1
            }
        }
        if let ranges {
            let base = utf8.startIndex
            return ranges.map { whole[utf8.index(base, offsetBy: $0.lowerBound)..<utf8.index(base, offsetBy: $0.upperBound)] }
        }
        var lines: [Substring] = []
        var start = utf8.startIndex
        while true {
            let end = utf8[start...].firstIndex(of: 0x0A) ?? utf8.endIndex
            var lineEnd = end
            if stripCR, lineEnd > start, utf8[utf8.index(before: lineEnd)] == 0x0D { lineEnd = utf8.index(before: lineEnd) }
            lines.append(whole[start..<lineEnd])
            guard end < utf8.endIndex else { break }
            start = utf8.index(after: end)
        }
        return lines
    }

    /// `text` split at every `byte`, an ASCII separator (empty pieces kept), on the UTF-8 bytes
    /// as lines are: a separator followed by a combining mark still separates, and no
    /// `Character` is formed (which was most of the cost of reading a keyring).
    public static func split(_ text: Substring, at byte: UInt8) -> [Substring] {
        precondition(byte < 0x80, "an ASCII separator")
        let utf8 = text.utf8
        var pieces: [Substring] = []
        var start = utf8.startIndex
        while let end = utf8[start...].firstIndex(of: byte) {
            pieces.append(text[start..<end])
            start = utf8.index(after: end)
        }
        pieces.append(text[start...])
        return pieces
    }

    /// The index of the first `byte` in `text`, searched on contiguous storage when there is one.
    public static func firstIndex(of byte: UInt8, in text: Substring) -> String.Index? {
        let utf8 = text.utf8
        if let offset = utf8.withContiguousStorageIfAvailable({ $0.firstIndex(of: byte) }) {
            return offset.map { utf8.index(utf8.startIndex, offsetBy: $0) }
        }
        return utf8.firstIndex(of: byte)
    }

    /// What follows `prefix` in `line`, compared byte for byte; nil if `line` does not start with it.
    public static func value(_ line: Substring, after prefix: String) -> Substring? {
        guard line.utf8.starts(with: prefix.utf8) else { return nil }
        return line[line.utf8.index(line.utf8.startIndex, offsetBy: prefix.utf8.count)...]
    }

    /// The UTF-8 bytes of `text`, copied in one piece when the string has contiguous storage
    /// (the element-by-element copy of a substring's view is several times slower).
    public static func bytes(of text: some StringProtocol) -> [UInt8] {
        text.utf8.withContiguousStorageIfAvailable { Array($0) } ?? Array(text.utf8)
    }

    /// `line` split at its first space byte.
    public static func splitAtFirstSpace(_ line: Substring) -> (Substring, Substring?) {
        guard let space = line.utf8.firstIndex(of: 0x20) else { return (line, nil) }
        return (line[..<space], line[line.utf8.index(after: space)...])
    }
}

extension TextLines {
    /// How a character that must not appear as it is (a control, an invisible one) is written
    /// in text avault shows or signs: `\n`, `\r` and `\t` by name, any other below U+0100 as
    /// `\xNN`, the rest as `\u{HEX}` (uppercase hex).
    public static func escape(_ s: Unicode.Scalar) -> String {
        switch s {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
            let hex = String(s.value, radix: 16, uppercase: true)
            return s.value < 0x100 ? "\\x" + (hex.count == 1 ? "0" : "") + hex : "\\u{" + hex + "}"
        }
    }
}
