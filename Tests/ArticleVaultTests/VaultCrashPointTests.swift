import ArticleVault
import Foundation
import TestSupport
import Testing
import VaultCrypto
import VaultFormat
#if canImport(Glibc)
import Glibc
#endif

/// A file system store that "crashes" at one chosen step: every mutation (replace, append,
/// a new envelope, each envelope write, commit, remove, rename, quarantine, directory sync) is a step;
/// at step `crashAt` it stops dead, as SIGKILL or a power cut would: the step does not happen
/// (with `tear`, an append or envelope write leaves half of its bytes), temporary files stay
/// where they are, and every later call fails. Reads do not count.
final class CrashPointStorage: VaultStorage {
    static let crash = AvaultError.io(path: "<simulated crash>", reason: "the process died here")

    let inner: FileVaultStorage
    let crashAt: Int
    let tear: Bool
    private(set) var steps = 0
    private(set) var crashed = false

    init(directory: String, crashAt: Int, tear: Bool) {
        inner = FileVaultStorage(directory: directory)
        self.crashAt = crashAt
        self.tear = tear
    }

    /// Counts a step; true if this is the one that crashes (the caller tears, then throws).
    func begin() throws(AvaultError) -> Bool {
        if crashed { throw Self.crash }
        if steps == crashAt {
            crashed = true
            return true
        }
        steps += 1
        return false
    }

    func alive() throws(AvaultError) { if crashed { throw Self.crash } }

    var location: String { inner.location }
    var canonicalLocation: [UInt8] { inner.canonicalLocation }
    func exists() throws(AvaultError) -> Bool { try inner.exists() }
    func create() throws(AvaultError) { try inner.create() }
    func vaultRemains() throws(AvaultError) -> [String] { try inner.vaultRemains() }
    func read(_ name: String) throws(AvaultError) -> [UInt8]? { try alive(); return try inner.read(name) }

    func replace(_ name: String, _ bytes: [UInt8]) throws(AvaultError) {
        if try begin() { throw Self.crash } // an atomic replacement either happened or did not
        try inner.replace(name, bytes)
    }

    func append(_ name: String, _ bytes: [UInt8]) throws(AvaultError) {
        if try begin() {
            if tear, bytes.count > 1 { try? inner.append(name, Array(bytes.prefix(bytes.count / 2))) }
            throw Self.crash
        }
        try inner.append(name, bytes)
    }

    func newEnvelope(_ file: String) throws(AvaultError) -> EnvelopeSink {
        if try begin() { throw Self.crash }
        return try CrashPointSink(storage: self, directory: inner.directory + "/objects", name: file)
    }

    func openEnvelope(_ file: String) throws(AvaultError) -> EnvelopeSource? { try alive(); return try inner.openEnvelope(file) }
    func envelopeFiles() throws(AvaultError) -> (envelopes: [String], leftovers: [String]) { try alive(); return try inner.envelopeFiles() }

    func removeEnvelope(_ file: String) throws(AvaultError) {
        if try begin() { throw Self.crash }
        try inner.removeEnvelope(file)
    }

    func renameEnvelope(_ from: String, to: String) throws(AvaultError) {
        if try begin() { throw Self.crash }
        try inner.renameEnvelope(from, to: to)
    }

    func syncFiles() throws(AvaultError) { try alive(); try inner.syncFiles() }

    func readEntries(prefix: String) throws(AvaultError) -> [(file: String, bytes: [UInt8]?)] { try alive(); return try inner.readEntries(prefix: prefix) }

    func writeEntry(_ file: String, _ bytes: [UInt8]) throws(AvaultError) {
        if try begin() { throw Self.crash } // an atomic replacement either happened or did not
        try inner.writeEntry(file, bytes)
    }

    func removeEntry(_ file: String) throws(AvaultError) {
        if try begin() { throw Self.crash }
        try inner.removeEntry(file)
    }

