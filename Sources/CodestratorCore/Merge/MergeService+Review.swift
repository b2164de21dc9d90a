import Foundation

extension MergeService {
    // MARK: merge.review.request_auto

    public func requestAuto(_ input: MergeReviewRequestAutoInput) async throws -> JSON {
        let caller = self.caller
        let session = try await env.store.read { tx in
            try Access(tx: tx, caller: caller).requireSession(id: input.sessionId)
        }
        return try await dispatchReview(
            session: session, mergeRequestId: input.mergeRequestId, queueItemId: input.queueItemId,
            settings: input.reviewer, ttl: MergeAcquireLockInput.ttlSecondsDefault)
    }

    // MARK: merge.review.thread_status

    /// The review job `reviewJobId`, else the latest of merge request `mergeRequestId`.
    public func threadStatus(reviewJobId: Int?, mergeRequestId: Int?) async throws -> JSON {
        let caller = self.caller
        let jobRow: SQLRow? = try await env.store.read { tx in
            if let jid = reviewJobId {
                guard let j = try MergeShapes.job(tx, jid), Access(tx: tx, caller: caller).visible(j.int("session_id"))
                else {
                    throw CodestratorError.notFound("review job", jid, field: "review_job_id")
                }
                return j
            }
            guard let mid = mergeRequestId else {
                throw CodestratorError(
                    .invalidParams, "neither review_job_id nor merge_request_id is given", expected: "one of them",
                    field: "review_job_id")
            }
            guard let mr = try MergeShapes.mr(tx, mid), Access(tx: tx, caller: caller).visible(mr.int("session_id"))
            else {
                throw CodestratorError.notFound("merge request", mid, field: "merge_request_id")
            }
            return try tx.row("SELECT * FROM review_jobs WHERE merge_request_id = ? ORDER BY id DESC LIMIT 1", [mid])
        }
        guard let job = jobRow else {
            return .obj([
                "review_job": nil, "thread": nil, "thread_status": nil, "attach_info": nil, "verdict": nil,
                "findings": nil,
                "summary": nil,
            ])
        }
        let jobId = job.int("id")
        if let tid = job.optInt("reviewer_thread_id") {
            _ = try await ThreadObserver(env: env).observe([tid], capture: true)
        }
        let version = await env.tmux.version()
        return try await env.store.write { tx in
            var j = try MergeShapes.job(tx, jobId)!
            let t = try ThreadRecord.load(tx, j.optInt("reviewer_thread_id"))
            if try j.reviewJobState() == .running, let t, t.status.isTerminal || t.tmuxPaneId == nil {
                try Self.failReview(tx, jobId: jobId, reason: "reviewer ended without a verdict")
                j = try MergeShapes.job(tx, jobId)!
            }
            let s = try SessionRecord.load(tx, j.int("session_id"))
            return .obj([
                "review_job": MergeShapes.reviewJob(j), "thread": t?.json, "thread_status": t?.status.rawValue,
                "attach_info": t.map {
                    Viewer.attachInfo(
                        session: s?.tmuxSessionName, socket: s?.tmuxSocket, available: $0.tmuxPaneId != nil,
                        window: $0.tmuxWindowName, pane: $0.tmuxPaneId, tmuxVersion: version)
                },
                "verdict": j.optString("verdict"), "findings": j.json("findings"), "summary": j.optString("summary"),
            ])
        }
    }

    /// A review that ended without a verdict: job failed, merge request requested, item queued.
    static func failReview(_ tx: Tx, jobId: Int, reason: String) throws {
        guard let j = try MergeShapes.job(tx, jobId) else { return }
        try MergeShapes.move(
            tx, table: "review_jobs", column: "state", id: jobId, from: try j.reviewJobState(),
            to: ReviewJobState.failed,
            entity: "review job \(jobId)", extraSQL: ", failure_reason = ?, completed_at = ?", extra: [reason, tx.now])
        try tx.execute(
            "UPDATE merge_requests SET status = 'requested', updated_at = ? WHERE id = ? AND status = 'reviewing'",
            [tx.now, j.int("merge_request_id")])
        if let q = j.optInt("queue_item_id") {
            try tx.execute(
                "UPDATE merge_main_queue SET state = 'queued', updated_at = ? WHERE id = ? AND state = 'reviewing'",
                [tx.now, q])
        }
        tx.bumpVersion()
    }

