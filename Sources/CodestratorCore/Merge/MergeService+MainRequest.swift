import Foundation

/// merge.main.request: the session root and its branches are checked (reads and git, no writes), then one
/// transaction checks that nothing is still open, picks or makes the merge request and queues the item.
extension MergeService {
    /// What a queue item merges: the session's root worktree, from its branch into the target branch.
    struct MainMergeSource: Sendable {
        let session: SessionRecord
        let root: WorktreeRecord
        let sourceBranch: String
        let targetBranch: String
    }

    public func mainRequest(_ input: MergeMainRequestInput) async throws -> JSON {
        let (s, root) = try await mainRequestRows(input)
        let source = try await checkMainRequestBranches(session: s, root: root, targetBranch: input.targetBranch)
        return try await env.store.write { tx in
            try Self.checkNothingOpen(tx, root: root)
            let mrId = try Self.queuedMergeRequest(tx, given: input.mergeRequestId, session: s, root: root)
            let itemId = try Self.enqueue(tx, source, mergeRequestId: mrId, input: input)
            tx.bumpVersion()
            let item = try MergeShapes.item(tx, itemId)!
            let position = try MergeShapes.position(tx, item)
            return .obj([
                "main_merge_request": try MergeShapes.queueItem(tx, item),
                "merge_request": MergeShapes.mergeRequest(try MergeShapes.mr(tx, mrId)!), "position": position,
                "review_dispatch": nil,
                "note":
                    "queued at position \(position ?? 0); merge.main.acquire_lock takes the lock at the head of the queue and dispatches the review",
            ])
        }
    }

    /// The session and the worktree to merge (default: the session root).
    func mainRequestRows(_ input: MergeMainRequestInput) async throws -> (SessionRecord, WorktreeRecord) {
        let caller = self.caller
        return try await env.store.read { tx in
            let s = try Access(tx: tx, caller: caller).requireSession(id: input.sessionId)
            let wid = input.fromWorktreeId ?? s.sessionRootWorktreeId ?? 0
            guard let w = try WorktreeRecord.load(tx, wid) else {
                throw CodestratorError.notFound("worktree", wid, field: "from_worktree_id")
            }
            return (s, w)
        }
    }

    /// A branching session's root, with commits its existing target branch lacks.
    func checkMainRequestBranches(
        session s: SessionRecord, root: WorktreeRecord, targetBranch: String?
    ) async throws -> MainMergeSource {
        let repo = env.layout.root
        guard s.alwaysBranch else {
            throw CodestratorError(
                .invalidState, "session \(s.id) works in the main worktree (always_branch:false)",
                expected: "a session opened with a branch; there is nothing to merge")
        }
        guard root.id == s.sessionRootWorktreeId, root.kind == .sessionRoot, let source = root.branch else {
            throw CodestratorError(
                .invalidParams, "worktree \(root.id) is not the session root of session \(s.id)",
                expected: "the session's session root", field: "from_worktree_id")
        }
        guard let target = targetBranch ?? s.mainBranch else {
            throw CodestratorError(
                .invalidParams, "field \"target_branch\" is required: session \(s.id) has no main branch",
                expected: "a branch name", field: "target_branch")
        }
        guard target != source else {
            throw CodestratorError(
                .invalidParams, "target_branch is the source branch \(source)", expected: "another branch",
                field: "target_branch")
        }
        guard try await env.git.branchExists(repo: repo, branch: target),
            let targetTip = try await env.git.resolveCommit(repo: repo, rev: "refs/heads/" + target),
            let sourceTip = try await env.git.resolveCommit(repo: repo, rev: "refs/heads/" + source)
        else {
            throw CodestratorError(
                .invalidParams, "target_branch \(quoted(target)) does not exist", expected: "an existing branch",
                field: "target_branch")
        }
        if try await env.git.countMissing(repo: repo, from: targetTip, in: sourceTip) == 0 {
            throw CodestratorError(
                .invalidState, "branch \(source) has no commits that \(target) lacks (nothing to merge)",
                expected: "commits in the session root first")
        }
        return MainMergeSource(session: s, root: root, sourceBranch: source, targetBranch: target)
    }

    /// No child worktree of the root is still unmerged, and no queue item of the root is still open.
    static func checkNothingOpen(_ tx: Tx, root: WorktreeRecord) throws {
        let open = try tx.ints(
            "SELECT id FROM worktrees WHERE parent_worktree_id = ? AND merge_state = 'active' AND status <> 'removed' ORDER BY id",
            [root.id])
        if !open.isEmpty {
            throw CodestratorError(
                .invalidState,
                "worktree \(root.id) has unmerged child worktrees (\(open.map(String.init).joined(separator: ", ")))",
                expected: "worktree.merge_to_parent of those first")
        }
        if let item = try tx.int(
            "SELECT id FROM merge_main_queue WHERE from_worktree_id = ? AND state IN \(Self.openItem)", [root.id])
        {
            throw CodestratorError(
                .conflict, "queue item \(item) is already open for worktree \(root.id)",
                expected: "merge.main.status of item \(item)", field: "from_worktree_id")
        }
    }

    /// The merge request the item carries: the given one (a blocked one is requested again), else the root's
    /// one open request, else a new one.
    static func queuedMergeRequest(_ tx: Tx, given: Int?, session s: SessionRecord, root: WorktreeRecord) throws
        -> Int
    {
        guard let given else {
            let open = try tx.ints(
                "SELECT id FROM merge_requests WHERE session_id = ? AND worktree_id = ? AND status IN \(Self.openMR) ORDER BY id",
                [s.id, root.id])
            if open.count > 1 {
                throw CodestratorError(
                    .invalidParams,
                    "\(open.count) open merge requests (\(open.map(String.init).joined(separator: ", "))) for worktree \(root.id)",
                    expected: "merge_request_id", field: "merge_request_id")
            }
            if let one = open.first { return one }
            return try tx.insert(
                """
                INSERT INTO merge_requests (session_id, feature_task_id, worktree_id, status, created_at, updated_at)
                VALUES (?, NULL, ?, 'requested', ?, ?)
                """, [s.id, root.id, tx.now, tx.now])
        }
        guard let mr = try MergeShapes.mr(tx, given), mr.int("session_id") == s.id, mr.int("worktree_id") == root.id
        else {
            throw CodestratorError.notFound(
                "merge request", given, expected: "a merge request of session \(s.id) for worktree \(root.id)",
                field: "merge_request_id")
        }
        let st = try mr.mergeRequestStatus()
        if st == .blocked {
            try MergeShapes.move(
                tx, table: "merge_requests", column: "status", id: given, from: st, to: MergeRequestStatus.requested,
                entity: "merge request \(given)")
        } else if st != .requested {
            throw CodestratorError(
                .invalidState, "merge request \(given) is \(st.rawValue)",
                expected: "a requested or blocked merge request", field: "merge_request_id")
        }
        return given
    }

    /// The queue item, with the review settings its dispatch will use.
    static func enqueue(
        _ tx: Tx, _ source: MainMergeSource, mergeRequestId mrId: Int, input: MergeMainRequestInput
    ) throws -> Int {
        try tx.insert(
            """
            INSERT INTO merge_main_queue (session_id, from_worktree_id, source_branch, target_branch, merge_request_id,
              auto_review, reviewer_role, agent_guide_path, provider, agent_override, state, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)
            """,
            [
                source.session.id, source.root.id, source.sourceBranch, source.targetBranch, mrId, input.autoReview,
                input.reviewerRole, input.agentGuidePath, input.provider, input.agentOverride ?? .null, tx.now, tx.now,
            ])
    }
}
