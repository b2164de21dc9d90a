import Foundation

extension WorkspaceService {
    // MARK: worktree.merge_to_parent

    public func mergeToParent(_ p: Params) async throws -> JSON {
        let caller = env.caller
        let (child, parent): (WorktreeRecord, WorktreeRecord) = try await env.store.read { tx in
            var id = p.int("worktree_id")
            if id == nil, caller.isChild { id = try ThreadRecord.load(tx, caller.threadId)?.worktreeId }
            guard let wid = id else {
                throw CodestratorError(
                    .invalidParams, "field \"worktree_id\" is required", expected: ParamKind.id.expectation,
                    field: "worktree_id")
            }
            let child = try self.worktree(tx, wid, field: "worktree_id")
            if let given = p.int("session_id"), given != child.ownerSessionId {
                if caller.isChild { throw CodestratorError.notFound("session", given, field: "session_id") }
                throw CodestratorError(
                    .invalidParams,
                    "field \"session_id\" is \(given) but worktree \(wid) belongs to session \(child.ownerSessionId.map(String.init) ?? "none")",
                    expected: "the worktree's session", field: "session_id")
            }
            try Self.checkWorkerReach(tx, caller: caller, worktree: child, field: "worktree_id")
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
            return (child, parent)
        }
        guard let childBranch = child.branch else {
            throw CodestratorError(.invalidState, "worktree \(child.id) has no branch", expected: "a branch worktree")
        }
        let git = env.git
        return try await env.gitWrites.run {
            // Checks before any git write. Both directories must be their worktrees: in a deleted and
            // recreated child directory `git rev-parse HEAD` climbs to the main repository and answers its
            // HEAD, which once made unmerged work look `up_to_date`.
            try await self.checkOnDisk(child, field: "worktree_id")
            try await self.checkOnDisk(parent)
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
            let include = p.bool("include_uncommitted") ?? false
            if !childDirty.isEmpty && !include {
                throw CodestratorError(
                    .invalidState,
                    "worktree \(child.id) has uncommitted changes (\(childDirty.prefix(20).joined(separator: ", ")))",
                    expected: "a commit first, or include_uncommitted:true", field: "include_uncommitted")
            }
            var committed: String?
            if !childDirty.isEmpty {
                committed = try await git.commitAll(
                    worktree: child.path, message: p.string("commit_message") ?? "codestrator: work of \(childBranch)")
            }
            guard let tip = try await git.resolveCommit(repo: child.path, rev: "HEAD"),
                let before = try await git.resolveCommit(repo: parent.path, rev: "HEAD")
            else {
                throw CodestratorError(
                    .invalidState, "a worktree has no HEAD commit", expected: "both worktrees on commits")
            }
            var result = "merged_to_parent"
            var files: [String] = []
            if try await git.isAncestor(repo: parent.path, tip, of: before) {
                result = "up_to_date"
            } else {
                let parentName = parent.branch ?? "HEAD"
                let message = p.string("message") ?? "Merge \(childBranch) into \(parentName)"
                switch try await git.merge(worktree: parent.path, commit: tip, message: message, fastForwardOnly: false)
                {
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
            }
            let head = try await git.resolveCommit(repo: parent.path, rev: "HEAD") ?? before
            if result == "merged_to_parent" {
                files = try await git.changedFiles(worktree: parent.path, from: before, to: head)
            }
            let mergedChildId = child.id
            let parentId = parent.id
            let (finalResult, finalFiles, finalCommitted) = (result, files, committed)
            return try await env.store.write { tx in
                guard let fresh = try WorktreeRecord.load(tx, mergedChildId) else {
                    throw CodestratorError.notFound("worktree", mergedChildId)
                }
                try fresh.mergeState.checkMove(to: .mergedToParent, entity: "worktree \(mergedChildId)")
                try tx.execute(
                    "UPDATE worktrees SET merge_state = 'merged_to_parent', merged_at = ?, merge_commit = ? WHERE id = ?",
                    [tx.now, head, mergedChildId])
                tx.bumpVersion()
                return .obj([
                    "result": finalResult, "child_worktree": try WorktreeRecord.load(tx, mergedChildId)!.json,
                    "parent_worktree": try WorktreeRecord.load(tx, parentId)!.json, "merge_commit": head,
                    "files_changed": finalFiles, "committed": finalCommitted,
                ])
            }
        }
    }

    // MARK: worktree.remove

    public func remove(_ p: Params) async throws -> JSON {
        let caller = env.caller
        let force = p.bool("force") ?? false
        if force && caller.isChild {
            throw CodestratorError(
                .forbidden, "force is for the root only", expected: "force:false (or ask the root)", field: "force")
        }
        let (w, compareTo): (WorktreeRecord, String?) = try await env.store.read { tx in
            let w = try self.worktree(tx, p.req("worktree_id"), field: "worktree_id")
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
            var compareTo: String?
            if w.kind == .sessionRoot {
                let s = try w.ownerSessionId.flatMap { try SessionRecord.load(tx, $0) }
                guard s?.status == .closed || s?.status == .superseded || w.mergeState == .mergedToMain else {
                    throw CodestratorError(
                        .invalidState, "worktree \(w.id) is the root of open session \(w.ownerSessionId ?? 0)",
                        expected: "session.cleanup or session.close first, or a session root merged to main")
                }
                compareTo = s?.mainBranch
            } else {
                compareTo = try WorktreeRecord.load(tx, w.parentWorktreeId)?.branch
            }
            return (w, compareTo)
        }
        guard w.status == .active, let branch = w.branch else {
            return try await markRemoved(w, mergeState: w.mergeState, branchDeleted: false, commits: 0, changes: [])
        }
        let git = env.git
        return try await env.gitWrites.run {
            let onDisk = FileManager.default.fileExists(atPath: w.path)
            let dirty = onDisk ? try await git.dirtyFiles(worktree: w.path, untracked: true) : []
            var missing = 0
            if let compareTo, try await git.branchExists(repo: repo, branch: branch),
                try await git.branchExists(repo: repo, branch: compareTo)
            {
                missing = try await git.countMissing(
                    repo: repo, from: "refs/heads/" + compareTo, in: "refs/heads/" + branch)
            }
            if !force {
                if !dirty.isEmpty {
                    throw CodestratorError(
                        .invalidState,
                        "worktree \(w.id) has uncommitted changes (\(dirty.prefix(20).joined(separator: ", ")))",
                        expected: "a commit and worktree.merge_to_parent first, or force:true to discard them")
                }
                if missing > 0 {
                    throw CodestratorError(
                        .invalidState,
                        "branch \(branch) has \(missing) commit\(missing == 1 ? "" : "s") not in \(compareTo ?? "its parent")",
                        expected: "worktree.merge_to_parent first, or force:true to discard them")
                }
            }
            if onDisk {
                try await git.worktreeRemove(repo: repo, path: w.path, force: force || !dirty.isEmpty)
            }
            var warnings: [String] = []
            var deleted = false
            if p.bool("delete_branch") ?? true {
                // Our own check above proved nothing is lost; `-d` would also demand a merge into HEAD.
                do {
                    try await git.deleteBranch(repo: repo, branch: branch, force: true)
                    deleted = true
                } catch let e as CodestratorError {
                    warnings.append("branch \(branch) was not deleted: \(e.what)")
                }
            }
            let discards = missing > 0 || !dirty.isEmpty
            let state: MergeState = (w.mergeState == .active && discards) ? .abandoned : w.mergeState
            var out = try await markRemoved(
                w, mergeState: state, branchDeleted: deleted, commits: missing, changes: dirty)
            if !warnings.isEmpty { out = out.merging(["warnings": warnings]) }
            return out
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
