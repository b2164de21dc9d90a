import CodestratorAssembly
import CodestratorCore
import Foundation

/// What a hook command observes a child through once its event is recorded (HookSettle): the hook's own
/// database handle and one-shot tmux commands (a hook is too short-lived for a control-mode connection).
enum HookEnvironment {
    /// At most this long is spent observing, so the client waiting for its hook is not held up by a slow tmux.
    static let settleSeconds = 0.5

    static func settle(threadId: Int, store: Store, dbPath: String) async {
        let env = make(store: store, dbPath: dbPath)
        _ = await withDeadline(seconds: settleSeconds) { await HookSettle.observe(threadId: threadId, env: env) }
    }

    static func make(store: Store, dbPath: String) -> ServiceEnvironment {
        // `<root>/.codestrator/state.db`; the observer reads paths from the thread's row, not from the layout.
        let root = ((dbPath as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        let adapters = Assembly.adapters(for: .hook)
        return ServiceEnvironment(
            store: store, git: adapters.git, tmux: adapters.tmux, layout: RepositoryLayout(root: root),
            caller: Caller(role: .root), oneShot: true, heartbeats: HeartbeatRegistry(), tmuxSocket: nil,
            dbPath: dbPath, programs: adapters.programs)
    }
}
