#if canImport(Glibc)
import Glibc
#endif
public import VaultCrypto
import VaultFormat

/// The files around an age encryption or decryption: recipients from the command line and
/// recipients files, the input (a file or standard input) and the output (standard output, or a
/// file that appears only complete).
public enum AgeIO {
    /// The largest recipients file read.
    public static let maximumRecipientsFileSize = 1 << 20

    /// The X25519 recipients given as `age1…` strings and in recipients files (`age -R`: one per
    /// line, `#` comments), in that order. A malformed one is an error naming it (a recipient
    /// is public) or its file and line.
    /// With `writersRisk` (a vault's or a sealed draft's recipients, not `age -R`'s: what
    /// whoever can write the file decides, which the refusal says), a file that someone other
    /// than the user can write or replace is refused, as `.avault-recipients` is. Standard input
    /// and an anonymous pipe the process was started with (`<(…)`, ``FileSystem/inheritedPipe(_:)``)
    /// are taken as given.
    public static func recipients(_ texts: [String], files: [String], writersRisk: String? = nil) throws(AvaultError) -> [AgeRecipient] {
        var out: [AgeRecipient] = []
        for text in texts {
            do throws(AgeKeys.Problem) { out.append(.x25519(try AgeKeys.parseRecipient(text))) } catch {
                throw .invalidAgeRecipient(text)
            }
        }
        for path in files {
            // Standard input (`-`), and a pipe the caller handed over (`<(…)`: /dev/fd/N, read
            // from the descriptor itself), come from the command line's own choice, as
            // `age -R -`'s does.
            let bytes: [UInt8]
            if writersRisk != nil, path != "-", let pipe = FileSystem.inheritedPipe(path) {
                bytes = try FileSystem.readAll(fd: pipe, name: path, size: 0, limit: maximumRecipientsFileSize, what: "a recipients file")
            } else if let writersRisk, path != "-" {
                bytes = try readOwnRecipientsFile(path, risk: writersRisk)
            } else {
                bytes = try FileSystem.readInput(path, limit: maximumRecipientsFileSize, what: "a recipients file")
            }
            do throws(AgeKeys.Problem) {
                let keys = try withRaw(bytes) { raw throws(AgeKeys.Problem) in try AgeKeys.parseRecipientsFile(raw) }
                out.append(contentsOf: keys.map { .x25519($0) })
            } catch { throw .ageKey(error, file: FileSystem.inputName(path)) }
        }
        return out
    }

    /// The recipients file at `path`, refused when someone other than the user can write or
    /// replace it, as `.avault-recipients` is; `risk` says what such a writer decides.
    private static func readOwnRecipientsFile(_ path: String, risk: String) throws(AvaultError) -> [UInt8] {
        try SecureDirectory(path: FileSystem.directory(of: path), requirePrivate: false)
            .readOwnFile(FileSystem.baseName(of: path), limit: maximumRecipientsFileSize, limitWhat: "a recipients file",
                         what: "the recipients file", fileRisk: risk,
                         directoryRisk: "anyone who can write it can replace the file")
    }

    /// Calls `body` with the input at `path` (a regular file; nil or `-`: standard input).
    public static func withInput<T>(_ path: String?, _ body: (AgeInput) throws(AvaultError) -> T) throws(AvaultError) -> T {
        guard let path, path != "-" else { return try body(AgeFileInput(fd: 0, name: "standard input")) }
        let (fd, _) = try FileSystem.openRegularFile(path)
        defer { close(fd) }
        return try body(AgeFileInput(fd: fd, name: path))
    }

