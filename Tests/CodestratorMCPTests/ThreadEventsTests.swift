import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// The one writer of `thread_events` (ThreadEvents): what the MCP dispatcher, work.report, the hooks and the sim
/// agent all rely on.
@Suite struct ThreadEventsTests {
    func events(_ h: Harness, _ thread: Int) async throws -> [(id: Int, event: String, message: String?)] {
        try await h.env.store.read { tx in
            try tx.rows("SELECT id, event, message FROM thread_events WHERE thread_id = ? ORDER BY id", [thread])
                .map { (id: $0.int("id"), event: $0.string("event"), message: $0.optString("message")) }
        }
    }

    @Test func aThreadKeepsItsNewestEventsAndOthersAreUntouched() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (session, _) = try await h.openSession()
        let busy = try await h.insertThread(session: session, role: .worker)
        let quiet = try await h.insertThread(session: session, role: .worker)
        try await h.env.store.write { tx in
            try ThreadEvents.record(tx, threadId: quiet, source: "sim", event: "stop", providerStatus: "idle")
            for i in 0..<(ThreadEvents.keptPerThread + 5) {
                try ThreadEvents.record(
                    tx, threadId: busy, source: "sim", event: "activity", providerStatus: "processing", message: "m\(i)"
                )
            }
        }
        let kept = try await events(h, busy)
        #expect(kept.count == ThreadEvents.keptPerThread)
        #expect(kept.first?.message == "m5" && kept.last?.message == "m\(ThreadEvents.keptPerThread + 4)")
        #expect(try await events(h, quiet).map(\.event) == ["stop"])
    }

    @Test func messagesAreCutToFourKiBOnACharacterBoundary() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (session, _) = try await h.openSession()
        let thread = try await h.insertThread(session: session, role: .worker)
        // 3-byte characters: 4096 is not a multiple of 3, so a byte cut would split one.
        let long = String(repeating: "€", count: 2000)
        let recorded = try await ThreadEvents.recordIfThreadExists(
            in: h.env.store, threadId: thread, source: "claude-hook", event: "stop", providerStatus: "idle",
            message: long)
        #expect(recorded)
        let message = try #require(try await events(h, thread).first?.message)
        #expect(message.utf8.count == 4095 && message == String(repeating: "€", count: 1365))
    }

    @Test func anUnknownThreadGetsNoRow() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let recorded = try await ThreadEvents.recordIfThreadExists(
            in: h.env.store, threadId: 9999, source: "sim", event: "stop", providerStatus: "idle", message: nil)
        #expect(!recorded)
        #expect(try await h.env.store.read { tx in try tx.int("SELECT COUNT(*) FROM thread_events") } == 0)
    }

    @Test func aChildsOwnCallIsRecordedAsActivityButItsReportOnlyAsAReport() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (session, _) = try await h.openSession()
        let thread = try await h.insertThread(session: session, role: .worker)
        let child = h.child(.worker, thread: thread)
        try await h.ok("inbox.pending", as: child)
        try await h.ok("work.report", ["outcome": "done", "summary": "finished"], as: child)
        let rows = try await events(h, thread)
        #expect(rows.map(\.event) == ["activity", "report"])
        #expect(rows.last?.message == "finished")
    }
}
