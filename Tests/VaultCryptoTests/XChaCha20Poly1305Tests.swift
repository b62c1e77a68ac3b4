// XChaCha20-Poly1305-IETF against draft-irtf-cfrg-xchacha-03 A.3.1 and Project Wycheproof.

import Foundation
import Testing
import VaultCrypto

@Suite("XChaCha20-Poly1305")
struct XChaCha20Poly1305Tests {
    @Test("draft-irtf-cfrg-xchacha-03 appendix A.3.1")
    func draftVector() throws {
        let v = try XChaChaDraftFile.load()
        let key = try secret(hex: v.key)
        let nonce = try hex(v.nonce), aad = try hex(v.aad), plaintext = try hex(v.plaintext)
        let expected = try hex(v.ciphertext) + hex(v.tag)
        try #require(expected.count == 130)
        #expect(String(decoding: plaintext, as: UTF8.self).hasPrefix("Ladies and Gentlemen of the class of '99"))

        let sealed = try XChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce, associatedData: aad)
        #expect(sealed == expected)
        #expect(try XChaCha20Poly1305.open(expected, key: key, nonce: nonce, associatedData: aad) == plaintext)
        // Without the associated data the tag does not verify.
        #expect(throws: CryptoError.decryptionFailed) { try XChaCha20Poly1305.open(expected, key: key, nonce: nonce) }
    }

    @Test("all 315 Project Wycheproof cases")
    func wycheproof() throws {
        let file = try WycheproofAEADFile.load()
        var validOK = 0, rejectedTag = 0, rejectedNonceSize = 0, total = 0
        for group in file.testGroups {
            for t in group.tests { checking("tcId \(t.tcId)") {
                total += 1
                let id = "tcId \(t.tcId) \(t.flags) \(t.comment)"
                let key = try secret(hex: t.key)
                let nonce = try hex(t.iv), aad = try hex(t.aad), msg = try hex(t.msg)
                let sealed = try hex(t.ct) + hex(t.tag)
                #expect(key.count * 8 == group.keySize, "\(id)")
                #expect(nonce.count * 8 == group.ivSize, "\(id)")

                switch t.result {
                case .valid:
                    #expect(try XChaCha20Poly1305.seal(msg, key: key, nonce: nonce, associatedData: aad) == sealed, "\(id)")
                    #expect(try XChaCha20Poly1305.open(sealed, key: key, nonce: nonce, associatedData: aad) == msg, "\(id)")
                    validOK += 1
                case .invalid:
                    if nonce.count == XChaCha20Poly1305.nonceSize {
                        // A genuine forgery: open must refuse it, and sealing the message
                        // must not reproduce it.
                        #expect(throws: CryptoError.decryptionFailed, "\(id)") {
                            try XChaCha20Poly1305.open(sealed, key: key, nonce: nonce, associatedData: aad)
                        }
                        #expect(try XChaCha20Poly1305.seal(msg, key: key, nonce: nonce, associatedData: aad) != sealed, "\(id)")
                        rejectedTag += 1
                    } else {
                        #expect(t.flags.contains("InvalidNonceSize"), "\(id)")
                        let e1 = #expect(throws: CryptoError.self, "\(id)") {
                            try XChaCha20Poly1305.open(sealed, key: key, nonce: nonce, associatedData: aad)
                        }
                        #expect(isInvalidLength(e1), "\(id): \(String(describing: e1))")
                        let e2 = #expect(throws: CryptoError.self, "\(id)") {
                            try XChaCha20Poly1305.seal(msg, key: key, nonce: nonce, associatedData: aad)
                        }
                        #expect(isInvalidLength(e2), "\(id): \(String(describing: e2))")
                        rejectedNonceSize += 1
                    }
                case .acceptable:
                    Issue.record("\(id): this file has no 'acceptable' cases")
                }
            } }
        }
        #expect(total == 315)
        #expect(validOK == 246)
        #expect(rejectedTag == 60)
        #expect(rejectedNonceSize == 9)
    }

    @Test("flipping any bit of the sealed message, the AAD or the nonce fails")
    func tampering() throws {
        let key = XChaCha20Poly1305.generateKey()
        let nonce = SecureRandom.bytes(count: 24)
        let aad = Array("header v1 id=42".utf8)
        let plaintext = Array("attack at dawn, bring snacks".utf8)
        let sealed = try XChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce, associatedData: aad)
        #expect(sealed.count == plaintext.count + XChaCha20Poly1305.tagSize)
        #expect(try XChaCha20Poly1305.open(sealed, key: key, nonce: nonce, associatedData: aad) == plaintext)

        var failures = 0
        for bit in 0 ..< sealed.count * 8 {
            #expect(throws: CryptoError.decryptionFailed, "sealed bit \(bit)") {
                try XChaCha20Poly1305.open(flippingBit(bit, of: sealed), key: key, nonce: nonce, associatedData: aad)
            }
            failures += 1
        }
        for bit in 0 ..< aad.count * 8 {
            #expect(throws: CryptoError.decryptionFailed, "aad bit \(bit)") {
                try XChaCha20Poly1305.open(sealed, key: key, nonce: nonce, associatedData: flippingBit(bit, of: aad))
            }
            failures += 1
        }
        for bit in 0 ..< nonce.count * 8 {
            #expect(throws: CryptoError.decryptionFailed, "nonce bit \(bit)") {
                try XChaCha20Poly1305.open(sealed, key: key, nonce: flippingBit(bit, of: nonce), associatedData: aad)
            }
            failures += 1
        }
        #expect(failures == (sealed.count + aad.count + nonce.count) * 8)

        // Other damage: wrong key, dropped/extra AAD, truncation, extension.
        #expect(throws: CryptoError.decryptionFailed) {
            try XChaCha20Poly1305.open(sealed, key: XChaCha20Poly1305.generateKey(), nonce: nonce, associatedData: aad)
        }
        #expect(throws: CryptoError.decryptionFailed) { try XChaCha20Poly1305.open(sealed, key: key, nonce: nonce) }
        #expect(throws: CryptoError.decryptionFailed) {
            try XChaCha20Poly1305.open(sealed, key: key, nonce: nonce, associatedData: aad + [0])
        }
        #expect(throws: CryptoError.decryptionFailed) {
            try XChaCha20Poly1305.open(Array(sealed.dropLast()), key: key, nonce: nonce, associatedData: aad)
        }
        #expect(throws: CryptoError.decryptionFailed) {
            try XChaCha20Poly1305.open(sealed + [0], key: key, nonce: nonce, associatedData: aad)
        }
        for length in 0 ..< XChaCha20Poly1305.tagSize {
            #expect(throws: CryptoError.decryptionFailed, "\(length) bytes") {
                try XChaCha20Poly1305.open(Array(sealed.prefix(length)), key: key, nonce: nonce, associatedData: aad)
            }
        }
    }

    @Test("empty plaintext and empty AAD round trip", arguments: [0, 1, 16, 63, 64, 65, 1000])
    func roundTrip(length: Int) throws {
        let key = XChaCha20Poly1305.generateKey()
        let nonce = SecureRandom.bytes(count: XChaCha20Poly1305.nonceSize)
        let plaintext = SecureRandom.bytes(count: length)
        for aad in [[], SecureRandom.bytes(count: length)] as [[UInt8]] {
            let sealed = try XChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce, associatedData: aad)
            #expect(sealed.count == length + 16)
            #expect(try XChaCha20Poly1305.open(sealed, key: key, nonce: nonce, associatedData: aad) == plaintext)
        }
    }

    @Test("wrong key or nonce size throws invalidLength")
    func wrongSizes() throws {
        #expect(XChaCha20Poly1305.keySize == 32)
        #expect(XChaCha20Poly1305.nonceSize == 24)
        #expect(XChaCha20Poly1305.tagSize == 16)
        #expect(XChaCha20Poly1305.generateKey().count == 32)
        let nonce = [UInt8](repeating: 0, count: 24)
        let sealed = [UInt8](repeating: 0, count: 32)
        for size in [0, 16, 24, 31, 33, 64] {
            let key = secret([UInt8](repeating: 7, count: size))
            let e1 = #expect(throws: CryptoError.self) { try XChaCha20Poly1305.seal([1, 2, 3], key: key, nonce: nonce) }
            #expect(isInvalidLength(e1), "key \(size)")
            let e2 = #expect(throws: CryptoError.self) { try XChaCha20Poly1305.open(sealed, key: key, nonce: nonce) }
            #expect(isInvalidLength(e2), "key \(size)")
        }
        let key = XChaCha20Poly1305.generateKey()
        for size in [0, 8, 12, 23, 25, 32] {
            let badNonce = [UInt8](repeating: 0, count: size)
            let e1 = #expect(throws: CryptoError.self) { try XChaCha20Poly1305.seal([1, 2, 3], key: key, nonce: badNonce) }
            #expect(isInvalidLength(e1), "nonce \(size)")
            let e2 = #expect(throws: CryptoError.self) { try XChaCha20Poly1305.open(sealed, key: key, nonce: badNonce) }
            #expect(isInvalidLength(e2), "nonce \(size)")
        }
    }
}
