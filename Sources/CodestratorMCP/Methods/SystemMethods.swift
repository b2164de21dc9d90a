import CodestratorCore

/// orch_system (docs/methods.md#orch_system--codestrator-runtime-mirror-and-planning): the tmux runtime, bundle info, the mirror and planning.
enum SystemMethods {
    static let text = ParamKind.text(maxBytes: 65_536)
    static let files = ParamSpec(
        "affected_files", .array(.path, maxCount: 200), doc: "repository paths; normalised, de-duplicated")
    static let nodeId = ParamSpec("node_id", .id, required: true)

    static let all: [MethodDefinition] = [
        method(
            "runtime.tmux.ensure", .system, "Check tmux; install it only when `auto_install` is true",
            params: [
                ParamSpec("session_id", .id),
                ParamSpec("auto_install", .bool, default: .bool(TmuxEnsureInput.autoInstallDefault)),
            ]
        ) { env, p in try await ThreadService(env: env).ensureTmux(TmuxEnsureInput(p)) },
        method(
            "runtime.bundle.info", .system, "Binary, versions, client configs and installed skills", readOnly: true,
            roles: "PD", params: []
        ) { env, _ in try await BundleService(env: env).info() },
        method(
            "mirror.status", .system, "The mirror file, its last refresh and whether it is outdated", readOnly: true,
            roles: "PD", params: []
        ) { env, _ in try await MirrorService(env: env).status() },
        method(
            "mirror.refresh", .system, "Write `.codestrator/mirror/STATE.md` from the database, atomically",
            roles: "D",
            params: [
                ParamSpec(
                    "target_path", .path, doc: "a .md file directly inside .codestrator/mirror/; default STATE.md"),
                ParamSpec(
                    "requester_role",
                    .enumeration(ProcessRole.allCases.map(\.rawValue), aliases: ["session-root": "root"]),
                    doc: "kept for compatibility; must equal the process's role"),
            ]
        ) { env, p in
            try await MirrorService(env: env).refresh(
                targetPath: p.string("target_path"), requesterRole: p.string("requester_role"))
        },
        method(
            "plan.bootstrap", .system, "Create an initiative, its plan and the `contains` edge", roles: "P",
            params: [
                ParamSpec("initiative_title", .title(maxChars: 300), required: true),
                ParamSpec("plan_title", .title(maxChars: 300), required: true),
                ParamSpec(
                    "priority", .int(min: -1000, max: 1000), default: .int(PlanBootstrapInput.priorityDefault),
                    doc: "of both nodes"),
                ParamSpec("summary", text, doc: "of the initiative"),
                ParamSpec("owner_session_id", .id, doc: "children: their own, the default"),
                ParamSpec("task_id", .id, doc: "the epic this initiative plans"),
            ]
        ) { env, p in try await PlanService(env: env).bootstrap(PlanBootstrapInput(p)) },
        method(
            "plan.slice.generate", .system, "Create plan slices, enforcing the planning rules", roles: "P",
            params: [
                ParamSpec("plan_node_id", .id, required: true, doc: "a node of type plan"),
                ParamSpec(
                    "slice_specs", .array(.object, maxCount: 100), required: true,
                    doc:
                        "1–100 {title, priority, token_estimate, affected_files, summary, task_id, depends_on}; "
                        + "depends_on: 0-based indexes of other specs"),
                ParamSpec("owner_session_id", .id, doc: "default: the plan's"),
                ParamSpec(
                    "allow_oversize", .bool, default: .bool(PlanSliceGenerateInput.allowOversizeDefault),
                    doc: "planning-rule violations become warnings"),
            ]
        ) { env, p in try await PlanService(env: env).sliceGenerate(PlanSliceGenerateInput(p)) },
        method(
            "plan.slice.replan", .system, "Record a replan and update a slice's estimate or files", roles: "P",
            params: [
                ParamSpec("node_id", .id, required: true, doc: "a slice or plan"),
                ParamSpec("reason", text, required: true),
                ParamSpec(
                    "trigger", .enumeration(["context_overflow", "scope_change", "blocked", "other"]),
                    default: .string(PlanSliceReplanInput.triggerDefault)),
                ParamSpec("token_estimate", .int(min: 0, max: 10_000_000)), files,
                ParamSpec("next_action", text),
                ParamSpec("allow_oversize", .bool, default: .bool(PlanSliceReplanInput.allowOversizeDefault)),
            ]
        ) { env, p in try await PlanService(env: env).sliceReplan(PlanSliceReplanInput(p)) },
        method(
            "plan.rollup.preview", .system, "Summarise a node's children by status", readOnly: true, roles: "P",
            params: [ParamSpec("parent_node_id", .id, required: true)]
        ) { env, p in try await PlanService(env: env).rollupPreview(parentNodeId: p.req("parent_node_id")) },
        method(
            "plan.rollup.submit", .system, "Submit a node's roll-up for approval", roles: "P",
            params: [nodeId, ParamSpec("summary", text), files, ParamSpec("next_action", text)]
        ) { env, p in try await PlanService(env: env).rollupSubmit(PlanRollupSubmitInput(p)) },
        method(
            "plan.rollup.approve", .system, "Approve a submitted roll-up",
            params: [nodeId, ParamSpec("reason", text)]
        ) { env, p in
            try await PlanService(env: env).rollupApprove(nodeId: p.req("node_id"), reason: p.string("reason"))
        },
        method(
            "plan.rollup.reject", .system, "Reject a submitted roll-up with a reason",
            params: [nodeId, ParamSpec("reason", text, required: true)]
        ) { env, p in
            try await PlanService(env: env).rollupReject(nodeId: p.req("node_id"), reason: p.string("reason"))
        },
    ]
}
