// AES-CBC (OpenSSL EVP) against the NIST CAVP AESAVS KAT and MMT response files.

import Foundation
import Testing
import VaultCrypto

/// True when `error` is `CryptoError.invalidLength` (any payload).
func isInvalidLength(_ error: CryptoError?) -> Bool {
    if case .invalidLength = error { return true }
    return false
}

@Suite("AES-CBC")
struct AESCBCTests {
    static let pkcs7FullBlock = [UInt8](repeating: 0x10, count: 16)

    @Test("NIST CAVP vectors: raw and PKCS#7 modes", arguments: cavpFileCounts.map(\.file))
    func nistVectors(file: String) throws {
        let records = try CAVP.load(file)
        try #require(records.count == cavpFileCounts.first { $0.file == file }?.records)
        var strictPaddingFailures = 0
        var accidentalValidPadding = 0
        for r in records { checking("\(r)") {
            let key = secret(r.key)

            // Raw CBC, no padding: exactly the NIST answer in both directions.
            #expect(try AESCBC.encrypt(r.plaintext, key: key, iv: r.iv, padding: false) == r.ciphertext, "\(r) raw encrypt")
            #expect(try AESCBC.decrypt(r.ciphertext, key: key, iv: r.iv, padding: false) == r.plaintext, "\(r) raw decrypt")

            // PKCS#7: a block-aligned plaintext gains one full block of 0x10 bytes, i.e. the
            // NIST ciphertext followed by E(K, 0x10… XOR last ciphertext block).
            let padded = try AESCBC.encrypt(r.plaintext, key: key, iv: r.iv, padding: true)
            #expect(padded.count == r.ciphertext.count + 16, "\(r) padded length")
            #expect(Array(padded.prefix(r.ciphertext.count)) == r.ciphertext, "\(r) padded prefix")
            let extra = try AESCBC.encrypt(Self.pkcs7FullBlock, key: key, iv: Array(r.ciphertext.suffix(16)), padding: false)
            #expect(Array(padded.suffix(16)) == extra, "\(r) padding block")
            #expect(try AESCBC.decrypt(padded, key: key, iv: r.iv, padding: true) == r.plaintext, "\(r) padded round trip")
            // The default is PKCS#7.
            #expect(try AESCBC.encrypt(r.plaintext, key: key, iv: r.iv) == padded, "\(r) default padding")

            // PKCS#7 decrypt of the bare NIST ciphertext: bad padding, unless the last
            // decrypted bytes happen to look like padding, and then the result is the
            // plaintext with those bytes stripped, which is not the plaintext.
            do {
                let out = try AESCBC.decrypt(r.ciphertext, key: key, iv: r.iv, padding: true)
                accidentalValidPadding += 1
                let last = Int(r.plaintext.last!)
                #expect((1...16).contains(last) && r.plaintext.suffix(last).allSatisfy { Int($0) == last },
                        "\(r) accepted padding that is not valid PKCS#7")
                #expect(out != r.plaintext, "\(r) bare ciphertext decrypted to the plaintext")
                #expect(out == Array(r.plaintext.dropLast(last)), "\(r) wrong unpadding")
            } catch {
                #expect(error as? CryptoError == .decryptionFailed, "\(r) \(error)")
                strictPaddingFailures += 1
                // Consistency: the raw plaintext indeed does not end in valid PKCS#7 padding.
                let last = Int(r.plaintext.last!)
                #expect(!((1...16).contains(last) && r.plaintext.suffix(last).allSatisfy { Int($0) == last }),
                        "\(r) rejected valid-looking padding")
            }
        } }
        #expect(strictPaddingFailures + accidentalValidPadding == records.count)
    }

    @Test("AES-192 round trips", arguments: [0, 1, 15, 16, 17, 31, 32, 33, 100])
    func aes192RoundTrip(length: Int) throws {
        let key = SecretBytes.random(count: 24)
        let iv = SecureRandom.bytes(count: 16)
        let plaintext = SecureRandom.bytes(count: length)
        let sealed = try AESCBC.encrypt(plaintext, key: key, iv: iv)
        #expect(sealed.count == (length / 16 + 1) * 16)
        #expect(try AESCBC.decrypt(sealed, key: key, iv: iv) == plaintext)
        if length % 16 == 0 {
            let raw = try AESCBC.encrypt(plaintext, key: key, iv: iv, padding: false)
            #expect(raw == Array(sealed.prefix(length)))
            #expect(try AESCBC.decrypt(raw, key: key, iv: iv, padding: false) == plaintext)
        }
    }

    @Test("AES-192 agrees with the openssl command-line tool")
    func aes192AgainstOpenSSLTool() throws {
        let keyBytes = Array(0..<24).map { UInt8($0 * 7 + 1) }
        let iv = Array(0..<16).map { UInt8(0xF0 - $0) }
        let plaintext = Array("AES-192 cross-check against the openssl enc tool!!".utf8)
        try #require(plaintext.count == 50)
        let tool = try #require(findExecutable("openssl"), "openssl not found in PATH")

        let padded = try runTool(tool, ["enc", "-aes-192-cbc", "-K", Hex.encode(keyBytes), "-iv", Hex.encode(iv)], input: plaintext)
        #expect(padded.count == 64)
        #expect(try AESCBC.encrypt(plaintext, key: secret(keyBytes), iv: iv) == padded)
        #expect(try AESCBC.decrypt(padded, key: secret(keyBytes), iv: iv) == plaintext)

        let blocks = Array(plaintext.prefix(48))
        let raw = try runTool(tool, ["enc", "-aes-192-cbc", "-nopad", "-K", Hex.encode(keyBytes), "-iv", Hex.encode(iv)], input: blocks)
        #expect(raw.count == 48)
        #expect(try AESCBC.encrypt(blocks, key: secret(keyBytes), iv: iv, padding: false) == raw)
    }

    @Test("wrong key or IV size throws invalidLength")
    func wrongSizes() throws {
        let iv = [UInt8](repeating: 0, count: 16)
        let block = [UInt8](repeating: 0, count: 32)
        for size in [0, 1, 8, 15, 17, 20, 23, 25, 31, 33, 48, 64] {
            let key = secret([UInt8](repeating: 1, count: size))
            let e1 = #expect(throws: CryptoError.self) { try AESCBC.encrypt(block, key: key, iv: iv) }
            #expect(isInvalidLength(e1), "key \(size) encrypt: \(String(describing: e1))")
            let e2 = #expect(throws: CryptoError.self) { try AESCBC.decrypt(block, key: key, iv: iv) }
            #expect(isInvalidLength(e2), "key \(size) decrypt: \(String(describing: e2))")
            let e3 = #expect(throws: CryptoError.self) { try AESCBC.decrypt(block, key: key, iv: iv, padding: false) }
            #expect(isInvalidLength(e3), "key \(size) raw decrypt: \(String(describing: e3))")
        }
        for key in [secret([UInt8](repeating: 1, count: 16)), secret([UInt8](repeating: 1, count: 24)), secret([UInt8](repeating: 1, count: 32))] {
            for ivSize in [0, 1, 8, 12, 15, 17, 24, 32] {
                let badIV = [UInt8](repeating: 0, count: ivSize)
                let e1 = #expect(throws: CryptoError.self) { try AESCBC.encrypt(block, key: key, iv: badIV) }
                #expect(isInvalidLength(e1), "iv \(ivSize) encrypt")
                let e2 = #expect(throws: CryptoError.self) { try AESCBC.decrypt(block, key: key, iv: badIV) }
                #expect(isInvalidLength(e2), "iv \(ivSize) decrypt")
            }
        }
        // Unpadded encryption needs whole blocks.
        let key = secret([UInt8](repeating: 1, count: 16))
        for length in [1, 15, 17, 33] {
            let e = #expect(throws: CryptoError.self) {
                try AESCBC.encrypt([UInt8](repeating: 0, count: length), key: key, iv: iv, padding: false)
            }
            #expect(isInvalidLength(e), "unpadded plaintext of \(length) bytes")
        }
    }

    @Test("empty and partial-block ciphertexts throw decryptionFailed")
    func badCiphertextLengths() throws {
        let key = SecretBytes.random(count: 32)
        let iv = SecureRandom.bytes(count: 16)
        #expect(throws: CryptoError.decryptionFailed) { try AESCBC.decrypt([], key: key, iv: iv) }
        for length in [1, 15, 17, 31, 33, 47] {
            let ct = SecureRandom.bytes(count: length)
            #expect(throws: CryptoError.decryptionFailed, "\(length)") { try AESCBC.decrypt(ct, key: key, iv: iv) }
            #expect(throws: CryptoError.decryptionFailed, "\(length) raw") { try AESCBC.decrypt(ct, key: key, iv: iv, padding: false) }
        }
        // Raw mode: zero blocks in, zero blocks out.
        #expect(try AESCBC.encrypt([], key: key, iv: iv, padding: false) == [])
        #expect(try AESCBC.decrypt([], key: key, iv: iv, padding: false) == [])
        // PKCS#7 of empty input is one full padding block.
        let sealedEmpty = try AESCBC.encrypt([], key: key, iv: iv)
        #expect(sealedEmpty.count == 16)
        #expect(try AESCBC.decrypt(sealedEmpty, key: key, iv: iv) == [])
    }

    @Test("tampering gives decryptionFailed, the same error for every failure kind")
    func tampering() throws {
        let key = secret(Array(0..<32).map { UInt8($0) })
        let iv = Array(0..<16).map { UInt8(0x80 + $0) }
        let plaintext = Array("exactly thirty-two bytes of text".utf8)
        try #require(plaintext.count == 32)
        let sealed = try AESCBC.encrypt(plaintext, key: key, iv: iv)
        try #require(sealed.count == 48)

        var errors: [CryptoError] = []
        func failure(_ ct: [UInt8], key k: SecretBytes = key, _ what: String) {
            do {
                let out = try AESCBC.decrypt(ct, key: k, iv: iv)
                Issue.record("\(what): decrypted to \(out.count) bytes instead of failing")
            } catch {
                errors.append(error)
            }
        }

        // The last plaintext byte is the padding length 0x10; flipping bit 5 of the last byte
        // of the previous ciphertext block turns it into 0x30, which can never be valid.
        var badPad = sealed
        badPad[31] ^= 0x20
        failure(badPad, "padding byte 0x30")
        // Same with 0x00 (0x10 ^ 0x10).
        var zeroPad = sealed
        zeroPad[31] ^= 0x10
        failure(zeroPad, "padding byte 0x00")
        // Padding byte 0x0f with the preceding bytes still 0x10.
        var shortPad = sealed
        shortPad[31] ^= 0x1f
        failure(shortPad, "padding 0x0f over 0x10 bytes")
        // Dropping the padding block.
        failure(Array(sealed.prefix(32)), "truncated")
        // Wrong key 0xAA-masked (fixed, so the outcome is deterministic; it yields bad padding).
        failure(sealed, key: secret(Array(0..<32).map { UInt8($0 ^ 0xAA) }), "wrong key")
        // Lengths.
        failure([], "empty")
        failure(Array(sealed.prefix(47)), "47 bytes")
        failure(sealed + [0], "49 bytes")

        // Every bit of the last block: each flip either fails, or (CBC has no integrity)
        // yields a decryption whose padding really is valid and that is not the plaintext.
        var lastBlockFailures = 0
        for bit in 32 * 8 ..< 48 * 8 {
            let tampered = flippingBit(bit, of: sealed)
            do {
                let out = try AESCBC.decrypt(tampered, key: key, iv: iv)
                #expect(out != plaintext, "bit \(bit)")
                let raw = try AESCBC.decrypt(tampered, key: key, iv: iv, padding: false)
                let pad = Int(raw.last!)
                #expect((1...16).contains(pad) && raw.suffix(pad).allSatisfy { Int($0) == pad }, "bit \(bit)")
            } catch {
                errors.append(error)
                lastBlockFailures += 1
            }
        }
        #expect(lastBlockFailures >= 120, "only \(lastBlockFailures) of 128 last-block flips were rejected")

        // Many wrong keys: each fails, or decrypts to garbage whose padding really is valid
        // (about 1 in 256 does; key byte mask 0x55 is one such case for this ciphertext).
        var wrongKeyFailures = 0
        for mask in UInt8(1)...UInt8(64) {
            let wrongKey = secret(Array(0..<32).map { UInt8($0) ^ mask })
            do {
                let out = try AESCBC.decrypt(sealed, key: wrongKey, iv: iv)
                #expect(out != plaintext, "mask \(mask)")
                let raw = try AESCBC.decrypt(sealed, key: wrongKey, iv: iv, padding: false)
                let pad = Int(raw.last!)
                #expect((1...16).contains(pad) && raw.suffix(pad).allSatisfy { Int($0) == pad }, "mask \(mask)")
                #expect(out == Array(raw.dropLast(pad)), "mask \(mask)")
            } catch {
                errors.append(error)
                wrongKeyFailures += 1
            }
        }
        #expect(wrongKeyFailures >= 60, "only \(wrongKeyFailures) of 64 wrong keys were rejected")

        #expect(errors.count == 8 + lastBlockFailures + wrongKeyFailures)
        #expect(errors.allSatisfy { $0 == .decryptionFailed })
        #expect(Set(errors.map(\.description)) == ["decryption failed"])
    }

    @Test("CBC is unauthenticated: a wrong IV only garbles the first block")
    func wrongIV() throws {
        let key = SecretBytes.random(count: 16)
        let iv = SecureRandom.bytes(count: 16)
        let plaintext = SecureRandom.bytes(count: 40)
        let sealed = try AESCBC.encrypt(plaintext, key: key, iv: iv)
        let out = try AESCBC.decrypt(sealed, key: key, iv: flippingBit(3, of: iv))
        #expect(out.count == plaintext.count)
        #expect(Array(out.dropFirst(16)) == Array(plaintext.dropFirst(16)))
        #expect(out == flippingBit(3, of: plaintext))
    }

    @Test("fresh IVs give different ciphertexts")
    func ivMatters() throws {
        let key = SecretBytes.random(count: 32)
        let plaintext = Array("same message".utf8)
        let a = try AESCBC.encrypt(plaintext, key: key, iv: SecureRandom.bytes(count: 16))
        let b = try AESCBC.encrypt(plaintext, key: key, iv: SecureRandom.bytes(count: 16))
        #expect(a != b)
        #expect(AESCBC.blockSize == 16)
        #expect(AESCBC.keySizes == [16, 24, 32])
    }
}

// MARK: - Running a command-line tool

/// The first executable named `name` in `PATH` (or the usual system directories).
func findExecutable(_ name: String) -> URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let dirs = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin", "/bin"]
    for dir in dirs {
        let candidate = URL(fileURLWithPath: dir).appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return nil
}

/// Runs `tool` with `arguments`, feeding `input` on stdin; returns stdout. Throws on a
/// non-zero exit status.
func runTool(_ tool: URL, _ arguments: [String], input: [UInt8]) throws -> [UInt8] {
    let process = Process()
    process.executableURL = tool
    process.arguments = arguments
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(Data(input))
    try stdin.fileHandleForWriting.close()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    let errorOutput = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw VectorError("\(tool.path) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errorOutput, as: UTF8.self))")
    }
    return Array(output)
}
