/// What the session and system services need to know of tmux before the tmux runtime exists.
public protocol TmuxProbe: Sendable {
    /// `tmux -V` (`3.3a`), or nil when tmux is missing.
    func version() async -> String?
    /// Names of the sessions on a socket (nil socket: the default server); nil when no server runs.
    func sessionNames(socket: String?) async -> [String]?
}
