import CodestratorCore

/// orch_system (methods.md §9). Registered; built by a later issue (answers `not_implemented`).
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
