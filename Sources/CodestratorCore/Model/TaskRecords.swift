/// A row of `tasks` (epic, feature, testgroup or case).
public struct TaskRecord: Sendable {
    public var id: Int
    public var sessionId: Int
    public var level: TaskLevel
    public var parentId: Int?
    public var title: String
    public var description: String?
    public var status: TaskStatus
    public var priority: Int
    public var assigneeThreadId: Int?
    public var assigneeSession: String?
    public var inputContract: JSON
    public var fixtures: JSON
    public var nextAction: String?
    public var summary: String?
    public var blockedReason: String?
    public var cancelled: Bool
    public var createdAt: String
    public var updatedAt: String
    public var startedAt: String?
    public var completedAt: String?

    public init(_ r: SQLRow) {
        id = r.int("id")
        sessionId = r.int("session_id")
        level = TaskLevel(rawValue: r.string("level")) ?? .case
        parentId = r.optInt("parent_id")
        title = r.string("title")
        description = r.optString("description")
        status = TaskStatus(rawValue: r.string("status")) ?? .todo
        priority = r.int("priority")
        assigneeThreadId = r.optInt("assignee_thread_id")
        assigneeSession = r.optString("assignee_session")
        inputContract = r.json("input_contract")
        fixtures = r.json("fixtures")
        nextAction = r.optString("next_action")
        summary = r.optString("summary")
        blockedReason = r.optString("blocked_reason")
        cancelled = r.bool("cancelled")
        createdAt = r.string("created_at")
        updatedAt = r.string("updated_at")
        startedAt = r.optString("started_at")
        completedAt = r.optString("completed_at")
    }

    public static func load(_ tx: Tx, _ id: Int?) throws -> TaskRecord? {
        guard let id else { return nil }
        return try tx.row("SELECT * FROM tasks WHERE id = ?", [id]).map(TaskRecord.init)
    }

    public var isContainer: Bool { level != .case }

    /// The Task shape: containers carry `rollup` over their direct children, cases `steps_progress`.
    public func json(_ tx: Tx) throws -> JSON { try Self.json(tx, [self])[0] }

    /// The Task shape of each of `tasks`, in order. The roll-ups of all containers come from one
    /// query and the step progress of all cases from another, whatever the number of tasks (a
    /// `task.list` page, the children of `task.get`).
    public static func json(_ tx: Tx, _ tasks: [TaskRecord]) throws -> [JSON] {
        let children = try statusCounts(
            tx, table: "tasks", key: "parent_id", ids: tasks.filter(\.isContainer).map(\.id))
        let steps = try statusCounts(
            tx, table: "steps", key: "task_id", ids: tasks.filter { !$0.isContainer }.map(\.id))
        return tasks.map { t in
            t.isContainer
                ? t.json(rollup: rollupJSON(children[t.id] ?? [:]), progress: .null)
                : t.json(rollup: .null, progress: StepRecord.progressJSON(steps[t.id] ?? [:]))
        }
    }

    /// `{total, todo, in_progress, blocked, done, cancelled}` of a container's direct children.
    static func rollupJSON(_ counts: [String: Int]) -> JSON {
        .obj([
            "total": counts.values.reduce(0, +), "todo": counts["todo"] ?? 0,
            "in_progress": counts["in_progress"] ?? 0, "blocked": counts["blocked"] ?? 0,
            "done": counts["done"] ?? 0, "cancelled": counts["cancelled"] ?? 0,
        ])
    }

    /// Rows of `table` counted by status for each `key` in `ids` (`tasks` by `parent_id`, `steps`
    /// by `task_id`; both columns are indexed). One id binds directly; several go in as one JSON
    /// array, so a whole page is one statement and one prepared statement serves every page size.
    static func statusCounts(_ tx: Tx, table: String, key: String, ids: [Int]) throws -> [Int: [String: Int]] {
        guard !ids.isEmpty else { return [:] }
        let rows: [SQLRow]
        if ids.count == 1 {
            rows = try tx.rows(
                "SELECT \(key) AS k, status, COUNT(*) AS n FROM \(table) WHERE \(key) = ? GROUP BY status", [ids[0]])
        } else {
            rows = try tx.rows(
                """
                SELECT \(key) AS k, status, COUNT(*) AS n FROM \(table)
                WHERE \(key) IN (SELECT value FROM json_each(?)) GROUP BY \(key), status
                """, [JSON.array(ids.map(JSON.int))])
        }
        var counts: [Int: [String: Int]] = [:]
        for r in rows { counts[r.int("k"), default: [:]][r.string("status")] = r.int("n") }
        return counts
    }

