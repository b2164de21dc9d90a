import Foundation

/// Pasting text into a child's pane and verifying that it was taken (docs/runtime-guide.md#directive-delivery).
public struct DirectiveDelivery: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    public enum Outcome: Sendable, Equatable {
        case taken
        /// Pasted, but still not taken after Enter was pressed twice.
        case notTaken
        /// The paste command itself failed.
        case pasteFailed(String)
    }

    func simInputCount(_ threadId: Int) -> Int {
        let path = env.layout.runDir + "/sim_\(threadId)_inputs.jsonl"
        guard let d = FileManager.default.contents(atPath: path) else { return 0 }
        return d.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    /// Empties the client's input box before anything is typed into it. Claude Code puts an interrupted prompt
    /// back into the box, so a paste would be appended to it and sent as one message; `C-u` clears one line
    /// only, `C-c` clears the whole box (a second `C-c` on an empty box would quit, so it is sent only while the
    /// box holds text, and the box is read again after each). Returns false when the box stayed non-empty.
    public func clearInput(_ t: ThreadRecord) async -> Bool {
        guard t.providerType == "claude_code", let pane = t.tmuxPaneId else { return true }
        let reader = Classifier.forProvider("claude_code")
        for _ in 0..<3 {
            guard let screen = try? await env.tmux.capture(socket: t.tmuxSocket, pane: pane, lines: 60) else {
                return false
            }
            let r = reader.read(ScreenText.prepare(screen))
            guard r.pendingInput != nil, r.dialog == nil else { return true }
            try? await env.tmux.sendKeys(socket: t.tmuxSocket, pane: pane, keys: ["C-c"])
            try? await Task.sleep(nanoseconds: 300_000_000)
        }
        return false
    }

    /// Pastes `text` (a pane-safe string) and presses Enter; verifies within 3 s, pressing Enter once more.
    public func paste(_ t: ThreadRecord, text: String) async -> Outcome {
        guard let pane = t.tmuxPaneId else { return .pasteFailed("thread \(t.id) has no pane") }
        let socket = t.tmuxSocket
        guard await clearInput(t) else {
            return .pasteFailed("the input box of thread \(t.id) still holds text after C-c")
        }
        let simBefore = simInputCount(t.id)
        let pasteTime = Timestamp.format(env.store.clock.now())
        let buffer = "cs-\(t.id)-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        do {
            try await env.tmux.paste(socket: socket, pane: pane, text: text, bufferName: buffer)
            try await Task.sleep(nanoseconds: 150_000_000)
            try await env.tmux.sendKeys(socket: socket, pane: pane, keys: ["Enter"])
        } catch let e as CodestratorError {
            return .pasteFailed(e.what)
        } catch {
            return .pasteFailed("\(error)")
        }
        let id = t.id
        try? await env.store.write { tx in
            try tx.execute("UPDATE threads SET last_paste_at = ? WHERE id = ?", [tx.now, id])
        }
        for attempt in 0..<2 {
            if attempt == 1 { try? await env.tmux.sendKeys(socket: socket, pane: pane, keys: ["Enter"]) }
            let deadline = ContinuousClock.now + .seconds(3)
            while ContinuousClock.now < deadline {
                if await taken(t, simBefore: simBefore, since: pasteTime) { return .taken }
                try? await Task.sleep(nanoseconds: 100_000_000)
            }
        }
        return .notTaken
    }

    func taken(_ t: ThreadRecord, simBefore: Int, since: String) async -> Bool {
        switch t.providerType ?? "generic" {
        case "sim":
            return simInputCount(t.id) > simBefore
        case "generic":
            return true
        default:
            let id = t.id
            let events: Int? = try? await env.store.read { tx in
                try tx.int(
                    "SELECT COUNT(*) FROM thread_events WHERE thread_id = ? AND event IN ('prompt_submit','activity','turn_complete','stop') AND created_at >= ?",
                    [id, since]) ?? 0
            }
            if (events ?? 0) > 0 { return true }
            guard let pane = t.tmuxPaneId,
                let screen = try? await env.tmux.capture(socket: t.tmuxSocket, pane: pane, lines: 60)
            else { return false }
            let lines = ScreenText.prepare(screen)
            if lines.contains(where: { $0.contains("[Pasted text") }) { return false }
            return Classifier.forProvider(t.providerType ?? "generic").classify(lines).0 == .processing
        }
    }

    /// Delivers the oldest queued directive of an idle child; returns the delivery error, if any.
    @discardableResult
    public func deliverNext(threadId: Int) async throws -> String? {
        // Most idle children have nothing queued: found out in a read, without taking the write lock.
        let queued = try await env.store.read { tx in
            try tx.row(
                "SELECT 1 AS q FROM thread_directives WHERE thread_id = ? AND state = 'queued' LIMIT 1", [threadId])
                != nil
        }
        guard queued else { return nil }
        let claimed: (Int, String, ThreadRecord)? = try await env.store.write { tx in
            guard
                let row = try tx.row(
                    "SELECT id, text FROM thread_directives WHERE thread_id = ? AND state = 'queued' ORDER BY id LIMIT 1",
                    [threadId])
            else { return nil }
            try tx.execute(
                "UPDATE thread_directives SET state = 'delivering', claimed_at = ? WHERE id = ? AND state = 'queued'",
                [tx.now, row.int("id")])
            guard tx.changes == 1, let t = try ThreadRecord.load(tx, threadId) else { return nil }
            return (row.int("id"), row.string("text"), t)
        }
        guard let (directiveId, text, thread) = claimed else { return nil }
        let outcome = await paste(thread, text: text)
        return try await record(directiveId: directiveId, threadId: threadId, outcome: outcome)
    }

    /// Records a delivery's outcome; a taken paste makes the thread `running` (source `paste`).
    @discardableResult
    public func record(directiveId: Int, threadId: Int, outcome: Outcome) async throws -> String? {
        try await env.store.write { tx in
            switch outcome {
            case .taken:
                try tx.execute(
                    "UPDATE thread_directives SET state = 'delivered', delivered_at = ?, delivery_error = NULL WHERE id = ?",
                    [tx.now, directiveId])
                try tx.execute(
                    """
                    UPDATE inbox_messages SET status = 'delivered', delivered_via = 'pane', delivered_at = ?
                    WHERE id = (SELECT inbox_message_id FROM thread_directives WHERE id = ?) AND status = 'pending'
                    """, [tx.now, directiveId])
                try Self.markRunning(tx, threadId: threadId)
                tx.bumpVersion()
                return nil
            case .pasteFailed(let why):
                try tx.execute(
                    "UPDATE thread_directives SET state = 'queued', delivery_error = ? WHERE id = ?",
                    [why, directiveId])
                return why
            case .notTaken:
                let why = "not taken after Enter twice"
                try tx.execute(
                    "UPDATE thread_directives SET state = 'failed', delivery_error = ? WHERE id = ?",
                    [why, directiveId])
                tx.bumpVersion()
                return why
            }
        }
    }

    /// A paste lifts any status to `running` (docs/database.md#status-transitions).
    static func markRunning(_ tx: Tx, threadId: Int) throws {
        guard let t = try ThreadRecord.load(tx, threadId) else { return }
        // A status set after the paste (a report made while delivery was being verified) stands.
        let pastedAt = try tx.string("SELECT last_paste_at FROM threads WHERE id = ?", [threadId]) ?? ""
        if t.statusChangedAt > pastedAt { return }
        if t.status != .running, t.status.canMove(to: .running) {
            try tx.execute(
                """
                UPDATE threads SET status = 'running', status_source = 'paste', status_changed_at = ?, updated_at = ?,
                  provider_status = 'processing' WHERE id = ?
                """, [tx.now, tx.now, threadId])
        }
    }
}
