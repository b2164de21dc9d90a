import CodestratorCore

/// orch_thread (methods.md §5). Registered; built by a later issue (answers `not_implemented`).
enum ThreadMethods {
    static let owner = "the child-agents issue"
    static let all: [MethodDefinition] = [
        method(
            "thread.child.spawn", .thread, "Start a child agent in a new tmux pane (and worktree)", ownedBy: owner),
        method(
            "thread.child.directive", .thread,
            "Send a directive: interrupt_patch, queue, restart, or an answer to a question", ownedBy: owner),
        method(
            "thread.child.list", .thread, "A session's threads with observed status", readOnly: true, ownedBy: owner),
        method("thread.child.interrupt", .thread, "Interrupt a child's current turn", ownedBy: owner),
        method("thread.child.stop", .thread, "Ask a child to exit, then close its pane", ownedBy: owner),
        method(
            "thread.child.status", .thread, "Observe one child: pane, provider status, last response", readOnly: true,
            ownedBy: owner),
        method(
            "thread.child.wait_status", .thread, "Wait (bounded) until a child reaches one of the given statuses",
            readOnly: true, ownedBy: owner),
        method(
            "thread.attach_info", .thread, "Read-only tmux attach commands for a session or thread", readOnly: true,
            ownedBy: owner),
    ]
}
