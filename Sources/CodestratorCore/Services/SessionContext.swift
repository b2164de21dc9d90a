/// The SessionContext shape (docs/database.md#object-shapes), read in one transaction.
enum SessionContextBuilder {
    static func build(_ tx: Tx, session s: SessionRecord, tmuxSocket: String?) throws -> JSON {
        let mainWT = try WorktreeRecord.load(tx, s.mainWorktreeId)
        let rootWT = try WorktreeRecord.load(tx, s.sessionRootWorktreeId)
        let root = try ThreadRecord.load(tx, s.rootThreadId)
        let ref = try root.flatMap { try CurrentRefRecord.find(tx, sessionId: s.id, threadId: $0.id) }
        let live =
            try tx.int(
                """
                SELECT COUNT(*) FROM threads WHERE session_id = ? AND role <> 'session-root'
                  AND (status IN ('planned','initializing','running','idle','waiting_user_answer') OR tmux_pane_id IS NOT NULL)
                """, [s.id]) ?? 0
        let threads =
            try tx.int("SELECT COUNT(*) FROM threads WHERE session_id = ? AND role <> 'session-root'", [s.id]) ?? 0
        let casesDone =
            try tx.int("SELECT COUNT(*) FROM tasks WHERE session_id = ? AND level = 'case' AND status = 'done'", [s.id])
            ?? 0
        let casesTotal = try tx.int("SELECT COUNT(*) FROM tasks WHERE session_id = ? AND level = 'case'", [s.id]) ?? 0
        let locks =
            try tx.int(
                "SELECT COUNT(*) FROM locks WHERE session_id = ? AND state = 'active' AND lease_until > ?",
                [s.id, tx.now]) ?? 0
        let queue =
            try tx.int(
                "SELECT COUNT(*) FROM merge_main_queue WHERE session_id = ? AND state IN ('queued','reviewing','approved')",
                [s.id]) ?? 0
        return .obj([
            "session": s.json(now: tx.now), "main_worktree": mainWT?.json, "session_root_worktree": rootWT?.json,
            "root_thread": root?.json, "current_ref": ref?.json, "viewer_tmux_session": s.tmuxSessionName,
            "attach_readonly_command": s.tmuxSessionName.map {
                AttachCommand.readOnly(session: $0, socket: s.tmuxSocket)
            },
            "counts": JSON.obj([
                "live_threads": live, "threads": threads, "cases_done": casesDone, "cases_total": casesTotal,
                "locks_active": locks, "queue_items_open": queue,
            ]),
        ])
    }

    /// ResumeCandidate: session, session_root_worktree, current_ref, idle_seconds, live_threads, open_cases.
    static func candidate(_ tx: Tx, session s: SessionRecord) throws -> JSON {
        let rootWT = try WorktreeRecord.load(tx, s.sessionRootWorktreeId)
        let ref = try s.rootThreadId.flatMap { try CurrentRefRecord.find(tx, sessionId: s.id, threadId: $0) }
        let live =
            try tx.int(
                """
                SELECT COUNT(*) FROM threads WHERE session_id = ? AND role <> 'session-root'
                  AND status IN ('initializing','running','idle','waiting_user_answer')
                """, [s.id]) ?? 0
        let open =
            try tx.int(
                "SELECT COUNT(*) FROM tasks WHERE session_id = ? AND level = 'case' AND status IN ('todo','in_progress','blocked')",
                [s.id]) ?? 0
        return .obj([
            "session": s.json(now: tx.now), "session_root_worktree": rootWT?.json, "current_ref": ref?.json,
            "idle_seconds": s.idleSeconds(now: tx.now), "live_threads": live, "open_cases": open,
        ])
    }
}
