#if canImport(Glibc)
import Glibc
#endif
internal import CLinux
internal import VaultFormat

/// Jekyll's `include_relative` tag, as a publishing gate must see it: the tag reads a file into
/// the page being rendered, and a signature over the page covers only the tag, not what it
/// reads. Jekyll 4.3 (`Jekyll::Tags::IncludeRelativeTag`) resolves the name against the
/// directory of the page being rendered (`File.dirname(page["path"])`, under `collections_dir`
/// for a document of a collection: the page's own place in the site), also when the tag is
/// in a layout or an include (they render in the page's context); reads the file whole, front
/// matter included; and renders it as Liquid, so that its own tags read further files against
/// the same page's directory. A file Jekyll renders itself (a page, a post or another document,
/// a layout) has its front matter read off as data first, which Liquid never renders
/// (``Scan/rendered``).
enum IncludeRelative {
    /// One `include_relative` tag in a file's text.
    struct Tag: Sendable, Equatable {
        /// The file name as written (the markup's first word), or the whole markup when the
        /// tag cannot be followed.
        var name: String
        /// Why the tag cannot be followed (a name from a Liquid variable, a name Jekyll
        /// refuses, none at all); nil for a name to resolve.
        var problem: Problem?
    }

    enum Problem: Sendable, Equatable {
        /// The name holds `{{`: Jekyll renders it first, in the page's context.
        case variable
        /// No name, or one Jekyll refuses (`VALID_FILENAME_CHARS`, `INVALID_SEQUENCES`).
        case invalid
    }

    /// What a scan of a file's bytes found.
    struct Scan: Sendable {
        /// The tags of the whole file, as `include` and `include_relative` read it into a page
        /// and render it: front matter included.
        var tags: [Tag]
        /// From ``scan(file:complete:)``: the tags after the file's front matter, those Jekyll
        /// runs when it renders the file itself (a page, a document, a layout), as it takes the
        /// front matter for data (`{{ page.description }}` outputs a tag in it as text); nil
        /// when they are ``tags``: no front matter found, or no tag.
        var rendered: [Tag]?
        /// Whether the whole file was scanned (not only the first bytes of one over
        /// ``RecordLimits/fileBytes``).
        var complete: Bool
    }

    static let tagName = Array("include_relative".utf8)

    /// ``scan(_:complete:)`` of a file's bytes, with ``Scan/rendered`` when the file has front
    /// matter where the gate finds a record's (``RecordDocument/locate(_:)``, with the quirks of
    /// Jekyll's `YAML_FRONT_MATTER_REGEXP` it knows: CRLF, a `...` closing line, trailing
    /// whitespace). A file it refuses (a byte order mark, a form feed on the opening line, no
    /// closing line) has all its tags rendered, failing closed. The body is scanned on its own,
    /// not the whole file's tags picked by place: a tag in the front matter with no `%}` before
    /// the closing line runs on over a tag of the body, and a `{% liquid` tag there makes no
    /// line of the body a tag. Only a file with tags is scanned twice (its body has none
    /// otherwise), so that the gate's speed does not change.
    static func scan(file bytes: UnsafeRawBufferPointer, complete: Bool) -> Scan {
        var found = scan(bytes, complete: complete)
        guard !found.tags.isEmpty, let body = bodyStart(bytes) else { return found }
        found.rendered = scan(UnsafeRawBufferPointer(rebasing: bytes[body...]), complete: complete).tags
        return found
    }

    /// Where the body of a file with front matter starts (past its closing fence line), as
    /// ``RecordDocument/locate(_:)`` finds it; nil for a file it finds no front matter in.
    static func bodyStart(_ bytes: UnsafeRawBufferPointer) -> Int? {
        (try? RecordDocument.locate(bytes.bindMemory(to: UInt8.self)))?.bodyStart
    }