    /// Built field by field with concrete values: the generic `JSON.obj` boxed each value in an
    /// existential, about a twentieth of a `task.create` and more of a 100-row `task.list` page.
    func json(rollup: JSON, progress: JSON) -> JSON {
        func int(_ v: Int?) -> JSON { v.map(JSON.int) ?? .null }
        func text(_ v: String?) -> JSON { v.map(JSON.string) ?? .null }
        var o = JSONObject()
        o.reserve(21)
        o.appendDistinct("id", .int(id))
        o.appendDistinct("session_id", .int(sessionId))
        o.appendDistinct("level", .string(level.rawValue))
        o.appendDistinct("parent_id", int(parentId))
        o.appendDistinct("title", .string(title))
        o.appendDistinct("description", text(description))
        o.appendDistinct("status", .string(status.rawValue))
        o.appendDistinct("priority", .int(priority))
        o.appendDistinct("assignee_thread_id", int(assigneeThreadId))
        o.appendDistinct("assignee_session", text(assigneeSession))
        o.appendDistinct("input_contract", inputContract)
        o.appendDistinct("fixtures", fixtures)
        o.appendDistinct("next_action", text(nextAction))
        o.appendDistinct("summary", text(summary))
        o.appendDistinct("blocked_reason", text(blockedReason))
        o.appendDistinct("rollup", rollup)
        o.appendDistinct("steps_progress", progress)
        o.appendDistinct("created_at", .string(createdAt))
        o.appendDistinct("updated_at", .string(updatedAt))
        o.appendDistinct("started_at", text(startedAt))
        o.appendDistinct("completed_at", text(completedAt))
        return .object(o)
    }
}

/// A row of `steps`.
public struct StepRecord: Sendable {
    public var id: Int
    public var taskId: Int
    public var orderNo: Int
    public var title: String
    public var status: StepStatus
    public var evidence: JSON
    public var checkedByThreadId: Int?
    public var recordedAt: String?
    public var createdAt: String
    public var updatedAt: String

    public init(_ r: SQLRow) {
        id = r.int("id")
        taskId = r.int("task_id")
        orderNo = r.int("order_no")
        title = r.string("title")
        status = StepStatus(rawValue: r.string("status")) ?? .todo
        evidence = r.json("evidence")
        checkedByThreadId = r.optInt("checked_by_thread_id")
        recordedAt = r.optString("recorded_at")
        createdAt = r.string("created_at")
        updatedAt = r.string("updated_at")
    }

    public static func load(_ tx: Tx, _ id: Int) throws -> StepRecord? {
        try tx.row("SELECT * FROM steps WHERE id = ?", [id]).map(StepRecord.init)
    }

    public static func all(_ tx: Tx, caseId: Int) throws -> [StepRecord] {
        try tx.rows("SELECT * FROM steps WHERE task_id = ? ORDER BY order_no", [caseId]).map(StepRecord.init)
    }

    /// `{total, todo, done, failed, skipped}` of a case.
    public static func progress(_ tx: Tx, caseId: Int) throws -> JSON {
        progressJSON(try TaskRecord.statusCounts(tx, table: "steps", key: "task_id", ids: [caseId])[caseId] ?? [:])
    }

    /// A row that a write just returned (`… RETURNING *`); its absence means the row is gone.
    init(returned row: SQLRow?, id: Int) throws {
        guard let row else { throw CodestratorError.notFound("step", id) }
        self.init(row)
    }

