#if canImport(Glibc)
import Glibc
#endif

/// Where a user's files are, as the XDG Base Directory specification says: a variable that is
/// set to an absolute path, else a place in the home directory. The home directory is `HOME`
/// when it is an absolute path, else the user's entry in the password database. A relative
/// path is never used (the specification calls one invalid): with `HOME` unset (`env -i`, a
/// service), the keyring and trust store would otherwise be read from the directory the
/// command runs in — a site's checkout, which whoever writes the site controls.
public enum UserDirectories {
    /// `variable` when it is set to an absolute path.
    public static func absolute(_ variable: String) -> String? {
        guard let value = getenv(variable), value[0] == UInt8(ascii: "/") else { return nil }
        return String(cString: value)
    }

    /// `$variable` if absolute, else the home directory followed by `fallback` (such as
    /// `/.config`), then `/avault/` and `name`.
    static func path(_ variable: String, else fallback: String, _ name: String) throws(AvaultError) -> String {
        if let base = absolute(variable) { return base + "/avault/" + name }
        return try home() + fallback + "/avault/" + name
    }

    /// `HOME` if absolute, else the password database's home directory of the real user.
    public static func home() throws(AvaultError) -> String {
        if let home = absolute("HOME") { return home }
        var entry = passwd(), found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        if getpwuid_r(getuid(), &entry, &buffer, buffer.count, &found) == 0, found != nil, let dir = entry.pw_dir, dir[0] == UInt8(ascii: "/") {
            return String(cString: dir)
        }
        throw .noHomeDirectory
    }
}
