import Foundation

/// The `thread_events` journal (docs/runtime-guide.md#status-detection): what a child's hooks, its own MCP calls,
/// its reports and the sim agent say about its turns. Every writer goes through `record`, so the rows look
/// the same and one prune rule bounds the table.
public enum ThreadEvents {
    /// The newest rows kept per thread: the observer reads only the latest ones, and a busy child must not
    /// grow the database without bound.
    public static let keptPerThread = 200

    /// Messages are cut to 4 KiB on a character boundary (docs/database.md, thread_events.message).
    public static let messageLimit = 4096

    /// Inserts one event for `threadId` and prunes the thread's rows beyond the newest `keptPerThread`, in
    /// the caller's transaction.
    public static func record(
        _ tx: Tx, threadId: Int, source: String, event: String, providerStatus: String?, message: String? = nil
    ) throws {
        try tx.execute(
            """
            INSERT INTO thread_events (thread_id, source, event, provider_status, message, created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            [threadId, source, event, providerStatus, message.map { ScreenText.cut($0, bytes: messageLimit) }, tx.now])
        try tx.execute(
            """
            DELETE FROM thread_events WHERE thread_id = ? AND id <= (
              SELECT id FROM thread_events WHERE thread_id = ? ORDER BY id DESC LIMIT 1 OFFSET \(keptPerThread))
            """, [threadId, threadId])
    }

    /// `record` in a short transaction of its own, for a process that reports from outside (a hook command,
    /// the sim agent). Returns false, writing nothing, when the thread does not exist.
    @discardableResult
    public static func recordIfThreadExists(
        in store: Store, threadId: Int, source: String, event: String, providerStatus: String?, message: String?
    ) async throws -> Bool {
        try await store.write { tx in
            guard try tx.int("SELECT 1 FROM threads WHERE id = ?", [threadId]) != nil else { return false }
            try record(
                tx, threadId: threadId, source: source, event: event, providerStatus: providerStatus, message: message)
            return true
        }
    }

    /// A child's own MCP call counts as activity (docs/runtime-guide.md#status-detection); best effort, the call
    /// goes on whatever happens here.
    public static func recordActivity(of threadId: Int, in store: Store) async {
        try? await store.write { tx in
            try record(tx, threadId: threadId, source: "mcp", event: "activity", providerStatus: "processing")
        }
    }
}
