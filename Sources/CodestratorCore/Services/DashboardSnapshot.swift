import Foundation

/// The read-only view the web dashboard shows (docs/dashboard.md): one JSON document built in one read
/// transaction, and a cheap fingerprint that changes whenever something the document shows changes.
/// Nothing here writes.
public enum DashboardSnapshot {
    /// Sessions shown: the open ones, else the latest one.
    static let maxSessions = 8
    static let maxTimeline = 80
    static let maxInbox = 40
    static let maxQueue = 20

    /// A value that changes whenever a write the dashboard shows commits, in this process or another:
    /// `meta.db_version` (bumped by every service write that changes a status), the newest thread event,
    /// checkpoint and thread change, and the newest observation, which updates a child's last response
    /// or provider status without bumping the version (it writes only when something changed).
    public static func fingerprint(_ tx: Tx) throws -> String {
        let row = try tx.row(
            """
            SELECT (SELECT db_version FROM meta WHERE id = 1) AS v,
                   (SELECT max(id) FROM thread_events) AS e,
                   (SELECT max(id) FROM checkpoints) AS c,
                   (SELECT max(updated_at) FROM threads) AS t,
                   (SELECT max(status_observed_at) FROM threads) AS o,
                   (SELECT updated_at FROM merge_main_lock WHERE id = 1) AS l
            """)
        guard let row else { return "" }
        return
            "\(row.int("v"))|\(row.int("e"))|\(row.int("c"))|\(row.string("t"))|\(row.string("o"))|\(row.string("l"))"
    }

    /// The whole view at `now`.
    public static func build(_ tx: Tx, now: Date) throws -> JSON {
        var sessionRows = try tx.rows(
            """
            SELECT s.*, w.path AS wt_path, w.branch AS wt_branch FROM sessions s
            LEFT JOIN worktrees w ON w.id = s.session_root_worktree_id
            WHERE s.status IN ('active','awaiting_resume') ORDER BY s.id DESC LIMIT ?
            """, [maxSessions])
        if sessionRows.isEmpty {
            sessionRows = try tx.rows(
                """
                SELECT s.*, w.path AS wt_path, w.branch AS wt_branch FROM sessions s
                LEFT JOIN worktrees w ON w.id = s.session_root_worktree_id ORDER BY s.id DESC LIMIT 1
                """)
        }
        let sessions = try sessionRows.map { try session($0, tx, now: now) }
        return .obj([
            "generated_at": Timestamp.format(now),
            "fingerprint": try fingerprint(tx),
            "lock": try lock(tx, now: now),
            "sessions": JSON.array(sessions),
        ])
    }

    static func seconds(since s: String?, now: Date) -> Int? {
        guard let s, let d = Timestamp.parse(s) else { return nil }
        return max(0, Int(now.timeIntervalSince(d)))
    }

    static func lock(_ tx: Tx, now: Date) throws -> JSON {
        guard let r = try tx.row("SELECT * FROM merge_main_lock WHERE id = 1") else { return .null }
        var left: Int?
        if let until = r.optString("lease_until"), let d = Timestamp.parse(until) {
            left = max(0, Int(d.timeIntervalSince(now)))
        }
        return .obj([
            "state": r.string("state"), "holder_session_id": r.optInt("holder_session_id"),
            "queue_item_id": r.optInt("queue_item_id"), "lease_until": r.optString("lease_until"),
            "lease_seconds_left": r.string("state") == "locked" ? left : nil, "acquired_at": r.optString("acquired_at"),
        ])
    }

