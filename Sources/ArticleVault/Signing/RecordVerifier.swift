#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import VaultCrypto
public import VaultFormat

/// What `avault verify` requires of each file.
public struct VerifyPolicy: Sendable {
    /// Whose signatures count, and the rules they are judged by.
    public var trust: TrustPolicy
    /// Fail unsigned files.
    public var requireSignature = false
    /// Let legacy v1 `secured` blobs pass.
    public var allowLegacySecured = false
    /// With `--check-decrypt`: the keys to try each record's blob with.
    public var decryptCheck: SecuredDecryptChecker?
    /// With `--check-decrypt`: also try v1 blobs that no trusted signature authenticates.
    public var allowUnauthenticatedLegacy = false
    /// Count only signatures bound to the file's place in the site (`--require-place`,
    /// ``TrustPolicy/Place``). Without it, a signature that names a place still counts only
    /// there.
    public var requirePlace = false

    public init(trust: TrustPolicy) { self.trust = trust }
}

/// The verdict on one file.
public enum RecordOutcome: String, Sendable, CaseIterable {
    case valid, invalid, untrusted, revoked, expired, unsigned, malformed
}

/// Everything `verify` and `audit` say about one file.
public struct RecordReport: Sendable {
    public var path: String
    /// Whether the file's name is not UTF-8, so that ``path`` shows its last part escaped
    /// (each byte that is not UTF-8 as `\xNN`, a `\` as `\x5c`): no path a program can open,
    /// and not to be taken for a file whose name holds those characters.
    public var pathIsEscaped = false
    public var outcome: RecordOutcome
    /// Whether the file passes the policy.
    public var passed: Bool
    /// Why it fails (or what is notable).
    public var reason: String?
    /// For malformed records, the line when known.
    public var line: Int?
    /// Embedded signatures, or the detached `FILE.minisig` of a file without front matter.
    public var signatures: [SignatureReport] = []
    /// Whether ``signatures`` came from a detached `FILE.minisig`.
    public var detached = false
    /// `none`, `v1`, `v2` or `malformed`.
    public var secured: String = "none"
    /// The kid of a v2 blob.
    public var securedKeyID: String?
    /// With `--check-decrypt`, whether the blob decrypts; nil when it was not tried (no
    /// check asked, or a v1 blob that nothing authenticates).
    public var decrypts: Bool?
    /// The record's date as written: its `publishedDateTime` field, else its `date` field, when
    /// that is text; nil for a file without front matter or without such a field.
    public var date: String?
}

/// Verifies files against a policy.
///
/// A file is a record when it starts as Jekyll's pages with front matter do (see
/// ``RecordDocument/hasFrontMatter(_:)``); its embedded signatures are judged. A file without
/// front matter is `unsigned` (reason `no front matter`) unless a detached `FILE.minisig` beside
/// it verifies under the same policy. Files that are not regular (FIFOs, sockets, devices) are
/// reported as `malformed` and never opened.
public struct RecordVerifier: Sendable {
    public let policy: VerifyPolicy

    public init(policy: VerifyPolicy) { self.policy = policy }

    /// The reason given for a file without front matter.
    public static let noFrontMatter = "no front matter"

    /// Verifies the file at `path`.
    ///
    /// A record over ``RecordLimits/fileBytes`` is malformed: only its first bytes are read
    /// (its size says so), or reading stops just past the limit (it grew). A larger file
    /// without front matter is hashed as it is read, for a detached signature, never held.
    /// `-` is standard input (its size unknown until read).
    /// `seenRegular`: a walk found a regular file at `path` (see
    /// ``FileSystem/openRegularFile(_:seenRegular:)``).
    public func verify(path: String, seenRegular: Bool = false) -> RecordReport {
        var unused = Seen()
        return verify(path: path, seenRegular: seenRegular, place: nil, publishing: false, seen: &unused)
    }

    /// The place in the site of a file at `sitePath` (``RecordWalker/Found/sitePath``), as
    /// this policy checks signatures against it.
    private func sitePlace(_ sitePath: String?) -> TrustPolicy.Place {
        TrustPolicy.Place(path: sitePath, required: policy.requirePlace)
    }

