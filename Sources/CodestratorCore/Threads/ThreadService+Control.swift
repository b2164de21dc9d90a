import Foundation

extension ThreadService {
    /// A child thread of the caller's sessions (not the root thread).
    func child(_ tx: Tx, _ id: Int) throws -> ThreadRecord {
        let t = try Access(tx: tx, caller: caller).thread(id)
        guard t.role != .sessionRoot else {
            throw CodestratorError(
                .invalidParams, "thread \(id) is the session's root thread", expected: "a child thread",
                field: "thread_id")
        }
        return t
    }

    func livePane(_ t: ThreadRecord, obs: ThreadObserver.Observation?) -> Bool {
        t.tmuxPaneId != nil && (obs?.paneExists ?? true) && !(obs?.paneDead ?? false)
            && (t.status.isLive || t.status == .completed || t.status == .failed)
    }

    func observeOne(_ id: Int, capture: Bool = true) async throws -> ThreadObserver.Observation? {
        try await ThreadObserver(env: env).observe([id], capture: capture).first
    }

    func load(_ id: Int) async throws -> ThreadRecord {
        try await env.store.read { tx in try ThreadRecord.load(tx, id)! }
    }

    // MARK: thread.child.list / status

    public func list(_ input: ThreadListInput) async throws -> JSON {
        let caller = self.caller
        // The session and, for a refresh, the children to observe: one read.
        let (sid, ids) = try await env.store.read { tx in
            let sid = try Access(tx: tx, caller: caller).requireSession(id: input.sessionId).id
            guard input.refresh else { return (sid, [Int]()) }
            let ids = try tx.ints(
                """
                SELECT id FROM threads WHERE session_id = ? AND role <> 'session-root'
                  AND (tmux_pane_id IS NOT NULL OR status IN \(Self.liveSQL))
                """, [sid])
            return (sid, ids)
        }
        let statuses: [String]? = input.statuses?.map { $0 == "processing" ? "running" : $0 == "error" ? "failed" : $0 }
        for s in statuses ?? [] where ThreadStatus(rawValue: s) == nil {
            throw CodestratorError(
                .invalidParams, "field \"status\" contains \(quoted(s))",
                expected: "thread statuses \(ThreadStatus.allNames)",
                field: "status")
        }
        if input.refresh {
            _ = try await ThreadObserver(env: env).observe(ids, capture: false, skipUnchanged: true)
        }
        return try await env.store.read { tx in
            var rows = try tx.rows(ThreadRecord.selectSQL + " WHERE t.session_id = ? ORDER BY t.id", [sid]).map(
                ThreadRecord.init)
            if !input.includeRoot { rows = rows.filter { $0.role != .sessionRoot } }
            if let parent = input.parentThreadId { rows = rows.filter { $0.parentThreadId == parent } }
            if let role = input.role { rows = rows.filter { $0.role.rawValue == role } }
            if let statuses { rows = rows.filter { statuses.contains($0.status.rawValue) } }
            return .obj(["threads": JSON.array(rows.map(\.json)), "count": rows.count])
        }
    }

    public func status(threadId id: Int) async throws -> JSON {
        _ = try await env.store.read { tx in try child(tx, id) }
        let o = try await observeOne(id, capture: true)
        let t = try await load(id)
        let deliveryError = try await env.store.read { tx in
            try tx.row(
                "SELECT state, delivery_error FROM thread_directives WHERE thread_id = ? AND state <> 'cancelled' ORDER BY id DESC LIMIT 1",
                [id])
        }
        return .obj([
            "thread_id": id, "db_status": o?.dbStatus ?? t.status.rawValue, "status": t.status.rawValue,
            "pane_exists": o?.paneExists ?? false, "pane_dead": o?.paneDead ?? false, "exit_status": t.exitStatus,
            "provider_status": t.providerStatus, "detection_tier": o?.tier ?? "none", "last_response": o?.lastResponse,
            "queued_directives": t.queuedDirectives,
            "delivery_error": deliveryError.flatMap {
                ["failed", "queued"].contains($0.string("state")) ? $0.optString("delivery_error") : nil
            },
            "capture_error": o?.captureError, "thread": t.json,
        ])
    }

    // MARK: wait_status

