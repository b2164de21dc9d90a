/// A status enum whose legal transitions are written in one place.
public protocol StatusMachine: RawRepresentable, CaseIterable, Hashable, Sendable where RawValue == String {
    /// The statuses each status may move to. Anything else is `invalid_state`.
    static var transitions: [Self: Set<Self>] { get }
}

extension StatusMachine {
    public func canMove(to next: Self) -> Bool { Self.transitions[self]?.contains(next) ?? false }

    /// Throws `invalid_state` naming the entity unless `self → next` is legal.
    public func checkMove(to next: Self, entity: String, expected: String? = nil) throws {
        guard canMove(to: next) else {
            let legal = (Self.transitions[self] ?? []).map(\.rawValue).sorted()
            throw CodestratorError(
                .invalidState, "\(entity) cannot go from \(rawValue) to \(next.rawValue)",
                expected: expected
                    ?? (legal.isEmpty ? "no change: \(rawValue) is final" : "one of \(legal.joined(separator: "|"))"))
        }
    }

    public static var allNames: String { allCases.map(\.rawValue).joined(separator: "|") }
}

/// sessions.status (docs/database.md#status-transitions).
public enum SessionStatus: String, StatusMachine {
    case active, awaitingResume = "awaiting_resume", closed, superseded
    public static let transitions: [Self: Set<Self>] = [
        .active: [.closed],
        .awaitingResume: [.superseded, .closed],
        .closed: [],
        .superseded: [],
    ]
}

/// worktrees.status.
public enum WorktreeStatus: String, StatusMachine {
    case planned, active, removed
    public static let transitions: [Self: Set<Self>] = [.planned: [.removed], .active: [.removed], .removed: []]
}

public enum WorktreeKind: String, Sendable, CaseIterable {
    case main, sessionRoot = "session_root", taskBranch = "task_branch"
}

/// worktrees.merge_state.
public enum MergeState: String, StatusMachine {
    case attached, active, mergedToParent = "merged_to_parent", mergedToMain = "merged_to_main", abandoned
    public static let transitions: [Self: Set<Self>] = [
        .attached: [],
        .active: [.mergedToParent, .mergedToMain, .abandoned],
        .mergedToParent: [.mergedToParent],
        .mergedToMain: [.mergedToMain],
        .abandoned: [],
    ]
}

/// The work hierarchy. A step is its own table, but `task.create` accepts it as a level.
public enum TaskLevel: String, Sendable, CaseIterable {
    case epic, feature, testgroup, `case`, step

    /// The level exactly one up (`nil` for epics).
    public var parentLevel: TaskLevel? {
        switch self {
        case .epic: return nil
        case .feature: return .epic
        case .testgroup: return .feature
        case .case: return .testgroup
        case .step: return .case
        }
    }

    public var childLevel: TaskLevel? {
        switch self {
        case .epic: return .feature
        case .feature: return .testgroup
        case .testgroup: return .case
        case .case: return .step
        case .step: return nil
        }
    }

    public var article: String { self == .epic ? "an" : "a" }
}

/// tasks.status. Cases move by the rules below; containers are rolled up (`Rollup`).
public enum TaskStatus: String, StatusMachine {
    case todo, inProgress = "in_progress", blocked, done, cancelled
    /// Case transitions, by any trigger. `task.update` further refuses `→ done` and `todo → in_progress`.
    public static let transitions: [Self: Set<Self>] = [
        .todo: [.inProgress, .blocked, .cancelled],
        .inProgress: [.done, .blocked, .todo, .cancelled],
        .blocked: [.inProgress, .todo, .cancelled],
        .cancelled: [.todo],
        .done: [.inProgress],
    ]
}

/// steps.status: never back to `todo`; re-checks allowed.
public enum StepStatus: String, StatusMachine {
    case todo, done, failed, skipped
    public static let transitions: [Self: Set<Self>] = [
        .todo: [.done, .failed, .skipped],
        .done: [.done, .failed, .skipped],
        .failed: [.done, .failed, .skipped],
        .skipped: [.done, .failed, .skipped],
    ]
}

/// current_refs.status.
public enum RefStatus: String, StatusMachine {
    case active, completed
    public static let transitions: [Self: Set<Self>] = [
        .active: [.active, .completed], .completed: [.active, .completed],
    ]
}

public enum RefMode: String, Sendable, CaseIterable { case compact, resume, manual }

public enum RefNodeType: String, Sendable, CaseIterable {
    case epic, feature, testgroup, `case`, step
    case graphNode = "graph_node"
}

