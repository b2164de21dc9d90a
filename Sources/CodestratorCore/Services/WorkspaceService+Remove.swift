import Foundation

/// worktree.remove: what may be removed (read), what removing it would discard (git), then the removal and its
/// record. Unmerged commits or uncommitted changes are discarded only with the root's `force`.
extension WorkspaceService {
    /// The work a removal would lose: uncommitted changes and commits the branch has that `compareTo` lacks.
    struct Discarded: Sendable {
        let onDisk: Bool
        let dirty: [String]
        let missing: Int
        var any: Bool { missing > 0 || !dirty.isEmpty }
    }

    public func remove(_ input: WorktreeRemoveInput) async throws -> JSON {
        if input.force && env.caller.isChild {
            throw CodestratorError(
                .forbidden, "force is for the root only", expected: "force:false (or ask the root)", field: "force")
        }
        let (w, compareTo) = try await removableWorktree(input.worktreeId)
        guard w.status == .active, let branch = w.branch else {
            return try await markRemoved(w, mergeState: w.mergeState, branchDeleted: false, commits: 0, changes: [])
        }
        return try await env.gitWrites.run {
            let lost = try await self.discardedWork(w, branch: branch, compareTo: compareTo)
            if !input.force { try Self.refuseToDiscard(lost, worktree: w, branch: branch, compareTo: compareTo) }
            if lost.onDisk {
                try await self.env.git.worktreeRemove(
                    repo: self.repo, path: w.path, force: input.force || !lost.dirty.isEmpty)
            }
            var warnings: [String] = []
            var deleted = false
            if input.deleteBranch {
                // Our own check above proved nothing is lost; `-d` would also demand a merge into HEAD.
                do {
                    try await self.env.git.deleteBranch(repo: self.repo, branch: branch, force: true)
                    deleted = true
                } catch let e as CodestratorError {
                    warnings.append("branch \(branch) was not deleted: \(e.what)")
                }
            }
            let state: MergeState = (w.mergeState == .active && lost.any) ? .abandoned : w.mergeState
            var out = try await self.markRemoved(
                w, mergeState: state, branchDeleted: deleted, commits: lost.missing, changes: lost.dirty)
            if !warnings.isEmpty { out = out.merging(["warnings": warnings]) }
            return out
        }
    }

    /// The worktree, if the caller may remove it now, and the branch its unmerged commits are counted against:
    /// the session's main branch for a session root (of a closed session, or merged to main), else the parent's.
    func removableWorktree(_ id: Int) async throws -> (WorktreeRecord, compareTo: String?) {
        let caller = env.caller
        return try await env.store.read { tx in
            let w = try self.worktree(tx, id, field: "worktree_id")
            try Self.checkWorkerReach(tx, caller: caller, worktree: w, field: "worktree_id")
            guard w.kind != .main else {
                throw CodestratorError(
                    .invalidParams, "worktree \(w.id) is the main worktree",
                    expected: "a task_branch or session_root worktree",
                    field: "worktree_id")
            }
            guard w.status == .active || w.status == .planned else {
                throw CodestratorError(
                    .invalidState, "worktree \(w.id) is \(w.status.rawValue)",
                    expected: "an active or planned worktree",
                    field: "worktree_id")
            }
            try Self.checkNothingWorksIn(tx, w)
            guard w.kind == .sessionRoot else {
                return (w, try WorktreeRecord.load(tx, w.parentWorktreeId)?.branch)
            }
            let s = try w.ownerSessionId.flatMap { try SessionRecord.load(tx, $0) }
            guard s?.status == .closed || s?.status == .superseded || w.mergeState == .mergedToMain else {
                throw CodestratorError(
                    .invalidState, "worktree \(w.id) is the root of open session \(w.ownerSessionId ?? 0)",
                    expected: "session.cleanup or session.close first, or a session root merged to main")
            }
            return (w, s?.mainBranch)
        }
    }

    /// No child worktree is left below `w`, and no child thread works (or keeps a pane) in it.
    static func checkNothingWorksIn(_ tx: Tx, _ w: WorktreeRecord) throws {
        let children = try tx.ints(
            "SELECT id FROM worktrees WHERE parent_worktree_id = ? AND status <> 'removed' ORDER BY id", [w.id])
        if !children.isEmpty {
            throw CodestratorError(
                .invalidState,
                "worktree \(w.id) has child worktrees (\(children.map(String.init).joined(separator: ", ")))",
                expected: "worktree.remove of those first")
        }
        if let t = try tx.int(
            """
            SELECT id FROM threads WHERE worktree_id = ? AND role <> 'session-root'
              AND (status NOT IN ('completed','stopped','failed') OR tmux_pane_id IS NOT NULL) LIMIT 1
            """, [w.id])
        {
            throw CodestratorError(
                .invalidState, "thread \(t) works in worktree \(w.id)", expected: "thread.child.stop first")
        }
    }

    func discardedWork(_ w: WorktreeRecord, branch: String, compareTo: String?) async throws -> Discarded {
        let git = env.git
        let onDisk = FileManager.default.fileExists(atPath: w.path)
        let dirty = onDisk ? try await git.dirtyFiles(worktree: w.path, untracked: true) : []
        var missing = 0
        if let compareTo, try await git.branchExists(repo: repo, branch: branch),
            try await git.branchExists(repo: repo, branch: compareTo)
        {
            missing = try await git.countMissing(
                repo: repo, from: "refs/heads/" + compareTo, in: "refs/heads/" + branch)
        }
        return Discarded(onDisk: onDisk, dirty: dirty, missing: missing)
    }

    static func refuseToDiscard(_ lost: Discarded, worktree w: WorktreeRecord, branch: String, compareTo: String?)
        throws
    {
        if !lost.dirty.isEmpty {
            throw CodestratorError(
                .invalidState,
                "worktree \(w.id) has uncommitted changes (\(lost.dirty.prefix(20).joined(separator: ", ")))",
                expected: "a commit and worktree.merge_to_parent first, or force:true to discard them")
        }
        if lost.missing > 0 {
            throw CodestratorError(
                .invalidState,
                "branch \(branch) has \(lost.missing) commit\(lost.missing == 1 ? "" : "s") not in \(compareTo ?? "its parent")",
                expected: "worktree.merge_to_parent first, or force:true to discard them")
        }
    }

    func markRemoved(
        _ w: WorktreeRecord, mergeState: MergeState, branchDeleted: Bool, commits: Int, changes: [String]
    ) async throws -> JSON {
        try await env.store.write { tx in
            try w.status.checkMove(to: .removed, entity: "worktree \(w.id)")
            if mergeState != w.mergeState { try w.mergeState.checkMove(to: mergeState, entity: "worktree \(w.id)") }
            try tx.execute(
                "UPDATE worktrees SET status = 'removed', removed_at = ?, merge_state = ? WHERE id = ?",
                [tx.now, mergeState.rawValue, w.id])
            tx.bumpVersion()
            return .obj([
                "result": "removed", "worktree": try WorktreeRecord.load(tx, w.id)!.json,
                "branch_deleted": branchDeleted,
                "discarded_commits": commits, "discarded_changes": changes,
            ])
        }
    }
}
