#if canImport(Glibc)
import Glibc
#endif
import VaultFormat

/// The trust store on disk (`trust.avt` in the keyring directory unless given): publisher
/// keys that record verification consults. It holds only public keys and is read without a
/// passphrase, so nothing authenticates it but who can write it: a store (or a directory it is
/// in) that group or others may write is refused. It is opened by name relative to its
/// directory, never through a symbolic link, and only when it is a regular file. Updates hold a
/// lock (`FILE.lock` beside it, opened the same way) and replace the file atomically.
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
        guard Self.exists(path) else {
            if mustExist { throw .io(path: path, reason: "no such file or directory") }
            return
        }
        try reload(try SecureDirectory(path: directoryPath, requirePrivate: false), mustExist: mustExist)
    }

    /// Whether anything (a symbolic link included) is at `path`.
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    private var directoryPath: String { FileSystem.directory(of: path) }
    private var name: String { FileSystem.baseName(of: path) }

    private func reload(_ dir: SecureDirectory, mustExist: Bool) throws(AvaultError) {
        guard try dir.kind(of: name) != nil else {
            if mustExist { throw .io(path: path, reason: "no such file or directory") }
            file = TrustStoreFile()
            return
        }
        let bytes = try dir.readOwnFile(name, limit: FileLimits.trustStore, limitWhat: "a trust store", what: "the trust store",
                                        fileRisk: "anyone who can write it decides whose signatures count",
                                        directoryRisk: "anyone who can write it can replace the store")
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformed(.invalidTrustStore("not UTF-8", line: 1), file: path)
        }
        do { file = try TrustStoreFile(parsing: text) } catch { throw .malformed(error, file: path) }
    }

    /// Runs `body` under an exclusive lock on a fresh read, then writes atomically (mode 644).
    public func update(_ body: (inout TrustStoreFile) throws(AvaultError) -> Void) throws(AvaultError) {
        let dir = try SecureDirectory.create(path: directoryPath, mode: 0o700, requirePrivate: false)
        let lock = try dir.lock(name + ".lock")
        defer { withExtendedLifetime(lock) {} }
        try reload(dir, mustExist: false)
        try body(&file)
        try dir.writeAtomically(name, Array(file.serialized().utf8), mode: 0o644)
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
                let text = String(decoding: try FileSystem.readInput(path, limit: FileLimits.minisignFile, what: "a minisign public key"), as: UTF8.self)
                do { keys.append(try Minisign.PublicKey(parsing: text)) } catch { throw .malformed(error, file: FileSystem.inputName(path)) }
            }
            return .publicKeys(keys)
        }
        let path = location(explicit: explicit, keyringDirectory: keyringDirectory)
        if explicit == nil, !exists(path) {
            guard required else { return nil }
            throw .noTrustStore(path: path)
        }
        return .store(try TrustStore(path: path, mustExist: true).file)
    }
}
