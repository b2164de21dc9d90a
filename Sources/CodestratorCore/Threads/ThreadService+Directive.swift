import Foundation

extension ThreadService {
    static let answerKeys: Set<String> = [
        "Enter", "Escape", "Tab", "Up", "Down", "y", "n", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    ]

    // MARK: thread.child.directive

    public func directive(_ input: ThreadDirectiveInput) async throws -> JSON {
        let id = input.threadId
        let mode = input.mode
        let text = input.directive
        try Self.checkDirectiveText(input)
        var t = try await env.store.read { tx in try child(tx, id) }
        if mode == "restart" { return try await restart(t, directive: text ?? "") }
        let o = try await observeOne(id)
        t = try await load(id)
        guard livePane(t, obs: o), let pane = t.tmuxPaneId else {
            throw CodestratorError(
                .invalidState, "thread \(id) has no live pane (status \(t.status.rawValue))", expected: "mode restart",
                field: "thread_id")
        }
        let provider = o?.providerStatus ?? t.providerStatus
        let question = provider == "waiting_user_answer"
        if mode == "answer" {
            guard t.status == .waitingUserAnswer || question else {
                throw CodestratorError(
                    .invalidState, "thread \(id) is \(t.status.rawValue), not waiting_user_answer",
                    expected: "mode queue or interrupt_patch", field: "mode")
            }
            return try await answer(t, pane: pane, text: text, keys: input.keys)
        }
        var warnings: [String] = []
        var idleBeforePaste = false
        if question {
            warnings.append(
                "thread \(id) is asking a question; the directive waits (answer it with mode answer): \(o?.lastResponse ?? t.providerStatus ?? "")"
            )
        } else {
            idleBeforePaste = try await readyForPaste(
                t, pane: pane, mode: mode, providerStatus: provider, waitIdleSeconds: input.waitIdleSeconds)
            if mode == "interrupt_patch" && !idleBeforePaste {
                warnings.append("thread \(id) did not become idle; the directive is queued")
            }
        }
        return try await recordDirective(
            t, input, deliverNow: !question && idleBeforePaste, idleBefore: idleBeforePaste, warnings: warnings)
    }

    /// The text or keys a mode needs, checked before anything is read: keys only for an answer, known key names,
    /// and an answer's text one short line.
    static func checkDirectiveText(_ input: ThreadDirectiveInput) throws {
        let (mode, text) = (input.mode, input.directive)
        if let keys = input.keys {
            guard mode == "answer" else {
                throw CodestratorError(
                    .invalidParams, "field \"keys\" is given with mode \(mode)", expected: "keys only with mode answer",
                    field: "keys")
            }
            guard (1...10).contains(keys.count) else {
                throw CodestratorError(
                    .invalidParams, "field \"keys\" has \(keys.count) keys", expected: "1 to 10 key names",
                    field: "keys")
            }
            for k in keys where !Self.answerKeys.contains(k) {
                throw CodestratorError(
                    .invalidParams, "field \"keys\" contains \(quoted(k))",
                    expected: "key names from Enter|Escape|Tab|Up|Down|y|n|1-9",
                    field: "keys")
            }
        } else if text == nil || text!.isEmpty {
            throw CodestratorError(
                .invalidParams, "field \"directive\" is required",
                expected: "the directive text (pane text, 1–65536 bytes)", field: "directive")
        }
        if mode == "answer", let text, text.contains("\n") || text.count > 200 {
            throw CodestratorError(
                .invalidParams, "an answer directive must be one line of at most 200 characters",
                expected: "a single short line", field: "directive")
        }
    }

    /// Whether the child is idle for the paste: interrupt_patch interrupts a busy child and waits up to
    /// `waitIdleSeconds` for it to become idle; queue pastes only into an idle child.
    func readyForPaste(
        _ t: ThreadRecord, pane: String, mode: String, providerStatus: String?, waitIdleSeconds: Int
    ) async throws -> Bool {
        let idleForDelivery = providerStatus == "idle" || providerStatus == "completed"
        guard mode == "interrupt_patch", !idleForDelivery else { return idleForDelivery }
        try await env.tmux.sendKeys(socket: t.tmuxSocket, pane: pane, keys: try launchKeys(t).interruptKeys)
        let deadline = ContinuousClock.now + .seconds(Double(waitIdleSeconds))
        while ContinuousClock.now < deadline {
            try await Task.sleep(nanoseconds: 200_000_000)
            let again = try await ThreadObserver(env: env).observe([t.id], capture: true, deliver: false).first
            if again?.providerStatus == "idle" || again?.providerStatus == "completed" { return true }
        }
        return false
    }

