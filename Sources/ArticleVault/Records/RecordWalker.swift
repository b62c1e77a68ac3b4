#if canImport(Glibc)
import Glibc
#endif
internal import VaultFormat

/// Finds the files to verify: files named on the command line, and in directories
/// (recursively, hidden entries skipped, as site generators skip them, unless an include glob
/// names them with their leading `.`) every file that matches
/// an include glob and no exclude glob. Nothing matched is dropped: a file that is not regular
/// is returned with its kind so that it can be reported.
public enum RecordWalker {
    /// What a site generator may publish as a page: Markdown, text and HTML (matched without
    /// regard to case).
    public static let defaultInclude = ["*.md", "*.markdown", "*.mdown", "*.mkdown", "*.mkd", "*.mkdn", "*.txt", "*.html", "*.htm"]

    /// A file to verify.
    public struct Found: Sendable, Equatable {
        public var path: String
        /// Named on the command line rather than found by walking.
        public var named: Bool
        /// What is at the path (symbolic links followed).
        public var kind: FileSystem.FileKind
        /// For a file found by walking with ``LinkPolicy/withinTree``: the walked top-level
        /// directory, which the file must still lie in when it is opened
        /// (``FileSystem/checkOpened(_:path:within:)``); nil otherwise.
        public var tree: Tree?
        /// Found by a walk with `sitePages` in the site's layouts or includes directory
        /// (`_layouts`, `_includes`, or where the configuration puts them): Liquid renders such a
        /// file in the context of each page that uses it, so that an `include_relative` tag in
        /// it reads a file beside each of those pages, not beside itself
        /// (``RecordVerifier/verifyForPublishing(_:jobs:progress:)``).
        public var inLayoutsOrIncludes = false
        /// Found by a walk with `sitePages` in the site's includes directory (`_includes`, or
        /// where `includes_dir` puts it): Jekyll's `include` reads such a file into pages as it
        /// is, front matter included, so that a record signature (over its canonical form) does
        /// not cover what is published (``RecordVerifier/verifyForPublishing(_:jobs:progress:)``).
        /// So are the files of the data, plugins and Sass directories (parsed, run or compiled
        /// whole), the site's configuration and Bundler's files at its top.
        public var readRaw = false
        /// Where the file lies in the site, for a signature bound to a place
        /// (``TrustPolicy/Place``): for a file a walk found, its path from the walked directory
        /// (the site's top); for one named on the command line, its path as named
        /// (``RecordSigner/sitePath(named:)``); nil for standard input.
        public var sitePath: String?
        /// Found by a walk as a symbolic link (to a regular file, or anything but a directory):
        /// Jekyll copies such a file as the link itself when it publishes it as it is (a static
        /// file, without `--safe`), so that what is served is wherever the link leads from
        /// the built site (``RecordVerifier/verifyForPublishing(_:jobs:progress:)``).
        public var isLink = false
        /// Found by a walk with `sitePages` as a post or a draft (``isPost(_:at:)``) in a
        /// `_posts` or `_drafts` directory in no other `_` directory (``Place/documentsOnly``):
        /// Jekyll renders its Liquid with or without front matter.
        public var isPost = false

        /// Why a file that is not regular is not read.
        public var notReadReason: String {
            switch kind {
            case .undecodableName: "its name is not UTF-8"
            case .other, .missing: kind.rawValue
            default: "\(kind.rawValue), not a regular file"
            }
        }
    }

    /// What a directory walk does with a symbolic link it finds (links named on the command
    /// line are always followed: the user chose them).
    public enum LinkPolicy: Sendable {
        /// Follows every link, to a file or a directory, wherever it leads (`verify`: a
        /// publishing gate must see every file the site generator publishes, and it follows
        /// links).
        case follow
        /// Follows a link only when what it resolves to (`realpath(3)`: the whole chain, `..`
        /// included) lies in the walked top-level directory (resolved too); a link the walk
        /// would take (to a directory, or to a file the globs take) that leads outside it fails
        /// the walk with ``AvaultError/linkOutsideWalkedTree(path:root:toDirectory:)``
        /// (`vault import`: whoever can write a shared import directory must not be able to
        /// make it store another user's file).
        case withinTree
    }