    /// ``verify(path:seenRegular:)``, with signatures checked against `place` (none when nil),
    /// and when `publishing`, what the gate needs of the bytes read for verifying it put in
    /// `seen` (its `include_relative` tags, and with ``VerifyPolicy/requireSignature`` Liquid's
    /// Sass filters).
    /// `staticLink`: the walk found the file as a symbolic link where Jekyll publishes a file
    /// without front matter as it is (``RecordWalker/Found/isLink``).
    private func verify(path: String, seenRegular: Bool, place: TrustPolicy.Place?, staticLink: Bool = false, publishing: Bool,
                        seen: inout Seen) -> RecordReport {
        let limit = RecordLimits.fileBytes
        let fd: Int32, size: Int
        var bytes: [UInt8]
        if path == "-" {
            (fd, size) = (0, 0)
        } else {
            do { (fd, size) = try FileSystem.openRegularFile(path, seenRegular: seenRegular) } catch {
                return RecordReport(path: path, outcome: .malformed, passed: false, reason: error.message)
            }
        }
        defer { if fd != 0 { close(fd) } }
        do {
            // Past the limit by its size: the first bytes tell whether it is a record.
            bytes = try FileSystem.readAll(fd: fd, name: path, sizeHint: min(size, limit), limit: size > limit ? 1 << 16 : limit + 1)
        } catch {
            return RecordReport(path: path, outcome: .malformed, passed: false, reason: error.message)
        }
        if publishing {
            let whole = size <= limit && bytes.count <= limit
            let scan = bytes.withUnsafeBytes { IncludeRelative.scan(file: $0, complete: whole) }
            if !scan.tags.isEmpty || !scan.complete { seen.includes = scan }
            if whole && policy.requireSignature {
                seen.sassFilter = bytes.withUnsafeBytes { Self.sassFilter(in: $0) }.map { .found($0) } ?? .absent
            }
        }
        if size > limit || bytes.count > limit {
            guard !RecordDocument.hasFrontMatter(bytes, isPrefix: true) else {
                return RecordReport(path: path, outcome: .malformed, passed: false, reason: RecordLimits.fileTooLarge)
            }
            return verifyWithoutFrontMatter(path: path, place: place, staticLink: staticLink) { () throws(AvaultError) in
                var hasher = BLAKE2b(digestSize: 64)
                hasher.update(bytes)
                bytes = []
                try FileSystem.forEachPiece(fd: fd, name: path) { hasher.update($0) }
                return hasher.finalize()
            }
        }
        guard RecordDocument.hasFrontMatter(bytes) else {
            return verifyWithoutFrontMatter(path: path, place: place, staticLink: staticLink) { () throws(AvaultError) in MinisignSigning.prehash(bytes) }
        }
        // The quick way: the front matter read straight into the canonical bytes it is signed
        // over (and the file checked for UTF-8 on the way). What it declines (malformed records
        // among them) is read in full below.
        if let scan = RecordScan(utf8: bytes) {
            bytes = [] // (the scan holds the file)
            let signatures: [Minisign.Signature]
            do {
                signatures = try RecordSignatures.entries(of: scan.signaturesField)
            } catch {
                var line: Int?
                var reason = "\(error)"
                if case .invalidRecord(let why, let l) = error { line = l; reason = why }
                return RecordReport(path: path, outcome: .malformed, passed: false, reason: reason, line: line)
            }
            return verify(fields: scan.fields, signatures: signatures, path: path, place: place) {
                MinisignSigning.prehash(canonicalBytesOf: scan)
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return RecordReport(path: path, outcome: .malformed, passed: false, reason: "the file is not valid UTF-8")
        }
        bytes = [] // one copy of the file from here: the text
        let document: RecordDocument
        let signatures: [Minisign.Signature]
        do {
            document = try RecordDocument(parsing: text)
            signatures = try RecordSignatures.entries(in: document.fields)
        } catch {
            var line: Int?
            var reason = "\(error)"
            if case .invalidRecord(let why, let l) = error { line = l; reason = why }
            return RecordReport(path: path, outcome: .malformed, passed: false, reason: reason, line: line)
        }
        return verify(fields: document.fields, signatures: signatures, path: path, place: place) {
            MinisignSigning.prehash(canonicalBytesOf: document)
        }
    }

    /// A file without front matter: unsigned, unless `FILE.minisig` signs its bytes.
    /// `digest` gives the BLAKE2b-512 of the file's bytes; it is called at most once.
    private func verifyWithoutFrontMatter(path: String, place: TrustPolicy.Place?, staticLink: Bool = false,
                                          digest: () throws(AvaultError) -> [UInt8]) -> RecordReport {
        // Jekyll copies it as the link (without `--safe`): what is served is where the link
        // leads from the built site, which no check here sees.
        if staticLink {
            return RecordReport(path: path, outcome: .malformed, passed: false,
                                reason: "a symbolic link to a file without front matter, which a build copies as the link itself; "
                                    + "put the file in its place")
        }
        var report = RecordReport(path: path, outcome: .unsigned, passed: !policy.requireSignature, reason: Self.noFrontMatter)
        let sigPath = path + ".minisig"
        guard path != "-", FileSystem.exists(sigPath) else { return report }
        report.detached = true
        let signature: Minisign.Signature
        do {
            let sigBytes = try FileSystem.readSmall(sigPath, limit: FileLimits.minisignFile, what: "a minisign signature", regularOnly: true)
            signature = try Minisign.Signature(parsing: sigBytes)
        } catch let error as AvaultError {
            return RecordReport(path: path, outcome: .malformed, passed: false, reason: "no front matter, and \(error.message)")
        } catch {
            return RecordReport(path: path, outcome: .malformed, passed: false, reason: "no front matter, and \(sigPath): \(error)")
        }
        var hashed: Result<[UInt8], AvaultError>?
        let s = policy.trust.judge(signature, domain: .file, place: place) { key in
            if hashed == nil { hashed = Result { () throws(AvaultError) in try digest() } }
            guard case .success(let d) = hashed else { return .badSignature }
            return MinisignSigning.check(signature, digest: d, publicKey: key)
        }
        if case .failure(let error) = hashed {
            return RecordReport(path: path, outcome: .malformed, passed: false, reason: error.message)
        }
        report.signatures = [s]
        if let (outcome, reason) = policy.trust.outcome(of: [s]) {
            report.outcome = outcome
            report.reason = outcome == .valid ? "no front matter; signed by \(FileSystem.baseName(of: sigPath))" : reason
        }
        report.passed = report.outcome == .valid
        return report
    }

    /// Verifies a parsed record.
    public func verify(document: RecordDocument, signatures: [Minisign.Signature], path: String) -> RecordReport {
        verify(fields: document.fields, signatures: signatures, path: path, place: nil) {
            MinisignSigning.prehash(canonicalBytesOf: document)
        }
    }

    /// Verifies a record whose fields are `fields` (all of them, or those ``RecordScan`` keeps)
    /// and whose canonical bytes hash to what `prehash` gives (called at most once, and only
    /// for a signature by a trusted key).
    private func verify(fields: FieldValue, signatures: [Minisign.Signature], path: String, place: TrustPolicy.Place?,
                        prehash: () -> [UInt8]) -> RecordReport {
        var report = RecordReport(path: path, outcome: .unsigned, passed: false)
        // (Two lookups, not a loop over an array literal: this is on every record's path.)
        report.date = fields["publishedDateTime"]?.stringValue ?? fields["date"]?.stringValue
        report.signatures = policy.trust.judge(recordSignatures: signatures, place: place, prehash: prehash)
        if let (outcome, reason) = policy.trust.outcome(of: report.signatures) {
            report.outcome = outcome
            report.reason = reason
        } else {
            report.reason = "the record is not signed"
        }
        report.passed = report.outcome == .valid || (report.outcome == .unsigned && !policy.requireSignature)

        // The secured field.
        guard let value = fields["secured"] else { return report }
        func fail(_ why: String) {
            report.passed = false
            report.reason = (report.reason.map { $0 + "; " } ?? "") + why
        }
        // Its form is all a report says of it unless it is to be decrypted: checked without
        // decoding it then (the same checks and verdict as parsing it).
        var blob: SecuredBlob?
        var form: SecuredBlob.Form?
        if case .string(let text) = value {
            if policy.decryptCheck == nil {
                form = try? SecuredBlob.form(of: text)
            } else if let parsed = try? SecuredBlob(parsing: text) {
                blob = parsed
                form = SecuredBlob.Form(formatName: parsed.formatName, keyID: parsed.keyID)
            }
        }
        guard let form else {
            report.secured = "malformed"
            fail("the secured field is malformed")
            return report
        }
        report.secured = form.formatName
        report.securedKeyID = form.keyID?.hex
        if form.formatName == "v1", !policy.allowLegacySecured {
            fail("legacy v1 secured blob (unauthenticated; allow with --allow-legacy-secured)")
        }
        if let checker = policy.decryptCheck, let blob {
            var legacy: LegacyAuthorization?
            if case .v1 = blob {
                legacy = LegacyAuthorization.authorization(for: report.signatures, policy: policy.trust)
                    ?? (policy.allowUnauthenticatedLegacy ? .userOptIn : nil)
            }
            if case .v1 = blob, legacy == nil {
                // Not tried: whether it decrypts would be a padding oracle.
                fail("the legacy v1 blob was not decrypted: no trusted signature authenticates it")
            } else {
                let ok = checker.decrypts(blob, context: RecordDocument.securedContext(of: fields), legacy: legacy)
                report.decrypts = ok
                if !ok { fail("the secured blob does not decrypt") }
            }
        }
        return report
    }

    /// The verdict on a detached signature.
    public struct DetachedResult: Sendable {
        public var signature: SignatureReport
        public var outcome: RecordOutcome
        public var reason: String?
        /// The signature's trusted comment (authenticated only when the outcome is valid).
        public var trustedComment: String
    }

    /// Checks the detached signature `signatureFile` of any `file`, as `minisign -V` does
    /// (legacy `Ed` signatures only with `allowLegacy`), judged by `policy` like an embedded
    /// signature: trust, revocation, validity window, roles, timestamps from the future. An
    /// untrusted key id is reported before the file is read. `place`: where the file lies in
    /// a site (the gate), which a signature that names a place must name. `found`: the
    /// signature file was found beside `file`, not named by the user, and is read only as a
    /// regular file (opened non-blocking: a FIFO swapped in for it cannot hang the reader).
    public static func verifyDetached(file: String, signatureFile: String, policy: TrustPolicy,
                                      allowLegacy: Bool, place: TrustPolicy.Place? = nil, found: Bool = false) throws(AvaultError) -> DetachedResult {
        let what = "a minisign signature", limit = FileLimits.minisignFile
        let bytes = found ? try FileSystem.readSmall(signatureFile, limit: limit, what: what, regularOnly: true)
                          : try FileSystem.readInput(signatureFile, limit: limit, what: what)
        let signature: Minisign.Signature
        do { signature = try Minisign.Signature(parsing: bytes) } catch { throw .malformed(error, file: FileSystem.inputName(signatureFile)) }
        var check: MinisignSigning.Check?
        if let key = policy.publicKey(for: signature.keyID) {
            check = try RecordSigner.verifyDetached(path: file, signature: signature, publicKey: key, allowLegacy: allowLegacy)
        }
        let report = policy.judge(signature, domain: .any, place: place) { _ in check ?? .badSignature }
        let (outcome, reason) = policy.outcome(of: [report]) ?? (.unsigned, nil)
        return DetachedResult(signature: report, outcome: outcome, reason: reason, trustedComment: signature.trustedComment)
    }

    /// Verifies every path on `jobs` threads; `progress` is called with the number done.
    /// Reports come back in the order of `paths`, one for every path.
    public func verifyAll(_ files: [RecordWalker.Found], jobs: Int,
                          progress: (@Sendable (Int) -> Void)? = nil) -> [RecordReport] {
        verifyEach(files, jobs: jobs, progress: progress, publishing: false).reports
    }

    /// The most files `include_relative` tags may read into one page, through one another,
    /// before the page fails unchecked (a bound on the work, as each file is read once).
    public static let includeRelativeLimit = 256

    /// Verifies `files` as a publishing gate (`verify`, `audit`): as
    /// ``verifyAll(_:jobs:progress:)``, and with them each file Jekyll's `include_relative` tag
    /// reads into a page. The signature over a page covers the tag, not the file it reads, so
    /// that file is checked by the same policy as any other: the report of the walk's own when
    /// the walk took it, else a report added after the walked files' (its path the file's, its
    /// reason saying which page reads it). Its tags are followed in turn, against the same
    /// page's directory, each file once and at most ``includeRelativeLimit`` for a page. (See
    /// ``IncludeRelative`` for how Jekyll resolves them.) A walked page's own tags are those
    /// Jekyll renders in it, not those in its front matter (``renderedTags(_:of:)``); a file
    /// read into a page has all of its followed, front matter included.
    ///
    /// A page fails (its outcome kept, `passed` false, the reason added to its own, as a
    /// secured field that fails) when a tag reads no regular file, has a name Jekyll refuses,
    /// or reads more than the limit: Jekyll would not build the page as it was checked. With
    /// ``VerifyPolicy/requireSignature`` it also fails when a tag cannot be followed: a name
    /// from a Liquid variable (rendered in the page's context), a tag in a layout or include
    /// (``RecordWalker/Found/inLayoutsOrIncludes``: it reads beside each page that uses it),
    /// a tag in standard input (no place in a site). Without it, such a tag reads what counts
    /// as an unsigned file, which passes then (the reason still says so).
    ///
    /// Files without the tag's name cost a `memchr` (and a `memmem` when they hold a `%`) over
    /// the bytes already read.
    public func verifyForPublishing(_ files: [RecordWalker.Found], jobs: Int,
                                    progress: (@Sendable (Int) -> Void)? = nil) -> [RecordReport] {
        var (reports, seen) = verifyEach(files, jobs: jobs, progress: progress, publishing: true)
        /// Fails report `i` (`always`, or with `requireSignature` for what counts as unsigned),
        /// saying why after its own reason.
        func failReport(_ i: Int, _ why: String, always: Bool) {
            if always || policy.requireSignature { reports[i].passed = false }
            reports[i].reason = (reports[i].reason.map { $0 + "; " } ?? "") + why
        }
        // Read as they are, or published beside a signature that must be theirs (a walked
        // file's `FILE.minisig` is checked with it, not as a file of its own).
        for i in files.indices where files[i].kind == .regular && (files[i].readRaw || seen[i].signedBeside) {
            if let (why, always) = rawSignatureProblem(files[i].path, place: sitePlace(files[i].sitePath)) { failReport(i, why, always: always) }
        }
        // Liquid's `scssify` and `sassify` filters compile Sass inside a file Jekyll renders (a
        // page, a post, a layout, an include, what `include_relative` reads: any file), whose
        // imports are not read: failing closed.
        // (Looked for in the bytes read to verify the file; a file too large to read whole is
        // read again, only when it passes: an unsigned file as large as an attacker likes costs
        // nothing, a signed one was read whole by its check.)
        if policy.requireSignature {
            for i in files.indices where files[i].kind == .regular && reports[i].passed {
                if let filter = seen[i].sassFilter.filter(orReading: files[i].path) {
                    failReport(i, Self.sassFilterReason(filter, files[i].path), always: false)
                }
            }
        }
        let sassFiles = files.indices.filter { files[$0].kind == .regular && !files[$0].named && SassImports.isSass(files[$0].path) }
        let hasTags = seen.contains(where: { $0.includes != nil })
        guard hasTags || !sassFiles.isEmpty else { return reports }
        // Paths by their bytes (Swift strings compare canonically equivalent ones equal, and
        // `cafe\u{301}.html` is another file than `café.html`).
        var walked: [[UInt8]: Int] = [:]
        for (i, file) in files.enumerated() where walked[Array(file.path.utf8)] == nil { walked[Array(file.path.utf8)] = i }
        let sass = followSassImports(files, sassFiles, walked: walked)
        for (i, why, always) in sass.failures { failReport(i, why, always: always) }
        reports += sass.added
        guard hasTags else { return reports }
        var added: [[UInt8]: IncludeRelative.Scan?] = [:] // the files read for a tag, by path
        var filterIn: [[UInt8]: String?] = [:] // the `scssify`/`sassify` each of those not walked holds
        for i in files.indices {
            guard let scan = seen[i].includes else { continue }
            let page = files[i]
            /// Fails the page (`always`, or for a tag that cannot be followed, with
            /// `requireSignature`), saying why.
            func fail(_ why: String, always: Bool) { failReport(i, why, always: always) }
            let own = Self.renderedTags(scan, of: page)
            if page.inLayoutsOrIncludes || page.path == "-" {
                for tag in own {
                    fail(page.path == "-"
                         ? "include_relative \(tag.name) on standard input reads a file beside the page in its site; not checked"
                         : "include_relative \(tag.name) in a layout or include reads a file relative to each page that uses it; not checked",
                         always: false)
                }
                continue
            }
            if !own.isEmpty, let (key, value) = Self.frontMatterPlace(page.path) {
                for tag in own {
                    fail("include_relative \(tag.name) reads a file relative to the \(key): the page's front matter sets (\(value)); not checked",
                         always: false)
                }
                continue
            }
            let directory = FileSystem.directory(of: page.path)
            var pending: [(tags: [IncludeRelative.Tag], in: String?, complete: Bool)] = [(own, nil, scan.complete)]
            var read: Set<[UInt8]> = []
            following: while let (tags, reader, complete) = pending.popLast() {
                let place = reader.map { " in \($0)" } ?? ""
                if !complete, let reader {
                    fail("\(reader), read into the page by include_relative, is too large to look into for more tags", always: true)
                }
                for tag in tags {
                    switch tag.problem {
                    case .variable:
                        fail("include_relative \(tag.name)\(place): a file name from a Liquid variable, known only as the page renders; not checked", always: false)
                        continue
                    case .invalid:
                        fail("include_relative \(tag.name)\(place): a file name Jekyll refuses", always: true)
                        continue
                    case nil:
                        break
                    }
                    // Jekyll joins the name to the page's directory (`File.join`: a leading `/` adds none).
                    let name = String(tag.name.drop { $0 == "/" })
                    let target = directory.hasSuffix("/") ? directory + name : directory + "/" + name
                    // Its place in the site: beside the page's, as the walk would have found it.
                    let targetPlace = page.sitePath.map { p in
                        let dir = p.contains("/") ? String(p[..<p.lastIndex(of: "/")!]) : ""
                        return dir.isEmpty ? name : dir + "/" + name
                    }
                    let key = Array(target.utf8)
                    guard read.insert(key).inserted else { continue }
                    guard read.count <= Self.includeRelativeLimit else {
                        fail("include_relative: more than \(Self.includeRelativeLimit) files read into the page; not checked", always: true)
                        break following
                    }
                    let next: IncludeRelative.Scan?
                    if let k = walked[key] {
                        next = seen[k].includes // its own report counts
                    } else if let scan = added[key] {
                        next = scan
                    } else {
                        // Jekyll reads it when `File.file?` says so (symbolic links followed).
                        let kind: FileSystem.FileKind
                        do { kind = try FileSystem.kind(of: target) } catch {
                            fail("include_relative \(tag.name)\(place): \(error.message)", always: true)
                            continue
                        }
                        guard kind == .regular else {
                            fail("include_relative \(tag.name)\(place): \(target) is \(kind.rawValue)", always: true)
                            continue
                        }
                        var found = Seen()
                        var report = verify(path: target, seenRegular: false, place: sitePlace(targetPlace), publishing: true, seen: &found)
                        report.reason = (report.reason.map { $0 + "; " } ?? "") + "read into \(page.path) by include_relative"
                        // (Read again, when too large to have been read whole, only when it
                        // passes: an unsigned one fails the page anyway.)
                        filterIn[key] = policy.requireSignature && report.passed ? found.sassFilter.filter(orReading: target) : nil
                        reports.append(report)
                        next = found.includes
                        added[key] = next
                    }
                    // Read as it is: a record signature over it is not enough.
                    if let (why, always) = rawSignatureProblem(target, place: sitePlace(targetPlace)) { fail("include_relative \(tag.name)\(place): \(why)", always: always) }
                    if walked[key] == nil, let filter = filterIn[key] ?? nil {
                        fail("include_relative \(tag.name)\(place): " + Self.sassFilterReason(filter, target), always: false)
                    }
                    if let next { pending.append((next.tags, target, next.complete)) } // front matter included
                }
            }
        }
        return reports
    }

    /// The `path:` or `collection:` the front matter of the page at `file` sets (the key, and
    /// its value as JSON text): Jekyll resolves a page's `include_relative` tags against its
    /// `path` (`Page#path` is `data.fetch("path")`), joined to `collections_dir` when it has a
    /// `collection`, not against where the page lies. (A post's or a document's `path:` changes
    /// nothing; failing closed.) Nil when it sets neither, or its front matter cannot be read
    /// (its own check fails the page then).
    private static func frontMatterPlace(_ file: String) -> (key: String, value: String)? {
        guard let bytes = try? FileSystem.readSmall(file, limit: RecordLimits.fileBytes, what: "record", regularOnly: true),
              let (yaml, _) = try? RecordDocument.split(String(decoding: bytes, as: UTF8.self)),
              let fields = (try? FrontMatter.parse(yaml, firstLine: 2))?.fields else { return nil }
        for key in ["path", "collection"] { if let value = fields[key] { return (key, value.jsonText) } }
        return nil
    }

    /// The tags of `file` that Jekyll runs when it renders the file itself: those after its
    /// front matter (``IncludeRelative/Scan/rendered``: Jekyll reads front matter as data and
    /// renders none of it) for a page, a document or a layout the walk found; all of them for a
    /// file of the includes directory (``RecordWalker/Found/readRaw``: `include` reads it into
    /// pages whole, and the front matter is rendered with the rest), and for a file named on the
    /// command line or standard input, whose place in a site is not known (failing closed). A
    /// file read by `include_relative` has all its tags followed, wherever it is.
    ///
    /// A walked file without front matter is rendered only as a layout, an include or a post
    /// (Jekyll renders their Liquid all the same), and as a Markdown file (which the plugins
    /// GitHub Pages enables, `jekyll-optional-front-matter` and `jekyll-readme-index`, render
    /// as pages; failing closed); any other is copied as it is, and has no tags of its own
    /// (its scan is kept for a page that reads it).
    private static func renderedTags(_ scan: IncludeRelative.Scan, of file: RecordWalker.Found) -> [IncludeRelative.Tag] {
        if file.readRaw || file.named { return scan.tags }
        if let rendered = scan.rendered { return rendered }
        return file.inLayoutsOrIncludes || file.isPost || isMarkdown(file.path) ? scan.tags : []
    }

    /// Whether `path` has one of the Markdown extensions Jekyll converts (its default
    /// `markdown_ext`), in any case.
    private static func isMarkdown(_ path: String) -> Bool {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return false }
        return ["markdown", "mkdown", "mkdn", "mkd", "md"].contains(path[path.index(after: dot)...].lowercased())
    }

