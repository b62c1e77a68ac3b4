import Foundation
import Testing

/// A fault in `avault` prints one fixed line, never the registers and memory that the Swift
/// runtime's backtracer would dump (they can hold keys and plaintext).
@Suite struct CrashOutput {
    /// Starts `avault secured decrypt -` (which waits on standard input), sends it `signal`,
    /// and returns its standard error and exit status.
    func crash(_ signal: Int32, env: [String: String] = [:]) throws -> (err: String, status: Int32, reason: Process.TerminationReason) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.avaultPath)
        process.arguments = ["secured", "decrypt", "-", "--key-file", "/dev/null"]
        var environment = ProcessInfo.processInfo.environment
        // The runtime's backtracer armed, with its path (a release build cannot find it alone).
        let backtracer = try #require(CLI.swiftBacktracer, "no swift-backtrace-static beside the toolchain's swift")
        environment["SWIFT_BACKTRACE"] = "enable=yes,swift-backtrace=\(backtracer)"
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait until it blocks reading standard input (past start-up, handlers installed):
        // /proc/PID/syscall then starts with "0 0x0" (read(2) on descriptor 0).
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let syscall = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/syscall", encoding: .utf8)) ?? ""
            if syscall.hasPrefix("0 0x0 ") { break }
            usleep(10_000)
        }
        kill(process.processIdentifier, signal)
        // The end of its input, should it outlive the signal (the runtime's backtracer returns
        // from a signal sent with kill(2): there is no faulting instruction to fault again).
        try? input.fileHandleForWriting.close()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: err, as: UTF8.self), process.terminationStatus, process.terminationReason)
    }

    @Test(arguments: [SIGSEGV, SIGILL, SIGTRAP, SIGBUS, SIGABRT])
    func aFaultPrintsOneLineAndNoMemory(_ signal: Int32) throws {
        let r = try crash(signal)
        #expect(r.reason == .exit)
        #expect(r.status == 70)
        #expect(r.err.hasPrefix("avault: internal error: the program stopped on a fault"))
        #expect(r.err.split(separator: "\n").count == 2, "\(r.err)")
        for word in ["Thread", "Registers", "rax", "rip", "Backtrace", "0x0"] { #expect(!r.err.contains(word)) }
    }

    /// Ctrl-\ (SIGQUIT) is no fault, but the runtime's backtracer took it too and dumped its
    /// registers and memory; it now ends avault as the default action does, unless the parent
    /// ignored it. (Sent with the signal unblocked: the test runner starts its children with it
    /// blocked.)
    @Test(.disabled(if: CLI.sanitized, "AddressSanitizer handles the signal itself")) func aQuitEndsAvaultWithoutABacktrace() throws {
        let backtracer = try #require(CLI.swiftBacktracer, "no swift-backtrace-static beside the toolchain's swift")
        let script = """
            import os, signal, subprocess, sys, time
            def start():
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                signal.signal(signal.SIGQUIT, signal.SIG_IGN if sys.argv[1] == "ignored" else signal.SIG_DFL)
            p = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=start)
            deadline = time.time() + 20
            while time.time() < deadline and not open("/proc/%d/syscall" % p.pid).read().startswith("0 0x0 "):
                time.sleep(0.01)
            p.send_signal(signal.SIGQUIT)
            _, err = p.communicate(timeout=60)
            sys.stdout.write("[code %d]" % p.returncode + err.decode(errors="replace"))
            """
        let r = try CLI.run("python3", ["-c", script, "default", CLI.avaultPath, "secured", "decrypt", "-", "--key-file", "/dev/null"],
                            env: ["SWIFT_BACKTRACE": "enable=yes,swift-backtrace=\(backtracer)"])
        #expect(r.out == "[code -3]", "\(r.out)")
        // Ignored by the parent (a background job of `sh`), it stays ignored: avault reads on to
        // the end of its input and fails on it, not by the signal.
        let ignored = try CLI.run("python3", ["-c", script, "ignored", CLI.avaultPath, "secured", "decrypt", "-", "--key-file", "/dev/null"],
                                  env: ["SWIFT_BACKTRACE": "enable=yes,swift-backtrace=\(backtracer)"])
        #expect(ignored.out.hasPrefix("[code 1]avault: malformed secured blob: the blob is empty"), "\(ignored.out)")
    }

    /// The hint's settings give the runtime's backtrace, from the debug build and the release
    /// build alike.
    @Test(.disabled(if: CLI.sanitized, "AddressSanitizer handles the signal itself")) func theHintsSettingsGiveABacktrace() throws {
        let hint = try crash(SIGSEGV).err
        #expect(hint.contains("run again with AVAULT_BACKTRACE=1 SWIFT_BACKTRACE=enable=yes,swift-backtrace=PATH"), "\(hint)")
        #expect(hint.contains("usr/libexec/swift/linux/swift-backtrace-static"), "\(hint)")
        let r = try crash(SIGSEGV, env: ["AVAULT_BACKTRACE": "1"])
        #expect(r.err.contains("Program crashed"), "\(r.err.prefix(500))")
        #expect(r.err.contains("BlobInput.read"), "no frame of avault's own: \(r.err.prefix(2000))")
        #expect(!r.err.contains("avault: internal error"))
    }

    /// When debugging, AVAULT_BACKTRACE=1 leaves the fault to the Swift runtime.
    @Test(.disabled(if: CLI.sanitized, "AddressSanitizer handles the signal itself")) func aBacktraceOnlyWhenAskedFor() throws {
        let r = try crash(SIGSEGV, env: ["AVAULT_BACKTRACE": "1", "SWIFT_BACKTRACE": "enable=no"])
        #expect(r.reason == .uncaughtSignal)
        #expect(!r.err.contains("avault: internal error"))
    }
}
