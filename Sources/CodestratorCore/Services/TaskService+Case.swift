import Foundation

/// The case methods of orch_task: case.begin, step.check and case.complete, each writing its checkpoint and
/// moving the acting thread's current ref in the same transaction.
extension TaskService {
    // MARK: case.begin

    public func caseBegin(_ input: CaseBeginInput) async throws -> JSON {
        let caller = self.caller
        let files = try requiredFiles(input.requiredFiles)
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let (c, thread) = try Self.caseAndActingThread(access, input.caseId, input.actor)
            let resuming = try Self.checkBeginnable(tx, c, thread: thread, caller: caller, reopen: input.reopen)
            var warnings: [String] = []
            if resuming { warnings.append("case \(c.id) is already in progress for thread \(thread.id); resumed") }
            try Self.startCase(tx, c, thread: thread, input)
            tx.bumpVersion()
            let task = try TaskRecord.load(tx, c.id)!
            let steps = try StepRecord.all(tx, caseId: c.id)
            let cp = try StepProgress.checkpoint(tx, event: .caseBegin, task: task, step: nil, threadId: thread.id)
            let ref = try StepProgress.moveRef(
                tx, sessionId: c.sessionId, threadId: thread.id, nodeType: "case", nodeId: c.id, checkpointId: cp,
                mode: "compact", status: .active, nextAction: StepProgress.nextAction(steps),
                summary: "case.begin: \(c.title)",
                requiredFiles: files ?? .array([]))
            try Rollup.recomputeAncestors(tx, from: c.parentId)
            var out = try task.json(tx).merging([
                "steps": steps.map(\.json), "next_step": StepProgress.nextStep(steps)?.json, "current_ref": ref.json,
            ])
            if !warnings.isEmpty { out = out.merging(["warnings": warnings]) }
            return out
        }
    }

    /// Whether `thread` may begin case `c`: neither it nor an ancestor cancelled, done only with `reopen`, a
    /// child's only if unassigned or its own, and no other case in progress for a child thread. Returns whether
    /// this resumes the thread's own in-progress case.
    static func checkBeginnable(_ tx: Tx, _ c: TaskRecord, thread: ThreadRecord, caller: Caller, reopen: Bool) throws
        -> Bool
    {
        switch c.status {
        case .cancelled:
            throw CodestratorError(
                .invalidState, "case \(c.id) is cancelled", expected: "task.update of case \(c.id) to todo first",
                field: "case_id")
        case .done where !reopen:
            throw CodestratorError(
                .invalidState, "case \(c.id) is done", expected: "reopen:true to work on it again", field: "reopen")
        default: break
        }
        var up = c.parentId
        while let id = up, let a = try TaskRecord.load(tx, id) {
            if a.status == .cancelled {
                throw CodestratorError(
                    .invalidState, "\(a.level.rawValue) \(a.id) above case \(c.id) is cancelled",
                    expected: "task.update of \(a.level.rawValue) \(a.id) to todo first")
            }
            up = a.parentId
        }
        if caller.isChild, let a = c.assigneeThreadId, a != thread.id {
            throw CodestratorError(
                .forbidden, "case \(c.id) is assigned to thread \(a)",
                expected: "a case that is unassigned or yours",
                field: "case_id")
        }
        let resuming = c.status == .inProgress && c.assigneeThreadId == thread.id
        if thread.role != .sessionRoot, !resuming,
            let other = try tx.int(
                "SELECT id FROM tasks WHERE assignee_thread_id = ? AND status = 'in_progress' AND level = 'case' AND id <> ?",
                [thread.id, c.id])
        {
            throw CodestratorError(
                .conflict, "thread \(thread.id) already has case \(other) in progress",
                expected: "case.complete or task.update of case \(other) first", field: "case_id")
        }
        return resuming
    }

    /// Appends the planned steps the case lacks and sets it in progress for `thread`.
    static func startCase(_ tx: Tx, _ c: TaskRecord, thread: ThreadRecord, _ input: CaseBeginInput) throws {
        for title in input.steps ?? []
        where try tx.int(
            "SELECT id FROM steps WHERE task_id = ? AND title = ?", [c.id, title]) == nil
        {
            try appendStep(tx, caseId: c.id, title: title)
        }
        var sets =
            "status = 'in_progress', assignee_thread_id = ?, updated_at = ?, started_at = COALESCE(started_at, ?), completed_at = NULL, blocked_reason = NULL"
        var args: [any SQLArgument] = [thread.id, tx.now, tx.now]
        if let contract = input.inputContract {
            sets += ", input_contract = ?"
            args.append(contract)
        }
        if let fixtures = input.fixtures {
            sets += ", fixtures = ?"
            args.append(JSON.array(fixtures.map(JSON.string)))
        }
        try tx.execute("UPDATE tasks SET \(sets) WHERE id = ?", args + [c.id])
    }

    /// The case of a case method and the thread acting on it (`session_id` checked against the case's session).
    static func caseAndActingThread(_ access: Access, _ caseId: Int, _ actor: CaseActor) throws
        -> (TaskRecord, ThreadRecord)
    {
        let c = try access.caseTask(caseId)
        let session = try checkSessionParam(actor.sessionId, access: access, task: c)
        return (c, try access.actingThread(id: actor.threadId, session: session))
    }

    /// A given `session_id` must equal the task's session (a child's other session is `not_found`).
    static func checkSessionParam(_ given: Int?, access: Access, task: TaskRecord) throws -> SessionRecord {
        if let given, given != task.sessionId {
            let exists = try SessionRecord.load(access.tx, given) != nil
            if access.caller.isChild || !exists {
                throw CodestratorError.notFound("session", given, field: "session_id")
            }
            throw CodestratorError(
                .invalidParams,
                "field \"session_id\" is \(given) but case \(task.id) belongs to session \(task.sessionId)",
                expected: "the case's session", field: "session_id")
        }
        return try access.session(task.sessionId)
    }

    /// The case is `in_progress` and the acting thread's (the root may act for any thread).
    static func checkOwnCase(_ c: TaskRecord, thread: ThreadRecord, caller: Caller, method: String) throws {
        if c.status == .todo || c.status == .blocked {
            throw CodestratorError(
                .invalidState, "case \(c.id) is \(c.status.rawValue)", expected: "case.begin first", field: "case_id")
        }
        guard c.status == .inProgress else {
            throw CodestratorError(
                .invalidState, "case \(c.id) is \(c.status.rawValue)",
                expected: c.status == .done ? "case.begin with reopen:true first" : "an in_progress case",
                field: "case_id")
        }
        if caller.isChild && c.assigneeThreadId != thread.id {
            throw CodestratorError(
                .forbidden, "case \(c.id) belongs to thread \(c.assigneeThreadId.map(String.init) ?? "none")",
                expected: "a case of your own thread", field: "case_id")
        }
    }

    // MARK: step.check

    public func stepCheck(_ input: StepCheckInput) async throws -> JSON {
        let caller = self.caller
        let files = try requiredFiles(input.requiredFiles)
        let commit = try await commitForSandboxedWorker(input)
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let (c, thread) = try Self.caseAndActingThread(access, input.caseId, input.actor)
            try Self.checkOwnCase(c, thread: thread, caller: caller, method: "step.check")
            // The case's steps are read once: the step, the order warning, the next step and the progress
            // all come from this list and the row the UPDATE returns.
            var steps = try StepRecord.all(tx, caseId: c.id)
            let s = try Self.resolveStep(tx, &steps, caseId: c.id, stepId: input.stepId, title: input.stepTitle)
            let status = input.status
            try s.status.checkMove(to: status, entity: "step \(s.id)")
            var warnings: [String] = []
            if let earlier = steps.first(where: { $0.orderNo < s.orderNo && $0.status == .todo }) {
                warnings.append("step \(s.orderNo) checked before step \(earlier.orderNo)")
            }
            let artifacts = input.artifacts + (commit.map { ["commit \($0)"] } ?? [])
            let evidence = JSON.obj(["result": input.result, "artifacts": JSON.array(artifacts.map(JSON.string))])
            let checked = try StepRecord(
                returned: tx.row(
                    """
                    UPDATE steps SET status = ?, evidence = ?, recorded_at = ?, checked_by_thread_id = ?, updated_at = ?
                    WHERE id = ? RETURNING *
                    """, [status.rawValue, evidence, tx.now, thread.id, tx.now, s.id]), id: s.id)
            try tx.execute("UPDATE tasks SET updated_at = ? WHERE id = ?", [tx.now, c.id])
            tx.bumpVersion()
            steps = steps.map { $0.id == checked.id ? checked : $0 }
            let progress = StepRecord.progressJSON(steps)
            // Only updated_at of the case changed in this transaction: `c` is current for the snapshot.
            let cp = try StepProgress.checkpoint(
                tx, event: .stepCheck, currentTask: c, progress: progress, step: checked, threadId: thread.id,
                extra: .obj(["result": input.result]))
            let total = steps.count
            let ref = try StepProgress.moveRef(
                tx, sessionId: c.sessionId, threadId: thread.id, nodeType: "case", nodeId: c.id, checkpointId: cp,
                mode: "compact", status: .active,
                nextAction: StepProgress.nextAction(steps, afterFailure: status == .failed ? checked : nil),
                summary: "step \(checked.orderNo)/\(total) \(status.rawValue): \(checked.title)", requiredFiles: files)
            var out = checked.json.merging([
                "next_step": StepProgress.nextStep(steps)?.json,
                "steps_progress": progress, "current_ref_version": ref.version,
            ])
            if !warnings.isEmpty { out = out.merging(["warnings": warnings]) }
            if let commit { out = out.merging(["commit": commit]) }
            return out
        }
    }

    /// The step named by id (a title given too must match) or by title; an unknown title appends a step to
    /// `steps`.
    static func resolveStep(_ tx: Tx, _ steps: inout [StepRecord], caseId: Int, stepId: Int?, title: String?) throws
        -> StepRecord
    {
        if let sid = stepId {
            guard let found = steps.first(where: { $0.id == sid }) else {
                throw CodestratorError.notFound(
                    "step", sid, expected: "the id of a step of case \(caseId)", field: "step_id")
            }
            if let title, title != found.title {
                throw CodestratorError(
                    .invalidParams, "step_id \(sid) is \(quoted(found.title)) but step_title is \(quoted(title))",
                    expected: "step_id and step_title naming the same step", field: "step_title")
            }
            return found
        }
        guard let title else {
            throw CodestratorError(
                .invalidParams, "neither step_id nor step_title is given", expected: "one of step_id or step_title",
                field: "step_id")
        }
        if let found = steps.first(where: { $0.title == title }) { return found }
        let appended = try appendStep(tx, caseId: caseId, title: title)
        steps.append(appended)
        return appended
    }

    // MARK: case.complete

    public func caseComplete(_ input: CaseCompleteInput) async throws -> JSON {
        let caller = self.caller
        let files = try requiredFiles(input.requiredFiles)
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let (c, thread) = try Self.caseAndActingThread(access, input.caseId, input.actor)
            try Self.checkOwnCase(c, thread: thread, caller: caller, method: "case.complete")
            let force = input.force
            var warnings: [String] = []
            let steps = try Self.closeSteps(tx, c, thread: thread, force: force)
            if steps.isEmpty { warnings.append("case \(c.id) has no steps") }
            let nextAction = input.nextAction
            try tx.execute(
                """
                UPDATE tasks SET status = 'done', completed_at = ?, updated_at = ?, summary = COALESCE(?, summary),
                  next_action = COALESCE(?, next_action) WHERE id = ?
                """, [tx.now, tx.now, input.summary, nextAction, c.id])
            tx.bumpVersion()
            let done = try TaskRecord.load(tx, c.id)!
            let cp = try StepProgress.checkpoint(
                tx, event: .caseComplete, task: done, step: nil, threadId: thread.id,
                extra: .obj(["summary": input.summary, "forced": force]))
            let ref = try StepProgress.moveRef(
                tx, sessionId: c.sessionId, threadId: thread.id, nodeType: "case", nodeId: c.id, checkpointId: cp,
                mode: "compact", status: .completed, nextAction: nextAction ?? "pick the next case with resume.next",
                summary: "case.complete: \(c.title)", requiredFiles: files)
            try Rollup.recomputeAncestors(tx, from: c.parentId)
            let threadStatus = try Self.completeThreadIfDone(tx, thread, sessionId: c.sessionId)
            let next = try Self.chooseCase(
                tx, sessionId: c.sessionId, thread: thread.role == .sessionRoot ? nil : thread, onlyTodo: true)
            var out = try done.json(tx).merging([
                "steps_progress": try StepRecord.progress(tx, caseId: c.id), "current_ref": ref.json,
                "thread_status": threadStatus, "next_case": try next?.json(tx),
            ])
            if !warnings.isEmpty { out = out.merging(["warnings": warnings]) }
            return out
        }
    }

    /// The case's steps once none is open: todo or failed steps refuse completion, unless `force` skips the
    /// todo ones.
    static func closeSteps(_ tx: Tx, _ c: TaskRecord, thread: ThreadRecord, force: Bool) throws -> [StepRecord] {
        let steps = try StepRecord.all(tx, caseId: c.id)
        let open = steps.filter { $0.status == .todo || $0.status == .failed }
        if !open.isEmpty && !force {
            let list = open.map { "\($0.orderNo) \(quoted($0.title))" }.joined(separator: ", ")
            let unchecked = open.filter { $0.status == .todo }.count
            let failed = open.count - unchecked
            var what: [String] = []
            if unchecked > 0 { what.append("\(unchecked) unchecked step\(unchecked == 1 ? "" : "s")") }
            if failed > 0 { what.append("\(failed) failed step\(failed == 1 ? "" : "s")") }
            throw CodestratorError(
                .invalidState, "case \(c.id) has \(what.joined(separator: " and ")) (\(list))",
                expected: "all steps checked, or force:true", field: "force")
        }
        guard force else { return steps }
        try tx.execute(
            """
            UPDATE steps SET status = 'skipped', evidence = ?, recorded_at = ?, checked_by_thread_id = ?, updated_at = ?
            WHERE task_id = ? AND status = 'todo'
            """,
            [
                JSON.obj(["result": "skipped: case completed with force", "artifacts": [JSON]()]), tx.now, thread.id,
                tx.now, c.id,
            ])
        return try StepRecord.all(tx, caseId: c.id)
    }

    /// A child whose scope has no open case left is completed (sticky, like after work.report); returns the
    /// thread's status after.
    static func completeThreadIfDone(_ tx: Tx, _ thread: ThreadRecord, sessionId: Int) throws -> String {
        let scope = Set(thread.scopeCaseIds)
        let openInScope = try tx.rows(
            "SELECT id, assignee_thread_id FROM tasks WHERE session_id = ? AND level = 'case' AND status IN ('todo','in_progress','blocked')",
            [sessionId]
        ).filter { $0.optInt("assignee_thread_id") == thread.id || scope.contains($0.int("id")) }
        guard thread.role != .sessionRoot, openInScope.isEmpty,
            thread.status.isLive || (thread.status == .completed && thread.tmuxPaneId != nil)
        else { return thread.status.rawValue }
        try thread.status.checkMove(to: .completed, entity: "thread \(thread.id)")
        try tx.execute(
            """
            UPDATE threads SET status = 'completed', status_source = 'case_complete', status_changed_at = ?,
              completed_at = ?, updated_at = ? WHERE id = ?
            """, [tx.now, tx.now, tx.now, thread.id])
        return "completed"
    }

    /// The case to work on in a scope: `in_progress`, then `blocked`, then `todo`; ties by priority
    /// (descending), then id.
    ///
    /// One `LIMIT 1` query per status, in that order, so only the chosen row is read and decoded.
    /// A thread's scope (its assigned cases and `scope_case_ids`) is small: its rows are fetched by id
    /// (`NOT INDEXED` keeps the planner from walking the whole session in priority order instead)
    /// and sorted. A whole session can hold thousands of cases: `in_progress` and `blocked` ones are
    /// few (one active case per child thread), so their query searches the (session, level, status)
    /// index and sorts what it finds; `todo` ones are usually most of the session, so their query walks
    /// the (session, priority, id) index in result order and stops at the first todo case.
    static func chooseCase(_ tx: Tx, sessionId: Int, thread: ThreadRecord?, onlyTodo: Bool = false) throws
        -> TaskRecord?
    {
        for status in onlyTodo ? [TaskStatus.todo] : [.inProgress, .blocked, .todo] {
            let row: SQLRow?
            if let thread {
                row = try tx.row(
                    """
                    SELECT * FROM tasks NOT INDEXED
                    WHERE id IN (SELECT id FROM tasks WHERE assignee_thread_id = ? UNION SELECT value FROM json_each(?))
                      AND session_id = ? AND level = 'case' AND status = ?
                    ORDER BY priority DESC, id LIMIT 1
                    """,
                    [thread.id, JSON.array(thread.scopeCaseIds.map(JSON.int)), sessionId, status.rawValue])
            } else {
                let index = status == .todo ? "" : " INDEXED BY tasks_session_level_status"
                row = try tx.row(
                    """
                    SELECT * FROM tasks\(index) WHERE session_id = ? AND level = 'case' AND status = ?
                    ORDER BY priority DESC, id LIMIT 1
                    """, [sessionId, status.rawValue])
            }
            if let row { return TaskRecord(row) }
        }
        return nil
    }
}
