#if canImport(Glibc)
import Glibc
#endif
public import VaultFormat

/// An article record read from disk.
public struct RecordFile: Sendable {
    /// Where it was read from.
    public let path: String
    /// The file's text.
    public let text: String
    /// The parsed document.
    public let document: RecordDocument
    /// The permission bits (`st_mode & 0o7777`) of the file that was read, as the descriptor it
    /// was read through showed them; nil for standard input and text given whole.
    public let mode: mode_t?

    /// Reads and parses the record at `path` (`-`: standard input), as ``readText(_:)`` reads
    /// it: a regular file through one descriptor, whose mode it keeps as that descriptor shows
    /// it. A command that rewrites the record gives the new file the mode of the file it read,
    /// not that of whatever the path names once it has been read (a link to another file,
    /// swapped in by someone who can write the directory).
    public init(path: String) throws(AvaultError) {
        guard path != "-" else {
            try self.init(path: path, text: Self.readText(path))
            return
        }
        let (fd, identity) = try FileSystem.openRegular(path)
        defer { close(fd) }
        try self.init(path: path, text: Self.readText(fd: fd, size: Int(identity.size), path: path), mode: identity.permissions)
    }

    /// Parses `text`, the record read from `path` (a file with the permission bits `mode`, when known).
    public init(path: String, text: String, mode: mode_t? = nil) throws(AvaultError) {
        self.path = path
        self.text = text
        self.mode = mode
        do {
            self.document = try RecordDocument(parsing: text)
        } catch {
            throw .malformed(error, file: path)
        }
    }

    /// The text of the record at `path` (`-`: standard input), read up to
    /// ``RecordLimits/fileBytes``: a longer file (by its size, or by what it holds when read:
    /// it may grow) is malformed, and so is one that is not UTF-8. Anything but a regular file
    /// (a FIFO, which would block the command, a device) is refused without being read.
    public static func readText(_ path: String) throws(AvaultError) -> String {
        guard path != "-" else {
            return try text(FileSystem.readAll(fd: 0, name: "standard input", limit: RecordLimits.fileBytes + 1), path: path)
        }
        let (fd, size) = try FileSystem.openRegularFile(path)
        defer { close(fd) }
        return try readText(fd: fd, size: size, path: path)
    }

    /// The text of the record open at `fd` (read from where it stands), a file of `size` bytes
    /// when it was opened, as ``readText(_:)`` reads one named by its path.
    public static func readText(fd: Int32, size: Int, path: String) throws(AvaultError) -> String {
        let limit = RecordLimits.fileBytes
        return try text(size > limit ? nil : FileSystem.readAll(fd: fd, name: path, sizeHint: size, limit: limit + 1), path: path)
    }

    /// `read` (nil: too large by its size) as a record's text.
    private static func text(_ read: [UInt8]?, path: String) throws(AvaultError) -> String {
        guard var bytes = read, bytes.count <= RecordLimits.fileBytes else {
            throw .malformed(.invalidRecord(RecordLimits.fileTooLarge, line: nil), file: path)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformed(.invalidRecord("the file is not valid UTF-8", line: nil), file: path)
        }
        bytes = [] // one copy of the file at a time from here
        return text
    }

    /// The `secured` field's text. Throws when the record has none or it is not a string.
    public func securedText() throws(AvaultError) -> String {
        guard let value = document.fields["secured"] else { throw .noSecuredField(path: path) }
        guard let text = value.stringValue else {
            throw .malformed(.invalidRecord("the 'secured' field is not a string", line: nil), file: path)
        }
        return text
    }
}

/// What `avault canonical` prints.
public enum Canonical {
    /// Writes the canonical bytes a record signature covers (avault-record-v1) of the record at
    /// `path`, piece by piece: the body is never copied whole. The first error `write` throws
    /// stops the writing and is rethrown.
    public static func record(at path: String, write: (UnsafeRawBufferPointer) throws(AvaultError) -> Void) throws(AvaultError) {
        let text = try RecordFile.readText(path)
        let document: RecordDocument
        do { document = try RecordDocument(parsing: text) } catch { throw .malformed(error, file: path) }
        var failure: AvaultError?
        RecordSignatures.writeCanonicalBytes(of: document) { piece in
            guard failure == nil else { return }
            do throws(AvaultError) { try write(piece) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// The RFC 8785 form of the JSON document `bytes` (read from `path`).
    public static func json(_ bytes: [UInt8], path: String) throws(AvaultError) -> [UInt8] {
        do { return try JSONDocument.parse(bytes).canonicalJSON } catch { throw .malformed(error, file: path) }
    }
}
