import Foundation
import Testing
import VaultCrypto
import VaultFormat

/// Deterministic, recognisable bytes: `count` bytes starting at `start`, stepping by 7.
private func ringBytes(_ count: Int, _ start: UInt8) -> [UInt8] {
    (0..<count).map { start &+ UInt8(truncatingIfNeeded: $0 &* 7) }
}

/// Typed values from literals the tests write (a typo is a test bug, so it traps).
private func cid(_ hex: String) -> KeyIdentifier { KeyIdentifier(hex, kind: .content)! }
private func sid(_ printed: String) -> KeyIdentifier { KeyIdentifier(printed, kind: .signing)! }
private func ts(_ text: String) -> Timestamp { Timestamp(text)! }

/// A keyring with every kind of entry: sealed, plain, retired, ed25519, legacy.
private enum RingSample {
    static let salt = ringBytes(16, 1)
    static let check = KeyringFile.Sealed(nonce: ringBytes(24, 2), ciphertext: ringBytes(KeyringFile.checkPlaintext.count + 16, 3))
    static let legacySealed = KeyringFile.Sealed(nonce: ringBytes(24, 4), ciphertext: ringBytes(16 + 16, 5))
    static let signerSealed = KeyringFile.Sealed(nonce: ringBytes(24, 6), ciphertext: ringBytes(64 + 16, 7))
    static let signerPublic = ringBytes(32, 8)
    static let plainV1 = ringBytes(32, 9)
    static let plainV2 = ringBytes(32, 10)
    static let legacyPlain = ringBytes(32, 11)
    static let mac = ringBytes(32, 12)
    static let vaultA = String(repeating: "0a", count: 16)
    static let vaultB = String(repeating: "f1", count: 16)
    static let hashA = String(repeating: "3c", count: 32)
    static let hashB = String(repeating: "d9", count: 32)

    static var file: KeyringFile {
        KeyringFile(
            kdf: KeyringFile.KDF(opsLimit: 2, memLimit: 67_108_864, salt: salt, check: check),
            entries: [
                // Deliberately out of order: serialisation sorts by name, then version.
                .init(algorithm: .xchacha20poly1305, id: cid("aaaaaaaaaaaaaaa2"), name: "throwaway", version: 2,
                      created: ts("2026-02-01T00:00:00Z"), secret: .plain(SecretBytes(copying: plainV2))),
                .init(algorithm: .xchacha20poly1305, id: cid("aaaaaaaaaaaaaaa1"), name: "throwaway", version: 1,
                      created: ts("2026-01-01T00:00:00Z"), retired: ts("2026-02-02T00:00:00Z"), secret: .plain(SecretBytes(copying: plainV1))),
                .init(algorithm: .ed25519, id: sid("DD1DCD57B4617B83"), name: "signer", version: 1, created: ts("2024-02-29T23:59:59Z"),
                      publicKey: signerPublic, secret: .sealed(signerSealed)),
                .init(algorithm: .aes128cbc, id: cid("0496d287e7cf792a"), name: "legacy", version: 1, created: ts("2023-04-28T15:52:00Z"),
                      retired: ts("2025-12-31T23:59:59Z"), secret: .sealed(legacySealed)),
                .init(algorithm: .aes256cbc, id: cid("b2865b0bb7376982"), name: "legacy", version: 2, created: ts("2025-12-31T23:00:00Z"),
                      secret: .plain(SecretBytes(copying: legacyPlain))),
            ],
            // Deliberately out of order: serialisation sorts by vault id.
            vaultHeads: [.init(vaultID: vaultB, seq: UInt64.max, hash: hashB, anchor: .init(line: UInt64.max, first: hashA)),
                         .init(vaultID: vaultA, seq: 7, hash: hashA)],
            mac: mac)
    }

    static func b64(_ b: [UInt8]) -> String { Base64.encode(b) }
    static func sealedText(_ s: KeyringFile.Sealed) -> String { b64(s.nonce) + ";" + b64(s.ciphertext) }

