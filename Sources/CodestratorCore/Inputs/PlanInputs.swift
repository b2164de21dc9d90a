/// What `plan.bootstrap` takes: decoded once from the validated `Params` at the MCP edge, like every `plan.*`
/// input below. The defaults live here; the method registry declares them from these constants.
public struct PlanBootstrapInput: Sendable, Equatable {
    public static let priorityDefault = 0

    public var initiativeTitle: String
    public var planTitle: String
    /// Of both nodes.
    public var priority: Int
    /// Of the initiative.
    public var summary: String?
    /// Children: their own, the default.
    public var ownerSessionId: Int?
    /// The epic this initiative plans.
    public var taskId: Int?

    public init(
        initiativeTitle: String, planTitle: String, priority: Int = Self.priorityDefault, summary: String? = nil,
        ownerSessionId: Int? = nil, taskId: Int? = nil
    ) {
        (self.initiativeTitle, self.planTitle, self.priority) = (initiativeTitle, planTitle, priority)
        (self.summary, self.ownerSessionId, self.taskId) = (summary, ownerSessionId, taskId)
    }

    /// From the call's validated parameters (the registry has filled in the defaults).
    public init(_ p: Params) throws {
        self.init(
            initiativeTitle: try p.reqString("initiative_title"), planTitle: try p.reqString("plan_title"),
            priority: p.int("priority") ?? Self.priorityDefault, summary: p.string("summary"),
            ownerSessionId: p.int("owner_session_id"), taskId: p.int("task_id"))
    }
}

/// What `plan.slice.generate` takes; each element of `slice_specs` is validated here like a parameter.
public struct PlanSliceGenerateInput: Sendable, Equatable {
    public static let allowOversizeDefault = false

    public var planNodeId: Int
    public var sliceSpecs: [PlanSliceSpec]
    /// Default: the plan's.
    public var ownerSessionId: Int?
    /// Planning-rule violations become warnings.
    public var allowOversize: Bool
    /// The warnings of the specs' validation (unknown keys).
    public var specWarnings: [String]

    public init(
        planNodeId: Int, sliceSpecs: [PlanSliceSpec], ownerSessionId: Int? = nil,
        allowOversize: Bool = Self.allowOversizeDefault, specWarnings: [String] = []
    ) {
        (self.planNodeId, self.sliceSpecs, self.ownerSessionId) = (planNodeId, sliceSpecs, ownerSessionId)
        (self.allowOversize, self.specWarnings) = (allowOversize, specWarnings)
    }

    public init(_ p: Params) throws {
        let (specs, warnings) = try PlanSliceSpec.decodeAll(p.json("slice_specs")?.arrayValue ?? [])
        self.init(
            planNodeId: try p.req("plan_node_id"), sliceSpecs: specs, ownerSessionId: p.int("owner_session_id"),
            allowOversize: p.bool("allow_oversize") ?? Self.allowOversizeDefault, specWarnings: warnings)
    }
}

/// One element of `slice_specs`: a slice to create under the plan.
public struct PlanSliceSpec: Sendable, Equatable {
    public static let priorityDefault = 0

    /// Its 0-based place in `slice_specs`, which `dependsOn` of other specs names.
    public var index: Int
    public var title: String
    public var priority: Int
    public var tokenEstimate: Int?
    /// Repository paths as given; the service normalises them.
    public var affectedFiles: [String]?
    public var summary: String?
    public var taskId: Int?
    /// Indexes of other specs of the same call.
    public var dependsOn: [Int]

    public init(
        index: Int, title: String, priority: Int = Self.priorityDefault, tokenEstimate: Int? = nil,
        affectedFiles: [String]? = nil, summary: String? = nil, taskId: Int? = nil, dependsOn: [Int] = []
    ) {
        (self.index, self.title, self.priority, self.tokenEstimate) = (index, title, priority, tokenEstimate)
        (self.affectedFiles, self.summary, self.taskId, self.dependsOn) = (affectedFiles, summary, taskId, dependsOn)
    }

    /// The fields of one `slice_specs` element (checked like parameters, named `slice_specs[i].x`).
    static let fields: [ParamSpec] = [
        ParamSpec("title", .title(maxChars: 300), required: true),
        ParamSpec("priority", .int(min: -1000, max: 1000)),
        ParamSpec("token_estimate", .int(min: 0, max: 10_000_000)),
        ParamSpec("affected_files", .array(.path, maxCount: 200)),
        ParamSpec("summary", .text(maxBytes: 65_536)),
        ParamSpec("task_id", .id),
        ParamSpec("depends_on", .array(.int(min: 0, max: 99), maxCount: 100)),
    ]

