/// Loading rows for a caller: a missing row, or a row of another session seen by a child role, is
/// `not_found` (docs/protocol-eras.md#errors, docs/protocol-eras.md#roles: nothing about other sessions leaks).
struct Access {
    let tx: Tx
    let caller: Caller

    func visible(_ sessionId: Int) -> Bool {
        !caller.isChild || caller.sessionId == sessionId
    }

    func session(_ id: Int, field: String = "session_id") throws -> SessionRecord {
        guard let s = try SessionRecord.load(tx, id), visible(s.id) else {
            throw CodestratorError.notFound(
                "session", id, expected: "the id of a session of this repository", field: field)
        }
        return s
    }

    /// The session a call acts on: `given` (the caller's `session_id`) for the root, the child's own session
    /// otherwise (a given value must equal it).
    func sessionParam(id given: Int?, field: String = "session_id") throws -> SessionRecord? {
        if caller.isChild {
            if let given, given != caller.sessionId {
                throw CodestratorError.notFound("session", given, expected: "your own session", field: field)
            }
            return try caller.sessionId.map { try session($0, field: field) }
        }
        guard let given else { return nil }
        return try session(given, field: field)
    }

    /// `sessionParam`, required: the root without a `session_id` gets the session of `root` when given.
    func requireSession(id given: Int?, field: String = "session_id", root: RootScope? = nil) throws -> SessionRecord {
        if let s = try sessionParam(id: given, field: field) { return s }
        if let root, !caller.isChild { return try root.resolve(tx, field: field) }
        throw CodestratorError(
            .invalidParams, "field \"\(field)\" is required", expected: ParamKind.id.expectation, field: field)
    }

    func task(_ id: Int, field: String = "task_id") throws -> TaskRecord {
        guard let t = try TaskRecord.load(tx, id), visible(t.sessionId) else {
            throw CodestratorError.notFound("task", id, field: field)
        }
        return t
    }

    func caseTask(_ id: Int, field: String = "case_id") throws -> TaskRecord {
        let t = try task(id, field: field)
        guard t.level == .case else {
            throw CodestratorError(
                .invalidParams, "task \(id) is \(t.level.article) \(t.level.rawValue)",
                expected: "the id of a case", field: field)
        }
        return t
    }

    func thread(_ id: Int, field: String = "thread_id") throws -> ThreadRecord {
        guard let t = try ThreadRecord.load(tx, id), visible(t.sessionId) else {
            throw CodestratorError.notFound("thread", id, field: field)
        }
        return t
    }

    /// The thread acting "as me": a child's own thread; for the root, `given` (the caller's `thread_id`, a
    /// thread of `session`), else the session's root thread.
    func actingThread(id given: Int?, session: SessionRecord, field: String = "thread_id") throws -> ThreadRecord {
        if caller.isChild {
            let own = caller.threadId ?? 0
            if let given, given != own {
                let other = try ThreadRecord.load(tx, given)
                if let other, other.sessionId == caller.sessionId {
                    throw CodestratorError(
                        .forbidden, "field \"\(field)\" names thread \(given), not this process's thread \(own)",
                        expected: "your own thread id or none", field: field)
                }
                throw CodestratorError.notFound("thread", given, field: field)
            }
            return try thread(own, field: field)
        }
        if let given {
            let t = try thread(given, field: field)
            guard t.sessionId == session.id else {
                throw CodestratorError(
                    .invalidParams, "thread \(given) belongs to session \(t.sessionId)",
                    expected: "a thread of session \(session.id)", field: field)
            }
            return t
        }
        guard let root = try ThreadRecord.load(tx, session.rootThreadId) else {
            throw CodestratorError.invalidState(
                "session \(session.id) has no root thread", expected: "a session opened with session.open")
        }
        return root
    }
}

/// The session a root call without `session_id` means (work.current_ref, resume.next): the one this
/// process opened or resumed last, else the one its terminal is bound to (RootBinding).
struct RootScope: Sendable {
    let mine: [Int]
    let identity: RootIdentity
    let repo: String
    var shared = false

    func resolve(_ tx: Tx, field: String) throws -> SessionRecord {
        if shared {
            throw CodestratorError(
                .invalidParams, "field \"\(field)\" is required: this server serves several clients (HTTP)",
                expected: "\(field) (session.open returns it; session.list lists them)", field: field)
        }
        for sid in mine.reversed() {
            if let s = try SessionRecord.load(tx, sid), s.status == .active, s.repoPath == repo { return s }
        }
        switch try RootBinding.find(tx, repo: repo, identity: identity) {
        case .session(let id, _):
            guard let s = try SessionRecord.load(tx, id) else { throw CodestratorError.notFound("session", id) }
            return s
        case .ambiguous(let ids):
            throw CodestratorError(
                .invalidParams,
                "field \"\(field)\" is required: sessions \(ids.map(String.init).joined(separator: ", ")) are open "
                    + "in this repository and nothing tells which one this root owns",
                expected: "\(field) (session.list shows each session's worktree and request), or "
                    + "session.open {intent: \"auto\"} to resume your own", field: field)
        case .none:
            throw CodestratorError(
                .invalidParams,
                "field \"\(field)\" is required: this server has not opened or resumed a session, "
                    + "and no open session is bound to this terminal",
                expected: "session.open {intent: \"auto\"} first (it resumes your session), or \(field) "
                    + "from session.list", field: field)
        }
    }
}

extension ServiceEnvironment {
    /// What a root call without `session_id` resolves through (RootScope).
    func rootScope() async -> RootScope {
        RootScope(mine: await heartbeats.sessionIds, identity: identity, repo: layout.root, shared: sharedByClients)
    }
}

/// `limit` / `offset` of list methods.
public enum CommonParams {
    public static let list: [ParamSpec] = [
        ParamSpec("limit", .int(min: 1, max: 500), default: .int(ListPage.limitDefault), doc: "page size"),
        ParamSpec(
            "offset", .int(min: 0, max: 1_000_000_000), default: .int(ListPage.offsetDefault), doc: "items to skip"),
    ]
}
