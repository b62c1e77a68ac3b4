#if canImport(Glibc)
import Glibc
#endif
import VaultCrypto
import VaultFormat

/// The Unix-domain socket calls the agent and its clients share: addresses, peer credentials,
/// deadlines, and whole frames sent and received in secret memory.
enum AgentSocket {
    /// `struct ucred` (what `SO_PEERCRED` answers), which Glibc does not import: the Linux ABI
    /// is a pid and a uid and a gid, 32 bits each.
    struct PeerCredentials {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// Why an exchange failed.
    enum Failure: Error, CustomStringConvertible {
        /// The other side closed the connection before a whole frame.
        case closed
        /// Nothing (or not all of it) came before the deadline.
        case timedOut
        /// A system call failed: its name and errno text.
        case system(String)
        /// The frame did not parse.
        case malformed(FormatError)

        var description: String {
            switch self {
            case .closed: return "it closed the connection without an answer"
            case .timedOut: return "it did not answer in time"
            case .system(let what): return what
            case .malformed(let error): return "\(error)"
            }
        }
    }

    /// A deadline in milliseconds as a log line says it: `1 s`, `500 ms`.
    static func deadlineText(_ milliseconds: Int) -> String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }

    /// The longest socket path (`sun_path` holds 108 bytes with the final NUL).
    static let maximumPathSize = 107

    /// A new stream socket, close-on-exec.
    static func newSocket() -> Int32 {
        socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    /// Calls `body` with the `sockaddr_un` of `path`; nil when the path is too long.
    static func withAddress<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R? {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumPathSize, !bytes.contains(0) else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// The credentials of the process at the other end of `fd` (`SO_PEERCRED`), as the kernel
    /// recorded them at `connect`/`listen`: they cannot be forged by the peer.
    static func peer(_ fd: Int32) -> PeerCredentials? {
        var credentials = PeerCredentials()
        var size = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0,
              size == socklen_t(MemoryLayout<PeerCredentials>.size) else { return nil }
        return credentials
    }

    /// Sets the send and receive deadlines of `fd`: a stalled peer cannot hold it longer.
    static func setDeadlines(_ fd: Int32, milliseconds: Int) {
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        let size = socklen_t(MemoryLayout<timeval>.size)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, size)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, size)
    }

    /// Sends all of `frame` (no `SIGPIPE` if the peer went away).
    static func send(_ fd: Int32, _ frame: SecretBytes) throws(Failure) {
        let failure: Failure? = frame.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN || errno == EWOULDBLOCK { return .timedOut }
                    return .system("send: \(FileSystem.errnoText())")
                }
                offset += n
            }
            return nil
        }
        if let failure { throw failure }
    }

    /// Receives one frame, all of it within `milliseconds` (a peer that sends a byte at a time
    /// cannot stretch that), and returns its body (without the length prefix), in secret memory.
    static func receive(_ fd: Int32, within milliseconds: Int) throws(Failure) -> SecretBytes {
        let deadline = monotonicSeconds() + Double(milliseconds) / 1000
        var prefix = [UInt8](repeating: 0, count: AgentProtocol.prefixSize)
        if let failure = prefix.withUnsafeMutableBytes({ readExactly(fd, $0, by: deadline) }) { throw failure }
        let length: Int
        do { length = try AgentProtocol.bodyLength(prefix: prefix) } catch { throw .malformed(error) }
        var failure: Failure?
        let body = SecretBytes(count: length) { buffer in failure = readExactly(fd, buffer, by: deadline) }
        if let failure { throw failure }
        return body
    }

    /// Receives one frame within `milliseconds` and parses its body with `parse`.
    static func receive<T>(_ fd: Int32, within milliseconds: Int, as parse: (UnsafeRawBufferPointer) throws(FormatError) -> T) throws(Failure) -> T {
        let body = try receive(fd, within: milliseconds)
        let result: Result<T, FormatError> = body.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Result<T, FormatError> in
            do throws(FormatError) { return .success(try parse(raw)) } catch { return .failure(error) }
        }
        switch result {
        case .success(let value): return value
        case .failure(let error): throw .malformed(error)
        }
    }

    /// Fills `buffer` from `fd` before `deadline` (on ``monotonicSeconds()``); the failure, or nil.
    private static func readExactly(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, by deadline: Double) -> Failure? {
        var offset = 0
        while offset < buffer.count {
            let left = deadline - monotonicSeconds()
            guard left > 0 else { return .timedOut }
            var tv = timeval(tv_sec: Int(left), tv_usec: max(1, Int((left - left.rounded(.down)) * 1e6)))
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let n = recv(fd, buffer.baseAddress! + offset, buffer.count - offset, 0)
            if n == 0 { return .closed }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return .timedOut }
                return .system("recv: \(FileSystem.errnoText())")
            }
            offset += n
        }
        return nil
    }

    /// Seconds on the monotonic clock.
    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
