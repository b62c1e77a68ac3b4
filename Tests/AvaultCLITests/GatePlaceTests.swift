import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A signature binds bytes, not where they lie; Jekyll turns where a file lies into what it
/// publishes (a post's categories, URL, date and title from its path; a layout's name from its
/// file name). `sign --site DIR` binds a signature to the file's path from the site's top (a
/// `place:` field of the trusted comment), the gate counts such a signature only there, and
/// `--require-place` counts no other.
extension PublishingGate {
    private static let post = "_posts/2024-05-03-budget.md"
    private static let moved = "ceo-arrested/_posts/2024-05-03-acme-ceo-arrested.md"

    /// A site whose post, layout and configuration are signed bound to their places.
    private static func placedSite() throws -> Corpus {
        let c = try Corpus()
        try c.write(post, "---\nlayout: default\n---\nP-post-{{ 'r' | upcase }}\n")
        try c.write("_layouts/default.html", "<html>{{ content }}</html>\n")
        try c.write("_config.yml", "title: site\n")
        let embedded = try CLI.avault(["sign", "--site", c.content.path, c.path(post), "--key", "demo-desk"] + c.demo.args)
        #expect(embedded.code == 0, "\(embedded.err)")
        let detached = try CLI.avault(["sign", "--detached", "--site", c.content.path, c.path("_layouts/default.html"), c.path("_config.yml"),
                                       "--key", "demo-desk"] + c.demo.args)
        #expect(detached.code == 0, "\(detached.err)")
        return c
    }

