#if canImport(Glibc)
import Glibc
#endif
public import VaultCrypto
public import VaultFormat

/// Talks to the agent (`avault agent start`) at a socket, as every command that unlocks a
/// keyring does before it reads a passphrase.
///
/// Before it trusts the socket, the client checks that it is a socket (not a symbolic link)
/// owned by the effective user and closed to group and others, and, once connected, that the
/// process answering runs as the same user (`SO_PEERCRED`). An agent that is absent, holds
/// another keyring's key, or cannot be trusted is passed over: the command reads the
/// passphrase as it would without one, and a note or a warning (through `report`) says why
/// when it is not simply absent or another keyring's.
public struct AgentClient: Sendable {
    /// Something a command should say about the agent: a note (worth knowing) or a warning
    /// (something is wrong).
    public enum Notice: Sendable, Equatable {
        case note(String)
        case warning(String)
    }

    /// The socket's path.
    public let socket: String
    private let notify: @Sendable (Notice) -> Void

    /// The environment variable that names the socket (as `SSH_AUTH_SOCK` does for ssh-agent).
    public static let socketVariable = "AVAULT_AGENT_SOCK"

    /// How long a client waits for the agent's answer, in milliseconds.
    static let deadline = 2000

    public init(socket: String, report: @escaping @Sendable (Notice) -> Void = { _ in }) {
        self.socket = socket
        self.notify = report
    }

    func report(_ notice: Notice) { notify(notice) }

    /// Where the agent's socket is.
    public enum Location: Equatable, Sendable {
        /// This path.
        case path(String)
        /// `AVAULT_AGENT_SOCK` is set and empty: no agent is to be used.
        case disabled
        /// Neither `AVAULT_AGENT_SOCK` nor `XDG_RUNTIME_DIR` is set.
        case unset
    }

    /// `AVAULT_AGENT_SOCK` when set (empty: no agent), else
    /// `$XDG_RUNTIME_DIR/avault/agent.sock`, else none.
    public static var location: Location {
        if let value = getenv(socketVariable) {
            let path = String(cString: value)
            return path.isEmpty ? .disabled : .path(path)
        }
        if let runtime = UserDirectories.absolute("XDG_RUNTIME_DIR") { return .path(runtime + "/avault/agent.sock") }
        return .unset
    }

    /// A client for the socket of ``location``; nil when no agent is to be used.
    public static func fromEnvironment(report: @escaping @Sendable (Notice) -> Void) -> AgentClient? {
        guard case .path(let path) = location else { return nil }
        return AgentClient(socket: path, report: report)
    }

    /// The socket `avault agent start`, `stop` and `status` use: ``location``, or an error
    /// saying how to name one.
    public static func socketForAgentCommands() throws(AvaultError) -> String {
        switch location {
        case .path(let path):
            guard path.hasPrefix("/") else { throw .agentSocketPlace(socket: path, reason: "\(socketVariable) must be an absolute path") }
            return path
        case .disabled, .unset:
            throw .agentSocketUnset
        }
    }

    // MARK: Exchanges

    /// What came of one request.
    enum Outcome {
        /// Nothing at the socket's path.
        case absent
        /// A socket nobody listens on (left by an agent that was killed).
        case stale
        /// A socket that cannot be trusted or an exchange that failed: why; and `directory`
        /// when it is because its directory, or one above it, is one someone else could change.
        case unusable(String, directory: AgentListener.UnsafeDirectory? = nil)
        case answer(AgentResponse)
    }

