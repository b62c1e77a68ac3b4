#if canImport(Glibc)
import Glibc
#endif
import VaultCrypto
import VaultFormat

/// Reusable memory for streaming envelopes, so that no chunk allocates: a plaintext block, a
/// few sealed (ciphertext) blocks, and a thread that feeds the sealed blocks to the envelope's
/// digest while the next one is filled. Blocks hold ``blockChunks`` chunks: one `read` and one
/// `write` of 256 KiB instead of one per chunk, small enough to stay in a core's cache between
/// the crypto and the copy into or out of the kernel (1 MiB blocks made those copies several
/// times slower). A vault keeps one for reading and one for writing (a rewrap does both at
/// once); never shared between threads.
final class EnvelopeBuffers {
    /// Chunks per block.
    static let blockChunks = 4
    /// A chunk of plaintext sealed: 65,553 bytes.
    static var sealedChunk: Int { VaultFiles.chunkSize + SecretStream.chunkOverhead }
    /// The sealed bytes read per block.
    static var readBlock: Int { blockChunks * sealedChunk }
    static let sealedBlocks = 3

    /// The sealed block after `i`.
    static func next(_ i: Int) -> Int { (i + 1) % sealedBlocks }

    /// Plaintext: `blockChunks + 1` chunks (a writer holds the last one back until it knows
    /// whether it is the final one). What was written of it is wiped when freed.
    let plain: UnsafeMutableRawBufferPointer
    /// How far into `plain` plaintext was ever written: only that is wiped, so that a small
    /// payload does not touch (and fault in) the rest, 320 KiB.
    private(set) var plainWritten = 0
    /// ``sealedBlocks`` sealed blocks, each room for the envelope header and `blockChunks + 1`
    /// chunks: one is filled while the others wait for, or are fed to, the digest.
    let sealed: [UnsafeMutableRawBufferPointer]
    /// One byte, to check that an envelope ends where its final chunk does.
    let probe: UnsafeMutableRawBufferPointer
    /// The digest job of each sealed block still to wait for (0: none).
    private var tickets = [Int](repeating: 0, count: sealedBlocks)
    private var worker: SerialWorker<DigestJob>?

    init() {
        plain = .allocate(byteCount: (Self.blockChunks + 1) * VaultFiles.chunkSize, alignment: 64)
        sealed = (0..<Self.sealedBlocks).map { _ in
            .allocate(byteCount: VaultFiles.envelopeHeaderSize + (Self.blockChunks + 1) * Self.sealedChunk, alignment: 64)
        }
        probe = .allocate(byteCount: 1, alignment: 1)
    }

    deinit {
        worker?.close()
        wipe(UnsafeMutableRawBufferPointer(rebasing: plain[0..<plainWritten]))
        plain.deallocate()
        for block in sealed { block.deallocate() }
        probe.deallocate()
    }

    /// Notes that plaintext was written into `plain` up to `end`.
    func wrotePlain(upTo end: Int) { plainWritten = min(plain.count, max(plainWritten, end)) }

    /// Feeds the first `count` bytes of sealed block `i` to `digest`: on the worker thread when
    /// `background` (then block `i` is not to be written before ``reclaim(_:)``), else here,
    /// after every job handed to the worker (a digest takes its bytes in order).
    func hash(_ i: Int, count: Int, into digest: EnvelopeDigest, background: Bool) {
        let bytes = ReadOnlyBytes(UnsafeRawBufferPointer(start: sealed[i].baseAddress, count: count))
        guard background else {
            worker?.drain()
            digest.update(bytes.raw)
            return
        }
        let worker = self.worker ?? SerialWorker<DigestJob>(capacity: Self.sealedBlocks) { $0.digest.update($0.bytes.raw) }
        self.worker = worker
        tickets[i] = worker.submit(DigestJob(digest: digest, bytes: bytes))
    }

    /// Waits until sealed block `i` may be written again.
    func reclaim(_ i: Int) {
        if tickets[i] > 0 { worker?.wait(for: tickets[i]) }
        tickets[i] = 0
    }

    /// Waits until every digest job is done (before a digest is read, or a block reused).
    func drain() {
        worker?.drain()
        for i in tickets.indices { tickets[i] = 0 }
    }
}

/// Bytes handed to the digest thread, which only reads them while their owner waits for it
/// before writing them again (``EnvelopeBuffers/reclaim(_:)``).
struct ReadOnlyBytes: @unchecked Sendable {
    let raw: UnsafeRawBufferPointer
    init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }
}

/// A sealed block to feed to a digest.
struct DigestJob {
    let digest: EnvelopeDigest
    let bytes: ReadOnlyBytes
}

/// BLAKE2b-256 of an envelope, as hex (a reference to one hasher, which the digest thread of
/// ``EnvelopeBuffers`` may feed; a hasher that is never finalised frees its state when dropped).
final class EnvelopeDigest: @unchecked Sendable {
    private var hasher: BLAKE2b? = BLAKE2b(digestSize: 32)

