import Foundation

/// orch_workspace, worktrees: create, list, spawn, merge to parent, remove (docs/methods.md#orch_workspace--codestrator-worktrees-and-locks,
/// docs/runtime-guide.md#worktrees-and-slugs). Every check runs before the first git write; git work is undone if the row that
/// records it cannot be written.
public struct WorkspaceService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    var repo: String { env.layout.root }

    // MARK: scheduler.decide_worktree

    public func decide(_ input: WorktreeDecisionInput) -> JSON {
        let changed = input.changedFiles
        let minutes = input.estimateMinutes
        let risk = input.risk
        let workers = input.parallelWorkers
        let conflicts = input.conflictingPaths
        let minutePoints = (minutes + 14) / 15
        let score = changed + minutePoints + 3 * risk + 2 * workers + 2 * conflicts
        var reasons: [String] = []
        if changed > 0 { reasons.append("changed_files=\(changed)") }
        if minutes > 0 { reasons.append("estimate_minutes=\(minutes)(+\(minutePoints))") }
        if risk > 0 { reasons.append("risk=\(risk)(+\(3 * risk))") }
        if workers > 0 { reasons.append("parallel_workers=\(workers)(+\(2 * workers))") }
        if conflicts > 0 { reasons.append("conflicting_paths=\(conflicts)(+\(2 * conflicts))") }
        return .obj(["mode": score >= 12 ? "worktree" : "shared", "score": score, "threshold": 12, "reasons": reasons])
    }

    // MARK: shared checks

    /// A worker may act only on its own worktree and the worktrees it spawned below it.
    static func checkWorkerReach(_ tx: Tx, caller: Caller, worktree: WorktreeRecord, field: String) throws {
        guard caller.role == .worker else { return }
        guard let own = try ThreadRecord.load(tx, caller.threadId)?.worktreeId else {
            throw CodestratorError(
                .forbidden, "thread \(caller.threadId ?? 0) has no worktree", expected: "a worker with a worktree",
                field: field)
        }
        var cur: WorktreeRecord? = worktree
        while let w = cur {
            if w.id == own { return }
            cur = try WorktreeRecord.load(tx, w.parentWorktreeId)
        }
        throw CodestratorError(
            .forbidden, "worktree \(worktree.id) is not worktree \(own) or below it",
            expected: "your own worktree or one you spawned", field: field)
    }

    func worktree(_ tx: Tx, _ id: Int, field: String) throws -> WorktreeRecord {
        guard let w = try WorktreeRecord.load(tx, id) else {
            throw CodestratorError.notFound("worktree", id, field: field)
        }
        if env.caller.isChild && w.ownerSessionId != env.caller.sessionId {
            throw CodestratorError.notFound("worktree", id, field: field)
        }
        return w
    }

    /// A path given for a new worktree: inside `.codestrator/worktrees/`, absolute, not yet there.
    func worktreePathParam(_ given: String) throws -> String {
        let rel = try RepoPath.normalize(given, root: repo, field: "path")
        let abs = repo + "/" + rel
        let prefix = env.layout.worktreesDir + "/"
        guard abs.hasPrefix(prefix), !abs.dropFirst(prefix.count).isEmpty else {
            throw CodestratorError(
                .invalidParams, "path \(quoted(given)) is outside .codestrator/worktrees",
                expected: "a path inside it", field: "path")
        }
        return abs
    }

    /// A short branch name: what `git check-ref-format --branch` accepts unchanged (so not `@{-1}`), not
    /// starting with `refs/` (`refs/heads/main` would make `main` ambiguous), `-` or naming `HEAD`.
    func validBranch(_ name: String, field: String) async throws {
        let refLike = name.hasPrefix("refs/") || name == "HEAD" || name.hasPrefix("-")
        guard !refLike, try await env.git.isValidBranchName(name) else {
            throw CodestratorError(
                .invalidParams, "field \"\(field)\" is \(quoted(name))",
                expected:
                    "a short branch name git accepts (git check-ref-format --branch), without refs/ and not HEAD, e.g. codestrator/fix-login",
                field: field)
        }
    }

    /// Checks that a worktree's directory is that worktree: it exists and git's top level there is the
    /// directory itself. A deleted directory, or one recreated as a plain folder, would otherwise let git
    /// climb to the enclosing repository and act on the main worktree.
    func checkOnDisk(_ w: WorktreeRecord, field: String? = nil) async throws {
        let top = FileManager.default.fileExists(atPath: w.path) ? try await env.git.topLevel(of: w.path) : nil
        guard let top, Self.samePath(top, w.path) else {
            let found =
                top.map { "is not a worktree of its own (git finds \($0))" }
                ?? (FileManager.default.fileExists(atPath: w.path) ? "is not a git worktree" : "does not exist")
            throw CodestratorError(
                .invalidState, "the directory \(w.path) of worktree \(w.id) \(found)",
                expected:
                    "the worktree's directory as Codestrator created it (removed outside Codestrator? worktree.remove or session.cleanup records it)",
                field: field)
        }
    }

    static func samePath(_ a: String, _ b: String) -> Bool {
        a == b || (a as NSString).resolvingSymlinksInPath == (b as NSString).resolvingSymlinksInPath
    }

    /// Adds the git worktree, then records it; undoes the git work when recording fails.
    func addAndRecord(
        branch: String, path: String, baseCommit: String, onDisk: Bool,
        record: @escaping @Sendable (Tx) throws -> Int
    ) async throws -> WorktreeRecord {
        try env.layout.ensureDirectories()
        if onDisk {
            let outcome = try await env.gitWrites.run {
                try await env.git.worktreeAdd(repo: repo, branch: branch, path: path, baseCommit: baseCommit)
            }
            if case .alreadyExists(let why) = outcome {
                throw CodestratorError(
                    .conflict, "branch \(branch) or path \(path) already exists (\(why.prefix(200)))",
                    expected: "a branch and path not in use")
            }
        }
        do {
            return try await env.store.write { tx in
                // Another process may still have a live row for this name: it removed its worktree and branch
                // in git (so ours could be made) but has not marked its row removed yet. The name is taken until
                // then; our git work is undone below and a spawn tries the next name.
                if try tx.int(
                    """
                    SELECT 1 FROM worktrees WHERE status <> 'removed' AND kind <> 'main' AND (path = ? OR branch = ?)
                    LIMIT 1
                    """, [path, branch]) != nil
                {
                    throw CodestratorError(
                        .conflict, "branch \(branch) or path \(path) is still recorded for another worktree",
                        expected: "a branch and path not in use")
                }
                let id = try record(tx)
                tx.bumpVersion()
                return try WorktreeRecord.load(tx, id)!
            }
        } catch {
            if onDisk {
                await env.gitWrites.run {
                    try? await env.git.worktreeRemove(repo: repo, path: path, force: true)
                    try? await env.git.deleteBranch(repo: repo, branch: branch, force: true)
                }
            }
            throw error
        }
    }

    // MARK: worktree.create

    public func create(_ input: WorktreeCreateInput) async throws -> JSON {
        let branch = input.branch
        try await validBranch(branch, field: "branch")
        if try await env.git.branchExists(repo: repo, branch: branch) {
            throw CodestratorError(
                .conflict, "branch \(branch) already exists", expected: "a new branch name", field: "branch")
        }
        // The default directory is named by the slug of the branch, never by its raw text: `#`, `$(…)`,
        // unicode and the like must not reach the file system or tmux.
        let path: String
        if let given = try input.path.map(worktreePathParam) {
            path = given
        } else {
            let slug = Slug.derive(
                preferred: branch.split(separator: "/").last.map(String.init), fallback: branch)
            path =
                Slug.candidates(slug).map(env.layout.worktreePath(slug:)).first {
                    !FileManager.default.fileExists(atPath: $0)
                } ?? env.layout.worktreePath(slug: slug)
        }
        if FileManager.default.fileExists(atPath: path) {
            throw CodestratorError(.conflict, "path \(path) already exists", expected: "a new path", field: "path")
        }
        let baseRef: String
        if let b = input.baseRef {
            baseRef = b
        } else if let main = try await env.git.currentBranch(worktree: repo) {
            baseRef = main
        } else {
            baseRef = "HEAD"
        }
        guard !baseRef.hasPrefix("-"), let base = try await env.git.resolveCommit(repo: repo, rev: baseRef) else {
            throw CodestratorError(
                .invalidParams, "base_ref \(quoted(baseRef)) does not name a commit",
                expected: "a branch, tag or commit", field: "base_ref")
        }
        let caller = env.caller
        let onDisk = input.createOnDisk
        // Check the referenced rows before any git work.
        try await env.store.read { tx in
            let access = Access(tx: tx, caller: caller)
            let session = try input.sessionId.map { try access.session($0) }
            if let pid = input.parentWorktreeId {
                let parent = try self.worktree(tx, pid, field: "parent_worktree_id")
                if let s = session, parent.ownerSessionId != nil, parent.ownerSessionId != s.id {
                    throw CodestratorError(
                        .invalidParams, "parent worktree \(pid) belongs to session \(parent.ownerSessionId!)",
                        expected: "a worktree of session \(s.id)", field: "parent_worktree_id")
                }
            }
            if let tid = input.taskId { _ = try access.task(tid) }
        }
        let slug = (path as NSString).lastPathComponent
        let made = try await addAndRecord(branch: branch, path: path, baseCommit: base, onDisk: onDisk) { tx in
            try tx.insert(
                """
                INSERT INTO worktrees (kind, path, branch, slug, base_commit, owner_session_id, parent_worktree_id, task_id,
                  status, merge_state, created_at)
                VALUES ('task_branch', ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)
                """,
                [
                    path, branch, slug, base, input.sessionId, input.parentWorktreeId, input.taskId,
                    onDisk ? "active" : "planned", tx.now,
                ])
        }
        return made.json
    }

    // MARK: worktree.spawn

    public func spawn(_ input: WorktreeSpawnInput) async throws -> JSON {
        let (worktree, warnings) = try await spawnRecord(input)
        let out = worktree.json
        return warnings.isEmpty ? out : out.merging(["warnings": warnings])
    }

    /// The active session, the parent worktree of the session the caller may spawn below (default: the session
    /// root, for a child its own worktree) and the task of the session, if given.
    func spawnRows(_ input: WorktreeSpawnInput) async throws -> (SessionRecord, WorktreeRecord, TaskRecord?) {
        let caller = env.caller
        return try await env.store.read { tx in
            let access = Access(tx: tx, caller: caller)
            let session = try access.requireSession(id: input.sessionId)
            guard session.status == .active else {
                throw CodestratorError(
                    .invalidState, "session \(session.id) is \(session.status.rawValue)", expected: "an active session",
                    field: "session_id")
            }
            var parentId = input.parentWorktreeId
            if parentId == nil {
                parentId =
                    caller.isChild
                    ? try ThreadRecord.load(tx, caller.threadId)?.worktreeId : session.sessionRootWorktreeId
            }
            guard let pid = parentId else {
                throw CodestratorError(
                    .invalidState, "no parent worktree", expected: "parent_worktree_id", field: "parent_worktree_id")
            }
            let parent = try self.worktree(tx, pid, field: "parent_worktree_id")
            let inSession = parent.ownerSessionId == session.id || parent.id == session.sessionRootWorktreeId
            guard inSession, parent.status == .active, parent.branch != nil || !session.alwaysBranch else {
                throw CodestratorError(
                    .invalidParams,
                    "worktree \(pid) is not an active worktree of session \(session.id)",
                    expected: "an active worktree of the session", field: "parent_worktree_id")
            }
            if parent.kind == .main && session.alwaysBranch {
                throw CodestratorError(
                    .invalidParams, "worktree \(pid) is the main worktree",
                    expected: "a worktree of the session (the main worktree only with always_branch:false)",
                    field: "parent_worktree_id")
            }
            try Self.checkWorkerReach(tx, caller: caller, worktree: parent, field: "parent_worktree_id")
            let task = try input.taskId.map { try access.task($0) }
            if let task, task.sessionId != session.id {
                throw CodestratorError.notFound("task", task.id, field: "task_id")
            }
            return (session, parent, task)
        }
    }

    /// worktree.spawn as a record, for callers inside the core (a thread spawn) that need the row, not its JSON.
    func spawnRecord(_ input: WorktreeSpawnInput) async throws -> (WorktreeRecord, warnings: [String]) {
        let (session, parent, task) = try await spawnRows(input)
        if input.baseRef == nil { try await checkOnDisk(parent, field: "parent_worktree_id") }
        let baseRef = input.baseRef ?? parent.branch ?? "HEAD"
        let baseRepo = input.baseRef != nil ? repo : parent.path
        guard !baseRef.hasPrefix("-"), let base = try await env.git.resolveCommit(repo: baseRepo, rev: baseRef) else {
            throw CodestratorError(
                .invalidParams, "base_ref \(quoted(baseRef)) does not name a commit",
                expected: "a branch, tag or commit", field: "base_ref")
        }
        var warnings: [String] = []
        if !(try await env.git.dirtyFiles(worktree: parent.path, untracked: true)).isEmpty {
            warnings.append("parent worktree \(parent.id) has uncommitted changes the child will not see")
        }
        let onDisk = input.createOnDisk
        let record: @Sendable (String, String, String) -> (@Sendable (Tx) throws -> Int) = { path, branch, slug in
            { tx in
                try tx.insert(
                    """
                    INSERT INTO worktrees (kind, path, branch, slug, base_commit, owner_session_id, parent_worktree_id,
                      task_id, status, merge_state, created_at)
                    VALUES ('task_branch', ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)
                    """,
                    [path, branch, slug, base, session.id, parent.id, task?.id, onDisk ? "active" : "planned", tx.now])
            }
        }
        let out: WorktreeRecord
        if let branch = input.branch {
            // An explicit branch or path is used as given: taken means conflict, no suffixing.
            try await validBranch(branch, field: "branch")
            if try await env.git.branchExists(repo: repo, branch: branch) {
                throw CodestratorError(
                    .conflict, "branch \(branch) already exists", expected: "a new branch name", field: "branch")
            }
            let slug = Slug.derive(preferred: input.slug, fallback: input.reason ?? task?.title)
            let path = try input.path.map(worktreePathParam) ?? env.layout.worktreePath(slug: slug)
            if FileManager.default.fileExists(atPath: path) {
                throw CodestratorError(.conflict, "path \(path) already exists", expected: "a new path", field: "path")
            }
            out = try await addAndRecord(
                branch: branch, path: path, baseCommit: base, onDisk: onDisk,
                record: record(path, branch, (path as NSString).lastPathComponent))
        } else if let given = input.path {
            let path = try worktreePathParam(given)
            if FileManager.default.fileExists(atPath: path) {
                throw CodestratorError(.conflict, "path \(path) already exists", expected: "a new path", field: "path")
            }
            let slug = (path as NSString).lastPathComponent
            let branch = "codestrator/\(Slug.derive(preferred: slug))"
            out = try await addAndRecord(
                branch: branch, path: path, baseCommit: base, onDisk: onDisk, record: record(path, branch, slug))
        } else {
            let slug = Slug.derive(preferred: input.slug, fallback: input.reason ?? task?.title)
            out = try await spawnWithFreeSlug(slug, base: base, onDisk: onDisk, record: record)
        }
        return (out, warnings)
    }

    func spawnWithFreeSlug(
        _ slug: String, base: String, onDisk: Bool,
        record: @Sendable (String, String, String) -> (@Sendable (Tx) throws -> Int)
    ) async throws -> WorktreeRecord {
        for cand in Slug.candidates(slug) {
            let path = env.layout.worktreePath(slug: cand)
            let branch = "codestrator/\(cand)"
            if FileManager.default.fileExists(atPath: path) { continue }
            if try await env.git.branchExists(repo: repo, branch: branch) { continue }
            let taken = try await env.store.read { tx in
                try tx.int(
                    "SELECT COUNT(*) FROM worktrees WHERE status <> 'removed' AND (path = ? OR branch = ?)",
                    [path, branch]) ?? 0
            }
            if taken > 0 { continue }
            do {
                return try await addAndRecord(
                    branch: branch, path: path, baseCommit: base, onDisk: onDisk, record: record(path, branch, cand))
            } catch let e as CodestratorError where e.code == .conflict {
                continue  // another process took the name between our check and git's
            }
        }
        throw CodestratorError(
            .conflict, "no free worktree name for slug \(quoted(slug)) (\(slug) … \(slug)-99 taken)",
            expected: "another slug", field: "slug")
    }

    // MARK: worktree.list

    public func list(_ input: WorktreeListInput) async throws -> JSON {
        let caller = env.caller
        let (rows, total): ([WorktreeRecord], Int) = try await env.store.read { tx in
            let access = Access(tx: tx, caller: caller)
            var clauses: [String] = []
            var args: [any SQLArgument] = []
            if let s = try access.sessionParam(id: input.sessionId) {
                clauses.append("(owner_session_id = ? OR id = ? OR id = ?)")
                args += [s.id, s.sessionRootWorktreeId ?? 0, caller.isChild ? 0 : (s.mainWorktreeId ?? 0)]
            }
            for (value, col) in [(input.kind, "kind"), (input.status, "status"), (input.mergeState, "merge_state")] {
                if let v = value {
                    clauses.append("\(col) = ?")
                    args.append(v)
                }
            }
            if let parent = input.parentWorktreeId {
                clauses.append("parent_worktree_id = ?")
                args.append(parent)
            }
            if !input.includeRemoved && input.status == nil { clauses.append("status <> 'removed'") }
            let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
            let total = try tx.int("SELECT COUNT(*) FROM worktrees" + whereSQL, args) ?? 0
            let rows = try tx.rows(
                "SELECT * FROM worktrees" + whereSQL + " ORDER BY id LIMIT ? OFFSET ?",
                args + [input.page.limit, input.page.offset]
            ).map(WorktreeRecord.init)
            return (rows, total)
        }
        var items: [JSON] = []
        for w in rows {
            guard input.withGitStatus else {
                items.append(w.json)
                continue
            }
            items.append(
                w.json.merging(["git": try await gitStatus(w, parent: rows.first { $0.id == w.parentWorktreeId })]))
        }
        return .obj(["worktrees": JSON.array(items), "count": items.count, "total": total])
    }

    func gitStatus(_ w: WorktreeRecord, parent known: WorktreeRecord?) async throws -> JSON {
        guard w.status != .removed, FileManager.default.fileExists(atPath: w.path) else { return .null }
        let head = try await env.git.resolveCommit(repo: w.path, rev: "HEAD")
        let dirty = try await env.git.dirtyFiles(worktree: w.path, untracked: true)
        var parent = known
        if parent == nil, let pid = w.parentWorktreeId {
            parent = try await env.store.read { tx in try WorktreeRecord.load(tx, pid) }
        }
        var ahead: Int?
        var behind: Int?
        if let head, let parentBranch = parent?.branch,
            let parentTip = try await env.git.resolveCommit(repo: repo, rev: "refs/heads/" + parentBranch)
        {
            ahead = try await env.git.countMissing(repo: repo, from: parentTip, in: head)
            behind = try await env.git.countMissing(repo: repo, from: head, in: parentTip)
        }
        return .obj([
            "head_commit": head, "dirty": !dirty.isEmpty, "dirty_files": Array(dirty.prefix(50)),
            "ahead_of_parent": ahead, "behind_parent": behind,
        ])
    }
}
