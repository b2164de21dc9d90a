import Foundation

/// session.open: resume, choose or start a session, with its worktree, its root thread and its viewer.
extension SessionService {
    // MARK: session.open

    enum Plan: Sendable {
        case resume(Int)
        case newWork
        case choose([Int])
    }

    public func open(_ p: Params) async throws -> JSON {
        let intent = p.enumValue("intent", SessionIntent.self) ?? .auto
        let owner = p.string("owner") ?? NSUserName()
        let fingerprint = p.string("terminal_fingerprint") ?? TerminalFingerprint.derive()
        let repo = env.layout.root
        let caller = env.caller
        let mine = await env.heartbeats.sessionIds
        let identity = env.identity
        let hasSlugSource = p.has("user_request") || p.has("worktree_name")

        // Decide what to do, reading only (docs/methods.md#sessionopen "Choosing what to do").
        let plan: Plan = try await env.store.read { tx in
            let access = Access(tx: tx, caller: caller)
            if let rid = p.int("requester_session_id") {
                let r = try access.session(rid, field: "requester_session_id")
                guard r.status == .awaitingResume, r.repoPath == repo else {
                    throw CodestratorError(
                        .invalidState, "requester_session_id \(rid) is \(r.status.rawValue)",
                        expected: "an awaiting_resume session of this repository", field: "requester_session_id")
                }
            }
            if let sid = p.int("resume_session_id") {
                let s = try access.session(sid, field: "resume_session_id")
                guard s.repoPath == repo, s.status == .active else {
                    throw CodestratorError(
                        .invalidState, "resume_session_id \(sid) is \(s.status.rawValue)",
                        expected: "an active session of this repository", field: "resume_session_id")
                }
                guard s.isStale(now: tx.now) || s.terminalFingerprint == fingerprint || mine.contains(sid) else {
                    throw CodestratorError(
                        .invalidState,
                        "session \(sid) is live (last heartbeat \(s.idleSeconds(now: tx.now)) s ago) and belongs to another terminal",
                        expected: "a stale session, or one with your terminal_fingerprint", field: "resume_session_id")
                }
                return .resume(sid)
            }
            if intent == .newWork { return .newWork }
            // The session this process already heartbeats (a compaction keeps the process).
            for sid in mine.reversed() {
                if let s = try SessionRecord.load(tx, sid), s.status == .active, s.repoPath == repo {
                    return .resume(sid)
                }
            }
            // The session this root's terminal is bound to (a restarted server, a shared daemon); with a new
            // request under `auto` the terminal may be starting other work, so only without one.
            if !hasSlugSource || intent == .resumeWork,
                case .session(let sid, _) = try RootBinding.find(tx, repo: repo, identity: identity)
            {
                return .resume(sid)
            }
            if let sid = try tx.int(
                """
                SELECT id FROM sessions WHERE repo_path = ? AND status = 'active' AND terminal_fingerprint = ?
                ORDER BY last_seen_at DESC, id DESC LIMIT 1
                """, [repo, fingerprint])
            {
                return .resume(sid)
            }
            let stale = try tx.rows(
                "SELECT * FROM sessions WHERE repo_path = ? AND status = 'active' ORDER BY last_seen_at DESC, id DESC",
                [repo]
            ).map(SessionRecord.init).filter { $0.isStale(now: tx.now) }
            if intent == .auto {
                let ownerMatches = stale.filter { $0.owner == owner }
                if !hasSlugSource, ownerMatches.count == 1 { return .resume(ownerMatches[0].id) }
                return .newWork
            }
            switch stale.count {
            case 0:
                throw CodestratorError(
                    .invalidState, "no resumable session in this repository", expected: "intent new_work or auto",
                    field: "intent")
            case 1: return .resume(stale[0].id)
            default: return .choose(stale.map(\.id))
            }
        }

        switch plan {
        case .resume(let sid):
            return try await resume(sessionId: sid, requester: p.int("requester_session_id"), fingerprint: fingerprint)
        case .choose(let ids):
            return try await awaitChoice(p, candidates: ids, owner: owner, fingerprint: fingerprint)
        case .newWork:
            return try await openNew(p, owner: owner, fingerprint: fingerprint)
        }
    }

    static func openOutput(_ tx: Tx, session s: SessionRecord, resumed: Bool, socket: String?) throws -> JSON {
        let ctx = try SessionContextBuilder.build(tx, session: s, tmuxSocket: socket)
        let rootWT = try WorktreeRecord.load(tx, s.sessionRootWorktreeId)
        let attach = s.tmuxSessionName.map { AttachCommand.readOnly(session: $0, socket: s.tmuxSocket) }
        let path = rootWT?.path ?? s.repoPath
        return .obj([
            "session_context": ctx, "root_mode": "caller_cli", "worktree_slug": s.worktreeSlug, "worktree_path": path,
            "branch": rootWT?.branch, "viewer_tmux_session": s.tmuxSessionName, "attach_readonly_command": attach,
            "resumed": resumed,
            "note": "Work only inside \(path). Children appear in tmux; watch with: \(attach ?? "(no viewer session)")",
        ])
    }

