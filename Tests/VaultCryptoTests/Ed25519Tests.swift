// Ed25519 (libsodium) against the reference sign.input, RFC 8032 section 7.1 and Wycheproof.

import Foundation
import Testing
import VaultCrypto

@Suite("Ed25519")
struct Ed25519Tests {
    @Test("all 1024 lines of the reference sign.input")
    func signInput() throws {
        let vectors = try SignInput.load()
        try #require(vectors.count == 1024)
        var checked = 0
        for v in vectors { checking("sign.input:\(v.line)") {
            let line = "sign.input:\(v.line)"
            let key = try Ed25519SigningKey(seed: secret(v.seed))
            #expect(key.publicKey.bytes == v.publicKey, "\(line) public key")
            #expect(bytes(of: key.secretKey) == v.secretKey, "\(line) secret key layout")
            #expect(bytes(of: key.seed) == v.seed, "\(line) seed")
            let signature = key.signature(for: v.message)
            #expect(signature == v.signature, "\(line) signature")

            let publicKey = try Ed25519PublicKey(bytes: v.publicKey)
            #expect(publicKey.isValidSignature(v.signature, for: v.message), "\(line) verify")
            // Flip one bit of the signature (a different one on each line, covering R and S).
            let sigBit = (v.line * 37) % 512
            #expect(!publicKey.isValidSignature(flippingBit(sigBit, of: v.signature), for: v.message), "\(line) sig bit \(sigBit)")
            // Flip one bit of the message; the empty message of line 1 gets a byte instead.
            if v.message.isEmpty {
                #expect(!publicKey.isValidSignature(v.signature, for: [0]), "\(line) extended message")
            } else {
                let msgBit = (v.line * 13) % (v.message.count * 8)
                #expect(!publicKey.isValidSignature(v.signature, for: flippingBit(msgBit, of: v.message)), "\(line) msg bit \(msgBit)")
            }
            // The 64-byte libsodium secret key loads too.
            let reloaded = try Ed25519SigningKey(secretKey: secret(v.secretKey))
            #expect(reloaded.publicKey == key.publicKey, "\(line) reload")
            checked += 1
        } }
        #expect(checked == 1024)
    }

    @Test("RFC 8032 section 7.1 vectors")
    func rfc8032() throws {
        let file = try RFC8032File.load()
        let signInput = try SignInput.load()
        var checked = 0
        for v in file.vectors { checking(v.name) {
            let seed = try hex(v.secret_key), pk = try hex(v.public_key)
            let message = try hex(v.message), signature = try hex(v.signature)
            #expect(seed.count == 32 && pk.count == 32 && signature.count == 64, "\(v.name)")
            #expect(message.count == v.message_length, "\(v.name)")
            let key = try Ed25519SigningKey(seed: secret(seed))
            #expect(key.publicKey.bytes == pk, "\(v.name)")
            #expect(key.signature(for: message) == signature, "\(v.name)")
            #expect(try Ed25519PublicKey(bytes: pk).isValidSignature(signature, for: message), "\(v.name)")
            #expect(!(try Ed25519PublicKey(bytes: pk).isValidSignature(signature, for: message + [0])), "\(v.name)")
            // TEST 1/2/3/1024 are lines 1/2/3/1024 of sign.input.
            let lineNumber: Int? = switch v.name {
            case "TEST 1": 1
            case "TEST 2": 2
            case "TEST 3": 3
            case "TEST 1024": 1024
            default: nil
            }
            if let lineNumber {
                let line = signInput[lineNumber - 1]
                #expect(line.seed == seed && line.publicKey == pk && line.message == message && line.signature == signature, "\(v.name)")
            } else {
                #expect(v.name == "TEST SHA(abc)")
                // SHA-512("abc"), FIPS 180-2 appendix C.1.
                #expect(Hex.encode(message) == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
            }
            checked += 1
        } }
        #expect(checked == 5)
    }

