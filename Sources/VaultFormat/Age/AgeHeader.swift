import VaultCrypto

/// Why bytes are not a well-formed age file (the header) or age ASCII armor. Messages are one
/// lowercase line; none quotes a secret.
public enum AgeFormatError: Error, Equatable, Sendable {
    /// The header is malformed; the string says how.
    case header(String)
    /// The ASCII armor is malformed; the string says how.
    case armor(String)
}

extension AgeFormatError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .header(let why): "malformed age header: \(why)"
        case .armor(let why): "malformed age armor: \(why)"
        }
    }
}

/// One recipient stanza of an age header: `-> TYPE ARG…` and a body.
public struct AgeStanza: Equatable, Sendable {
    /// The stanza's type (`X25519`, `scrypt`, or anything else, which readers skip).
    public var type: String
    /// Its arguments: each 1 or more of the printable ASCII characters `!`…`~`.
    public var arguments: [String]
    /// Its body (unpadded base64 in 64-column lines in the file).
    public var body: [UInt8]

    public init(type: String, arguments: [String], body: [UInt8]) {
        self.type = type; self.arguments = arguments; self.body = body
    }
}

/// The header of an age v1 file (age-encryption.org/v1, C2SP age.md), parsed as strictly as
/// age parses it: the version line, one or more stanzas, and the closing `--- MAC` line. Every
/// header that parses serialises back to the same bytes.
public struct AgeHeader: Equatable, Sendable {
    /// The version line, without its newline.
    public static let versionLine = "age-encryption.org/v1"
    /// Columns of a full body line (48 bytes of base64).
    public static let columns = 64
    /// The largest header the parser reads (a header of thousands of stanzas is not a file
    /// anyone meant; refusing it bounds memory).
    public static let maximumSize = 1 << 20

    /// The recipient stanzas, in order.
    public var stanzas: [AgeStanza]
    /// The header's code: HMAC-SHA-256 of ``bytesWithoutMAC()`` (32 bytes).
    public var mac: [UInt8]

    public init(stanzas: [AgeStanza], mac: [UInt8]) { self.stanzas = stanzas; self.mac = mac }

    /// What the code covers: the header up to and including `---` (no space, no code).
    public func bytesWithoutMAC() -> [UInt8] {
        var out = Array(Self.versionLine.utf8)
        out.append(0x0A)
        for s in stanzas {
            out.append(contentsOf: Array("->".utf8))
            for word in [s.type] + s.arguments {
                out.append(0x20)
                out.append(contentsOf: Array(word.utf8))
            }
            out.append(0x0A)
            let text = Array(Base64.encodeUnpadded(s.body).utf8)
            var i = 0
            while i + Self.columns <= text.count {
                out.append(contentsOf: text[i..<(i + Self.columns)]); out.append(0x0A)
                i += Self.columns
            }
            // The last line is short (possibly empty): a full last line is followed by an empty one.
            out.append(contentsOf: text[i...]); out.append(0x0A)
        }
        out.append(contentsOf: Array("---".utf8))
        return out
    }

    /// The whole header, with its closing line and newline.
    public func serialized() -> [UInt8] {
        bytesWithoutMAC() + Array(" \(Base64.encodeUnpadded(mac))\n".utf8)
    }

    /// Whether `word` is a valid type or argument: 1 or more of `!`…`~`.
    public static func isValidArgument<S: Sequence>(_ word: S) -> Bool where S.Element == UInt8 {
        var any = false
        for c in word { guard (33...126).contains(c) else { return false }; any = true }
        return any
    }

    /// What ``parse(_:atEnd:)`` found.
    public enum Parsed: Equatable, Sendable {
        /// A whole header, `length` bytes long: the payload starts there.
        case header(AgeHeader, length: Int)
        /// The bytes end inside the header; read more and call again.
        case incomplete
    }

    /// Parses the header at the start of `bytes`. `atEnd`: no more bytes will come, so a header
    /// cut short is an error rather than ``Parsed/incomplete``.
    public static func parse(_ bytes: UnsafeRawBufferPointer, atEnd: Bool) throws(AgeFormatError) -> Parsed {
        var position = 0
        /// The next line without its newline, or nil when the bytes end first.
        func nextLine() throws(AgeFormatError) -> Range<Int>? {
            var i = position
            while i < bytes.count, bytes[i] != 0x0A { i += 1 }
            guard i < bytes.count else {
                if i >= maximumSize { throw .header("the header is larger than \(maximumSize) bytes") }
                if atEnd { throw .header(position == 0 && bytes.isEmpty ? "the file is empty" : "the header ends without a newline") }
                return nil
            }
            if i + 1 > maximumSize { throw .header("the header is larger than \(maximumSize) bytes") }
            defer { position = i + 1 }
            return position..<i
        }
        func words(_ line: Range<Int>) -> [ArraySlice<UInt8>] {
            let slice = UnsafeRawBufferPointer(rebasing: bytes[line])
            return Array(slice).split(separator: 0x20, omittingEmptySubsequences: false)
        }

        guard let first = try nextLine() else { return .incomplete }
        guard bytes[first].elementsEqual(versionLine.utf8) else {
            if bytes[first].starts(with: "age-encryption.org/".utf8) { throw .header("unsupported version (expected '\(versionLine)')") }
            throw .header("not an age file (the first line is not '\(versionLine)')")
        }
        var stanzas: [AgeStanza] = []
        while true {
            guard let line = try nextLine() else { return .incomplete }
            let text = bytes[line]
            if text.starts(with: "---".utf8) {
                let parts = words(line)
                guard parts.count == 2, parts[0].elementsEqual("---".utf8) else {
                    throw .header("malformed closing line (expected '--- ' and the code)")
                }
                guard let mac = Base64.decodeUnpadded(parts[1]), mac.count == HMACSHA256.size else {
                    throw .header("malformed header code (expected unpadded base64 of 32 bytes)")
                }
                guard !stanzas.isEmpty else { throw .header("no recipient stanzas") }
                return .header(AgeHeader(stanzas: stanzas, mac: mac), length: position)
            }
            guard text.starts(with: "->".utf8) else { throw .header("unexpected line (expected a stanza '-> …' or the closing '--- …')") }
            let parts = words(line)
            guard parts[0].elementsEqual("->".utf8) else { throw .header("malformed stanza line (expected '-> ')") }
            guard parts.count >= 2 else { throw .header("a stanza without a type") }
            for p in parts.dropFirst() where !isValidArgument(p) {
                throw .header("a stanza argument that is empty or not printable ASCII")
            }
            var body: [UInt8] = []
            while true {
                guard let bodyLine = try nextLine() else { return .incomplete }
                let lineBytes = bytes[bodyLine]
                guard lineBytes.count <= columns else { throw .header("a stanza body line longer than \(columns) columns") }
                guard let decoded = Base64.decodeUnpadded(lineBytes) else {
                    if lineBytes.starts(with: "->".utf8) || lineBytes.starts(with: "---".utf8) {
                        throw .header("a stanza body that ends without a short line")
                    }
                    throw .header("a stanza body line that is not canonical unpadded base64")
                }
                body.append(contentsOf: decoded)
                if lineBytes.count < columns { break }
            }
            stanzas.append(AgeStanza(type: String(decoding: parts[1], as: UTF8.self),
                                     arguments: parts.dropFirst(2).map { String(decoding: $0, as: UTF8.self) }, body: body))
        }
    }
}
