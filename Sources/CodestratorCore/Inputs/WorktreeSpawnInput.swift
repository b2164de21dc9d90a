/// What `worktree.spawn` takes: decoded once from the validated `Params` at the MCP edge, or built directly by
/// a service that creates a worktree for its own purpose (a child thread's spawn), so no service fills a
/// `Params` bag by hand. The defaults live here; the method registry declares them from these constants.
public struct WorktreeSpawnInput: Sendable, Equatable {
    public static let createOnDiskDefault = true

    /// The session the worktree belongs to; nil for a child caller (its own session).
    public var sessionId: Int?
    /// Default: the session root (for a child caller, its own worktree).
    public var parentWorktreeId: Int?
    public var taskId: Int?
    /// The slug's source after `slug` (then the task's title).
    public var reason: String?
    public var slug: String?
    /// Used as given: taken means conflict, no suffixing. Default `codestrator/<slug>`.
    public var branch: String?
    public var path: String?
    /// Default: the parent's tip.
    public var baseRef: String?
    public var createOnDisk: Bool

    public init(
        sessionId: Int?, parentWorktreeId: Int? = nil, taskId: Int? = nil, reason: String? = nil, slug: String? = nil,
        branch: String? = nil, path: String? = nil, baseRef: String? = nil,
        createOnDisk: Bool = WorktreeSpawnInput.createOnDiskDefault
    ) {
        (self.sessionId, self.parentWorktreeId, self.taskId) = (sessionId, parentWorktreeId, taskId)
        (self.reason, self.slug, self.branch, self.path, self.baseRef) = (reason, slug, branch, path, baseRef)
        self.createOnDisk = createOnDisk
    }

    /// From the call's validated parameters (the registry has filled in the defaults).
    public init(_ p: Params) {
        self.init(
            sessionId: p.int("session_id"), parentWorktreeId: p.int("parent_worktree_id"), taskId: p.int("task_id"),
            reason: p.string("reason"), slug: p.string("slug"), branch: p.string("branch"), path: p.string("path"),
            baseRef: p.string("base_ref"), createOnDisk: p.bool("create_on_disk") ?? Self.createOnDiskDefault)
    }
}
