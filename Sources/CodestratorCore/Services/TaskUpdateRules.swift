/// What each child role may change with `task.update` (docs/methods.md#taskupdate "Limits for children"),
/// as one table instead of a branch per role. Roles without a row (root, merge-reviewer,
/// doc-mirror-manager) are limited by the registry's tool access, not here.
struct TaskUpdateRule: Sendable {
    /// Only a case assigned to the caller's own thread.
    let ownCaseOnly: Bool
    /// Fields the role may not send, in the order they are checked.
    let forbiddenFields: [String]
    /// What the role may send instead, for the error.
    let allowedFields: String
    /// The statuses the role may set.
    let allowedStatuses: [TaskStatus]

    static let byRole: [ProcessRole: TaskUpdateRule] = [
        .worker: TaskUpdateRule(
            ownCaseOnly: true,
            forbiddenFields: ["title", "priority", "description", "assignee_thread_id", "assignee_session"],
            allowedFields: "only status, reason and next_action", allowedStatuses: [.blocked, .inProgress]),
        .planArchitect: TaskUpdateRule(
            ownCaseOnly: false, forbiddenFields: ["assignee_thread_id", "assignee_session", "next_action"],
            allowedFields: "title, priority, description or status cancelled|todo",
            allowedStatuses: [.cancelled, .todo]),
    ]

    /// Throws `forbidden` for the first thing the caller's role may not do to `task`.
    static func check(_ input: TaskUpdateInput, task t: TaskRecord, caller: Caller) throws {
        guard let rule = byRole[caller.role] else { return }
        let role = caller.role.rawValue
        if rule.ownCaseOnly {
            guard t.level == .case, t.assigneeThreadId == caller.threadId else {
                throw CodestratorError(
                    .forbidden, "task \(t.id) is not a case assigned to thread \(caller.threadId ?? 0)",
                    expected: "your own case", field: "task_id")
            }
        }
        for f in rule.forbiddenFields where input.isGiven(f) {
            throw CodestratorError(
                .forbidden, "a \(role) may not change \(f)", expected: rule.allowedFields,
                field: f)
        }
        if let s = input.status?.rawValue, !rule.allowedStatuses.map(\.rawValue).contains(s) {
            throw CodestratorError(
                .forbidden, "a \(role) may not set status \(s)",
                expected: rule.allowedStatuses.map(\.rawValue).joined(separator: " or "), field: "status")
        }
    }
}
