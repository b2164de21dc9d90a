import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

@Suite struct InboxServiceTests {
    static let messageFields = [
        "id", "session_id", "sender_thread_id", "receiver_thread_id", "kind", "message", "status", "delivered_via",
        "created_at", "delivered_at",
    ]

    @Test func rootSendsAsTheRootThreadAndTheWorkerReadsAndAcknowledges() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, rootThread) = try await h.openSession()
        let worker = try await h.insertThread(session: sid, role: .worker)
        let w = h.child(.worker, thread: worker)

        let sent = try await h.ok(
            "inbox.send", ["receiver_thread_id": .int(worker), "message": "  use the v2 API\n", "kind": "question"])
        #expect(sent.objectValue?.keys == ["message", "pane_delivery"])
        #expect(sent["pane_delivery"] == .null)
        let m = try #require(sent["message"])
        #expect(m.objectValue?.keys == Self.messageFields)
        #expect(m["sender_thread_id"] == .int(rootThread) && m["receiver_thread_id"] == .int(worker))
        #expect(m["session_id"] == .int(sid) && m["status"] == "pending" && m["kind"] == "question")
        #expect(m["message"] == "  use the v2 API\n")  // free text is kept verbatim
        #expect(m["delivered_via"] == .null && m["delivered_at"] == .null)

        let second = try await h.ok("inbox.send", ["receiver_thread_id": .int(worker), "message": "and docs"])
        var pending = try await h.ok("inbox.pending", [:], as: w)
        #expect(pending["messages"]?.ids == [m.id, second["message"]!.id])
        #expect(pending["count"] == 2)
        // The root reads a thread's pending messages by id; reading marks nothing.
        pending = try await h.ok("inbox.pending", ["receiver_thread_id": .int(worker), "limit": 1])
        #expect(pending["messages"]?.ids == [m.id])

        let acked = try await h.ok("inbox.deliver", ["message_id": .int(m.id)], as: w)
        #expect(acked["message"]?["status"] == "delivered" && acked["message"]?["delivered_via"] == "ack")
        #expect(acked["message"]?["delivered_at"] != .null)
        #expect(try await h.ok("inbox.pending", [:], as: w)["messages"]?.ids == [second["message"]!.id])

        // The worker answers: the receiver defaults to nobody, the sender is itself.
        let reply = try await h.ok(
            "inbox.send", ["receiver_thread_id": .int(rootThread), "message": "done", "kind": "answer"], as: w)
        #expect(reply["message"]?["sender_thread_id"] == .int(worker))
        let rootPending = try await h.ok("inbox.pending", ["session_id": .int(sid)])
        #expect(rootPending["messages"]?.ids == [reply["message"]!.id])

        var list = try await h.ok("inbox.list", [:], as: w)
        #expect(list["total"] == 3 && list["count"] == 3)
        list = try await h.ok("inbox.list", ["direction": "sent"], as: w)
        #expect(list["messages"]?.ids == [reply["message"]!.id])
        list = try await h.ok("inbox.list", ["direction": "received", "status": "pending"], as: w)
        #expect(list["messages"]?.ids == [second["message"]!.id])
        list = try await h.ok("inbox.list", ["session_id": .int(sid), "limit": 2, "offset": 1])
        #expect(list["count"] == 2 && list["total"] == 3)
        list = try await h.ok("inbox.list", ["thread_id": .int(rootThread), "status": "delivered"])
        #expect(list["messages"]?.ids == [m.id])
    }

    @Test func sendRefusesBlankMessagesUnknownThreadsAndSelfMessages() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, rootThread) = try await h.openSession()
        let worker = try await h.insertThread(session: sid, role: .worker)
        var e = try await h.refused("inbox.send", ["receiver_thread_id": .int(worker), "message": " \n\t "])
        #expect(e.code == .invalidParams)
        #expect(e.message == "inbox.send: field \"message\" is blank; expected a non-blank message")
        e = try await h.refused("inbox.send", ["receiver_thread_id": 999, "message": "hi"])
        #expect(e.code == .notFound)
        e = try await h.refused("inbox.send", ["receiver_thread_id": .int(rootThread), "message": "hi"])
        #expect(e.code == .invalidParams)
        #expect(e.message.contains("is the sender"))
        e = try await h.refused(
            "inbox.send", ["receiver_thread_id": .int(worker), "message": "hi", "sender_thread_id": .int(worker)])
        #expect(e.code == .invalidParams)
        e = try await h.refused("inbox.send", ["receiver_thread_id": .int(worker), "message": "hi", "kind": "shout"])
        #expect(e.code == .invalidParams)
        let w = h.child(.worker, thread: worker)
        e = try await h.refused("inbox.send", ["receiver_thread_id": .int(worker), "message": "me"], as: w)
        #expect(e.message.contains("is the sender"))
    }

    @Test func threadsOfAnotherSessionAreNotFoundToChildren() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (s1, _) = try await h.openSession("fix login")
        let (s2, root2) = try await h.openSession("add search")
        let worker = try await h.insertThread(session: s1, role: .worker)
        let sibling = try await h.insertThread(session: s1, role: .worker)
        let foreign = try await h.insertThread(session: s2, role: .worker)
        let w = h.child(.worker, thread: worker)
        var e = try await h.refused("inbox.send", ["receiver_thread_id": .int(foreign), "message": "hi"], as: w)
        #expect(e.code == .notFound)
        #expect(e.message.contains("thread \(foreign) not found"))
        e = try await h.refused("inbox.send", ["receiver_thread_id": .int(root2), "message": "hi"], as: w)
        #expect(e.code == .notFound)
        // Identity: another thread of its own session is forbidden, one of another session not found.
        e = try await h.refused(
            "inbox.send", ["receiver_thread_id": .int(sibling), "message": "hi", "sender_thread_id": .int(sibling)],
            as: w)
        #expect(e.code == .forbidden)
        e = try await h.refused(
            "inbox.send", ["receiver_thread_id": .int(sibling), "message": "hi", "sender_thread_id": .int(foreign)],
            as: w)
        #expect(e.code == .notFound)
        e = try await h.err("inbox.pending", ["receiver_thread_id": .int(sibling)], as: w)
        #expect(e.code == .forbidden)
        e = try await h.err("inbox.list", ["session_id": .int(s2)], as: w)
        #expect(e.code == .notFound)
        // The root cannot make threads of two sessions talk.
        e = try await h.refused(
            "inbox.send", ["receiver_thread_id": .int(foreign), "message": "hi", "sender_thread_id": .int(worker)])
        #expect(e.code == .invalidParams)
        #expect(e.message.contains("expected a receiver in the sender's session"))
        e = try await h.err("inbox.pending", ["receiver_thread_id": .int(worker), "session_id": .int(s2)])
        #expect(e.code == .invalidParams)
        e = try await h.err("inbox.pending")
        #expect(e.code == .invalidParams)
    }

    @Test func deliverAcceptsOnlyPendingMessagesOfTheReceiver() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (s1, _) = try await h.openSession("fix login")
        let (s2, _) = try await h.openSession("add search")
        let worker = try await h.insertThread(session: s1, role: .worker)
        let sibling = try await h.insertThread(session: s1, role: .worker)
        let foreign = try await h.insertThread(session: s2, role: .worker)
        let toSibling = try await h.ok("inbox.send", ["receiver_thread_id": .int(sibling), "message": "a"])["message"]!
        let toForeign = try await h.ok("inbox.send", ["receiver_thread_id": .int(foreign), "message": "b"])["message"]!
        let w = h.child(.worker, thread: worker)
        var e = try await h.refused("inbox.deliver", ["message_id": .int(toSibling.id)], as: w)
        #expect(e.code == .forbidden)
        e = try await h.refused("inbox.deliver", ["message_id": .int(toForeign.id)], as: w)
        #expect(e.code == .notFound)
        e = try await h.refused("inbox.deliver", ["message_id": 4242])
        #expect(e.code == .notFound)
        // The root acknowledges any message of its sessions.
        let acked = try await h.ok("inbox.deliver", ["message_id": .int(toForeign.id)])
        let at = try #require(acked["message"]?["delivered_at"]?.stringValue)
        e = try await h.refused("inbox.deliver", ["message_id": .int(toForeign.id)])
        #expect(e.code == .invalidState)
        #expect(
            e.message
                == "inbox.deliver: message \(toForeign.id) was already delivered at \(at); expected a pending message")
    }

    @Test func paneDeliveryNeedsALivePaneAndNeverFakesAPaste() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, rootThread) = try await h.openSession()
        let paneless = try await h.insertThread(session: sid, role: .worker)
        let withPane = try await h.insertThread(session: sid, role: .worker, status: .idle, pane: "%3")
        let stopped = try await h.insertThread(session: sid, role: .worker, status: .stopped, pane: "%4")
        let w = h.child(.worker, thread: paneless)
        var e = try await h.refused(
            "inbox.send", ["receiver_thread_id": .int(rootThread), "message": "hi", "deliver_to_pane": true], as: w)
        #expect(e.code == .invalidState)
        #expect(
            e.message
                == "inbox.send: thread \(rootThread) is the root thread of session \(sid), which has no pane; "
                + "expected a receiver with a live pane, or deliver_to_pane:false")
        e = try await h.refused(
            "inbox.send", ["receiver_thread_id": .int(paneless), "message": "hi", "deliver_to_pane": true])
        #expect(e.code == .invalidState)
        #expect(e.message.contains("thread \(paneless) (running) has no pane"))
        e = try await h.refused(
            "inbox.send", ["receiver_thread_id": .int(stopped), "message": "hi", "deliver_to_pane": true])
        #expect(e.code == .invalidState)
        // Pane text: no control character but newline and tab.
        e = try await h.refused(
            "inbox.send", ["receiver_thread_id": .int(withPane), "message": "hi\u{1b}[2J", "deliver_to_pane": true])
        #expect(e.code == .invalidParams)
        // Without pane delivery the same text is only stored.
        try await h.ok("inbox.send", ["receiver_thread_id": .int(withPane), "message": "hi\u{1b}"])

        // A pane that tmux does not show: the message waits as a queued inbox directive; nothing claims it was pasted.
        let r = try await h.ok(
            "inbox.send",
            ["receiver_thread_id": .int(withPane), "message": "line 1\n\tline 2", "deliver_to_pane": true])
        #expect(r["pane_delivery"] == "queued")
        #expect(r["message"]?["status"] == "pending")
        let id = r["message"]!.id
        let directive = try await h.env.store.read { tx in
            try tx.row("SELECT * FROM thread_directives WHERE inbox_message_id = ?", [id]).map {
                [
                    String($0.int("thread_id")), $0.string("kind"), $0.string("mode"), $0.string("state"),
                    $0.string("text"),
                ]
            }
        }
        #expect(
            directive == [String(withPane), "inbox", "queue", "queued", "[from thread \(rootThread)] line 1\n\tline 2"])
        // Acknowledging the message cancels the paste that is no longer needed.
        try await h.ok("inbox.deliver", ["message_id": .int(id)])
        let state = try await h.env.store.read { tx in
            try tx.string("SELECT state FROM thread_directives WHERE inbox_message_id = ?", [id])
        }
        #expect(state == "cancelled")
    }
}