/// threads.status (docs/database.md#status-transitions, the thread table).
public enum ThreadStatus: String, StatusMachine {
    case planned, initializing, running, idle
    case waitingUserAnswer = "waiting_user_answer"
    case completed, stopped, failed

    public var isLive: Bool { [.initializing, .running, .idle, .waitingUserAnswer].contains(self) }
    public var isTerminal: Bool { [.completed, .stopped, .failed].contains(self) }

    static let live: Set<ThreadStatus> = [.initializing, .running, .idle, .waitingUserAnswer]
    public static let transitions: [Self: Set<Self>] = [
        .planned: [.initializing, .stopped, .failed],
        .initializing: [.running, .idle, .waitingUserAnswer, .completed, .failed, .stopped],
        .running: [.idle, .waitingUserAnswer, .completed, .failed, .stopped],
        .idle: [.running, .waitingUserAnswer, .completed, .failed, .stopped],
        .waitingUserAnswer: [.running, .idle, .completed, .failed, .stopped],
        // Terminal statuses move on only with a live pane (paste, report, stop) or by a restart.
        .completed: [.completed, .waitingUserAnswer, .failed, .running, .stopped, .initializing],
        .failed: [.running, .idle, .stopped, .initializing],
        .stopped: [.initializing],
    ]
}

public enum ThreadRole: String, Sendable, CaseIterable {
    case sessionRoot = "session-root", worker, mergeReviewer = "merge-reviewer"
    case planArchitect = "plan-architect", docMirrorManager = "doc-mirror-manager"
}

public enum StatusSource: String, Sendable {
    case observation, report, caseComplete = "case_complete", reviewSubmit = "review_submit", stop, paste
    case reconcile, spawn
}

public enum CheckpointEvent: String, Sendable {
    case caseBegin = "case.begin", stepCheck = "step.check", caseComplete = "case.complete"
    case taskUpdate = "task.update", workReport = "work.report", currentRefSet = "current_ref.set"
}

/// The caller CLI of a session (sessions.agent_role).
public enum AgentRole: String, Sendable, CaseIterable { case codex, claudeCode = "claude_code", sim, other }

public enum SessionIntent: String, Sendable, CaseIterable {
    case newWork = "new_work", resumeWork = "resume_work", auto
}

/// merge_requests.status.
public enum MergeRequestStatus: String, StatusMachine {
    case requested, reviewing, approved, blocked, merged, cancelled
    public static let transitions: [Self: Set<Self>] = [
        .requested: [.reviewing, .cancelled],
        .reviewing: [.approved, .blocked, .requested, .cancelled],
        .approved: [.merged, .requested, .cancelled],
        .blocked: [.requested],
        .merged: [],
        .cancelled: [],
    ]
    /// Requests not yet merged or cancelled.
    public static let open: Set<Self> = [.requested, .reviewing, .approved]
    static let openSQL = sqlList(open)
}

/// review_jobs.state.
public enum ReviewJobState: String, StatusMachine {
    case requested, running, completed, failed, cancelled
    public static let transitions: [Self: Set<Self>] = [
        .requested: [.running, .completed, .failed, .cancelled],
        .running: [.completed, .failed, .cancelled],
        .completed: [], .failed: [], .cancelled: [],
    ]
    /// Jobs still waiting for a verdict.
    public static let open: Set<Self> = [.requested, .running]
    public var isOpen: Bool { Self.open.contains(self) }
    static let openSQL = sqlList(open)
}

/// merge_main_queue.state.
public enum QueueItemState: String, StatusMachine {
    case queued, reviewing, approved, blocked, merged, failed, cancelled
    public static let transitions: [Self: Set<Self>] = [
        .queued: [.reviewing, .cancelled],
        .reviewing: [.approved, .blocked, .queued, .cancelled],
        .approved: [.merged, .failed, .queued, .cancelled],
        .blocked: [], .merged: [], .failed: [], .cancelled: [],
    ]
    /// Items still in the queue (they hold a position).
    public static let open: Set<Self> = [.queued, .reviewing, .approved]
    public var isOpen: Bool { Self.open.contains(self) }
    static let openSQL = sqlList(open)
}

/// merge_main_lock.state.
public enum MainLockState: String, StatusMachine {
    case unlocked, locked
    public static let transitions: [Self: Set<Self>] = [.unlocked: [.locked], .locked: [.unlocked, .locked]]
}
