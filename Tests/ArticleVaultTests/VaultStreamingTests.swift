import ArticleVault
import Foundation
import TestSupport
import Testing
import VaultCrypto
import VaultFormat
#if canImport(Glibc)
import Glibc
#endif

/// Envelopes are written and read a block of 4 chunks at a time, through reused buffers, with
/// the digest fed on a thread of its own; `get -o` reads an envelope once. None of that may show
/// on disk: every envelope is still the format of docs/formats.md 8.4 (checked here by reading
/// it back chunk by chunk with nothing but SecretStream), at every size around the chunk, block
/// and buffer boundaries, through put, get (both ways), verify and rewrap.
@Suite struct VaultStreamingTests {
    static let now: Int64 = 1_780_000_000
    static let chunk = 65536

    final class Scene {
        let dir: String
        let keyring: Keyring
        let vault: Vault
        var rng = SystemRandomNumberGenerator()

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("avault-streaming-" + UUID().uuidString).path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            keyring = try Keyring(directory: dir + "/ring",
                                  passphrase: PassphraseSource(file: nil, environmentVariable: "AVAULT_STREAMING_UNUSED", label: "unused"))
            try Self.addKey(keyring)
            vault = try Vault.initialize(storage: FileVaultStorage(directory: dir + "/vault"), keyring: keyring, keyName: "drafts")
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }

        static func addKey(_ ring: Keyring) throws {
            try ring.update { (r: Keyring) throws(AvaultError) -> Void in
                let secret = SecretBytes.random(count: 32)
                try r.add(name: "drafts", algorithm: .xchacha20poly1305, secret: secret, id: .content(SecuredField.keyID(for: secret)),
                          protected: false, now: VaultStreamingTests.now)
            }
        }

