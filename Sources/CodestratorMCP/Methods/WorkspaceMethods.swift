import CodestratorCore

/// orch_workspace (methods.md §4).
enum WorkspaceMethods {
    static let owner = "the workspace issue"
    static let all: [MethodDefinition] = [
        method(
            "scheduler.decide_worktree", .workspace, "Score whether a split of work needs its own worktree",
            readOnly: true, roles: "W", ownedBy: owner),
        method(
            "worktree.create", .workspace, "Create a worktree and branch under `.codestrator/worktrees/`",
            ownedBy: owner),
        method(
            "worktree.list", .workspace, "List worktrees, optionally with live git status", readOnly: true, roles: "W",
            ownedBy: owner),
        method(
            "worktree.spawn", .workspace, "Create a child worktree and branch from a worktree of the session",
            roles: "W", ownedBy: owner),
        method(
            "worktree.merge_to_parent", .workspace,
            "Merge a child branch into its parent worktree (`git merge --no-ff`)", roles: "W", ownedBy: owner),
        method(
            "worktree.remove", .workspace, "Remove a merged or abandoned worktree and its branch", roles: "W",
            ownedBy: owner),
        method(
            "lock.acquire", .workspace, "Take or refresh a lease on a file or path prefix", roles: "W", ownedBy: owner),
        method("lock.heartbeat", .workspace, "Extend a lease you own", roles: "W", ownedBy: owner),
        method("lock.release", .workspace, "Release a lease you own", roles: "W", ownedBy: owner),
        method(
            "lock.list", .workspace, "List locks by state, owner, session or path", readOnly: true, roles: "W",
            ownedBy: owner),
    ]
}
