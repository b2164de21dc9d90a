/// The inputs of orch_workspace's worktree methods (`worktree.spawn` has WorktreeSpawnInput): each decoded once
/// from the validated `Params` at the MCP edge (the registry has filled in the defaults, declared from the
/// constants here), or built directly by a caller inside the core or a test.

/// `scheduler.decide_worktree`: the factors of the score, each 0 when not given.
public struct WorktreeDecisionInput: Sendable, Equatable {
    public static let factorDefault = 0
    /// The parameter names, in the order of the fields below.
    public static let factorNames = [
        "changed_files", "estimate_minutes", "risk", "parallel_workers", "conflicting_paths",
    ]

    public var changedFiles = Self.factorDefault
    public var estimateMinutes = Self.factorDefault
    public var risk = Self.factorDefault
    public var parallelWorkers = Self.factorDefault
    public var conflictingPaths = Self.factorDefault

    public init() {}

    public init(_ p: Params) {
        changedFiles = p.int("changed_files") ?? Self.factorDefault
        estimateMinutes = p.int("estimate_minutes") ?? Self.factorDefault
        risk = p.int("risk") ?? Self.factorDefault
        parallelWorkers = p.int("parallel_workers") ?? Self.factorDefault
        conflictingPaths = p.int("conflicting_paths") ?? Self.factorDefault
    }
}

/// `worktree.create`: a worktree and branch of its own, not tied to a session's tree unless told.
public struct WorktreeCreateInput: Sendable, Equatable {
    public static let createOnDiskDefault = true

    public var branch: String
    /// Default: named by the branch's slug, under `.codestrator/worktrees/`.
    public var path: String?
    /// Default: the main worktree's branch.
    public var baseRef: String?
    public var sessionId: Int?
    public var parentWorktreeId: Int?
    public var taskId: Int?
    public var createOnDisk = Self.createOnDiskDefault

    public init(branch: String, path: String? = nil, baseRef: String? = nil) {
        (self.branch, self.path, self.baseRef) = (branch, path, baseRef)
    }

    public init(_ p: Params) throws {
        self.init(branch: try p.reqString("branch"), path: p.string("path"), baseRef: p.string("base_ref"))
        sessionId = p.int("session_id")
        parentWorktreeId = p.int("parent_worktree_id")
        taskId = p.int("task_id")
        createOnDisk = p.bool("create_on_disk") ?? Self.createOnDiskDefault
    }
}

/// `worktree.list`: filters and a page.
public struct WorktreeListInput: Sendable, Equatable {
    public static let includeRemovedDefault = false
    public static let withGitStatusDefault = false

    public var sessionId: Int?
    public var kind: String?
    public var status: String?
    public var mergeState: String?
    public var parentWorktreeId: Int?
    public var includeRemoved = Self.includeRemovedDefault
    public var withGitStatus = Self.withGitStatusDefault
    public var page = ListPage()

    public init(sessionId: Int? = nil) { self.sessionId = sessionId }

    public init(_ p: Params) {
        self.init(sessionId: p.int("session_id"))
        kind = p.string("kind")
        status = p.string("status")
        mergeState = p.string("merge_state")
        parentWorktreeId = p.int("parent_worktree_id")
        includeRemoved = p.bool("include_removed") ?? Self.includeRemovedDefault
        withGitStatus = p.bool("with_git_status") ?? Self.withGitStatusDefault
        page = ListPage(p)
    }
}

/// `worktree.merge_to_parent`.
public struct WorktreeMergeInput: Sendable, Equatable {
    public static let includeUncommittedDefault = false

    /// Required from the root; a child caller's own worktree otherwise.
    public var worktreeId: Int?
    /// Must be the worktree's session when given.
    public var sessionId: Int?
    /// Commit the child's uncommitted changes first (with `commitMessage`).
    public var includeUncommitted = Self.includeUncommittedDefault
    public var commitMessage: String?
    /// The merge commit's message.
    public var message: String?

    public init(worktreeId: Int?, sessionId: Int? = nil) { (self.worktreeId, self.sessionId) = (worktreeId, sessionId) }

    public init(_ p: Params) {
        self.init(worktreeId: p.int("worktree_id"), sessionId: p.int("session_id"))
        includeUncommitted = p.bool("include_uncommitted") ?? Self.includeUncommittedDefault
        commitMessage = p.string("commit_message")
        message = p.string("message")
    }
}

/// `worktree.remove`.
public struct WorktreeRemoveInput: Sendable, Equatable {
    public static let forceDefault = false
    public static let deleteBranchDefault = true

    public var worktreeId: Int
    /// Root only: discard unmerged work.
    public var force: Bool
    public var deleteBranch: Bool

    public init(
        worktreeId: Int, force: Bool = Self.forceDefault, deleteBranch: Bool = Self.deleteBranchDefault
    ) {
        (self.worktreeId, self.force, self.deleteBranch) = (worktreeId, force, deleteBranch)
    }

    public init(_ p: Params) throws {
        self.init(
            worktreeId: try p.req("worktree_id"), force: p.bool("force") ?? Self.forceDefault,
            deleteBranch: p.bool("delete_branch") ?? Self.deleteBranchDefault)
    }
}
