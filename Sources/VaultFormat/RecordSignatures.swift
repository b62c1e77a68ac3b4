/// Signatures embedded in a record's front matter, and the canonical bytes they cover.
/// See `docs/formats.md` section 7.
public enum RecordSignatures {
    /// The front-matter key that holds the signatures.
    public static let fieldName = "signatures"
    /// The name of the canonical form, written into default trusted comments.
    public static let canonicalName = "avault-record-v1"

    /// The signatures in `fields` (none when there is no `signatures` key).
    public static func entries(in fields: FieldValue) throws(FormatError) -> [Minisign.Signature] {
        try entries(of: fields[fieldName])
    }

    /// The signatures in `value`, the value of a record's `signatures` field (none when nil).
    public static func entries(of value: FieldValue?) throws(FormatError) -> [Minisign.Signature] {
        guard let value else { return [] }
        guard case .array(let items) = value else {
            throw .invalidRecord("'signatures' must be a list", line: nil)
        }
        var result: [Minisign.Signature] = []
        result.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .object(let pairs) = item else {
                throw .invalidRecord("signature \(i + 1) must be a mapping", line: nil)
            }
            // (Four locals, not an array: this is on every record's path.)
            var keyID: String?, line: String?, comment: String?, global: String?
            for (key, value) in pairs {
                let slot: Int
                switch key {
                case "keyId": slot = 0
                case "signature": slot = 1
                case "trustedComment": slot = 2
                case "globalSignature": slot = 3
                default: throw .invalidRecord("signature \(i + 1) has an unknown field '\(key)'", line: nil)
                }
                guard case .string(let s) = value else {
                    throw .invalidRecord("signature \(i + 1): '\(key)' must be a string", line: nil)
                }
                switch slot {
                case 0: keyID = s
                case 1: line = s
                case 2: comment = s
                default: global = s
                }
            }
            guard let keyID, let line, let comment, let global else {
                throw .invalidRecord("signature \(i + 1) needs keyId, signature, trustedComment and globalSignature", line: nil)
            }
            let signature: Minisign.Signature
            do {
                signature = try Minisign.Signature(signatureLine: Substring(line), trustedComment: comment, globalSignatureLine: Substring(global))
            } catch {
                throw .invalidRecord("signature \(i + 1): \(error)", line: nil)
            }
            guard signature.keyID.isPrinted(as: keyID) else {
                throw .invalidRecord("signature \(i + 1): keyId \(keyID) does not match the signature's key id \(signature.keyID.printed)", line: nil)
            }
            result.append(signature)
        }
        return result
    }

    /// The canonical bytes (`avault-record-v1`): RFC 8785 JSON of
    /// `{"body": BODY, "fields": FIELDS}`, FIELDS without `signatures`, BODY with CRLF → LF.
    public static func canonicalBytes(of document: RecordDocument) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(document.body.utf8.count + 1024)
        writeCanonicalBytes(of: document) { out.append(contentsOf: $0) }
        return out
    }

    /// The canonical bytes of ``canonicalBytes(of:)``, handed to `consume` in order, in pieces
    /// of about `pieceSize` bytes (the last holds the fields), so that they can be hashed or
    /// written without being held whole: the body is escaped piece by piece from the record's
    /// text, never copied.
    public static func writeCanonicalBytes(of document: RecordDocument, pieceSize: Int = 1 << 16,
                                           to consume: (UnsafeRawBufferPointer) -> Void) {
        var fields = document.fields
        if case .object(let pairs) = fields { fields = .object(pairs.filter { $0.key != fieldName }) }
        var body = document.body
        body.withUTF8 { b in
            writeCanonicalBytes(body: b, pieceSize: pieceSize, to: consume) { CanonicalWriter.write(fields, into: &$0) }
        }
    }

    /// The canonical bytes of a record read by ``RecordScan`` (the same bytes as
    /// ``writeCanonicalBytes(of:pieceSize:to:)`` of its ``RecordDocument``), handed to
    /// `consume` in pieces in the same way.
    public static func writeCanonicalBytes(of scan: RecordScan, pieceSize: Int = 1 << 16,
                                           to consume: (UnsafeRawBufferPointer) -> Void) {
        scan.withBody { b in
            scan.canonicalFields.withUnsafeBytes { fields in
                // The fields' bytes are handed over as they are (a piece of their own), not copied.
                writeCanonicalBytes(body: b, pieceSize: pieceSize, to: consume) { out in
                    out.withUnsafeBytes(consume)
                    out.removeAll(keepingCapacity: true)
                    consume(fields)
                }
            }
        }
    }

    /// `{"body": BODY, "fields": FIELDS}`: `body` escaped with CRLF → LF, then what
    /// `writeFields` appends (the RFC 8785 form of the fields).
    private static func writeCanonicalBytes(body b: UnsafeBufferPointer<UInt8>, pieceSize: Int,
                                            to consume: (UnsafeRawBufferPointer) -> Void,
                                            fields writeFields: (inout [UInt8]) -> Void) {
        // {"body": BODY, "fields": FIELDS}: "body" sorts before "fields" (RFC 8785 §3.2.3).
        var out: [UInt8] = []
        out.reserveCapacity(min(pieceSize, b.count + b.count / 8) + 64)
        out.append(contentsOf: #"{"body":""#.utf8)
        let n = b.count
        var start = 0
        while start < n {
            let end = min(start + max(pieceSize, 1), n)
            // Escape b[start..<end], leaving out each CR that a LF follows (CRLF → LF).
            JSONString.appendEscapedBody(b, start..<end, to: &out)
            start = end
            if out.count >= pieceSize {
                out.withUnsafeBytes(consume)
                out.removeAll(keepingCapacity: true)
            }
        }
        out.append(contentsOf: #"","fields":"#.utf8)
        writeFields(&out)
        out.append(UInt8(ascii: "}"))
        out.withUnsafeBytes(consume)
    }

    /// `text` with its `signatures` block replaced by `signatures` (appended at the end of the
    /// front matter; removed when empty). Every other byte stays as it was. Needs a
    /// block-style front matter.
    public static func replacing(in text: String, document: RecordDocument, with signatures: [Minisign.Signature]) throws(FormatError) -> String {
        var editor = try FrontMatterEditor(text: text, document: document)
        editor.remove(fieldName)
        if !signatures.isEmpty {
            let nl = editor.newline
            let quoted = FrontMatterEditor.quoted
            var block = fieldName + ":" + nl
            for s in signatures {
                block += "  - keyId: " + quoted(s.keyID.printed) + nl
                block += "    signature: " + quoted(s.signatureLine) + nl
                block += "    trustedComment: " + quoted(s.trustedComment) + nl
                block += "    globalSignature: " + quoted(s.globalSignatureLine) + nl
            }
            editor.append(FrontMatterEditor.Block(key: fieldName, text: block))
        }
        return editor.text
    }
}
