#if canImport(Glibc)
import Glibc // memchr
#endif
import VaultCrypto

extension Minisign {
    /// `ED`: Ed25519 over BLAKE2b-512 of the message (minisign's default since 0.8).
    public static let prehashedAlgorithm = "ED"
    /// `Ed`: Ed25519 over the message itself (legacy minisign signatures).
    public static let legacyAlgorithm = "Ed"
    /// `trusted comment: `
    public static let trustedCommentPrefix = "trusted comment: "
    /// The longest trusted comment minisign reads: its line, with the prefix and the line
    /// break, fills at most 8,191 bytes (`TRUSTEDCOMMENTMAXBYTES`, a NUL kept), measured with
    /// minisign 0.11 here. A longer one is refused, read or written, so that what avault signs
    /// and accepts `minisign -V` accepts too.
    public static let trustedCommentLimit = 8191 - 17 - 1
    /// The longest untrusted comment minisign reads: its line fills at most 1,023 bytes
    /// (`COMMENTMAXBYTES`), measured likewise.
    public static let untrustedCommentLimit = 1023 - 19 - 1

    /// A minisign signature: the four lines of a `.minisig` file, or an embedded entry.
    public struct Signature: Equatable, Sendable {
        /// `ED` (prehashed) or `Ed` (legacy).
        public var algorithm: String
        public var keyID: KeyID
        /// The 64-byte Ed25519 signature.
        public var signature: [UInt8]
        /// The trusted comment, without its prefix; covered by ``globalSignature``.
        public var trustedComment: String
        /// Ed25519 over `signature ‖ trustedComment`.
        public var globalSignature: [UInt8]
        /// The untrusted comment (not authenticated).
        public var untrustedComment: String

        public init(algorithm: String, keyID: KeyID, signature: [UInt8], trustedComment: String,
                    globalSignature: [UInt8], untrustedComment: String = "signature from avault secret key") {
            self.algorithm = algorithm; self.keyID = keyID; self.signature = signature
            self.trustedComment = trustedComment; self.globalSignature = globalSignature
            self.untrustedComment = untrustedComment
        }

        /// Line 2 of a `.minisig`: base64 of algorithm ‖ key id ‖ signature.
        public var signatureLine: String { Base64.encode(Array(algorithm.utf8) + keyID.bytes + signature) }
        /// Line 4: base64 of the global signature.
        public var globalSignatureLine: String { Base64.encode(globalSignature) }

        /// The `.minisig` file, as minisign writes it.
        public var fileText: String {
            "\(commentPrefix)\(untrustedComment)\n\(signatureLine)\n\(trustedCommentPrefix)\(trustedComment)\n\(globalSignatureLine)\n"
        }

        /// The bytes the global signature covers.
        public var globalMessage: [UInt8] {
            var comment = trustedComment
            // (Reserved and appended: `[UInt8](unsafeUninitializedCapacity:)` allocates through the
            // standard library's unspecialised path.)
            var out: [UInt8] = []
            comment.withUTF8 { text in
                out.reserveCapacity(signature.count + text.count)
                out.append(contentsOf: signature)
                out.append(contentsOf: text)
            }
            return out
        }

        /// Builds a signature from line 2, the trusted comment and line 4 (an embedded entry).
        public init(signatureLine: Substring, trustedComment: String, globalSignatureLine: Substring,
                    untrustedComment: String = "") throws(FormatError) {
            // (Public data, decoded in Swift: see Base64.decodePublic.)
            guard let raw = Base64.decodePublic(signatureLine), raw.count == 74 else {
                throw .invalidSignature("the signature is not base64 of 74 bytes")
            }
            let algorithm = String(decoding: raw[0..<2], as: UTF8.self)
            guard algorithm == prehashedAlgorithm || algorithm == legacyAlgorithm else {
                throw .invalidSignature("unsupported signature algorithm (expected ED or Ed)")
            }
            guard let global = Base64.decodePublic(globalSignatureLine), global.count == 64 else {
                throw .invalidSignature("the global signature is not base64 of 64 bytes")
            }
            guard !Self.hasLineBreak(trustedComment) else {
                throw .invalidSignature("the trusted comment spans several lines")
            }
            guard trustedComment.utf8.count <= Minisign.trustedCommentLimit else {
                throw .invalidSignature("the trusted comment is longer than minisign reads (\(Minisign.trustedCommentLimit) bytes)")
            }
            guard untrustedComment.utf8.count <= Minisign.untrustedCommentLimit else {
                throw .invalidSignature("the untrusted comment is longer than minisign reads (\(Minisign.untrustedCommentLimit) bytes)")
            }
            // A CR left at the end of line 1 (after the line ending's own CR) would be read as
            // part of the line ending once the file is written again.
            guard !Self.hasLineBreak(untrustedComment) else {
                throw .invalidSignature("the untrusted comment spans several lines")
            }
            self.init(algorithm: algorithm, keyID: KeyID(bytes: Array(raw[2..<10])), signature: Array(raw[10..<74]),
                      trustedComment: trustedComment, globalSignature: global, untrustedComment: untrustedComment)
        }

        /// Parses the bytes of a `.minisig` file, which must be UTF-8: minisign takes any bytes in
        /// a comment, but read as text a byte that is not UTF-8 would change (U+FFFD), and the
        /// signature then fail as if the comment had been altered.
        public init(parsing bytes: [UInt8]) throws(FormatError) {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw .invalidSignature("the file is not UTF-8 (avault reads a signature's comments as UTF-8 text; minisign takes any bytes)")
            }
            try self.init(parsing: text)
        }