    /// The most files Sass imports, through one another, a walked Sass file may read before
    /// it fails unchecked (a bound on the work, as each file is read once).
    public static let sassImportLimit = 1024

    /// Checks each file an `@import` in each walked Sass file (`sassFiles`, indices) may read (``SassImports``), as
    /// `include_relative` targets are checked: the walk's own report when the walk took the
    /// file, else a report added after the others (its reason saying which file imports it);
    /// and, since Sass reads it as it is, a front matter in it needs a detached signature
    /// that passes. libsass looks for a name, in turn, at the site's top and in `_sass/` for a
    /// page or post (compiled by its name alone, from the directory the build runs in), and
    /// beside the importing file and in `_sass/` for a file imported (the site's top is checked
    /// too), up to the first place where one of the names it looks for first is
    /// (``SassImports/looksFirst``); every file it may take there is checked, and the files they
    /// import in turn. An import whose name is
    /// known only as the file compiles, that may read a file outside the site (one is there),
    /// or that climbs after a directory (``SassImports/climbsAfterAPart(_:)``), Liquid in a
    /// page that may write one (``SassImports/liquid(_:)``), and a Sass file that cannot be
    /// read, fail the walked file with ``VerifyPolicy/requireSignature`` (as an unsigned file
    /// would fail), as do more than ``sassImportLimit`` files, or 4 times as many names
    /// (always: each is looked for in many places).
    /// Returns the reports added, and why walked files fail (by index; `always`, else with
    /// ``VerifyPolicy/requireSignature``).
    private func followSassImports(_ files: [RecordWalker.Found], _ sassFiles: [Int], walked: [[UInt8]: Int])
        -> (added: [RecordReport], failures: [(Int, String, Bool)]) {
        var added: [RecordReport] = []
        var failures: [(Int, String, Bool)] = []
        func fail(_ i: Int, _ why: String, _ always: Bool) { failures.append((i, why, always)) }
        var read: Set<[UInt8]> = [] // the files checked for an import, by path
        for i in sassFiles {
            guard let sitePath = files[i].sitePath, RecordWalker.endsWith(files[i].path, sitePath) else { continue }
            let top = String(decoding: files[i].path.utf8.dropLast(sitePath.utf8.count), as: UTF8.self)
            var pending = [(rel: sitePath, path: files[i].path)]
            var count = 0, names = 0
            following: while let (rel, path) = pending.popLast() {
                // One that cannot be read (too large, not a regular file) may be read by libsass.
                let bytes: [UInt8]
                do {
                    bytes = try FileSystem.readSmall(path, limit: RecordLimits.fileBytes, what: "a Sass file", regularOnly: true)
                } catch {
                    fail(i, "\(error.message); its @import rules not read", false)
                    continue
                }
                // A walked file Jekyll may render (a page, a post: with front matter or none) goes
                // through Liquid first, which may write imports: any markup but the site's URLs
                // fails, and the text is read as it is and with those rendered empty.
                var texts = [bytes]
                if path == files[i].path {
                    if let markup = SassImports.liquid(bytes) {
                        fail(i, "Liquid \"\(markup)\" in \(path), which Jekyll renders before Sass compiles it: the @import rules it may write are not read; not checked", false)
                    } else if let rendered = SassImports.renderedEmpty(bytes) {
                        texts.append(rendered)
                    }
                }
                // Where libsass looks, in turn, and whether it stops there at a name it looks for
                // first (``SassImports/looksFirst``): for a page or a post, which
                // jekyll-sass-converter compiles by its name alone, the directory the build runs
                // in (the site's top) and `_sass/`; for a file imported, the directory it lies in
                // and `_sass/` (and the site's top, checked but not stopped at).
                let here = rel.utf8.lastIndex(of: 0x2F).map { String(rel[..<$0]) } ?? ""
                let compiled = path == files[i].path && (RecordDocument.hasFrontMatter(bytes) || files[i].isPost)
                let bases: [(dir: String, stops: Bool)] = compiled || here.isEmpty ? [("", true), ("_sass", true)]
                    : here == "_sass" ? [("_sass", true), ("", false)] : [(here, true), ("", false), ("_sass", true)]
                var items: [SassImports.Item] = [], seen: Set<SassImports.Item> = []
                let indented = RecordWalker.endsWith(path, ".sass", caseless: true)
                for text in texts {
                    for item in text.withUnsafeBytes({ SassImports.scan($0, indented: indented) }) where seen.insert(item).inserted { items.append(item) }
                }
                for item in items {
                    let name: String
                    switch item {
                    case .variable(let text):
                        fail(i, "@import \"\(text)\" in \(path): a name known only as it compiles, or a list the gate does not read; not checked", false)
                        continue
                    case .unread:
                        fail(i, "\(path): @import rules too many or too long to read; not checked", false)
                        continue
                    case .name(let text):
                        names += 1
                        guard names <= 4 * Self.sassImportLimit else {
                            fail(i, "@import: more than \(4 * Self.sassImportLimit) names imported; not checked", true)
                            break following
                        }
                        guard !text.hasPrefix("/") else {
                            fail(i, "@import \"\(text)\" in \(path): a file outside the site; not checked", false)
                            continue
                        }
                        guard !SassImports.resolvesOtherwise(text) else {
                            fail(i, "@import \"\(text)\" in \(path): a name libsass may resolve otherwise (an empty or `.` part, a `:`); not checked", false)
                            continue
                        }
                        guard !SassImports.climbsAfterAPart(text) else {
                            fail(i, "@import \"\(text)\" in \(path): a `..` after a directory, which a link may lead elsewhere; not checked", false)
                            continue
                        }
                        name = text
                    }
                    for (base, stops) in bases {
                        var found = false // one that libsass looks for first is here: it looks no further
                        for (n, candidate) in SassImports.candidates(name).enumerated() {
                            let parts = RecordSigner.lexicalParts(base.isEmpty ? candidate : base + "/" + candidate)
                            guard !parts.isEmpty else { continue }
                            let targetRel = parts.joined(separator: "/")
                            let target = top + targetRel
                            var st = stat()
                            guard stat(target, &st) == 0 else {
                                if errno != ENOENT && errno != ENOTDIR { fail(i, "@import \"\(name)\" in \(path): \(target): \(FileSystem.errnoText())", true) }
                                continue
                            }
                            guard (st.st_mode & S_IFMT) != S_IFDIR else { continue }
                            if n < SassImports.looksFirst { found = true }
                            // A file there, above the site's top (`../x` from it): not checked.
                            guard parts.first != ".." else {
                                fail(i, "@import \"\(name)\" in \(path): \(target), a file outside the site; not checked", false)
                                continue
                            }
                            guard read.insert(Array(target.utf8)).inserted else { continue }
                            count += 1
                            guard count <= Self.sassImportLimit else {
                                fail(i, "@import: more than \(Self.sassImportLimit) files imported; not checked", true)
                                break following
                            }
                            if walked[Array(target.utf8)] == nil {
                                var none = Seen()
                                var report = verify(path: target, seenRegular: false, place: sitePlace(targetRel), publishing: false, seen: &none)
                                report.reason = (report.reason.map { $0 + "; " } ?? "") + "read into \(files[i].path) by @import \"\(name)\""
                                added.append(report)
                            }
                            if let (why, always) = rawSignatureProblem(target, place: sitePlace(targetRel)) {
                                fail(i, "@import \"\(name)\": \(why)", always)
                            }
                            pending.append((targetRel, target))
                        }
                        if found && stops { break }
                    }
                }
            }
        }
        return (added, failures)
    }

