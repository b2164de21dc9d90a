import Foundation

/// session.open: resume, choose or start a session, with its worktree, its root thread and its viewer.
extension SessionService {
    // MARK: session.open

    public func open(_ input: SessionOpenInput) async throws -> JSON {
        let owner = input.owner ?? NSUserName()
        let fingerprint = input.terminalFingerprint ?? TerminalFingerprint.derive()
        switch try await plan(input, owner: owner, fingerprint: fingerprint) {
        case .resume(let sid):
            return try await resume(sessionId: sid, requester: input.requesterSessionId, fingerprint: fingerprint)
        case .choose(let ids):
            return try await awaitChoice(input, candidates: ids, owner: owner, fingerprint: fingerprint)
        case .newWork:
            return try await openNew(input, owner: owner, fingerprint: fingerprint)
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

    /// A new session's row as the call describes it: the input, who opens it, and where it starts.
    struct NewSession: Sendable {
        let input: SessionOpenInput
        let owner: String
        let fingerprint: String
        let base: SessionBase
    }

    /// Where a new session starts: the base commit, the session's main branch (the base when it is a branch
    /// given as `base_ref`), and the main worktree's current branch.
    struct SessionBase: Sendable {
        let commit: String
        let mainBranch: String?
        let currentMainBranch: String?
    }

    /// New work: validate, pick a free slug, `git worktree add`, then one transaction; the worktree
    /// and branch are removed again if that transaction fails.
    func openNew(_ input: SessionOpenInput, owner: String, fingerprint: String) async throws -> JSON {
        try env.layout.ensureDirectories()
        try RepositoryLayout.ensureExcluded(excludePath: try await env.git.infoExcludePath(repo: env.layout.root))
        let base = try await sessionBase(input.baseRef)
        let new = NewSession(input: input, owner: owner, fingerprint: fingerprint, base: base)
        return input.alwaysBranch ? try await openInNewWorktree(new) : try await openInMainWorktree(new)
    }

    /// The base of a new session: `base_ref` when given, else the main worktree's branch.
    func sessionBase(_ given: String?) async throws -> SessionBase {
        let repo = env.layout.root
        let git = env.git
        guard try await git.resolveCommit(repo: repo, rev: "HEAD") != nil || given != nil else {
            throw CodestratorError(
                .invalidState, "the repository has no commit",
                expected: "a first commit (git commit) before session.open")
        }
        let mainBranch = try await git.currentBranch(worktree: repo)
        guard let baseRef = given ?? mainBranch else {
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
        if given != nil {
            sessionMainBranch = try await git.branchExists(repo: repo, branch: baseRef) ? baseRef : nil
        } else {
            sessionMainBranch = mainBranch
        }
        return SessionBase(commit: baseCommit, mainBranch: sessionMainBranch, currentMainBranch: mainBranch)
    }

    /// `always_branch: false`: the session works in the main worktree, which only one session may do.
    func openInMainWorktree(_ new: NewSession) async throws -> JSON {
        let repo = env.layout.root
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
        let viewer = Slug.viewerSessionName(
            repository: env.layout.name, worktree: new.base.currentMainBranch ?? "main")
        return try await insertSession(new, slug: nil, rootPath: repo, branch: nil, viewer: viewer)
    }

    /// The session's own worktree and branch under the first free slug; git itself arbitrates a race with
    /// another process.
    func openInNewWorktree(_ new: NewSession) async throws -> JSON {
        let repo = env.layout.root
        let git = env.git
        let slug = Slug.derive(preferred: new.input.worktreeName, fallback: new.input.userRequest)
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
            switch try await git.worktreeAdd(repo: repo, branch: branch, path: path, baseCommit: new.base.commit) {
            case .alreadyExists: continue
            case .created: break
            }
            do {
                return try await insertSession(
                    new, slug: cand, rootPath: path, branch: branch,
                    viewer: Slug.viewerSessionName(repository: env.layout.name, worktree: cand))
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

    func insertSession(_ new: NewSession, slug: String?, rootPath: String, branch: String?, viewer: String)
        async throws -> JSON
    {
        let input = new.input
        let base = new.base
        let repo = env.layout.root
        let pid = env.serverPid
        let host = env.serverHost
        let socket = env.tmuxSocket
        let requester = input.requesterSessionId
        let identity = env.caller.isChild ? nil : env.identity
        let result: (JSON, Int) = try await env.store.write { tx in
            let main = try Self.upsertMainWorktree(tx, repo: repo, branch: base.currentMainBranch)
            let sid = try tx.insert(
                """
                INSERT INTO sessions (repo_path, agent_role, owner, terminal_fingerprint, intent, status, user_request,
                  worktree_slug, main_branch, always_branch, main_worktree_id, tmux_session_name, tmux_socket,
                  heartbeat_timeout_seconds, max_concurrent_children, server_pid, server_host, started_at, last_seen_at)
                VALUES (?, ?, ?, ?, 'new_work', 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    repo, input.agentRole.rawValue, new.owner, new.fingerprint, input.userRequest, slug,
                    base.mainBranch, branch != nil, main.id, viewer, socket, input.heartbeatTimeoutSeconds,
                    input.maxConcurrentChildren, pid, host, tx.now, tx.now,
                ])
            let rootWorktreeId: Int
            if let branch {
                rootWorktreeId = try tx.insert(
                    """
                    INSERT INTO worktrees (kind, path, branch, slug, base_commit, owner_session_id, parent_worktree_id,
                      status, merge_state, created_at)
                    VALUES ('session_root', ?, ?, ?, ?, ?, ?, 'active', 'active', ?)
                    """, [rootPath, branch, slug, base.commit, sid, main.id, tx.now])
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
