// The fixture files themselves: unmodified, complete (record counts from the README),
// and the loaders reject malformed input instead of skipping it.

import Foundation
import Testing
import VaultCrypto

@Suite("Fixtures")
struct FixtureTests {
    @Test("every fixture file is byte-identical to the shared vectors it was copied from",
          arguments: Fixtures.digests.keys.sorted())
    func fixtureDigest(path: String) throws {
        let data = try Fixtures.data(path)
        let digest = Hex.encode(BLAKE2b.hash(Array(data), digestSize: 32))
        #expect(digest == Fixtures.digests[path], "\(path) changed")
    }

    @Test("no unexpected files in Fixtures/vectors")
    func noExtraFiles() throws {
        let root = try Fixtures.url("").resolvingSymlinksInPath()
        let enumerator = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]))
        var found: [String] = []
        for case let url as URL in enumerator where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
            found.append(String(url.resolvingSymlinksInPath().path.dropFirst(root.path.count))
                .trimmingCharacters(in: CharacterSet(charactersIn: "/")))
        }
        #expect(found.sorted() == Fixtures.digests.keys.sorted())
    }

    @Test("NIST .rsp record counts match the README", arguments: cavpFileCounts.map(\.file))
    func cavpCounts(file: String) throws {
        let records = try CAVP.load(file)
        let expected = try #require(cavpFileCounts.first { $0.file == file }).records
        #expect(records.count == expected)
        // Half the records are in each section.
        #expect(records.filter { $0.section == .encrypt }.count == expected / 2)
        #expect(records.filter { $0.section == .decrypt }.count == expected / 2)
        // The key size matches the file name.
        let keyBytes = file.hasSuffix("128.rsp") ? 16 : 32
        #expect(records.allSatisfy { $0.key.count == keyBytes })
    }

    @Test("NIST totals: 1418 records, MMT messages span 1 to 10 blocks")
    func cavpTotals() throws {
        var total = 0
        var mmtBlocks = Set<Int>()
        for (file, _) in cavpFileCounts {
            let records = try CAVP.load(file)
            total += records.count
            if file.hasPrefix("CBCMMT") { mmtBlocks.formUnion(records.map { $0.plaintext.count / 16 }) }
        }
        #expect(total == 14 + 10 + 42 + 32 + 256 + 512 + 256 + 256 + 20 + 20)
        #expect(mmtBlocks == Set(1...10))
    }

    @Test("sign.input has 1024 well-formed lines")
    func signInputCount() throws {
        let vectors = try SignInput.load()
        #expect(vectors.count == SignInput.expectedLines)
        #expect(vectors.map(\.line) == Array(1...1024))
    }

    @Test("Wycheproof XChaCha20-Poly1305: 315 cases, numberOfTests agrees, ids unique")
    func wycheproofAEADCount() throws {
        let file = try WycheproofAEADFile.load()
        let tests = file.testGroups.flatMap(\.tests)
        #expect(file.algorithm == "XCHACHA20-POLY1305")
        #expect(file.schema == "aead_test_schema_v1.json")
        #expect(tests.count == WycheproofAEADFile.expectedCases)
        #expect(file.numberOfTests == WycheproofAEADFile.expectedCases)
        #expect(Set(tests.map(\.tcId)).count == tests.count)
        // Every flag is documented in `notes`.
        #expect(Set(tests.flatMap(\.flags)).isSubset(of: Set(file.notes.keys)))
    }

    @Test("Wycheproof Ed25519: 210 cases, numberOfTests agrees, ids unique")
    func wycheproofEdDSACount() throws {
        let file = try WycheproofEdDSAFile.load()
        let tests = file.testGroups.flatMap(\.tests)
        #expect(file.algorithm == "EDDSA")
        #expect(file.schema == "eddsa_verify_schema_v1.json")
        #expect(tests.count == WycheproofEdDSAFile.expectedCases)
        #expect(file.numberOfTests == WycheproofEdDSAFile.expectedCases)
        #expect(Set(tests.map(\.tcId)).count == tests.count)
        #expect(Set(tests.flatMap(\.flags)).isSubset(of: Set(file.notes.keys)))
        #expect(tests.filter { $0.result == .acceptable }.count == 29)
    }

    @Test("RFC 8032 file has 5 vectors")
    func rfc8032Count() throws {
        let file = try RFC8032File.load()
        #expect(file.vectors.count == RFC8032File.expectedVectors)
        #expect(file.vectors.map(\.name) == ["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"])
    }

    @Test("draft XChaCha file loads")
    func draftXChaChaLoads() throws {
        let file = try XChaChaDraftFile.load()
        #expect(try hex(file.plaintext).count == 114)
    }

    // MARK: Loader strictness

    @Test("the .rsp parser rejects unknown keys, malformed lines and incomplete records",
          arguments: [
              "[ENCRYPT]\n\nCOUNT = 0\nKEY = 00000000000000000000000000000000\nIV = 00000000000000000000000000000000\nPLAINTEXT = 00000000000000000000000000000000\nCIPHERTEXT = 00000000000000000000000000000000\nTAG = 00\n",
              "[ENCRYPT]\n\nCOUNT = 0\nKEY = 00000000000000000000000000000000\nIV = 00000000000000000000000000000000\nPLAINTEXT = 00000000000000000000000000000000\n\n[DECRYPT]\n",
              "[ENCRYPT]\n\nCOUNT = 0\nKEY = 00000000000000000000000000000000\nIV: 00000000000000000000000000000000\n",
              "[ENCRYPT]\n\nCOUNT = 0\nKEY = 00000000000000000000000000000000\nIV = 0000000000000000000000000000000g\nPLAINTEXT = 00000000000000000000000000000000\nCIPHERTEXT = 00000000000000000000000000000000\n\n[DECRYPT]\n",
              "[ENCRYPT]\n\nCOUNT = 0\nKEY = 00000000000000000000000000000000\nIV = 00000000000000000000000000000000\nCIPHERTEXT = 00000000000000000000000000000000\nPLAINTEXT = 00000000000000000000000000000000\n\n[DECRYPT]\n",
              "[ENCRYPT]\n\nCOUNT = 1\nKEY = 00000000000000000000000000000000\nIV = 00000000000000000000000000000000\nPLAINTEXT = 00000000000000000000000000000000\nCIPHERTEXT = 00000000000000000000000000000000\n\n[DECRYPT]\n",
              "[ENCRYPT]\n\nCOUNT = 0\nKEY = 00000000000000000000000000000000\nIV = 00000000000000000000000000000000\nPLAINTEXT = 00000000000000000000000000000000\nCIPHERTEXT = 00000000000000000000000000000000\n\n[MONTE]\n",
              "COUNT = 0\nKEY = 00000000000000000000000000000000\nIV = 00000000000000000000000000000000\nPLAINTEXT = 00000000000000000000000000000000\nCIPHERTEXT = 00000000000000000000000000000000\n",
              "[ENCRYPT]\n\nCOUNT = 0\nKEY = 00000000000000000000000000000000\nIV = 00000000000000000000000000000000\nPLAINTEXT = 00000000000000000000000000000000\nCIPHERTEXT = 00000000000000000000000000000000\n",
          ])
    func cavpParserIsStrict(text: String) {
        #expect(throws: VectorError.self) { try CAVP.parse(text, file: "bad.rsp") }
    }

    @Test("the .rsp parser accepts a minimal well-formed file")
    func cavpParserAcceptsMinimal() throws {
        let text = """
        # comment
        [ENCRYPT]

        COUNT = 0
        KEY = 000102030405060708090a0b0c0d0e0f
        IV = 00000000000000000000000000000000
        PLAINTEXT = 00000000000000000000000000000000
        CIPHERTEXT = 0a940bb5416ef045f1c39458c653ea5a

        [DECRYPT]

        COUNT = 0
        KEY = 000102030405060708090a0b0c0d0e0f
        IV = 00000000000000000000000000000000
        CIPHERTEXT = 0a940bb5416ef045f1c39458c653ea5a
        PLAINTEXT = 00000000000000000000000000000000

        """
        let records = try CAVP.parse(text, file: "ok.rsp")
        #expect(records.map(\.section) == [.encrypt, .decrypt])
    }

    @Test("the sign.input parser rejects malformed lines")
    func signInputParserIsStrict() throws {
        let good = try String(Fixtures.text("ed25519/sign.input").split(separator: "\n")[0]) + "\n"
        #expect(try SignInput.parse(good).count == 1)
        let bad = [
            good.replacingOccurrences(of: ":\n", with: "\n"),                // 4 fields
            good.replacingOccurrences(of: ":\n", with: ":extra:\n"),         // 6 fields
            String(good.dropLast()),                                         // no final newline
            good.replacingOccurrences(of: "9d61", with: "9d6g"),             // bad hex
            good.replacingOccurrences(of: "::", with: ":00:"),               // line 1 must have an empty message
        ]
        for (index, text) in bad.enumerated() {
            #expect(throws: VectorError.self, "case \(index)") { try SignInput.parse(text) }
        }
        // A SK whose second half is not PK is rejected.
        let mismatched = good.replacingOccurrences(of: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a:d75a",
                                                   with: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511b:d75a")
        #expect(mismatched != good)
        #expect(throws: VectorError.self) { try SignInput.parse(mismatched) }
    }

    @Test("the JSON loader rejects unexpected keys")
    func strictJSONRejectsUnknownKeys() throws {
        let file = try XChaChaDraftFile.load()
        var object = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(file)) as? [String: Any])
        #expect(throws: Never.self) {
            try StrictJSON.decode(XChaChaDraftFile.self, from: try JSONSerialization.data(withJSONObject: object), file: "t")
        }
        object["surprise"] = "x"
        let withExtra = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: VectorError.self) { try StrictJSON.decode(XChaChaDraftFile.self, from: withExtra, file: "t") }

        // Nested: an extra key inside a Wycheproof test case.
        let nested = """
        {"algorithm":"A","schema":"s","numberOfTests":1,"header":[],"notes":{},
         "testGroups":[{"type":"t","source":{"name":"n","version":"v"},"ivSize":192,"keySize":256,"tagSize":128,
           "tests":[{"tcId":1,"comment":"","flags":[],"key":"","iv":"","aad":"","msg":"","ct":"","tag":"","result":"valid","extra":1}]}]}
        """
        #expect(throws: VectorError.self) {
            try StrictJSON.decode(WycheproofAEADFile.self, from: Data(nested.utf8), file: "nested")
        }
        // An unknown result value is a decoding error too.
        let badResult = nested.replacingOccurrences(of: ",\"extra\":1", with: "")
            .replacingOccurrences(of: "\"valid\"", with: "\"maybe\"")
        #expect(throws: DecodingError.self) {
            try StrictJSON.decode(WycheproofAEADFile.self, from: Data(badResult.utf8), file: "badResult")
        }
    }
}
