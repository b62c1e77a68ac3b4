import ArgumentParser
import ArticleVault

struct AgentStop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop the agent: it wipes its key, removes its socket and exits.",
        discussion: """
            Exit status 1 when no agent runs at the socket (AVAULT_AGENT_SOCK, else \
            $XDG_RUNTIME_DIR/avault/agent.sock).

            Example: avault agent stop
            """)

    func run() throws {
        let socket = try AgentClient.socketForAgentCommands()
        guard try AgentClient(socket: socket, report: Terminal.agentNotice).stop() else { throw AvaultError.noAgent(socket: socket) }
        try Terminal.writeStdout("stopped the agent at \(Terminal.quoted(socket)): key wiped, socket removed\n")
    }
}
