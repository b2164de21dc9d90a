import CodestratorCore

/// orch_thread (docs/methods.md#orch_thread--codestrator-child-agents).
enum ThreadMethods {
    static let roles = ["worker", "merge-reviewer", "plan-architect", "doc-mirror-manager"]
    static let threadId = ParamSpec("thread_id", .id, required: true)

    static let all: [MethodDefinition] = [
        method(
            "thread.child.spawn", .thread, "Start a child agent in a new tmux pane (and worktree)",
            params: [
                ParamSpec("session_id", .id, required: true),
                ParamSpec("role", .enumeration(roles), default: .string(ThreadSpawnInput.roleDefault.rawValue)),
                ParamSpec("title", .title(maxChars: 300)), ParamSpec("objective", .text(maxBytes: 65_536)),
                ParamSpec("parent_thread_id", .id), ParamSpec("worktree_id", .id), ParamSpec("create_worktree", .bool),
                ParamSpec("provider", .enumeration(Providers.all)),
                ParamSpec(
                    "runner_kind", .enumeration(Providers.runners),
                    doc:
                        "agents_sdk_codex_mcp = the Codex CLI with Codestrator as its MCP server: picks provider codex "
                        + "when none is given (sim in a sim session), runs the sim agent with provider sim"),
                ParamSpec("launch_argv", .array(.text(maxBytes: 4096), maxCount: 200)),
                ParamSpec("launch_command", .text(maxBytes: 8192)), ParamSpec("codex_command", .path),
                ParamSpec("agent_override", .object), ParamSpec("agent_guide_path", .path),
                ParamSpec("initial_prompt", .paneText(maxBytes: 65_536)), ParamSpec("task_spec", .object),
                ParamSpec("scope_task_ids", .array(.id, maxCount: 200)),
                ParamSpec("scope_case_ids", .array(.id, maxCount: 200)),
                ParamSpec("scope_node_ids", .array(.id, maxCount: 200)),
                ParamSpec("interaction_mode", .enumeration(["view_only"]), default: "view_only"),
                ParamSpec("tmux_window_name", .name(maxChars: 32)),
                ParamSpec("tmux_session_name", .name(maxChars: 100)),
                ParamSpec("max_concurrent_children", .int(min: 1, max: 32)),
                ParamSpec("ensure_tmux", .bool, default: .bool(ThreadSpawnInput.ensureTmuxDefault)),
                ParamSpec("auto_install", .bool, default: false),
                ParamSpec("launch_codex", .bool, default: .bool(ThreadSpawnInput.launchCodexDefault)),
                ParamSpec("skip_ready_check", .bool, default: .bool(ThreadSpawnInput.skipReadyCheckDefault)),
                ParamSpec(
                    "ready_timeout_seconds", .int(min: 1, max: 120),
                    default: .int(ThreadSpawnInput.readyTimeoutSecondsDefault)),
                ParamSpec("split_direction", .ignored),
            ]
        ) { env, p in
            if let w = p.string("tmux_window_name"),
                !w.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) || !w.allSatisfy(\.isASCII)
            {
                throw CodestratorError(
                    .invalidParams, "field \"tmux_window_name\" is \(quoted(w))", expected: "a name of [a-z0-9-]{1,32}",
                    field: "tmux_window_name")
            }
            return try await ThreadService(env: env).spawn(ThreadSpawnInput(p))
        },
        method(
            "thread.child.directive", .thread,
            "Send a directive: interrupt_patch, queue, restart, or an answer to a question",
            params: [
                threadId, ParamSpec("directive", .paneText(maxBytes: 65_536)),
                ParamSpec(
                    "mode", .enumeration(ThreadDirectiveInput.modes),
                    default: .string(ThreadDirectiveInput.modeDefault)),
                ParamSpec("keys", .array(.name(maxChars: 10), maxCount: 10)),
                ParamSpec(
                    "wait_idle_seconds", .int(min: 1, max: 30),
                    default: .int(ThreadDirectiveInput.waitIdleSecondsDefault)),
            ]
        ) { env, p in try await ThreadService(env: env).directive(ThreadDirectiveInput(p)) },
        method(
            "thread.child.list", .thread, "A session's threads with observed status", readOnly: true,
            params: [
                ParamSpec("session_id", .id, required: true), ParamSpec("parent_thread_id", .id),
                ParamSpec("status", .json),
                ParamSpec("role", .enumeration(["session-root"] + roles)),
                ParamSpec("include_root", .bool, default: .bool(ThreadListInput.includeRootDefault)),
                ParamSpec("refresh", .bool, default: .bool(ThreadListInput.refreshDefault)),
            ]
        ) { env, p in try await ThreadService(env: env).list(ThreadListInput(p)) },
        method("thread.child.interrupt", .thread, "Interrupt a child's current turn", params: [threadId]) { env, p in
            try await ThreadService(env: env).interrupt(threadId: p.req("thread_id"))
        },
        method(
            "thread.child.stop", .thread, "Ask a child to exit, then close its pane",
            params: [
                threadId, ParamSpec("terminate_pane", .bool, default: .bool(ThreadStopInput.terminatePaneDefault)),
                ParamSpec("wait_seconds", .int(min: 1, max: 30), default: .int(ThreadStopInput.waitSecondsDefault)),
            ]
        ) { env, p in try await ThreadService(env: env).stop(ThreadStopInput(p)) },
        method(
            "thread.child.status", .thread, "Observe one child: pane, provider status, last response", readOnly: true,
            params: [threadId, ParamSpec("capture_lines", .int(min: 1, max: 2000), default: 200)]
        ) { env, p in try await ThreadService(env: env).status(threadId: p.req("thread_id")) },
        method(
            "thread.child.wait_status", .thread, "Wait (bounded) until a child reaches one of the given statuses",
            readOnly: true,
            params: [
                threadId, ParamSpec("target_statuses", .array(.name(maxChars: 40), maxCount: 16), required: true),
                ParamSpec(
                    "timeout_seconds", .int(min: 1, max: 600),
                    default: .int(ThreadWaitStatusInput.timeoutSecondsDefault)),
            ]
        ) { env, p in try await ThreadService(env: env).waitStatus(ThreadWaitStatusInput(p)) },
        method(
            "thread.attach_info", .thread, "Read-only tmux attach commands for a session or thread", readOnly: true,
            params: [ParamSpec("session_id", .id, required: true), ParamSpec("thread_id", .id)]
        ) { env, p in
            try await ThreadService(env: env).attachInfo(sessionId: p.req("session_id"), threadId: p.int("thread_id"))
        },
    ]
}