    /// The expected text, line by line (line n of the file is `lines[n - 1]`).
    static var lines: [String] {
        [
            "avault-keyring v2",                                                  // 1
            "kdf: argon2id 2 67108864 \(b64(salt))",                              // 2
            "check: \(sealedText(check))",                                        // 3
            "",                                                                   // 4
            "key: aes128-cbc 0496d287e7cf792a legacy 1",                          // 5
            "created: 2023-04-28T15:52:00Z",                                      // 6
            "status: retired 2025-12-31T23:59:59Z",                               // 7
            "secret: sealed \(sealedText(legacySealed))",                         // 8
            "",                                                                   // 9
            "key: aes256-cbc b2865b0bb7376982 legacy 2",                          // 10
            "created: 2025-12-31T23:00:00Z",                                      // 11
            "status: active",                                                     // 12
            "secret: plain \(b64(legacyPlain))",                                  // 13
            "",                                                                   // 14
            "key: ed25519 DD1DCD57B4617B83 signer 1",                             // 15
            "created: 2024-02-29T23:59:59Z",                                      // 16
            "status: active",                                                     // 17
            "public: \(b64(signerPublic))",                                       // 18
            "secret: sealed \(sealedText(signerSealed))",                         // 19
            "",                                                                   // 20
            "key: xchacha20poly1305 aaaaaaaaaaaaaaa1 throwaway 1",                // 21
            "created: 2026-01-01T00:00:00Z",                                      // 22
            "status: retired 2026-02-02T00:00:00Z",                               // 23
            "secret: plain \(b64(plainV1))",                                      // 24
            "",                                                                   // 25
            "key: xchacha20poly1305 aaaaaaaaaaaaaaa2 throwaway 2",                // 26
            "created: 2026-02-01T00:00:00Z",                                      // 27
            "status: active",                                                     // 28
            "secret: plain \(b64(plainV2))",                                      // 29
            "",                                                                   // 30
            "vault: \(vaultA) 7 \(hashA)",                                        // 31
            "vault: \(vaultB) 18446744073709551615 \(hashB) 18446744073709551615 \(hashA)", // 32
            "",                                                                   // 33
            "mac: \(b64(mac))",                                                   // 34
        ]
    }

    /// The same keyring as version 1 wrote it: no vault heads, no `mac:` line.
    static var v1Text: String {
        (["avault-keyring v1"] + lines[1..<29]).joined(separator: "\n") + "\n"
    }

    static var text: String { lines.joined(separator: "\n") + "\n" }

    /// The text with line `n` (1-based) replaced by `replacement` (nil removes it).
    static func text(replacingLine n: Int, with replacement: String?) -> String {
        var l = lines
        if let replacement { l[n - 1] = replacement } else { l.remove(at: n - 1) }
        return l.joined(separator: "\n") + "\n"
    }

    /// Every secret's base64 (and its hex), none of which may appear in an error.
    static var secretForms: [String] {
        [plainV1, plainV2, legacyPlain].flatMap { [b64($0), Hex.encode($0)] }
    }
}

@Suite struct KeyringFileFormat {
    @Test func serialiseParseSerialiseIsIdentical() throws {
        let original = RingSample.file
        let text = original.serialized()
        #expect(text == RingSample.text)
        let parsed = try KeyringFile(parsing: text)
        #expect(parsed.serialized() == text)
        // Parsed entries come out in file order (sorted), equal to the originals.
        let sorted = original.entries.sorted { ($0.name, $0.version) < ($1.name, $1.version) }
        #expect(parsed.entries == sorted)
        #expect(parsed.kdf == original.kdf)
        #expect(parsed.vaultHeads.map(\.vaultID) == [RingSample.vaultA, RingSample.vaultB])
        #expect(parsed.vaultHeads.last?.seq == UInt64.max)
        #expect(parsed.mac == RingSample.mac)
        #expect(parsed == KeyringFile(kdf: original.kdf, entries: sorted, vaultHeads: parsed.vaultHeads, mac: RingSample.mac))
        // What the authentication code covers: everything before the last line.
        #expect(parsed.authenticatedText() + "mac: \(RingSample.b64(RingSample.mac))\n" == text)
        #expect(KeyringFile.macLine(nil) == "mac: none\n")
        // Spot checks of parsed fields.
        let signer = try #require(parsed.entries.first { $0.name == "signer" })
        #expect(signer.publicKey == RingSample.signerPublic)
        #expect(signer.secret == .sealed(RingSample.signerSealed))
        let t1 = try #require(parsed.entries.first { $0.name == "throwaway" && $0.version == 1 })
        #expect(t1.retired?.text == "2026-02-02T00:00:00Z" && t1.retired?.seconds == 1_769_990_400)
        #expect(t1.secret == .plain(SecretBytes(copying: RingSample.plainV1)))
        // Parsing the text a second time gives the same value.
        #expect(try KeyringFile(parsing: parsed.serialized()) == parsed)
    }

