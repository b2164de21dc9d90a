/// What `work.current_ref` takes: decoded once from the validated `Params` at the MCP edge, the nested `set`
/// object validated there too. The defaults live here; the nested specs declare them from these constants.
public struct CurrentRefInput: Sendable, Equatable {
    /// Root: default the session the server resolves (RootScope).
    public var sessionId: Int?
    /// Root only.
    public var threadId: Int?
    /// The write; nil: the call only reads.
    public var set: CurrentRefSet?
    /// With `set`.
    public var expectedVersion: Int?
    /// Fields of `set` the caller sent flat, next to it instead of inside it (a write meant but not asked for).
    public var flatSetFields: [String]

    public init(
        sessionId: Int? = nil, threadId: Int? = nil, set: CurrentRefSet? = nil, expectedVersion: Int? = nil,
        flatSetFields: [String] = []
    ) {
        (self.sessionId, self.threadId, self.set) = (sessionId, threadId, set)
        (self.expectedVersion, self.flatSetFields) = (expectedVersion, flatSetFields)
    }

    /// From the call's validated parameters; `set` is validated here (it is a nested parameter).
    public init(_ p: Params) throws {
        var set: CurrentRefSet?
        if let value = p.json("set"), case .object(let o) = value { set = try CurrentRefSet(o) }
        self.init(
            sessionId: p.int("session_id"), threadId: p.int("thread_id"), set: set,
            expectedVersion: p.int("expected_version"),
            flatSetFields: p.unknownKeys.filter { CurrentRefSet.fields.contains($0) })
    }
}

/// The `set` object of `work.current_ref`: where the caller is now.
public struct CurrentRefSet: Sendable, Equatable {
    public static let modeDefault = RefMode.manual.rawValue
    /// The fields of `set`, in the order the docs list them.
    public static let fields = ["node_type", "node_id", "next_action", "summary", "required_files", "mode"]

    /// A RefNodeType.
    public var nodeType: String
    public var nodeId: Int
    public var nextAction: String?
    public var summary: String?
    /// Repository paths as given; the service normalises them.
    public var requiredFiles: [String]?
    /// A RefMode.
    public var mode: String

    public init(
        nodeType: String, nodeId: Int, nextAction: String? = nil, summary: String? = nil,
        requiredFiles: [String]? = nil, mode: String = Self.modeDefault
    ) {
        (self.nodeType, self.nodeId, self.nextAction, self.summary) = (nodeType, nodeId, nextAction, summary)
        (self.requiredFiles, self.mode) = (requiredFiles, mode)
    }

    /// The nested specs, each named `set.<field>` so an error names the nested field.
    static let specs: [ParamSpec] = [
        ParamSpec("node_type", .enumeration(RefNodeType.allCases.map(\.rawValue)), required: true),
        ParamSpec("node_id", .id, required: true),
        ParamSpec("next_action", .text(maxBytes: 65_536)), ParamSpec("summary", .text(maxBytes: 65_536)),
        ParamSpec("required_files", .array(.path, maxCount: 200)),
        ParamSpec("mode", .enumeration(RefMode.allCases.map(\.rawValue)), default: .string(modeDefault)),
    ].map { ParamSpec("set." + $0.name, $0.kind, required: $0.required, default: $0.defaultValue) }

    /// Validates the caller's `set` object and decodes it.
    public init(_ o: JSONObject) throws {
        let (sp, _) = try ParamValidator.validate(o, specs: Self.specs, prefixed: "set.")
        self.init(
            nodeType: try sp.reqString("set.node_type"), nodeId: try sp.req("set.node_id"),
            nextAction: sp.string("set.next_action"), summary: sp.string("set.summary"),
            requiredFiles: sp.strings("set.required_files"), mode: sp.string("set.mode") ?? Self.modeDefault)
    }
}

/// What `work.current_ref.ack` takes.
public struct CurrentRefAckInput: Sendable, Equatable {
    public var refId: Int
    /// Root: default the ref's session.
    public var sessionId: Int?
    /// Default: the ref's current version.
    public var version: Int?

    public init(refId: Int, sessionId: Int? = nil, version: Int? = nil) {
        (self.refId, self.sessionId, self.version) = (refId, sessionId, version)
    }

    public init(_ p: Params) throws {
        self.init(refId: try p.req("ref_id"), sessionId: p.int("session_id"), version: p.int("version"))
    }
}

/// What `work.report` takes (`artifacts` and `details` are accepted and not stored).
public struct WorkReportInput: Sendable, Equatable {
    /// `done`, `blocked` or `failed`.
    public var outcome: String
    public var summary: String
    public var caseId: Int?
    public var question: String?
    /// A child's own session, if given.
    public var sessionId: Int?

    public init(
        outcome: String, summary: String, caseId: Int? = nil, question: String? = nil, sessionId: Int? = nil
    ) {
        (self.outcome, self.summary, self.caseId, self.question, self.sessionId) =
            (outcome, summary, caseId, question, sessionId)
    }

    public init(_ p: Params) throws {
        self.init(
            outcome: try p.reqString("outcome"), summary: try p.reqString("summary"), caseId: p.int("case_id"),
            question: p.string("question"), sessionId: p.int("session_id"))
    }
}
