extension LifecycleService {
    /// work.report: a child reports done, blocked or failed to its parent (docs/methods.md#orch_lifecycle--codestrator-current-ref-and-reports).
    public func report(_ p: Params) async throws -> JSON {
        let caller = env.caller
        guard caller.isChild, let threadId = caller.threadId else {
            throw CodestratorError(
                .invalidState, "the root thread has no parent to report to", expected: "work.report from a child thread"
            )
        }
        let outcome = try p.reqString("outcome")
        let summary = try p.reqString("summary")
        let question = p.string("question")
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let t = try access.thread(threadId)
            if let given = p.int("session_id"), given != t.sessionId {
                throw CodestratorError.notFound("session", given, field: "session_id")
            }
            let paneLive = t.tmuxPaneId != nil
            guard t.status.isLive || (t.status == .completed && paneLive) || (t.status == .failed && paneLive) else {
                throw CodestratorError(
                    .invalidState, "thread \(threadId) is \(t.status.rawValue)", expected: "a live thread")
            }
            var task: TaskRecord?
            if let cid = p.int("case_id") {
                let c = try access.caseTask(cid)
                guard c.assigneeThreadId == threadId || t.scopeCaseIds.contains(cid) else {
                    throw CodestratorError(
                        .forbidden, "case \(cid) is not assigned to thread \(threadId)", expected: "one of your cases",
                        field: "case_id")
                }
                task = c
            } else {
                task = try tx.row(
                    "SELECT * FROM tasks WHERE assignee_thread_id = ? AND level = 'case' AND status = 'in_progress' ORDER BY id LIMIT 1",
                    [threadId]
                ).map(TaskRecord.init)
            }
            let next: ThreadStatus =
                outcome == "done" ? .completed : outcome == "blocked" ? .waitingUserAnswer : .failed
            if next != t.status { try t.status.checkMove(to: next, entity: "thread \(threadId)") }
            try tx.execute(
                """
                UPDATE threads SET status = ?, status_source = 'report', status_changed_at = ?, updated_at = ?,
                  last_report_outcome = ?, completed_at = CASE WHEN ? = 'completed' THEN ? ELSE completed_at END,
                  last_response = ? WHERE id = ?
                """,
                [
                    next.rawValue, tx.now, tx.now, outcome, next.rawValue, tx.now, ScreenText.cut(question ?? summary),
                    threadId,
                ])
            try ThreadEvents.record(
                tx, threadId: threadId, source: "mcp", event: "report", providerStatus: nil, message: summary)
            var warnings: [String] = []
            var ref: CurrentRefRecord?
            if var c = task {
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
                    tx, event: .workReport, task: c, step: nil, threadId: threadId,
                    extra: .obj(["outcome": outcome, "summary": summary, "question": question]))
                if let existing = try CurrentRefRecord.find(tx, sessionId: t.sessionId, threadId: threadId) {
                    ref = try StepProgress.moveRef(
                        tx, sessionId: t.sessionId, threadId: threadId, nodeType: existing.nodeType,
                        nodeId: existing.nodeId,
                        checkpointId: cp, mode: existing.mode, status: RefStatus(rawValue: existing.status) ?? .active,
                        nextAction: outcome == "done" ? existing.nextAction : "waiting for the root",
                        summary: "work.report \(outcome): \(summary)", requiredFiles: nil)
                }
                task = c
            } else if let existing = try CurrentRefRecord.find(tx, sessionId: t.sessionId, threadId: threadId) {
                ref = try StepProgress.moveRef(
                    tx, sessionId: t.sessionId, threadId: threadId, nodeType: existing.nodeType,
                    nodeId: existing.nodeId,
                    checkpointId: existing.checkpointId, mode: existing.mode,
                    status: RefStatus(rawValue: existing.status) ?? .active,
                    nextAction: outcome == "done" ? existing.nextAction : "waiting for the root",
                    summary: "work.report \(outcome): \(summary)", requiredFiles: nil)
            }
            let rootThread = try SessionRecord.load(tx, t.sessionId)?.rootThreadId
            let parent = t.parentThreadId ?? rootThread ?? threadId
            var text = "[work.report] \(outcome): \(summary)"
            if let question { text += "\n" + question }
            let mid = try tx.insert(
                """
                INSERT INTO inbox_messages (session_id, sender_thread_id, receiver_thread_id, kind, message, status, created_at)
                VALUES (?, ?, ?, 'report', ?, 'pending', ?)
                """, [t.sessionId, threadId, parent, text, tx.now])
            tx.bumpVersion()
            let message = try tx.row("SELECT * FROM inbox_messages WHERE id = ?", [mid])!
            var out = JSON.obj([
                "thread": try ThreadRecord.load(tx, threadId)!.json,
                "message": JSON.obj([
                    "id": mid, "session_id": message.int("session_id"), "sender_thread_id": threadId,
                    "receiver_thread_id": parent, "kind": "report", "message": text, "status": "pending",
                    "delivered_via": nil, "created_at": message.string("created_at"), "delivered_at": nil,
                ]),
                "task": try task?.json(tx), "current_ref": ref?.json,
            ])
            if !warnings.isEmpty { out = out.merging(["warnings": warnings]) }
            return out
        }
    }
}