    /// The name of the first of Liquid's `scssify` and `sassify` filters the file at `path`
    /// holds (as a word anywhere: read whole, in pieces, whatever its size); nil when it holds
    /// neither, or is not a regular file that opens (its own check says so).
    static func sassFilter(in path: String) -> String? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let overlap = 6 // a word cut by a piece's end is found in the next
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: (1 << 20) + overlap, alignment: 16)
        defer { buffer.deallocate() }
        let base = buffer.baseAddress!
        var kept = 0
        while true {
            let n = read(fd, base + kept, buffer.count - kept)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            let filled = kept + n
            if let filter = sassFilter(in: UnsafeRawBufferPointer(start: base, count: filled)) { return filter }
            kept = min(overlap, filled)
            memmove(base, base + (filled - kept), kept)
        }
    }

    /// The name of the first of Liquid's `scssify` and `sassify` filters in `bytes`, as a word
    /// anywhere; nil when they hold neither. (Each word's `f`, found by `memchr`, then the word
    /// around it.)
    static func sassFilter(in bytes: UnsafeRawBufferPointer) -> String? {
        guard let base = bytes.baseAddress else { return nil }
        var from = 0
        while from < bytes.count, let hit = memchr(base + from, 0x66, bytes.count - from) {
            let at = base.distance(to: UnsafeRawPointer(hit))
            from = at + 1
            guard at >= 5, at + 2 <= bytes.count else { continue }
            let start = base + (at - 5)
            if memcmp(start, "scssify", 7) == 0 { return "scssify" }
            if memcmp(start, "sassify", 7) == 0 { return "sassify" }
        }
        return nil
    }

    static func sassFilterReason(_ filter: String, _ path: String) -> String {
        "Liquid's \(filter) filter in \(path) compiles Sass whose imports are not read; not checked"
    }

    /// Why the file at `path`, which Jekyll reads into pages as it is (`include`,
    /// `include_relative`: front matter included), is not authenticated byte for byte; nil when
    /// it is, or has no front matter (then a detached signature is what its own check reads). A
    /// record's embedded signature covers its canonical form, so a YAML comment added to its
    /// front matter keeps it valid and is published: such a file needs a detached `FILE.minisig`
    /// that passes. `always`: that signature is there and does not pass (without it, the file
    /// counts as unsigned does, failing only with ``VerifyPolicy/requireSignature``).
    private func rawSignatureProblem(_ path: String, place: TrustPolicy.Place) -> (why: String, always: Bool)? {
        var prefix = [UInt8](repeating: 0, count: 4096)
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil } // its own check reports what cannot be read
        let n = prefix.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard n > 0, RecordDocument.hasFrontMatter(Array(prefix[..<n]), isPrefix: true) else { return nil }
        let signature = path + ".minisig"
        guard access(signature, F_OK) == 0 else {
            return ("\(path) has front matter, which Jekyll reads into pages as it is and its record signature does not cover: "
                    + "sign it detached (\(signature))", false)
        }
        do {
            // Read only as a regular file (a FIFO would block the gate).
            let r = try Self.verifyDetached(file: path, signatureFile: signature, policy: policy.trust, allowLegacy: false, place: place, found: true)
            return r.outcome == .valid ? nil : ("\(signature): \(r.outcome.rawValue)" + (r.reason.map { ": \($0)" } ?? ""), true)
        } catch {
            return (error.message, true) // (the message names the file)
        }
    }

    /// What the gate learns of a file as it verifies it (``verifyForPublishing(_:jobs:progress:)``).
    struct Seen {
        /// Its `include_relative` tags; nil when it has none and is not too large to tell, or
        /// was not read.
        var includes: IncludeRelative.Scan?
        /// Whether a walked file has a `FILE.minisig` beside it.
        var signedBeside = false
        var sassFilter = SassFilterSeen.notLooked
    }

    /// Liquid's Sass filter a file holds, looked for in the bytes read to verify it.
    enum SassFilterSeen {
        /// Not looked for: not read whole, or not needed (without ``VerifyPolicy/requireSignature``).
        case notLooked
        case absent
        case found(String)

        /// The filter found, or when not looked for, the one ``sassFilter(in:)`` reads in `path`.
        func filter(orReading path: String) -> String? {
            switch self {
            case .notLooked: RecordVerifier.sassFilter(in: path)
            case .absent: nil
            case .found(let filter): filter
            }
        }
    }

    /// Verifies every file on `jobs` threads, with, when `publishing`, what the gate learns of
    /// each (all ``Seen`` empty without it; a file's `FILE.minisig` looked for on the same
    /// threads, a lookup each).
    private func verifyEach(_ files: [RecordWalker.Found], jobs: Int, progress: (@Sendable (Int) -> Void)?,
                            publishing: Bool) -> (reports: [RecordReport], seen: [Seen]) {
        // One slot per file, each written by exactly one worker; `concurrentPerform` returning
        // orders every write before the reads below. (No lock: ThreadSanitizer cannot see the
        // futex inside Synchronization's Mutex and reported its users as racing.)
        let slots = UnsafeMutableBufferPointer<RecordReport?>.allocate(capacity: files.count)
        slots.initialize(repeating: nil)
        defer { slots.deinitialize().deallocate() }
        let seenSlots = UnsafeMutableBufferPointer<Seen>.allocate(capacity: files.count)
        seenSlots.initialize(repeating: Seen())
        defer { seenSlots.deinitialize().deallocate() }
        nonisolated(unsafe) let results = slots
        nonisolated(unsafe) let seen = seenSlots
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, files.count))) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                guard i < files.count else { break }
                let file = files[i]
                if file.kind == .regular {
                    results[i] = verify(path: file.path, seenRegular: true, place: sitePlace(file.sitePath),
                                        staticLink: file.isLink && !file.readRaw && !file.inLayoutsOrIncludes && !file.isPost,
                                        publishing: publishing, seen: &seen[i])
                    if publishing && !file.readRaw && !file.named { seen[i].signedBeside = access(file.path + ".minisig", F_OK) == 0 }
                } else {
                    results[i] = RecordReport(path: file.path, pathIsEscaped: file.kind == .undecodableName, outcome: .malformed, passed: false,
                                              reason: file.notReadReason + " (not opened)")
                }
                let n = done.add(1, ordering: .relaxed).newValue
                if n % 256 == 0 { progress?(n) }
            }
        }
        return (slots.compactMap { $0 }, Array(seenSlots))
    }
}

