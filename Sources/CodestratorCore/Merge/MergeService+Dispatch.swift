import Foundation

/// Dispatching a merge review, as a saga: reserve (one transaction: the main merge lock, the job, the
/// states), spawn the reviewer, and on failure the compensating transaction that undoes the reservation.
extension MergeService {
    /// What the reservation made: the job, its queue item and target, and whether the lock was taken here.
    struct ReviewReservation: Sendable {
        let jobId: Int
        let itemId: Int
        let targetBranch: String
        let tookLock: Bool
        let featureTaskId: Int?
    }

    func dispatchReview(
        session s: SessionRecord, mergeRequestId mrId: Int, queueItemId: Int?, settings: ReviewerSettings, ttl: Int
    ) async throws -> JSON {
        let repo = env.layout.root
        let source: (branch: String, worktreeId: Int) = try await env.store.read { tx in
            guard let mr = try MergeShapes.mr(tx, mrId), mr.int("session_id") == s.id else {
                throw CodestratorError.notFound(
                    "merge request", mrId, expected: "a merge request of session \(s.id)", field: "merge_request_id")
            }
            let w = try WorktreeRecord.load(tx, mr.int("worktree_id"))!
            return (w.branch ?? "", w.id)
        }
        guard let tip = try await env.git.resolveCommit(repo: repo, rev: "refs/heads/" + source.branch) else {
            throw CodestratorError(
                .invalidState, "branch \(source.branch) is missing", expected: "the merge request's branch")
        }
        let r = try await env.store.write { tx in
            try Self.reserveReview(tx, session: s, mergeRequestId: mrId, queueItemId: queueItemId, tip: tip, ttl: ttl)
        }
        // The reviewer, read-only in the merge request's worktree.
        let caseIds = try await env.store.read { tx in
            try Self.reviewScope(tx, sessionId: s.id, featureTaskId: r.featureTaskId)
        }
        let sp = Self.reviewerSpawn(
            session: s.id, mergeRequestId: mrId, worktreeId: source.worktreeId, caseIds: caseIds, reservation: r,
            settings: settings)
        do {
            let spawned = try await ThreadService(env: env).spawn(sp, reviewJobId: r.jobId)
            return try await env.store.read { tx in
                .obj([
                    "review_job": MergeShapes.reviewJob(try MergeShapes.job(tx, r.jobId)!),
                    "thread": spawned["thread"], "attach_info": spawned["attach_info"], "tmux": spawned["tmux"],
                    "main_lock": try MergeShapes.lock(tx),
                    "merge_review": JSON.obj(["merge_request_id": mrId, "queue_item_id": r.itemId]),
                ])
            }
        } catch let e as CodestratorError {
            try await env.store.write { tx in
                try Self.undoReservation(
                    tx, r, sessionId: s.id, mergeRequestId: mrId, reason: e.message(method: "thread.child.spawn"))
            }
            throw e
        }
    }

    /// The reservation: the merge request and its queued item move to `reviewing`, a job is created, and
    /// the main merge lock is taken by the one rule (`MainMergeLock.acquire`) unless the session holds it.
    static func reserveReview(
        _ tx: Tx, session s: SessionRecord, mergeRequestId mrId: Int, queueItemId: Int?, tip: String, ttl: Int
    ) throws -> ReviewReservation {
        let mr = try MergeShapes.mr(tx, mrId)!
        let status = try mr.mergeRequestStatus()
        guard status == .requested else {
            throw CodestratorError(
                .invalidState, "merge request \(mrId) is \(status.rawValue)",
                expected: "a requested merge request",
                field: "merge_request_id")
        }
        let item: SQLRow
        if let qid = queueItemId {
            guard let i = try MergeShapes.item(tx, qid), i.int("merge_request_id") == mrId else {
                throw CodestratorError.notFound("queue item", qid, field: "queue_item_id")
            }
            item = i
        } else {
            guard
                let i = try tx.row(
                    "SELECT * FROM merge_main_queue WHERE session_id = ? AND merge_request_id = ? AND state = 'queued' ORDER BY id LIMIT 1",
                    [s.id, mrId])
            else {
                throw CodestratorError(
                    .invalidState, "merge request \(mrId) has no queued item", expected: "merge.main.request first")
            }
            item = i
        }
        guard try item.queueItemState() == .queued else {
            throw CodestratorError(
                .invalidState, "queue item \(item.int("id")) is \(item.string("state"))", expected: "a queued item")
        }
        if let job = try tx.int(
            "SELECT id FROM review_jobs WHERE merge_request_id = ? AND state IN \(ReviewJobState.openSQL)", [mrId])
        {
            throw CodestratorError(.invalidState, "review job \(job) is still open", expected: "its verdict first")
        }
        let took =
            try MainMergeLock.acquire(tx, session: s.id, itemId: item.int("id"), ttl: ttl, reentry: .keepLease)
            == .taken
        let jobId = try tx.insert(
            """
            INSERT INTO review_jobs (merge_request_id, session_id, queue_item_id, state, reviewed_commit, created_at, updated_at)
            VALUES (?, ?, ?, 'requested', ?, ?, ?)
            """, [mrId, s.id, item.int("id"), tip, tx.now, tx.now])
        try MergeShapes.move(
            tx, table: "merge_requests", column: "status", id: mrId, from: status,
            to: MergeRequestStatus.reviewing,
            entity: "merge request \(mrId)")
        try MergeShapes.move(
            tx, table: "merge_main_queue", column: "state", id: item.int("id"), from: QueueItemState.queued,
            to: QueueItemState.reviewing, entity: "queue item \(item.int("id"))",
            extraSQL: ", review_job_id = ?, reviewed_commit = ?, started_at = COALESCE(started_at, ?)",
            extra: [jobId, tip, tx.now])
        tx.bumpVersion()
        return ReviewReservation(
            jobId: jobId, itemId: item.int("id"), targetBranch: item.string("target_branch"), tookLock: took,
            featureTaskId: mr.optInt("feature_task_id"))
    }

