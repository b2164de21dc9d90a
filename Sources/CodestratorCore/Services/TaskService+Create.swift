import Foundation

/// task.create: the checks run in a fixed order (parent and level, session, the caller's role, case-only
/// fields), since which error wins when two things are wrong is part of the contract; then a step is appended
/// or a task inserted.
extension TaskService {
    public func create(_ input: TaskCreateInput) async throws -> JSON {
        let caller = self.caller
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let level = input.level
            let parent = try Self.createParent(access, level: level, parentId: input.parentId)
            let session = try Self.createSession(access, parent: parent, sessionId: input.sessionId)
            try Self.checkCreateRole(caller, level: level, parent: parent)
            for field in input.caseOnlyFieldsGiven where level != .case {
                throw CodestratorError(
                    .invalidParams, "field \"\(field)\" is given for level \"\(level.rawValue)\"",
                    expected: "\(field) only for cases",
                    field: field)
            }
            tx.bumpVersion()
            if level == .step {
                return try Self.createStep(tx, parent: parent!, title: input.title).json
            }
            let id = try Self.insertTask(tx, access: access, input, session: session, parent: parent)
            return try Self.createdTaskJSON(tx, id: id, level: level)
        }
    }

    /// The parent a level needs: none for an epic, else an existing, not cancelled task exactly one level up.
    static func createParent(_ access: Access, level: TaskLevel, parentId: Int?) throws -> TaskRecord? {
        var parent: TaskRecord?
        if let parentId {
            parent = try access.task(parentId, field: "parent_id")
        }
        if level == .epic {
            if let parent {
                throw CodestratorError(
                    .invalidParams, "field \"parent_id\" is \(parent.id) for level \"epic\"",
                    expected: "no parent_id for an epic",
                    field: "parent_id")
            }
            return nil
        }
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
        return parent
    }

    /// The session: an epic names it; other levels take the parent's (a given `session_id` must equal it).
    static func createSession(_ access: Access, parent: TaskRecord?, sessionId given: Int?) throws -> SessionRecord {
        guard let parent else {
            guard let s = try access.sessionParam(id: given) else {
                throw CodestratorError(
                    .invalidParams, "field \"session_id\" is required for level \"epic\"",
                    expected: "the id of a session",
                    field: "session_id")
            }
            return s
        }
        let session = try access.session(parent.sessionId)
        if let given, given != parent.sessionId {
            if access.caller.isChild {
                throw CodestratorError.notFound("session", given, expected: "your own session", field: "session_id")
            }
            throw CodestratorError(
                .invalidParams,
                "field \"session_id\" is \(given) but parent \(parent.id) belongs to session \(parent.sessionId)",
                expected: "the parent's session", field: "session_id")
        }
        return session
    }

    /// A worker creates only steps of its own in-progress case; other roles are limited by tool access.
    static func checkCreateRole(_ caller: Caller, level: TaskLevel, parent: TaskRecord?) throws {
        guard caller.role == .worker else { return }
        guard level == .step, let parent, parent.status == .inProgress, parent.assigneeThreadId == caller.threadId
        else {
            throw CodestratorError(
                .forbidden, "a worker may create only steps of its own in-progress case",
                expected: "level step with parent_id of your in-progress case", field: "level")
        }
    }

    /// A step appended to its case (`parent`), which must not be done.
    static func createStep(_ tx: Tx, parent: TaskRecord, title: String) throws -> StepRecord {
        if parent.status == .done {
            throw CodestratorError(
                .invalidState, "case \(parent.id) is done", expected: "case.begin with reopen:true first",
                field: "parent_id")
        }
        return try appendStep(tx, caseId: parent.id, title: title)
    }

    /// Inserts the task (a case with its planned steps) and rolls its ancestors up; returns its id.
    static func insertTask(
        _ tx: Tx, access: Access, _ input: TaskCreateInput, session: SessionRecord, parent: TaskRecord?
    ) throws -> Int {
        var assignee: Int?
        if let aid = input.assigneeThreadId {
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
                session.id, input.level.rawValue, parent?.id, input.title, input.description, input.priority,
                assignee, input.assigneeSession, input.inputContract ?? .null, tx.now, tx.now,
            ])
        if input.level == .case {
            var seen = Set<String>()
            for s in input.steps ?? [] {
                guard seen.insert(s).inserted else {
                    throw CodestratorError(
                        .invalidParams, "field \"steps\" names \(quoted(s)) twice", expected: "unique step titles",
                        field: "steps")
                }
                try appendStep(tx, caseId: id, title: s)
            }
        }
        try Rollup.recomputeAncestors(tx, from: parent?.id)
        return id
    }

    /// The new task as task.create returns it.
    static func createdTaskJSON(_ tx: Tx, id: Int, level: TaskLevel) throws -> JSON {
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
