import CodestratorCore
import Foundation

/// One event of `codestrator hook sim` (docs/runtime.md#status-detection): a `thread_events` row with source `sim`.
public struct SimHookEvent: Sendable, Equatable {
    /// The events the sim reports, with the provider status each one means.
    public static let statuses: KeyValuePairs<String, String> = [
        "prompt_submit": "processing",
        "turn_complete": "idle",
        "stop": "idle",
        "notification": "waiting_user_answer",
        "activity": "processing",
    ]

    /// Messages are cut to 4 KiB (docs/data-model.md, thread_events.message).
    public static let messageLimit = 4096

    public let threadId: Int
    public let event: String
    public let providerStatus: String
    public let message: String?

    /// Validates an event name and cuts the message; throws a message saying what was expected.
    public init(threadId: Int, event: String, message: String?) throws {
        guard let status = Self.statuses.first(where: { $0.key == event })?.value else {
            let names = Self.statuses.map(\.key).joined(separator: "|")
            throw SimFailure("event \"\(event)\" is unknown; expected one of \(names)")
        }
        self.threadId = threadId
        self.event = event
        self.providerStatus = status
        self.message = message.map { Self.cut($0, toBytes: Self.messageLimit) }
    }

    /// The longest prefix of `s` (whole characters) within `limit` UTF-8 bytes.
    public static func cut(_ s: String, toBytes limit: Int) -> String {
        guard s.utf8.count > limit else { return s }
        var used = 0
        var end = s.startIndex
        for i in s.indices {
            let n = s[i].utf8.count
            if used + n > limit { break }
            used += n
            end = s.index(after: i)
        }
        return String(s[..<end])
    }

    /// Inserts the row (and prunes the thread's events beyond the newest 200) in one short transaction.
    public func record(in store: Store) async throws {
        let e = self
        try await store.write { tx in
            guard try tx.int("SELECT 1 FROM threads WHERE id = ?", [e.threadId]) != nil else {
                throw SimFailure("thread \(e.threadId) does not exist; expected a thread id of this repository")
            }
            try tx.insert(
                """
                INSERT INTO thread_events (thread_id, source, event, provider_status, message, created_at)
                VALUES (?, 'sim', ?, ?, ?, ?)
                """, [e.threadId, e.event, e.providerStatus, e.message, tx.now])
            try tx.execute(
                """
                DELETE FROM thread_events WHERE thread_id = ? AND id <= (
                  SELECT id FROM thread_events WHERE thread_id = ? ORDER BY id DESC LIMIT 1 OFFSET 200)
                """, [e.threadId, e.threadId])
        }
    }
}