    func syncEntries() throws(AvaultError) {
        if try begin() { throw Self.crash }
        try inner.syncEntries()
    }

    func quarantine(_ file: String) throws(AvaultError) -> String {
        if try begin() { throw Self.crash }
        return try inner.quarantine(file)
    }

    func isEntryTemporary(_ file: String) -> Bool { inner.isEntryTemporary(file) }

    func removeQuarantined(object name: String?) throws(AvaultError) -> Int {
        if try begin() { throw Self.crash }
        return try inner.removeQuarantined(object: name)
    }

    func quarantinedFiles() throws(AvaultError) -> [String] { try inner.quarantinedFiles() }

    func quarantineEntry(_ file: String) throws(AvaultError) -> String {
        if try begin() { throw Self.crash }
        return try inner.quarantineEntry(file)
    }

    func syncEnvelopes() throws(AvaultError) {
        if try begin() { throw Self.crash }
        try inner.syncEnvelopes()
    }

    func withLock<T>(_ body: () throws(AvaultError) -> T) throws(AvaultError) -> T {
        try alive()
        return try inner.withLock(body)
    }
}

/// An envelope writer like the file system store's (`objects/.tmp-<random>`, fsync, rename),
/// whose steps can crash, and which leaves its temporary file behind when they do.
final class CrashPointSink: EnvelopeSink {
    let storage: CrashPointStorage
    let temp: String
    let final: String
    let fd: Int32
    var done = false

    init(storage: CrashPointStorage, directory: String, name: String) throws(AvaultError) {
        self.storage = storage
        temp = directory + "/.tmp-" + Hex.encode(SecureRandom.bytes(count: 8))
        final = directory + "/" + name
        fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: temp, reason: FileSystem.errnoText()) }
    }

    deinit { if !done { close(fd) } }

    func write(_ bytes: UnsafeRawBufferPointer) throws(AvaultError) {
        if try storage.begin() {
            if storage.tear { try? FileSystem.writeAll(fd: fd, UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count / 2)]), name: temp) }
            throw CrashPointStorage.crash
        }
        try FileSystem.writeAll(fd: fd, bytes, name: temp)
    }

    func commit(syncDirectory: Bool) throws(AvaultError) {
        if try storage.begin() { throw CrashPointStorage.crash }
        _ = fsync(fd)
        close(fd)
        done = true
        guard rename(temp, final) == 0 else { throw .io(path: final, reason: FileSystem.errnoText()) }
        if syncDirectory { FileSystem.syncDirectory(FileSystem.directory(of: final)) }
    }

    func abandon() {
        guard !done else { return }
        done = true
        close(fd)
        if !storage.crashed { unlink(temp) } // a dead process cleans nothing up
    }
}

/// Crash every operation at every step, then "restart" (open the vault afresh from the disk)
/// and check what a crash may never break.
@Suite struct VaultCrashPointTests {
    static let now: Int64 = 1_780_000_000

    /// A keyring with an unprotected content key `drafts`, and a template vault with A (two
    /// versions, one of 3 chunks) and B (one version).
    final class Scene {
        let dir: String
        let keyring: Keyring
        var acked: [String: [Int: [UInt8]]] = [:]
        var rng = SystemRandomNumberGenerator()

        /// For a vault to recipients: the keyring's identity's recipient and another one.
        var recipients: [String] = []

