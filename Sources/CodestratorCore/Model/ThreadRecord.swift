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

    /// Built field by field with concrete values, like `TaskRecord.json`: the generic `JSON.obj` boxed each of
    /// the 37 values in an existential, on the path of every `thread.child.list`.
    public var json: JSON {
        func int(_ v: Int?) -> JSON { v.map(JSON.int) ?? .null }
        func text(_ v: String?) -> JSON { v.map(JSON.string) ?? .null }
        func ints(_ v: [Int]) -> JSON { .array(v.map(JSON.int)) }
        var o = JSONObject()
        o.reserve(37)
        o.appendDistinct("id", .int(id))
        o.appendDistinct("session_id", .int(sessionId))
        o.appendDistinct("parent_thread_id", int(parentThreadId))
        o.appendDistinct("role", .string(role.rawValue))
        o.appendDistinct("status", .string(status.rawValue))
        o.appendDistinct("title", text(title))
        o.appendDistinct("objective", text(objective))
        o.appendDistinct("worktree_id", int(worktreeId))
        o.appendDistinct("workdir", text(workdir))
        o.appendDistinct("provider_type", text(providerType))
        o.appendDistinct("runner_kind", text(runnerKind))
        o.appendDistinct("interaction_mode", .string(interactionMode))
        o.appendDistinct("agent_guide_path", text(agentGuidePath))
        o.appendDistinct("agent_override", agentOverride)
        o.appendDistinct("task_spec", taskSpec)
        o.appendDistinct("scope_task_ids", ints(scopeTaskIds))
        o.appendDistinct("scope_case_ids", ints(scopeCaseIds))
        o.appendDistinct("scope_node_ids", ints(scopeNodeIds))
        o.appendDistinct("tmux_socket", text(tmuxSocket))
        o.appendDistinct("tmux_session_name", text(tmuxSessionName))
        o.appendDistinct("tmux_window_name", text(tmuxWindowName))
        o.appendDistinct("tmux_pane_id", text(tmuxPaneId))
        o.appendDistinct("launch_command", text(launchArgv.map { ShellQuote.join($0) }))
        o.appendDistinct("log_file_path", text(logFilePath))
        o.appendDistinct("restart_count", .int(restartCount))
        o.appendDistinct("exit_status", int(exitStatus))
        o.appendDistinct("failure_reason", text(failureReason))
        o.appendDistinct("provider_status", text(providerStatus))
        o.appendDistinct("status_observed_at", text(statusObservedAt))
        o.appendDistinct("status_changed_at", .string(statusChangedAt))
        o.appendDistinct("status_source", .string(statusSource))
        o.appendDistinct("queued_directives", .int(queuedDirectives))
        o.appendDistinct("pane_alive", .bool(paneAlive))
        o.appendDistinct("created_at", .string(createdAt))
        o.appendDistinct("started_at", text(startedAt))
        o.appendDistinct("completed_at", text(completedAt))
        o.appendDistinct("updated_at", .string(updatedAt))
        return .object(o)
    }
}