    // MARK: merge.review.submit

    public func submit(_ input: MergeReviewSubmitInput) async throws -> JSON {
        let caller = self.caller
        let (verdict, summary) = (input.verdict, input.summary)
        let all = try Self.validatedFindings(input.findings, verdict: verdict, root: env.layout.root)
        return try await env.store.write { tx in
            let (job, jobState) = try Self.openReviewJob(tx, caller: caller, given: input.reviewJobId)
            let jobId = job.int("id")
            let submitter =
                caller.isChild ? caller.threadId : try SessionRecord.load(tx, job.int("session_id"))?.rootThreadId
            try MergeShapes.move(
                tx, table: "review_jobs", column: "state", id: jobId, from: jobState,
                to: ReviewJobState.completed,
                entity: "review job \(jobId)",
                extraSQL: ", verdict = ?, findings = ?, summary = ?, submitted_by_thread_id = ?, completed_at = ?",
                extra: [verdict, JSON.array(all), summary, submitter, tx.now])
            let mrId = job.int("merge_request_id")
            let itemJSON = try Self.applyVerdict(tx, verdict, job: job)
            if caller.isChild, let tid = caller.threadId {
                try Self.reviewerDone(
                    tx, threadId: tid, report: "[review] \(verdict) merge request \(mrId): \(summary)")
            }
            tx.bumpVersion()
            return .obj([
                "review_job": MergeShapes.reviewJob(try MergeShapes.job(tx, jobId)!),
                "merge_request": MergeShapes.mergeRequest(try MergeShapes.mr(tx, mrId)!), "queue_item": itemJSON,
                "verdict": verdict,
            ])
        }
    }

    /// The job a verdict is for: the given one, else a reviewer child's own running job (the root must name
    /// one). A child may submit only for its own job, and only while the job is open.
    static func openReviewJob(_ tx: Tx, caller: Caller, given: Int?) throws -> (SQLRow, ReviewJobState) {
        let job: SQLRow
        if let jid = given {
            guard let j = try MergeShapes.job(tx, jid), Access(tx: tx, caller: caller).visible(j.int("session_id"))
            else {
                throw CodestratorError.notFound("review job", jid, field: "review_job_id")
            }
            job = j
        } else if caller.isChild {
            guard
                let j = try tx.row(
                    "SELECT * FROM review_jobs WHERE reviewer_thread_id = ? AND state IN \(ReviewJobState.openSQL) ORDER BY id DESC LIMIT 1",
                    [caller.threadId ?? 0])
            else {
                throw CodestratorError(
                    .invalidState, "thread \(caller.threadId ?? 0) has no running review job",
                    expected: "review_job_id")
            }
            job = j
        } else {
            throw CodestratorError(
                .invalidParams, "field \"review_job_id\" is required", expected: ParamKind.id.expectation,
                field: "review_job_id")
        }
        let jobId = job.int("id")
        if caller.isChild && job.optInt("reviewer_thread_id") != caller.threadId {
            throw CodestratorError(
                .forbidden,
                "review job \(jobId) belongs to thread \(job.optInt("reviewer_thread_id").map(String.init) ?? "none")",
                expected: "your own review job", field: "review_job_id")
        }
        let jobState = try job.reviewJobState()
        guard jobState.isOpen else {
            throw CodestratorError(
                .invalidState, "review job \(jobId) is \(jobState.rawValue)",
                expected: "a requested or running job",
                field: "review_job_id")
        }
        return (job, jobState)
    }

