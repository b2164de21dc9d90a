/// Where a long call reports progress.
public final class ProgressSink: Sendable {
    let send: @Sendable (String) async -> Void
    public init(_ send: @escaping @Sendable (String) async -> Void) { self.send = send }
}

/// Progress of a long call, reported to the client when the request asked for it
/// (`_meta.progressToken`, docs/protocol-eras.md#progress-and-cancellation). The transport binds the sink for the call's task.
public enum CallProgress {
    @TaskLocal public static var sink: ProgressSink?

    public static func report(_ message: String) async {
        if let s = sink { await s.send(message) }
    }
}
