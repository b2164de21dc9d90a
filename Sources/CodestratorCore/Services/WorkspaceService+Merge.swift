import Foundation

extension WorkspaceService {
    // MARK: worktree.merge_to_parent

    /// What merging a child into its parent did: `merged_to_parent` or `up_to_date`, the parent's head after
    /// it, and the files the merge changed there.
    struct ParentMerge: Sendable {
        let result: String
        let head: String
        let files: [String]
    }

    public func mergeToParent(_ input: WorktreeMergeInput) async throws -> JSON {
        let (child, parent) = try await mergeRows(input)
        guard let childBranch = child.branch else {
            throw CodestratorError(.invalidState, "worktree \(child.id) has no branch", expected: "a branch worktree")
        }
        return try await env.gitWrites.run {
            let committed = try await self.prepareMerge(
                child: child, parent: parent, childBranch: childBranch, input: input)
            let merged = try await self.mergeIntoParent(
                child: child, parent: parent, childBranch: childBranch, message: input.message, committed: committed)
            return try await self.recordMergedToParent(
                childId: child.id, parentId: parent.id, merged, committed: committed)
        }
    }

    /// The child worktree (a child caller's own by default) and its parent, as the caller may merge them.
    func mergeRows(_ input: WorktreeMergeInput) async throws -> (child: WorktreeRecord, parent: WorktreeRecord) {
        let caller = env.caller
        return try await env.store.read { tx in
            var id = input.worktreeId
            if id == nil, caller.isChild { id = try ThreadRecord.load(tx, caller.threadId)?.worktreeId }
            guard let wid = id else {
                throw CodestratorError(
                    .invalidParams, "field \"worktree_id\" is required", expected: ParamKind.id.expectation,
                    field: "worktree_id")
            }
            let child = try self.worktree(tx, wid, field: "worktree_id")
            if let given = input.sessionId, given != child.ownerSessionId {
                if caller.isChild { throw CodestratorError.notFound("session", given, field: "session_id") }
                throw CodestratorError(
                    .invalidParams,
                    "field \"session_id\" is \(given) but worktree \(wid) belongs to session \(child.ownerSessionId.map(String.init) ?? "none")",
                    expected: "the worktree's session", field: "session_id")
            }
            try Self.checkWorkerReach(tx, caller: caller, worktree: child, field: "worktree_id")
            return (child, try Self.mergeableParent(tx, of: child))
        }
    }

    /// The parent an active task branch merges into: active, not the main worktree of a branching session, and
    /// the child has no unmerged children of its own.
    static func mergeableParent(_ tx: Tx, of child: WorktreeRecord) throws -> WorktreeRecord {
        let wid = child.id
        if child.kind == .sessionRoot {
            throw CodestratorError(
                .invalidState, "worktree \(wid) is a session root",
                expected: "merge.main.request (a session root reaches its target only through the merge queue)",
                field: "worktree_id")
        }
        guard child.kind == .taskBranch, child.status == .active else {
            throw CodestratorError(
                .invalidState,
                "worktree \(wid) is a \(child.kind.rawValue) worktree with status \(child.status.rawValue)",
                expected: "an active task_branch worktree", field: "worktree_id")
        }
        guard let parent = try WorktreeRecord.load(tx, child.parentWorktreeId), parent.status == .active else {
            throw CodestratorError(
                .invalidState, "worktree \(wid) has no active parent worktree",
                expected: "a child worktree with a parent")
        }
        if parent.kind == .main {
            let session = try child.ownerSessionId.flatMap { try SessionRecord.load(tx, $0) }
            if session?.alwaysBranch ?? true {
                throw CodestratorError(
                    .invalidState, "the parent of worktree \(wid) is the main worktree",
                    expected:
                        "merge.main.request (only sessions opened with always_branch:false merge into main directly)"
                )
            }
        }
        let open = try tx.ints(
            "SELECT id FROM worktrees WHERE parent_worktree_id = ? AND merge_state = 'active' AND status <> 'removed' ORDER BY id",
            [child.id])
        if !open.isEmpty {
            throw CodestratorError(
                .invalidState,
                "worktree \(wid) has unmerged child worktrees (\(open.map(String.init).joined(separator: ", ")))",
                expected: "worktree.merge_to_parent of those first, or worktree.remove")
        }
        return parent
    }