    /// The cases a review covers: those under the merge request's feature (or the feature itself when it
    /// is a case), else every case of the session.
    static func reviewScope(_ tx: Tx, sessionId: Int, featureTaskId: Int?) throws -> [Int] {
        guard let featureId = featureTaskId, featureId != 0 else {
            return try tx.ints("SELECT id FROM tasks WHERE session_id = ? AND level = 'case' ORDER BY id", [sessionId])
        }
        var out: [Int] = []
        var frontier = [featureId]
        if try TaskRecord.load(tx, featureId)?.level == .case { out = [featureId] }
        while !frontier.isEmpty {
            let kids = try tx.rows(
                "SELECT id, level FROM tasks WHERE parent_id IN (\(frontier.map { _ in "?" }.joined(separator: ",")))",
                frontier.map { $0 as any SQLArgument })
            out += kids.filter { $0.string("level") == TaskLevel.case.rawValue }.map { $0.int("id") }
            frontier = kids.filter { $0.string("level") != TaskLevel.case.rawValue }.map { $0.int("id") }
        }
        return out
    }

    /// thread.child.spawn's input for the reviewer; the caller's provider settings pass through.
    static func reviewerSpawn(
        session: Int, mergeRequestId mrId: Int, worktreeId: Int, caseIds: [Int], reservation r: ReviewReservation,
        settings: ReviewerSettings
    ) -> ThreadSpawnInput {
        var spawn = ThreadSpawnInput(sessionId: session, role: .mergeReviewer, title: "review of merge request \(mrId)")
        spawn.worktreeId = worktreeId
        spawn.createWorktree = false
        spawn.scopeCaseIds = caseIds
        spawn.taskSpec = .obj([
            "merge_request_id": mrId, "review_job_id": r.jobId, "queue_item_id": r.itemId,
            "target_branch": r.targetBranch,
        ])
        settings.apply(to: &spawn)
        return spawn
    }

    /// The compensation of a reservation whose reviewer did not start: job failed with the reason, merge
    /// request and item back to waiting, and the lock given back if this dispatch took it.
    static func undoReservation(
        _ tx: Tx, _ r: ReviewReservation, sessionId: Int, mergeRequestId mrId: Int, reason: String
    ) throws {
        try tx.execute(
            "UPDATE review_jobs SET state = 'failed', failure_reason = ?, updated_at = ?, completed_at = ? WHERE id = ? AND state IN \(ReviewJobState.openSQL)",
            [reason, tx.now, tx.now, r.jobId])
        try tx.execute(
            "UPDATE merge_requests SET status = 'requested', updated_at = ? WHERE id = ? AND status = 'reviewing'",
            [tx.now, mrId])
        try tx.execute(
            "UPDATE merge_main_queue SET state = 'queued', updated_at = ? WHERE id = ? AND state = 'reviewing'",
            [tx.now, r.itemId])
        if r.tookLock { try MainMergeLock.release(tx, ifHeldBy: sessionId) }
        tx.bumpVersion()
    }
}