    /// Checks every spec like a parameter, and that `depends_on` names other specs of the list; returns the
    /// specs and the warnings for unknown keys.
    static func decodeAll(_ raw: [JSON]) throws -> ([PlanSliceSpec], [String]) {
        guard !raw.isEmpty else {
            throw CodestratorError(
                .invalidParams, "field \"slice_specs\" is empty", expected: "a list of 1 to 100 slice specs",
                field: "slice_specs")
        }
        var specs: [PlanSliceSpec] = []
        var warnings: [String] = []
        for (i, element) in raw.enumerated() {
            let prefix = "slice_specs[\(i)]."
            guard case .object(let o) = element else { continue }  // the validator checked the kind
            let (sp, w) = try ParamValidator.validate(
                o, specs: fields.map { ParamSpec(prefix + $0.name, $0.kind, required: $0.required) }, prefixed: prefix)
            warnings += w
            let deps = sp.ints(prefix + "depends_on") ?? []
            for d in deps where d == i || d >= raw.count {
                throw CodestratorError(
                    .invalidParams, "field \"\(prefix)depends_on\" names \(d)",
                    expected: "0-based indexes of other specs of this call (0 to \(raw.count - 1), not \(i))",
                    field: prefix + "depends_on")
            }
            specs.append(
                PlanSliceSpec(
                    index: i, title: try sp.reqString(prefix + "title"),
                    priority: sp.int(prefix + "priority") ?? priorityDefault,
                    tokenEstimate: sp.int(prefix + "token_estimate"),
                    affectedFiles: sp.strings(prefix + "affected_files"),
                    summary: sp.string(prefix + "summary"), taskId: sp.int(prefix + "task_id"), dependsOn: deps))
        }
        return (specs, warnings)
    }
}

/// What `plan.slice.replan` takes.
public struct PlanSliceReplanInput: Sendable, Equatable {
    public static let triggerDefault = "other"
    public static let allowOversizeDefault = false

    /// A slice or plan.
    public var nodeId: Int
    public var reason: String
    /// `context_overflow`, `scope_change`, `blocked` or `other`.
    public var trigger: String
    /// Default: the node's.
    public var tokenEstimate: Int?
    /// Repository paths as given; default the node's.
    public var affectedFiles: [String]?
    public var nextAction: String?
    public var allowOversize: Bool

    public init(
        nodeId: Int, reason: String, trigger: String = Self.triggerDefault, tokenEstimate: Int? = nil,
        affectedFiles: [String]? = nil, nextAction: String? = nil, allowOversize: Bool = Self.allowOversizeDefault
    ) {
        (self.nodeId, self.reason, self.trigger, self.tokenEstimate) = (nodeId, reason, trigger, tokenEstimate)
        (self.affectedFiles, self.nextAction, self.allowOversize) = (affectedFiles, nextAction, allowOversize)
    }

    public init(_ p: Params) throws {
        self.init(
            nodeId: try p.req("node_id"), reason: try p.reqString("reason"),
            trigger: p.string("trigger") ?? Self.triggerDefault, tokenEstimate: p.int("token_estimate"),
            affectedFiles: p.strings("affected_files"), nextAction: p.string("next_action"),
            allowOversize: p.bool("allow_oversize") ?? Self.allowOversizeDefault)
    }
}

/// What `plan.rollup.submit` takes.
public struct PlanRollupSubmitInput: Sendable, Equatable {
    public var nodeId: Int
    public var summary: String?
    /// Repository paths as given.
    public var affectedFiles: [String]?
    public var nextAction: String?

    public init(nodeId: Int, summary: String? = nil, affectedFiles: [String]? = nil, nextAction: String? = nil) {
        (self.nodeId, self.summary, self.affectedFiles, self.nextAction) = (nodeId, summary, affectedFiles, nextAction)
    }

    public init(_ p: Params) throws {
        self.init(
            nodeId: try p.req("node_id"), summary: p.string("summary"), affectedFiles: p.strings("affected_files"),
            nextAction: p.string("next_action"))
    }
}
