/// A `.avault-recipients` file: who the drafts under a directory are sealed to (docs/formats.md
/// §1.7). Either one list of recipients for every record, or `path-glob:` sections tried in
/// order, the first whose glob matches the record's path giving its recipients.
public struct RecipientRules: Equatable, Sendable {
    /// The file's name.
    public static let fileName = ".avault-recipients"
    /// What starts a section line.
    public static let sectionPrefix = "path-glob:"

    /// One list of recipients and the paths it is for.
    public struct Section: Equatable, Sendable {
        /// The glob (nil: the file has no sections, and its recipients are for every path).
        public var glob: String?
        /// The line the section starts on (1-based; the first recipient's line when there is no glob).
        public var line: Int
        /// The X25519 public keys, in order, without repeats.
        public var recipients: [[UInt8]]
    }

    /// The sections, in file order.
    public var sections: [Section]

    /// Parses a rules file (UTF-8; lines end in LF, one CR before it dropped; spaces and tabs
    /// around a line ignored; empty lines and `#` lines skipped). Throws
    /// ``FormatError/invalidRecipientsFile(_:line:)`` naming the line.
    public init(parsing bytes: [UInt8]) throws(FormatError) {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidRecipientsFile("not UTF-8", line: nil) }
        var sections: [Section] = []
        var lineNumber = 0
        for raw in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            while let c = line.first, c == " " || c == "\t" { line = line.dropFirst() }
            while let c = line.last, c == " " || c == "\t" { line = line.dropLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix(Self.sectionPrefix) {
                if let open = sections.last, open.glob == nil {
                    throw .invalidRecipientsFile("recipients before the first '\(Self.sectionPrefix)' line (in a file with sections, each recipient belongs to one)", line: open.line)
                }
                if let open = sections.last, open.recipients.isEmpty {
                    throw .invalidRecipientsFile("the section has no recipients", line: open.line)
                }
                var glob = line.dropFirst(Self.sectionPrefix.count)
                guard let c = glob.first, c == " " || c == "\t" else {
                    throw .invalidRecipientsFile("expected '\(Self.sectionPrefix) GLOB'", line: lineNumber)
                }
                while let c = glob.first, c == " " || c == "\t" { glob = glob.dropFirst() }
                if let problem = Self.globProblem(glob) { throw .invalidRecipientsFile(problem, line: lineNumber) }
                sections.append(Section(glob: String(glob), line: lineNumber, recipients: []))
                continue
            }
            let key: [UInt8]
            do throws(AgeKeys.Problem) { key = try AgeKeys.parseRecipient(String(line)) } catch {
                throw .invalidRecipientsFile("not an age X25519 recipient (age1…) nor a '\(Self.sectionPrefix) GLOB' line", line: lineNumber)
            }
            if sections.isEmpty { sections.append(Section(glob: nil, line: lineNumber, recipients: [])) }
            if !sections[sections.count - 1].recipients.contains(key) { sections[sections.count - 1].recipients.append(key) }
        }
        guard let last = sections.last else { throw .invalidRecipientsFile("no recipients", line: nil) }
        if last.recipients.isEmpty { throw .invalidRecipientsFile("the section has no recipients", line: last.line) }
        self.sections = sections
    }

    /// The first section for `path` (relative to the file's directory, `/`-separated), or nil
    /// when no glob matches it.
    public func section(for path: String) -> Section? {
        sections.first { $0.glob.map { Self.glob($0, matches: path) } ?? true }
    }

    /// Why `glob` is not a valid glob, or nil: it is relative, has no empty, `.` or `..`
    /// segment, and none of the reserved characters `[ ] { } \` and no whitespace.
    public static func globProblem(_ glob: Substring) -> String? {
        if glob.isEmpty { return "the glob is empty" }
        if glob.hasPrefix("/") { return "the glob must be relative to the file's directory (no leading '/')" }
        if let c = glob.first(where: { "[]{}\\".contains($0) }) { return "'\(c)' is reserved in a glob" }
        if glob.contains(where: { $0.isWhitespace }) { return "a glob cannot hold whitespace" }
        for segment in glob.unicodeScalars.split(separator: "/", omittingEmptySubsequences: false).map(Substring.init) {
            if segment.isEmpty { return "the glob has an empty path segment" }
            if segment == "." || segment == ".." { return "the glob has a '\(segment)' segment" }
        }
        return nil
    }

    /// Whether `glob` matches `path`, segment by segment: `**` as a whole segment matches zero
    /// or more segments; in a segment, `*` matches any run of code points (none included) and
    /// `?` one code point, never a `/`; every other code point matches itself. A leading `.` is
    /// not special. Matched by Unicode scalars, as the file system names files by their bytes:
    /// a `Character` would take a `/` followed by a combining mark for another character (so
    /// `investigations/\u{301}leak.md` escaped `investigations/**`), and names that differ only
    /// in normalisation for one name.
    public static func glob(_ glob: String, matches path: String) -> Bool {
        let g = glob.unicodeScalars.split(separator: "/", omittingEmptySubsequences: false).map { Array($0) }
        let p = path.unicodeScalars.split(separator: "/", omittingEmptySubsequences: false).map { Array($0) }
        // matched[i][j]: g[i...] matches p[j...]
        var memo: [Int: Bool] = [:]
        func match(_ i: Int, _ j: Int) -> Bool {
            let key = i * (p.count + 1) + j
            if let known = memo[key] { return known }
            let result: Bool
            if i == g.count {
                result = j == p.count
            } else if g[i] == ["*", "*"] {
                result = match(i + 1, j) || (j < p.count && match(i, j + 1))
            } else {
                result = j < p.count && segment(g[i], p[j]) && match(i + 1, j + 1)
            }
            memo[key] = result
            return result
        }
        return match(0, 0)
    }

    /// Whether the glob segment `g` matches the path segment `s`.
    static func segment(_ g: [Unicode.Scalar], _ s: [Unicode.Scalar]) -> Bool {
        var gi = 0, si = 0, star = -1, mark = 0
        while si < s.count {
            if gi < g.count, g[gi] == "?" || (g[gi] != "*" && g[gi] == s[si]) {
                gi += 1; si += 1
            } else if gi < g.count, g[gi] == "*" {
                star = gi; mark = si; gi += 1
            } else if star >= 0 {
                gi = star + 1; mark += 1; si = mark
            } else {
                return false
            }
        }
        while gi < g.count, g[gi] == "*" { gi += 1 }
        return gi == g.count
    }
}
