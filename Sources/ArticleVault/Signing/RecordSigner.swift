#if canImport(Glibc)
import Glibc
#endif
public import VaultCrypto
public import VaultFormat

/// Signing records (embedded signatures) and files (detached `.minisig`).
public enum RecordSigner {
    /// The default trusted comment of an embedded signature.
    public static func defaultRecordComment(path: String, now: Int64) -> String {
        "timestamp:\(now)\tcanon:\(RecordSignatures.canonicalName)\tfile:\(commentFileName(of: path))"
    }

    /// The fields avault writes itself into a trusted comment, which text of a signer's own
    /// (`sign --trusted-comment`) may not hold.
    public static let reservedCommentFields = ["timestamp:", "canon:", "file:", TrustPolicy.placeFieldPrefix]

    /// The trusted comment of an embedded signature made at `now`: the default one without
    /// `text`, else `timestamp:<now>` TAB `canon:avault-record-v1`, then `text` (if not empty)
    /// after a TAB, so that the signature is a record signature whatever `text` says; then,
    /// with `sitePath` (`--site`), the ``placeField(_:)`` after a TAB. `text` is checked by
    /// ``checkCommentText(_:)``.
    public static func recordComment(path: String, now: Int64, text: String?, sitePath: String? = nil) throws(AvaultError) -> String {
        let place = sitePath.map { "\t" + placeField($0) } ?? ""
        guard let text else { return try checkLength(defaultRecordComment(path: path, now: now) + place) }
        try checkCommentText(text)
        return try checkLength("timestamp:\(now)\t\(TrustPolicy.recordCanonField)" + (text.isEmpty ? "" : "\t" + text) + place)
    }

    /// `comment`, refused when minisign would not read it (longer than
    /// ``Minisign/trustedCommentLimit``: no signature avault makes is one it refuses).
    static func checkLength(_ comment: String) throws(AvaultError) -> String {
        guard comment.utf8.count <= Minisign.trustedCommentLimit else { throw .trustedCommentTooLong(bytes: comment.utf8.count) }
        return comment
    }

    /// The field that binds a signature to the file's path from its site's top
    /// (``TrustPolicy/Place``): `place:` and the path escaped as ``commentText(_:)`` escapes.
    public static func placeField(_ sitePath: String) -> String {
        TrustPolicy.placeFieldPrefix + commentText(sitePath)
    }

    /// The `place:` field of `signature`'s trusted comment when it is the last field, as it is
    /// counted (``TrustPolicy/placeProblem(_:id:place:)``): what a command that signs a record
    /// again (`seal --sign`, `unseal --sign`, …) keeps of the signature by the same key it
    /// replaces.
    public static func placeField(of signature: Minisign.Signature) -> String? {
        guard let last = signature.trustedComment.utf8.split(separator: 0x09, omittingEmptySubsequences: false).last,
              last.starts(with: TrustPolicy.placeFieldPrefix.utf8) else { return nil }
        return String(decoding: last, as: UTF8.self)
    }

    /// The path of `file` from the site's top directory `site` (`sign --site`), as the gate
    /// finds it when it walks `site`: both made absolute from the working directory and read
    /// lexically (`.` and empty parts dropped, `..` taking the part before it away; symbolic
    /// links are not resolved, as the walk does not resolve them in the paths it gives; the
    /// working directory is `$PWD` when that names it, as `pwd` says).
    /// Refused when `file` does not lie inside `site`.
    public static func sitePath(of file: String, site: String) throws(AvaultError) -> String {
        var cwd = ""
        if !file.hasPrefix("/") || !site.hasPrefix("/") {
            // The working directory as the shell names it (`$PWD`, when it is that directory:
            // reached through a symbolic link, `getcwd` names another path), else as the
            // kernel does.
            var here = stat(), there = stat()
            if let pwd = getenv("PWD").map({ String(cString: $0) }), pwd.hasPrefix("/"), stat(".", &here) == 0, stat(pwd, &there) == 0,
               here.st_dev == there.st_dev, here.st_ino == there.st_ino {
                cwd = pwd
            } else {
                guard let bytes = FileSystem.currentDirectory() else { throw .io(path: ".", reason: FileSystem.errnoText()) }
                cwd = String(decoding: bytes, as: UTF8.self)
            }
        }
        // Absolute: a `..` at the root is the root.
        func parts(_ path: String) -> ArraySlice<Substring> {
            lexicalParts(path.hasPrefix("/") ? path : cwd + "/" + path).drop { $0 == ".." }
        }
        let (f, s) = (parts(file), parts(site))
        guard f.count > s.count, f.starts(with: s) else { throw .notInSite(path: file, site: site) }
        return f.dropFirst(s.count).joined(separator: "/")
    }

