/// The typed inputs of orch_task (docs/methods.md#orch_task--codestrator-tasks): each decoded once from the
/// validated `Params` at the MCP edge (the registry has checked kinds and filled the defaults), or built directly
/// by a service. The defaults live here; the method registry declares them from these constants.

/// What `task.create` takes.
public struct TaskCreateInput: Sendable, Equatable {
    public static let priorityDefault = 0

    public var level: TaskLevel
    public var title: String
    /// Exactly one level up; none for epics.
    public var parentId: Int?
    /// Required for epics; other levels take the parent's (a given one must equal it).
    public var sessionId: Int?
    public var priority = Self.priorityDefault
    public var description: String?
    /// Cases only.
    public var assigneeThreadId: Int?
    public var assigneeSession: String?
    /// Cases only: planned steps in order.
    public var steps: [String]?
    /// Cases only.
    public var inputContract: JSON?

    public init(level: TaskLevel, title: String, parentId: Int? = nil, sessionId: Int? = nil) {
        (self.level, self.title, self.parentId, self.sessionId) = (level, title, parentId, sessionId)
    }

    public init(_ p: Params) throws {
        guard let level = TaskLevel(rawValue: try p.reqString("level")) else {
            throw CodestratorError(.invalidParams, "field \"level\" is missing", expected: "a level", field: "level")
        }
        self.init(
            level: level, title: try p.reqString("title"), parentId: p.int("parent_id"), sessionId: p.int("session_id"))
        priority = p.int("priority") ?? Self.priorityDefault
        description = p.string("description")
        assigneeThreadId = p.int("assignee_thread_id")
        assigneeSession = p.string("assignee_session")
        steps = p.strings("steps")
        inputContract = p.json("input_contract")
    }

    /// The fields given that only a case takes, in the order they are checked.
    var caseOnlyFieldsGiven: [String] {
        [
            ("steps", steps != nil), ("input_contract", inputContract != nil),
            ("assignee_thread_id", assigneeThreadId != nil),
        ]
        .filter(\.1).map(\.0)
    }
}

/// What `task.list` takes.
public struct TaskListInput: Sendable, Equatable {
    public static let rootsOnlyDefault = false

    public var sessionId: Int?
    public var level: String?
    public var status: String?
    public var parentId: Int?
    public var rootsOnly = Self.rootsOnlyDefault
    public var assigneeThreadId: Int?
    public var assigneeSession: String?
    public var page: ListPage

    public init(page: ListPage = ListPage()) { self.page = page }

    public init(_ p: Params) {
        self.init(page: ListPage(p))
        sessionId = p.int("session_id")
        level = p.string("level")
        status = p.string("status")
        parentId = p.int("parent_id")
        rootsOnly = p.bool("roots_only") ?? Self.rootsOnlyDefault
        assigneeThreadId = p.int("assignee_thread_id")
        assigneeSession = p.string("assignee_session")
    }
}

/// What `task.update` takes: nullable fields keep "omitted" and "cleared" apart.
public struct TaskUpdateInput: Sendable, Equatable {
    public var taskId: Int
    public var status: TaskStatus?
    /// Required with `blocked` and `cancelled`.
    public var reason: String?
    public var title: String?
    public var priority: Int?
    public var description = FieldUpdate<String>.unchanged
    public var nextAction = FieldUpdate<String>.unchanged
    public var assigneeThreadId = FieldUpdate<Int>.unchanged
    public var assigneeSession = FieldUpdate<String>.unchanged

    public init(taskId: Int) { self.taskId = taskId }

    public init(_ p: Params) throws {
        self.init(taskId: try p.req("task_id"))
        status = p.enumValue("status", TaskStatus.self)
        reason = p.string("reason")
        title = p.string("title")
        priority = p.int("priority")
        description = p.update("description") { $0.string($1) }
        nextAction = p.update("next_action") { $0.string($1) }
        assigneeThreadId = p.update("assignee_thread_id") { $0.int($1) }
        assigneeSession = p.update("assignee_session") { $0.string($1) }
    }