    public func waitStatus(_ input: ThreadWaitStatusInput) async throws -> JSON {
        let id = input.threadId
        _ = try await env.store.read { tx in try child(tx, id) }
        let targets = input.targetStatuses.map {
            $0 == "processing" ? "running" : $0 == "error" ? "failed" : $0
        }
        guard !targets.isEmpty else {
            throw CodestratorError(
                .invalidParams, "field \"target_statuses\" is empty", expected: "at least one thread status",
                field: "target_statuses")
        }
        for s in targets where ThreadStatus(rawValue: s) == nil {
            throw CodestratorError(
                .invalidParams, "field \"target_statuses\" contains \(quoted(s))",
                expected: "thread statuses \(ThreadStatus.allNames)", field: "target_statuses")
        }
        let timeout = Double(input.timeoutSeconds)
        let start = ContinuousClock.now
        var delay = 0.25
        var lastProgress = Date.distantPast
        while true {
            let o = try await observeOne(id)
            let t = try await load(id)
            let elapsed = Int(start.duration(to: .now) / .milliseconds(1))
            if targets.contains(t.status.rawValue) || (t.status.isTerminal && !targets.contains(t.status.rawValue)) {
                let matched = targets.contains(t.status.rawValue)
                return .obj([
                    "thread_id": id, "achieved_status": t.status.rawValue, "matched": matched, "timed_out": false,
                    "last_response": o?.lastResponse, "elapsed_ms": elapsed,
                    "error": matched
                        ? nil : "thread \(id) ended \(t.status.rawValue), not \(targets.joined(separator: "|"))",
                ])
            }
            if start.duration(to: .now) >= .seconds(timeout) {
                return .obj([
                    "thread_id": id, "achieved_status": t.status.rawValue, "matched": false, "timed_out": true,
                    "last_response": o?.lastResponse, "elapsed_ms": elapsed,
                    "error": "thread \(id) did not reach \(targets.joined(separator: "|")) within \(Int(timeout)) s",
                ])
            }
            if Date().timeIntervalSince(lastProgress) >= 4 {
                await CallProgress.report("waiting for thread \(id): \(t.status.rawValue)")
                lastProgress = Date()
            }
            try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            delay = min(delay * 2, 2)
        }
    }

    // MARK: interrupt / stop

    public func interrupt(threadId id: Int) async throws -> JSON {
        let t = try await env.store.read { tx in try child(tx, id) }
        let o = try await observeOne(id, capture: false)
        guard livePane(t, obs: o), let pane = t.tmuxPaneId else {
            throw CodestratorError(
                .invalidState, "thread \(id) has no live pane (status \(t.status.rawValue))",
                expected: "a child with a live pane",
                field: "thread_id")
        }
        let plan = try launchKeys(t)
        try await env.tmux.sendKeys(socket: t.tmuxSocket, pane: pane, keys: plan.interruptKeys)
        return .obj(["thread": try await load(id).json, "result": "interrupt_sent"])
    }

    func launchKeys(_ t: ThreadRecord) throws -> (interruptKeys: [String], exitKeys: [String], exitText: String?) {
        if t.providerType == "generic" {
            let o = t.agentOverride
            return (
                o["interrupt_keys"]?.arrayValue?.compactMap(\.stringValue) ?? ["C-c"],
                o["exit_keys"]?.arrayValue?.compactMap(\.stringValue) ?? ["C-d"], nil
            )
        }
        return (["Escape"], [], "/exit")
    }

    public func stop(_ input: ThreadStopInput) async throws -> JSON {
        let id = input.threadId
        _ = try await env.store.read { tx in try child(tx, id) }
        return try await stopThread(id, terminatePane: input.terminatePane, wait: input.waitSeconds)
    }

