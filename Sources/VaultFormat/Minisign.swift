public import VaultCrypto

/// minisign's file formats (public keys, secret keys), byte for byte as `minisign` 0.11
/// reads and writes them. Pure parse and serialise; the scrypt and XOR steps of a protected
/// secret key live in `ArticleVault`.
public enum Minisign {
    /// `untrusted comment: `
    public static let commentPrefix = "untrusted comment: "
    /// scrypt limits minisign uses when it encrypts a secret key (`*_SENSITIVE`).
    public static let defaultOpsLimit: UInt64 = 33_554_432
    public static let defaultMemLimit: UInt64 = 1_073_741_824

    /// A minisign key id: 8 bytes as stored in files.
    public struct KeyID: Hashable, Sendable, CustomStringConvertible {
        public let bytes: [UInt8]
        public init(bytes: [UInt8]) {
            precondition(bytes.count == 8)
            self.bytes = bytes
        }
        /// Parses a printed id: the little-endian number in hex, 1 to 16 digits (minisign drops
        /// leading zeros), either case.
        public init?(printed: some StringProtocol) {
            let count = printed.utf8.count
            guard (1...16).contains(count), let raw = try? Hex.decode(String(repeating: "0", count: 16 - count) + printed) else { return nil }
            self.bytes = raw.reversed()
        }
        /// The id in avault's files and output: the 8 bytes read as a little-endian number, in
        /// 16 uppercase hex digits.
        public var printed: String {
            String(unsafeUninitializedCapacity: 16) { out in
                let digits: StaticString = "0123456789ABCDEF"
                for (i, b) in bytes.reversed().enumerated() {
                    out[2 * i] = digits.utf8Start[Int(b >> 4)]
                    out[2 * i + 1] = digits.utf8Start[Int(b & 0x0F)]
                }
                return 16
            }
        }
        /// Whether `text == printed`, without making ``printed``: an all-ASCII text compares by
        /// bytes (no other text is canonically equivalent to ASCII hex digits), anything else as
        /// `String` does.
        public func isPrinted(as text: String) -> Bool {
            var text = text
            let ascii: Bool? = text.withUTF8 { t in
                guard t.allSatisfy({ $0 < 0x80 }) else { return nil }
                guard t.count == 16 else { return false }
                let digits: StaticString = "0123456789ABCDEF"
                for (i, b) in bytes.reversed().enumerated()
                where t[2 * i] != digits.utf8Start[Int(b >> 4)] || t[2 * i + 1] != digits.utf8Start[Int(b & 0x0F)] {
                    return false
                }
                return true
            }
            return ascii ?? (printed == text)
        }