        init(toRecipients: Bool = false) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("avault-crashpoint-" + UUID().uuidString).path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            keyring = try Keyring(directory: dir + "/ring",
                                  passphrase: PassphraseSource(file: nil, environmentVariable: "AVAULT_CRASHPOINT_UNUSED", label: "unused"))
            let vault: Vault
            if toRecipients {
                let secret = X25519.generateSecret()
                let publicKey = try X25519.publicKey(of: secret)
                try keyring.update { (r: Keyring) throws(AvaultError) -> Void in
                    try r.add(name: "me", algorithm: .x25519, secret: secret, id: .content(KeyID(bytes: Array(BLAKE2b.hash(publicKey, digestSize: 32).prefix(8)))),
                              publicKey: publicKey, protected: false, now: VaultCrashPointTests.now)
                }
                recipients = [AgeKeys.recipient(publicKey), AgeKeys.recipient(try X25519.publicKey(of: X25519.generateSecret()))]
                vault = try Vault.initialize(storage: FileVaultStorage(directory: template), keyring: keyring, recipients: recipients)
            } else {
                try Self.addKey(keyring)
                vault = try Vault.initialize(storage: FileVaultStorage(directory: template), keyring: keyring, keyName: "drafts")
            }
            for (id, size) in [("A", 100), ("A", 150_000), ("B", 0)] {
                let payload = bytes(size)
                let stored = try Self.put(vault, [(id, payload)], scratch: dir)
                acked[id, default: [:]][stored[0].version] = payload
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }

        var template: String { dir + "/template" }

        static func addKey(_ ring: Keyring) throws {
            try ring.update { (r: Keyring) throws(AvaultError) -> Void in
                let secret = SecretBytes.random(count: 32)
                try r.add(name: "drafts", algorithm: .xchacha20poly1305, secret: secret, id: .content(SecuredField.keyID(for: secret)),
                          protected: false, now: VaultCrashPointTests.now)
            }
        }

