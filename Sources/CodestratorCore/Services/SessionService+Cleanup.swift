import Foundation

/// session.cleanup: a session's children, worktrees, branches, viewer and queue items, then the session.
extension SessionService {
    public func cleanup(sessionId: Int) async throws -> JSON {
        let caller = env.caller
        let session = try await env.store.read { tx in
            try Access(tx: tx, caller: caller).requireSession(id: sessionId)
        }
        // Step 1: reconcile the session (docs/runtime-guide.md#reconciliation).
        let repairs = (try? await Reconciler(env: env).run(sessionId: session.id)) ?? []
        // Steps 2–3: stop children with panes (in parallel), then kill the marked viewer session.
        let (stopped, stopErrors) = try await stopChildPanes(session)
        var tmuxErrors = stopErrors
        let killed: Bool
        do {
            killed = try await killMarkedViewer(session)
        } catch let e as CodestratorError {
            killed = false
            tmuxErrors.append(e.what)
        }
        let errors = tmuxErrors
        let stoppedByPane = stopped
        let killedViewer = killed
        let repaired = repairs
        let out: JSON = try await env.store.write { tx in
            let s = try Access(tx: tx, caller: caller).requireSession(id: sessionId)
            let released = try Self.releaseSessionRows(tx, s)
            if s.status != .closed && s.status != .superseded {
                try s.status.checkMove(to: .closed, entity: "session \(s.id)")
                try tx.execute("UPDATE sessions SET status = 'closed', closed_at = ? WHERE id = ?", [tx.now, s.id])
            }
            tx.bumpVersion()
            let kept = try tx.rows(
                "SELECT * FROM worktrees WHERE owner_session_id = ? AND status <> 'removed' ORDER BY id", [s.id]
            ).map { WorktreeRecord($0).json }
            return .obj([
                "result": "cleaned_up", "session": try SessionRecord.load(tx, s.id)!.json(now: tx.now),
                "threads_stopped": released.threadsStopped + stoppedByPane, "session_killed": killedViewer,
                "locks_released": released.locks,
                "main_lock_released": released.mainLock, "queue_items_cancelled": released.queueItems,
                "review_jobs_cancelled": released.reviewJobs,
                "worktrees_kept": JSON.array(kept), "repairs": repaired, "tmux_errors": errors,
            ])
        }
        if let id = out["session"]?["id"]?.intValue { await env.heartbeats.remove(id) }
        return out
    }

    /// What cleaning up a session's rows released.
    struct ReleasedRows {
        var threadsStopped: Int
        var locks: Int
        var reviewJobs: Int
        var queueItems: Int
        var mainLock: Bool
    }

    /// The session's rows that hold something: threads without a pane stopped, their queued directives,
    /// locks, review jobs, queue items and merge requests cancelled, the main merge lock released.
    static func releaseSessionRows(_ tx: Tx, _ s: SessionRecord) throws -> ReleasedRows {
        // Threads that never got a pane (or whose pane is gone) become stopped; live panes are the
        // thread runtime's to stop and do not exist without it.
        let stopping = try tx.ints(
            """
            UPDATE threads SET status = 'stopped', status_source = 'stop', status_changed_at = ?, updated_at = ?,
              completed_at = COALESCE(completed_at, ?), launching_since = NULL
            WHERE session_id = ? AND role <> 'session-root'
              AND status IN ('planned','initializing','running','idle','waiting_user_answer')
            RETURNING id
            """, [tx.now, tx.now, tx.now, s.id])
        try tx.execute(
            """
            UPDATE thread_directives SET state = 'cancelled' WHERE state = 'queued'
              AND thread_id IN (SELECT id FROM threads WHERE session_id = ?)
            """, [s.id])
        try tx.execute(
            """
            UPDATE locks SET state = 'released', released_at = ? WHERE state = 'active'
              AND (session_id = ? OR thread_id IN (SELECT id FROM threads WHERE session_id = ?))
            """, [tx.now, s.id, s.id])
        let locksReleased = tx.changes
        try tx.execute(
            """
            UPDATE review_jobs SET state = 'cancelled', updated_at = ?, completed_at = ?
              WHERE session_id = ? AND state IN ('requested','running')
            """, [tx.now, tx.now, s.id])
        let jobs = tx.changes
        try tx.execute(
            """
            UPDATE merge_main_queue SET state = 'cancelled', updated_at = ?, completed_at = ?,
              error_message = COALESCE(error_message, ?)
            WHERE session_id = ? AND state IN ('queued','reviewing','approved')
            """, [tx.now, tx.now, "session \(s.id) cleaned up", s.id])
        let items = tx.changes
        try tx.execute(
            """
            UPDATE merge_requests SET status = 'cancelled', updated_at = ?
              WHERE session_id = ? AND status IN ('requested','reviewing','approved')
            """, [tx.now, s.id])
        try MainMergeLock.release(tx, ifHeldBy: s.id)
        return ReleasedRows(
            threadsStopped: stopping.count, locks: locksReleased, reviewJobs: jobs, queueItems: items,
            mainLock: tx.changes > 0)
    }

    /// Stops the session's children that hold panes, in parallel; returns how many stopped and the errors.
    func stopChildPanes(_ session: SessionRecord) async throws -> (stopped: Int, errors: [String]) {
        var errors: [String] = []
        var stopped = 0
        let withPanes = try await env.store.read { tx in
            try tx.ints("SELECT id FROM threads WHERE session_id = ? AND tmux_pane_id IS NOT NULL", [session.id])
        }
        let service = ThreadService(env: env)
        try await withThrowingTaskGroup(of: String?.self) { group in
            for id in withPanes {
                group.addTask {
                    do {
                        _ = try await service.stopThread(id, terminatePane: true, wait: 3)
                        return nil
                    } catch let e as CodestratorError {
                        return "thread \(id): \(e.what)"
                    }
                }
            }
            for try await e in group {
                if let e { errors.append(e) } else { stopped += 1 }
            }
        }
        return (stopped, errors)
    }

    /// Kills the session's viewer, only if tmux marks it as this repository's viewer of this session.
    func killMarkedViewer(_ session: SessionRecord) async throws -> Bool {
        guard let name = session.tmuxSessionName,
            (try? await env.tmux.sessionOption(
                socket: session.tmuxSocket, session: name, name: "@codestrator_session_id"))
                == String(session.id),
            (try? await env.tmux.sessionOption(socket: session.tmuxSocket, session: name, name: "@codestrator_repo"))
                == env.layout.root
        else { return false }
        try await env.tmux.killSession(socket: session.tmuxSocket, name: name)
        return true
    }
}
