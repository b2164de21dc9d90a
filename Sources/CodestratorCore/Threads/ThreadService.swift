import Foundation

/// orch_thread: child agents in tmux panes (docs/methods.md#orch_thread--codestrator-child-agents, docs/runtime-guide.md#tmux-sessions-windows-and-panes, docs/runtime-guide.md#providers-and-launch-flags, docs/runtime-guide.md#status-detection, docs/runtime-guide.md#capacity).
public struct ThreadService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    var caller: Caller { env.caller }

    // MARK: spawn

    struct SpawnPlan: Sendable {
        var session: SessionRecord
        var role: ThreadRole
        var provider: String
        var runner: String
        var title: String
        var parentThreadId: Int
        var worktree: WorktreeRecord?
        var createWorktree: Bool
        var cases: [TaskRecord]
        var scopeTaskIds: [Int]
        var scopeNodeIds: [Int]
        var window: String
        var capacity: Int
        var agentOverride: JSON
        var taskSpec: JSON
        var guide: String?
        var launchArgv: [String]?
        var reviewJobId: Int?
        /// The tmux version read by validation (`ensure_tmux`), reused for the answer's attach_info.
        var tmuxVersion: String? = nil
    }

    static let liveSQL = "('initializing','running','idle','waiting_user_answer')"

    /// Capacity counts rows: children that are live or still hold a pane, plus launches in flight.
    static func countCapacity(_ tx: Tx, sessionId: Int, excluding: Int? = nil) throws -> Int {
        try tx.int(
            """
            SELECT COUNT(*) FROM threads WHERE session_id = ? AND role <> 'session-root' AND id <> ?
              AND (status IN \(liveSQL) OR tmux_pane_id IS NOT NULL OR launching_since IS NOT NULL)
            """, [sessionId, excluding ?? 0]) ?? 0
    }

    /// thread.child.spawn with its typed input (the merge reviewer's spawn builds one); the steps and their
    /// undos are `SpawnSaga`'s.
    public func spawn(_ input: ThreadSpawnInput, reviewJobId: Int? = nil) async throws -> JSON {
        try await SpawnSaga(threads: self, input: input, reviewJobId: reviewJobId).run()
    }

    struct SpawnExit: Error { let error: CodestratorError }

    /// The first half of a spawn's validation, in one read transaction (`ThreadService+SpawnChecks`): the
    /// session, provider and runner, parent, worktree, scopes, viewer and capacity.
    func validateSpawn(_ input: ThreadSpawnInput, reviewJobId: Int?) async throws -> SpawnPlan {
        let caller = self.caller
        let role = input.role
        let plan: SpawnPlan = try await env.store.read { tx in
            let access = Access(tx: tx, caller: caller)
            let s = try Self.activeSession(access, input.sessionId)
            let (provider, runner) = try Self.providerAndRunner(input, session: s)
            let parent = try Self.parentThread(access, input.parentThreadId, session: s)
            var worktree = try Self.givenWorktree(tx, input.worktreeId, session: s)
            let createWorktree = input.createWorktree ?? (role == .worker && worktree == nil)
            if worktree == nil && !createWorktree { worktree = try WorktreeRecord.load(tx, s.sessionRootWorktreeId) }
            let cases = try Self.scopeCases(access, input.scopeCaseIds, role: role, session: s)
            try Self.checkOtherScopes(access, input, session: s)
            if let given = input.tmuxSessionName, given != s.tmuxSessionName {
                throw CodestratorError(
                    .invalidParams, "tmux_session_name \(quoted(given)) is not the session's viewer",
                    expected: s.tmuxSessionName ?? "the viewer session", field: "tmux_session_name")
            }
            let capacity = try Self.capacity(input.maxConcurrentChildren, session: s)
            let count =
                try tx.int("SELECT COUNT(*) FROM threads WHERE session_id = ? AND role <> 'session-root'", [s.id]) ?? 0
            let title = input.title ?? cases.first?.title ?? "\(role.rawValue) \(count + 1)"
            return SpawnPlan(
                session: s, role: role, provider: provider, runner: runner, title: title, parentThreadId: parent,
                worktree: worktree, createWorktree: createWorktree, cases: cases,
                scopeTaskIds: input.scopeTaskIds,
                scopeNodeIds: input.scopeNodeIds, window: input.tmuxWindowName ?? Viewer.defaultWindow,
                capacity: capacity, agentOverride: input.agentOverride ?? .null, taskSpec: input.taskSpec ?? .null,
                guide: nil, launchArgv: nil, reviewJobId: reviewJobId)
        }
        return try await resolveLaunch(plan, input)
    }

    /// The second half of validation, outside the transaction: provider settings, the program on PATH, the
    /// agent guide, tmux, and whether the session has room.
    func resolveLaunch(_ planned: SpawnPlan, _ input: ThreadSpawnInput) async throws -> SpawnPlan {
        var plan = planned
        let root = env.layout.root
        // Per-repository provider settings (`.codestrator/providers.json`, keyed by provider) under the
        // spawn's own agent_override: the spawn's keys win.
        plan.agentOverride = try ProviderOverrides.merged(
            repository: ProviderOverrides.load(env.layout.stateDir + "/providers.json")[plan.provider],
            spawn: plan.agentOverride)
        try Self.checkOverride(plan.agentOverride)
        // The program: launch_argv / launch_command for `command`, else the provider's executable.
        if plan.runner == "command" {
            var argv = input.launchArgv
            if argv == nil, let cmd = input.launchCommand { argv = try CommandSplitter.split(cmd) }
            guard let a = argv, let program = a.first else {
                throw CodestratorError(
                    .invalidParams, "runner_kind command needs launch_argv", expected: "launch_argv or launch_command",
                    field: "launch_argv")
            }
            guard env.programs.locate(program) != nil else {
                throw CodestratorError(
                    .invalidParams, "program \(quoted(program)) not found on PATH",
                    expected: "an absolute path or a program on PATH",
                    field: "launch_argv")
            }
            plan.launchArgv = a
        } else if plan.provider == "codex" {
            let cmd = input.codexCommand ?? "codex"
            guard env.programs.locate(cmd) != nil else {
                throw CodestratorError(
                    .unavailable, "program \(quoted(cmd)) not found on PATH",
                    expected: "Codex CLI installed, or codex_command",
                    field: "codex_command")
            }
            // Kept with the thread's override so that a restart launches the same program.
            if input.codexCommand != nil {
                var o = plan.agentOverride.objectValue ?? JSONObject()
                o["codex_command"] = .string(cmd)
                plan.agentOverride = .object(o)
            }
        } else if plan.provider == "claude_code" {
            guard env.programs.locate("claude") != nil else {
                throw CodestratorError(
                    .unavailable, "program \"claude\" not found on PATH", expected: "Claude Code installed",
                    field: "provider")
            }
        }
        if let guidePath = input.agentGuidePath {
            let rel = try RepoPath.normalize(guidePath, root: root, field: "agent_guide_path")
            guard let data = FileManager.default.contents(atPath: root + "/" + rel), data.count <= 65_536 else {
                throw CodestratorError(
                    .invalidParams, "agent_guide_path \(quoted(guidePath)) is not a readable file of at most 64 KiB",
                    expected: "a Markdown file inside the repository", field: "agent_guide_path")
            }
            plan.guide = PromptBuilder.sanitize(String(decoding: data, as: UTF8.self))
        }
        if input.ensureTmux {
            let (ok, v) = await Viewer(env: env).tmuxReady()
            guard ok else {
                throw CodestratorError(
                    .unavailable, "tmux is \(v ?? "missing")", expected: "tmux ≥ 3.0 (runtime.tmux.ensure)",
                    field: "ensure_tmux")
            }
            plan.tmuxVersion = v
        }
        return plan
    }

    /// Whether the session has room for one more live child, checked after settling and recycling (which may
    /// have made room) and before anything is made, so a refused spawn leaves no worktree behind. The thread
    /// row's insert counts again in its own transaction, for a spawn racing this one.
    func checkRoom(_ plan: SpawnPlan) async throws {
        let s = plan.session
        let used = try await env.store.read { tx in try Self.countCapacity(tx, sessionId: s.id) }
        if used >= plan.capacity { throw Self.capacityError(s, used: used, max: plan.capacity) }
    }

    static func capacityError(_ s: SessionRecord, used: Int, max: Int) -> CodestratorError {
        CodestratorError(
            .conflict, "session \(s.id) has \(used) live children (max \(max))",
            expected: "a child to stop first (the session's max_concurrent_children is \(s.maxConcurrentChildren))",
            field: "max_concurrent_children")
    }

    static func checkOverride(_ o: JSON) throws {
        guard let obj = o.objectValue else { return }
        if let e = obj["env"]?.objectValue {
            for (k, v) in e.pairs {
                let validName =
                    !k.isEmpty && k.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" })
                    && !(k.first?.isNumber ?? true)
                guard validName, !k.hasPrefix("CODESTRATOR_"), let s = v.stringValue, s.utf8.count <= 4096,
                    !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
                else {
                    throw CodestratorError(
                        .invalidParams, "agent_override.env \(quoted(k)) is not allowed",
                        expected:
                            "names [A-Z_][A-Z0-9_]* not starting with CODESTRATOR_, values ≤ 4 KiB without control characters",
                        field: "agent_override")
                }
            }
        }
        let allowedKeys: Set<String> = ["Escape", "C-c", "C-d", "C-g", "C-\\", "Enter", "q", "y", "n"]
        for field in ["interrupt_keys", "exit_keys"] {
            for k in obj[field]?.arrayValue ?? [] where !allowedKeys.contains(k.stringValue ?? "") {
                throw CodestratorError(
                    .invalidParams, "agent_override.\(field) contains \(k.serialized())",
                    expected: "key names from \(allowedKeys.sorted().joined(separator: "|"))", field: "agent_override")
            }
        }
        for field in ["extra_args"] {
            for a in obj[field]?.arrayValue ?? [] where a.stringValue == nil {
                throw CodestratorError(
                    .invalidParams, "agent_override.extra_args holds \(a.typeName)", expected: "strings",
                    field: "agent_override")
            }
        }
        if let pats = obj["patterns"]?.objectValue {
            for (k, v) in pats.pairs {
                let list = v.stringValue.map { [$0] } ?? v.arrayValue?.compactMap(\.stringValue) ?? []
                _ = try Classifier.compile(list, field: "agent_override.patterns.\(k)")
            }
        }
    }

    func insertThread(_ plan: SpawnPlan, input: ThreadSpawnInput, worktree: WorktreeRecord?, launch: Bool) async throws
        -> Int
    {
        let s = plan.session
        let socket = s.tmuxSocket
        return try await env.store.write { tx in
            if launch {
                let used = try Self.countCapacity(tx, sessionId: s.id)
                if used >= plan.capacity { throw Self.capacityError(s, used: used, max: plan.capacity) }
            }
            let id = try tx.insert(
                """
                INSERT INTO threads (session_id, parent_thread_id, role, status, status_changed_at, status_source, title,
                  objective, worktree_id, workdir, provider_type, runner_kind, interaction_mode, agent_guide_path,
                  agent_override, task_spec, scope_task_ids, scope_case_ids, scope_node_ids, tmux_socket,
                  tmux_session_name, tmux_window_name, launching_since, created_at, updated_at)
                VALUES (?, ?, ?, 'planned', ?, 'spawn', ?, ?, ?, ?, ?, ?, 'view_only', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    s.id, plan.parentThreadId, plan.role.rawValue, tx.now, plan.title, input.objective,
                    worktree?.id,
                    worktree?.path, plan.provider, plan.runner, input.agentGuidePath, plan.agentOverride,
                    plan.taskSpec, JSON.array(plan.scopeTaskIds.map(JSON.int)),
                    JSON.array(plan.cases.map { .int($0.id) }),
                    JSON.array(plan.scopeNodeIds.map(JSON.int)), socket, s.tmuxSessionName, plan.window,
                    launch ? tx.now : nil, tx.now, tx.now,
                ])
            if plan.role == .worker {
                for c in plan.cases where c.assigneeThreadId == nil || c.assigneeThreadId == s.rootThreadId {
                    try tx.execute(
                        "UPDATE tasks SET assignee_thread_id = ?, updated_at = ? WHERE id = ? AND status <> 'in_progress'",
                        [id, tx.now, c.id])
                }
            }
            if let job = plan.reviewJobId {
                try tx.execute(
                    "UPDATE review_jobs SET state = 'running', reviewer_thread_id = ?, updated_at = ? WHERE id = ? AND state = 'requested'",
                    [id, tx.now, job])
            }
            tx.bumpVersion()
            return id
        }
    }

    /// Creates the pane and starts the program (spawn step 4, and restarts).
    func launchPane(threadId: Int, plan: SpawnPlan, restartOf: Int?) async throws -> (JSON, String) {
        let tmux = env.tmux
        let viewer = Viewer(env: env)
        let session = try await env.store.read { tx in try SessionRecord.load(tx, plan.session.id)! }
        let (name, created) = try await viewer.ensure(session: session, window: plan.window)
        let socket = session.tmuxSocket
        let (t, worktree) = try await env.store.read { tx in
            let t = try ThreadRecord.load(tx, threadId)!
            return (t, try WorktreeRecord.load(tx, t.worktreeId))
        }
        // The child must start in its worktree: a directory gone or recreated would start it elsewhere.
        if let worktree { try await WorkspaceService(env: env).checkOnDisk(worktree) }
        let launch = try await launchPlan(t, plan: plan, session: session)
        let logPath = openLog(threadId: threadId, restartOf: restartOf)
        let pane = try await splitPane(
            socket: socket, session: name, window: plan.window, cwd: t.workdir ?? env.layout.root, launch: launch)
        try await checkStartedIn(socket: socket, pane: pane, workdir: t.workdir ?? env.layout.root)
        do {
            try await tmux.tile(socket: socket, session: name, window: plan.window)
            let slug = (t.workdir.map { ($0 as NSString).lastPathComponent }) ?? "root"
            try await tmux.setPaneTitle(
                socket: socket, pane: pane, title: "thread \(threadId) · \(plan.role.rawValue) · \(slug)")
        } catch {
            // The pane is not on the thread's row yet, so the spawn's undo cannot know it: close it here.
            try? await tmux.killPane(socket: socket, pane: pane)
            throw error
        }
        try? await tmux.pipePane(socket: socket, pane: pane, logPath: logPath)
        try await env.store.write { tx in
            guard let cur = try ThreadRecord.load(tx, threadId) else { return }
            try cur.status.checkMove(to: .initializing, entity: "thread \(threadId)")
            try tx.execute(
                """
                UPDATE threads SET status = 'initializing', status_source = 'spawn', status_changed_at = ?, updated_at = ?,
                  tmux_session_name = ?, tmux_pane_id = ?, log_file_path = ?, launch_argv = ?, launching_since = NULL,
                  started_at = COALESCE(started_at, ?), stop_requested_at = NULL, provider_status = NULL,
                  exit_status = NULL, screen_changed_at = ?, status_observed_at = NULL WHERE id = ?
                """,
                [
                    tx.now, tx.now, name, pane, logPath, JSON.array(launch.argv.map(JSON.string)), tx.now, tx.now,
                    threadId,
                ])
            tx.bumpVersion()
        }
        let info: JSON = .obj([
            "socket": socket, "session": name, "window": plan.window, "pane_id": pane, "created_session": created,
            "ready_check": nil, "ready_check_error": nil,
        ])
        return (info, pane)
    }

    /// The provider's argv and environment for this thread (Codex and Claude Code also get the repository's
    /// git common directory as a writable root).
    func launchPlan(_ t: ThreadRecord, plan: SpawnPlan, session: SessionRecord) async throws -> LaunchPlan {
        let gitCommon = try await env.git.infoExcludePath(repo: env.layout.root)
        let commonDir = ((gitCommon as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        return try Providers.plan(
            LaunchContext(
                provider: plan.provider, runnerKind: plan.runner, role: plan.role, threadId: t.id,
                sessionId: session.id, workdir: t.workdir ?? env.layout.root, repo: env.layout.root,
                db: env.dbPath == env.layout.defaultDatabasePath ? nil : env.dbPath, socket: session.tmuxSocket,
                gitCommonDir: commonDir, codexCommand: plan.agentOverride["codex_command"]?.stringValue ?? "codex",
                override: plan.agentOverride,
                launchArgv: plan.launchArgv ?? t.launchArgvFromRow))
    }

    /// The thread's log (mode 0600), with a marker line when a restart appends to it: only the current launch
    /// speaks to the log-tail reader.
    func openLog(threadId: Int, restartOf: Int?) -> String {
        let logPath = env.layout.logsDir + "/thread_\(threadId).log"
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        if let k = restartOf, let fh = FileHandle(forWritingAtPath: logPath) {
            fh.seekToEndOfFile()
            fh.write(Data("[codestrator] restart \(k) at \(Timestamp.format(Date()))\n".utf8))
            try? fh.close()
        }
        return logPath
    }

    /// Splits the largest pane of the window for the child. No room: the window is tiled once and split again; a
    /// pane closed meanwhile (another process stopped its child) is chosen again among the panes there are now.
    func splitPane(socket: String?, session name: String, window: String, cwd: String, launch: LaunchPlan)
        async throws -> String
    {
        let tmux = env.tmux
        var panes = try await tmux.listPanes(socket: socket, session: name, window: window)
        var tiled = false
        for attempt in 0..<4 {
            guard let largest = panes.max(by: { $0.width * $0.height < $1.width * $1.height }) else { break }
            do {
                return try await tmux.splitWindow(
                    socket: socket, target: largest.paneId,
                    horizontal: Double(largest.width) > 2.2 * Double(largest.height),
                    cwd: cwd, env: launch.env, argv: launch.argv)
            } catch let e as CodestratorError where attempt < 3 && e.tmuxFailure == .noSpace && !tiled {
                tiled = true
                try await tmux.tile(socket: socket, session: name, window: window)
                panes = try await tmux.listPanes(socket: socket, session: name, window: window)
            } catch let e as CodestratorError where attempt < 3 && e.tmuxFailure == .paneNotFound {
                panes = try await tmux.listPanes(socket: socket, session: name, window: window)
            }
        }
        throw CodestratorError(
            .externalFailed, "tmux could not split a pane in \(name)", expected: "room for a new pane")
    }

    /// A pane whose program did not start in `workdir` (or below it) is killed and the launch fails:
    /// tmux starts a pane in the home folder when its `-c` directory is missing, and a child working
    /// there must never record work. The pane's directory is read until it is the worktree, for up to
    /// 1 s (a program not yet scheduled may still show tmux's own); when tmux cannot tell it, the
    /// launch goes on.
    func checkStartedIn(socket: String?, pane: String, workdir: String) async throws {
        let want = (workdir as NSString).resolvingSymlinksInPath
        var last: String?
        for attempt in 0..<20 {
            if attempt > 0 { try await Task.sleep(nanoseconds: 50_000_000) }
            guard let current = try? await env.tmux.paneCurrentPath(socket: socket, pane: pane) else { continue }
            let got = (current as NSString).resolvingSymlinksInPath
            if got == want || got.hasPrefix(want + "/") { return }
            last = current
        }
        guard let last else { return }
        try? await env.tmux.killPane(socket: socket, pane: pane)
        throw CodestratorError(
            .externalFailed,
            "the child's pane \(pane) started in \(last), not in its worktree \(workdir); it was closed",
            expected: "the worktree directory to exist while the child starts")
    }

    /// Sleeps `seconds`, or less once `pane` wrote output (its tmux output mark moved; checked every 10 ms without
    /// a tmux command). An adapter without marks just sleeps.
    func pause(untilOutputOf pane: String?, session: String?, socket: String?, upTo seconds: Double) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        guard let pane, let session,
            let start = await env.tmux.outputMark(socket: socket, sessionId: session, pane: pane)
        else {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
            return
        }
        while Date() < deadline {
            try await Task.sleep(nanoseconds: 10_000_000)
            if await env.tmux.outputMark(socket: socket, sessionId: session, pane: pane) != start { return }
        }
    }

    /// Spawn step 5: wait (bounded) for readiness, then paste the prompt or queue it.
    func readyAndPrompt(
        _ threadId: Int, input: ThreadSpawnInput, tmux: JSON, worktree: WorktreeRecord?, tmuxVersion: String? = nil
    ) async throws -> JSON {
        let prompt = try await buildPrompt(threadId, initialPrompt: input.initialPrompt, restart: nil)
        try await env.store.write { tx in
            try tx.execute("UPDATE threads SET prompt = ? WHERE id = ?", [prompt, threadId])
        }
        var tmuxInfo = tmux
        var delivery = "queued"
        var warnings: [String] = []
        var readyCheck = "skipped"
        if !input.skipReadyCheck {
            let timeout = Double(input.readyTimeoutSeconds)
            let deadline = ContinuousClock.now + .seconds(timeout)
            readyCheck = "timeout"
            var lastProgress = Date.distantPast
            let placed = try await load(threadId)
            while ContinuousClock.now < deadline {
                try Task.checkCancellation()
                let o = try await ThreadObserver(env: env).observe([threadId], capture: true, deliver: false).first
                if let o, o.paneDead || !o.paneExists {
                    let t = try await env.store.read { tx in try ThreadRecord.load(tx, threadId) }
                    var ctx = JSONObject()
                    ctx["thread"] = t?.json ?? .null
                    try? await env.tmux.killPane(socket: t?.tmuxSocket, pane: t?.tmuxPaneId ?? "")
                    try await env.store.write { tx in
                        try tx.execute("UPDATE threads SET tmux_pane_id = NULL WHERE id = ?", [threadId])
                    }
                    throw SpawnExit(
                        error: CodestratorError(
                            .externalFailed, "program exited with status \(o.exitStatus ?? -1) before it was ready",
                            expected: "a program that starts (see failure_reason and the log)", context: ctx))
                }
                if o?.providerStatus == "idle" || o?.providerStatus == "completed" {
                    readyCheck = "idle"
                    break
                }
                if o?.providerStatus == "waiting_user_answer", o?.policyDialog == nil {
                    readyCheck = "waiting_user_answer"
                    break
                }
                if Date().timeIntervalSince(lastProgress) >= 2 {
                    await CallProgress.report(
                        "waiting for thread \(threadId) to be ready: \(o?.status ?? "initializing")")
                    lastProgress = Date()
                }
                // 100 ms: a capture costs a few ms, and every poll saved is time to the first prompt. With tmux
                // control mode the next look comes as soon as the pane writes.
                try await pause(
                    untilOutputOf: placed.tmuxPaneId, session: o?.paneSessionId, socket: placed.tmuxSocket, upTo: 0.1)
            }
        }
        if readyCheck == "idle", let t = try await env.store.read({ tx in try ThreadRecord.load(tx, threadId) }) {
            let directiveId = try await env.store.write { tx in
                try tx.insert(
                    """
                    INSERT INTO thread_directives (thread_id, kind, mode, text, state, created_at, claimed_at)
                    VALUES (?, 'prompt', 'queue', ?, 'delivering', ?, ?)
                    """, [threadId, prompt, tx.now, tx.now])
            }
            let outcome = await DirectiveDelivery(env: env).paste(t, text: prompt)
            if let err = try await DirectiveDelivery(env: env).record(
                directiveId: directiveId, threadId: threadId, outcome: outcome)
            {
                warnings.append("the prompt was not taken: \(err)")
                tmuxInfo = tmuxInfo.merging(["ready_check_error": err])
            } else {
                delivery = "pasted"
            }
        } else {
            _ = try await env.store.write { tx in
                try tx.insert(
                    "INSERT INTO thread_directives (thread_id, kind, mode, text, state, created_at) VALUES (?, 'prompt', 'queue', ?, 'queued', ?)",
                    [threadId, prompt, tx.now])
            }
        }
        tmuxInfo = tmuxInfo.merging(["ready_check": readyCheck])
        return try await spawnOutput(
            threadId, tmux: tmuxInfo, worktree: worktree, delivery: delivery, warnings: warnings,
            tmuxVersion: tmuxVersion)
    }

    func buildPrompt(_ threadId: Int, initialPrompt: String?, restart: (Int, String)?) async throws -> String {
        let root = env.layout.root
        return try await env.store.read { tx in
            let t = try ThreadRecord.load(tx, threadId)!
            if let restart, let original = try tx.string("SELECT prompt FROM threads WHERE id = ?", [threadId]) {
                return PromptBuilder.sanitize(original + "\n\n## Directive (restart \(restart.0))\n" + restart.1)
            }
            let wt = try WorktreeRecord.load(tx, t.worktreeId)
            var cases: [(Int, String, [String])] = []
            var caseIds = t.scopeCaseIds
            for id in try tx.ints(
                "SELECT id FROM tasks WHERE assignee_thread_id = ? AND level = 'case' ORDER BY priority DESC, id",
                [threadId])
            where !caseIds.contains(id) {
                caseIds.append(id)
            }
            for id in caseIds {
                guard let c = try TaskRecord.load(tx, id) else { continue }
                cases.append((c.id, c.title, try StepRecord.all(tx, caseId: c.id).map(\.title)))
            }
            var guide: String?
            if let g = t.agentGuidePath, let d = FileManager.default.contents(atPath: root + "/" + g) {
                guide = String(decoding: d, as: UTF8.self)
            }
            var review: (mergeRequestId: Int, reviewJobId: Int, queueItemId: Int?, source: String, target: String)?
            if let job = try tx.row(
                "SELECT * FROM review_jobs WHERE reviewer_thread_id = ? ORDER BY id DESC LIMIT 1", [threadId])
            {
                let q = try job.optInt("queue_item_id").flatMap {
                    try tx.row("SELECT * FROM merge_main_queue WHERE id = ?", [$0])
                }
                review = (
                    job.int("merge_request_id"), job.int("id"), job.optInt("queue_item_id"),
                    q?.string("source_branch") ?? wt?.branch ?? "", q?.string("target_branch") ?? ""
                )
            }
            var input = PromptBuilder.Input(
                threadId: t.id, role: t.role, sessionId: t.sessionId, parentThreadId: t.parentThreadId,
                worktreeId: t.worktreeId, workdir: t.workdir ?? root, branch: wt?.branch, guide: guide,
                initialPrompt: initialPrompt, objective: t.objective, cases: cases, taskIds: t.scopeTaskIds,
                nodeIds: t.scopeNodeIds, taskSpec: t.taskSpec, review: review)
            input.provider = t.providerType
            return PromptBuilder.build(input)
        }
    }

    /// `tmuxVersion`: the version this call already read (`tmux -V` runs once per spawn), or nil to read it.
    func spawnOutput(
        _ threadId: Int, tmux: JSON?, worktree: WorktreeRecord?, delivery: String?, warnings: [String],
        tmuxVersion: String? = nil
    ) async throws -> JSON {
        let version: String?
        if let tmuxVersion { version = tmuxVersion } else { version = await env.tmux.version() }
        var out: JSON = try await env.store.read { tx in
            let t = try ThreadRecord.load(tx, threadId)!
            let s = try SessionRecord.load(tx, t.sessionId)!
            let wt = try WorktreeRecord.load(tx, worktree?.id)
            return .obj([
                "thread": t.json,
                "attach_info": Viewer.attachInfo(
                    session: s.tmuxSessionName, socket: s.tmuxSocket, available: t.tmuxPaneId != nil,
                    window: t.tmuxWindowName, pane: t.tmuxPaneId, tmuxVersion: version),
                "tmux": tmux, "worktree": wt?.json, "prompt_delivery": delivery,
            ])
        }
        if !warnings.isEmpty { out = out.merging(["warnings": warnings]) }
        return out
    }

    func removeWorktree(_ w: WorktreeRecord) async {
        await env.gitWrites.run {
            try? await env.git.worktreeRemove(repo: env.layout.root, path: w.path, force: true)
            if let b = w.branch { try? await env.git.deleteBranch(repo: env.layout.root, branch: b, force: true) }
        }
        _ = try? await env.store.write { tx in try tx.execute("DELETE FROM worktrees WHERE id = ?", [w.id]) }
    }

    /// Undo of a launch: the pane and its log pipe, re-tiling the window.
    func undoLaunch(threadId: Int) async {
        if let t = try? await env.store.read({ tx in try ThreadRecord.load(tx, threadId) }), let pane = t.tmuxPaneId {
            try? await env.tmux.pipePane(socket: t.tmuxSocket, pane: pane, logPath: nil)
            try? await env.tmux.killPane(socket: t.tmuxSocket, pane: pane)
            if let name = t.tmuxSessionName {
                try? await env.tmux.tile(
                    socket: t.tmuxSocket, session: name, window: t.tmuxWindowName ?? Viewer.defaultWindow)
            }
        }
    }

    /// Undo of a reservation: the thread's rows (directives, events, current ref, the thread) and what
    /// points at it (its review job, its cases).
    func undoReservation(threadId: Int) async {
        _ = try? await env.store.write { tx in
            try tx.execute("UPDATE review_jobs SET reviewer_thread_id = NULL WHERE reviewer_thread_id = ?", [threadId])
            try tx.execute("UPDATE tasks SET assignee_thread_id = NULL WHERE assignee_thread_id = ?", [threadId])
            try tx.execute("DELETE FROM thread_directives WHERE thread_id = ?", [threadId])
            try tx.execute("DELETE FROM thread_events WHERE thread_id = ?", [threadId])
            try tx.execute("DELETE FROM current_refs WHERE thread_id = ?", [threadId])
            try tx.execute("DELETE FROM threads WHERE id = ?", [threadId])
        }
    }

    /// Threads whose panes are gone are settled; panes of terminal threads are closed when room is needed.
    func settleAndRecycle(session s: SessionRecord, capacity: Int, launching: Bool) async throws {
        let ids = try await env.store.read { tx in
            try tx.ints("SELECT id FROM threads WHERE session_id = ? AND tmux_pane_id IS NOT NULL", [s.id])
        }
        // Only what can have changed: a dead or missing pane is always observed (ThreadObserver.Unchanged).
        _ = try await ThreadObserver(env: env).observe(ids, capture: false, deliver: false, skipUnchanged: true)
        guard launching else { return }
        let (used, recyclable) = try await env.store.read { tx in
            (
                try Self.countCapacity(tx, sessionId: s.id),
                try tx.rows(
                    """
                    SELECT id, tmux_socket, tmux_pane_id, tmux_session_name, tmux_window_name FROM threads
                    WHERE session_id = ? AND tmux_pane_id IS NOT NULL AND status IN ('completed','stopped','failed')
                    ORDER BY status_changed_at
                    """, [s.id])
            )
        }
        var over = used - capacity + 1
        for r in recyclable where over > 0 {
            let pane = r.string("tmux_pane_id")
            try? await env.tmux.pipePane(socket: r.optString("tmux_socket"), pane: pane, logPath: nil)
            try? await env.tmux.killPane(socket: r.optString("tmux_socket"), pane: pane)
            if let name = r.optString("tmux_session_name") {
                try? await env.tmux.tile(
                    socket: r.optString("tmux_socket"), session: name,
                    window: r.optString("tmux_window_name") ?? Viewer.defaultWindow)
            }
            let id = r.int("id")
            try await env.store.write { tx in
                try tx.execute("UPDATE threads SET tmux_pane_id = NULL, updated_at = ? WHERE id = ?", [tx.now, id])
            }
            over -= 1
        }
    }
}

extension ThreadRecord {
    var launchArgvFromRow: [String]? { launchArgv }
}
