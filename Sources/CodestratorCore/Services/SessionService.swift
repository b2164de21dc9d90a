import Foundation

/// orch_session: sessions in their own worktrees, heartbeats, close, cleanup (docs/methods.md#orch_session--codestrator-sessions).
public struct SessionService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    // MARK: workspace.init

    public func workspaceInit(_ p: Params) async throws -> JSON {
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

    /// Several candidates for `resume_work`: an `awaiting_resume` session and the list to choose from.
    func awaitChoice(_ p: Params, candidates: [Int], owner: String, fingerprint: String) async throws -> JSON {
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
                    repo, p.string("agent_role") ?? "codex", owner, fingerprint, p.string("user_request"),
                    p.bool("always_branch") ?? true, main.id, p.int("heartbeat_timeout_seconds") ?? 60,
                    p.int("max_concurrent_children") ?? 6, pid, host, tx.now, tx.now,
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

    // MARK: session.heartbeat / close / list / context

    public func heartbeat(_ p: Params) async throws -> JSON {
        let caller = env.caller
        let pid = env.serverPid
        let host = env.serverHost
        let out: JSON = try await env.store.write { tx in
            var s = try Access(tx: tx, caller: caller).requireSession(p)
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

    public func close(_ p: Params) async throws -> JSON {
        let caller = env.caller
        let out: JSON = try await env.store.write { tx in
            let s = try Access(tx: tx, caller: caller).requireSession(p)
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

    public func cleanup(_ p: Params) async throws -> JSON {
        let caller = env.caller
        let session = try await env.store.read { tx in try Access(tx: tx, caller: caller).requireSession(p) }
        // Step 1: reconcile the session (docs/runtime.md#reconciliation).
        let repairs = (try? await Reconciler(env: env).run(sessionId: session.id)) ?? []
        // Steps 2–3: stop children with panes (in parallel), then kill the marked viewer session.
        var tmuxErrors: [String] = []
        var stopped = 0
        let withPanes = try await env.store.read { tx in
            try tx.ints("SELECT id FROM threads WHERE session_id = ? AND tmux_pane_id IS NOT NULL", [session.id])
        }
        let service = ThreadService(env: env)
        try await withThrowingTaskGroup(of: String?.self) { group in
            for id in withPanes {
                group.addTask {
                    do {
                        _ = try await service.stopThread(id, terminatePane: true, wait: 3)
                        return nil
                    } catch let e as CodestratorError {
                        return "thread \(id): \(e.what)"
                    }
                }
            }
            for try await e in group {
                if let e { tmuxErrors.append(e) } else { stopped += 1 }
            }
        }
        var killed = false
        if let name = session.tmuxSessionName,
            (try? await env.tmux.sessionOption(
                socket: session.tmuxSocket, session: name, name: "@codestrator_session_id"))
                == String(session.id),
            (try? await env.tmux.sessionOption(socket: session.tmuxSocket, session: name, name: "@codestrator_repo"))
                == env.layout.root
        {
            do {
                try await env.tmux.killSession(socket: session.tmuxSocket, name: name)
                killed = true
            } catch let e as CodestratorError {
                tmuxErrors.append(e.what)
            }
        }
        let errors = tmuxErrors
        let stoppedByPane = stopped
        let killedViewer = killed
        let repaired = repairs
        let out: JSON = try await env.store.write { tx in
            let s = try Access(tx: tx, caller: caller).requireSession(p)
            // Threads that never got a pane (or whose pane is gone) become stopped; live panes are the
            // thread runtime's to stop and do not exist without it.
            let stopping = try tx.ints(
                """
                SELECT id FROM threads WHERE session_id = ? AND role <> 'session-root'
                  AND status IN ('planned','initializing','running','idle','waiting_user_answer')
                """, [s.id])
            for id in stopping {
                try tx.execute(
                    """
                    UPDATE threads SET status = 'stopped', status_source = 'stop', status_changed_at = ?, updated_at = ?,
                      completed_at = COALESCE(completed_at, ?), launching_since = NULL WHERE id = ?
                    """, [tx.now, tx.now, tx.now, id])
            }
            try tx.execute(
                """
                UPDATE thread_directives SET state = 'cancelled' WHERE state = 'queued'
                  AND thread_id IN (SELECT id FROM threads WHERE session_id = ?)
                """, [s.id])
            try tx.execute(
                """
                UPDATE locks SET state = 'released', released_at = ? WHERE state = 'active'
                  AND (session_id = ? OR thread_id IN (SELECT id FROM threads WHERE session_id = ?))
                """, [tx.now, s.id, s.id])
            let locksReleased = tx.changes
            try tx.execute(
                """
                UPDATE review_jobs SET state = 'cancelled', updated_at = ?, completed_at = ?
                  WHERE session_id = ? AND state IN ('requested','running')
                """, [tx.now, tx.now, s.id])
            let jobs = tx.changes
            try tx.execute(
                """
                UPDATE merge_main_queue SET state = 'cancelled', updated_at = ?, completed_at = ?,
                  error_message = COALESCE(error_message, ?)
                WHERE session_id = ? AND state IN ('queued','reviewing','approved')
                """, [tx.now, tx.now, "session \(s.id) cleaned up", s.id])
            let items = tx.changes
            try tx.execute(
                """
                UPDATE merge_requests SET status = 'cancelled', updated_at = ?
                  WHERE session_id = ? AND status IN ('requested','reviewing','approved')
                """, [tx.now, s.id])
            try tx.execute(
                """
                UPDATE merge_main_lock SET state = 'unlocked', holder_session_id = NULL, queue_item_id = NULL,
                  lease_until = NULL, acquired_at = NULL, updated_at = ? WHERE state = 'locked' AND holder_session_id = ?
                """, [tx.now, s.id])
            let mainLock = tx.changes > 0
            if s.status != .closed && s.status != .superseded {
                try s.status.checkMove(to: .closed, entity: "session \(s.id)")
                try tx.execute("UPDATE sessions SET status = 'closed', closed_at = ? WHERE id = ?", [tx.now, s.id])
            }
            tx.bumpVersion()
            let kept = try tx.rows(
                "SELECT * FROM worktrees WHERE owner_session_id = ? AND status <> 'removed' ORDER BY id", [s.id]
            ).map { WorktreeRecord($0).json }
            return .obj([
                "result": "cleaned_up", "session": try SessionRecord.load(tx, s.id)!.json(now: tx.now),
                "threads_stopped": stopping.count + stoppedByPane, "session_killed": killedViewer,
                "locks_released": locksReleased,
                "main_lock_released": mainLock, "queue_items_cancelled": items, "review_jobs_cancelled": jobs,
                "worktrees_kept": JSON.array(kept), "repairs": repaired, "tmux_errors": errors,
            ])
        }
        if let id = out["session"]?["id"]?.intValue { await env.heartbeats.remove(id) }
        return out
    }

    public func list(_ p: Params) async throws -> JSON {
        let repo = env.layout.root
        let filter = p.string("status") ?? "open"
        let statuses: [String]
        switch filter {
        case "open": statuses = ["active", "awaiting_resume"]
        case "all": statuses = SessionStatus.allCases.map(\.rawValue)
        default: statuses = [filter]
        }
        let limit = p.int("limit") ?? 100
        let offset = p.int("offset") ?? 0
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

    public func context(_ p: Params) async throws -> JSON {
        let caller = env.caller
        let socket = env.tmuxSocket
        return try await env.store.read { tx in
            let s = try Access(tx: tx, caller: caller).requireSession(p)
            return try SessionContextBuilder.build(tx, session: s, tmuxSocket: socket)
        }
    }
}
