/// A row of `locks`; a lease that passed shows as `expired` even before a write marks it.
public struct LockRecord: Sendable {
    public var id: Int
    public var scopeType: String
    public var scopePath: String
    public var ownerSession: String
    public var sessionId: Int?
    public var threadId: Int?
    public var state: String
    public var ttlSeconds: Int
    public var reason: String?
    public var acquiredAt: String
    public var heartbeatAt: String
    public var leaseUntil: String
    public var releasedAt: String?

    public init(_ r: SQLRow) {
        id = r.int("id")
        scopeType = r.string("scope_type")
        scopePath = r.string("scope_path")
        ownerSession = r.string("owner_session")
        sessionId = r.optInt("session_id")
        threadId = r.optInt("thread_id")
        state = r.string("state")
        ttlSeconds = r.int("ttl_seconds")
        reason = r.optString("reason")
        acquiredAt = r.string("acquired_at")
        heartbeatAt = r.string("heartbeat_at")
        leaseUntil = r.string("lease_until")
        releasedAt = r.optString("released_at")
    }

    public static func load(_ tx: Tx, _ id: Int) throws -> LockRecord? {
        try tx.row("SELECT * FROM locks WHERE id = ?", [id]).map(LockRecord.init)
    }

    public func lapsed(now: String) -> Bool { state == "active" && leaseUntil <= now }

    public func json(now: String) -> JSON {
        .obj([
            "id": id, "scope_type": scopeType, "scope_path": scopePath, "owner_session": ownerSession,
            "session_id": sessionId, "thread_id": threadId, "state": lapsed(now: now) ? "expired" : state,
            "ttl_seconds": ttlSeconds, "reason": reason, "acquired_at": acquiredAt, "heartbeat_at": heartbeatAt,
            "lease_until": leaseUntil, "released_at": releasedAt,
        ])
    }

    /// "X under P": X = P, or X starts with P + `/`; `.` covers everything.
    static func under(_ x: String, _ p: String) -> Bool { p == "." || x == p || x.hasPrefix(p + "/") }

    /// The overlap rules of lock.acquire. `foldCase`: the repository lies on a case-insensitive file
    /// system, where `SECRET/key.txt` and `secret/key.txt` are one file.
    public static func overlaps(
        type a: String, path pa: String, type b: String, path pb: String, foldCase: Bool = false
    ) -> Bool {
        if foldCase { return overlaps(type: a, path: pa.lowercased(), type: b, path: pb.lowercased()) }
        switch (a, b) {
        case ("file", "file"): return pa == pb
        case ("file", _): return under(pa, pb)
        case (_, "file"): return under(pb, pa)
        default: return under(pa, pb) || under(pb, pa)
        }
    }
}