    /// Inserts or refreshes the main worktree row (its branch updated to the current one).
    static func upsertMainWorktree(_ tx: Tx, repo: String, branch: String?, keepBranch: Bool = false) throws
        -> WorktreeRecord
    {
        if let row = try tx.row("SELECT * FROM worktrees WHERE kind = 'main'") {
            let wt = WorktreeRecord(row)
            if !keepBranch && (wt.branch != branch || wt.path != repo) {
                try tx.execute("UPDATE worktrees SET branch = ?, path = ? WHERE id = ?", [branch, repo, wt.id])
            }
            return try WorktreeRecord.load(tx, wt.id)!
        }
        let id = try tx.insert(
            """
            INSERT INTO worktrees (kind, path, branch, status, merge_state, created_at)
            VALUES ('main', ?, ?, 'active', 'attached', ?)
            """, [repo, branch, tx.now])
        return try WorktreeRecord.load(tx, id)!
    }

    /// New work: validate, pick a free slug, `git worktree add`, then one transaction; the worktree
    /// and branch are removed again if that transaction fails.
    func openNew(_ p: Params, owner: String, fingerprint: String) async throws -> JSON {
        let repo = env.layout.root
        let git = env.git
        let alwaysBranch = p.bool("always_branch") ?? true
        try env.layout.ensureDirectories()
        try RepositoryLayout.ensureExcluded(excludePath: try await git.infoExcludePath(repo: repo))

        guard try await git.resolveCommit(repo: repo, rev: "HEAD") != nil || p.has("base_ref") else {
            throw CodestratorError(
                .invalidState, "the repository has no commit",
                expected: "a first commit (git commit) before session.open")
        }
        let mainBranch = try await git.currentBranch(worktree: repo)
        let baseRef: String
        if let given = p.string("base_ref") {
            baseRef = given
        } else if let mainBranch {
            baseRef = mainBranch
        } else {
            throw CodestratorError(
                .invalidParams, "field \"base_ref\" is required: the main worktree is on a detached HEAD",
                expected: "a branch, tag or commit", field: "base_ref")
        }
        guard !baseRef.hasPrefix("-"), let baseCommit = try await git.resolveCommit(repo: repo, rev: baseRef) else {
            throw CodestratorError(
                .invalidParams, "base_ref \(quoted(baseRef)) does not name a commit",
                expected: "a branch, tag or commit", field: "base_ref")
        }
        let sessionMainBranch: String?
        if p.has("base_ref") {
            sessionMainBranch = try await git.branchExists(repo: repo, branch: baseRef) ? baseRef : nil
        } else {
            sessionMainBranch = mainBranch
        }
        let repoName = env.layout.name

        if !alwaysBranch {
            let busy = try await env.store.read { tx in
                try tx.int(
                    "SELECT id FROM sessions WHERE repo_path = ? AND status = 'active' AND always_branch = 0 LIMIT 1",
                    [repo])
            }
            if let busy {
                throw CodestratorError(
                    .conflict, "session \(busy) already works in the main worktree",
                    expected: "always_branch:true, or session.close of session \(busy) first", field: "always_branch")
            }
            let viewer = Slug.viewerSessionName(repository: repoName, worktree: mainBranch ?? "main")
            return try await insertSession(
                p, owner: owner, fingerprint: fingerprint, slug: nil, rootPath: repo, branch: nil,
                baseCommit: baseCommit, mainBranch: sessionMainBranch, currentMainBranch: mainBranch, viewer: viewer)
        }

        // Pick the first free slug; git itself arbitrates a race with another process.
        let slug = Slug.derive(preferred: p.string("worktree_name"), fallback: p.string("user_request"))
        for cand in Slug.candidates(slug) {
            let path = env.layout.worktreePath(slug: cand)
            let branch = "codestrator/\(cand)"
            if FileManager.default.fileExists(atPath: path) { continue }
            if try await git.branchExists(repo: repo, branch: branch) { continue }
            let taken = try await env.store.read { tx in
                try tx.int(
                    "SELECT COUNT(*) FROM worktrees WHERE status <> 'removed' AND (path = ? OR branch = ?)",
                    [path, branch]) ?? 0
            }
            if taken > 0 { continue }
            switch try await git.worktreeAdd(repo: repo, branch: branch, path: path, baseCommit: baseCommit) {
            case .alreadyExists: continue
            case .created: break
            }
            do {
                return try await insertSession(
                    p, owner: owner, fingerprint: fingerprint, slug: cand, rootPath: path, branch: branch,
                    baseCommit: baseCommit, mainBranch: sessionMainBranch, currentMainBranch: mainBranch,
                    viewer: Slug.viewerSessionName(repository: repoName, worktree: cand))
            } catch {
                try? await git.worktreeRemove(repo: repo, path: path, force: true)
                try? await git.deleteBranch(repo: repo, branch: branch, force: true)
                throw error
            }
        }
        throw CodestratorError(
            .conflict, "no free worktree name for slug \(quoted(slug)) (\(slug) … \(slug)-99 taken)",
            expected: "another worktree_name", field: "worktree_name")
    }

