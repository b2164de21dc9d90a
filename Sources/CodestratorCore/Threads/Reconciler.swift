import Foundation

/// Crash recovery (docs/runtime-guide.md#reconciliation): repairs what an interrupted operation may leave behind. Only items
/// older than the grace period are touched, so another process's in-flight work is never taken for
/// debris. Each repair is returned as one line.
public struct Reconciler: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    public static let graceSeconds: TimeInterval = 120

    /// The grace period of unrecorded panes, judged by their process's start time: `graceSeconds`, or
    /// `CODESTRATOR_PANE_GRACE_SECONDS` (the integration tests set 0 to age their panes, as they move the
    /// rows' timestamps back for the other items).
    static var paneGraceSeconds: TimeInterval {
        ProcessInfo.processInfo.environment["CODESTRATOR_PANE_GRACE_SECONDS"].flatMap(TimeInterval.init)
            .map { max(0, $0) } ?? graceSeconds
    }

    public func run(sessionId: Int? = nil) async throws -> [String] {
        let cutoffDate = env.store.clock.now().addingTimeInterval(-Self.graceSeconds)
        let cutoff = Timestamp.format(cutoffDate)
        let scope = sessionId.map { " AND session_id = \($0)" } ?? ""
        var repairs = try await settleThreadsWithPanes(scope: scope)
        repairs += try await interruptedLaunches(scope: scope, cutoff: cutoff)
        repairs += try await interruptedDeliveriesAndReviews(scope: scope, cutoff: cutoff)
        repairs += try await vanishedWorktrees(sessionId: sessionId)
        repairs += try await orphanWorktrees(cutoffDate: cutoffDate)
        repairs += try await orphanPanes()
        repairs += try await mergesThatHappened(scope: scope, cutoff: cutoff)
        // The main merge lock of a closed, missing or stale holder (after the step above settled a merge that
        // happened).
        if let line = try await env.store.write({ tx in try MergeService.releaseDeadHolder(tx) }) {
            repairs.append(line)
        }
        for r in repairs { logger.info("reconcile: \(r)") }
        return repairs
    }

    /// 1. Threads: panes gone or dead are settled by an observation. Only a settled thread is a repair: a live
    /// pane's observation (`running → idle`) is not one.
    func settleThreadsWithPanes(scope: String) async throws -> [String] {
        let withPanes = try await env.store.read { tx in
            try tx.ints("SELECT id FROM threads WHERE tmux_pane_id IS NOT NULL AND role <> 'session-root'" + scope)
        }
        let before = try await statuses(withPanes)
        _ = try await ThreadObserver(env: env).observe(withPanes, capture: false, deliver: false)
        let after = try await statuses(withPanes)
        return withPanes.filter { before[$0] != after[$0] && after[$0].flatMap(ThreadStatus.init)?.isLive != true }
            .map { "thread \($0): \(before[$0] ?? "?") → \(after[$0] ?? "?") (pane gone or exited)" }
    }

    /// 2. Launches cut short: `launching_since` older than the grace period. The pane is killed; a thread that
    /// never left `planned` failed.
    func interruptedLaunches(scope: String, cutoff: String) async throws -> [String] {
        let stuck: [SQLRow] = try await env.store.read { tx in
            try tx.rows(
                "SELECT id, status, tmux_socket, tmux_pane_id FROM threads WHERE launching_since IS NOT NULL AND launching_since < ?"
                    + scope, [cutoff])
        }
        var repairs: [String] = []
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
        return repairs
    }

    /// 5–6. Directives and review jobs interrupted mid-way: a delivery claimed long ago failed; a review whose
    /// reviewer is gone or finished without a verdict failed.
    func interruptedDeliveriesAndReviews(scope: String, cutoff: String) async throws -> [String] {
        try await env.store.write { tx in
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
    }

    /// 3. Worktree rows whose directory vanished are marked removed.
    func vanishedWorktrees(sessionId: Int?) async throws -> [String] {
        let rows = try await env.store.read { tx in
            try tx.rows(
                "SELECT id, path FROM worktrees WHERE status = 'active' AND kind <> 'main'"
                    + (sessionId.map { " AND owner_session_id = \($0)" } ?? ""))
        }
        var repairs: [String] = []
        for r in rows where !FileManager.default.fileExists(atPath: r.string("path")) {
            let id = r.int("id")
            try await env.store.write { tx in
                try tx.execute("UPDATE worktrees SET status = 'removed', removed_at = ? WHERE id = ?", [tx.now, id])
                tx.bumpVersion()
            }
            repairs.append("worktree \(id): directory gone, marked removed")
        }
        return repairs
    }

    /// 4. Approved items whose reviewed commit already reached the target branch: the merge happened, and is
    /// recorded with the lock it held released.
    func mergesThatHappened(scope: String, cutoff: String) async throws -> [String] {
        let approved = try await env.store.read { tx in
            try tx.rows("SELECT * FROM merge_main_queue WHERE state = 'approved' AND updated_at < ?" + scope, [cutoff])
        }
        var repairs: [String] = []
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
                try MainMergeLock.release(tx, ifHeldFor: id)
                tx.bumpVersion()
            }
            repairs.append("queue item \(id): merge found in \(item.string("target_branch")), recorded")
        }
        return repairs
    }

    /// 3. Entries of `git worktree list` under `.codestrator/worktrees/` with no live row: removed with their
    /// branch when they hold no uncommitted change and no commit missing from the main branch, else reported.
    func orphanWorktrees(cutoffDate: Date) async throws -> [String] {
        let repo = env.layout.root
        let prefix = env.layout.worktreesDir + "/"
        let live: Set<String> = Set(
            try await env.store.read { tx in try tx.rows("SELECT path FROM worktrees WHERE status <> 'removed'") }
                .map { $0.string("path") })
        var out: [String] = []
        let main = try await env.git.currentBranch(worktree: repo)
        for (path, branch) in try await env.git.worktrees(repo: repo)
        where path.hasPrefix(prefix) && !live.contains(path) {
            let attrs = try? FileManager.default.attributesOfItem(atPath: path)
            if let m = attrs?[.modificationDate] as? Date, m > cutoffDate { continue }  // maybe in flight elsewhere
            let dirty = (try? await env.git.dirtyFiles(worktree: path, untracked: true)) ?? []
            var missing = 0
            if let branch, let main,
                let tip = try await env.git.resolveCommit(repo: repo, rev: "refs/heads/" + branch),
                let mainTip = try await env.git.resolveCommit(repo: repo, rev: "refs/heads/" + main)
            {
                missing = try await env.git.countMissing(repo: repo, from: mainTip, in: tip)
            }
            if dirty.isEmpty && missing == 0 {
                try await env.gitWrites.run {
                    try await env.git.worktreeRemove(repo: repo, path: path, force: false)
                    if let branch, branch.hasPrefix("codestrator/") {
                        try? await env.git.deleteBranch(repo: repo, branch: branch, force: true)
                    }
                }
                out.append("worktree \(path): no row; removed with its branch \(branch ?? "-")")
            } else {
                out.append(
                    "worktree \(path): no row but holds work (\(dirty.count) changed files, \(missing) commits); kept")
            }
        }
        try await env.git.prune(repo: repo)
        return out
    }

    /// 2. Panes in marked viewer sessions of this repository that no thread records (but the status pane),
    /// while no launch is in flight there; marked viewer sessions whose Codestrator session is closed.
    func orphanPanes() async throws -> [String] {
        let root = env.layout.root
        var sockets = try await env.store.read { tx in
            Set(try tx.rows("SELECT DISTINCT ifnull(tmux_socket, '') AS s FROM sessions").map { $0.string("s") })
        }
        sockets.insert(env.tmuxSocket ?? "")
        // Panes are listed before the threads are read: a pane that another process is creating then
        // already has its thread's `launching_since` (set before the split) or its recorded pane id (set
        // in the same transaction that clears it). Read the other way round, a pane split in between
        // looked like debris and was killed under its launch.
        var listed: [(socket: String?, panes: [PaneInfo])] = []
        for socketName in sockets {
            let socket: String? = socketName.isEmpty ? nil : socketName
            // A listing that failed is skipped, never read as "no panes" or as panes to kill.
            guard let panes = try? await env.tmux.listAllPanes(socket: socket) else { continue }
            listed.append((socket, panes))
        }
        let (recorded, launching): (Set<String>, Set<String>) = try await env.store.read { tx in
            let recorded = Set(
                try tx.rows("SELECT tmux_session_name, tmux_pane_id FROM threads WHERE tmux_pane_id IS NOT NULL").map {
                    $0.string("tmux_session_name") + " " + $0.string("tmux_pane_id")
                })
            let launching = Set(
                try tx.rows(
                    "SELECT DISTINCT tmux_session_name FROM threads WHERE launching_since IS NOT NULL AND tmux_session_name IS NOT NULL"
                ).map { $0.string("tmux_session_name") })
            return (recorded, launching)
        }
        var out: [String] = []
        let paneCutoff = Date().addingTimeInterval(-Self.paneGraceSeconds)
        for (socket, panes) in listed {
            // Sessions by their tmux id (`$3`), never by name: a viewer this process finds closed and kills is
            // never the newer one another process opened under the same name in between.
            var sessions: [(target: String, name: String)] = []
            for pane in panes
            where !sessions.contains(where: { $0.target == (pane.sessionId.isEmpty ? pane.session : pane.sessionId) }) {
                sessions.append((pane.sessionId.isEmpty ? pane.session : pane.sessionId, pane.session))
            }
            for (target, name) in sessions {
                guard
                    try await env.tmux.sessionOption(socket: socket, session: target, name: "@codestrator_repo")
                        == root,
                    let sid = try await env.tmux.sessionOption(
                        socket: socket, session: target, name: "@codestrator_session_id"
                    )
                    .flatMap(Int.init)
                else { continue }
                let status = try await env.store.read { tx in try SessionRecord.load(tx, sid)?.status }
                if status == nil || status == .closed || status == .superseded {
                    // Killed only if it still belongs to that session when tmux runs the kill: the tmux server may
                    // have exited and started again since the listing, and then the id names a newer viewer.
                    try await env.tmux.killSession(
                        socket: socket, id: target, ifOption: "@codestrator_session_id", is: sid)
                    let now = try await env.tmux.sessionOption(
                        socket: socket, session: target, name: "@codestrator_session_id")
                    if now != String(sid) {
                        out.append("tmux session \(name): its Codestrator session \(sid) is closed; killed")
                    }
                    continue
                }
                if launching.contains(name) { continue }
                let inSession = panes.filter { ($0.sessionId.isEmpty ? $0.session : $0.sessionId) == target }
                for pane in inSession where !recorded.contains(name + " " + pane.paneId) {
                    // Status panes are marked by the tmux command that creates them (the title too, for
                    // panes of older versions). A live pane younger than the grace period, judged by its
                    // process's start time, may be another process's status pane or launch in flight.
                    if pane.statusPane || pane.title == "codestrator status" { continue }
                    if let started = await env.tmux.processStartTime(of: pane), started > paneCutoff { continue }
                    try await env.tmux.pipePane(socket: socket, pane: pane.paneId, logPath: nil)
                    try await env.tmux.killPane(socket: socket, pane: pane.paneId)
                    out.append("pane \(pane.paneId) in \(name): no thread records it; killed")
                }
            }
        }
        return out
    }

    func statuses(_ ids: [Int]) async throws -> [Int: String] {
        try await env.store.read { tx in
            var out: [Int: String] = [:]
            for id in ids { out[id] = try ThreadRecord.load(tx, id)?.status.rawValue }
            return out
        }
    }
}
