import CodestratorCore

/// orch_merge (methods.md §7). Registered; built by a later issue (answers `not_implemented`).
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
