import VaultCrypto

extension Minisign {
    /// `ED`: Ed25519 over BLAKE2b-512 of the message (minisign's default since 0.8).
    public static let prehashedAlgorithm = "ED"
    /// `Ed`: Ed25519 over the message itself (legacy minisign signatures).
    public static let legacyAlgorithm = "Ed"
    /// `trusted comment: `
    public static let trustedCommentPrefix = "trusted comment: "

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
        public var globalMessage: [UInt8] { signature + Array(trustedComment.utf8) }

        /// Builds a signature from line 2, the trusted comment and line 4 (an embedded entry).
        public init(signatureLine: Substring, trustedComment: String, globalSignatureLine: Substring,
                    untrustedComment: String = "") throws(FormatError) {
            guard let raw = try? Base64.decode(signatureLine), raw.count == 74 else {
                throw .invalidSignature("the signature is not base64 of 74 bytes")
            }
            let algorithm = String(decoding: raw[0..<2], as: UTF8.self)
            guard algorithm == prehashedAlgorithm || algorithm == legacyAlgorithm else {
                throw .invalidSignature("unsupported signature algorithm (expected ED or Ed)")
            }
            guard let global = try? Base64.decode(globalSignatureLine), global.count == 64 else {
                throw .invalidSignature("the global signature is not base64 of 64 bytes")
            }
            guard !trustedComment.utf8.contains(0x0A), !trustedComment.utf8.contains(0x0D) else {
                throw .invalidSignature("the trusted comment spans several lines")
            }
            // A CR left at the end of line 1 (after the line ending's own CR) would be read as
            // part of the line ending once the file is written again.
            guard !untrustedComment.utf8.contains(0x0A), !untrustedComment.utf8.contains(0x0D) else {
                throw .invalidSignature("the untrusted comment spans several lines")
            }
            self.init(algorithm: algorithm, keyID: KeyID(bytes: Array(raw[2..<10])), signature: Array(raw[10..<74]),
                      trustedComment: trustedComment, globalSignature: global, untrustedComment: untrustedComment)
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

        /// The TAB-separated fields of the trusted comment (`timestamp:…`, `canon:…`, `file:…`).
        /// (Split on the TAB byte, not on characters: a TAB followed by a combining mark is one
        /// `Character` but still two fields.)
        public var trustedCommentFields: [String] {
            trustedComment.utf8.split(separator: 0x09, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        }

        /// The Unix time in a `timestamp:<seconds>` field of the trusted comment, if any.
        public var timestamp: Int64? {
            let prefix = Array("timestamp:".utf8)
            for field in trustedComment.utf8.split(separator: 0x09) where field.starts(with: prefix) {
                return Int64(String(decoding: field.dropFirst(prefix.count), as: UTF8.self))
            }
            return nil
        }
    }
}
