/// What `lock.acquire` takes: decoded once from the validated `Params` at the MCP edge, like every `lock.*`
/// input below. The defaults live here; the method registry declares them from these constants.
public struct LockAcquireInput: Sendable, Equatable {
    public static let ttlSecondsDefault = 600

    /// `file` or `prefix`.
    public var scopeType: String
    public var scopePath: String
    public var ownerSession: String?
    public var ttlSeconds: Int
    public var sessionId: Int?
    public var reason: String?

    public init(
        scopeType: String, scopePath: String, ownerSession: String? = nil,
        ttlSeconds: Int = Self.ttlSecondsDefault, sessionId: Int? = nil, reason: String? = nil
    ) {
        (self.scopeType, self.scopePath, self.ownerSession) = (scopeType, scopePath, ownerSession)
        (self.ttlSeconds, self.sessionId, self.reason) = (ttlSeconds, sessionId, reason)
    }

    /// From the call's validated parameters (the registry has filled in the defaults).
    public init(_ p: Params) throws {
        self.init(
            scopeType: try p.reqString("scope_type"), scopePath: try p.reqString("scope_path"),
            ownerSession: p.string("owner_session"), ttlSeconds: p.int("ttl_seconds") ?? Self.ttlSecondsDefault,
            sessionId: p.int("session_id"), reason: p.string("reason"))
    }
}

/// What `lock.heartbeat` takes.
public struct LockHeartbeatInput: Sendable, Equatable {
    public var lockId: Int
    public var ownerSession: String?
    /// Default: the lock's own ttl.
    public var ttlSeconds: Int?

    public init(lockId: Int, ownerSession: String? = nil, ttlSeconds: Int? = nil) {
        (self.lockId, self.ownerSession, self.ttlSeconds) = (lockId, ownerSession, ttlSeconds)
    }

    public init(_ p: Params) throws {
        self.init(
            lockId: try p.req("lock_id"), ownerSession: p.string("owner_session"), ttlSeconds: p.int("ttl_seconds"))
    }
}

/// What `lock.release` takes.
public struct LockReleaseInput: Sendable, Equatable {
    public static let forceDefault = false

    public var lockId: Int
    public var ownerSession: String?
    /// Root only: release a lock someone else owns.
    public var force: Bool

    public init(lockId: Int, ownerSession: String? = nil, force: Bool = Self.forceDefault) {
        (self.lockId, self.ownerSession, self.force) = (lockId, ownerSession, force)
    }

    public init(_ p: Params) throws {
        self.init(
            lockId: try p.req("lock_id"), ownerSession: p.string("owner_session"),
            force: p.bool("force") ?? Self.forceDefault)
    }
}

/// What `lock.list` takes.
public struct LockListInput: Sendable, Equatable {
    public static let stateDefault = "active"

    /// `active`, `released`, `expired` or `all`.
    public var state: String
    public var ownerSession: String?
    public var sessionId: Int?
    /// Locks overlapping this path.
    public var path: String?
    public var page: ListPage

    public init(
        state: String = Self.stateDefault, ownerSession: String? = nil, sessionId: Int? = nil,
        path: String? = nil, page: ListPage = ListPage()
    ) {
        (self.state, self.ownerSession, self.sessionId, self.path, self.page) =
            (state, ownerSession, sessionId, path, page)
    }

    public init(_ p: Params) {
        self.init(
            state: p.string("state") ?? Self.stateDefault, ownerSession: p.string("owner_session"),
            sessionId: p.int("session_id"), path: p.string("path"), page: ListPage(p))
    }
}
