extension LifecycleService {
    /// work.report: a child reports done, blocked or failed to its parent (docs/methods.md#orch_lifecycle--codestrator-current-ref-and-reports).
    public func report(_ input: WorkReportInput) async throws -> JSON {
        let caller = env.caller
        guard caller.isChild, let threadId = caller.threadId else {
            throw CodestratorError(
                .invalidState, "the root thread has no parent to report to", expected: "work.report from a child thread"
            )
        }
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let t = try Self.reportingThread(access, threadId, sessionId: input.sessionId)
            let reported = try Self.reportedCase(access, thread: t, caseId: input.caseId)
            try Self.markReported(tx, thread: t, input)
            let (task, ref, warnings) = try Self.recordOnCase(tx, thread: t, task: reported, input)
            let message = try Self.sendReport(tx, thread: t, input)
            var out = JSON.obj([
                "thread": try ThreadRecord.load(tx, threadId)!.json, "message": message,
                "task": try task?.json(tx), "current_ref": ref?.json,
            ])
            if !warnings.isEmpty { out = out.merging(["warnings": warnings]) }
            return out
        }
    }

    /// The reporting child's thread: live, or finished with its pane still there; `session_id`, when given,
    /// must be its own.
    static func reportingThread(_ access: Access, _ threadId: Int, sessionId: Int?) throws -> ThreadRecord {
        let t = try access.thread(threadId)
        if let given = sessionId, given != t.sessionId {
            throw CodestratorError.notFound("session", given, field: "session_id")
        }
        let paneLive = t.tmuxPaneId != nil
        guard t.status.isLive || (t.status == .completed && paneLive) || (t.status == .failed && paneLive) else {
            throw CodestratorError(
                .invalidState, "thread \(threadId) is \(t.status.rawValue)", expected: "a live thread")
        }
        return t
    }

    /// The case reported on: `case_id` (one of the thread's cases), else the thread's first case in progress.
    static func reportedCase(_ access: Access, thread t: ThreadRecord, caseId: Int?) throws -> TaskRecord? {
        guard let cid = caseId else {
            return try access.tx.row(
                "SELECT * FROM tasks WHERE assignee_thread_id = ? AND level = 'case' AND status = 'in_progress' ORDER BY id LIMIT 1",
                [t.id]
            ).map(TaskRecord.init)
        }
        let c = try access.caseTask(cid)
        guard c.assigneeThreadId == t.id || t.scopeCaseIds.contains(cid) else {
            throw CodestratorError(
                .forbidden, "case \(cid) is not assigned to thread \(t.id)", expected: "one of your cases",
                field: "case_id")
        }
        return c
    }

    /// The thread's status follows the outcome: done → completed, blocked → waiting_user_answer, failed → failed.
    static func markReported(_ tx: Tx, thread t: ThreadRecord, _ input: WorkReportInput) throws {
        let outcome = input.outcome
        let next: ThreadStatus =
            outcome == "done" ? .completed : outcome == "blocked" ? .waitingUserAnswer : .failed
        if next != t.status { try t.status.checkMove(to: next, entity: "thread \(t.id)") }
        try tx.execute(
            """
            UPDATE threads SET status = ?, status_source = 'report', status_changed_at = ?, updated_at = ?,
              last_report_outcome = ?, completed_at = CASE WHEN ? = 'completed' THEN ? ELSE completed_at END,
              last_response = ? WHERE id = ?
            """,
            [
                next.rawValue, tx.now, tx.now, outcome, next.rawValue, tx.now,
                ScreenText.cut(input.question ?? input.summary), t.id,
            ])
        try ThreadEvents.record(
            tx, threadId: t.id, source: "mcp", event: "report", providerStatus: nil, message: input.summary)
    }

    /// The report on the case (blocked unless done, and a checkpoint) and on the thread's current ref.
    static func recordOnCase(_ tx: Tx, thread t: ThreadRecord, task: TaskRecord?, _ input: WorkReportInput) throws
        -> (TaskRecord?, CurrentRefRecord?, [String])
    {
        let (outcome, summary) = (input.outcome, input.summary)
        let existing = { try CurrentRefRecord.find(tx, sessionId: t.sessionId, threadId: t.id) }
        let moveRef = { (existing: CurrentRefRecord, checkpointId: Int?) in
            try StepProgress.moveRef(
                tx, sessionId: t.sessionId, threadId: t.id, nodeType: existing.nodeType, nodeId: existing.nodeId,
                checkpointId: checkpointId, mode: existing.mode,
                status: RefStatus(rawValue: existing.status) ?? .active,
                nextAction: outcome == "done" ? existing.nextAction : "waiting for the root",
                summary: "work.report \(outcome): \(summary)", requiredFiles: nil)
        }
        guard var c = task else {
            return (nil, try existing().map { try moveRef($0, $0.checkpointId) }, [])
        }
        var warnings: [String] = []
        if outcome != "done", c.status == .inProgress {
            try c.status.checkMove(to: .blocked, entity: "case \(c.id)")
            try tx.execute(
                "UPDATE tasks SET status = 'blocked', blocked_reason = ?, updated_at = ? WHERE id = ?",
                [summary, tx.now, c.id])
            try Rollup.recomputeAncestors(tx, from: c.parentId)
            c = try TaskRecord.load(tx, c.id)!
        } else if outcome == "done", c.status == .inProgress {
            warnings.append("case \(c.id) is still in_progress; call case.complete when its steps are checked")
        }
        let cp = try StepProgress.checkpoint(
            tx, event: .workReport, task: c, step: nil, threadId: t.id,
            extra: .obj(["outcome": outcome, "summary": summary, "question": input.question]))
        return (c, try existing().map { try moveRef($0, cp) }, warnings)
    }

    /// The report as a pending `report` message to the parent thread (the session's root thread without one).
    static func sendReport(_ tx: Tx, thread t: ThreadRecord, _ input: WorkReportInput) throws -> JSON {
        let rootThread = try SessionRecord.load(tx, t.sessionId)?.rootThreadId
        let parent = t.parentThreadId ?? rootThread ?? t.id
        var text = "[work.report] \(input.outcome): \(input.summary)"
        if let question = input.question { text += "\n" + question }
        let mid = try tx.insert(
            """
            INSERT INTO inbox_messages (session_id, sender_thread_id, receiver_thread_id, kind, message, status, created_at)
            VALUES (?, ?, ?, 'report', ?, 'pending', ?)
            """, [t.sessionId, t.id, parent, text, tx.now])
        tx.bumpVersion()
        let message = try tx.row("SELECT * FROM inbox_messages WHERE id = ?", [mid])!
        return JSON.obj([
            "id": mid, "session_id": message.int("session_id"), "sender_thread_id": t.id,
            "receiver_thread_id": parent, "kind": "report", "message": text, "status": "pending",
            "delivered_via": nil, "created_at": message.string("created_at"), "delivered_at": nil,
        ])
    }
}
