import ArgumentParser
import ArticleVault
import VaultFormat
#if canImport(Glibc)
import Glibc
#endif

/// What the command line prints: `avault: …` lines on standard error, output on standard output.
enum Terminal {
    /// `avault: message` (and `avault: hint: …`) on stderr, each one line whatever a file name
    /// or an ID in it holds (see ``shown(_:)``).
    static func error(_ message: String, hint: String? = nil) {
        var text = "avault: \(shown(message))\n"
        if let hint { text += "avault: hint: \(shown(hint))\n" }
        writeStderr(text)
    }

    /// Set by `-q`/`--quiet`: no progress and no notes (errors and warnings are still printed).
    nonisolated(unsafe) static var quiet = false

    static func warning(_ message: String, hint: String? = nil) {
        writeStderr("avault: warning: \(shown(message))\n" + (hint.map { "avault: hint: \(shown($0))\n" } ?? ""))
    }

    /// `avault: hint: …` on stderr after a result (not with `-q`): how to fix what it reported.
    static func hint(_ message: String) {
        if quiet { return }
        writeStderr("avault: hint: \(shown(message))\n")
    }

    /// `avault: note: …` on stderr: something worth knowing that is not a problem.
    static func note(_ message: String) {
        if quiet { return }
        writeStderr("avault: note: \(shown(message))\n")
    }

    /// Text that may come from outside (a file name found in a walk, an object ID another
    /// writer chose, a reason quoting a record) as human-readable output shows it: control
    /// characters (C0, DEL, C1) and the invisible format characters that reorder or hide
    /// text (bidirectional overrides and isolates, zero-width characters, line and paragraph
    /// separators) become escapes (`\n`, `\x1B`, `\u{202E}`), so that it stays on its line
    /// and cannot move the cursor, clear a line, or pose as another line of the report.
    /// JSON output needs none of this: its strings are escaped already. `keepingTabs`: a TAB
    /// stays as it is (it moves the cursor only along its line), where text is shown as another
    /// tool shows it (a minisign trusted comment, whose fields TABs separate).
    static func shown(_ text: String, keepingTabs: Bool = false) -> String {
        let escapes = { (s: Unicode.Scalar) in needsEscape(s) && !(keepingTabs && s == "\t") }
        guard text.unicodeScalars.contains(where: escapes) else { return text }
        var out = ""
        for s in text.unicodeScalars {
            if escapes(s) { out += TextLines.escape(s) } else { out.unicodeScalars.append(s) }
        }
        return out
    }

    /// A name (a path, an object ID) as one item of a report: as it is when nothing in it
    /// needs an escape, else in double quotes with C-style escapes, `\"` and `\\` included, as
    /// git shows such paths, so that a quoted name cannot be taken for another.
    static func quoted(_ name: String) -> String {
        guard name.unicodeScalars.contains(where: { needsEscape($0) || $0 == "\"" || $0 == "\\" }) else { return name }
        return "\"" + escapedForQuotes(Substring(name)) + "\""
    }

    /// As ``quoted(_:)``, for a path whose last part is, with `lastEscaped`, a name that is not
    /// UTF-8 in its escaped form (``FileSystem/escapedName(of:)``: `\xNN` for each byte, a `\`
    /// as `\x5c`), shown as it is inside the quotes: `"dir/post\xff.md"`, where a file
    /// literally named `post\xff.md` is `"dir/post\\xff.md"`.
    static func quoted(_ path: String, lastEscaped: Bool) -> String {
        guard lastEscaped else { return quoted(path) }
        let cut = path.utf8.lastIndex(of: 0x2F).map { path.utf8.index(after: $0) } ?? path.startIndex
        // The escaped form is printable ASCII: only a `"` in it needs its escape.
        return "\"" + escapedForQuotes(path[..<cut]) + path[cut...].map { $0 == "\"" ? "\\\"" : String($0) }.joined() + "\""
    }

