/// A FIFO async mutex: git commands that change refs, worktrees or an index run one at a time per
/// repository within a process (docs/runtime-guide.md#running-outside-programs); other calls keep running meanwhile.
public actor AsyncMutex {
    var locked = false
    var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    func acquire() async {
        if !locked {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            locked = false
        } else {
            waiters.removeFirst().resume()
        }
    }

    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await body()
    }
}
