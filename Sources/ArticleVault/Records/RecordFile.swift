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
    /// The file that was read, as the descriptor it was read through showed it (its
    /// permission bits among the rest); nil for standard input.
    public let identity: FileSystem.Identity?
    /// The permission bits (`st_mode & 0o7777`) of the file that was read: a command that
    /// rewrites the record gives the new file these, not those of whatever the path names once
    /// it has been read (a link to another file, swapped in by someone who can write the
    /// directory).
    public var mode: mode_t? { identity?.permissions }

    /// Reads and parses the record at `path` (`-`: standard input), up to
    /// ``RecordLimits/fileBytes``: a longer file (by its size, or by what it holds when read: it
    /// may grow) is malformed, and so is one that is not UTF-8. Anything but a regular file (a
    /// FIFO, which would block the command, a device) is refused without being read; a regular
    /// one is read through one descriptor. `seenRegular`: as
    /// ``FileSystem/openRegularFile(_:seenRegular:)``. `tree`: the directory a walk found the
    /// file in, which the file opened must lie in (``FileSystem/checkOpened(_:path:within:)``).
    public init(path: String, seenRegular: Bool = false, within tree: RecordWalker.Tree? = nil) throws(AvaultError) {
        let limit = RecordLimits.fileBytes
        guard path != "-" else {
            try self.init(path: path, read: FileSystem.readAll(fd: 0, name: "standard input", limit: limit + 1), identity: nil)
            return
        }
        let (fd, identity) = try FileSystem.openRegular(path, seenRegular: seenRegular)
        defer { close(fd) }
        if let tree { try FileSystem.checkOpened(fd, path: path, within: tree) }
        let size = Int(identity.size)
        try self.init(path: path, read: size > limit ? nil : FileSystem.readAll(fd: fd, name: path, sizeHint: size, limit: limit + 1),
                      identity: identity)
    }

    /// `read` (nil: too large by its size) as a record.
    private init(path: String, read: [UInt8]?, identity: FileSystem.Identity?) throws(AvaultError) {
        guard var bytes = read, bytes.count <= RecordLimits.fileBytes else {
            throw .malformed(.invalidRecord(RecordLimits.fileTooLarge, line: nil), file: path)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformed(.invalidRecord("the file is not valid UTF-8", line: nil), file: path)
        }
        bytes = [] // one copy of the file at a time from here
        self.path = path
        self.text = text
        self.identity = identity
        do {
            self.document = try RecordDocument(parsing: text)
        } catch {
            throw .malformed(error, file: path)
        }
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
        let document = try RecordFile(path: path).document
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
