// A long legacy v1 blob decrypted from its file a piece at a time: the same plaintext as the
// whole-blob path for every size around the chunk boundaries, the padding checked before
// anything is handed out, and the same uniform failure.

import Foundation
import TestSupport
import Testing
import VaultCrypto
import VaultFormat
import ArticleVault

@Suite struct LegacyStreamTests {
    /// A directory with a mode-600 AES-256 key file.
    final class Scratch {
        let dir: URL
        let key: SecretBytes
        let keyPath: String
        init(seed: UInt64) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("avault-stream-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            var rng = SeededRNG(seed: seed)
            let raw = rng.bytes(32)
            key = SecretBytes(copying: raw)
            keyPath = dir.appendingPathComponent("key").path
            _ = FileManager.default.createFile(atPath: keyPath, contents: Data(Hex.encode(raw).utf8), attributes: [.posixPermissions: 0o600])
        }
        deinit { try? FileManager.default.removeItem(at: dir) }

        /// Writes `text` to a file and opens it as a stream (whatever its length).
        func stream(_ text: [UInt8], name: String = "blob") throws -> LegacyBlobStream {
            let path = dir.appendingPathComponent(name).path
            _ = FileManager.default.createFile(atPath: path, contents: Data(text))
            guard case .legacyStream(let stream) = try BlobInput.read(path, streamThreshold: 0) else {
                Issue.record("not streamed")
                throw AvaultError.internalFailure("not streamed")
            }
            return stream
        }
    }

    /// Every piece the sink gets, joined.
    static func decrypt(_ stream: LegacyBlobStream, key: String, pieces: inout Int) throws(AvaultError) -> [UInt8] {
        var out: [UInt8] = []
        var n = 0
        try SecuredField.decrypt(stream, using: .file(key), legacy: .userOptIn) { (piece: UnsafeRawBufferPointer) throws(AvaultError) in
            out += piece
            n += 1
        }
        pieces = n
        return out
    }

    static let chunk = 393_216 // plaintext bytes per 512 KiB of base64

    @Test func sizesAroundChunkBoundariesMatchTheWholeBlobPath() throws {
        let s = try Scratch(seed: 1)
        var rng = SeededRNG(seed: 2)
        let sizes = [0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 1000,
                     Self.chunk - 17, Self.chunk - 16, Self.chunk - 1, Self.chunk, Self.chunk + 1, Self.chunk + 15, Self.chunk + 16, Self.chunk + 17,
                     2 * Self.chunk - 1, 2 * Self.chunk, 2 * Self.chunk + 1, 3 * Self.chunk + 5, 5 * 1024 * 1024 + 3]
        for size in sizes {
            let plaintext = rng.bytes(size)
            let blob = try SecuredField.encryptV1(plaintext, key: s.key)
            var pieces = 0
            for ending in ["", "\n", "\r\n"] {
                let got = try Self.decrypt(try s.stream(Array((blob.text + ending).utf8)), key: s.keyPath, pieces: &pieces)
                #expect(Bytes(got) == Bytes(plaintext), "size \(size) ending \(ending.debugDescription)")
            }
            // One piece per 512 KiB of base64 before the last quantum.
            let interior = ((size / 16 + 1) * 16 + 2) / 3 * 4 - 4
            #expect(pieces == max(1, (interior + 524_287) / 524_288), "size \(size): \(pieces) pieces")
        }
    }

    @Test func badPaddingAndAWrongKeyGiveTheSinkNothing() throws {
        let s = try Scratch(seed: 3)
        var rng = SeededRNG(seed: 4)
        let plaintext = rng.bytes(3 * Self.chunk + 100)
        guard case .v1(var ciphertext, let iv) = try SecuredField.encryptV1(plaintext, key: s.key) else { return }
        ciphertext[ciphertext.count - 17] ^= 0x5A // the last byte of the last block changes
        let tampered = SecuredBlob.v1(ciphertext: ciphertext, iv: iv).text
        var pieces = -1
        #expect(throws: AvaultError.self) { try Self.decrypt(try s.stream(Array(tampered.utf8)), key: s.keyPath, pieces: &pieces) }
        #expect(pieces == -1, "the sink was called")
        do {
            _ = try Self.decrypt(try s.stream(Array(tampered.utf8)), key: s.keyPath, pieces: &pieces)
        } catch let error as AvaultError {
            #expect(error.message == AvaultError.decryptionFailed(keyIDs: nil).message)
        }
        let other = try Scratch(seed: 5)
        let good = try SecuredField.encryptV1(plaintext, key: s.key).text
        var failures = 0
        // A wrong key passes the padding check about once in 255 (the IV is random, so which
        // keys do changes from run to run): of 16 keys, 4 or more passing happens about once in
        // two million runs (with 4 keys and "at least 3 fail", one run failed in this suite).
        for seed in 0..<16 as Range<UInt64> {
            let wrong = try Scratch(seed: 100 + seed)
            do { _ = try Self.decrypt(try other.stream(Array(good.utf8)), key: wrong.keyPath, pieces: &pieces) } catch { failures += 1 }
        }
        #expect(failures >= 13, "\(16 - failures) of 16 wrong keys passed the padding check")
    }

