import Foundation

/// The stages of one observation (`ThreadObserver.observeOne`): what the database holds of the thread, the pane's
/// state, then the readings in order of trust (hook event, log tail, screen), then the policy dialogs.
extension ThreadObserver {
    /// What the last observation left in the thread's row, and its newest hook event with a status.
    struct StoredObservation: Sendable {
        var stopRequested: Bool
        var logOffset: Int
        var lastResponse: String?
        var screenHash: String?
        var screenChangedAt: String?
        var lastPasteAt: String?
        var latestEvent: (createdAt: String, providerStatus: String, message: String?)?
    }

    /// The thread and, for a child with a pane, what the last observation stored: one read transaction.
    func loadForObservation(_ id: Int) async throws -> (ThreadRecord, StoredObservation?)? {
        try await env.store.read { tx in
            guard let t = try ThreadRecord.load(tx, id) else { return nil }
            guard t.tmuxPaneId != nil, t.role != .sessionRoot else { return (t, nil) }
            let row = try tx.row(
                """
                SELECT stop_requested_at, log_offset, last_response, screen_hash, screen_changed_at, last_paste_at
                FROM threads WHERE id = ?
                """, [id])
            let event = try tx.row(
                """
                SELECT created_at, provider_status, message FROM thread_events
                WHERE thread_id = ? AND provider_status IS NOT NULL ORDER BY id DESC LIMIT 1
                """, [id])
            let stored = StoredObservation(
                stopRequested: row?.optString("stop_requested_at") != nil, logOffset: row?.int("log_offset") ?? 0,
                lastResponse: row?.optString("last_response"), screenHash: row?.optString("screen_hash"),
                screenChangedAt: row?.optString("screen_changed_at"), lastPasteAt: row?.optString("last_paste_at"),
                latestEvent: event.map {
                    ($0.string("created_at"), $0.string("provider_status"), $0.optString("message"))
                }
            )
            return (t, stored)
        }
    }

    /// The pane is not listed: a live thread stopped (when asked to) or failed.
    func settleGonePane(_ t: ThreadRecord, _ stored: StoredObservation, _ obs: inout Observation) async throws {
        let next: ThreadStatus? = t.status.isLive ? (stored.stopRequested ? .stopped : .failed) : nil
        try await settle(t, to: next, reason: next == .failed ? "pane vanished" : nil, exit: nil, clearPane: true)
        obs.status = next?.rawValue ?? t.status.rawValue
    }

    /// The pane's program exited: its exit status says completed or failed (stopped when asked to); a completed
    /// thread whose program then exited non-zero failed after all.
    func settleDeadPane(_ t: ThreadRecord, _ pane: PaneInfo, _ stored: StoredObservation, _ obs: inout Observation)
        async throws
    {
        obs.paneDead = true
        obs.exitStatus = pane.deadStatus
        var next: ThreadStatus?
        if t.status.isLive {
            next = stored.stopRequested ? .stopped : (pane.deadStatus == 0 ? .completed : .failed)
        } else if t.status == .completed, (pane.deadStatus ?? 0) != 0, !stored.stopRequested {
            next = .failed
        }
        let reason = next == .failed ? lastLogLines(t.logFilePath, count: 40) : nil
        try await settle(t, to: next, reason: reason, exit: pane.deadStatus, clearPane: false)
        obs.status = next?.rawValue ?? t.status.rawValue
    }

    /// What the readings of one observation found so far, and the screen and log bookkeeping they move.
    struct Reading {
        var status = ProviderStatus.unknown
        var response: String?
        var tier = "none"
        var screenHash: String?
        var screenChangedAt: String?
        var logOffset: Int
        let lastPasteAt: String?

        init(stored: StoredObservation) {
            (screenHash, screenChangedAt) = (stored.screenHash, stored.screenChangedAt)
            (logOffset, lastPasteAt) = (stored.logOffset, stored.lastPasteAt)
        }

        /// A hook event speaks when it is newer than the screen's last change and the last paste into the pane.
        mutating func readHookEvent(_ event: (createdAt: String, providerStatus: String, message: String?)?) {
            guard let e = event, e.createdAt > (screenChangedAt ?? ""), e.createdAt > (lastPasteAt ?? "") else {
                return
            }
            status = ProviderStatus(rawValue: e.providerStatus) ?? .unknown
            response = e.message
            tier = "hook"
        }
    }

