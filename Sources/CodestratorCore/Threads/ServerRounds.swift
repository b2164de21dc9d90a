import Foundation

/// What a serving process does in the background for the sessions it keeps alive (HeartbeatRegistry): a poll
/// of their children every 2 s and a heartbeat every 20 s (docs/runtime-guide.md#status-detection). The transport
/// layer only keeps the clock.
public struct ServerRounds: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    /// Most threads observed in one poll round, so a large session cannot stretch a round past its 2 s.
    static let pollLimit = 64

    /// One round in this many observes every live child; the others leave out the children whose panes wrote
    /// nothing since (ThreadObserver.Unchanged), which is what keeps a server with 32 idle children near zero CPU.
    /// The full round is the safety net for anything a pane's output does not show (a hook whose own observation
    /// did not finish, say): at most 20 s late.
    public static let fullRoundEvery = 10

    /// One poll round (root servers only): live threads and threads with queued directives of `sessions`,
    /// least recently observed first, then the housekeeping. `everyChild: false` leaves out unchanged children.
    public func poll(sessions: [Int], everyChild: Bool = true) async {
        guard env.caller.role == .root, !sessions.isEmpty else { return }
        let placeholders = sessions.map { _ in "?" }.joined(separator: ",")
        let threads: [Int] =
            (try? await env.store.read { tx in
                try tx.ints(
                    """
                    SELECT t.id FROM threads t WHERE t.session_id IN (\(placeholders)) AND t.role <> 'session-root'
                      AND t.tmux_pane_id IS NOT NULL AND (t.status IN ('initializing','running','idle','waiting_user_answer')
                      OR EXISTS (SELECT 1 FROM thread_directives d WHERE d.thread_id = t.id AND d.state = 'queued'))
                    ORDER BY t.status_observed_at LIMIT \(Self.pollLimit)
                    """, sessions.map { $0 as any SQLArgument })
            }) ?? []
        if !threads.isEmpty {
            _ = try? await ThreadObserver(env: env).observe(threads, capture: true, skipUnchanged: !everyChild)
        }
        await Housekeeping(env: env).run(sessions: sessions)
    }

    /// One observation of the live children of `sessions` whose pane is one of `panes` on `socket` (their
    /// panes wrote output: tmux control mode's `%output`).
    public func observe(panes: Set<String>, socket: String?, sessions: [Int]) async {
        guard !sessions.isEmpty, !panes.isEmpty else { return }
        let sessionList = sessions.map { _ in "?" }.joined(separator: ",")
        let paneList = panes.map { _ in "?" }.joined(separator: ",")
        let threads: [Int] =
            (try? await env.store.read { tx in
                try tx.ints(
                    """
                    SELECT t.id FROM threads t WHERE t.session_id IN (\(sessionList)) AND t.role <> 'session-root'
                      AND t.tmux_pane_id IN (\(paneList)) AND COALESCE(t.tmux_socket, '') = ?
                      AND t.status IN ('initializing','running','idle','waiting_user_answer')
                    """,
                    sessions.map { $0 as any SQLArgument } + panes.map { $0 as any SQLArgument } + [socket ?? ""])
            }) ?? []
        if !threads.isEmpty { _ = try? await ThreadObserver(env: env).observe(threads, capture: true) }
    }

    /// One heartbeat of `sessions` (open ones only), recording this process as their server, and the release
    /// of another session's main merge lock when that session went stale meanwhile.
    public func heartbeat(sessions: [Int]) async {
        guard !sessions.isEmpty else { return }
        let pid = env.serverPid
        let host = env.serverHost
        _ = try? await env.store.write { tx in
            for id in sessions {
                try tx.execute(
                    """
                    UPDATE sessions SET last_seen_at = ?, server_pid = ?, server_host = ?
                    WHERE id = ? AND status IN ('active','awaiting_resume')
                    """, [tx.now, pid, host, id])
            }
            _ = try MergeService.releaseDeadHolder(tx)
        }
    }
}