    func update(_ bytes: [UInt8]) { hasher?.update(bytes) }

    func update(_ bytes: UnsafeRawBufferPointer) { hasher?.update(bytes) }

    /// The digest; once only, after every update (``EnvelopeBuffers/drain()``).
    func hex() -> String {
        guard let hasher = hasher.take() else { preconditionFailure("EnvelopeDigest finalised twice") }
        return Hex.encode(hasher.finalize())
    }
}

/// Writes one envelope: the header, then each 65,536-byte chunk of plaintext sealed, a block
/// of chunks per write, holding the last chunk back so that it can carry the final tag; hashes
/// every byte written (on the digest thread while the next block is sealed).
final class EnvelopeWriter {
    private let sink: EnvelopeSink
    private let encryptor: SecretStream.Encryptor
    private let ad: [UInt8]
    private let buffers: EnvelopeBuffers
    private let digest = EnvelopeDigest()
    /// Plaintext bytes waiting in `buffers.plain`.
    private var pending = 0
    /// The sealed block being filled, and how much of it is.
    private var current = 0
    private var filled = 0
    private var size = 0
    /// Whether a block went out before the last one (the digest is then fed on the thread).
    private var flushed = false

    init(_ vault: Vault, buffers: EnvelopeBuffers, file: String, object: String, version: Int, kid id: KeyID, key: SecretBytes) throws(AvaultError) {
        self.buffers = buffers
        sink = try vault.storage.newEnvelope(file)
        do { encryptor = try SecretStream.Encryptor(key: key) } catch { sink.abandon(); throw .crypto(error) }
        ad = vault.config.envelopeAssociatedData(object: object, version: version, kid: id)
        buffers.drain()
        let header = VaultFiles.EnvelopeHeader(kid: id, streamHeader: encryptor.header).bytes
        header.withUnsafeBytes { buffers.sealed[0].copyMemory(from: $0) }
        filled = header.count
    }

    private var capacity: Int { buffers.plain.count }

    /// Adds everything readable from `fd`.
    func add(reading fd: Int32, name: String) throws(AvaultError) {
        while true {
            let room = UnsafeMutableRawBufferPointer(rebasing: buffers.plain[pending...])
            let n: Int
            do { n = try FileSystem.readFull(fd: fd, into: room, name: name) } catch {
                // A read that failed may have filled part of the room before it did.
                buffers.wrotePlain(upTo: capacity)
                throw error
            }
            pending += n
            buffers.wrotePlain(upTo: pending)
            guard pending == capacity else { return }
            try flushBlock()
        }
    }

    /// Adds `bytes` (any number).
    func add(_ bytes: UnsafeRawBufferPointer) throws(AvaultError) {
        var offset = 0
        while offset < bytes.count {
            let n = min(capacity - pending, bytes.count - offset)
            UnsafeMutableRawBufferPointer(rebasing: buffers.plain[pending..<(pending + n)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]))
            pending += n
            buffers.wrotePlain(upTo: pending)
            offset += n
            if pending == capacity { try flushBlock() }
        }
    }

    /// The plaintext buffer is full, so more follows its first `blockChunks` chunks: seals and
    /// writes them, and moves the last chunk to the front.
    private func flushBlock() throws(AvaultError) {
        let chunk = VaultFiles.chunkSize
        for k in 0..<EnvelopeBuffers.blockChunks {
            seal(UnsafeRawBufferPointer(rebasing: buffers.plain[(k * chunk)..<((k + 1) * chunk)]), final: false)
        }
        let last = EnvelopeBuffers.blockChunks * chunk
        buffers.plain.baseAddress!.copyMemory(from: buffers.plain.baseAddress! + last, byteCount: chunk)
        pending = chunk
        try emit(background: true)
    }

    private func seal(_ piece: UnsafeRawBufferPointer, final: Bool) {
        let out = UnsafeMutableRawBufferPointer(rebasing: buffers.sealed[current][filled...])
        filled += encryptor.push(piece, into: out, associatedData: ad, final: final)
        size += piece.count
    }

    /// Writes the sealed block and hands it to the digest; the next block is filled next, once
    /// the digest is done with it.
    private func emit(background: Bool) throws(AvaultError) {
        try sink.write(UnsafeRawBufferPointer(start: buffers.sealed[current].baseAddress, count: filled))
        buffers.hash(current, count: filled, into: digest, background: background)
        flushed = true
        current = EnvelopeBuffers.next(current)
        buffers.reclaim(current)
        filled = 0
    }

    /// Seals what is left, the last chunk (65,536 bytes or fewer; empty only for an empty
    /// payload) with the final tag, and writes it. Returns the plaintext size, the envelope's
    /// digest and its sink, written and not yet committed.
    func finish() throws(AvaultError) -> (size: Int, digest: String, sink: EnvelopeSink) {
        let chunk = VaultFiles.chunkSize
        var offset = 0
        repeat {
            let n = min(chunk, pending - offset)
            seal(UnsafeRawBufferPointer(rebasing: buffers.plain[offset..<(offset + n)]), final: offset + n == pending)
            offset += n
        } while offset < pending
        pending = 0
        try emit(background: flushed)
        buffers.drain()
        return (size, digest.hex(), sink)
    }

    /// Discards the envelope (before it was handed to a committer).
    func abandon() { sink.abandon() }
}