    /// The parts of `path` read lexically: `.` and empty parts dropped, a `..` taking the part
    /// before it away (kept when there is none).
    static func lexicalParts(_ path: String) -> [Substring] {
        var out: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = out.last, last != ".." { out.removeLast(); continue }
            out.append(part)
        }
        return out
    }

    /// The place of a file named on the command line of the gate (not found by a walk): its
    /// path as named, read lexically as ``sitePath(of:site:)`` reads it but relative (a `.`
    /// part and empty parts dropped, `a/../b` as `b`); an absolute path, or one that climbs
    /// above its start, stays absolute or keeps its `..` (no site path is so, so that a
    /// signature bound to a place fails there). So `_posts/x.md` and `./_posts//x.md` are at
    /// `_posts/x.md`: name files from the site's top, or walk it.
    public static func sitePath(named path: String) -> String {
        (path.hasPrefix("/") ? "/" : "") + lexicalParts(path).joined(separator: "/")
    }

    /// Refuses signer's text for a trusted comment, embedded or detached, that holds a control
    /// character other than TAB (C0, DEL, C1, U+2028, U+2029), or a TAB-separated field that
    /// starts with one of ``reservedCommentFields`` (as bytes or as characters).
    public static func checkCommentText(_ text: String) throws(AvaultError) {
        if text.unicodeScalars.contains(where: { $0 != "\t" && isControl($0) }) {
            throw .trustedCommentControlCharacter
        }
        for field in text.utf8.split(separator: 0x09, omittingEmptySubsequences: false) {
            let characters = String(decoding: field, as: UTF8.self)
            if let reserved = reservedCommentFields.first(where: { field.starts(with: $0.utf8) || characters.hasPrefix($0) }) {
                throw .reservedTrustedCommentField(reserved)
            }
        }
    }

    /// The default trusted comment of a detached signature (as minisign writes it, but for
    /// the escapes in the file's name, ``commentFileName(of:)``).
    public static func defaultDetachedComment(path: String, now: Int64) -> String {
        "timestamp:\(now)\tfile:\(commentFileName(of: path))\thashed"
    }

    /// The trusted comment of a detached signature made at `now`: the default one without
    /// `text`, else `timestamp:<now>` then `text` (if not empty) after a TAB, in place of
    /// `file:…` and `hashed`. `text` is checked by ``checkCommentText(_:)``, as for an embedded
    /// signature: a `canon:` field would make it a record signature's, which `verify FILE`
    /// refuses and `verify --detached` (any domain) accepts, and the time is avault's.
    public static func detachedComment(path: String, now: Int64, text: String?, sitePath: String? = nil) throws(AvaultError) -> String {
        let place = sitePath.map { "\t" + placeField($0) } ?? ""
        guard let text else { return try checkLength(defaultDetachedComment(path: path, now: now) + place) }
        try checkCommentText(text)
        return try checkLength("timestamp:\(now)" + (text.isEmpty ? "" : "\t" + text) + place)
    }

    /// The base name of `path` as a trusted comment's `file:` field holds it: one field on one
    /// line, whatever the name. A backslash is `\\`; TAB, LF and CR are `\t`, `\n` and `\r`;
    /// any other C0 control, DEL or C1 control is `\xNN`; U+2028 and U+2029 are `\u{2028}`
    /// and `\u{2029}`. (minisign writes the name as it is, so a TAB in it starts another field.)
    public static func commentFileName(of path: String) -> String {
        commentText(FileSystem.baseName(of: path))
    }

    /// `name` escaped as ``commentFileName(of:)`` escapes a file's name (the `place:` field's
    /// path too).
    public static func commentText(_ name: String) -> String {
        guard name.unicodeScalars.contains(where: { $0 == "\\" || isControl($0) }) else { return name }
        var out = ""
        for s in name.unicodeScalars {
            if s == "\\" { out += "\\\\" } else if isControl(s) { out += TextLines.escape(s) } else { out.unicodeScalars.append(s) }
        }
        return out
    }

    /// What may not stand as it is in a trusted comment, which is one line of TAB-separated
    /// fields: a C0 control (TAB included), DEL, a C1 control, U+2028 or U+2029.
    private static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value) || s.value == 0x2028 || s.value == 0x2029
    }

    /// Signs the record at `path` in place: adds (or replaces) the entry by `keyID` in its
    /// `signatures` list, verifies the new signature over the rewritten file, then replaces
    /// the file atomically, keeping the mode of the file read. Returns the new signature. The
    /// file must not change between the read and the write, and must be the one `readAs` (what
    /// a batch checked with ``checkSigning(path:key:keyID:trustedComment:)``), when given.
    @discardableResult
    public static func sign(path: String, key: Ed25519SigningKey, keyID: Minisign.KeyID, trustedComment: String,
                            readAs: FileSystem.Identity? = nil) throws(AvaultError) -> Minisign.Signature {
        let file = try RecordFile(path: path)
        if let readAs, file.identity != readAs { throw .recordChangedMeanwhile(path: path) }
        let (updated, signature) = try signed(text: file.text, document: file.document, path: path, key: key, keyID: keyID,
                                              trustedComment: trustedComment)
        if let identity = file.identity, FileSystem.identity(of: path) != identity { throw .recordChangedMeanwhile(path: path) }
        try FileSystem.writeAtomically(path, Array(updated.utf8), mode: file.mode ?? 0o644, owner: file.identity?.owner)
        return signature
    }

    /// Signs the record at `path` in memory, as ``sign(path:key:keyID:trustedComment:readAs:)``
    /// would, and writes nothing; returns the file's identity as it was read.
    public static func checkSigning(path: String, key: Ed25519SigningKey, keyID: Minisign.KeyID,
                                    trustedComment: String) throws(AvaultError) -> FileSystem.Identity? {
        let file = try RecordFile(path: path)
        _ = try signed(text: file.text, document: file.document, path: path, key: key, keyID: keyID, trustedComment: trustedComment)
        return file.identity
    }

    /// `text` with a signature by `keyID` added (replacing one by the same key), verified
    /// over the rewritten text before it is returned. Nothing is written. `trustedComment` must
    /// be a record signature's (``TrustPolicy/isRecordComment(_:canon:)``; see
    /// ``recordComment(path:now:text:)``).
    public static func signed(text: String, document: RecordDocument, path: String, key: Ed25519SigningKey, keyID: Minisign.KeyID,
                              trustedComment: String) throws(AvaultError) -> (String, Minisign.Signature) {
        guard !trustedComment.contains(where: \.isNewline) else {
            throw .invalidTrustedComment
        }
        let existing: [Minisign.Signature]
        do { existing = try RecordSignatures.entries(in: document.fields) } catch { throw .malformed(error, file: path) }
        let digest = MinisignSigning.prehash(canonicalBytesOf: document)
        let signature = MinisignSigning.sign(digest: digest, key: key, keyID: keyID, trustedComment: trustedComment)
        // What every verifier would reject as a record's is not written as one.
        guard TrustPolicy.isRecordComment(signature) else { throw .notARecordComment }
        let updated: String
        do {
            updated = try RecordSignatures.replacing(in: text, document: document,
                                                     with: existing.filter { $0.keyID != keyID } + [signature])
        } catch { throw .malformed(error, file: path) }
        let publicKey = Minisign.PublicKey(keyID: keyID, key: key.publicKey.bytes)
        // Verify what will be written before writing it: the same canonical bytes (only the
        // signatures changed; compared by their BLAKE2b-512, hashed as they are written), and
        // the new signature among them, verifying.
        guard let check = try? RecordDocument(parsing: updated),
              MinisignSigning.prehash(canonicalBytesOf: check) == digest,
              let written = try? RecordSignatures.entries(in: check.fields),
              written.contains(where: { $0.signatureLine == signature.signatureLine && $0.trustedComment == signature.trustedComment
                                        && $0.globalSignature == signature.globalSignature }),
              MinisignSigning.check(signature, digest: MinisignSigning.prehash(canonicalBytesOf: check),
                                    publicKey: publicKey) == .valid else {
            throw .rewriteCheckFailed(path: path, reason: "read back, its values or its new signature did not check out")
        }
        return (updated, signature)
    }

    /// Reads and parses a record.
    public static func read(_ path: String) throws(AvaultError) -> (String, RecordDocument) {
        let file = try RecordFile(path: path)
        return (file.text, file.document)
    }

    /// BLAKE2b-512 of a file, read in 1 MiB pieces: `-` is standard input, and anything else but
    /// a regular file (a FIFO, which would block the command) is refused without being read.
    public static func prehashFile(_ path: String) throws(AvaultError) -> [UInt8] {
        var hasher = BLAKE2b(digestSize: 64)
        if path == "-" {
            try FileSystem.forEachPiece(fd: 0, name: "standard input") { hasher.update($0) }
            return hasher.finalize()
        }
        let (fd, _) = try FileSystem.openRegularFile(path)
        defer { close(fd) }
        try FileSystem.forEachPiece(fd: fd, name: path) { hasher.update($0) }
        return hasher.finalize()
    }

    /// Signs any file as minisign does (prehashed) and writes `FILE.minisig`. The signature is
    /// verified before it is written. Unless `overwrite`, an existing `FILE.minisig` is refused.
    @discardableResult
    public static func signDetached(path: String, key: Ed25519SigningKey, keyID: Minisign.KeyID,
                                    trustedComment: String, overwrite: Bool = true) throws(AvaultError) -> String {
        let out = detachedSignaturePath(of: path)
        try FileSystem.checkOutput(out, force: overwrite)
        guard !trustedComment.contains(where: \.isNewline) else {
            throw .invalidTrustedComment
        }
        let digest = try prehashFile(path)
        let signature = MinisignSigning.sign(digest: digest, key: key, keyID: keyID, trustedComment: trustedComment)
        guard MinisignSigning.check(signature, digest: digest, publicKey: Minisign.PublicKey(keyID: keyID, key: key.publicKey.bytes)) == .valid else {
            throw .internalFailure("\(path): the new signature did not verify; nothing was written")
        }
        try FileSystem.writeAtomically(out, Array(signature.fileText.utf8), mode: 0o644, overwrite: overwrite)
        return out
    }

    /// Where ``signDetached(path:key:keyID:trustedComment:overwrite:)`` writes the signature of `path`.
    public static func detachedSignaturePath(of path: String) -> String { path + ".minisig" }

    /// The two files ``exportForMinisign(paths:keyID:to:overwrite:wrote:)`` writes for `path`: its
    /// canonical bytes and their signature.
    public static func exportPaths(of path: String, to directory: String) -> [String] {
        let base = directory + "/" + FileSystem.baseName(of: path) + ".canonical"
        return [base, base + ".minisig"]
    }

    /// Checks a detached signature of `path`.
    public static func verifyDetached(path: String, signature: Minisign.Signature, publicKey: Minisign.PublicKey,
                                      allowLegacy: Bool) throws(AvaultError) -> MinisignSigning.Check {
        if signature.algorithm == Minisign.legacyAlgorithm {
            guard allowLegacy else { return .legacyRefused }
            let bytes = try FileSystem.readInput(path, limit: .max, what: "a file")
            return MinisignSigning.check(signature, digest: [], message: { bytes }, publicKey: publicKey, allowLegacy: true)
        }
        let digest = try prehashFile(path)
        return MinisignSigning.check(signature, digest: digest, publicKey: publicKey)
    }

    /// Writes each record's canonical bytes to `DIR/NAME.canonical` and its embedded signature
    /// (the first, or the first by `keyID`) to `DIR/NAME.canonical.minisig`, so that stock
    /// `minisign -V` can check it, and calls `wrote` with the first path and the key id.
    ///
    /// Every record is read, and must have the signature, before `directory` is made or anything
    /// is written; then each is read again and written, so that memory holds one record at a
    /// time. Directories made here are removed again when the files cannot be written in them.
    /// Unless `overwrite`, nothing is written when a file exists.
    public static func exportForMinisign(paths: [String], keyID: Minisign.KeyID?, to directory: String, overwrite: Bool,
                                         wrote: (String, Minisign.KeyID) throws(AvaultError) -> Void) throws(AvaultError) {
        for path in paths { _ = try minisignExport(of: path, keyID: keyID) }
        var made: [String] = [] // the directories not there yet, the deepest first
        var missing = directory
        while !FileSystem.exists(missing), missing != FileSystem.directory(of: missing) {
            made.append(missing)
            missing = FileSystem.directory(of: missing)
        }
        let outputs = paths.flatMap { exportPaths(of: $0, to: directory) }
        do throws(AvaultError) {
            try FileSystem.makeDirectory(directory, mode: 0o755)
            if !overwrite, let existing = outputs.first(where: FileSystem.exists) { throw .fileExists(path: existing) }
            try FileSystem.checkBatch(writes: outputs)
        } catch {
            for dir in made { FileSystem.removeEmptyDirectory(dir) }
            throw error
        }
        for path in paths {
            let (canonical, signature) = try minisignExport(of: path, keyID: keyID)
            let files = exportPaths(of: path, to: directory)
            try FileSystem.writeAtomically(files[0], canonical, mode: 0o644, overwrite: overwrite)
            try FileSystem.writeAtomically(files[1], Array(signature.fileText.utf8), mode: 0o644, overwrite: overwrite)
            try wrote(files[0], signature.keyID)
        }
    }

    /// The canonical bytes of the record at `path`, and the signature to export with them.
    private static func minisignExport(of path: String, keyID: Minisign.KeyID?) throws(AvaultError) -> ([UInt8], Minisign.Signature) {
        let (_, document) = try read(path)
        let signatures: [Minisign.Signature]
        do { signatures = try RecordSignatures.entries(in: document.fields) } catch { throw .malformed(error, file: path) }
        guard var signature = signatures.first(where: { keyID == nil || $0.keyID == keyID }) else {
            throw .noSignature(path: path, keyID: keyID?.printed)
        }
        signature.untrustedComment = "signature from avault, over the avault-record-v1 canonical form"
        return (RecordSignatures.canonicalBytes(of: document), signature)
    }
}
