internal import CSodium

/// A mutable buffer for secrets produced a piece at a time (plaintext being decrypted in
/// chunks): `sodium_malloc` memory (guard pages, `mlock` where allowed), wiped with
/// ``wipe()`` between uses and when released.
///
/// Not synchronised: hand it between threads only with a lock or a semaphore.
public final class SecretBuffer: @unchecked Sendable {
    private let pointer: UnsafeMutableRawPointer
    /// The buffer's size in bytes.
    public let count: Int

    /// `count` zero bytes.
    public init(count: Int) {
        precondition(count >= 0)
        sodiumReady()
        guard let p = sodium_malloc(max(count, 1)) else { fatalError("sodium_malloc failed: out of memory") }
        pointer = p
        self.count = count
        sodium_memzero(p, max(count, 1))
    }

    deinit {
        sodium_memzero(pointer, max(count, 1))
        sodium_free(pointer)
    }

    /// The whole buffer, to fill or read. Do not let the pointer escape.
    public func withUnsafeMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeMutableRawBufferPointer(start: pointer, count: count))
    }

    /// Zeroes the first `count` bytes (all of them by default) with `sodium_memzero`.
    public func wipe(count: Int? = nil) {
        let n = min(count ?? self.count, self.count)
        if n > 0 { sodium_memzero(pointer, n) }
    }
}
