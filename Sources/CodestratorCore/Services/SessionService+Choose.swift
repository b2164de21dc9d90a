import Foundation

/// session.open's first step: what to do — resume a session, start new work, or ask which stale session to
/// resume (docs/methods.md#sessionopen "Choosing what to do"). Reads only.
extension SessionService {
    enum Plan: Sendable {
        case resume(Int)
        case newWork
        case choose([Int])
    }

    func plan(_ input: SessionOpenInput, owner: String, fingerprint: String) async throws -> Plan {
        let repo = env.layout.root
        let caller = env.caller
        let mine = await env.heartbeats.sessionIds
        let identity = env.identity
        return try await env.store.read { tx in
            let access = Access(tx: tx, caller: caller)
            if let rid = input.requesterSessionId { try Self.checkRequester(access, rid, repo: repo) }
            if let sid = input.resumeSessionId {
                try Self.checkResumable(access, sid, repo: repo, fingerprint: fingerprint, mine: mine)
                return .resume(sid)
            }
            if input.intent == .newWork { return .newWork }
            if let sid = try Self.ownSession(
                tx, input, repo: repo, mine: mine, identity: identity, fingerprint: fingerprint)
            {
                return .resume(sid)
            }
            return try Self.amongStale(tx, input, repo: repo, owner: owner)
        }
    }

    /// `requester_session_id` must name an awaiting_resume session of this repository.
    static func checkRequester(_ access: Access, _ rid: Int, repo: String) throws {
        let r = try access.session(rid, field: "requester_session_id")
        guard r.status == .awaitingResume, r.repoPath == repo else {
            throw CodestratorError(
                .invalidState, "requester_session_id \(rid) is \(r.status.rawValue)",
                expected: "an awaiting_resume session of this repository", field: "requester_session_id")
        }
    }

    /// `resume_session_id` must name an active session of this repository that is stale or this terminal's.
    static func checkResumable(_ access: Access, _ sid: Int, repo: String, fingerprint: String, mine: [Int]) throws {
        let tx = access.tx
        let s = try access.session(sid, field: "resume_session_id")
        guard s.repoPath == repo, s.status == .active else {
            throw CodestratorError(
                .invalidState, "resume_session_id \(sid) is \(s.status.rawValue)",
                expected: "an active session of this repository", field: "resume_session_id")
        }
        guard s.isStale(now: tx.now) || s.terminalFingerprint == fingerprint || mine.contains(sid) else {
            throw CodestratorError(
                .invalidState,
                "session \(sid) is live (last heartbeat \(s.idleSeconds(now: tx.now)) s ago) and belongs to another terminal",
                expected: "a stale session, or one with your terminal_fingerprint", field: "resume_session_id")
        }
    }

    /// The session this root already has: the one its process heartbeats, the one its terminal is bound to, or
    /// the newest active one with its fingerprint.
    static func ownSession(
        _ tx: Tx, _ input: SessionOpenInput, repo: String, mine: [Int], identity: RootIdentity, fingerprint: String
    ) throws -> Int? {
        // The session this process already heartbeats (a compaction keeps the process).
        for sid in mine.reversed() {
            if let s = try SessionRecord.load(tx, sid), s.status == .active, s.repoPath == repo { return sid }
        }
        // The session this root's terminal is bound to (a restarted server, a shared daemon); with a new
        // request under `auto` the terminal may be starting other work, so only without one.
        if !input.hasSlugSource || input.intent == .resumeWork,
            case .session(let sid, _) = try RootBinding.find(tx, repo: repo, identity: identity)
        {
            return sid
        }
        return try tx.int(
            """
            SELECT id FROM sessions WHERE repo_path = ? AND status = 'active' AND terminal_fingerprint = ?
            ORDER BY last_seen_at DESC, id DESC LIMIT 1
            """, [repo, fingerprint])
    }

    /// Nothing of this root's own: under `auto` the owner's single stale session (without a new request) or new
    /// work; under `resume_work` the stale session, or the choice among several.
    static func amongStale(_ tx: Tx, _ input: SessionOpenInput, repo: String, owner: String) throws -> Plan {
        let stale = try tx.rows(
            "SELECT * FROM sessions WHERE repo_path = ? AND status = 'active' ORDER BY last_seen_at DESC, id DESC",
            [repo]
        ).map(SessionRecord.init).filter { $0.isStale(now: tx.now) }
        if input.intent == .auto {
            let ownerMatches = stale.filter { $0.owner == owner }
            if !input.hasSlugSource, ownerMatches.count == 1 { return .resume(ownerMatches[0].id) }
            return .newWork
        }
        switch stale.count {
        case 0:
            throw CodestratorError(
                .invalidState, "no resumable session in this repository", expected: "intent new_work or auto",
                field: "intent")
        case 1: return .resume(stale[0].id)
        default: return .choose(stale.map(\.id))
        }
    }
}
