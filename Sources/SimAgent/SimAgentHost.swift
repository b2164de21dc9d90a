import CodestratorCore
import CodestratorRuntime
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How `codestrator sim-agent` was started (docs/sim-agent.md).
public struct SimAgentOptions: Sendable {
    public var script: SimScript
    /// `--repo` as given (absolute); the repository root is the main worktree containing it.
    public var repo: String
    public var role: String
    public var threadId: Int?
    public var speed: Double
    /// The codestrator binary (for `serve` and `hook sim`).
    public var executable: String
    /// The working directory (writes and commits happen here).
    public var workdir: String
    public var toolOf: StdioMCPClient.ToolOf
    /// Finds the repository root (from the executable's composition root).
    public var git: any GitClient

    public init(
        script: SimScript, repo: String, role: String, threadId: Int?, speed: Double, executable: String,
        workdir: String, toolOf: @escaping StdioMCPClient.ToolOf, git: any GitClient
    ) {
        self.script = script
        self.repo = repo
        self.role = role
        self.threadId = threadId
        self.speed = speed
        self.executable = executable
        self.workdir = workdir
        self.toolOf = toolOf
        self.git = git
    }
}

/// Wires the runner to the real terminal, the `serve` child and the local system.
public enum SimAgentHost {
    /// The absolute path of the running binary.
    public static func currentExecutable() -> String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        let arg0 = CommandLine.arguments.first ?? "codestrator"
        if arg0.hasPrefix("/") { return arg0 }
        if arg0.contains("/") { return FileManager.default.currentDirectoryPath + "/" + arg0 }
        return ProcessRunner.which(arg0) ?? arg0
    }

    /// Runs the sim until it exits; returns its exit status. The terminal is restored before returning.
    public static func run(_ o: SimAgentOptions) async -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let root = (try? await o.git.mainWorktree(containing: o.repo)) ?? nil
        let layout = RepositoryLayout(root: root ?? o.repo)
        _ = try? layout.ensureDirectories()
        if let root, let exclude = try? await o.git.infoExcludePath(repo: root) {
            // The sim's `git add -A` in the main worktree must never pick up `.codestrator/`.
            _ = try? RepositoryLayout.ensureExcluded(excludePath: exclude)
        }
        let thread = o.threadId.map(String.init) ?? "0"

        let connection: any SimConnection
        var client: StdioMCPClient?
        var hook: [String]?
        if let tid = o.threadId {
            let c = StdioMCPClient(
                argv: [o.executable, "serve", "--repo", o.repo, "--role", o.role, "--thread-id", String(tid)],
                stderrPath: layout.logsDir + "/sim_\(thread)_serve.log", toolOf: o.toolOf)
            client = c
            connection = c
            hook = [o.executable, "hook", "sim", "--thread-id", String(tid), "--repo", o.repo]
        } else {
            connection = Unconnected()
        }
        let system = LocalSimSystem(
            workdir: o.workdir, inputsLog: layout.runDir + "/sim_\(thread)_inputs.jsonl", hookCommand: hook)

        let terminal = RawTerminal()
        terminal.enter()
        let queue = InputQueue()
        KeyboardReader.start(into: queue)
        client?.start()
        let runner = SimRunner(
            script: o.script, identity: .init(threadId: o.threadId, role: o.role, speed: o.speed),
            connection: connection, screen: TerminalScreen(), input: queue, system: system)
        let code = await runner.run()
        terminal.restore()
        client?.close()
        return code
    }

    /// Calls without a thread id cannot reach Codestrator (a child server needs one).
    struct Unconnected: SimConnection {
        func call(method: String, params: JSON) async -> SimCallReply {
            .error("no thread id; expected --thread-id or CODESTRATOR_THREAD_ID")
        }
    }
}
