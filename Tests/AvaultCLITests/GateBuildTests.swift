import Foundation
import Testing

/// What `jekyll build` reads besides the site's pages, found by a review: its cache, Bundler's
/// Gemfile, settings that move the site or its plugins elsewhere, and files it reads as they
/// are where a record's embedded signature was taken.
extension PublishingGate {
    /// A signed site, its configuration signed detached, that the gate passes.
    private static func signedSite(_ config: String = "title: site\n") throws -> Corpus {
        let c = try Corpus()
        try c.write("index.md", "---\ntitle: home\n---\nP-index.md-{{ 'r' | upcase }}\n", sign: true)
        try signConfig(c, config)
        return c
    }

    private static func signConfig(_ c: Corpus, _ config: String) throws {
        try c.write("_config.yml", config)
        unlink(c.path("_config.yml.minisig"))
        #expect(try CLI.avault(["sign", "--detached", c.path("_config.yml"), "--key", "demo-desk"] + c.demo.args).code == 0)
    }

    /// Jekyll keeps a cache in the site (`.jekyll-cache`, or `cache_dir:`), keyed by a digest of
    /// a file's text, whose entries it uses in place of rendering the file: one planted there
    /// published other text in a signed page. The gate refuses a site that holds one, and the
    /// record of an incremental build (`.jekyll-metadata`), which it cannot check.
    @Test(.timeLimit(.minutes(30))) func whatJekyllReadsInPlaceOfRenderingIsRefused() throws {
        let c = try Self.signedSite()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        let gate = ["verify", "--require-signature", c.content.path] + c.ring
        #expect(try CLI.avault(gate).code == 0)
        // A build with its cache (as one run in the site's copy before the gate) leaves it there.
        let built = try CLI.run("/usr/bin/jekyll", ["build", "-q", "-s", c.content.path, "-d", c.demo.dir.appendingPathComponent("site").path])
        try #require(built.code == 0, "jekyll build: \(built.err)")
        let cache = c.path(".jekyll-cache/Jekyll/Cache")
        try #require(FileManager.default.fileExists(atPath: cache), "jekyll build left no cache in the site")
        let refused = try CLI.avault(gate)
        #expect(refused.code == 2 && refused.out.isEmpty, "\(refused.code) \(refused.out)")
        #expect(refused.err.contains("avault: \(cache): Jekyll's cache") && refused.err.contains("avault: hint: remove it (rm -r"), "\(refused.err)")
        try FileManager.default.removeItem(atPath: c.path(".jekyll-cache"))
        #expect(try CLI.avault(gate).code == 0)

        try c.write(".jekyll-metadata", "")
        let metadata = try CLI.avault(gate)
        #expect(metadata.code == 2 && metadata.err.contains("\(c.path(".jekyll-metadata")): the record of an incremental build"), "\(metadata.err)")
        unlink(c.path(".jekyll-metadata"))

        // Where the configuration puts the cache.
        try Self.signConfig(c, "title: site\ncache_dir: ./build/cache\n")
        try c.write("build/cache/Jekyll/Cache/x", "")
        let moved = try CLI.avault(gate)
        #expect(moved.code == 2 && moved.err.contains("\(c.path("build/cache/Jekyll/Cache")): Jekyll's cache"), "\(moved.err)")
    }

    /// `source:` makes `jekyll build` (without `-s`) build another directory than the one the
    /// gate walked; a `plugins_dir:` other than `_plugins` is read from the directory Jekyll runs
    /// in (`Site#plugins_path`), not from the site. Both are refused.
    @Test(.timeLimit(.minutes(30))) func settingsThatMoveWhatJekyllReadsOutOfTheSiteAreRefused() throws {
        let c = try Self.signedSite()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        let gate = ["verify", "--require-signature", c.content.path] + c.ring
        for (config, said) in [("source: src\n", "source: makes jekyll build read another directory"),
                               ("source: !!binary Lg==\n", "source: makes jekyll build read another directory"),
                               ("plugins_dir: myplugins\n", "plugins_dir: other than _plugins"),
                               ("plugins_dir: ./_plugins\n", "plugins_dir: other than _plugins"),
                               // Found by the second review: Psych reads `!!binary LmM=` as `.c`,
                               // and keeps an absolute path inside the source as it is.
                               ("cache_dir: !!binary LmM=\n", "cache_dir: with a tag or an absolute path"),
                               ("cache_dir: /srv/site/.cc\n", "cache_dir: with a tag or an absolute path")] {
            try Self.signConfig(c, "title: site\n" + config)
            let r = try CLI.avault(gate)
            #expect(r.code != 0 && r.err.contains(said), "\(config): \(r.code) \(r.err)")
        }
        for config in ["plugins_dir: _plugins\n", "plugins_dir: ~\n", "cache_dir: c\n", "source: .\n", "source: ~\n"] {
            try Self.signConfig(c, "title: site\n" + config)
            let r = try CLI.avault(gate)
            #expect(r.code == 0, "\(config): \(r.err)")
        }
    }

