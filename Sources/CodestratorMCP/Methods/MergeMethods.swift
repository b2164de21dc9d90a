import CodestratorCore

/// orch_merge (docs/methods.md#orch_merge--codestrator-merge-queue-and-review).
enum MergeMethods {
    static let spawnSettings: [ParamSpec] = [
        ParamSpec("provider", .enumeration(Providers.all)),
        ParamSpec(
            "runner_kind", .enumeration(Providers.runners),
            doc: "agents_sdk_codex_mcp = the Codex CLI with Codestrator as its MCP server: picks provider codex "
                + "when none is given (sim in a sim session), runs the sim agent with provider sim"),
        ParamSpec("agent_guide_path", .path), ParamSpec("agent_override", .object),
        ParamSpec("max_concurrent_children", .int(min: 1, max: 32)),
        ParamSpec("ensure_tmux", .bool, default: .bool(ThreadSpawnInput.ensureTmuxDefault)),
        ParamSpec("auto_install", .bool, default: false),
    ]

    static let all: [MethodDefinition] = [
        method(
            "merge.request", .merge, "Record what is to be reviewed: a task and a worktree",
            params: [
                ParamSpec("feature_task_id", .id, required: true), ParamSpec("session_id", .id),
                ParamSpec("worktree_id", .id),
                ParamSpec("reviewer_session", .name(maxChars: 100)), ParamSpec("notes_json", .json),
            ]
        ) { env, p in try await MergeService(env: env).request(MergeRequestInput(p)) },
        method(
            "merge.review_context", .merge, "Everything a reviewer needs: branches, diff, commits, case evidence",
            readOnly: true, roles: "V",
            params: [
                ParamSpec("merge_request_id", .id, required: true),
                ParamSpec(
                    "diff_max_bytes", .int(min: 1024, max: 204_800),
                    default: .int(MergeReviewContextInput.diffMaxBytesDefault)),
            ]
        ) { env, p in try await MergeService(env: env).reviewContext(MergeReviewContextInput(p)) },
        method(
            "merge.review.request_auto", .merge, "Dispatch a reviewer child under the main merge lock",
            params: [
                ParamSpec("session_id", .id, required: true), ParamSpec("merge_request_id", .id, required: true),
                ParamSpec("queue_item_id", .id),
                ParamSpec(
                    "reviewer_role", .enumeration(["merge-reviewer"]),
                    default: .string(MergeReviewRequestAutoInput.reviewerRoleDefault)),
            ] + spawnSettings
        ) { env, p in try await MergeService(env: env).requestAuto(MergeReviewRequestAutoInput(p)) },
        method(
            "merge.review.thread_status", .merge, "A review job, its reviewer's status and the verdict", roles: "V",
            params: [ParamSpec("review_job_id", .id), ParamSpec("merge_request_id", .id)]
        ) { env, p in
            try await MergeService(env: env).threadStatus(
                reviewJobId: p.int("review_job_id"), mergeRequestId: p.int("merge_request_id"))
        },
        method(
            "merge.review.submit", .merge, "Record a verdict APPROVE or BLOCK with findings", roles: "V",
            params: [
                ParamSpec("review_job_id", .id),
                ParamSpec("verdict", .enumeration(["APPROVE", "BLOCK"], upperCase: true), required: true),
                ParamSpec("summary", .text(maxBytes: 65_536), required: true),
                ParamSpec("findings", .array(.object, maxCount: 200)),
            ]
        ) { env, p in try await MergeService(env: env).submit(MergeReviewSubmitInput(p)) },
        method(
            "merge.main.request", .merge, "Queue a session root for merging into the target branch",
            params: [
                ParamSpec("session_id", .id, required: true), ParamSpec("from_worktree_id", .id),
                ParamSpec("target_branch", .branch), ParamSpec("merge_request_id", .id),
                ParamSpec("auto_review", .bool, default: .bool(MergeMainRequestInput.autoReviewDefault)),
                ParamSpec(
                    "reviewer_role", .enumeration(["merge-reviewer"]),
                    default: .string(MergeMainRequestInput.reviewerRoleDefault)),
                ParamSpec("agent_guide_path", .path), ParamSpec("provider", .enumeration(Providers.all)),
                ParamSpec("agent_override", .object),
            ]
        ) { env, p in try await MergeService(env: env).mainRequest(MergeMainRequestInput(p)) },
        method(
            "merge.main.next", .merge, "The head of the merge queue", readOnly: true, roles: "V",
            params: [ParamSpec("target_branch", .branch)]
        ) { env, p in try await MergeService(env: env).next(targetBranch: p.string("target_branch")) },
        method(
            "merge.main.status", .merge, "One queue item, or the whole queue, with the lock", readOnly: true,
            roles: "V", params: [ParamSpec("request_id", .id)]
        ) { env, p in try await MergeService(env: env).status(requestId: p.int("request_id")) },
        method(
            "merge.main.acquire_lock", .merge, "Take the main merge lock for the queue head and dispatch its review",
            params: [
                ParamSpec("session_id", .id, required: true),
                ParamSpec(
                    "ttl_seconds", .int(min: 60, max: 3600), default: .int(MergeAcquireLockInput.ttlSecondsDefault)),
                ParamSpec("dispatch_review", .bool, default: .bool(MergeAcquireLockInput.dispatchReviewDefault)),
            ]
        ) { env, p in try await MergeService(env: env).acquireLock(MergeAcquireLockInput(p)) },
        method(
            "merge.main.release_lock", .merge, "Merge the approved head into the target branch, then release the lock",
            params: [
                ParamSpec("session_id", .id, required: true),
                ParamSpec("force", .bool, default: .bool(MergeReleaseLockInput.forceDefault)),
                ParamSpec("merge", .bool, default: .bool(MergeReleaseLockInput.mergeDefault)),
            ]
        ) { env, p in try await MergeService(env: env).releaseLock(MergeReleaseLockInput(p)) },
    ]
}
