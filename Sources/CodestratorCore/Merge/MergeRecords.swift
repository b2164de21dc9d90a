/// JSON shapes of the merge area (docs/database.md#object-shapes), read from rows.
enum MergeShapes {
    static func mergeRequest(_ r: SQLRow) -> JSON {
        .obj([
            "id": r.int("id"), "session_id": r.int("session_id"), "feature_task_id": r.optInt("feature_task_id"),
            "worktree_id": r.int("worktree_id"), "status": r.string("status"),
            "reviewer_session": r.optString("reviewer_session"),
            "notes_json": r.json("notes_json"), "created_at": r.string("created_at"),
            "updated_at": r.string("updated_at"),
        ])
    }

    static func reviewJob(_ r: SQLRow) -> JSON {
        .obj([
            "id": r.int("id"), "merge_request_id": r.int("merge_request_id"), "session_id": r.int("session_id"),
            "queue_item_id": r.optInt("queue_item_id"), "reviewer_thread_id": r.optInt("reviewer_thread_id"),
            "state": r.string("state"), "verdict": r.optString("verdict"), "findings": r.json("findings"),
            "summary": r.optString("summary"), "reviewed_commit": r.string("reviewed_commit"),
            "submitted_by_thread_id": r.optInt("submitted_by_thread_id"), "notes_json": r.json("notes_json"),
            "failure_reason": r.optString("failure_reason"), "created_at": r.string("created_at"),
            "updated_at": r.string("updated_at"), "completed_at": r.optString("completed_at"),
        ])
    }

    static func position(_ tx: Tx, _ r: SQLRow) throws -> Int? {
        guard try r.queueItemState().isOpen else { return nil }
        return try tx.int(
            "SELECT COUNT(*) FROM merge_main_queue WHERE state IN \(QueueItemState.openSQL) AND id <= ?", [r.int("id")])
    }

    static func queueItem(_ tx: Tx, _ r: SQLRow) throws -> JSON {
        .obj([
            "id": r.int("id"), "session_id": r.int("session_id"), "from_worktree_id": r.int("from_worktree_id"),
            "source_branch": r.string("source_branch"), "target_branch": r.string("target_branch"),
            "merge_request_id": r.int("merge_request_id"), "auto_review": r.bool("auto_review"),
            "state": r.string("state"),
            "position": try position(tx, r), "review_job_id": r.optInt("review_job_id"),
            "reviewed_commit": r.optString("reviewed_commit"), "merge_commit": r.optString("merge_commit"),
            "fast_forward": r.optBool("fast_forward"), "conflicting_files": r.json("conflicting_files"),
            "error_message": r.optString("error_message"), "started_at": r.optString("started_at"),
            "completed_at": r.optString("completed_at"), "created_at": r.string("created_at"),
            "updated_at": r.string("updated_at"),
        ])
    }

    static func lock(_ tx: Tx) throws -> JSON { try MainMergeLock.load(tx).json(now: tx.now) }

    static func item(_ tx: Tx, _ id: Int?) throws -> SQLRow? {
        guard let id else { return nil }
        return try tx.row("SELECT * FROM merge_main_queue WHERE id = ?", [id])
    }

    static func mr(_ tx: Tx, _ id: Int?) throws -> SQLRow? {
        guard let id else { return nil }
        return try tx.row("SELECT * FROM merge_requests WHERE id = ?", [id])
    }

    static func job(_ tx: Tx, _ id: Int?) throws -> SQLRow? {
        guard let id else { return nil }
        return try tx.row("SELECT * FROM review_jobs WHERE id = ?", [id])
    }

    /// Moves a row's status along its machine, or throws `invalid_state`.
    static func move<S: StatusMachine>(
        _ tx: Tx, table: String, column: String, id: Int, from cur: S, to: S, entity: String, extraSQL: String = "",
        extra: [any SQLArgument] = []
    ) throws {
        if cur != to { try cur.checkMove(to: to, entity: entity) }
        try tx.execute(
            "UPDATE \(table) SET \(column) = ?, updated_at = ?\(extraSQL) WHERE id = ?",
            [to.rawValue, tx.now] + extra + [id])
    }
}

/// The typed states of merge rows: an unknown value is an error, never a silent no-op.
extension SQLRow {
    /// merge_main_queue.state
    func queueItemState() throws -> QueueItemState { try QueueItemState.read(self, "state", table: "merge_main_queue") }
    /// review_jobs.state
    func reviewJobState() throws -> ReviewJobState { try ReviewJobState.read(self, "state", table: "review_jobs") }
    /// merge_requests.status
    func mergeRequestStatus() throws -> MergeRequestStatus {
        try MergeRequestStatus.read(self, "status", table: "merge_requests")
    }
}
