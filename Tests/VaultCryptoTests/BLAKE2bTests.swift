// BLAKE2b (libsodium crypto_generichash) known answers, streaming and keyed hashing.
//
// Expected values: RFC 7693 appendix A, the BLAKE2 reference KAT file (blake2b-kat.txt,
// keyed, key = 00..3f), and values computed with CPython's independent hashlib.blake2b
// (the exact expression is given next to each).

import Foundation
import Testing
import VaultCrypto

@Suite("BLAKE2b")
struct BLAKE2bTests {
    @Test("RFC 7693 appendix A: BLAKE2b-512(\"abc\")")
    func rfc7693() {
        #expect(Hex.encode(BLAKE2b.hash(Array("abc".utf8), digestSize: 64)) ==
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
    }

    @Test("empty input: BLAKE2b-512 and BLAKE2b-256")
    func emptyInput() {
        // hashlib.blake2b(b'').hexdigest()
        #expect(Hex.encode(BLAKE2b.hash([UInt8](), digestSize: 64)) ==
            "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
            + "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce")
        // hashlib.blake2b(b'', digest_size=32).hexdigest()
        let expected256 = "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
        #expect(Hex.encode(BLAKE2b.hash([UInt8](), digestSize: 32)) == expected256)
        // 32 bytes is the default.
        #expect(Hex.encode(BLAKE2b.hash([UInt8]())) == expected256)
        var hasher = BLAKE2b()
        #expect(Hex.encode(hasher.finalize()) == expected256)
    }

    @Test("digest size limits and defaults")
    func sizes() {
        #expect(BLAKE2b.minimumDigestSize == 16)
        #expect(BLAKE2b.defaultDigestSize == 32)
        #expect(BLAKE2b.maximumDigestSize == 64)
        for size in [16, 20, 32, 48, 64] {
            #expect(BLAKE2b.hash(Array("x".utf8), digestSize: size).count == size)
        }
        // The digest size is a parameter of the hash, not a truncation.
        let h32 = BLAKE2b.hash(Array("abc".utf8), digestSize: 32)
        let h64 = BLAKE2b.hash(Array("abc".utf8), digestSize: 64)
        #expect(Array(h64.prefix(32)) != h32)
    }

    @Test("streaming in pieces equals one-shot", arguments: [1, 3, 63, 64, 127, 128, 129, 500, 1000, 1001])
    func streaming(pieceSize: Int) {
        let data = Array((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        for digestSize in [16, 32, 64] {
            let oneShot = BLAKE2b.hash(data, digestSize: digestSize)
            var hasher = BLAKE2b(digestSize: digestSize)
            var offset = 0
            while offset < data.count {
                let end = min(offset + pieceSize, data.count)
                hasher.update(data[offset..<end])     // ArraySlice
                hasher.update([UInt8]())              // empty updates change nothing
                offset = end
            }
            #expect(hasher.finalize() == oneShot, "pieces of \(pieceSize), digest \(digestSize)")
        }
        // Raw buffers work as input too.
        let viaBuffer = data.withUnsafeBytes { BLAKE2b.hash($0, digestSize: 64) }
        #expect(viaBuffer == BLAKE2b.hash(data, digestSize: 64))
    }

    @Test("keyed hashing: reference KAT and hashlib cross-checks")
    func keyed() {
        let key64 = secret(Array(0..<64).map { UInt8($0) })
        // blake2b-kat.txt, first keyed vector (in = empty, key = 00..3f);
        // also hashlib.blake2b(b'', key=bytes(range(64))).hexdigest()
        #expect(Hex.encode(BLAKE2b.hash([UInt8](), digestSize: 64, key: key64)) ==
            "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
            + "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568")
        // hashlib.blake2b(b'abc', key=bytes(range(64))).hexdigest()
        let keyedABC = BLAKE2b.hash(Array("abc".utf8), digestSize: 64, key: key64)
        #expect(Hex.encode(keyedABC) ==
            "06bbc3dedf13a31139498655251b7588ccd3bb5aaa071b2d44d8e0a04095579e"
            + "d590fbfdcf941f4370ce5ce623624e7a76d33e7a8109dcda9b57d72f8f8efa51")
        // Keyed differs from unkeyed.
        #expect(keyedABC != BLAKE2b.hash(Array("abc".utf8), digestSize: 64))
        // hashlib.blake2b(bytes(range(256)), key=bytes(range(16)), digest_size=32).hexdigest()
        let key16 = secret(Array(0..<16).map { UInt8($0) })
        let data = Array((0..<256).map { UInt8($0) })
        #expect(Hex.encode(BLAKE2b.hash(data, digestSize: 32, key: key16)) ==
            "443e4f4a491b01408563361c1b9be0aab534a8151571fe8e10459d9e5896bd20")
        // Streaming with a key equals one-shot with a key.
        var hasher = BLAKE2b(digestSize: 32, key: key16)
        hasher.update(data[0..<100])
        hasher.update(data[100...])
        #expect(hasher.finalize() == BLAKE2b.hash(data, digestSize: 32, key: key16))
        // Different keys, different digests.
        #expect(BLAKE2b.hash(data, key: key16) != BLAKE2b.hash(data, key: secret(flippingBit(0, of: bytes(of: key16)))))
    }
}
