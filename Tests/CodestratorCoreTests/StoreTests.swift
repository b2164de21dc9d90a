import Foundation
import Testing

@testable import CodestratorCore

@Suite struct StoreTests {
    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "cs-test-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func migratingTwiceIsHarmlessAndSeedsSingletons() async throws {
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        _ = try Store(path: d + "/state.db")
        let s = try Store(path: d + "/state.db")
        let n = try await s.read { tx in try tx.int("SELECT COUNT(*) FROM merge_main_lock") }
        #expect(n == 1)
    }

    @Test func versionBumpsOnlyWhenAsked() async throws {
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let s = try Store(path: d + "/state.db")
        try await s.write { tx in tx.bumpVersion() }
        try await s.write { _ in }
        let v = try await s.read { tx in try tx.int("SELECT db_version FROM meta") }
        #expect(v == 1)
    }

    @Test func aFailedTransactionWritesNothing() async throws {
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let s = try Store(path: d + "/state.db")
        await #expect(throws: CodestratorError.self) {
            try await s.write { tx in
                try tx.execute(
                    "INSERT INTO runtime_events (requirement, status, created_at) VALUES ('tmux', 'ready', ?)", [tx.now]
                )
                throw CodestratorError(.invalidState, "stop", expected: "nothing")
            }
        }
        let n = try await s.read { tx in try tx.int("SELECT COUNT(*) FROM runtime_events") }
        #expect(n == 0)
    }

    @Test func timestampsAreFixedWidthUTC() {
        let t = Timestamp.format(Date(timeIntervalSince1970: 1_772_359_200.123))
        #expect(t == "2026-03-01T10:00:00.123Z")
        #expect(t.count == 24)
        #expect(Timestamp.parse(t).map { abs($0.timeIntervalSince1970 - 1_772_359_200.123) < 0.001 } == true)
    }
}
