#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import VaultCrypto
import VaultFormat

extension SecuredField {
    /// Decrypts a long legacy v1 blob from its file a piece at a time, handing the plaintext to
    /// `sink` in order, on the calling thread, each piece wiped after `sink` returns. Memory
    /// stays bounded (a few MiB) whatever the blob's size.
    ///
    /// Like ``decrypt(_:using:context:legacy:into:)`` it needs a `legacy` authorisation, tries
    /// every active version of a keyring's legacy key, and answers every decryption failure
    /// with the same ``AvaultError/decryptionFailed(keyIDs:)``. The padding is checked
    /// **before** the first byte goes to `sink`: in CBC the last plaintext block depends only
    /// on the last two ciphertext blocks, so those are decrypted first (which also picks the
    /// key that fits); it is checked again where the stream ends, on the bytes actually read
    /// then. So a wrong key or a tampered end gives `sink` nothing. The ciphertext's base64 is
    /// checked as it is decoded: a malformed piece in the middle stops the stream with
    /// ``AvaultError/malformed(_:file:)`` after the pieces before it went to `sink`.
    public static func decrypt(_ stream: LegacyBlobStream, using source: KeySource, legacy: LegacyAuthorization?,
                               into sink: (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) {
        guard legacy != nil else { throw .unauthenticatedLegacy(path: nil) }
        let keys: [(version: Int, active: Bool, secret: SecretBytes)]
        var name = ""
        switch source {
        case let .keyring(keyring, keyName):
            keys = try keyring.legacyKeys(keyName).filter { AESCBC.isKeySize($0.secret.count) }
            name = keyName
        case let .file(path):
            let key = try RawKeys.load(path)
            guard AESCBC.isKeySize(key.count) else {
                throw .unsuitableKey("a v1 blob needs a 16-, 24- or 32-byte AES key; this key is \(key.count) bytes")
            }
            keys = [(0, true, key)]
        }
        let plan = try LegacyStreamPlan(stream)
        guard let key = try Keyring.soleLegacyFit(keys, keyName: name, { plan.paddingHolds(under: $0) ? $0 : nil }) else {
            throw .decryptionFailed(keyIDs: nil)
        }
        try LegacyStreamRun(plan: plan, key: key).run(into: sink)
    }
}

/// Where the pieces of a streamed v1 blob lie. The ciphertext field is `B64(ciphertext)`:
/// every 4-character quantum but the last is decoded by ``Base64/decodeQuanta(_:into:)`` a
/// chunk at a time; the last quantum (1 to 3 bytes, with its padding) strictly, up front.
struct LegacyStreamPlan {
    let stream: LegacyBlobStream
    /// Characters of `B64(ciphertext)` before its last quantum.
    let interiorCharacters: Int
    /// The last quantum's bytes.
    let lastQuantum: [UInt8]
    /// The ciphertext's size.
    let ciphertextCount: Int
    /// The last two ciphertext blocks (the first is the IV when there is one block).
    let previousBlock: [UInt8], lastBlock: [UInt8]

    /// Characters of base64 per chunk: 512 KiB, decoding to 384 KiB = 24,576 AES blocks (a
    /// multiple of 64 characters, so every chunk starts on a block and a quantum).
    static let chunkCharacters = 1 << 19
    static var chunkBytes: Int { chunkCharacters / 4 * 3 }

    init(_ stream: LegacyBlobStream) throws(AvaultError) {
        self.stream = stream
        let fieldCharacters = stream.layout.ciphertextCharacters
        guard fieldCharacters % 4 == 0 else { throw .malformed(SecuredBlob.v1CiphertextNotBase64, file: nil) }
        interiorCharacters = fieldCharacters - 4
        let quantum = try FileSystem.pread(fd: stream.fd, count: 4, at: stream.start + interiorCharacters, name: stream.name)
        guard let last = try? Base64.decode(String(decoding: quantum, as: UTF8.self)) else {
            throw .malformed(SecuredBlob.v1CiphertextNotBase64, file: nil)
        }
        lastQuantum = last
        ciphertextCount = interiorCharacters / 4 * 3 + last.count
        do { try SecuredBlob.checkV1Ciphertext(count: ciphertextCount) } catch { throw .malformed(error, file: nil) }
        // The last min(32, n) ciphertext bytes: the end of the interior, then the last quantum.
        let want = min(32, ciphertextCount) - last.count
        let quanta = (want + 2) / 3
        let text = try FileSystem.pread(fd: stream.fd, count: quanta * 4, at: stream.start + interiorCharacters - quanta * 4, name: stream.name)
        var end = [UInt8](repeating: 0, count: quanta * 3)
        let decoded = text.withUnsafeBytes { t in end.withUnsafeMutableBytes { Base64.decodeQuanta(t, into: $0) } }
        guard decoded != nil else { throw .malformed(SecuredBlob.v1CiphertextNotBase64, file: nil) }
        let tail = Array(end.suffix(want)) + last
        if tail.count == 32 {
            previousBlock = Array(tail[0..<16])
            lastBlock = Array(tail[16..<32])
        } else {
            previousBlock = stream.layout.iv
            lastBlock = tail
        }
    }

