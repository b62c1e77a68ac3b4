import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `avault audit --html FILE`: one self-contained page, every record-derived text escaped,
/// rendered by headless Chromium without console errors and not blank.
@Suite struct AuditHTMLTests {
    /// A desk: a trusted signing key (whose signer name needs escaping), signed records dated in
    /// three months and undated, an unsigned record with markup in its file name, a legacy v1 record.
    private func desk() throws -> (KeysFixture, String) {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "desk", "--signing"]).code == 0)
        #expect(try f.avault(["keys", "export-public", "desk", "-o", f.path("desk.pub")]).code == 0)
        let t = try f.avault(["keys", "trust", "add", f.path("desk.pub"), "--name", "Night <b>desk</b> & Day", "--role", "desk"])
        #expect(t.code == 0, "\(t.err)")
        let content = f.path("content")
        try FileManager.default.createDirectory(atPath: content, withIntermediateDirectories: true)
        let dates = ["publishedDateTime: 2026-01-05T10:00:00Z", "publishedDateTime: 2026-01-20T10:00:00Z",
                     "publishedDateTime: 2026-03-02T08:00:00+01:00", "date: 2025-12-24", ""]
        for (i, date) in dates.enumerated() {
            try CLI.write("---\ntitle: \"Post \(i)\"\n\(date.isEmpty ? "" : date + "\n")webUrl: \"https://example.org/p\(i)\"\n---\n\nBody \(i).\n",
                          to: URL(fileURLWithPath: content + "/p\(i).md"), mode: 0o644)
        }
        let signed = try f.avault(["sign", "--key", "desk"] + dates.indices.map { content + "/p\($0).md" })
        #expect(signed.code == 0, "\(signed.err)")
        try CLI.write("---\ntitle: \"unsigned\"\n---\n\ntext\n", to: URL(fileURLWithPath: content + "/<i>&\"x\".md"), mode: 0o644)
        try FileManager.default.copyItem(atPath: CLI.repoRoot.appendingPathComponent("Fixtures/records/demo-v1.md").path,
                                         toPath: content + "/demo-v1.md")
        return (f, content)
    }

    @Test func writesOneSelfContainedEscapedPageAndRefusesToOverwrite() throws {
        let (f, content) = try desk()
        let html = f.path("audit.html")
        let r = try f.avault(["audit", content, "--html", html])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.hasPrefix("records: 7 "), "\(r.out)") // the text report still goes to stdout
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<svg"))
        // Nothing external: no scripts, no links, no URLs, no fetched fonts or images.
        for banned in ["<script", "<link", "src=", "href=", "url(", "@import", "@font-face", "http://", "https://"] {
            #expect(!page.contains(banned), "the page contains \(banned)")
        }
        // Text from records and the trust store is escaped.
        #expect(!page.contains("<i>&\"x\""))
        #expect(page.contains("&lt;i&gt;&amp;\\&quot;x\\&quot;.md&quot;"), "quoted as the text report quotes it")
        #expect(!page.contains("<b>desk</b>"))
        #expect(page.contains("Night &lt;b&gt;desk&lt;/b&gt; &amp; Day"))
        // Signatures by month of the record's date, undated ones apart.
        #expect(page.contains("<td>2026-01</td><td class=\"num\">2</td>"), "\(page)")
        #expect(page.contains("<td>2026-03</td><td class=\"num\">1</td>"))
        #expect(page.contains("<td>2025-12</td><td class=\"num\">1</td>"))
        #expect(page.contains("<td>undated</td><td class=\"num\">1</td>"))
        // Legacy v1 blobs remaining.
        #expect(page.contains("<td>v1</td><td class=\"num\">1</td>"))
        #expect(page.contains("still holds a legacy v1 secured blob"))

        // An existing file is kept unless --force.
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: html))
        let again = try f.avault(["audit", content, "--html", html])
        #expect(again.code == 2)
        #expect(again.err.contains("already exists"), "\(again.err)")
        #expect(again.err.contains("avault: hint: use --force to overwrite it"), "\(again.err)")
        #expect(try String(contentsOfFile: html, encoding: .utf8) == "keep me")
        let forced = try f.avault(["audit", content, "--html", html, "--force"])
        #expect(forced.code == 0, "\(forced.err)")
        #expect(try String(contentsOfFile: html, encoding: .utf8).hasPrefix("<!DOCTYPE html>"))
        #expect(try f.avault(["audit", content, "--force"]).code == 64)
    }

    /// What a review found the page said otherwise than the text report: a name that is not
    /// UTF-8 and a file named with its escape showed alike (the page did not quote paths); a key
    /// `--pubkey` trusts was "(untrusted)"; and `--html` named a record it audits replaced it.
    @Test func namesAsTheTextReportAndNoRecordOverwritten() throws {
        let (f, content) = try desk()
        let twins = f.path("twins")
        try FileManager.default.createDirectory(atPath: twins, withIntermediateDirectories: true)
        let raw = Array((twins + "/post").utf8) + [0xE9] + Array(".md".utf8) + [0]
        let fd = raw.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_EXCL, 0o644) } }
        #expect(fd >= 0)
        close(fd)
        try CLI.write("x\n", to: URL(fileURLWithPath: twins + "/post\\xe9.md"), mode: 0o644)
        let html = f.path("twins.html")
        #expect(try f.avault(["audit", twins, "--html", html]).code == 0)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<td>&quot;\(twins)/post\\xe9.md&quot;</td>") && page.contains("<td>&quot;\(twins)/post\\\\xe9.md&quot;</td>"), "\(page)")

        // A key trusted by --pubkey has no name, and is not untrusted.
        let pub = f.path("desk.pub")
        let byPubkey = try f.avault(["audit", content + "/p0.md", "--pubkey", pub, "--html", f.path("pub.html")])
        #expect(byPubkey.code == 0 && byPubkey.out.contains("(trusted by --pubkey)") && !byPubkey.out.contains("(untrusted)"), "\(byPubkey.out)")
        #expect(try String(contentsOfFile: f.path("pub.html"), encoding: .utf8).contains("<td>(trusted by --pubkey)</td>"))

        // --html naming a record it audits, named or found by the walk: refused, even with --force.
        let record = content + "/p1.md"
        let before = try Data(contentsOf: URL(fileURLWithPath: record))
        for args in [["audit", record, "--html", record, "--force"], ["audit", content, "--html", content + "/./p1.md", "--force"]] {
            let r = try f.avault(args)
            #expect(r.code == 64 && r.err.contains("name each file once"), "\(args): \(r.err)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: record)) == before)
    }

    @Test func rendersInHeadlessChromiumWithoutConsoleErrorsAndNotBlank() throws {
        let chromium = "/usr/bin/chromium"
        try #require(FileManager.default.isExecutableFile(atPath: chromium), "Debian's chromium is needed (scripts/setup installs it)")
        let (f, content) = try desk()
        let html = f.path("audit.html")
        #expect(try f.avault(["audit", content, "--html", html]).code == 0)

        // The harness sees console errors: a page with a failing script is caught.
        let broken = f.path("broken.html")
        try Data("<!DOCTYPE html><p>x</p><script>noSuchFunction();</script>".utf8).write(to: URL(fileURLWithPath: broken))
        let control = try render(chromium, broken, screenshot: f.path("broken.png"), profile: f.path("profile-1"))
        #expect(consoleErrors(control).contains { $0.contains("Uncaught") }, "\(control)")

        let shot = f.path("audit.png")
        let log = try render(chromium, html, screenshot: shot, profile: f.path("profile-2"))
        #expect(consoleErrors(log).isEmpty, "\(consoleErrors(log))")
        #expect(FileManager.default.fileExists(atPath: shot), "\(log)")

        // Decode the PNG: many colours, and a fair share of pixels that are not the background.
        let check = try CLI.run("python3", ["-c", Self.pngStatistics, shot])
        #expect(check.code == 0, "\(check.err)")
        let stats = check.out.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(stats.count == 2, "\(check.out)")
        if stats.count == 2 {
            #expect(stats[0] >= 8, "distinct colours: \(stats[0])")
            #expect(stats[1] > 0.05, "share of non-background pixels: \(stats[1])")
        }
    }

    /// Runs headless Chromium on `file` with console logging on standard error; returns that log.
    private func render(_ chromium: String, _ file: String, screenshot: String, profile: String) throws -> String {
        let r = try CLI.run("timeout", ["120", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                        "--hide-scrollbars", "--user-data-dir=\(profile)", "--enable-logging=stderr", "--v=0",
                                        "--window-size=1100,1800", "--screenshot=\(screenshot)", "file://" + file])
        #expect(r.code == 0, "chromium: \(r.err)")
        return r.err + r.out
    }

    /// Console messages at error level, as Chromium logs them (`CONSOLE…] "Uncaught …"`).
    private func consoleErrors(_ log: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { $0.contains(":CONSOLE") || $0.contains("Uncaught") }
    }

    /// Prints the number of distinct colours and the share of pixels unlike the top-left one,
    /// from an 8-bit RGB or RGBA PNG (non-interlaced), using only zlib.
    static let pngStatistics = #"""
        import sys, zlib, struct
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
        pos, idat = 8, b''
        while pos < len(data):
            n, kind = struct.unpack('>I4s', data[pos:pos + 8]); body = data[pos + 8:pos + 8 + n]; pos += 12 + n
            if kind == b'IHDR': w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
            elif kind == b'IDAT': idat += body
        assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
        bpp = 3 if ctype == 2 else 4
        raw, stride = zlib.decompress(idat), w * bpp
        prev, rows, i = bytearray(stride), [], 0
        for _ in range(h):
            f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0; b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
                if f == 1: line[x] = (line[x] + a) & 255
                elif f == 2: line[x] = (line[x] + b) & 255
                elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            rows.append(bytes(line)); prev = line
        pixels = [r[x:x + 3] for r in rows for x in range(0, stride, bpp)]
        background = pixels[0]
        print(len(set(pixels)), sum(p != background for p in pixels) / len(pixels))
        """#
}