    private static func escapedForQuotes(_ name: Substring) -> String {
        var out = ""
        for s in name.unicodeScalars {
            switch s {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: if needsEscape(s) { out += TextLines.escape(s) } else { out.unicodeScalars.append(s) }
            }
        }
        return out
    }

    /// A path as a command's last operand in a hint: after `--` when it starts with `-`, which
    /// the command would take for an option.
    static func operand(_ path: String) -> String { (path.hasPrefix("-") ? "-- " : "") + shellWord(path) }

    /// A word of a command that a hint suggests, as a POSIX shell reads it back: as it is when
    /// it holds only characters no shell treats specially, else in single quotes (a `'` in it
    /// as `'\''`), so that pasting the hint runs that command on that name and nothing more.
    static func shellWord(_ word: String) -> String {
        let plain = !word.isEmpty && word.unicodeScalars.allSatisfy { s in
            switch s.value {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
            default: "@%+=:,./_-".unicodeScalars.contains(s)
            }
        }
        if plain { return word }
        var out = "'"
        for s in word.unicodeScalars {
            if s == "'" { out += "'\\''" } else { out.unicodeScalars.append(s) }
        }
        return out + "'"
    }

    /// Controls, line and paragraph separators, and what draws nothing of its own or looks like
    /// a space: every default-ignorable code point (zero-width and bidirectional controls, the
    /// soft hyphen, variation selectors, Hangul fillers, tag characters), every format
    /// character, every space but U+0020 (no-break, en, em, ideographic…) and the Braille blank.
    private static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x2800: true
        case 0x20..<0x7F: false
        default: s.properties.isDefaultIgnorableCodePoint || [.format, .spaceSeparator].contains(s.properties.generalCategory)
        }
    }

    /// What the agent client has to say: a note or a warning.
    @Sendable static func agentNotice(_ notice: AgentClient.Notice) {
        switch notice {
        case .note(let text): note(text)
        case .warning(let text): warning(text)
        }
    }

    static func writeStderr(_ text: String) {
        // Nothing to do if standard error itself fails: there is nowhere left to say so. Within
        // a batch, a closed pipe is remembered (``writingBatch(_:)``).
        let failed = Array(text.utf8).withUnsafeBytes { writeAll(fd: 2, $0) }
        if batch.active, failed == EPIPE { batch.lostMessages = true }
    }

    /// Writes to standard output. A failed write (a full disk, a closed descriptor) stops the
    /// command: `avault: standard output: …` and exit status 2, so a script never takes a
    /// truncated output for a complete one. Within ``writingBatch(_:)`` it ends the report
    /// instead, and the batch goes on.
    static func writeStdout(_ bytes: [UInt8]) throws(AvaultError) {
        if batch.failure != nil { return }
        try checkStdout(bytes.withUnsafeBytes { writeAll(fd: 1, $0) })
    }

    static func writeStdout(_ bytes: UnsafeRawBufferPointer) throws(AvaultError) {
        if batch.failure != nil { return }
        try checkStdout(writeAll(fd: 1, bytes))
    }

    /// Throws for the `errno` of a failed write to standard output.
    private static func checkStdout(_ failed: Int32?) throws(AvaultError) {
        if let failure = failed {
            if batch.active {
                batch.failure = failure
                return
            }
            errno = failure
            throw .io(path: "standard output", reason: FileSystem.errnoText())
        }
    }

    /// Within ``writingBatch(_:)``: the `errno` of the first write to standard output that
    /// failed, after which nothing more is written there; whether a message was lost to a
    /// closed pipe on standard error.
    nonisolated(unsafe) private static var batch: (active: Bool, failure: Int32?, lostMessages: Bool) = (false, nil, false)

    /// Runs `body`, which writes files one after another (the records of a batch) and reports
    /// each, so that neither standard output nor standard error can stop it partway, after some
    /// files and before the others. Meanwhile SIGPIPE is ignored (a closed pipe on either would
    /// otherwise end the process at the next line), and a failed write to standard output ends
    /// the report, not the batch. (SIGXFSZ, at a file size limit, is ignored from start-up.)
    /// Once every file is written, a closed pipe ends the process by SIGPIPE, silently, as it
    /// would have (`avault seal … | head -1`); a caller that ignores or blocks SIGPIPE gets
    /// exit 2 instead, as for any other failure of standard output (a full disk), which is the
    /// error, with a hint that every file was written. When `body` fails after standard output
    /// did, a line says so before its error: the report may have missed files written. `hint`
    /// is the hint of that exit 2, saying what was done despite it.
    /// Writes the report of a change that is already made (`done`: what it was): a failure to
    /// write it says that the change stands, so that a script does not make it again.
    static func reportMade(_ text: String, done: String) throws {
        try writingBatch(hint: done + "; only the report of it was cut short") { try writeStdout(text) }
    }

    static func writingBatch(hint: String = "every file was written; only the report of them was cut short",
                             _ body: () throws -> Void) throws {
        precondition(!batch.active, "a batch within a batch")
        batch = (true, nil, false)
        defer { batch = (false, nil, false) }
        do { try ignoringSIGPIPE(body) } catch {
            if let failure = batch.failure {
                errno = failure
                writeStderr("avault: standard output: \(FileSystem.errnoText()): files written before the error below may be missing from the report\n")
            }
            throw error
        }
        let failure = batch.failure
        guard failure != nil || batch.lostMessages else { return }
        if failure == EPIPE || batch.lostMessages { raise(SIGPIPE) } // returns if the caller ignores or blocks SIGPIPE
        guard let failure else { throw Failure(message: "standard error: broken pipe", code: Exit.operational) }
        errno = failure
        throw Failure(message: "standard output: \(FileSystem.errnoText())", hint: hint,
                      code: Exit.operational)
    }

    static func writeStdout(_ text: String) throws(AvaultError) {
        try writeStdout(Array(text.utf8))
    }

    /// Writes `text` to standard output; when that fails, calls `undo` before the failure ends
    /// the command, as any failure of standard output does (by SIGPIPE for a closed pipe, else
    /// exit 2): for what must not outlive a line nobody read (a background agent holding a key).
    static func writeStdout(_ text: String, undoingOnFailure undo: () -> Void) throws(AvaultError) {
        precondition(!batch.active, "within a batch, a failed write ends only the report")
        guard let failure = ignoringSIGPIPE({ Array(text.utf8).withUnsafeBytes { writeAll(fd: 1, $0) } }) else { return }
        undo()
        if failure == EPIPE { raise(SIGPIPE) } // returns if the caller ignores or blocks SIGPIPE
        try checkStdout(failure)
    }

    /// Runs `body` with SIGPIPE ignored, so that a write to a closed pipe fails with EPIPE
    /// instead of ending the process; the disposition is restored after.
    private static func ignoringSIGPIPE<T>(_ body: () throws -> T) rethrows -> T {
        var ignore = sigaction(), previous = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&ignore.sa_mask)
        sigaction(SIGPIPE, &ignore, &previous)
        defer { sigaction(SIGPIPE, &previous, nil) }
        return try body()
    }

    /// Whether standard output is a terminal.
    static var stdoutIsTerminal: Bool { isatty(1) == 1 }

    /// Whether `bytes` would be garbled or unsafe on a terminal: not UTF-8, or holding control
    /// characters other than tab, line feed and carriage return (escape sequences included).
    static func isBinary<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Bool {
        if bytes.contains(where: { ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D) || $0 == 0x7F }) { return true }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if (0x80...0x9F).contains(scalar.value) { return true } // C1 controls
            case .emptyInput: return false
            case .error: return true
            }
        }
    }

    /// The refusal to print binary output on a terminal (as age refuses).
    static let binaryToTerminal = Failure(message: "refusing to output binary to the terminal",
                                          hint: "use -o FILE or pipe it", code: Exit.operational)

    /// Writes all of `bytes`; returns the `errno` of a failed write.
    @discardableResult
    private static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                // A descriptor the caller made non-blocking: wait until it takes more.
                if errno == EAGAIN {
                    var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    if poll(&ready, 1, -1) >= 0 || errno == EINTR { continue }
                }
                return errno
            }
            offset += n
        }
        return nil
    }
}

