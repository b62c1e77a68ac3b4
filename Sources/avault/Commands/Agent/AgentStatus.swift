import ArgumentParser
import ArticleVault
import VaultFormat

struct AgentStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Say whether an agent runs, which keyring's key it holds, and how long it stays without a request.",
        discussion: """
            Asking for the status does not reset the idle timeout. Exit status 1 when no agent \
            runs at the socket.

            Example: avault agent status --json
            """)

    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let socket = try AgentClient.socketForAgentCommands()
        let status = try AgentClient(socket: socket, report: Terminal.agentNotice).status()
        if json {
            try JSONOutput.print([("running", .bool(status != nil)), ("socket", .string(socket)),
                              ("pid", status.map { .number(Double($0.pid)) } ?? .null),
                              ("keyring", JSONOutput.string(status?.keyring)),
                              ("idleTimeout", status.map { .number(Double($0.idleTimeout)) } ?? .null),
                              ("remaining", status.map { .number(Double($0.remaining)) } ?? .null)])
            if status == nil { throw ExitCode(Exit.no) }
            return
        }
        guard let status else { throw AvaultError.noAgent(socket: socket) }
        // The keyring's path is as the agent sent it: quoted when it holds what could draw on
        // the terminal or end the line.
        try Terminal.writeStdout("agent pid \(status.pid) at \(Terminal.quoted(socket)) holds the key of the keyring \(Terminal.quoted(status.keyring)); "
                             + "idle timeout \(AgentServer.formatDuration(status.idleTimeout)), "
                             + "ends in \(AgentServer.formatDuration(status.remaining)) without a request\n")
    }
}