    /// thread.child.stop, also used by cleanup and restarts.
    public func stopThread(_ id: Int, terminatePane: Bool, wait: Int) async throws -> JSON {
        let o = try await observeOne(id, capture: false)
        var t = try await load(id)
        let cancelled = try await env.store.write { tx in
            let n = try tx.ints("SELECT id FROM thread_directives WHERE thread_id = ? AND state = 'queued'", [id])
            try tx.execute(
                "UPDATE thread_directives SET state = 'cancelled' WHERE thread_id = ? AND state = 'queued'", [id])
            return n.count
        }
        _ = cancelled
        if t.status == .planned {
            return try await finishStop(id, result: "stopped", exited: false, killed: false)
        }
        let live = livePane(t, obs: o)
        if !live && t.status.isTerminal && (t.tmuxPaneId == nil || !(o?.paneExists ?? false)) {
            return try await stopOutput(id, result: "already_stopped", exited: false, killed: false, locks: 0)
        }
        var exited = false
        var killed = false
        if let pane = t.tmuxPaneId, o?.paneExists ?? false {
            if live {
                try await env.store.write { tx in
                    try tx.execute("UPDATE threads SET stop_requested_at = ? WHERE id = ?", [tx.now, id])
                }
                let keys = try launchKeys(t)
                if o?.providerStatus == "processing" {
                    try? await env.tmux.sendKeys(socket: t.tmuxSocket, pane: pane, keys: keys.interruptKeys)
                    try? await Task.sleep(nanoseconds: 500_000_000)
                }
                if let text = keys.exitText {
                    // An interrupted Claude Code puts its prompt back into the input box: empty it first, or
                    // `/exit` would be appended to that prompt and sent to the model.
                    if o?.providerStatus == "processing" { try? await Task.sleep(nanoseconds: 700_000_000) }
                    _ = await DirectiveDelivery(env: env).clearInput(try await load(id))
                    try? await env.tmux.paste(socket: t.tmuxSocket, pane: pane, text: text, bufferName: "cs-\(id)-exit")
                    try? await Task.sleep(nanoseconds: 100_000_000)
                    try? await env.tmux.sendKeys(socket: t.tmuxSocket, pane: pane, keys: ["Enter"])
                } else {
                    try? await env.tmux.sendKeys(socket: t.tmuxSocket, pane: pane, keys: keys.exitKeys)
                }
                let deadline = ContinuousClock.now + .seconds(Double(wait))
                while ContinuousClock.now < deadline {
                    let panes = try await env.tmux.listAllPanes(socket: t.tmuxSocket) ?? []
                    let me = panes.first { $0.paneId == pane && $0.session == t.tmuxSessionName }
                    if me == nil || me!.dead {
                        exited = true
                        break
                    }
                    try await Task.sleep(nanoseconds: 100_000_000)
                }
            } else {
                exited = true
            }
            if terminatePane {
                try? await env.tmux.pipePane(socket: t.tmuxSocket, pane: pane, logPath: nil)
                try? await env.tmux.killPane(socket: t.tmuxSocket, pane: pane)
                killed = true
                if let name = t.tmuxSessionName {
                    try? await env.tmux.tile(
                        socket: t.tmuxSocket, session: name, window: t.tmuxWindowName ?? Viewer.defaultWindow)
                }
            } else if !exited {
                t = try await load(id)
                return try await stopOutput(id, result: "exit_requested", exited: false, killed: false, locks: 0)
            }
        }
        return try await finishStop(id, result: "stopped", exited: exited, killed: killed)
    }

    func finishStop(_ id: Int, result: String, exited: Bool, killed: Bool) async throws -> JSON {
        let locks = try await env.store.write { tx in
            guard let t = try ThreadRecord.load(tx, id) else { return 0 }
            if t.status != .stopped {
                try t.status.checkMove(to: .stopped, entity: "thread \(id)")
                try tx.execute(
                    """
                    UPDATE threads SET status = 'stopped', status_source = 'stop', status_changed_at = ?, updated_at = ?,
                      completed_at = COALESCE(completed_at, ?), launching_since = NULL WHERE id = ?
                    """, [tx.now, tx.now, tx.now, id])
            }
            if killed { try tx.execute("UPDATE threads SET tmux_pane_id = NULL WHERE id = ?", [id]) }
            try tx.execute(
                "UPDATE locks SET state = 'released', released_at = ? WHERE thread_id = ? AND state = 'active'",
                [tx.now, id])
            let n = tx.changes
            tx.bumpVersion()
            return n
        }
        return try await stopOutput(id, result: result, exited: exited, killed: killed, locks: locks)
    }

    func stopOutput(_ id: Int, result: String, exited: Bool, killed: Bool, locks: Int) async throws -> JSON {
        .obj([
            "thread": try await load(id).json, "result": result, "exited": exited, "pane_killed": killed,
            "locks_released": locks,
        ])
    }

    // MARK: attach_info

