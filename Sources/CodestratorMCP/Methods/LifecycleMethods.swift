import CodestratorCore

/// The `session_id` a root may leave out (RootScope).
enum RootScopeDoc {
    static let sessionId =
        "root: default the session this server opened or resumed, else the one bound to this terminal "
        + "(CODESTRATOR_SESSION_ID, tmux pane, tty, a cwd inside its worktree)"
}

/// orch_lifecycle (docs/methods.md#orch_lifecycle--codestrator-current-ref-and-reports).
enum LifecycleMethods {
    static let all: [MethodDefinition] = [
        method(
            "work.current_ref", .lifecycle, "Read the caller's current ref, or write it with `set`", roles: "WVPD",
            params: [
                ParamSpec("session_id", .id, doc: RootScopeDoc.sessionId),
                ParamSpec("thread_id", .id, doc: "root only"),
                ParamSpec(
                    "set", .object,
                    doc:
                        "{node_type, node_id, next_action, summary, required_files, mode}; these fields sent without set are refused"
                ),
                ParamSpec("expected_version", .int(min: 0, max: 9_007_199_254_740_991), doc: "with set"),
            ]
        ) { env, p in try await LifecycleService(env: env).currentRef(CurrentRefInput(p)) },
        method(
            "work.current_ref.ack", .lifecycle, "Acknowledge a current ref version after reloading context",
            roles: "WVPD",
            params: [
                ParamSpec("session_id", .id, doc: "root: default the ref's session"),
                ParamSpec("ref_id", .id, required: true),
                ParamSpec("version", .int(min: 1, max: 9_007_199_254_740_991)),
            ]
        ) { env, p in try await LifecycleService(env: env).ack(CurrentRefAckInput(p)) },
        method(
            "work.report", .lifecycle, "Report done, blocked or failed to the parent thread", roles: "WVPD",
            params: [
                ParamSpec("outcome", .enumeration(["done", "blocked", "failed"]), required: true),
                ParamSpec("summary", .text(maxBytes: 65_536), required: true), ParamSpec("case_id", .id),
                ParamSpec("question", .text(maxBytes: 65_536)),
                ParamSpec("artifacts", .array(.text(maxBytes: 4096), maxCount: 200)), ParamSpec("details", .object),
                ParamSpec("session_id", .id),
            ]
        ) { env, p in try await LifecycleService(env: env).report(WorkReportInput(p)) },
    ]
}
