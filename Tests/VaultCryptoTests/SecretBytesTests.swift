// SecretBytes: never printed, constant-time equality, slicing, randomness.

import Foundation
import Testing
import VaultCrypto

@Suite("SecretBytes")
struct SecretBytesTests {
    /// A recognisable secret: "TOPSECRET!" followed by 0xDEADBEEF 0xCAFEBABE.
    static let secretBytes: [UInt8] = Array("TOPSECRET!".utf8) + [0xDE, 0xAD, 0xBE, 0xEF, 0xCA, 0xFE, 0xBA, 0xBE]

    /// Strings that would betray the secret if they appeared in any rendering.
    static var forbidden: [String] {
        let hex = Hex.encode(secretBytes)
        return [
            "TOPSECRET", "SECRET!",
            hex, hex.uppercased(), "deadbeef", "DEADBEEF", "cafebabe", "CAFEBABE",
            Base64.encode(secretBytes), String(Base64.encode(secretBytes).prefix(12)),
            "222, 173, 190, 239",          // decimal bytes, as an array would print them
            "0xde", "0xDE", "\\xde",
            "84, 79, 80, 83",              // "TOPS" as decimal bytes
        ]
    }

    @Test("description, debugDescription, reflection and dump reveal nothing")
    func redacted() {
        let s = secret(Self.secretBytes)
        var dumped = ""
        dump(s, to: &dumped)
        var dumpedWrapper = ""
        dump(["key": s], to: &dumpedWrapper)
        struct Holder { let key: SecretBytes; let name = "holder" }
        let holder = Holder(key: s)
        var dumpedHolder = ""
        dump(holder, to: &dumpedHolder)

        let renderings = [
            s.description, s.debugDescription, String(describing: s), String(reflecting: s), "\(s)",
            dumped, dumpedWrapper, dumpedHolder, String(describing: holder), String(reflecting: holder),
            String(describing: [s]), String(describing: Optional(s)),
            String(describing: Mirror(reflecting: s).children.map { $0 }),
        ]
        for rendering in renderings {
            for needle in Self.forbidden {
                #expect(!rendering.contains(needle), "\(rendering.debugDescription) contains \(needle)")
            }
        }
        #expect(s.description == "SecretBytes(<redacted>, 18 bytes)")
        #expect(s.debugDescription == s.description)
        #expect(Mirror(reflecting: s).children.isEmpty)
        // Sanity check of the check itself: the forbidden strings do appear in a plain array dump.
        var plain = ""
        dump(Self.secretBytes, to: &plain)
        #expect(plain.contains("222") && plain.contains("173"))
        #expect(String(describing: Self.secretBytes).contains("222, 173, 190, 239"))
    }

    @Test("equality compares contents and lengths")
    func equality() {
        let a = secret(Self.secretBytes)
        #expect(a == secret(Self.secretBytes))
        #expect(a == a)
        #expect(a != secret(flippingBit(0, of: Self.secretBytes)))
        #expect(a != secret(flippingBit(Self.secretBytes.count * 8 - 1, of: Self.secretBytes)))
        #expect(a != secret(Array(Self.secretBytes.dropLast())))
        #expect(a != secret(Self.secretBytes + [0]))
        #expect(secret([]) == secret([]))
        #expect(secret([]) != secret([0]))
        #expect(secret([0]) != secret([]))
        #expect(secret([0, 0]) != secret([0]))
    }

    @Test("init, count, slice")
    func sliceAndCount() {
        let s = secret(Self.secretBytes)
        #expect(s.count == 18)
        #expect(bytes(of: s) == Self.secretBytes)
        #expect(bytes(of: s.slice(0..<10)) == Array("TOPSECRET!".utf8))
        #expect(bytes(of: s.slice(10..<18)) == [0xDE, 0xAD, 0xBE, 0xEF, 0xCA, 0xFE, 0xBA, 0xBE])
        #expect(s.slice(3..<3).count == 0)
        #expect(s.slice(0..<18) == s)
        #expect(s.slice(5..<9) == secret(Array(Self.secretBytes[5..<9])))
        // The original is untouched by slicing.
        #expect(bytes(of: s) == Self.secretBytes)

        let filled = SecretBytes(count: 4) { buffer in
            for i in 0..<4 { buffer[i] = UInt8(i + 1) }
        }
        #expect(bytes(of: filled) == [1, 2, 3, 4])
        #expect(SecretBytes(count: 0) { _ in }.count == 0)
        #expect(bytes(of: SecretBytes(copying: Self.secretBytes[2..<6])) == Array(Self.secretBytes[2..<6]))
    }

