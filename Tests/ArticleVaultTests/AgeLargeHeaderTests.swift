@testable import ArticleVault
import Testing
import VaultCrypto
import VaultFormat

/// Headers near the 1 MiB limit, read in pieces: the header is parsed once its closing line is
/// in, not again after every read (which took quadratic time: 41 s in a debug build for a
/// header of 174,000 stanzas, against 1.2 s for age). No timing is tested; these check that
/// such headers, and headers whose closing line arrives split across reads, still decrypt,
/// and that cut ones still fail as header failures.
@Suite struct AgeLargeHeaderTests {
    /// Hands out what it holds at most `piece` bytes per read (a pipe, a slow disk).
    final class PieceInput: AgeInput {
        let bytes: [UInt8], piece: Int
        var offset = 0
        init(_ bytes: [UInt8], piece: Int) { self.bytes = bytes; self.piece = piece }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int {
            let n = min(buffer.count, piece, bytes.count - offset)
            guard n > 0 else { return 0 }
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)])) }
            offset += n
            return n
        }
    }

    /// An age file to `identity`'s recipient with `extra` empty stanzas of type `a` after its own.
    static func file(_ plain: [UInt8], identity: SecretBytes, extra: Int, armor: Bool = false) throws -> [UInt8] {
        var out: [UInt8] = []
        let recipient = try X25519.publicKey(of: identity)
        _ = try AgeFile.encrypt(AgeBytesInput(plain), to: [.x25519(recipient)],
                                extraStanzas: Array(repeating: AgeStanza(type: "a", arguments: [], body: []), count: extra),
                                armor: armor) { piece throws(AvaultError) in out += piece }
        return out
    }

    static func decrypt(_ input: AgeInput, identity: SecretBytes) throws -> [UInt8] {
        var out: [UInt8] = []
        try AgeFile.decrypt(input, armored: nil, identities: [identity], passphrase: nil) { piece throws(AvaultError) in out += piece }
        return out
    }

    /// The header's length (where the nonce starts).
    static func headerLength(_ file: [UInt8]) throws -> Int {
        let parsed = try file.withUnsafeBytes { try AgeHeader.parse($0, atEnd: true) }
        guard case .header(_, let length) = parsed else { throw AvaultError.internalFailure("no header") }
        return length
    }

    /// Whether decrypting `input` fails as a malformed header (with `reason`, when given).
    static func failsAsHeader(_ input: AgeInput, identity: SecretBytes, reason: String? = nil) -> Bool {
        do {
            _ = try decrypt(input, identity: identity)
            return false
        } catch let error as AvaultError {
            guard case .age(.header(let why), _) = error else { return false }
            return reason.map { why == $0 } ?? true
        } catch { return false }
    }

    @Test func aHeaderOfAMebibyteDecryptsAndCutOnesFail() throws {
        let identity = X25519.generateSecret()
        let plain = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        // 174,000 stanzas `-> a` and an empty body line: 1,044,000 bytes, just under the limit.
        let file = try Self.file(plain, identity: identity, extra: 174_000)
        let length = try Self.headerLength(file)
        #expect(length > 1_044_000 && length <= AgeHeader.maximumSize, "\(length)")
        #expect(try Self.decrypt(AgeBytesInput(file), identity: identity) == plain)
        #expect(try Self.decrypt(PieceInput(file, piece: 4_093), identity: identity) == plain)

        // Cut: inside the stanzas, after `\n---`, before the code line's newline, after it.
        let closing = length - 1 - 43 - 4 - 1 // the newline before `--- `, 43 characters of code and a newline
        #expect(file[closing] == 0x0A && file[closing + 1] == 0x2D, "not the closing line")
        for cut in [length / 2, closing + 1, closing + 4, length - 1] {
            #expect(Self.failsAsHeader(AgeBytesInput(Array(file[..<cut])), identity: identity, reason: "the header ends without a newline"), "cut at \(cut)")
        }
        #expect(Self.failsAsHeader(AgeBytesInput(Array(file[..<length])), identity: identity, reason: "the file ends before the payload's nonce"))

        // A stanza more than fits: over the limit, refused as before.
        let over = try Self.file(plain, identity: identity, extra: 175_000)
        #expect(Self.failsAsHeader(AgeBytesInput(over), identity: identity,
                                   reason: "the header is larger than \(AgeHeader.maximumSize) bytes"))
    }

    /// The closing line split across reads at every point: it is found whole, or the header
    /// waits for more; every cut inside the header fails as a header failure.
    @Test func aClosingLineSplitAcrossReadsIsFound() throws {
        let identity = X25519.generateSecret()
        let plain = Array("a draft\n".utf8)
        for armor in [false, true] {
            let file = try Self.file(plain, identity: identity, extra: 3, armor: armor)
            for piece in 1...9 {
                #expect(try Self.decrypt(PieceInput(file, piece: piece), identity: identity) == plain, "piece \(piece), armor \(armor)")
            }
        }
        let file = try Self.file(plain, identity: identity, extra: 3)
        let length = try Self.headerLength(file)
        for cut in 0...length {
            for piece in [1, 3, 1 << 16] {
                #expect(Self.failsAsHeader(PieceInput(Array(file[..<cut]), piece: piece), identity: identity), "cut at \(cut), piece \(piece)")
            }
        }
    }
}