    @Test func aKeyringWithoutPassphraseRoundTrips() throws {
        let file = KeyringFile(kdf: nil, entries: [
            .init(algorithm: .aes192cbc, id: cid("0123456789abcdef"), name: "x.y_z-1", version: 3, created: ts("2026-11-27T12:00:00z"),
                  secret: .plain(SecretBytes(copying: ringBytes(24, 42)))),
        ])
        let text = file.serialized()
        #expect(text.hasPrefix("avault-keyring v2\nkdf: none\n\nkey: aes192-cbc 0123456789abcdef x.y_z-1 3\n"))
        #expect(text.hasSuffix("\n\nmac: none\n"))
        let parsed = try KeyringFile(parsing: text)
        #expect(parsed == file)
        #expect(parsed.serialized() == text)
        #expect(try KeyringFile(parsing: "avault-keyring v2\nkdf: none\n\nmac: none\n") == KeyringFile())
        #expect(KeyringFile().serialized() == "avault-keyring v2\nkdf: none\n\nmac: none\n")
        // Vault heads alone (an unprotected keyring remembers them too, unauthenticated).
        let heads = "avault-keyring v2\nkdf: none\n\nvault: \(RingSample.vaultA) 0 \(RingSample.hashA)\n\nmac: none\n"
        #expect(try KeyringFile(parsing: heads).serialized() == heads)
    }

