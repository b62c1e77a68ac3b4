import Foundation
import Testing
import VaultCrypto
import VaultFormat

/// Files written by the real `minisign` 0.11 (throwaway test keys).
private enum MinisignSample {
    /// `minisign -G -W` (no password).
    static let unprotectedPub = """
        untrusted comment: minisign public key 9E9C1AA7DF61BC30
        RWQwvGHfpxqcnuXN8YMi2v+SyIWtlmpdsfpXvVtzeT5HJjXYP04obJEP

        """
    static let unprotectedKey = """
        untrusted comment: minisign encrypted secret key
        RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAMLxh36canJ5elK9FAWQMp2SC5xKDY/ZdTJ0zKk8v82AuiHhsrkaDMOXN8YMi2v+SyIWtlmpdsfpXvVtzeT5HJjXYP04obJEPAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=

        """
    /// `minisign -G` with a password.
    static let protectedPub = """
        untrusted comment: minisign public key C4CF7472B220A18C
        RWSMoSCycnTPxHCJIekOW0ZjiNr5kzAUqEesATig99qeKL7JkjBEjJga

        """
    static let protectedKey = """
        untrusted comment: minisign encrypted secret key
        RWRTY0IybdxyW8tZidzotb6raUbcwFBiyHJ6U0NZ+Feg0hzWgEcAAAACAAAAAAAAAEAAAAAAtyZ8Yes/2dRGGDri8BR+FvNpqWQZ/jn1xb6+d+YZb6YKmGr0oVWEwEMSMYmxAqGgOuRJCTe2+cM1nPmhLA8wTDjJHItxr2ACXuM4BKdTaw/iNtLxgjl6y3/xCW1IZOaBqFG9iaQo5Xk=

        """
}

@Suite struct MinisignFormat {
    @Test func aPublicKeyWrittenByMinisignParsesAndPrintsBack() throws {
        for (text, printed) in [(MinisignSample.unprotectedPub, "9E9C1AA7DF61BC30"), (MinisignSample.protectedPub, "C4CF7472B220A18C")] {
            let key = try Minisign.PublicKey(parsing: text)
            #expect(key.keyID.printed == printed)
            #expect(key.keyID.description == printed)
            #expect(key.fileText == text)
            let line = String(text.split(separator: "\n")[1])
            #expect(key.line == line)
            // The bare key line parses too.
            #expect(try Minisign.PublicKey(parsing: line) == key)
            #expect(try Minisign.PublicKey(parsing: line + "\n") == key)
            #expect(try Minisign.PublicKey(line: Substring(line)) == key)
            // Raw layout: "Ed" ‖ key id bytes ‖ 32-byte key.
            let raw = try Base64.decode(line)
            #expect(Array(raw[2..<10]) == key.keyID.bytes)
            #expect(Array(raw[10..<42]) == key.key)
        }
    }

    @Test func keyIDsPrintReversedAndUppercase() throws {
        let id = Minisign.KeyID(bytes: [0x30, 0xBC, 0x61, 0xDF, 0xA7, 0x1A, 0x9C, 0x9E])
        #expect(id.printed == "9E9C1AA7DF61BC30")
        #expect(Minisign.KeyID(printed: "9E9C1AA7DF61BC30") == id)
        #expect(Minisign.KeyID(printed: "9e9c1aa7df61bc30") == id)
        #expect(Minisign.KeyID(bytes: [1, 2, 3, 4, 5, 6, 7, 0xAB]).printed == "AB07060504030201")
        // Fewer digits are minisign's own spelling of an id with leading zeros.
        #expect(Minisign.KeyID(printed: "9E9C1AA7DF61BC3")?.printed == "09E9C1AA7DF61BC3")
        for bad in ["", "9E9C1AA7DF61BC300", "9E9C1AA7DF61BC3G", "0x9C1AA7DF61BC30"] {
            #expect(Minisign.KeyID(printed: bad) == nil, "\(bad)")
        }
        for _ in 0..<20 {
            let bytes = (0..<8).map { _ in UInt8.random(in: 0...255) }
            let id = Minisign.KeyID(bytes: bytes)
            #expect(id.printed == Hex.encode(Array(bytes.reversed())).uppercased())
            #expect(Minisign.KeyID(printed: id.printed) == id)
        }
    }

