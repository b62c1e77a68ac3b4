import Testing
import VaultFormat

/// The `include:` list of a Jekyll `_config.yml` (docs/cli.md, `avault verify`).
@Suite struct SiteConfigTests {
    static func include(_ text: String) throws(FormatError) -> [String]? {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { b in Result { () throws(FormatError) in try SiteConfig.include(in: b) } }.get()
    }

    @Test func theListItsTextAndNoneWhenUnset() throws {
        #expect(try Self.include("title: x\ninclude:\n  - .well-known\n  - \".htaccess\"\n  - 3\nexclude: [a]\n") == [".well-known", ".htaccess", "3"])
        #expect(try Self.include("include: [.a, {b: c}, [d]]\n") == [".a"]) // items that are not strings, as Jekyll, add nothing
        #expect(try Self.include("include: []\n") == [])
        #expect(try Self.include("") == nil)
        #expect(try Self.include("~\n") == nil)
        #expect(try Self.include("title: x\nnested: {include: [.x]}\n") == nil)
        // The last `include` key counts, as in Psych; aliases elsewhere do not matter.
        #expect(try Self.include("include: [.a]\ndefaults: &d {x: 1}\nother: *d\ninclude: [.b]\n") == [".b"])
        // Only the first document, as Psych's safe_load reads.
        #expect(try Self.include("include: [.a]\n---\ninclude: [.b]\n") == [".a"])
        #expect(try Self.include("!!str include: [!!str .a]\n") == [".a"])
    }

    /// The settings that move a directory Jekyll reads: their text, the last one counting;
    /// one that is not a name, or is an alias or a tag, is refused.
    @Test func theDirectoriesItMoves() throws {
        func settings(_ text: String) throws(FormatError) -> SiteConfig.Settings? {
            let bytes = Array(text.utf8)
            return try bytes.withUnsafeBytes { b in Result { () throws(FormatError) in try SiteConfig.settings(in: b) } }.get()
        }
        #expect(try settings("layouts_dir: .lay\ndata_dir: d\nlayouts_dir: \"./x\"\ntitle: t\n")
                == SiteConfig.Settings(include: nil, directories: ["layouts_dir": "./x", "data_dir": "d"]))
        #expect(try settings("collections_dir: .c\ninclude: [.a]\n") == SiteConfig.Settings(include: [".a"], directories: ["collections_dir": ".c"]))
        for text in ["layouts_dir: [a]\n", "includes_dir: {a: b}\n", "a: &x y\ndata_dir: *x\n", "collections_dir: !!binary LmM=\n"] {
            #expect(throws: FormatError.self, "\(text)") { _ = try settings(text) }
        }
    }

    @Test func whatCannotBeToldIsRefused() {
        for (text, line) in [("include: .a\n", 1), ("include:\n", 1), ("include: {a: b}\n", 1), ("include: *x\n", 1),
                             ("a: &x [.w]\ninclude: [*x]\n", 2), ("<<: {include: [.a]}\n", 1), ("*k : [.a]\n", 1),
                             ("[.a]\n", 1), ("plain\n", 1), ("include: [\n", 2), ("? [a]\n: b\n", 1),
                             // Psych decodes `!!binary`: the key, or an item, would be other text.
                             ("!!binary aW5jbHVkZQ==: [.a]\n", 1), ("include: [!!binary LnNlY3JldC5tZA==]\n", 1)] {
            #expect(throws: FormatError.self, "\(text)") { try Self.include(text) }
            do { _ = try Self.include(text) } catch {
                guard case .invalidSiteConfig(_, let got) = error else { Issue.record("\(error)"); continue }
                #expect(got == line, "\(text): \(error)")
            }
        }
    }
}
