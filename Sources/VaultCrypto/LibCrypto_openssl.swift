internal import COpenSSL

/// OpenSSL's libcrypto, loaded with `dlopen` the first time AES-CBC, HKDF, HMAC, SHA-256 or the
/// fast base64 decoder is used, never at start-up: Debian builds libcrypto with BIND_NOW, so
/// merely linking it resolved some 3,400 symbol bindings before `main` in every command
/// (`avault --version`: 18.4M instructions, 4.5M of them for libcrypto). The only file that
/// loads it; the other `_openssl` files call through ``api()``.
public enum LibCrypto {
    /// The shared object looked for (OpenSSL 3's ABI).
    static let library = "libcrypto.so.3"

    private struct Loaded: @unchecked Sendable {
        let api: UnsafePointer<avault_libcrypto>?
        let problem: String
    }

    /// Loaded once per process (a `static let` is initialised once, thread-safely); never unloaded.
    private static let loaded: Loaded = {
        var problem: UnsafePointer<CChar>?
        if let api = avault_libcrypto_open(library, &problem) {
            return Loaded(api: UnsafePointer(api), problem: "")
        }
        return Loaded(api: nil, problem: "\(library) could not be loaded: \(problem.map { String(cString: $0) } ?? "no reason given")")
    }()

    /// Loads libcrypto now, if it is not loaded yet. libpq depends on the same libcrypto: loading
    /// it first makes the first call into OpenSSL ours, the one that decides that it registers no
    /// clean-up at exit (shim.h). A failure is left for the first use to report.
    public static func loadBeforeALibraryThatUsesIt() {
        _ = loaded
    }

    /// libcrypto's functions, or ``CryptoError/libraryFailure(_:)`` saying why it did not load.
    @inline(__always)
    static func api() throws(CryptoError) -> UnsafePointer<avault_libcrypto> {
        guard let api = loaded.api else { throw .libraryFailure(loaded.problem) }
        return api
    }

    /// libcrypto's functions, for the callers that cannot throw; a missing libcrypto stops the
    /// process with the reason (as the dynamic loader did when it was linked).
    @inline(__always)
    static func required() -> UnsafePointer<avault_libcrypto> {
        guard let api = loaded.api else { fatalError(loaded.problem) }
        return api
    }
}
