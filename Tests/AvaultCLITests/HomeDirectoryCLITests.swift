import Foundation
import Testing

/// Where the keyring (and with it the trust store) and the vault are when nothing names them:
/// never relative to the directory a command runs in. With `HOME` unset (`env -i`, a service, a
/// CI job), `verify` run in a site's checkout read `./.config/avault/keyring/trust.avt`, which
/// whoever writes the site controls, and passed a record signed by a key only that file trusted.
@Suite struct HomeDirectoryCLITests {
    /// A site whose record is signed by a key that only the site's own `.config` trusts.
    private func site() throws -> (KeysFixture, URL) {
        let f = try KeysFixture()
        #expect(try f.avault(["keys", "generate", "mallory", "--signing", "--unprotected"]).code == 0)
        #expect(try f.avault(["keys", "export-public", "mallory", "-o", f.path("mallory.pub")]).code == 0)
        let site = URL(fileURLWithPath: f.path("site"))
        try FileManager.default.createDirectory(at: site.appendingPathComponent("_posts"), withIntermediateDirectories: true)
        let post = site.appendingPathComponent("_posts/2026-12-06-news.md")
        try CLI.write("---\ntitle: \"News\"\nwebUrl: \"https://example.org/news\"\n---\n\nPlanted.\n", to: post, mode: 0o644)
        #expect(try f.avault(["sign", post.path, "--key", "mallory"]).code == 0)
        let planted = site.appendingPathComponent(".config/avault/keyring")
        try FileManager.default.createDirectory(at: planted, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let add = try f.avault(["keys", "trust", "add", f.path("mallory.pub"), "--name", "News desk", "--role", "desk", "--keyring", planted.path],
                               keyring: false)
        #expect(add.code == 0, "\(add.err)")
        // The planted store is what makes the record pass, when it is read.
        let named = try f.avault(["verify", "--require-signature", "--require-role", "desk", "--keyring", planted.path, "."], cwd: site, keyring: false)
        #expect(named.code == 0 && named.out.contains("valid 1"), "\(named.out) \(named.err)")
        return (f, site)
    }

    /// `env -i` with the given variables, then `avault args`, in `cwd`.
    private func bare(_ variables: [String], _ args: [String], cwd: URL, user: [String] = []) throws -> CLI.Result {
        try CLI.run("/usr/bin/env", ["-i"] + variables + user + [CLI.avaultPath] + args, cwd: cwd)
    }

    @Test func aSiteCannotBringItsOwnTrustStore() throws {
        let (f, site) = try site()
        let gate = ["verify", "--require-signature", "--require-role", "desk", "."]
        // HOME unset: the password database's home directory, never the current one.
        let unset = try bare([], gate, cwd: site)
        #expect(unset.code != 0 && !unset.out.contains("valid 1"), "\(unset.out) \(unset.err)")
        // Relative HOME and XDG_CONFIG_HOME are ignored, as the XDG specification says.
        let home = f.path("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        for variables in [["HOME=."], ["HOME=" + home, "XDG_CONFIG_HOME=.config"], ["HOME=" + home, "XDG_CONFIG_HOME=./.config"]] {
            let r = try bare(variables, gate, cwd: site)
            #expect(r.code != 0 && !r.out.contains("valid 1"), "\(variables): \(r.out) \(r.err)")
        }
        let listed = try bare(["HOME=" + home, "XDG_CONFIG_HOME=.config"], ["keys", "list", "--json"], cwd: site)
        #expect(listed.code == 0 && listed.out.contains("\"keyring\":\"\(home)/.config/avault/keyring\""), "\(listed.out) \(listed.err)")
        // A user with no home directory at all (no HOME, no password database entry) is told so.
        let nobody = try bare([], gate, cwd: URL(fileURLWithPath: "/"), user: ["/usr/bin/setpriv", "--reuid=54321", "--regid=54321", "--clear-groups"])
        #expect(nobody.code == 2 && nobody.err.hasPrefix("avault: no home directory: HOME is not an absolute path")
                && nobody.err.contains("avault: hint: set HOME, or name the keyring"), "\(nobody.code) \(nobody.err)")
        let vault = try bare([], ["vault", "list"], cwd: URL(fileURLWithPath: "/"), user: ["/usr/bin/setpriv", "--reuid=54321", "--regid=54321", "--clear-groups"])
        #expect(vault.code == 2 && vault.err.hasPrefix("avault: no home directory"), "\(vault.code) \(vault.err)")
    }
}
