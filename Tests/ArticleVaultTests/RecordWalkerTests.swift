import Testing
@testable import ArticleVault

/// The rules of Jekyll's that the walk of a site (`RecordWalker.expand(_:include:exclude:links:sitePages:)`) follows.
@Suite struct RecordWalkerRules {
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