    /// The directive's row, claimed for delivery when it is pasted now (else queued for the observer), the paste,
    /// and the answer.
    func recordDirective(
        _ t: ThreadRecord, _ input: ThreadDirectiveInput, deliverNow: Bool, idleBefore: Bool, warnings: [String]
    ) async throws -> JSON {
        let (id, mode, text) = (t.id, input.mode, input.directive)
        let directiveId = try await env.store.write { tx in
            let id = try tx.insert(
                "INSERT INTO thread_directives (thread_id, kind, mode, text, state, created_at, claimed_at) VALUES (?, 'directive', ?, ?, ?, ?, ?)",
                [id, mode, text ?? "", deliverNow ? "delivering" : "queued", tx.now, deliverNow ? tx.now : nil])
            tx.bumpVersion()
            return id
        }
        var deliveryError: String?
        var result = "directive_queued"
        if deliverNow {
            let outcome = await DirectiveDelivery(env: env).paste(try await load(id), text: text ?? "")
            deliveryError = try await DirectiveDelivery(env: env).record(
                directiveId: directiveId, threadId: id, outcome: outcome)
            if deliveryError == nil { result = "directive_sent" }
            if case .pasteFailed = outcome { result = "directive_queued" }
        }
        return try await directiveOutput(
            id, result: result, mode: mode, directive: text, keys: nil, directiveId: directiveId,
            idleBefore: idleBefore, deliveryError: deliveryError, warnings: warnings)
    }

    func directiveOutput(
        _ id: Int, result: String, mode: String, directive: String?, keys: [String]?, directiveId: Int,
        idleBefore: Bool,
        deliveryError: String?, warnings: [String]
    ) async throws -> JSON {
        let t = try await load(id)
        var out = JSON.obj([
            "result": result, "mode": mode, "thread": t.json, "directive": directive, "keys": keys,
            "directive_id": directiveId, "queued_count": t.queuedDirectives, "idle_before_paste": idleBefore,
            "delivery_error": deliveryError,
        ])
        if !warnings.isEmpty { out = out.merging(["warnings": warnings]) }
        return out
    }

    func answer(_ t: ThreadRecord, pane: String, text: String?, keys: [String]?) async throws -> JSON {
        let recorded = keys.map { "keys: " + $0.joined(separator: " ") } ?? text ?? ""
        let directiveId = try await env.store.write { tx in
            try tx.insert(
                "INSERT INTO thread_directives (thread_id, kind, mode, text, state, created_at, claimed_at) VALUES (?, 'directive', 'answer', ?, 'delivering', ?, ?)",
                [t.id, recorded, tx.now, tx.now])
        }
        var deliveryError: String?
        if let keys {
            try await env.tmux.sendKeys(socket: t.tmuxSocket, pane: pane, keys: keys)
            try await env.store.write { tx in
                try tx.execute("UPDATE threads SET last_paste_at = ? WHERE id = ?", [tx.now, t.id])
            }
            _ = try await DirectiveDelivery(env: env).record(directiveId: directiveId, threadId: t.id, outcome: .taken)
        } else {
            var outcome = await DirectiveDelivery(env: env).paste(t, text: text ?? "")
            if case .pasteFailed(let why) = outcome { outcome = .pasteFailed(why) }
            if case .pasteFailed(let why) = outcome {
                try await env.store.write { tx in
                    try tx.execute(
                        "UPDATE thread_directives SET state = 'failed', delivery_error = ? WHERE id = ?",
                        [why, directiveId])
                }
                deliveryError = why
            } else {
                deliveryError = try await DirectiveDelivery(env: env).record(
                    directiveId: directiveId, threadId: t.id, outcome: outcome)
            }
        }
        return try await directiveOutput(
            t.id, result: deliveryError == nil ? "directive_sent" : "directive_queued", mode: "answer", directive: text,
            keys: keys, directiveId: directiveId, idleBefore: false, deliveryError: deliveryError, warnings: [])
    }

    // MARK: restart

