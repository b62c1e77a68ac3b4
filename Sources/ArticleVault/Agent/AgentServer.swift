#if canImport(Glibc)
import Glibc
#endif
public import VaultCrypto
public import VaultFormat

/// The agent: holds one keyring's passphrase key and hands it to processes of the same user
/// that ask for that keyring, until it is stopped, signalled, or idle for its timeout.
///
/// It serves one connection at a time (one request, one answer), checking each peer's uid
/// with `SO_PEERCRED` before reading a byte. The process is made non-dumpable, its key is
/// locked in RAM, and nothing is written anywhere but the socket: at the end the key is wiped
/// and the socket file removed.
public final class AgentServer {
    /// Why the agent ended.
    public enum Ending: Equatable, Sendable {
        /// `avault agent stop` (from process `pid`).
        case stopped(pid: Int32)
        /// No key was asked for during the idle timeout.
        case idle
        /// A signal (`SIGTERM`, `SIGINT`, `SIGHUP`).
        case signal(Int32)
        /// Something failed: what.
        case failed(String)
    }

    private struct Held {
        var keyring: String
        var kdf: AgentKDF
        var key: SecretBytes
    }

    /// The socket it listens on.
    public let listener: AgentListener
    /// The idle timeout, in seconds.
    public let idleTimeout: UInt32
    /// The canonical path of the keyring whose key it holds.
    public let keyring: String
    private var held: Held?
    private var deadline: Double
    private let log: (String) -> Void
    /// The reading end of the pipe a thread writes each `SIGTERM`, `SIGINT` or `SIGHUP` into,
    /// watched from ``init``: a signal between then and ``run()`` (after the background agent
    /// said it holds the key, which its starter may then stop) waits for `run` and its cleanup,
    /// instead of ending the process with its socket left behind.
    private let signals: Int32
    /// How long one client may take to send its request or read the answer.
    static let clientDeadline = 1000

