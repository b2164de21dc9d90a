import CodestratorCore

/// orch_inbox (methods.md §8). Registered; built by a later issue (answers `not_implemented`).
enum InboxMethods {
    static let owner = "the inbox issue"
    static let all: [MethodDefinition] = [
        method(
            "inbox.send", .inbox, "Send a message to a thread of the session, optionally into its pane", roles: "WVPD",
            ownedBy: owner),
        method(
            "inbox.pending", .inbox, "Undelivered messages of a thread", readOnly: true, roles: "WVPD", ownedBy: owner),
        method(
            "inbox.list", .inbox, "A thread's sent and received messages", readOnly: true, roles: "WVPD", ownedBy: owner
        ),
        method("inbox.deliver", .inbox, "Mark a received message as delivered", roles: "WVPD", ownedBy: owner),
    ]
}