    /// mode restart: the old pane stopped, queued directives cancelled, a new pane launched whose prompt carries
    /// the directive, and a bounded wait for the child to take it.
    func restart(_ t: ThreadRecord, directive: String) async throws -> JSON {
        if t.tmuxPaneId != nil || t.status.isLive {
            _ = try await stopThread(t.id, terminatePane: true, wait: 5)
        }
        let session = try await env.store.read { tx in try SessionRecord.load(tx, t.sessionId)! }
        let (cancelled, k) = try await env.store.write { tx in try Self.reserveRestart(tx, t, session: session) }
        let plan = SpawnPlan(
            session: session, role: t.role, provider: t.providerType ?? "generic", runner: t.runnerKind ?? "command",
            title: t.title ?? "", parentThreadId: t.parentThreadId ?? 0, worktree: nil, createWorktree: false,
            cases: [],
            scopeTaskIds: t.scopeTaskIds, scopeNodeIds: t.scopeNodeIds,
            window: t.tmuxWindowName ?? Viewer.defaultWindow,
            capacity: session.maxConcurrentChildren, agentOverride: t.agentOverride, taskSpec: t.taskSpec, guide: nil,
            launchArgv: t.runnerKind == "command" ? t.launchArgv : nil, reviewJobId: nil)
        let tmux: JSON
        do {
            (tmux, _) = try await launchPane(threadId: t.id, plan: plan, restartOf: k)
        } catch {
            try? await env.store.write { tx in
                try tx.execute(
                    "UPDATE threads SET launching_since = NULL, status = ?, updated_at = ? WHERE id = ?",
                    [t.status == .planned ? "planned" : "failed", tx.now, t.id])
            }
            throw error
        }
        let prompt = try await restartPrompt(t.id, restart: k, directive: directive)
        _ = try await env.store.write { tx in
            try tx.insert(
                "INSERT INTO thread_directives (thread_id, kind, mode, text, state, created_at) VALUES (?, 'prompt', 'restart', ?, 'queued', ?)",
                [t.id, prompt, tx.now])
        }
        let ready = try await restartReadiness(t.id)
        let version = await env.tmux.version()
        let fresh = try await load(t.id)
        return .obj([
            "result": "respawned_with_directive", "mode": "restart", "thread": fresh.json,
            "attach_info": Viewer.attachInfo(
                session: fresh.tmuxSessionName, socket: fresh.tmuxSocket, available: fresh.tmuxPaneId != nil,
                window: fresh.tmuxWindowName, pane: fresh.tmuxPaneId, tmuxVersion: version),
            "tmux": tmux.merging(["ready_check": ready]), "cancelled_directives": JSON.array(cancelled),
        ])
    }

    /// The restart's reservation: queued directives cancelled (returned), room checked, the thread planned again
    /// with its restart count raised (returned).
    static func reserveRestart(_ tx: Tx, _ t: ThreadRecord, session: SessionRecord) throws -> ([JSON], Int) {
        let rows = try tx.rows(
            "SELECT id, text FROM thread_directives WHERE thread_id = ? AND state = 'queued'", [t.id])
        try tx.execute(
            "UPDATE thread_directives SET state = 'cancelled' WHERE thread_id = ? AND state = 'queued'", [t.id])
        let used = try Self.countCapacity(tx, sessionId: t.sessionId, excluding: t.id)
        if used >= session.maxConcurrentChildren {
            throw Self.capacityError(session, used: used, max: session.maxConcurrentChildren)
        }
        let cur = try ThreadRecord.load(tx, t.id)!
        if cur.status != .planned {
            try cur.status.checkMove(to: .initializing, entity: "thread \(t.id)")
        }
        try tx.execute(
            """
            UPDATE threads SET restart_count = restart_count + (CASE WHEN status = 'planned' THEN 0 ELSE 1 END),
              stop_requested_at = NULL, launching_since = ?, status = 'planned', updated_at = ? WHERE id = ?
            """, [tx.now, tx.now, t.id])
        let k = try tx.int("SELECT restart_count FROM threads WHERE id = ?", [t.id]) ?? 0
        return (rows.map { JSON.obj(["id": $0.int("id"), "directive": $0.string("text")]) }, k)
    }

    /// The restarted child's prompt: its prompt with the directive as restart `k`; a thread that never had a
    /// prompt gets its base prompt recorded first.
    func restartPrompt(_ id: Int, restart k: Int, directive: String) async throws -> String {
        let hadPrompt =
            try await env.store.read { tx in try tx.string("SELECT prompt FROM threads WHERE id = ?", [id]) } != nil
        if hadPrompt { return try await buildPrompt(id, initialPrompt: nil, restart: (k, directive)) }
        let base = try await buildPrompt(id, initialPrompt: nil, restart: nil)
        try await env.store.write { tx in
            try tx.execute("UPDATE threads SET prompt = ? WHERE id = ?", [base, id])
        }
        return directive.isEmpty
            ? base : PromptBuilder.sanitize(base + "\n\n## Directive (restart \(k))\n" + directive)
    }

    /// Readiness as in spawn: the queued prompt is delivered when the child is first seen idle. Waits up to
    /// 30 s; returns idle, exited, waiting_user_answer or timeout.
    func restartReadiness(_ id: Int) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let o = try await ThreadObserver(env: env).observe([id], capture: true).first
            if o?.paneDead ?? false || !(o?.paneExists ?? true) { return "exited" }
            let fresh = try await load(id)
            if fresh.queuedDirectives == 0 { return "idle" }
            if o?.providerStatus == "waiting_user_answer" { return "waiting_user_answer" }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        return "timeout"
    }
}
