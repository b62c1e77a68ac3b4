/// Sass's `@import`, as a publishing gate must see it: jekyll-sass-converter (libsass) reads
/// each file an import names into the published CSS, whatever its name and wherever it lies in
/// the site (hidden, without an extension, in a directory left out with `--exclude`), and a
/// signature over the importing file covers only the import. So each file an import may read
/// is checked like any other (``RecordVerifier/verifyForPublishing(_:jobs:progress:)``).
///
/// The scan over-approximates, failing closed: every `@import` in the text is followed,
/// comments and strings included (a file a commented-out import names must pass too when it is
/// there), and every file libsass may take for a name (``candidates(_:)``) is checked.
enum SassImports {
    /// One name an `@import` gives.
    enum Item: Equatable, Sendable {
        /// A name to resolve (quotes and escapes as written; never a plain CSS import).
        case name(String)
        /// A name known only when the file is rendered or compiled (`#{…}` interpolation, a
        /// Liquid `{{`/`{%` in a page Jekyll renders first, an escape): not checked.
        case variable(String)
    }

    /// Whether `name` (a file's, by its bytes) is one Sass compiles (`.scss`, `.sass`).
    static func isSass(_ name: String) -> Bool {
        RecordWalker.isStylesheet(name, atTop: false)
    }

    /// The names the `@import` rules in `bytes` give, in order. After `@import`: a list of
    /// quoted strings, `url(…)` and (in the indented syntax, or failing closed) bare names,
    /// separated by commas; a name that is a plain CSS import (ending `.css`, or a URL: Sass
    /// leaves it to the browser, which loads it from the published site) is left out.
    static func scan(_ bytes: UnsafeRawBufferPointer) -> [Item] {
        let keyword = Array("@import".utf8)
        var items: [Item] = []
        var i = 0
        let n = bytes.count
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C }
        while i + keyword.count <= n {
            guard bytes[i] == 0x40, (0..<keyword.count).allSatisfy({ bytes[i + $0] == keyword[$0] }) else { i += 1; continue }
            i += keyword.count
            list: while true {
                while i < n, isSpace(bytes[i]) { i += 1 }
                guard i < n else { break }
                var text: [UInt8] = []
                var escaped = false
                if bytes[i] == 0x22 || bytes[i] == 0x27 { // a quoted name
                    let quote = bytes[i]
                    i += 1
                    while i < n, bytes[i] != quote, bytes[i] != 0x0A {
                        if bytes[i] == 0x5C { escaped = true }
                        text.append(bytes[i])
                        i += 1
                    }
                    if i < n, bytes[i] == quote { i += 1 }
                } else if n - i >= 4, bytes[i] | 0x20 == 0x75, bytes[i + 1] | 0x20 == 0x72, bytes[i + 2] | 0x20 == 0x6C, bytes[i + 3] == 0x28 {
                    // `url(…)`: a plain CSS import.
                    while i < n, bytes[i] != 0x29, bytes[i] != 0x0A { i += 1 }
                    if i < n, bytes[i] == 0x29 { i += 1 }
                    text = []
                    while i < n, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
                    if i < n, bytes[i] == 0x2C { i += 1; continue list }
                    break list
                } else { // a bare name (the indented syntax), to a separator
                    while i < n, ![0x2C, 0x3B, 0x0A, 0x0D, 0x7B, 0x7D].contains(bytes[i]) {
                        if bytes[i] == 0x5C { escaped = true }
                        text.append(bytes[i])
                        i += 1
                    }
                    while let last = text.last, isSpace(last) { text.removeLast() }
                    guard !text.isEmpty else { break list }
                }
                let name = String(decoding: text, as: UTF8.self)
                let u = name.utf8
                if escaped || u.contains(0x23) && name.contains("#{") || name.contains("{{") || name.contains("{%") || text.contains(0) {
                    items.append(.variable(name))
                } else if !isPlainCSS(name) {
                    items.append(.name(name))
                }
                while i < n, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
                guard i < n, bytes[i] == 0x2C else { break list }
                i += 1
            }
        }
        return items
    }

    /// Whether Sass leaves an import of `name` to the browser: a name ending `.css`, or a URL.
    static func isPlainCSS(_ name: String) -> Bool {
        RecordWalker.endsWith(name, ".css") || name.hasPrefix("http://") || name.hasPrefix("https://") || name.hasPrefix("//")
    }

    /// The paths, relative to a directory libsass looks in, that it may read for `name`: the
    /// name as written and as a partial (`_` before its last part), each with no extension and
    /// with `.scss`, `.sass` and `.css`, and the index files of a directory so named
    /// (`name/_index.scss`, …). Taking more than libsass reads only checks more.
    static func candidates(_ name: String) -> [String] {
        let cut = name.utf8.lastIndex(of: 0x2F)
        let dir = cut.map { String(name[..<$0]) + "/" } ?? ""
        let base = cut.map { String(name[name.utf8.index(after: $0)...]) } ?? name
        var out: [String] = []
        for stem in [dir + base, dir + "_" + base] {
            out.append(stem)
            for ext in [".scss", ".sass", ".css"] { out.append(stem + ext) }
        }
        for index in ["index", "_index"] {
            for ext in [".scss", ".sass", ".css"] { out.append(name + "/" + index + ext) }
        }
        return out
    }
}
