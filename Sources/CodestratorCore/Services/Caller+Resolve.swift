import Foundation

extension Caller {
    /// Who a process started as `role` (acting as thread `threadId`) is: the root as given; a child role must
    /// name an existing thread of that role, whose session becomes the caller's (docs/protocol-eras.md#roles).
    public static func resolve(role: ProcessRole, threadId: Int?, in store: Store) async throws -> Caller {
        var caller = Caller(role: role, threadId: threadId)
        guard role != .root else { return caller }
        guard let tid = threadId else {
            throw CodestratorError(.invalidParams, "role \(role.rawValue) needs --thread-id", expected: "a thread id")
        }
        caller.sessionId = try await store.read { tx in
            guard let t = try ThreadRecord.load(tx, tid) else {
                throw CodestratorError(.notFound, "thread \(tid) does not exist", expected: "an existing thread id")
            }
            guard t.role == role.threadRole else {
                throw CodestratorError(
                    .invalidParams, "thread \(tid) has role \(t.role.rawValue)", expected: "role \(role.rawValue)")
            }
            return t.sessionId
        }
        return caller
    }
}