    /// Expands `paths` in order; a directory's files come sorted by name. Include globs match
    /// without regard to case (`*.MD` is a `*.md`); exclude globs match exactly. A symbolic
    /// link to a directory is followed unless it leads to a directory already walked, or (with
    /// ``LinkPolicy/withinTree``) leads outside the walked directory. `-` stands for one record
    /// on standard input.
    ///
    /// `sitePages` (`verify`, `audit`): walk as Jekyll reads a site, so that a publishing gate
    /// sees every page it renders. A walked directory's `_config.yml` (else `_config.yaml`)
    /// `include:` list, or Jekyll's default (`.htaccess`), names hidden entries as Jekyll's
    /// `include:` does (``namesHidden(_:relative:_:site:)``); and a file no include glob takes
    /// is taken all the same when it starts as Jekyll's pages do (``FileSystem/startsLikeAPage(at:in:)``),
    /// since Jekyll renders any such file (a `feed.xml`). What Jekyll publishes beyond its walk
    /// of the directories is taken too: files in collections and those an `include:` item names
    /// by path (``passes(_:relative:isDirectory:place:_:site:)``), posts and drafts whatever
    /// they start with (``isPost(_:at:)``). A `_config.toml` with no `_config.yml` (or
    /// `_config.yaml`) is refused. Exclude globs still leave files out.
    ///
    /// `staticFiles` (with `sitePages`; `verify --require-signature` without `--include`):
    /// every file is taken too, whatever its name, but in a `_posts` directory
    /// (``Place/postsOnly``): Jekyll publishes the files it does not render (a script or style
    /// that signed pages load, an SVG served from the site's origin) as they are, and a gate
    /// that requires signatures must not pass one it did not check.
    public static func expand(_ paths: [String], include: [String], exclude: [String], links: LinkPolicy = .follow,
                              sitePages: Bool = false, staticFiles: Bool = false) throws(AvaultError) -> [Found] {
        var out: [Found] = []
        for path in paths {
            if path == "-" { // standard input, one record
                out.append(Found(path: path, named: true, kind: .regular, tree: nil, sitePath: nil))
                continue
            }
            var st = stat()
            guard stat(path, &st) == 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                var seen: [DirectoryID: [Place]] = [DirectoryID(st): [Place()]]
                var tree: Tree?
                if links == .withinTree {
                    guard let resolved = FileSystem.resolvedPath(path) else { throw .io(path: path, reason: FileSystem.errnoText()) }
                    tree = Tree(root: path, resolved: resolved)
                }
                // Jekyll joins each item to the site's path (`File.join`): a leading `/` adds
                // nothing, and an item that is only `/` names the whole site.
                let settings = try sitePages ? siteSettings(path) : nil
                if let settings { try refuseBuildState(in: path, cacheDir: settings.settings.cacheDir) }
                let site = settings.map { Site($0.settings, configName: $0.file, staticFiles: staticFiles) }
                try walk(path, relative: "", include: include.map(Glob.init(commandLine:)), exclude: exclude.map(Glob.init(commandLine:)), site: site, place: Place(),
                         tree: tree, depth: 0, seen: &seen, into: &out)
            } else {
                out.append(Found(path: path, named: true, kind: FileSystem.kind(st.st_mode), tree: nil, sitePath: RecordSigner.sitePath(named: path)))
            }
        }
        return out
    }

    /// The top-level directory a walk with ``LinkPolicy/withinTree`` stays in.
    public struct Tree: Sendable, Equatable {
        /// As it was named (for messages).
        public var root: String
        /// With every symbolic link, `.` and `..` resolved (``FileSystem/resolvedPath(_:)``).
        public var resolved: [UInt8]
    }

    /// How a walk with `sitePages` reads a site: the `include:` entries of its configuration.
    private struct Site {
        var include: [Glob]
        /// The `include:` items as the paths Jekyll reads a file at (`Reader#read_included_excludes`,
        /// through `File.expand_path` from the site's source): `.` and empty segments dropped, a
        /// `..` taking the segment before it away (none above the source). `./.a/x.html`,
        /// `.b//y.html` and `.c/./d/z.md` are published as `.a/x.html`, `.b/y.html`, `.c/d/z.md`.
        var paths: [String]
        /// The directories the configuration names for collections, layouts, includes, data
        /// files and plugins (``SiteConfig/directoryKeys``, by their paths as Jekyll expands
        /// them): Jekyll reads them wherever they are, hidden too, and the walk enters them.
        var directories: [String]
        /// Those whose every file the walk takes, whatever its extension (``Place/everyFile``):
        /// layouts, includes and data files (Liquid reads them into every page), plugins (a
        /// plain `jekyll build` runs them) and Sass partials.
        var everyFile: [String]

        /// The configuration file read (`_config.yml` or `_config.yaml`), which the walk takes:
        /// Liquid renders its values into pages (`{{ site.title }}`), and it decides the rest.
        var configName: String?
        /// The layouts and includes directories (as Jekyll expands them), whose files Liquid
        /// renders in each page's context (``Found/inLayoutsOrIncludes``).
        var templates: [String]
        /// The includes directory (as Jekyll expands it; ``Found/readRaw``).
        var includes: String?

        /// Take every file but in a `_posts` directory, whatever the include globs say
        /// (``expand(_:include:exclude:links:sitePages:staticFiles:)``).
        var staticFiles: Bool

        init(_ settings: SiteConfig.Settings, configName: String?, staticFiles: Bool) {
            self.staticFiles = staticFiles
            let items = settings.include ?? SiteConfig.defaultInclude
            include = items.map { Glob(String($0.drop { $0 == "/" })) }
            paths = items.map(SiteConfig.expanded)
            var named: [String: String] = [:]
            for (key, fallback) in SiteConfig.directoryKeys { named[key] = SiteConfig.expanded(settings.directories[key] ?? fallback) }
            directories = named.values.filter { !$0.isEmpty }
            // Sass partials (`_sass`, where jekyll-sass-converter reads them unless `sass:`
            // says otherwise, which is not read) are compiled into the published CSS.
            everyFile = ["layouts_dir", "includes_dir", "data_dir", "plugins_dir"].compactMap { named[$0] }.filter { !$0.isEmpty } + ["_sass"]
            self.configName = configName
            templates = ["layouts_dir", "includes_dir"].compactMap { named[$0] }.filter { !$0.isEmpty }
            includes = named["includes_dir"].flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    /// Where a directory lies in the site a walk with `sitePages` reads: what decides which of
    /// its entries Jekyll publishes (``passes(_:relative:isDirectory:place:_:site:)``) and
    /// which of its files Jekyll makes posts of (``isPost(_:at:)``).
    private struct Place: Equatable {
        /// Whether Jekyll's reading of the site's directories reaches this one: every hidden
        /// directory on the way from the walked one is named by the site's `include:` or an
        /// include glob. (Always, without `sitePages`: the walk enters no other.)
        var reached = true
        /// The path to this directory from each directory at or above it whose name starts
        /// with `_` ("" in that directory itself): any of them may be a collection.
        var collections: [String] = []
        /// The path to this directory from each `_posts` directory at or above it.
        var posts: [String] = []
        /// The path to this directory from each `_drafts` directory at or above it.
        var drafts: [String] = []
        /// Below the site's layouts, includes, data files, plugins or Sass partials (`_layouts`,
        /// `_includes`, `_data`, `_plugins`, `_sass`, or where the configuration puts the first
        /// four): Jekyll reads a layout whatever its extension
        /// (`LayoutReader`, `**/*.*`, by its name without it: `default.zz` is layout `default`
        /// as `default.html` is), an include by the name a page gives, and data files into
        /// `site.data`; every file is taken, so that no unsigned one stands in for a signed one.
        var everyFile = false
        /// At or below the layouts or includes directory (``Found/inLayoutsOrIncludes``), and the
        /// includes directory (``Found/readRaw``): by place, so that a directory reached there
        /// through a link walked before as another (`_data` a link to `_includes`) is walked
        /// again as what Jekyll reads it as.
        var template = false
        var readRaw = false

        /// In a `_posts` directory that lies in no other directory whose name starts with `_`
        /// (`_posts/2024/`, `blog/_posts/`): Jekyll's `PostReader` makes documents of what it
        /// takes there and publishes no other file. (`_docs/guide/_posts/` may be a collection's,
        /// whose every file Jekyll publishes: which directories are collections is not read.)
        var postsOnly: Bool { !posts.isEmpty && collections.count == 1 }
        /// In a `_posts` or `_drafts` directory that lies in no other directory whose name
        /// starts with `_`: where Jekyll makes posts (and drafts) of what it takes. (Below
        /// another, a collection's, a date-named file is a static file or a document of it.)
        var documentsOnly: Bool { (!posts.isEmpty || !drafts.isEmpty) && collections.count == 1 }

        /// The place of the subdirectory `name` (`everyFile`: it is one of the site's
        /// ``Site/everyFile``; `template`, `readRaw`: the layouts or includes directory, the
        /// includes directory).
        func entering(_ name: String, reached: Bool, everyFile: Bool, template: Bool, readRaw: Bool) -> Place {
            func down(_ paths: [String]) -> [String] { paths.map { $0.isEmpty ? name : $0 + "/" + name } }
            var next = Place(reached: reached, collections: down(collections), posts: down(posts), drafts: down(drafts),
                             everyFile: self.everyFile || everyFile, template: self.template || template, readRaw: self.readRaw || readRaw)
            if name.utf8.first == 0x5F { next.collections.append("") }
            if name == "_posts" { next.posts.append("") }
            if name == "_drafts" { next.drafts.append("") }
            return next
        }
    }

    /// Whether the walk takes the entry `name` (a directory, a file, or either when
    /// `isDirectory` is nil) of a directory at `place`, as far as hidden entries go; `relative`
    /// is its path from the walked directory.
    ///
    /// Without `site`: an entry whose name does not start with `.`, or one an include glob names
    /// (``namesHidden(_:relative:_:site:)``). With `site`, whatever Jekyll may publish (as
    /// `Reader`, `Collection` and `EntryFilter` of Jekyll 4.3 read a site), and a little more
    /// where matching it exactly would take more rules:
    /// - in a directory Jekyll's walk reaches, an entry not hidden, or one the site's
    ///   `include:` (or an include glob) names;
    /// - a file an `include:` item names as its path, and each directory on the way to it,
    ///   hidden or not: Jekyll reads such a file wherever it lies (`Reader#read_included_excludes`);
    /// - in a directory whose name starts with `_` (a collection, `_docs/` for a `docs`
    ///   collection, or under a `collections_dir`: which of them are, is not read), at any depth
    ///   below it: every directory, and a file unless its path from that directory, or its name,
    ///   starts with `.` and no `include:` item names that path or name. Jekyll lists every entry
    ///   of a collection, hidden ones too (`Collection#entries`, `File::FNM_DOTMATCH`), and
    ///   leaves out only those (`EntryFilter#special?`, `#included?`): it publishes
    ///   `_docs/a/.h/page.md`, and `_docs/sub/.x.md` when `include:` names `sub/.x.md`;
    /// - what is read by its name, hidden or not (Jekyll's walk skips hidden entries, these
    ///   readers do not): every entry below the layouts, includes, data, plugins and Sass
    ///   directories (``Place/everyFile``: `{% include .banner.html %}`, `@import ".colors"`),
    ///   and Bundler's files at the site's top (a `gemspec` line evaluates `.gemspec`). (What
    ///   Sass imports from elsewhere is followed from the imports: ``SassImports``.)
    private static func passes(_ name: String, relative: String, isDirectory: Bool?, place: Place, _ include: [Glob], site: Site?) -> Bool {
        let hidden = name.utf8.first == 0x2E
        if site != nil, place.everyFile || isDirectory != true && !relative.utf8.contains(0x2F) && isBundlerFile(name) { return true }
        if place.reached && (!hidden || namesHidden(name, relative: relative, include, site: site)) { return true }
        guard let site else { return false }
        if isDirectory != true, site.paths.contains(relative) { return true }
        if isDirectory != false {
            let below = relative + "/"
            if !place.collections.isEmpty || site.paths.contains(where: { $0.utf8.starts(with: below.utf8) })
                || site.directories.contains(where: { $0 == relative || $0.utf8.starts(with: below.utf8) }) { return true }
        }
        return isDirectory != true && place.collections.contains { inCollection in
            let path = inCollection.isEmpty ? name : inCollection + "/" + name
            return !hidden && path.utf8.first != 0x2E || namesHidden(name, relative: path, include, site: site)
        }
    }

    /// Whether Jekyll makes a post of the file `name` of a directory at `place`: below a
    /// `_posts` directory (at any depth: `blog/_posts/`, `_posts/2024/`), a path that
    /// ``namesAPost(_:)``; below `_drafts` (posts with `--drafts`), one that ``namesADraft(_:)``.
    /// Jekyll reads such a file whatever it starts with, and renders it as a page.
    private static func isPost(_ name: String, at place: Place) -> Bool {
        place.posts.contains { namesAPost($0.isEmpty ? name : $0 + "/" + name) }
            || place.drafts.contains { namesADraft($0.isEmpty ? name : $0 + "/" + name) }
    }

    /// Whether Jekyll's `Document::DATE_FILENAME_MATCHER`,
    /// `^(?>.+/)*?(\d{2,4}-\d{1,2}-\d{1,2})-([^/]*)(\.[^.]+)$`, matches `path` (from a `_posts`
    /// directory): from its start or from its last `/`, a date (ASCII digits, as Ruby's `\d`)
    /// and `-`, then a last `.` that is not its last character, with no `/` before that `.`
    /// (`2024-01-02-a.b/c` matches). Ruby's `^` and `$` match at a line break too: a path with
    /// one is taken.
    static func namesAPost(_ path: String) -> Bool {
        let b = Array(path.utf8)
        guard !b.contains(0x0A) else { return true }
        let afterSlash = b.lastIndex(of: 0x2F).map { $0 + 1 } ?? 0
        return [0, afterSlash].contains { start in
            var i = start
            for (least, most) in [(2, 4), (1, 2), (1, 2)] {
                var digits = 0
                while i < b.count, (0x30...0x39).contains(b[i]) { i += 1; digits += 1 }
                guard (least...most).contains(digits), i < b.count, b[i] == 0x2D else { return false }
                i += 1
            }
            guard let dot = b[i...].lastIndex(of: 0x2E), dot < b.count - 1 else { return false }
            return !b[i..<dot].contains(0x2F)
        }
    }

    /// Whether Jekyll's `Document::DATELESS_FILENAME_MATCHER`, `^(?:.+/)*(.*)(\.[^.]+)$`,
    /// matches `path` (from a `_drafts` directory): its last `.` is not its last character (or it
    /// holds a line break, as for ``namesAPost(_:)``).
    static func namesADraft(_ path: String) -> Bool {
        let b = Array(path.utf8)
        guard !b.contains(0x0A) else { return true }
        guard let dot = b.lastIndex(of: 0x2E) else { return false }
        return dot < b.count - 1
    }

    /// What the site configuration in `dir` (`_config.yml`, else `_config.yaml`, the first of
    /// Jekyll's default configuration files there) says of the entries Jekyll reads; Jekyll's
    /// defaults when there is none. A `_config.toml` without either is refused
    /// (``AvaultError/siteConfigNotRead(path:)``): the site is built with it, and it is not read.
    private static func siteSettings(_ dir: String) throws(AvaultError) -> (settings: SiteConfig.Settings, file: String?) {
        for name in ["_config.yml", "_config.yaml"] {
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            var st = stat()
            guard stat(path, &st) == 0 else {
                guard errno == ENOENT else { throw .io(path: path, reason: FileSystem.errnoText()) }
                continue
            }
            // Regular files only: a FIFO there would hang the walk.
            let bytes = try FileSystem.readSmall(path, limit: FileLimits.siteConfig, what: "site configuration", regularOnly: true)
            let parsed = bytes.withUnsafeBytes { b in Result { () throws(FormatError) in try SiteConfig.settings(in: b) } }
            switch parsed {
            case .success(let settings): return (settings ?? SiteConfig.Settings(), name)
            case .failure(let error): throw .malformed(error, file: path)
            }
        }
        let toml = dir.hasSuffix("/") ? dir + "_config.toml" : dir + "/_config.toml"
        var st = stat()
        guard lstat(toml, &st) != 0 else { throw .siteConfigNotRead(path: toml) }
        guard errno == ENOENT else { throw .io(path: toml, reason: FileSystem.errnoText()) }
        return (SiteConfig.Settings(), nil)
    }

    /// Bundler's files at the site's top: `jekyll build` runs Bundler when the directory it runs
    /// in has a `Gemfile` (`PluginManager.require_from_bundler`, `--safe` too), and Bundler
    /// evaluates `gems.rb` before it, or the `Gemfile`, which may load any code (a `gemspec`
    /// line evaluates the `*.gemspec` beside it), with the versions the lock names. The walk
    /// takes them, as it takes plugins.
    static func isBundlerFile(_ name: String) -> Bool {
        ["Gemfile", "Gemfile.lock", "gems.rb", "gems.locked"].contains { name.utf8.elementsEqual($0.utf8) } || endsWith(name, ".gemspec")
    }

    /// Whether the bytes of `name` end with those of `suffix`, as Ruby and the file system
    /// compare them (a Swift string compares characters: `a\u{600}.scss` does not end with
    /// `.scss` there, the Arabic sign and the `.` being one character).
    static func endsWith(_ name: String, _ suffix: String, caseless: Bool = false) -> Bool {
        // (ASCII letters only: `suffix` is a lowercase extension.)
        name.utf8.count >= suffix.utf8.count
            && name.utf8.suffix(suffix.utf8.count).elementsEqual(suffix.utf8) { caseless && $0 | 0x20 == $1 && $1 >= 0x61 && $1 <= 0x7A || $0 == $1 }
    }

    /// Whether `name` is a stylesheet Sass may import (`atTop`: at the site's top):
    /// jekyll-sass-converter compiles a page's Sass as if it lay at the site's top, so that
    /// `@import "colors"` reads `_colors.scss`, `colors.scss`, `colors/_index.scss` or
    /// `colors.css` from there before `_sass/`, and `@import "a/b"` reads `a/_b.scss`. Every Sass
    /// file is taken (its extension in any case, as jekyll-sass-converter matches it), and the CSS files at the top (one that is not a page is published
    /// unchecked, or not at all, by Jekyll).
    static func isStylesheet(_ name: String, atTop: Bool) -> Bool {
        endsWith(name, ".scss", caseless: true) || endsWith(name, ".sass", caseless: true) || atTop && endsWith(name, ".css", caseless: true)
            || hasUnusualExtension(name)
    }

    /// Whether the extension of `name` (after its last `.`) has a byte that is not ASCII or is
    /// a control character: Ruby's `/i` folds Unicode case (`.ſcss` is `.scss` to
    /// jekyll-sass-converter's `/^\.scss$/i`), and its `$` matches before a final line break
    /// (`main.scss\n`), so such a file is taken as Sass, failing closed.
    static func hasUnusualExtension(_ name: String) -> Bool {
        guard let dot = name.utf8.lastIndex(of: 0x2E), !name.utf8[dot...].contains(0x2F) else { return false }
        return name.utf8[dot...].contains { $0 >= 0x80 || $0 < 0x20 || $0 == 0x7F }
    }

    /// Refuses a site that holds what `jekyll build` reads in place of rendering its files: its
    /// cache (`CACHE_DIR/Jekyll/Cache`, `.jekyll-cache` unless `cache_dir:` says otherwise),
    /// whose entries, keyed by a digest of a file's text, stand for what rendering it makes
    /// (and are read with Ruby's `Marshal`), and the record of an incremental build
    /// (`.jekyll-metadata`), and Bundler's settings (`.bundle/`), which may point it at gems
    /// whose code it loads. None can be checked; a build from a fresh copy has none.
    private static func refuseBuildState(in dir: String, cacheDir: String?) throws(AvaultError) {
        let cache = SiteConfig.expanded(cacheDir ?? SiteConfig.defaultCacheDir)
        for (name, what) in [(cache.isEmpty ? "Jekyll/Cache" : cache + "/Jekyll/Cache", AvaultError.BuildState.cache),
                             (".jekyll-metadata", .incrementalBuild), (".bundle", .bundlerSettings)] {
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            var st = stat()
            if lstat(path, &st) == 0 { throw .jekyllBuildStateInSite(path: path, what: what) }
            guard errno == ENOENT || errno == ENOTDIR else { throw .io(path: path, reason: FileSystem.errnoText()) }
        }
    }

    private struct DirectoryID: Hashable {
        var device: UInt64
        var inode: UInt64
        init(_ st: stat) { device = UInt64(st.st_dev); inode = UInt64(st.st_ino) }
    }

    /// A glob as a C string, and whether it has a `/` (decided once, not for every file); its
    /// text, and its segments that start with `.` (which name hidden entries).
    private struct Glob {
        var text: String
        var cString: ContiguousArray<CChar>
        var hasSlash: Bool
        var hidden: [ContiguousArray<CChar>]
        /// A glob given on the command line: a leading `/` anchors it at the walked directory
        /// (it matches the path from there: `/README.md` only the top-level one, as Jekyll's
        /// `exclude:` names it); a trailing `/` is dropped (`node_modules/` is `node_modules`).
        init(commandLine given: String) {
            var text = Substring(given)
            let anchored = text.hasPrefix("/")
            while text.hasPrefix("/") { text.removeFirst() }
            while text.hasSuffix("/") { text.removeLast() }
            self.init(String(text))
            hasSlash = hasSlash || anchored
        }

        init(_ text: String) {
            self.text = text
            cString = text.utf8CString
            hasSlash = text.utf8.contains(0x2F)
            hidden = text.utf8.split(separator: 0x2F).filter { $0.first == 0x2E }.map { String(Substring($0)).utf8CString }
        }
    }

    /// Whether an include glob names the hidden entry `name` (at `relative`, the path from the
    /// walked directory) with its leading `.`: a segment of the glob that starts with `.`
    /// matches the name, at any depth (`.well-known/*` names every `.well-known`); or a glob that
    /// starts with `.` takes the entry as Jekyll's `include:` takes one (by its path from the
    /// site's source and by its name): it matches the path or the name, `*` matching `/` too, or
    /// is a prefix of either (`.well-known` names `.well-known-x.html`). Matched with regard to
    /// case, as Jekyll matches. (`*.md` names no hidden file: Jekyll publishes none it does not
    /// include.)
    ///
    /// With `site`, its configuration's `include:` entries name hidden entries as Jekyll's
    /// `EntryFilter` does, whatever they start with: an entry matches the path or the name, is
    /// a prefix of either, or names the directory with a final `/`.
    private static func namesHidden(_ name: String, relative: String, _ include: [Glob], site: Site?) -> Bool {
        func fnmatches(_ pattern: ContiguousArray<CChar>, _ text: String) -> Bool {
            pattern.withUnsafeBufferPointer { p in text.withCString { fnmatch(p.baseAddress!, $0, 0) == 0 } }
        }
        func asJekyllIncludes(_ glob: Glob) -> Bool {
            glob.text.isEmpty || fnmatches(glob.cString, relative) || fnmatches(glob.cString, name) || relative.utf8.starts(with: glob.text.utf8) || name.utf8.starts(with: glob.text.utf8)
                || glob.text == relative + "/" || glob.text == name + "/"
        }
        return include.contains { glob in glob.hidden.contains { fnmatches($0, name) } || glob.text.utf8.first == 0x2E && asJekyllIncludes(glob) }
            || site?.include.contains(where: asJekyllIncludes) == true
    }

    /// The most directories a walk enters one inside another, below the one named: deeper, it
    /// stops (failing closed) before its recursion runs out of stack.
    public static let depthLimit = 128

    private static func walk(_ dir: String, relative: String, include: [Glob], exclude: [Glob], site: Site?, place: Place, tree: Tree?, depth: Int,
                             seen: inout [DirectoryID: [Place]], into out: inout [Found]) throws(AvaultError) {
        guard let d = opendir(dir) else { throw .io(path: dir, reason: FileSystem.errnoText()) }
        // Open until the walk of this directory ends: files are looked into by their names in it.
        defer { closedir(d) }
        var names: [(name: String, type: UInt8)] = []
        var undecodable: [(name: String, shown: String, isDirectory: Bool, isPage: Bool)] = []
        while let entry = readdir(d) {
            let name = FileSystem.name(of: entry)
            // Hidden entries are skipped, as Jekyll skips them, unless an include glob names them
            // (Jekyll publishes those its `_config.yml` includes, such as `.well-known`), or, in a
            // site, Jekyll may publish them all the same (`passes`: decided again below, once the
            // entry's kind is known).
            guard name != "." && name != "..",
                  passes(name, relative: relative.isEmpty ? name : relative + "/" + name, isDirectory: nil, place: place, include, site: site)
            else { continue }
            if FileSystem.utf8Name(of: entry) == nil {
                // Its kind, and whether it starts as a page, from its own bytes, now: no string
                // can name it later.
                let st = entry.pointee.d_type == UInt8(DT_DIR) ? nil : FileSystem.status(of: entry, in: d)
                let isDirectory = entry.pointee.d_type == UInt8(DT_DIR) || st.map { ($0.st_mode & S_IFMT) == S_IFDIR } ?? false
                let isPage = site != nil && !isDirectory && st.map { ($0.st_mode & S_IFMT) == S_IFREG } == true
                    && FileSystem.startsLikeAPage(at: FileSystem.namePointer(entry), in: dirfd(d))
                undecodable.append((name, FileSystem.escapedName(of: entry), isDirectory, isPage))
            } else {
                names.append((name, FileSystem.listedType(of: entry, in: d)))
            }
        }
        // A name that is not UTF-8 cannot be opened through a Swift string (it would name
        // another file, or none), and a site generator publishes it all the same: a directory
        // so named, or a file the globs take, is reported as a file that was not checked.
        // (Globs match the name with U+FFFD for each byte that is not UTF-8.)
        for (name, shown, isDirectory, isPage) in undecodable.sorted(by: { $0.shown < $1.shown }) {
            let rel = relative.isEmpty ? name : relative + "/" + name
            guard passes(name, relative: rel, isDirectory: isDirectory, place: place, include, site: site),
                  !matches(rel, name, exclude, caseless: false),
                  isDirectory || isPage || matches(rel, name, include, caseless: true) || site != nil && (place.everyFile || isPost(name, at: place))
                    || site?.staticFiles == true && !place.postsOnly else { continue }
            out.append(found(dir.hasSuffix("/") ? dir + shown : dir + "/" + shown, relative: rel, kind: .undecodableName, tree: tree, place: place))
        }
        /// Whether a file the globs do not take is taken as a page (a regular one, by `name`).
        func isPage(_ name: String) -> Bool {
            site != nil && name.withCString { FileSystem.startsLikeAPage(at: $0, in: dirfd(d)) }
        }
        /// Whether a file (of any kind: it is reported) is taken as a post, as a layout, an
        /// include, a data file, a plugin or a Sass partial, or as the site's configuration.
        // By their bytes: a Swift string set would pair `cafe\u{301}.js.minisig` with `café.js`.
        // (Made at the first `.minisig`: most directories have none.)
        lazy var regular = site == nil ? [] : Set(names.filter { $0.type == UInt8(DT_REG) }.map { Array($0.name.utf8) })
        func isPostHere(_ name: String) -> Bool {
            guard let site else { return false }
            return place.everyFile && !isSignatureBeside(name) || isPost(name, at: place)
                || isStylesheet(name, atTop: relative.isEmpty) || relative.isEmpty && (name == site.configName || isBundlerFile(name))
        }
        /// Whether `name` is, at the site's top, its configuration or a file of Bundler's: read as
        /// it is (``Found/readRaw``), so that a record's embedded signature does not pass it.
        func readAsItIs(_ name: String) -> Bool {
            guard let site, relative.isEmpty else { return false }
            return name == site.configName || isBundlerFile(name)
        }
        /// Whether, where every file is taken, `name` is the detached signature of a file `X`
        /// beside it, checked with `X` and not as a file of its own: `X.minisig` where `X` is a
        /// regular file with an extension (Jekyll names a layout by its name without the last
        /// one: `default.minisig` would be layout `default`, `default.html.minisig` is layout
        /// `default.html`, which no page names unless it says so), and this file starts as a
        /// minisign signature does (`untrusted comment: `: no byte order mark or `---` from
        /// which Jekyll would read front matter). `X`'s check reads this signature: as the
        /// signature of a file without front matter, and for one with front matter as a
        /// signature of its bytes that must pass
        /// (``RecordVerifier/verifyForPublishing(_:jobs:progress:)``). Not in `_posts/`, where
        /// Jekyll makes a post of it.
        func isSignatureBeside(_ name: String, extensionNeeded: Bool = true) -> Bool {
            guard name.utf8.count > 8, endsWith(name, ".minisig") else { return false }
            let stem = Array(name.utf8.dropLast(8))
            guard !extensionNeeded || stem.dropFirst().contains(0x2E), !stem.suffix(8).elementsEqual(".minisig".utf8),
                  regular.contains(stem) else { return false }
            return name.withCString { FileSystem.starts(with: Array("untrusted comment: ".utf8), at: $0, in: dirfd(d)) }
        }
        /// Whether the include globs take the file `name` at `rel`, or, with
        /// ``Site/staticFiles``, it does not lie in a `_posts/` directory below no other
        /// directory whose name starts with `_` (``Place/postsOnly``: there Jekyll makes
        /// documents only, and the walk takes posts by their names): Jekyll publishes every
        /// file it does not render as it is, in a collection with `output: true` or a
        /// directory `include:` names too (which directories whose name starts with `_` are
        /// such is not read: failing closed).
        func globTakes(_ rel: String, _ name: String) -> Bool {
            matches(rel, name, include, caseless: true) || site?.staticFiles == true && !place.postsOnly
        }
        /// Whether a file, or a directory, passes as far as hidden entries go.
        func passesHere(_ name: String, _ rel: String, isDirectory: Bool) -> Bool {
            passes(name, relative: rel, isDirectory: isDirectory, place: place, include, site: site)
        }
        /// Whether `name` (at `rel`), which an include glob takes, is the detached signature of a
        /// file beside it that a glob takes too, as ``isSignatureBeside(_:extensionNeeded:)``
        /// says (any extension, or none: no layout is named here), so that it is checked with
        /// that file and not as a file of its own: `--include '*'` has every file Jekyll
        /// publishes signed, static files (scripts, styles, images) too, each beside its
        /// `.minisig`. Not in `_posts/` or `_drafts/`, where Jekyll makes a post of it.
        func isGlobTakenSignature(_ name: String, _ rel: String) -> Bool {
            guard site != nil, !place.documentsOnly, isSignatureBeside(name, extensionNeeded: false) else { return false }
            let stem = String(decoding: name.utf8.dropLast(8), as: UTF8.self), stemRel = String(decoding: rel.utf8.dropLast(8), as: UTF8.self)
            return passesHere(stem, stemRel, isDirectory: false) && !matches(stemRel, stem, exclude, caseless: false)
                && globTakes(stemRel, stem)
        }
        for (name, type) in names.sorted(by: { $0.name < $1.name }) {
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            // A regular file as the directory lists it (not a link) needs no stat: the reader
            // checks what it opens.
            if type == UInt8(DT_REG) {
                if passesHere(name, rel, isDirectory: false), !matches(rel, name, exclude, caseless: false),
                   globTakes(rel, name) && !isGlobTakenSignature(name, rel)
                    // A paired signature is no post (in a collection's `_posts/`, Jekyll's
                    // static file); where every file is taken, `isPostHere` pairs it itself.
                    || isPostHere(name) && (place.everyFile || !isGlobTakenSignature(name, rel)) || isPage(name) {
                    out.append(found(path, relative: rel, kind: .regular, tree: tree, place: place, readAsItIs: readAsItIs(name),
                                     isPost: site != nil && place.documentsOnly && isPost(name, at: place)))
                }
                continue
            }
            var st = stat()
            guard path.withCString({ stat($0, &st) }) == 0 else {
                // A dangling symbolic link, or an entry removed meanwhile: report it if it matches.
                if passesHere(name, rel, isDirectory: false), globTakes(rel, name) || isPostHere(name),
                   !matches(rel, name, exclude, caseless: false) {
                    out.append(found(path, relative: rel, kind: .missing, tree: tree, place: place))
                }
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                guard passesHere(name, rel, isDirectory: true), !matches(rel, name, exclude, caseless: false) else { continue }
                if let tree { try checkLink(path, type: type, toDirectory: true, in: tree) }
                let reached = place.reached && (name.utf8.first != 0x2E || namesHidden(name, relative: rel, include, site: site))
                    || site?.directories.contains(rel) == true
                // A directory is walked once (a link to it, or a loop of them, leads to it again);
                // in a site, at each path it is reached at: Jekyll publishes its files under each
                // (a signature bound to a place counts at one), and what is taken there depends
                // on the place (a symbolic link `_posts` to a plain directory walked before makes
                // its files posts). Reached at more than 4 paths, it is refused, failing closed (a
                // loop of links, or a chain of them, could make the walks many).
                // Read as they are: the includes (pasted into pages), and data files, plugins and
                // Sass partials (parsed, run, compiled whole), where a record's signature, over
                // its canonical form, covers less than is read.
                let next = site.map { place.entering(name, reached: reached, everyFile: $0.everyFile.contains(rel), template: $0.templates.contains(rel),
                                                     readRaw: $0.includes == rel || $0.everyFile.contains(rel) && !$0.templates.contains(rel)) } ?? Place()
                let id = DirectoryID(st)
                let places = seen[id, default: []]
                guard site != nil || !places.contains(next) else { continue }
                guard places.count < 4 else {
                    throw .io(path: path, reason: "a directory reached through symbolic links at more than 4 places of the site, where Jekyll may publish its files in as many ways; the walk stopped")
                }
                seen[id] = places + [next]
                guard depth < depthLimit else {
                    throw .io(path: path, reason: "more than \(depthLimit) directories below the one named; the walk stopped")
                }
                try walk(path, relative: rel, include: include, exclude: exclude, site: site, place: site == nil ? place : next,
                         tree: tree, depth: depth + 1, seen: &seen, into: &out)
            } else if passesHere(name, rel, isDirectory: false), !matches(rel, name, exclude, caseless: false),
                      globTakes(rel, name) || isPostHere(name) || (st.st_mode & S_IFMT) == S_IFREG && isPage(name) {
                if let tree { try checkLink(path, type: type, toDirectory: false, in: tree) }
                var link = stat()
                let isLink = type == UInt8(DT_LNK) || type == UInt8(DT_UNKNOWN) && lstat(path, &link) == 0 && (link.st_mode & S_IFMT) == S_IFLNK
                out.append(found(path, relative: rel, kind: FileSystem.kind(st.st_mode), tree: tree, place: place, readAsItIs: readAsItIs(name),
                                 isLink: isLink, isPost: site != nil && place.documentsOnly && isPost(name, at: place)))
            }
        }
    }

    private static func found(_ path: String, relative: String, kind: FileSystem.FileKind, tree: Tree?, place: Place, readAsItIs: Bool = false,
                              isLink: Bool = false, isPost: Bool = false) -> Found {
        Found(path: path, named: false, kind: kind, tree: tree, inLayoutsOrIncludes: place.template, readRaw: place.readRaw || readAsItIs,
              sitePath: relative, isLink: isLink, isPost: isPost)
    }

    /// Refuses `path`, an entry the walk is about to take, when it is a symbolic link (a
    /// chain of them included) that resolves outside `tree`. The entry as the directory listed
    /// it may be a link (`DT_LNK`) or of a kind the listing does not give (`DT_UNKNOWN`); any
    /// other entry is no link. (This is the walk's decision; a link swapped in after it is
    /// caught when the file is opened: ``FileSystem/checkOpened(_:path:within:)``.)
    private static func checkLink(_ path: String, type: UInt8, toDirectory: Bool, in tree: Tree) throws(AvaultError) {
        if type != UInt8(DT_LNK) {
            guard type == UInt8(DT_UNKNOWN) else { return }
            var st = stat()
            guard lstat(path, &st) == 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
            guard (st.st_mode & S_IFMT) == S_IFLNK else { return }
        }
        guard let target = FileSystem.resolvedPath(path) else { throw .io(path: path, reason: FileSystem.errnoText()) }
        guard FileSystem.path(target, isWithin: tree.resolved) else {
            throw .linkOutsideWalkedTree(path: path, root: tree.root, toDirectory: toDirectory)
        }
    }

    /// A glob with a `/` matches the relative path; one without matches the file name.
    private static func matches(_ relative: String, _ name: String, _ globs: [Glob], caseless: Bool) -> Bool {
        let flags: Int32 = caseless ? 1 << 4 : 0 // FNM_CASEFOLD (a GNU extension Glibc does not export to Swift)
        return globs.contains { glob in
            glob.cString.withUnsafeBufferPointer { pattern in
                (glob.hasSlash ? relative : name).withCString { fnmatch(pattern.baseAddress!, $0, flags) == 0 }
            }
        }
    }
}
