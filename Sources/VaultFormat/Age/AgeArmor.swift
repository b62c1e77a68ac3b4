import VaultCrypto
#if canImport(Glibc)
import Glibc
#endif

/// age's ASCII armor: PEM with the type `AGE ENCRYPTED FILE`, strict padded standard base64 in
/// 64-column lines (the last one shorter, or a full one followed directly by the end line), no
/// PEM headers. Read exactly as age's armor reader and the CCTV vectors read it (the `age` 1.1.1
/// command refuses whitespace before the begin line): up to 1,024 bytes of whitespace-only lines before
/// the begin line, one CR before each LF tolerated, nothing but up to 1,023 bytes of whitespace
/// after the end line.
public enum AgeArmor {
    /// The begin line.
    public static let begin = "-----BEGIN AGE ENCRYPTED FILE-----"
    /// The end line.
    public static let end = "-----END AGE ENCRYPTED FILE-----"
    /// Columns of a full line; bytes it holds.
    public static let columns = 64, bytesPerLine = 48
    /// The most whitespace accepted before the begin line and after the end line.
    public static let maximumWhitespace = 1024

    static func isWhitespace(_ c: UInt8) -> Bool { c == 0x20 || (0x09...0x0D).contains(c) }

    /// Whether `prefix` (the first bytes of an input) starts an armored file: optional
    /// whitespace, then the begin line. False when it starts with anything else; the caller
    /// gives enough bytes (the whole input, or at least ``maximumWhitespace`` + the begin line).
    public static func looksArmored<C: Collection>(_ prefix: C) -> Bool where C.Element == UInt8 {
        let trimmed = prefix.drop(while: isWhitespace)
        let marker = Array(begin.utf8)
        return trimmed.starts(with: marker)
    }

    /// A streaming armor decoder: give it the armored text piece by piece (``decode(_:)``), then
    /// call ``finish()``. Errors are ``AgeFormatError/armor(_:)``; once one is thrown the decoder
    /// is spent.
    public struct Decoder: Sendable {
        private enum State: Sendable { case leading, body, expectEnd, trailing, done, failed }
        private var state = State.leading
        private var line: [UInt8] = []
        private var leadingWhitespace = 0
        private var trailing = 0

        public init() {}

        /// Whether the end line has been read (the armored data is complete).
        public var sawEnd: Bool { state == .trailing || state == .done }

        /// Decodes the next piece of armored text; returns the bytes it completes.
        public mutating func decode<C: Collection>(_ piece: C) throws(AgeFormatError) -> [UInt8] where C.Element == UInt8 {
            let bytes = Array(piece)
            var out: [UInt8] = []
            var failure: AgeFormatError?
            bytes.withUnsafeBytes { raw in
                do throws(AgeFormatError) { out = try decode(raw) } catch { failure = error }
            }
            if let failure { throw failure }
            return out
        }

