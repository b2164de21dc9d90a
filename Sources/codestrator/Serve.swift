import ArgumentParser
import CodestratorCore
import CodestratorMCP
import CodestratorRuntime
import Foundation

/// `codestrator serve`: the MCP server over stdio (protocol.md §3).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the Codestrator tools over MCP (stdio).")

    @OptionGroup var common: CommonOptions

    @Option(name: .customLong("tmux-socket"), help: "A tmux socket name (-L) or path (-S) for sessions opened here.")
    var tmuxSocket: String?

    @Option(name: .customLong("log-level"), help: "error, warn, info or debug (env CODESTRATOR_LOG_LEVEL).")
    var logLevel: String?

    @Flag(help: "Streamable HTTP (not built yet).")
    var http = false

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let levelName = logLevel ?? env["CODESTRATOR_LOG_LEVEL"] ?? "info"
        guard let level = Log.Level(name: levelName) else {
            throw ValidationError("unknown log level \"\(levelName)\"; expected one of error|warn|info|debug")
        }
        Log.level = level
        if http {
            throw ValidationError("--http is not built yet; expected stdio (omit --http)")
        }
        let options = try common.serverOptions(oneShot: false, tmuxSocket: tmuxSocket ?? env["CODESTRATOR_TMUX_SOCKET"])
        let provider = EnvironmentProvider(options: options)
        try await checkIdentity(provider, options)
        let dispatcher = Dispatcher(provider: provider, role: options.role)
        let server = MCPServer(dispatcher: dispatcher, transport: StdioTransport(), options: options)
        Log.debug("serving role \(options.role.rawValue) for \(options.repo)")
        // Poll children every 2 s and heartbeat the sessions this process opened, resumed or heartbeated (every 20 s).
        let heartbeat = Task {
            // Reconcile in the background once the repository is known, never delaying initialize; a
            // server outside a repository creates nothing.
            if (try? await ProcessRunnerCheck.isGitRepo(options.repo)) == true { await provider.reconcileAtStart() }
            var round = 0
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 2_000_000_000)
                round += 1
                await provider.pollOnce()
                if round % 10 == 0 { await provider.heartbeatOnce() }
            }
        }
        await server.run()
        heartbeat.cancel()
    }
}

enum ProcessRunnerCheck {
    /// Whether `dir` is inside a git work tree (reconciliation must not create `.codestrator/` elsewhere).
    static func isGitRepo(_ dir: String) async throws -> Bool {
        try await CLIGitClient().mainWorktree(containing: dir) != nil
    }
}
