import CodestratorCore

/// orch_session (docs/methods.md#orch_session--codestrator-sessions).
enum SessionMethods {
    static let sessionId = ParamSpec("session_id", .id, required: true, doc: "the session")

    static let all: [MethodDefinition] = [
        method(
            "workspace.init", .session, "Prepare `.codestrator/` and report repository, database and tool versions",
            params: []
        ) { env, _ in try await SessionService(env: env).workspaceInit() },
        method(
            "session.open", .session, "Open a session in its own new worktree, or resume a stale one",
            params: [
                ParamSpec(
                    "intent", .enumeration(SessionIntent.allCases.map(\.rawValue)),
                    default: .string(SessionOpenInput.intentDefault.rawValue)),
                ParamSpec("user_request", .text(maxBytes: 65_536), doc: "stored; slug source without worktree_name"),
                ParamSpec("worktree_name", .name(maxChars: 100), doc: "preferred slug source"),
                ParamSpec(
                    "always_branch", .bool, default: .bool(SessionOpenInput.alwaysBranchDefault),
                    doc: "false: work in the main worktree"),
                ParamSpec("base_ref", .name(maxChars: 256), doc: "branch, tag or commit to start from"),
                ParamSpec(
                    "agent_role", .enumeration(AgentRole.allCases.map(\.rawValue)),
                    default: .string(SessionOpenInput.agentRoleDefault.rawValue)),
                ParamSpec("owner", .name(maxChars: 100), doc: "default: the OS user"),
                ParamSpec(
                    "terminal_fingerprint", .name(maxChars: 200), doc: "default: derived from the parent process"),
                ParamSpec(
                    "heartbeat_timeout_seconds", .int(min: 10, max: 86_400),
                    default: .int(SessionOpenInput.heartbeatTimeoutSecondsDefault)),
                ParamSpec(
                    "max_concurrent_children", .int(min: 1, max: 32),
                    default: .int(SessionOpenInput.maxConcurrentChildrenDefault)),
                ParamSpec("resume_session_id", .id, doc: "resume exactly this session"),
                ParamSpec("requester_session_id", .id, doc: "an awaiting_resume session to supersede"),
            ]
        ) { env, p in try await SessionService(env: env).open(SessionOpenInput(p)) },
        method("session.heartbeat", .session, "Mark a session alive", params: [sessionId]) { env, p in
            try await SessionService(env: env).heartbeat(sessionId: p.req("session_id"))
        },
        method("session.close", .session, "Close a session that has nothing left running", params: [sessionId]) {
            env, p in try await SessionService(env: env).close(sessionId: p.req("session_id"))
        },
        method(
            "session.cleanup", .session, "Stop a session's children, kill its viewer, release its locks, close it",
            params: [sessionId]
        ) { env, p in try await SessionService(env: env).cleanup(sessionId: p.req("session_id")) },
        method(
            "session.list", .session, "List this repository's sessions with liveness", readOnly: true,
            params: [
                ParamSpec(
                    "status", .enumeration(["active", "awaiting_resume", "closed", "superseded", "open", "all"]),
                    default: .string(SessionListInput.statusDefault))
            ] + CommonParams.list
        ) { env, p in try await SessionService(env: env).list(SessionListInput(p)) },
        method(
            "session.context", .session, "A session with its worktrees, current ref and counts", readOnly: true,
            params: [sessionId]
        ) { env, p in try await SessionService(env: env).context(sessionId: p.req("session_id")) },
    ]
}
