import Foundation
import Testing
import VaultCrypto
import VaultFormat
import ArticleVault

@Suite struct SecuredV2Vectors {
    static let names = ["key", "context", "nonce", "plaintext", "blob"]

    static func vectors() throws -> [URL] {
        try Fixtures.files(in: "Fixtures/secured-v2", suffix: ".txt")
    }

    @Test func thereAreVectors() throws {
        #expect(try Self.vectors().count >= 6)
    }

    @Test(arguments: try SecuredV2Vectors.vectors())
    func vectorDecryptsAndReencrypts(_ file: URL) throws {
        let v = try Fixtures.vectorFile(file, names: Self.names)
        let key = SecretBytes(copying: try Hex.decode(v["key"]!))
        let nonce = try Hex.decode(v["nonce"]!)
        let plaintext = try Hex.decode(v["plaintext"]!)
        let blob = try SecuredBlob(parsing: v["blob"]!)
        guard case .v2(let kid, let blobNonce, _) = blob else { Issue.record("not v2"); return }
        #expect(kid == SecuredField.keyID(for: key))
        #expect(blobNonce == nonce)
        #expect(try SecuredField.decrypt(blob, key: key, context: v["context"]!) == plaintext)
        let again = try SecuredField.encryptV2(plaintext, key: key, context: v["context"]!, nonce: nonce)
        #expect(again.text == v["blob"]!)
        // Bound to its context: any other context fails, uniformly.
        for other in [v["context"]! + " ", "x" + v["context"]!, "other"] {
            #expect(throws: AvaultError.self) { try SecuredField.decrypt(blob, key: key, context: other) }
        }
    }

    @Test(arguments: try SecuredV2Vectors.vectors())
    func everyBitFlipOfTheSealedPartFails(_ file: URL) throws {
        let v = try Fixtures.vectorFile(file, names: Self.names)
        let key = SecretBytes(copying: try Hex.decode(v["key"]!))
        guard case .v2(let kid, let nonce, let sealed) = try SecuredBlob(parsing: v["blob"]!) else { return }
        // Flip every bit of the nonce and of the first 64 bytes and the tag of the sealed part.
        let sealedPositions = Array(0..<min(64, sealed.count)) + Array(max(0, sealed.count - 16)..<sealed.count)
        for byte in sealedPositions {
            for bit in 0..<8 {
                var tampered = sealed
                tampered[byte] ^= UInt8(1 << bit)
                expectUniformFailure(.v2(kid: kid, nonce: nonce, sealed: tampered), key: key, context: v["context"]!)
            }
        }
        for byte in nonce.indices {
            var tampered = nonce
            tampered[byte] ^= 0x80
            expectUniformFailure(.v2(kid: kid, nonce: tampered, sealed: sealed), key: key, context: v["context"]!)
        }
    }
}

