import CodestratorCore

/// The nine tool groups, in the order used wherever tools are listed (docs/protocol-eras.md#tools).
public enum ToolGroup: String, CaseIterable, Sendable {
    case session = "orch_session"
    case task = "orch_task"
    case graph = "orch_graph"
    case workspace = "orch_workspace"
    case thread = "orch_thread"
    case lifecycle = "orch_lifecycle"
    case merge = "orch_merge"
    case inbox = "orch_inbox"
    case system = "orch_system"

    public var title: String {
        switch self {
        case .session: return "Codestrator sessions"
        case .task: return "Codestrator tasks"
        case .graph: return "Codestrator planning graph"
        case .workspace: return "Codestrator worktrees and locks"
        case .thread: return "Codestrator child agents"
        case .lifecycle: return "Codestrator current ref and reports"
        case .merge: return "Codestrator merge queue and review"
        case .inbox: return "Codestrator inbox"
        case .system: return "Codestrator runtime, mirror and planning"
        }
    }

    public var blurb: String {
        switch self {
        case .session: return "Sessions in their own worktrees: open, resume, heartbeat, close, clean up."
        case .task: return "Task tree, case/step checkpoints and resume."
        case .graph: return "Planning graph: nodes, edges, checklists, snapshots."
        case .workspace: return "Worktrees (create, spawn, merge to parent, remove) and file/prefix locks."
        case .thread: return "Child agents in tmux panes: spawn, directives, observe, stop."
        case .lifecycle: return "Where am I (current ref), its acknowledgement, and reports to the parent."
        case .merge: return "Merge requests, the review agent, the main merge queue and its lock."
        case .inbox: return "Messages between threads of a session."
        case .system: return "tmux runtime, bundle info, the Markdown mirror and plan slices."
        }
    }

    /// They stop processes, remove worktrees or change branches.
    public var destructive: Bool { [.session, .workspace, .thread, .merge].contains(self) }

    /// The tools each role sees (docs/protocol-eras.md#roles).
    public static func visible(to role: ProcessRole) -> [ToolGroup] {
        switch role {
        case .root: return allCases
        case .worker: return [.task, .workspace, .lifecycle, .inbox]
        case .mergeReviewer: return [.task, .graph, .lifecycle, .merge, .inbox]
        case .planArchitect: return [.task, .graph, .lifecycle, .inbox, .system]
        case .docMirrorManager: return [.lifecycle, .inbox, .system]
        }
    }
}

/// Runs one method against the services.
public typealias MethodHandler = @Sendable (ServiceEnvironment, Params) async throws -> JSON

/// One registered method: the single source for tools/list, validation, roles, the legacy tool
/// and the generated reference (docs/decisions.md#one-method-registry "One table instead of many switches").
public struct MethodDefinition: Sendable {
    public let name: String
    public let group: ToolGroup
    public let summary: String
    public let readOnly: Bool
    /// Child roles that may call it besides the root (docs/methods.md#codestrator-method-reference).
    public let childRoles: Set<ProcessRole>
    /// Declared parameters; nil while the method is not built yet.
    public let params: [ParamSpec]?
    public let handler: MethodHandler?
    /// Which issue builds it, for `not_implemented` messages.
    public let ownedBy: String?

    public func allowed(for role: ProcessRole) -> Bool {
        guard ToolGroup.visible(to: role).contains(group) else { return false }
        return role == .root || childRoles.contains(role)
    }
}

/// The table of every method.
public struct MethodRegistry: Sendable {
    public let methods: [MethodDefinition]
    let byName: [String: MethodDefinition]

    public init(_ methods: [MethodDefinition]) {
        self.methods = methods
        var d: [String: MethodDefinition] = [:]
        for m in methods { d[m.name] = m }
        byName = d
    }

    public subscript(name: String) -> MethodDefinition? { byName[name] }

    public func methods(of group: ToolGroup) -> [MethodDefinition] { methods.filter { $0.group == group } }

    /// The registry of this build.
    public static let standard = MethodRegistry(
        SessionMethods.all + TaskMethods.all + GraphMethods.all + WorkspaceMethods.all + ThreadMethods.all
            + LifecycleMethods.all + MergeMethods.all + InboxMethods.all + SystemMethods.all)
}

/// Shorthand used by the Methods/ files.
func method(
    _ name: String, _ group: ToolGroup, _ summary: String, readOnly: Bool = false, roles: String = "",
    params: [ParamSpec]? = nil, ownedBy: String? = nil, handler: MethodHandler? = nil
) -> MethodDefinition {
    var set = Set<ProcessRole>()
    for ch in roles {
        switch ch {
        case "W": set.insert(.worker)
        case "V": set.insert(.mergeReviewer)
        case "P": set.insert(.planArchitect)
        case "D": set.insert(.docMirrorManager)
        default: break
        }
    }
    return MethodDefinition(
        name: name, group: group, summary: summary, readOnly: readOnly, childRoles: set, params: params,
        handler: handler, ownedBy: ownedBy)
}
