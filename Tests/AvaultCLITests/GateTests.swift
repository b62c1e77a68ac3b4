import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `avault verify --require-signature DIR` as a publishing gate: every file a site generator
/// would publish gets an outcome, and nothing it did not check passes.
@Suite struct PublishingGate {
    /// A directory with one file of every kind the gate must see, and each file's outcome.
    struct Corpus {
        let demo: DemoRing
        let content: URL
        var expected: [String: String] = [:]

        init() throws {
            demo = try DemoRing()
            content = demo.dir.appendingPathComponent("content")
            try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
        }

        var ring: [String] { ["--keyring", demo.ring] }

        func path(_ name: String) -> String { content.appendingPathComponent(name).path }

        /// Writes `text` as `name`, signed (embedded) when `sign`.
        func write(_ name: String, _ text: String, sign: Bool = false) throws {
            try FileManager.default.createDirectory(at: content.appendingPathComponent(name).deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            try CLI.write(text, to: content.appendingPathComponent(name), mode: 0o644)
            if sign {
                let r = try CLI.avault(["sign", path(name), "--key", "demo-desk"] + demo.args)
                #expect(r.code == 0, "sign \(name): \(r.err)")
            }
        }

        /// Builds the site with Jekyll (`jekyll build -q`, then `extra` arguments) into `site/`
        /// beside the content, which it returns; `inSite`: run in the site's directory (as
        /// docs/cli.md asks: libsass resolves some imports from there).
        @discardableResult
        func jekyllBuild(_ extra: [String] = [], inSite: Bool = false) throws -> URL {
            let jekyll = "/usr/bin/jekyll"
            try #require(FileManager.default.isExecutableFile(atPath: jekyll), "Debian's jekyll is needed (scripts/setup installs it)")
            let site = demo.dir.appendingPathComponent("site")
            // Without the disk cache, which Jekyll would leave in the site (and the gate refuses).
            let built = try CLI.run(jekyll, ["build", "-q", "--disable-disk-cache"] + extra + ["-s", content.path, "-d", site.path],
                                    cwd: inSite ? content : nil)
            try #require(built.code == 0, "jekyll build: \(built.err)")
            return site
        }

        /// Builds the site with Jekyll (`jekyll build -q`, then `extra` arguments) and returns
        /// which of `names` it rendered: each file's body holds `P-<name>-{{ 'r' | upcase }}`,
        /// which shows as `P-<name>-R` in the site only for a file Jekyll rendered.
        func jekyllRendered(_ names: [String], _ extra: [String] = []) throws -> Set<String> {
            let site = try jekyllBuild(extra)
            var rendered: Set<String> = []
            for case let url as URL in FileManager.default.enumerator(at: site, includingPropertiesForKeys: nil)! {
                let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
                for name in names where text.contains("P-\(name)-R") { rendered.insert(name) }
            }
            return rendered
        }

        /// The files `avault verify` reports, each by its path from the walked directory
        /// (`resolvingLinks`: by its path through no symbolic link).
        func walked(resolvingLinks: Bool = false) throws -> Set<String> {
            let r = try CLI.avault(["verify", "--json", content.path] + ring)
            let root = resolvingLinks ? URL(fileURLWithPath: content.path).resolvingSymlinksInPath().path : content.path
            var walked: Set<String> = []
            for line in r.out.split(separator: "\n") {
                guard let rec = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], rec["type"] as? String == "record",
                      let path = rec["path"] as? String else { continue }
                let seen = resolvingLinks ? URL(fileURLWithPath: path).resolvingSymlinksInPath().path : path
                walked.insert(String(seen.dropFirst(root.count + 1)))
            }
            return walked
        }

        /// Replaces `old` with `new` in the file's bytes (after signing: tampering).
        func edit(_ name: String, _ change: (Data) -> Data) throws {
            let url = content.appendingPathComponent(name)
            try change(try Data(contentsOf: url)).write(to: url)
        }
    }

    static let record = "---\ntitle: \"Quarterly results\"\nwebUrl: \"https://example.org/q\"\nquality: 41\n---\nThe body.\n"

    static func replacing(_ a: String, _ b: String) -> (Data) -> Data {
        { Data(String(decoding: $0, as: UTF8.self).replacingOccurrences(of: a, with: b).utf8) }
    }

