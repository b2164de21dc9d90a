/// A row of `threads`, with the two computed fields of the Thread shape.
public struct ThreadRecord: Sendable {
    public var id: Int
    public var sessionId: Int
    public var parentThreadId: Int?
    public var role: ThreadRole
    public var status: ThreadStatus
    public var statusChangedAt: String
    public var statusSource: String
    public var title: String?
    public var objective: String?
    public var worktreeId: Int?
    public var workdir: String?
    public var providerType: String?
    public var runnerKind: String?
    public var interactionMode: String
    public var agentGuidePath: String?
    public var agentOverride: JSON
    public var taskSpec: JSON
    public var scopeTaskIds: [Int]
    public var scopeCaseIds: [Int]
    public var scopeNodeIds: [Int]
    public var launchArgv: [String]?
    public var tmuxSocket: String?
    public var tmuxSessionName: String?
    public var tmuxWindowName: String?
    public var tmuxPaneId: String?
    public var logFilePath: String?
    public var restartCount: Int
    public var exitStatus: Int?
    public var failureReason: String?
    public var providerStatus: String?
    public var statusObservedAt: String?
    public var createdAt: String
    public var startedAt: String?
    public var completedAt: String?
    public var updatedAt: String
    /// Directives waiting for delivery.
    public var queuedDirectives: Int
    /// Whether the last observation saw the pane with its program still running: a recorded pane (an
    /// observation clears the id of a pane that is gone) and no exit status. A finished child whose
    /// agent still sits at its prompt has a live pane, as `thread.child.status` `pane_exists` says.
    public var paneAlive: Bool

    public init(_ r: SQLRow) {
        id = r.int("id")
        sessionId = r.int("session_id")
        parentThreadId = r.optInt("parent_thread_id")
        role = ThreadRole(rawValue: r.string("role")) ?? .worker
        status = ThreadStatus(rawValue: r.string("status")) ?? .failed
        statusChangedAt = r.string("status_changed_at")
        statusSource = r.string("status_source")
        title = r.optString("title")
        objective = r.optString("objective")
        worktreeId = r.optInt("worktree_id")
        workdir = r.optString("workdir")
        providerType = r.optString("provider_type")
        runnerKind = r.optString("runner_kind")
        interactionMode = r.string("interaction_mode")
        agentGuidePath = r.optString("agent_guide_path")
        agentOverride = r.json("agent_override")
        taskSpec = r.json("task_spec")
        scopeTaskIds = r.json("scope_task_ids").arrayValue?.compactMap(\.intValue) ?? []
        scopeCaseIds = r.json("scope_case_ids").arrayValue?.compactMap(\.intValue) ?? []
        scopeNodeIds = r.json("scope_node_ids").arrayValue?.compactMap(\.intValue) ?? []
        launchArgv = r.json("launch_argv").arrayValue?.compactMap(\.stringValue)
        tmuxSocket = r.optString("tmux_socket")
        tmuxSessionName = r.optString("tmux_session_name")
        tmuxWindowName = r.optString("tmux_window_name")
        tmuxPaneId = r.optString("tmux_pane_id")
        logFilePath = r.optString("log_file_path")
        restartCount = r.int("restart_count")
        exitStatus = r.optInt("exit_status")
        failureReason = r.optString("failure_reason")
        providerStatus = r.optString("provider_status")
        statusObservedAt = r.optString("status_observed_at")
        createdAt = r.string("created_at")
        startedAt = r.optString("started_at")
        completedAt = r.optString("completed_at")
        updatedAt = r.string("updated_at")
        queuedDirectives = r.hasColumn("queued_directives") ? r.int("queued_directives") : 0
        paneAlive = tmuxPaneId != nil && exitStatus == nil
    }

    static let selectSQL = """
        SELECT t.*, (SELECT COUNT(*) FROM thread_directives d WHERE d.thread_id = t.id AND d.state = 'queued')
          AS queued_directives FROM threads t
        """

    public static func load(_ tx: Tx, _ id: Int?) throws -> ThreadRecord? {
        guard let id else { return nil }
        return try tx.row(selectSQL + " WHERE t.id = ?", [id]).map(ThreadRecord.init)
    }

    public var json: JSON {
        .obj([
            "id": id, "session_id": sessionId, "parent_thread_id": parentThreadId, "role": role.rawValue,
            "status": status.rawValue, "title": title, "objective": objective, "worktree_id": worktreeId,
            "workdir": workdir, "provider_type": providerType, "runner_kind": runnerKind,
            "interaction_mode": interactionMode, "agent_guide_path": agentGuidePath, "agent_override": agentOverride,
            "task_spec": taskSpec, "scope_task_ids": scopeTaskIds, "scope_case_ids": scopeCaseIds,
            "scope_node_ids": scopeNodeIds, "tmux_socket": tmuxSocket, "tmux_session_name": tmuxSessionName,
            "tmux_window_name": tmuxWindowName, "tmux_pane_id": tmuxPaneId,
            "launch_command": launchArgv.map { ShellQuote.join($0) }, "log_file_path": logFilePath,
            "restart_count": restartCount, "exit_status": exitStatus, "failure_reason": failureReason,
            "provider_status": providerStatus, "status_observed_at": statusObservedAt,
            "status_changed_at": statusChangedAt, "status_source": statusSource,
            "queued_directives": queuedDirectives, "pane_alive": paneAlive, "created_at": createdAt,
            "started_at": startedAt, "completed_at": completedAt, "updated_at": updatedAt,
        ])
    }
}