    static func session(_ s: SQLRow, _ tx: Tx, now: Date) throws -> JSON {
        let sid = s.int("id")
        let threads = try tx.rows(
            """
            SELECT t.*, w.path AS wt_path, w.branch AS wt_branch FROM threads t
            LEFT JOIN worktrees w ON w.id = t.worktree_id
            WHERE t.session_id = ? AND t.role <> 'session-root' ORDER BY t.id
            """, [sid])
        let names = Dictionary(
            try tx.rows("SELECT id, role, title FROM threads WHERE session_id = ?", [sid]).map {
                ($0.int("id"), $0.optString("title") ?? "\($0.string("role")) #\($0.int("id"))")
            }, uniquingKeysWith: { a, _ in a })
        var children: [JSON] = []
        for t in threads {
            let directives = try tx.rows(
                "SELECT id, mode, state, text, delivery_error, created_at, delivered_at FROM thread_directives WHERE thread_id = ? AND kind <> 'prompt' ORDER BY id DESC LIMIT 10",
                [t.int("id")]
            ).map { d in
                JSON.obj([
                    "id": d.int("id"), "mode": d.string("mode"), "state": d.string("state"),
                    "text": ScreenText.cut(d.string("text")), "error": d.optString("delivery_error"),
                    "created_at": d.string("created_at"), "delivered_at": d.optString("delivered_at"),
                ])
            }
            let status = t.string("status")
            let response = t.optString("last_response").map { ScreenText.cut($0) }
            children.append(
                .obj([
                    "id": t.int("id"), "role": t.string("role"), "title": t.optString("title"),
                    "objective": t.optString("objective"), "provider": t.optString("provider_type"),
                    "status": status, "status_changed_at": t.string("status_changed_at"),
                    "status_seconds": seconds(since: t.optString("status_changed_at"), now: now),
                    "provider_status": t.optString("provider_status"),
                    "worktree": t.optString("wt_path") ?? t.optString("workdir"), "branch": t.optString("wt_branch"),
                    "last_response": response,
                    "question": status == ThreadStatus.waitingUserAnswer.rawValue ? (response ?? "") : nil,
                    "failure_reason": t.optString("failure_reason").map { ScreenText.cut($0) },
                    "pane": t.optString("tmux_pane_id") != nil, "directives": JSON.array(directives),
                ]))
        }
        let inbox = try tx.rows(
            "SELECT * FROM inbox_messages WHERE session_id = ? ORDER BY id DESC LIMIT ?", [sid, maxInbox]
        ).map { m in
            JSON.obj([
                "id": m.int("id"), "kind": m.string("kind"), "from": names[m.int("sender_thread_id")],
                "to": names[m.int("receiver_thread_id")], "message": ScreenText.cut(m.string("message")),
                "status": m.string("status"), "created_at": m.string("created_at"),
            ])
        }
        let queue = try tx.rows(
            "SELECT * FROM merge_main_queue WHERE session_id = ? ORDER BY id DESC LIMIT ?", [sid, maxQueue]
        ).map { q in
            JSON.obj([
                "id": q.int("id"), "source_branch": q.string("source_branch"),
                "target_branch": q.string("target_branch"), "state": q.string("state"),
                "reviewed_commit": q.optString("reviewed_commit"), "merge_commit": q.optString("merge_commit"),
                "fast_forward": q.optBool("fast_forward"), "conflicting_files": q.json("conflicting_files"),
                "error": q.optString("error_message"), "created_at": q.string("created_at"),
                "completed_at": q.optString("completed_at"),
            ])
        }
        let reviews = try tx.rows(
            "SELECT * FROM review_jobs WHERE session_id = ? ORDER BY id DESC LIMIT ?", [sid, maxQueue]
        ).map { r in
            JSON.obj([
                "id": r.int("id"), "state": r.string("state"), "verdict": r.optString("verdict"),
                "summary": r.optString("summary"), "findings": r.json("findings"),
                "reviewed_commit": r.string("reviewed_commit"), "failure_reason": r.optString("failure_reason"),
                "reviewer": r.optInt("reviewer_thread_id").flatMap { names[$0] },
                "completed_at": r.optString("completed_at"),
            ])
        }
        let merges = try tx.rows(
            """
            SELECT id, kind, branch, merge_state, merge_commit, merged_at FROM worktrees
            WHERE owner_session_id = ? AND merged_at IS NOT NULL ORDER BY merged_at DESC LIMIT ?
            """, [sid, maxQueue]
        ).map { w in
            JSON.obj([
                "worktree_id": w.int("id"), "branch": w.optString("branch"), "merge_state": w.string("merge_state"),
                "merge_commit": w.optString("merge_commit"), "merged_at": w.optString("merged_at"),
            ])
        }
        return .obj([
            "id": sid, "status": s.string("status"), "user_request": s.optString("user_request"),
            "agent_role": s.string("agent_role"), "started_at": s.string("started_at"),
            "last_seen_at": s.string("last_seen_at"), "worktree": s.optString("wt_path"),
            "branch": s.optString("wt_branch"), "main_branch": s.optString("main_branch"),
            "current_ref": try currentRef(tx, sid), "plan": try plan(tx, sid),
            "children": JSON.array(children), "inbox": JSON.array(inbox), "merge_queue": JSON.array(queue),
            "reviews": JSON.array(reviews), "merges": JSON.array(merges), "timeline": try timeline(tx, sid, names),
        ])
    }

    static func currentRef(_ tx: Tx, _ sid: Int) throws -> JSON {
        guard
            let r = try tx.row(
                "SELECT * FROM current_refs WHERE session_id = ? ORDER BY updated_at DESC, id DESC LIMIT 1", [sid])
        else { return .null }
        var title: String?
        let nodeId = r.int("node_id")
        switch r.string("node_type") {
        case "step": title = try tx.string("SELECT title FROM steps WHERE id = ?", [nodeId])
        case "graph_node": title = try tx.string("SELECT title FROM graph_nodes WHERE id = ?", [nodeId])
        default: title = try tx.string("SELECT title FROM tasks WHERE id = ?", [nodeId])
        }
        return .obj([
            "node_type": r.string("node_type"), "node_id": nodeId, "title": title, "status": r.string("status"),
            "thread_id": r.int("thread_id"), "next_action": r.optString("next_action"),
            "updated_at": r.string("updated_at"),
        ])
    }