    /// `jekyll build` evaluates the Gemfile of the directory it runs in (`--safe` too), which may
    /// load any code (a review published text from a hook so registered): Bundler's files at the
    /// site's top need a signature of their bytes. So do the configuration and the data files,
    /// which Jekyll reads as they are: a signed record put in their place (its front matter a
    /// configuration to YAML) passed with its embedded signature.
    @Test(.timeLimit(.minutes(30))) func filesJekyllReadsAsTheyAreNeedASignatureOfTheirBytes() throws {
        let c = try Self.signedSite()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        let gate = ["verify", "--require-signature", c.content.path] + c.ring
        try c.write("Gemfile", "source \"https://rubygems.org\"\ngem \"jekyll\"\n")
        let gemfile = try CLI.avault(gate)
        #expect(gemfile.code == 1 && gemfile.out.contains("\(c.path("Gemfile")): unsigned"), "\(gemfile.out)")
        #expect(try CLI.avault(["sign", "--detached", c.path("Gemfile"), "--key", "demo-desk"] + c.demo.args).code == 0)
        #expect(try CLI.avault(gate).code == 0)
        // Found by the second review: Bundler evaluates gems.rb before the Gemfile, a `gemspec`
        // line the *.gemspec beside it, and reads where gems come from in .bundle/.
        for name in ["gems.rb", "theme.gemspec"] {
            try c.write(name, "File.write(\"/tmp/pwned\", \"x\")\n")
            let r = try CLI.avault(gate)
            #expect(r.code == 1 && r.out.contains("\(c.path(name)): unsigned"), "\(r.out)")
            unlink(c.path(name))
        }
        try c.write(".bundle/config", "---\nBUNDLE_PATH: \"vendor/bundle\"\n")
        let bundle = try CLI.avault(gate)
        #expect(bundle.code == 2 && bundle.err.contains("\(c.path(".bundle")): Bundler's settings"), "\(bundle.err)")
        try FileManager.default.removeItem(atPath: c.path(".bundle"))

        // A signed record as the configuration, and as a data file.
        try c.write("about.md", "---\ntitle: about\nexclude: []\n---\nAbout.\n", sign: true)
        let record = try Data(contentsOf: URL(fileURLWithPath: c.path("about.md")))
        unlink(c.path("_config.yml.minisig"))
        try c.write("_config.yml", String(decoding: record, as: UTF8.self))
        let config = try CLI.avault(gate)
        #expect(config.code == 1 && config.out.contains("\(c.path("_config.yml")): valid: \(c.path("_config.yml")) has front matter"), "\(config.out)")
        try Self.signConfig(c, "title: site\n")
        try c.write("_data/people.yml", String(decoding: record, as: UTF8.self))
        let data = try CLI.avault(gate)
        #expect(data.code == 1 && data.out.contains("\(c.path("_data/people.yml")): valid: \(c.path("_data/people.yml")) has front matter"), "\(data.out)")
    }
}

extension PublishingGate {
    /// jekyll-sass-converter compiles a page's Sass as if it lay at the site's top, so that an
    /// `@import` reads a stylesheet there before `_sass/`: an unsigned `_colors.scss` beside the
    /// configuration stood in for the signed `_sass/_colors.scss` (found by a review). The walk
    /// takes the site's top-level stylesheets; `sass:` settings that move the partials elsewhere
    /// are refused.
    @Test(.timeLimit(.minutes(30))) func stylesheetsSassReadsBeforeTheSassDirectoryAreChecked() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("index.md", "---\ntitle: home\n---\nHome.\n", sign: true)
        try c.write("_config.yml", "title: site\n")
        try c.write("assets/main.scss", "---\ntitle: style\n---\n@import \"colors\";\nbody { color: $c; }\n", sign: true)
        try c.write("_sass/_colors.scss", "$c: red;\n")
        for name in ["_config.yml", "_sass/_colors.scss"] {
            #expect(try CLI.avault(["sign", "--detached", c.path(name), "--key", "demo-desk"] + c.demo.args).code == 0)
        }
        let gate = ["verify", "--require-signature", c.content.path] + c.ring
        let signed = try CLI.avault(gate)
        #expect(signed.code == 0, "\(signed.out)")

