internal import CSodium

/// Constant-time comparison of public-length byte strings (`sodium_memcmp`).
public enum ConstantTime {
    /// True when `a` and `b` have the same length and the same bytes. The time taken
    /// depends only on the length, never on where the first difference is.
    public static func equals<A: BytesView, B: BytesView>(_ a: A, _ b: B) -> Bool {
        sodiumReady()
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                guard pa.count == pb.count else { return false }
                if pa.count == 0 { return true }
                return sodium_memcmp(pa.baseAddress!, pb.baseAddress!, pa.count) == 0
            }
        }
    }
}
