internal import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

extension Base64 {
    /// Decodes whole 4-character quanta of standard base64 with no padding — the inside of a
    /// long base64 text, a piece at a time — into `output` (at least 3/4 of the input's
    /// length), strictly: nil when the length is not a multiple of 4 or any character is
    /// outside the standard alphabet (`=`, whitespace and line breaks included). Returns the
    /// number of bytes written (exactly 3/4 of the input).
    ///
    /// OpenSSL's table decoder (`EVP_DecodeBlock`), several times faster than libsodium's
    /// constant-time one but NOT constant-time: only for public data such as ciphertext. The
    /// final quantum of a text (the one that may hold padding and must have canonical trailing
    /// bits) goes through ``decode(_:)``; ``decodePublic(_:)`` combines the two.
    public static func decodeQuanta(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard input.count % 4 == 0 else { return nil }
        let expected = input.count / 4 * 3
        precondition(output.count >= expected, "decodeQuanta: output too small")
        guard expected > 0 else { return 0 }
        // EVP_DecodeBlock takes `=` for a zero digit wherever it stands, and trims whitespace,
        // line breaks and `-` at both ends: refuse `=` here, and anything trimmed shows up as
        // a length other than the expected one.
        guard memchr(input.baseAddress!, Int32(UInt8(ascii: "=")), input.count) == nil else { return nil }
        let decodeBlock = LibCrypto.required().pointee.EVP_DecodeBlock
        var offset = 0
        while offset < input.count {
            let n = min(input.count - offset, 1 << 28) // whole quanta, within an Int32
            let written = decodeBlock(output.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset / 4 * 3,
                                          input.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, Int32(n))
            guard Int(written) == n / 4 * 3 else { return nil }
            offset += n
        }
        return expected
    }

    /// Decodes strict standard base64 (exactly what ``decode(_:)`` accepts) holding public
    /// data, such as a blob's ciphertext: every quantum but the last through
    /// ``decodeQuanta(_:into:)``, the last through ``decode(_:)``. Not constant-time.
    /// Throws ``CryptoError/invalidBase64``.
    public static func decodePublic<Bytes: BytesView>(_ utf8: Bytes) throws(CryptoError) -> [UInt8] {
        let decoded: [UInt8]? = utf8.withUnsafeBytes { raw in
            guard raw.count % 4 == 0 else { return nil }
            guard raw.count > 4 else { return decode(utf8: raw.assumingMemoryBound(to: UInt8.self)) }
            let body = UnsafeRawBufferPointer(rebasing: raw[..<(raw.count - 4)])
            guard let last = decode(utf8: UnsafeRawBufferPointer(rebasing: raw[(raw.count - 4)...]).assumingMemoryBound(to: UInt8.self)) else { return nil }
            var ok = true
            let out = [UInt8](unsafeUninitializedCapacity: body.count / 4 * 3 + last.count) { buffer, initialized in
                guard let n = decodeQuanta(body, into: UnsafeMutableRawBufferPointer(buffer)) else { ok = false; return }
                for (i, byte) in last.enumerated() { buffer[n + i] = byte }
                initialized = n + last.count
            }
            return ok ? out : nil
        }
        guard let decoded else { throw .invalidBase64 }
        return decoded
    }
}
