import Foundation

/// A row of `sessions`.
public struct SessionRecord: Sendable {
    public var id: Int
    public var repoPath: String
    public var agentRole: String
    public var owner: String
    public var terminalFingerprint: String?
    public var intent: String
    public var status: SessionStatus
    public var userRequest: String?
    public var worktreeSlug: String?
    public var mainBranch: String?
    public var alwaysBranch: Bool
    public var mainWorktreeId: Int?
    public var sessionRootWorktreeId: Int?
    public var rootThreadId: Int?
    public var tmuxSessionName: String?
    public var tmuxSocket: String?
    public var runtimeState: String
    public var heartbeatTimeoutSeconds: Int
    public var maxConcurrentChildren: Int
    public var serverPid: Int?
    public var serverHost: String?
    public var resumeCount: Int
    public var supersededBySessionId: Int?
    public var startedAt: String
    public var lastSeenAt: String
    public var closedAt: String?

    public init(_ r: SQLRow) {
        id = r.int("id")
        repoPath = r.string("repo_path")
        agentRole = r.string("agent_role")
        owner = r.string("owner")
        terminalFingerprint = r.optString("terminal_fingerprint")
        intent = r.string("intent")
        status = SessionStatus(rawValue: r.string("status")) ?? .closed
        userRequest = r.optString("user_request")
        worktreeSlug = r.optString("worktree_slug")
        mainBranch = r.optString("main_branch")
        alwaysBranch = r.bool("always_branch")
        mainWorktreeId = r.optInt("main_worktree_id")
        sessionRootWorktreeId = r.optInt("session_root_worktree_id")
        rootThreadId = r.optInt("root_thread_id")
        tmuxSessionName = r.optString("tmux_session_name")
        tmuxSocket = r.optString("tmux_socket")
        runtimeState = r.string("runtime_state")
        heartbeatTimeoutSeconds = r.int("heartbeat_timeout_seconds")
        maxConcurrentChildren = r.int("max_concurrent_children")
        serverPid = r.optInt("server_pid")
        serverHost = r.optString("server_host")
        resumeCount = r.int("resume_count")
        supersededBySessionId = r.optInt("superseded_by_session_id")
        startedAt = r.string("started_at")
        lastSeenAt = r.string("last_seen_at")
        closedAt = r.optString("closed_at")
    }

    public static func load(_ tx: Tx, _ id: Int) throws -> SessionRecord? {
        try tx.row("SELECT * FROM sessions WHERE id = ?", [id]).map(SessionRecord.init)
    }

    /// Seconds since the last heartbeat, at `now`.
    public func idleSeconds(now: String) -> Int {
        guard let n = Timestamp.parse(now), let s = Timestamp.parse(lastSeenAt) else { return 0 }
        return max(0, Int(n.timeIntervalSince(s)))
    }

    /// Stale: no heartbeat for the timeout, or the recorded server process is gone from this host
    /// (docs/database.md#tables; "process gone" is never judged for another host).
    public func isStale(now: String, timeoutOverride: Int? = nil) -> Bool {
        if idleSeconds(now: now) > (timeoutOverride ?? heartbeatTimeoutSeconds) { return true }
        if let pid = serverPid, let host = serverHost, host == ProcessIdentity.hostName {
            return !ProcessIdentity.isRunning(pid: pid)
        }
        return false
    }

    public func json(now: String) -> JSON {
        .obj([
            "id": id, "repo_path": repoPath, "agent_role": agentRole, "owner": owner,
            "terminal_fingerprint": terminalFingerprint, "intent": intent, "status": status.rawValue,
            "user_request": userRequest, "worktree_slug": worktreeSlug, "main_branch": mainBranch,
            "always_branch": alwaysBranch, "main_worktree_id": mainWorktreeId,
            "session_root_worktree_id": sessionRootWorktreeId, "root_thread_id": rootThreadId,
            "tmux_session_name": tmuxSessionName, "tmux_socket": tmuxSocket, "runtime_state": runtimeState,
            "heartbeat_timeout_seconds": heartbeatTimeoutSeconds, "max_concurrent_children": maxConcurrentChildren,
            "resume_count": resumeCount, "superseded_by_session_id": supersededBySessionId,
            "stale": status == .active ? isStale(now: now) : false,
            "started_at": startedAt, "last_seen_at": lastSeenAt, "closed_at": closedAt,
        ])
    }
}
