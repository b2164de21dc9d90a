import Foundation

extension ThreadObserver {
    /// Which children a `thread.child.list` refresh may leave out: those whose observation could only repeat the
    /// last one. With tmux control mode every pane carries an output mark (`TmuxClient.outputMark`): a pane whose
    /// mark is the one this process saw when it last observed the child wrote nothing since, so its screen and
    /// log are as they were. A child is left out only when, besides that:
    /// - its pane is listed alive (a dead or missing pane is always observed);
    /// - it is settled: `idle` or `waiting_user_answer`, and not inside the 1.5 s processing debounce
    ///   (`provider_status` processing), which only time resolves;
    /// - no directive waits for it (delivery happens during observation).
    /// Hook events do not need an observation here: the hook command observes its child itself (HookSettle), and
    /// every tenth 2-s round of the root server observes every live child whatever its mark
    /// (`ServerRounds.fullRoundEvery`). Without control mode there are no marks and nothing is left out.
    struct Unchanged: Sendable {
        let env: ServiceEnvironment

        /// The output mark of each thread's pane when this process last observed it.
        actor Marks {
            static let shared = Marks()
            var byThread: [Int: String] = [:]
            func get(_ id: Int) -> String? { byThread[id] }
            func set(_ id: Int, _ mark: String) { byThread[id] = mark }
        }

        /// The ids among `ids` that need no observation now.
        func threads(_ ids: [Int], cache: PaneCache) async throws -> Set<Int> {
            guard !ids.isEmpty else { return [] }
            let list = ids.map { _ in "?" }.joined(separator: ",")
            let rows = try await env.store.read { tx in
                try tx.rows(
                    """
                    SELECT t.id, t.tmux_pane_id, t.tmux_socket, t.tmux_session_name FROM threads t
                    WHERE t.id IN (\(list)) AND t.role <> 'session-root' AND t.tmux_pane_id IS NOT NULL
                      AND t.status IN ('idle','waiting_user_answer') AND COALESCE(t.provider_status, '') <> 'processing'
                      AND NOT EXISTS (SELECT 1 FROM thread_directives d WHERE d.thread_id = t.id
                        AND d.state IN ('queued','delivering'))
                    """, ids.map { $0 as any SQLArgument })
            }
            var out: Set<Int> = []
            for row in rows {
                let id = row.int("id")
                guard let known = await Marks.shared.get(id),
                    let mark = await currentMark(
                        pane: row.string("tmux_pane_id"), socket: row.optString("tmux_socket"),
                        session: row.optString("tmux_session_name"), cache: cache),
                    mark == known
                else { continue }
                out.insert(id)
            }
            return out
        }

        /// The pane's output mark before an observation starts (output arriving meanwhile moves the mark, so the
        /// next refresh observes again); nil without control mode or when the pane is not listed alive.
        func markBefore(_ id: Int, cache: PaneCache) async -> String? {
            guard
                let t = try? await env.store.read({ tx in
                    try tx.row("SELECT tmux_pane_id, tmux_socket, tmux_session_name FROM threads WHERE id = ?", [id])
                }), let pane = t.optString("tmux_pane_id")
            else { return nil }
            return await currentMark(
                pane: pane, socket: t.optString("tmux_socket"), session: t.optString("tmux_session_name"),
                cache: cache)
        }

        func currentMark(pane: String, socket: String?, session: String?, cache: PaneCache) async -> String? {
            guard case .panes(let panes?) = await cache.get(socket, env.tmux),
                let p = panes.first(where: { $0.paneId == pane && $0.session == session }), !p.dead
            else { return nil }
            return await env.tmux.outputMark(socket: socket, sessionId: p.sessionId, pane: pane)
        }
    }
}
