#if canImport(Glibc)
import Glibc
#endif
import VaultCrypto
public import VaultFormat

/// Starts the agent in the background without `fork` (which a Swift process with threads
/// cannot do safely): `avault` runs itself again (`posix_spawn` of `/proc/self/exe`) in a new
/// session, with an empty environment, standard streams on `/dev/null`, the listening socket
/// as descriptor 3 and one end of a socket pair as descriptor 4. The key goes over the socket
/// pair — never on the command line or in the environment — and the new process answers
/// `ok` once it holds it, protected, or why it could not.
public enum AgentLauncher {
    /// The descriptors the background agent inherits.
    static let listenerFD: Int32 = 3, channelFD: Int32 = 4
    /// How long the two processes wait for each other, in milliseconds.
    static let deadline = 10_000

    /// Starts `/proc/self/exe arguments…` (which must end up in ``receiveHandoff()``) with
    /// `listener` and `handoff`; returns its pid once it is ready. On failure nothing is left
    /// running and the socket is removed.
    public static func spawn(listener: AgentListener, handoff: AgentHandoff, arguments: [String]) throws(AvaultError) -> pid_t {
        try spawnProcess(listener: listener, handoff: handoff, arguments: arguments)
    }

    /// As ``spawn(listener:handoff:arguments:)``, handing over `key` (from
    /// `Keyring.keyForAgent()`), the idle timeout in seconds and the socket's path.
    public static func spawn(listener: AgentListener, key: Keyring.AgentKey, idleTimeout: UInt32, socket: String,
                             arguments: [String]) throws(AvaultError) -> pid_t {
        try spawnProcess(listener: listener, handoff: AgentHandoff(keyring: key.keyring, kdf: key.kdf, key: key.key, idleTimeout: idleTimeout, socket: socket),
                         arguments: arguments)
    }

    /// Stops an agent ``spawn(listener:handoff:arguments:)`` started (`SIGTERM`: it wipes its
    /// key and removes its socket, if that is still its own) and waits for it to end. Its pid
    /// is this process's child's, which no other process can take until it is waited for.
    public static func stop(_ pid: pid_t) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    }

    private static func spawnProcess(listener: AgentListener, handoff: AgentHandoff, arguments: [String]) throws(AvaultError) -> pid_t {
        // A caller that ignores SIGCHLD would have the agent reaped as soon as it ends, and its
        // pid free for another process that ``stop(_:)`` would then signal.
        signal(SIGCHLD, SIG_DFL)
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw .agentStartFailed(reason: "socketpair: \(FileSystem.errnoText())")
        }
        defer { close(pair[0]) }
        // Out of the way of 3 and 4, so that the dup2s below cannot overwrite each other.
        let listenerCopy = fcntl(listener.fd, F_DUPFD_CLOEXEC, 10)
        let channelCopy = fcntl(pair[1], F_DUPFD_CLOEXEC, 10)
        close(pair[1])
        // Closed as soon as the agent has its own copies: the socket pair must then have one
        // end here and one there, so that the agent ending is seen here.
        var copiesOpen = true
        func closeCopies() {
            if copiesOpen { close(listenerCopy); close(channelCopy); copiesOpen = false }
        }
        defer { closeCopies() }
        guard listenerCopy >= 0, channelCopy >= 0 else { throw .agentStartFailed(reason: "fcntl: \(FileSystem.errnoText())") }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        posix_spawn_file_actions_adddup2(&actions, listenerCopy, listenerFD)
        posix_spawn_file_actions_adddup2(&actions, channelCopy, channelFD)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        // Nothing of this environment (which may hold a passphrase) goes to the agent but
        // what helps to debug a crash.
        var environment: [String] = []
        for name in ["AVAULT_BACKTRACE", "SWIFT_BACKTRACE"] {
            if let value = getenv(name) { environment.append(name + "=" + String(cString: value)) }
        }
        var pid: pid_t = 0
        let rc = withCStrings(["avault"] + arguments) { argv in
            withCStrings(environment) { envp in
                posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, argv, envp)
            }
        }
        guard rc == 0 else {
            errno = rc
            throw .agentStartFailed(reason: "posix_spawn: \(FileSystem.errnoText())")
        }
        closeCopies()

        // Hand over the key, then wait for the word.
        AgentSocket.setDeadlines(pair[0], milliseconds: deadline)
        var reply = ""
        do {
            try AgentSocket.send(pair[0], handoff.frame())
            var buffer = [UInt8](repeating: 0, count: 512)
            var count = 0
            while count < buffer.count, !buffer[..<count].contains(0x0A) {
                let n = recv(pair[0], &buffer[count], buffer.count - count, 0)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { break }
                count += n
            }
            reply = String(decoding: buffer[..<count], as: UTF8.self)
        } catch {
            reply = "error: \(error)"
        }
        guard reply == "ok\n" else {
            stop(pid)
            listener.removeSocketFile()
            let why = reply.hasPrefix("error: ") ? String(reply.dropFirst(7).prefix { $0 != "\n" }) : "it ended without saying why"
            throw .agentDidNotStart(reason: why)
        }
        return pid
    }

    /// In the background agent: leaves the starter's session, reads the handoff (descriptor
    /// 4) and adopts the listening socket (descriptor 3). Answer with ``ready(_:)`` or
    /// ``failed(_:)`` once the agent holds the key.
    public static func receiveHandoff() throws(AvaultError) -> (listener: AgentListener, handoff: AgentHandoff) {
        _ = setsid()
        _ = chdir("/")
        _ = umask(0o077)
        closeInheritedDescriptors()
        AgentSocket.setDeadlines(channelFD, milliseconds: deadline)
        let handoff: AgentHandoff
        do {
            handoff = try AgentSocket.receive(channelFD, within: deadline) { raw throws(FormatError) in try AgentHandoff(body: raw) }
        } catch {
            throw .agentHandoffFailed(reason: "no key was handed over: \(error)")
        }
        let listener = try AgentListener.adopt(fd: listenerFD, path: handoff.socket)
        return (listener, handoff)
    }

    /// Closes every descriptor above the standard streams, the listener and the channel: what
    /// the starter's own parent left open (posix_spawn passes on whatever is not close-on-exec).
    private static func closeInheritedDescriptors() {
        guard let dir = opendir("/proc/self/fd") else { return }
        var open: [Int32] = []
        while let entry = readdir(dir) {
            if let fd = Int32(FileSystem.name(of: entry)), fd > channelFD { open.append(fd) }
        }
        let own = dirfd(dir)
        closedir(dir)
        for fd in open where fd != own { close(fd) }
    }

    /// Tells the starter that the agent holds the key and serves.
    public static func ready() {
        reply("ok\n")
    }

    /// Tells the starter why the agent could not start.
    public static func failed(_ message: String) {
        reply("error: " + message.split(separator: "\n").joined(separator: " ") + "\n")
    }

    private static func reply(_ text: String) {
        let bytes = Array(text.utf8.prefix(500))
        _ = bytes.withUnsafeBytes { Glibc.send(channelFD, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
        close(channelFD)
    }

    /// Calls `body` with a NULL-terminated array of C strings.
    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}