    @Test func aMalformedPieceStopsTheStreamAfterThePiecesBeforeIt() throws {
        let s = try Scratch(seed: 6)
        var rng = SeededRNG(seed: 7)
        let plaintext = rng.bytes(4 * Self.chunk)
        var text = Array(try SecuredField.encryptV1(plaintext, key: s.key).text.utf8)
        text[2 * 524_288 + 1000] = UInt8(ascii: "*") // inside the third chunk
        var got: [UInt8] = []
        let error = #expect(throws: AvaultError.self) {
            try SecuredField.decrypt(try s.stream(text), using: .file(s.keyPath), legacy: .userOptIn) { (piece: UnsafeRawBufferPointer) throws(AvaultError) in
                got += piece
            }
        }
        #expect(error?.message.contains("v1 ciphertext is not strict base64") == true, "\(String(describing: error))")
        #expect(Bytes(got) == Bytes(plaintext.prefix(2 * Self.chunk)))
        // A second `;`, and an IV that is not 16 bytes, are malformed too.
        text[2 * 524_288 + 1000] = UInt8(ascii: ";")
        #expect(throws: AvaultError.self) { try SecuredField.decrypt(try s.stream(text), using: .file(s.keyPath), legacy: .userOptIn) { _ in } }
        let short = Array(try SecuredField.encryptV1(plaintext, key: s.key).text.utf8.dropLast(4)) // a 15-byte IV
        let refused = #expect(throws: AvaultError.self) { try s.stream(short) }
        #expect(refused?.message.contains("v1 iv is 15 bytes, expected 16") == true, "\(String(describing: refused))")
    }

    @Test func withoutAnAuthorisationNothingIsRead() throws {
        let s = try Scratch(seed: 8)
        let blob = try SecuredField.encryptV1([1, 2, 3], key: s.key)
        let error = #expect(throws: AvaultError.self) {
            try SecuredField.decrypt(try s.stream(Array(blob.text.utf8)), using: .file(s.keyPath), legacy: nil) { _ in }
        }
        #expect(error?.message == AvaultError.unauthenticatedLegacy(path: nil).message)
    }

    @Test func aSinkThatFailsStopsTheWorkers() throws {
        let s = try Scratch(seed: 9)
        var rng = SeededRNG(seed: 10)
        let blob = try SecuredField.encryptV1(rng.bytes(6 * Self.chunk), key: s.key)
        var calls = 0
        #expect(throws: AvaultError.self) {
            try SecuredField.decrypt(try s.stream(Array(blob.text.utf8)), using: .file(s.keyPath), legacy: .userOptIn) { (_: UnsafeRawBufferPointer) throws(AvaultError) in
                calls += 1
                if calls == 2 { throw .internalFailure("stop") }
            }
        }
        #expect(calls == 2)
    }

    @Test func shortAndV2InputIsReadWhole() throws {
        let s = try Scratch(seed: 11)
        let path = s.dir.appendingPathComponent("small").path
        _ = FileManager.default.createFile(atPath: path, contents: Data("abc;def\r\n".utf8))
        guard case .text(let text) = try BlobInput.read(path) else { Issue.record("streamed"); return }
        #expect(text == "abc;def")
        let v2 = "v2;" + String(repeating: "A", count: 100_000)
        _ = FileManager.default.createFile(atPath: path, contents: Data(v2.utf8))
        guard case .text(let whole) = try BlobInput.read(path) else { Issue.record("v2 streamed"); return }
        #expect(whole == v2)
    }
}