func expectUniformFailure(_ blob: SecuredBlob, key: SecretBytes, context: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try SecuredField.decrypt(blob, key: key, context: context)
        Issue.record("decryption unexpectedly succeeded", sourceLocation: sourceLocation)
    } catch .decryptionFailed {
    } catch {
        Issue.record("expected decryptionFailed, got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct SecuredFieldBehaviour {
    @Test func keyIDIsTheFirstEightBytesOfBLAKE2b256() throws {
        let key = SecretBytes(copying: [UInt8](repeating: 0, count: 32))
        // BLAKE2b-256 of 32 zero bytes, computed independently with Python's hashlib:
        // hashlib.blake2b(bytes(32), digest_size=32).hexdigest()[:16]
        #expect(SecuredField.keyID(for: key).hex == "89eb0d6a8a691dae")
    }

    @Test(arguments: [16, 24, 32])
    func v1RoundTripsForEveryAESKeySize(_ size: Int) throws {
        let key = SecretBytes.random(count: size)
        for length in [0, 1, 15, 16, 17, 31, 32, 33, 400] {
            let plaintext = SecureRandom.bytes(count: length)
            let blob = try SecuredField.encryptV1(plaintext, key: key)
            guard case .v1(let ct, let iv) = blob else { Issue.record("not v1"); return }
            #expect(iv.count == 16)
            #expect(ct.count == (length / 16 + 1) * 16)
            #expect(try SecuredField.decrypt(try SecuredBlob(parsing: blob.text), key: key, context: "ignored", legacy: .userOptIn) == plaintext)
        }
    }

    @Test func v1IVsAreFresh() throws {
        let key = SecretBytes.random(count: 32)
        let a = try SecuredField.encryptV1([1, 2, 3], key: key)
        let b = try SecuredField.encryptV1([1, 2, 3], key: key)
        #expect(a.text != b.text)
    }

    @Test func v2NoncesAreFreshAndBlobsBindTheirContext() throws {
        let key = SecretBytes.random(count: 32)
        let a = try SecuredField.encryptV2(Array("x".utf8), key: key, context: "https://a")
        let b = try SecuredField.encryptV2(Array("x".utf8), key: key, context: "https://a")
        #expect(a.text != b.text)
        #expect(try SecuredField.decrypt(a, key: key, context: "https://a") == Array("x".utf8))
        expectUniformFailure(a, key: key, context: "https://b")
        expectUniformFailure(a, key: SecretBytes.random(count: 32), context: "https://a")
    }

    @Test func aWrongKeyForV2IsReportedByKeyIDWithTheUniformMessage() throws {
        let key = SecretBytes.random(count: 32)
        let other = SecretBytes.random(count: 32)
        let blob = try SecuredField.encryptV2([1], key: key, context: "")
        do {
            _ = try SecuredField.decrypt(blob, key: other, context: "")
            Issue.record("decrypted with the wrong key")
        } catch {
            #expect(error.message == "decryption failed: wrong key, wrong context, or tampered data")
            guard case .decryptionFailed(let ids?) = error else { Issue.record("no key ids in \(error)"); return }
            #expect(ids.blob == SecuredField.keyID(for: key))
            #expect(ids.tried == SecuredField.keyID(for: other))
        }
    }

    @Test func unsuitableKeySizesAreOperationalErrors() throws {
        let v1 = try SecuredField.encryptV1([1], key: SecretBytes.random(count: 16))
        let v2 = try SecuredField.encryptV2([1], key: SecretBytes.random(count: 32), context: "")
        for (blob, size) in [(v1, 20), (v2, 16), (v2, 24)] {
            #expect {
                _ = try SecuredField.decrypt(blob, key: SecretBytes.random(count: size), context: "", legacy: .userOptIn)
            } throws: { error in
                if case .unsuitableKey = error as? AvaultError { return true }
                return false
            }
        }
        #expect(throws: AvaultError.self) { try SecuredField.encryptV2([1], key: SecretBytes.random(count: 16), context: "") }
        #expect(throws: AvaultError.self) { try SecuredField.encryptV1([1], key: SecretBytes.random(count: 31)) }
    }

    @Test func tamperedV1FailuresAreAllTheSameError() throws {
        let key = SecretBytes.random(count: 32)
        let plaintext = SecureRandom.bytes(count: 40)
        guard case .v1(let ct, let iv) = try SecuredField.encryptV1(plaintext, key: key) else { return }
        var failures = 0, wrongPlaintexts = 0
        for byte in ct.indices {
            var t = ct
            t[byte] ^= 0x01
            do {
                let out = try SecuredField.decrypt(.v1(ciphertext: t, iv: iv), key: key, context: "", legacy: .userOptIn)
                // CBC is malleable: a flip outside the last block "decrypts" to altered text.
                #expect(out != plaintext)
                wrongPlaintexts += 1
            } catch .decryptionFailed {
                failures += 1
            } catch {
                Issue.record("unexpected error kind \(error)")
            }
        }
        #expect(failures + wrongPlaintexts == ct.count)
        #expect(failures >= 1) // a flip in the last byte always breaks the padding
    }

    /// Without an authorisation a v1 blob is refused before anything about it is examined:
    /// a valid, a tampered and a wrong-key decryption all give the same error (no padding oracle).
    @Test func v1WithoutAuthorisationIsRefusedAlike() throws {
        let key = SecretBytes.random(count: 32)
        guard case .v1(let ct, let iv) = try SecuredField.encryptV1(Array("secret".utf8), key: key) else { return }
        var tampered = ct
        tampered[tampered.count - 1] ^= 1
        for (blob, k) in [(SecuredBlob.v1(ciphertext: ct, iv: iv), key), (.v1(ciphertext: tampered, iv: iv), key),
                          (.v1(ciphertext: ct, iv: iv), SecretBytes.random(count: 16)), (.v1(ciphertext: ct, iv: iv), SecretBytes.random(count: 7))] {
            #expect {
                _ = try SecuredField.decrypt(blob, key: k, context: "")
            } throws: { error in
                if case .unauthenticatedLegacy = error as? AvaultError { return true }
                return false
            }
        }
    }
}
