import Foundation

extension MergeService {
    // MARK: merge.main.acquire_lock

    public func acquireLock(_ input: MergeAcquireLockInput) async throws -> JSON {
        let caller = self.caller
        let ttl = input.ttlSeconds
        let session = try await env.store.read { tx in
            try Access(tx: tx, caller: caller).requireSession(id: input.sessionId)
        }
        let pid = env.serverPid
        let host = env.serverHost
        let granted: (Bool, SQLRow) = try await env.store.write { tx in
            guard
                let mine = try tx.row(
                    "SELECT * FROM merge_main_queue WHERE session_id = ? AND state IN \(Self.openItem) ORDER BY id LIMIT 1",
                    [session.id])
            else {
                throw CodestratorError(
                    .invalidState, "session \(session.id) has no open queue item", expected: "merge.main.request first")
            }
            let grant = try MainMergeLock.acquire(
                tx, session: session.id, itemId: mine.int("id"), ttl: ttl, reentry: .renewLease)
            try tx.execute(
                "UPDATE merge_main_queue SET started_at = COALESCE(started_at, ?), updated_at = ? WHERE id = ?",
                [tx.now, tx.now, mine.int("id")])
            // The holder is alive: this process serves (and heartbeats) its session from now on, so that
            // releaseDeadHolder never takes the lock from a session whose old server is gone but which a
            // restarted or another server drives.
            try tx.execute(
                "UPDATE sessions SET last_seen_at = ?, server_pid = ?, server_host = ? WHERE id = ?",
                [tx.now, pid, host, session.id])
            tx.bumpVersion()
            return (grant == .reentered, try MergeShapes.item(tx, mine.int("id"))!)
        }
        let (reentered, item) = granted
        if !env.oneShot { await env.heartbeats.add(session.id) }
        var dispatch: JSON = .null
        if input.dispatchReview, item.bool("auto_review"), try item.queueItemState() == .queued {
            let o = item.json("agent_override")
            let settings = ReviewerSettings(
                provider: item.optString("provider"), agentGuidePath: item.optString("agent_guide_path"),
                agentOverride: o.isNull ? nil : o)
            do {
                let r = try await dispatchReview(
                    session: session, mergeRequestId: item.int("merge_request_id"), queueItemId: item.int("id"),
                    settings: settings, ttl: ttl)
                dispatch = .obj(["review_job": r["review_job"], "thread": r["thread"], "attach_info": r["attach_info"]])
            } catch {
                if !reentered {
                    let sid = session.id
                    try await env.store.write { tx in
                        try MainMergeLock.release(tx, ifHeldBy: sid)
                        tx.bumpVersion()
                    }
                }
                throw error
            }
        }
        let itemId = item.int("id")
        let dispatched = dispatch
        return try await env.store.read { tx in
            try MergeShapes.lock(tx).merging([
                "item": try MergeShapes.queueItem(tx, try MergeShapes.item(tx, itemId)!), "reentered": reentered,
                "review_dispatch": dispatched,
            ])
        }
    }

    // MARK: merge.main.release_lock

    static func unlock(_ tx: Tx) throws { try MainMergeLock.release(tx) }

    public func releaseLock(_ input: MergeReleaseLockInput) async throws -> JSON {
        let caller = self.caller
        let force = input.force
        let (session, item, job) = try await env.store.read { tx in
            let s = try Access(tx: tx, caller: caller).requireSession(id: input.sessionId)
            let lock = try MainMergeLock.load(tx)
            guard lock.isHeld(by: s.id) else {
                throw CodestratorError(
                    .forbidden,
                    lock.isLocked
                        ? "main merge lock is held by session \(lock.holderSessionId ?? 0)"
                        : "main merge lock is not held",
                    expected: "the holder's session", field: "session_id")
            }
            let item = try MergeShapes.item(tx, lock.queueItemId)
            return (s, item, try MergeShapes.job(tx, item?.optInt("review_job_id")))
        }
        let state = try item?.queueItemState() ?? .queued
        if state == .reviewing && !force {
            throw CodestratorError(
                .invalidState, "review job \(job?.int("id") ?? 0) is still running",
                expected: "its verdict, or force:true",
                field: "force")
        }
        if state == .reviewing, let job {
            if let tid = job.optInt("reviewer_thread_id") {
                _ = try? await ThreadService(env: env).stopThread(tid, terminatePane: true, wait: 3)
            }
            return try await finishRelease(result: "released_review_cancelled", item: item) { tx in
                try tx.execute(
                    "UPDATE review_jobs SET state = 'cancelled', updated_at = ?, completed_at = ? WHERE id = ? AND state IN \(ReviewJobState.openSQL)",
                    [tx.now, tx.now, job.int("id")])
                try tx.execute(
                    "UPDATE merge_requests SET status = 'requested', updated_at = ? WHERE id = ? AND status = 'reviewing'",
                    [tx.now, job.int("merge_request_id")])
                if let i = item {
                    try tx.execute(
                        "UPDATE merge_main_queue SET state = 'queued', updated_at = ? WHERE id = ?",
                        [tx.now, i.int("id")])
                }
            }
        }
        guard let item, state == .approved, input.merge else {
            return try await finishRelease(result: state == .blocked ? "blocked" : "released", item: item) { _ in }
        }
        return try await mergeApproved(item, session: session)
    }

