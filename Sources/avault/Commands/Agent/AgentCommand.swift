import ArgumentParser
import ArticleVault

struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Hold the keyring's unlocked key for a session, so that scripts do not pay for the passphrase on every command.",
        discussion: """
            'eval "$(avault agent start)"' asks for the keyring passphrase once and keeps the key derived \
            from it in a background process (locked in memory, never written anywhere) that \
            answers on a Unix socket: AVAULT_AGENT_SOCK, else $XDG_RUNTIME_DIR/avault/agent.sock \
            (mode 600, only processes of your user are answered). Every command that needs that \
            keyring's passphrase asks the agent first and falls back to --passphrase-file, \
            AVAULT_PASSPHRASE or the terminal. The agent exits after its idle timeout (15 minutes \
            without a request by default), on 'avault agent stop', or on SIGTERM, wiping the key \
            and removing its socket. AVAULT_AGENT_SOCK set to the empty string turns it off.

            A process of your user can get the key from the agent, as it could read it from \
            a command's memory or from the terminal while you type the passphrase.

            \(exitCodeHelp)

            Example: avault agent start --timeout 30m
            """,
        subcommands: [AgentStart.self, AgentStop.self, AgentStatusCommand.self]
    )
}
