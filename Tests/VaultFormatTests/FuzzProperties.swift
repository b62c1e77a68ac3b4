// The properties the fuzz targets check, one function per parser of untrusted input.
//
// This one file is compiled twice: into the VaultFormatTests test target, where
// FuzzCorpusTests replays the committed corpora and regressions through it, and by
// `scripts/fuzz` into each libFuzzer binary (with Tests/Fuzz/targets/<target>.swift), where a
// violation traps so that libFuzzer saves the input. It must therefore import nothing but
// VaultCrypto and VaultFormat (no Foundation, no Testing). See Tests/Fuzz/README.md.
import VaultCrypto
@testable import VaultFormat

/// A property of a parser that an input broke.
struct FuzzViolation: Error, CustomStringConvertible {
    let description: String
}

/// Fails with `message` unless `condition` holds.
@inline(__always)
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(FuzzViolation) {
    if !condition { throw FuzzViolation(description: message()) }
}

/// The fuzz targets: one for each parser (or family of parsers) of untrusted input. The raw
/// value is the target's name in `scripts/fuzz` and the folder under Tests/Fuzz/.
enum FuzzTarget: String, CaseIterable, Sendable {
    case securedBlob = "secured-blob"
    case keyFile = "key-file"
    case frontMatter = "front-matter"
    case json = "json"
    case minisignSignature = "minisign-signature"
    case minisignPublicKey = "minisign-public-key"
    case minisignSecretKey = "minisign-secret-key"
    case keyring = "keyring"
    case trustStore = "trust-store"
    case vaultIndex = "vault-index"
    case vaultEntries = "vault-entries"
    case envelope = "envelope"
    case logLine = "log-line"
    case agentMessage = "agent-message"
    case ageHeader = "age-header"
    case ageArmor = "age-armor"
    case recipientsFile = "recipients-file"
    case sassImports = "sass-imports"

    /// Runs the target's parsers on `input` and checks their properties. A parser that
    /// refuses the input is fine; a parser that accepts it must keep every promise below.
    func check(_ input: [UInt8]) throws(FuzzViolation) {
        switch self {
        case .securedBlob: try FuzzChecks.securedBlob(input)
        case .keyFile: try FuzzChecks.keyFile(input)
        case .frontMatter: try FuzzChecks.frontMatter(input)
        case .json: try FuzzChecks.json(input)
        case .minisignSignature: try FuzzChecks.minisignSignature(input)
        case .minisignPublicKey: try FuzzChecks.minisignPublicKey(input)
        case .minisignSecretKey: try FuzzChecks.minisignSecretKey(input)
        case .keyring: try FuzzChecks.keyring(input)
        case .trustStore: try FuzzChecks.trustStore(input)
        case .vaultIndex: try FuzzChecks.vaultIndex(input)
        case .vaultEntries: try FuzzChecks.vaultEntries(input)
        case .envelope: try FuzzChecks.envelope(input)
        case .logLine: try FuzzChecks.logLine(input)
        case .agentMessage: try FuzzChecks.agentMessage(input)
        case .ageHeader: try FuzzChecks.ageHeader(input)
        case .ageArmor: try FuzzChecks.ageArmor(input)
        case .recipientsFile: try FuzzChecks.recipientsFile(input)
        case .sassImports: try FuzzChecks.sassImports(input)
        }
    }

    /// The libFuzzer entry point's body: checks one input, trapping on a violation.
    func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        do { try check(input) } catch { fatalError("\(rawValue): \(error)") }
        return 0
    }
}

enum FuzzChecks {
    // MARK: Helpers

    /// The input as the application reads it when it does not insist on UTF-8 (U+FFFD for
    /// malformed sequences).
    static func lossy(_ input: [UInt8]) -> String { String(decoding: input, as: UTF8.self) }