    /// Whether the last block's padding is valid under `key`: exactly when decrypting the whole
    /// blob with it succeeds, found without decrypting the rest.
    func paddingHolds(under key: SecretBytes) -> Bool {
        guard let decryptor = try? AESCBC.Decryptor(key: key) else { return false }
        return lastBlock.withUnsafeBytes { last in
            previousBlock.withUnsafeBytes { previous in (try? decryptor.decryptLastBlock(last, previous: previous)) != nil }
        }
    }

    /// How many chunks the interior takes (at least one).
    var chunkCount: Int { max(1, (interiorCharacters + Self.chunkCharacters - 1) / Self.chunkCharacters) }
}

/// One decryption of a planned stream: chunks decoded and decrypted on up to two worker
/// threads, each with its own ``AESCBC/Decryptor`` (chunk `j` is chained from the ciphertext
/// block before it, decoded again from the file), handed to the sink in order by the calling
/// thread. Workers take the next chunk as they come free, into a ring of slots: chunk `j`
/// goes to slot `j % slots`, once chunk `j - slots` has been consumed. So a worker that the
/// system descheduled holds up the caller but not the other worker, which runs ahead.
private final class LegacyStreamRun: @unchecked Sendable {
    let plan: LegacyStreamPlan
    let key: SecretBytes
    let workers: Int
    let slots: [Slot]
    /// The next chunk a worker takes.
    let next = Atomic<Int>(0)
    /// Chunks consumed so far, and whether to stop; guarded by `lock`, signalled by `advanced`.
    private var consumed = 0
    private var cancelled = false
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let advanced = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// A chunk's buffers. Its worker fills it and posts `ready`; the caller consumes it.
    final class Slot: @unchecked Sendable {
        /// The base64 read from the file (public).
        var text: [UInt8]
        /// The decoded ciphertext, decrypted in place: plaintext once ready.
        let bytes: SecretBuffer
        /// Where the plaintext lies in `bytes`, or the error that stopped the worker.
        var result: Result<Range<Int>, AvaultError> = .success(0..<0)
        let ready = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

        init(characters: Int) {
            text = [UInt8](repeating: 0, count: characters)
            bytes = SecretBuffer(count: characters / 4 * 3 + 3)
            sem_init(ready, 0, 0)
        }

        deinit {
            sem_destroy(ready)
            ready.deallocate()
        }
    }

    init(plan: LegacyStreamPlan, key: SecretBytes) {
        self.plan = plan
        self.key = key
        let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        workers = min(2, cores, plan.chunkCount)
        // A chunk's text, and for chunks after the first the 24 characters before it (the
        // ciphertext block that chains it). Three slots per worker: 5.3 MiB in all.
        let characters = min(LegacyStreamPlan.chunkCharacters, plan.interiorCharacters) + 24
        slots = (0..<(workers == 1 ? 1 : 3 * workers)).map { _ in Slot(characters: characters) }
        pthread_mutex_init(lock, nil)
        pthread_cond_init(advanced, nil)
    }

    deinit {
        pthread_cond_destroy(advanced); advanced.deallocate()
        pthread_mutex_destroy(lock); lock.deallocate()
    }