        func bytes(_ n: Int) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: n)
            for i in stride(from: 0, to: n, by: 8) {
                withUnsafeBytes(of: rng.next()) { word in
                    for k in 0..<min(8, n - i) { out[i + k] = word[k] }
                }
            }
            return out
        }

        func file(_ name: String, _ payload: [UInt8]) throws -> String {
            let path = dir + "/" + name
            try Data(payload).write(to: URL(fileURLWithPath: path))
            return path
        }

        /// Puts `payload` from a file, or through a pipe (a reader that gets it in pieces).
        func put(_ id: String, _ payload: [UInt8], viaPipe: Bool) throws -> Int {
            guard viaPipe else { return try vault.put(id: id, path: try file("in-" + UUID().uuidString, payload), contentType: nil, now: now).version }
            var ends: [Int32] = [-1, -1]
            try #require(pipe(&ends) == 0)
            let writeEnd = ends[1]
            let writer = Thread {
                payload.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let n = Glibc.write(writeEnd, raw.baseAddress! + offset, min(raw.count - offset, 10_000))
                        if n <= 0 { break }
                        offset += n
                    }
                }
                close(writeEnd)
            }
            writer.start()
            defer { close(ends[0]) }
            return try vault.put([Vault.Input(id: id, fd: ends[0], contentType: nil)], now: now)[0].version
        }

        var now: Int64 { VaultStreamingTests.now }

        func get(_ id: String, _ version: Int?) throws -> [UInt8] {
            var out: [UInt8] = []
            _ = try vault.get(id, version: version) { (block: UnsafeRawBufferPointer) throws(AvaultError) in out += block }
            return out
        }

        func getToFile(_ id: String, _ version: Int?) throws -> [UInt8] {
            let path = dir + "/out-" + UUID().uuidString
            defer { unlink(path) }
            try vault.get(id, version: version, toFile: path)
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        }

        func envelopePath(_ id: String, _ version: Int) throws -> String {
            dir + "/vault/objects/" + VaultFiles.envelopeFileName(object: try vault.objectName(id), version: version)
        }

        /// Decrypts the envelope file of `id` `version` as formats.md 8.4 describes it, with
        /// nothing but SecretStream: the header, then 65,553-byte chunks, the final tag on the
        /// last, nothing after it; and checks the index's digest against BLAKE2b-256 of the file.
        func readByTheSpec(_ id: String, _ version: Int) throws -> [UInt8] {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: try envelopePath(id, version))))
            let header = try #require(try? VaultFiles.EnvelopeHeader(parsing: Array(bytes.prefix(VaultFiles.envelopeHeaderSize))))
            let entry = try #require(keyring.versions(of: "drafts").first { $0.id == .content(header.kid) })
            let decryptor = try SecretStream.Decryptor(key: try keyring.secret(of: entry), header: header.streamHeader)
            let ad = vault.config.envelopeAssociatedData(object: try vault.objectName(id), version: version, kid: header.kid)
            var offset = VaultFiles.envelopeHeaderSize
            var plain: [UInt8] = []
            var chunks = 0
            while offset < bytes.count {
                #expect(!decryptor.finished, "bytes after the final chunk")
                let end = min(bytes.count, offset + VaultStreamingTests.chunk + SecretStream.chunkOverhead)
                plain += try bytes[offset..<end].withUnsafeBytes { try decryptor.pull($0, associatedData: ad) }
                chunks += 1
                offset = end
            }
            #expect(decryptor.finished, "no final chunk")
            #expect(chunks == max(1, (plain.count + VaultStreamingTests.chunk - 1) / VaultStreamingTests.chunk))
            let listed = try #require(try vault.history(id).versions.first { $0.number == version })
            #expect(listed.digest == Hex.encode(BLAKE2b.hash(bytes, digestSize: 32)), "the index's digest is not BLAKE2b-256 of the file")
            #expect(listed.size == plain.count)
            return plain
        }
    }

    /// Around a chunk, a block (4 chunks), the plaintext buffer (5 chunks), two and three
    /// blocks (the sealed blocks are reused in turn), larger multiples, and the 1 MiB up to which
    /// `get` reads an envelope into memory once (an envelope of exactly 1 MiB holds 16 chunks).
    static let sizes: [Int] = {
        let c = chunk
        let memoryLimitPayload = (1 << 20) - VaultFiles.envelopeHeaderSize - 16 * SecretStream.chunkOverhead
        return [0, 1, c - 1, c, c + 1, 4 * c - 1, 4 * c, 4 * c + 1, 5 * c - 1, 5 * c, 5 * c + 1, 8 * c, 9 * c + 3, 12 * c, 13 * c + 7,
                17 * c + 1, 33 * c + 5, memoryLimitPayload - 1, memoryLimitPayload, memoryLimitPayload + 1]
    }()

    @Test(arguments: [false, true])
    func everySizeRoundTripsAndIsTheSpecifiedFormat(viaPipe: Bool) throws {
        let s = try Scene()
        var payloads: [String: [UInt8]] = [:]
        for size in Self.sizes {
            let payload = s.bytes(size)
            let id = "size-\(size)"
            payloads[id] = payload
            #expect(try s.put(id, payload, viaPipe: viaPipe) == 1)
            #expect(Bytes(try s.readByTheSpec(id, 1)) == Bytes(payload), "\(id): the envelope read by the spec")
            #expect(Bytes(try s.get(id, nil)) == Bytes(payload), "\(id): get")
            #expect(Bytes(try s.getToFile(id, nil)) == Bytes(payload), "\(id): get -o")
        }
        let check = try s.vault.verify()
        #expect(check.ok && check.versions == Self.sizes.count, "\(check)")
        // A rewrap streams every envelope into a new one under the new key version.
        try Scene.addKey(s.keyring)
        #expect(try s.vault.rewrap() == Self.sizes.count)
        for (id, payload) in payloads {
            #expect(Bytes(try s.readByTheSpec(id, 1)) == Bytes(payload), "\(id) after rewrap: the envelope read by the spec")
            #expect(Bytes(try s.get(id, nil)) == Bytes(payload), "\(id) after rewrap: get")
        }
        #expect(try s.vault.verify().ok)
    }

    @Test func aBatchOfManyStoresEachAndVerifies() throws {
        let s = try Scene()
        var inputs: [Vault.Input] = []
        var payloads: [[UInt8]] = []
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        for i in 0..<300 {
            let payload = s.bytes(i % 50 == 0 ? 200_000 + i : 3000 + i)
            payloads.append(payload)
            let fd = open(try s.file("batch-\(i)", payload), O_RDONLY)
            fds.append(fd)
            inputs.append(Vault.Input(id: "batch-\(i)", fd: fd, contentType: nil))
        }
        let stored = try s.vault.put(inputs, now: Self.now)
        #expect(stored.count == 300 && stored.allSatisfy { $0.version == 1 })
        for i in stride(from: 0, to: 300, by: 7) {
            #expect(Bytes(try s.get("batch-\(i)", nil)) == Bytes(payloads[i]), "batch-\(i)")
        }
        let check = try s.vault.verify()
        #expect(check.ok && check.versions == 300 && check.leftovers.isEmpty, "\(check)")
    }

    /// `get -o` writes while it decrypts: when the envelope fails part-way (here its last chunk
    /// was altered) and a staged rewrap matching the index's digest is there, what was written
    /// is discarded and the staged envelope read instead; without one, nothing appears at the
    /// output path and no temporary file is left.
    @Test func getToAFileDiscardsWhatAFailingEnvelopeWrote() throws {
        let s = try Scene()
        let payload = s.bytes(40 * Self.chunk + 123)
        _ = try s.put("big", payload, viaPipe: false)
        let envelope = try s.envelopePath("big", 1)
        let original = try Data(contentsOf: URL(fileURLWithPath: envelope))
        var altered = original
        altered[altered.count - 5] ^= 0x40
        try altered.write(to: URL(fileURLWithPath: envelope))

        let out = s.dir + "/out"
        #expect(throws: AvaultError.self) { try s.vault.get("big", version: nil, toFile: out) }
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.dir).filter { $0.hasPrefix(".avault-tmp") }.isEmpty)

        let staged = (envelope as NSString).deletingLastPathComponent + "/" + VaultFiles.stagedPrefix + (envelope as NSString).lastPathComponent
        try original.write(to: URL(fileURLWithPath: staged))
        chmod(staged, 0o600)
        try s.vault.get("big", version: nil, toFile: out)
        #expect(Bytes(try Data(contentsOf: URL(fileURLWithPath: out))) == Bytes(payload))
        #expect(Bytes(try s.get("big", nil)) == Bytes(payload))
    }

    /// An envelope cut short, or with bytes after its final chunk, is refused by every reader,
    /// at a block boundary too (16 chunks: the fourth block ends where the envelope should).
    @Test(arguments: [16, 20])
    func cutOrExtendedEnvelopesAreRefused(chunks: Int) throws {
        let s = try Scene()
        let payload = s.bytes(chunks * Self.chunk)
        _ = try s.put("x", payload, viaPipe: false)
        let envelope = try s.envelopePath("x", 1)
        let original = try Data(contentsOf: URL(fileURLWithPath: envelope))
        let sealed = Self.chunk + SecretStream.chunkOverhead
        let variants = [3 * sealed, 16 * sealed, 16 * sealed + 1, original.count - VaultFiles.envelopeHeaderSize - 1]
            .filter { VaultFiles.envelopeHeaderSize + $0 < original.count }
            .map { Data(original.prefix(VaultFiles.envelopeHeaderSize + $0)) } + [original + Data([0])]
        for variant in variants {
            try Data(variant).write(to: URL(fileURLWithPath: envelope))
            #expect(throws: AvaultError.self) { try s.get("x", nil) }
            #expect(throws: AvaultError.self) { try s.getToFile("x", nil) }
            #expect(!(try s.vault.verify().ok))
        }
        try original.write(to: URL(fileURLWithPath: envelope))
        #expect(Bytes(try s.get("x", nil)) == Bytes(payload))
    }
}

