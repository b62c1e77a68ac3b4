import Foundation
import TestSupport
import Testing

/// Runs the real `avault` binary (built next to the test bundle) and external tools.
enum CLI {
    /// The repository root (the directory holding Package.swift).
    static let repoRoot: URL = Repository.root

    /// The built `avault` executable: `AVAULT_BIN`, else the debug build beside this test
    /// executable. `.ci/run` also runs these tests with `AVAULT_BIN` naming the release build
    /// (`scripts/build-release`).
    static let avaultPath: String = {
        if let path = ProcessInfo.processInfo.environment["AVAULT_BIN"] { return path }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent("avault").path
    }()

    /// Whether the binary is the debug build beside the tests, which has the test-only
    /// switches a release build leaves out (`AVAULT_TEST_LIBPQ_WITHOUT_PIPELINE`); a binary
    /// given by `AVAULT_BIN` is taken to be a release build.
    static let debugBuild = ProcessInfo.processInfo.environment["AVAULT_BIN"] == nil

    /// The Swift runtime's backtracer from the toolchain that runs the tests
    /// (`usr/libexec/swift/linux/swift-backtrace-static` beside `usr/bin/swift`), which a
    /// release build, with the runtime linked in, cannot find by itself; nil if it is not there.
    static let swiftBacktracer: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        for dir in path.split(separator: ":") {
            let swift = URL(fileURLWithPath: String(dir)).appendingPathComponent("swift").resolvingSymlinksInPath()
            let backtracer = swift.deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("libexec/swift/linux/swift-backtrace-static").path
            if FileManager.default.isExecutableFile(atPath: backtracer) { return backtracer }
        }
        return nil
    }()

    /// Whether the tests run under a sanitizer (`.ci/run` sets `AVAULT_SANITIZER`): tests that
    /// measure memory or speed, or trace system calls, are skipped then.
    static let sanitized = ProcessInfo.processInfo.environment["AVAULT_SANITIZER"] != nil

    struct Result {
        var stdout: Data
        var stderr: Data
        var code: Int32
        var out: String { String(decoding: stdout, as: UTF8.self) }
        var err: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Runs `avault args…` with `stdin` as standard input.
    @discardableResult
    static func avault(_ args: [String], stdin: Data = Data(), cwd: URL? = nil, env: [String: String] = [:]) throws -> Result {
        try run(avaultPath, args, stdin: stdin, cwd: cwd, env: env)
    }

    /// Runs a program found on PATH (or an absolute path).
    @discardableResult
    static func run(_ program: String, _ args: [String], stdin: Data = Data(), cwd: URL? = nil, env: [String: String] = [:]) throws -> Result {
        let process = Process()
        if program.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = args
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [program] + args
        }
        if let cwd { process.currentDirectoryURL = cwd }
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = errPipe
        try process.run()
        // Feed stdin and drain stdout/stderr concurrently so large payloads cannot deadlock.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        feed(stdin, to: inPipe.fileHandleForWriting)
        try inPipe.fileHandleForWriting.close()
        process.waitUntilExit()
        group.wait()
        return Result(stdout: outData, stderr: errData, code: process.terminationStatus)
    }

    /// Writes `data` to a child's standard input. A child that exits before it has read it all
    /// (a refusal before any input is read; a release build exits that fast) closes the pipe:
    /// the write then fails with EPIPE, which is no concern of the test (the child's status
    /// and output are), and the SIGPIPE that comes with it must not end the test process. So
    /// SIGPIPE is blocked on this thread for the write (not ignored: children inherit that),
    /// and one it raised is taken before the mask is restored.
    static func feed(_ data: Data, to handle: FileHandle) {
        var pipeSignal = sigset_t(), previous = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer {
            var now = timespec(tv_sec: 0, tv_nsec: 0)
            while sigtimedwait(&pipeSignal, nil, &now) == SIGPIPE {}
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        try? handle.write(contentsOf: data)
    }

    /// A fresh temporary directory, removed by the caller with `cleanUp`.
    static func tempDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avault-test-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes `text` to `url` with POSIX `mode` (0o600 for key files).
    static func write(_ text: String, to url: URL, mode: Int = 0o600) throws {
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }

    static func hex(_ data: some Sequence<UInt8>) -> String {
        data.map { String(format: "%02x", $0) }.joined()
    }
}
