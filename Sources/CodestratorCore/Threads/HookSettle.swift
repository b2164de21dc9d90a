import Foundation

/// After a hook command recorded a child's turn event (`codestrator hook …`): that child is observed at once, so
/// its stored status follows the event in the hook's own few milliseconds instead of at the root server's next
/// round (up to 2 s away, and no round at all while no root server runs). The observation is the usual one
/// (docs/runtime-guide.md#status-detection): the event speaks only while it is newer than the screen's last change.
/// It neither delivers a queued directive nor answers a policy dialog: the client is still inside its hook,
/// and the server watching the child does both.
public enum HookSettle {
    public static func observe(threadId: Int, env: ServiceEnvironment) async {
        _ = try? await ThreadObserver(env: env).observe([threadId], capture: true, deliver: false, answerPolicy: false)
    }
}
