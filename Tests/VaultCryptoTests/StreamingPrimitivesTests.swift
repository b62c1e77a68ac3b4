// The pieces a long legacy blob is decrypted with: base64 a chunk at a time (a strict table
// decoder for public data) and AES-CBC a chunk at a time (one key schedule, an IV per chunk).

import Foundation
import TestSupport
import Testing
import VaultCrypto

@Suite("Base64 for public data")
struct PublicBase64Tests {
    /// decodePublic accepts exactly what the constant-time decoder accepts, with the same bytes.
    static func agree(_ text: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let strict = try? Base64.decode(String(decoding: text, as: UTF8.self))
        let fast = try? Base64.decodePublic(text)
        // String(decoding:) repairs invalid UTF-8; such input is non-ASCII, refused by both.
        if text.allSatisfy({ $0 < 0x80 }) {
            #expect(strict == fast, "\(String(decoding: text, as: UTF8.self).debugDescription)", sourceLocation: sourceLocation)
        } else {
            #expect(fast == nil, "non-ASCII accepted: \(text)", sourceLocation: sourceLocation)
        }
    }

    @Test("every rejected case of the strict decoder is rejected", arguments: Base64Tests.rejected)
    func rejects(reason: String, text: String) {
        #expect(throws: CryptoError.invalidBase64, "\(reason)") { try Base64.decodePublic(Array(text.utf8)) }
        #expect(throws: CryptoError.invalidBase64, "\(reason) x2") { try Base64.decodePublic(Array(("QUJDQUJD" + text).utf8)) }
    }

    @Test("agrees with the strict decoder on random texts and on every one-byte change of them")
    func agreesWithStrict() throws {
        var rng = SeededRNG(seed: 0xB64)
        let interesting: [UInt8] = Array("=+/ \t\r\n-_;.*".utf8) + [0, 0x7F, 0x80, 0xC3, 0xFF]
        for length in 0...40 {
            let text = Array(Base64.encode(rng.bytes(length)).utf8)
            Self.agree(text)
            #expect(try Base64.decodePublic(text) == Base64.decode(String(decoding: text, as: UTF8.self)))
            for i in text.indices {
                for byte in interesting + [UInt8.random(in: 0...255, using: &rng)] {
                    var changed = text
                    changed[i] = byte
                    Self.agree(changed)
                }
            }
            // Lengths that are not a multiple of 4, and doubled padding.
            Self.agree(text + Array("=".utf8))
            Self.agree(Array(text.dropLast()))
            Self.agree(text + text)
        }
    }

    @Test("decodeQuanta: whole quanta only, no padding, exact bytes")
    func quanta() {
        var rng = SeededRNG(seed: 4)
        for length in stride(from: 0, through: 300, by: 3) {
            let data = rng.bytes(length)
            let text = Array(Base64.encode(data).utf8)
            var out = [UInt8](repeating: 0xAA, count: text.count / 4 * 3 + 1)
            let n = text.withUnsafeBytes { t in out.withUnsafeMutableBytes { Base64.decodeQuanta(t, into: $0) } }
            #expect(n == data.count)
            #expect(Array(out.prefix(data.count)) == data)
            #expect(out.last == 0xAA, "wrote past the decoded bytes")
        }
        // Every byte at every position of a quantum, against libsodium's decoder (a quantum of
        // 'A's around it; a text of two quanta, so that both the inner and the last one see it).
        for position in 0..<8 {
            for byte in 0...255 {
                var text = Array("AAAAAAAA".utf8)
                text[position] = UInt8(byte)
                var out = [UInt8](repeating: 0, count: 6)
                let n = text.withUnsafeBytes { t in out.withUnsafeMutableBytes { Base64.decodeQuanta(t, into: $0) } }
                let strict = byte < 0x80 && byte != UInt8(ascii: "=") ? try? Base64.decode(String(decoding: text, as: UTF8.self)) : nil
                #expect(n.map { _ in out } == strict, "byte \(byte) at \(position)")
            }
        }
        // A long text, as the legacy stream decodes it (1 MiB).
        let data = rng.bytes(3 << 18)
        let text = Array(Base64.encode(data).utf8)
        var out = [UInt8](repeating: 0, count: data.count)
        #expect(text.withUnsafeBytes { t in out.withUnsafeMutableBytes { Base64.decodeQuanta(t, into: $0) } } == data.count)
        #expect(Bytes(out) == Bytes(data))
        for bad in ["QUJ=", "QQ==", " QUJDQUJ", "    QUJD", "QUJD    ", "QUJDQUJ\n", "QU-D", "QUJDQUJ-", "QU;D", "QUJ"] {
            var out = [UInt8](repeating: 0, count: 12)
            let n = Array(bad.utf8).withUnsafeBytes { t in out.withUnsafeMutableBytes { Base64.decodeQuanta(t, into: $0) } }
            #expect(n == nil, "\(bad.debugDescription) accepted")
        }
    }
}

