/// What `inbox.send` takes: decoded once from the validated `Params` at the MCP edge, like every `inbox.*`
/// input below. The defaults live here; the method registry declares them from these constants.
public struct InboxSendInput: Sendable, Equatable {
    public static let deliverToPaneDefault = false
    public static let kindDefault = "note"

    public var receiverThreadId: Int
    public var message: String
    /// Root: default the receiver session's root thread; children: their own.
    public var senderThreadId: Int?
    public var deliverToPane: Bool
    /// `note`, `question`, `answer` or `report`.
    public var kind: String

    public init(
        receiverThreadId: Int, message: String, senderThreadId: Int? = nil,
        deliverToPane: Bool = Self.deliverToPaneDefault, kind: String = Self.kindDefault
    ) {
        (self.receiverThreadId, self.message, self.senderThreadId) = (receiverThreadId, message, senderThreadId)
        (self.deliverToPane, self.kind) = (deliverToPane, kind)
    }

    /// From the call's validated parameters (the registry has filled in the defaults).
    public init(_ p: Params) throws {
        self.init(
            receiverThreadId: try p.req("receiver_thread_id"), message: try p.reqString("message"),
            senderThreadId: p.int("sender_thread_id"),
            deliverToPane: p.bool("deliver_to_pane") ?? Self.deliverToPaneDefault,
            kind: p.string("kind") ?? Self.kindDefault)
    }
}

/// What `inbox.pending` takes.
public struct InboxPendingInput: Sendable, Equatable {
    public static let limitDefault = 100

    /// Root: this or `sessionId`; children: their own.
    public var receiverThreadId: Int?
    public var sessionId: Int?
    public var limit: Int

    public init(receiverThreadId: Int? = nil, sessionId: Int? = nil, limit: Int = Self.limitDefault) {
        (self.receiverThreadId, self.sessionId, self.limit) = (receiverThreadId, sessionId, limit)
    }

    public init(_ p: Params) {
        self.init(
            receiverThreadId: p.int("receiver_thread_id"), sessionId: p.int("session_id"),
            limit: p.int("limit") ?? Self.limitDefault)
    }
}

/// What `inbox.list` takes.
public struct InboxListInput: Sendable, Equatable {
    public static let directionDefault = "all"
    public static let statusDefault = "all"

    /// Root: this or `sessionId`; children: their own.
    public var threadId: Int?
    public var sessionId: Int?
    /// `sent`, `received` or `all`; needs a thread.
    public var direction: String
    /// `pending`, `delivered` or `all`.
    public var status: String
    public var page: ListPage

    public init(
        threadId: Int? = nil, sessionId: Int? = nil, direction: String = Self.directionDefault,
        status: String = Self.statusDefault, page: ListPage = ListPage()
    ) {
        (self.threadId, self.sessionId, self.direction, self.status, self.page) =
            (threadId, sessionId, direction, status, page)
    }

    public init(_ p: Params) {
        self.init(
            threadId: p.int("thread_id"), sessionId: p.int("session_id"),
            direction: p.string("direction") ?? Self.directionDefault, status: p.string("status") ?? Self.statusDefault,
            page: ListPage(p))
    }
}