    private static func copy(_ c: Corpus, _ from: String, to: String) throws {
        try FileManager.default.createDirectory(atPath: (c.path(to) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: c.path(from), toPath: c.path(to))
    }

    /// The attacker's moves that passed before: a signed post under another directory and name
    /// (its category, URL and headline), a signed layout and its signature copied over another
    /// layout, the signed configuration's signature put beside a data file with the same bytes.
    @Test(.timeLimit(.minutes(30))) func aSignatureBoundToAPlaceCountsOnlyThere() throws {
        let c = try Self.placedSite()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        let gate = ["verify", "--require-signature", c.content.path] + c.ring
        let clean = try CLI.avault(gate + ["--require-place"])
        #expect(clean.code == 0, "\(clean.out)\(clean.err)")
        let post = try String(contentsOfFile: c.path(Self.post), encoding: .utf8)
        #expect(post.contains("\\tplace:_posts/2024-05-03-budget.md\""), "\(post)")

        try Self.copy(c, Self.post, to: Self.moved)
        try c.write("_layouts/post.html", "<html>{{ content }}</html>\n")
        try Self.copy(c, "_layouts/default.html.minisig", to: "_layouts/post.html.minisig")
        try c.write("_data/site.yml", "title: site\n")
        try Self.copy(c, "_config.yml.minisig", to: "_data/site.yml.minisig")
        for extra in [[], ["--require-place"]] {
            let r = try CLI.avault(gate + extra)
            #expect(r.code == 1, "\(extra): \(r.out)")
            #expect(r.out.contains("\(c.path(Self.moved)): invalid: the signature by ")
                    && r.out.contains("was made for _posts/2024-05-03-budget.md, not for \(Self.moved)"), "\(r.out)")
            #expect(r.out.contains("\(c.path("_layouts/post.html")): invalid: the signature by ")
                    && r.out.contains("was made for _layouts/default.html, not for _layouts/post.html"), "\(r.out)")
            #expect(r.out.contains("\(c.path("_data/site.yml")): ") && r.out.contains("was made for _config.yml, not for _data/site.yml"), "\(r.out)")
            #expect(!r.out.contains("\(c.path(Self.post)): invalid") && !r.out.contains("\(c.path("_layouts/default.html")): invalid"), "\(r.out)")
        }
        // The same files named from the site's top are at their places; from elsewhere, not.
        let named = try CLI.avault(["verify", "--require-place", Self.post, "./_posts//2024-05-03-budget.md", "_layouts/default.html"] + c.ring,
                                   cwd: c.content)
        #expect(named.code == 0, "\(named.out)")
        let fromAbove = try CLI.avault(["verify", c.path(Self.post)] + c.ring)
        #expect(fromAbove.code == 1 && fromAbove.out.contains("was made for _posts/2024-05-03-budget.md, not for \(c.path(Self.post))"), "\(fromAbove.out)")
        // Standard input has no place: a bound signature is not checked there, and does not
        // count with --require-place.
        let stdin = try Data(contentsOf: URL(fileURLWithPath: c.path(Self.post)))
        #expect(try CLI.avault(["verify", "-"] + c.ring, stdin: stdin).code == 0)
        let required = try CLI.avault(["verify", "--require-place", "-"] + c.ring, stdin: stdin)
        #expect(required.code == 1 && required.out.contains("standard input has no place in a site"), "\(required.out)")
        // audit reports the same (exit 0 whatever it finds).
        let audit = try CLI.avault(["audit", "--json", "--require-place", c.content.path] + c.ring)
        #expect(audit.code == 0 && audit.out.contains("\"failed\":3") && audit.out.contains("not for \(Self.moved)"), "\(audit.out)")
    }

    /// Jekyll publishes the moved post under the attacker's category and URL: the reason the
    /// place is bound (checked with a real build, so that the test fails if Jekyll stopped
    /// doing so).
    @Test(.timeLimit(.minutes(30))) func jekyllPublishesAMovedPostUnderItsNewPlace() throws {
        let c = try Self.placedSite()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try Self.copy(c, Self.post, to: Self.moved)
        let site = try c.jekyllBuild()
        let page = site.appendingPathComponent("ceo-arrested/2024/05/03/acme-ceo-arrested.html").path
        #expect(FileManager.default.fileExists(atPath: page), "no page at \(page)")
    }

    /// A signature without a place counts as before, but not with `--require-place`; one with
    /// two `place:` fields never counts; `minisign -t "place:PATH"` binds a detached signature
    /// as avault's does.
    @Test func signaturesWithoutAPlaceCountOnlyWhenNoneIsRequired() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("index.md", "---\ntitle: home\n---\nhome\n", sign: true)
        try c.write("notes.txt", "plain notes\n")
        let mpub = c.demo.dir.appendingPathComponent("m.pub").path, mkey = c.demo.dir.appendingPathComponent("m.key").path
        #expect(try CLI.run("minisign", ["-G", "-W", "-p", mpub, "-s", mkey]).code == 0)
        #expect(try CLI.run("minisign", ["-S", "-s", mkey, "-m", c.path("notes.txt"), "-t", "place:notes.txt"]).code == 0)
        let trust = ["--pubkey", c.demo.pub, "--pubkey", mpub]
        #expect(try CLI.avault(["verify", "--require-signature", c.content.path] + trust).code == 0)
        let required = try CLI.avault(["verify", "--require-signature", "--require-place", c.content.path] + trust)
        #expect(required.code == 1, "\(required.out)")
        #expect(required.out.contains("\(c.path("index.md")): invalid: the signature by ") && required.out.contains("names no place in the site"),
                "\(required.out)")
        #expect(!required.out.contains("notes.txt: invalid"), "\(required.out)")
        // minisign's signature moved with its file.
        try FileManager.default.moveItem(atPath: c.path("notes.txt"), toPath: c.path("about.txt"))
        try FileManager.default.moveItem(atPath: c.path("notes.txt.minisig"), toPath: c.path("about.txt.minisig"))
        let moved = try CLI.avault(["verify", c.content.path] + trust)
        #expect(moved.code == 1 && moved.out.contains("was made for notes.txt, not for about.txt"), "\(moved.out)")
        // Two places in one (authenticated) comment: which would count?
        #expect(try CLI.run("minisign", ["-S", "-s", mkey, "-m", c.path("about.txt"), "-t", "place:about.txt\tplace:x.txt"]).code == 0)
        let two = try CLI.avault(["verify", c.content.path] + trust)
        #expect(two.code == 1 && two.out.contains("names 2 places"), "\(two.out)")
    }

    /// `--site` must contain the file; `place:` is avault's own field, as `file:` is.
    @Test func signingForAPlaceRefusesFilesOutsideTheSite() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("index.md", "---\ntitle: home\n---\nhome\n")
        let before = try String(contentsOfFile: c.path("index.md"), encoding: .utf8)
        for site in [c.path("_posts"), c.path("index.md"), c.content.path + "/../other"] {
            let r = try CLI.avault(["sign", "--site", site, c.path("index.md"), "--key", "demo-desk"] + c.demo.args)
            #expect(r.code == 64 && r.err.contains("is not inside the site") && r.err.contains("avault: hint: "), "\(site): \(r.err)")
        }
        let reserved = try CLI.avault(["sign", "--trusted-comment", "place:index.md", c.path("index.md"), "--key", "demo-desk"] + c.demo.args)
        #expect(reserved.code == 64 && reserved.err.contains("(place:…)"), "\(reserved.err)")
        #expect(try String(contentsOfFile: c.path("index.md"), encoding: .utf8) == before)
        // A relative site and file, `..` and `.` read lexically.
        let r = try CLI.avault(["sign", "--site", "x/../content/.", "./content//index.md", "--key", "demo-desk"] + c.demo.args, cwd: c.demo.dir)
        #expect(r.code == 0, "\(r.err)")
        #expect(try String(contentsOfFile: c.path("index.md"), encoding: .utf8).contains("\\tplace:index.md\""))
    }

    /// Found by the review of place binding: a symbolic link to a signed directory was walked
    /// once (its place in the walk alike), so Jekyll published its files at the link's path too
    /// (a post under another category, a page under another URL) and the gate passed.
    @Test(.timeLimit(.minutes(30))) func aDirectoryReachedThroughALinkIsCheckedAtEachPath() throws {
        let c = try Self.placedSite()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("blog/index.md", "---\ntitle: blog\n---\nP-blog-{{ 'r' | upcase }}\n")
        #expect(try CLI.avault(["sign", "--site", c.content.path, c.path("blog/index.md"), "--key", "demo-desk"] + c.demo.args).code == 0)
        let gate = ["verify", "--require-signature", "--require-place", c.content.path] + c.ring
        #expect(try CLI.avault(gate).code == 0)
        try FileManager.default.createDirectory(atPath: c.path("ceo"), withIntermediateDirectories: true)
        #expect(symlink("../_posts", c.path("ceo/_posts")) == 0)
        #expect(symlink("blog", c.path("news")) == 0)
        let site = try c.jekyllBuild()
        #expect(FileManager.default.fileExists(atPath: site.appendingPathComponent("news/index.html").path))
        #expect(FileManager.default.fileExists(atPath: site.appendingPathComponent("ceo/2024/05/03/budget.html").path))
        let r = try CLI.avault(gate)
        #expect(r.code == 1, "\(r.out)")
        #expect(r.out.contains("was made for blog/index.md, not for news/index.md"), "\(r.out)")
        #expect(r.out.contains("was made for \(Self.post), not for ceo/\(Self.post)"), "\(r.out)")
        // A loop of links is refused rather than walked without end.
        unlink(c.path("news"))
        unlink(c.path("ceo/_posts"))
        #expect(symlink(".", c.path("blog/again")) == 0)
        let loop = try CLI.avault(gate)
        #expect(loop.code == 2 && loop.err.contains("more than 4 places"), "\(loop.out)\(loop.err)")
    }

    /// Found by the same review: places compared as Swift strings, so a post renamed to the
    /// canonically equivalent NFD name (or with U+212A KELVIN SIGN for K) passed, and Jekyll
    /// published it under another URL; and stock minisign's own comment, with a file name
    /// holding a TAB, could put a `place:` field before `hashed`.
    @Test func placesAreComparedByTheirBytesAndOnlyAsTheLastField() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        for (signed, moved) in [("caf\u{E9}.md", "cafe\u{301}.md"), ("KPI.md", "\u{212A}PI.md")] {
            try c.write(signed, "---\ntitle: x\n---\nx\n")
            #expect(try CLI.avault(["sign", "--site", c.content.path, c.path(signed), "--key", "demo-desk"] + c.demo.args).code == 0)
            #expect(rename(c.path(signed), c.path(moved)) == 0)
            let r = try CLI.avault(["verify", "--require-place", c.content.path] + c.ring)
            #expect(r.code == 1 && r.out.contains("was made for \(signed), not for \(moved)"), "\(r.out)")
            unlink(c.path(moved))
        }
        let mpub = c.demo.dir.appendingPathComponent("m.pub").path, mkey = c.demo.dir.appendingPathComponent("m.key").path
        #expect(try CLI.run("minisign", ["-G", "-W", "-p", mpub, "-s", mkey]).code == 0)
        let tricky = c.demo.dir.appendingPathComponent("evil\tplace:index.txt").path
        try CLI.write("text\n", to: URL(fileURLWithPath: tricky), mode: 0o644)
        #expect(try CLI.run("minisign", ["-S", "-s", mkey, "-m", tricky]).code == 0)
        try FileManager.default.copyItem(atPath: tricky, toPath: c.path("index.txt"))
        try FileManager.default.copyItem(atPath: tricky + ".minisig", toPath: c.path("index.txt.minisig"))
        let r = try CLI.avault(["verify", "--require-place", c.content.path, "--pubkey", mpub])
        #expect(r.code == 1 && r.out.contains("names a place in a field that is not the last of its trusted comment"), "\(r.out)")
    }

    /// Signing a record again in passing (`seal --sign`) kept no place: the record then failed
    /// `--require-place`, with a hint to use an option seal does not have. The place of the
    /// signer's own signature (verified) is kept.
    @Test func signingAgainKeepsThePlace() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("blog/index.md", "---\ntitle: blog\nurl: /blog/\n---\nbody\n")
        #expect(try CLI.avault(["sign", "--site", c.content.path, c.path("blog/index.md"), "--key", "demo-desk"] + c.demo.args).code == 0)
        let seal = try CLI.avault(["seal", c.path("blog/index.md"), "--key", "demo-content", "--sign", "demo-desk"] + c.demo.args)
        #expect(seal.code == 0, "\(seal.err)")
        #expect(try String(contentsOfFile: c.path("blog/index.md"), encoding: .utf8).contains("\\tplace:blog/index.md\""))
        let r = try CLI.avault(["verify", "--require-place", c.content.path] + c.ring)
        #expect(r.code == 0, "\(r.out)")
    }

    /// `seal --sign` keeps the `place:` of the signer's own signature only when that signature
    /// verifies: a co-signed record in which an attacker made the signer's signature name the
    /// attacker's place (the record fails `verify` then, but `seal` rewrites it all the same,
    /// dropping the signatures its change breaks) is signed again with no place (the signer
    /// gave no `--site`), never with the attacker's: else the signer's new signature would bind
    /// the record to where the attacker means to move it. (Checked to fail with the
    /// verification of the old signature left out.)
    @Test func signingAgainDoesNotTakeAPlaceTheSignerDidNotSign() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        let second = c.demo.dir.appendingPathComponent("second.pub").path
        for step in [["keys", "generate", "second-desk", "--signing"] + c.demo.args, ["keys", "export-public", "second-desk", "-o", second] + c.demo.args,
                     ["keys", "trust", "add", second, "--name", "Second Desk", "--role", "desk"] + c.ring] {
            let r = try CLI.avault(step)
            try #require(r.code == 0, "\(step): \(r.err)")
        }
        try c.write("blog/index.md", "---\ntitle: blog\nurl: /blog/\n---\nbody\n")
        for key in ["demo-desk", "second-desk"] {
            #expect(try CLI.avault(["sign", "--site", c.content.path, c.path("blog/index.md"), "--key", key] + c.demo.args).code == 0)
        }
        // The attacker puts their place in the demo desk's trusted comment: that signature fails.
        let signed = try String(contentsOfFile: c.path("blog/index.md"), encoding: .utf8)
        #expect(signed.components(separatedBy: "\\tplace:blog/index.md\"").count == 3, "\(signed)")
        let edited = signed.replacingOccurrences(of: "\\tplace:blog/index.md\"", with: "\\tplace:ceo/_posts/2024-05-03-arrested.md\"",
                                                 options: [], range: signed.range(of: "\\tplace:blog/index.md\""))
        try CLI.write(edited, to: URL(fileURLWithPath: c.path("blog/index.md")), mode: 0o644)
        let before = try CLI.avault(["verify", "--require-place", c.path("blog/index.md")] + c.ring)
        #expect(before.code == 1 && before.out.contains("the trusted comment of the signature by 2F2D13E212EF42E9 was altered"), "\(before.out)")

        let seal = try CLI.avault(["seal", c.path("blog/index.md"), "--key", "demo-content", "--sign", "demo-desk"] + c.demo.args)
        #expect(seal.code == 0, "\(seal.err)")
        let sealed = try String(contentsOfFile: c.path("blog/index.md"), encoding: .utf8)
        #expect(!sealed.contains("ceo/_posts") && !sealed.contains("place:"), "\(sealed)")
        // Moved where the attacker wanted, it is not published with the desk's place.
        try FileManager.default.createDirectory(atPath: c.path("ceo/_posts"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: c.path("blog/index.md"), toPath: c.path("ceo/_posts/2024-05-03-arrested.md"))
        let moved = try CLI.avault(["verify", "--require-place", c.content.path] + c.ring)
        #expect(moved.code == 1, "\(moved.out)")
    }

    /// Found by the review: `sign --site` compared a path under a working directory reached
    /// through a symbolic link (`getcwd` names the target) with the site's path as given.
    @Test func signingFromADirectoryReachedThroughALink() throws {
        let c = try Corpus()
        defer { try? FileManager.default.removeItem(at: c.demo.dir) }
        try c.write("index.md", "---\ntitle: home\n---\nhome\n")
        let link = c.demo.dir.appendingPathComponent("linked").path
        #expect(symlink(c.content.path, link) == 0)
        let r = try CLI.avault(["sign", "--site", link, "index.md", "--key", "demo-desk"] + c.demo.args,
                               cwd: URL(fileURLWithPath: link), env: ["PWD": link])
        #expect(r.code == 0, "\(r.err)")
        #expect(try String(contentsOfFile: c.path("index.md"), encoding: .utf8).contains("\\tplace:index.md\""))
    }
}