    /// The `include_relative` tags in `bytes`: nothing but a `memchr` for a file without a `%`,
    /// which every tag is in (`{%`), and a `memmem` for one without the tag's name (most files),
    /// so that the gate's speed does not change (the `memmem` alone cost 0.3% of `verify`'s
    /// instructions on the bench's records, which have no `%`).
    ///
    /// A tag is the name after `{%` (or `{%-`) and whitespace, its markup running to the next
    /// `%}` (a `-` before it is whitespace control); or, in a file with a `{% liquid` tag
    /// (Liquid 5, which Jekyll 4.3 runs, reads one tag a line there, with no `{%`), the name
    /// first on a line or right after `liquid`, its markup running to the line's end. The name
    /// ends where Liquid's `\w+` ends. Tags inside `{% raw %}` or `{% comment %}` are taken
    /// too (failing closed: Jekyll does not run them, but a missing target fails the page).
    static func scan(_ bytes: UnsafeRawBufferPointer, complete: Bool) -> Scan {
        var tags: [Tag] = []
        guard let base = bytes.baseAddress, bytes.count >= tagName.count, memchr(base, 0x25, bytes.count) != nil else {
            return Scan(tags: [], complete: complete)
        }
        let b = bytes.bindMemory(to: UInt8.self)
        var liquidTag: Bool?
        var from = 0
        while from < b.count {
            let found = tagName.withUnsafeBytes { name in memmem(base + from, b.count - from, name.baseAddress!, name.count) }
            guard let found else { break }
            let at = base.distance(to: UnsafeRawPointer(found))
            from = at + 1
            let end = at + tagName.count
            // Liquid's tag name is `\w+`: `include_relative_x` is another tag.
            if end < b.count, isWord(b[end]) { continue }
            if at > 0, isWord(b[at - 1]) { continue }
            var i = at
            while i > 0, isSpace(b[i - 1]) { i -= 1 }
            let delimited: Bool
            if tagOpens(b, before: i) {
                delimited = true
            } else {
                // In a `{% liquid` tag: first on its line, or the first line's tag.
                if liquidTag == nil { liquidTag = hasLiquidTag(b) }
                guard liquidTag == true else { continue }
                var lineStart = at
                // Liquid strips a line with Ruby's `\s`: a form feed or vertical tab too.
                while lineStart > 0, isSpace(b[lineStart - 1]), b[lineStart - 1] != 0x0A { lineStart -= 1 }
                let afterLiquid = i >= 6 && Array(b[(i - 6)..<i]) == Array("liquid".utf8) && i < at && tagOpens(b, before: skipSpace(b, before: i - 6))
                guard lineStart == 0 || b[lineStart - 1] == 0x0A || b[lineStart - 1] == 0x0D || afterLiquid else { continue }
                delimited = false
            }
            // The markup: to `%}` (or, in a `{% liquid` tag, to the line's end, or `%}` before it).
            var stop = end
            while stop < b.count {
                if stop + 1 < b.count, b[stop] == 0x25, b[stop + 1] == 0x7D { break }
                if !delimited, b[stop] == 0x0A { break }
                stop += 1
            }
            var markupEnd = stop
            if delimited, stop < b.count, markupEnd > end, b[markupEnd - 1] == 0x2D { markupEnd -= 1 }
            let markup = Array(b[end..<markupEnd])
            tags.append(tag(markup))
            from = max(from, stop)
        }
        return Scan(tags: tags, complete: complete)
    }

    /// The tag for `markup`, as `IncludeTag#initialize` and `#validate_file_name` read it.
    static func tag(_ markup: [UInt8]) -> Tag {
        let trimmed = markup.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
        let text = String(decoding: trimmed, as: UTF8.self)
        if text.utf8.count >= 2, zip(trimmed, trimmed.dropFirst()).contains(where: { $0 == 0x7B && ($1 == 0x7B || $1 == 0x25) }) {
            return Tag(name: text, problem: .variable)
        }
        let name = Array(trimmed.prefix { !isSpace($0) })
        let invalid = name.isEmpty || !name.allSatisfy(isNameByte)
            || zip(name, name.dropFirst()).contains { ($0 == 0x2E || $0 == 0x2F) && ($1 == 0x2E || $1 == 0x2F) }
        return Tag(name: String(decoding: name.isEmpty ? Array(trimmed) : name, as: UTF8.self), problem: invalid ? .invalid : nil)
    }

    /// Ruby's `\w` (ASCII: Ruby's is not Unicode-aware).
    static func isWord(_ c: UInt8) -> Bool {
        (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x5F
    }

    /// Ruby's `\s`: space, tab, line feed, vertical tab, form feed, carriage return.
    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (0x09...0x0D).contains(c) }

    /// Jekyll's `VALID_FILENAME_CHARS`, `[\w/.\-()+~#@]`.
    static func isNameByte(_ c: UInt8) -> Bool { isWord(c) || Array("/.-()+~#@".utf8).contains(c) }

    /// Whether `{%` or `{%-` ends just before `i`.
    private static func tagOpens(_ b: UnsafeBufferPointer<UInt8>, before i: Int) -> Bool {
        var j = i
        if j > 0, b[j - 1] == 0x2D { j -= 1 }
        return j >= 2 && b[j - 2] == 0x7B && b[j - 1] == 0x25
    }

    private static func skipSpace(_ b: UnsafeBufferPointer<UInt8>, before i: Int) -> Int {
        var j = i
        while j > 0, isSpace(b[j - 1]) { j -= 1 }
        return j
    }

    /// Whether the text holds a `{% liquid` (or `{%- liquid`) tag.
    private static func hasLiquidTag(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let word = Array("liquid".utf8)
        var i = 0
        while i + 2 <= b.count {
            if b[i] == 0x7B, b[i + 1] == 0x25 {
                var j = i + 2
                if j < b.count, b[j] == 0x2D { j += 1 }
                while j < b.count, isSpace(b[j]) { j += 1 }
                if j + word.count <= b.count, Array(b[j..<(j + word.count)]) == word, j + word.count == b.count || !isWord(b[j + word.count]) {
                    return true
                }
            }
            i += 1
        }
        return false
    }
}