    /// The checks before any git write, then the child's uncommitted changes committed when asked; returns that
    /// commit. Both directories must be their worktrees: in a deleted and recreated child directory
    /// `git rev-parse HEAD` climbs to the main repository and answers its HEAD, which once made unmerged work
    /// look `up_to_date`.
    func prepareMerge(
        child: WorktreeRecord, parent: WorktreeRecord, childBranch: String, input: WorktreeMergeInput
    ) async throws -> String? {
        let git = env.git
        try await checkOnDisk(child, field: "worktree_id")
        try await checkOnDisk(parent)
        let parentDirty = try await git.dirtyFiles(worktree: parent.path, untracked: false)
        if !parentDirty.isEmpty {
            throw CodestratorError(
                .invalidState,
                "parent worktree \(parent.id) has uncommitted changes (\(parentDirty.prefix(20).joined(separator: ", ")))",
                expected: "a clean parent")
        }
        if try await git.operationInProgress(worktree: parent.path) {
            throw CodestratorError(
                .invalidState, "parent worktree \(parent.id) has a merge, rebase or cherry-pick in progress",
                expected: "a clean parent")
        }
        let childDirty = try await git.dirtyFiles(worktree: child.path, untracked: true)
        if !childDirty.isEmpty && !input.includeUncommitted {
            throw CodestratorError(
                .invalidState,
                "worktree \(child.id) has uncommitted changes (\(childDirty.prefix(20).joined(separator: ", ")))",
                expected: "a commit first, or include_uncommitted:true", field: "include_uncommitted")
        }
        guard !childDirty.isEmpty else { return nil }
        return try await git.commitAll(
            worktree: child.path, message: input.commitMessage ?? "codestrator: work of \(childBranch)")
    }

    /// `git merge --no-ff` of the child's tip in the parent, unless the parent has it already. A conflict or a
    /// failure is aborted by the adapter and thrown with what was committed.
    func mergeIntoParent(
        child: WorktreeRecord, parent: WorktreeRecord, childBranch: String, message: String?, committed: String?
    ) async throws -> ParentMerge {
        let git = env.git
        guard let tip = try await git.resolveCommit(repo: child.path, rev: "HEAD"),
            let before = try await git.resolveCommit(repo: parent.path, rev: "HEAD")
        else {
            throw CodestratorError(
                .invalidState, "a worktree has no HEAD commit", expected: "both worktrees on commits")
        }
        if try await git.isAncestor(repo: parent.path, tip, of: before) {
            let head = try await git.resolveCommit(repo: parent.path, rev: "HEAD") ?? before
            return ParentMerge(result: "up_to_date", head: head, files: [])
        }
        let parentName = parent.branch ?? "HEAD"
        let message = message ?? "Merge \(childBranch) into \(parentName)"
        switch try await git.merge(worktree: parent.path, commit: tip, message: message, fastForwardOnly: false) {
        case .merged:
            break
        case .conflict(let conflicting):
            throw CodestratorError(
                .conflict,
                "merging \(childBranch) into \(parentName) conflicts in \(conflicting.joined(separator: ", ")); the merge was aborted and the parent is unchanged",
                expected: "a fix in the child worktree (resolve the conflict there), then merge again",
                context: [
                    "result": "conflict", "conflicting_files": .array(conflicting.map(JSON.string)),
                    "child_worktree": child.json, "parent_worktree": parent.json, "committed": committed.json,
                ])
        case .failed(let why):
            throw CodestratorError(
                .externalFailed,
                "git merge of \(childBranch) into \(parentName) failed and was aborted: \(why)",
                expected: "a merge git can perform (move untracked files out of the way)",
                context: ["committed": committed.json])
        }
        let head = try await git.resolveCommit(repo: parent.path, rev: "HEAD") ?? before
        let files = try await git.changedFiles(worktree: parent.path, from: before, to: head)
        return ParentMerge(result: "merged_to_parent", head: head, files: files)
    }

    /// The child's merge state `merged_to_parent` (also when it was up to date) and the answer.
    func recordMergedToParent(
        childId: Int, parentId: Int, _ merged: ParentMerge, committed: String?
    ) async throws -> JSON {
        try await env.store.write { tx in
            guard let fresh = try WorktreeRecord.load(tx, childId) else {
                throw CodestratorError.notFound("worktree", childId)
            }
            try fresh.mergeState.checkMove(to: .mergedToParent, entity: "worktree \(childId)")
            try tx.execute(
                "UPDATE worktrees SET merge_state = 'merged_to_parent', merged_at = ?, merge_commit = ? WHERE id = ?",
                [tx.now, merged.head, childId])
            tx.bumpVersion()
            return .obj([
                "result": merged.result, "child_worktree": try WorktreeRecord.load(tx, childId)!.json,
                "parent_worktree": try WorktreeRecord.load(tx, parentId)!.json, "merge_commit": merged.head,
                "files_changed": merged.files, "committed": committed,
            ])
        }
    }
}
