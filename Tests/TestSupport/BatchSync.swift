import Foundation

/// What a test may expect of a large batch of vault writes (docs/architecture.md): one `syncfs`
/// in place of an `fsync` per file on Linux 5.8 or later, on the local file systems avault
/// trusts it on; an `fsync` per file anywhere else (a container's overlayfs, NFS, …).
public enum BatchSync {
    /// The type of the file system holding `path`, by name (`stat -f -c %T`: ext4 is "ext2/ext3").
    public static func fileSystemType(_ path: String) throws -> String {
        let r = try PostgresServer.execute("/usr/bin/stat", ["-f", "-c", "%T", path], cwd: "/")
        return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether avault makes a large batch of files in `path` durable with one `syncfs`.
    public static func usesSyncfs(at path: String) throws -> Bool {
        let v = ProcessInfo.processInfo.operatingSystemVersion
        let type = try fileSystemType(path)
        return (v.majorVersion, v.minorVersion) >= (5, 8) && ["ext2/ext3", "ext4", "xfs", "btrfs", "f2fs", "tmpfs"].contains(type)
    }
}
