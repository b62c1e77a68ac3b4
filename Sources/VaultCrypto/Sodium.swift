internal import CSodium

/// libsodium must be initialised once before use; every entry point that reaches
/// libsodium goes through ``sodiumReady()``.
enum Sodium {
    static let initialized: Bool = {
        // sodium_init returns 0 on success, 1 if already initialised, -1 on failure.
        sodium_init() >= 0
    }()
}

@inline(__always)
func sodiumReady() {
    precondition(Sodium.initialized, "libsodium failed to initialise")
}

/// Calls `body` with a non-null pointer to `bytes` (C APIs declared `nonnull` want one
/// even for zero-length input; an empty array has no base address).
@inline(__always)
func withNonNullPointer<R>(_ bytes: [UInt8], _ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
    if bytes.isEmpty {
        var dummy: UInt8 = 0
        return withUnsafePointer(to: &dummy) { body($0, 0) }
    }
    return bytes.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
}

@inline(__always)
func withNonNullMutablePointer<R>(_ bytes: inout [UInt8], _ body: (UnsafeMutablePointer<UInt8>, Int) -> R) -> R {
    if bytes.isEmpty {
        var dummy: UInt8 = 0
        return withUnsafeMutablePointer(to: &dummy) { body($0, 0) }
    }
    return bytes.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
}

/// Byte containers the crypto functions accept without copying: `[UInt8]`,
/// `ArraySlice<UInt8>` and raw buffers.
public protocol BytesView {
    /// Calls `body` with the bytes.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: BytesView where Element == UInt8 {}
extension ArraySlice: BytesView where Element == UInt8 {}
extension UnsafeRawBufferPointer: BytesView {
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(self) }
}

/// Calls `body` with a non-null base pointer for `raw`, even when it is empty.
@inline(__always)
func nonNull<R>(_ raw: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>) -> R) -> R {
    if let base = raw.baseAddress, raw.count > 0 { return body(base.assumingMemoryBound(to: UInt8.self)) }
    var dummy: UInt8 = 0
    return withUnsafePointer(to: &dummy) { body($0) }
}
