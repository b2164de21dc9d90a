import CodestratorCore

/// orch_task (docs/methods.md#orch_task--codestrator-tasks).
enum TaskMethods {
    static let levels = TaskLevel.allCases.map(\.rawValue)
    static let statuses = ["todo", "in_progress", "blocked", "done", "cancelled"]
    static let title = ParamKind.title(maxChars: 300)
    static let text = ParamKind.text(maxBytes: 65_536)
    static let files = ParamSpec(
        "required_files", .array(.path, maxCount: 200), doc: "files to reload, for the current ref")
    static let actor: [ParamSpec] = [
        ParamSpec("session_id", .id, doc: "must equal the case's session"),
        ParamSpec("thread_id", .id, doc: "root only: the thread acted for"),
    ]

    static let all: [MethodDefinition] = [
        method(
            "task.create", .task, "Create an epic, feature, testgroup, case or planned step", roles: "WP",
            params: [
                ParamSpec("level", .enumeration(levels, aliases: ["test_group": "testgroup"]), required: true),
                ParamSpec("title", title, required: true),
                ParamSpec("parent_id", .id, doc: "exactly one level up; none for epics"),
                ParamSpec("session_id", .id, doc: "required for epics; others take the parent's"),
                ParamSpec("priority", .int(min: -1000, max: 1000), default: .int(TaskCreateInput.priorityDefault)),
                ParamSpec("description", text),
                ParamSpec("assignee_thread_id", .id, doc: "cases only: a worker of the session"),
                ParamSpec("assignee_session", .name(maxChars: 100)),
                ParamSpec("steps", .array(title, maxCount: 200), doc: "cases only: planned steps in order"),
                ParamSpec("input_contract", .json, doc: "cases only"),
            ]
        ) { env, p in try await TaskService(env: env).create(TaskCreateInput(p)) },
        method(
            "task.list", .task, "List tasks with filters and roll-up counts", readOnly: true, roles: "WVP",
            params: [
                ParamSpec("session_id", .id), ParamSpec("level", .enumeration(Array(levels.dropLast()))),
                ParamSpec("status", .enumeration(statuses)), ParamSpec("parent_id", .id),
                ParamSpec("roots_only", .bool, default: .bool(TaskListInput.rootsOnlyDefault)),
                ParamSpec("assignee_thread_id", .id),
                ParamSpec("assignee_session", .name(maxChars: 100)),
            ] + CommonParams.list
        ) { env, p in try await TaskService(env: env).list(TaskListInput(p)) },
        method(
            "task.get", .task, "One task with steps, children, ancestors and latest checkpoint", readOnly: true,
            roles: "WVP", params: [ParamSpec("task_id", .id, required: true)]
        ) { env, p in try await TaskService(env: env).get(taskId: p.req("task_id")) },
        method(
            "task.update", .task, "Change status, title, priority, assignee or notes within legal transitions",
            roles: "WP",
            params: [
                ParamSpec("task_id", .id, required: true),
                ParamSpec("status", .enumeration(["todo", "in_progress", "blocked", "cancelled"])),
                ParamSpec("reason", text, doc: "required with blocked and cancelled"),
                ParamSpec("title", title), ParamSpec("priority", .int(min: -1000, max: 1000)),
                ParamSpec("description", text, nullable: true), ParamSpec("next_action", text, nullable: true),
                ParamSpec("assignee_thread_id", .id, nullable: true),
                ParamSpec("assignee_session", .name(maxChars: 100), nullable: true),
            ]
        ) { env, p in try await TaskService(env: env).update(TaskUpdateInput(p)) },
        method(
            "case.begin", .task, "Start or resume a case for a thread and plan its steps", roles: "W",
            params: [ParamSpec("case_id", .id, required: true)] + actor + [
                ParamSpec("steps", .array(title, maxCount: 200), doc: "planned steps; new titles appended"),
                ParamSpec("input_contract", .json), ParamSpec("fixtures", .array(.title(maxChars: 300), maxCount: 200)),
                files,
                ParamSpec(
                    "reopen", .bool, default: .bool(CaseBeginInput.reopenDefault),
                    doc: "required to begin a done case again"),
            ]
        ) { env, p in try await TaskService(env: env).caseBegin(CaseBeginInput(p)) },
        method(
            "step.check", .task, "Record the result of a planned step (or append one)", roles: "W",
            params: [
                ParamSpec("case_id", .id, required: true), ParamSpec("step_id", .id),
                ParamSpec("step_title", title, doc: "an unknown title appends a step"),
                ParamSpec(
                    "status", .enumeration(["done", "failed", "skipped"]),
                    default: .string(StepCheckInput.statusDefault.rawValue)),
                ParamSpec("result", text, required: true),
                ParamSpec("artifacts", .array(.text(maxBytes: 4096), maxCount: 200)), files,
            ] + actor
        ) { env, p in try await TaskService(env: env).stepCheck(StepCheckInput(p)) },
        method(
            "case.complete", .task, "Finish a case once its steps are checked", roles: "W",
            params: [
                ParamSpec("case_id", .id, required: true), ParamSpec("summary", text), ParamSpec("next_action", text),
                files,
                ParamSpec(
                    "force", .bool, default: .bool(CaseCompleteInput.forceDefault),
                    doc: "complete although steps are todo or failed"),
            ] + actor
        ) { env, p in try await TaskService(env: env).caseComplete(CaseCompleteInput(p)) },
        method(
            "resume.next", .task, "The case and next unchecked step to work on in a scope", readOnly: true,
            roles: "WVP",
            params: [ParamSpec("session_id", .id, doc: RootScopeDoc.sessionId), ParamSpec("thread_id", .id)]
        ) { env, p in
            try await TaskService(env: env).resumeNext(sessionId: p.int("session_id"), threadId: p.int("thread_id"))
        },
        method(
            "resume.candidates.list", .task, "Stale sessions that can be resumed", readOnly: true,
            params: [
                ParamSpec("requester_session_id", .id),
                ParamSpec("heartbeat_timeout_seconds", .int(min: 10, max: 86_400)),
            ]
        ) { env, p in
            try await TaskService(env: env).candidatesList(
                requesterSessionId: p.int("requester_session_id"),
                heartbeatTimeoutSeconds: p.int("heartbeat_timeout_seconds"))
        },
        method(
            "resume.candidates.attach", .task, "Resume a stale session; the caller continues it",
            params: [
                ParamSpec("target_session_id", .id, required: true), ParamSpec("requester_session_id", .id),
                ParamSpec("heartbeat_timeout_seconds", .int(min: 10, max: 86_400)),
                ParamSpec("force", .bool, default: .bool(ResumeCandidatesAttachInput.forceDefault)),
            ]
        ) { env, p in try await TaskService(env: env).candidatesAttach(ResumeCandidatesAttachInput(p)) },
    ]
}
