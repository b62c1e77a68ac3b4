internal import CSodium

/// Secret key material.
///
/// The bytes live in memory allocated by `sodium_malloc` (guard pages, `mlock` where the
/// system allows it), are wiped with `sodium_memzero` when the last copy is released, never
/// appear in `description`, `debugDescription` or a mirror, and compare in constant time.
/// The value is immutable; reach the bytes only through ``withUnsafeBytes(_:)``.
public struct SecretBytes: Sendable {
    private final class Storage: @unchecked Sendable {
        // Immutable after init, so sharing between threads is safe.
        let pointer: UnsafeMutableRawPointer
        let count: Int

        init(count: Int) {
            sodiumReady()
            // sodium_malloc(0) is allowed but returns a unique pointer; keep one byte minimum.
            guard let p = sodium_malloc(max(count, 1)) else {
                fatalError("sodium_malloc failed: out of memory")
            }
            self.pointer = p
            self.count = count
        }

        deinit {
            sodium_memzero(pointer, max(count, 1))
            sodium_free(pointer)
        }
    }

    private let storage: Storage

    /// Creates `count` bytes and lets `body` fill them. If `body` throws, the memory is wiped.
    public init(count: Int, initializingWith body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        precondition(count >= 0)
        let storage = Storage(count: count)
        try body(UnsafeMutableRawBufferPointer(start: storage.pointer, count: count))
        self.storage = storage
    }

    /// Copies `bytes` into secret memory. The caller is responsible for the source copy;
    /// prefer producing secrets directly into a ``SecretBytes`` where possible.
    public init<Bytes: Collection>(copying bytes: Bytes) where Bytes.Element == UInt8 {
        self.init(count: bytes.count) { buffer in
            _ = buffer.initializeMemory(as: UInt8.self, from: bytes)
        }
    }

    /// `count` bytes from the operating system's CSPRNG (`randombytes_buf`).
    public static func random(count: Int) -> SecretBytes {
        SecretBytes(count: count) { buffer in
            if let base = buffer.baseAddress { randombytes_buf(base, buffer.count) }
        }
    }

    /// Number of secret bytes.
    public var count: Int { storage.count }

    /// Calls `body` with the secret bytes. Do not let the pointer escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) {
            try body(UnsafeRawBufferPointer(start: storage.pointer, count: storage.count))
        }
    }

    /// Locks the bytes in RAM (`sodium_mlock`: `mlock(2)`, and left out of core files), so that
    /// they are never written to swap. `sodium_malloc` tries this already and ignores a
    /// failure; this says whether the bytes are locked. Throws when the system refuses (see
    /// `ulimit -l`).
    public func lockInMemory() throws(CryptoError) {
        guard withUnsafeBytes({ sodium_mlock(UnsafeMutableRawPointer(mutating: storage.pointer), max($0.count, 1)) }) == 0 else {
            throw .libraryFailure("sodium_mlock (the memory-lock limit, ulimit -l, may be too low)")
        }
    }

    /// A new secret holding the bytes `range` of this one.
    public func slice(_ range: Range<Int>) -> SecretBytes {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        return withUnsafeBytes { source in
            SecretBytes(count: range.count) { dest in
                dest.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[range]))
            }
        }
    }
}

extension SecretBytes: Equatable {
    /// Constant-time comparison (`sodium_memcmp`); different lengths compare unequal.
    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.count == 0 { return true }
        return lhs.withUnsafeBytes { a in
            rhs.withUnsafeBytes { b in
                sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
            }
        }
    }
}

extension SecretBytes: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Always redacted: `SecretBytes(<redacted>, N bytes)`.
    public var description: String { "SecretBytes(<redacted>, \(count) bytes)" }
    /// Always redacted, like ``description``.
    public var debugDescription: String { description }
    /// A mirror with no children, so `dump` cannot reveal the bytes.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