    @Test(.timeLimit(.minutes(30))) func everyPublishableFileGetsAnOutcome() throws {
        var c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        let bom = Data([0xEF, 0xBB, 0xBF])

        try c.write("good.md", Self.record, sign: true)
        c.expected["good.md"] = "valid"
        // A record starting with a byte order mark is still a record, and malformed, however
        // signed: Jekyll publishes such a page as a static file, front matter and all (a review
        // found it valid). So is one whose first line holds a form feed or vertical tab, which
        // Jekyll takes for a fence and YAML refuses: it publishes the body without the front
        // matter (`published: false` gone).
        try c.write("bom.md", Self.record, sign: true)
        try c.edit("bom.md") { bom + Self.replacing("quality: 41", "quality: 99")($0) }
        c.expected["bom.md"] = "malformed"
        try c.write("bom-signed.md", Self.record, sign: true)
        try c.edit("bom-signed.md") { bom + $0 }
        c.expected["bom-signed.md"] = "malformed"
        for (name, space) in [("vt-fence.md", "\u{0B}"), ("ff-fence.md", "\u{0C}")] {
            try c.write(name, Self.record.replacingOccurrences(of: "quality: 41\n", with: "quality: 41\npublished: false\n"), sign: true)
            try c.edit(name) { Data("---\(space)".utf8) + $0.dropFirst(3) }
            c.expected[name] = "malformed"
        }
        // A `---` line with more on it right after the opening fence: Jekyll's Psych reads the
        // fence as an empty first document and this as a second, and publishes the body with no
        // front matter (a review found the signature still valid).
        try c.write("doc-start.md", Self.record.replacingOccurrences(of: "quality: 41\n", with: "quality: 41\npublished: false\n"), sign: true)
        try c.edit("doc-start.md") { Data("---\n--- # a comment".utf8) + $0.dropFirst(3) }
        c.expected["doc-start.md"] = "malformed"
        // On the closing line they are harmless (Jekyll does not hand that line to YAML).
        try c.write("vt-closing.md", Self.record.replacingOccurrences(of: "41\n---\n", with: "41\n---\u{0B}\n"), sign: true)
        c.expected["vt-closing.md"] = "valid"
        // Fences with trailing whitespace, and `...` closing the front matter (Jekyll's rule).
        try c.write("space-fence.md", Self.record.replacingOccurrences(of: "---\n", with: "--- \t\n"), sign: true)
        try c.edit("space-fence.md", Self.replacing("Quarterly", "Annual"))
        c.expected["space-fence.md"] = "invalid"
        try c.write("dots.md", Self.record.replacingOccurrences(of: "41\n---\n", with: "41\n...\n"), sign: true)
        c.expected["dots.md"] = "valid"
        try c.write("long.markdown", Self.record, sign: true)
        try c.edit("long.markdown", Self.replacing("The body.", "Another body."))
        c.expected["long.markdown"] = "invalid"
        try c.write("UPPER.MD", Self.record)
        c.expected["UPPER.MD"] = "unsigned"
        try c.write("nested/deep/x.mkdn", Self.record, sign: true)
        c.expected["nested/deep/x.mkdn"] = "valid"
        // Every extension in Jekyll's markdown_ext (a review found *.mkdown not walked).
        try c.write("y.mkdown", Self.record)
        c.expected["y.mkdown"] = "unsigned"
        // Files without front matter: published as they are, so they need a detached signature.
        try c.write("plain.md", "# No front matter\n")
        c.expected["plain.md"] = "unsigned"
        try c.write("page.html", "<p>static page</p>\n")
        c.expected["page.html"] = "unsigned"
        try c.write("signed.txt", "signed plain text\n")
        #expect(try CLI.avault(["sign", "--detached", c.path("signed.txt"), "--key", "demo-desk"] + c.demo.args).code == 0)
        c.expected["signed.txt"] = "valid"
        try c.write("forged.htm", "original\n")
        #expect(try CLI.avault(["sign", "--detached", c.path("forged.htm"), "--key", "demo-desk"] + c.demo.args).code == 0)
        try c.edit("forged.htm", Self.replacing("original", "forged"))
        c.expected["forged.htm"] = "invalid"
        // A FIFO is reported, never opened (opening it would hang the gate).
        #expect(mkfifo(c.path("pipe.md"), 0o644) == 0)
        c.expected["pipe.md"] = "malformed"
        // Symbolic links are followed: to a record, it is verified; to the FIFO, reported and
        // never opened.
        #expect(symlink("good.md", c.path("link.md")) == 0)
        c.expected["link.md"] = "valid"
        #expect(symlink("pipe.md", c.path("pipe-link.md")) == 0)
        c.expected["pipe-link.md"] = "malformed"
        // Hidden files are not published (Jekyll skips them) and are not walked.
        try c.write(".hidden.md", "# hidden\n")
        // Not a page extension: a static file, which Jekyll publishes as it is, taken with
        // --require-signature.
        try c.write("notes.json", "{}\n")
        c.expected["notes.json"] = "unsigned"

        let r = try CLI.avault(["verify", "--require-signature", "--json", c.content.path] + c.ring)
        #expect(r.code == 1, "\(r.err)")
        let lines = r.out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let records = lines.filter { $0["type"] as? String == "record" }
        var got: [String: String] = [:]
        for rec in records {
            let path = try #require(rec["path"] as? String)
            got[String(path.dropFirst(c.content.path.count + 1))] = rec["outcome"] as? String
        }
        #expect(got == c.expected)
        let summary = try #require(lines.last)
        #expect(summary["records"] as? Int == c.expected.count)
        #expect(summary["passed"] as? Int == c.expected.values.filter { $0 == "valid" }.count)
        let plain = records.first { ($0["path"] as? String)?.hasSuffix("/plain.md") == true }
        #expect(plain?["reason"] as? String == "no front matter")
        let pipe = records.first { ($0["path"] as? String)?.hasSuffix("/pipe.md") == true }
        #expect((pipe?["reason"] as? String)?.contains("FIFO") == true)

        // Named files follow the same rules as walked ones.
        for (name, outcome) in c.expected {
            let one = try CLI.avault(["verify", "--require-signature", "--json", c.path(name)] + c.ring)
            #expect(one.code == (outcome == "valid" ? 0 : 1), "\(name)")
            #expect(one.out.contains("\"outcome\":\"\(outcome)\""), "\(name): \(one.out)")
        }

        // Excluding every file that does not pass: the gate passes.
        let failing = c.expected.filter { $0.value != "valid" }.keys.sorted()
        // (A signature beside an excluded file is a static file of its own then.)
        let excluded = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring + failing.flatMap { ["--exclude", $0, "--exclude", $0 + ".minisig"] })
        #expect(excluded.code == 0, "\(excluded.out)")
        #expect(excluded.out.hasSuffix("\(c.expected.count - failing.count) records: \(c.expected.count - failing.count) passed, 0 failed (valid \(c.expected.count - failing.count))\n"))
    }

    /// Hidden entries are skipped as Jekyll skips them, but Jekyll publishes those its
    /// `_config.yml` includes (`.well-known`): an include glob that names one with its leading
    /// `.` walks it (a review found `--include '.well-known/*'` could not).
    @Test func anIncludeGlobThatNamesAHiddenEntryWalksIt() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("good.md", Self.record, sign: true)
        try c.write(".well-known/leak.html", "---\ntitle: embargoed\n---\nEMBARGOED\n")
        try c.write(".htaccess.md", "# hidden\n")
        try c.write(".git/notes.md", "# not published\n")
        // What Jekyll's `include: [".well-known"]` also publishes: the name at any depth, and any
        // entry it is a prefix of (a review).
        try c.write("blog/.well-known/nested.html", "<p>nested</p>\n")
        try c.write(".well-known-x.html", "<p>prefixed</p>\n")
        func outcomes(_ extra: [String]) throws -> (code: Int32, paths: [String: String]) {
            let r = try CLI.avault(["verify", "--require-signature", "--json", c.content.path] + c.ring + extra)
            var got: [String: String] = [:]
            for line in r.out.split(separator: "\n") {
                guard let rec = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], rec["type"] as? String == "record",
                      let path = rec["path"] as? String else { continue }
                got[String(path.dropFirst(c.content.path.count + 1))] = rec["outcome"] as? String
            }
            return (r.code, got)
        }
        // Jekyll's default `include:` (no `_config.yml` here) is `.htaccess`, which takes
        // `.htaccess.md` too, as a prefix: Jekyll copies it to the site.
        let plain = try outcomes([])
        #expect(plain.code == 1 && plain.paths == ["good.md": "valid", ".htaccess.md": "unsigned"], "\(plain)")
        let named = try outcomes(["--include", "*.md", "--include", ".well-known/*"])
        #expect(named.code == 1 && named.paths == ["good.md": "valid", ".well-known/leak.html": "unsigned", ".htaccess.md": "unsigned"], "\(named)")
        let asJekyll = try outcomes(["--include", "*.md", "--include", "*.html", "--include", ".well-known"])
        #expect(asJekyll.code == 1 && asJekyll.paths == ["good.md": "valid", ".well-known/leak.html": "unsigned", "blog/.well-known/nested.html": "unsigned",
                                                         ".well-known-x.html": "unsigned", ".htaccess.md": "unsigned"], "\(asJekyll)")
        let file = try outcomes(["--include", "*.md", "--include", ".htaccess*"])
        #expect(file.code == 1 && file.paths == ["good.md": "valid", ".htaccess.md": "unsigned"], "\(file)")
    }

    /// The gate walks a directory as Jekyll reads the site in it: the hidden entries the
    /// site's `_config.yml` includes (or Jekyll's default, `.htaccess`), and every file that
    /// starts as Jekyll's pages start, whatever its name (a `feed.xml`, a `robots.txt` renamed
    /// `.xml`). Before, both were skipped unless named with `--include`, so a page Jekyll
    /// rendered passed a `--require-signature` gate unchecked. Checked against `jekyll build`
    /// itself: every file Jekyll renders is a file the gate gives an outcome, and no other.
    @Test(.timeLimit(.minutes(30))) func theWalkSeesEveryPageJekyllRenders() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        // Each file's body holds Liquid that Jekyll renders only in a page: `P-<name>-R` then
        // shows in the site for each file it rendered, and `{{ 'r' | upcase }}` for the others.
        let lines = ["---\n", "---   \r\n", "---\t\u{0B}\u{0C}\n", "\u{FEFF}---\n", "---x\n", "--- \n", " ---\n", "---"]
        var files: [(name: String, text: String)] = []
        for (i, first) in lines.enumerated() {
            for name in ["feed\(i).xml", "robots\(i)", ".htaccess\(i)", "sub/.htaccess-\(i).css", ".well-known/k\(i).json", ".git/c\(i)", "x\(i).md"] {
                files.append((name, first + (first.hasSuffix("\n") ? "title: t\n---\n" : "") + "P-\(name)-{{ 'r' | upcase }}\n"))
            }
        }
        for (name, text) in files { try c.write(name, text) }
        try c.write("_config.yml", "title: site\ninclude:\n  - .well-known\n  - .htaccess\nkramdown: {input: GFM}\n")
        let rendered = try c.jekyllRendered(files.map(\.name))
        let walked = try c.walked()
        // Jekyll renders what starts `---` then whitespace and a line break, in the entries it
        // reads (not `.git`); the gate also reports the `x*.md` files the globs take that Jekyll
        // copies as they are (no front matter: unsigned).
        let globbed = Set(files.map(\.name).filter { $0.hasPrefix("x") })
        #expect(rendered.count == 24, "\(rendered.sorted())") // 4 first lines of 8, 6 names of 7
        #expect(walked.subtracting(globbed).subtracting(["_config.yml"]) == rendered.subtracting(globbed), "walked \(walked.sorted()), rendered \(rendered.sorted())")
        #expect(walked.isSuperset(of: globbed))
        #expect(!walked.contains { $0.hasPrefix(".git") })

        // What the site configuration says decides; one avault cannot read stops the gate.
        for (config, message) in [("include: *x\n", "line 1: an alias where avault looks for include:, a directory or sass: settings: write it out"),
                                  ("include: .well-known\n", "line 1: include: is not a list of names"),
                                  ("a: [\n", "line 2: invalid YAML: did not find expected node content"),
                                  ("- .well-known\n", "line 1: the configuration is not a mapping")] {
            try c.write("_config.yml", config)
            let bad = try CLI.avault(["verify", c.content.path] + c.ring)
            #expect(bad.code == 2 && bad.err.hasPrefix("avault: \(c.path("_config.yml")): malformed site configuration: \(message)\navault: hint: "), "\(config): \(bad.err)")
        }
        // Jekyll joins an item to the site's path: a leading `/` adds nothing, and `/` alone
        // names everything (a review of this change: both passed the gate unseen).
        try c.write("_config.yml", "include: [\"/.well-known\"]\n")
        let slashed = try CLI.avault(["verify", "--json", c.content.path] + c.ring)
        #expect(slashed.out.contains("/.well-known/k0.json\"") && !slashed.out.contains("/.git/"), "\(slashed.out)")
        try c.write("_config.yml", "include: [\"/\"]\n")
        let everything = try CLI.avault(["verify", "--json", c.content.path] + c.ring)
        #expect(everything.out.contains("/.git/c0\"") && everything.out.contains("/.htaccess0\""), "\(everything.out)")
        // A FIFO in its place is refused, not waited on.
        try FileManager.default.removeItem(atPath: c.path("_config.yml"))
        #expect(mkfifo(c.path("_config.yml"), 0o644) == 0)
        let fifo = try CLI.avault(["verify", c.content.path] + c.ring)
        #expect(fifo.code == 2 && fifo.err.contains("_config.yml"), "\(fifo.err)")
        try FileManager.default.removeItem(atPath: c.path("_config.yml"))
        // No `include:` at all: Jekyll's default, `.htaccess` (a prefix of `.htaccess1` …).
        try c.write("_config.yml", "title: site\n")
        let byDefault = try CLI.avault(["verify", "--json", c.content.path] + c.ring)
        #expect(byDefault.out.contains("/.htaccess0\"") && !byDefault.out.contains("/.well-known/"), "\(byDefault.out)")
        // An exclude glob still leaves a page out.
        let excluded = try CLI.avault(["verify", "--json", c.content.path, "--exclude", "feed*.xml"] + c.ring)
        #expect(!excluded.out.contains("/feed") && excluded.out.contains("/robots0"), "\(excluded.out)")
    }

    /// Jekyll publishes more than its walk of the site's directories reaches, and the gate must
    /// see that too (a review): in a collection (`_docs/`), Jekyll lists every entry, hidden
    /// ones too, and leaves out only a path from the collection's directory, or a name, that
    /// starts with `.` and that no `include:` item names, matched with that path
    /// (`Collection#entries`, `EntryFilter#filter`); it reads a file an `include:` item names as
    /// its path wherever it lies (`Reader#read_included_excludes`); and it makes a post of every
    /// date-named file under a `_posts/` directory (any depth, any extension, `blog/_posts/`
    /// too), and with `--drafts` of every file with an extension under `_drafts/`, whatever it
    /// starts with, rendering its Liquid. Before, the walk skipped all of these but the posts
    /// the globs take. Checked against `jekyll build --drafts` itself.
    @Test(.timeLimit(.minutes(30))) func theWalkSeesCollectionsAndPostsAsJekyllRendersThem() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        let page = "---\ntitle: t\n---\n"
        // Each file shows `P-<name>-R` in the site when Jekyll renders it.
        let files: [(name: String, frontMatter: Bool)] = [
            ("_docs/a.md", true), ("_docs/sub/.x.md", true), ("_docs/sub/.y.md", true), ("_docs/.top/p.md", true),
            ("_docs/a/.h/page.md", true), ("_docs/a/.h/.g/deep.txt", true), ("_docs/a/.h/.z.md", true), ("_docs/a/.h/feed.xml", true),
            ("_docs/.inc/q.md", true), ("_docs/a/.h/plain.css", false), (".hidden/.deep/x.html", true), (".hidden/.deep/y.html", true),
            ("_posts/2020-01-01-nofm.md", false), ("_posts/2020-01-01-nofm.xyz", false), ("_posts/2020-01-02-fm.rb", true),
            ("_posts/sub/2020-1-2-n.json", false), ("blog/_posts/2020-01-03-c.rb", false), ("_posts/2020-01-08-a.b/cmd", false),
            ("_posts/notdated.xyz", false), ("_posts/2020-01-04-noext", false), ("_posts/.2020-01-05-h.rb", false),
            ("_posts/_u/2020-01-06-u.rb", false), ("_drafts/d.xyz", false), ("_drafts/noext", false), ("_drafts/sub/e.txt", false),
        ]
        for (name, frontMatter) in files { try c.write(name, (frontMatter ? page : "") + "P-\(name)-{{ 'r' | upcase }}\n") }
        try c.write("_config.yml", "collections:\n  docs:\n    output: true\ninclude: [\".inc\", \"sub/.x.md\", \".hidden/.deep/x.html\"]\n")
        let rendered = try c.jekyllRendered(files.map(\.name), ["--drafts"])
        let walked = try c.walked()
        #expect(rendered == ["_docs/a.md", "_docs/sub/.x.md", "_docs/a/.h/page.md", "_docs/a/.h/.g/deep.txt", "_docs/a/.h/feed.xml",
                             "_docs/.inc/q.md", ".hidden/.deep/x.html", "_posts/2020-01-01-nofm.md", "_posts/2020-01-01-nofm.xyz",
                             "_posts/2020-01-02-fm.rb", "_posts/sub/2020-1-2-n.json", "blog/_posts/2020-01-03-c.rb",
                             "_posts/2020-01-08-a.b/cmd", "_drafts/d.xyz", "_drafts/sub/e.txt"], "\(rendered.sorted())")
        // The walk takes one file more, failing closed: Jekyll leaves out a post under `_u/`,
        // as it leaves out `_` entries unless `include:` names them (not matched).
        #expect(walked == rendered.union(["_posts/_u/2020-01-06-u.rb", "_config.yml"]), "walked \(walked.sorted()), rendered \(rendered.sorted())")

        // A `_config.toml` (which Jekyll reads when given it with `--config`) with no
        // `_config.yml` stops the gate: what it includes could not be told. Beside a
        // `_config.yml`, it is not read, as Jekyll reads only that one by default.
        try c.write("_config.toml", "include = [\".hidden\"]\n")
        let both = try CLI.avault(["verify", "--require-signature", "--json", c.content.path] + c.ring)
        #expect(both.code == 1 && !both.out.contains("/.hidden/.deep/y.html\""), "\(both.code) \(both.err)")
        try FileManager.default.removeItem(atPath: c.path("_config.yml"))
        let toml = try CLI.avault(["verify", c.content.path] + c.ring)
        #expect(toml.code == 2 && toml.out.isEmpty && toml.err.hasPrefix("avault: \(c.path("_config.toml")): ") && toml.err.contains("\navault: hint: ")
                    && toml.err.split(separator: "\n").count == 2, "\(toml.err)")
        let audit = try CLI.avault(["audit", c.content.path] + c.ring)
        #expect(audit.code == 2 && audit.err.hasPrefix("avault: \(c.path("_config.toml")): "), "\(audit.err)")
    }

    /// Three ways past the walk above, found by a review of it, each checked against `jekyll
    /// build`: a symbolic link `_docs` or `_posts` to a plain directory walked before (as a
    /// directory is walked once, its files were taken as the plain one's); `include:` items
    /// written with `./`, `//` or `/./`, which Jekyll reads at the path they name; and a layout
    /// with an extension no glob takes (`_layouts/default.zz` is layout `default`, and replaced
    /// a signed `default.html`).
    @Test(.timeLimit(.minutes(30))) func linksPathItemsAndLayoutsDoNotHideWhatJekyllPublishes() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        let page = "---\ntitle: t\n---\n"
        let files: [(name: String, frontMatter: Bool)] = [
            ("Pub/a/.h/page.md", true), ("P2/2020-01-01-evil.xyz", false), (".a/x.html", true), (".b/y.html", true), (".c/d/z.md", true),
            ("_layouts/default.zz", false), ("index.md", true),
        ]
        for (name, frontMatter) in files { try c.write(name, (frontMatter ? page : "") + "P-\(name)-{{ 'r' | upcase }}\n{{ content }}\n") }
        try c.write("index.md", "---\nlayout: default\n---\nP-index.md-{{ 'r' | upcase }}\n")
        try c.write("_config.yml", "collections:\n  docs:\n    output: true\ninclude: [\"./.a/x.html\", \".b//y.html\", \".c/./d/z.md\"]\n")
        try FileManager.default.createSymbolicLink(atPath: c.path("_docs"), withDestinationPath: "Pub")
        try FileManager.default.createSymbolicLink(atPath: c.path("_posts"), withDestinationPath: "P2")
        let rendered = try c.jekyllRendered(files.map(\.name))
        #expect(rendered == Set(files.map(\.name)), "\(rendered.sorted())")
        // What the gate checked, each file by its path through no link.
        let walked = try c.walked(resolvingLinks: true)
        #expect(rendered.subtracting(walked).isEmpty, "not walked: \(rendered.subtracting(walked).sorted())")
        // A directory reached through links at more than 4 places stops the walk (exit 2): a
        // loop, seen from the collection, is a new place at each turn.
        try FileManager.default.createSymbolicLink(atPath: c.path("Pub/loop"), withDestinationPath: ".")
        let many = try CLI.avault(["verify", c.content.path] + c.ring)
        #expect(many.code == 2 && many.err.contains("reached through symbolic links at more than 4 places"), "\(many.code) \(many.err)")
    }

    /// The configuration may move what Jekyll reads: collections (`collections_dir`), layouts,
    /// includes and data files (`layouts_dir`, `includes_dir`, `data_dir`), hidden ones too. The
    /// walk enters them where the configuration puts them, and takes every layout, include and
    /// data file (Liquid reads data files into signed pages: `{{ site.data.d.v }}`).
    @Test(.timeLimit(.minutes(30))) func directoriesTheConfigurationMovesAreWalkedWhereJekyllReadsThem() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("_config.yml", "collections:\n  docs:\n    output: true\ncollections_dir: ./.c\nlayouts_dir: .lay\nincludes_dir: .inc2/\ndata_dir: .dat\n")
        try c.write(".c/_docs/x.md", "---\ntitle: t\n---\nP-.c/_docs/x.md-{{ 'r' | upcase }}\n")
        try c.write(".lay/default.zz", "P-.lay/default.zz-{{ 'r' | upcase }}\n{{ content }}\n")
        try c.write(".inc2/part.zz", "P-.inc2/part.zz-{{ 'r' | upcase }}\n")
        try c.write(".dat/d.yml", "v: \"P-.dat/d.yml-R\"\n")
        try c.write("index.md", "---\nlayout: default\n---\nP-index.md-{{ 'r' | upcase }}\n{% include part.zz %}\n{{ site.data.d.v }}\n")
        let names = [".c/_docs/x.md", ".lay/default.zz", ".inc2/part.zz", ".dat/d.yml", "index.md"]
        let rendered = try c.jekyllRendered(names)
        #expect(rendered == Set(names), "\(rendered.sorted())")
        let walked = try c.walked()
        #expect(rendered.subtracting(walked).isEmpty, "not walked: \(rendered.subtracting(walked).sorted())")
        // Signed (the layout, the include and the data file by a detached `.minisig`, which is
        // not taken as a file of its own), the site passes; a `.minisig` that signs no file
        // beside it is a file like any other there.
        for name in [".lay/default.zz", ".inc2/part.zz", ".dat/d.yml", "_config.yml"] {
            #expect(try CLI.avault(["sign", "--detached", c.path(name), "--key", "demo-desk"] + c.demo.args).code == 0)
        }
        for name in [".c/_docs/x.md", "index.md"] { #expect(try CLI.avault(["sign", c.path(name), "--key", "demo-desk"] + c.demo.args).code == 0) }
        let signed = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(signed.code == 0 && signed.out.hasSuffix("6 records: 6 passed, 0 failed (valid 6)\n"), "\(signed.out)")
        try FileManager.default.copyItem(atPath: c.path(".lay/default.zz.minisig"), toPath: c.path(".lay/other.minisig"))
        let stray = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(stray.code == 1 && stray.out.contains(".lay/other.minisig: unsigned"), "\(stray.out)")
        // A setting that is not a name stops the command (exit 2).
        try c.write("_config.yml", "layouts_dir: [a, b]\n")
        let bad = try CLI.avault(["verify", c.content.path] + c.ring)
        #expect(bad.code == 2 && bad.err.contains("malformed site configuration: line 1: layouts_dir: is not a directory name"), "\(bad.err)")
    }

    /// A second review found more that Jekyll renders into pages from files the walk did not
    /// take: the configuration itself (`{{ site.title }}`), plugins (`_plugins/*.rb`, which a
    /// plain `jekyll build` runs), Sass partials compiled into published CSS, and files named
    /// `*.minisig` that the walk took for detached signatures (since 8522c6c): a layout
    /// `default.minisig` (layout `default`) beside a directory `default`, and a post
    /// `….md.minisig` with front matter after a byte order mark beside a signed post.
    @Test(.timeLimit(.minutes(30))) func theConfigurationPluginsPartialsAndSignatureNamesAreChecked() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("_config.yml", "title: \"P-_config.yml-R\"\n")
        try c.write("_plugins/p.rb", "Jekyll::Hooks.register :pages, :post_render do |d|\n  d.output += 'P-_plugins/p' + '.rb-R'\nend\n")
        try c.write("_sass/brand.scss", "body::after { content: \"P-_sass/brand.scss-\" + \"R\"; }\n")
        try c.write("assets/main.scss", "---\n---\n@import \"brand\";\n")
        try c.write("_layouts/default/.keep", "")
        try c.write("_layouts/default.minisig", "P-_layouts/default.minisig-{{ 'r' | upcase }}\n{{ content }}\n")
        try c.write("index.md", "---\nlayout: default\n---\nP-index.md-{{ 'r' | upcase }} {{ site.title }}\n", sign: true)
        try c.write("_posts/2024-01-01-hello.md", "---\ntitle: hello\n---\nhello\n", sign: true)
        try c.write("_posts/2024-01-01-hello.md.minisig", "\u{FEFF}---\npermalink: /breaking/\n---\nP-_posts/2024-01-01-hello.md.minisig-{{ 'r' | upcase }}\n")
        let names = ["_config.yml", "_plugins/p.rb", "_sass/brand.scss", "_layouts/default.minisig", "index.md", "_posts/2024-01-01-hello.md.minisig"]
        let rendered = try c.jekyllRendered(names)
        #expect(rendered == Set(names), "\(rendered.sorted())")
        let walked = try c.walked()
        #expect(rendered.subtracting(walked).isEmpty, "not walked: \(rendered.subtracting(walked).sorted())")
        let gate = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(gate.code == 1, "\(gate.out)")
        // A directory setting that names the site's own directory stops the command; a null
        // one leaves Jekyll's default.
        try c.write("_config.yml", "layouts_dir: \"\"\n")
        let own = try CLI.avault(["verify", c.content.path] + c.ring)
        #expect(own.code == 2 && own.err.contains("layouts_dir: names the site's own directory"), "\(own.err)")
        try c.write("_config.yml", "layouts_dir: ~\n")
        #expect(try c.walked().contains("_layouts/default.minisig"))
    }

    /// Static files (scripts, styles, a `LICENSE`) are published as they are, and the default
    /// globs do not take them: `--include '*'` has every file signed, each beside its detached
    /// `.minisig`, which is then checked with its file and not taken as a file of its own (it
    /// was, and failed as unsigned, so that the mode could not pass). A `.minisig` that starts
    /// with front matter (a page) or signs no file beside it is still taken.
    @Test(.timeLimit(.minutes(30))) func withEveryFileIncludedStaticFilesAreCheckedBesideTheirSignatures() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("index.md", "---\ntitle: home\n---\nHome.\n", sign: true)
        try c.write("assets/app.js", "document.title = 'ours';\n")
        try c.write("LICENSE", "All rights reserved.\n")
        for name in ["assets/app.js", "LICENSE"] {
            let r = try CLI.avault(["sign", "--detached", c.path(name), "--key", "demo-desk"] + c.demo.args)
            #expect(r.code == 0, "sign \(name): \(r.err)")
        }
        _ = try c.jekyllRendered([])
        let published = c.demo.dir.appendingPathComponent("site/assets/app.js").path
        #expect(FileManager.default.fileExists(atPath: published), "Jekyll publishes the script as it is")
        let every = ["verify", "--require-signature", "--include", "*", "--json", c.content.path] + c.ring
        let gate = try CLI.avault(every)
        #expect(gate.code == 0, "\(gate.out) \(gate.err)")
        #expect(gate.out.contains("\"records\":3,"), "\(gate.out)")
        // The script changed: refused.
        try c.edit("assets/app.js", Self.replacing("ours", "theirs"))
        let changed = try CLI.avault(every)
        #expect(changed.code == 1 && changed.out.contains("app.js\",\"pathEscaped\":false,\"outcome\":\"invalid\""), "\(changed.out)")
        try c.edit("assets/app.js", Self.replacing("theirs", "ours"))
        // A signature file that Jekyll renders as a page, or that signs nothing here, is a file.
        try c.write("LICENSE.minisig", "---\n---\n<script>alert(1)</script>\n")
        try c.write("orphan.minisig", "untrusted comment: signature from minisign secret key\n")
        // Nor is a signature of a signature (found by a second review: nothing checked it).
        try c.write("assets/app.js.minisig.minisig", "untrusted comment: <script>alert(1)</script>\n")
        let pages = try CLI.avault(every)
        #expect(pages.code == 1 && pages.out.contains("LICENSE.minisig") && pages.out.contains("orphan.minisig")
                && pages.out.contains("app.js.minisig.minisig"), "\(pages.out)")
    }

    /// Jekyll's `include_relative` reads a file, whole and rendered as Liquid, into the page,
    /// resolved against the page's directory: the page's signature covers the tag only, and the
    /// walk does not take `part.js`, or anything in `_private/` (a review found the gate passing
    /// a signed page whose rendered text an unsigned file beside it changed). The file read is
    /// checked as any other (a detached signature passes it), and so are the files its own tags
    /// read, against the same page's directory.
    @Test(.timeLimit(.minutes(30))) func filesIncludeRelativeReadsIntoAPageAreChecked() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("page.md", "---\ntitle: a page\n---\nP-page.md-{{ 'r' | upcase }}\n{% include_relative part.js %}\n"
                    + "{%- include_relative _private/snippet.inc -%}\n", sign: true)
        try c.write("part.js", "P-part.js-{{ 'r' | upcase }}\n")
        try c.write("_private/snippet.inc", "P-_private/snippet.inc-{{ 'r' | upcase }}\n{% include_relative _private/deeper.inc %}\n")
        try c.write("_private/deeper.inc", "P-_private/deeper.inc-{{ 'r' | upcase }}\n")
        let names = ["page.md", "part.js", "_private/snippet.inc", "_private/deeper.inc"]
        #expect(try c.jekyllRendered(names) == Set(names))
        // Each gets a report: the page's, and one for each file read into it.
        #expect(try c.walked() == Set(names))

        let gate = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(gate.code == 1, "\(gate.out)")
        // With --require-signature the walk takes them itself, as static files (`_private/`
        // may be a collection: failing closed), so their own reports count; without front
        // matter, Jekyll copies them as they are and renders none of their tags there.
        for name in names.dropFirst() {
            #expect(gate.out.contains("\(c.path(name)): unsigned: no front matter\n"), "\(gate.out)")
        }
        #expect(gate.out.contains("4 records: 1 passed, 3 failed"), "\(gate.out)")
        // Without --require-signature an unsigned file passes, read into a page or not.
        #expect(try CLI.avault(["verify", c.content.path] + c.ring).code == 0)

        for name in names.dropFirst() {
            #expect(try CLI.avault(["sign", "--detached", c.path(name), "--key", "demo-desk"] + c.demo.args).code == 0)
        }
        let signed = try CLI.avault(["verify", "--require-signature", "--json", c.content.path] + c.ring)
        #expect(signed.code == 0, "\(signed.out)")
        #expect(signed.out.contains("\"records\":4"), "\(signed.out)")
        try c.edit("_private/deeper.inc", Self.replacing("P-", "FORGED P-"))
        let forged = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(forged.code == 1 && forged.out.contains("\(c.path("_private/deeper.inc")): invalid"), "\(forged.out)")
        // Not there: Jekyll fails the build, and the gate the page.
        try FileManager.default.removeItem(atPath: c.path("_private/deeper.inc"))
        let missing = try CLI.avault(["verify", c.content.path] + c.ring)
        #expect(missing.code == 1 && missing.out.contains("\(c.path("page.md")): valid: include_relative _private/deeper.inc in \(c.path("_private/snippet.inc")): "),
                "\(missing.out)")
    }

    /// Found by a review: `include` and `include_relative` read a file into the page as it is,
    /// front matter included, while a record signature covers the record's canonical form: a
    /// YAML comment added to the front matter of a signed `part.md` or `_includes/note.html`
    /// kept it valid and was published in the page. Such a file needs a detached signature of
    /// its bytes (which is checked with it, not as a file of its own). And a `{% liquid %}` line
    /// that starts with a form feed was missed (Liquid strips it as Ruby's `\s`).
    @Test(.timeLimit(.minutes(30))) func filesReadIntoPagesAsTheyAreNeedASignatureOfTheirBytes() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("index.md", "---\ntitle: home\n---\n{% include_relative part.md %}\n{% include note.html %}\n", sign: true)
        try c.write("part.md", "---\ntitle: part\n---\nThe part.\n", sign: true)
        try c.write("_includes/note.html", "---\ntitle: note\n---\nThe note.\n", sign: true)
        try c.write("_config.yml", "title: site\n")
        #expect(try CLI.avault(["sign", "--detached", c.path("_config.yml"), "--key", "demo-desk"] + c.demo.args).code == 0)
        for name in ["part.md", "_includes/note.html"] {
            try c.edit(name, Self.replacing("title: ", "# P-\(name)-R <script>\ntitle: "))
        }
        let rendered = try c.jekyllRendered(["part.md", "_includes/note.html"])
        #expect(rendered == ["part.md", "_includes/note.html"], "\(rendered)")
        let gate = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(gate.code == 1, "\(gate.out)")
        #expect(gate.out.contains("\(c.path("_includes/note.html")): valid: \(c.path("_includes/note.html")) has front matter, which Jekyll reads into pages as it is"),
                "\(gate.out)")
        #expect(gate.out.contains("\(c.path("index.md")): valid: include_relative part.md: \(c.path("part.md")) has front matter"), "\(gate.out)")
        // Signed detached, as they are: passes (the signatures are not files of their own); changed again: refused.
        for name in ["part.md", "_includes/note.html"] {
            #expect(try CLI.avault(["sign", "--detached", c.path(name), "--key", "demo-desk"] + c.demo.args).code == 0)
        }
        let signed = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(signed.code == 0, "\(signed.out)")
        try c.edit("_includes/note.html", Self.replacing("# P-", "# Q-"))
        let changed = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(changed.code == 1 && changed.out.contains("note.html.minisig: invalid"), "\(changed.out)")

        try c.write("liquid.md", "---\ntitle: l\n---\n{% liquid\nassign a = 1\n\u{0C}include_relative _private/x.inc\n%}\n", sign: true)
        try c.write("_private/x.inc", "P-_private/x.inc-{{ 'r' | upcase }}\n")
        #expect(try c.jekyllRendered(["_private/x.inc"]) == ["_private/x.inc"])
        let liquid = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(liquid.code == 1 && liquid.out.contains("\(c.path("_private/x.inc")): unsigned"), "\(liquid.out)")
    }

    /// Found by a second review: `_data` a link to `_includes`, walked first (as data files),
    /// made the walk skip `_includes` as a directory seen before at an equal place, so that its
    /// files were not checked as read into pages as they are. The includes directory (and the
    /// layouts one) is now a place of its own, walked again under that name.
    @Test(.timeLimit(.minutes(30))) func theIncludesDirectoryReachedFirstUnderAnotherNameIsStillReadAsIt() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("index.md", "---\ntitle: home\n---\n{% include note.html %}\n", sign: true)
        try c.write("_includes/note.html", "---\ntitle: note\n---\nThe note.\n", sign: true)
        try c.write("_config.yml", "title: site\n")
        #expect(try CLI.avault(["sign", "--detached", c.path("_config.yml"), "--key", "demo-desk"] + c.demo.args).code == 0)
        try FileManager.default.createSymbolicLink(atPath: c.path("_data"), withDestinationPath: "_includes")
        try c.edit("_includes/note.html", Self.replacing("title: ", "# P-_includes/note.html-R <script>\ntitle: "))
        #expect(try c.jekyllRendered(["_includes/note.html"]) == ["_includes/note.html"])
        let gate = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(gate.code == 1 && gate.out.contains("\(c.path("_includes/note.html")): valid: \(c.path("_includes/note.html")) has front matter"),
                "\(gate.out)")
    }

    /// What the gate cannot resolve fails it: a name from a Liquid variable (rendered first, in
    /// the page's context), and a tag in a layout or an include (read beside each page that
    /// uses it, not beside the layout).
    @Test(.timeLimit(.minutes(30))) func includeRelativeTheGateCannotResolveFailsIt() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("page.md", "---\nlayout: default\npart: part.js\n---\nP-page.md-{{ 'r' | upcase }}\n{% include_relative {{ page.part }} %}\n", sign: true)
        try c.write("_layouts/default.html", "{{ content }}\n{% include_relative footer.inc %}\n")
        #expect(try CLI.avault(["sign", "--detached", c.path("_layouts/default.html"), "--key", "demo-desk"] + c.demo.args).code == 0)
        try c.write("part.js", "P-part.js-{{ 'r' | upcase }}\n")
        try c.write("footer.inc", "P-footer.inc-{{ 'r' | upcase }}\n")
        let names = ["page.md", "part.js", "footer.inc"]
        #expect(try c.jekyllRendered(names) == Set(names))

        let gate = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(gate.code == 1, "\(gate.out)")
        #expect(gate.out.contains("\(c.path("page.md")): valid: include_relative {{ page.part }}: a file name from a Liquid variable, known only as the page renders; not checked\n"),
                "\(gate.out)")
        #expect(gate.out.contains("\(c.path("_layouts/default.html")): valid: no front matter; signed by default.html.minisig; include_relative footer.inc in a layout or include reads a file relative to each page that uses it; not checked\n"),
                "\(gate.out)")
        // With part.js and footer.inc, static files taken with --require-signature (unsigned).
        #expect(gate.out.contains("4 records: 0 passed, 4 failed"), "\(gate.out)")
    }

    /// Jekyll reads the front matter of a page, a post or a layout as data and renders none of
    /// it: `jekyll build` builds a page whose front matter names a file that is not there, and
    /// `{{ page.description }}` prints the tag in it as text. The gate followed such a tag all
    /// the same, failing a signed page (and a layout) that Jekyll publishes as signed: no site
    /// with one could pass. In the body, the same tag is still followed.
    @Test(.timeLimit(.minutes(30))) func includeRelativeInAPagesFrontMatterIsNotFollowed() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("page.md", "---\nlayout: default\ndescription: \"use {% include_relative notes.md %} to read the notes\"\n---\n"
                    + "P-page.md-{{ 'r' | upcase }}\n", sign: true)
        try c.write("_posts/2024-05-01-post.md", "---\r\nlayout: default\r\nexcerpt: \"{%- include_relative post-notes.md -%}\"\r\n...\r\n"
                    + "P-post-{{ 'r' | upcase }}\r\n", sign: true)
        try c.write("_layouts/default.html", "---\nnote: \"{% include_relative footer.inc %}\"\n---\n{{ content }}\n[{{ page.description }}]\n", sign: true)
        #expect(try c.jekyllRendered(["page.md", "post"]) == ["page.md", "post"])
        let html = try String(contentsOf: c.demo.dir.appendingPathComponent("site/page.html"), encoding: .utf8)
        #expect(html.contains("[use {% include_relative notes.md %} to read the notes]"), "\(html)")

        let gate = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(gate.code == 0 && gate.out.hasSuffix("3 records: 3 passed, 0 failed (valid 3)\n"), "\(gate.out)")
        #expect(!gate.out.contains("include_relative"), "\(gate.out)")

        try c.write("page.md", "---\nlayout: default\ndescription: \"use {% include_relative notes.md %} to read the notes\"\n---\n"
                    + "P-page.md-{{ 'r' | upcase }}\n{% include_relative notes.md %}\n", sign: true)
        let body = try CLI.avault(["verify", c.content.path] + c.ring)
        #expect(body.code == 1 && body.out.contains("\(c.path("page.md")): valid: include_relative notes.md: "), "\(body.out)")
    }

    /// What `include_relative` (or `include`) reads into a page is pasted whole, front matter
    /// included, and rendered as Liquid: `jekyll build` runs a tag in the front matter of such
    /// a file (in the page that reads it, not in the file's own page), and fails the build
    /// when it names a file that is not there. The gate follows it, against the reading page's
    /// directory, and counts one in the front matter of a file of the includes directory.
    @Test(.timeLimit(.minutes(30))) func includeRelativeInTheFrontMatterOfAFileReadIntoAPageIsFollowed() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("index.md", "---\ntitle: home\n---\nP-index.md-{{ 'r' | upcase }}\n{% include_relative part.md %}\n", sign: true)
        try c.write("part.md", "---\ntitle: part\nnote: \"{% include_relative _private/x.inc %}\"\n---\nThe part.\n", sign: true)
        #expect(try CLI.avault(["sign", "--detached", c.path("part.md"), "--key", "demo-desk"] + c.demo.args).code == 0)
        try c.write("_private/x.inc", "P-_private/x.inc-{{ 'r' | upcase }}\n")
        #expect(try c.jekyllRendered(["index.md", "_private/x.inc"]) == ["index.md", "_private/x.inc"])
        let part = try String(contentsOf: c.demo.dir.appendingPathComponent("site/part.html"), encoding: .utf8)
        #expect(!part.contains("P-_private/x.inc-R"), "\(part)")

        // (Pages only: with --require-signature alone the walk takes x.inc itself, a static file.)
        let gate = try CLI.avault(["verify", "--require-signature", "--include", "*.md", c.content.path] + c.ring)
        #expect(gate.code == 1, "\(gate.out)")
        #expect(gate.out.contains("\(c.path("_private/x.inc")): unsigned: no front matter; read into \(c.path("index.md")) by include_relative\n"),
                "\(gate.out)")
        #expect(gate.out.contains("3 records: 2 passed, 1 failed"), "\(gate.out)")
        #expect(try CLI.avault(["sign", "--detached", c.path("_private/x.inc"), "--key", "demo-desk"] + c.demo.args).code == 0)
        #expect(try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring).code == 0)

        // Not there: Jekyll fails the build, and the gate the page that reads part.md (part.md,
        // as a page, reads nothing).
        try FileManager.default.removeItem(atPath: c.path("_private/x.inc"))
        let built = try CLI.run("/usr/bin/jekyll", ["build", "-q", "--disable-disk-cache", "-s", c.content.path,
                                                    "-d", c.demo.dir.appendingPathComponent("site2").path])
        #expect(built.code != 0 && built.err.contains("_private/x.inc"), "\(built.err)")
        let missing = try CLI.avault(["verify", c.content.path] + c.ring)
        #expect(missing.code == 1 && missing.out.contains("\(c.path("index.md")): valid: include_relative _private/x.inc in \(c.path("part.md")): "),
                "\(missing.out)")
        #expect(!missing.out.contains("\(c.path("part.md")): valid: include_relative") && missing.out.contains("1 failed"), "\(missing.out)")

        // In the includes directory, `include` pastes a file whole: a tag in its front matter
        // counts as any of its tags.
        try c.write("_includes/note.html", "---\nnote: \"{% include_relative y.inc %}\"\n---\nThe note.\n", sign: true)
        #expect(try CLI.avault(["sign", "--detached", c.path("_includes/note.html"), "--key", "demo-desk"] + c.demo.args).code == 0)
        let include = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(include.code == 1 && include.out.contains("\(c.path("_includes/note.html")): valid: "
                                                         + "include_relative y.inc in a layout or include reads a file relative to each page that uses it; not checked\n"),
                "\(include.out)")
    }

    /// A name that is not UTF-8 is published by a site generator as any other, and a Swift
    /// string cannot hold it: read as one, `post\xff.md` became `post\u{FFFD}.md`, so a signed
    /// copy planted under that name was verified twice and the unsigned file never, and a
    /// directory `blog\xff/` was skipped as already walked. Both are now failures that name
    /// the file, and such a name given as an argument is refused.
    @Test func namesThatAreNotUTF8AreFailuresNotSkipped() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("post\u{FFFD}.md", Self.record, sign: true)
        try c.write("blog\u{FFFD}/a.md", Self.record, sign: true)
        let raw = { (name: [UInt8]) -> [CChar] in (Array(c.content.path.utf8) + [0x2F] + name + [0]).map { CChar(bitPattern: $0) } }
        let file = open(raw(Array("post".utf8) + [0xFF] + Array(".md".utf8)), O_WRONLY | O_CREAT | O_EXCL, 0o644)
        try #require(file >= 0)
        #expect(write(file, "---\ntitle: unsigned\n---\nforged\n", 31) == 31)
        close(file)
        try #require(mkdir(raw(Array("blog".utf8) + [0xFF]), 0o755) == 0)
        let inner = open(raw(Array("blog".utf8) + [0xFF] + Array("/x.md".utf8)), O_WRONLY | O_CREAT | O_EXCL, 0o644)
        try #require(inner >= 0)
        close(inner)
        // A static file is taken with --require-signature, whatever its name (below: not without).
        let image = open(raw(Array("image".utf8) + [0xFF] + Array(".png".utf8)), O_WRONLY | O_CREAT | O_EXCL, 0o644)
        try #require(image >= 0)
        close(image)
        // Nor is a link to one, found as a link (its kind is looked up by its bytes).
        try #require(symlink("image.png", raw(Array("logo".utf8) + [0xFF] + Array(".png".utf8))) == 0)

        let r = try CLI.avault(["verify", "--require-signature", "--json", c.content.path] + c.ring)
        #expect(r.code == 1, "\(r.err)")
        let records = r.out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["type"] as? String == "record" }
        var got: [String: String] = [:]
        for rec in records { got[String((rec["path"] as? String ?? "").dropFirst(c.content.path.count + 1))] = rec["outcome"] as? String }
        #expect(got == ["post\u{FFFD}.md": "valid", "blog\u{FFFD}/a.md": "valid", "post\\xff.md": "malformed", "blog\\xff": "malformed",
                        "image\\xff.png": "malformed", "logo\\xff.png": "malformed"])
        let pages = try CLI.avault(["verify", "--json", c.content.path] + c.ring).out
        #expect(!pages.contains(".png") && pages.contains("\"records\":4"), "\(pages)")
        #expect(records.filter { $0["outcome"] as? String == "malformed" }.allSatisfy { $0["reason"] as? String == "its name is not UTF-8 (not opened)" })
        for rec in records {
            let escaped = rec["pathEscaped"] as? Bool, malformed = rec["outcome"] as? String == "malformed"
            #expect(escaped == malformed, "\(rec)")
        }
        // A file literally named with the escape is told apart, in JSON by pathEscaped and in
        // text by its quoting (a review found both printed alike).
        try c.write("post\\xff.md", Self.record)
        let twins = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(twins.out.contains("\"\(c.content.path)/post\\xff.md\": malformed") && twins.out.contains("\"\(c.content.path)/post\\\\xff.md\": unsigned"),
                "\(twins.out)")
        let twinsJSON = try CLI.avault(["verify", "--require-signature", "--json", c.content.path] + c.ring).out.split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter { ($0["path"] as? String)?.hasSuffix("/post\\xff.md") == true }
        let flags: [Bool] = twinsJSON.compactMap { $0["pathEscaped"] as? Bool }
        #expect(flags.count == 2 && Set(flags) == [false, true], "\(twinsJSON)")
        try FileManager.default.removeItem(at: c.content.appendingPathComponent("post\\xff.md"))
        // Excluded, they are left out like any other name (the globs see U+FFFD for the byte,
        // so these also leave out the files so named).
        let excluded = try CLI.avault(["verify", "--require-signature", c.content.path, "--exclude", "post\u{FFFD}.md", "--exclude", "blog\u{FFFD}",
                                       "--exclude", "*.png"] + c.ring)
        #expect(excluded.code == 1 && excluded.err.hasPrefix("avault: nothing to verify"), "\(excluded.out)\(excluded.err)")
        let onlyTheDirectory = try CLI.avault(["verify", "--require-signature", c.content.path, "--exclude", "post\u{FFFD}.md", "--exclude", "*.png"] + c.ring)
        #expect(onlyTheDirectory.code == 1 && onlyTheDirectory.out.contains("1 failed"), "\(onlyTheDirectory.out)")

        // Named on the command line: refused before anything is read.
        let named = try CLI.run("/bin/sh", ["-c", "exec \"$0\" verify --require-signature --keyring \"$1\" \"$(printf '%s/post\\377.md' \"$2\")\"",
                                            CLI.avaultPath, c.demo.ring, c.content.path])
        #expect(named.code == 64)
        #expect(named.err == "avault: argument 5 is not UTF-8: avault would read another path than the one given\n"
                + "avault: hint: rename the file (or directory) to a UTF-8 name\n")
    }

    @Test func anEmptyGatePassesNothing() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let empty = demo.dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let r = try CLI.avault(["verify", "--require-signature", empty.path, "--keyring", demo.ring])
        #expect(r.code == 1)
        #expect(r.err.hasPrefix("avault: nothing to verify"))
        #expect(r.err.contains("avault: hint: "))
        // Without --require-signature, nothing to check is not a failure.
        #expect(try CLI.avault(["verify", empty.path, "--keyring", demo.ring]).code == 0)
    }

    @Test func noTrustStoreIsABrokenSetupNotAVerdict() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let record = try demo.record("r.md", Self.record)
        let empty = demo.dir.appendingPathComponent("no-ring").path
        for command in ["verify", "audit"] {
            let r = try CLI.avault([command, record, "--keyring", empty])
            #expect(r.code == 2, "\(command): \(r.out)\(r.err)")
            #expect(r.err.hasPrefix("avault: no trust store at "))
            #expect(r.err.contains("avault: hint: ") && r.err.contains("--pubkey"))
        }
        // An unreadable trust store is operational too.
        let store = demo.dir.appendingPathComponent("ring/trust.avt").path
        #expect(chmod(store, 0) == 0)
        defer { chmod(store, 0o600) }
        if geteuid() != 0 { #expect(try CLI.avault(["verify", record, "--keyring", demo.ring]).code == 2) }
    }

    @Test func repeatedPublicKeysAreEachTrusted() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let record = try demo.record("r.md", Self.record)
        #expect(try CLI.avault(["sign", record, "--key", "demo-desk"] + demo.args).code == 0)
        let other = demo.dir.appendingPathComponent("other.pub").path, otherKey = demo.dir.appendingPathComponent("other.key").path
        #expect(try CLI.run("minisign", ["-G", "-W", "-p", other, "-s", otherKey]).code == 0)
        let one = try CLI.avault(["verify", record, "--pubkey", other])
        #expect(one.code == 1)
        let both = try CLI.avault(["verify", record, "--pubkey", other, "--pubkey", demo.pub, "--json"])
        #expect(both.code == 0, "\(both.out)")
        #expect(both.out.contains("\"signer\":null"))
        let reversed = try CLI.avault(["verify", record, "--pubkey", demo.pub, "--pubkey", other])
        #expect(reversed.code == 0)
    }

    /// `verify --detached` applies the trust store's validity window and `--require-role`.
    @Test func detachedVerificationUsesTheWholeTrustPolicy() throws {
        let demo = try DemoRing()
        defer { try? FileManager.default.removeItem(at: demo.dir) }
        let file = try demo.record("doc.txt", "a detached document\n")
        let store = demo.dir.appendingPathComponent("windowed.avt").path
        let add = try CLI.avault(["keys", "trust", "add", demo.pub, "--name", "Old desk", "--role", "desk",
                                  "--not-before", "2020-01-01T00:00:00Z", "--not-after", "2021-12-31T00:00:00Z", "--trust-store", store])
        #expect(add.code == 0, "\(add.err)")
        #expect(try CLI.avault(["sign", "--detached", file, "--key", "demo-desk"] + demo.args).code == 0)
        let expired = try CLI.avault(["verify", "--detached", file, "--trust-store", store])
        #expect(expired.code == 1)
        #expect(expired.err.contains("expired"), "\(expired.err)")
        // In the keyring's own store the key has no window: valid, but not for a role it lacks.
        #expect(try CLI.avault(["verify", "--detached", file, "--keyring", demo.ring]).code == 0)
        #expect(try CLI.avault(["verify", "--detached", file, "--keyring", demo.ring, "--require-role", "desk"]).code == 0)
        let role = try CLI.avault(["verify", "--detached", file, "--keyring", demo.ring, "--require-role", "legal"])
        #expect(role.code == 1)
        #expect(role.err.contains("role legal"), "\(role.err)")
    }
}