    /// Equal byte for byte: strings compared as UTF-8 (not by canonical equivalence), numbers
    /// by bit pattern, keys in order. With `signedZero: false`, -0 and 0 are one number (JSON
    /// writers print both as 0).
    static func identical(_ a: FieldValue, _ b: FieldValue, signedZero: Bool = false) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x.bitPattern == y.bitPattern || (!signedZero && x == 0 && y == 0)
        case let (.string(x), .string(y)): return x.utf8.elementsEqual(y.utf8)
        case let (.array(x), .array(y)):
            return x.count == y.count && zip(x, y).allSatisfy { identical($0, $1, signedZero: signedZero) }
        case let (.object(x), .object(y)):
            return x.count == y.count
                && zip(x, y).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && identical($0.value, $1.value, signedZero: signedZero) }
        default: return false
        }
    }

    /// The same top-level keys (compared as UTF-8), lines and line offsets.
    static func sameKeys(_ a: FrontMatter, _ b: FrontMatter) -> Bool {
        a.topLevelKeys.count == b.topLevelKeys.count
            && zip(a.topLevelKeys, b.topLevelKeys).allSatisfy {
                $0.key.utf8.elementsEqual($1.key.utf8) && $0.line == $1.line && $0.lineStart == $1.lineStart
            }
    }

    /// Every number is finite and every object's keys are distinct byte strings: what the JSON
    /// data model (and ``FieldValue/canonicalJSON``'s precondition) promises.
    static func wellFormed(_ value: FieldValue, depth: Int = 0) -> Bool {
        guard depth <= 1000 else { return false }
        switch value {
        case .null, .bool, .string: return true
        case .number(let d): return d.isFinite
        case .array(let items): return items.allSatisfy { wellFormed($0, depth: depth + 1) }
        case .object(let pairs):
            var keys = Set<[UInt8]>()
            return pairs.allSatisfy { keys.insert(Array($0.key.utf8)).inserted && wellFormed($0.value, depth: depth + 1) }
        }
    }

    static func nesting(_ value: FieldValue) -> Int {
        switch value {
        case .array(let items): return 1 + (items.map(nesting).max() ?? 0)
        case .object(let pairs): return 1 + (pairs.map { nesting($0.value) }.max() ?? 0)
        default: return 0
        }
    }

    /// Whether `a` sorts strictly before `b` as arrays of UTF-16 code units (RFC 8785 §3.2.3),
    /// computed independently of ``UTF16Order``.
    static func utf16Less(_ a: String, _ b: String) -> Bool {
        a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    /// Canonical JSON, checked: a valid UTF-8 document that parses back to the same value,
    /// whose canonical form is itself (a fixed point), and whose members are sorted.
    @discardableResult
    static func checkCanonical(_ value: FieldValue, _ what: String) throws(FuzzViolation) -> [UInt8] {
        try require(wellFormed(value), "\(what): a number is not finite or a key repeats")
        let canonical = value.canonicalJSON
        try require(String(validating: canonical, as: UTF8.self) != nil, "\(what): canonical JSON is not UTF-8")
        let again: FieldValue
        do { again = try JSONDocument.parse(canonical) } catch {
            throw FuzzViolation(description: "\(what): canonical JSON does not parse: \(error)")
        }
        try require(identical(membersSorted(value), again), "\(what): canonical JSON parses to another value")
        try require(again.canonicalJSON == canonical, "\(what): canonical JSON is not a fixed point")
        try require(sortedMembers(again), "\(what): canonical JSON members are not in UTF-16 order")
        return canonical
    }

    /// `value` with every object's members in UTF-16 order of their names.
    static func membersSorted(_ value: FieldValue) -> FieldValue {
        switch value {
        case .array(let items): return .array(items.map(membersSorted))
        case .object(let pairs):
            return .object(pairs.sorted { utf16Less($0.key, $1.key) }.map { ($0.key, membersSorted($0.value)) })
        default: return value
        }
    }

    static func sortedMembers(_ value: FieldValue) -> Bool {
        switch value {
        case .array(let items): return items.allSatisfy(sortedMembers)
        case .object(let pairs):
            return zip(pairs, pairs.dropFirst()).allSatisfy { utf16Less($0.key, $1.key) } && pairs.allSatisfy { sortedMembers($0.value) }
        default: return true
        }
    }

    /// `jsonText` (the compact writer of log lines and CLI output) parses back to the same value.
    static func checkJSONText(_ value: FieldValue, _ what: String) throws(FuzzViolation) {
        let text = value.jsonText
        let again: FieldValue
        do { again = try JSONDocument.parse(text) } catch {
            throw FuzzViolation(description: "\(what): jsonText does not parse: \(error)")
        }
        try require(identical(value, again), "\(what): jsonText parses to another value")
    }

    // MARK: Secured blob

    /// A blob that parses serialises back to the identical string (the format is canonical).
    static func securedBlob(_ input: [UInt8]) throws(FuzzViolation) {
        let text = lossy(input)
        _ = SecuredBlob.claimedFormat(of: text)
        // The form `avault verify` reads without decoding: the same verdict, the same error.
        let parsed = Result { () throws(FormatError) in try SecuredBlob(parsing: text) }
        switch (parsed, Result { () throws(FormatError) in try SecuredBlob.form(of: text) }) {
        case let (.success(blob), .success(form)):
            try require(form == SecuredBlob.Form(formatName: blob.formatName, keyID: blob.keyID), "secured blob: its form differs from the parsed blob")
        case let (.failure(a), .failure(b)):
            try require(a == b, "secured blob: form(of:) and parsing refuse it differently")
        default:
            throw FuzzViolation(description: "secured blob: form(of:) and parsing disagree on whether it is well-formed")
        }
        guard case .success(let blob) = parsed else { return }
        try require(blob.text.utf8.elementsEqual(text.utf8), "secured blob: \(blob.formatName) does not serialise back to its text")
        try require(SecuredBlob.claimedFormat(of: text) == blob.formatName, "secured blob: claimed format differs from the parsed one")
        switch blob {
        case let .v1(ciphertext, iv):
            try require(iv.count == 16 && !ciphertext.isEmpty && ciphertext.count % 16 == 0, "secured blob: v1 sizes")
        case let .v2(_, nonce, sealed):
            try require(nonce.count == 24 && sealed.count >= 16, "secured blob: v2 sizes")
        case let .v3(age, header):
            try require(age.starts(with: header.serialized()) && blob.v3ContextDigest?.count == 32, "secured blob: v3 header")
        }
    }

    // MARK: Raw key file

    /// An accepted key file holds exactly the key's hex or base64 (the one the file has), and
    /// the form avault writes reads back as the same key.
    static func keyFile(_ input: [UInt8]) throws(FuzzViolation) {
        guard let key = try? RawKeyFile.parse(input) else { return }
        try require(RawKeyFile.keySizes.contains(key.count), "key file: accepted a \(key.count)-byte key")
        let bytes = key.withUnsafeBytes { Array($0) }
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        let trimmed = Array(input.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
        let hexForm = Array(Hex.encode(bytes).utf8), base64Form = Array(Base64.encode(bytes).utf8)
        let lowered = trimmed.map { (0x41...0x46).contains($0) ? $0 | 0x20 : $0 }
        try require(lowered == hexForm || trimmed == base64Form, "key file: the key is neither the file's hex nor its base64")
        let written = RawKeyFile.serialize(key)
        try require(Array(written.utf8) == hexForm + [0x0A], "key file: serialize is not lowercase hex and a newline")
        guard let again = try? RawKeyFile.parse(Array(written.utf8)) else {
            throw FuzzViolation(description: "key file: the serialised key does not parse")
        }
        try require(again == key, "key file: the serialised key parses to another key")
    }

    // MARK: Front matter

    /// The fast path and libyaml agree: when the fast path accepts, libyaml accepts the same
    /// value, keys, lines and style. Whatever is accepted is in the JSON data model and
    /// canonicalises to a fixed point. The input is the YAML between the fences; the whole
    /// input is also tried as a record.
    static func frontMatter(_ input: [UInt8]) throws(FuzzViolation) {
        let firstLine = 2
        let fast = input.withUnsafeBytes { FastFrontMatter.parse($0, firstLine: firstLine) }
        let lib = input.withUnsafeBytes { raw in
            Result { () throws(FormatError) in try FrontMatter.parse(raw, firstLine: firstLine) }
        }
        // verify's canonical sink: the fast path's reading, written straight to RFC 8785.
        let canonical = input.withUnsafeBytes { FastFrontMatter.canonical($0, firstLine: firstLine) }
        if let canonical {
            guard let fast, case .object(let pairs) = fast.fields else {
                throw FuzzViolation(description: "front matter: the canonical sink reads what the fast path declines")
            }
            try require(canonical.fields == FieldValue.object(pairs.filter { $0.key != RecordSignatures.fieldName }).canonicalJSON,
                        "front matter: the canonical sink writes other bytes than the tree's canonical form")
            let signatures = fast.fields[RecordSignatures.fieldName]
            try require(canonical.signatures.map { s in signatures.map { identical(s, $0, signedZero: true) } ?? false } ?? (signatures == nil),
                        "front matter: the canonical sink keeps another signatures field")
        } else if let fast, case .object(let pairs) = fast.fields {
            let kept = pairs.filter { pair in RecordScan.fieldNames.contains { $0 == pair.key } }
            try require(kept.contains { if case .array = $0.value { true } else if case .object = $0.value { true } else { false } },
                        "front matter: the canonical sink declines what the fast path reads")
        }
        if let fast {
            guard case .success(let expected) = lib else {
                throw FuzzViolation(description: "front matter: the fast path accepts what libyaml refuses (\(lib))")
            }
            try require(identical(fast.fields, expected.fields, signedZero: true), "front matter: fast path and libyaml read different values")
            try require(sameKeys(fast, expected), "front matter: fast path and libyaml place the keys differently")
            try require(fast.isBlockMapping == expected.isBlockMapping, "front matter: fast path and libyaml differ on block style")
        }
        if case .success(let value) = lib {
            try require(nesting(value.fields) <= RecordLimits.depth, "front matter: nested beyond the limit")
            try checkCanonical(value.fields, "front matter")
            try checkJSONText(value.fields, "front matter")
        }
        // The whole input as a record (RecordDocument, through the public FrontMatter.parse:
        // the fast path, else libyaml), on valid UTF-8 as the application gives it.
        guard let text = String(validating: input, as: UTF8.self) else { return }
        // verify's quick read of a record: only what RecordDocument reads, read the same way.
        if let scan = RecordScan(text) {
            guard let document = try? RecordDocument(parsing: text) else {
                throw FuzzViolation(description: "record: RecordScan reads what RecordDocument refuses")
            }
            try require(scan.layout == document.layout, "record: RecordScan places the parts elsewhere")
            var bytes: [UInt8] = []
            RecordSignatures.writeCanonicalBytes(of: scan) { bytes.append(contentsOf: $0) }
            try require(bytes == RecordSignatures.canonicalBytes(of: document), "record: RecordScan's canonical bytes differ")
            try require((try? RecordSignatures.entries(of: scan.signaturesField)) == (try? RecordSignatures.entries(in: document.fields)),
                        "record: RecordScan reads other signatures")
            for name in RecordScan.fieldNames {
                try require(scan.fields[name]?.stringValue == document.fields[name]?.stringValue, "record: RecordScan reads another \(name)")
            }
        }
        if let document = try? RecordDocument(parsing: text) {
            let layout = document.layout
            try require(layout.openingStart <= layout.yamlStart && layout.yamlStart <= layout.yamlEnd
                        && layout.yamlEnd <= layout.bodyStart && layout.bodyStart <= input.count, "record: layout out of order")
            try require(document.frontMatterText.utf8.elementsEqual(input[layout.yamlStart..<layout.yamlEnd]), "record: front matter text is not its layout's bytes")
            try require(document.body.utf8.elementsEqual(input[layout.bodyStart...]), "record: body is not its layout's bytes")
            try checkCanonical(document.fields, "record")
            let canonical = RecordSignatures.canonicalBytes(of: document)
            // Embedded signatures, written back as `avault sign` writes them: the record still
            // parses, covers the same canonical bytes and holds the same signatures.
            if document.frontMatter.isBlockMapping, let signatures = try? RecordSignatures.entries(in: document.fields),
               let rewritten = try? RecordSignatures.replacing(in: text, document: document, with: signatures) {
                guard let again = try? RecordDocument(parsing: rewritten) else {
                    throw FuzzViolation(description: "record: its signatures written back make it unparseable")
                }
                try require(RecordSignatures.canonicalBytes(of: again) == canonical, "record: writing its signatures back changes its canonical bytes")
                try require((try? RecordSignatures.entries(in: again.fields)) == signatures, "record: writing its signatures back changes them")
            }
        }
    }

    // MARK: JSON and JCS

    /// A document that parses is valid UTF-8; its canonical form (RFC 8785) parses back to the
    /// same value and is a fixed point; `canonicalJSON(of:)` is parse-then-canonicalise; the
    /// compact writer round-trips too.
    static func json(_ input: [UInt8]) throws(FuzzViolation) {
        let parsed = Result { () throws(FormatError) in try JSONDocument.parse(input) }
        let direct = Result { () throws(FormatError) in try FieldValue.canonicalJSON(of: input) }
        guard case .success(let value) = parsed else {
            guard case .failure(let error) = parsed, case .invalidJSON(_, let offset) = error else {
                throw FuzzViolation(description: "json: a refusal that is not invalidJSON")
            }
            try require(offset >= 0 && offset <= input.count, "json: error offset \(offset) outside the input")
            try require((try? direct.get()) == nil, "json: canonicalJSON(of:) accepts what parse refuses")
            return
        }
        try require(String(validating: input, as: UTF8.self) != nil, "json: accepted malformed UTF-8")
        try require(!input.starts(with: [0xEF, 0xBB, 0xBF]), "json: accepted a byte order mark")
        try require(nesting(value) <= JSONDocument.maximumDepth, "json: nested beyond the limit")
        let canonical = try checkCanonical(value, "json")
        try require((try? direct.get()) == canonical, "json: canonicalJSON(of:) differs from parse + canonicalJSON")
        try checkJSONText(value, "json")
        // The String entry point reads the same bytes.
        if let text = String(validating: input, as: UTF8.self) {
            try require((try? JSONDocument.parse(text)).map { identical($0, value) } == true, "json: parse(String) differs from parse(bytes)")
        }
    }

    // MARK: minisign

    /// A `.minisig` that parses: its signature and global signature lines are exactly the
    /// input's (strict base64), and the file minisign would write parses to the same signature.
    static func minisignSignature(_ input: [UInt8]) throws(FuzzViolation) {
        let text = lossy(input)
        guard let sig = try? Minisign.Signature(parsing: text) else { return }
        try require(sig.signature.count == 64 && sig.globalSignature.count == 64, "minisig: signature sizes")
        try require(sig.algorithm == "ED" || sig.algorithm == "Ed", "minisig: algorithm \(sig.algorithm)")
        var lines = TextLines.split(text, stripCR: true)
        while lines.last?.isEmpty == true { lines.removeLast() }
        try require(lines.count == 4 && lines[1].utf8.elementsEqual(sig.signatureLine.utf8)
                    && lines[3].utf8.elementsEqual(sig.globalSignatureLine.utf8), "minisig: signature lines are not canonical")
        guard let again = try? Minisign.Signature(parsing: sig.fileText) else {
            throw FuzzViolation(description: "minisig: the serialised file does not parse")
        }
        try require(again == sig && again.untrustedComment.utf8.elementsEqual(sig.untrustedComment.utf8)
                    && again.trustedComment.utf8.elementsEqual(sig.trustedComment.utf8), "minisig: the serialised file parses to another signature")
        try require(again.fileText.utf8.elementsEqual(sig.fileText.utf8), "minisig: serialisation is not a fixed point")
        _ = sig.trustedCommentFields
        _ = sig.timestamp
        // An embedded entry (record signatures) built from the same lines is the same signature.
        guard let embedded = try? Minisign.Signature(signatureLine: Substring(sig.signatureLine), trustedComment: sig.trustedComment,
                                                     globalSignatureLine: Substring(sig.globalSignatureLine),
                                                     untrustedComment: sig.untrustedComment) else {
            throw FuzzViolation(description: "minisig: its own lines are refused as an embedded entry")
        }
        try require(embedded == sig, "minisig: embedded entry differs")
    }

    /// A public key that parses: its key line is exactly the input's, and the file minisign
    /// writes for it (and its bare line) parse back to the same key.
    static func minisignPublicKey(_ input: [UInt8]) throws(FuzzViolation) {
        let text = lossy(input)
        guard let key = try? Minisign.PublicKey(parsing: text) else { return }
        var lines = TextLines.split(text, stripCR: true)
        while lines.last?.isEmpty == true { lines.removeLast() }
        try require(lines.last.map { $0.utf8.elementsEqual(key.line.utf8) } == true, "minisign public key: key line is not canonical")
        try require((try? Minisign.PublicKey(parsing: key.fileText)) == key, "minisign public key: fileText parses to another key")
        try require((try? Minisign.PublicKey(line: Substring(key.line))) == key, "minisign public key: line parses to another key")
        try require(Minisign.KeyID(printed: key.keyID.printed) == key.keyID && Minisign.KeyID(printed: key.keyID.minisignText) == key.keyID,
                    "minisign public key: printed key id does not read back")
    }

    /// A secret key file that parses: its key line is exactly the input's, and the file
    /// written from it parses to the same fields and serialises to the same bytes again.
    static func minisignSecretKey(_ input: [UInt8]) throws(FuzzViolation) {
        guard let file = try? Minisign.SecretKeyFile(parsing: input) else { return }
        try require(file.salt.count == 32 && file.keynumSK.count == 104, "minisign secret key: sizes")
        let written = file.serialized()
        guard let again = try? Minisign.SecretKeyFile(parsing: written) else {
            throw FuzzViolation(description: "minisign secret key: the serialised file does not parse")
        }
        try require(again.comment.utf8.elementsEqual(file.comment.utf8) && again.kdf == file.kdf && again.salt == file.salt
                    && again.opsLimit == file.opsLimit && again.memLimit == file.memLimit && again.keynumSK == file.keynumSK,
                    "minisign secret key: the serialised file parses to other fields")
        try require(again.serialized() == written, "minisign secret key: serialisation is not a fixed point")
        var lines = input.split(separator: 0x0A, omittingEmptySubsequences: false)
        while lines.last?.isEmpty == true { lines.removeLast() }
        let writtenLines = written.split(separator: 0x0A, omittingEmptySubsequences: false)
        let keyLine = lines.count == 2 ? Array(lines[1].last == 0x0D ? lines[1].dropLast() : lines[1]) : []
        try require(keyLine == Array(writtenLines[1]), "minisign secret key: key line is not canonical")
    }

    // MARK: Keyring

    /// A version 2 keyring that parses serialises back to the identical bytes (the MAC covers
    /// exactly that text). A version 1 keyring that parses upgrades to a version 2 text that
    /// parses to the same content.
    static func keyring(_ input: [UInt8]) throws(FuzzViolation) {
        let text = lossy(input)
        _ = KeyringFile.formatVersion(of: text)
        if let ring = try? KeyringFile(parsing: text) {
            try require(ring.serialized().utf8.elementsEqual(text.utf8), "keyring: does not serialise back to its text")
            try require((ring.kdf == nil) == (ring.mac == nil), "keyring: a MAC without a passphrase or a passphrase without a MAC")
            try require(text.utf8.starts(with: ring.authenticatedText().utf8), "keyring: authenticated text is not the file's prefix")
        }
        if var old = try? KeyringFile(parsingVersion1: text) {
            if old.kdf != nil { old.mac = [UInt8](repeating: 0xA5, count: KeyringFile.macSize) }
            let upgraded = old.serialized()
            guard let again = try? KeyringFile(parsing: upgraded) else {
                throw FuzzViolation(description: "keyring: a version 1 keyring does not upgrade to a valid version 2 text")
            }
            try require(again.serialized() == upgraded, "keyring: upgraded text does not round-trip")
            try require(again.entries.count == old.entries.count && again.kdf == old.kdf, "keyring: upgrade lost or changed entries")
        }
    }

    // MARK: age

    /// An age header that parses is exactly the bytes it serialises to; the code covers a
    /// prefix of them; reading the same bytes with more to come gives the same header; and the
    /// key parsers (recipients, identities, Bech32) never trap on the same bytes.
    static func ageHeader(_ input: [UInt8]) throws(FuzzViolation) {
        let final = try? input.withUnsafeBytes { try AgeHeader.parse($0, atEnd: true) }
        let partial = try? input.withUnsafeBytes { try AgeHeader.parse($0, atEnd: false) }
        if case .header(let header, let length)? = final {
            try require(header.serialized().elementsEqual(input[0..<length]), "age-header: does not serialise back to its bytes")
            try require(input.starts(with: header.bytesWithoutMAC()), "age-header: the MAC'd bytes are not the header's prefix")
            try require(partial == final, "age-header: a complete header reads differently when more may follow")
            let again = try? header.serialized().withUnsafeBytes { try AgeHeader.parse($0, atEnd: true) }
            try require(again == final, "age-header: its serialisation does not parse to it")
        } else {
            try require(partial == nil || partial == .incomplete, "age-header: a header when more may follow but not at the end")
        }
        _ = try? input.withUnsafeBytes { try AgeKeys.parseIdentityFile($0) }
        _ = try? input.withUnsafeBytes { try AgeKeys.parseRecipientsFile($0) }
        if let decoded = try? Bech32.decode(lossy(input)), decoded.hrp == decoded.hrp.lowercased() {
            try require(Bech32.encode(hrp: decoded.hrp, data: decoded.data) == lossy(input).lowercased(), "bech32: does not re-encode to its text")
        }
    }

    /// The armor decoder gives the same answer whatever pieces the text comes in; what it
    /// accepts re-armors (as age writes it) to text it decodes to the same bytes.
    static func ageArmor(_ input: [UInt8]) throws(FuzzViolation) {
        func decode(_ pieces: [ArraySlice<UInt8>]) -> [UInt8]? {
            var decoder = AgeArmor.Decoder()
            var out: [UInt8] = []
            do {
                for p in pieces { out += try decoder.decode(p) }
                out += try decoder.finish()
            } catch { return nil }
            return out
        }
        let whole = decode([input[...]])
        let cut = input.count / 3
        let split = decode([input[0..<cut], input[cut...]])
        try require(whole == split, "age-armor: the answer depends on how the input is split")
        guard let whole else { return }
        var encoder = AgeArmor.Encoder()
        let armored = encoder.encode(whole) + encoder.finish()
        try require(decode([armored[...]]) == whole, "age-armor: re-armored text does not decode to the same bytes")
        try require(AgeArmor.looksArmored(input), "age-armor: accepted text that does not look armored")
    }

    // MARK: Trust store

    /// A trust store that parses serialises back to the identical bytes.
    static func trustStore(_ input: [UInt8]) throws(FuzzViolation) {
        let text = lossy(input)
        guard let store = try? TrustStoreFile(parsing: text) else { return }
        try require(store.serialized().utf8.elementsEqual(text.utf8), "trust store: does not serialise back to its text")
        for e in store.entries {
            try require(store.entry(for: e.publicKey.keyID) == e, "trust store: lookup by key id finds another entry")
            // Names and reasons are printed: one line, no control characters.
            try require(TrustStoreFile.isValidText(e.name) && TrustStoreFile.isValidText(e.revoked?.reason ?? "", allowEmpty: true),
                        "trust store: a name or reason with control characters")
        }
    }

    // MARK: Vault index and config

    /// The index file and the config serialise back to their identical bytes; a decrypted
    /// index that parses is written (canonical JSON) as a text that parses to the same index,
    /// and that text is a fixed point.
    static func vaultIndex(_ input: [UInt8]) throws(FuzzViolation) {
        let text = lossy(input)
        if let sealed = try? VaultFiles.parseIndex(text) {
            try require(VaultFiles.indexText(sealed).utf8.elementsEqual(text.utf8), "index file: does not serialise back to its text")
        }
        if let config = try? VaultFiles.Config(parsing: text) {
            try require(config.text.utf8.elementsEqual(text.utf8), "config: does not serialise back to its text")
        }
        guard let index = try? VaultFiles.parseIndexJSON(input) else { return }
        try checkRewritten(index, "index", write: VaultFiles.indexJSON, parse: { try? VaultFiles.parseIndexJSON($0) })
        try checkCanonical(try! JSONDocument.parse(VaultFiles.indexJSON(index)), "index")
    }

    /// Index formats 3 and 4: a head file and an entry file serialise back to their identical
    /// bytes, an entry file name to its text; a decrypted head (of either format) or entry that
    /// parses is written as canonical JSON that parses to the same value (a fixed point).
    static func vaultEntries(_ input: [UInt8]) throws(FuzzViolation) {
        let text = lossy(input)
        if let (format, sealed) = try? VaultFiles.parseIndexFile(text) {
            let written = format >= 3 ? VaultFiles.headText(sealed, format: format) : VaultFiles.indexText(sealed)
            try require(written.utf8.elementsEqual(text.utf8), "index file (format \(format)): does not serialise back to its text")
        }
        if let sealed = try? VaultFiles.parseEntry(text) {
            try require(VaultFiles.entryText(sealed).utf8.elementsEqual(text.utf8), "entry file: does not serialise back to its text")
        }
        if let (name, seq) = VaultFiles.parseEntryFileName(text) {
            try require(VaultFiles.entryFileName(name: name, seq: seq) == text, "entry file name: does not serialise back to its text")
        }
        for format in [3, 4] {
            if let head = try? VaultFiles.parseHeadJSON(input, format: format) {
                try require(head.entries.format == format, "head: a head of format \(format) parsed to another format")
                try checkRewritten(head, "head", write: VaultFiles.headJSON, parse: { try? VaultFiles.parseHeadJSON($0, format: format) })
            }
        }
        if let entry = try? VaultFiles.parseEntryJSON(input) {
            try checkRewritten(entry, "entry", write: VaultFiles.entryJSON, parse: { try? VaultFiles.parseEntryJSON($0) })
        }
    }

    /// A value a parser accepted is written as canonical JSON that parses back to the same
    /// value, and writing that again gives the same bytes.
    static func checkRewritten<T: Equatable>(_ value: T, _ what: String, write: (T) -> [UInt8], parse: ([UInt8]) -> T?) throws(FuzzViolation) {
        let written = write(value)
        guard let again = parse(written) else { throw FuzzViolation(description: "\(what): the written \(what) does not parse") }
        try require(again == value, "\(what): the written \(what) parses to another \(what)")
        try require(write(again) == written, "\(what): writing is not a fixed point")
        try require(try! JSONDocument.parse(written).canonicalJSON == written, "\(what): not written as canonical JSON")
    }

    // MARK: .avault-recipients

    /// An accepted rules file has at least one section, each with recipients (no repeats) and a
    /// valid glob (none only when it is the one section); looking up paths made of the file's
    /// own bytes always answers, and the catch-all `**` matches every path.
    static func recipientsFile(_ input: [UInt8]) throws(FuzzViolation) {
        let paths = ["a.md", "d/e/f.md", ".x", String(decoding: input.prefix(40).filter { $0 != 0x0A }, as: UTF8.self)]
        for path in paths { try require(RecipientRules.glob("**", matches: path), "recipients file: ** does not match '\(path)'") }
        guard let rules = try? RecipientRules(parsing: input) else { return }
        try require(!rules.sections.isEmpty, "recipients file: accepted without sections")
        for section in rules.sections {
            try require(!section.recipients.isEmpty && Set(section.recipients).count == section.recipients.count,
                        "recipients file: a section with no or repeated recipients")
            if let glob = section.glob {
                try require(RecipientRules.globProblem(Substring(glob)) == nil, "recipients file: an invalid glob accepted")
                for path in paths { _ = RecipientRules.glob(glob, matches: path) }
            } else {
                try require(rules.sections.count == 1, "recipients file: a section without a glob beside others")
            }
        }
        for path in paths { _ = rules.section(for: path) }
    }

    // MARK: Sass imports

    /// The publishing gate's strict reading of Sass `@import` lists, in both syntaxes: it ends
    /// (its work is bounded), reads the same twice, gives at most one item per byte and `.unread`
    /// only last, and every name it gives is one the gate can look for as it is: on one line,
    /// with no NUL or backslash, no interpolation or Liquid, and no plain CSS import (those
    /// fail closed as `.variable`); each has its 14 candidates. Liquid markup is either other
    /// markup (``SassImports/liquid(_:)``), which ``SassImports/renderedEmpty(_:)`` does not
    /// render, or only the site's URLs, which it takes out.
    static func sassImports(_ input: [UInt8]) throws(FuzzViolation) {
        for indented in [false, true] {
            let items = input.withUnsafeBytes { SassImports.scan($0, indented: indented) }
            try require(items == input.withUnsafeBytes { SassImports.scan($0, indented: indented) }, "sass imports: two readings differ")
            try require(items.count <= input.count, "sass imports: \(items.count) items from \(input.count) bytes")
            for (k, item) in items.enumerated() {
                switch item {
                case .unread:
                    try require(k == items.count - 1, "sass imports: .unread before the end")
                case .variable:
                    break
                case .name(let name):
                    try require(!name.utf8.contains { [0x00, 0x0A, 0x0D, 0x5C].contains($0) }, "sass imports: a name '\(name)' with a NUL, a backslash or a line break")
                    try require(!name.contains("#{") && !name.contains("{{") && !name.contains("{%"), "sass imports: a name '\(name)' with interpolation or Liquid")
                    try require(!SassImports.isPlainCSS(name), "sass imports: a plain CSS import '\(name)' given as a name")
                    try require(SassImports.candidates(name).count == 14, "sass imports: not 14 candidates for '\(name)'")
                    _ = SassImports.climbsAfterAPart(name)
                    _ = SassImports.resolvesOtherwise(name)
                }
            }
        }
        let rendered = SassImports.renderedEmpty(input)
        if SassImports.liquid(input) != nil {
            try require(rendered == nil, "sass imports: other Liquid markup rendered")
        } else if let rendered {
            try require(rendered.count < input.count, "sass imports: the site's URLs taken out left \(rendered.count) of \(input.count) bytes")
        }
    }

    // MARK: Envelope

    /// The fixed content key the envelope target decrypts with (the seeds were written with it).
    static let envelopeKey = SecretBytes(copying: (0..<32).map { UInt8($0) })
    /// The associated data the seeds were written with.
    static let envelopeAssociatedData = Array("avault/vault/v1;envelope;fuzz;fuzz;1;0001020304050607".utf8)

    /// The header parses exactly when the input starts with the magic and is long enough, and
    /// serialises back to the same bytes; the chunks are then read as the vault reads them
    /// (under a fixed key), and must not be accepted past the final chunk. The input is also
    /// tried as an envelope file name.
    static func envelope(_ input: [UInt8]) throws(FuzzViolation) {
        let name = lossy(input)
        if let (object, version) = VaultFiles.parseEnvelopeFileName(name) {
            try require(VaultFiles.envelopeFileName(object: object, version: version).utf8.elementsEqual(input),
                        "envelope file name: does not serialise back")
            try require((1...VaultFiles.maxVersion).contains(version), "envelope file name: version out of range")
        }
        let size = VaultFiles.envelopeHeaderSize
        let head = Array(input.prefix(size))
        let header = try? VaultFiles.EnvelopeHeader(parsing: head)
        try require((header != nil) == (head.count == size && head.starts(with: VaultFiles.envelopeMagic)), "envelope: header acceptance")
        guard let header else { return }
        try require(header.bytes == head, "envelope: header does not serialise back")
        try require(VaultFiles.envelopeKid(head) == header.kid, "envelope: envelopeKid differs from the header's")
        guard let decryptor = try? SecretStream.Decryptor(key: envelopeKey, header: header.streamHeader) else { return }
        var at = size
        while at < input.count {
            let end = min(input.count, at + VaultFiles.chunkSize + SecretStream.chunkOverhead)
            let chunk = input[at..<end]
            let wasFinished = decryptor.finished
            guard let plain = try? chunk.withUnsafeBytes({ raw throws(CryptoError) in try decryptor.pull(raw, associatedData: envelopeAssociatedData) }) else { return }
            try require(!wasFinished, "envelope: a chunk after the final one was accepted")
            try require(plain.count == chunk.count - SecretStream.chunkOverhead, "envelope: chunk size")
            at = end
            if decryptor.finished { break }
        }
    }

    // MARK: Log

    /// A log line that parses has its seq and prev in range, and the line avault would write
    /// for it parses to the same entry. A `log.heads` line likewise.
    static func logLine(_ input: [UInt8]) throws(FuzzViolation) {
        let line = lossy(input)
        if let entry = try? VaultFiles.LogEntry(parsing: line) {
            try require((1...VaultFiles.maxInteger).contains(entry.seq) && VaultFiles.isLowerHex(entry.prev, count: 64), "log entry: seq or prev out of range")
            try require(Timestamp(entry.time.text) == entry.time, "log entry: its time does not parse back")
            try require(wellFormed(entry.fields), "log entry: not in the JSON data model")
            let text = entry.fields.jsonText
            guard let again = try? VaultFiles.LogEntry(parsing: text) else {
                throw FuzzViolation(description: "log entry: its jsonText does not parse")
            }
            try require(again.seq == entry.seq && again.time == entry.time && again.prev == entry.prev && again.op.utf8.elementsEqual(entry.op.utf8)
                        && identical(again.fields, entry.fields), "log entry: its jsonText parses to another entry")
            try require(again.fields.jsonText.utf8.elementsEqual(text.utf8), "log entry: jsonText is not a fixed point")
            _ = try? entry.forgotten()
            _ = try? entry.integer("version", in: 1...VaultFiles.maxVersion)
            // The writer's form: seq, time, the other fields, prev.
            if case .object(let pairs) = entry.fields, pairs.count >= 3, pairs.first?.key == "seq", pairs[1].key == "time",
               case .string(let timeText) = pairs[1].value, let time = Timestamp(timeText), pairs.last?.key == "prev",
               !pairs.dropFirst(2).dropLast().contains(where: { $0.key == "seq" || $0.key == "prev" || $0.key == "time" }) {
                let written = VaultFiles.logLine(seq: entry.seq, time: time, Array(pairs.dropFirst(2).dropLast()), prev: entry.prev)
                try require(written.utf8.elementsEqual(text.utf8), "log entry: logLine differs from the entry's jsonText")
                // Every line avault writes with an op of lowercase letters and dashes first is read quickly too.
                if pairs[2].key == "op", case .string(let op) = pairs[2].value, !op.isEmpty,
                   op.utf8.allSatisfy({ (0x61...0x7A).contains($0) || $0 == 0x2D }) {
                    try require(VaultFiles.LogEntry(chained: written) != nil, "log entry: the writer's line is not read quickly")
                }
            }
        }
        // The quick read (for lines a hash chain authenticates) takes seq, time, op and prev as
        // the strict parser does whenever both accept a line, and its fields are the strict ones.
        if let quick = VaultFiles.LogEntry(chained: line) {
            try require((1...VaultFiles.maxInteger).contains(quick.seq) && VaultFiles.isLowerHex(quick.prev, count: 64), "chained log entry: seq or prev out of range")
            if let strict = try? VaultFiles.LogEntry(parsing: line) {
                try require(quick.seq == strict.seq && quick.time == strict.time && quick.prev == strict.prev
                            && quick.op.utf8.elementsEqual(strict.op.utf8), "chained log entry: differs from the strict parse")
                try require(identical(quick.fields, strict.fields), "chained log entry: its fields differ from the strict parse")
            } else {
                try require((try? quick.strictly()) == nil, "chained log entry: strictly() accepts what the strict parser refuses")
            }
        }
        if let signed = try? VaultFiles.SignedHead(parsing: line) {
            guard let again = try? VaultFiles.SignedHead(parsing: signed.line) else {
                throw FuzzViolation(description: "signed head: its line does not parse")
            }
            try require(again.head == signed.head && again.keyID.utf8.elementsEqual(signed.keyID.utf8)
                        && again.signatureLine.utf8.elementsEqual(signed.signatureLine.utf8)
                        && again.trustedComment.utf8.elementsEqual(signed.trustedComment.utf8)
                        && again.globalSignatureLine.utf8.elementsEqual(signed.globalSignatureLine.utf8), "signed head: its line parses to another head")
            try require(again.line.utf8.elementsEqual(signed.line.utf8), "signed head: line is not a fixed point")
        }
    }

    // MARK: Agent

    /// An agent message body (a frame without its length prefix) that parses as a request, an
    /// answer or a handoff serialises back to the identical bytes; so does a length prefix
    /// made of the first four bytes, when it is accepted.
    static func agentMessage(_ input: [UInt8]) throws(FuzzViolation) {
        func reframed(_ frame: SecretBytes) -> [UInt8] { frame.withUnsafeBytes { Array($0.dropFirst(AgentProtocol.prefixSize)) } }
        let parsed: [(String, [UInt8]?)] = input.withUnsafeBytes { raw in
            [("request", (try? AgentRequest(body: raw)).map { reframed($0.frame()) }),
             ("answer", (try? AgentResponse(body: raw)).map { reframed($0.frame()) }),
             ("handoff", (try? AgentHandoff(body: raw)).map { reframed($0.frame()) })]
        }
        var accepted = 0
        for (what, bytes) in parsed {
            guard let bytes else { continue }
            accepted += 1
            try require(bytes == input, "agent \(what): does not serialise back to the same bytes")
        }
        try require(accepted <= 1, "agent message: parses as more than one kind")
        if accepted == 1 {
            try require(input.count <= AgentProtocol.maximumBodySize && input.starts(with: AgentProtocol.magic), "agent message: accepted out of bounds")
        }
        if input.count >= AgentProtocol.prefixSize, let n = try? AgentProtocol.bodyLength(prefix: Array(input.prefix(AgentProtocol.prefixSize))) {
            try require((AgentProtocol.minimumBodySize...AgentProtocol.maximumBodySize).contains(n), "agent frame: a length out of bounds")
        }
    }
}
