import Foundation
import Testing
import VaultCrypto
import ArticleVault

@Suite struct KeyAndFileHandling {
    func temp() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avault-av-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A size limit holds by the file's size and by what is read: a file may hold more than
    /// its size said (it grew; /proc files say 0).
    @Test func readingStopsPastTheSizeLimit() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("f").path
        try Data(repeating: 0x61, count: 100).write(to: URL(fileURLWithPath: path))
        #expect(try FileSystem.read(path, maxSize: 100) == [UInt8](repeating: 0x61, count: 100))
        #expect(try FileSystem.read(path, maxSize: 99) == nil)
        let status = try FileSystem.read("/proc/self/status")
        #expect(status.count > 64)
        #expect(try FileSystem.read("/proc/self/status", maxSize: 64) == nil)
        #expect(try FileSystem.read("/proc/self/status", maxSize: 1 << 20)?.isEmpty == false)
        // A record over the limit is malformed, with the documented message.
        #expect(truncate(path, off_t(RecordLimits.fileBytes + 1)) == 0)
        #expect {
            _ = try RecordFile(path: path)
        } throws: { error in
            guard let e = error as? AvaultError, case .malformed(.invalidRecord(let why, nil), let file) = e else { return false }
            return why == "record larger than 64 MiB" && file == path
        }
    }

    /// Only ``FileSystem/readInput(_:limit:what:secret:)``, for a name a command line gave,
    /// reads standard input for `-`. The library's other readers read a file of that name (the
    /// tests run in the package's root, which has none): when they took `-` as standard input
    /// too, `keys export-age -o -` checked the identity it wrote against standard input.
    @Test func onlyANameFromTheCommandLineMeansStandardInput() throws {
        #expect(!FileManager.default.fileExists(atPath: "-"))
        for read in [{ try FileSystem.readSmall("-", limit: 16, what: "a test file") }, { try FileSystem.read("-", secret: true) }] {
            #expect { _ = try read() } throws: { error in
                if case .io(path: "-", reason: let reason) = error as? AvaultError { return reason.contains("no such file") }
                return false
            }
        }
        #expect(FileSystem.inputName("-") == "standard input" && FileSystem.inputName("./-") == "./-")
    }

    @Test func keyFilesMustNotBeReadableByOthers() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("k.key").path
        let hex = String(repeating: "ab", count: 32)
        try Data((hex + "\n").utf8).write(to: URL(fileURLWithPath: path))
        for mode in [0o644, 0o640, 0o604, 0o660, 0o602] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            #expect {
                _ = try RawKeys.load(path)
            } throws: { error in
                guard let e = error as? AvaultError, case .insecurePermissions(let p, _) = e else { return false }
                return p == path
            }
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        let key = try RawKeys.load(path)
        #expect(key == SecretBytes(copying: [UInt8](repeating: 0xab, count: 32)))
    }

    @Test func aMalformedKeyFileIsNeverQuoted() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.key").path
        let secretish = "c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffee" + "zz"
        try Data(secretish.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        do {
            _ = try RawKeys.load(path)
            Issue.record("accepted a malformed key")
        } catch {
            #expect(!error.message.contains("c0ffee"))
            #expect(error.message.hasPrefix(path + ": malformed key file"))
        }
    }

    @Test func atomicWritesCreateMode600AndLeaveNoTemporaryFiles() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.txt").path
        try FileSystem.writeAtomically(path, Array("one".utf8))
        try FileSystem.writeAtomically(path, Array("two".utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "two")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(throws: AvaultError.self) { try FileSystem.writeAtomically(path, Array("three".utf8), overwrite: false) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "two")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.txt"])
        // A directory that does not exist is a clear I/O error, not a crash.
        #expect(throws: AvaultError.self) { try FileSystem.writeAtomically(dir.path + "/missing/x", [1]) }
    }

    @Test func theSeedRecordsContextIsItsWebUrl() throws {
        let record = try RecordFile(path: Fixtures.url("Fixtures/seed/000_6e329c144f65a19c.txt").path)
        #expect(record.document.securedContext == "https://futurism.com/the-byte/facebook-execs-panicking-ai-race")
        let blob = try VaultFormat.SecuredBlob(parsing: try record.securedText())
        guard case .v1(let ct, let iv) = blob else { Issue.record("seed is not v1"); return }
        #expect(iv.count == 16 && ct.count == 400)
    }

    @Test func theDemoRecordsDecryptWithTheDemoKeys() throws {
        let plaintext = try Array(Data(contentsOf: Fixtures.url("Fixtures/blobs/demo-plaintext.txt")))
        for (file, key) in [("demo-v2.md", "demo-v2.key"), ("demo-v1.md", "demo-aes256.key")] {
            let record = try RecordFile(path: Fixtures.url("Fixtures/records/" + file).path)
            let blob = try VaultFormat.SecuredBlob(parsing: try record.securedText())
            #expect(try SecuredField.decrypt(blob, key: Fixtures.key(key), context: record.document.securedContext, legacy: .userOptIn) == plaintext)
        }
    }
}

import VaultFormat