    /// The attach commands of session `sessionId`, at thread `threadId`'s pane when given.
    public func attachInfo(sessionId: Int, threadId: Int?) async throws -> JSON {
        let caller = self.caller
        let version = await env.tmux.version()
        let (s, t) = try await env.store.read { tx in
            let s = try Access(tx: tx, caller: caller).requireSession(id: sessionId)
            let t = try threadId.map { try Access(tx: tx, caller: caller).thread($0) }
            if let t, t.sessionId != s.id { throw CodestratorError.notFound("thread", t.id, field: "thread_id") }
            return (s, t)
        }
        let available =
            try await s.tmuxSessionName.asyncMap { try await env.tmux.hasSession(socket: s.tmuxSocket, name: $0) }
            ?? false
        return Viewer.attachInfo(
            session: s.tmuxSessionName, socket: s.tmuxSocket, available: available,
            window: t?.tmuxWindowName ?? Viewer.defaultWindow,
            pane: t?.tmuxPaneId, tmuxVersion: version)
    }

    // MARK: runtime.tmux.ensure

    public func ensureTmux(_ input: TmuxEnsureInput) async throws -> JSON {
        let caller = self.caller
        let session = try await env.store.read { tx in
            try Access(tx: tx, caller: caller).sessionParam(id: input.sessionId)
        }
        var v = await env.tmux.version()
        var attempts: [JSON] = []
        var status = "ready"
        let manual = [
            "sudo apt-get install -y tmux", "sudo dnf install -y tmux", "sudo yum install -y tmux",
            "sudo pacman -S --noconfirm tmux", "sudo apk add tmux", "sudo zypper --non-interactive install tmux",
            "brew install tmux",
        ]
        if v == nil || !SessionService.versionAtLeast(v!, 3, 0) {
            status = "manual_required"
            if input.autoInstall {
                attempts = try await installTmux()
                v = await env.tmux.version()
                if let v, SessionService.versionAtLeast(v, 3, 0) { status = "installed" }
            }
        }
        let final = status
        let version = v
        let runtimeState = status == "manual_required" ? "tmux_manual_required" : "tmux_ready"
        let event: JSON = try await env.store.write { tx in
            if let s = session {
                try tx.execute("UPDATE sessions SET runtime_state = ? WHERE id = ?", [runtimeState, s.id])
            }
            let id = try tx.insert(
                "INSERT INTO runtime_events (session_id, requirement, status, detail, created_at) VALUES (?, 'tmux', ?, ?, ?)",
                [session?.id, final, version.map { "tmux \($0)" }, tx.now])
            tx.bumpVersion()
            return .obj([
                "id": id, "session_id": session?.id, "requirement": "tmux", "status": final,
                "detail": version.map { "tmux \($0)" },
            ])
        }
        return .obj([
            "status": final, "tmux_path": env.programs.locate("tmux"), "tmux_version": v,
            "socket": session?.tmuxSocket ?? env.tmuxSocket,
            "attempts": JSON.array(attempts), "manual_instructions": status == "manual_required" ? manual : [String](),
            "event": event,
        ])
    }
}

extension ThreadService {
    /// Installs tmux with the first package manager present that succeeds, as root or through `sudo -n` (never
    /// asking for a password); returns each attempt. Nothing is tried without root or a password-less sudo.
    func installTmux() async throws -> [JSON] {
        let root = getuid() == 0
        let sudo = root ? [] : ["sudo", "-n"]
        var sudoOK = root
        if !root, env.programs.locate("sudo") != nil {
            sudoOK = (try? await env.tmux.runCommand(["sudo", "-n", "true"], timeout: 10))?.0 == 0
        }
        guard sudoOK else { return [] }
        var attempts: [JSON] = []
        for cmd in [
            ["apt-get", "install", "-y", "tmux"], ["dnf", "install", "-y", "tmux"],
            ["yum", "install", "-y", "tmux"],
            ["pacman", "-S", "--noconfirm", "tmux"], ["apk", "add", "tmux"],
            ["zypper", "--non-interactive", "install", "tmux"],
        ]
        where env.programs.locate(cmd[0]) != nil {
            let (code, output) = try await env.tmux.runCommand(sudo + cmd, timeout: 120)
            attempts.append(
                .obj([
                    "command": ShellQuote.join(sudo + cmd), "exit_status": code,
                    "output": String(output.suffix(2000)),
                ]))
            if code == 0 { break }
        }
        return attempts
    }
}

extension Optional {
    func asyncMap<U>(_ f: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let v = self else { return nil }
        return try await f(v)
    }
}
