#if canImport(Glibc)
import Glibc
#endif
import VaultFormat

/// The trust store on disk (`trust.avt` in the keyring directory unless given): publisher
/// keys that record verification consults. Updates hold a lock and replace the file atomically.
public final class TrustStore {
    /// The file.
    public let path: String
    /// Its parsed contents (empty if the file does not exist yet).
    public private(set) var file: TrustStoreFile

    /// `explicit` (`--trust-store`), else `trust.avt` in the keyring directory.
    public static func location(explicit: String?, keyringDirectory: String) -> String {
        explicit ?? keyringDirectory + "/trust.avt"
    }

    /// Reads the trust store at `path`; a missing file reads as empty unless `mustExist`.
    public init(path: String, mustExist: Bool = false) throws(AvaultError) {
        self.path = path
        self.file = TrustStoreFile()
        if mustExist || access(path, F_OK) == 0 { try reload() }
    }

    private func reload() throws(AvaultError) {
        let bytes = try FileSystem.read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformed(.invalidTrustStore("not UTF-8", line: 1), file: path)
        }
        do { file = try TrustStoreFile(parsing: text) } catch { throw .malformed(error, file: path) }
    }

    /// Runs `body` under an exclusive lock on a fresh read, then writes atomically (mode 644).
    public func update(_ body: (inout TrustStoreFile) throws(AvaultError) -> Void) throws(AvaultError) {
        let dir = FileSystem.directory(of: path)
        try FileSystem.makeDirectory(dir, mode: 0o700)
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: lockPath, reason: FileSystem.errnoText()) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .io(path: lockPath, reason: FileSystem.errnoText()) }
        }
        if access(path, F_OK) == 0 { try reload() } else { file = TrustStoreFile() }
        try body(&file)
        try FileSystem.writeAtomically(path, Array(file.serialized().utf8), mode: 0o644)
    }
}

extension TrustStore {
    /// Where a command's trusted keys come from: the minisign public key files
    /// `publicKeyFiles` when any are given (each trusted, with no roles or window), else the
    /// trust store at `explicit`, else `trust.avt` in the keyring directory. With `required`, a
    /// missing store is an error (nothing could be trusted, which is a broken setup, not a
    /// verdict on the records); without it, a missing default store gives nil.
    public static func source(publicKeyFiles: [String], explicit: String?, keyringDirectory: String,
                              required: Bool) throws(AvaultError) -> TrustSource? {
        if !publicKeyFiles.isEmpty {
            var keys: [Minisign.PublicKey] = []
            for path in publicKeyFiles {
                let text = String(decoding: try FileSystem.read(path), as: UTF8.self)
                do { keys.append(try Minisign.PublicKey(parsing: text)) } catch { throw .malformed(error, file: path) }
            }
            return .publicKeys(keys)
        }
        let path = location(explicit: explicit, keyringDirectory: keyringDirectory)
        if explicit == nil, !FileSystem.exists(path) {
            guard required else { return nil }
            throw .refused("no trust store at \(path): no signature could be trusted",
                           hint: "add publisher keys with 'avault keys trust add PUBFILE --name NAME', or give --pubkey PUBFILE or --trust-store FILE")
        }
        return .store(try TrustStore(path: path, mustExist: true).file)
    }
}
