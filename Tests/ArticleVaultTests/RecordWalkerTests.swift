import Testing
@testable import ArticleVault

/// The rules of Jekyll's that the walk of a site (`RecordWalker.expand(_:include:exclude:links:sitePages:)`) follows.
@Suite struct RecordWalkerRules {
    /// Jekyll's `include_relative` tags as the gate finds them (`IncludeRelative.scan`): Liquid's
    /// tag syntax (`{%-`, no space, `-%}`, a `{% liquid` tag's lines), Jekyll's name rules
    /// (`VALID_FILENAME_CHARS`, `INVALID_SEQUENCES`), and a name from a variable.
    @Test func includeRelativeTagsAreFoundAsLiquidReadsThem() {
        func tags(_ text: String) -> [IncludeRelative.Tag] {
            Array(text.utf8).withUnsafeBytes { IncludeRelative.scan($0, complete: true).tags }
        }
        typealias T = IncludeRelative.Tag
        #expect(tags("no tag here").isEmpty)
        #expect(tags("prose about include_relative x.html, and {% include_relative_x a %}").isEmpty)
        #expect(tags("{% include_relative a.html %}") == [T(name: "a.html")])
        #expect(tags("{%-include_relative\tsub/b-c(1)+~#@.inc  x=\"y\" -%}") == [T(name: "sub/b-c(1)+~#@.inc")])
        #expect(tags("{%include_relative c.txt%}{% include_relative d.txt -%}") == [T(name: "c.txt"), T(name: "d.txt")])
        #expect(tags("{% include_relative {{ page.x }} %}") == [T(name: "{{ page.x }}", problem: .variable)])
        for bad in ["../x", "./x", "a//b", "a/.b", "x$y", "é.html"] {
            #expect(tags("{% include_relative \(bad) %}") == [T(name: bad, problem: .invalid)], "\(bad)")
        }
        #expect(tags("{% include_relative %}") == [T(name: "", problem: .invalid)])
        #expect(tags("{% liquid\n  assign a = 1\n  include_relative e.inc\n%}\n{%- liquid include_relative f.inc %}")
                == [T(name: "e.inc"), T(name: "f.inc")])
        // A line that starts with the name is a tag only in a file with a `{% liquid` tag.
        #expect(tags("include_relative g.inc\n").isEmpty)
    }

    /// Jekyll reads a page's front matter as data and renders none of it (`jekyll build` prints
    /// a tag there as text), so a file's rendered tags (`IncludeRelative.Scan.rendered`) are
    /// those of its body, scanned on its own, with the front matter found where the gate finds
    /// a record's (LF or CRLF, trailing whitespace, a `...` closing line). Where it finds none
    /// (no closing line, a byte order mark, a form feed on the opening line), every tag is
    /// rendered (nil: `tags`).
    @Test func includeRelativeTagsInFrontMatterAreNotRendered() {
        func scan(_ text: String) -> IncludeRelative.Scan {
            Array(text.utf8).withUnsafeBytes { IncludeRelative.scan(file: $0, complete: true) }
        }
        typealias T = IncludeRelative.Tag
        let data = "d: \"{% include_relative a.md %}\"\n", body = "{% include_relative b.md %}\n"
        for text in ["---\n\(data)---\n\(body)", "---\r\n\(data)---\r\n\(body)", "--- \t\n\(data)---  \n\(body)", "---\n\(data)...\n\(body)"] {
            let found = scan(text)
            #expect(found.tags == [T(name: "a.md"), T(name: "b.md")] && found.rendered == [T(name: "b.md")], "\(text)")
        }
        #expect(scan("---\n\(data)---\nThe body.\n").rendered == [])
        // A tag in the front matter with no `%}` there runs on over the body's in the whole file.
        let runOn = scan("---\nd: {% include_relative a.md\n---\n\(body)")
        #expect(runOn.tags.count == 1 && runOn.tags[0].problem == .variable && runOn.rendered == [T(name: "b.md")])
        // A `{% liquid` tag in the front matter makes no line of the body a tag.
        let liquid = scan("---\nd: \"{% liquid echo 1 %}\"\n---\ninclude_relative c.md\n")
        #expect(liquid.tags == [T(name: "c.md")] && liquid.rendered == [])
        for text in ["---\n\(data)\(body)", "\u{FEFF}---\n\(data)---\n\(body)", "---\u{0C}\n\(data)---\n\(body)", " ---\n\(data)---\n\(body)",
                     "\(data)---\n\(body)", "---\ntitle: x\n---\nThe body.\n"] {
            #expect(scan(text).rendered == nil, "\(text)")
        }
    }

    /// Jekyll's `DATE_FILENAME_MATCHER` and `DATELESS_FILENAME_MATCHER`, as the walk matches them.
    @Test func postNamesMatchAsJekyllMatchesThem() {
        for (path, post) in [("2020-01-01-a.md", true), ("20-1-1-.x", true), ("sub/2020-01-01-a.md", true), ("2020-01-01-a.b/cmd", true),
                             ("2020-01-01-a.b/c.d", false), ("x/2020-01-01-a", false), ("2020-01-01-a", false), ("2020-01-01-a.", false),
                             ("12345-01-01-a.md", false), ("2020-123-01-a.md", false), ("2020-01-01a.md", false), ("a2020-01-01-b.md", false),
                             ("2020-01-01-a/b.md", false), ("x\n2020", true), ("٢٠٢٠-01-01-a.md", false), ("a/b/2020-1-1-x.y", true)] {
            #expect(RecordWalker.namesAPost(path) == post, "\(path)")
        }
        for (path, draft) in [("d.md", true), ("a.b/c", true), ("noext", false), ("x.", false), ("sub/e.txt", true), ("a\nb", true)] {
            #expect(RecordWalker.namesADraft(path) == draft, "\(path)")
        }
    }
}
