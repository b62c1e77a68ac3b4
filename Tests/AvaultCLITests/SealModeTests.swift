// The mode of a record that seal, unseal, reseal or sign rewrites: that of the file read (for
// unseal, without group and other bits), never that of what the path names afterwards.

import Foundation
import Testing

@Suite("seal, unseal, reseal, sign: the mode of a rewritten record")
struct SealModeTests {
    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test("unseal writes the plaintext for its owner only (0600 from 0666 or 0640); reseal and sign keep the mode")
    func unsealedPlaintextIsPrivate() throws {
        let alice = try Editor("alice")
        #expect(try alice.k.avault(["keys", "generate", "desk", "--signing"]).code == 0)
        let path = alice.k.path("d.md")
        try CLI.write(SealSignatureGateTests.draft, to: URL(fileURLWithPath: path), mode: 0o644)
        #expect(try alice.k.avault(["seal", path, "--recipient", alice.recipient]).code == 0)
        #expect(try Self.mode(path) == 0o644)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        #expect(try alice.k.avault(["reseal", path, "--recipient", alice.recipient]).code == 0)
        #expect(try Self.mode(path) == 0o640)
        #expect(try alice.k.avault(["sign", path, "--key", "desk"]).code == 0)
        #expect(try Self.mode(path) == 0o640)
        for mode in [0o666, 0o640] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            let u = try alice.k.avault(["unseal", path])
            #expect(u.code == 0, "\(u.err)")
            #expect(try Self.mode(path) == 0o600, "unsealed from \(String(mode, radix: 8))")
            #expect(try String(contentsOfFile: path, encoding: .utf8) == SealSignatureGateTests.draft)
            #expect(try alice.k.avault(["seal", path, "--recipient", alice.recipient]).code == 0)
        }
    }
}