extension Vault {
    /// Authenticates and decrypts one envelope read through `fill` (which fills the buffer it
    /// is given, or returns fewer bytes only at the envelope's end), a block at a time in
    /// `buffers`; hands each block of plaintext to `write` once all of its chunks have
    /// authenticated (the last only once the envelope has ended with its final chunk), and
    /// every byte read to `digest`, which is complete when this returns. Returns the plaintext
    /// size. With `expectedKid`, the header must name that key version; without, any version
    /// of the vault's key.
    func decrypt(_ fill: (UnsafeMutableRawBufferPointer) throws(AvaultError) -> Int, buffers: EnvelopeBuffers, digest: EnvelopeDigest?,
                 object: String, version: Int, expectedKid: KeyID?, corrupt: AvaultError,
                 write: (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) -> Int {
        buffers.drain()
        let head = UnsafeMutableRawBufferPointer(rebasing: buffers.sealed[0][0..<VaultFiles.envelopeHeaderSize])
        guard try fill(head) == head.count, let header = try? VaultFiles.EnvelopeHeader(parsing: Array(head)) else { throw corrupt }
        digest?.update(UnsafeRawBufferPointer(head))
        let kid = header.kid
        if let expectedKid, kid != expectedKid { throw corrupt }
        if expectedKid == nil, !knows(kid: kid) { throw corrupt }
        let decryptor: SecretStream.Decryptor
        do { decryptor = try SecretStream.Decryptor(key: try key(kid: kid), header: header.streamHeader) } catch let e as AvaultError {
            throw e
        } catch { throw corrupt }
        let ad = config.envelopeAssociatedData(object: object, version: version, kid: kid)
        let sealedChunk = EnvelopeBuffers.sealedChunk
        var size = 0
        var current = 0
        var background = false
        while true {
            buffers.reclaim(current)
            let block = UnsafeMutableRawBufferPointer(rebasing: buffers.sealed[current][0..<EnvelopeBuffers.readBlock])
            let n = try fill(block)
            let full = n == block.count
            var offset = 0
            var produced = 0
            while offset < n {
                // Nothing may follow the final chunk.
                guard !decryptor.finished else { throw corrupt }
                let piece = UnsafeRawBufferPointer(rebasing: block[offset..<min(offset + sealedChunk, n)])
                let out = UnsafeMutableRawBufferPointer(rebasing: buffers.plain[produced...])
                // What a chunk may write, even one that fails to authenticate.
                buffers.wrotePlain(upTo: produced + piece.count - min(piece.count, SecretStream.chunkOverhead))
                do { produced += try decryptor.pull(piece, into: out, associatedData: ad) } catch { throw corrupt }
                offset += piece.count
            }
            // Cut short before the final chunk, or going on after it.
            guard decryptor.finished || full else { throw corrupt }
            if decryptor.finished, full, try fill(buffers.probe) != 0 { throw corrupt }
            if let digest {
                background = background || !decryptor.finished
                buffers.hash(current, count: n, into: digest, background: background)
            }
            if produced > 0 { try write(UnsafeRawBufferPointer(rebasing: buffers.plain[0..<produced])) }
            size += produced
            if decryptor.finished { break }
            current = EnvelopeBuffers.next(current)
        }
        buffers.drain()
        return size
    }

    /// Reads an envelope through `source` to its end and returns the hex of its digest.
    func digest(of source: EnvelopeSource, buffers: EnvelopeBuffers) throws(AvaultError) -> String {
        try digest(of: source, buffers: buffers, upTo: .max)!
    }

    /// ``digest(of:buffers:)``, or nil as soon as more than `limit` bytes were read (a file
    /// larger than the envelope it should be, a sparse one of terabytes among them, is not read
    /// to its end to find it does not match).
    func digest(of source: EnvelopeSource, buffers: EnvelopeBuffers, upTo limit: Int) throws(AvaultError) -> String? {
        let digest = EnvelopeDigest()
        buffers.drain()
        let block = UnsafeMutableRawBufferPointer(rebasing: buffers.sealed[0][0..<EnvelopeBuffers.readBlock])
        var total = 0
        while true {
            let n = try source.read(into: block)
            total += n
            guard total <= limit else { return nil }
            digest.update(UnsafeRawBufferPointer(rebasing: block[0..<n]))
            if n < block.count { break }
        }
        return digest.hex()
    }
}
