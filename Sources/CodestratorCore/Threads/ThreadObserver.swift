import Foundation

/// One observation of child threads (docs/runtime-guide.md#status-detection): pane state, then the agent's own hook events,
/// then the log tail (fast tier), then a pane capture (full tier); the mapped status is persisted,
/// and a queued directive is delivered when the child is idle.
public struct ThreadObserver: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    public struct Observation: Sendable {
        public var threadId: Int
        public var dbStatus: String
        public var status: String
        public var paneExists: Bool
        public var paneDead: Bool
        public var exitStatus: Int?
        public var providerStatus: String?
        public var tier: String
        public var lastResponse: String?
        public var captureError: String?
        public var deliveryError: String?
        /// The kind of dialog on screen that Codestrator's policy answers (it is not a question).
        public var policyDialog: String?
        /// The tmux id (`$3`) of the session the live pane was listed in.
        public var paneSessionId: String? = nil
    }

    /// Panes per socket, listed once per observation round. A listing that failed (tmux timed out, or
    /// printed what does not parse) is `.failed`: it must never read as "the pane is gone".
    actor PaneCache {
        enum Listing { case panes([PaneInfo]?), failed }
        var bySocket: [String: Listing] = [:]
        func get(_ socket: String?, _ tmux: any TmuxClient) async -> Listing {
            let key = socket ?? ""
            if let v = bySocket[key] { return v }
            let v: Listing
            do { v = .panes(try await tmux.listAllPanes(socket: socket)) } catch { v = .failed }
            bySocket[key] = v
            return v
        }
    }

    /// `answerPolicy: false` leaves policy dialogs alone: a process that only passes by (a hook command) must not
    /// answer a dialog the watching server answers too, or the second answer would meet the next screen.
    /// `skipUnchanged` (a `thread.child.list` refresh) leaves out the children that cannot have changed since this
    /// process last observed them (`Unchanged`); the ones it leaves out are not in the result.
    public func observe(
        _ ids: [Int], capture: Bool, captureLines: Int = 200, deliver: Bool = true, answerPolicy: Bool = true,
        skipUnchanged: Bool = false
    ) async throws
        -> [Observation]
    {
        let cache = PaneCache()
        let skipped = skipUnchanged ? try await Unchanged(env: env).threads(ids, cache: cache) : []
        var out: [Observation] = []
        for id in ids where !skipped.contains(id) {
            // Marks are kept for the refreshes that use them (a list refresh records what the next one compares).
            let mark = skipUnchanged ? await Unchanged(env: env).markBefore(id, cache: cache) : nil
            if let o = try await observeOne(
                id, cache: cache, capture: capture, lines: captureLines, deliver: deliver, answerPolicy: answerPolicy)
            {
                out.append(o)
                if let mark { await Unchanged.Marks.shared.set(id, mark) }
            }
        }
        return out
    }

    static let liveStatuses: Set<ThreadStatus> = [.initializing, .running, .idle, .waitingUserAnswer]

    func lastLogLines(_ path: String?, count: Int) -> String {
        guard let path, let data = FileManager.default.contents(atPath: path) else { return "" }
        let text = String(decoding: data.suffix(64 * 1024), as: UTF8.self)
        return ScreenText.prepare(text).suffix(count).joined(separator: "\n")
    }

    func observeOne(
        _ id: Int, cache: PaneCache, capture: Bool, lines: Int, deliver: Bool, answerPolicy: Bool = true
    ) async throws -> Observation? {
        guard let (t, stored) = try await loadForObservation(id) else { return nil }
        var obs = Observation(
            threadId: id, dbStatus: t.status.rawValue, status: t.status.rawValue, paneExists: false, paneDead: false,
            exitStatus: t.exitStatus, providerStatus: t.providerStatus, tier: "none", lastResponse: nil,
            captureError: nil, deliveryError: nil)
        guard let paneId = t.tmuxPaneId, t.role != .sessionRoot, let stored else { return obs }
        guard case .panes(let panes) = await cache.get(t.tmuxSocket, env.tmux) else { return obs }
        obs.lastResponse = stored.lastResponse

        // 1. Pane state: a pane that is gone or dead settles the thread, and nothing else is read.
        guard let pane = panes?.first(where: { $0.paneId == paneId && $0.session == t.tmuxSessionName }) else {
            try await settleGonePane(t, stored, &obs)
            return obs
        }
        obs.paneExists = true
        obs.paneSessionId = pane.sessionId
        if pane.dead {
            try await settleDeadPane(t, pane, stored, &obs)
            return obs
        }

        // 2–3. What the program says: hook events first, then the log tail, then the screen.
        let classifier = try classifier(for: t)
        let now = Timestamp.format(env.store.clock.now())
        var reading = Reading(stored: stored)
        reading.readHookEvent(stored.latestEvent)
        readLog(t, classifier, now: now, into: &reading)
        var dialog: ScreenDialog?
        // The real clients' screens are always read when a capture is allowed: a hook event speaks only while
        // it is newer than the screen's last change and no dialog is up. Claude Code sends no hook when a turn
        // is interrupted, and its permission Notification lacks the question the screen shows.
        if reading.status == .unknown || t.isRealClient, capture {
            do {
                dialog = try await readScreen(t, classifier, pane: pane, lines: lines, now: now, into: &reading)
            } catch let e as CodestratorError {
                obs.captureError = e.what
            }
        }
        await answerPolicyDialog(t, pane: paneId, dialog: dialog, answer: answerPolicy, into: &reading, &obs)
        obs.tier = reading.tier
        obs.providerStatus = reading.status == .unknown ? t.providerStatus : reading.status.rawValue
        if let response = reading.response { obs.lastResponse = ScreenText.cut(response) }

        // 4. Map and persist.
        let mapped = try await persist(
            t, providerStatus: reading.status, response: obs.lastResponse, logOffset: reading.logOffset,
            screenHash: reading.screenHash, screenChangedAt: reading.screenChangedAt, now: now,
            lastPaste: stored.lastPasteAt)
        obs.status = mapped.rawValue

        // 5. Deliver a queued directive to an idle child.
        if deliver, reading.status == .idle || reading.status == .completed {
            obs.deliveryError = try await DirectiveDelivery(env: env).deliverNext(threadId: id)
            if let fresh = try await env.store.read({ tx in try ThreadRecord.load(tx, id) }) {
                obs.status = fresh.status.rawValue
            }
        }
        return obs
    }

    /// The last screen reading of each thread in this process, with the output mark it was taken at.
    actor ScreenReadings {
        static let shared = ScreenReadings()
        struct Entry {
            var mark: String
            var lines: Int
            var hash: String
            var reading: ScreenReading
        }
        var byThread: [Int: Entry] = [:]
        func get(_ id: Int, mark: String, lines: Int) -> Entry? {
            guard let e = byThread[id], e.mark == mark, e.lines == lines else { return nil }
            return e
        }
        func set(_ id: Int, _ e: Entry) { byThread[id] = e }
    }

    /// When this process last answered a policy dialog, per thread. In memory: a dialog is answered by the
    /// process that watches the child (its spawn or a wait), and a second answer from another process at worst
    /// meets the next screen, which is read again before anything is pasted.
    actor DialogAnswers {
        static let shared = DialogAnswers()
        var last: [Int: Date] = [:]
        /// True (and noted) when no answer went to this thread in the last 0.4 s.
        func claim(_ id: Int, now: Date) -> Bool {
            if let l = last[id], now.timeIntervalSince(l) < 0.4 { return false }
            last[id] = now
            return true
        }
    }

    /// Sends a policy dialog's keys unless keys went to this thread less than 0.4 s ago (the client may not have
    /// redrawn yet).
    func answerPolicyDialog(_ t: ThreadRecord, pane: String, dialog: ScreenDialog, keys: [String]) async {
        guard await DialogAnswers.shared.claim(t.id, now: Date()) else { return }
        logger.info("thread \(t.id): answering \(dialog.kind.rawValue) with \(keys.joined(separator: " "))")
        for key in keys {
            try? await env.tmux.sendKeys(socket: t.tmuxSocket, pane: pane, keys: [key])
            if keys.count > 1 { try? await Task.sleep(nanoseconds: 80_000_000) }
        }
    }

    func classifier(for t: ThreadRecord) throws -> Classifier {
        let provider = t.providerType ?? "generic"
        guard provider == "generic" else { return Classifier.forProvider(provider) }
        let pats = t.agentOverride["patterns"]?.objectValue
        func list(_ k: String) throws -> [NSRegularExpression] {
            let raw =
                pats?[k].flatMap { v in v.stringValue.map { [$0] } ?? v.arrayValue?.compactMap(\.stringValue) } ?? []
            return try Classifier.compile(raw, field: "agent_override.patterns.\(k)")
        }
        return Classifier.generic(
            waiting: try list("waiting_user_answer"), processing: try list("processing"), idle: try list("idle"))
    }

    /// A hash of a prepared screen that every process computes alike (Swift's `hashValue` is seeded per
    /// process, so each new server took an unchanged screen for a change): FNV-1a, 64 bits, in hex.
    static func screenHash(_ lines: [String]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for (i, line) in lines.enumerated() {
            if i > 0 {
                h ^= 0x0A
                h = h &* 0x100_0000_01b3
            }
            for b in line.utf8 {
                h ^= UInt64(b)
                h = h &* 0x100_0000_01b3
            }
        }
        return String(h, radix: 16)
    }

    static func tail(_ path: String, bytes: Int) -> String {
        guard let fh = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? fh.close() }
        let size = (try? fh.seekToEnd()) ?? 0
        try? fh.seek(toOffset: size > UInt64(bytes) ? size - UInt64(bytes) : 0)
        return String(decoding: fh.readDataToEndOfFile(), as: UTF8.self)
    }

    static func seconds(from a: String, to b: String) -> Double {
        guard let x = Timestamp.parse(a), let y = Timestamp.parse(b) else { return .infinity }
        return y.timeIntervalSince(x)
    }

    /// Pane gone or dead: the thread settles (and its pane id is cleared when the pane is gone).
    func settle(_ t: ThreadRecord, to next: ThreadStatus?, reason: String?, exit: Int?, clearPane: Bool) async throws {
        guard next != nil || clearPane else { return }
        try await env.store.write { tx in
            guard let cur = try ThreadRecord.load(tx, t.id) else { return }
            if let next, next != cur.status, cur.status.canMove(to: next) {
                try tx.execute(
                    """
                    UPDATE threads SET status = ?, status_source = 'observation', status_changed_at = ?, updated_at = ?,
                      completed_at = COALESCE(completed_at, ?), exit_status = COALESCE(?, exit_status),
                      failure_reason = COALESCE(?, failure_reason) WHERE id = ?
                    """, [next.rawValue, tx.now, tx.now, tx.now, exit, reason, t.id])
                try tx.execute(
                    "UPDATE locks SET state = 'released', released_at = ? WHERE thread_id = ? AND state = 'active'",
                    [tx.now, t.id])
                tx.bumpVersion()
            } else if let exit {
                try tx.execute("UPDATE threads SET exit_status = ? WHERE id = ?", [exit, t.id])
            }
            if clearPane {
                try tx.execute("UPDATE threads SET tmux_pane_id = NULL, updated_at = ? WHERE id = ?", [tx.now, t.id])
            }
        }
    }

    static let sticky: Set<String> = ["report", "case_complete", "review_submit"]

    /// What an observation would change: the thread now, the status it moves to, and whether the row changes
    /// at all. Nil when the thread is gone.
    struct PersistPlan {
        var cur: ThreadRecord
        var next: ThreadStatus?
        var writes: Bool
    }

    static func plan(
        _ tx: Tx, _ t: ThreadRecord, providerStatus p: ProviderStatus, response: String?, logOffset: Int,
        screenHash: String?, screenChangedAt: String?, lastPaste: String?
    ) throws -> PersistPlan? {
        guard let cur = try ThreadRecord.load(tx, t.id) else { return nil }
        var next: ThreadStatus? = nil
        switch p {
        case .processing: next = .running
        case .idle, .completed, .error: next = .idle
        case .waitingUserAnswer: next = .waitingUserAnswer
        case .unknown: next = nil
        }
        var isSticky =
            Self.sticky.contains(cur.statusSource)
            && [.completed, .waitingUserAnswer, .failed].contains(cur.status)
        if isSticky {
            let submitted =
                try tx.int(
                    "SELECT COUNT(*) FROM thread_events WHERE thread_id = ? AND event = 'prompt_submit' AND created_at > ?",
                    [t.id, cur.statusChangedAt]) ?? 0
            if (lastPaste ?? "") > cur.statusChangedAt || submitted > 0 { isSticky = false }
        }
        if isSticky { next = nil }
        let cur2 = try tx.row(
            "SELECT provider_status, log_offset, last_response, screen_hash, screen_changed_at FROM threads WHERE id = ?",
            [t.id])
        let unchanged =
            (p == .unknown || cur2?.optString("provider_status") == p.rawValue)
            && cur2?.int("log_offset") == logOffset
            && (response == nil || cur2?.optString("last_response") == response)
            && cur2?.optString("screen_hash") == screenHash
            && cur2?.optString("screen_changed_at") == screenChangedAt
        let statusChanges = next != nil && next != cur.status && cur.status.canMove(to: next!)
        return PersistPlan(cur: cur, next: next, writes: !(unchanged && !statusChanges))
    }

    /// Maps the provider status onto the thread status, respecting sticky statuses (docs/database.md#status-transitions).
    func persist(
        _ t: ThreadRecord, providerStatus p: ProviderStatus, response: String?, logOffset: Int, screenHash: String?,
        screenChangedAt: String?, now: String, lastPaste: String?
    ) async throws -> ThreadStatus {
        // Nothing new, decided in a read: a list of many idle children takes no write lock at all.
        let seen = try await env.store.read { tx in
            try Self.plan(
                tx, t, providerStatus: p, response: response, logOffset: logOffset, screenHash: screenHash,
                screenChangedAt: screenChangedAt, lastPaste: lastPaste)
        }
        guard let seen else { return t.status }
        if !seen.writes { return seen.cur.status }
        return try await env.store.write { tx in
            guard
                let plan = try Self.plan(
                    tx, t, providerStatus: p, response: response, logOffset: logOffset, screenHash: screenHash,
                    screenChangedAt: screenChangedAt, lastPaste: lastPaste)
            else { return t.status }
            let (cur, next) = (plan.cur, plan.next)
            // Nothing new: the row is left alone (a list of many idle children stays read-only).
            if !plan.writes { return cur.status }
            try tx.execute(
                """
                UPDATE threads SET provider_status = COALESCE(?, provider_status), status_observed_at = ?, log_offset = ?,
                  last_response = COALESCE(?, last_response), screen_hash = ?, screen_changed_at = ? WHERE id = ?
                """,
                [
                    p == .unknown ? nil : p.rawValue, tx.now, logOffset, response, screenHash, screenChangedAt, t.id,
                ])
            if let next, next != cur.status, cur.status.canMove(to: next) {
                try tx.execute(
                    """
                    UPDATE threads SET status = ?, status_source = 'observation', status_changed_at = ?, updated_at = ?
                    WHERE id = ?
                    """, [next.rawValue, tx.now, tx.now, t.id])
                tx.bumpVersion()
                return next
            }
            return cur.status
        }
    }
}
