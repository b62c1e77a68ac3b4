/// A record read the quick way, for `avault verify`: its front matter is parsed straight into
/// the RFC 8785 form its signatures cover, with no tree of values, and only what verification
/// reads besides is kept (the `signatures` field and a few top-level fields).
///
/// It reads a record exactly as ``RecordDocument/init(parsing:)`` does (the same fence lines,
/// the same parser: ``FastFrontMatter``), or declines it: whatever that parser leaves to
/// libyaml (and so every malformed record), and a record whose ``fieldNames`` hold a mapping
/// or a sequence. A declined record is read with ``RecordDocument``, which also says what is
/// wrong with it.
///
/// A class (its properties all constants): `avault verify` hands one record's scan through
/// closures and specialised calls, each of which would copy a struct of five references.
public final class RecordScan: Sendable {
    /// The top-level fields kept in ``fields``.
    public static let fieldNames = CanonicalSink.capturedNames.map(\.description)

    /// Byte offsets of the parts in the text.
    public let layout: RecordDocument.Layout
    /// The value of the `signatures` field; nil when the record has none.
    public let signaturesField: FieldValue?
    /// The record's fields named in ``fieldNames`` that it has (each a scalar), in document
    /// order: an object, looked up as ``RecordDocument/fields`` is.
    public let fields: FieldValue
    /// The RFC 8785 form of the front matter's fields without `signatures`.
    let canonicalFields: [UInt8]
    /// The record's UTF-8 (its body is hashed from it).
    private let bytes: [UInt8]

    /// Reads `text`, or nil when the quick way declines it (see the type).
    public convenience init?(_ text: String) {
        self.init(utf8: Array(text.utf8))
    }

    /// Reads the record whose file holds `bytes`, or nil when the quick way declines it (see
    /// the type) — and when the bytes are not valid UTF-8, as a record's must be: the front
    /// matter is checked by the parser (which accepts UTF-8 only, and less), the body here,
    /// and the fence lines between them are ASCII.
    public init?(utf8 bytes: [UInt8]) {
        let read: (RecordDocument.Layout, CanonicalFrontMatter)? = bytes.withUnsafeBufferPointer { bytes in
            // The opening fence as RecordDocument.locate finds it; the parser finds the closing one.
            guard let yamlStart = try? RecordDocument.openingFence(bytes) else { return nil }
            // (The front matter's first line is the file's line 2, as for RecordDocument.)
            guard let read = FastFrontMatter.canonical(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[yamlStart...])),
                                                       firstLine: 2, untilFence: true) else { return nil }
            let yamlEnd = yamlStart + read.yamlCount
            let layout = RecordDocument.Layout(openingStart: 0, yamlStart: yamlStart, yamlEnd: yamlEnd,
                                               bodyStart: yamlEnd + read.fenceCount)
            guard String(validating: UnsafeBufferPointer(rebasing: bytes[layout.bodyStart...]), as: UTF8.self) != nil else { return nil }
            return (layout, read)
        }
        guard let (layout, read) = read else { return nil }
        self.layout = layout
        self.signaturesField = read.signatures
        self.fields = .object(read.captured)
        self.canonicalFields = read.fields
        self.bytes = bytes
    }

    /// Calls `body` with the UTF-8 of the record's body (everything after the closing fence).
    func withBody<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[layout.bodyStart...])) }
    }
}
