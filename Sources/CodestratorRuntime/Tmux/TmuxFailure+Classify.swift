import CodestratorCore

extension TmuxFailure {
    /// The kind of failure tmux's stderr describes: the one place that reads tmux's wording (the CLI adapter
    /// and any other adapter that gets tmux's error text, such as a control-mode client, call it).
    public static func classify(stderr: String) -> TmuxFailure {
        let e = stderr.lowercased()
        if e.contains("can't find pane") { return .paneNotFound }
        if e.contains("can't find window") { return .windowNotFound }
        if e.contains("can't find session") { return .sessionNotFound }
        // "no space for new pane" (split-window); "pane too small" is the wording of newer releases.
        if e.contains("no space for new pane") || e.contains("pane too small") { return .noSpace }
        if e.contains("server exited unexpectedly") { return .serverExited }
        if e.contains("no server running") || e.contains("error connecting to") { return .serverNotRunning }
        return .other
    }
}
