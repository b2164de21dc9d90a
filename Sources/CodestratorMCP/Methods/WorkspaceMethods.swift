import CodestratorCore

/// orch_workspace (docs/methods.md#orch_workspace--codestrator-worktrees-and-locks).
enum WorkspaceMethods {
    static let text = ParamKind.text(maxBytes: 65_536)
    static let count = ParamKind.int(min: 0, max: 100_000)

    static let all: [MethodDefinition] = [
        method(
            "scheduler.decide_worktree", .workspace, "Score whether a split of work needs its own worktree",
            readOnly: true, roles: "W",
            params: WorktreeDecisionInput.factorNames.map {
                ParamSpec($0, count, default: .int(WorktreeDecisionInput.factorDefault))
            }
        ) { env, p in WorkspaceService(env: env).decide(WorktreeDecisionInput(p)) },
        method(
            "worktree.create", .workspace, "Create a worktree and branch under `.codestrator/worktrees/`",
            params: [
                ParamSpec("branch", .branch, required: true),
                ParamSpec("path", .path, doc: "inside .codestrator/worktrees/"),
                ParamSpec("base_ref", .name(maxChars: 256), doc: "default: the main branch"),
                ParamSpec("session_id", .id, doc: "owner session"), ParamSpec("parent_worktree_id", .id),
                ParamSpec("task_id", .id),
                ParamSpec("create_on_disk", .bool, default: .bool(WorktreeCreateInput.createOnDiskDefault)),
            ]
        ) { env, p in try await WorkspaceService(env: env).create(WorktreeCreateInput(p)) },
        method(
            "worktree.list", .workspace, "List worktrees, optionally with live git status", readOnly: true, roles: "W",
            params: [
                ParamSpec("session_id", .id),
                ParamSpec("kind", .enumeration(WorktreeKind.allCases.map(\.rawValue))),
                ParamSpec("status", .enumeration(WorktreeStatus.allCases.map(\.rawValue))),
                ParamSpec("merge_state", .enumeration(MergeState.allCases.map(\.rawValue))),
                ParamSpec("parent_worktree_id", .id),
                ParamSpec("include_removed", .bool, default: .bool(WorktreeListInput.includeRemovedDefault)),
                ParamSpec("with_git_status", .bool, default: .bool(WorktreeListInput.withGitStatusDefault)),
            ] + CommonParams.list
        ) { env, p in try await WorkspaceService(env: env).list(WorktreeListInput(p)) },
        method(
            "worktree.spawn", .workspace, "Create a child worktree and branch from a worktree of the session",
            roles: "W",
            params: [
                ParamSpec("session_id", .id, doc: "root: required"),
                ParamSpec("parent_worktree_id", .id, doc: "default: the session root (children: their own worktree)"),
                ParamSpec("task_id", .id), ParamSpec("reason", text, doc: "slug source after slug"),
                ParamSpec("slug", .name(maxChars: 100)),
                ParamSpec("branch", .branch, doc: "default codestrator/<slug>"),
                ParamSpec("path", .path), ParamSpec("base_ref", .name(maxChars: 256), doc: "default: the parent's tip"),
                ParamSpec("create_on_disk", .bool, default: .bool(WorktreeSpawnInput.createOnDiskDefault)),
            ]
        ) { env, p in try await WorkspaceService(env: env).spawn(WorktreeSpawnInput(p)) },
        method(
            "worktree.merge_to_parent", .workspace,
            "Merge a child branch into its parent worktree (`git merge --no-ff`)", roles: "W",
            params: [
                ParamSpec("worktree_id", .id, doc: "children: their own worktree"), ParamSpec("session_id", .id),
                ParamSpec("include_uncommitted", .bool, default: .bool(WorktreeMergeInput.includeUncommittedDefault)),
                ParamSpec("commit_message", .title(maxChars: 300)), ParamSpec("message", .title(maxChars: 300)),
            ]
        ) { env, p in try await WorkspaceService(env: env).mergeToParent(WorktreeMergeInput(p)) },
        method(
            "worktree.remove", .workspace, "Remove a merged or abandoned worktree and its branch", roles: "W",
            params: [
                ParamSpec("worktree_id", .id, required: true),
                ParamSpec(
                    "force", .bool, default: .bool(WorktreeRemoveInput.forceDefault),
                    doc: "root only: discard unmerged work"),
                ParamSpec("delete_branch", .bool, default: .bool(WorktreeRemoveInput.deleteBranchDefault)),
            ]
        ) { env, p in try await WorkspaceService(env: env).remove(WorktreeRemoveInput(p)) },
        method(
            "lock.acquire", .workspace, "Take or refresh a lease on a file or path prefix", roles: "W",
            params: [
                ParamSpec("scope_type", .enumeration(["file", "prefix"]), required: true),
                ParamSpec("scope_path", .path, required: true),
                ParamSpec("owner_session", .name(maxChars: 100), doc: "root: required; children: thread:<id>"),
                ParamSpec("ttl_seconds", .int(min: 10, max: 86_400), default: .int(LockAcquireInput.ttlSecondsDefault)),
                ParamSpec("session_id", .id), ParamSpec("reason", .text(maxBytes: 1200)),
            ]
        ) { env, p in try await LockService(env: env).acquire(LockAcquireInput(p)) },
        method(
            "lock.heartbeat", .workspace, "Extend a lease you own", roles: "W",
            params: [
                ParamSpec("lock_id", .id, required: true), ParamSpec("owner_session", .name(maxChars: 100)),
                ParamSpec("ttl_seconds", .int(min: 10, max: 86_400)),
            ]
        ) { env, p in try await LockService(env: env).heartbeat(LockHeartbeatInput(p)) },
        method(
            "lock.release", .workspace, "Release a lease you own", roles: "W",
            params: [
                ParamSpec("lock_id", .id, required: true), ParamSpec("owner_session", .name(maxChars: 100)),
                ParamSpec("force", .bool, default: .bool(LockReleaseInput.forceDefault), doc: "root only"),
            ]
        ) { env, p in try await LockService(env: env).release(LockReleaseInput(p)) },
        method(
            "lock.list", .workspace, "List locks by state, owner, session or path", readOnly: true, roles: "W",
            params: [
                ParamSpec(
                    "state", .enumeration(["active", "released", "expired", "all"]),
                    default: .string(LockListInput.stateDefault)),
                ParamSpec("owner_session", .name(maxChars: 100)), ParamSpec("session_id", .id),
                ParamSpec("path", .path),
            ] + CommonParams.list
        ) { env, p in try await LockService(env: env).list(LockListInput(p)) },
    ]
}
