/// The main merge lock, the one row of `merge_main_lock`, and the one rule for taking it. Both ways in —
/// `merge.main.acquire_lock` and a review dispatch that takes the lock for a queued item — go through
/// `acquire`, so they cannot drift apart.
struct MainMergeLock: Sendable {
    let state: MainLockState
    let holderSessionId: Int?
    let queueItemId: Int?
    let leaseUntil: String?
    let acquiredAt: String?
    let updatedAt: String

    static func load(_ tx: Tx) throws -> MainMergeLock {
        guard let r = try tx.row("SELECT * FROM merge_main_lock WHERE id = 1") else {
            throw CodestratorError(.internal, "merge_main_lock has no row 1", expected: "the row the schema seeds")
        }
        return MainMergeLock(
            state: try MainLockState.read(r, "state", table: "merge_main_lock"),
            holderSessionId: r.optInt("holder_session_id"), queueItemId: r.optInt("queue_item_id"),
            leaseUntil: r.optString("lease_until"), acquiredAt: r.optString("acquired_at"),
            updatedAt: r.string("updated_at"))
    }

    var isLocked: Bool { state == .locked }
    func isHeld(by session: Int) -> Bool { state == .locked && holderSessionId == session }
    /// A lock without a lease counts as lapsed: nothing protects it.
    func leaseLapsed(now: String) -> Bool { (leaseUntil ?? "") <= now }

    /// `merge.main.status`'s `lock` object.
    func json(now: String) -> JSON {
        .obj([
            "id": 1, "state": state.rawValue, "holder_session_id": holderSessionId, "queue_item_id": queueItemId,
            "lease_until": leaseUntil, "acquired_at": acquiredAt, "expired": isLocked && leaseLapsed(now: now),
            "updated_at": updatedAt,
        ])
    }

    /// What a grant did: the caller held the lock already, or took it now (and so must give it back when
    /// the rest of its work fails).
    enum Grant: Sendable { case reentered, taken }

    /// Whether a holder re-entering renews its lease (an explicit acquire) or keeps it (a review dispatch
    /// inside the holder's turn, which must not shorten a longer lease).
    enum Reentry: Sendable { case renewLease, keepLease }

    /// The rule. A holder whose session is gone gives the lock up first (not when its lease ends). The
    /// holder re-enters. Anyone else takes the lock only for the item at the head of the queue, and only
    /// when no live lease stands in the way.
    static func acquire(_ tx: Tx, session: Int, itemId: Int, ttl: Int, reentry: Reentry) throws -> Grant {
        if try load(tx).holderSessionId != session {
            _ = try MergeService.releaseDeadHolder(tx)
        }
        let lock = try load(tx)
        let until = LockService.lease(tx.now, plus: ttl)
        if lock.isHeld(by: session) {
            if reentry == .renewLease {
                try tx.execute(
                    "UPDATE merge_main_lock SET queue_item_id = ?, lease_until = ?, updated_at = ? WHERE id = 1",
                    [itemId, until, tx.now])
            }
            return .reentered
        }
        if let head = try MergeService.head(tx), head.int("id") != itemId {
            throw CodestratorError(
                .conflict, "item \(head.int("id")) of session \(head.int("session_id")) is ahead (position 1)",
                expected: "to wait until it is merged or cancelled")
        }
        if lock.isLocked && !lock.leaseLapsed(now: tx.now) {
            throw CodestratorError(
                .conflict,
                "main merge lock held by session \(lock.holderSessionId ?? 0) until \(lock.leaseUntil ?? "")",
                expected: "the holder to release it or its lease to expire")
        }
        try tx.execute(
            """
            UPDATE merge_main_lock SET state = 'locked', holder_session_id = ?, queue_item_id = ?, lease_until = ?,
              acquired_at = ?, updated_at = ? WHERE id = 1
            """, [session, itemId, until, tx.now, tx.now])
        return .taken
    }

    /// Unlocks, whoever holds it (a release by the holder, or a repair).
    static func release(_ tx: Tx) throws {
        try tx.execute(
            """
            UPDATE merge_main_lock SET state = 'unlocked', holder_session_id = NULL, queue_item_id = NULL, lease_until = NULL,
              acquired_at = NULL, updated_at = ? WHERE id = 1
            """, [tx.now])
    }

    /// Unlocks only if it is still held for `itemId` (a merge found to have happened settles its item).
    static func release(_ tx: Tx, ifHeldFor itemId: Int) throws {
        try tx.execute(
            """
            UPDATE merge_main_lock SET state = 'unlocked', holder_session_id = NULL, queue_item_id = NULL, lease_until = NULL,
              acquired_at = NULL, updated_at = ? WHERE id = 1 AND queue_item_id = ?
            """, [tx.now, itemId])
    }

    /// Unlocks only if `session` still holds it: the undo of a grant whose follow-up failed, which must
    /// not free a lock that someone else took in between.
    static func release(_ tx: Tx, ifHeldBy session: Int) throws {
        try tx.execute(
            """
            UPDATE merge_main_lock SET state = 'unlocked', holder_session_id = NULL, queue_item_id = NULL, lease_until = NULL,
              acquired_at = NULL, updated_at = ? WHERE id = 1 AND state = 'locked' AND holder_session_id = ?
            """, [tx.now, session])
    }
}