    func run(into sink: (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) {
        let count = plan.chunkCount
        if workers == 1 {
            let slot = slots[0]
            let decryptor = try decryptor()
            for j in 0..<count {
                slot.result = produce(chunk: j, in: slot, decryptor: decryptor)
                try consume(slot, into: sink)
            }
            return
        }
        var threads: [pthread_t] = []
        for _ in 0..<workers {
            threads.append(Threads.start { [self] in work(count: count) })
        }
        var failure: AvaultError?
        for j in 0..<count {
            let slot = slots[j % slots.count]
            while sem_wait(slot.ready) != 0 {}
            do { try consume(slot, into: sink) } catch {
                failure = error
                break
            }
            pthread_mutex_lock(lock)
            consumed = j + 1
            pthread_cond_broadcast(advanced)
            pthread_mutex_unlock(lock)
        }
        if failure != nil {
            // A worker waiting for its slot wakes and stops; one producing finishes its chunk.
            pthread_mutex_lock(lock)
            cancelled = true
            pthread_cond_broadcast(advanced)
            pthread_mutex_unlock(lock)
        }
        for thread in threads { Threads.join(thread) }
        for slot in slots { slot.bytes.wipe() }
        if let failure { throw failure }
    }

    /// Hands a produced chunk's plaintext to `sink`, then wipes it.
    private func consume(_ slot: Slot, into sink: (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) {
        let range = try slot.result.get()
        defer { slot.bytes.wipe(count: range.upperBound) }
        try slot.bytes.withUnsafeMutableBytes { (b: UnsafeMutableRawBufferPointer) throws(AvaultError) in
            try sink(UnsafeRawBufferPointer(rebasing: b[range]))
        }
    }

    private func decryptor() throws(AvaultError) -> AESCBC.Decryptor {
        do { return try AESCBC.Decryptor(key: key) } catch { throw .crypto(error) }
    }

    /// Waits until chunk `j`'s slot is free (chunk `j - slots` consumed); false when cancelled.
    private func waitForSlot(of j: Int) -> Bool {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        while !cancelled, consumed < j - slots.count + 1 { pthread_cond_wait(advanced, lock) }
        return !cancelled
    }

    /// A worker: takes the next chunk until none is left, the caller stops, or a chunk fails
    /// (its error goes to the caller in that chunk's slot).
    private func work(count: Int) {
        var decryptor: AESCBC.Decryptor?
        var setupFailure: AvaultError?
        do { decryptor = try self.decryptor() } catch { setupFailure = error }
        while true {
            let j = next.add(1, ordering: .relaxed).oldValue
            guard j < count, waitForSlot(of: j) else { return }
            let slot = slots[j % slots.count]
            if let decryptor { slot.result = produce(chunk: j, in: slot, decryptor: decryptor) } else { slot.result = .failure(setupFailure!) }
            let failed = if case .failure = slot.result { true } else { false }
            sem_post(slot.ready)
            if failed { return }
        }
    }

    /// Reads, decodes and decrypts chunk `j` into `slot`; the plaintext's range in its bytes.
    private func produce(chunk j: Int, in slot: Slot, decryptor: AESCBC.Decryptor) -> Result<Range<Int>, AvaultError> {
        let stream = plan.stream
        let isLast = j == plan.chunkCount - 1
        // Characters [lo, hi) of the interior; before chunk 0 the IV chains it, before any
        // other the last 16 of the 18 bytes that the 24 characters before it decode to.
        let lo = j == 0 ? 0 : j * LegacyStreamPlan.chunkCharacters - 24
        let hi = min((j + 1) * LegacyStreamPlan.chunkCharacters, plan.interiorCharacters)
        let prefix = j == 0 ? 0 : 18
        do {
            let decoded = try slot.text.withUnsafeMutableBytes { (text: UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int? in
                let piece = UnsafeMutableRawBufferPointer(rebasing: text[0..<(hi - lo)])
                try FileSystem.pread(fd: stream.fd, into: piece, at: stream.start + lo, name: stream.name)
                return slot.bytes.withUnsafeMutableBytes { Base64.decodeQuanta(UnsafeRawBufferPointer(piece), into: $0) }
            }
            guard var length = decoded else { return .failure(.malformed(SecuredBlob.v1CiphertextNotBase64, file: nil)) }
            return try slot.bytes.withUnsafeMutableBytes { (b: UnsafeMutableRawBufferPointer) throws -> Result<Range<Int>, AvaultError> in
                if isLast {
                    for (i, byte) in plan.lastQuantum.enumerated() { b[length + i] = byte }
                    length += plan.lastQuantum.count
                }
                let iv = j == 0 ? plan.stream.layout.iv : Array(b[2..<18])
                var blocks = length - prefix
                guard isLast else {
                    try iv.withUnsafeBytes { try decryptor.decryptBlocks(UnsafeMutableRawBufferPointer(rebasing: b[prefix..<length]), iv: $0) }
                    return .success(prefix..<length)
                }
                // The last block alone, with its padding, chained from the block before it as read now.
                let last = Array(b[(length - 16)..<length])
                let previous = blocks >= 32 ? Array(b[(length - 32)..<(length - 16)]) : iv
                blocks -= 16
                try iv.withUnsafeBytes { try decryptor.decryptBlocks(UnsafeMutableRawBufferPointer(rebasing: b[prefix..<(prefix + blocks)]), iv: $0) }
                let end = try last.withUnsafeBytes { l in try previous.withUnsafeBytes { try decryptor.decryptLastBlock(l, previous: $0) } }
                end.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: b[(length - 16)...]).copyMemory(from: $0) } // it held the whole block
                return .success(prefix..<(length - 16 + end.count))
            }
        } catch let error as AvaultError {
            return .failure(error)
        } catch {
            // A CBC failure here is the padding of bytes that changed since they were checked.
            return .failure(.decryptionFailed(keyIDs: nil))
        }
    }
}
