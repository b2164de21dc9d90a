/// What went wrong in an outside program, classified once by the adapter that ran it, so that callers
/// decide on a kind and never on the program's wording (which changes between versions and locales).
/// It rides on the `CodestratorError` the adapter throws (`CodestratorError.failure`): the error's code
/// and message, which callers see, stay as they were.
public enum AdapterFailure: Sendable, Equatable {
    case tmux(TmuxFailure)
    case git(GitFailure)
}

/// A tmux command's failure, by kind.
public enum TmuxFailure: Sendable, Equatable {
    /// The target pane is gone (closed by another process, or its window died).
    case paneNotFound
    case sessionNotFound
    case windowNotFound
    /// The pane to split is too small for another pane.
    case noSpace
    /// No server listens on the socket.
    case serverNotRunning
    /// The server exited while it answered (the last session was just killed); nothing was done.
    case serverExited
    case other
}

/// A git command's failure, by kind.
public enum GitFailure: Sendable, Equatable {
    /// The directory is not inside any git repository.
    case notARepository
    /// The path is not a working tree of the repository (`worktree remove` of a stranger).
    case notAWorktree
    /// The branch or path a `worktree add -b` wanted is taken.
    case alreadyExists
    /// Another git process holds one of the repository's `.lock` files.
    case lockContention
    case other
}

extension CodestratorError {
    /// The classified adapter failure behind this error (nil: not an adapter failure).
    public var tmuxFailure: TmuxFailure? {
        if case .tmux(let f) = failure { return f }
        return nil
    }

    public var gitFailure: GitFailure? {
        if case .git(let f) = failure { return f }
        return nil
    }
}
