import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore

/// Recorded screens of the pinned clients (Tests/realclients/capture_screens.py records them).
enum Screens {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/screens")

    static func codex(_ state: String) throws -> String {
        try String(contentsOf: dir.appendingPathComponent("codex-0.163.0-\(state).txt"), encoding: .utf8)
            .replacingOccurrences(of: "\\e", with: "\u{1B}")
    }
}

extension UnitWorld {
    /// Spawns a Codex child (no ready check) whose pane shows `screen` and which has taken its prompt (so that
    /// the observer delivers nothing by itself); returns the thread id and its pane.
    func spawnCodex(session: Int, screen: String, extra: [String: JSON] = [:]) async throws -> (Int, String) {
        tmux.screenOfNewPanes(screen)
        var values: [String: JSON] = [
            "session_id": .int(session), "provider": "codex", "skip_ready_check": true, "title": "child",
        ]
        for (k, v) in extra { values[k] = v }
        let out = try await ThreadService(env: env).spawn(ThreadSpawnInput(Params(values: values)))
        let id = try #require(out["thread"]?["id"]?.intValue)
        let pane = try #require(out["thread"]?["tmux_pane_id"]?.stringValue)
        try await store.write { tx in
            try tx.execute(
                "UPDATE thread_directives SET state = 'delivered', delivered_at = ? WHERE thread_id = ?", [tx.now, id])
        }
        return (id, pane)
    }

    func thread(_ id: Int) async throws -> ThreadRecord {
        try #require(try await store.read { tx in try ThreadRecord.load(tx, id) })
    }

    /// The state and error of every directive of a thread, oldest first.
    func directives(_ thread: Int) async throws -> [(kind: String, state: String, error: String?)] {
        try await store.read { tx in
            try tx.rows(
                "SELECT kind, state, delivery_error FROM thread_directives WHERE thread_id = ? ORDER BY id", [thread]
            ).map { ($0.string("kind"), $0.string("state"), $0.optString("delivery_error")) }
        }
    }
}
