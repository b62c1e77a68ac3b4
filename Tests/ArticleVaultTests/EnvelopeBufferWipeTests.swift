@testable import ArticleVault
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The plaintext buffer of a vault's envelopes is wiped when freed, as far as plaintext was
/// ever written into it (all 320 KiB would fault in pages a small draft never touched).
@Suite struct EnvelopeBufferWipeTests {
    /// Found by a review: a read that failed after filling part of the buffer (a non-blocking
    /// pipe with nothing more yet) threw before the bytes it had read were counted, and they
    /// were freed unwiped.
    @Test func aReadThatFailsPartwayHasWhatItReadWiped() throws {
        let scene = try VaultStreamingTests.Scene()
        var ends: [Int32] = [-1, -1]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        let secret = [UInt8](repeating: 0x5a, count: 1024)
        #expect(secret.withUnsafeBytes { Glibc.write(ends[1], $0.baseAddress!, $0.count) } == 1024)
        #expect(fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK) == 0)
        let error = #expect(throws: AvaultError.self) {
            try scene.vault.put([Vault.Input(id: "doc", fd: ends[0], contentType: nil)], now: VaultStreamingTests.now)
        }
        guard case .io? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(scene.vault.writingBuffers.plainWritten >= secret.count, "the bytes read before the failure are not wiped")
    }

    @Test func aSmallPayloadMarksOnlyItsOwnBytes() throws {
        let scene = try VaultStreamingTests.Scene()
        _ = try scene.put("doc", Array("a small draft\n".utf8), viaPipe: false)
        #expect(scene.vault.writingBuffers.plainWritten == 14)
        var out: [UInt8] = []
        try scene.vault.get("doc", version: nil) { (piece: UnsafeRawBufferPointer) throws(AvaultError) in out += piece }
        #expect(out == Array("a small draft\n".utf8))
        #expect(scene.vault.readingBuffers.plainWritten == 14)
    }
}
