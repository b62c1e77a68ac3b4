#if canImport(Glibc)
import Glibc
#endif

/// Finds records: files named on the command line, and in directories (recursively, hidden
/// entries skipped) the files that match an include glob and no exclude glob.
public enum RecordWalker {
    /// Default include globs.
    public static let defaultInclude = ["*.md", "*.txt"]

    /// Expands `paths` in order; a directory's files come sorted. `named` marks paths given
    /// directly (checked even without front matter).
    public static func expand(_ paths: [String], include: [String], exclude: [String]) throws(AvaultError) -> [(path: String, named: Bool)] {
        var out: [(String, Bool)] = []
        for path in paths {
            var st = stat()
            guard stat(path, &st) == 0 else { throw .io(path: path, reason: FileSystem.errnoText()) }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                try walk(path, relative: "", include: include, exclude: exclude, into: &out)
            } else {
                out.append((path, true))
            }
        }
        return out
    }

    private static func walk(_ dir: String, relative: String, include: [String], exclude: [String],
                             into out: inout [(String, Bool)]) throws(AvaultError) {
        guard let d = opendir(dir) else { throw .io(path: dir, reason: FileSystem.errnoText()) }
        var names: [(String, Bool)] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            var isDir = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                var st = stat()
                isDir = lstat(dir + "/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
            } else if entry.pointee.d_type == UInt8(DT_LNK) {
                // Symbolic links to files are followed; links to directories are not (no cycles).
                var st = stat()
                guard stat(dir + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            }
            names.append((name, isDir))
        }
        closedir(d)
        for (name, isDir) in names.sorted(by: { $0.0 < $1.0 }) {
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            if isDir {
                if !matches(rel, name, exclude) { try walk(path, relative: rel, include: include, exclude: exclude, into: &out) }
            } else if matches(rel, name, include), !matches(rel, name, exclude) {
                out.append((path, false))
            }
        }
    }

    /// A glob with a `/` matches the relative path; one without matches the file name.
    private static func matches(_ relative: String, _ name: String, _ globs: [String]) -> Bool {
        globs.contains { glob in fnmatch(glob, glob.contains("/") ? relative : name, 0) == 0 }
    }
}
