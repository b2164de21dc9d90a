import Foundation

/// orch_inbox: messages between threads of one session (docs/methods.md#orch_inbox--codestrator-inbox). Children act as their own
/// thread; the root acts as the root thread of the session concerned unless it names another.
public struct InboxService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    var caller: Caller { env.caller }

    static let maxMessageBytes = 65_536

    // MARK: inbox.send

    public func send(_ input: InboxSendInput) async throws -> JSON {
        let caller = self.caller
        let message = input.message
        guard !message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CodestratorError(
                .invalidParams, "field \"message\" is blank", expected: "a non-blank message", field: "message")
        }
        let deliver = input.deliverToPane
        if deliver {
            // Text that may reach a terminal carries no control character but newline and tab.
            try ParamValidator.checkText(
                message, field: "message", kind: .paneText(maxBytes: Self.maxMessageBytes),
                maxBytes: Self.maxMessageBytes, paneSafe: true)
        }
        let kind = input.kind
        let result: (JSON, Bool) = try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let (sender, receiver) = try Self.endpoints(access, input)
            if deliver { try Self.requireLivePane(receiver) }
            let id = try tx.insert(
                """
                INSERT INTO inbox_messages (session_id, sender_thread_id, receiver_thread_id, kind, message, status,
                  created_at)
                VALUES (?, ?, ?, ?, ?, 'pending', ?)
                """, [receiver.sessionId, sender.id, receiver.id, kind, message, tx.now])
            if deliver {
                // Queued as an `inbox` directive; the observation below pastes it at once when the
                // receiver counts as idle (and marks the message delivered), otherwise it waits.
                try tx.insert(
                    """
                    INSERT INTO thread_directives (thread_id, kind, inbox_message_id, mode, text, state, created_at)
                    VALUES (?, 'inbox', ?, 'queue', ?, 'queued', ?)
                    """, [receiver.id, id, "[from thread \(sender.id)] \(message)", tx.now])
            }
            tx.bumpVersion()
            let m = try InboxMessageRecord.load(tx, id)!
            return (.obj(["message": m.json, "pane_delivery": deliver ? "queued" : nil]), deliver)
        }
        guard result.1, let messageId = result.0["message"]?["id"]?.intValue,
            let receiverId = result.0["message"]?["receiver_thread_id"]?.intValue
        else { return result.0 }
        _ = try await ThreadObserver(env: env).observe([receiverId], capture: true)
        return try await env.store.read { tx in
            let m = try InboxMessageRecord.load(tx, messageId)!
            let pasted = m.json["status"]?.stringValue == "delivered"
            return .obj(["message": m.json, "pane_delivery": pasted ? "pasted" : "queued"])
        }
    }

    /// The sender (a child: its own thread; the root: `sender_thread_id`, else the root thread of the
    /// receiver's session) and the receiver, another thread of the same session.
    static func endpoints(_ access: Access, _ input: InboxSendInput) throws -> (
        sender: ThreadRecord, receiver: ThreadRecord
    ) {
        let (tx, caller) = (access.tx, access.caller)
        let receiver = try access.thread(input.receiverThreadId, field: "receiver_thread_id")
        let sender: ThreadRecord
        if caller.isChild {
            sender = try Self.ownThread(access, given: input.senderThreadId, field: "sender_thread_id")
        } else if let given = input.senderThreadId {
            sender = try access.thread(given, field: "sender_thread_id")
        } else {
            sender = try Self.rootThread(tx, sessionId: receiver.sessionId, field: "receiver_thread_id")
        }
        guard sender.sessionId == receiver.sessionId else {
            throw CodestratorError(
                .invalidParams,
                "receiver thread \(receiver.id) belongs to session \(receiver.sessionId), sender thread "
                    + "\(sender.id) to session \(sender.sessionId)",
                expected: "a receiver in the sender's session", field: "receiver_thread_id")
        }
        guard sender.id != receiver.id else {
            throw CodestratorError(
                .invalidParams, "receiver_thread_id \(receiver.id) is the sender",
                expected: "another thread of the session", field: "receiver_thread_id")
        }
        return (sender, receiver)
    }

    /// With `deliver_to_pane` the receiver needs a live pane; the root thread never has one.
    static func requireLivePane(_ t: ThreadRecord) throws {
        let expected = "a receiver with a live pane, or deliver_to_pane:false"
        if t.role == .sessionRoot {
            throw CodestratorError(
                .invalidState, "thread \(t.id) is the root thread of session \(t.sessionId), which has no pane",
                expected: expected, field: "receiver_thread_id")
        }
        // A pane id is cleared when the pane is gone; terminal threads may still have theirs.
        let paneStatuses: Set<ThreadStatus> = [
            .initializing, .running, .idle, .waitingUserAnswer, .completed, .failed,
        ]
        guard t.tmuxPaneId != nil, paneStatuses.contains(t.status) else {
            let why = t.tmuxPaneId == nil ? "no pane" : "a \(t.status.rawValue) pane"
            throw CodestratorError(
                .invalidState, "thread \(t.id) (\(t.status.rawValue)) has \(why)", expected: expected,
                field: "receiver_thread_id")
        }
    }

    /// A child's own thread; an identity parameter (`given` in `field`) naming another thread of its session is
    /// `forbidden`, one of another session `not_found` (docs/protocol-eras.md#roles).
    static func ownThread(_ access: Access, given: Int?, field: String) throws -> ThreadRecord {
        let own = access.caller.threadId ?? 0
        if let given, given != own {
            if let other = try ThreadRecord.load(access.tx, given), other.sessionId == access.caller.sessionId {
                throw CodestratorError(
                    .forbidden, "field \"\(field)\" names thread \(given), not this process's thread \(own)",
                    expected: "your own thread id or none", field: field)
            }
            throw CodestratorError.notFound("thread", given, field: field)
        }
        return try access.thread(own, field: field)
    }

    static func rootThread(_ tx: Tx, sessionId: Int, field: String) throws -> ThreadRecord {
        guard let s = try SessionRecord.load(tx, sessionId), let root = try ThreadRecord.load(tx, s.rootThreadId)
        else {
            throw CodestratorError.invalidState(
                "session \(sessionId) has no root thread", expected: "a session opened with session.open")
        }
        return root
    }

    /// The thread a read is about: a child's own; for the root `threadId` (given in `field`; in `sessionId`
    /// when both are given), else the root thread of `sessionId`. Nil: the root named only a session and
    /// `sessionWide` is true.
    func subject(_ access: Access, threadId: Int?, sessionId: Int?, field: String, sessionWide: Bool) throws -> (
        ThreadRecord?, Int
    ) {
        if caller.isChild {
            _ = try access.sessionParam(id: sessionId)
            let t = try Self.ownThread(access, given: threadId, field: field)
            return (t, t.sessionId)
        }
        let session = try access.sessionParam(id: sessionId)
        if let given = threadId {
            let t = try access.thread(given, field: field)
            if let session, session.id != t.sessionId {
                throw CodestratorError(
                    .invalidParams, "thread \(given) belongs to session \(t.sessionId)",
                    expected: "a thread of session \(session.id)", field: field)
            }
            return (t, t.sessionId)
        }
        guard let session else {
            throw CodestratorError(
                .invalidParams, "field \"\(field)\" or \"session_id\" is required", expected: ParamKind.id.expectation,
                field: field)
        }
        if sessionWide { return (nil, session.id) }
        return (try Self.rootThread(access.tx, sessionId: session.id, field: "session_id"), session.id)
    }

    // MARK: inbox.pending

    public func pending(_ input: InboxPendingInput) async throws -> JSON {
        let caller = self.caller
        return try await env.store.read { tx in
            let (thread, _) = try subject(
                Access(tx: tx, caller: caller), threadId: input.receiverThreadId, sessionId: input.sessionId,
                field: "receiver_thread_id", sessionWide: false)
            let messages = try tx.rows(
                "SELECT * FROM inbox_messages WHERE receiver_thread_id = ? AND status = 'pending' ORDER BY id LIMIT ?",
                [thread?.id ?? 0, input.limit]
            ).map { InboxMessageRecord($0).json }
            return .obj(["messages": JSON.array(messages), "count": messages.count])
        }
    }

    // MARK: inbox.list

    public func list(_ input: InboxListInput) async throws -> JSON {
        let caller = self.caller
        return try await env.store.read { tx in
            let (thread, sessionId) = try subject(
                Access(tx: tx, caller: caller), threadId: input.threadId, sessionId: input.sessionId,
                field: "thread_id", sessionWide: true)
            var clauses: [String] = []
            var args: [any SQLArgument] = []
            if let thread {
                switch input.direction {
                case "sent": clauses.append("sender_thread_id = ?")
                case "received": clauses.append("receiver_thread_id = ?")
                default:
                    clauses.append("(sender_thread_id = ? OR receiver_thread_id = ?)")
                    args.append(thread.id)
                }
                args.append(thread.id)
            } else {
                clauses.append("session_id = ?")
                args.append(sessionId)
            }
            if input.status != "all" {
                clauses.append("status = ?")
                args.append(input.status)
            }
            let whereSQL = " WHERE " + clauses.joined(separator: " AND ")
            let total = try tx.int("SELECT COUNT(*) FROM inbox_messages" + whereSQL, args) ?? 0
            let messages = try tx.rows(
                "SELECT * FROM inbox_messages" + whereSQL + " ORDER BY id LIMIT ? OFFSET ?",
                args + [input.page.limit, input.page.offset]
            ).map { InboxMessageRecord($0).json }
            var out = JSON.obj(["messages": JSON.array(messages), "count": messages.count, "total": total])
            if thread == nil, input.direction != "all" {
                out = out.merging([
                    "warnings": [
                        "direction \(quoted(input.direction)) needs thread_id; all messages of the session are listed"
                    ]
                        as [String]
                ])
            }
            return out
        }
    }

    // MARK: inbox.deliver

    public func deliver(messageId id: Int) async throws -> JSON {
        let caller = self.caller
        return try await env.store.write { tx in
            guard let m = try InboxMessageRecord.load(tx, id), !caller.isChild || m.sessionId == caller.sessionId
            else {
                throw CodestratorError.notFound("message", id, field: "message_id")
            }
            if caller.isChild && m.receiverThreadId != caller.threadId {
                throw CodestratorError(
                    .forbidden, "message \(id) was sent to thread \(m.receiverThreadId)",
                    expected: "a message received by your thread \(caller.threadId ?? 0)", field: "message_id")
            }
            let status = InboxStatus(rawValue: m.status) ?? .delivered
            guard status.canMove(to: .delivered) else {
                throw CodestratorError(
                    .invalidState, "message \(id) was already delivered at \(m.deliveredAt ?? "an unknown time")",
                    expected: "a pending message", field: "message_id")
            }
            try tx.execute(
                """
                UPDATE inbox_messages SET status = 'delivered', delivered_at = ?, delivered_via = 'ack'
                WHERE id = ? AND status = 'pending'
                """, [tx.now, id])
            // An acknowledged message needs no paste any more.
            try tx.execute(
                "UPDATE thread_directives SET state = 'cancelled' WHERE inbox_message_id = ? AND state = 'queued'", [id]
            )
            tx.bumpVersion()
            return .obj(["message": try InboxMessageRecord.load(tx, id)!.json])
        }
    }
}
