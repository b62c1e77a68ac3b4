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
                               ("plugins_dir: myplugins\n", "plugins_dir: other than _plugins"),
                               ("plugins_dir: ./_plugins\n", "plugins_dir: other than _plugins")] {
            try Self.signConfig(c, "title: site\n" + config)
            let r = try CLI.avault(gate)
            #expect(r.code != 0 && r.err.contains(said), "\(config): \(r.code) \(r.err)")
        }
        for config in ["plugins_dir: _plugins\n", "plugins_dir: ~\n", "cache_dir: c\n"] {
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