        /// The id exactly as minisign prints it (`%PRIX64`: no leading zeros), as in the comment
        /// of a `.pub` file.
        public var minisignText: String {
            String(bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }, radix: 16, uppercase: true)
        }
        public var description: String { printed }
    }

    /// A public key file: `untrusted comment: …` then base64 of `Ed` ‖ key id ‖ public key.
    public struct PublicKey: Equatable, Sendable {
        public var keyID: KeyID
        public var key: [UInt8]
        public init(keyID: KeyID, key: [UInt8]) {
            precondition(key.count == 32)
            self.keyID = keyID; self.key = key
        }

        /// The base64 line (what `minisign -P` takes).
        public var line: String { Base64.encode(Array("Ed".utf8) + keyID.bytes + key) }

        /// The whole file, as `minisign -G` writes it.
        public var fileText: String {
            "\(commentPrefix)minisign public key \(keyID.minisignText)\n\(line)\n"
        }

        /// Parses a public key file (comment line and key line) or a bare key line.
        public init(parsing text: String) throws(FormatError) {
            var lines = TextLines.split(text, stripCR: true)
            while lines.last?.isEmpty == true { lines.removeLast() }
            if lines.count == 2 {
                guard TextLines.value(lines[0], after: commentPrefix) != nil else {
                    throw .invalidMinisign("a public key file starts with '\(commentPrefix)'")
                }
                lines.removeFirst()
            }
            guard lines.count == 1 else { throw .invalidMinisign("expected a comment line and a key line") }
            try self.init(line: lines[0])
        }

        /// Parses the base64 key line.
        public init(line: Substring) throws(FormatError) {
            guard let raw = try? Base64.decode(line), raw.count == 42 else {
                throw .invalidMinisign("the public key is not base64 of 42 bytes")
            }
            guard raw[0] == UInt8(ascii: "E"), raw[1] == UInt8(ascii: "d") else {
                throw .invalidMinisign("unsupported public key algorithm (expected Ed)")
            }
            self.init(keyID: KeyID(bytes: Array(raw[2..<10])), key: Array(raw[10..<42]))
        }
    }

    /// A secret key file's fields. `keynumSK` is `key id ‖ secret key (64) ‖ checksum (32)`,
    /// XORed with an scrypt stream when `kdf` is `Sc`.
    public struct SecretKeyFile: Sendable {
        public enum KDF: Equatable, Sendable { case none, scrypt }
        public var comment: String
        public var kdf: KDF
        public var salt: [UInt8]
        public var opsLimit: UInt64
        public var memLimit: UInt64
        /// 104 bytes; secret when `kdf` is `.none`.
        public var keynumSK: SecretBytes

        public init(comment: String, kdf: KDF, salt: [UInt8], opsLimit: UInt64, memLimit: UInt64, keynumSK: SecretBytes) {
            precondition(salt.count == 32 && keynumSK.count == 104)
            self.comment = comment; self.kdf = kdf; self.salt = salt
            self.opsLimit = opsLimit; self.memLimit = memLimit; self.keynumSK = keynumSK
        }

        /// Parses a minisign secret key file. Errors never quote the key.
        public init(parsing contents: [UInt8]) throws(FormatError) {
            var lines = contents.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            while let last = lines.last, last.isEmpty { lines.removeLast() }
            guard lines.count == 2 else { throw .invalidMinisign("a secret key file has a comment line and a key line") }
            let commentLine = lines[0].last == UInt8(ascii: "\r") ? lines[0].dropLast() : lines[0]
            var keyLine = Array(lines[1].last == UInt8(ascii: "\r") ? lines[1].dropLast() : lines[1])
            defer { wipe(&keyLine) }
            guard let comment = String(validating: commentLine, as: UTF8.self), comment.hasPrefix(commentPrefix) else {
                throw .invalidMinisign("a secret key file starts with '\(commentPrefix)'")
            }
            // A CR left in the comment (after the line ending's own CR) would be read as part of
            // the line ending once the file is written again.
            guard !commentLine.contains(UInt8(ascii: "\r")) else {
                throw .invalidMinisign("the comment line of a secret key file holds a carriage return")
            }
            guard let raw = try? Base64.decodeSecret(utf8: keyLine), raw.count == 158 else {
                throw .invalidMinisign("the secret key is not base64 of 158 bytes")
            }
            var header = raw.withUnsafeBytes { Array($0[0..<54]) }
            defer { wipe(&header) }
            guard header[0] == UInt8(ascii: "E"), header[1] == UInt8(ascii: "d") else {
                throw .invalidMinisign("unsupported signature algorithm (expected Ed)")
            }
            let kdf: KDF
            switch (header[2], header[3]) {
            case (0, 0): kdf = .none
            case (UInt8(ascii: "S"), UInt8(ascii: "c")): kdf = .scrypt
            default: throw .invalidMinisign("unsupported key derivation (expected Sc or none)")
            }
            guard header[4] == UInt8(ascii: "B"), header[5] == UInt8(ascii: "2") else {
                throw .invalidMinisign("unsupported checksum algorithm (expected B2)")
            }
            func le64(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(header[at + $1]) << (8 * UInt64($1)) } }
            self.init(comment: String(comment.dropFirst(commentPrefix.count)), kdf: kdf, salt: Array(header[6..<38]),
                      opsLimit: le64(38), memLimit: le64(46), keynumSK: raw.slice(54..<158))
        }

        /// The file text. The caller wipes the result once written.
        public func serialized() -> [UInt8] {
            var raw = Array("Ed".utf8) + (kdf == .scrypt ? Array("Sc".utf8) : [0, 0]) + Array("B2".utf8) + salt
            for v in [opsLimit, memLimit] { raw += (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
            keynumSK.withUnsafeBytes { raw += $0 }
            defer { wipe(&raw) }
            return Array((commentPrefix + comment + "\n").utf8) + Array(Base64.encode(raw).utf8) + [UInt8(ascii: "\n")]
        }
    }
}
