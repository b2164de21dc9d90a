/// What `thread.child.spawn` takes: decoded once from the validated `Params` at the MCP edge, or built directly
/// by a service that starts a child of its own (the merge reviewer), so no service fills a `Params` bag by hand.
/// The defaults live here; the method registry declares them from these constants.
public struct ThreadSpawnInput: Sendable {
    public static let roleDefault = ThreadRole.worker
    public static let ensureTmuxDefault = true
    public static let launchCodexDefault = true
    public static let skipReadyCheckDefault = false
    public static let readyTimeoutSecondsDefault = 30

    /// Required from the root; a child caller's own session otherwise.
    public var sessionId: Int?
    public var role: ThreadRole = Self.roleDefault
    public var title: String?
    public var objective: String?
    public var parentThreadId: Int?
    public var worktreeId: Int?
    /// Default: a new worktree for a worker given none.
    public var createWorktree: Bool?
    public var provider: String?
    public var runnerKind: String?
    public var launchArgv: [String]?
    public var launchCommand: String?
    public var codexCommand: String?
    public var agentOverride: JSON?
    public var agentGuidePath: String?
    public var initialPrompt: String?
    public var taskSpec: JSON?
    public var scopeTaskIds: [Int] = []
    public var scopeCaseIds: [Int] = []
    public var scopeNodeIds: [Int] = []
    public var tmuxWindowName: String?
    public var tmuxSessionName: String?
    public var maxConcurrentChildren: Int?
    public var ensureTmux = Self.ensureTmuxDefault
    public var launchCodex = Self.launchCodexDefault
    public var skipReadyCheck = Self.skipReadyCheckDefault
    public var readyTimeoutSeconds = Self.readyTimeoutSecondsDefault

    public init(sessionId: Int?, role: ThreadRole = Self.roleDefault, title: String? = nil) {
        (self.sessionId, self.role, self.title) = (sessionId, role, title)
    }

    /// From the call's validated parameters (the registry has filled in the defaults).
    public init(_ p: Params) {
        self.init(
            sessionId: p.int("session_id"), role: p.enumValue("role", ThreadRole.self) ?? Self.roleDefault,
            title: p.string("title"))
        objective = p.string("objective")
        parentThreadId = p.int("parent_thread_id")
        worktreeId = p.int("worktree_id")
        createWorktree = p.bool("create_worktree")
        provider = p.string("provider")
        runnerKind = p.string("runner_kind")
        launchArgv = p.strings("launch_argv")
        launchCommand = p.string("launch_command")
        codexCommand = p.string("codex_command")
        agentOverride = p.json("agent_override")
        agentGuidePath = p.string("agent_guide_path")
        initialPrompt = p.string("initial_prompt")
        taskSpec = p.json("task_spec")
        scopeTaskIds = p.ints("scope_task_ids") ?? []
        scopeCaseIds = p.ints("scope_case_ids") ?? []
        scopeNodeIds = p.ints("scope_node_ids") ?? []
        tmuxWindowName = p.string("tmux_window_name")
        tmuxSessionName = p.string("tmux_session_name")
        maxConcurrentChildren = p.int("max_concurrent_children")
        ensureTmux = p.bool("ensure_tmux") ?? Self.ensureTmuxDefault
        launchCodex = p.bool("launch_codex") ?? Self.launchCodexDefault
        skipReadyCheck = p.bool("skip_ready_check") ?? Self.skipReadyCheckDefault
        readyTimeoutSeconds = p.int("ready_timeout_seconds") ?? Self.readyTimeoutSecondsDefault
    }
}
