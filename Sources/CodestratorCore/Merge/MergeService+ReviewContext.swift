import Foundation

/// merge.review_context: the merge request's rows, what git says about its branches, and the evidence of its
/// cases, in the order the method reference lists them.
extension MergeService {
    /// The merge request under review: its worktree, the target branch and the feature task, if any.
    struct ReviewSubject: Sendable {
        let mr: SQLRow
        let worktree: WorktreeRecord
        let target: String
        let feature: TaskRecord?
    }

    /// The branches, their merge base, the commits and the diff between them.
    struct ReviewChanges: Sendable {
        let source: String
        let sourceTip: String
        let targetTip: String
        let base: String
        let commits: [(String, String, String, String)]
        let stat: String
        let files: [JSON]
        let insertions: Int
        let deletions: Int
        let diff: String
        let diffBytes: Int
        let truncated: Bool
    }

    public func reviewContext(_ input: MergeReviewContextInput) async throws -> JSON {
        let id = input.mergeRequestId
        let subject = try await reviewSubject(id)
        let c = try await reviewChanges(subject, mergeRequestId: id, diffMaxBytes: input.diffMaxBytes)
        let (mr, feature) = (subject.mr, subject.feature)
        return try await env.store.read { tx in
            let (cases, checkpoints) = try Self.caseEvidence(
                tx, try Self.reviewedCases(tx, feature: feature, sessionId: mr.int("session_id")))
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
                "cases": JSON.array(cases), "checkpoints": JSON.object(checkpoints), "source_branch": c.source,
                "source_commit": c.sourceTip, "target_branch": subject.target, "target_commit": c.targetTip,
                "merge_base": c.base,
                "commits": JSON.array(
                    c.commits.prefix(200).map {
                        JSON.obj(["sha": $0.0, "subject": $0.1, "author": $0.2, "date": $0.3])
                    }
                ),
                "commits_truncated": c.commits.count > 200,
                "diff_stat": JSON.obj([
                    "files_changed": c.files.count, "insertions": c.insertions, "deletions": c.deletions,
                    "text": c.stat,
                ]),
                "changed_files": JSON.array(c.files), "diff": c.diff, "diff_truncated": c.truncated,
                "diff_bytes": c.diffBytes, "review_job": job.map(MergeShapes.reviewJob),
            ])
        }
    }

    /// The merge request as the caller may see it, and the branch it targets: its open queue item's, else the
    /// session's main branch.
    func reviewSubject(_ id: Int) async throws -> ReviewSubject {
        let caller = self.caller
        return try await env.store.read { tx in
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
            return ReviewSubject(
                mr: mr, worktree: w, target: target, feature: try TaskRecord.load(tx, mr.optInt("feature_task_id")))
        }
    }

    /// What the source branch adds to the target since their merge base.
    func reviewChanges(_ subject: ReviewSubject, mergeRequestId id: Int, diffMaxBytes: Int) async throws
        -> ReviewChanges
    {
        let repo = env.layout.root
        let git = env.git
        guard let source = subject.worktree.branch,
            let sourceTip = try await git.resolveCommit(repo: repo, rev: "refs/heads/" + source),
            let targetTip = try await git.resolveCommit(repo: repo, rev: "refs/heads/" + subject.target)
        else {
            throw CodestratorError(
                .invalidState, "a branch of merge request \(id) is missing", expected: "both branches present")
        }
        let base = try await git.mergeBase(repo: repo, targetTip, sourceTip) ?? targetTip
        let commits = try await git.log(repo: repo, range: "\(base)..\(sourceTip)", max: 201)
        let names = try await git.nameStatus(repo: repo, from: base, to: sourceTip)
        let counts = try await git.numstat(repo: repo, from: base, to: sourceTip)
        let stat = try await git.diffStat(repo: repo, from: base, to: sourceTip)
        let (diff, diffBytes, truncated) = try await git.diff(
            repo: repo, from: base, to: sourceTip, maxBytes: diffMaxBytes)
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
        return ReviewChanges(
            source: source, sourceTip: sourceTip, targetTip: targetTip, base: base, commits: commits, stat: stat,
            files: files, insertions: insertions, deletions: deletions, diff: diff, diffBytes: diffBytes,
            truncated: truncated)
    }

    /// The cases a review covers, as rows: those under the feature (or the feature itself when it is a case),
    /// else every case of the session.
    static func reviewedCases(_ tx: Tx, feature: TaskRecord?, sessionId: Int) throws -> [TaskRecord] {
        guard let feature else {
            return try tx.rows("SELECT * FROM tasks WHERE session_id = ? AND level = 'case' ORDER BY id", [sessionId])
                .map(TaskRecord.init)
        }
        var caseRows: [TaskRecord] = feature.level == .case ? [feature] : []
        var frontier = [feature.id]
        while !frontier.isEmpty {
            let kids = try tx.rows(
                "SELECT * FROM tasks WHERE parent_id IN (\(frontier.map { _ in "?" }.joined(separator: ","))) ORDER BY id",
                frontier.map { $0 as any SQLArgument }
            ).map(TaskRecord.init)
            caseRows += kids.filter { $0.level == .case }
            frontier = kids.filter { $0.level != .case }.map(\.id)
        }
        return caseRows
    }

    /// Each case with its steps and latest checkpoint, and the checkpoints by case id.
    static func caseEvidence(_ tx: Tx, _ caseRows: [TaskRecord]) throws -> ([JSON], JSONObject) {
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
        return (cases, checkpoints)
    }
}
