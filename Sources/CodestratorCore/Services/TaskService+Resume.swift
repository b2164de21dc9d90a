import Foundation

/// resume.next and the resume candidates of orch_task: where a session (or a thread) picks its work up again.
extension TaskService {
    // MARK: resume.next

    public func resumeNext(sessionId: Int?, threadId: Int?) async throws -> JSON {
        let caller = self.caller
        let scope = await env.rootScope()
        return try await env.store.read { tx in
            let access = Access(tx: tx, caller: caller)
            let session = try access.requireSession(id: sessionId, root: scope)
            var thread: ThreadRecord?
            if caller.isChild || threadId != nil {
                thread = try access.actingThread(id: threadId, session: session)
            }
            return try Self.resumeView(tx, session: session, thread: thread)
        }
    }

    static func resumeView(_ tx: Tx, session: SessionRecord, thread: ThreadRecord?) throws -> JSON {
        let task = try chooseCase(tx, sessionId: session.id, thread: thread)
        let steps = try task.map { try StepRecord.all(tx, caseId: $0.id) } ?? []
        let refThread = thread?.id ?? session.rootThreadId
        let ref = try refThread.flatMap { try CurrentRefRecord.find(tx, sessionId: session.id, threadId: $0) }
        return .obj([
            "task": try task?.json(tx), "steps": steps.map(\.json), "next_step": StepProgress.nextStep(steps)?.json,
            "checkpoint": try task.flatMap { try CheckpointRecord.latest(tx, taskId: $0.id) }?.json,
            "current_ref": ref?.json, "scope": JSON.obj(["session_id": session.id, "thread_id": thread?.id]),
        ])
    }

    // MARK: resume.candidates.list / attach

    /// resume.candidates.list: stale sessions of this repository but `requesterSessionId`'s.
    public func candidatesList(requesterSessionId exclude: Int?, heartbeatTimeoutSeconds timeout: Int?) async throws
        -> JSON
    {
        let repo = env.layout.root
        return try await env.store.read { tx in
            if let exclude, try SessionRecord.load(tx, exclude) == nil {
                throw CodestratorError.notFound("session", exclude, field: "requester_session_id")
            }
            let sessions = try tx.rows(
                "SELECT * FROM sessions WHERE repo_path = ? AND status = 'active' ORDER BY last_seen_at DESC, id DESC",
                [repo]
            ).map(SessionRecord.init).filter { $0.id != exclude && $0.isStale(now: tx.now, timeoutOverride: timeout) }
            let list = try sessions.map { try SessionContextBuilder.candidate(tx, session: $0) }
            return .obj(["resume_candidates": JSON.array(list), "count": list.count])
        }
    }

    public func candidatesAttach(_ input: ResumeCandidatesAttachInput) async throws -> JSON {
        let repo = env.layout.root
        let target = input.targetSessionId
        let requester = input.requesterSessionId
        let timeout = input.heartbeatTimeoutSeconds
        let force = input.force
        try await env.store.read { tx in
            guard let s = try SessionRecord.load(tx, target), s.repoPath == repo else {
                throw CodestratorError.notFound("session", target, field: "target_session_id")
            }
            guard s.status == .active else {
                throw CodestratorError(
                    .invalidState, "session \(target) is \(s.status.rawValue)", expected: "an active session",
                    field: "target_session_id")
            }
            if !force && !s.isStale(now: tx.now, timeoutOverride: timeout) {
                throw CodestratorError(
                    .invalidState, "session \(target) is live (last heartbeat \(s.idleSeconds(now: tx.now)) s ago)",
                    expected: "a stale session, or force:true", field: "target_session_id")
            }
            if let requester {
                guard let r = try SessionRecord.load(tx, requester), r.repoPath == repo else {
                    throw CodestratorError.notFound("session", requester, field: "requester_session_id")
                }
                guard r.status == .awaitingResume else {
                    throw CodestratorError(
                        .invalidState, "requester_session_id \(requester) is \(r.status.rawValue)",
                        expected: "an awaiting_resume session of this repository", field: "requester_session_id")
                }
            }
        }
        let fingerprint = TerminalFingerprint.derive()
        let opened = try await SessionService(env: env).resume(
            sessionId: target, requester: requester, fingerprint: fingerprint)
        return .obj([
            "session_context": opened["session_context"], "resumed": true, "superseded_session_id": requester,
        ])
    }
}
