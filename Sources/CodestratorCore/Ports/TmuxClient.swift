import Foundation

/// One pane as `list-panes -a` reports it.
public struct PaneInfo: Sendable, Equatable {
    public var session: String
    public var paneId: String
    public var dead: Bool
    public var deadStatus: Int?
    public var pid: Int?
    public var width: Int
    public var height: Int
    public var title: String = ""
    /// The tmux id of the pane's session (`$3`): unlike its name, never reused by the server.
    public var sessionId = ""
    /// Marked as a viewer's status pane (`@codestrator_status`, set when the pane was created).
    public var statusPane = false
    /// When the pane's process started, when the lister knows it without asking (a fake); the real adapter
    /// reads it only on demand (`TmuxClient.processStartTime(of:)`), since a list refresh never needs it.
    public var startedAt: Date?

    public init(session: String, paneId: String, dead: Bool, deadStatus: Int?, pid: Int?, width: Int, height: Int) {
        self.session = session
        self.paneId = paneId
        self.dead = dead
        self.deadStatus = deadStatus
        self.pid = pid
        self.width = width
        self.height = height
    }
}

/// Everything Codestrator asks of tmux (docs/runtime-guide.md#tmux-sessions-windows-and-panes). Every call names its socket (`nil`: the
/// user's default server); targets are exact (`=session`, `=session:=window`, `%pane`). Arguments
/// reach tmux as argv, text only through buffers.
public protocol TmuxClient: TmuxProbe {
    func hasSession(socket: String?, name: String) async throws -> Bool
    /// A session option (`@codestrator_repo`…), nil when unset or the session is missing. `session` is a
    /// name or a session id (`$3`); so is `name` of `killSession`.
    func sessionOption(socket: String?, session: String, name: String) async throws -> String?
    /// `new-session -d` with its first pane running `argv`, and the session options set in the same
    /// tmux command (so a crash can never leave an unmarked viewer); returns the first pane's id. The
    /// first pane is marked as the status pane (title and `@codestrator_status`) in that same command.
    func newSession(
        socket: String?, name: String, window: String, width: Int, height: Int, cwd: String, argv: [String],
        options: [(String, String)]
    ) async throws -> String
    /// `new-window -d` running `argv`, its pane marked as a status pane in the same command.
    func newWindow(socket: String?, session: String, window: String, cwd: String, argv: [String]) async throws -> String
    func hasWindow(socket: String?, session: String, window: String) async throws -> Bool
    func setSessionOption(socket: String?, session: String, name: String, value: String) async throws
    func setWindowOptions(socket: String?, session: String, window: String, options: [(String, String)]) async throws
    /// Panes of one window.
    func listPanes(socket: String?, session: String, window: String) async throws -> [PaneInfo]
    /// Panes of every session on the socket (nil when no server runs); throws when tmux answers
    /// something else than a readable listing.
    func listAllPanes(socket: String?) async throws -> [PaneInfo]?
    /// The current directory of a pane's foreground process (nil: unknown).
    func paneCurrentPath(socket: String?, pane: String) async throws -> String?
    /// `split-window -d` of `target` running `argv` directly; returns the new pane id.
    func splitWindow(
        socket: String?, target: String, horizontal: Bool, cwd: String, env: [(String, String)], argv: [String]
    ) async throws -> String
    func tile(socket: String?, session: String, window: String) async throws
    func setPaneTitle(socket: String?, pane: String, title: String) async throws
    /// `pipe-pane -o` appending to `logPath` (nil: stop piping).
    func pipePane(socket: String?, pane: String, logPath: String?) async throws
    /// `load-buffer` + `paste-buffer -p -r -d`: text reaches the pane only through a buffer.
    func paste(socket: String?, pane: String, text: String, bufferName: String) async throws
    func sendKeys(socket: String?, pane: String, keys: [String]) async throws
    func capture(socket: String?, pane: String, lines: Int) async throws -> String
    func killPane(socket: String?, pane: String) async throws
    func killSession(socket: String?, name: String) async throws
    /// Kills the session `id` (`$3`) only if its option `option` is `value` now, in one step of the tmux server: a
    /// session id names another session once the server restarted (ids start again at `$0`), so a check made
    /// before the kill may be about a session that is gone.
    func killSession(socket: String?, id: String, ifOption option: String, is value: Int) async throws
    /// A one-shot program (installer checks of runtime.tmux.ensure): exit status and combined output.
    func runCommand(_ argv: [String], timeout: Double) async throws -> (Int, String)
    /// An opaque mark of the output tmux has reported for `pane` (of the session whose id is `sessionId`) so far;
    /// nil when this adapter cannot tell. Two equal marks: the pane wrote nothing and no layout changed in
    /// between, so its screen is the same (docs/runtime-guide.md#tmux-control-mode).
    func outputMark(socket: String?, sessionId: String, pane: String) async -> String?
    /// Waits up to `timeout` seconds for output from the watched panes of `socket` and returns the panes that
    /// wrote (empty after the timeout); nil when this adapter watches no output (the caller sleeps instead).
    func waitForOutput(socket: String?, timeout: Double) async -> Set<String>?
    /// When the process of a listed live pane started (nil: unknown, dead or gone): judges whether an unrecorded
    /// pane may be another process's launch in flight. Asked only for such panes, never for a whole listing.
    func processStartTime(of pane: PaneInfo) async -> Date?
}

extension TmuxClient {
    public func outputMark(socket: String?, sessionId: String, pane: String) async -> String? { nil }
    public func waitForOutput(socket: String?, timeout: Double) async -> Set<String>? { nil }
    public func processStartTime(of pane: PaneInfo) async -> Date? { pane.dead ? nil : pane.startedAt }
}
