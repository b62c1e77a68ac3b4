import Foundation
import Testing
import ArticleVault

/// Files in avault's own directories are opened relative to the directory, never through a
/// symbolic link, and only when they are regular files.
@Suite struct SecureDirectoryFiles {
    func directory(mode: Int = 0o700) throws -> (URL, SecureDirectory) {
        let url = try tempDir()
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        return (url, try SecureDirectory(path: url.path, requirePrivate: false))
    }

    @Test func symbolicLinksAreRefusedNotFollowed() throws {
        let (url, dir) = try directory()
        defer { try? FileManager.default.removeItem(at: url) }
        let victim = url.appendingPathComponent("victim.txt")
        try "the user's own file\n".write(to: victim, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: url.appendingPathComponent("log").path, withDestinationPath: victim.path)
        #expect(throws: AvaultError.self) { _ = try dir.read("log") }
        #expect(throws: AvaultError.self) { _ = try dir.openFile("log", O_WRONLY | O_APPEND | O_CREAT) }
        #expect(try dir.kind(of: "log") == .symbolicLink)
        // Replacing the name atomically replaces the link itself, never the file it points to.
        try dir.writeAtomically("log", Array("new\n".utf8))
        #expect(try String(contentsOf: victim, encoding: .utf8) == "the user's own file\n")
        #expect(try dir.read("log") == Array("new\n".utf8))
        // A symbolic link inside is not opened as a subdirectory; the directory the user names
        // may itself be a link (its permissions are checked where it leads).
        try FileManager.default.createSymbolicLink(atPath: url.appendingPathComponent("sub").path, withDestinationPath: "/tmp")
        #expect(throws: AvaultError.self) { _ = try dir.subdirectory("sub") }
        #expect(throws: AvaultError.self) { _ = try SecureDirectory(path: url.appendingPathComponent("sub").path, requirePrivate: true) }
        _ = try SecureDirectory(path: url.appendingPathComponent("sub").path, requirePrivate: false)
    }

