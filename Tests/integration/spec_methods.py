"""The method registry as the spec states it (docs/methods.md#codestrator-method-reference), used to check tools/list.

Copied here rather than read from the spec folder so that the suite runs anywhere the repository is checked out.
Each row: (method, tool, summary, read_only) where read_only is "yes", "no", "obs" or "yes*".
"""

TOOLS = [
    "orch_session",
    "orch_task",
    "orch_graph",
    "orch_workspace",
    "orch_thread",
    "orch_lifecycle",
    "orch_merge",
    "orch_inbox",
    "orch_system",
    "orchestrator_call",
]

DESTRUCTIVE_TOOLS = {"orch_session", "orch_workspace", "orch_thread", "orch_merge"}

METHODS = [
    ("workspace.init", "orch_session", "Prepare `.codestrator/` and report repository, database and tool versions", "no"),
    ("session.open", "orch_session", "Open a session in its own new worktree, or resume a stale one", "no"),
    ("session.heartbeat", "orch_session", "Mark a session alive", "no"),
    ("session.close", "orch_session", "Close a session that has nothing left running", "no"),
    ("session.cleanup", "orch_session", "Stop a session's children, kill its viewer, release its locks, close it", "no"),
    ("session.list", "orch_session", "List this repository's sessions with liveness", "yes"),
    ("session.context", "orch_session", "A session with its worktrees, current ref and counts", "yes"),
    ("task.create", "orch_task", "Create an epic, feature, testgroup, case or planned step", "no"),
    ("task.list", "orch_task", "List tasks with filters and roll-up counts", "yes"),
    ("task.get", "orch_task", "One task with steps, children, ancestors and latest checkpoint", "yes"),
    ("task.update", "orch_task", "Change status, title, priority, assignee or notes within legal transitions", "no"),
    ("case.begin", "orch_task", "Start or resume a case for a thread and plan its steps", "no"),
    ("step.check", "orch_task", "Record the result of a planned step (or append one)", "no"),
    ("case.complete", "orch_task", "Finish a case once its steps are checked", "no"),
    ("resume.next", "orch_task", "The case and next unchecked step to work on in a scope", "yes"),
    ("resume.candidates.list", "orch_task", "Stale sessions that can be resumed", "yes"),
    ("resume.candidates.attach", "orch_task", "Resume a stale session; the caller continues it", "no"),
    ("graph.node.create", "orch_graph", "Create a planning graph node", "no"),
    ("graph.node.list", "orch_graph", "List graph nodes with filters", "yes"),
    ("graph.node.get", "orch_graph", "A node with its edges, checklist, snapshots and children", "yes"),
    ("graph.edge.create", "orch_graph", "Link two nodes; rejects duplicates and cycles", "no"),
    ("graph.checklist.upsert", "orch_graph", "Add or update a checklist item of a node", "no"),
    ("graph.snapshot.create", "orch_graph", "Record a snapshot note on a node", "no"),
    ("scheduler.decide_worktree", "orch_workspace", "Score whether a split of work needs its own worktree", "yes"),
    ("worktree.create", "orch_workspace", "Create a worktree and branch under `.codestrator/worktrees/`", "no"),
    ("worktree.list", "orch_workspace", "List worktrees, optionally with live git status", "yes"),
    ("worktree.spawn", "orch_workspace", "Create a child worktree and branch from a worktree of the session", "no"),
    ("worktree.merge_to_parent", "orch_workspace", "Merge a child branch into its parent worktree (`git merge --no-ff`)", "no"),
    ("worktree.remove", "orch_workspace", "Remove a merged or abandoned worktree and its branch", "no"),
    ("lock.acquire", "orch_workspace", "Take or refresh a lease on a file or path prefix", "no"),
    ("lock.heartbeat", "orch_workspace", "Extend a lease you own", "no"),
    ("lock.release", "orch_workspace", "Release a lease you own", "no"),
    ("lock.list", "orch_workspace", "List locks by state, owner, session or path", "yes"),
    ("thread.child.spawn", "orch_thread", "Start a child agent in a new tmux pane (and worktree)", "no"),
    ("thread.child.directive", "orch_thread", "Send a directive: interrupt_patch, queue, restart, or an answer to a question", "no"),
    ("thread.child.list", "orch_thread", "A session's threads with observed status", "obs"),
    ("thread.child.interrupt", "orch_thread", "Interrupt a child's current turn", "no"),
    ("thread.child.stop", "orch_thread", "Ask a child to exit, then close its pane", "no"),
    ("thread.child.status", "orch_thread", "Observe one child: pane, provider status, last response", "obs"),
    ("thread.child.wait_status", "orch_thread", "Wait (bounded) until a child reaches one of the given statuses", "obs"),
    ("thread.attach_info", "orch_thread", "Read-only tmux attach commands for a session or thread", "yes"),
    ("work.current_ref", "orch_lifecycle", "Read the caller's current ref, or write it with `set`", "yes*"),
    ("work.current_ref.ack", "orch_lifecycle", "Acknowledge a current ref version after reloading context", "no"),
    ("work.report", "orch_lifecycle", "Report done, blocked or failed to the parent thread", "no"),
    ("merge.request", "orch_merge", "Record what is to be reviewed: a task and a worktree", "no"),
    ("merge.review_context", "orch_merge", "Everything a reviewer needs: branches, diff, commits, case evidence", "yes"),
    ("merge.review.request_auto", "orch_merge", "Dispatch a reviewer child under the main merge lock", "no"),
    ("merge.review.thread_status", "orch_merge", "A review job, its reviewer's status and the verdict", "no"),
    ("merge.review.submit", "orch_merge", "Record a verdict APPROVE or BLOCK with findings", "no"),
    ("merge.main.request", "orch_merge", "Queue a session root for merging into the target branch", "no"),
    ("merge.main.next", "orch_merge", "The head of the merge queue", "yes"),
    ("merge.main.status", "orch_merge", "One queue item, or the whole queue, with the lock", "yes"),
    ("merge.main.acquire_lock", "orch_merge", "Take the main merge lock for the queue head and dispatch its review", "no"),
    ("merge.main.release_lock", "orch_merge", "Merge the approved head into the target branch, then release the lock", "no"),
    ("inbox.send", "orch_inbox", "Send a message to a thread of the session, optionally into its pane", "no"),
    ("inbox.pending", "orch_inbox", "Undelivered messages of a thread", "yes"),
    ("inbox.list", "orch_inbox", "A thread's sent and received messages", "yes"),
    ("inbox.deliver", "orch_inbox", "Mark a received message as delivered", "no"),
    ("runtime.tmux.ensure", "orch_system", "Check tmux; install it only when `auto_install` is true", "no"),
    ("runtime.bundle.info", "orch_system", "Binary, versions, client configs and installed skills", "yes"),
    ("mirror.status", "orch_system", "The mirror file, its last refresh and whether it is outdated", "yes"),
    ("mirror.refresh", "orch_system", "Write `.codestrator/mirror/STATE.md` from the database, atomically", "no"),
    ("plan.bootstrap", "orch_system", "Create an initiative, its plan and the `contains` edge", "no"),
    ("plan.slice.generate", "orch_system", "Create plan slices, enforcing the planning rules", "no"),
    ("plan.slice.replan", "orch_system", "Record a replan and update a slice's estimate or files", "no"),
    ("plan.rollup.preview", "orch_system", "Summarise a node's children by status", "yes"),
    ("plan.rollup.submit", "orch_system", "Submit a node's roll-up for approval", "no"),
    ("plan.rollup.approve", "orch_system", "Approve a submitted roll-up", "no"),
    ("plan.rollup.reject", "orch_system", "Reject a submitted roll-up with a reason", "no"),
]

assert len(METHODS) == 69

TOOL_OF = {m: t for (m, t, _s, _r) in METHODS}


def methods_of(tool: str) -> list[str]:
    """The methods of one tool in registry order (orchestrator_call: all of them)."""
    if tool == "orchestrator_call":
        return [m for (m, _t, _s, _r) in METHODS]
    return [m for (m, t, _s, _r) in METHODS if t == tool]
