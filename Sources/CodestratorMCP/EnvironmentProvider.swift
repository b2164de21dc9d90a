import CodestratorCore
import Foundation

/// How the process was started (docs/protocol-eras.md#command-line).
public struct ServerOptions: Sendable {
    public var repo: String
    public var db: String?
    public var role: ProcessRole
    public var threadId: Int?
    public var tmuxSocket: String?
    public var oneShot: Bool
    /// Serving several clients at once (`serve --http`): the process's own sessions and terminal say
    /// nothing about which root calls, so a root call without `session_id` names no session.
    public var sharedByClients: Bool = false

    public init(
        repo: String, db: String? = nil, role: ProcessRole = .root, threadId: Int? = nil, tmuxSocket: String? = nil,
        oneShot: Bool = false
    ) {
        self.repo = repo
        self.db = db
        self.role = role
        self.threadId = threadId
        self.tmuxSocket = tmuxSocket
        self.oneShot = oneShot
    }
}

/// Builds the service environment on first use: the repository is resolved through git, and
/// `.codestrator/` and the database are created only when a tool is first called (a server outside
/// a repository still answers initialize, tools/list and ping, and creates nothing).
public actor EnvironmentProvider {
    let options: ServerOptions
    let adapters: Adapters
    let installation: (any InstallationInspector)?
    public let heartbeats = HeartbeatRegistry()
    var built: ServiceEnvironment?
    /// The built environment, readable without an actor hop on every call.
    nonisolated let ready = ReadyBox()

    /// `adapters` come from the executable's composition root (CodestratorAssembly). `installation` is what
    /// `runtime.bundle.info` reports client configs and skills from; the executable passes the installer's
    /// inspector (see InstallationInspector for why it is injected).
    public init(options: ServerOptions, adapters: Adapters, installation: (any InstallationInspector)? = nil) {
        self.options = options
        self.adapters = adapters
        self.installation = installation
    }

    public var role: ProcessRole { options.role }

    public func environment() async throws -> ServiceEnvironment {
        if let built { return built }
        let dir = (options.repo as NSString).standardizingPath
        let git = adapters.git
        guard let root = try await git.mainWorktree(containing: dir) else {
            throw CodestratorError(
                .unavailable, "\(dir) is not inside a git repository",
                expected: "--repo to name a git repository (run git init first)")
        }
        let layout = RepositoryLayout(root: root)
        try layout.ensureDirectories()
        try RepositoryLayout.ensureExcluded(excludePath: try await git.infoExcludePath(repo: root))
        let dbPath = options.db ?? layout.defaultDatabasePath
        let store = try adapters.openDatabase(dbPath)
        let caller = try await Caller.resolve(role: options.role, threadId: options.threadId, in: store)
        let env = ServiceEnvironment(
            store: store, git: git, tmux: adapters.tmux, layout: layout, caller: caller, oneShot: options.oneShot,
            heartbeats: heartbeats, tmuxSocket: options.tmuxSocket, dbPath: dbPath, programs: adapters.programs,
            installation: installation, identity: options.sharedByClients ? RootIdentity() : .current(),
            sharedByClients: options.sharedByClients)
        built = env
        ready.set(env)
        return env
    }

    /// One round of the background poller (docs/runtime-guide.md#status-detection) over the sessions this process
    /// heartbeats (ServerRounds.poll).
    public func pollOnce() async {
        guard let env = built, env.caller.role == .root else { return }
        let ids = await heartbeats.sessionIds
        guard !ids.isEmpty else { return }
        polls += 1
        await ServerRounds(env: env).poll(sessions: ids, everyChild: polls % ServerRounds.fullRoundEvery == 1)
    }

    /// Poll rounds made so far (every `ServerRounds.fullRoundEvery`-th observes every live child).
    private var polls = 0

    /// Waits `seconds` between two polling rounds, and meanwhile observes the children whose panes wrote output,
    /// 40 ms after the output (a burst is read once) and at most every 100 ms (docs/runtime-guide.md#tmux-control-mode).
    /// Without control mode (or before there is a session to watch) it only sleeps.
    public func observeChanges(for seconds: Double) async {
        let deadline = Date().addingTimeInterval(seconds)
        while case let left = deadline.timeIntervalSinceNow, left > 0, !Task.isCancelled {
            guard let env = built, env.caller.role == .root, !(await heartbeats.sessionIds.isEmpty),
                var changed = await env.tmux.waitForOutput(socket: env.tmuxSocket, timeout: left)
            else {
                try? await Task.sleep(nanoseconds: UInt64(left * 1_000_000_000))
                return
            }
            guard !changed.isEmpty else { continue }
            try? await Task.sleep(nanoseconds: 40_000_000)
            changed.formUnion(await env.tmux.waitForOutput(socket: env.tmuxSocket, timeout: 0) ?? [])
            await pollPanes(changed, env: env)
            try? await Task.sleep(nanoseconds: 60_000_000)
        }
    }

    /// One observation of the live children of this process's sessions whose pane is one of `panes`.
    func pollPanes(_ panes: Set<String>, env: ServiceEnvironment) async {
        await ServerRounds(env: env).observe(
            panes: panes, socket: env.tmuxSocket, sessions: await heartbeats.sessionIds)
    }

    /// Reconciliation right after a root server starts (docs/runtime-guide.md#reconciliation), in the background.
    public func reconcileAtStart() async {
        guard options.role == .root, let env = try? await environment() else { return }
        _ = try? await Reconciler(env: env).run()
    }

    /// A heartbeat of every session this process keeps alive (every 20 s while serving).
    public func heartbeatOnce() async {
        guard let env = built else { return }
        let ids = await heartbeats.sessionIds
        guard !ids.isEmpty else { return }
        await ServerRounds(env: env).heartbeat(sessions: ids)
    }
}

/// A write-once, lock-protected slot.
public final class ReadyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: ServiceEnvironment?

    func set(_ v: ServiceEnvironment) {
        lock.lock()
        value = v
        lock.unlock()
    }

    public func get() -> ServiceEnvironment? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