    @Test("all 210 Project Wycheproof EdDSA cases")
    func wycheproof() throws {
        let file = try WycheproofEdDSAFile.load()
        var valid = 0, invalid = 0, acceptableAccepted = 0, acceptableRejected = 0
        for group in file.testGroups {
            let publicKey = try Ed25519PublicKey(bytes: hex(group.publicKey.pk))
            #expect(group.publicKey.curve == "edwards25519")
            for t in group.tests { checking("tcId \(t.tcId)") {
                let id = "tcId \(t.tcId) \(t.flags) \(t.comment)"
                let ok = publicKey.isValidSignature(try hex(t.sig), for: try hex(t.msg))
                switch t.result {
                case .valid:
                    #expect(ok, "\(id) must verify")
                    valid += 1
                case .invalid:
                    #expect(!ok, "\(id) must not verify")
                    invalid += 1
                case .acceptable:
                    #expect(t.flags.contains("SmallOrderPublicKey") || t.flags.contains("MixedOrderPublicKey"), "\(id)")
                    // VaultCrypto documents "no small-order keys"; mixed-order keys may go either way.
                    if t.flags.contains("SmallOrderPublicKey") { #expect(!ok, "\(id): small-order key accepted") }
                    if ok { acceptableAccepted += 1 } else { acceptableRejected += 1 }
                }
            } }
        }
        #expect(valid == 117)
        #expect(invalid == 64)
        #expect(acceptableAccepted + acceptableRejected == 29)
        #expect(valid + invalid + acceptableAccepted + acceptableRejected == 210)
    }

    @Test("a 64-byte secret key whose public half does not match throws")
    func mismatchedSecretKey() throws {
        let v = try #require(try SignInput.load().first)
        for bit in [0, 7, 100, 255] {
            // Corrupt the public half (bytes 32..<64).
            let corrupted = flippingBit(256 + bit, of: v.secretKey)
            #expect(throws: CryptoError.self, "bit \(bit)") { try Ed25519SigningKey(secretKey: secret(corrupted)) }
        }
        // The public half of a different key.
        let other = Ed25519SigningKey.generate()
        #expect(throws: CryptoError.self) {
            try Ed25519SigningKey(secretKey: secret(v.seed + other.publicKey.bytes))
        }
        // The correct one loads.
        #expect(throws: Never.self) { try Ed25519SigningKey(secretKey: secret(v.secretKey)) }
    }

    @Test("wrong sizes throw invalidLength; wrong-size signatures are simply invalid")
    func sizes() throws {
        #expect(Ed25519PublicKey.size == 32)
        #expect(Ed25519PublicKey.signatureSize == 64)
        #expect(Ed25519SigningKey.seedSize == 32)
        #expect(Ed25519SigningKey.secretKeySize == 64)
        for size in [0, 31, 33, 64] {
            let e = #expect(throws: CryptoError.self) { try Ed25519PublicKey(bytes: [UInt8](repeating: 1, count: size)) }
            #expect(isInvalidLength(e), "public key \(size)")
        }
        for size in [0, 16, 31, 33, 64] {
            let e = #expect(throws: CryptoError.self) { try Ed25519SigningKey(seed: secret([UInt8](repeating: 1, count: size))) }
            #expect(isInvalidLength(e), "seed \(size)")
        }
        for size in [0, 32, 63, 65, 96] {
            let e = #expect(throws: CryptoError.self) { try Ed25519SigningKey(secretKey: secret([UInt8](repeating: 1, count: size))) }
            #expect(isInvalidLength(e), "secret key \(size)")
        }
        let key = Ed25519SigningKey.generate()
        let message = Array("hello".utf8)
        let signature = key.signature(for: message)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(Array(signature.dropLast()), for: message))
        #expect(!key.publicKey.isValidSignature(signature + [0], for: message))
        #expect(!key.publicKey.isValidSignature([], for: message))
    }

    @Test("generated keys are distinct, signing is deterministic, slices and buffers work")
    func generateAndSign() throws {
        let a = Ed25519SigningKey.generate(), b = Ed25519SigningKey.generate()
        #expect(a.publicKey != b.publicKey)
        #expect(a.secretKey != b.secretKey)
        let message = SecureRandom.bytes(count: 100)
        let signature = a.signature(for: message)
        #expect(a.signature(for: message) == signature)
        #expect(a.signature(for: message[...]) == signature)
        #expect(message.withUnsafeBytes { a.signature(for: $0) } == signature)
        #expect(a.publicKey.isValidSignature(signature, for: message))
        #expect(a.publicKey.isValidSignature(signature, for: message[...]))
        #expect(!b.publicKey.isValidSignature(signature, for: message))
        // A signature over a slice covers exactly the slice.
        let part = message[10..<50]
        let partSignature = a.signature(for: part)
        #expect(a.publicKey.isValidSignature(partSignature, for: Array(part)))
        #expect(!a.publicKey.isValidSignature(partSignature, for: message))
        // Re-deriving from the seed gives the same key.
        let again = try Ed25519SigningKey(seed: a.seed)
        #expect(again.publicKey == a.publicKey)
        #expect(again.secretKey == a.secretKey)
        // Empty messages work.
        let emptySignature = a.signature(for: [UInt8]())
        #expect(a.publicKey.isValidSignature(emptySignature, for: [UInt8]()))
    }
}
