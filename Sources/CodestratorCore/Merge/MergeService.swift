import Foundation

/// orch_merge: merge requests, the review agent, the main merge queue and its lock (docs/methods.md#orch_merge--codestrator-merge-queue-and-review,
/// docs/runtime-guide.md#merge-queue-and-main-merge-lock).
public struct MergeService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    var caller: Caller { env.caller }
    static let openMR = MergeRequestStatus.openSQL
    static let openItem = QueueItemState.openSQL

    // MARK: merge.request

    public func request(_ p: Params) async throws -> JSON {
        let caller = self.caller
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let task = try access.task(p.req("feature_task_id"), field: "feature_task_id")
            if let given = p.int("session_id"), given != task.sessionId {
                throw CodestratorError(
                    .invalidParams,
                    "field \"session_id\" is \(given) but task \(task.id) belongs to session \(task.sessionId)",
                    expected: "the task's session", field: "session_id")
            }
            let s = try access.session(task.sessionId)
            let wid = p.int("worktree_id") ?? s.sessionRootWorktreeId ?? 0
            guard let w = try WorktreeRecord.load(tx, wid), w.status == .active,
                w.ownerSessionId == s.id || w.id == s.sessionRootWorktreeId
            else {
                throw CodestratorError.notFound(
                    "worktree", wid, expected: "an active worktree of session \(s.id)", field: "worktree_id")
            }
            if let open = try tx.int(
                "SELECT id FROM merge_requests WHERE feature_task_id = ? AND worktree_id = ? AND status IN \(Self.openMR)",
                [task.id, w.id])
            {
                throw CodestratorError(
                    .conflict, "merge request \(open) is already open for task \(task.id) and worktree \(w.id)",
                    expected: "that merge request, or a new one after it ends", field: "feature_task_id")
            }
            let id = try tx.insert(
                """
                INSERT INTO merge_requests (session_id, feature_task_id, worktree_id, status, reviewer_session, notes_json,
                  created_at, updated_at) VALUES (?, ?, ?, 'requested', ?, ?, ?, ?)
                """, [s.id, task.id, w.id, p.string("reviewer_session"), p.json("notes_json") ?? .null, tx.now, tx.now])
            tx.bumpVersion()
            return MergeShapes.mergeRequest(try MergeShapes.mr(tx, id)!)
        }
    }

    // MARK: merge.main.request

    public func mainRequest(_ p: Params) async throws -> JSON {
        let caller = self.caller
        let repo = env.layout.root
        let (s, root) = try await env.store.read { tx in
            let s = try Access(tx: tx, caller: caller).requireSession(p)
            let wid = p.int("from_worktree_id") ?? s.sessionRootWorktreeId ?? 0
            guard let w = try WorktreeRecord.load(tx, wid) else {
                throw CodestratorError.notFound("worktree", wid, field: "from_worktree_id")
            }
            return (s, w)
        }
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
        guard let target = p.string("target_branch") ?? s.mainBranch else {
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
        return try await env.store.write { tx in
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
            var mrId: Int
            if let given = p.int("merge_request_id") {
                guard let mr = try MergeShapes.mr(tx, given), mr.int("session_id") == s.id,
                    mr.int("worktree_id") == root.id
                else {
                    throw CodestratorError.notFound(
                        "merge request", given, expected: "a merge request of session \(s.id) for worktree \(root.id)",
                        field: "merge_request_id")
                }
                mrId = given
                let st = try mr.mergeRequestStatus()
                if st == .blocked {
                    try MergeShapes.move(
                        tx, table: "merge_requests", column: "status", id: given, from: st,
                        to: MergeRequestStatus.requested,
                        entity: "merge request \(given)")
                } else if st != .requested {
                    throw CodestratorError(
                        .invalidState, "merge request \(given) is \(st.rawValue)",
                        expected: "a requested or blocked merge request",
                        field: "merge_request_id")
                }
            } else {
                let open = try tx.ints(
                    "SELECT id FROM merge_requests WHERE session_id = ? AND worktree_id = ? AND status IN \(Self.openMR) ORDER BY id",
                    [s.id, root.id])
                if open.count > 1 {
                    throw CodestratorError(
                        .invalidParams,
                        "\(open.count) open merge requests (\(open.map(String.init).joined(separator: ", "))) for worktree \(root.id)",
                        expected: "merge_request_id", field: "merge_request_id")
                }
                if let one = open.first {
                    mrId = one
                } else {
                    mrId = try tx.insert(
                        """
                        INSERT INTO merge_requests (session_id, feature_task_id, worktree_id, status, created_at, updated_at)
                        VALUES (?, NULL, ?, 'requested', ?, ?)
                        """, [s.id, root.id, tx.now, tx.now])
                }
            }
            let itemId = try tx.insert(
                """
                INSERT INTO merge_main_queue (session_id, from_worktree_id, source_branch, target_branch, merge_request_id,
                  auto_review, reviewer_role, agent_guide_path, provider, agent_override, state, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)
                """,
                [
                    s.id, root.id, source, target, mrId, p.bool("auto_review") ?? true,
                    p.string("reviewer_role") ?? "merge-reviewer",
                    p.string("agent_guide_path"), p.string("provider"), p.json("agent_override") ?? .null, tx.now,
                    tx.now,
                ])
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

    // MARK: merge.main.next / status

    /// Cancels head items of closed sessions; returns the head (oldest open item).
    static func head(_ tx: Tx, target: String? = nil) throws -> SQLRow? {
        while true {
            var sql = "SELECT * FROM merge_main_queue WHERE state IN \(openItem)"
            var args: [any SQLArgument] = []
            if let target {
                sql += " AND target_branch = ?"
                args.append(target)
            }
            guard let row = try tx.row(sql + " ORDER BY id LIMIT 1", args) else { return nil }
            let s = try SessionRecord.load(tx, row.int("session_id"))
            if tx.writable, s?.status == .closed || s?.status == .superseded {
                try tx.execute(
                    "UPDATE merge_main_queue SET state = 'cancelled', updated_at = ?, completed_at = ? WHERE id = ?",
                    [tx.now, tx.now, row.int("id")])
                tx.bumpVersion()
                continue
            }
            return row
        }
    }

    public func next(_ p: Params) async throws -> JSON {
        try await env.store.read { tx in
            guard let h = try Self.head(tx, target: p.string("target_branch")) else {
                return .obj(["item": nil, "position": nil])
            }
            return .obj(["item": try MergeShapes.queueItem(tx, h), "position": 1])
        }
    }

    public func status(_ p: Params) async throws -> JSON {
        try await env.store.read { tx in
            if let id = p.int("request_id") {
                guard let item = try MergeShapes.item(tx, id) else {
                    throw CodestratorError.notFound("queue item", id, field: "request_id")
                }
                return .obj([
                    "item": try MergeShapes.queueItem(tx, item), "position": try MergeShapes.position(tx, item),
                    "merge_request": try MergeShapes.mr(tx, item.int("merge_request_id")).map(MergeShapes.mergeRequest),
                    "review_job": try MergeShapes.job(tx, item.optInt("review_job_id")).map(MergeShapes.reviewJob),
                    "lock": try MergeShapes.lock(tx),
                ])
            }
            let items = try tx.rows("SELECT * FROM merge_main_queue WHERE state IN \(Self.openItem) ORDER BY id")
            return .obj([
                "items": JSON.array(try items.map { try MergeShapes.queueItem(tx, $0) }), "count": items.count,
                "lock": try MergeShapes.lock(tx),
            ])
        }
    }
}
