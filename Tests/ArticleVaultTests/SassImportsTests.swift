import Testing
@testable import ArticleVault
import VaultFormat

/// The gate's reading of Sass (`SassImports`), against what libsass 3.6 (Debian's
/// jekyll-sass-converter) reads: each case here was a way past the gate found by an attack
/// review, with a real `jekyll build` publishing the unsigned file.
@Suite struct SassImportRules {
    func names(_ text: String, indented: Bool = false) -> [SassImports.Item] {
        Array(text.utf8).withUnsafeBytes { SassImports.scan($0, indented: indented) }
    }
    typealias I = SassImports.Item

    /// Realistic lists read whole: quoted names and `url(…)`, with blanks, line breaks and both
    /// kinds of comment around the commas.
    @Test func wellFormedListsAreReadWhole() {
        let both: [I] = [.name("a"), .name(".evil")]
        for text in ["@import\n  \"a\",      // reset\n  \".evil\";  // theme\n", "@import \"a\"\n, \".evil\";\n",
                     "@import \"a\"\r,\".evil\";\n", "@import \"a\" /* x */, \".evil\";\n", "@import \"a\", // x\n \".evil\";\n",
                     "@import/**/'a'/**/,/**/'.evil'", "@import \"a\",\u{0C}\".evil\"", "a { @import \"a\", \".evil\" }"] {
            #expect(names(text) == both, "\(text.debugDescription)")
        }
        #expect(names("@import url(\"https://fonts.example.com/css?f=a,b\"), url(x.css), url( 'y' ) , \"z\";") == [.name("z")])
        #expect(names("@import url(https://fonts.example.com/css?family=Open+Sans:400,700);\n@import \"w\";") == [.name("w")])
        #expect(names("@import a, b/c\n@import \"d\"\n", indented: true) == [.name("a"), .name("b/c"), .name("d")])
    }

    /// Every way past the gate the reviews found (each published an unsigned `.evil` with a real
    /// `jekyll build` while the gate passed): the scan now finds `.evil`, or fails closed
    /// (`.variable`) where libsass's lexers and a scan may part ways.
    @Test func whatLibsassMayReadOtherwiseFailsClosed() {
        let scss = ["@import \"a\"\u{0B}, \".evil\";", "@import \"a\",\u{0B}\".evil\";", "@import\u{0B}\".evil\";",
                    "@import url(//fonts.example.com/css?f=x), \".evil\";\n", "@import url(/*), \".evil\";\n", "@import url(x.css\n), \".evil\";\n",
                    "@import url(\"x.css\"\n), \".evil\";\n", "@import \"x\n.css\", \".evil\";\n", "@import \"http://a\nb\", \".evil\";\n",
                    "@import url(\"x\n)\"), \".evil\";\n", "@import url(a(b)), \".evil\";\n", "@import url(#{\")\"}), \".evil\";\n",
                    "@import url(\"#{\")\"}\"), \".evil\";\n", "@import url-x(a\n), \".evil\";\n", "@import url-moz(\n\"a\"), \".evil\";\n",
                    "@import \"a.css\" /\n, \".evil\";\n", "@import \"a.css\" //blog\n, \".evil\";\n", "@import \"a\" screen, \".evil\";",
                    "@import \"a\\\"@import '.evil'\";", "@import URL(x), \".evil\";", "@import \"a\"\u{0}, \".evil\";", "@import /* x, \".evil\";"]
        let sass = ["@import x{.css, .evil\n", "@import x;y.css, .evil\n", "@import x}.css, .evil\n", "@import x\u{0C}.css, .evil\n",
                    "@import a, // x\n  .evil\n", "@import a,\n  .evil\n",
                    // (sass2scss trims a vertical tab around each name, as a blank.)
                    "@import .evil\u{0B}\n", "@import x,\u{0B}.evil\n", "@import\u{0B}.evil\n", "@import \u{0B}.evil, b\n"]
        for (texts, indented) in [(scss, false), (sass, true)] {
            for text in texts {
                let items = names(text, indented: indented)
                #expect(items.contains(.name(".evil")) || items.contains { if case .variable = $0 { true } else { false } }, "\(text.debugDescription): \(items)")
            }
        }
        #expect(names("@import \"a\" screen, \".evil\";") == [.name("a"), .variable("\"a\" screen, \".evil\";")])
    }

