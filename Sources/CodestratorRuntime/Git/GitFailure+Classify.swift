import CodestratorCore

extension GitFailure {
    /// The kind of failure git's stderr describes (git runs with `LC_ALL=C`, so the wording is English): the
    /// one place that reads git's wording.
    public static func classify(stderr: String) -> GitFailure {
        // `Unable to create '…/index.lock': File exists.`: checked first, as the CLI adapter retries it.
        if stderr.contains(".lock") && stderr.contains("exists") { return .lockContention }
        if stderr.contains("already exists") || stderr.contains("already checked out")
            || stderr.contains("is already used by worktree")
        {
            return .alreadyExists
        }
        if stderr.contains("is not a working tree") { return .notAWorktree }
        if stderr.contains("not a git repository") { return .notARepository }
        return .other
    }
}
