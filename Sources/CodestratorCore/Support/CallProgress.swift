/// Progress of a long call, reported to the client when the request asked for it
/// (`_meta.progressToken`, protocol.md §10). The transport binds the reporter for the call's task.
public enum CallProgress {
    @TaskLocal public static var reporter: (@Sendable (String) async -> Void)?

    public static func report(_ message: String) async {
        if let r = reporter { await r(message) }
    }
}
