/// Line handling for avault's text formats, done on UTF-8 bytes: Swift's `Character`-level
/// operations would treat CRLF as one character and merge a combining mark into the
/// character before it, so a split or prefix test could miss what is plainly in the bytes.
public enum TextLines {
    /// `text` split at every LF byte (empty pieces kept); with `stripCR`, one CR byte at the
    /// end of each piece is dropped.
    public static func split(_ text: some StringProtocol, stripCR: Bool) -> [Substring] {
        let whole = Substring(text)
        let utf8 = whole.utf8
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

    /// What follows `prefix` in `line`, compared byte for byte; nil if `line` does not start with it.
    public static func value(_ line: Substring, after prefix: String) -> Substring? {
        guard line.utf8.starts(with: prefix.utf8) else { return nil }
        return line[line.utf8.index(line.utf8.startIndex, offsetBy: prefix.utf8.count)...]
    }

    /// `line` split at its first space byte.
    public static func splitAtFirstSpace(_ line: Substring) -> (Substring, Substring?) {
        guard let space = line.utf8.firstIndex(of: 0x20) else { return (line, nil) }
        return (line[..<space], line[line.utf8.index(after: space)...])
    }
}
