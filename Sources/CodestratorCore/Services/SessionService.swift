import Foundation

/// orch_session: sessions in their own worktrees, heartbeats, close, cleanup (docs/methods.md#orch_session--codestrator-sessions).
public struct SessionService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    // MARK: workspace.init

    public func workspaceInit() async throws -> JSON {
        let created = try env.layout.ensureDirectories()
        let excluded = try RepositoryLayout.ensureExcluded(
            excludePath: try await env.git.infoExcludePath(repo: env.layout.root))
        let gitVersion = try await env.git.version()
        guard Self.versionAtLeast(gitVersion, 2, 36) else {
            throw CodestratorError(.unavailable, "git is \(gitVersion)", expected: "git ≥ 2.36")
        }
        let branch = try await env.git.currentBranch(worktree: env.layout.root)
        let head = try await env.git.resolveCommit(repo: env.layout.root, rev: "HEAD")
        let tmuxVersion = await env.tmux.version()
        let caller = env.caller
        return .obj([
            "repo_path": env.layout.root, "db_path": env.dbPath, "main_branch": branch, "head_commit": head,
            "git_version": gitVersion, "tmux_available": tmuxVersion != nil, "tmux_version": tmuxVersion,
            "tmux_socket": env.tmuxSocket, "schema_version": Migrations.schemaVersion,
            "server_version": CodestratorVersion.current, "role": caller.role.rawValue, "thread_id": caller.threadId,
            "initialized": created || excluded,
        ])
    }

    static func versionAtLeast(_ v: String, _ major: Int, _ minor: Int) -> Bool {
        let parts = v.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard parts.count >= 2 else { return false }
        return parts[0] > major || (parts[0] == major && parts[1] >= minor)
    }

    // MARK: session.heartbeat / close / list / context

    public func heartbeat(sessionId: Int) async throws -> JSON {
        let caller = env.caller
        let pid = env.serverPid
        let host = env.serverHost
        let out: JSON = try await env.store.write { tx in
            var s = try Access(tx: tx, caller: caller).requireSession(id: sessionId)
            guard s.status == .active || s.status == .awaitingResume else {
                throw CodestratorError(
                    .invalidState, "session \(s.id) is \(s.status.rawValue)",
                    expected: "an active or awaiting_resume session",
                    field: "session_id")
            }
            try tx.execute(
                "UPDATE sessions SET last_seen_at = ?, server_pid = ?, server_host = ? WHERE id = ?",
                [tx.now, pid, host, s.id])
            // The row as just written, without reading it back.
            s.lastSeenAt = tx.now
            s.serverPid = pid
            s.serverHost = host
            return s.json(now: tx.now)
        }
        if !env.oneShot, let id = out["id"]?.intValue { await env.heartbeats.add(id) }
        return out
    }

    public func close(sessionId: Int) async throws -> JSON {
        let caller = env.caller
        let out: JSON = try await env.store.write { tx in
            let s = try Access(tx: tx, caller: caller).requireSession(id: sessionId)
            guard s.status == .active || s.status == .awaitingResume else {
                throw CodestratorError(
                    .invalidState, "session \(s.id) is \(s.status.rawValue)",
                    expected: "an active or awaiting_resume session",
                    field: "session_id")
            }
            var reasons: [String] = []
            let live = try tx.ints(
                """
                SELECT id FROM threads WHERE session_id = ? AND role <> 'session-root'
                  AND (status IN ('planned','initializing','running','idle','waiting_user_answer') OR tmux_pane_id IS NOT NULL)
                """, [s.id])
            if !live.isEmpty { reasons.append("live threads \(live.map(String.init).joined(separator: ", "))") }
            let locks = try tx.ints(
                """
                SELECT l.id FROM locks l WHERE l.state = 'active' AND (l.session_id = ?
                  OR l.thread_id IN (SELECT id FROM threads WHERE session_id = ?))
                """, [s.id, s.id])
            if !locks.isEmpty { reasons.append("active locks \(locks.map(String.init).joined(separator: ", "))") }
            if try tx.int(
                "SELECT COUNT(*) FROM merge_main_lock WHERE state = 'locked' AND holder_session_id = ?", [s.id])
                ?? 0 > 0
            {
                reasons.append("the main merge lock")
            }
            let items = try tx.ints(
                "SELECT id FROM merge_main_queue WHERE session_id = ? AND state IN ('queued','reviewing','approved')",
                [s.id])
            if !items.isEmpty { reasons.append("open queue items \(items.map(String.init).joined(separator: ", "))") }
            guard reasons.isEmpty else {
                throw CodestratorError(
                    .invalidState, "session \(s.id) still has \(reasons.joined(separator: "; "))",
                    expected: "session.cleanup")
            }
            try s.status.checkMove(to: .closed, entity: "session \(s.id)")
            try tx.execute("UPDATE sessions SET status = 'closed', closed_at = ? WHERE id = ?", [tx.now, s.id])
            tx.bumpVersion()
            return try SessionRecord.load(tx, s.id)!.json(now: tx.now)
        }
        if let id = out["id"]?.intValue { await env.heartbeats.remove(id) }
        return out
    }

    public func list(_ input: SessionListInput) async throws -> JSON {
        let repo = env.layout.root
        let filter = input.status
        let statuses: [String]
        switch filter {
        case "open": statuses = ["active", "awaiting_resume"]
        case "all": statuses = SessionStatus.allCases.map(\.rawValue)
        default: statuses = [filter]
        }
        let (limit, offset) = (input.page.limit, input.page.offset)
        let placeholders = statuses.map { _ in "?" }.joined(separator: ",")
        let rows: ([SessionRecord], Int, [Int: Int]) = try await env.store.read { tx in
            let args: [any SQLArgument] = [repo] + statuses
            let total =
                try tx.int(
                    "SELECT COUNT(*) FROM sessions WHERE repo_path = ? AND status IN (\(placeholders))", args) ?? 0
            let sessions = try tx.rows(
                "SELECT * FROM sessions WHERE repo_path = ? AND status IN (\(placeholders)) ORDER BY id DESC LIMIT ? OFFSET ?",
                args + [limit, offset]
            ).map(SessionRecord.init)
            var live: [Int: Int] = [:]
            for s in sessions {
                live[s.id] =
                    try tx.int(
                        """
                        SELECT COUNT(*) FROM threads WHERE session_id = ? AND role <> 'session-root'
                          AND status IN ('initializing','running','idle','waiting_user_answer')
                        """, [s.id]) ?? 0
            }
            return (sessions, total, live)
        }
        // One list-sessions per socket.
        var bySocket: [String: Set<String>] = [:]
        for s in rows.0 where s.tmuxSessionName != nil {
            let key = s.tmuxSocket ?? ""
            if bySocket[key] == nil {
                bySocket[key] = Set(await env.tmux.sessionNames(socket: s.tmuxSocket) ?? [])
            }
        }
        let now = Timestamp.format(env.store.clock.now())
        let items: [JSON] = rows.0.map { s in
            .obj([
                "session": s.json(now: now),
                "tmux_alive": s.tmuxSessionName.map { bySocket[s.tmuxSocket ?? ""]?.contains($0) ?? false } ?? false,
                "stale": s.status == .active && s.isStale(now: now), "live_threads": rows.2[s.id] ?? 0,
            ])
        }
        return .obj(["sessions": JSON.array(items), "count": items.count, "total": rows.1])
    }

    public func context(sessionId: Int) async throws -> JSON {
        let caller = env.caller
        let socket = env.tmuxSocket
        return try await env.store.read { tx in
            let s = try Access(tx: tx, caller: caller).requireSession(id: sessionId)
            return try SessionContextBuilder.build(tx, session: s, tmuxSocket: socket)
        }
    }
}