    /// The real merge of the reviewed commit into the target branch, in the main worktree, then the release
    /// that records its outcome (merged, conflict, failed, or a stale review sent back to the queue).
    func mergeApproved(_ item: SQLRow, session: SessionRecord) async throws -> JSON {
        let repo = env.layout.root
        let target = item.string("target_branch")
        let source = item.string("source_branch")
        let git = env.git
        return try await env.gitWrites.run {
            guard try await git.currentBranch(worktree: repo) == target else {
                throw CodestratorError(
                    .invalidState,
                    "main worktree is on branch \(try await git.currentBranch(worktree: repo) ?? "(detached)")",
                    expected: "\(target) checked out there")
            }
            let dirty = try await git.dirtyFiles(worktree: repo, untracked: false)
            guard dirty.isEmpty, !(try await git.operationInProgress(worktree: repo)) else {
                throw CodestratorError(
                    .invalidState,
                    "main worktree has uncommitted changes (\(dirty.prefix(20).joined(separator: ", ")))",
                    expected: "a clean main worktree")
            }
            let src = try await git.resolveCommit(repo: repo, rev: "refs/heads/" + source)
            if src != item.optString("reviewed_commit") {
                return try await finishRelease(result: "stale_review", item: item) { tx in
                    try tx.execute(
                        "UPDATE merge_main_queue SET state = 'queued', updated_at = ? WHERE id = ?",
                        [tx.now, item.int("id")])
                    try tx.execute(
                        "UPDATE merge_requests SET status = 'requested', updated_at = ? WHERE id = ?",
                        [tx.now, item.int("merge_request_id")])
                }
            }
            let targetTip = try await git.resolveCommit(repo: repo, rev: "HEAD") ?? ""
            let ff = try await git.isAncestor(repo: repo, targetTip, of: src!)
            let outcome = try await git.merge(
                worktree: repo, commit: src!,
                message:
                    "Merge \(source) (codestrator session \(session.id), merge request \(item.int("merge_request_id")))",
                fastForwardOnly: ff)
            return try await self.releaseAfterMerge(outcome, item: item, fastForward: ff)
        }
    }

    /// The release that records a merge's outcome: the item merged (and its worktree merged to main), or failed
    /// with its conflicting files or git's reason, its merge request requested again.
    func releaseAfterMerge(_ outcome: GitMergeOutcome, item: SQLRow, fastForward ff: Bool) async throws -> JSON {
        let repo = env.layout.root
        switch outcome {
        case .merged:
            let head = try await env.git.resolveCommit(repo: repo, rev: "HEAD") ?? ""
            return try await finishRelease(result: "merged", item: item, mergeCommit: head, fastForward: ff) { tx in
                try MergeShapes.move(
                    tx, table: "merge_main_queue", column: "state", id: item.int("id"),
                    from: QueueItemState.approved,
                    to: QueueItemState.merged, entity: "queue item \(item.int("id"))",
                    extraSQL: ", merge_commit = ?, fast_forward = ?, completed_at = ?", extra: [head, ff, tx.now])
                try tx.execute(
                    "UPDATE merge_requests SET status = 'merged', updated_at = ? WHERE id = ?",
                    [tx.now, item.int("merge_request_id")])
                try tx.execute(
                    """
                    UPDATE worktrees SET merge_state = 'merged_to_main', merged_at = ?, merge_commit = ?
                    WHERE id = ? AND merge_state IN ('active','merged_to_main')
                    """, [tx.now, head, item.int("from_worktree_id")])
            }
        case .conflict(let files):
            return try await finishRelease(result: "conflict", item: item, conflicting: files) { tx in
                try tx.execute(
                    "UPDATE merge_main_queue SET state = 'failed', conflicting_files = ?, error_message = ?, updated_at = ?, completed_at = ? WHERE id = ?",
                    [JSON.array(files.map(JSON.string)), "merge conflict", tx.now, tx.now, item.int("id")])
                try tx.execute(
                    "UPDATE merge_requests SET status = 'requested', updated_at = ? WHERE id = ?",
                    [tx.now, item.int("merge_request_id")])
            }
        case .failed(let why):
            return try await finishRelease(result: "failed", item: item) { tx in
                try tx.execute(
                    "UPDATE merge_main_queue SET state = 'failed', error_message = ?, updated_at = ?, completed_at = ? WHERE id = ?",
                    [why, tx.now, tx.now, item.int("id")])
                try tx.execute(
                    "UPDATE merge_requests SET status = 'requested', updated_at = ? WHERE id = ?",
                    [tx.now, item.int("merge_request_id")])
            }
        }
    }

    func finishRelease(
        result: String, item: SQLRow?, mergeCommit: String? = nil, fastForward: Bool? = nil,
        conflicting: [String]? = nil,
        _ body: @escaping @Sendable (Tx) throws -> Void
    ) async throws -> JSON {
        let itemId = item?.int("id")
        return try await env.store.write { tx in
            try body(tx)
            try Self.unlock(tx)
            tx.bumpVersion()
            let fresh = try MergeShapes.item(tx, itemId)
            let findings = try MergeShapes.job(tx, fresh?.optInt("review_job_id"))?.json("findings") ?? .array([])
            return try MergeShapes.lock(tx).merging([
                "result": result, "item": try fresh.map { try MergeShapes.queueItem(tx, $0) },
                "merge_commit": mergeCommit,
                "fast_forward": fastForward,
                "conflicting_files": conflicting.map { $0.map(JSON.string) }.map(JSON.array),
                "findings": findings,
            ])
        }
    }
}