/// Checks whether `secured` blobs decrypt with one named key (`verify --check-decrypt`); the
/// key's secrets are unsealed once and shared by every thread.
public struct SecuredDecryptChecker: Sendable {
    private let kind: KeyKind
    private var isContentKey: Bool { kind == .content }
    private let keys: [(id: KeyIdentifier?, secret: SecretBytes)]
    /// A legacy key's versions, as a v1 blob is tried with them (``Keyring/legacyKeys(_:)``).
    private let legacyKeys: [(version: Int, active: Bool, secret: SecretBytes)]

    /// The active versions of key `name` in `keyring` (a content key), every version of a
    /// legacy key (see ``Keyring/soleLegacyFit(_:keyName:discard:_:)``), or every version of an
    /// identity (a retired identity still opens what was sealed to it).
    public init(keyring: Keyring, keyName name: String) throws(AvaultError) {
        let all = keyring.versions(of: name)
        let versions = all.first?.algorithm.kind == .identity ? all : all.filter { $0.retired == nil }
        guard let first = versions.first else { throw keyring.noSuchKey(name) }
        guard [.content, .legacy, .identity].contains(first.algorithm.kind) else {
            throw .wrongKeyKind(key: name, kind: first.algorithm.kind, use: .blobCheck)
        }
        var keys: [(id: KeyIdentifier?, secret: SecretBytes)] = []
        switch first.algorithm.kind {
        case .identity: for secret in try keyring.ageIdentities(named: name) { keys.append((nil, secret)) }
        case .legacy: break
        default: for v in versions.reversed() { keys.append((v.id, try keyring.secret(of: v))) }
        }
        self.keys = keys
        self.legacyKeys = first.algorithm.kind == .legacy ? try keyring.legacyKeys(name) : []
        self.kind = first.algorithm.kind
    }

    /// Whether `blob` decrypts with one of the key's versions. A v1 blob needs `legacy`
    /// (without it the answer is false and nothing is decrypted), and decrypts only under a
    /// version that alone fits it (as every command decrypts one).
    public func decrypts(_ blob: SecuredBlob, context: String, legacy: LegacyAuthorization?) -> Bool {
        switch blob {
        case .v2(let kid, _, _):
            guard isContentKey, let k = keys.first(where: { $0.id == .content(kid) }) else { return false }
            return (try? SecuredField.decrypt(blob, key: k.secret, context: context)) != nil
        case .v1:
            guard kind == .legacy, let legacy else { return false }
            let opened = try? Keyring.soleLegacyFit(legacyKeys, keyName: "", discard: { wipe(&$0) }) { key in
                try? SecuredField.decrypt(blob, key: key, context: context, legacy: legacy)
            }
            guard var plaintext = opened ?? nil else { return false }
            wipe(&plaintext)
            return true
        case .v3:
            guard kind == .identity else { return false }
            guard var opened = try? SecuredField.decryptV3(blob, identities: keys.map(\.secret), context: context, file: nil) else { return false }
            wipe(&opened)
            return true
        }
    }
}
