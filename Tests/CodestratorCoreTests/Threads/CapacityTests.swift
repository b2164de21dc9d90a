import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore

/// max_concurrent_children (docs/runtime-guide.md#capacity) with fakes: live children and panes count, a spawn
/// over the limit creates nothing, a finished child's pane is recycled when room is needed.
@Suite struct CapacityTests {
    static func spawn(_ w: UnitWorld, _ sid: Int, _ title: String, _ extra: [String: JSON] = [:]) async throws -> JSON {
        var values: [String: JSON] = [
            "session_id": .int(sid), "provider": "generic", "runner_kind": "command", "launch_argv": ["sh"],
            "skip_ready_check": true, "title": .string(title),
        ]
        for (k, v) in extra { values[k] = v }
        return try await ThreadService(env: w.env).spawn(ThreadSpawnInput(Params(values: values)))
    }

    static func refusal(_ body: () async throws -> JSON) async -> CodestratorError? {
        do {
            _ = try await body()
            return nil
        } catch let e as CodestratorError {
            return e
        } catch {
            return CodestratorError(.internal, "\(error)", expected: "a CodestratorError")
        }
    }

    @Test func aSpawnOverTheLimitIsRefusedAndCreatesNothing() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession(extra: ["max_concurrent_children": 2])
        _ = try await Self.spawn(w, sid, "one")
        _ = try await Self.spawn(w, sid, "two")
        let adds = w.git.recorder.calls("worktreeAdd").count
        let splits = w.tmux.recorder.calls("splitWindow").count

        let e = await Self.refusal { try await Self.spawn(w, sid, "three") }
        #expect(e?.code == .conflict)
        #expect(e?.field == "max_concurrent_children")
        #expect(w.git.recorder.calls("worktreeAdd").count == adds)
        #expect(w.tmux.recorder.calls("splitWindow").count == splits)
        // A thread that is not launched takes no room.
        let planned = try await Self.spawn(w, sid, "later", ["launch_codex": false])
        #expect(planned["thread"]?["status"] == "planned")
    }

    @Test func aFinishedChildsPaneIsRecycledForANewOne() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession(extra: ["max_concurrent_children": 1])
        let first = try await Self.spawn(w, sid, "one")
        let id = try #require(first["thread"]?["id"]?.intValue)
        let pane = try #require(first["thread"]?["tmux_pane_id"]?.stringValue)
        // Still running: no room.
        #expect(await Self.refusal { try await Self.spawn(w, sid, "two") }?.code == .conflict)

        w.tmux.exit(pane, status: 0)
        // Settling and recycling run before the room is counted: the finished child's pane is closed and its
        // place taken.
        let second = try await Self.spawn(w, sid, "two")
        #expect(second["thread"]?["tmux_pane_id"]?.stringValue != nil)
        #expect(w.tmux.pane(pane) == nil, "the finished child's pane was not closed")
        let t = try await w.thread(id)
        #expect(t.status == .completed)
        #expect(t.tmuxPaneId == nil)
    }

    @Test func aSpawnMayNotRaiseTheSessionsLimit() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession(extra: ["max_concurrent_children": 2])
        let e = await Self.refusal { try await Self.spawn(w, sid, "one", ["max_concurrent_children": 5]) }
        #expect(e?.code == .invalidParams)
        #expect(try await w.store.read { tx in try tx.int("SELECT COUNT(*) FROM threads WHERE role = 'worker'") } == 0)
    }
}