@Suite("AES-CBC in pieces")
struct AESCBCDecryptorTests {
    @Test("pieces chained by the block before them give the one-shot plaintext", arguments: [16, 24, 32])
    func piecesMatchOneShot(keySize: Int) throws {
        var rng = SeededRNG(seed: UInt64(keySize))
        for length in [0, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 4096, 10_000] {
            let key = SecretBytes(copying: rng.bytes(keySize))
            let iv = rng.bytes(16)
            let plaintext = rng.bytes(length)
            let ciphertext = try AESCBC.encrypt(plaintext, key: key, iv: iv)
            #expect(try AESCBC.decrypt(ciphertext, key: key, iv: iv) == plaintext)
            let decryptor = try AESCBC.Decryptor(key: key)
            // All blocks but the last in random pieces, then the last block with its padding.
            var out: [UInt8] = []
            var offset = 0
            let body = ciphertext.count - 16
            while offset < body {
                let n = min(body - offset, 16 * Int.random(in: 1...8, using: &rng))
                var piece = Array(ciphertext[offset..<(offset + n)])
                let chain = offset == 0 ? iv : Array(ciphertext[(offset - 16)..<offset])
                try chain.withUnsafeBytes { c in try piece.withUnsafeMutableBytes { try decryptor.decryptBlocks($0, iv: c) } }
                out += piece
                offset += n
            }
            let previous = body == 0 ? iv : Array(ciphertext[(body - 16)..<body])
            let end = try Array(ciphertext.suffix(16)).withUnsafeBytes { l in
                try previous.withUnsafeBytes { try decryptor.decryptLastBlock(l, previous: $0) }
            }
            out += end.withUnsafeBytes { Array($0) }
            #expect(Bytes(out) == Bytes(plaintext), "length \(length)")
        }
    }

    @Test("the last block decides the padding: a changed byte or a wrong key fails alike")
    func lastBlockPadding() throws {
        var rng = SeededRNG(seed: 9)
        let key = SecretBytes(copying: rng.bytes(32))
        let iv = rng.bytes(16)
        let ciphertext = try AESCBC.encrypt(rng.bytes(40), key: key, iv: iv)
        let last = Array(ciphertext.suffix(16)), previous = Array(ciphertext.dropLast(16).suffix(16))
        let decryptor = try AESCBC.Decryptor(key: key)
        let ok = try last.withUnsafeBytes { l in try previous.withUnsafeBytes { try decryptor.decryptLastBlock(l, previous: $0) } }
        #expect(ok.count == 8)
        var failures = 0
        for i in 0..<16 {
            var changed = previous
            changed[i] ^= 0x01 // changes plaintext byte i of the last block
            if (try? changed.withUnsafeBytes { p in try last.withUnsafeBytes { try decryptor.decryptLastBlock($0, previous: p) } }) == nil { failures += 1 }
        }
        #expect(failures == 8, "a change in the 8 padding bytes fails, elsewhere it does not")
        let other = try AESCBC.Decryptor(key: SecretBytes(copying: rng.bytes(32)))
        #expect(throws: CryptoError.decryptionFailed) {
            try last.withUnsafeBytes { l in try previous.withUnsafeBytes { try other.decryptLastBlock(l, previous: $0) } }
        }
        // A whole block of padding leaves nothing.
        let full = try AESCBC.encrypt(rng.bytes(16), key: key, iv: iv)
        let empty = try Array(full.suffix(16)).withUnsafeBytes { l in
            try Array(full.prefix(16)).withUnsafeBytes { try decryptor.decryptLastBlock(l, previous: $0) }
        }
        #expect(empty.count == 0)
    }

    @Test("sizes are checked")
    func sizes() throws {
        #expect(throws: CryptoError.self) { try AESCBC.Decryptor(key: SecretBytes(copying: [UInt8](repeating: 1, count: 31))) }
        let decryptor = try AESCBC.Decryptor(key: SecretBytes(copying: [UInt8](repeating: 1, count: 16)))
        var odd = [UInt8](repeating: 0, count: 17)
        let iv = [UInt8](repeating: 0, count: 16)
        #expect(throws: CryptoError.decryptionFailed) {
            try iv.withUnsafeBytes { v in try odd.withUnsafeMutableBytes { try decryptor.decryptBlocks($0, iv: v) } }
        }
    }

    @Test("a secret buffer starts zeroed and wipes")
    func secretBuffer() {
        let buffer = SecretBuffer(count: 64)
        buffer.withUnsafeMutableBytes { #expect($0.allSatisfy { $0 == 0 }); $0.copyBytes(from: [UInt8](repeating: 7, count: 64)) }
        buffer.wipe(count: 10)
        buffer.withUnsafeMutableBytes { #expect($0.prefix(10).allSatisfy { $0 == 0 } && $0.dropFirst(10).allSatisfy { $0 == 7 }) }
    }
}