    /// Makes the process non-dumpable (no core file, no `ptrace` or `/proc/PID/mem` by other
    /// processes of the user) and locks `key` in RAM; throws, holding nothing, if either fails.
    public init(listener: AgentListener, keyring: String, kdf: AgentKDF, key: SecretBytes, idleTimeout: UInt32,
                log: @escaping (String) -> Void) throws(AvaultError) {
        guard AgentProtocol.isValidPath(keyring), key.count == AgentProtocol.keySize,
              (1...AgentProtocol.maximumIdleTimeout).contains(idleTimeout) else {
            throw .agentHandoffFailed(reason: "a key, a keyring or a timeout it cannot hold")
        }
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none)
        do {
            try SecretMemory.forbidDumps()
            try key.lockInMemory()
        } catch {
            throw .agentMemoryUnprotected(reason: "\(error)")
        }
        self.listener = listener
        self.idleTimeout = idleTimeout
        self.keyring = keyring
        self.held = Held(keyring: keyring, kdf: kdf, key: key)
        self.deadline = Self.idleClock() + Double(idleTimeout)
        self.log = log
        guard let signals = Self.watchSignals() else {
            throw .agentStartFailed(reason: "cannot watch for signals: \(FileSystem.errnoText())")
        }
        self.signals = signals
    }

    /// Serves until stopped, signalled or idle; then wipes the key and removes the socket.
    public func run() -> Ending {
        let ending = serve()
        finish()
        return ending
    }

    /// Wipes the key (the only reference to its memory) and removes the socket file.
    private func finish() {
        held = nil
        listener.removeSocketFile()
    }

    /// Seconds on the clock the idle timeout runs on: `CLOCK_BOOTTIME`, which counts time
    /// suspended (`CLOCK_MONOTONIC` does not: a laptop suspended overnight would wake with the
    /// key still held), as OpenSSH's agent does.
    static func idleClock() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_BOOTTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Whether two keyring paths are the same bytes (Swift's `==` takes canonically equivalent
    /// strings for equal: `café` in NFC and NFD are two directories).
    static func samePath(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    /// The longest one `poll` waits: its timeout does not run while the machine is suspended,
    /// so the deadline is looked at again at least this often once it wakes.
    static let longestWait = 60.0

    private func serve() -> Ending {
        while true {
            let now = Self.idleClock()
            if now >= deadline { return .idle }
            let wait = Int32(min(deadline - now, Self.longestWait) * 1000 + 1)
            var fds = [pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
            let n = poll(&fds, 2, wait)
            if n < 0 {
                if errno == EINTR { continue }
                return .failed("poll: \(FileSystem.errnoText())")
            }
            if fds[1].revents != 0 {
                var signal: UInt8 = 0
                _ = read(signals, &signal, 1)
                return .signal(Int32(signal))
            }
            // (A connection that woke it after the deadline, as after a suspend, gets nothing.)
            if Self.idleClock() >= deadline { return .idle }
            if fds[0].revents & Int16(POLLIN) != 0 {
                if let ending = serveOne() { return ending }
            } else if fds[0].revents != 0 {
                return .failed("the listening socket failed")
            }
        }
    }

    /// Accepts one connection and answers its request; an ending when it asked to stop.
    private func serveOne() -> Ending? {
        let client = accept(listener.fd, nil, nil)
        guard client >= 0 else { return nil } // EINTR, ECONNABORTED, EMFILE…: the next poll says
        defer { close(client) }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        let me = geteuid()
        guard let peer = AgentSocket.peer(client) else {
            log("refused a connection whose credentials cannot be read")
            return nil
        }
        guard peer.uid == me else {
            log("refused a connection from uid \(peer.uid) (pid \(peer.pid)): only uid \(me) is answered")
            return nil
        }
        AgentSocket.setDeadlines(client, milliseconds: Self.clientDeadline)
        let request: AgentRequest
        do {
            request = try AgentSocket.receive(client, within: Self.clientDeadline) { raw throws(FormatError) in try AgentRequest(body: raw) }
        } catch {
            log("pid \(peer.pid): \(Self.requestFailure(error))")
            if case .malformed = error { try? AgentSocket.send(client, AgentResponse.refused(.badRequest).frame()) }
            return nil
        }
        switch request {
        case let .unlockKey(keyring, kdf):
            guard let held, Self.samePath(held.keyring, keyring) else { return answer(client, .refused(.otherKeyring)) }
            guard held.kdf == kdf else { return answer(client, .refused(.staleKey)) }
            deadline = Self.idleClock() + Double(idleTimeout)
            return answer(client, .key(held.key))
        case .status:
            let left = max(0, min(Double(idleTimeout), (deadline - Self.idleClock()).rounded(.up)))
            return answer(client, .status(AgentStatus(pid: UInt32(getpid()), keyring: held?.keyring ?? "/",
                                                       idleTimeout: idleTimeout, remaining: UInt32(left))))
        case .stop:
            // Wiped and removed before the answer: when the client hears "done", they are.
            finish()
            _ = answer(client, .done)
            return .stopped(pid: peer.pid)
        case let .replace(keyring, old, new, key):
            guard let held, Self.samePath(held.keyring, keyring) else { return answer(client, .refused(.otherKeyring)) }
            guard held.kdf == old else { return answer(client, .refused(.staleKey)) }
            do { try key.lockInMemory() } catch {
                log("the new key cannot be locked in memory: \(error); ending")
                finish()
                _ = answer(client, .refused(.badRequest))
                return .failed("the new key cannot be locked in memory")
            }
            self.held = Held(keyring: keyring, kdf: new, key: key)
            deadline = Self.idleClock() + Double(idleTimeout)
            log("pid \(peer.pid) changed the keyring's passphrase: holding the new key")
            return answer(client, .done)
        case let .entriesKey(namingKey, vaultID):
            // Nothing the client could not compute itself: it holds the naming key. The agent's
            // OpenSSL is loaded once for its life instead of once per command.
            do throws(AvaultError) {
                return answer(client, .key(try VaultEntryCommitment.key(namingKey: namingKey, vaultID: vaultID)))
            } catch {
                log("pid \(peer.pid): the entries key was not derived: \(error.message)")
                return answer(client, .refused(.badRequest))
            }
        }
    }

    private func answer(_ client: Int32, _ response: AgentResponse) -> Ending? {
        do { try AgentSocket.send(client, response.frame()) } catch {
            if case .timedOut = error { log("an answer was not sent: the client did not take it in time") } else { log("an answer was not sent: \(error)") }
        }
        return nil
    }

    /// Why a client's request was not received, said from the agent's side (the failure's own
    /// description speaks of an answer, as a client sees it).
    static func requestFailure(_ failure: AgentSocket.Failure) -> String {
        switch failure {
        case .timedOut: return "no whole request came within \(AgentSocket.deadlineText(clientDeadline))"
        case .closed: return "the client closed the connection before a whole request"
        case .system, .malformed: return "\(failure)"
        }
    }

    /// Blocks `SIGTERM`, `SIGINT` and `SIGHUP` in this thread and starts a thread that waits
    /// for them (`sigwait`) and writes the signal's number to a pipe; returns the pipe's
    /// reading end, which the loop polls.
    private static func watchSignals() -> Int32? {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, s) }
        guard pthread_sigmask(SIG_BLOCK, &set, nil) == 0 else { return nil }
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return nil }
        for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var thread = pthread_t()
        // The writing end travels in the argument's bits (plus one, so it is never null).
        let rc = pthread_create(&thread, nil, { argument in
            let fd = Int32(Int(bitPattern: argument) - 1)
            var set = sigset_t()
            sigemptyset(&set)
            for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, s) }
            var signal: Int32 = 0
            while sigwait(&set, &signal) != 0 {}
            var byte = UInt8(truncatingIfNeeded: signal)
            _ = write(fd, &byte, 1)
            return nil
        }, UnsafeMutableRawPointer(bitPattern: Int(ends[1]) + 1))
        guard rc == 0 else { return nil }
        pthread_detach(thread)
        return ends[0]
    }

    /// Parses an idle timeout: a whole number with `s`, `m` or `h` (`90s`, `15m`, `2h`), or a
    /// number of seconds; from one second to a day.
    public static func parseIdleTimeout(_ text: String) throws(AvaultError) -> UInt32 {
        var digits = Substring(text)
        var unit: UInt64 = 1
        switch text.last {
        case "s": unit = 1; digits = digits.dropLast()
        case "m": unit = 60; digits = digits.dropLast()
        case "h": unit = 3600; digits = digits.dropLast()
        default: break
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.count <= 6, let n = UInt64(digits),
              (1...UInt64(AgentProtocol.maximumIdleTimeout)).contains(n * unit) else {
            throw .invalidIdleTimeout(text)
        }
        return UInt32(n * unit)
    }

    /// `seconds` as `1h30m`, `15m`, `42s`.
    public static func formatDuration(_ seconds: UInt32) -> String {
        let h = seconds / 3600, m = seconds % 3600 / 60, s = seconds % 60
        var out = ""
        if h > 0 { out += "\(h)h" }
        if m > 0 { out += "\(m)m" }
        if s > 0 || out.isEmpty { out += "\(s)s" }
        return out
    }
}