        func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) } }

        static func put(_ vault: Vault, _ items: [(String, [UInt8])], scratch: String) throws -> [(id: String, version: Int, size: Int)] {
            var fds: [Int32] = []
            defer { for fd in fds { close(fd) } }
            var inputs: [Vault.Input] = []
            for (id, payload) in items {
                let path = scratch + "/payload-" + UUID().uuidString
                try Data(payload).write(to: URL(fileURLWithPath: path))
                let fd = open(path, O_RDONLY)
                unlink(path)
                fds.append(fd)
                inputs.append(Vault.Input(id: id, fd: fd, contentType: nil))
            }
            return try vault.put(inputs, now: VaultCrashPointTests.now)
        }

        static func read(_ vault: Vault, _ id: String, _ version: Int?) throws -> [UInt8] {
            var out: [UInt8] = []
            _ = try vault.get(id, version: version) { (chunk: [UInt8]) throws(AvaultError) in out += chunk }
            return out
        }

        /// A fresh copy of the template vault and of the keyring that has seen it (modes as
        /// avault wants them): each run starts from the same vault and the same keyring state.
        func copy(_ name: String) throws -> (directory: String, keyring: Keyring) {
            let target = dir + "/" + name
            for (from, to) in [(template, target), (dir + "/ring", target + ".ring")] {
                try? FileManager.default.removeItem(atPath: to)
                try FileManager.default.copyItem(atPath: from, toPath: to)
                chmod(to, 0o700)
                for rel in FileManager.default.enumerator(atPath: to)?.compactMap({ $0 as? String }) ?? [] {
                    var isDir: ObjCBool = false
                    _ = FileManager.default.fileExists(atPath: to + "/" + rel, isDirectory: &isDir)
                    chmod(to + "/" + rel, isDir.boolValue ? 0o700 : 0o600)
                }
            }
            let ring = try Keyring(directory: target + ".ring",
                                   passphrase: PassphraseSource(file: nil, environmentVariable: "AVAULT_CRASHPOINT_UNUSED", label: "unused"))
            return (target, ring)
        }

        func remove(_ copy: String) {
            try? FileManager.default.removeItem(atPath: copy)
            try? FileManager.default.removeItem(atPath: copy + ".ring")
        }
    }

    struct Operation: Sendable, CustomStringConvertible {
        var name: String
        /// Prepares the template (and keyring) before the crash runs.
        var prepare: @Sendable (Scene) throws -> Void = { _ in }
        var run: @Sendable (Vault, Scene) throws -> Void
        /// Files the preparation planted that may still be unexpected after a crash.
        var planted: Set<String> = []
        /// Whether the vault is to recipients (else protected by a keyring key).
        var toRecipients = false
        var description: String { name }
    }

    static let signer = (key: Ed25519SigningKey.generate(), id: Minisign.KeyID(bytes: SecureRandom.bytes(count: 8)))

    static let operations: [Operation] = [
        Operation(name: "put of a multi-chunk payload", run: { v, s in _ = try Scene.put(v, [("A", s.bytes(140_000))], scratch: s.dir) }),
        // 11 chunks: three writes of a block each (4, 4 and 3 chunks), each a step that can tear.
        Operation(name: "put of a multi-block payload", run: { v, s in _ = try Scene.put(v, [("A", s.bytes(700_000))], scratch: s.dir) }),
        Operation(name: "put of a batch (new ID twice, old ID once)",
                  run: { v, s in _ = try Scene.put(v, [("C", s.bytes(70_000)), ("A", s.bytes(10)), ("C", s.bytes(0))], scratch: s.dir) }),
        Operation(name: "rm", run: { v, _ in try v.remove("B", now: now) }),
        // The first write to a vault of index format 2 migrates it (an entry per object, then the
        // head); to one of format 3, it writes a head of format 4 over the same entries.
        Operation(name: "put migrating an index of format 2", prepare: { s in try VaultIndexFormatTwo.downgrade(s.template, keyring: s.keyring) },
                  run: { v, s in _ = try Scene.put(v, [("B", s.bytes(10))], scratch: s.dir) }),
        Operation(name: "put migrating an index of format 3", prepare: { s in try VaultIndexFormatThree.downgrade(s.template, keyring: s.keyring) },
                  run: { v, s in _ = try Scene.put(v, [("B", s.bytes(10))], scratch: s.dir) }),
        Operation(name: "purge", run: { v, _ in try v.purge("A") }),
        Operation(name: "rewrap after a rotation", prepare: { s in try Scene.addKey(s.keyring) }, run: { v, _ in _ = try v.rewrap() }),
        Operation(name: "fsck of a stray file and a leftover", prepare: { s in
            try Data("stray".utf8).write(to: URL(fileURLWithPath: s.template + "/objects/" + String(repeating: "e", count: 32) + "-1"))
            try Data("leftover".utf8).write(to: URL(fileURLWithPath: s.template + "/objects/.tmp-00000000000000aa"))
        }, run: { v, _ in _ = try v.fsck() }, planted: ["objects/" + String(repeating: "e", count: 32) + "-1"]),
        Operation(name: "signing the log head", run: { v, _ in _ = try v.signLog(key: signer.key, keyID: signer.id, now: now) }),
        Operation(name: "removing a vault recipient with --rotate",
                  run: { v, s in _ = try v.changeRecipients(add: [], remove: [s.recipients[1]], rotate: true) }, toRecipients: true),
        Operation(name: "adding a vault recipient", run: { v, _ in
            _ = try v.changeRecipients(add: [AgeKeys.recipient(try X25519.publicKey(of: X25519.generateSecret()))], remove: [], rotate: false)
        }, toRecipients: true),
    ]

    @Test(arguments: operations)
    func aCrashAtAnyStepLosesNothingAcknowledgedAndLeavesAWorkingVault(_ op: Operation) throws {
        let scene = try Scene(toRecipients: op.toRecipients)
        try op.prepare(scene)
        // Discover the number of steps with a run that never crashes.
        var total = 0
        do {
            let (dir, ring) = try scene.copy("dry")
            let storage = CrashPointStorage(directory: dir, crashAt: Int.max, tear: false)
            try op.run(try Vault(storage: storage, keyring: ring), scene)
            total = storage.steps
            try check(scene, dir, ring, op, crashedAt: nil)
        }
        #expect(total >= 1, "\(op): \(total) steps")
        for tear in [false, true] {
            for k in 0..<total {
                let (dir, ring) = try scene.copy("crash-\(k)-\(tear)")
                let storage = CrashPointStorage(directory: dir, crashAt: k, tear: tear)
                do {
                    try op.run(try Vault(storage: storage, keyring: ring), scene)
                    Issue.record("\(op): completed although it should have crashed at step \(k)")
                } catch let e as AvaultError where storage.crashed {
                    _ = e
                }
                let at = "step \(k) of \(total)\(tear ? " (torn)" : "")"
                do { try check(scene, dir, ring, op, crashedAt: at) } catch { Issue.record("\(op) crashed at \(at): \(error)") }
                scene.remove(dir)
            }
        }
    }

    /// What must hold after restarting from `dir` with the keyring the crashed run used: the
    /// vault opens (a crash never makes it look rolled back), verifies at once (leftovers of the
    /// interrupted write are not failures), every acknowledged version reads back, the log
    /// and its heads check, and the vault takes writes, which clear what the crash left.
    func check(_ scene: Scene, _ dir: String, _ ring: Keyring, _ op: Operation, crashedAt: String?,
               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let at = "\(op) crashed at \(crashedAt ?? "no step")"
        let vault = try Vault(storage: FileVaultStorage(directory: dir), keyring: ring)
        let check: Vault.Check
        do { check = try vault.verify() } catch {
            Issue.record("\(at): verify refused the vault: \(error)", sourceLocation: sourceLocation)
            return
        }
        #expect(check.missing.isEmpty && check.corrupt.isEmpty && check.unreadable.isEmpty, "\(at): \(check)", sourceLocation: sourceLocation)
        #expect(Set(check.unexpected).isSubset(of: op.planted), "\(at): \(check)", sourceLocation: sourceLocation)
        let objects = try vault.readIndex()
        for (id, versions) in scene.acked {
            if op.name == "purge", id == "A", !objects.contains(where: { $0.id == "A" }) { continue }
            for (v, payload) in versions {
                let got = try? Scene.read(vault, id, v)
                #expect(Bytes(got) == Bytes(payload), "\(at): \(id) v\(v) no longer reads back", sourceLocation: sourceLocation)
            }
        }
        let trust = TrustStoreFile(entries: [TrustStoreFile.Entry(publicKey: Minisign.PublicKey(keyID: Self.signer.id, key: Self.signer.key.publicKey.bytes),
                                                                   name: "log signer", added: "2026-01-01T00:00:00Z")])
        let log = try vault.verifyLog(trustStore: trust, now: Self.now)
        #expect(log.problems.isEmpty, "\(at): log: \(log.problems)", sourceLocation: sourceLocation)

        // The vault goes on working: a put, a signed head, and the log still checks.
        do {
            let payload = scene.bytes(1000)
            let stored = try Scene.put(vault, [("after", payload)], scratch: scene.dir)
            #expect(try Scene.read(vault, "after", stored[0].version) == payload, "\(at)", sourceLocation: sourceLocation)
            _ = try vault.signLog(key: Self.signer.key, keyID: Self.signer.id, now: Self.now)
        } catch {
            Issue.record("\(at): the vault no longer takes writes: \(error)", sourceLocation: sourceLocation)
        }
        let logAfter = try vault.verifyLog(trustStore: trust, now: Self.now)
        #expect(logAfter.problems.isEmpty, "\(at): log after a later write: \(logAfter.problems)", sourceLocation: sourceLocation)
        // The write removed whatever the crash left.
        let after = try vault.verify()
        #expect(after.missing.isEmpty && after.corrupt.isEmpty && after.unreadable.isEmpty && Set(after.unexpected).isSubset(of: op.planted)
                && after.leftovers.isEmpty && after.notes.isEmpty, "\(at): after a write: \(after)", sourceLocation: sourceLocation)
    }
}
