import Foundation

extension MergeService {
    /// Releases the main merge lock at once when its holder's session is gone: closed or superseded
    /// (a cleanup), missing, or stale (its heartbeat lapsed, or its server process died on this host). The
    /// holder's queue item is cancelled with an `error_message` that says why, any open review of it is
    /// cancelled and its merge request goes back to `requested`, so the next item in queue order can take
    /// the lock instead of waiting out the lease. Returns the repair line, or nil when the lock is free, its
    /// holder alive, or its item approved (then it may be merged already; see below).
    public static func releaseDeadHolder(_ tx: Tx) throws -> String? {
        let lock = try MainMergeLock.load(tx)
        guard lock.isLocked, let holder = lock.holderSessionId else { return nil }
        let reason: String
        if let s = try SessionRecord.load(tx, holder) {
            switch s.status {
            case .closed, .superseded: reason = "is \(s.status.rawValue)"
            case .active, .awaitingResume:
                guard s.isStale(now: tx.now) else { return nil }
                reason = "is stale (last heartbeat \(s.idleSeconds(now: tx.now)) s ago)"
            }
        } else {
            reason = "does not exist"
        }
        // An approved item may already be merged (a holder killed inside its release): reconciliation's
        // check of the target branch settles it, and the lease bounds the wait.
        if let itemId = lock.queueItemId, let item = try MergeShapes.item(tx, itemId),
            try item.queueItemState() == .approved
        {
            return nil
        }
        let why = "main merge lock released: holder session \(holder) \(reason)"
        var line = "main merge lock: holder session \(holder) \(reason); released"
        if let itemId = lock.queueItemId, let item = try MergeShapes.item(tx, itemId),
            try item.queueItemState().isOpen
        {
            if let job = item.optInt("review_job_id") {
                try tx.execute(
                    """
                    UPDATE review_jobs SET state = 'cancelled', failure_reason = ?, updated_at = ?, completed_at = ?
                      WHERE id = ? AND state IN \(ReviewJobState.openSQL)
                    """, [why, tx.now, tx.now, job])
            }
            try tx.execute(
                """
                UPDATE merge_main_queue SET state = 'cancelled', error_message = ?, updated_at = ?, completed_at = ?
                  WHERE id = ?
                """, [why, tx.now, tx.now, itemId])
            try tx.execute(
                """
                UPDATE merge_requests SET status = 'requested', updated_at = ?
                  WHERE id = ? AND status IN ('reviewing','approved')
                """, [tx.now, item.int("merge_request_id")])
            line += ", queue item \(itemId) cancelled"
        }
        try unlock(tx)
        tx.bumpVersion()
        logger.info("\(line)")
        return line
    }
}