        /// Decodes the next piece of armored text; returns the bytes it completes.
        public mutating func decode(_ piece: UnsafeRawBufferPointer) throws(AgeFormatError) -> [UInt8] {
            var out: [UInt8] = []
            var i = 0
            while i < piece.count {
                if state == .trailing {
                    let c = piece[i]
                    i += 1
                    trailing += 1
                    guard isWhitespace(c) else { state = .failed; throw .armor("data after the end line") }
                    guard trailing < maximumWhitespace else { state = .failed; throw .armor("too much whitespace after the end line") }
                    continue
                }
                guard state != .failed, state != .done else { throw .armor("decoder used after it finished") }
                let base = piece.baseAddress!
                let newline = memchr(base + i, 0x0A, piece.count - i)
                let lineEnd = newline.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? piece.count
                // Long enough to be wrong whatever follows (lines are trimmed of one CR only).
                let limit = state == .leading ? maximumWhitespace + 1 : max(columns, end.utf8.count) + 1
                if line.count + (lineEnd - i) > limit {
                    let leading = state == .leading
                    state = .failed
                    throw .armor(leading ? "too much whitespace before the begin line" : "a line longer than \(columns) columns")
                }
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: piece[i..<lineEnd]))
                if newline != nil {
                    try endLine(into: &out)
                    line.removeAll(keepingCapacity: true)
                    i = lineEnd + 1
                } else {
                    i = lineEnd
                }
            }
            return out
        }

        /// The input ended: decodes what is left and checks that the armor was complete.
        public mutating func finish() throws(AgeFormatError) -> [UInt8] {
            var out: [UInt8] = []
            if state != .trailing, state != .done, !line.isEmpty {
                // A last line without a newline counts as a line.
                try endLine(into: &out)
                line.removeAll()
            }
            guard state == .trailing || state == .done else {
                state = .failed
                throw .armor("the input ends before the end line")
            }
            state = .done
            return out
        }

        private mutating func endLine(into out: inout [UInt8]) throws(AgeFormatError) {
            var text = line[...]
            if text.last == 0x0D { text = text.dropLast() }
            switch state {
            case .leading:
                if text.allSatisfy(AgeArmor.isWhitespace) {
                    leadingWhitespace += text.count + 1
                    guard leadingWhitespace <= AgeArmor.maximumWhitespace else {
                        state = .failed; throw .armor("too much whitespace before the begin line")
                    }
                    return
                }
                guard text.elementsEqual(AgeArmor.begin.utf8) else { state = .failed; throw .armor("the first line is not '\(AgeArmor.begin)'") }
                state = .body
            case .body:
                if text.elementsEqual(AgeArmor.end.utf8) { state = .trailing; return }
                guard text.count <= AgeArmor.columns else { state = .failed; throw .armor("a line longer than \(AgeArmor.columns) columns") }
                // An empty line is no base64 line: after full lines the end line must follow directly.
                guard !text.isEmpty else { state = .failed; throw .armor("an empty line inside the armor") }
                guard let decoded = try? Base64.decode(String(decoding: text, as: UTF8.self)) else {
                    state = .failed; throw .armor("a line that is not canonical padded base64")
                }
                out.append(contentsOf: decoded)
                if decoded.count < AgeArmor.bytesPerLine { state = .expectEnd }
            case .expectEnd:
                guard text.elementsEqual(AgeArmor.end.utf8) else { state = .failed; throw .armor("a short line not followed by the end line") }
                state = .trailing
            case .trailing, .done, .failed:
                state = .failed
                throw .armor("unexpected line")
            }
        }
    }

    /// A streaming armor encoder: ``encode(_:)`` the data piece by piece, then ``finish()``.
    /// Writes what age writes: the begin line, 64-column lines, the end line, each ending in LF.
    public struct Encoder: Sendable {
        private var pending: [UInt8] = []
        private var started = false
        public init() {}

        /// The armored text for the next piece of data (whole lines only).
        public mutating func encode<C: Collection>(_ piece: C) -> [UInt8] where C.Element == UInt8 {
            var out: [UInt8] = []
            if !started { out.append(contentsOf: Array((AgeArmor.begin + "\n").utf8)); started = true }
            pending.append(contentsOf: piece)
            var i = 0
            while pending.count - i > AgeArmor.bytesPerLine {
                out.append(contentsOf: Array(Base64.encode(pending[i..<(i + AgeArmor.bytesPerLine)]).utf8)); out.append(0x0A)
                i += AgeArmor.bytesPerLine
            }
            pending.removeFirst(i)
            return out
        }

        /// The rest: the last line (at most 64 columns) and the end line.
        public mutating func finish() -> [UInt8] {
            var out: [UInt8] = []
            if !started { out.append(contentsOf: Array((AgeArmor.begin + "\n").utf8)); started = true }
            if !pending.isEmpty { out.append(contentsOf: Array(Base64.encode(pending).utf8)); out.append(0x0A) }
            pending.removeAll()
            out.append(contentsOf: Array((AgeArmor.end + "\n").utf8))
            return out
        }
    }
}