    /// A head may carry the digest of a vault to recipients' data key (after its anchor, if
    /// any), then, only with both, the digest of its recipients; the `at:` block records which
    /// vault was used at each location (formats.md 4).
    @Test func dataKeysAndPlacesRoundTripAndParseStrictly() throws {
        let (a, b) = (RingSample.vaultA, RingSample.vaultB)
        let (h1, h2) = (RingSample.hashA, RingSample.hashB)
        let lines = ["avault-keyring v2", "kdf: none", "",
                     "vault: \(a) 7 \(h1) \(h2)", "vault: \(b) 8 \(h2) 3 \(h1) \(h1) \(h2)", "",
                     "at: \(h1) \(b)", "at: \(h2) \(a)", "", "mac: none"]
        let text = lines.joined(separator: "\n") + "\n"
        let parsed = try KeyringFile(parsing: text)
        #expect(parsed.vaultHeads == [.init(vaultID: a, seq: 7, hash: h1, anchor: nil, dataKey: h2),
                                      .init(vaultID: b, seq: 8, hash: h2, anchor: .init(line: 3, first: h1), dataKey: h1, recipients: h2)])
        #expect(parsed.places == [.init(location: h1, vaultID: b), .init(location: h2, vaultID: a)])
        #expect(parsed.serialized() == text)
        // Places alone.
        let places = "avault-keyring v2\nkdf: none\n\nat: \(h1) \(a)\n\nmac: none\n"
        #expect(try KeyringFile(parsing: places).serialized() == places)

        let damaged: [(line: Int, replacement: String?, expected: Int, words: String)] = [
            (4, "vault: \(a) 7 \(h1) \(h2.uppercased())", 4, "expected 'vault:"),
            (4, "vault: \(a) 7 \(h1) \(h2) \(h2)", 4, "expected 'vault:"),
            (5, "vault: \(b) 8 \(h2) 3 \(h1) \(h1) \(h1) \(h1)", 5, "expected 'vault:"),
            (5, "vault: \(b) 8 \(h2) 3 \(h1) \(h1) \(h2.uppercased())", 5, "expected 'vault:"),
            (5, "vault: \(b) 8 \(h2) \(h1) \(h1) \(h1) \(h2)", 5, "expected 'vault:"),
            (7, "at: \(h1.uppercased()) \(b)", 7, "expected 'at: <64 hex digits> <32 hex digits>'"),
            (7, "at: \(h1) \(b) \(a)", 7, "expected 'at:"),
            (7, "at: \(h1)", 7, "expected 'at:"),
            (8, "at: \(h1) \(a)", 8, "location \(h1) appears twice"),
            (7, "at: \(h2) \(b)", 8, "appears twice"),
            (8, "at: \(String(repeating: "00", count: 32)) \(a)", 8, "'at:' lines out of order"),
            (8, "vault: \(b) 9 \(h2)", 8, "expected a blank line"),
            (9, "mac: none", 9, "expected a blank line"),
            (10, "key: aes128-cbc 1496d287e7cf792a zzz 1", 10, "keys come before the vault heads"),
        ]
        for (line, replacement, expected, words) in damaged {
            var changed = lines
            if let replacement { changed[line - 1] = replacement } else { changed.remove(at: line - 1) }
            #expect(throws: FormatError.self, "line \(line) replaced by \(replacement ?? "nothing")") {
                try KeyringFile(parsing: changed.joined(separator: "\n") + "\n")
            }
            do { _ = try KeyringFile(parsing: changed.joined(separator: "\n") + "\n") } catch {
                #expect(error.description.contains("line \(expected): ") && error.description.contains(words), "\(error.description)")
            }
        }
        // The 'at:' block comes after the vault heads.
        let swapped = ["avault-keyring v2", "kdf: none", "", "at: \(h1) \(b)", "", "vault: \(a) 7 \(h1)", "", "mac: none"]
        #expect(throws: FormatError.invalidKeyring("vault heads come before the 'at:' lines", line: 6)) {
            try KeyringFile(parsing: swapped.joined(separator: "\n") + "\n")
        }
    }

    @Test func version1IsReadOnlyByTheUpgradeParser() throws {
        #expect(KeyringFile.formatVersion(of: RingSample.v1Text) == 1)
        #expect(KeyringFile.formatVersion(of: RingSample.text) == 2)
        #expect(KeyringFile.formatVersion(of: "avault-keyring v3\n") == nil)
        #expect(KeyringFile.formatVersion(of: "") == nil)
        #expect(throws: FormatError.invalidKeyring("a version 1 keyring ('avault-keyring v1'): upgrade it with 'avault keys upgrade'", line: 1)) {
            try KeyringFile(parsing: RingSample.v1Text)
        }
        let v1 = try KeyringFile(parsingVersion1: RingSample.v1Text)
        #expect(v1.entries == RingSample.file.entries.sorted { ($0.name, $0.version) < ($1.name, $1.version) })
        #expect(v1.vaultHeads.isEmpty && v1.mac == nil)
        // Version 1 took entries in any order; version 2 does not.
        var shuffled = RingSample.v1Text.components(separatedBy: "\n\n")
        shuffled.swapAt(1, 2)
        #expect(try KeyringFile(parsingVersion1: shuffled.joined(separator: "\n\n")).entries.count == 5)
        #expect(throws: FormatError.self) { try KeyringFile(parsingVersion1: RingSample.text) }
    }

    /// (line to change, replacement or nil to delete, expected line in the error, words in the error).
    static let damaged: [(Int, String?, Int?, String)] = [
        (1, "avault-keyring v3", 1, "not an avault keyring (expected 'avault-keyring v2')"),
        (1, "avault-keyring v1", 1, "a version 1 keyring"),
        (2, "kdf: scrypt 1 2 AAAA", 2, "expected 'kdf: argon2id"),
        (2, "kdf: argon2id 2 67108864 AAAA", 2, "16-byte salt"),
        (2, "kdf: argon2id 02 67108864 \(RingSample.b64(RingSample.salt))", 2, "expected 'kdf: argon2id"),
        (2, "kdf: argon2id +2 67108864 \(RingSample.b64(RingSample.salt))", 2, "expected 'kdf: argon2id"),
        (2, "kdf: argon2id 2 18446744073709551616 \(RingSample.b64(RingSample.salt))", 2, "at most 18446744073709551615"),
        (2, "kdf: none", 3, "expected a blank line"),
        (3, "check: AAAA", 3, "expected '<base64 24-byte nonce>;<base64 ciphertext>'"),
        (3, "nocheck: x", 3, "expected 'check: …'"),
        (4, "junk", 4, "expected a blank line"),
        (5, "key: aes512-cbc 0496d287e7cf792a legacy 1", 5, "expected 'key: <algorithm> <id> <name> <version>'"),
        (5, "key: aes128-cbc 0496d287e7cf792a legacy 0", 5, "expected 'key:"),
        (5, "key: aes128-cbc 0496d287e7cf792a legacy 01", 5, "expected 'key:"),
        (5, "key: aes128-cbc 0496d287e7cf792a legacy", 5, "expected 'key:"),
        (5, "key: aes128-cbc 0496d287e7cf792a legacy 9223372036854775808", 5, "expected 'key:"),
        (10, "key: aes256-cbc b2865b0bb7376982 legacy 1000001", 10, "beyond the last a key may have (1000000)"),
        (5, "key: aes128-cbc 0496D287E7CF792A legacy 1", 5, "malformed key id"),
        (5, "key: aes128-cbc 0496d287e7cf79 legacy 1", 5, "malformed key id"),
        (15, "key: ed25519 dd1dcd57b4617b83 signer 1", 15, "malformed key id"),
        (5, "key: aes128-cbc 0496d287e7cf792a .legacy 1", 5, "invalid key name"),
        (10, "key: aes256-cbc 0496d287e7cf792a legacy 2", 10, "key id 0496d287e7cf792a appears twice"),
        (15, "key: ed25519 DD1DCD57B4617B83 alpha 1", 15, "keys out of order"),
        (33, "key: aes128-cbc 1496d287e7cf792a zzz 1", 33, "expected a blank line"),
        (6, "created: 2023-02-29T00:00:00Z", 6, "'created' is not an RFC 3339 time"),
        (7, "status: retired", 7, "expected 'status: active' or 'status: retired <time>'"),
        // Typed when parsed: a time or an id that does not parse is the parser's named error.
        (7, "status: retired 2025-13-01T00:00:00Z", 7, "expected 'status: active' or 'status: retired <time>'"),
        (7, "status: retired 2025-12-31 23:59:59Z", 7, "expected 'status: active' or 'status: retired <time>'"),
        (6, "created: 2023-04-28T15:52:00", 6, "'created' is not an RFC 3339 time"),
        (6, "created: ", 6, "'created' is not an RFC 3339 time"),
        (15, "key: ed25519 DD1DCD57B4617B8 signer 1", 15, "malformed key id"),
        (15, "key: ed25519 DD1DCD57B4617B8G signer 1", 15, "malformed key id"),
        (7, "status: gone", 7, "expected 'status:"),
        (8, "secret: sealed \(RingSample.sealedText(RingSample.signerSealed))", 8, "sealed secret has the wrong size for aes128-cbc"),
        (19, "secret: sealed \(RingSample.sealedText(RingSample.legacySealed))", 19, "sealed secret has the wrong size for ed25519"),
        (8, "secret: hidden AAAA", 8, "expected 'secret: sealed …' or 'secret: plain …'"),
        (13, "secret: plain \(Base64.encode(ringBytes(16, 11)))", 13, "malformed plain secret (expected base64 of 32 bytes)"),
        (13, "secret: plain \(String(Base64.encode(ringBytes(32, 11)).dropLast(2)))", 13, "malformed plain secret"),
        (18, "public: \(Base64.encode(ringBytes(31, 8)))", 18, "expected 'public: <base64 32-byte key>'"),
        (18, nil, 18, "expected 'public: …'"),
        (24, nil, 24, "expected 'secret: …'"),
        (15, "key: ed25519 DD1DCD57B4617B83 signer 1 extra", 15, "expected 'key:"),
        // Vault heads.
        (31, "vault: \(RingSample.vaultA.uppercased()) 7 \(RingSample.hashA)", 31, "expected 'vault: <32 hex digits> <seq> <64 hex digits> [<line> <64 hex digits>] [<64 hex digits>]'"),
        (31, "vault: \(RingSample.vaultA) 07 \(RingSample.hashA)", 31, "expected 'vault:"),
        (31, "vault: \(RingSample.vaultA) -7 \(RingSample.hashA)", 31, "expected 'vault:"),
        (31, "vault: \(RingSample.vaultA) 18446744073709551616 \(RingSample.hashA)", 31, "at most 18446744073709551615"),
        (31, "vault: \(RingSample.vaultA) 7", 31, "expected 'vault:"),
        (31, "vault: \(RingSample.vaultA) 7 \(RingSample.hashA) x", 31, "expected 'vault:"),
        (31, "vault: \(String(RingSample.vaultA.dropLast(2))) 7 \(RingSample.hashA)", 31, "expected 'vault:"),
        (32, "vault: \(RingSample.vaultA) 8 \(RingSample.hashB)", 32, "vault \(RingSample.vaultA) appears twice"),
        (31, "vault: \(RingSample.vaultB) 8 \(RingSample.hashB)", 32, "appears twice"),
        (32, "vault: \(String(repeating: "00", count: 16)) 8 \(RingSample.hashB)", 32, "vault heads out of order"),
        // A head's anchor: its line (from 1, decimal) and the first line's hash, both or neither.
        (32, "vault: \(RingSample.vaultB) 8 \(RingSample.hashB) 0 \(RingSample.hashA)", 32, "line from 1"),
        (32, "vault: \(RingSample.vaultB) 8 \(RingSample.hashB) 07 \(RingSample.hashA)", 32, "expected 'vault:"),
        (32, "vault: \(RingSample.vaultB) 8 \(RingSample.hashB) 18446744073709551616 \(RingSample.hashA)", 32, "expected 'vault:"),
        (32, "vault: \(RingSample.vaultB) 8 \(RingSample.hashB) 7", 32, "[<line> <64 hex digits>]"),
        (32, "vault: \(RingSample.vaultB) 8 \(RingSample.hashB) 7 \(RingSample.hashA.uppercased())", 32, "expected 'vault:"),
        (32, "vault: \(RingSample.vaultB) 8 \(RingSample.hashB) 7 \(RingSample.hashA) 7", 32, "expected 'vault:"),
        // The authentication code.
        (34, "mac: none", 34, "'mac: none' in a keyring with a passphrase"),
        (34, "mac: \(Base64.encode(ringBytes(31, 12)))", 34, "expected 'mac: <base64 32-byte code>' or 'mac: none'"),
        (34, "mac:", 34, "expected 'mac: …' after the vault heads"),
        (34, "key: aes128-cbc 1496d287e7cf792a zzz 1", 34, "keys come before the vault heads"),
        (34, nil, 34, "expected 'mac: …' after the last blank line"),
    ]

    @Test(arguments: 0..<damaged.count)
    func parseErrorsNameTheLineAndNeverQuoteASecret(index: Int) {
        let (line, replacement, expectedLine, words) = Self.damaged[index]
        let text = RingSample.text(replacingLine: line, with: replacement)
        do {
            _ = try KeyringFile(parsing: text)
            Issue.record("parsed a keyring with line \(line) damaged")
        } catch {
            let description = error.description
            #expect(description.hasPrefix("malformed keyring: line " + (expectedLine.map { "\($0): " } ?? "")), "\(description)")
            #expect(description.contains(words), "\(description)")
            for secret in RingSample.secretForms + [String(Base64.encode(ringBytes(32, 11)).dropLast(2))] {
                #expect(!description.contains(secret))
            }
            guard case .invalidKeyring(_, let n) = error else { Issue.record("wrong case \(error)"); return }
            if let expectedLine { #expect(n == expectedLine) }
        }
    }

    @Test func duplicateNameAndVersionNamesTheSecondHeader() throws {
        // Make throwaway 2 claim version 1 (with a different id).
        let text = RingSample.text(replacingLine: 26, with: "key: xchacha20poly1305 aaaaaaaaaaaaaaa2 throwaway 1")
        #expect(throws: FormatError.invalidKeyring("key 'throwaway' version 1 appears twice", line: 26)) {
            try KeyringFile(parsing: text)
        }
    }

    @Test func wholeFileErrors() {
        #expect(throws: FormatError.invalidKeyring("the file does not end with a newline", line: 34)) {
            try KeyringFile(parsing: String(RingSample.text.dropLast()))
        }
        #expect(throws: FormatError.invalidKeyring("not an avault keyring (expected 'avault-keyring v2')", line: 1)) {
            try KeyringFile(parsing: "")
        }
        #expect(throws: FormatError.invalidKeyring("expected 'kdf: …'", line: 2)) {
            try KeyringFile(parsing: "avault-keyring v2\n")
        }
        #expect(throws: FormatError.invalidKeyring("expected a blank line and 'mac: …' at the end", line: 3)) {
            try KeyringFile(parsing: "avault-keyring v2\nkdf: none\n")
        }
        // Sealed secrets without a KDF.
        var noKDF = RingSample.lines.enumerated().filter { $0.offset != 2 }.map { $0.offset == 1 ? "kdf: none" : $0.element }
        noKDF[noKDF.count - 1] = "mac: none"
        #expect(throws: FormatError.invalidKeyring("sealed secrets but 'kdf: none'", line: 2)) {
            try KeyringFile(parsing: noKDF.joined(separator: "\n") + "\n")
        }
        // An authentication code without a passphrase.
        let plainOnly = "avault-keyring v2\nkdf: none\n\nmac: \(RingSample.b64(RingSample.mac))\n"
        #expect(throws: FormatError.invalidKeyring("an authentication code in a keyring without passphrase ('kdf: none')", line: 4)) {
            try KeyringFile(parsing: plainOnly)
        }
        // Anything after the mac line.
        #expect(throws: FormatError.invalidKeyring("nothing may follow the 'mac:' line", line: 35)) {
            try KeyringFile(parsing: RingSample.text + "\n")
        }
        #expect(throws: FormatError.self) { try KeyringFile(parsing: RingSample.text + "key: x\n") }
        // CRLF line endings are not accepted.
        #expect(throws: FormatError.self) {
            try KeyringFile(parsing: RingSample.lines.joined(separator: "\r\n") + "\r\n")
        }
    }

    /// Every text that parses serialises back to the same bytes (which is what makes the
    /// authentication code over the bytes and over the values the same thing).
    @Test func everyAcceptedTextIsCanonical() throws {
        var texts = [RingSample.text, KeyringFile().serialized()]
        for (line, replacement, _, _) in Self.damaged { texts.append(RingSample.text(replacingLine: line, with: replacement)) }
        for n in 1...RingSample.lines.count { texts.append(RingSample.text(replacingLine: n, with: nil)) }
        var accepted = 0
        for text in texts {
            guard let parsed = try? KeyringFile(parsing: text) else { continue }
            accepted += 1
            #expect(parsed.serialized() == text)
        }
        #expect(accepted >= 2)
    }

    @Test func namesAndAssociatedData() {
        for good in ["a", "A-b_c.d", "0", "x.", String(repeating: "z", count: 64)] { #expect(KeyringFile.isValidName(good), "\(good)") }
        for bad in ["", ".a", "-a", "a b", "a/b", "é", "a;b", String(repeating: "z", count: 65)] { #expect(!KeyringFile.isValidName(bad), "\(bad)") }
        let e = RingSample.file.entries[2]
        #expect(e.associatedData == Array("avault/keyring/v2;ed25519;DD1DCD57B4617B83;signer;1".utf8))
        #expect(e.associatedDataV1 == Array("avault/keyring/v1;ed25519;DD1DCD57B4617B83;signer;1".utf8))
        #expect(KeyringFile.checkAssociatedData == Array("avault/keyring/v2;check".utf8))
        #expect(KeyringFile.isLowercaseHex(RingSample.vaultA, count: 32))
        #expect(!KeyringFile.isLowercaseHex(RingSample.vaultA.uppercased(), count: 32))
        #expect(!KeyringFile.isLowercaseHex(RingSample.vaultA, count: 64))
        #expect(KeyringFile.Algorithm.aes(size: 16) == .aes128cbc)
        #expect(KeyringFile.Algorithm.aes(size: 24) == .aes192cbc)
        #expect(KeyringFile.Algorithm.aes(size: 32) == .aes256cbc)
        #expect(KeyringFile.Algorithm.aes(size: 64) == nil)
        #expect(KeyringFile.Algorithm.allCases.map(\.kind.rawValue) == ["content", "legacy", "legacy", "legacy", "signing", "identity"])
    }

    @Test func identitiesCarryTheirPublicKeyAndRoundTrip() throws {
        let entry = KeyringFile.Entry(algorithm: .x25519, id: cid("4617e4baf1a1ea2f"), name: "desk", version: 1, created: ts("2026-01-31T12:00:00Z"),
                                      publicKey: [UInt8](repeating: 7, count: 32), secret: .plain(SecretBytes(copying: [UInt8](repeating: 9, count: 32))))
        let text = KeyringFile(entries: [entry]).serialized()
        #expect(text.contains("\nkey: x25519 4617e4baf1a1ea2f desk 1\ncreated: 2026-01-31T12:00:00Z\nstatus: active\npublic: "))
        let parsed = try KeyringFile(parsing: text)
        #expect(parsed.serialized() == text)
        #expect(parsed.entries.first?.algorithm.kind == .identity && parsed.entries.first?.publicKey == entry.publicKey)
        // An identity without its public line, or with an uppercase id, is malformed.
        let noPublic = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("public: ") }.joined(separator: "\n")
        #expect(throws: FormatError.self) { try KeyringFile(parsing: noPublic) }
        #expect(throws: FormatError.self) { try KeyringFile(parsing: text.replacingOccurrences(of: "4617e4baf1a1ea2f", with: "4617E4BAF1A1EA2F")) }
    }
}
