import Foundation

/// What a root server does between calls, every 2 s (Serve's loop): the Markdown mirror follows the state, and
/// finished children's panes close once people have had time to read them.
public struct Housekeeping: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    /// How long a finished child's pane stays open with its last screen: `CODESTRATOR_FINISHED_PANE_SECONDS`,
    /// default 600 (10 minutes).
    public static var finishedPaneSeconds: Double {
        ProcessInfo.processInfo.environment["CODESTRATOR_FINISHED_PANE_SECONDS"].flatMap(Double.init).map {
            max(0, $0)
        } ?? 600
    }

    public func run(sessions: [Int]) async {
        guard !sessions.isEmpty else { return }
        await refreshMirrorIfOutdated()
        await closeFinishedPanes(sessions: sessions, keepSeconds: Self.finishedPaneSeconds)
    }

    /// Rewrites `STATE.md` (atomically, MirrorService) when a write changed the state since it was last
    /// rendered. The 2-s loop is the debounce: a burst of writes costs one rendering.
    func refreshMirrorIfOutdated() async {
        let outdated: Bool =
            (try? await env.store.read { tx in
                let meta = try tx.row("SELECT db_version, md_version FROM meta WHERE id = 1")
                return meta.map { $0.int("db_version") != ($0.optInt("md_version") ?? -1) } ?? false
            }) ?? false
        guard outdated else { return }
        do {
            _ = try await MirrorService(env: env).refresh()
        } catch {
            logger.info("mirror refresh: \(error)")
        }
    }

    /// Closes the panes of children that finished (`completed`, `failed`, `stopped`) more than `keepSeconds`
    /// ago and have no directive waiting, after saving their last screen to
    /// `.codestrator/logs/thread_<id>.last-screen.txt` (the pane's whole output stays in `thread_<id>.log`).
    func closeFinishedPanes(sessions: [Int], keepSeconds: Double) async {
        let cutoff = Timestamp.format(env.store.clock.now().addingTimeInterval(-keepSeconds))
        let placeholders = sessions.map { _ in "?" }.joined(separator: ",")
        let rows =
            (try? await env.store.read { tx in
                try tx.rows(
                    """
                    SELECT id FROM threads t WHERE t.session_id IN (\(placeholders)) AND t.role <> 'session-root'
                      AND t.tmux_pane_id IS NOT NULL AND t.status IN ('completed','failed','stopped')
                      AND COALESCE(t.completed_at, t.status_changed_at) <= ?
                      AND NOT EXISTS (SELECT 1 FROM thread_directives d WHERE d.thread_id = t.id
                        AND d.state IN ('queued','delivering'))
                    """, sessions.map { $0 as any SQLArgument } + [cutoff])
            }) ?? []
        for row in rows {
            let id = row.int("id")
            guard let t = try? await env.store.read({ tx in try ThreadRecord.load(tx, id) }), let pane = t.tmuxPaneId
            else { continue }
            if let screen = try? await env.tmux.capture(socket: t.tmuxSocket, pane: pane, lines: 200) {
                let path = env.layout.logsDir + "/thread_\(id).last-screen.txt"
                try? AtomicFile.write(Data(screen.utf8), to: path)
            }
            try? await env.tmux.pipePane(socket: t.tmuxSocket, pane: pane, logPath: nil)
            try? await env.tmux.killPane(socket: t.tmuxSocket, pane: pane)
            _ = try? await env.store.write { tx in
                try tx.execute(
                    "UPDATE threads SET tmux_pane_id = NULL, updated_at = ? WHERE id = ? AND tmux_pane_id = ?",
                    [tx.now, id, pane])
                tx.bumpVersion()
            }
            if let name = t.tmuxSessionName {
                try? await env.tmux.tile(
                    socket: t.tmuxSocket, session: name, window: t.tmuxWindowName ?? Viewer.defaultWindow)
            }
            logger.info("thread \(id): closed its pane \(pane), \(t.status.rawValue) for over \(Int(keepSeconds)) s")
        }
    }
}
