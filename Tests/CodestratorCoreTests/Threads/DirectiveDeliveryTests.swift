import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore

/// thread.child.directive against a Codex child played by the fake tmux with recorded screens
/// (docs/runtime-guide.md#directive-delivery): pasted when idle, queued when busy or asking, Enter pressed once
/// more when the paste is not taken, and a failed paste kept queued.
@Suite struct DirectiveDeliveryTests {
    static func directive(_ w: UnitWorld, _ thread: Int, _ text: String, mode: String = "queue") async throws -> JSON {
        try await ThreadService(env: w.env).directive(
            ThreadDirectiveInput(threadId: thread, directive: text, mode: mode))
    }

    @Test func anIdleChildGetsTheDirectivePastedAndRuns() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let (id, pane) = try await w.spawnCodex(session: sid, screen: try Screens.codex("idle"))
        let busy = try Screens.codex("busy")
        w.tmux.onPaste { pane, _ in w.tmux.setScreen(pane, busy) }

        let out = try await Self.directive(w, id, "add tests")
        #expect(out["result"] == "directive_sent")
        #expect(w.tmux.recorder.calls("paste").map(\.args) == [[pane, "add tests"]])
        #expect(w.tmux.recorder.calls("sendKeys").map(\.args).contains([pane, "Enter"]))
        #expect(try await w.directives(id).last?.state == "delivered")
        #expect(try await w.thread(id).status == .running)
    }

    @Test func aBusyChildGetsTheDirectiveQueued() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let (id, _) = try await w.spawnCodex(session: sid, screen: try Screens.codex("busy"))

        let out = try await Self.directive(w, id, "also docs")
        #expect(out["result"] == "directive_queued")
        #expect(w.tmux.recorder.calls("paste").isEmpty)
        #expect(try await w.directives(id).last?.state == "queued")
    }

    @Test func interruptPatchInterruptsABusyChildAndPastesOnceItIsIdle() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let (id, pane) = try await w.spawnCodex(session: sid, screen: try Screens.codex("busy"))
        #expect(
            try await ThreadObserver(env: w.env).observe([id], capture: true, deliver: false).first?.status == "running"
        )
        // The interrupt stops the turn: the idle screen, which stands still while the clock runs (the
        // observer reads an idle screen right after a busy one as idle only after 1.5 s).
        let (idle, busy) = (try Screens.codex("interrupted"), try Screens.codex("busy"))
        w.tmux.onKeys { pane, keys in
            if keys != ["Enter"] { w.tmux.setScreen(pane, idle) }
        }
        w.tmux.onPaste { pane, _ in w.tmux.setScreen(pane, busy) }
        let ticking = Task {
            while !Task.isCancelled {
                try await Task.sleep(nanoseconds: 100_000_000)
                w.clock.advance(by: 1)
            }
        }
        defer { ticking.cancel() }

        let out = try await Self.directive(w, id, "stop and fix the test first", mode: "interrupt_patch")
        #expect(out["result"] == "directive_sent")
        #expect(out["idle_before_paste"] == true)
        let methods = w.tmux.recorder.calls.filter { $0.method == "sendKeys" || $0.method == "paste" }
        #expect(methods.first?.method == "sendKeys" && methods.first?.args.dropFirst().first != "Enter", "\(methods)")
        #expect(methods.contains { $0.method == "paste" && $0.args == [pane, "stop and fix the test first"] })
    }

    @Test func aChildAskingAQuestionIsNotTypedInto() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let (id, _) = try await w.spawnCodex(session: sid, screen: try Screens.codex("mcp-approval"))

        let out = try await Self.directive(w, id, "go on", mode: "interrupt_patch")
        #expect(out["result"] == "directive_queued")
        #expect(w.tmux.recorder.calls("paste").isEmpty)
        // interrupt_patch does not interrupt a question: no interrupt keys either.
        #expect(w.tmux.recorder.calls("sendKeys").isEmpty)
        let warnings = out["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(warnings.contains { $0.contains("asking a question") }, "\(warnings)")
    }

    @Test func aPasteNotTakenGetsEnterOnceMore() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let (id, pane) = try await w.spawnCodex(session: sid, screen: try Screens.codex("idle"))
        // The first Enter is lost; the second one submits.
        let busy = try Screens.codex("busy")
        let enters = Counter()
        w.tmux.onKeys { pane, keys in
            if keys == ["Enter"], enters.next() == 2 { w.tmux.setScreen(pane, busy) }
        }

        let out = try await Self.directive(w, id, "add tests")
        #expect(out["result"] == "directive_sent")
        #expect(w.tmux.recorder.calls("sendKeys").filter { $0.args == [pane, "Enter"] }.count == 2)
        #expect(try await w.directives(id).last?.state == "delivered")
    }

    @Test func aFailedPasteStaysQueuedWithItsError() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let (id, _) = try await w.spawnCodex(session: sid, screen: try Screens.codex("idle"))
        w.tmux.recorder.fail("paste", with: FakeTmuxClient.failure(.paneNotFound, "can't find pane: %2"))

        let out = try await Self.directive(w, id, "add tests")
        #expect(out["result"] == "directive_queued")
        let last = try #require(try await w.directives(id).last)
        #expect(last.state == "queued")
        #expect(last.error?.contains("can't find pane") == true)
    }
}

/// A thread-safe counter for fake reactions.
final class Counter: @unchecked Sendable {
    let lock = NSLock()
    var value = 0
    /// The count after this call (1 for the first).
    func next() -> Int {
        lock.withLock {
            value += 1
            return value
        }
    }
}
