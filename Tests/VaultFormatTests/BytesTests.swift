import Foundation
import TestSupport
import Testing

/// TestSupport's `Bytes`, which large byte values are compared through (see its comment).
@Suite struct BytesTests {
    @Test func equalityIsByteForByteAndNilIsNotEmpty() {
        let a = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        var b = a
        #expect(Bytes(a) == Bytes(b))
        #expect(Bytes(a) == Bytes([UInt8](a)))
        #expect(Bytes(a.prefix(10)) == Bytes(Array(a.prefix(10))[...]))
        b[50_000] ^= 1
        #expect(Bytes(a) != Bytes(b))
        #expect(Bytes(a) != Bytes(a.dropLast()))
        #expect(Bytes(nil as Data?) == Bytes(nil as [UInt8]?))
        #expect(Bytes(nil as Data?) != Bytes(Data()))
        #expect(Bytes(Optional(a)) == Bytes(a))
    }

    @Test func firstDifferenceIsTheOffsetOfTheFirstDifferentByte() {
        let a = Data(repeating: 7, count: 1 << 20)
        var b = a
        #expect(Bytes.firstDifference(Bytes(a), Bytes(b)) == nil)
        b[123_456] = 8
        b[200_000] = 8
        #expect(Bytes.firstDifference(Bytes(a), Bytes(b)) == 123_456)
        #expect(Bytes.firstDifference(Bytes(a), Bytes(a.prefix(1000))) == 1000)
        #expect(Bytes.firstDifference(Bytes(Data()), Bytes(a)) == 0)
        #expect(Bytes.firstDifference(Bytes(nil as Data?), Bytes(Data())) == 0)
    }

    @Test func descriptionIsShortAndTellsValuesApart() {
        let a = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0) })
        var b = a
        b[500_000] ^= 0xFF
        let d = Bytes(a).description
        // The ends match, only the fingerprint tells these two apart.
        #expect(d.hasPrefix("1048576 bytes [00 01 02 03 04 05 06 07 … f8 f9 fa fb fc fd fe ff] FNV-1a "), "\(d)")
        #expect(Bytes(b).description.hasPrefix("1048576 bytes [00 01 02 03 04 05 06 07 … f8 f9 fa fb fc fd fe ff] FNV-1a "))
        #expect(d != Bytes(b).description)
        #expect(d.count < 120, "\(d)")
        #expect(Bytes([0xde, 0xad]).description == "2 bytes [de ad] FNV-1a \(String(format: "%016llx", Bytes.fnv1a64([0xde, 0xad])))")
        #expect(Bytes(nil as Data?).description == "nil")
        // The published 64-bit FNV-1a values of "" and "a".
        #expect(Bytes.fnv1a64([]) == 0xcbf2_9ce4_8422_2325)
        #expect(Bytes.fnv1a64(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(Bytes(Data()).description == "0 bytes [] FNV-1a cbf29ce484222325")
    }
}
