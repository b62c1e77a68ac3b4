import Foundation
import Testing
@testable import VaultFormat

/// The parsers of untrusted text are linear: a front matter of up to
/// ``RecordLimits/frontMatterBytes`` of any shape, and a JSON document of the same size, parse
/// and serialise in well under the bound below even in a debug build. (Frames copied on every
/// event made the libyaml path quadratic: a 100,000-item flow sequence took 152 s, 60,000 keys
/// sent to libyaml by a TAB in a comment 52 s.) Each shape is generated here, close to 1 MiB.
@Suite struct LinearParsingTests {
    /// Generous for a linear parser in a debug build (each shape takes well under a second in
    /// release, a few seconds in debug), far below what quadratic work takes on these sizes.
    static let bound: Duration = ProcessInfo.processInfo.environment["AVAULT_SANITIZER"] == nil ? .seconds(10) : .seconds(30)

    /// Parses `yaml` as a record's front matter (fast path, then libyaml) and serialises it,
    /// within ``bound``; returns the fields and whether the fast path took it.
    static func timed(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> (FieldValue, fast: Bool) {
        #expect(yaml.utf8.count <= RecordLimits.frontMatterBytes, "the shape must be within the front matter limit", sourceLocation: sourceLocation)
        let record = "---\n" + yaml + "---\nbody\n"
        let clock = ContinuousClock()
        var document: RecordDocument?
        var canonical: [UInt8] = []
        let elapsed = try clock.measure {
            document = try RecordDocument(parsing: record)
            canonical = RecordSignatures.canonicalBytes(of: document!)
        }
        #expect(elapsed < bound, "took \(elapsed)", sourceLocation: sourceLocation)
        #expect(canonical.starts(with: Array(#"{"body":"body\n","fields":"#.utf8)), sourceLocation: sourceLocation)
        var text = Substring(yaml)
        let fast = text.withUTF8 { FastFrontMatter.parse(UnsafeRawBufferPointer($0), firstLine: 2) } != nil
        return (try #require(document).fields, fast)
    }

    static func count(_ value: FieldValue?) -> Int {
        switch value {
        case .array(let items)?: return items.count
        case .object(let pairs)?: return pairs.count
        default: return -1
        }
    }

    @Test func aFlowSequenceOf100000Items() throws {
        let yaml = "tags: [" + (0..<100_000).map { "\"i\($0)\"" }.joined(separator: ", ") + "]\n"
        let (fields, fast) = try Self.timed(yaml)
        #expect(!fast)
        #expect(Self.count(fields["tags"]) == 100_000)
    }

    @Test func aBlockSequenceOf90000Items() throws {
        let yaml = "tags:\n" + (0..<90_000).map { "  - i\($0)\n" }.joined()
        let (fields, fast) = try Self.timed(yaml)
        #expect(fast)
        #expect(Self.count(fields["tags"]) == 90_000)
    }

    @Test func sixtyThousandKeysOnBothPaths() throws {
        let keys = (0..<60_000).map { "k\($0): v\($0)\n" }.joined()
        let (viaFast, fast) = try Self.timed(keys)
        #expect(fast)
        #expect(Self.count(viaFast) == 60_000)
        // A TAB inside a comment line sends the same mapping to libyaml.
        let (viaLibYAML, fastToo) = try Self.timed("# a\tcomment\n" + keys)
        #expect(!fastToo)
        #expect(viaLibYAML == viaFast)
        // Duplicate detection stays exact at that size, on both paths.
        for yaml in [keys + "k59999: again\n", "# a\tcomment\n" + keys + "k0: again\n"] {
            #expect(throws: FormatError.self) { try RecordDocument(parsing: "---\n" + yaml + "---\n") }
        }
    }

    @Test func aFlowMappingOfNestedFlowCollections() throws {
        let yaml = "m: {" + (0..<36_000).map { "k\($0): {a: [1, 2, {b: c}]}" }.joined(separator: ", ") + "}\n"
        let (fields, _) = try Self.timed(yaml)
        #expect(Self.count(fields["m"]) == 36_000)
        #expect(fields["m"]?["k35999"] == .object([("a", .array([.number(1), .number(2), .object([("b", .string("c"))])]))]))
    }

    @Test func nestingToTheDepthLimitRepeated() throws {
        // Block style (the fast path): 240 chains of 63 nested mappings.
        var block = ""
        for chain in 0..<240 {
            for depth in 0..<62 { block += String(repeating: "  ", count: depth) + "d\(depth == 0 ? chain : depth):\n" }
            block += String(repeating: "  ", count: 62) + "x: z\n"
        }
        let (blockFields, fast) = try Self.timed(block)
        #expect(fast)
        #expect(Self.count(blockFields) == 240)
        // Flow style (libyaml): 7,000 keys, each holding 63 nested sequences.
        let flow = (0..<7_000).map { "k\($0): " + String(repeating: "[", count: 63) + "1" + String(repeating: "]", count: 63) + "\n" }.joined()
        let (flowFields, _) = try Self.timed(flow)
        #expect(Self.count(flowFields) == 7_000)
        // One level more is refused, on both paths.
        let tooDeep = "k: " + String(repeating: "[", count: 64) + "1" + String(repeating: "]", count: 64) + "\n"
        #expect(throws: FormatError.self) { try RecordDocument(parsing: "---\n" + tooDeep + "---\n") }
        var chain = ""
        for depth in 0..<64 { chain += String(repeating: " ", count: depth) + "d:\n" }
        chain += String(repeating: " ", count: 64) + "x: z\n"
        #expect(throws: FormatError.self) { try RecordDocument(parsing: "---\n" + chain + "---\n") }
    }

    @Test func jsonOfEveryShape() throws {
        let array = "[" + (0..<100_000).map { "\"i\($0)\"" }.joined(separator: ",") + "]"
        let object = "{" + (0..<60_000).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
        let deep = "[" + (0..<3_000).map { _ in String(repeating: "[", count: 127) + "1" + String(repeating: "]", count: 127) }
            .joined(separator: ",") + "]"
        let nested = "{" + (0..<36_000).map { "\"k\($0)\":{\"a\":[1,2,{\"b\":\"c\"}]}" }.joined(separator: ",") + "}"
        for text in [array, object, deep, nested] {
            let bytes = Array(text.utf8)
            let clock = ContinuousClock()
            var canonical: [UInt8] = []
            let elapsed = try clock.measure { canonical = try FieldValue.canonicalJSON(of: bytes) }
            #expect(elapsed < Self.bound, "took \(elapsed)")
            // Already canonical except for member order.
            #expect(canonical.count == bytes.count)
        }
    }
}
