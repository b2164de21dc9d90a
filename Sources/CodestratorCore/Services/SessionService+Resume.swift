import Foundation

/// Resuming a session: taking it over in this process, superseding the requester, or asking which one.
extension SessionService {
    /// Resume (one transaction): heartbeat, resume_count + 1, this process, the caller's fingerprint.
    func resume(sessionId sid: Int, requester: Int?, fingerprint: String) async throws -> JSON {
        let pid = env.serverPid
        let host = env.serverHost
        let socketDefault = env.tmuxSocket
        let identity = env.caller.isChild ? nil : env.identity
        let result = try await env.store.write { tx in
            try tx.execute(
                """
                UPDATE sessions SET last_seen_at = ?, resume_count = resume_count + 1, server_pid = ?, server_host = ?,
                  terminal_fingerprint = ? WHERE id = ?
                """, [tx.now, pid, host, fingerprint, sid])
            if let identity, !identity.keys.isEmpty { try RootBinding.bind(tx, sessionId: sid, identity: identity) }
            if let requester { try Self.supersede(tx, requester, by: sid) }
            tx.bumpVersion()
            guard let s = try SessionRecord.load(tx, sid) else { throw CodestratorError.notFound("session", sid) }
            return try Self.openOutput(tx, session: s, resumed: true, socket: s.tmuxSocket ?? socketDefault)
        }
        if !env.oneShot { await env.heartbeats.add(sid) }
        return try await withViewer(sessionId: sid, output: result)
    }

    static func supersede(_ tx: Tx, _ requester: Int, by target: Int) throws {
        guard let r = try SessionRecord.load(tx, requester) else {
            throw CodestratorError.notFound("session", requester)
        }
        try r.status.checkMove(to: .superseded, entity: "session \(requester)")
        try tx.execute(
            "UPDATE sessions SET status = 'superseded', superseded_by_session_id = ?, closed_at = ? WHERE id = ?",
            [target, tx.now, requester])
    }

    /// Several candidates for `resume_work`: an `awaiting_resume` session and the list to choose from.
    func awaitChoice(_ input: SessionOpenInput, candidates: [Int], owner: String, fingerprint: String) async throws
        -> JSON
    {
        let repo = env.layout.root
        let pid = env.serverPid
        let host = env.serverHost
        return try await env.store.write { tx in
            let main = try Self.upsertMainWorktree(tx, repo: repo, branch: nil, keepBranch: true)
            let sid = try tx.insert(
                """
                INSERT INTO sessions (repo_path, agent_role, owner, terminal_fingerprint, intent, status, user_request,
                  always_branch, main_worktree_id, heartbeat_timeout_seconds, max_concurrent_children, server_pid,
                  server_host, started_at, last_seen_at)
                VALUES (?, ?, ?, ?, 'resume_work', 'awaiting_resume', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    repo, input.agentRole.rawValue, owner, fingerprint, input.userRequest, input.alwaysBranch,
                    main.id, input.heartbeatTimeoutSeconds, input.maxConcurrentChildren, pid, host, tx.now, tx.now,
                ])
            tx.bumpVersion()
            guard let s = try SessionRecord.load(tx, sid) else { throw CodestratorError.notFound("session", sid) }
            var list: [JSON] = []
            for id in candidates {
                if let c = try SessionRecord.load(tx, id) {
                    list.append(try SessionContextBuilder.candidate(tx, session: c))
                }
            }
            return .obj([
                "action_required": "select_resume_candidate", "session": s.json(now: tx.now),
                "main_worktree": main.json,
                "resume_candidates": JSON.array(list), "count": list.count,
            ])
        }
    }
}
