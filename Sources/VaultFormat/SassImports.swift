/// Sass's `@import`, as a publishing gate must see it: jekyll-sass-converter (libsass) reads
/// each file an import names into the published CSS, whatever its name and wherever it lies in
/// the site (hidden, without an extension, in a directory left out with `--exclude`), and a
/// signature over the importing file covers only the import. So each file an import may read
/// is checked like any other (the gate, `RecordVerifier.verifyForPublishing` in ArticleVault,
/// looks at each: this is the pure reading of the text, fuzzed as `sass-imports`).
///
/// The scan over-approximates, failing closed: every `@import` in the text is followed,
/// comments and strings included (a file a commented-out import names must pass too when it is
/// there), and every file libsass may take for a name (``candidates(_:)``) is checked.
public enum SassImports {
    /// One name an `@import` gives.
    public enum Item: Hashable, Sendable {
        /// A name to resolve (quotes and escapes as written; never a plain CSS import).
        case name(String)
        /// A name known only when the file is rendered or compiled (`#{…}` interpolation, a
        /// Liquid `{{`/`{%` in a page Jekyll renders first), or a list the scan does not read
        /// (shown from its start): not checked.
        case variable(String)
        /// Lists too long to read (``scanWork``): what follows is not read.
        case unread
    }

    /// The names the `@import` rules in `bytes` give, in order, read strictly: after
    /// `@import`, a list of items separated by commas, with blanks and comments (`/* … */`,
    /// `// …` to the line's end) around them, up to a `;`, a `}` or the text's end (in the
    /// indented syntax, `indented`: on one line, no comment, to its end). An item is a quoted
    /// name (on one line, no backslash), `url(…)` (a quoted name so, or a URL with no blank,
    /// quote, parenthesis or backslash in it), or, in the indented syntax only, a bare name (to
    /// a comma or the line's end, with none of `"'(){};\`, `/*`, `//` or a control byte but a tab). A name that is a
    /// plain CSS import (`url(…)`, ending `.css`, a URL: Sass leaves it to the browser, which
    /// loads it from the published site) is left out; one with `#{` (Sass interpolation) or a
    /// Liquid `{{`/`{%` is ``Item/variable(_:)``. Anything else, where libsass's lexers and a
    /// scan may part ways (a string over a line break, `url(a(b))`, `url-x(`, a media query,
    /// a NUL), is ``Item/variable(_:)`` too, failing closed. Every `@import` in the text is
    /// read so, in comments and strings too: `/* @import "x */ @import "y";` imports `y`.
    /// Lists that read more than ``scanWork`` times the text end the scan with
    /// ``Item/unread``.
    public static func scan(_ bytes: UnsafeRawBufferPointer, indented: Bool = false) -> [Item] {
        let keyword = Array("@import".utf8)
        var items: [Item] = []
        let n = bytes.count
        // What the lists read, in all (each may run to the text's end: a quadratic scan of
        // an unclosed comment after each of many `@import`s would hold the gate for days).
        var work = 0
        let workLimit = scanWork * n + (1 << 20)
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || !indented && (b == 0x0A || b == 0x0D || b == 0x0C) }
        /// Past blanks and comments from `i`; false at a comment that does not close (or any
        /// comment, in the indented syntax).
        func skipBlank(_ i: inout Int) -> Bool {
            while i < n {
                if isBlank(bytes[i]) {
                    i += 1
                } else if bytes[i] == 0x2F, i + 1 < n, bytes[i + 1] == 0x2A || bytes[i + 1] == 0x2F {
                    guard !indented else { return false }
                    if bytes[i + 1] == 0x2F { // `// …`
                        while i < n, bytes[i] != 0x0A, bytes[i] != 0x0D, bytes[i] != 0x0C { i += 1 }
                        continue
                    }
                    i += 2 // `/* … */`
                    while i < n, !(bytes[i] == 0x2A && i + 1 < n && bytes[i + 1] == 0x2F) { i += 1 }
                    guard i < n else { return false }
                    i += 2
                } else {
                    return true
                }
            }
            return true
        }
        /// The quoted name at `i`, past its closing quote; nil for one that does not close on
        /// its line, or holds a backslash or a NUL.
        func quoted(_ i: inout Int) -> [UInt8]? {
            let quote = bytes[i]
            var text: [UInt8] = []
            i += 1
            while i < n, bytes[i] != quote {
                guard ![0x0A, 0x0D, 0x0C, 0x5C, 0x00].contains(bytes[i]) else { return nil }
                text.append(bytes[i])
                i += 1
            }
            guard i < n else { return nil }
            i += 1
            return text
        }
        func add(_ text: [UInt8]) {
            let name = String(decoding: text, as: UTF8.self)
            if name.contains("#{") || name.contains("{{") || name.contains("{%") {
                items.append(.variable(name))
            } else if !isPlainCSS(name) {
                items.append(.name(name))
            }
        }
        /// The list's text from `start`, shown (to the line's end, up to 60 bytes).
        func shown(_ start: Int) -> String {
            let line = bytes[start..<min(n, start + 60)].prefix { $0 != 0x0A && $0 != 0x0D }.drop { $0 == 0x20 || $0 == 0x09 }
            return String(decoding: line, as: UTF8.self)
        }
        var at = 0
        while at + keyword.count <= n {
            guard bytes[at] == 0x40, (0..<keyword.count).allSatisfy({ bytes[at + $0] == keyword[$0] }) else { at += 1; continue }
            at += keyword.count
            var i = at
            defer { work += i - at }
            list: while true {
                guard skipBlank(&i), i < n else { items.append(.variable(shown(at))); break list }
                if bytes[i] == 0x22 || bytes[i] == 0x27 { // a quoted name
                    guard let text = quoted(&i) else { items.append(.variable(shown(at))); break list }
                    add(text)
                } else if n - i >= 4, bytes[i] == 0x75, bytes[i + 1] == 0x72, bytes[i + 2] == 0x6C, bytes[i + 3] == 0x28 { // `url(…)`
                    i += 4
                    while i < n, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
                    if i < n, bytes[i] == 0x22 || bytes[i] == 0x27 {
                        guard let text = quoted(&i), !text.contains(0x23) else { items.append(.variable(shown(at))); break list }
                        while i < n, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
                    } else {
                        while i < n, !(bytes[i] == 0x29 || bytes[i] <= 0x20 || [0x22, 0x27, 0x28, 0x5C, 0x23, 0x7F].contains(bytes[i])) { i += 1 }
                        while i < n, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
                    }
                    guard i < n, bytes[i] == 0x29 else { items.append(.variable(shown(at))); break list }
                    i += 1
                } else if indented { // a bare name, to a comma or the line's end
                    var text: [UInt8] = []
                    while i < n, bytes[i] != 0x2C, bytes[i] != 0x0A, bytes[i] != 0x0D {
                        if bytes[i] == 0x2F, i + 1 < n, bytes[i + 1] == 0x2A || bytes[i + 1] == 0x2F { break }
                        text.append(bytes[i])
                        i += 1
                    }
                    while let last = text.last, last == 0x20 || last == 0x09 { text.removeLast() }
                    // (No control byte but a tab: sass2scss trims a vertical tab as a blank.)
                    guard !text.isEmpty, !text.contains(where: { [0x22, 0x27, 0x28, 0x29, 0x7B, 0x7D, 0x3B, 0x5C, 0x7F].contains($0) || $0 < 0x20 && $0 != 0x09 }) else {
                        items.append(.variable(shown(at)))
                        break list
                    }
                    add(text)
                } else {
                    items.append(.variable(shown(at)))
                    break list
                }
                guard skipBlank(&i) else { items.append(.variable(shown(at))); break list }
                if i < n, bytes[i] == 0x2C { i += 1; continue list }
                // The list's end: `;`, `}`, the text's (or, indented, the line's) end.
                if i == n || bytes[i] == 0x3B || bytes[i] == 0x7D || indented && (bytes[i] == 0x0A || bytes[i] == 0x0D) { break list }
                items.append(.variable(shown(at)))
                break list
            }
            if work + (i - at) > workLimit {
                items.append(.unread)
                return items
            }
        }
        return items
    }

    /// How many times its length a text's `@import` lists may read, in all (``scan(_:indented:)``).
    public static let scanWork = 16

    /// Whether Sass leaves an import of `name` to the browser: a name ending `.css` (after at
    /// least one byte: libsass imports a file named `.css`), or a URL.
    public static func isPlainCSS(_ name: String) -> Bool {
        name.utf8.count > 4 && name.utf8.suffix(4).elementsEqual(".css".utf8) || name.hasPrefix("http://") || name.hasPrefix("https://") || name.hasPrefix("//")
    }

    /// The paths, relative to a directory libsass looks in, that it may read for `name`: the
    /// name as written and as a partial (`_` before its last part), each with `.scss`, `.sass`
    /// and `.css` (the first ``looksFirst``: libsass looks for these in each directory before
    /// any other, and takes the first directory where one is), then with no extension, and the
    /// index files of a directory so named (`name/_index.scss`, …). Taking more than libsass
    /// reads only checks more.
    public static func candidates(_ name: String) -> [String] {
        let cut = name.utf8.lastIndex(of: 0x2F)
        let dir = cut.map { String(name[..<$0]) + "/" } ?? ""
        let base = cut.map { String(name[name.utf8.index(after: $0)...]) } ?? name
        let stems = [dir + base, dir + "_" + base], extensions = [".scss", ".sass", ".css"]
        var out = stems.flatMap { stem in extensions.map { stem + $0 } } + stems
        for index in ["index", "_index"] {
            for ext in extensions { out.append(name + "/" + index + ext) }
        }
        return out
    }

    /// The first Liquid markup in `bytes` (the text of a Sass page, which Jekyll renders before
    /// Sass compiles what it writes) that may write an `@import` the scan cannot see: any `{%`
    /// tag (`{% include x %}` pastes a file in) and any `{{ … }}` but `{{ site.baseurl }}` and
    /// `{{ site.url }}` (a URL the site's configuration gives); nil when there is none.
    public static func liquid(_ bytes: [UInt8]) -> String? {
        switch markup(bytes) {
        case .other(let shown): shown
        case .allowed: nil
        }
    }

    /// `bytes` with each `{{ site.baseurl }}` and `{{ site.url }}` taken out (rendered empty,
    /// as for a site at the top of its host: `@imp{{ site.baseurl }}ort` is an `@import`), with
    /// the blanks (and NULs) `{{-` and `-}}` trim; a value the configuration gives is not
    /// put in (the strict reading of ``scan(_:indented:)`` fails what it could make odd);
    /// nil when there is none (or other markup, which ``liquid(_:)`` fails).
    public static func renderedEmpty(_ bytes: [UInt8]) -> [UInt8]? {
        guard case .allowed(let ranges) = markup(bytes), !ranges.isEmpty else { return nil }
        var out: [UInt8] = []
        var from = 0
        for range in ranges {
            out += bytes[from..<range.lowerBound]
            from = range.upperBound
        }
        return out + bytes[from...]
    }

    private enum Markup {
        /// Other markup, shown (its first line, up to 40 bytes).
        case other(String)
        /// Only the site's URLs, where they are.
        case allowed([Range<Int>])
    }

    private static func markup(_ bytes: [UInt8]) -> Markup {
        let allowed: Set<[UInt8]> = [Array("site.baseurl".utf8), Array("site.url".utf8)]
        // (What Ruby's `strip` takes away, as Liquid's `{{-`/`-}}` do: a NUL too.)
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) || b == 0 }
        var ranges: [Range<Int>] = []
        var i = 0
        while i + 1 < bytes.count {
            defer { i += 1 }
            guard bytes[i] == 0x7B, bytes[i + 1] == 0x25 || bytes[i + 1] == 0x7B else { continue }
            let end = bytes[(i + 2)...].firstIndex(of: 0x7D) ?? bytes.count
            let line = bytes[i..<min(bytes.count, end + 2, i + 40)]
            let shown = String(decoding: line.prefix { $0 != 0x0A && $0 != 0x0D }, as: UTF8.self)
            guard bytes[i + 1] == 0x7B, end + 1 < bytes.count, bytes[end + 1] == 0x7D else { return .other(shown) }
            var inner = bytes[(i + 2)..<end]
            inner = inner.drop { $0 == 0x2D || isSpace($0) } // `{{- x -}}` trims blanks
            while let last = inner.last, last == 0x2D || isSpace(last) { inner = inner.dropLast() }
            guard allowed.contains(Array(inner)) else { return .other(shown) }
            // `{{-` and `-}}` take the blanks before and after away too.
            var from = i, to = end + 2
            if bytes[i + 2] == 0x2D { while from > 0, isSpace(bytes[from - 1]) { from -= 1 } }
            if bytes[end - 1] == 0x2D, end - 1 > i + 2 { while to < bytes.count, isSpace(bytes[to]) { to += 1 } }
            if let last = ranges.last, from < last.upperBound { from = last.upperBound }
            ranges.append(from..<to)
            i = to - 1
        }
        return .allowed(ranges)
    }

    /// How many of ``candidates(_:)`` libsass looks for first in each directory.
    public static let looksFirst = 6

    /// Whether `name` has a `..` after another part (`lib/../colors`): libsass folds only the
    /// `../` it starts with, and the system resolves the rest, through `lib` where `lib` is a
    /// link, where the walk would fold it (and check another file).
    public static func climbsAfterAPart(_ name: String) -> Bool {
        name.split(separator: "/").drop { $0 == ".." || $0 == "." }.contains("..")
    }

    /// Whether libsass may resolve `name` otherwise than by its parts from a directory it
    /// looks in: an empty part (`.//tmp/x` is `/tmp/x` to it), a `.` part but a leading one
    /// (`x/.` is `x`), or a `:` (`x:/y` is absolute to it, as a URL's scheme).
    public static func resolvesOtherwise(_ name: String) -> Bool {
        let parts = name.utf8.split(separator: 0x2F, omittingEmptySubsequences: false)
        return name.utf8.contains(0x3A) || parts.contains { $0.isEmpty }
            || parts.dropFirst().contains { $0.elementsEqual(".".utf8) }
    }
}
