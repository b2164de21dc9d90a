import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore

/// The observer's transitions (docs/runtime-guide.md#status-detection, docs/database.md#status-transitions) on a
/// Codex child played by the fake tmux: screens, exits, a vanished pane, the idle debounce on the fixed
/// clock, and the trust dialog answered by itself.
@Suite struct ObserverTests {
    static func observe(_ w: UnitWorld, _ id: Int) async throws -> ThreadObserver.Observation {
        try #require(try await ThreadObserver(env: w.env).observe([id], capture: true, deliver: false).first)
    }

    @Test(arguments: [("busy", "running"), ("idle", "idle"), ("mcp-approval", "waiting_user_answer")])
    func theScreenDecidesTheStatus(screen: String, status: String) async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let (id, _) = try await w.spawnCodex(session: sid, screen: try Screens.codex(screen))

        #expect(try await Self.observe(w, id).status == status)
        #expect(try await w.thread(id).status.rawValue == status)
    }

    @Test(arguments: [(0, "completed"), (3, "failed")])
    func anExitSettlesTheThreadByItsStatus(exit: Int, status: String) async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let (id, pane) = try await w.spawnCodex(session: sid, screen: try Screens.codex("busy"))
        w.tmux.exit(pane, status: exit)

        let o = try await Self.observe(w, id)
        #expect(o.status == status)
        #expect(o.exitStatus == exit)
        let t = try await w.thread(id)
        #expect(t.status.rawValue == status)
        #expect(t.exitStatus == exit)
        // The dead pane stays (remain-on-exit) so that its last screen can be read.
        #expect(t.tmuxPaneId == pane)
    }

    @Test func aVanishedPaneFailsALiveChildAndStopsOneAskedToStop() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let (failing, p1) = try await w.spawnCodex(session: sid, screen: try Screens.codex("busy"))
        let (stopping, p2) = try await w.spawnCodex(
            session: sid, screen: try Screens.codex("busy"), extra: ["title": "second"])
        try await w.store.write { tx in
            try tx.execute("UPDATE threads SET stop_requested_at = ? WHERE id = ?", [tx.now, stopping])
        }
        try await w.tmux.killPane(socket: nil, pane: p1)
        try await w.tmux.killPane(socket: nil, pane: p2)

        _ = try await ThreadObserver(env: w.env).observe([failing, stopping], capture: true, deliver: false)
        let a = try await w.thread(failing)
        let b = try await w.thread(stopping)
        #expect(a.status == .failed)
        #expect(a.failureReason == "pane vanished")
        #expect(a.tmuxPaneId == nil)
        #expect(b.status == .stopped)
    }

    @Test func aProcessingScreenReadsIdleOnlyAfterItStoodStill() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let (id, pane) = try await w.spawnCodex(session: sid, screen: try Screens.codex("busy"))
        #expect(try await Self.observe(w, id).status == "running")

        // The turn ends: the idle screen right after a processing one is held for 1.5 s of the clock.
        w.tmux.setScreen(pane, try Screens.codex("idle"))
        w.clock.advance(by: 0.5)
        #expect(try await Self.observe(w, id).status == "running")
        w.clock.advance(by: 2)
        #expect(try await Self.observe(w, id).status == "idle")
    }

    @Test func theFolderTrustDialogIsAnsweredAndIsNoQuestion() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let (id, pane) = try await w.spawnCodex(session: sid, screen: try Screens.codex("trust"))

        let o = try await Self.observe(w, id)
        #expect(o.policyDialog != nil)
        #expect(o.status != "waiting_user_answer")
        #expect(w.tmux.recorder.calls("sendKeys").contains { $0.args.first == pane })
    }
}
