import Foundation

/// The role a server process plays (docs/protocol-eras.md#roles).
public enum ProcessRole: String, Sendable, CaseIterable {
    case root, worker
    case mergeReviewer = "merge-reviewer"
    case planArchitect = "plan-architect"
    case docMirrorManager = "doc-mirror-manager"

    public var threadRole: ThreadRole {
        switch self {
        case .root: return .sessionRoot
        case .worker: return .worker
        case .mergeReviewer: return .mergeReviewer
        case .planArchitect: return .planArchitect
        case .docMirrorManager: return .docMirrorManager
        }
    }
}

/// Who is calling: the process's role and, for child roles, the thread it acts as.
public struct Caller: Sendable {
    public var role: ProcessRole
    public var threadId: Int?
    /// The session of `threadId` (child roles).
    public var sessionId: Int?

    public init(role: ProcessRole, threadId: Int? = nil, sessionId: Int? = nil) {
        self.role = role
        self.threadId = threadId
        self.sessionId = sessionId
    }

    public var isChild: Bool { role != .root }
}

/// The sessions this process heartbeats (opened, resumed or heartbeated here), most recent last.
public actor HeartbeatRegistry {
    public private(set) var sessionIds: [Int] = []
    /// Told the new list whenever it changes (the root server listens for its children's relays per session).
    var observer: (@Sendable ([Int]) -> Void)?
    public init() {}
    public func add(_ id: Int) {
        let isNew = !sessionIds.contains(id)
        sessionIds.removeAll { $0 == id }
        sessionIds.append(id)
        if isNew { observer?(sessionIds) }
    }
    public func remove(_ id: Int) {
        guard sessionIds.contains(id) else { return }
        sessionIds.removeAll { $0 == id }
        observer?(sessionIds)
    }
    public func observe(_ observer: @escaping @Sendable ([Int]) -> Void) {
        self.observer = observer
        observer(sessionIds)
    }
}

/// Everything a service needs, built once per process.
public final class ServiceEnvironment: Sendable {
    public let store: Store
    public let git: any GitClient
    public let tmux: any TmuxClient
    public let layout: RepositoryLayout
    public let caller: Caller
    /// A one-shot `codestrator call` records no server process on sessions and heartbeats nothing.
    public let oneShot: Bool
    public let heartbeats: HeartbeatRegistry
    /// `--tmux-socket` / `CODESTRATOR_TMUX_SOCKET`, recorded on sessions this process opens.
    public let tmuxSocket: String?
    public let dbPath: String
    /// Locates outside programs and asks their versions (`runtime.bundle.info`).
    public let programs: any ProgramProbe
    /// How Codestrator is installed for the agent CLIs, when the process was given an inspector
    /// (InstallationInspector explains the seam).
    public let installation: (any InstallationInspector)?
    /// Serialises git writes of this repository within the process.
    public let gitWrites = AsyncMutex()
    /// The terminal of the root this process serves (RootIdentity), plus the client-conversation keys learnt
    /// from its requests (ClientSessions); bound on session.open.
    public var identity: RootIdentity {
        if sharedByClients { return baseIdentity }
        var i = baseIdentity
        let learnt = ClientSessions.shared.keys
        if !learnt.isEmpty { i.keys = learnt + i.keys.filter { !learnt.contains($0) } }
        return i
    }
    let baseIdentity: RootIdentity
    /// Several clients share this process (HTTP): no default session for a root call without `session_id`.
    public let sharedByClients: Bool

    public init(
        store: Store, git: any GitClient, tmux: any TmuxClient, layout: RepositoryLayout, caller: Caller,
        oneShot: Bool, heartbeats: HeartbeatRegistry, tmuxSocket: String?, dbPath: String, programs: any ProgramProbe,
        installation: (any InstallationInspector)? = nil, identity: RootIdentity = .current(),
        sharedByClients: Bool = false
    ) {
        self.baseIdentity = identity
        self.sharedByClients = sharedByClients
        self.store = store
        self.git = git
        self.tmux = tmux
        self.layout = layout
        self.caller = caller
        self.oneShot = oneShot
        self.heartbeats = heartbeats
        self.tmuxSocket = tmuxSocket
        self.dbPath = dbPath
        self.programs = programs
        self.installation = installation
    }

    /// `server_pid` / `server_host` to record (NULL for a one-shot call).
    public var serverPid: Int? { oneShot ? nil : ProcessIdentity.pid }
    public var serverHost: String? { oneShot ? nil : ProcessIdentity.hostName }
}