    /// The plan tree with progress: a case counts its steps; a higher level counts the steps below it
    /// (a case without steps counts as one, done when the case is done).
    static func plan(_ tx: Tx, _ sid: Int) throws -> JSON {
        let tasks = try tx.rows(
            "SELECT id, level, parent_id, title, status, blocked_reason, cancelled, assignee_thread_id FROM tasks WHERE session_id = ? ORDER BY priority DESC, id",
            [sid])
        let steps = try tx.rows(
            """
            SELECT s.id, s.task_id, s.order_no, s.title, s.status FROM steps s JOIN tasks t ON t.id = s.task_id
            WHERE t.session_id = ? ORDER BY s.task_id, s.order_no
            """, [sid])
        var stepsByTask: [Int: [SQLRow]] = [:]
        for s in steps { stepsByTask[s.int("task_id"), default: []].append(s) }
        var childrenOf: [Int: [SQLRow]] = [:]
        var roots: [SQLRow] = []
        for t in tasks {
            if let p = t.optInt("parent_id") { childrenOf[p, default: []].append(t) } else { roots.append(t) }
        }
        func node(_ t: SQLRow) -> (JSON, Int, Int) {
            let id = t.int("id")
            var done = 0
            var total = 0
            var kids: [JSON] = []
            for c in childrenOf[id] ?? [] {
                let (j, d, n) = node(c)
                kids.append(j)
                done += d
                total += n
            }
            let own = stepsByTask[id] ?? []
            let stepJSON = own.map { s in
                JSON.obj([
                    "id": s.int("id"), "order": s.int("order_no"), "title": s.string("title"),
                    "status": s.string("status"),
                ])
            }
            total += own.count
            done += own.filter { $0.string("status") == "done" || $0.string("status") == "skipped" }.count
            if t.string("level") == "case" && own.isEmpty {
                total += 1
                if t.string("status") == "done" { done += 1 }
            }
            let json = JSON.obj([
                "id": id, "level": t.string("level"), "title": t.string("title"), "status": t.string("status"),
                "blocked_reason": t.optString("blocked_reason"), "cancelled": t.bool("cancelled"),
                "assignee_thread_id": t.optInt("assignee_thread_id"), "done": done, "total": total,
                "steps": JSON.array(stepJSON), "children": JSON.array(kids),
            ])
            return (json, done, total)
        }
        return .array(roots.map { node($0).0 })
    }

    /// Spawns, status changes, reports, step checks and merges, newest first.
    static func timeline(_ tx: Tx, _ sid: Int, _ names: [Int: String]) throws -> JSON {
        let rows = try tx.rows(
            """
            SELECT at, kind, thread_id, text FROM (
              SELECT created_at AS at, 'spawn' AS kind, id AS thread_id, role AS text FROM threads
                WHERE session_id = ? AND role <> 'session-root'
              UNION ALL
              SELECT status_changed_at, 'status', id, status FROM threads
                WHERE session_id = ? AND role <> 'session-root'
              UNION ALL
              SELECT e.created_at, 'event', e.thread_id, e.event || ifnull(': ' || e.provider_status, '')
                FROM thread_events e JOIN threads t ON t.id = e.thread_id
                WHERE t.session_id = ? AND e.event IN ('report','turn_complete','stop')
              UNION ALL
              SELECT c.created_at, c.event, c.thread_id, c.step_title FROM checkpoints c
                WHERE c.session_id = ? AND c.event IN ('step.check','case.begin','case.complete','work.report')
              UNION ALL
              SELECT completed_at, 'merge', NULL, state || ' ' || source_branch || ' → ' || target_branch
                || ifnull(' @ ' || substr(merge_commit, 1, 10), '')
                FROM merge_main_queue WHERE session_id = ? AND completed_at IS NOT NULL
              UNION ALL
              SELECT completed_at, 'review', reviewer_thread_id, ifnull(verdict, state) || ifnull(': ' || summary, '')
                FROM review_jobs WHERE session_id = ? AND completed_at IS NOT NULL
            ) ORDER BY at DESC LIMIT ?
            """, [sid, sid, sid, sid, sid, sid, maxTimeline])
        return .array(
            rows.map { r in
                JSON.obj([
                    "at": r.string("at"), "kind": r.string("kind"),
                    "thread": r.optInt("thread_id").flatMap { names[$0] },
                    "text": ScreenText.cut(r.string("text")),
                ])
            })
    }
}
