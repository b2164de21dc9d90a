/// The inputs of orch_merge's methods: each decoded once from the validated `Params` at the MCP edge (the
/// registry has filled in the defaults, declared from the constants here), or built directly by a caller inside
/// the core or a test.

/// `merge.request`: what is to be reviewed, a task and a worktree.
public struct MergeRequestInput: Sendable, Equatable {
    public var featureTaskId: Int
    /// Must be the task's session when given.
    public var sessionId: Int?
    /// Default: the session root.
    public var worktreeId: Int?
    public var reviewerSession: String?
    public var notes: JSON?

    public init(featureTaskId: Int, sessionId: Int? = nil, worktreeId: Int? = nil) {
        (self.featureTaskId, self.sessionId, self.worktreeId) = (featureTaskId, sessionId, worktreeId)
    }

    public init(_ p: Params) throws {
        self.init(
            featureTaskId: try p.req("feature_task_id"), sessionId: p.int("session_id"),
            worktreeId: p.int("worktree_id"))
        reviewerSession = p.string("reviewer_session")
        notes = p.json("notes_json")
    }
}

/// `merge.review_context`.
public struct MergeReviewContextInput: Sendable, Equatable {
    public static let diffMaxBytesDefault = 204_800

    public var mergeRequestId: Int
    public var diffMaxBytes: Int

    public init(mergeRequestId: Int, diffMaxBytes: Int = Self.diffMaxBytesDefault) {
        (self.mergeRequestId, self.diffMaxBytes) = (mergeRequestId, diffMaxBytes)
    }

    public init(_ p: Params) throws {
        self.init(
            mergeRequestId: try p.req("merge_request_id"),
            diffMaxBytes: p.int("diff_max_bytes") ?? Self.diffMaxBytesDefault)
    }
}

/// `merge.review.request_auto`: the reviewer's settings pass through to its spawn.
public struct MergeReviewRequestAutoInput: Sendable {
    public static let reviewerRoleDefault = "merge-reviewer"

    public var sessionId: Int
    public var mergeRequestId: Int
    public var queueItemId: Int?
    public var reviewer: ReviewerSettings

    public init(sessionId: Int, mergeRequestId: Int, queueItemId: Int? = nil, reviewer: ReviewerSettings = .init()) {
        (self.sessionId, self.mergeRequestId, self.queueItemId) = (sessionId, mergeRequestId, queueItemId)
        self.reviewer = reviewer
    }

    public init(_ p: Params) throws {
        self.init(
            sessionId: try p.req("session_id"), mergeRequestId: try p.req("merge_request_id"),
            queueItemId: p.int("queue_item_id"), reviewer: ReviewerSettings(p))
    }
}

/// `merge.review.submit`: a verdict with its findings (each finding is checked by the service).
public struct MergeReviewSubmitInput: Sendable, Equatable {
    /// Default for a reviewer child: its own running job; the root must name one.
    public var reviewJobId: Int?
    /// `APPROVE` or `BLOCK` (upper-cased by validation).
    public var verdict: String
    public var summary: String
    public var findings: [JSON]

    public init(reviewJobId: Int? = nil, verdict: String, summary: String, findings: [JSON] = []) {
        (self.reviewJobId, self.verdict, self.summary, self.findings) = (reviewJobId, verdict, summary, findings)
    }

    public init(_ p: Params) throws {
        self.init(
            reviewJobId: p.int("review_job_id"), verdict: try p.reqString("verdict"),
            summary: try p.reqString("summary"), findings: p.json("findings")?.arrayValue ?? [])
    }
}

/// `merge.main.request`: a session root queued for merging into the target branch.
public struct MergeMainRequestInput: Sendable, Equatable {
    public static let autoReviewDefault = true
    public static let reviewerRoleDefault = MergeReviewRequestAutoInput.reviewerRoleDefault

    public var sessionId: Int
    /// Default: the session root.
    public var fromWorktreeId: Int?
    /// Default: the session's main branch.
    public var targetBranch: String?
    /// Default: the one open merge request of the session root, else a new one.
    public var mergeRequestId: Int?
    public var autoReview = Self.autoReviewDefault
    public var reviewerRole = Self.reviewerRoleDefault
    public var agentGuidePath: String?
    public var provider: String?
    public var agentOverride: JSON?

    public init(sessionId: Int, fromWorktreeId: Int? = nil, targetBranch: String? = nil, mergeRequestId: Int? = nil) {
        (self.sessionId, self.fromWorktreeId) = (sessionId, fromWorktreeId)
        (self.targetBranch, self.mergeRequestId) = (targetBranch, mergeRequestId)
    }

    public init(_ p: Params) throws {
        self.init(
            sessionId: try p.req("session_id"), fromWorktreeId: p.int("from_worktree_id"),
            targetBranch: p.string("target_branch"), mergeRequestId: p.int("merge_request_id"))
        autoReview = p.bool("auto_review") ?? Self.autoReviewDefault
        reviewerRole = p.string("reviewer_role") ?? Self.reviewerRoleDefault
        agentGuidePath = p.string("agent_guide_path")
        provider = p.string("provider")
        agentOverride = p.json("agent_override")
    }
}

/// `merge.main.acquire_lock`.
public struct MergeAcquireLockInput: Sendable, Equatable {
    public static let ttlSecondsDefault = 600
    public static let dispatchReviewDefault = true

    public var sessionId: Int
    public var ttlSeconds: Int
    public var dispatchReview: Bool

    public init(
        sessionId: Int, ttlSeconds: Int = Self.ttlSecondsDefault, dispatchReview: Bool = Self.dispatchReviewDefault
    ) {
        (self.sessionId, self.ttlSeconds, self.dispatchReview) = (sessionId, ttlSeconds, dispatchReview)
    }

    public init(_ p: Params) throws {
        self.init(
            sessionId: try p.req("session_id"), ttlSeconds: p.int("ttl_seconds") ?? Self.ttlSecondsDefault,
            dispatchReview: p.bool("dispatch_review") ?? Self.dispatchReviewDefault)
    }
}

/// `merge.main.release_lock`.
public struct MergeReleaseLockInput: Sendable, Equatable {
    public static let forceDefault = false
    public static let mergeDefault = true

    public var sessionId: Int
    /// Release even while the review runs (its reviewer is stopped).
    public var force: Bool
    /// Merge an approved head before releasing.
    public var merge: Bool

    public init(sessionId: Int, force: Bool = Self.forceDefault, merge: Bool = Self.mergeDefault) {
        (self.sessionId, self.force, self.merge) = (sessionId, force, merge)
    }

    public init(_ p: Params) throws {
        self.init(
            sessionId: try p.req("session_id"), force: p.bool("force") ?? Self.forceDefault,
            merge: p.bool("merge") ?? Self.mergeDefault)
    }
}
