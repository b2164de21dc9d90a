import CodestratorCore
import Foundation

/// Everything a service needs, with fakes at the ports: a real SQLite store in a temporary folder (the
/// repository's `.codestrator/`), `FakeGitClient`, `FakeTmuxClient`, `FakeProgramProbe` and a
/// `FixedClock`. No git and no tmux run. `cleanup()` removes the folder.
public struct UnitWorld: Sendable {
    public let dir: String
    public let git: FakeGitClient
    public let tmux: FakeTmuxClient
    public let clock: FixedClock
    public let env: ServiceEnvironment

    public var repo: String { env.layout.root }
    public var store: Store { env.store }

    /// A world whose root process (or a child of `role` acting as `thread`) serves the repository.
    public init(
        programs: FakeProgramProbe = FakeProgramProbe(), tmuxSocket: String? = "cs-fake",
        clock: FixedClock = FixedClock()
    ) throws {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("cs-unit-\(UUID().uuidString)")
        let repo = dir + "/repo"
        let git = FakeGitClient(repo: repo)
        let tmux = FakeTmuxClient()
        let layout = RepositoryLayout(root: repo)
        try layout.ensureDirectories()
        let store = try Store(path: layout.defaultDatabasePath, clock: clock)
        self.dir = dir
        self.git = git
        self.tmux = tmux
        self.clock = clock
        env = ServiceEnvironment(
            store: store, git: git, tmux: tmux, layout: layout, caller: Caller(role: .root), oneShot: true,
            heartbeats: HeartbeatRegistry(), tmuxSocket: tmuxSocket, dbPath: layout.defaultDatabasePath,
            programs: programs, identity: RootIdentity(keys: ["unit-test"]))
    }

    /// The same world seen by a child process of `role` acting as `thread`.
    public func child(_ role: ProcessRole, thread: Int) async throws -> ServiceEnvironment {
        let sessionId = try await store.read { tx in try ThreadRecord.load(tx, thread)?.sessionId }
        return ServiceEnvironment(
            store: store, git: git, tmux: tmux, layout: env.layout,
            caller: Caller(role: role, threadId: thread, sessionId: sessionId), oneShot: true,
            heartbeats: HeartbeatRegistry(), tmuxSocket: env.tmuxSocket, dbPath: env.dbPath, programs: env.programs)
    }

    public func cleanup() { try? FileManager.default.removeItem(atPath: dir) }

    /// Opens a session (`session.open` with `new_work`) of agent role `agentRole`; returns its id and root
    /// thread id.
    public func openSession(_ request: String = "fix login", agentRole: String = "sim", extra: [String: JSON] = [:])
        async throws -> (session: Int, rootThread: Int)
    {
        var values: [String: JSON] = [
            "intent": "new_work", "user_request": .string(request), "agent_role": .string(agentRole),
        ]
        for (k, v) in extra { values[k] = v }
        let r = try await SessionService(env: env).open(SessionOpenInput(Params(values: values)))
        guard let s = r["session_context"]?["session"], let id = s["id"]?.intValue,
            let root = s["root_thread_id"]?.intValue
        else { throw CodestratorError(.internal, "session.open answered \(r.serialized())", expected: "a session") }
        return (id, root)
    }
}