        /// Parses a `.minisig` file (LF or CRLF line endings).
        public init(parsing text: String) throws(FormatError) {
            var lines = TextLines.split(text, stripCR: true)
            while lines.last?.isEmpty == true { lines.removeLast() }
            guard lines.count == 4 else { throw .invalidSignature("a .minisig file has 4 lines, this one \(lines.count)") }
            guard let untrusted = TextLines.value(lines[0], after: commentPrefix) else {
                throw .invalidSignature("line 1 must start with '\(commentPrefix)'")
            }
            guard let trusted = TextLines.value(lines[2], after: trustedCommentPrefix) else {
                throw .invalidSignature("line 3 must start with '\(trustedCommentPrefix)'")
            }
            try self.init(signatureLine: lines[1], trustedComment: String(trusted),
                          globalSignatureLine: lines[3], untrustedComment: String(untrusted))
        }

        /// Whether `text` holds a LF or a CR.
        private static func hasLineBreak(_ text: String) -> Bool {
            var text = text
            return text.withUTF8 { utf8 in
                guard let base = utf8.baseAddress else { return false }
                return memchr(base, 0x0A, utf8.count) != nil || memchr(base, 0x0D, utf8.count) != nil
            }
        }

        /// The TAB-separated fields of the trusted comment (`timestamp:…`, `canon:…`, `file:…`).
        /// (Split on the TAB byte, not on characters: a TAB followed by a combining mark is one
        /// `Character` but still two fields.)
        public var trustedCommentFields: [String] {
            trustedComment.utf8.split(separator: 0x09, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        }

        /// The fields of the trusted comment (see ``trustedCommentFields``) that have `prefix`,
        /// as `String.hasPrefix` has it.
        public func trustedCommentFields(withPrefix prefix: String) -> [String] {
            var found: [String] = []
            forEachTrustedCommentField(withPrefix: prefix) { found.append(String(decoding: $0, as: UTF8.self)) }
            return found
        }

        /// How many fields ``trustedCommentFields(withPrefix:)`` gives, without making them.
        public func trustedCommentFieldCount(withPrefix prefix: String) -> Int {
            var count = 0
            forEachTrustedCommentField(withPrefix: prefix) { _ in count += 1 }
            return count
        }

        /// Calls `body` with the UTF-8 of each field ``trustedCommentFields(withPrefix:)`` gives.
        private func forEachTrustedCommentField(withPrefix prefix: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
            var comment = trustedComment, prefix = prefix
            comment.withUTF8 { c in
                prefix.withUTF8 { p in
                    var start = 0
                    while start <= c.count {
                        var end = start
                        var high: UInt8 = 0
                        while end < c.count && c[end] != 0x09 { high |= c[end]; end += 1 }
                        let field = UnsafeBufferPointer(rebasing: c[start..<end])
                        // ASCII text has a prefix exactly when its bytes start with the prefix's
                        // (ASCII) bytes, unless the prefix ends in a CR (CRLF is one character);
                        // anything else is left to String.
                        if high < 0x80 && p.allSatisfy({ $0 < 0x80 }) && p.last != 0x0D {
                            if field.starts(with: p) { body(field) }
                        } else {
                            let text = String(decoding: field, as: UTF8.self)
                            if text.hasPrefix(String(decoding: p, as: UTF8.self)) { body(field) }
                        }
                        start = end + 1
                    }
                }
            }
        }

        /// Whether a field of the trusted comment starts with the bytes `timestamp:` (the field
        /// ``timestamp`` reads, whether or not it reads as a number).
        public var hasTimestampField: Bool {
            trustedComment.utf8.split(separator: 0x09, omittingEmptySubsequences: false).contains { $0.starts(with: "timestamp:".utf8) }
        }

        /// ``timestamp`` when it is a time RFC 3339 can write (the years 0000 to 9999,
        /// ``RFC3339/representable``); nil otherwise. The only time a verifier reports or
        /// compares (record signatures, detached ones, signed vault log heads).
        public var representableTimestamp: Int64? {
            timestamp.flatMap { RFC3339.representable.contains($0) ? $0 : nil }
        }

        /// Whether the trusted comment has a `timestamp:` field that is no time in the years
        /// 0000 to 9999 (not a number, or out of that range; ``representableTimestamp`` is nil):
        /// such a field is unreadable, not absent, and once the comment is authenticated, a
        /// trusted key's signature with one is invalid.
        public var hasUnreadableTimestamp: Bool {
            representableTimestamp == nil && hasTimestampField
        }

        /// The Unix time in a `timestamp:<seconds>` field of the trusted comment, if any: the
        /// first field that starts with `timestamp:`, read as `Int64.init(_:)` reads text
        /// (an optional sign, then decimal digits, within range), nil when it does not read.
        public var timestamp: Int64? {
            var comment = trustedComment
            return comment.withUTF8 { c -> Int64? in
                let prefix: StaticString = "timestamp:"
                let p = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
                var start = 0
                while start < c.count {
                    var end = start
                    while end < c.count && c[end] != 0x09 { end += 1 }
                    let field = UnsafeBufferPointer(rebasing: c[start..<end])
                    if field.starts(with: p) { return Self.int64(UnsafeBufferPointer(rebasing: field[p.count...])) }
                    start = end + 1
                }
                return nil
            }
        }

        /// `Int64(String(decoding: digits, as: UTF8.self))`, without the string.
        static func int64(_ digits: UnsafeBufferPointer<UInt8>) -> Int64? {
            var i = 0
            var negative = false
            if let first = digits.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
                negative = first == UInt8(ascii: "-")
                i = 1
            }
            guard i < digits.count else { return nil }
            var magnitude: UInt64 = 0
            while i < digits.count {
                let d = digits[i] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(d))
                guard !o1, !o2 else { return nil }
                magnitude = a
                i += 1
            }
            if negative { return magnitude <= 1 << 63 ? Int64(bitPattern: 0 &- magnitude) : nil }
            return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
        }
    }
}
