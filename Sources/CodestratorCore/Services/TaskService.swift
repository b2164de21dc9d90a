import Foundation

/// orch_task: the Epic → Feature → TestGroup → Case → Step tree, case/step checkpoints and resume
/// (docs/methods.md#orch_task--codestrator-tasks).
public struct TaskService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    var caller: Caller { env.caller }

    /// `required_files`, normalised to repository paths.
    func requiredFiles(_ files: [String]?) throws -> JSON? {
        guard let files else { return nil }
        return .array(try RepoPath.normalizeAll(files, root: env.layout.root, field: "required_files").map(JSON.string))
    }

    // MARK: task.create (TaskService+Create.swift)

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

    public func list(_ input: TaskListInput) async throws -> JSON {
        let caller = self.caller
        return try await env.store.read { tx in
            let access = Access(tx: tx, caller: caller)
            var clauses: [String] = []
            var args: [any SQLArgument] = []
            if let s = try access.sessionParam(id: input.sessionId) {
                clauses.append("session_id = ?")
                args.append(s.id)
            }
            if let level = input.level {
                clauses.append("level = ?")
                args.append(level)
            }
            if let status = input.status {
                clauses.append("status = ?")
                args.append(status)
            }
            if let parent = input.parentId {
                _ = try access.task(parent, field: "parent_id")
                clauses.append("parent_id = ?")
                args.append(parent)
            }
            if input.rootsOnly { clauses.append("parent_id IS NULL") }
            if let a = input.assigneeThreadId {
                clauses.append("assignee_thread_id = ?")
                args.append(a)
            }
            if let a = input.assigneeSession {
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
                args + [input.page.limit, input.page.offset])
            let tasks = try TaskRecord.json(tx, rows.map(TaskRecord.init))
            return .obj(["tasks": JSON.array(tasks), "count": tasks.count, "total": total])
        }
    }

    public func get(taskId: Int) async throws -> JSON {
        let caller = self.caller
        return try await env.store.read { tx in
            let t = try Access(tx: tx, caller: caller).task(taskId)
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

    // MARK: task.update (TaskService+Update.swift)
}