    /// The log tail (fast tier), when no hook spoke: an unchanged log keeps a recent status (not for the real
    /// clients, whose screens are read instead); the sim and generic agents' tails are classified.
    func readLog(_ t: ThreadRecord, _ classifier: Classifier, now: String, into r: inout Reading) {
        guard r.status == .unknown, let path = t.logFilePath else { return }
        let provider = t.providerType ?? "generic"
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let grew = size != r.logOffset
        let recent = t.statusObservedAt.map { Self.seconds(from: $0, to: now) < 30 } ?? false
        if !grew && recent && !t.isRealClient {
            r.status = ProviderStatus(rawValue: t.providerStatus ?? "") ?? .unknown
            r.tier = "fast"
        } else if provider == "sim" || provider == "generic" {
            var text = Self.tail(path, bytes: 16 * 1024)
            // Only the current launch speaks: a relaunch appends a marker line to the same log.
            if let range = text.range(of: "[codestrator] restart ", options: .backwards) {
                text = String(text[range.upperBound...])
            }
            let (s, response) = classifier.classify(ScreenText.prepare(text))
            if s != .unknown {
                (r.status, r.response, r.tier) = (s, response, "fast")
            }
        }
        // New output: hook events older than it no longer speak for the screen.
        if grew { r.screenChangedAt = now }
        r.logOffset = size
    }

    /// The pane's screen (full tier); returns the dialog it shows, if any. A pane that wrote nothing since its
    /// last reading (tmux control mode says so, after this round's listing went through the same connection) is
    /// not captured again: its reading stands.
    func readScreen(
        _ t: ThreadRecord, _ classifier: Classifier, pane: PaneInfo, lines: Int, now: String, into r: inout Reading
    ) async throws -> ScreenDialog? {
        let mark = await env.tmux.outputMark(socket: t.tmuxSocket, sessionId: pane.sessionId, pane: pane.paneId)
        let hash: String
        let reading: ScreenReading
        if let mark, let known = await ScreenReadings.shared.get(t.id, mark: mark, lines: lines),
            known.hash == r.screenHash
        {
            (hash, reading) = (known.hash, known.reading)
        } else {
            let screen = try await env.tmux.capture(socket: t.tmuxSocket, pane: pane.paneId, lines: lines)
            let prepared = ScreenText.prepare(screen)
            hash = Self.screenHash(prepared)
            reading = classifier.read(prepared)
            if let mark {
                await ScreenReadings.shared.set(t.id, .init(mark: mark, lines: lines, hash: hash, reading: reading))
            }
        }
        let changedNow = hash != r.screenHash
        if changedNow {
            r.screenHash = hash
            r.screenChangedAt = now
        }
        if r.tier == "hook", !changedNow, reading.dialog == nil {
            // The screen did not change since the newer hook event: the hook's status stands.
            if r.response == nil { r.response = reading.response }
            return nil
        }
        // Debounce: a processing screen reads as idle only after 1.5 s without change.
        if reading.status == .idle, t.providerStatus == ProviderStatus.processing.rawValue,
            let changed = r.screenChangedAt, Self.seconds(from: changed, to: now) < 1.5
        {
            r.status = .processing
        } else {
            r.status = reading.status
        }
        r.response = reading.response ?? r.response
        r.tier = "full"
        return reading.dialog
    }

    /// Policy dialogs (the folder trust of a worktree Codestrator created, Codex's hook review) are answered with
    /// the keys the pinned version needs, once per screen, and never count as a question.
    func answerPolicyDialog(
        _ t: ThreadRecord, pane: String, dialog: ScreenDialog?, answer: Bool, into r: inout Reading,
        _ obs: inout Observation
    ) async {
        guard let d = dialog, let keys = d.policyKeys, t.agentOverride["auto_trust"]?.boolValue ?? true else { return }
        obs.policyDialog = d.kind.rawValue
        if answer { await answerPolicyDialog(t, pane: pane, dialog: d, keys: keys) }
        r.status = .unknown
        r.response = nil
    }
}

extension ThreadRecord {
    /// Codex CLI and Claude Code: their screens are always read, and an unchanged log says nothing of them.
    var isRealClient: Bool { providerType == "codex" || providerType == "claude_code" }
}
