import Foundation
import Testing

/// libcrypto is loaded the first time OpenSSL is needed (AES-CBC, HKDF, HMAC, the fast base64
/// decoder of a blob's ciphertext), never at start-up: linked, its BIND_NOW bindings were 3.0M
/// of the 18.4M instructions of `avault --version` (docs/architecture.md).
@Suite struct LibcryptoLoadingCLITests {
    @Test func libcryptoIsLoadedOnlyWhenOpenSSLIsNeeded() throws {
        for args in [["--version"], ["--help"], ["vault", "--help"]] {
            let r = try PostgresLoadingCLITests.loadedLibraries(args)
            #expect(r.result.code == 0, "\(args): \(r.result.err.suffix(300))")
            #expect(!r.libraries.isEmpty, "LD_DEBUG=files reported nothing: the check would be blind")
            #expect(!r.libraries.contains { $0.hasPrefix("libcrypto") }, "\(args) loaded \(r.libraries)")
        }
        // The control: a legacy v1 blob is AES-CBC, through libcrypto, and still decrypts.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("libcrypto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let legacy = try PostgresLoadingCLITests.loadedLibraries(["secured", "decrypt", "--record", CLI.repoRoot.appendingPathComponent("Fixtures/records/demo-v1.md").path,
                                                                  "--key-file", privateKey("demo-aes256.key", in: dir),
                                                                  "--allow-unauthenticated-legacy"])
        #expect(legacy.result.code == 0, "\(legacy.result.err.suffix(300))")
        #expect(legacy.result.out.hasPrefix("Meta is reorganising its AI teams"), "\(legacy.result.out.prefix(80))")
        #expect(legacy.libraries.contains("libcrypto.so.3"), "\(legacy.libraries)")
    }
}