    /// What a list took is read again for `@import`: a quoted name or a comment that holds one
    /// (libsass sees a comment where the scan saw a name).
    @Test func textAListTookIsReadAgain() {
        #expect(names("/* @import \"x */ @import \".evil\";\n").contains(.name(".evil")))
        #expect(names("@import \"a\\\"@import '.evil'\";").contains(.name(".evil")))
    }

    /// Each `@import` may read to the text's end (an unclosed comment): the lists read at most
    /// `scanWork` times the text, then the scan ends with `.unread`.
    @Test func aScanReadsInBoundedTime() {
        for unit in ["@import/*", "@import \"a\" /*"] {
            let items = names(String(repeating: unit, count: 80_000))
            #expect(items.last == .unread, "\(unit)")
        }
        #expect(names(String(repeating: "@import \"a\";\n", count: 80_000)).count == 80_000)
    }

    /// A name is plain CSS when it ends `.css` after at least one byte (libsass imports `.css`).
    @Test func aNameThatIsOnlyTheExtensionIsImported() {
        #expect(names("@import \".css\"; @import \"a.css\";") == [.name(".css")])
        #expect(SassImports.isPlainCSS("a.css") && !SassImports.isPlainCSS(".css") && SassImports.isPlainCSS("//x/y"))
    }

    /// jekyll-sass-converter compiles `.scss` and `.sass` in any case.
    @Test func sassExtensionsInAnyCase() {
        for name in ["main.scss", "main.SCSS", "main.Scss", "x.SASS", "_a.sAsS"] { #expect(SassImports.isSass(name), "\(name)") }
        for name in ["main.css", "main.scs", "mainscss", "/a.\u{FC}/README", "caf\u{E9}.md"] { #expect(!SassImports.isSass(name), "\(name)") }
        // Ruby's `/i` folds Unicode case: `.ſcss` (U+017F) and `.scß` are `.scss` to the converter.
        for name in ["main.\u{17F}css", "main.sc\u{DF}", "x.\u{17F}ass", "_a.sc\u{17F}s"] { #expect(SassImports.isSass(name), "\(name)") }
        // Ruby's `$` matches before a final line break: `main.scss\n` is Sass to the converter.
        for name in ["main.scss\n", "site.SASS\nv2", "x.a\u{7F}"] { #expect(SassImports.isSass(name), "\(name.debugDescription)") }
    }

    /// A `..` after a directory name (`lib/../colors`) is resolved by the system through `lib`,
    /// which a link may lead elsewhere; leading ones are folded as libsass folds them.
    @Test func aClimbAfterADirectoryIsSeen() {
        #expect(SassImports.climbsAfterAPart("lib/../colors") && SassImports.climbsAfterAPart("./a/b/../../c"))
        #expect(!SassImports.climbsAfterAPart("../colors") && !SassImports.climbsAfterAPart("../../a/b") && !SassImports.climbsAfterAPart("a..b/c.."))
    }

    /// Names libsass resolves otherwise than by their parts (a fifth review: `.//tmp/x` read
    /// `/tmp/x`, `x:/y` the site's top, `.evil/.` `.evil.scss`).
    @Test func namesLibsassResolvesOtherwise() {
        for name in [".//tmp/x", "a//b", "x:/.y", "c:x", ".evil/.", "a/./b", "a/"] { #expect(SassImports.resolvesOtherwise(name), "\(name)") }
        for name in ["a", "./a", "../a", "a/b", "_a.b", ".a/b..c"] { #expect(!SassImports.resolvesOtherwise(name), "\(name)") }
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
        #expect(rendered("@imp\u{0}{{- site.baseurl }}ort x") == "@import x" && rendered("@imp{{ site.url -}}\u{0}ort") == "@import")
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