    /// Sends `request` and reads the answer, after checking the socket and its listener.
    func exchange(_ request: AgentRequest) -> Outcome {
        guard socket.hasPrefix("/") else { return .unusable("\(Self.socketVariable) is not an absolute path") }
        var st = stat()
        guard lstat(socket, &st) == 0 else {
            return errno == ENOENT || errno == ENOTDIR ? .absent : .unusable(FileSystem.errnoText())
        }
        switch st.st_mode & S_IFMT {
        case S_IFSOCK: break
        case S_IFLNK: return .unusable("it is a symbolic link, which avault does not follow here")
        default: return .unusable("it is \(FileSystem.kind(st.st_mode).rawValue), not a socket")
        }
        let me = geteuid()
        guard st.st_uid == me else { return .unusable("it belongs to uid \(st.st_uid), not to uid \(me)") }
        guard st.st_mode & 0o077 == 0 else {
            return .unusable("group or others may connect to it (mode \(String(st.st_mode & 0o777, radix: 8)))")
        }
        if let unsafe = AgentListener.unsafeDirectory(holding: socket) { return .unusable(unsafe.reason, directory: unsafe) }
        let fd = AgentSocket.newSocket()
        guard fd >= 0 else { return .unusable("socket: \(FileSystem.errnoText())") }
        defer { close(fd) }
        // Before connecting: a connect to an agent whose backlog is full waits no longer either.
        AgentSocket.setDeadlines(fd, milliseconds: Self.deadline)
        let rc = AgentSocket.withAddress(socket) { connect(fd, $0, $1) }
        guard let rc else { return .unusable("the path is longer than a socket's (\(AgentSocket.maximumPathSize) bytes)") }
        if rc != 0 {
            switch errno {
            case ECONNREFUSED: return .stale
            case ENOENT: return .absent
            default: return .unusable("connect: \(FileSystem.errnoText())")
            }
        }
        guard let peer = AgentSocket.peer(fd) else { return .unusable("its listener's credentials cannot be read") }
        guard peer.uid == me else { return .unusable("the process listening on it runs as uid \(peer.uid), not as uid \(me)") }
        do {
            try AgentSocket.send(fd, request.frame())
            return .answer(try AgentSocket.receive(fd, within: Self.deadline) { raw throws(FormatError) in try AgentResponse(body: raw) })
        } catch {
            return .unusable("\(error)")
        }
    }

    /// The key the agent holds for the keyring at `keyring` (canonical) and the passphrase of
    /// `kdf`; nil (with a notice when it helps) when there is no agent or it holds no such key.
    public func key(keyring: String, kdf: AgentKDF) -> SecretBytes? {
        guard AgentProtocol.isValidPath(keyring) else { return nil }
        switch exchange(.unlockKey(keyring: keyring, kdf: kdf)) {
        case .absent:
            return nil
        case .stale:
            report(.note("no agent answers at \(socket) (a socket left by an agent that ended); using the passphrase"))
            return nil
        case .unusable(let why, _):
            report(.warning("not using the agent at \(socket): \(why); using the passphrase"))
            return nil
        case .answer(.key(let key)) where key.count == AgentProtocol.keySize:
            return key
        case .answer(.refused(.otherKeyring)):
            return nil
        case .answer(.refused(.staleKey)):
            report(.note("the agent at \(socket) holds the key of an earlier passphrase of this keyring; using the passphrase"))
            return nil
        case .answer:
            report(.warning("the agent at \(socket) answered what was not asked; using the passphrase"))
            return nil
        }
    }

    /// The key of the entry commitment of vault `vaultID` (formats.md 8.3) for its naming key,
    /// derived by the agent; nil when none answers or it does not derive it (an agent of an
    /// older avault refuses the request as malformed), and the caller derives it itself.
    public func entriesKey(namingKey: SecretBytes, vaultID: String) -> SecretBytes? {
        guard namingKey.count == AgentProtocol.keySize, VaultFiles.isLowerHex(vaultID, count: AgentProtocol.vaultIDSize) else { return nil }
        switch exchange(.entriesKey(namingKey: namingKey, vaultID: vaultID)) {
        case .answer(.key(let key)) where key.count == AgentProtocol.keySize:
            return key
        case .absent, .stale, .answer(.refused):
            return nil
        case .unusable(let why, _):
            report(.warning("not using the agent at \(socket): \(why)"))
            return nil
        case .answer:
            report(.warning("the agent at \(socket) answered what was not asked"))
            return nil
        }
    }

