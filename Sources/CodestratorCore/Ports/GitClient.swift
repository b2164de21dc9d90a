/// Outcome of `git worktree add -b`.
public enum WorktreeAddOutcome: Sendable, Equatable {
    case created
    /// The path or branch was taken (possibly by another process racing for the same name).
    case alreadyExists(String)
}

/// Everything Codestrator asks of git. The CLI implementation lives in CodestratorRuntime; unit
/// tests may use a fake. Arguments are validated before they get here; implementations pass them
/// as argv, never through a shell.
public protocol GitClient: GitWorktreeOps, GitReviewOps {
    /// `git --version`, parsed (`2.39.5`).
    func version() async throws -> String
    /// The main worktree of the repository containing `dir`, or nil when `dir` is not inside a work tree.
    func mainWorktree(containing dir: String) async throws -> String?
    /// The branch checked out in `worktree` (nil: detached HEAD).
    func currentBranch(worktree: String) async throws -> String?
    /// The full commit id `rev` names, or nil.
    func resolveCommit(repo: String, rev: String) async throws -> String?
    func branchExists(repo: String, branch: String) async throws -> Bool
    /// `git check-ref-format --branch` accepts the name and prints it back unchanged.
    func isValidBranchName(_ name: String) async throws -> Bool
    /// `git rev-parse --show-toplevel` in `dir`: the work tree `dir` belongs to (nil: none). A directory that
    /// is not itself a worktree answers its enclosing one, which is how a deleted and recreated worktree
    /// directory is told apart from the worktree.
    func topLevel(of dir: String) async throws -> String?
    func worktreeAdd(repo: String, branch: String, path: String, baseCommit: String) async throws
        -> WorktreeAddOutcome
    func worktreeRemove(repo: String, path: String, force: Bool) async throws
    func deleteBranch(repo: String, branch: String, force: Bool) async throws
    /// The `.git/info/exclude` path of the repository.
    func infoExcludePath(repo: String) async throws -> String
}

/// The outcome of a merge attempt in a worktree.
public enum GitMergeOutcome: Sendable, Equatable {
    case merged
    /// Conflicts (files listed); the merge was aborted and the worktree verified unchanged.
    case conflict([String])
    /// Any other failure (a hook, untracked files in the way); aborted the same way.
    case failed(String)
}

/// Worktree and merge operations (docs/runtime-guide.md#worktrees-and-slugs, docs/runtime-guide.md#merge-queue-and-main-merge-lock).
public protocol GitWorktreeOps: Sendable {
    /// Files with changes: tracked and untracked (`untracked: true`), or tracked only.
    func dirtyFiles(worktree: String, untracked: Bool) async throws -> [String]
    /// A merge, rebase or cherry-pick in progress.
    func operationInProgress(worktree: String) async throws -> Bool
    func isAncestor(repo: String, _ a: String, of b: String) async throws -> Bool
    /// `rev-list --count a..b`: commits of b missing from a.
    func countMissing(repo: String, from a: String, in b: String) async throws -> Int
    /// `git add -A` + `git commit -m`; returns the new commit.
    func commitAll(worktree: String, message: String) async throws -> String
    /// `git merge [--no-ff|--ff-only] …` of `commit`; on failure lists conflicts, aborts and verifies HEAD.
    func merge(worktree: String, commit: String, message: String?, fastForwardOnly: Bool) async throws
        -> GitMergeOutcome
    /// `git diff --name-only a b`.
    func changedFiles(worktree: String, from a: String, to b: String) async throws -> [String]
    /// Entries of `git worktree list` (path, branch or nil).
    func worktrees(repo: String) async throws -> [(path: String, branch: String?)]
    /// `git worktree prune`.
    func prune(repo: String) async throws
}

/// Read-only git for review contexts and the main merge (docs/runtime-guide.md#merge-queue-and-main-merge-lock).
public protocol GitReviewOps: Sendable {
    func mergeBase(repo: String, _ a: String, _ b: String) async throws -> String?
    /// Commits of `range` newest first: (sha, subject, author, ISO date), at most `max`.
    func log(repo: String, range: String, max: Int) async throws -> [(String, String, String, String)]
    /// `diff --name-status -z -M` rows: (status letter, path, old path).
    func nameStatus(repo: String, from a: String, to b: String) async throws -> [(String, String, String?)]
    /// `diff --numstat -z -M`: path → (insertions, deletions), nil counts for binary files.
    func numstat(repo: String, from a: String, to b: String) async throws -> [String: (Int?, Int?)]
    func diffStat(repo: String, from a: String, to b: String) async throws -> String
    /// The unified diff cut at `maxBytes` on a line boundary; also returns the full size.
    func diff(repo: String, from a: String, to b: String, maxBytes: Int) async throws -> (String, Int, Bool)
}