    /// Runs `body` with a sink for the output: standard output (`path` nil or `-`: `stdout` gets
    /// each piece as it comes), or the file at `path`, written to a temporary file beside it and
    /// renamed into place (mode 600) only when `body` succeeds — a failure leaves nothing, not
    /// half a file. An existing file is replaced only with `overwrite`.
    public static func withOutput(_ path: String?, overwrite: Bool, stdout: @escaping (UnsafeRawBufferPointer) throws(AvaultError) -> Void,
                                  _ body: ((UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) -> Void) throws(AvaultError) {
        guard let path, path != "-" else { return try body(stdout) }
        try FileSystem.checkOutput(path, force: overwrite, dashOption: "-o")
        let file = try OutputFile(path: path)
        do throws(AvaultError) {
            try body { piece throws(AvaultError) in try file.write(piece) }
        } catch {
            file.abandon()
            throw error
        }
        try file.commit(overwrite: overwrite)
    }

    /// The identities to decrypt with from identity files (`age -i`), in order.
    public static func identities(files: [String]) throws(AvaultError) -> [SecretBytes] {
        var out: [SecretBytes] = []
        for path in files { out.append(contentsOf: try Keyring.readAgeIdentityFile(path)) }
        return out
    }

    /// `avault age encrypt`: `input` (nil or `-`: standard input) to the recipients and recipients
    /// files, or, when `passphrase` is given, to a passphrase alone (read here, asked twice on a
    /// terminal); the age file (armored when `armor`) to `output` as ``withOutput(_:overwrite:stdout:_:)``.
    public static func encrypt(input: String?, recipients texts: [String], recipientsFiles: [String], passphrase: PassphraseSource?,
                               armor: Bool, output: String?, overwrite: Bool,
                               stdout: @escaping (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) {
        let targets: [AgeRecipient]
        if let passphrase {
            guard texts.isEmpty, recipientsFiles.isEmpty else { throw .invalidAgeRecipients(reason: "a passphrase cannot be combined with recipients (age's rule)") }
            targets = [.passphrase(try passphrase.read(confirm: true), workFactor: AgeFile.defaultWorkFactor)]
        } else {
            targets = try recipients(texts, files: recipientsFiles)
        }
        try withInput(input) { source throws(AvaultError) in
            try withOutput(output, overwrite: overwrite, stdout: stdout) { sink throws(AvaultError) in
                try AgeFile.encrypt(source, to: targets, armor: armor, output: sink)
            }
        }
    }

    /// `avault age decrypt`: `input` with the identities `keys` of `keyring` (every version,
    /// retired ones included), then those of `identityFiles`; with none, as a passphrase file
    /// (the passphrase read from `passphrase` only if the file is one). A passphrase file given
    /// identities is refused as age refuses it (``AgeError/passphraseFileGivenIdentities``), and
    /// a file encrypted to recipients given none as ``AvaultError/ageNoIdentityGiven(stanzaTypes:)``.
    /// Armor detected; plaintext to `output` as ``withOutput(_:overwrite:stdout:_:)`` (a file
    /// appears only when all of it decrypted).
    public static func decrypt(input: String?, keyring: Keyring?, keys: [String], identityFiles: [String], passphrase: PassphraseSource,
                               output: String?, overwrite: Bool,
                               stdout: @escaping (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) {
        var secrets: [SecretBytes] = []
        if !keys.isEmpty {
            guard let keyring else { throw .internalFailure("identities by name need a keyring") }
            for name in keys { secrets += try keyring.ageIdentities(named: name) }
        }
        secrets += try identities(files: identityFiles)
        let ask: (() throws(AvaultError) -> SecretBytes)? = secrets.isEmpty ? { () throws(AvaultError) -> SecretBytes in try passphrase.read() } : nil
        do throws(AvaultError) {
            try withInput(input) { source throws(AvaultError) in
                try withOutput(output, overwrite: overwrite, stdout: stdout) { sink throws(AvaultError) in
                    try AgeFile.decrypt(source, armored: nil, identities: secrets, passphrase: ask, output: sink)
                }
            }
        } catch {
            // What was given does not fit the kind of file, rather than failing to open it: a
            // passphrase file given identities (age refuses it so), a recipients' file given none.
            if case .age(.noIdentityMatched(let types), let file) = error {
                let given = !(keys.isEmpty && identityFiles.isEmpty)
                if given, types == ["scrypt"] { throw .age(.passphraseFileGivenIdentities, file: file) }
                if !given, !types.contains("scrypt") { throw .ageNoIdentityGiven(stanzaTypes: types) }
            }
            throw error
        }
    }
}