        try c.write("_colors.scss", "$c: blue;\nbody::before { content: \"P-_colors.scss-R\"; }\n")
        #expect(try c.jekyllRendered(["_colors.scss"]) == ["_colors.scss"])
        let shadowed = try CLI.avault(gate)
        #expect(shadowed.code == 1 && shadowed.out.contains("\(c.path("_colors.scss")): unsigned"), "\(shadowed.out)")
        unlink(c.path("_colors.scss"))
        // Found by the second review: `@import "colors"` reads `colors/_index.scss` there too.
        try c.write("colors/_index.scss", "$c: blue;\nbody::before { content: \"P-colors/_index.scss-R\"; }\n")
        #expect(try c.jekyllRendered(["colors/_index.scss"]) == ["colors/_index.scss"])
        let index = try CLI.avault(gate)
        #expect(index.code == 1 && index.out.contains("\(c.path("colors/_index.scss")): unsigned"), "\(index.out)")
        try FileManager.default.removeItem(atPath: c.path("colors"))

        for setting in ["sass:\n  sass_dir: css/partials\n", "sass:\n  style: compressed\n  load_paths: [vendor]\n",
                        "sass: !!omap [ {sass_dir: evil} ]\n"] {
            try Self.signConfig(c, "title: site\n" + setting)
            let r = try CLI.avault(gate)
            #expect(r.code == 2 && (r.err.contains("where Sass reads partials avault's walk does not take") || r.err.contains("sass: is not a mapping")),
                    "\(setting): \(r.err)")
        }
        // Found by a review: Dart Sass (`implementation: sass-embedded`, which
        // jekyll-sass-converter 2.2 takes) reads `@use`, `@forward` and imports beside a page.
        for setting in ["sass:\n  implementation: sass-embedded\n", "sass: {implementation: [x]}\n", "sass:\n  implementation: !!binary c2Fzc2M=\n"] {
            try Self.signConfig(c, "title: site\n" + setting)
            let r = try CLI.avault(gate)
            #expect(r.code == 2 && r.err.contains("sass: implementation: other than sassc"), "\(setting): \(r.err)")
        }
        // Jekyll's own example, the default named.
        try Self.signConfig(c, "title: site\nsass:\n  sass_dir: _sass\n  style: compressed\n  implementation: sassc\n")
        let named = try CLI.avault(gate)
        #expect(named.code == 0, "\(named.err) \(named.out)")
    }
}

extension PublishingGate {
    /// Jekyll resolves a page's `include_relative` against the `path:` its front matter sets
    /// (`Page#path`), not against where the page lies: a signed `guide.md` with `path:
    /// sub/guide.md` read the unsigned `sub/part.inc` while the gate checked the signed
    /// `part.inc` beside it (found by a review). Such a tag is not followed: it fails the page
    /// with `--require-signature`.
    @Test(.timeLimit(.minutes(30))) func includeRelativeInAPageThatSetsItsPathIsNotTakenAsResolved() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("_config.yml", "title: site\n")
        try c.write("guide.md", "---\ntitle: guide\npath: sub/guide.md\n---\n{% include_relative part.inc %}\n", sign: true)
        try c.write("part.inc", "The signed part.\n")
        for name in ["_config.yml", "part.inc"] {
            #expect(try CLI.avault(["sign", "--detached", c.path(name), "--key", "demo-desk"] + c.demo.args).code == 0)
        }
        try c.write("sub/part.inc", "P-sub/part.inc-{{ 'r' | upcase }}\n")
        #expect(try c.jekyllRendered(["sub/part.inc"]) == ["sub/part.inc"])
        let gate = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(gate.code == 1 && gate.out.contains("include_relative part.inc reads a file relative to the path: the page's front matter sets (\"sub/guide.md\")"),
                "\(gate.out)")
        // Found by the second review: with `collection:`, Jekyll joins the path to collections_dir.
        try c.write("guide.md", "---\ntitle: guide\ncollection: notes\n---\n{% include_relative part.inc %}\n", sign: true)
        let collection = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(collection.code == 1 && collection.out.contains("relative to the collection: the page's front matter sets (\"notes\")"), "\(collection.out)")
    }
}
