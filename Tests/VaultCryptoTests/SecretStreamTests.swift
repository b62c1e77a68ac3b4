// libsodium secretstream behind SecretStream: the buffer API (no allocation per chunk) against
// the array API, and what a reader must refuse.

import TestSupport
import Testing
import VaultCrypto

@Suite("SecretStream")
struct SecretStreamTests {
    static let ad = Array("avault/test;chunk".utf8)

    static func chunks(_ sizes: [Int]) -> [[UInt8]] {
        sizes.enumerated().map { i, n in (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) } }
    }

    @Test("push into a buffer and pull into a buffer round-trip, with the array API on the other side",
          arguments: [[0], [1], [65536], [65536, 0], [65536, 65536, 7], [17, 65535, 65536, 1]])
    func bufferAPIRoundTrips(_ sizes: [Int]) throws {
        let key = SecretBytes.random(count: SecretStream.keySize)
        let encryptor = try SecretStream.Encryptor(key: key)
        let plain = Self.chunks(sizes)
        // Encrypt with the buffer API into one reused buffer.
        var out = [UInt8](repeating: 0xEE, count: 65536 + SecretStream.chunkOverhead)
        var sealed: [[UInt8]] = []
        for (i, chunk) in plain.enumerated() {
            let n = chunk.withUnsafeBytes { c in
                out.withUnsafeMutableBytes { encryptor.push(c, into: $0, associatedData: Self.ad, final: i == plain.count - 1) }
            }
            #expect(n == chunk.count + SecretStream.chunkOverhead)
            sealed.append(Array(out[0..<n]))
        }
        // The array API reads it.
        let reader = try SecretStream.Decryptor(key: key, header: encryptor.header)
        for (i, c) in sealed.enumerated() {
            #expect(Bytes(try c.withUnsafeBytes { try reader.pull($0, associatedData: Self.ad) }) == Bytes(plain[i]), "chunk \(i)")
        }
        #expect(reader.finished)
        // The buffer API reads it too, into one reused buffer.
        let again = try SecretStream.Decryptor(key: key, header: encryptor.header)
        var back = [UInt8](repeating: 0, count: 65536)
        for (i, c) in sealed.enumerated() {
            let n = try c.withUnsafeBytes { c in
                try back.withUnsafeMutableBytes { b in try again.pull(c, into: b, associatedData: Self.ad) }
            }
            #expect(Bytes(back[0..<n]) == Bytes(plain[i]), "chunk \(i)")
        }
        #expect(again.finished)
    }

    @Test("the array API's output is read by the buffer API")
    func arrayPushBufferPull() throws {
        let key = SecretBytes.random(count: SecretStream.keySize)
        let encryptor = try SecretStream.Encryptor(key: key)
        let plain = Self.chunks([65536, 12])
        let sealed = plain.enumerated().map { i, p in p.withUnsafeBytes { encryptor.push($0, associatedData: Self.ad, final: i == 1) } }
        let reader = try SecretStream.Decryptor(key: key, header: encryptor.header)
        var back = [UInt8](repeating: 0, count: 65536)
        for (i, c) in sealed.enumerated() {
            let n = try c.withUnsafeBytes { c in
                try back.withUnsafeMutableBytes { b in try reader.pull(c, into: b, associatedData: Self.ad) }
            }
            #expect(Bytes(back[0..<n]) == Bytes(plain[i]), "chunk \(i)")
        }
    }

    @Test("the buffer API refuses an altered chunk, other associated data, a short chunk, and anything after the final one")
    func bufferAPIRefuses() throws {
        let key = SecretBytes.random(count: SecretStream.keySize)
        let encryptor = try SecretStream.Encryptor(key: key)
        let plain = Self.chunks([100, 5])
        let sealed = plain.enumerated().map { i, p in p.withUnsafeBytes { encryptor.push($0, associatedData: Self.ad, final: i == 1) } }
        var back = [UInt8](repeating: 0, count: 200)
        func pull(_ d: SecretStream.Decryptor, _ c: [UInt8], ad: [UInt8] = Self.ad) throws -> Int {
            try c.withUnsafeBytes { c in
                try back.withUnsafeMutableBytes { b in try d.pull(c, into: b, associatedData: ad) }
            }
        }
        var altered = sealed[0]
        altered[40] ^= 1
        #expect(throws: CryptoError.decryptionFailed) { try pull(try SecretStream.Decryptor(key: key, header: encryptor.header), altered) }
        #expect(throws: CryptoError.decryptionFailed) {
            try pull(try SecretStream.Decryptor(key: key, header: encryptor.header), sealed[0], ad: Array("other".utf8))
        }
        #expect(throws: CryptoError.decryptionFailed) {
            try pull(try SecretStream.Decryptor(key: key, header: encryptor.header), Array(sealed[0].prefix(SecretStream.chunkOverhead - 1)))
        }
        // Reordered: the final chunk first.
        #expect(throws: CryptoError.decryptionFailed) { try pull(try SecretStream.Decryptor(key: key, header: encryptor.header), sealed[1]) }
        let reader = try SecretStream.Decryptor(key: key, header: encryptor.header)
        #expect(try pull(reader, sealed[0]) == 100)
        #expect(try pull(reader, sealed[1]) == 5)
        #expect(reader.finished)
        #expect(throws: CryptoError.decryptionFailed) { try pull(reader, sealed[1]) }
    }
}
