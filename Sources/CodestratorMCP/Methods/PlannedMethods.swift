import CodestratorCore

// Methods registered now and built by later issues: they answer `not_implemented`, never a fake
// success.

enum GraphMethods {
    static let owner = "the planning-graph issue"
    static let all: [MethodDefinition] = [
        method("graph.node.create", .graph, "Create a planning graph node", roles: "P", ownedBy: owner),
        method("graph.node.list", .graph, "List graph nodes with filters", readOnly: true, roles: "VP", ownedBy: owner),
        method(
            "graph.node.get", .graph, "A node with its edges, checklist, snapshots and children", readOnly: true,
            roles: "VP", ownedBy: owner),
        method(
            "graph.edge.create", .graph, "Link two nodes; rejects duplicates and cycles", roles: "P", ownedBy: owner),
        method(
            "graph.checklist.upsert", .graph, "Add or update a checklist item of a node", roles: "P", ownedBy: owner),
        method("graph.snapshot.create", .graph, "Record a snapshot note on a node", roles: "P", ownedBy: owner),
    ]
}

enum WorkspaceMethods {
    static let owner = "the workspace issue"
    static let all: [MethodDefinition] = [
        method(
            "scheduler.decide_worktree", .workspace, "Score whether a split of work needs its own worktree",
            readOnly: true, roles: "W", ownedBy: owner),
        method(
            "worktree.create", .workspace, "Create a worktree and branch under `.codestrator/worktrees/`",
            ownedBy: owner),
        method(
            "worktree.list", .workspace, "List worktrees, optionally with live git status", readOnly: true, roles: "W",
            ownedBy: owner),
        method(
            "worktree.spawn", .workspace, "Create a child worktree and branch from a worktree of the session",
            roles: "W", ownedBy: owner),
        method(
            "worktree.merge_to_parent", .workspace,
            "Merge a child branch into its parent worktree (`git merge --no-ff`)", roles: "W", ownedBy: owner),
        method(
            "worktree.remove", .workspace, "Remove a merged or abandoned worktree and its branch", roles: "W",
            ownedBy: owner),
        method(
            "lock.acquire", .workspace, "Take or refresh a lease on a file or path prefix", roles: "W", ownedBy: owner),
        method("lock.heartbeat", .workspace, "Extend a lease you own", roles: "W", ownedBy: owner),
        method("lock.release", .workspace, "Release a lease you own", roles: "W", ownedBy: owner),
        method(
            "lock.list", .workspace, "List locks by state, owner, session or path", readOnly: true, roles: "W",
            ownedBy: owner),
    ]
}

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

enum MergeMethods {
    static let owner = "the merge-queue issue"
    static let all: [MethodDefinition] = [
        method("merge.request", .merge, "Record what is to be reviewed: a task and a worktree", ownedBy: owner),
        method(
            "merge.review_context", .merge, "Everything a reviewer needs: branches, diff, commits, case evidence",
            readOnly: true, roles: "V", ownedBy: owner),
        method(
            "merge.review.request_auto", .merge, "Dispatch a reviewer child under the main merge lock", ownedBy: owner),
        method(
            "merge.review.thread_status", .merge, "A review job, its reviewer's status and the verdict", roles: "V",
            ownedBy: owner),
        method(
            "merge.review.submit", .merge, "Record a verdict APPROVE or BLOCK with findings", roles: "V", ownedBy: owner
        ),
        method(
            "merge.main.request", .merge, "Queue a session root for merging into the target branch", ownedBy: owner),
        method("merge.main.next", .merge, "The head of the merge queue", readOnly: true, roles: "V", ownedBy: owner),
        method(
            "merge.main.status", .merge, "One queue item, or the whole queue, with the lock", readOnly: true,
            roles: "V", ownedBy: owner),
        method(
            "merge.main.acquire_lock", .merge, "Take the main merge lock for the queue head and dispatch its review",
            ownedBy: owner),
        method(
            "merge.main.release_lock", .merge, "Merge the approved head into the target branch, then release the lock",
            ownedBy: owner),
    ]
}

enum InboxMethods {
    static let owner = "the inbox issue"
    static let all: [MethodDefinition] = [
        method(
            "inbox.send", .inbox, "Send a message to a thread of the session, optionally into its pane", roles: "WVPD",
            ownedBy: owner),
        method(
            "inbox.pending", .inbox, "Undelivered messages of a thread", readOnly: true, roles: "WVPD", ownedBy: owner),
        method(
            "inbox.list", .inbox, "A thread's sent and received messages", readOnly: true, roles: "WVPD", ownedBy: owner
        ),
        method("inbox.deliver", .inbox, "Mark a received message as delivered", roles: "WVPD", ownedBy: owner),
    ]
}

enum SystemMethods {
    static let owner = "the planning/mirror issue"
    static let all: [MethodDefinition] = [
        method(
            "runtime.tmux.ensure", .system, "Check tmux; install it only when `auto_install` is true",
            ownedBy: "the child-agents issue"),
        method(
            "runtime.bundle.info", .system, "Binary, versions, client configs and installed skills", readOnly: true,
            roles: "PD", ownedBy: owner),
        method(
            "mirror.status", .system, "The mirror file, its last refresh and whether it is outdated", readOnly: true,
            roles: "PD", ownedBy: owner),
        method(
            "mirror.refresh", .system, "Write `.codestrator/mirror/STATE.md` from the database, atomically",
            roles: "D", ownedBy: owner),
        method(
            "plan.bootstrap", .system, "Create an initiative, its plan and the `contains` edge", roles: "P",
            ownedBy: owner),
        method(
            "plan.slice.generate", .system, "Create plan slices, enforcing the planning rules", roles: "P",
            ownedBy: owner),
        method(
            "plan.slice.replan", .system, "Record a replan and update a slice's estimate or files", roles: "P",
            ownedBy: owner),
        method(
            "plan.rollup.preview", .system, "Summarise a node's children by status", readOnly: true, roles: "P",
            ownedBy: owner),
        method("plan.rollup.submit", .system, "Submit a node's roll-up for approval", roles: "P", ownedBy: owner),
        method("plan.rollup.approve", .system, "Approve a submitted roll-up", ownedBy: owner),
        method("plan.rollup.reject", .system, "Reject a submitted roll-up with a reason", ownedBy: owner),
    ]
}
