/// A row of `worktrees`.
public struct WorktreeRecord: Sendable {
    public var id: Int
    public var kind: WorktreeKind
    public var path: String
    public var branch: String?
    public var slug: String?
    public var baseCommit: String?
    public var ownerSessionId: Int?
    public var parentWorktreeId: Int?
    public var taskId: Int?
    public var status: WorktreeStatus
    public var mergeState: MergeState
    public var mergeCommit: String?
    public var createdAt: String
    public var mergedAt: String?
    public var removedAt: String?

    public init(_ r: SQLRow) {
        id = r.int("id")
        kind = WorktreeKind(rawValue: r.string("kind")) ?? .taskBranch
        path = r.string("path")
        branch = r.optString("branch")
        slug = r.optString("slug")
        baseCommit = r.optString("base_commit")
        ownerSessionId = r.optInt("owner_session_id")
        parentWorktreeId = r.optInt("parent_worktree_id")
        taskId = r.optInt("task_id")
        status = WorktreeStatus(rawValue: r.string("status")) ?? .removed
        mergeState = MergeState(rawValue: r.string("merge_state")) ?? .active
        mergeCommit = r.optString("merge_commit")
        createdAt = r.string("created_at")
        mergedAt = r.optString("merged_at")
        removedAt = r.optString("removed_at")
    }

    public static func load(_ tx: Tx, _ id: Int?) throws -> WorktreeRecord? {
        guard let id else { return nil }
        return try tx.row("SELECT * FROM worktrees WHERE id = ?", [id]).map(WorktreeRecord.init)
    }

    public var json: JSON {
        .obj([
            "id": id, "kind": kind.rawValue, "path": path, "branch": branch, "slug": slug,
            "base_commit": baseCommit, "task_id": taskId, "owner_session_id": ownerSessionId,
            "parent_worktree_id": parentWorktreeId, "status": status.rawValue, "merge_state": mergeState.rawValue,
            "merge_commit": mergeCommit, "created_at": createdAt, "merged_at": mergedAt, "removed_at": removedAt,
        ])
    }
}
