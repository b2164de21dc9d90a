import Testing

@testable import CodestratorCore

/// `inbox.*` inputs: the registry's defaults arrive, given values are kept, a missing required value is
/// `invalid_params` naming the field.
@Suite struct InboxInputTests {
    @Test func sendIsANoteKeptInTheInboxByDefault() throws {
        let input = try InboxSendInput(
            InputTesting.validated("inbox.send", ["receiver_thread_id": 3, "message": "hi"]))
        #expect(input == InboxSendInput(receiverThreadId: 3, message: "hi", deliverToPane: false, kind: "note"))
        let given = try InboxSendInput(
            InputTesting.validated(
                "inbox.send",
                [
                    "receiver_thread_id": 3, "message": "hi", "sender_thread_id": 2, "deliver_to_pane": true,
                    "kind": "question",
                ]))
        #expect(
            given
                == InboxSendInput(
                    receiverThreadId: 3, message: "hi", senderThreadId: 2, deliverToPane: true, kind: "question"))
    }

    @Test func sendNamesAMissingReceiverOrMessage() {
        #expect(
            InputTesting.missingField { try InboxSendInput(Params(values: ["message": "x"])) } == "receiver_thread_id")
        #expect(
            InputTesting.missingField { try InboxSendInput(Params(values: ["receiver_thread_id": 1])) } == "message")
    }

    @Test func pendingAndListGetTheirDefaults() throws {
        #expect(InboxPendingInput(try InputTesting.validated("inbox.pending")) == InboxPendingInput(limit: 100))
        #expect(
            InboxPendingInput(try InputTesting.validated("inbox.pending", ["session_id": 1, "limit": 5]))
                == InboxPendingInput(sessionId: 1, limit: 5))
        #expect(
            InboxListInput(try InputTesting.validated("inbox.list"))
                == InboxListInput(direction: "all", status: "all", page: ListPage(limit: 100, offset: 0)))
        #expect(
            InboxListInput(
                try InputTesting.validated("inbox.list", ["thread_id": 4, "direction": "sent", "status": "pending"]))
                == InboxListInput(threadId: 4, direction: "sent", status: "pending"))
    }
}