    /// Whether the caller named the field (for the role limits of TaskUpdateRule).
    func isGiven(_ field: String) -> Bool {
        switch field {
        case "status": status != nil
        case "reason": reason != nil
        case "title": title != nil
        case "priority": priority != nil
        case "description": description.isGiven
        case "next_action": nextAction.isGiven
        case "assignee_thread_id": assigneeThreadId.isGiven
        case "assignee_session": assigneeSession.isGiven
        default: false
        }
    }
}

/// Who a case method acts for: `session_id` must equal the case's session; `thread_id` (root only) names the
/// thread acted for.
public struct CaseActor: Sendable, Equatable {
    public var sessionId: Int?
    public var threadId: Int?

    public init(sessionId: Int? = nil, threadId: Int? = nil) { (self.sessionId, self.threadId) = (sessionId, threadId) }

    public init(_ p: Params) { self.init(sessionId: p.int("session_id"), threadId: p.int("thread_id")) }
}

/// What `case.begin` takes.
public struct CaseBeginInput: Sendable, Equatable {
    public static let reopenDefault = false

    public var caseId: Int
    public var actor = CaseActor()
    /// Planned steps; titles the case lacks are appended.
    public var steps: [String]?
    public var inputContract: JSON?
    public var fixtures: [String]?
    /// Files to reload, for the current ref.
    public var requiredFiles: [String]?
    /// Required to begin a done case again.
    public var reopen = Self.reopenDefault

    public init(caseId: Int) { self.caseId = caseId }

    public init(_ p: Params) throws {
        self.init(caseId: try p.req("case_id"))
        actor = CaseActor(p)
        steps = p.strings("steps")
        inputContract = p.json("input_contract")
        fixtures = p.strings("fixtures")
        requiredFiles = p.strings("required_files")
        reopen = p.bool("reopen") ?? Self.reopenDefault
    }
}

/// What `step.check` takes: the step by id or title (an unknown title appends one).
public struct StepCheckInput: Sendable, Equatable {
    public static let statusDefault = StepStatus.done

    public var caseId: Int
    public var actor = CaseActor()
    public var stepId: Int?
    public var stepTitle: String?
    public var status = Self.statusDefault
    public var result: String
    public var artifacts: [String] = []
    public var requiredFiles: [String]?

    public init(caseId: Int, result: String) { (self.caseId, self.result) = (caseId, result) }

    public init(_ p: Params) throws {
        self.init(caseId: try p.req("case_id"), result: try p.reqString("result"))
        actor = CaseActor(p)
        stepId = p.int("step_id")
        stepTitle = p.string("step_title")
        status = p.enumValue("status", StepStatus.self) ?? Self.statusDefault
        artifacts = p.strings("artifacts") ?? []
        requiredFiles = p.strings("required_files")
    }
}

/// What `case.complete` takes.
public struct CaseCompleteInput: Sendable, Equatable {
    public static let forceDefault = false

    public var caseId: Int
    public var actor = CaseActor()
    public var summary: String?
    public var nextAction: String?
    public var requiredFiles: [String]?
    /// Complete although steps are todo or failed.
    public var force = Self.forceDefault

    public init(caseId: Int) { self.caseId = caseId }

    public init(_ p: Params) throws {
        self.init(caseId: try p.req("case_id"))
        actor = CaseActor(p)
        summary = p.string("summary")
        nextAction = p.string("next_action")
        requiredFiles = p.strings("required_files")
        force = p.bool("force") ?? Self.forceDefault
    }
}

/// What `resume.candidates.attach` takes.
public struct ResumeCandidatesAttachInput: Sendable, Equatable {
    public static let forceDefault = false

    public var targetSessionId: Int
    /// The awaiting_resume session the caller leaves behind.
    public var requesterSessionId: Int?
    public var heartbeatTimeoutSeconds: Int?
    /// Attach although the session is live.
    public var force = Self.forceDefault

    public init(targetSessionId: Int) { self.targetSessionId = targetSessionId }

    public init(_ p: Params) throws {
        self.init(targetSessionId: try p.req("target_session_id"))
        requesterSessionId = p.int("requester_session_id")
        heartbeatTimeoutSeconds = p.int("heartbeat_timeout_seconds")
        force = p.bool("force") ?? Self.forceDefault
    }
}