/// The file store's committer: envelopes handed over are committed several at a time, each
/// exactly once or abandoned, and nothing is left running after `finish` or `cancel`.
@Suite struct EnvelopeCommitterTests {
    final class Sink: EnvelopeSink, @unchecked Sendable {
        let log: Log
        let index: Int
        init(_ log: Log, _ index: Int) { self.log = log; self.index = index }
        func write(_ bytes: UnsafeRawBufferPointer) throws(AvaultError) {}
        func commit(syncDirectory: Bool) throws(AvaultError) { try log.commit(index) }
        func abandon() { log.abandon(index) }
    }

    /// What happened to each sink; the first two commits meet (as two threads must).
    final class Log: @unchecked Sendable {
        let lock = NSCondition()
        var committed: [Int] = []
        var abandoned: [Int] = []
        var failAt: Int?
        var arrived = 0
        var met = false

        func commit(_ i: Int) throws(AvaultError) {
            lock.lock()
            defer { lock.unlock() }
            arrived += 1
            if arrived <= 2 {
                lock.broadcast()
                let deadline = Date().addingTimeInterval(30)
                while arrived < 2 && lock.wait(until: deadline) {}
                if arrived >= 2 { met = true }
            }
            if i == failAt { throw .io(path: "sink \(i)", reason: "simulated fsync failure") }
            committed.append(i)
        }

        func abandon(_ i: Int) {
            lock.lock()
            abandoned.append(i)
            lock.unlock()
        }
    }

    @Test func everyEnvelopeIsCommittedOnceWithSeveralAtOnce() throws {
        let committer = FileVaultStorage(directory: "/nonexistent").envelopeCommitter(batch: 1)
        let log = Log()
        for i in 0..<500 { try committer.add(Sink(log, i)) }
        try committer.finish()
        #expect(log.committed.sorted() == Array(0..<500))
        #expect(log.abandoned.isEmpty)
        #expect(log.met, "no two commits were ever under way at once")
        committer.cancel() // harmless after finish
        #expect(log.committed.count == 500 && log.abandoned.isEmpty)
    }

    @Test func aFailedCommitFailsTheBatchAndTheRestIsAbandoned() throws {
        let committer = FileVaultStorage(directory: "/nonexistent").envelopeCommitter(batch: 1)
        let log = Log()
        log.failAt = 40
        var refused = 0
        for i in 0..<400 {
            do { try committer.add(Sink(log, i)) } catch { refused += 1 }
        }
        #expect(throws: AvaultError.self) { try committer.finish() }
        // Each sink: committed, or abandoned (the failed one, those queued after the failure,
        // those refused), never both, never twice.
        #expect(!log.committed.contains(40))
        #expect(Set(log.committed).isDisjoint(with: log.abandoned))
        #expect((log.committed + log.abandoned).sorted() == Array(0..<400))
        #expect(log.abandoned.contains(40))
    }

    @Test func cancelAbandonsWhatIsNotCommittedAndWaits() throws {
        let committer = FileVaultStorage(directory: "/nonexistent").envelopeCommitter(batch: 1)
        let log = Log()
        for i in 0..<300 { try committer.add(Sink(log, i)) }
        committer.cancel()
        let (committed, abandoned) = (log.committed, log.abandoned)
        #expect((committed + abandoned).sorted() == Array(0..<300))
        // Nothing runs after cancel returned.
        usleep(20_000)
        #expect(log.committed == committed && log.abandoned == abandoned)
    }
}
