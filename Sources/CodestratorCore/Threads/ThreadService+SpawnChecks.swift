/// The checks of a spawn's first validation half (`ThreadService.validateSpawn`), each on the read transaction's
/// rows, in the order their errors are reported.
extension ThreadService {
    static func activeSession(_ access: Access, _ id: Int?) throws -> SessionRecord {
        let s = try access.requireSession(id: id)
        guard s.status == .active else {
            throw CodestratorError(
                .invalidState, "session \(s.id) is \(s.status.rawValue)", expected: "an active session",
                field: "session_id")
        }
        return s
    }

    /// `agents_sdk_codex_mcp` (the seed's default runner) means "the Codex CLI with Codestrator as its MCP
    /// server": without a provider it picks codex (sim in a sim session, where the sim agent stands in for Codex),
    /// and with provider sim it runs the sim agent.
    static func providerAndRunner(_ input: ThreadSpawnInput, session s: SessionRecord) throws -> (String, String) {
        let codexRunner = input.runnerKind == "agents_sdk_codex_mcp"
        let provider =
            input.provider
            ?? (s.agentRole == "sim"
                ? "sim" : s.agentRole == "claude_code" && !codexRunner ? "claude_code" : "codex")
        var runner = input.runnerKind ?? Providers.defaultRunner(provider)
        if codexRunner && provider == "sim" { runner = Providers.defaultRunner(provider) }
        if runner != "command" && runner != Providers.defaultRunner(provider) {
            throw CodestratorError(
                .invalidParams, "runner_kind \(quoted(runner)) does not run provider \(quoted(provider))",
                expected: "\(Providers.defaultRunner(provider)) or command", field: "runner_kind")
        }
        if provider == "generic" && runner != "command" {
            throw CodestratorError(
                .invalidParams, "provider generic needs runner_kind command", expected: "runner_kind command",
                field: "runner_kind")
        }
        return (provider, runner)
    }

    /// A given parent is a thread of the session; the default is the session's root thread.
    static func parentThread(_ access: Access, _ given: Int?, session s: SessionRecord) throws -> Int {
        guard let pid = given else { return s.rootThreadId ?? 0 }
        let t = try access.thread(pid, field: "parent_thread_id")
        guard t.sessionId == s.id else {
            throw CodestratorError.notFound(
                "thread", pid, expected: "a thread of session \(s.id)", field: "parent_thread_id")
        }
        return pid
    }

    /// A given worktree is an active one of the session (its own or the session root).
    static func givenWorktree(_ tx: Tx, _ given: Int?, session s: SessionRecord) throws -> WorktreeRecord? {
        guard let wid = given else { return nil }
        guard let w = try WorktreeRecord.load(tx, wid), w.status == .active,
            w.ownerSessionId == s.id || w.id == s.sessionRootWorktreeId
        else {
            throw CodestratorError.notFound(
                "worktree", wid, expected: "an active worktree of session \(s.id)", field: "worktree_id")
        }
        return w
    }

    /// The scoped cases: cases of the session, and for a worker none held by another live thread.
    static func scopeCases(_ access: Access, _ ids: [Int], role: ThreadRole, session s: SessionRecord) throws
        -> [TaskRecord]
    {
        var cases: [TaskRecord] = []
        for cid in ids {
            let c = try access.task(cid, field: "scope_case_ids")
            guard c.sessionId == s.id else { throw CodestratorError.notFound("task", cid, field: "scope_case_ids") }
            guard c.level == .case else {
                throw CodestratorError(
                    .invalidParams, "task \(cid) is \(c.level.article) \(c.level.rawValue)", expected: "case ids",
                    field: "scope_case_ids")
            }
            if role == .worker, let a = c.assigneeThreadId, let other = try ThreadRecord.load(access.tx, a),
                other.role != .sessionRoot, other.status.isLive || other.status == .planned
            {
                throw CodestratorError(
                    .conflict, "case \(cid) is assigned to thread \(a) (\(other.status.rawValue))",
                    expected: "cases not held by another live thread", field: "scope_case_ids")
            }
            cases.append(c)
        }
        return cases
    }

    /// Scoped tasks belong to the session; scoped graph nodes exist.
    static func checkOtherScopes(_ access: Access, _ input: ThreadSpawnInput, session s: SessionRecord) throws {
        for tid in input.scopeTaskIds {
            let t = try access.task(tid, field: "scope_task_ids")
            guard t.sessionId == s.id else { throw CodestratorError.notFound("task", tid, field: "scope_task_ids") }
        }
        for nid in input.scopeNodeIds {
            guard try access.tx.int("SELECT id FROM graph_nodes WHERE id = ?", [nid]) != nil else {
                throw CodestratorError.notFound("graph node", nid, field: "scope_node_ids")
            }
        }
    }

    /// A spawn may lower the session's limit for itself, never raise it.
    static func capacity(_ given: Int?, session s: SessionRecord) throws -> Int {
        let capacity = given ?? s.maxConcurrentChildren
        if capacity > s.maxConcurrentChildren {
            throw CodestratorError(
                .invalidParams, "field \"max_concurrent_children\" is \(capacity)",
                expected: "at most the session's max_concurrent_children (\(s.maxConcurrentChildren))",
                field: "max_concurrent_children")
        }
        return capacity
    }
}