    /// `{total, todo, done, failed, skipped}` of steps already in hand.
    static func progressJSON(_ steps: [StepRecord]) -> JSON {
        progressJSON(Dictionary(grouping: steps, by: \.status.rawValue).mapValues(\.count))
    }

    static func progressJSON(_ counts: [String: Int]) -> JSON {
        .obj([
            "total": counts.values.reduce(0, +), "todo": counts["todo"] ?? 0, "done": counts["done"] ?? 0,
            "failed": counts["failed"] ?? 0, "skipped": counts["skipped"] ?? 0,
        ])
    }

    public var json: JSON {
        .obj([
            "id": id, "task_id": taskId, "level": "step", "order_no": orderNo, "title": title,
            "status": status.rawValue,
            "evidence": evidence.isNull ? JSON.obj(["result": nil, "artifacts": [JSON]()]) : evidence,
            "checked_by_thread_id": checkedByThreadId, "recorded_at": recordedAt, "created_at": createdAt,
            "updated_at": updatedAt,
        ])
    }
}

/// A row of `checkpoints`.
public struct CheckpointRecord: Sendable {
    public var id: Int
    public var json: JSON

    public init(_ r: SQLRow) {
        id = r.int("id")
        json = .obj([
            "id": r.int("id"), "task_id": r.int("task_id"), "step_id": r.optInt("step_id"),
            "session_id": r.int("session_id"), "thread_id": r.optInt("thread_id"), "event": r.string("event"),
            "step_title": r.string("step_title"), "snapshot": r.json("snapshot"), "created_at": r.string("created_at"),
        ])
    }

    public static func latest(_ tx: Tx, taskId: Int) throws -> CheckpointRecord? {
        try tx.row("SELECT * FROM checkpoints WHERE task_id = ? ORDER BY id DESC LIMIT 1", [taskId])
            .map(CheckpointRecord.init)
    }
}

/// A row of `current_refs`.
public struct CurrentRefRecord: Sendable {
    public var id: Int
    public var sessionId: Int
    public var threadId: Int
    public var nodeType: String
    public var nodeId: Int
    public var checkpointId: Int?
    public var mode: String
    public var status: String
    public var nextAction: String?
    public var summary: String?
    public var requiredFiles: JSON
    public var version: Int
    public var ackedVersion: Int?
    public var ackedAt: String?
    public var createdAt: String
    public var updatedAt: String

    public init(_ r: SQLRow) {
        id = r.int("id")
        sessionId = r.int("session_id")
        threadId = r.int("thread_id")
        nodeType = r.string("node_type")
        nodeId = r.int("node_id")
        checkpointId = r.optInt("checkpoint_id")
        mode = r.string("mode")
        status = r.string("status")
        nextAction = r.optString("next_action")
        summary = r.optString("summary")
        requiredFiles = r.json("required_files")
        version = r.int("version")
        ackedVersion = r.optInt("acked_version")
        ackedAt = r.optString("acked_at")
        createdAt = r.string("created_at")
        updatedAt = r.string("updated_at")
    }

    public static func find(_ tx: Tx, sessionId: Int, threadId: Int) throws -> CurrentRefRecord? {
        try tx.row("SELECT * FROM current_refs WHERE session_id = ? AND thread_id = ?", [sessionId, threadId])
            .map(CurrentRefRecord.init)
    }

    public static func load(_ tx: Tx, _ id: Int) throws -> CurrentRefRecord? {
        try tx.row("SELECT * FROM current_refs WHERE id = ?", [id]).map(CurrentRefRecord.init)
    }

    public var json: JSON {
        .obj([
            "id": id, "session_id": sessionId, "thread_id": threadId, "node_type": nodeType, "node_id": nodeId,
            "checkpoint_id": checkpointId, "mode": mode, "status": status, "next_action": nextAction,
            "summary": summary, "required_files": requiredFiles.isNull ? JSON.array([]) : requiredFiles,
            "version": version, "acked_version": ackedVersion, "acked_at": ackedAt, "created_at": createdAt,
            "updated_at": updatedAt,
        ])
    }
}
