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
            try TaskUpdateRule.check(p, task: t, caller: caller)
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
}
