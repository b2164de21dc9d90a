import Foundation

/// orch_workspace, path locks: advisory leases that hold across processes (docs/methods.md#orch_workspace--codestrator-worktrees-and-locks). Each
/// acquisition is one `BEGIN IMMEDIATE` transaction, so two owners never hold overlapping active
/// leases.
public struct LockService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    static let ownerPattern: Set<Character> = Set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:._@-")

    /// The owner of a call: `thread:<id>` for children (another name is forbidden); `given` for the root.
    func owner(_ given: String?, requiredForRoot: Bool = true) throws -> String? {
        if env.caller.isChild {
            let own = "thread:\(env.caller.threadId ?? 0)"
            if let given, given != own {
                throw CodestratorError(
                    .forbidden, "owner_session \(quoted(given)) is not this thread", expected: "\(own) or none",
                    field: "owner_session")
            }
            return own
        }
        guard let given else {
            if requiredForRoot {
                throw CodestratorError(
                    .invalidParams, "field \"owner_session\" is required", expected: "an owner name such as session:3",
                    field: "owner_session")
            }
            return nil
        }
        guard given.allSatisfy({ Self.ownerPattern.contains($0) }) else {
            throw CodestratorError(
                .invalidParams, "field \"owner_session\" is \(quoted(given))",
                expected: "a name of letters, digits and :._@-", field: "owner_session")
        }
        return given
    }

    static func lease(_ now: String, plus seconds: Int) -> String {
        Timestamp.format((Timestamp.parse(now) ?? Date()).addingTimeInterval(TimeInterval(seconds)))
    }

    public func acquire(_ input: LockAcquireInput) async throws -> JSON {
        let caller = env.caller
        let owner = try owner(input.ownerSession)!
        let type = input.scopeType
        let raw = input.scopePath
        if raw == "." && type == "file" {
            throw CodestratorError(
                .invalidParams, "scope_path \".\" is the whole repository", expected: "scope_type prefix for \".\"",
                field: "scope_path")
        }
        let path = try LockPath.normalize(raw, root: env.layout.root)
        if path == "." && type == "file" {
            throw CodestratorError(
                .invalidParams, "scope_path \(quoted(raw)) names a whole worktree", expected: "scope_type prefix",
                field: "scope_path")
        }
        let ttl = input.ttlSeconds
        let foldCase = LockPath.caseInsensitive(root: env.layout.root)
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let session = try access.sessionParam(id: input.sessionId)
            try tx.execute(
                "UPDATE locks SET state = 'expired' WHERE state = 'active' AND lease_until <= ?", [tx.now])
            let until = Self.lease(tx.now, plus: ttl)
            if let mine = try tx.row(
                "SELECT * FROM locks WHERE state = 'active' AND owner_session = ? AND scope_type = ? AND scope_path = ?",
                [owner, type, path]
            ).map(LockRecord.init) {
                try tx.execute(
                    "UPDATE locks SET lease_until = ?, heartbeat_at = ?, ttl_seconds = ?, reason = COALESCE(?, reason) WHERE id = ?",
                    [until, tx.now, ttl, input.reason, mine.id])
                return try LockRecord.load(tx, mine.id)!.json(now: tx.now).merging(["reentered": true])
            }
            let others = try tx.rows("SELECT * FROM locks WHERE state = 'active' AND owner_session <> ?", [owner])
                .map(LockRecord.init)
            if let c = others.first(where: {
                LockRecord.overlaps(
                    type: type, path: path, type: $0.scopeType, path: $0.scopePath, foldCase: foldCase)
            }) {
                throw CodestratorError(
                    .conflict,
                    "\(path) overlaps lock \(c.id) (\(c.scopeType) \(quoted(c.scopePath))) held by \(c.ownerSession) until \(c.leaseUntil)",
                    expected: "a path no other owner holds", field: "scope_path",
                    context: ["conflicting_lock": c.json(now: tx.now)])
            }
            let id = try tx.insert(
                """
                INSERT INTO locks (scope_type, scope_path, owner_session, session_id, thread_id, state, ttl_seconds, reason,
                  acquired_at, heartbeat_at, lease_until)
                VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?)
                """,
                [
                    type, path, owner, session?.id, caller.isChild ? caller.threadId : nil, ttl, input.reason,
                    tx.now, tx.now, until,
                ])
            tx.bumpVersion()
            return try LockRecord.load(tx, id)!.json(now: tx.now).merging(["reentered": false])
        }
    }

    /// Lock `id` for its owner `ownerSession`, or for the root with `force`.
    func lockForOwner(_ tx: Tx, id: Int, ownerSession: String?, force: Bool) throws -> LockRecord {
        guard let l = try LockRecord.load(tx, id) else { throw CodestratorError.notFound("lock", id, field: "lock_id") }
        if env.caller.isChild, let s = l.sessionId, s != env.caller.sessionId {
            throw CodestratorError.notFound("lock", id, field: "lock_id")
        }
        if force && env.caller.isChild {
            throw CodestratorError(.forbidden, "force is for the root only", expected: "force:false", field: "force")
        }
        if !force {
            let owner = try owner(ownerSession)!
            guard owner == l.ownerSession else {
                throw CodestratorError(
                    .forbidden, "lock \(id) is held by \(l.ownerSession), not \(owner)", expected: "a lock you own",
                    field: "lock_id")
            }
        }
        return l
    }

    public func heartbeat(_ input: LockHeartbeatInput) async throws -> JSON {
        try await env.store.write { tx in
            let l = try lockForOwner(tx, id: input.lockId, ownerSession: input.ownerSession, force: false)
            guard l.state == "active", !l.lapsed(now: tx.now) else {
                throw CodestratorError(
                    .invalidState, "lock \(l.id) expired at \(l.leaseUntil)", expected: "lock.acquire again",
                    field: "lock_id")
            }
            let ttl = input.ttlSeconds ?? l.ttlSeconds
            try tx.execute(
                "UPDATE locks SET lease_until = ?, heartbeat_at = ?, ttl_seconds = ? WHERE id = ?",
                [Self.lease(tx.now, plus: ttl), tx.now, ttl, l.id])
            return try LockRecord.load(tx, l.id)!.json(now: tx.now)
        }
    }

    public func release(_ input: LockReleaseInput) async throws -> JSON {
        let forced = input.force && !env.caller.isChild
        if !forced, !env.caller.isChild, input.ownerSession == nil {
            throw CodestratorError(
                .invalidParams, "field \"owner_session\" is required", expected: "the owner name, or force:true",
                field: "owner_session")
        }
        return try await env.store.write { tx in
            let l = try lockForOwner(
                tx, id: input.lockId, ownerSession: input.ownerSession, force: input.force)
            guard l.state == "active" else {
                throw CodestratorError(
                    .invalidState, "lock \(l.id) is \(l.state)", expected: "an active lock", field: "lock_id")
            }
            try tx.execute("UPDATE locks SET state = 'released', released_at = ? WHERE id = ?", [tx.now, l.id])
            tx.bumpVersion()
            return try LockRecord.load(tx, l.id)!.json(now: tx.now)
        }
    }

    /// A repository-wide read: children see every session's locks; `session_id` only filters.
    public func list(_ input: LockListInput) async throws -> JSON {
        let path = try input.path.map { try LockPath.normalize($0, root: env.layout.root, field: "path") }
        let state = input.state
        let owner = input.ownerSession
        let session = input.sessionId
        let foldCase = LockPath.caseInsensitive(root: env.layout.root)
        return try await env.store.read { tx in
            if let session, try SessionRecord.load(tx, session) == nil {
                throw CodestratorError.notFound("session", session, field: "session_id")
            }
            var all = try tx.rows("SELECT * FROM locks ORDER BY id").map(LockRecord.init)
            all = all.filter { l in
                let shown = l.lapsed(now: tx.now) ? "expired" : l.state
                if state != "all" && shown != state { return false }
                if let owner, l.ownerSession != owner { return false }
                if let session, l.sessionId != session { return false }
                if let path,
                    !LockRecord.overlaps(
                        type: "prefix", path: path, type: l.scopeType, path: l.scopePath, foldCase: foldCase)
                {
                    return false
                }
                return true
            }
            let page = Array(all.dropFirst(input.page.offset).prefix(input.page.limit))
            return .obj([
                "locks": JSON.array(page.map { $0.json(now: tx.now) }), "count": page.count, "total": all.count,
            ])
        }
    }
}
