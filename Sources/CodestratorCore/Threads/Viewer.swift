import Foundation

/// The viewer tmux session `{repository}-{worktree}` of a Codestrator session (docs/runtime-guide.md#tmux-sessions-windows-and-panes).
public struct Viewer: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    public static let defaultWindow = "children"

    static var size: (Int, Int) {
        if let s = ProcessInfo.processInfo.environment["CODESTRATOR_TMUX_SIZE"] {
            let parts = s.split(separator: "x").compactMap { Int($0) }
            if parts.count == 2, parts[0] >= 20, parts[1] >= 10 { return (parts[0], parts[1]) }
        }
        return (200, 50)
    }

    static func windowOptions() -> [(String, String)] {
        [
            ("window-size", "manual"), ("remain-on-exit", "on"),
            ("remain-on-exit-format", "[codestrator] exited with status #{pane_dead_status}"),
            ("pane-border-status", "top"), ("pane-border-format", " #{pane_title} "),
        ]
    }

    /// Whether tmux is usable (≥ 3.0), with its version.
    public func tmuxReady() async -> (Bool, String?) {
        guard let v = await env.tmux.version() else { return (false, nil) }
        return (SessionService.versionAtLeast(v, 3, 0), v)
    }

    /// Makes sure the viewer session (and `window`) exists with this session's ownership marker;
    /// returns its name and whether this call created it. A foreign session of the wanted name makes
    /// the name `-2`, `-3`…; a marked one of this repository whose session is closed is replaced.
    @discardableResult
    public func ensure(session s: SessionRecord, window: String = defaultWindow) async throws -> (String, Bool) {
        let tmux = env.tmux
        let socket = s.tmuxSocket
        let base =
            s.tmuxSessionName
            ?? Slug.viewerSessionName(repository: env.layout.name, worktree: s.worktreeSlug ?? s.mainBranch ?? "main")
        var chosen: String?
        var created = false
        // What the search found, so the session is not asked for again (one has-session per name).
        var exists = false
        for n in 1...50 {
            var name = n == 1 ? base : "\(base)-\(n)"
            if name.count > 80 { name = String(base.prefix(80 - "-\(n)".count)) + "-\(n)" }
            guard try await tmux.hasSession(socket: socket, name: name) else {
                chosen = name
                break
            }
            let repo = try await tmux.sessionOption(socket: socket, session: name, name: "@codestrator_repo")
            let sid = try await tmux.sessionOption(socket: socket, session: name, name: "@codestrator_session_id")
            if repo == env.layout.root, sid == String(s.id) {
                chosen = name
                exists = true
                break
            }
            if repo == env.layout.root, let other = sid.flatMap(Int.init) {
                let closed = try await env.store.read { tx in
                    let st = try SessionRecord.load(tx, other)?.status
                    return st == nil || st == .closed || st == .superseded
                }
                if closed {
                    try await tmux.killSession(socket: socket, name: name)
                    chosen = name
                    break
                }
            }
        }
        guard let name = chosen else {
            throw CodestratorError(
                .conflict, "no free tmux session name for \(base)", expected: "fewer tmux sessions with that name")
        }
        let rootPath = try await env.store.read { tx in try WorktreeRecord.load(tx, s.sessionRootWorktreeId)?.path }
        let cwd = rootPath ?? env.layout.root
        if !exists {
            var argv = [
                ProcessIdentity.executablePath, "status", "--repo", env.layout.root, "--session", String(s.id),
                "--watch",
                "--compact",
            ]
            if env.dbPath != env.layout.defaultDatabasePath { argv += ["--db", env.dbPath] }
            let (w, h) = Self.size
            // The status pane is titled and marked by the same tmux command that creates it.
            _ = try await tmux.newSession(
                socket: socket, name: name, window: Self.defaultWindow, width: w, height: h, cwd: cwd, argv: argv,
                options: [("@codestrator_repo", env.layout.root), ("@codestrator_session_id", String(s.id))])
            try await tmux.setWindowOptions(
                socket: socket, session: name, window: Self.defaultWindow, options: Self.windowOptions())
            created = true
        }
        if window != Self.defaultWindow, !(try await tmux.hasWindow(socket: socket, session: name, window: window)) {
            _ = try await tmux.newWindow(
                socket: socket, session: name, window: window, cwd: cwd,
                argv: [
                    ProcessIdentity.executablePath, "status", "--repo", env.layout.root, "--session", String(s.id),
                    "--watch", "--compact",
                ])
            try await tmux.setWindowOptions(
                socket: socket, session: name, window: window, options: Self.windowOptions())
        }
        if name != s.tmuxSessionName {
            let id = s.id
            try await env.store.write { tx in
                try tx.execute("UPDATE sessions SET tmux_session_name = ? WHERE id = ?", [name, id])
            }
        }
        return (name, created)
    }

    /// AttachInfo (docs/database.md#object-shapes).
    public static func attachInfo(
        session name: String?, socket: String?, available: Bool, window: String?, pane: String?, tmuxVersion: String?
    ) -> JSON {
        let ignoreSize = tmuxVersion.map { SessionService.versionAtLeast($0, 3, 2) } ?? true
        let ro = name.map { AttachCommand.readOnly(session: $0, socket: socket, ignoreSize: ignoreSize) }
        let sock = AttachCommand.socketArgs(socket)
        return .obj([
            "available": available, "tmux_socket": socket, "tmux_session": name, "tmux_window": window,
            "tmux_pane_id": pane, "read_only": true, "attach_command": ro, "attach_readonly_command": ro,
            "switch_command":
                (socket == nil ? name.map { ShellQuote.join(["tmux", "switch-client", "-t", $0]) } : nil),
            "select_pane_command": pane.map { ShellQuote.join(["tmux"] + sock + ["select-pane", "-t", $0]) },
        ])
    }
}
