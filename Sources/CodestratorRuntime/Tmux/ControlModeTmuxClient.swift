import CodestratorCore
import Foundation

/// The control-mode side of the tmux adapter (docs/runtime-guide.md#tmux-control-mode): at most one `tmux -C` client
/// per socket for this process, started on first use, attached to a Codestrator viewer session (never to a
/// session of the user's, and never one of its own: nothing new appears in `list-sessions`), and started again
/// after it exits. `CLITmuxClient` sends its commands through it when it has one and falls back to one tmux
/// process per command when there is none: no server on the socket, no viewer session yet, tmux older than 3.2
/// (`attach -f`), or a client that cannot start.
public actor ControlModeTmuxClient {
    let executable: String
    private var connections: [String: ControlModeConnection] = [:]
    private var starting: [String: Task<ControlModeConnection?, Never>] = [:]
    private var failedAt: [String: Date] = [:]
    private var versionOK: Bool?

    /// A socket where a client could not start is tried again only after this long (the one-shot path
    /// serves meanwhile), unless a call names a session to attach to.
    static let retryAfter: TimeInterval = 0.5

    public init(executable: String = "tmux") { self.executable = executable }

    /// The live client of `socket`, started when there is none. `session` (a viewer's name) is where a new
    /// client attaches; without one it attaches to the first session carrying `@codestrator_session_id`.
    func connection(socket: String?, session: String? = nil) async -> ControlModeConnection? {
        let key = socket ?? ""
        if let c = connections[key], c.isAlive { return c }
        connections[key] = nil
        if let t = starting[key] { return await t.value }
        if session == nil, let f = failedAt[key], Date().timeIntervalSince(f) < Self.retryAfter { return nil }
        let task = Task { await self.start(socket: socket, session: session) }
        starting[key] = task
        let c = await task.value
        starting[key] = nil
        if let c { connections[key] = c } else { failedAt[key] = Date() }
        return c
    }

    /// The live client of `socket` if there is one; never starts one.
    func existing(socket: String?) -> ControlModeConnection? {
        guard let c = connections[socket ?? ""], c.isAlive else { return nil }
        return c
    }

    /// Closes every client (tests; a server exiting just lets tmux see EOF).
    public func closeAll() {
        for c in connections.values { c.close() }
        connections = [:]
    }

    /// The pid-free test hook for "the connection died": closes the client of `socket`.
    public func dropConnection(socket: String?) {
        connections[socket ?? ""]?.close()
    }

    /// Whether a client of `socket` is running now.
    public func isConnected(socket: String?) -> Bool { existing(socket: socket) != nil }

    private func start(socket: String?, session: String?) async -> ControlModeConnection? {
        if versionOK == nil {
            let v = await CLITmuxProbe().version()
            versionOK = v.map { TmuxVersion.atLeast($0, major: 3, minor: 2) } ?? false
        }
        guard versionOK == true else { return nil }
        let target: String
        if let session {
            target = "=" + session
        } else {
            guard let id = await markedSession(socket: socket) else { return nil }
            target = id
        }
        guard let c = ControlModeConnection(executable: executable, socket: socket, session: target) else {
            return nil
        }
        // The first reply proves the client attached, and names the session whose panes it hears.
        guard let r = try? await c.send("display-message -p '#{session_id}'", timeout: 3), r.ok,
            let id = r.lines.first, id.hasPrefix("$")
        else {
            c.close()
            return nil
        }
        c.attached(to: id)
        return c
    }

    /// The id of a Codestrator viewer session on `socket` (nil: none, or no server).
    private func markedSession(socket: String?) async -> String? {
        let argv =
            [executable, "-u"] + AttachCommand.socketArgs(socket) + [
                "list-sessions", "-F", "#{session_id}\t#{@codestrator_session_id}",
            ]
        guard let r = try? await ProcessRunner.run(argv, timeout: 10), r.ok else { return nil }
        for line in r.out.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            if f.count == 2, f[0].hasPrefix("$"), !f[1].isEmpty { return String(f[0]) }
        }
        return nil
    }
}

/// tmux version strings (`3.3a`, `next-3.4`, `3.2-rc2`) compared by major and minor number.
enum TmuxVersion {
    static func atLeast(_ version: String, major: Int, minor: Int) -> Bool {
        let digits = version.drop { !$0.isNumber }
        let parts = digits.split(separator: ".", maxSplits: 1)
        guard let ma = parts.first.flatMap({ Int($0) }) else { return false }
        let mi = parts.count > 1 ? Int(parts[1].prefix { $0.isNumber }) ?? 0 : 0
        return ma > major || (ma == major && mi >= minor)
    }
}
