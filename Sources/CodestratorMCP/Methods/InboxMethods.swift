import CodestratorCore

/// orch_inbox (docs/methods.md#orch_inbox--codestrator-inbox).
enum InboxMethods {
    static let statuses = ["pending", "delivered", "all"]

    static let all: [MethodDefinition] = [
        method(
            "inbox.send", .inbox, "Send a message to a thread of the session, optionally into its pane", roles: "WVPD",
            params: [
                ParamSpec("receiver_thread_id", .id, required: true, doc: "a thread of the sender's session"),
                ParamSpec(
                    "message", .text(maxBytes: 65_536), required: true,
                    doc: "non-blank; pane text with deliver_to_pane"),
                ParamSpec(
                    "sender_thread_id", .id, doc: "root: default the receiver session's root thread; children: own"),
                ParamSpec(
                    "deliver_to_pane", .bool, default: .bool(InboxSendInput.deliverToPaneDefault),
                    doc: "the receiver needs a live pane"),
                ParamSpec(
                    "kind", .enumeration(["note", "question", "answer", "report"]),
                    default: .string(InboxSendInput.kindDefault)),
            ]
        ) { env, p in try await InboxService(env: env).send(InboxSendInput(p)) },
        method(
            "inbox.pending", .inbox, "Undelivered messages of a thread", readOnly: true, roles: "WVPD",
            params: [
                ParamSpec("receiver_thread_id", .id, doc: "root: this or session_id; children: own"),
                ParamSpec("session_id", .id, doc: "root: the session's root thread"),
                ParamSpec(
                    "limit", .int(min: 1, max: 500), default: .int(InboxPendingInput.limitDefault), doc: "page size"),
            ]
        ) { env, p in try await InboxService(env: env).pending(InboxPendingInput(p)) },
        method(
            "inbox.list", .inbox, "A thread's sent and received messages", readOnly: true, roles: "WVPD",
            params: [
                ParamSpec("thread_id", .id, doc: "root: this or session_id; children: own"),
                ParamSpec("session_id", .id, doc: "root: all messages of the session"),
                ParamSpec(
                    "direction", .enumeration(["sent", "received", "all"]),
                    default: .string(InboxListInput.directionDefault)),
                ParamSpec("status", .enumeration(statuses), default: .string(InboxListInput.statusDefault)),
            ] + CommonParams.list
        ) { env, p in try await InboxService(env: env).list(InboxListInput(p)) },
        method(
            "inbox.deliver", .inbox, "Mark a received message as delivered", roles: "WVPD",
            params: [ParamSpec("message_id", .id, required: true, doc: "a pending message you received")]
        ) { env, p in try await InboxService(env: env).deliver(messageId: p.req("message_id")) },
    ]
}
