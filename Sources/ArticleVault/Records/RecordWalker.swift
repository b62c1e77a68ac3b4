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

        /// Why a file that is not regular is not read.
        public var notReadReason: String {
            kind == .undecodableName ? "its name is not UTF-8" : "\(kind.rawValue), not a regular file"
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
    /// since Jekyll renders any such file (a `feed.xml`). Exclude globs still leave files out.
    public static func expand(_ paths: [String], include: [String], exclude: [String], links: LinkPolicy = .follow,
                              sitePages: Bool = false) throws(AvaultError) -> [Found] {
        var out: [Found] = []
        for path in paths {
            if path == "-" { // standard input, one record
                out.append(Found(path: path, named: true, kind: .regular, tree: nil))
                continue
            }
            var st = stat()
            guard stat(path, &st) == 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                var seen: Set<DirectoryID> = [DirectoryID(st)]
                var tree: Tree?
                if links == .withinTree {
                    guard let resolved = FileSystem.resolvedPath(path) else { throw .io(path: path, reason: FileSystem.errnoText()) }
                    tree = Tree(root: path, resolved: resolved)
                }
                // Jekyll joins each item to the site's path (`File.join`): a leading `/` adds
                // nothing, and an item that is only `/` names the whole site.
                let site = sitePages ? Site(include: try siteInclude(path).map { Glob(String($0.drop { $0 == "/" })) }) : nil
                try walk(path, relative: "", include: include.map(Glob.init), exclude: exclude.map(Glob.init), site: site, tree: tree,
                         seen: &seen, into: &out)
            } else {
                out.append(Found(path: path, named: true, kind: FileSystem.kind(st.st_mode), tree: nil))
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
    }

    /// The `include:` list of the site configuration in `dir` (`_config.yml`, else
    /// `_config.yaml`, the first of Jekyll's default configuration files there), or Jekyll's
    /// default when there is none or it sets none. (A `_config.toml` is not read: docs/cli.md.)
    private static func siteInclude(_ dir: String) throws(AvaultError) -> [String] {
        for name in ["_config.yml", "_config.yaml"] {
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            var st = stat()
            guard stat(path, &st) == 0 else {
                guard errno == ENOENT else { throw .io(path: path, reason: FileSystem.errnoText()) }
                continue
            }
            // Regular files only: a FIFO there would hang the walk.
            let bytes = try FileSystem.readSmall(path, limit: FileLimits.siteConfig, what: "site configuration", regularOnly: true)
            let parsed = bytes.withUnsafeBytes { b in Result { () throws(FormatError) in try SiteConfig.include(in: b) } }
            switch parsed {
            case .success(let list): return list ?? SiteConfig.defaultInclude
            case .failure(let error): throw .malformed(error, file: path)
            }
        }
        return SiteConfig.defaultInclude
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

    private static func walk(_ dir: String, relative: String, include: [Glob], exclude: [Glob], site: Site?, tree: Tree?,
                             seen: inout Set<DirectoryID>, into out: inout [Found]) throws(AvaultError) {
        guard let d = opendir(dir) else { throw .io(path: dir, reason: FileSystem.errnoText()) }
        // Open until the walk of this directory ends: files are looked into by their names in it.
        defer { closedir(d) }
        var names: [(name: String, type: UInt8)] = []
        var undecodable: [(name: String, shown: String, isDirectory: Bool, isPage: Bool)] = []
        while let entry = readdir(d) {
            let name = FileSystem.name(of: entry)
            // Hidden entries are skipped, as Jekyll skips them, unless an include glob names them
            // (Jekyll publishes those its `_config.yml` includes, such as `.well-known`).
            guard name.utf8.first != 0x2E || name != "." && name != ".."
                    && namesHidden(name, relative: relative.isEmpty ? name : relative + "/" + name, include, site: site) else { continue }
            if FileSystem.utf8Name(of: entry) == nil {
                // Its kind, and whether it starts as a page, from its own bytes, now: no string
                // can name it later.
                let st = entry.pointee.d_type == UInt8(DT_DIR) ? nil : FileSystem.status(of: entry, in: d)
                let isDirectory = entry.pointee.d_type == UInt8(DT_DIR) || st.map { ($0.st_mode & S_IFMT) == S_IFDIR } ?? false
                let isPage = site != nil && !isDirectory && st.map { ($0.st_mode & S_IFMT) == S_IFREG } == true
                    && FileSystem.startsLikeAPage(at: FileSystem.namePointer(entry), in: dirfd(d))
                undecodable.append((name, FileSystem.escapedName(of: entry), isDirectory, isPage))
            } else {
                names.append((name, entry.pointee.d_type))
            }
        }
        // A name that is not UTF-8 cannot be opened through a Swift string (it would name
        // another file, or none), and a site generator publishes it all the same: a directory
        // so named, or a file the globs take, is reported as a file that was not checked.
        // (Globs match the name with U+FFFD for each byte that is not UTF-8.)
        for (name, shown, isDirectory, isPage) in undecodable.sorted(by: { $0.shown < $1.shown }) {
            let rel = relative.isEmpty ? name : relative + "/" + name
            guard !matches(rel, name, exclude, caseless: false), isDirectory || isPage || matches(rel, name, include, caseless: true) else { continue }
            out.append(found(dir.hasSuffix("/") ? dir + shown : dir + "/" + shown, kind: .undecodableName, tree: tree))
        }
        /// Whether a file the globs do not take is taken as a page (a regular one, by `name`).
        func isPage(_ name: String) -> Bool {
            site != nil && name.withCString { FileSystem.startsLikeAPage(at: $0, in: dirfd(d)) }
        }
        for (name, type) in names.sorted(by: { $0.name < $1.name }) {
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            // A regular file as the directory lists it (not a link) needs no stat: the reader
            // checks what it opens.
            if type == UInt8(DT_REG) {
                if !matches(rel, name, exclude, caseless: false), matches(rel, name, include, caseless: true) || isPage(name) {
                    out.append(found(path, kind: .regular, tree: tree))
                }
                continue
            }
            var st = stat()
            guard path.withCString({ stat($0, &st) }) == 0 else {
                // A dangling symbolic link, or an entry removed meanwhile: report it if it matches.
                if matches(rel, name, include, caseless: true), !matches(rel, name, exclude, caseless: false) {
                    out.append(found(path, kind: .other, tree: tree))
                }
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                guard !matches(rel, name, exclude, caseless: false) else { continue }
                if let tree { try checkLink(path, type: type, toDirectory: true, in: tree) }
                guard seen.insert(DirectoryID(st)).inserted else { continue }
                try walk(path, relative: rel, include: include, exclude: exclude, site: site, tree: tree, seen: &seen, into: &out)
            } else if !matches(rel, name, exclude, caseless: false),
                      matches(rel, name, include, caseless: true) || (st.st_mode & S_IFMT) == S_IFREG && isPage(name) {
                if let tree { try checkLink(path, type: type, toDirectory: false, in: tree) }
                out.append(found(path, kind: FileSystem.kind(st.st_mode), tree: tree))
            }
        }
    }

    private static func found(_ path: String, kind: FileSystem.FileKind, tree: Tree?) -> Found {
        Found(path: path, named: false, kind: kind, tree: tree)
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