    /// Tells the agent that the keyring's passphrase changed from `old` to `new` (with `key`),
    /// if it holds the old one's key; says so when it took the new one or failed to. The key
    /// is sent only to what answers `status` as an agent holding this keyring: nothing is sent
    /// when nothing answers, or another keyring's agent; a warning says why when what is there
    /// cannot be used or does not answer as an agent.
    public func replace(keyring: String, old: AgentKDF, new: AgentKDF, key: SecretBytes) {
        guard AgentProtocol.isValidPath(keyring), key.count == AgentProtocol.keySize else { return }
        switch exchange(.status) {
        case .absent, .stale:
            return
        case .unusable(let why, _):
            report(.warning("the new passphrase's key was not sent to the agent at \(socket): \(why)"))
            return
        case .answer(.status(let status)) where AgentServer.samePath(status.keyring, keyring):
            break
        case .answer(.status):
            return // another keyring's agent
        case .answer:
            report(.warning("the new passphrase's key was not sent to \(socket): what answers there did not answer as an agent does"))
            return
        }
        switch exchange(.replace(keyring: keyring, old: old, new: new, key: key)) {
        case .absent, .stale, .answer(.refused(.otherKeyring)), .answer(.refused(.staleKey)):
            return
        case .answer(.done):
            report(.note("the agent at \(socket) now holds the key of the new passphrase"))
        case .unusable(let why, _):
            report(.warning("the agent at \(socket) was not given the new passphrase's key (\(why)); it opens nothing now: stop it"))
        case .answer:
            report(.warning("the agent at \(socket) answered what was not asked; it may hold a key that opens nothing now: stop it"))
        }
    }

    /// What the agent holds; nil when none answers. Throws when the socket cannot be trusted.
    public func status() throws(AvaultError) -> AgentStatus? {
        switch exchange(.status) {
        case .absent:
            // Nothing there, but where a socket could be moved away: the agent may run elsewhere.
            if let unsafe = AgentListener.unsafeDirectory(holding: socket) { throw unsafe.error }
            return nil
        case .stale:
            report(.note("\(socket) is a socket left by an agent that ended; 'agent start' replaces it"))
            return nil
        case .unusable(let why, let directory):
            throw directory?.error ?? .agentUnusable(socket: socket, reason: why)
        case .answer(.status(let status)):
            return status
        case .answer:
            throw .agentUnusable(socket: socket, reason: "it answered what was not asked")
        }
    }

    /// Asks the agent to wipe its key, remove its socket and exit; false when none answers.
    /// When it returns true, the agent said it wiped its key and the socket is gone: an agent
    /// removes it before it answers, and an answer that leaves it there (what answered did not
    /// stop, or another agent started there meanwhile) throws
    /// ``AvaultError/agentStillThere(socket:)``.
    public func stop() throws(AvaultError) -> Bool {
        switch exchange(.stop) {
        case .absent:
            if let unsafe = AgentListener.unsafeDirectory(holding: socket) { throw unsafe.error }
            return false
        case .stale:
            report(.note("\(socket) is a socket left by an agent that ended; 'agent start' replaces it"))
            return false
        case .unusable(let why, let directory):
            throw directory?.error ?? .agentUnusable(socket: socket, reason: why)
        case .answer(.done):
            guard socketGone(waitingUpTo: 500) else { throw .agentStillThere(socket: socket) }
            return true
        case .answer:
            throw .agentUnusable(socket: socket, reason: "it answered what was not asked")
        }
    }

    /// Whether nothing is at the socket's path (`lstat`), polled every 10 ms for up to
    /// `milliseconds`.
    private func socketGone(waitingUpTo milliseconds: Int) -> Bool {
        var waited = 0
        while true {
            var st = stat()
            if lstat(socket, &st) != 0, errno == ENOENT || errno == ENOTDIR { return true }
            guard waited < milliseconds else { return false }
            usleep(10_000)
            waited += 10
        }
    }
}
