import ArgumentParser
import CodestratorAssembly
import CodestratorCore
import CodestratorHTTP
import CodestratorInstall
import CodestratorMCP
import Foundation

/// `codestrator serve`: the MCP server over stdio (docs/protocol-eras.md#stdio-transport).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the Codestrator tools over MCP (stdio, or Streamable HTTP with --http).")

    @OptionGroup var common: CommonOptions

    @Option(name: .customLong("tmux-socket"), help: "A tmux socket name (-L) or path (-S) for sessions opened here.")
    var tmuxSocket: String?

    @Option(name: .customLong("log-level"), help: "error, warn, info or debug (env CODESTRATOR_LOG_LEVEL).")
    var logLevel: String?

    @Flag(help: "Serve MCP Streamable HTTP at /mcp instead of stdio.")
    var http = false

    @Option(help: "HTTP listen address (default 127.0.0.1; a non-loopback host needs --token).")
    var host: String?

    @Option(help: "HTTP port (default 8765; 0 picks a free port).")
    var port: Int?

    @Option(help: "HTTP bearer token, at least 16 characters (env CODESTRATOR_TOKEN).")
    var token: String?

    @Option(name: .customLong("allow-origin"), help: "An extra browser origin allowed to call /mcp (repeatable).")
    var allowOrigin: [String] = []

    @Option(
        name: .customLong("read-timeout"),
        help: "HTTP: seconds a client may stay silent before its request is complete (default 30).")
    var readTimeout: Double?

    @Option(
        name: .customLong("max-connections"),
        help: "HTTP: connections served at once; more get 503 (default 256, lowered to fit the open-file limit).")
    var maxConnections: Int?

    @Option(name: .customLong("max-sessions"), help: "HTTP: open sessions; initialize past it gets 503 (default 256).")
    var maxSessions: Int?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let levelName = logLevel ?? env["CODESTRATOR_LOG_LEVEL"] ?? "info"
        guard let level = StderrLogHandler.level(named: levelName) else {
            throw ValidationError("unknown log level \"\(levelName)\"; expected one of error|warn|info|debug")
        }
        StderrLogHandler.setLevel(level)
        var httpConfig: HTTPServerConfig?
        if http {
            var c = HTTPServerConfig(
                host: host ?? "127.0.0.1", port: port ?? 8765, token: token ?? env["CODESTRATOR_TOKEN"],
                allowedOrigins: allowOrigin)
            if let readTimeout { c.readTimeout = readTimeout }
            c.maxConnections = maxConnections
            if let maxSessions { c.maxSessions = maxSessions }
            c.openFileLimit = HTTPServerConfig.openFileLimit()
            if let problem = c.problem() { throw ValidationError(problem) }
            if let note = c.connectionCapNote { logger.info("\(note)") }
            httpConfig = c
        } else if host != nil || port != nil || token != nil || !allowOrigin.isEmpty || readTimeout != nil
            || maxConnections != nil || maxSessions != nil
        {
            throw ValidationError(
                "--host, --port, --token, --allow-origin, --read-timeout, --max-connections and --max-sessions need --http"
            )
        }
        var options = try common.serverOptions(oneShot: false, tmuxSocket: tmuxSocket ?? env["CODESTRATOR_TMUX_SOCKET"])
        options.sharedByClients = http
        // The installer's view of client configs and skills, for runtime.bundle.info (InstallationInspector).
        let provider = Assembly.provider(options: options, installation: InstalledBundleInspector.fromEnvironment())
        try await checkIdentity(provider, options)
        let dispatcher = Dispatcher(provider: provider, role: options.role)
        // A root listens for its children's relays on one socket per session it keeps alive (RelayListener).
        let relays = options.role == .root ? RelayListener(root: provider) : nil
        if let relays {
            await provider.heartbeats.observe { [relays] ids in relays.sync(sessions: ids) }
        }
        defer { relays?.closeAll() }
        let serving = "serving role \(options.role.rawValue) for \(options.repo)"  // built here: `options` is a var
        logger.debug("\(serving)")
        // Poll children every 2 s and heartbeat the sessions this process opened, resumed or heartbeated (every 20 s).
        let heartbeat = Task {
            // Reconcile in the background once the repository is known, never delaying initialize; a
            // server outside a repository creates nothing. Only a root reconciles: a child skips the git call.
            if options.role == .root, (try? await ProcessRunnerCheck.isGitRepo(options.repo)) == true {
                await provider.reconcileAtStart()
            }
            var round = 0
            while !Task.isCancelled {
                // Children whose panes wrote are observed as they change; everything else every 2 s.
                await provider.observeChanges(for: 2)
                round += 1
                // A socket another server held, or one bound before the environment was built, is retried.
                if let relays { relays.sync(sessions: await provider.heartbeats.sessionIds) }
                await provider.pollOnce()
                if round % 10 == 0 { await provider.heartbeatOnce() }
            }
        }
        if let httpConfig {
            // The web dashboard (docs/dashboard.md) is served on loopback only.
            let dashboard =
                HTTPServerConfig.isLoopbackHost(httpConfig.host)
                ? Dashboard(serverToken: httpConfig.token, environment: { try await provider.environment() }) : nil
            let server = MCPHTTPServer(
                handler: RPCHandler(dispatcher: dispatcher, options: options), config: httpConfig, dashboard: dashboard)
            let host =
                httpConfig.host.contains(":") && !httpConfig.host.hasPrefix("[")
                ? "[\(httpConfig.host)]" : httpConfig.host
            do {
                try await server.run { port in
                    logger.info(
                        "listening on http://\(host):\(port)/mcp (auth: \(httpConfig.token == nil ? "none" : "bearer token"))"
                    )
                    if let dashboard { Dashboard.announce(dashboard.link(host: host, port: port)) }
                }
            } catch {
                heartbeat.cancel()
                logger.error("http: \(error)")
                throw ExitCode(1)
            }
        } else {
            // A relay whose root server went away started this process in its place (ChildRelay).
            let takeover = options.role == .root ? nil : ChildRelay.takeReplay()
            let server = MCPServer(
                dispatcher: dispatcher, transport: StdioTransport(prefix: takeover?.pending ?? []), options: options)
            if let takeover { await server.replay(takeover.lines) }
            await server.run()
        }
        heartbeat.cancel()
    }
}

enum ProcessRunnerCheck {
    /// Whether `dir` is inside a git work tree (reconciliation must not create `.codestrator/` elsewhere).
    static func isGitRepo(_ dir: String) async throws -> Bool {
        try await Assembly.makeGitClient().mainWorktree(containing: dir) != nil
    }
}
