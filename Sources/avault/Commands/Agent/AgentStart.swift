import ArgumentParser
import ArticleVault
#if canImport(Glibc)
import Glibc
#endif

struct AgentStart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Unlock the keyring once and keep its key in an agent; print the shell line that points commands at it.",
        discussion: """
            The passphrase is read as every command reads it (--passphrase-file, else \
            AVAULT_PASSPHRASE, else the terminal) and checked against the keyring before the \
            agent starts. Standard output is a line for the shell, as ssh-agent prints: \
            eval "$(avault agent start)" sets AVAULT_AGENT_SOCK. Without --foreground the agent \
            runs in the background in a session of its own; with it, the command serves until \
            it is stopped (Ctrl-C) and says on standard error what it refuses and why it ends.

            Example: avault agent start --foreground --timeout 2h
            """)

    @OptionGroup var keyring: KeyringOptions
    @Flag(help: "Serve in this process instead of the background.") var foreground = false
    @Option(help: ArgumentHelp("Exit after this long without a request for the key: 90s, 15m, 2h (1s to 24h).", valueName: "duration"))
    var timeout = "15m"
    /// Set by `avault agent start` for the background agent it starts: the key comes over
    /// descriptor 4, the socket is descriptor 3.
    @Flag(help: .private) var handoff = false

    func run() throws {
        if handoff { runHandedOff() }
        let seconds = try AgentServer.parseIdleTimeout(timeout)
        let socket = try AgentClient.socketForAgentCommands()
        try AgentListener.checkFree(path: socket)
        let line = "\(AgentClient.socketVariable)=\(shellQuoted(socket)); export \(AgentClient.socketVariable);\n"
        // An agent whose line cannot be written is stopped: nobody would know it holds the key.
        if !foreground {
            let pid = try startInBackground(socket: socket, idleTimeout: seconds)
            try Terminal.writeStdout(line + "echo avault agent pid \(pid);\n") { AgentLauncher.stop(pid) }
            return
        }
        let server = try makeServer(socket: socket, idleTimeout: seconds)
        try Terminal.writeStdout(line) { server.listener.removeSocketFile() }
        Terminal.writeStderr("avault agent: pid \(getpid()) holds the key of the keyring \(server.keyring) at \(socket); "
                             + "idle timeout \(AgentServer.formatDuration(seconds))\n")
        try finish(server.run())
    }

    /// Unlocks the keyring and binds the socket; the server then holds the only reference to
    /// the key, so that its end wipes it.
    private func makeServer(socket: String, idleTimeout: UInt32) throws -> AgentServer {
        let agentKey = try keyring.openWithoutAgent().keyForAgent()
        let listener = try AgentListener.bind(path: socket)
        let server = try AgentServer(listener: listener, keyring: agentKey.keyring, kdf: agentKey.kdf, key: agentKey.key,
                                     idleTimeout: idleTimeout, log: { Terminal.writeStderr("avault agent: \(Terminal.shown($0))\n") })
        // This process lives on: the passphrase it may have been given in its environment goes.
        PassphraseSource.wipeEnvironment()
        return server
    }

    /// Unlocks the keyring, binds the socket and hands both to a background agent; its pid.
    private func startInBackground(socket: String, idleTimeout: UInt32) throws -> pid_t {
        let agentKey = try keyring.openWithoutAgent().keyForAgent()
        let listener = try AgentListener.bind(path: socket)
        return try AgentLauncher.spawn(listener: listener, key: agentKey, idleTimeout: idleTimeout, socket: socket,
                                       arguments: ["agent", "start", "--foreground", "--handoff"])
    }

    /// The background agent `avault agent start` started: takes the key, says whether it
    /// holds it, serves.
    private func runHandedOff() -> Never {
        let server: AgentServer
        do {
            let (listener, handoff) = try AgentLauncher.receiveHandoff()
            server = try AgentServer(listener: listener, keyring: handoff.keyring, kdf: handoff.kdf, key: handoff.key,
                                     idleTimeout: handoff.idleTimeout, log: { _ in })
        } catch {
            AgentLauncher.failed(error.message)
            Glibc.exit(Exit.operational)
        }
        AgentLauncher.ready()
        let ending = server.run()
        if case .failed = ending { Glibc.exit(Exit.operational) }
        Glibc.exit(Exit.ok)
    }

    private func finish(_ ending: AgentServer.Ending) throws {
        switch ending {
        case .stopped(let pid):
            Terminal.writeStderr("avault agent: stopped by pid \(pid): key wiped, socket removed\n")
        case .idle:
            Terminal.writeStderr("avault agent: no request for \(timeout): key wiped, socket removed\n")
        case .signal(let signal):
            Terminal.writeStderr("avault agent: signal \(signal): key wiped, socket removed\n")
        case .failed(let why):
            throw Failure(message: "agent: \(why) (key wiped, socket removed)", code: Exit.operational)
        }
    }
}

/// `text` quoted for a POSIX shell when it needs it.
func shellQuoted(_ text: String) -> String {
    let plain = !text.isEmpty && text.utf8.allSatisfy { c in
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2F || c == 0x2E || c == 0x5F || c == 0x2D
    }
    if plain { return text }
    return "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
}
