internal import CSodium

/// Chunked authenticated encryption of long streams: libsodium's
/// `crypto_secretstream_xchacha20poly1305`. Each chunk is authenticated on its own (with its
/// associated data), chunks cannot be reordered, dropped or duplicated unnoticed, and the
/// final chunk is tagged so truncation is detected. Memory stays at one chunk.
public enum SecretStream {
    /// Header size (24 bytes): written once before the first chunk.
    public static var headerSize: Int { Int(crypto_secretstream_xchacha20poly1305_headerbytes()) }
    /// Per-chunk overhead (17 bytes).
    public static var chunkOverhead: Int { Int(crypto_secretstream_xchacha20poly1305_abytes()) }
    /// Key size (32 bytes).
    public static var keySize: Int { Int(crypto_secretstream_xchacha20poly1305_keybytes()) }

    private static func allocateState() -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer.allocate(byteCount: crypto_secretstream_xchacha20poly1305_statebytes(), alignment: 16)
    }

    private static func release(_ state: UnsafeMutableRawPointer) {
        sodium_memzero(state, crypto_secretstream_xchacha20poly1305_statebytes())
        state.deallocate()
    }

    /// Encrypts a stream chunk by chunk.
    public final class Encryptor {
        private let state: UnsafeMutableRawPointer
        /// The header to store before the chunks.
        public let header: [UInt8]

        public init(key: SecretBytes) throws(CryptoError) {
            sodiumReady()
            guard key.count == SecretStream.keySize else {
                throw .invalidLength(what: "secretstream key", expected: "\(SecretStream.keySize)", actual: key.count)
            }
            state = SecretStream.allocateState()
            var header = [UInt8](repeating: 0, count: SecretStream.headerSize)
            let st = state.assumingMemoryBound(to: crypto_secretstream_xchacha20poly1305_state.self)
            key.withUnsafeBytes { k in
                _ = crypto_secretstream_xchacha20poly1305_init_push(st, &header, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            self.header = header
        }

        deinit { SecretStream.release(state) }

        /// Encrypts one chunk; `final` marks the last one.
        public func push(_ chunk: UnsafeRawBufferPointer, associatedData: [UInt8], final: Bool) -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: chunk.count + SecretStream.chunkOverhead) { out, initialized in
                initialized = push(chunk, into: UnsafeMutableRawBufferPointer(out), associatedData: associatedData, final: final)
            }
        }

        /// Encrypts one chunk into `out`, which must hold `chunk.count + chunkOverhead` bytes
        /// (`chunk` and `out` must not overlap); returns that count. Allocates nothing.
        public func push(_ chunk: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, associatedData: [UInt8], final: Bool) -> Int {
            precondition(out.count >= chunk.count + SecretStream.chunkOverhead, "secretstream output buffer too small")
            var outLength: UInt64 = 0
            let tag = final ? crypto_secretstream_xchacha20poly1305_tag_final() : crypto_secretstream_xchacha20poly1305_tag_message()
            nonNull(chunk) { m in
                withNonNullPointer(associatedData) { ad, adCount in
                    _ = crypto_secretstream_xchacha20poly1305_push(state.assumingMemoryBound(to: crypto_secretstream_xchacha20poly1305_state.self),
                                                                   out.baseAddress!.assumingMemoryBound(to: UInt8.self), &outLength, m, UInt64(chunk.count),
                                                                   ad, UInt64(adCount), tag)
                }
            }
            return Int(outLength)
        }
    }

    /// Decrypts a stream chunk by chunk.
    public final class Decryptor {
        private let state: UnsafeMutableRawPointer
        /// Whether the final chunk has been read.
        public private(set) var finished = false

        /// Throws ``CryptoError/decryptionFailed`` for a header that does not belong to `key`.
        public init(key: SecretBytes, header: [UInt8]) throws(CryptoError) {
            sodiumReady()
            guard key.count == SecretStream.keySize, header.count == SecretStream.headerSize else { throw .decryptionFailed }
            state = SecretStream.allocateState()
            let rc = key.withUnsafeBytes { k in
                crypto_secretstream_xchacha20poly1305_init_pull(state.assumingMemoryBound(to: crypto_secretstream_xchacha20poly1305_state.self), header, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            guard rc == 0 else { SecretStream.release(state); throw .decryptionFailed }
        }

        deinit { SecretStream.release(state) }

        /// Decrypts and authenticates one chunk. Throws ``CryptoError/decryptionFailed`` if it
        /// was altered, reordered, bound to other associated data, or comes after the final one.
        public func pull(_ chunk: UnsafeRawBufferPointer, associatedData: [UInt8]) throws(CryptoError) -> [UInt8] {
            guard chunk.count >= SecretStream.chunkOverhead else { throw .decryptionFailed }
            // One spare byte: an empty chunk still needs a buffer with an address.
            var out = [UInt8](repeating: 0, count: chunk.count - SecretStream.chunkOverhead + 1)
            let n = try out.withUnsafeMutableBytes { o in
                Result { () throws(CryptoError) -> Int in try pull(chunk, into: o, associatedData: associatedData) }
            }.get()
            out.removeLast(out.count - n)
            return out
        }

        /// Decrypts and authenticates one chunk into `out`, which must hold
        /// `chunk.count - chunkOverhead` bytes (`chunk` and `out` must not overlap); returns that
        /// count. Allocates nothing. Throws as ``pull(_:associatedData:)`` does; `out` then holds
        /// nothing to use.
        public func pull(_ chunk: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, associatedData: [UInt8]) throws(CryptoError) -> Int {
            guard !finished, chunk.count >= SecretStream.chunkOverhead else { throw .decryptionFailed }
            precondition(out.count >= chunk.count - SecretStream.chunkOverhead && out.baseAddress != nil, "secretstream output buffer too small")
            var outLength: UInt64 = 0
            var tag: UInt8 = 0
            let rc = nonNull(chunk) { c in
                withNonNullPointer(associatedData) { ad, adCount in
                    crypto_secretstream_xchacha20poly1305_pull(state.assumingMemoryBound(to: crypto_secretstream_xchacha20poly1305_state.self),
                                                               out.baseAddress!.assumingMemoryBound(to: UInt8.self), &outLength, &tag, c, UInt64(chunk.count),
                                                               ad, UInt64(adCount))
                }
            }
            guard rc == 0 else { throw .decryptionFailed }
            if tag == crypto_secretstream_xchacha20poly1305_tag_final() { finished = true }
            return Int(outLength)
        }
    }
}
