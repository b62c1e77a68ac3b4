extension Base64 {
    /// Decodes whole 4-character quanta of standard base64 with no padding — the inside of a
    /// long base64 text, a piece at a time — into `output` (at least 3/4 of the input's
    /// length), strictly: nil when the length is not a multiple of 4 or any character is
    /// outside the standard alphabet (`=`, whitespace and line breaks included). Returns the
    /// number of bytes written (exactly 3/4 of the input); on nil, what `output` holds is
    /// unspecified.
    ///
    /// A table decoder (four 256-entry tables, one per position in a quantum, whose entries
    /// OR together into the quantum's three bytes): 4.0 instructions per character where
    /// OpenSSL's `EVP_DecodeBlock` takes 9.25 (callgrind), and many times faster than libsodium's
    /// constant-time decoder, but NOT constant-time: only for public data such as ciphertext. The final quantum of a
    /// text (the one that may hold padding and must have canonical trailing bits) goes through
    /// ``decode(_:)``; ``decodePublic(_:)`` combines the two.
    public static func decodeQuanta(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard input.count % 4 == 0 else { return nil }
        let quanta = input.count / 4
        precondition(output.count >= quanta * 3, "decodeQuanta: output too small")
        guard quanta > 0 else { return 0 }
        let src = input.baseAddress!, dst = output.baseAddress!
        return quantumTables.withUnsafeBufferPointer { (t: UnsafeBufferPointer<UInt32>) -> Int? in
            let t0 = t.baseAddress!, t1 = t0 + 256, t2 = t0 + 512, t3 = t0 + 768
            @inline(__always) func quantum(_ i: Int) -> UInt32 {
                let w = UInt32(littleEndian: src.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self))
                return t0[Int(w & 0xFF)] | t1[Int(w >> 8 & 0xFF)] | t2[Int(w >> 16 & 0xFF)] | t3[Int(w >> 24)]
            }
            // Every quantum but the last stores four bytes, the fourth overwritten by the next.
            var bad: UInt32 = 0
            var i = 0
            while i < quanta &- 1 {
                let x = quantum(i)
                bad |= x
                dst.storeBytes(of: x.littleEndian, toByteOffset: i &* 3, as: UInt32.self)
                i &+= 1
            }
            let x = quantum(i)
            bad |= x
            for k in 0..<3 { dst.storeBytes(of: UInt8(truncatingIfNeeded: x >> (8 * k)), toByteOffset: i * 3 + k, as: UInt8.self) }
            return bad & invalidQuantumBit == 0 ? quanta * 3 : nil
        }
    }

    /// Set in a table entry for a byte outside the alphabet; no valid entry reaches it.
    private static let invalidQuantumBit: UInt32 = 0x0100_0000

    /// ``decodeQuanta(_:into:)``'s tables: entry `256 * k + c` holds character `c`'s 6 bits
    /// where they fall, at position `k` of a quantum, in the quantum's three bytes read as a
    /// little-endian integer, or ``invalidQuantumBit``.
    private static let quantumTables: [UInt32] = {
        var table = [UInt32](repeating: invalidQuantumBit, count: 1024)
        for (value, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            let v = UInt32(value), c = Int(c)
            table[c] = v << 2                                  // byte 0: aaaaaa..
            table[256 + c] = v >> 4 | (v & 0x0F) << 12         // byte 0: ......bb, byte 1: bbbb....
            table[512 + c] = (v >> 2) << 8 | (v & 0x03) << 22  // byte 1: ....cccc, byte 2: cc......
            table[768 + c] = v << 16                           // byte 2: ..dddddd
        }
        return table
    }()

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
