/// Roll-up of container statuses (docs/database.md#status-transitions): recomputed for every ancestor in the
/// transaction that changes a child.
enum Rollup {
    static func recomputeAncestors(_ tx: Tx, from taskId: Int?) throws {
        var current = taskId
        while let id = current, let t = try TaskRecord.load(tx, id) {
            if t.isContainer { try recompute(tx, t) }
            current = t.parentId
        }
    }

    static func recompute(_ tx: Tx, _ t: TaskRecord) throws {
        let children = try tx.rows("SELECT status FROM tasks WHERE parent_id = ?", [t.id]).map { $0.string("status") }
        let status = derive(cancelled: t.cancelled, children: children)
        guard status.rawValue != t.status.rawValue else { return }
        try tx.execute(
            """
            UPDATE tasks SET status = ?, updated_at = ?,
              started_at = CASE WHEN ? IN ('in_progress','done') THEN COALESCE(started_at, ?) ELSE started_at END,
              completed_at = CASE WHEN ? = 'done' THEN ? ELSE NULL END
            WHERE id = ?
            """, [status.rawValue, tx.now, status.rawValue, tx.now, status.rawValue, tx.now, t.id])
    }

    static func derive(cancelled: Bool, children: [String]) -> TaskStatus {
        if cancelled { return .cancelled }
        let open = children.filter { $0 != "cancelled" }
        if !open.isEmpty && open.allSatisfy({ $0 == "done" }) { return .done }
        if children.contains(where: { $0 == "in_progress" || $0 == "done" }) { return .inProgress }
        if children.contains("blocked") { return .blocked }
        return .todo
    }
}

/// Checkpoints and the current ref: every case/step event writes both in the caller's transaction.
enum StepProgress {
    /// `step <n>: <title>` of the first `todo` step, `fix and re-check …` after a failure, or the
    /// completion hint.
    static func nextAction(_ steps: [StepRecord], afterFailure failed: StepRecord? = nil) -> String {
        if let failed { return "fix and re-check step \(failed.orderNo): \(failed.title)" }
        if let next = steps.first(where: { $0.status == .todo }) { return "step \(next.orderNo): \(next.title)" }
        if steps.isEmpty { return "plan steps with case.begin steps or task.create level step" }
        if let f = steps.first(where: { $0.status == .failed }) {
            return "fix and re-check step \(f.orderNo): \(f.title)"
        }
        return "all steps checked; call case.complete"
    }

    static func nextStep(_ steps: [StepRecord]) -> StepRecord? { steps.first { $0.status == .todo } }

    @discardableResult
    static func checkpoint(
        _ tx: Tx, event: CheckpointEvent, task: TaskRecord, step: StepRecord?, threadId: Int?, extra: JSON = .null
    ) throws -> Int {
        let t = try TaskRecord.load(tx, task.id) ?? task
        return try checkpoint(
            tx, event: event, currentTask: t, progress: try StepRecord.progress(tx, caseId: t.id), step: step,
            threadId: threadId, extra: extra)
    }

    /// A checkpoint from a task record and step progress the caller already holds as they are now.
    @discardableResult
    static func checkpoint(
        _ tx: Tx, event: CheckpointEvent, currentTask t: TaskRecord, progress: JSON, step: StepRecord?,
        threadId: Int?, extra: JSON = .null
    ) throws -> Int {
        var snapshot = JSON.obj([
            "case": JSON.obj(["id": t.id, "title": t.title, "status": t.status.rawValue]),
            "step": step.map {
                JSON.obj(["id": $0.id, "order_no": $0.orderNo, "title": $0.title, "status": $0.status.rawValue])
            },
            "steps_progress": progress,
        ])
        if let o = extra.objectValue { for (k, v) in o.pairs { snapshot = snapshot.merging([k: v]) } }
        return try tx.insert(
            """
            INSERT INTO checkpoints (task_id, step_id, session_id, thread_id, event, step_title, snapshot, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [t.id, step?.id, t.sessionId, threadId, event.rawValue, step?.title ?? event.rawValue, snapshot, tx.now])
    }

    /// Creates or updates the (session, thread) ref; the version goes up by one on every write.
    @discardableResult
    static func moveRef(
        _ tx: Tx, sessionId: Int, threadId: Int, nodeType: String, nodeId: Int, checkpointId: Int?, mode: String,
        status: RefStatus, nextAction: String?, summary: String?, requiredFiles: JSON?, clearAck: Bool = false
    ) throws -> CurrentRefRecord {
        // One statement either way: the update (by the UNIQUE (session_id, thread_id) key) returns the row,
        // and only a first ref needs the insert.
        if let updated = try tx.row(
            """
            UPDATE current_refs SET node_type = ?, node_id = ?, checkpoint_id = ?, mode = ?, status = ?,
              next_action = ?, summary = ?, required_files = COALESCE(?, required_files), version = version + 1,
              acked_version = CASE WHEN ? THEN NULL ELSE acked_version END,
              acked_at = CASE WHEN ? THEN NULL ELSE acked_at END, updated_at = ?
            WHERE session_id = ? AND thread_id = ? RETURNING *
            """,
            [
                nodeType, nodeId, checkpointId, mode, status.rawValue, nextAction, summary, requiredFiles, clearAck,
                clearAck, tx.now, sessionId, threadId,
            ])
        {
            return CurrentRefRecord(updated)
        }
        let inserted = try tx.row(
            """
            INSERT INTO current_refs (session_id, thread_id, node_type, node_id, checkpoint_id, mode, status,
              next_action, summary, required_files, version, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING *
            """,
            [
                sessionId, threadId, nodeType, nodeId, checkpointId, mode, status.rawValue, nextAction, summary,
                requiredFiles ?? JSON.array([]), tx.now, tx.now,
            ])
        return CurrentRefRecord(inserted!)
    }
}
