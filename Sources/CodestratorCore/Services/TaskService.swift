import Foundation

/// orch_task: the Epic → Feature → TestGroup → Case → Step tree, case/step checkpoints and resume
/// (docs/methods.md#orch_task--codestrator-tasks).
public struct TaskService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    var caller: Caller { env.caller }

    func requiredFiles(_ p: Params) throws -> JSON? {
        guard let files = p.strings("required_files") else { return nil }
        return .array(try RepoPath.normalizeAll(files, root: env.layout.root, field: "required_files").map(JSON.string))
    }

    // MARK: task.create

    public func create(_ p: Params) async throws -> JSON {
        let caller = self.caller
        guard let level = TaskLevel(rawValue: try p.reqString("level")) else {
            throw CodestratorError(.invalidParams, "field \"level\" is missing", expected: "a level", field: "level")
        }
        let title = try p.reqString("title")
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            var parent: TaskRecord?
            if let pid = p.int("parent_id") {
                parent = try access.task(pid, field: "parent_id")
            }
            if level == .epic {
                if let parent {
                    throw CodestratorError(
                        .invalidParams, "field \"parent_id\" is \(parent.id) for level \"epic\"",
                        expected: "no parent_id for an epic",
                        field: "parent_id")
                }
            } else {
                guard let parent else {
                    throw CodestratorError(
                        .invalidParams, "field \"parent_id\" is required for level \"\(level.rawValue)\"",
                        expected: "the id of \(level.parentLevel!.article) \(level.parentLevel!.rawValue)",
                        field: "parent_id")
                }
                guard parent.level == level.parentLevel else {
                    throw CodestratorError(
                        .invalidParams, "parent \(parent.id) is \(parent.level.article) \(parent.level.rawValue)",
                        expected:
                            "\(level.parentLevel!.article) \(level.parentLevel!.rawValue) as parent of \(level.article) \(level.rawValue)",
                        field: "parent_id")
                }
                if parent.status == .cancelled {
                    throw CodestratorError(
                        .invalidState, "parent \(parent.id) is cancelled",
                        expected: "task.update of \(parent.level.rawValue) \(parent.id) to todo first",
                        field: "parent_id")
                }
            }
            // The session: an epic names it; other levels take the parent's.
            let session: SessionRecord
            if let parent {
                session = try access.session(parent.sessionId)
                if let given = p.int("session_id"), given != parent.sessionId {
                    if caller.isChild {
                        throw CodestratorError.notFound(
                            "session", given, expected: "your own session", field: "session_id")
                    }
                    throw CodestratorError(
                        .invalidParams,
                        "field \"session_id\" is \(given) but parent \(parent.id) belongs to session \(parent.sessionId)",
                        expected: "the parent's session", field: "session_id")
                }
            } else {
                guard let s = try access.sessionParam(p) else {
                    throw CodestratorError(
                        .invalidParams, "field \"session_id\" is required for level \"epic\"",
                        expected: "the id of a session",
                        field: "session_id")
                }
                session = s
            }
            if caller.role == .worker {
                guard level == .step, let parent, parent.status == .inProgress,
                    parent.assigneeThreadId == caller.threadId
                else {
                    throw CodestratorError(
                        .forbidden, "a worker may create only steps of its own in-progress case",
                        expected: "level step with parent_id of your in-progress case", field: "level")
                }
            }
            for field in ["steps", "input_contract", "assignee_thread_id"] where p.has(field) && level != .case {
                throw CodestratorError(
                    .invalidParams, "field \"\(field)\" is given for level \"\(level.rawValue)\"",
                    expected: "\(field) only for cases",
                    field: field)
            }
            tx.bumpVersion()
            if level == .step {
                let parent = parent!
                if parent.status == .done {
                    throw CodestratorError(
                        .invalidState, "case \(parent.id) is done", expected: "case.begin with reopen:true first",
                        field: "parent_id")
                }
                let step = try Self.appendStep(tx, caseId: parent.id, title: title)
                return step.json
            }
            var assignee: Int?
            if let aid = p.int("assignee_thread_id") {
                let t = try access.thread(aid, field: "assignee_thread_id")
                guard t.sessionId == session.id, t.role == .worker else {
                    throw CodestratorError(
                        .invalidParams,
                        "thread \(aid) is \(t.role.rawValue == "worker" ? "in session \(t.sessionId)" : "a \(t.role.rawValue)")",
                        expected: "a worker thread of session \(session.id)", field: "assignee_thread_id")
                }
                assignee = aid
            }
            let id = try tx.insert(
                """
                INSERT INTO tasks (session_id, level, parent_id, title, description, status, priority, assignee_thread_id,
                  assignee_session, input_contract, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'todo', ?, ?, ?, ?, ?, ?)
                """,
                [
                    session.id, level.rawValue, parent?.id, title, p.string("description"), p.int("priority") ?? 0,
                    assignee,
                    p.string("assignee_session"), p.json("input_contract") ?? .null, tx.now, tx.now,
                ])
            if level == .case {
                var seen = Set<String>()
                for s in p.strings("steps") ?? [] {
                    guard seen.insert(s).inserted else {
                        throw CodestratorError(
                            .invalidParams, "field \"steps\" names \(quoted(s)) twice", expected: "unique step titles",
                            field: "steps")
                    }
                    try Self.appendStep(tx, caseId: id, title: s)
                }
            }
            try Rollup.recomputeAncestors(tx, from: parent?.id)
            let task = try TaskRecord.load(tx, id)!
            // A task made in this transaction has no children yet, and a case only the steps just
            // appended (all todo): its roll-up needs no count query.
            guard level == .case else {
                return task.json(rollup: TaskRecord.rollupJSON([:]), progress: .null)
            }
            let steps = try StepRecord.all(tx, caseId: id)
            return task.json(rollup: .null, progress: StepRecord.progressJSON(["todo": steps.count]))
                .merging(["steps": JSON.array(steps.map(\.json))])
        }
    }

    @discardableResult
    static func appendStep(_ tx: Tx, caseId: Int, title: String) throws -> StepRecord {
        if try tx.int("SELECT id FROM steps WHERE task_id = ? AND title = ?", [caseId, title]) != nil {
            throw CodestratorError(
                .conflict, "case \(caseId) already has a step titled \(quoted(title))", expected: "a unique step title",
                field: "title")
        }
        let order = (try tx.int("SELECT MAX(order_no) FROM steps WHERE task_id = ?", [caseId]) ?? 0) + 1
        let id = try tx.insert(
            "INSERT INTO steps (task_id, order_no, title, status, created_at, updated_at) VALUES (?, ?, ?, 'todo', ?, ?)",
            [caseId, order, title, tx.now, tx.now])
        try tx.execute("UPDATE tasks SET updated_at = ? WHERE id = ?", [tx.now, caseId])
        return try StepRecord.load(tx, id)!
    }

    // MARK: task.list / task.get

    public func list(_ p: Params) async throws -> JSON {
        let caller = self.caller
        return try await env.store.read { tx in
            let access = Access(tx: tx, caller: caller)
            var clauses: [String] = []
            var args: [any SQLArgument] = []
            if let s = try access.sessionParam(p) {
                clauses.append("session_id = ?")
                args.append(s.id)
            }
            if let level = p.string("level") {
                clauses.append("level = ?")
                args.append(level)
            }
            if let status = p.string("status") {
                clauses.append("status = ?")
                args.append(status)
            }
            if let parent = p.int("parent_id") {
                _ = try access.task(parent, field: "parent_id")
                clauses.append("parent_id = ?")
                args.append(parent)
            }
            if p.bool("roots_only") == true { clauses.append("parent_id IS NULL") }
            if let a = p.int("assignee_thread_id") {
                clauses.append("assignee_thread_id = ?")
                args.append(a)
            }
            if let a = p.string("assignee_session") {
                clauses.append("assignee_session = ?")
                args.append(a)
            }
            if caller.isChild {
                clauses.append("session_id = ?")
                args.append(caller.sessionId ?? 0)
            }
            let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
            let total = try tx.int("SELECT COUNT(*) FROM tasks" + whereSQL, args) ?? 0
            let rows = try tx.rows(
                "SELECT * FROM tasks" + whereSQL + " ORDER BY priority DESC, id LIMIT ? OFFSET ?",
                args + [p.int("limit") ?? 100, p.int("offset") ?? 0])
            let tasks = try TaskRecord.json(tx, rows.map(TaskRecord.init))
            return .obj(["tasks": JSON.array(tasks), "count": tasks.count, "total": total])
        }
    }

    public func get(_ p: Params) async throws -> JSON {
        let caller = self.caller
        return try await env.store.read { tx in
            let t = try Access(tx: tx, caller: caller).task(p.req("task_id"))
            let steps = t.level == .case ? try StepRecord.all(tx, caseId: t.id).map(\.json) : []
            let childRows = try tx.rows("SELECT * FROM tasks WHERE parent_id = ? ORDER BY priority DESC, id", [t.id])
            let children = try TaskRecord.json(tx, childRows.map(TaskRecord.init))
            var ancestors: [JSON] = []
            var up = t.parentId
            while let id = up, let a = try TaskRecord.load(tx, id) {
                ancestors.insert(
                    .obj(["id": a.id, "level": a.level.rawValue, "title": a.title, "status": a.status.rawValue]), at: 0)
                up = a.parentId
            }
            return try t.json(tx).merging([
                "steps": JSON.array(steps), "children": JSON.array(children), "ancestors": JSON.array(ancestors),
                "latest_checkpoint": try CheckpointRecord.latest(tx, taskId: t.id)?.json,
            ])
        }
    }

    // MARK: task.update

    public func update(_ p: Params) async throws -> JSON {
        let caller = self.caller
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let t = try access.task(p.req("task_id"))
            var warnings: [String] = []
            // What each child role may change (docs/methods.md#taskupdate "Limits for children").
            if caller.role == .worker {
                guard t.level == .case, t.assigneeThreadId == caller.threadId else {
                    throw CodestratorError(
                        .forbidden, "task \(t.id) is not a case assigned to thread \(caller.threadId ?? 0)",
                        expected: "your own case", field: "task_id")
                }
                for f in ["title", "priority", "description", "assignee_thread_id", "assignee_session"] where p.has(f) {
                    throw CodestratorError(
                        .forbidden, "a worker may not change \(f)", expected: "only status, reason and next_action",
                        field: f)
                }
                if let s = p.string("status"), s != "blocked" && s != "in_progress" {
                    throw CodestratorError(
                        .forbidden, "a worker may not set status \(s)", expected: "blocked or in_progress",
                        field: "status")
                }
            } else if caller.role == .planArchitect {
                for f in ["assignee_thread_id", "assignee_session", "next_action"] where p.has(f) {
                    throw CodestratorError(
                        .forbidden, "a plan-architect may not change \(f)",
                        expected: "title, priority, description or status cancelled|todo", field: f)
                }
                if let s = p.string("status"), s != "cancelled" && s != "todo" {
                    throw CodestratorError(
                        .forbidden, "a plan-architect may not set status \(s)", expected: "cancelled or todo",
                        field: "status")
                }
            }
            var sets: [String] = []
            var args: [any SQLArgument] = []
            func set(_ col: String, _ v: any SQLArgument) {
                sets.append("\(col) = ?")
                args.append(v)
            }
            var statusChanged = false
            if let newStatus = p.enumValue("status", TaskStatus.self), newStatus != t.status {
                let reason = p.string("reason")
                if (newStatus == .blocked || newStatus == .cancelled) && reason == nil {
                    throw CodestratorError(
                        .invalidParams, "field \"reason\" is required with status \(newStatus.rawValue)",
                        expected: "text saying why", field: "reason")
                }
                if t.isContainer {
                    switch (t.status == .cancelled, newStatus) {
                    case (_, .cancelled):
                        set("cancelled", true)
                    case (true, .todo):
                        set("cancelled", false)
                    default:
                        throw CodestratorError(
                            .invalidState, "\(t.level.rawValue) \(t.id) status is rolled up from its children",
                            expected: "cancelled or todo", field: "status")
                    }
                } else {
                    if t.status == .todo && newStatus == .inProgress {
                        throw CodestratorError(
                            .invalidState, "case \(t.id) cannot go from todo to in_progress", expected: "case.begin",
                            field: "status")
                    }
                    try t.status.checkMove(
                        to: newStatus, entity: "case \(t.id)",
                        expected: newStatus == .done ? "case.begin then case.complete" : nil)
                    if newStatus == .inProgress, let assignee = t.assigneeThreadId,
                        let th = try ThreadRecord.load(tx, assignee), th.role != .sessionRoot,
                        let other = try tx.int(
                            "SELECT id FROM tasks WHERE assignee_thread_id = ? AND status = 'in_progress' AND level = 'case' AND id <> ?",
                            [assignee, t.id])
                    {
                        throw CodestratorError(
                            .conflict, "thread \(assignee) already has case \(other) in progress",
                            expected: "case.complete or task.update of case \(other) first", field: "status")
                    }
                    set("status", newStatus.rawValue)
                    set("blocked_reason", newStatus == .blocked ? reason : nil as String?)
                    if newStatus == .cancelled { set("summary", reason) }
                }
                statusChanged = true
            } else if p.has("status") {
                // Same status: nothing to change.
            }
            if let title = p.string("title") { set("title", title) }
            if let prio = p.int("priority") { set("priority", prio) }
            if p.has("description") { set("description", p.string("description")) }
            if p.has("next_action") { set("next_action", p.string("next_action")) }
            if p.has("assignee_session") { set("assignee_session", p.string("assignee_session")) }
            if p.has("assignee_thread_id") {
                guard t.level == .case else {
                    throw CodestratorError(
                        .invalidParams, "task \(t.id) is \(t.level.article) \(t.level.rawValue)",
                        expected: "assignee_thread_id only for cases", field: "assignee_thread_id")
                }
                guard t.status != .inProgress else {
                    throw CodestratorError(
                        .invalidState, "case \(t.id) is in_progress",
                        expected: "to change the assignee only while it is not in progress",
                        field: "assignee_thread_id")
                }
                if let aid = p.int("assignee_thread_id") {
                    let th = try access.thread(aid, field: "assignee_thread_id")
                    guard th.sessionId == t.sessionId, th.role == .worker else {
                        throw CodestratorError(
                            .invalidParams, "thread \(aid) is not a worker of session \(t.sessionId)",
                            expected: "a worker thread of session \(t.sessionId)", field: "assignee_thread_id")
                    }
                }
                set("assignee_thread_id", p.int("assignee_thread_id"))
            }
            let before = try t.json(tx)
            if !sets.isEmpty {
                set("updated_at", tx.now)
                try tx.execute("UPDATE tasks SET \(sets.joined(separator: ", ")) WHERE id = ?", args + [t.id])
            }
            let after = try TaskRecord.load(tx, t.id)!
            var afterJSON = try after.json(tx)
            if statusChanged {
                if t.isContainer { try Rollup.recompute(tx, after) }
                try Rollup.recomputeAncestors(tx, from: t.parentId)
                if !t.isContainer {
                    try StepProgress.checkpoint(
                        tx, event: .taskUpdate, task: after, step: nil, threadId: caller.threadId,
                        extra: .obj([
                            "from": t.status.rawValue, "to": after.status.rawValue, "reason": p.string("reason"),
                        ]))
                }
                afterJSON = try TaskRecord.load(tx, t.id)!.json(tx)
            }
            if before.objectValue?.pairs.filter({ $0.key != "updated_at" }).map(\.value)
                == afterJSON.objectValue?.pairs.filter({ $0.key != "updated_at" }).map(\.value)
            {
                warnings.append("nothing changed")
            } else {
                tx.bumpVersion()
            }
            return warnings.isEmpty ? afterJSON : afterJSON.merging(["warnings": warnings])
        }
    }

    // MARK: case.begin

    public func caseBegin(_ p: Params) async throws -> JSON {
        let caller = self.caller
        let files = try requiredFiles(p)
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let c = try access.caseTask(p.req("case_id"))
            let session = try Self.checkSessionParam(p, access: access, task: c)
            let thread = try access.actingThread(p, session: session)
            var warnings: [String] = []
            switch c.status {
            case .cancelled:
                throw CodestratorError(
                    .invalidState, "case \(c.id) is cancelled", expected: "task.update of case \(c.id) to todo first",
                    field: "case_id")
            case .done where p.bool("reopen") != true:
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
            if resuming { warnings.append("case \(c.id) is already in progress for thread \(thread.id); resumed") }
            for title in p.strings("steps") ?? []
            where try tx.int(
                "SELECT id FROM steps WHERE task_id = ? AND title = ?", [c.id, title]) == nil
            {
                try Self.appendStep(tx, caseId: c.id, title: title)
            }
            var sets =
                "status = 'in_progress', assignee_thread_id = ?, updated_at = ?, started_at = COALESCE(started_at, ?), completed_at = NULL, blocked_reason = NULL"
            var args: [any SQLArgument] = [thread.id, tx.now, tx.now]
            if p.has("input_contract") {
                sets += ", input_contract = ?"
                args.append(p.json("input_contract") ?? .null)
            }
            if let fixtures = p.json("fixtures") {
                sets += ", fixtures = ?"
                args.append(fixtures)
            }
            try tx.execute("UPDATE tasks SET \(sets) WHERE id = ?", args + [c.id])
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

    /// A given `session_id` must equal the task's session (a child's other session is `not_found`).
    static func checkSessionParam(_ p: Params, access: Access, task: TaskRecord) throws -> SessionRecord {
        if let given = p.int("session_id"), given != task.sessionId {
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

    public func stepCheck(_ p: Params) async throws -> JSON {
        let caller = self.caller
        let files = try requiredFiles(p)
        let commit = try await commitForSandboxedWorker(p)
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let c = try access.caseTask(p.req("case_id"))
            let session = try Self.checkSessionParam(p, access: access, task: c)
            let thread = try access.actingThread(p, session: session)
            try Self.checkOwnCase(c, thread: thread, caller: caller, method: "step.check")
            var step: StepRecord?
            if let sid = p.int("step_id") {
                guard let s = try StepRecord.load(tx, sid), s.taskId == c.id else {
                    throw CodestratorError.notFound(
                        "step", sid, expected: "the id of a step of case \(c.id)", field: "step_id")
                }
                if let title = p.string("step_title"), title != s.title {
                    throw CodestratorError(
                        .invalidParams, "step_id \(sid) is \(quoted(s.title)) but step_title is \(quoted(title))",
                        expected: "step_id and step_title naming the same step", field: "step_title")
                }
                step = s
            } else if let title = p.string("step_title") {
                step = try tx.row("SELECT * FROM steps WHERE task_id = ? AND title = ?", [c.id, title]).map(
                    StepRecord.init)
                if step == nil { step = try Self.appendStep(tx, caseId: c.id, title: title) }
            } else {
                throw CodestratorError(
                    .invalidParams, "neither step_id nor step_title is given", expected: "one of step_id or step_title",
                    field: "step_id")
            }
            let s = step!
            let status = p.enumValue("status", StepStatus.self) ?? .done
            try s.status.checkMove(to: status, entity: "step \(s.id)")
            var warnings: [String] = []
            let before = try StepRecord.all(tx, caseId: c.id)
            if let earlier = before.first(where: { $0.orderNo < s.orderNo && $0.status == .todo }) {
                warnings.append("step \(s.orderNo) checked before step \(earlier.orderNo)")
            }
            let artifacts = (p.strings("artifacts") ?? []) + (commit.map { ["commit \($0)"] } ?? [])
            let evidence = JSON.obj(["result": p.string("result"), "artifacts": JSON.array(artifacts.map(JSON.string))])
            try tx.execute(
                """
                UPDATE steps SET status = ?, evidence = ?, recorded_at = ?, checked_by_thread_id = ?, updated_at = ?
                WHERE id = ?
                """, [status.rawValue, evidence, tx.now, thread.id, tx.now, s.id])
            try tx.execute("UPDATE tasks SET updated_at = ? WHERE id = ?", [tx.now, c.id])
            tx.bumpVersion()
            let checked = try StepRecord.load(tx, s.id)!
            let steps = try StepRecord.all(tx, caseId: c.id)
            let cp = try StepProgress.checkpoint(
                tx, event: .stepCheck, task: c, step: checked, threadId: thread.id,
                extra: .obj(["result": p.string("result")]))
            let total = steps.count
            let ref = try StepProgress.moveRef(
                tx, sessionId: c.sessionId, threadId: thread.id, nodeType: "case", nodeId: c.id, checkpointId: cp,
                mode: "compact", status: .active,
                nextAction: StepProgress.nextAction(steps, afterFailure: status == .failed ? checked : nil),
                summary: "step \(checked.orderNo)/\(total) \(status.rawValue): \(checked.title)", requiredFiles: files)
            var out = checked.json.merging([
                "next_step": StepProgress.nextStep(steps)?.json,
                "steps_progress": try StepRecord.progress(tx, caseId: c.id),
                "current_ref_version": ref.version,
            ])
            if !warnings.isEmpty { out = out.merging(["warnings": warnings]) }
            if let commit { out = out.merging(["commit": commit]) }
            return out
        }
    }

    // MARK: case.complete

    public func caseComplete(_ p: Params) async throws -> JSON {
        let caller = self.caller
        let files = try requiredFiles(p)
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let c = try access.caseTask(p.req("case_id"))
            let session = try Self.checkSessionParam(p, access: access, task: c)
            let thread = try access.actingThread(p, session: session)
            try Self.checkOwnCase(c, thread: thread, caller: caller, method: "case.complete")
            let force = p.bool("force") ?? false
            var warnings: [String] = []
            var steps = try StepRecord.all(tx, caseId: c.id)
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
            if force {
                try tx.execute(
                    """
                    UPDATE steps SET status = 'skipped', evidence = ?, recorded_at = ?, checked_by_thread_id = ?, updated_at = ?
                    WHERE task_id = ? AND status = 'todo'
                    """,
                    [
                        JSON.obj(["result": "skipped: case completed with force", "artifacts": [JSON]()]), tx.now,
                        thread.id,
                        tx.now, c.id,
                    ])
                steps = try StepRecord.all(tx, caseId: c.id)
            }
            if steps.isEmpty { warnings.append("case \(c.id) has no steps") }
            let nextAction = p.string("next_action")
            try tx.execute(
                """
                UPDATE tasks SET status = 'done', completed_at = ?, updated_at = ?, summary = COALESCE(?, summary),
                  next_action = COALESCE(?, next_action) WHERE id = ?
                """, [tx.now, tx.now, p.string("summary"), nextAction, c.id])
            tx.bumpVersion()
            let done = try TaskRecord.load(tx, c.id)!
            let cp = try StepProgress.checkpoint(
                tx, event: .caseComplete, task: done, step: nil, threadId: thread.id,
                extra: .obj(["summary": p.string("summary"), "forced": force]))
            let ref = try StepProgress.moveRef(
                tx, sessionId: c.sessionId, threadId: thread.id, nodeType: "case", nodeId: c.id, checkpointId: cp,
                mode: "compact", status: .completed, nextAction: nextAction ?? "pick the next case with resume.next",
                summary: "case.complete: \(c.title)", requiredFiles: files)
            try Rollup.recomputeAncestors(tx, from: c.parentId)
            // A child whose scope has no open case left is completed (sticky, like after work.report).
            var threadStatus = thread.status.rawValue
            let scope = Set(thread.scopeCaseIds)
            let openInScope = try tx.rows(
                "SELECT id, assignee_thread_id FROM tasks WHERE session_id = ? AND level = 'case' AND status IN ('todo','in_progress','blocked')",
                [c.sessionId]
            ).filter { $0.optInt("assignee_thread_id") == thread.id || scope.contains($0.int("id")) }
            if thread.role != .sessionRoot, openInScope.isEmpty,
                thread.status.isLive || (thread.status == .completed && thread.tmuxPaneId != nil)
            {
                try thread.status.checkMove(to: .completed, entity: "thread \(thread.id)")
                try tx.execute(
                    """
                    UPDATE threads SET status = 'completed', status_source = 'case_complete', status_changed_at = ?,
                      completed_at = ?, updated_at = ? WHERE id = ?
                    """, [tx.now, tx.now, tx.now, thread.id])
                threadStatus = "completed"
            }
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

    // MARK: resume.next

    public func resumeNext(_ p: Params) async throws -> JSON {
        let caller = self.caller
        let scope = await env.rootScope()
        return try await env.store.read { tx in
            let access = Access(tx: tx, caller: caller)
            let session = try access.requireSession(p, root: scope)
            var thread: ThreadRecord?
            if caller.isChild || p.has("thread_id") {
                thread = try access.actingThread(p, session: session)
            }
            return try Self.resumeView(tx, session: session, thread: thread)
        }
    }

    static func resumeView(_ tx: Tx, session: SessionRecord, thread: ThreadRecord?) throws -> JSON {
        let task = try chooseCase(tx, sessionId: session.id, thread: thread)
        let steps = try task.map { try StepRecord.all(tx, caseId: $0.id) } ?? []
        let refThread = thread?.id ?? session.rootThreadId
        let ref = try refThread.flatMap { try CurrentRefRecord.find(tx, sessionId: session.id, threadId: $0) }
        return .obj([
            "task": try task?.json(tx), "steps": steps.map(\.json), "next_step": StepProgress.nextStep(steps)?.json,
            "checkpoint": try task.flatMap { try CheckpointRecord.latest(tx, taskId: $0.id) }?.json,
            "current_ref": ref?.json, "scope": JSON.obj(["session_id": session.id, "thread_id": thread?.id]),
        ])
    }

    // MARK: resume.candidates.list / attach

    public func candidatesList(_ p: Params) async throws -> JSON {
        let repo = env.layout.root
        let exclude = p.int("requester_session_id")
        let timeout = p.int("heartbeat_timeout_seconds")
        return try await env.store.read { tx in
            if let exclude, try SessionRecord.load(tx, exclude) == nil {
                throw CodestratorError.notFound("session", exclude, field: "requester_session_id")
            }
            let sessions = try tx.rows(
                "SELECT * FROM sessions WHERE repo_path = ? AND status = 'active' ORDER BY last_seen_at DESC, id DESC",
                [repo]
            ).map(SessionRecord.init).filter { $0.id != exclude && $0.isStale(now: tx.now, timeoutOverride: timeout) }
            let list = try sessions.map { try SessionContextBuilder.candidate(tx, session: $0) }
            return .obj(["resume_candidates": JSON.array(list), "count": list.count])
        }
    }

    public func candidatesAttach(_ p: Params) async throws -> JSON {
        let repo = env.layout.root
        let target = try p.req("target_session_id")
        let requester = p.int("requester_session_id")
        let timeout = p.int("heartbeat_timeout_seconds")
        let force = p.bool("force") ?? false
        try await env.store.read { tx in
            guard let s = try SessionRecord.load(tx, target), s.repoPath == repo else {
                throw CodestratorError.notFound("session", target, field: "target_session_id")
            }
            guard s.status == .active else {
                throw CodestratorError(
                    .invalidState, "session \(target) is \(s.status.rawValue)", expected: "an active session",
                    field: "target_session_id")
            }
            if !force && !s.isStale(now: tx.now, timeoutOverride: timeout) {
                throw CodestratorError(
                    .invalidState, "session \(target) is live (last heartbeat \(s.idleSeconds(now: tx.now)) s ago)",
                    expected: "a stale session, or force:true", field: "target_session_id")
            }
            if let requester {
                guard let r = try SessionRecord.load(tx, requester), r.repoPath == repo else {
                    throw CodestratorError.notFound("session", requester, field: "requester_session_id")
                }
                guard r.status == .awaitingResume else {
                    throw CodestratorError(
                        .invalidState, "requester_session_id \(requester) is \(r.status.rawValue)",
                        expected: "an awaiting_resume session of this repository", field: "requester_session_id")
                }
            }
        }
        let fingerprint = TerminalFingerprint.derive()
        let opened = try await SessionService(env: env).resume(
            sessionId: target, requester: requester, fingerprint: fingerprint)
        return .obj([
            "session_context": opened["session_context"], "resumed": true, "superseded_session_id": requester,
        ])
    }
}