    func insertSession(
        _ p: Params, owner: String, fingerprint: String, slug: String?, rootPath: String, branch: String?,
        baseCommit: String, mainBranch: String?, currentMainBranch: String?, viewer: String
    ) async throws -> JSON {
        let repo = env.layout.root
        let pid = env.serverPid
        let host = env.serverHost
        let socket = env.tmuxSocket
        let requester = p.int("requester_session_id")
        let identity = env.caller.isChild ? nil : env.identity
        let result: (JSON, Int) = try await env.store.write { tx in
            let main = try Self.upsertMainWorktree(tx, repo: repo, branch: currentMainBranch)
            let sid = try tx.insert(
                """
                INSERT INTO sessions (repo_path, agent_role, owner, terminal_fingerprint, intent, status, user_request,
                  worktree_slug, main_branch, always_branch, main_worktree_id, tmux_session_name, tmux_socket,
                  heartbeat_timeout_seconds, max_concurrent_children, server_pid, server_host, started_at, last_seen_at)
                VALUES (?, ?, ?, ?, 'new_work', 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    repo, p.string("agent_role") ?? "codex", owner, fingerprint, p.string("user_request"), slug,
                    mainBranch, branch != nil, main.id, viewer, socket, p.int("heartbeat_timeout_seconds") ?? 60,
                    p.int("max_concurrent_children") ?? 6, pid, host, tx.now, tx.now,
                ])
            let rootWorktreeId: Int
            if let branch {
                rootWorktreeId = try tx.insert(
                    """
                    INSERT INTO worktrees (kind, path, branch, slug, base_commit, owner_session_id, parent_worktree_id,
                      status, merge_state, created_at)
                    VALUES ('session_root', ?, ?, ?, ?, ?, ?, 'active', 'active', ?)
                    """, [rootPath, branch, slug, baseCommit, sid, main.id, tx.now])
            } else {
                rootWorktreeId = main.id
            }
            let tid = try tx.insert(
                """
                INSERT INTO threads (session_id, role, status, status_changed_at, status_source, title, worktree_id,
                  workdir, created_at, started_at, updated_at)
                VALUES (?, 'session-root', 'running', ?, 'spawn', 'root', ?, ?, ?, ?, ?)
                """, [sid, tx.now, rootWorktreeId, rootPath, tx.now, tx.now, tx.now])
            try tx.execute(
                "UPDATE sessions SET session_root_worktree_id = ?, root_thread_id = ? WHERE id = ?",
                [rootWorktreeId, tid, sid])
            if let requester { try Self.supersede(tx, requester, by: sid) }
            if let identity, !identity.keys.isEmpty { try RootBinding.bind(tx, sessionId: sid, identity: identity) }
            tx.bumpVersion()
            let s = try SessionRecord.load(tx, sid)!
            return (try Self.openOutput(tx, session: s, resumed: false, socket: socket), sid)
        }
        if !env.oneShot { await env.heartbeats.add(result.1) }
        return try await withViewer(sessionId: result.1, output: result.0)
    }

    /// Step 5 of session.open (and resume): the viewer tmux session. It never fails the call: without a
    /// usable tmux the session's `runtime_state` becomes `tmux_manual_required` and a warning says so.
    func withViewer(sessionId: Int, output: JSON) async throws -> JSON {
        let viewer = Viewer(env: env)
        let (ready, version) = await viewer.tmuxReady()
        var warning: String?
        var state = "tmux_ready"
        if ready {
            do {
                let s = try await env.store.read { tx in try SessionRecord.load(tx, sessionId)! }
                try await viewer.ensure(session: s)
            } catch let e as CodestratorError {
                warning = "the viewer tmux session could not be created (\(e.what)); run runtime.tmux.ensure"
                state = "tmux_manual_required"
            }
        } else {
            warning =
                "tmux ≥ 3.0 is not available (found \(version ?? "none")); children cannot be spawned until runtime.tmux.ensure reports ready"
            state = "tmux_manual_required"
        }
        let socket = env.tmuxSocket
        let resumed = output["resumed"]?.boolValue ?? false
        let runtimeState = state
        var out: JSON = try await env.store.write { tx in
            try tx.execute("UPDATE sessions SET runtime_state = ? WHERE id = ?", [runtimeState, sessionId])
            let s = try SessionRecord.load(tx, sessionId)!
            return try Self.openOutput(tx, session: s, resumed: resumed, socket: s.tmuxSocket ?? socket)
        }
        if let warning { out = out.merging(["warnings": [warning]]) }
        return out
    }
}
