import Testing
@testable import ArticleVault

/// The gate's reading of Sass (`SassImports`), against what libsass 3.6 (Debian's
/// jekyll-sass-converter) reads: each case here was a way past the gate found by an attack
/// review, with a real `jekyll build` publishing the unsigned file.
@Suite struct SassImportRules {
    func names(_ text: String) -> [SassImports.Item] {
        Array(text.utf8).withUnsafeBytes(SassImports.scan)
    }
    typealias I = SassImports.Item

    /// A list goes on past blanks and comments of both kinds around its commas, line breaks and
    /// a lone CR included (the list ended at the first of them).
    @Test func aListGoesOnPastBlanksAndComments() {
        let both: [I] = [.name("a"), .name(".evil")]
        for text in ["@import\n  \"a\",      // reset\n  \".evil\";  // theme\n", "@import \"a\"\n, \".evil\";\n",
                     "@import \"a\"\r,\".evil\";\n", "@import \"a\" /* x */, \".evil\";\n", "@import \"a\", // x\n \".evil\";\n",
                     "@import/**/'a'/**/,/**/'.evil'", "@import \"a\",\u{0C}\".evil\""] {
            #expect(names(text) == both, "\(text.debugDescription)")
        }
        for text in ["@import \"a\"\u{0B}, \".evil\";", "@import \"a\",\u{0B}\".evil\";"] { #expect(names(text) == both, "\(text.debugDescription)") }
        #expect(names("@import\u{0B}\".evil\";") == [.name(".evil")])
        // `url(…)` holds no comment, and runs over line breaks.
        for url in ["url(//fonts.example.com/css?f=x)", "url(/*)", "url(x.css\n)", "url(\"x.css\"\n)"] {
            #expect(names("@import \(url), \".evil\";\n") == [.name(".evil")], "\(url)")
        }
        // The indented syntax's bare names run to a comma or the line's end.
        #expect(names("@import x{.css, .evil\n") == [.name("x"), .name(".evil")])
        #expect(names("@import x;y.css, .evil\nb { c: d, e }") == [.name("x"), .name(".evil")])
        // A media query ends the list (libsass fails on a name after it).
        #expect(names("@import \"a\" screen, \".evil\";") == [.name("a")])
    }

    /// What a list took is read again for `@import`: a quoted name or a comment that holds one
    /// (libsass sees a comment where the scan saw a name).
    @Test func textAListTookIsReadAgain() {
        #expect(names("/* @import \"x */ @import \".evil\";\n") == [.name("x */ @import "), .name(".evil")])
        #expect(names("@import \"a\\\"@import '.evil'\";") == [.variable("a\\\"@import '.evil'"), .name(".evil")])
    }

    /// Each `@import` may read to the text's end (an unclosed comment): the lists read at most
    /// `scanWork` times the text, then the scan ends with `.unread`.
    @Test func aScanReadsInBoundedTime() {
        for unit in ["@import/*", "@import x", "@import \"a\", "] {
            let items = names(String(repeating: unit, count: 80_000))
            #expect(items.last == .unread, "\(unit)")
        }
        #expect(names(String(repeating: "@import \"a\";\n", count: 80_000)).count == 80_000)
    }

    /// `url(…)` is a plain CSS import, to its `)` outside quotes.
    @Test func aQuotedURLMayHoldAParenthesis() {
        #expect(names("@import url(\"a)b\"), \".evil\";\n") == [.name(".evil")])
        #expect(names("@import url( 'x' ) , url(y), \"z\";") == [.name("z")])
    }

    /// A name is plain CSS when it ends `.css` after at least one byte (libsass imports `.css`).
    @Test func aNameThatIsOnlyTheExtensionIsImported() {
        #expect(names("@import \".css\"; @import \"a.css\";") == [.name(".css")])
        #expect(SassImports.isPlainCSS("a.css") && !SassImports.isPlainCSS(".css") && SassImports.isPlainCSS("//x/y"))
    }

    /// jekyll-sass-converter compiles `.scss` and `.sass` in any case.
    @Test func sassExtensionsInAnyCase() {
        for name in ["main.scss", "main.SCSS", "main.Scss", "x.SASS", "_a.sAsS"] { #expect(SassImports.isSass(name), "\(name)") }
        for name in ["main.css", "main.scs", "mainscss", "main.sc\u{17F}s"] { #expect(!SassImports.isSass(name), "\(name)") }
    }

    /// A `..` after a directory name (`lib/../colors`) is resolved by the system through `lib`,
    /// which a link may lead elsewhere; leading ones are folded as libsass folds them.
    @Test func aClimbAfterADirectoryIsSeen() {
        #expect(SassImports.climbsAfterAPart("lib/../colors") && SassImports.climbsAfterAPart("./a/b/../../c"))
        #expect(!SassImports.climbsAfterAPart("../colors") && !SassImports.climbsAfterAPart("../../a/b") && !SassImports.climbsAfterAPart("a..b/c.."))
    }

    /// libsass looks for the extended names first, in each directory in turn.
    @Test func theNamesLibsassLooksForFirst() {
        #expect(Array(SassImports.candidates("a/b").prefix(SassImports.looksFirst))
                == ["a/b.scss", "a/b.sass", "a/b.css", "a/_b.scss", "a/_b.sass", "a/_b.css"])
        #expect(SassImports.candidates("a/b").dropFirst(SassImports.looksFirst).prefix(2) == ["a/b", "a/_b"])
    }

    /// The site's URLs rendered empty, with the blanks `{{-` and `-}}` trim.
    @Test func theSiteURLsRenderedEmpty() {
        func rendered(_ text: String) -> String? { SassImports.renderedEmpty(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) } }
        #expect(rendered("@imp{{ site.baseurl }}ort \".l\";") == "@import \".l\";")
        #expect(rendered("@imp \n{{- site.url -}}\t ort") == "@import")
        #expect(rendered("a {{site.url}}{{ site.baseurl }} b") == "a  b")
        #expect(rendered("no markup") == nil && rendered("{{ page.x }}") == nil)
    }

    /// Liquid in a Sass page may write an import: every tag and output but the site's URLs.
    @Test func liquidThatMayWriteAnImport() {
        func liquid(_ text: String) -> String? { SassImports.liquid(Array(text.utf8)) }
        #expect(liquid("---\n---\n$u: \"{{ site.baseurl }}/x.png\";\n$v: '{{site.url}}';\n$w: '{{- site.url -}}'; a{b:c}") == nil)
        #expect(liquid("---\n---\n{% include imports.html %}\n") == "{% include imports.html %}")
        #expect(liquid("a { b: \"{{ site.data.x }}\" }") == "{{ site.data.x }}")
        #expect(liquid("{{ site.url }x }}") == "{{ site.url }x")
        #expect(liquid("x {{ site.baseurl") == "{{ site.baseurl")
        #expect(liquid("{%\ninclude x %}") == "{%")
    }
}