    @Test("a throwing initializer propagates the error")
    func throwingInit() {
        struct Boom: Error {}
        #expect(throws: Boom.self) { try SecretBytes(count: 8) { _ in throw Boom() } }
    }

    @Test("random(count:) gives the right size and distinct values")
    func random() {
        var seen = Set<[UInt8]>()
        for _ in 0..<32 {
            let r = SecretBytes.random(count: 32)
            #expect(r.count == 32)
            seen.insert(bytes(of: r))
        }
        #expect(seen.count == 32)
        #expect(SecretBytes.random(count: 32) != SecretBytes.random(count: 32))
        #expect(SecretBytes.random(count: 0).count == 0)
        #expect(SecretBytes.random(count: 1000).count == 1000)
        // Not all zero (probability 2^-8000 of a false failure).
        #expect(bytes(of: SecretBytes.random(count: 1000)).contains { $0 != 0 })
    }

    @Test("secrets can be shared across tasks")
    func sendable() async {
        let s = secret(Self.secretBytes)
        let copies = await withTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<4 { group.addTask { bytes(of: s) } }
            var all: [[UInt8]] = []
            for await c in group { all.append(c) }
            return all
        }
        #expect(copies.count == 4)
        #expect(copies.allSatisfy { $0 == Self.secretBytes })
    }
}

@Suite("ConstantTime and SecureRandom")
struct ConstantTimeAndRandomTests {
    @Test("ConstantTime.equals")
    func constantTimeEquals() {
        let a: [UInt8] = [1, 2, 3, 4, 5]
        #expect(ConstantTime.equals(a, [1, 2, 3, 4, 5] as [UInt8]))
        #expect(!ConstantTime.equals(a, [1, 2, 3, 4, 6] as [UInt8]))
        #expect(!ConstantTime.equals(a, [0, 2, 3, 4, 5] as [UInt8]))
        #expect(!ConstantTime.equals(a, [1, 2, 3, 4] as [UInt8]))
        #expect(!ConstantTime.equals(a, [1, 2, 3, 4, 5, 6] as [UInt8]))
        #expect(ConstantTime.equals([UInt8](), [UInt8]()))
        #expect(!ConstantTime.equals([UInt8](), [0] as [UInt8]))
        #expect(!ConstantTime.equals([0] as [UInt8], [UInt8]()))
        // Mixed container types.
        let big: [UInt8] = [9, 1, 2, 3, 4, 5, 9]
        #expect(ConstantTime.equals(a, big[1..<6]))
        #expect(!ConstantTime.equals(a, big[0..<5]))
        #expect(a.withUnsafeBytes { ConstantTime.equals($0, big[1..<6]) })
        // Every single-bit difference is noticed.
        for bit in 0 ..< a.count * 8 {
            #expect(!ConstantTime.equals(a, flippingBit(bit, of: a)), "bit \(bit)")
        }
    }

    @Test("SecureRandom.bytes")
    func randomBytes() {
        #expect(SecureRandom.bytes(count: 0) == [])
        #expect(SecureRandom.bytes(count: 1).count == 1)
        #expect(SecureRandom.bytes(count: 4096).count == 4096)
        var seen = Set<[UInt8]>()
        for _ in 0..<64 { seen.insert(SecureRandom.bytes(count: 16)) }
        #expect(seen.count == 64)
        // Every byte value shows up in 64 KiB (each is missing with probability ~e^-256).
        let big = SecureRandom.bytes(count: 65536)
        #expect(Set(big).count == 256)
    }

    @Test("SecureRandom.uniform stays in range and covers it")
    func uniform() {
        var seen = Set<UInt32>()
        for _ in 0..<2000 {
            let v = SecureRandom.uniform(10)
            #expect(v < 10)
            seen.insert(v)
        }
        #expect(seen == Set(0..<10))
        for _ in 0..<20 { #expect(SecureRandom.uniform(1) == 0) }
        #expect(SecureRandom.uniform(UInt32.max) < UInt32.max)
    }
}
