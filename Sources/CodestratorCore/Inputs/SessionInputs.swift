/// What `session.open` takes: decoded once from the validated `Params` at the MCP edge, or built directly by a
/// test world. The defaults live here; the method registry declares them from these constants.
public struct SessionOpenInput: Sendable, Equatable {
    public static let intentDefault = SessionIntent.auto
    public static let alwaysBranchDefault = true
    public static let agentRoleDefault = AgentRole.codex
    public static let heartbeatTimeoutSecondsDefault = 60
    public static let maxConcurrentChildrenDefault = 6

    public var intent: SessionIntent
    /// Stored; the slug's source without `worktreeName`.
    public var userRequest: String?
    public var worktreeName: String?
    /// False: work in the main worktree.
    public var alwaysBranch: Bool
    /// Default: the main worktree's branch.
    public var baseRef: String?
    public var agentRole: AgentRole
    /// Default: the OS user.
    public var owner: String?
    /// Default: derived from the parent process.
    public var terminalFingerprint: String?
    public var heartbeatTimeoutSeconds: Int
    public var maxConcurrentChildren: Int
    public var resumeSessionId: Int?
    /// An awaiting_resume session this one supersedes.
    public var requesterSessionId: Int?

    public init(
        intent: SessionIntent = Self.intentDefault, userRequest: String? = nil, worktreeName: String? = nil,
        alwaysBranch: Bool = Self.alwaysBranchDefault, baseRef: String? = nil,
        agentRole: AgentRole = Self.agentRoleDefault
    ) {
        (self.intent, self.userRequest, self.worktreeName) = (intent, userRequest, worktreeName)
        (self.alwaysBranch, self.baseRef, self.agentRole) = (alwaysBranch, baseRef, agentRole)
        heartbeatTimeoutSeconds = Self.heartbeatTimeoutSecondsDefault
        maxConcurrentChildren = Self.maxConcurrentChildrenDefault
    }

    /// From the call's validated parameters (the registry has filled in the defaults).
    public init(_ p: Params) {
        self.init(
            intent: p.enumValue("intent", SessionIntent.self) ?? Self.intentDefault,
            userRequest: p.string("user_request"), worktreeName: p.string("worktree_name"),
            alwaysBranch: p.bool("always_branch") ?? Self.alwaysBranchDefault, baseRef: p.string("base_ref"),
            agentRole: p.enumValue("agent_role", AgentRole.self) ?? Self.agentRoleDefault)
        owner = p.string("owner")
        terminalFingerprint = p.string("terminal_fingerprint")
        heartbeatTimeoutSeconds = p.int("heartbeat_timeout_seconds") ?? Self.heartbeatTimeoutSecondsDefault
        maxConcurrentChildren = p.int("max_concurrent_children") ?? Self.maxConcurrentChildrenDefault
        resumeSessionId = p.int("resume_session_id")
        requesterSessionId = p.int("requester_session_id")
    }

    /// Whether the caller said what the work is about (a new request under `auto` may be other work).
    var hasSlugSource: Bool { userRequest != nil || worktreeName != nil }
}

/// What `session.list` takes.
public struct SessionListInput: Sendable, Equatable {
    public static let statusDefault = "open"

    /// A session status, `open` (active and awaiting_resume) or `all`.
    public var status: String
    public var page: ListPage

    public init(status: String = Self.statusDefault, page: ListPage = ListPage()) {
        (self.status, self.page) = (status, page)
    }

    public init(_ p: Params) {
        self.init(status: p.string("status") ?? Self.statusDefault, page: ListPage(p))
    }
}