    /// Listed by prefix, a directory gives the names that start with it as the whole listing
    /// gives them (a name that is not UTF-8 escaped the same way), and no other.
    @Test func theNamesWithAPrefixAreThoseOfTheWholeListing() throws {
        let (url, dir) = try directory()
        defer { try? FileManager.default.removeItem(at: url) }
        let raw: [[UInt8]] = [Array("ab12-3".utf8), Array("ab".utf8), Array("a".utf8), Array("cd-1".utf8), [0x61, 0x62, 0xFF], [0x61, 0x62, 0x5C, 0x78], [0xFF, 0x61, 0x62]]
        for name in raw {
            let path = Array(url.path.utf8) + [0x2F] + name + [0]
            let file = path.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { Glibc.open($0.baseAddress!, O_WRONLY | O_CREAT | O_EXCL, 0o600) } }
            #expect(file >= 0)
            close(file)
        }
        let all = try dir.names()
        #expect(all.count == raw.count)
        for prefix in ["", "a", "ab", "ab1", "cd", "zz"] {
            #expect(Set(try dir.names(prefix: prefix)) == Set(all.filter { $0.hasPrefix(prefix) }), "\(prefix)")
        }
        #expect(Set(try dir.names(prefix: "ab")) == ["ab12-3", "ab", "ab\\xff", "ab\\x5cx"])
    }

    /// A vault's reader takes no lock: it lists `entries/`, looks at each name, then reads it,
    /// while a writer may remove a superseded entry in between. Such a file is not there (the
    /// reader then finds the entries do not match the index, and reads again); reading it once
    /// failed the whole `vault get` with "no such file or directory" (VaultCrashTests'
    /// concurrent readers, once in a few runs).
    @Test func aFileRemovedAfterItWasLookedAtIsNotThere() throws {
        let (url, dir) = try directory()
        defer { try? FileManager.default.removeItem(at: url) }
        try dir.writeAtomically("entry.61", Array("sealed\n".utf8))
        #expect(try dir.kind(of: "entry.61") == .file(.regular))
        try FileManager.default.removeItem(at: url.appendingPathComponent("entry.61"))
        #expect(try dir.read("entry.61", secret: true, lookedAt: true) == nil)
        #expect(try dir.read("entry.61") == nil)
        // Only a missing file: one that cannot be opened for another reason is still an error.
        try dir.writeAtomically("entry.62", Array("sealed\n".utf8), mode: 0o644)
        #expect(throws: AvaultError.self) { _ = try dir.read("entry.62", secret: true, lookedAt: true) }
    }

    /// On a thread of its own, with a deadline counted from when it starts: a time limit
    /// (`.timeLimit`) counts the time a test waits for a thread of the test pool too, which a
    /// run of CLI tests on 2 cores held for minutes (CI failed on it, the test not blocked).
    @Test func fifosAndDevicesAreRefusedWithoutBlocking() throws {
        let (url, dir) = try directory()
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(mkfifo(url.appendingPathComponent("index").path, 0o600) == 0)
        #expect(symlink("/dev/zero", url.appendingPathComponent("zero").path) == 0)
        @Sendable func refuses(_ body: () throws -> Void) -> Bool {
            do { try body(); return false } catch { return error is AvaultError }
        }
        nonisolated(unsafe) let directory = dir
        nonisolated(unsafe) var refused: [Bool] = []
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            refused = [refuses { _ = try directory.read("index") }, refuses { _ = try directory.openFile("index", O_WRONLY) },
                       refuses { _ = try directory.read("zero") }]
            done.signal()
        }
        try #require(done.wait(timeout: .now() + 30) == .success, "reading a FIFO or a device blocked")
        #expect(refused == [true, true, true])
    }

    @Test func privateDirectoriesAndSecretFiles() throws {
        let (url, _) = try directory(mode: 0o777)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect {
            _ = try SecureDirectory(path: url.path, requirePrivate: true)
        } throws: { error in
            guard case .insecureDirectory(let path, _)? = error as? AvaultError else { return false }
            return path == url.path
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: url.path)
        let dir = try SecureDirectory(path: url.path, requirePrivate: true)
        try dir.writeAtomically("secret", [1, 2, 3], mode: 0o644)
        #expect(throws: AvaultError.self) { _ = try dir.read("secret", secret: true) }
        try dir.writeAtomically("secret", [1, 2, 3], mode: 0o600)
        #expect(try dir.read("secret", secret: true) == [1, 2, 3])
        #expect(try dir.read("missing") == nil)
        #expect(throws: AvaultError.self) { try dir.writeAtomically("secret", [4], overwrite: false) }
        #expect(try dir.names().filter { $0.hasPrefix(".avault-tmp-") }.isEmpty)
    }
}

/// Found by a review: `vault copy` from PostgreSQL writes the names the source's rows hold as
/// files of the destination directory. A row named `entries/../../x` (written by someone with
/// write access to the database) would have been renamed out of the vault, over any file there.
@Suite struct VaultFileNamesFromElsewhere {
    @Test func aNameThatLeadsOutOfTheVaultIsRefused() throws {
        let url = try tempDir()
        defer { try? FileManager.default.removeItem(at: url) }
        let vault = url.appendingPathComponent("vault").path
        try FileManager.default.createDirectory(atPath: vault, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let storage = FileVaultStorage(directory: vault)
        let outside = url.appendingPathComponent("escaped").path
        for name in ["../../escaped", "..", ".", "", "a/b"] {
            #expect(throws: AvaultError.self, "\(name)") { try storage.writeEntry(name, Array("planted".utf8)) }
            #expect(throws: AvaultError.self, "\(name)") { _ = try storage.newEntry(name) }
            #expect(throws: AvaultError.self, "\(name)") { _ = try storage.newEnvelope(name.isEmpty ? "" : "../" + name) }
        }
        #expect(!FileManager.default.fileExists(atPath: outside))
        // A name of the vault's own is written.
        try storage.writeEntry("0123456789abcdef0123456789abcdef.1", Array("entry".utf8))
        #expect(FileManager.default.fileExists(atPath: vault + "/entries/0123456789abcdef0123456789abcdef.1"))
    }
}
