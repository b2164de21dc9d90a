import Foundation

extension MergeService {
    // MARK: merge.review_context

    public func reviewContext(_ input: MergeReviewContextInput) async throws -> JSON {
        let caller = self.caller
        let repo = env.layout.root
        let id = input.mergeRequestId
        let (mr, worktree, target, feature): (SQLRow, WorktreeRecord, String, TaskRecord?) = try await env.store.read {
            tx in
            guard let mr = try MergeShapes.mr(tx, id), Access(tx: tx, caller: caller).visible(mr.int("session_id"))
            else {
                throw CodestratorError.notFound("merge request", id, field: "merge_request_id")
            }
            let w = try WorktreeRecord.load(tx, mr.int("worktree_id"))!
            let item = try tx.row(
                "SELECT target_branch FROM merge_main_queue WHERE merge_request_id = ? AND state IN \(Self.openItem) ORDER BY id DESC LIMIT 1",
                [id])
            let sessionMain = try SessionRecord.load(tx, mr.int("session_id"))?.mainBranch
            guard let target = item?.string("target_branch") ?? sessionMain else {
                throw CodestratorError(
                    .invalidState, "merge request \(id) has no target branch",
                    expected: "merge.main.request with target_branch first")
            }
            return (mr, w, target, try TaskRecord.load(tx, mr.optInt("feature_task_id")))
        }
        guard let source = worktree.branch,
            let sourceTip = try await env.git.resolveCommit(repo: repo, rev: "refs/heads/" + source),
            let targetTip = try await env.git.resolveCommit(repo: repo, rev: "refs/heads/" + target)
        else {
            throw CodestratorError(
                .invalidState, "a branch of merge request \(id) is missing", expected: "both branches present")
        }
        let git = env.git
        let base = try await git.mergeBase(repo: repo, targetTip, sourceTip) ?? targetTip
        let commits = try await git.log(repo: repo, range: "\(base)..\(sourceTip)", max: 201)
        let names = try await git.nameStatus(repo: repo, from: base, to: sourceTip)
        let counts = try await git.numstat(repo: repo, from: base, to: sourceTip)
        let stat = try await git.diffStat(repo: repo, from: base, to: sourceTip)
        let (diff, diffBytes, truncated) = try await git.diff(
            repo: repo, from: base, to: sourceTip, maxBytes: input.diffMaxBytes)
        var insertions = 0
        var deletions = 0
        let files: [JSON] = names.map { (st, path, old) in
            let c = counts[path]
            insertions += c?.0 ?? 0
            deletions += c?.1 ?? 0
            return .obj([
                "path": path, "status": st, "old_path": old, "insertions": c?.0, "deletions": c?.1,
                "binary": c != nil && c!.0 == nil,
            ])
        }
        let (ins, del) = (insertions, deletions)
        return try await env.store.read { tx in
            var caseRows: [TaskRecord] = []
            if let feature {
                var frontier = [feature.id]
                if feature.level == .case { caseRows = [feature] }
                while !frontier.isEmpty {
                    let kids = try tx.rows(
                        "SELECT * FROM tasks WHERE parent_id IN (\(frontier.map { _ in "?" }.joined(separator: ","))) ORDER BY id",
                        frontier.map { $0 as any SQLArgument }
                    ).map(TaskRecord.init)
                    caseRows += kids.filter { $0.level == .case }
                    frontier = kids.filter { $0.level != .case }.map(\.id)
                }
            } else {
                caseRows = try tx.rows(
                    "SELECT * FROM tasks WHERE session_id = ? AND level = 'case' ORDER BY id", [mr.int("session_id")]
                ).map(TaskRecord.init)
            }
            var cases: [JSON] = []
            var checkpoints = JSONObject()
            for c in caseRows {
                let cp = try CheckpointRecord.latest(tx, taskId: c.id)?.json
                cases.append(
                    .obj([
                        "task": try c.json(tx), "steps": try StepRecord.all(tx, caseId: c.id).map(\.json),
                        "latest_checkpoint": cp,
                    ]))
                checkpoints[String(c.id)] = cp ?? .null
            }
            let children =
                try feature.map {
                    try tx.rows("SELECT * FROM tasks WHERE parent_id = ? ORDER BY id", [$0.id]).map {
                        try TaskRecord($0).json(tx)
                    }
                } ?? []
            let job = try tx.row("SELECT * FROM review_jobs WHERE merge_request_id = ? ORDER BY id DESC LIMIT 1", [id])
            return .obj([
                "merge_request": MergeShapes.mergeRequest(mr), "feature": try feature?.json(tx),
                "children": JSON.array(children),
                "cases": JSON.array(cases), "checkpoints": JSON.object(checkpoints), "source_branch": source,
                "source_commit": sourceTip, "target_branch": target, "target_commit": targetTip, "merge_base": base,
                "commits": JSON.array(
                    commits.prefix(200).map { JSON.obj(["sha": $0.0, "subject": $0.1, "author": $0.2, "date": $0.3]) }),
                "commits_truncated": commits.count > 200,
                "diff_stat": JSON.obj(["files_changed": files.count, "insertions": ins, "deletions": del, "text": stat]
                ),
                "changed_files": JSON.array(files), "diff": diff, "diff_truncated": truncated, "diff_bytes": diffBytes,
                "review_job": job.map(MergeShapes.reviewJob),
            ])
        }
    }

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
            let job: SQLRow
            if let jid = input.reviewJobId {
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
            let submitter =
                caller.isChild ? caller.threadId : try SessionRecord.load(tx, job.int("session_id"))?.rootThreadId
            try MergeShapes.move(
                tx, table: "review_jobs", column: "state", id: jobId, from: jobState,
                to: ReviewJobState.completed,
                entity: "review job \(jobId)",
                extraSQL: ", verdict = ?, findings = ?, summary = ?, submitted_by_thread_id = ?, completed_at = ?",
                extra: [verdict, JSON.array(all), summary, submitter, tx.now])
            let mrId = job.int("merge_request_id")
            let mr = try MergeShapes.mr(tx, mrId)!
            let mrTo: MergeRequestStatus = verdict == "APPROVE" ? .approved : .blocked
            if try mr.mergeRequestStatus() == .reviewing {
                try MergeShapes.move(
                    tx, table: "merge_requests", column: "status", id: mrId, from: MergeRequestStatus.reviewing,
                    to: mrTo,
                    entity: "merge request \(mrId)")
            }
            var itemJSON: JSON = .null
            if let qid = job.optInt("queue_item_id"), let item = try MergeShapes.item(tx, qid) {
                if try item.queueItemState() == .reviewing {
                    try MergeShapes.move(
                        tx, table: "merge_main_queue", column: "state", id: qid, from: QueueItemState.reviewing,
                        to: verdict == "APPROVE" ? QueueItemState.approved : QueueItemState.blocked,
                        entity: "queue item \(qid)",
                        extraSQL: verdict == "BLOCK" ? ", completed_at = ?" : "",
                        extra: verdict == "BLOCK" ? [tx.now] : [])
                }
                itemJSON = try MergeShapes.queueItem(tx, try MergeShapes.item(tx, qid)!)
            }
            if caller.isChild, let tid = caller.threadId, let t = try ThreadRecord.load(tx, tid) {
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
                        """, [t.sessionId, tid, root, "[review] \(verdict) merge request \(mrId): \(summary)", tx.now])
                }
            }
            tx.bumpVersion()
            return .obj([
                "review_job": MergeShapes.reviewJob(try MergeShapes.job(tx, jobId)!),
                "merge_request": MergeShapes.mergeRequest(try MergeShapes.mr(tx, mrId)!), "queue_item": itemJSON,
                "verdict": verdict,
            ])
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
