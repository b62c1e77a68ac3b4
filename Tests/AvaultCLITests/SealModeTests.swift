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

    /// The record is a FIFO of mode 600 that the test writes (so that avault is still reading it
    /// when the swap happens): before it ends the record, the path is replaced by a symbolic
    /// link to a file of mode 644. Nothing may come out holding the private record with mode
    /// 644: a rewrite takes its mode from the file it read, never from what the path names
    /// after the reading.
    @Test("a record path swapped for a link to a 0644 file while it is read: the rewrite does not take the link's mode",
          arguments: ["sign", "seal"])
    func swappedPathLendsNoMode(_ command: String) throws {
        let (demo, recipient) = try SealSignatureGateTests.ring()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let path = demo.dir.appendingPathComponent("private.md").path
        let decoyText = "---\ntitle: public\n---\nanyone may read this\n"
        let decoy = try demo.record("public.md", decoyText)
        #expect(mkfifo(path, 0o600) == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.avaultPath)
        process.arguments = (command == "sign" ? ["sign", path, "--key", "demo-desk"] : ["seal", path, "--recipient", recipient]) + demo.args
        let errPipe = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errPipe
        try process.run()
        // The writing end opens once avault has opened the FIFO to read it (or never, when it refuses it).
        var fd: Int32 = -1
        while fd < 0, process.isRunning {
            fd = open(path, O_WRONLY | O_NONBLOCK)
            if fd < 0 { usleep(5_000) }
        }
        if fd >= 0 {
            let record = "---\ntitle: private\nwebUrl: https://example.org/private\n---\nthe source's name\n"
            #expect(record.withCString { write(fd, $0, strlen($0)) } == record.utf8.count)
            let link = demo.dir.appendingPathComponent("link").path
            #expect(symlink(decoy, link) == 0 && rename(link, path) == 0)
            close(fd)
        }
        process.waitUntilExit()
        let err = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        var st = stat()
        if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
            #expect(st.st_mode & 0o077 == 0, "the private record came out with mode \(String(st.st_mode & 0o777, radix: 8)): \(err)")
        }
        #expect(try String(contentsOfFile: decoy, encoding: .utf8) == decoyText)
        // Not a regular file when opened: refused, nothing written.
        #expect(process.terminationStatus == 2 && err.contains("not a regular file"), "\(err)")
    }
}