/// `-q`/`--quiet`, for the commands that print progress or notes.
struct QuietOption: ParsableArguments {
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Print no progress and no notes (errors and warnings still).")
    var quiet = false

    /// Makes ``Terminal/quiet`` follow the flag.
    func apply() { if quiet { Terminal.quiet = true } }
}

/// A `\rLABEL: done/total` line on standard error, shown only when standard error is a
/// terminal, the command is not quiet, and the work has taken more than a second.
struct ProgressLine: Sendable {
    let label: String
    let total: Int
    let start = monotonicSeconds()
    let enabled: Bool

    init(_ label: String, total: Int, enabled: Bool = true) {
        self.label = label
        self.total = total
        self.enabled = enabled && !Terminal.quiet && isatty(2) == 1
    }

    /// Shows that `done` of `total` are done.
    func update(_ done: Int) {
        guard enabled, monotonicSeconds() - start > 1 else { return }
        Terminal.writeStderr("\r\(label): \(done)/\(total)")
    }

    /// Clears the line (if it was shown).
    func finish() {
        if enabled, monotonicSeconds() - start > 1 { Terminal.writeStderr("\r\u{1B}[K") }
    }
}

/// Plaintext shown on a terminal a piece at a time, each piece checked with
/// ``Terminal/isBinary(_:)`` before it is written. A UTF-8 sequence cut between two pieces is
/// held back (at most 3 bytes) and checked with the rest of it.
final class TerminalText {
    private var pending: [UInt8] = []
    /// Whether a piece was refused.
    private(set) var refusedBinary = false

