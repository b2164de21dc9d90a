/// orch_lifecycle: the current ref ("where am I") and its acknowledgement (docs/methods.md#orch_lifecycle--codestrator-current-ref-and-reports).
public struct LifecycleService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    public func currentRef(_ input: CurrentRefInput) async throws -> JSON {
        if let set = input.set { return try await writeRef(set, input) }
        try Self.refuseWriteFieldsWithoutSet(input)
        let caller = env.caller
        let scope = await env.rootScope()
        return try await env.store.read { tx in
            let access = Access(tx: tx, caller: caller)
            let session = try access.requireSession(id: input.sessionId, root: scope)
            let thread = try access.actingThread(id: input.threadId, session: session)
            let ref = try CurrentRefRecord.find(tx, sessionId: session.id, threadId: thread.id)
            return try Self.view(tx, session: session, thread: thread, ref: ref)
        }
    }

    /// `work.current_ref` with `set`: moves the caller's ref (a checkpoint first for a case or step node).
    func writeRef(_ set: CurrentRefSet, _ input: CurrentRefInput) async throws -> JSON {
        let caller = env.caller
        let scope = await env.rootScope()
        let files = try set.requiredFiles.map {
            JSON.array(
                try RepoPath.normalizeAll($0, root: env.layout.root, field: "set.required_files").map(JSON.string))
        }
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let session = try access.requireSession(id: input.sessionId, root: scope)
            let thread = try access.actingThread(id: input.threadId, session: session)
            let existing = try CurrentRefRecord.find(tx, sessionId: session.id, threadId: thread.id)
            if let expected = input.expectedVersion, expected != (existing?.version ?? 0) {
                throw CodestratorError(
                    .conflict,
                    "expected_version is \(expected) but the ref is at version \(existing?.version ?? 0)",
                    expected: "a fresh read first", field: "expected_version")
            }
            let task = try Self.checkNode(tx, access: access, session: session, type: set.nodeType, id: set.nodeId)
            var cp: Int?
            if let (c, step) = task {
                cp = try StepProgress.checkpoint(
                    tx, event: .currentRefSet, task: c, step: step, threadId: thread.id,
                    extra: .obj(["next_action": set.nextAction, "summary": set.summary]))
            }
            tx.bumpVersion()
            let ref = try StepProgress.moveRef(
                tx, sessionId: session.id, threadId: thread.id, nodeType: set.nodeType, nodeId: set.nodeId,
                checkpointId: cp, mode: set.mode, status: .active, nextAction: set.nextAction,
                summary: set.summary, requiredFiles: files ?? .array([]), clearAck: true)
            return try Self.view(tx, session: session, thread: thread, ref: ref).merging(["written": true])
        }
    }

    /// Without `set` the call only reads: fields of `set` sent flat, or `expected_version`, mean a write was
    /// meant, so answering with a read would hide it.
    static func refuseWriteFieldsWithoutSet(_ input: CurrentRefInput) throws {
        let flat = input.flatSetFields
        if !flat.isEmpty {
            throw CodestratorError(
                .invalidParams,
                "\(flat.map { "\"\($0)\"" }.joined(separator: ", ")) \(flat.count == 1 ? "is a field" : "are fields") "
                    + "of set; without set this call only reads",
                expected: "work.current_ref {set: {node_type, node_id, next_action, summary}} to write the ref, "
                    + "or none of those fields to read it", field: flat[0])
        }
        if input.expectedVersion != nil {
            throw CodestratorError(
                .invalidParams, "field \"expected_version\" is given without set",
                expected: "expected_version only with set",
                field: "expected_version")
        }
    }

    /// A ref's node must be an existing row of that kind in the session; returns the case (and step)
    /// for a case or step node.
    static func checkNode(_ tx: Tx, access: Access, session: SessionRecord, type: String, id: Int) throws
        -> (TaskRecord, StepRecord?)?
    {
        let field = "set.node_id"
        switch type {
        case "step":
            guard let step = try StepRecord.load(tx, id), let c = try TaskRecord.load(tx, step.taskId),
                c.sessionId == session.id
            else {
                throw CodestratorError.notFound("step", id, expected: "a step of session \(session.id)", field: field)
            }
            return (c, step)
        case "graph_node":
            guard try tx.int("SELECT id FROM graph_nodes WHERE id = ?", [id]) != nil else {
                throw CodestratorError.notFound("graph node", id, field: field)
            }
            return nil
        default:
            guard let t = try TaskRecord.load(tx, id), t.sessionId == session.id, t.level.rawValue == type else {
                throw CodestratorError.notFound(
                    type, id, expected: "the id of \(type == "epic" ? "an" : "a") \(type) of session \(session.id)",
                    field: field)
            }
            return t.level == .case ? (t, nil) : nil
        }
    }

    /// `{source, current_ref, task, next_step, checkpoint}`: from the ref when there is one, else from
    /// resume.next in the same scope.
    static func view(_ tx: Tx, session: SessionRecord, thread: ThreadRecord, ref: CurrentRefRecord?) throws -> JSON {
        if let ref {
            var task: TaskRecord?
            if ref.nodeType == "case" {
                task = try TaskRecord.load(tx, ref.nodeId)
            } else if ref.nodeType == "step", let s = try StepRecord.load(tx, ref.nodeId) {
                task = try TaskRecord.load(tx, s.taskId)
            }
            let steps = try task.map { try StepRecord.all(tx, caseId: $0.id) } ?? []
            return .obj([
                "source": "current_refs", "current_ref": ref.json, "task": try task?.json(tx),
                "next_step": StepProgress.nextStep(steps)?.json,
                "checkpoint": try task.flatMap { try CheckpointRecord.latest(tx, taskId: $0.id) }?.json,
            ])
        }
        let scoped = thread.role == .sessionRoot ? nil : thread
        guard let task = try TaskService.chooseCase(tx, sessionId: session.id, thread: scoped) else {
            return .obj(["source": "none", "current_ref": nil, "task": nil, "next_step": nil, "checkpoint": nil])
        }
        let steps = try StepRecord.all(tx, caseId: task.id)
        return .obj([
            "source": "resume.next", "current_ref": nil, "task": try task.json(tx),
            "next_step": StepProgress.nextStep(steps)?.json,
            "checkpoint": try CheckpointRecord.latest(tx, taskId: task.id)?.json,
        ])
    }

    public func ack(_ input: CurrentRefAckInput) async throws -> JSON {
        let caller = env.caller
        return try await env.store.write { tx in
            let access = Access(tx: tx, caller: caller)
            let refId = input.refId
            let session: SessionRecord
            if caller.isChild || input.sessionId != nil {
                session = try access.requireSession(id: input.sessionId)
            } else if let ref = try CurrentRefRecord.load(tx, refId) {
                session = try access.session(ref.sessionId, field: "ref_id")  // a root acks in the ref's session
            } else {
                throw CodestratorError.notFound("current ref", refId, field: "ref_id")
            }
            guard let ref = try CurrentRefRecord.load(tx, refId), ref.sessionId == session.id else {
                throw CodestratorError.notFound(
                    "current ref", refId, expected: "a ref of session \(session.id)", field: "ref_id")
            }
            if caller.isChild && ref.threadId != caller.threadId {
                throw CodestratorError(
                    .forbidden, "ref \(refId) belongs to thread \(ref.threadId)", expected: "your own ref",
                    field: "ref_id")
            }
            let version = input.version ?? ref.version
            guard version == ref.version else {
                throw CodestratorError(
                    .conflict, "version is \(version) but ref \(refId) is at version \(ref.version)",
                    expected: "the ref's current version", field: "version")
            }
            try tx.execute(
                "UPDATE current_refs SET acked_version = ?, acked_at = ? WHERE id = ?", [version, tx.now, ref.id])
            return try CurrentRefRecord.load(tx, ref.id)!.json
        }
    }
}