    @Test func malformedPublicKeys() {
        let line = "RWQwvGHfpxqcnuXN8YMi2v+SyIWtlmpdsfpXvVtzeT5HJjXYP04obJEP"
        let cases: [(String, String)] = [
            ("", "expected a comment line and a key line"),
            ("comment\n\(line)\n", "starts with 'untrusted comment: '"),
            ("untrusted comment: x\n\(line)\nextra\n", "expected a comment line and a key line"),
            ("untrusted comment: x\nRWQwvGHf\n", "not base64 of 42 bytes"),
            ("untrusted comment: x\n" + Base64.encode(Array("Xd".utf8) + [UInt8](repeating: 1, count: 40)) + "\n", "unsupported public key algorithm"),
        ]
        for (text, words) in cases {
            do {
                _ = try Minisign.PublicKey(parsing: text)
                Issue.record("parsed \(text)")
            } catch {
                #expect(error.description.hasPrefix("malformed minisign file: "))
                #expect(error.description.contains(words), "\(error.description)")
            }
        }
    }

    @Test func secretKeyFilesRoundTripByteForByte() throws {
        let plain = try Minisign.SecretKeyFile(parsing: Array(MinisignSample.unprotectedKey.utf8))
        #expect(plain.kdf == .none)
        #expect(plain.comment == "minisign encrypted secret key")
        #expect(plain.opsLimit == 0 && plain.memLimit == 0)
        #expect(plain.salt == [UInt8](repeating: 0, count: 32))
        #expect(plain.serialized() == Array(MinisignSample.unprotectedKey.utf8))
        // Unprotected: keynumSK is key id ‖ seed ‖ public key ‖ checksum, matching the .pub file.
        let pub = try Minisign.PublicKey(parsing: MinisignSample.unprotectedPub)
        plain.keynumSK.withUnsafeBytes { raw in
            #expect(Array(raw[0..<8]) == pub.keyID.bytes)
            #expect(Array(raw[40..<72]) == pub.key)
        }

        let sealed = try Minisign.SecretKeyFile(parsing: Array(MinisignSample.protectedKey.utf8))
        #expect(sealed.kdf == .scrypt)
        #expect(sealed.opsLimit == Minisign.defaultOpsLimit)
        #expect(sealed.memLimit == Minisign.defaultMemLimit)
        #expect(sealed.serialized() == Array(MinisignSample.protectedKey.utf8))
        #expect(sealed.keynumSK.count == 104)

        // Built from fields, serialised, parsed back.
        let built = Minisign.SecretKeyFile(comment: "custom comment", kdf: .scrypt, salt: (0..<32).map { UInt8($0) },
                                           opsLimit: 1 << 20, memLimit: 1 << 24, keynumSK: SecretBytes(copying: (0..<104).map { UInt8($0 * 3 & 0xFF) }))
        let bytes = built.serialized()
        #expect(bytes.starts(with: Array("untrusted comment: custom comment\n".utf8)))
        let back = try Minisign.SecretKeyFile(parsing: bytes)
        #expect(back.comment == built.comment && back.kdf == built.kdf && back.salt == built.salt)
        #expect(back.opsLimit == built.opsLimit && back.memLimit == built.memLimit && back.keynumSK == built.keynumSK)
        #expect(back.serialized() == bytes)
        // CRLF and trailing blank lines are accepted.
        let crlf = Array(MinisignSample.protectedKey.replacingOccurrences(of: "\n", with: "\r\n").utf8) + Array("\n\n".utf8)
        #expect(try Minisign.SecretKeyFile(parsing: crlf).serialized() == Array(MinisignSample.protectedKey.utf8))
    }

