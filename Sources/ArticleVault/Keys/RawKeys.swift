public import VaultCrypto
import VaultFormat

/// Loading raw symmetric key files (see ``RawKeyFile``).
public enum RawKeys {
    /// Reads a raw key file (`-`: standard input). Refuses a file that group or others can access, and never
    /// repeats the file's contents in an error.
    public static func load(_ path: String) throws(AvaultError) -> SecretBytes {
        var contents = try FileSystem.readInput(path, limit: FileLimits.keyFile, what: "a raw key file", secret: true)
        defer { wipe(&contents) }
        do {
            return try RawKeyFile.parse(contents)
        } catch {
            throw .malformed(error, file: FileSystem.inputName(path))
        }
    }
}
