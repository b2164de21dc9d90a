import Foundation

/// Crash recovery (runtime.md §8): repairs what an interrupted operation may leave behind. Only items
/// older than the grace period are touched, so another process's in-flight work is never taken for
/// debris. Each repair is returned as one line.
public struct Reconciler: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    public static let graceSeconds: TimeInterval = 120

    public func run(sessionId: Int? = nil) async throws -> [String] {
        var repairs: [String] = []
        let cutoff = Timestamp.format(env.store.clock.now().addingTimeInterval(-Self.graceSeconds))
        let scope = sessionId.map { " AND session_id = \($0)" } ?? ""
        // 1. Threads: panes gone or dead are settled by an observation.
        let withPanes = try await env.store.read { tx in
            try tx.ints("SELECT id FROM threads WHERE tmux_pane_id IS NOT NULL AND role <> 'session-root'" + scope)
        }
        let before = try await statuses(withPanes)
        _ = try await ThreadObserver(env: env).observe(withPanes, capture: false, deliver: false)
        let after = try await statuses(withPanes)
        for id in withPanes where before[id] != after[id] {
            repairs.append("thread \(id): \(before[id] ?? "?") → \(after[id] ?? "?") (pane gone or exited)")
        }
        // Launches cut short: `launching_since` older than the grace period.
        let stuck: [SQLRow] = try await env.store.read { tx in
            try tx.rows(
                "SELECT id, status, tmux_socket, tmux_pane_id FROM threads WHERE launching_since IS NOT NULL AND launching_since < ?"
                    + scope, [cutoff])
        }
        for r in stuck {
            if let pane = r.optString("tmux_pane_id") {
                try? await env.tmux.killPane(socket: r.optString("tmux_socket"), pane: pane)
            }
            let id = r.int("id")
            try await env.store.write { tx in
                if r.string("status") == "planned" {
                    try tx.execute(
                        """
                        UPDATE threads SET status = 'failed', status_source = 'reconcile', status_changed_at = ?, updated_at = ?,
                          failure_reason = 'launch interrupted', launching_since = NULL, tmux_pane_id = NULL WHERE id = ?
                        """, [tx.now, tx.now, id])
                } else {
                    try tx.execute("UPDATE threads SET launching_since = NULL, tmux_pane_id = NULL WHERE id = ?", [id])
                }
                tx.bumpVersion()
            }
            repairs.append("thread \(id): launch interrupted")
        }
        // 5–6. Review jobs and directives interrupted mid-way.
        repairs += try await env.store.write { tx in
            var repairs: [String] = []
            for d in try tx.ints(
                "SELECT id FROM thread_directives WHERE state = 'delivering' AND claimed_at < ?", [cutoff])
            {
                try tx.execute(
                    "UPDATE thread_directives SET state = 'failed', delivery_error = 'delivery interrupted' WHERE id = ?",
                    [d])
                repairs.append("directive \(d): delivery interrupted")
            }
            for j in try tx.rows(
                "SELECT id, state, reviewer_thread_id FROM review_jobs WHERE state IN ('requested','running') AND updated_at < ?"
                    + scope, [cutoff])
            {
                let t = try ThreadRecord.load(tx, j.optInt("reviewer_thread_id"))
                if t == nil || t!.status.isTerminal || t!.tmuxPaneId == nil {
                    try MergeService.failReview(tx, jobId: j.int("id"), reason: "reviewer ended without a verdict")
                    repairs.append("review job \(j.int("id")): failed (reviewer gone without a verdict)")
                }
            }
            return repairs
        }
        // 3. Worktree rows whose directory vanished.
        let rows = try await env.store.read { tx in
            try tx.rows(
                "SELECT id, path FROM worktrees WHERE status = 'active' AND kind <> 'main'"
                    + (sessionId.map { " AND owner_session_id = \($0)" } ?? ""))
        }
        for r in rows where !FileManager.default.fileExists(atPath: r.string("path")) {
            let id = r.int("id")
            try await env.store.write { tx in
                try tx.execute("UPDATE worktrees SET status = 'removed', removed_at = ? WHERE id = ?", [tx.now, id])
                tx.bumpVersion()
            }
            repairs.append("worktree \(id): directory gone, marked removed")
        }
        // 4. Approved items whose reviewed commit already reached the target branch: the merge happened.
        let approved = try await env.store.read { tx in
            try tx.rows("SELECT * FROM merge_main_queue WHERE state = 'approved' AND updated_at < ?" + scope, [cutoff])
        }
        for item in approved {
            guard let reviewed = item.optString("reviewed_commit"),
                let tip = try await env.git.resolveCommit(
                    repo: env.layout.root, rev: "refs/heads/" + item.string("target_branch")),
                try await env.git.isAncestor(repo: env.layout.root, reviewed, of: tip)
            else { continue }
            let id = item.int("id")
            try await env.store.write { tx in
                try tx.execute(
                    "UPDATE merge_main_queue SET state = 'merged', merge_commit = ?, fast_forward = NULL, updated_at = ?, completed_at = ? WHERE id = ?",
                    [tip, tx.now, tx.now, id])
                try tx.execute(
                    "UPDATE merge_requests SET status = 'merged', updated_at = ? WHERE id = ?",
                    [tx.now, item.int("merge_request_id")])
                try tx.execute(
                    "UPDATE worktrees SET merge_state = 'merged_to_main', merged_at = ?, merge_commit = ? WHERE id = ? AND merge_state IN ('active','merged_to_main')",
                    [tx.now, tip, item.int("from_worktree_id")])
                try tx.execute(
                    """
                    UPDATE merge_main_lock SET state = 'unlocked', holder_session_id = NULL, queue_item_id = NULL,
                      lease_until = NULL, acquired_at = NULL, updated_at = ? WHERE id = 1 AND queue_item_id = ?
                    """, [tx.now, id])
                tx.bumpVersion()
            }
            repairs.append("queue item \(id): merge found in \(item.string("target_branch")), recorded")
        }
        for r in repairs { Log.reconcile(r) }
        return repairs
    }

    func statuses(_ ids: [Int]) async throws -> [Int: String] {
        try await env.store.read { tx in
            var out: [Int: String] = [:]
            for id in ids { out[id] = try ThreadRecord.load(tx, id)?.status.rawValue }
            return out
        }
    }
}

/// stderr lines for repairs (the MCP layer owns the logger; Core writes plain lines).
enum Log {
    static func reconcile(_ s: String) {
        FileHandle.standardError.write(Data("\(Timestamp.format(Date())) INFO reconcile: \(s)\n".utf8))
    }
}
