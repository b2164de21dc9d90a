import Foundation

/// task.update: status moves within the legal transitions (containers only cancel and un-cancel: their status
/// is rolled up), plain fields, and the assignee of a case that is not in progress.
extension TaskService {
    /// The `SET` list of one UPDATE, built up field by field.
    struct ColumnSets {
        var sets: [String] = []
        var args: [any SQLArgument] = []

        mutating func set(_ col: String, _ v: any SQLArgument) {
            sets.append("\(col) = ?")
            args.append(v)
        }
    }

    public func update(_ input: TaskUpdateInput) async throws -> JSON {
        let caller = self.caller
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let t = try access.task(input.taskId)
            var warnings: [String] = []
            try TaskUpdateRule.check(input, task: t, caller: caller)
            var columns = ColumnSets()
            var statusChanged = false
            if let newStatus = input.status, newStatus != t.status {
                try Self.setStatus(tx, &columns, task: t, to: newStatus, reason: input.reason)
                statusChanged = true
            }
            if let title = input.title { columns.set("title", title) }
            if let prio = input.priority { columns.set("priority", prio) }
            if input.description.isGiven { columns.set("description", input.description.newValue) }
            if input.nextAction.isGiven { columns.set("next_action", input.nextAction.newValue) }
            if input.assigneeSession.isGiven { columns.set("assignee_session", input.assigneeSession.newValue) }
            if input.assigneeThreadId.isGiven {
                try Self.checkAssignee(access, task: t, threadId: input.assigneeThreadId.newValue)
                columns.set("assignee_thread_id", input.assigneeThreadId.newValue)
            }
            let before = try t.json(tx)
            if !columns.sets.isEmpty {
                columns.set("updated_at", tx.now)
                try tx.execute(
                    "UPDATE tasks SET \(columns.sets.joined(separator: ", ")) WHERE id = ?", columns.args + [t.id])
            }
            let after = try TaskRecord.load(tx, t.id)!
            var afterJSON = try after.json(tx)
            if statusChanged {
                if t.isContainer { try Rollup.recompute(tx, after) }
                try Rollup.recomputeAncestors(tx, from: t.parentId)
                if !t.isContainer {
                    try StepProgress.checkpoint(
                        tx, event: .taskUpdate, task: after, step: nil, threadId: caller.threadId,
                        extra: .obj(["from": t.status.rawValue, "to": after.status.rawValue, "reason": input.reason]))
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

    /// The columns a status move of `t` sets, after its checks: a container only cancels or un-cancels
    /// (its status is rolled up); a case moves within the legal transitions, one in-progress case per child.
    static func setStatus(
        _ tx: Tx, _ columns: inout ColumnSets, task t: TaskRecord, to newStatus: TaskStatus, reason: String?
    ) throws {
        if (newStatus == .blocked || newStatus == .cancelled) && reason == nil {
            throw CodestratorError(
                .invalidParams, "field \"reason\" is required with status \(newStatus.rawValue)",
                expected: "text saying why", field: "reason")
        }
        if t.isContainer {
            switch (t.status == .cancelled, newStatus) {
            case (_, .cancelled):
                columns.set("cancelled", true)
            case (true, .todo):
                columns.set("cancelled", false)
            default:
                throw CodestratorError(
                    .invalidState, "\(t.level.rawValue) \(t.id) status is rolled up from its children",
                    expected: "cancelled or todo", field: "status")
            }
            return
        }
        if t.status == .todo && newStatus == .inProgress {
            throw CodestratorError(
                .invalidState, "case \(t.id) cannot go from todo to in_progress", expected: "case.begin",
                field: "status")
        }
        try t.status.checkMove(
            to: newStatus, entity: "case \(t.id)", expected: newStatus == .done ? "case.begin then case.complete" : nil)
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
        columns.set("status", newStatus.rawValue)
        columns.set("blocked_reason", newStatus == .blocked ? reason : nil as String?)
        if newStatus == .cancelled { columns.set("summary", reason) }
    }

    /// A new assignee (or none) is only for a case that is not in progress, and must be a worker of its session.
    static func checkAssignee(_ access: Access, task t: TaskRecord, threadId: Int?) throws {
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
        if let aid = threadId {
            let th = try access.thread(aid, field: "assignee_thread_id")
            guard th.sessionId == t.sessionId, th.role == .worker else {
                throw CodestratorError(
                    .invalidParams, "thread \(aid) is not a worker of session \(t.sessionId)",
                    expected: "a worker thread of session \(t.sessionId)", field: "assignee_thread_id")
            }
        }
    }
}
