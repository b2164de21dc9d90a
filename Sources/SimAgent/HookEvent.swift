import CodestratorCore
import Foundation

/// One event of `codestrator hook sim` (docs/runtime-guide.md#status-detection): a `thread_events` row with source `sim`.
public struct SimHookEvent: Sendable, Equatable {
    /// The events the sim reports, with the provider status each one means.
    public static let statuses: KeyValuePairs<String, String> = [
        "prompt_submit": "processing",
        "turn_complete": "idle",
        "stop": "idle",
        "notification": "waiting_user_answer",
        "activity": "processing",
    ]

    /// Messages are cut to 4 KiB (docs/database.md, thread_events.message).
    public static let messageLimit = ThreadEvents.messageLimit

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

    /// Inserts the row (and prunes the thread's old events, ThreadEvents) in one short transaction.
    public func record(in store: Store) async throws {
        let recorded = try await ThreadEvents.recordIfThreadExists(
            in: store, threadId: threadId, source: "sim", event: event, providerStatus: providerStatus,
            message: message)
        guard recorded else {
            throw SimFailure("thread \(threadId) does not exist; expected a thread id of this repository")
        }
    }
}