    @Test func malformedSecretKeysNeverQuoteTheKey() throws {
        let keyLine = String(MinisignSample.unprotectedKey.split(separator: "\n")[1])
        var raw = try Base64.decode(keyLine)
        func file(_ bytes: [UInt8]) -> [UInt8] { Array("untrusted comment: x\n\(Base64.encode(bytes))\n".utf8) }
        var badAlg = raw; badAlg[0] = UInt8(ascii: "X")
        var badKDF = raw; badKDF[2] = UInt8(ascii: "A"); badKDF[3] = UInt8(ascii: "r")
        var badChk = raw; badChk[4] = UInt8(ascii: "S")
        let cases: [([UInt8], String)] = [
            (Array("untrusted comment: x\n".utf8), "a comment line and a key line"),
            (Array("comment\n\(keyLine)\n".utf8), "starts with 'untrusted comment: '"),
            (Array("untrusted comment: x\n\(keyLine.dropLast(8))\n".utf8), "not base64 of 158 bytes"),
            (file(badAlg), "expected Ed"),
            (file(badKDF), "expected Sc or none"),
            (file(badChk), "expected B2"),
        ]
        for (bytes, words) in cases {
            do {
                _ = try Minisign.SecretKeyFile(parsing: bytes)
                Issue.record("parsed a damaged secret key (\(words))")
            } catch {
                #expect(error.description.contains(words), "\(error.description)")
                #expect(!error.description.contains(String(keyLine.dropFirst(80).prefix(40))))
            }
        }
        wipe(&raw)
    }

    @Test func aKeyJustMadeByMinisignParses() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avault-minisign-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pub = dir.appendingPathComponent("k.pub").path, sec = dir.appendingPathComponent("k.key").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["minisign", "-G", "-W", "-p", pub, "-s", sec]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "the real 'minisign' binary must be on PATH (apt-get install minisign)")

        let pubText = try String(contentsOfFile: pub, encoding: .utf8)
        let key = try Minisign.PublicKey(parsing: pubText)
        // minisign prints the id in its comment without leading zeros; ours pads to 16 digits.
        #expect(pubText.hasPrefix("untrusted comment: minisign public key \(key.keyID.minisignText)\n"))
        #expect(key.keyID.printed.hasSuffix(key.keyID.minisignText) && key.keyID.printed.count == 16)
        #expect(Minisign.KeyID(printed: key.keyID.minisignText) == key.keyID)
        #expect(key.fileText == pubText)
        let secBytes = Array(try Data(contentsOf: URL(fileURLWithPath: sec)))
        let secret = try Minisign.SecretKeyFile(parsing: secBytes)
        #expect(secret.serialized() == secBytes)
        secret.keynumSK.withUnsafeBytes { raw in
            #expect(Array(raw[0..<8]) == key.keyID.bytes)
            #expect(Array(raw[40..<72]) == key.key)
        }
    }
}

@Suite struct MinisignKeyIDText {
    /// minisign prints key ids with `%PRIX64`: an id whose top nibble is zero has 15 digits.
    @Test func leadingZerosAreDroppedOnlyInMinisignsOwnText() throws {
        let id = Minisign.KeyID(bytes: [0xE6, 0x1E, 0x2C, 0x0B, 0x3F, 0xC8, 0x6B, 0x0E])
        #expect(id.printed == "0E6BC83F0B2C1EE6")
        #expect(id.minisignText == "E6BC83F0B2C1EE6")
        #expect(Minisign.KeyID(printed: "E6BC83F0B2C1EE6") == id)
        #expect(Minisign.KeyID(printed: "0e6bc83f0b2c1ee6") == id)
        #expect(Minisign.KeyID(printed: "") == nil)
        #expect(Minisign.KeyID(printed: "10E6BC83F0B2C1EE6") == nil)
        let key = Minisign.PublicKey(keyID: id, key: [UInt8](repeating: 7, count: 32))
        #expect(key.fileText.hasPrefix("untrusted comment: minisign public key E6BC83F0B2C1EE6\n"))
    }
}
