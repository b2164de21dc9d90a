/// Outcome of `git worktree add -b`.
public enum WorktreeAddOutcome: Sendable, Equatable {
    case created
    /// The path or branch was taken (possibly by another process racing for the same name).
    case alreadyExists(String)
}

/// Everything Codestrator asks of git. The CLI implementation lives in CodestratorRuntime; unit
/// tests may use a fake. Arguments are validated before they get here; implementations pass them
/// as argv, never through a shell.
public protocol GitClient: Sendable {
    /// `git --version`, parsed (`2.39.5`).
    func version() async throws -> String
    /// The main worktree of the repository containing `dir`, or nil when `dir` is not inside a work tree.
    func mainWorktree(containing dir: String) async throws -> String?
    /// The branch checked out in `worktree` (nil: detached HEAD).
    func currentBranch(worktree: String) async throws -> String?
    /// The full commit id `rev` names, or nil.
    func resolveCommit(repo: String, rev: String) async throws -> String?
    func branchExists(repo: String, branch: String) async throws -> Bool
    /// `git check-ref-format --branch`.
    func isValidBranchName(_ name: String) async throws -> Bool
    func worktreeAdd(repo: String, branch: String, path: String, baseCommit: String) async throws
        -> WorktreeAddOutcome
    func worktreeRemove(repo: String, path: String, force: Bool) async throws
    func deleteBranch(repo: String, branch: String, force: Bool) async throws
    /// The `.git/info/exclude` path of the repository.
    func infoExcludePath(repo: String) async throws -> String
}