    deinit { Self.clear(&pending) }

    /// Writes `piece` (after what was held back) to standard output, unless it is binary: then
    /// nothing more is written and false returned.
    func show(_ piece: UnsafeRawBufferPointer) throws(AvaultError) -> Bool {
        var start = 0
        if let lead = pending.first {
            // Complete the sequence held back, and check and write it alone.
            start = min(piece.count, Self.sequenceLength(lead) - pending.count)
            pending += piece[0..<start]
            if pending.count < Self.sequenceLength(lead) { return true }
            guard !Terminal.isBinary(pending) else { refusedBinary = true; return false }
            try Terminal.writeStdout(pending)
            Self.clear(&pending)
        }
        let rest = UnsafeRawBufferPointer(rebasing: piece[start...])
        let cut = Self.completeLength(rest)
        let body = UnsafeRawBufferPointer(rebasing: rest[..<cut])
        guard !Terminal.isBinary(body) else { refusedBinary = true; return false }
        try Terminal.writeStdout(body)
        pending = Array(rest[cut...])
        return true
    }

    /// At the end: false when a cut UTF-8 sequence was left over (binary, not written).
    func finish() -> Bool {
        if pending.isEmpty { return true }
        refusedBinary = true
        return false
    }

    /// How long the UTF-8 sequence that `lead` starts is (1 for anything that does not start one).
    static func sequenceLength(_ lead: UInt8) -> Int { lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1 }

    /// The length of `bytes` without a UTF-8 sequence that its end cuts short.
    static func completeLength(_ bytes: UnsafeRawBufferPointer) -> Int {
        var i = bytes.count
        // Back over up to 3 continuation bytes to the lead byte of the last sequence.
        while i > 0, bytes.count - i < 3, bytes[i - 1] & 0xC0 == 0x80 { i -= 1 }
        guard i > 0 else { return bytes.count }
        return bytes.count - (i - 1) < sequenceLength(bytes[i - 1]) ? i - 1 : bytes.count
    }

    private static func clear(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { if let base = $0.baseAddress { explicit_bzero(base, $0.count) } }
        bytes.removeAll()
    }
}