    /// The verdict moves the merge request (approved or blocked) and its queue item, if they are still under
    /// review; returns the item as it is now (null without one).
    static func applyVerdict(_ tx: Tx, _ verdict: String, job: SQLRow) throws -> JSON {
        let mrId = job.int("merge_request_id")
        let mr = try MergeShapes.mr(tx, mrId)!
        let mrTo: MergeRequestStatus = verdict == "APPROVE" ? .approved : .blocked
        if try mr.mergeRequestStatus() == .reviewing {
            try MergeShapes.move(
                tx, table: "merge_requests", column: "status", id: mrId, from: MergeRequestStatus.reviewing,
                to: mrTo,
                entity: "merge request \(mrId)")
        }
        guard let qid = job.optInt("queue_item_id"), let item = try MergeShapes.item(tx, qid) else { return .null }
        if try item.queueItemState() == .reviewing {
            try MergeShapes.move(
                tx, table: "merge_main_queue", column: "state", id: qid, from: QueueItemState.reviewing,
                to: verdict == "APPROVE" ? QueueItemState.approved : QueueItemState.blocked,
                entity: "queue item \(qid)",
                extraSQL: verdict == "BLOCK" ? ", completed_at = ?" : "",
                extra: verdict == "BLOCK" ? [tx.now] : [])
        }
        return try MergeShapes.queueItem(tx, try MergeShapes.item(tx, qid)!)
    }

    /// A reviewer child that submitted is done: its thread completed, and the verdict reported to the root.
    static func reviewerDone(_ tx: Tx, threadId tid: Int, report: String) throws {
        guard let t = try ThreadRecord.load(tx, tid) else { return }
        if t.status != .completed, t.status.canMove(to: .completed) {
            try tx.execute(
                """
                UPDATE threads SET status = 'completed', status_source = 'review_submit', status_changed_at = ?,
                  completed_at = ?, updated_at = ? WHERE id = ?
                """, [tx.now, tx.now, tx.now, tid])
        }
        if let root = try SessionRecord.load(tx, t.sessionId)?.rootThreadId {
            try tx.insert(
                """
                INSERT INTO inbox_messages (session_id, sender_thread_id, receiver_thread_id, kind, message, status, created_at)
                VALUES (?, ?, ?, 'report', ?, 'pending', ?)
                """, [t.sessionId, tid, root, report, tx.now])
        }
    }

    /// The findings of a verdict, each checked and its file made repository-relative; BLOCK needs a
    /// blocking finding and APPROVE may have none.
    static func validatedFindings(_ given: [JSON], verdict: String, root: String) throws -> [JSON] {
        var findings: [JSON] = []
        var blocking = 0
        for (i, f) in given.enumerated() {
            guard case .object(let o) = f else {
                throw CodestratorError(
                    .invalidParams, "findings[\(i)] is \(f.typeName)", expected: "an object", field: "findings")
            }
            let (fp, _) = try ParamValidator.validate(
                o,
                specs: [
                    ParamSpec("findings[\(i)].file", .path),
                    ParamSpec("findings[\(i)].line", .int(min: 1, max: 100_000_000)),
                    ParamSpec(
                        "findings[\(i)].severity", .enumeration(["blocking", "warning", "info"]), required: true),
                    ParamSpec("findings[\(i)].message", .text(maxBytes: 4096), required: true),
                    ParamSpec("findings[\(i)].evidence", .text(maxBytes: 16_384)),
                ], prefixed: "findings[\(i)].")
            let file = try fp.string("findings[\(i)].file").map {
                try RepoPath.normalize($0, root: root, field: "findings[\(i)].file")
            }
            let severity = try fp.reqString("findings[\(i)].severity")
            if severity == "blocking" { blocking += 1 }
            findings.append(
                .obj([
                    "file": file, "line": fp.int("findings[\(i)].line"), "severity": severity,
                    "message": fp.string("findings[\(i)].message"), "evidence": fp.string("findings[\(i)].evidence"),
                ]))
        }
        if verdict == "BLOCK" && blocking == 0 {
            throw CodestratorError(
                .invalidParams, "verdict BLOCK has no blocking finding",
                expected: "at least one finding with severity blocking",
                field: "findings")
        }
        if verdict == "APPROVE" && blocking > 0 {
            throw CodestratorError(
                .invalidParams, "verdict APPROVE has \(blocking) blocking finding\(blocking == 1 ? "" : "s")",
                expected: "BLOCK, or no blocking findings", field: "verdict")
        }
        return findings
    }
}
