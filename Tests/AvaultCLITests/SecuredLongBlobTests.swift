// A blob longer than BlobInput.streamThreshold (64 KiB) from `-i FILE` or `-`: only a v1 blob
// (no version tag) is streamed from its end; a v3 blob, one age file, is read whole as v2 is.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
import VaultFormat

/// A fresh temporary directory holding a key file (`k.hex`, mode 600).
private func keyFile() throws -> (dir: URL, key: URL) {
    let dir = try CLI.tempDirectory()
    let key = dir.appendingPathComponent("k.hex")
    try CLI.write(String(repeating: "ab", count: 32), to: key)
    return (dir, key)
}

@Suite("secured decrypt and inspect of a v3 blob over 64 KiB from -i FILE and standard input")
struct SecuredLongV3BlobTests {
    @Test func aLongV3BlobOpensFromAFileAndFromAPipe() throws {
        let alice = try Editor("alice")
        let dir = try SealRecipientsCLITests.desk()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = "https://example.org/long"
        let body = String(repeating: "A line of the long draft, to make its blob longer than 64 KiB.\n", count: 3200) // 204,800 bytes
        let path = dir.appendingPathComponent("big.md").path
        try SealRecipientsCLITests.write("---\ntitle: \"Long\"\nwebUrl: \"\(url)\"\n---\n\(body)", path)
        let s = try CLI.avault(["seal", path, "--recipient", alice.recipient])
        #expect(s.code == 0, "\(s.err)")
        let line = try #require(try SealRecipientsCLITests.read(path).split(separator: "\n").first { $0.hasPrefix("secured: \"v3;") })
        let blob = String(line.dropFirst("secured: \"".count).dropLast())
        #expect(blob.utf8.count > 65536 * 3)
        let file = dir.appendingPathComponent("big3.blob").path
        try CLI.write(blob + "\n", to: URL(fileURLWithPath: file), mode: 0o644)

        let fromRecord = try alice.k.avault(["secured", "decrypt", "--record", path, "--key", "alice"])
        #expect(fromRecord.code == 0, "\(fromRecord.err)")
        let payload = try #require(try JSONSerialization.jsonObject(with: fromRecord.stdout) as? [String: Any])
        #expect(payload["body"] as? String == body)

        let fromFile = try alice.k.avault(["secured", "decrypt", "-i", file, "--key", "alice", "--context", url])
        #expect(fromFile.code == 0 && fromFile.stdout == fromRecord.stdout, "\(fromFile.code) \(fromFile.err)")
        let fromPipe = try alice.k.avault(["secured", "decrypt", "-", "--key", "alice", "--context", url], stdin: Data((blob + "\n").utf8))
        #expect(fromPipe.code == 0 && fromPipe.stdout == fromRecord.stdout, "\(fromPipe.code) \(fromPipe.err)")
        // The binding still holds: another context is refused before any decryption.
        let elsewhere = try alice.k.avault(["secured", "decrypt", "-i", file, "--key", "alice", "--context", url + "/other"])
        #expect(elsewhere.code == 1 && elsewhere.stdout.isEmpty && elsewhere.err.contains("another context"), "\(elsewhere.err)")
        let inspect = try CLI.avault(["secured", "inspect", "-i", file, "--json"])
        #expect(inspect.code == 0, "\(inspect.err)")
        #expect(inspect.out.contains("\"format\":\"v3\""), "\(inspect.out)")
    }

    @Test func aLongBlobWithAnUnsupportedVersionTagIsReportedAsSuch() throws {
        let (dir, key) = try keyFile()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("v9.blob")
        try CLI.write("v9;" + String(repeating: "A", count: 70000), to: file, mode: 0o644)
        let r = try CLI.avault(["secured", "decrypt", "-i", file.path, "--key-file", key.path])
        #expect(r.code == 1 && r.err.contains("unsupported format version 'v9'"), "\(r.err)")
        // A long blob without a version tag and with no ';' near its end is read as v1, and says so.
        try CLI.write(String(repeating: "A", count: 70000), to: file, mode: 0o644)
        let v1 = try CLI.avault(["secured", "decrypt", "-i", file.path, "--key-file", key.path])
        #expect(v1.code == 1 && v1.err.contains("(v1: the blob does not start 'v2;' or 'v3;'), found no ';' in the last 64 bytes"), "\(v1.err)")
        // A short one names every form.
        let short = try CLI.avault(["secured", "inspect", "abc"])
        #expect(short.code == 1 && short.err.contains("(v2) or 'v3;<age file>' (v3), found no ';'"), "\(short.err)")
    }
}

/// A blob read whole (one that starts with a version tag) is at most a record's size
/// (``SecuredBlob/wholeLimit``): a larger one, from `-i FILE` or a pipe, is refused before it
/// is read whole (it was read into memory whatever its size), and `secured encrypt` takes no
/// plaintext whose blob would not fit (the largest it takes still opens).
@Suite("secured blobs read whole are bounded by a record's size")
struct SecuredBlobSizeTests {
    @Test func aTaggedBlobLargerThanARecordIsRefused() throws {
        let (dir, key) = try keyFile()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("big.blob")
        try CLI.write("v3;", to: file, mode: 0o644)
        #expect(truncate(file.path, off_t(SecuredBlob.wholeLimit + 1)) == 0)
        let refusal = "larger than \(SecuredBlob.wholeLimit) bytes, not a v2 or v3 blob (one authenticated message, read whole)"
        for command in [["decrypt", "--key-file", key.path, "--context", "x"], ["inspect"]] {
            let r = try CLI.avault(["secured"] + command + ["-i", file.path])
            #expect(r.code == 2 && r.out.isEmpty && r.err.hasPrefix("avault: \(file.path): \(refusal)\n"), "\(command): \(r.code) \(r.err)")
        }
        var piped = Data("v2;".utf8)
        piped.append(Data(repeating: 0x41, count: SecuredBlob.wholeLimit))
        for command in [["decrypt", "--key-file", key.path, "--context", "x", "-"], ["inspect", "-"]] {
            let r = try CLI.avault(["secured"] + command, stdin: piped)
            #expect(r.code == 2 && r.out.isEmpty && r.err.hasPrefix("avault: standard input: \(refusal)\n"), "\(command): \(r.code) \(r.err)")
        }
    }

    @Test func encryptTakesNoPlaintextWhoseBlobWouldNotFitARecord() throws {
        let (dir, key) = try keyFile()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("draft.txt")
        var text = Data(repeating: 0x61, count: SecuredBlob.plaintextLimit)
        try text.write(to: plain)
        let blob = dir.appendingPathComponent("draft.blob")
        let made = try CLI.avault(["secured", "encrypt", "--key-file", key.path, "--context", "x", "-i", plain.path])
        #expect(made.code == 0, "\(made.err)")
        #expect(made.stdout.count <= SecuredBlob.wholeLimit + 1)
        try made.stdout.write(to: blob)
        let opened = try CLI.avault(["secured", "decrypt", "--key-file", key.path, "--context", "x", "-i", blob.path])
        #expect(opened.code == 0 && opened.stdout == text, "\(opened.code) \(opened.err)")
        text.append(0x61)
        try text.write(to: plain)
        let r = try CLI.avault(["secured", "encrypt", "--key-file", key.path, "--context", "x", "-i", plain.path])
        #expect(r.code == 2 && r.out.isEmpty && r.err.hasPrefix(
            "avault: \(plain.path): larger than \(SecuredBlob.plaintextLimit) bytes, not a plaintext for a secured blob, which must fit in a record\n"), "\(r.code) \(r.err)")
    }
}
