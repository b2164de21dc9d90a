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

    public func request(_ input: MergeRequestInput) async throws -> JSON {
        let caller = self.caller
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let task = try access.task(input.featureTaskId, field: "feature_task_id")
            if let given = input.sessionId, given != task.sessionId {
                throw CodestratorError(
                    .invalidParams,
                    "field \"session_id\" is \(given) but task \(task.id) belongs to session \(task.sessionId)",
                    expected: "the task's session", field: "session_id")
            }
            let s = try access.session(task.sessionId)
            let wid = input.worktreeId ?? s.sessionRootWorktreeId ?? 0
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
                """, [s.id, task.id, w.id, input.reviewerSession, input.notes ?? .null, tx.now, tx.now])
            tx.bumpVersion()
            return MergeShapes.mergeRequest(try MergeShapes.mr(tx, id)!)
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

    public func next(targetBranch: String?) async throws -> JSON {
        try await env.store.read { tx in
            guard let h = try Self.head(tx, target: targetBranch) else {
                return .obj(["item": nil, "position": nil])
            }
            return .obj(["item": try MergeShapes.queueItem(tx, h), "position": 1])
        }
    }

    /// One queue item (`requestId`), or the whole open queue.
    public func status(requestId: Int?) async throws -> JSON {
        try await env.store.read { tx in
            if let id = requestId {
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
