import CodestratorCore
import Foundation

/// A `TmuxClient` over an in-memory server: sessions with options, windows, panes with a screen, a
/// working directory and the argv they run. Every call is recorded (`recorder`) and can be made to fail
/// with a typed failure (`recorder.fail("splitWindow", with: FakeTmuxClient.failure(.noSpace))`). Tests
/// play the child by setting a pane's screen (`setScreen`) or ending it (`exit`). No tmux runs.
public final class FakeTmuxClient: TmuxClient, @unchecked Sendable {
    public struct Pane: Sendable, Equatable {
        public var id: String
        public var session: String
        public var window: String
        public var dead = false
        public var deadStatus: Int?
        public var width = 200
        public var height = 50
        public var title = ""
        public var statusPane = false
        public var cwd: String
        public var argv: [String]
        public var env: [String] = []
        public var screen = ""
        public var logPath: String?
        /// When the pane's program started: long ago unless a test says otherwise (`addPane`).
        public var startedAt = Date(timeIntervalSince1970: 0)
    }

    struct Session {
        var id: String
        var options: [String: String]
        var windows: [String]
    }

    public let recorder = CallLog()
    /// `tmux -V`; nil: tmux is missing.
    public var tmuxVersion: String? {
        get { recorder.locked { version } }
        set { recorder.locked { version = newValue } }
    }
    var version: String? = "3.3a"
    var sessions: [String: Session] = [:]
    var panes: [String: Pane] = [:]
    var nextPane = 0
    var nextSession = 0
    var newPaneScreen = ""
    var keysReaction: (@Sendable (String, [String]) -> Void)?
    var pasteReaction: (@Sendable (String, String) -> Void)?
    /// The directory a pane reports instead of the one it was started in (a program that left it).
    var currentPath: [String: String] = [:]
    var anyCurrentPath: String?

    public init() {}

    /// A failure as the CLI adapter reports it, with its kind.
    public static func failure(_ kind: TmuxFailure, _ what: String = "tmux failed") -> CodestratorError {
        CodestratorError(.externalFailed, what, expected: "tmux to succeed", failure: .tmux(kind))
    }

    // MARK: the test's side

    public func pane(_ id: String) -> Pane? { recorder.locked { panes[id] } }

    /// Every live or dead pane, by id order.
    public var allPanes: [Pane] {
        recorder.locked {
            panes.values.sorted { $0.id.count == $1.id.count ? $0.id < $1.id : $0.id.count < $1.id.count }
        }
    }

    public var sessionNamesNow: [String] { recorder.locked { sessions.keys.sorted() } }

    /// The screen every pane `splitWindow` creates from now on shows (a child's program as it starts).
    public func screenOfNewPanes(_ text: String) { recorder.locked { newPaneScreen = text } }

    public func setScreen(_ pane: String, _ text: String) { recorder.locked { panes[pane]?.screen = text } }

    /// A pane no Codestrator call made (another process's launch in flight, or debris), in the first window of
    /// `session`, its program started at `startedAt`; returns its id.
    public func addPane(session: String, startedAt: Date, argv: [String] = ["sh"]) -> String {
        recorder.locked {
            let id = newPaneId()
            panes[id] = Pane(
                id: id, session: session, window: sessions[session]?.windows.first ?? "children", cwd: "/",
                argv: argv, startedAt: startedAt)
            return id
        }
    }

    /// The panes of `session`, by id.
    public func paneIds(session: String) -> [String] {
        recorder.locked { sortedPanes { $0.session == session }.map(\.paneId) }
    }

    /// The session's option `name` (`@codestrator_session_id`, …), as the test sets it.
    public func setSessionOption(_ session: String, _ name: String, _ value: String) {
        recorder.locked { sessions[session]?.options[name] = value }
    }

    /// The pane's program exits with `status` (the pane stays, dead, as remain-on-exit keeps it).
    public func exit(_ pane: String, status: Int) {
        recorder.locked {
            panes[pane]?.dead = true
            panes[pane]?.deadStatus = status
        }
    }

    /// Every pane without a path of its own (`setCurrentPath`) reports `path` as its current directory (nil:
    /// the directory it was started in), as tmux does for a pane started where its `-c` directory was missing.
    public func setCurrentPathOfAllPanes(_ path: String?) { recorder.locked { anyCurrentPath = path } }

    /// The pane's program reports `path` as its current directory.
    public func setCurrentPath(_ pane: String, _ path: String) { recorder.locked { currentPath[pane] = path } }

    /// Called with (pane, text) on every paste that succeeds: the test's stand-in for the child reading input.
    public func onPaste(_ body: @escaping @Sendable (String, String) -> Void) {
        recorder.locked { pasteReaction = body }
    }

    /// Called with (pane, keys) on every `sendKeys` that succeeds: the child reacting to a key.
    public func onKeys(_ body: @escaping @Sendable (String, [String]) -> Void) {
        recorder.locked { keysReaction = body }
    }

    /// A session someone else made (no Codestrator marks unless given).
    public func addSession(_ name: String, options: [String: String] = [:]) {
        recorder.locked {
            nextSession += 1
            sessions[name] = Session(id: "$\(nextSession)", options: options, windows: [])
        }
    }

    // MARK: TmuxProbe

    public func version() async -> String? {
        try? recorder.record("version")
        return tmuxVersion
    }

    public func sessionNames(socket: String?) async -> [String]? {
        try? recorder.record("sessionNames")
        return recorder.locked { sessions.isEmpty ? nil : sessions.keys.sorted() }
    }

    // MARK: TmuxClient

    func newPaneId() -> String {
        nextPane += 1
        return "%\(nextPane)"
    }

    func sessionKey(_ s: String) -> String? {
        if let hit = sessions.first(where: { $0.value.id == s }) { return hit.key }
        return sessions[s] != nil ? s : nil
    }

    public func hasSession(socket: String?, name: String) async throws -> Bool {
        try recorder.record("hasSession", [name])
        return recorder.locked { sessions[name] != nil }
    }

    public func sessionOption(socket: String?, session: String, name: String) async throws -> String? {
        try recorder.record("sessionOption", [session, name])
        return recorder.locked { sessionKey(session).flatMap { sessions[$0]?.options[name] } }
    }

    public func newSession(
        socket: String?, name: String, window: String, width: Int, height: Int, cwd: String, argv: [String],
        options: [(String, String)]
    ) async throws -> String {
        try recorder.record("newSession", [name, window])
        return try recorder.locked {
            guard sessions[name] == nil else { throw Self.failure(.other, "duplicate session: \(name)") }
            nextSession += 1
            var o: [String: String] = [:]
            for (k, v) in options { o[k] = v }
            sessions[name] = Session(id: "$\(nextSession)", options: o, windows: [window])
            let id = newPaneId()
            panes[id] = Pane(
                id: id, session: name, window: window, width: width, height: height, title: "codestrator status",
                statusPane: true, cwd: cwd, argv: argv)
            return id
        }
    }

    public func newWindow(socket: String?, session: String, window: String, cwd: String, argv: [String]) async throws
        -> String
    {
        try recorder.record("newWindow", [session, window])
        return try recorder.locked {
            guard sessions[session] != nil else { throw Self.failure(.sessionNotFound) }
            sessions[session]?.windows.append(window)
            let id = newPaneId()
            panes[id] = Pane(
                id: id, session: session, window: window, title: "codestrator status", statusPane: true, cwd: cwd,
                argv: argv)
            return id
        }
    }

    public func hasWindow(socket: String?, session: String, window: String) async throws -> Bool {
        try recorder.record("hasWindow", [session, window])
        return recorder.locked { sessions[session]?.windows.contains(window) ?? false }
    }

    public func setSessionOption(socket: String?, session: String, name: String, value: String) async throws {
        try recorder.record("setSessionOption", [session, name, value])
        try recorder.locked {
            guard sessions[session] != nil else { throw Self.failure(.sessionNotFound) }
            sessions[session]?.options[name] = value
        }
    }

    public func setWindowOptions(socket: String?, session: String, window: String, options: [(String, String)])
        async throws
    {
        try recorder.record("setWindowOptions", [session, window])
    }

    func info(_ p: Pane) -> PaneInfo {
        var i = PaneInfo(
            session: p.session, paneId: p.id, dead: p.dead, deadStatus: p.deadStatus, pid: p.dead ? nil : 4242,
            width: p.width, height: p.height)
        i.title = p.title
        i.statusPane = p.statusPane
        i.sessionId = sessions[p.session]?.id ?? ""
        i.startedAt = p.dead ? nil : p.startedAt
        return i
    }

    func sortedPanes(_ filter: (Pane) -> Bool) -> [PaneInfo] {
        panes.values.filter(filter).sorted { ($0.id.count, $0.id) < ($1.id.count, $1.id) }.map(info)
    }

    public func listPanes(socket: String?, session: String, window: String) async throws -> [PaneInfo] {
        try recorder.record("listPanes", [session, window])
        return try recorder.locked {
            guard sessions[session]?.windows.contains(window) == true else { throw Self.failure(.windowNotFound) }
            return sortedPanes { $0.session == session && $0.window == window }
        }
    }

    public func listAllPanes(socket: String?) async throws -> [PaneInfo]? {
        try recorder.record("listAllPanes")
        return recorder.locked { sessions.isEmpty ? nil : sortedPanes { _ in true } }
    }

    public func paneCurrentPath(socket: String?, pane: String) async throws -> String? {
        try recorder.record("paneCurrentPath", [pane])
        return recorder.locked { currentPath[pane] ?? anyCurrentPath ?? panes[pane]?.cwd }
    }

    public func splitWindow(
        socket: String?, target: String, horizontal: Bool, cwd: String, env: [(String, String)], argv: [String]
    ) async throws -> String {
        try recorder.record("splitWindow", [target] + argv)
        return try recorder.locked {
            guard let t = panes[target] else { throw Self.failure(.paneNotFound, "can't find pane: \(target)") }
            let id = newPaneId()
            if horizontal { panes[target]?.width = t.width / 2 } else { panes[target]?.height = t.height / 2 }
            panes[id] = Pane(
                id: id, session: t.session, window: t.window, width: horizontal ? t.width / 2 : t.width,
                height: horizontal ? t.height : t.height / 2, cwd: cwd, argv: argv, env: env.map { "\($0.0)=\($0.1)" },
                screen: newPaneScreen)
            return id
        }
    }

    public func tile(socket: String?, session: String, window: String) async throws {
        try recorder.record("tile", [session, window])
    }

    public func setPaneTitle(socket: String?, pane: String, title: String) async throws {
        try recorder.record("setPaneTitle", [pane, title])
        recorder.locked { panes[pane]?.title = title }
    }

    public func pipePane(socket: String?, pane: String, logPath: String?) async throws {
        try recorder.record("pipePane", [pane, logPath ?? "-"])
        recorder.locked { panes[pane]?.logPath = logPath }
    }

    public func paste(socket: String?, pane: String, text: String, bufferName: String) async throws {
        try recorder.record("paste", [pane, text])
        let reaction: (@Sendable (String, String) -> Void)? = try recorder.locked {
            guard panes[pane] != nil else { throw Self.failure(.paneNotFound, "can't find pane: \(pane)") }
            return pasteReaction
        }
        reaction?(pane, text)
    }

    public func sendKeys(socket: String?, pane: String, keys: [String]) async throws {
        try recorder.record("sendKeys", [pane] + keys)
        let reaction: (@Sendable (String, [String]) -> Void)? = try recorder.locked {
            guard panes[pane] != nil else { throw Self.failure(.paneNotFound, "can't find pane: \(pane)") }
            return keysReaction
        }
        reaction?(pane, keys)
    }

    public func capture(socket: String?, pane: String, lines: Int) async throws -> String {
        try recorder.record("capture", [pane])
        return try recorder.locked {
            guard let p = panes[pane] else { throw Self.failure(.paneNotFound, "can't find pane: \(pane)") }
            return p.screen
        }
    }

    public func killPane(socket: String?, pane: String) async throws {
        try recorder.record("killPane", [pane])
        recorder.locked {
            guard let p = panes.removeValue(forKey: pane) else { return }
            if !panes.values.contains(where: { $0.session == p.session && $0.window == p.window }) {
                sessions[p.session]?.windows.removeAll { $0 == p.window }
                if sessions[p.session]?.windows.isEmpty == true { sessions[p.session] = nil }
            }
        }
    }

    public func killSession(socket: String?, id: String, ifOption option: String, is value: Int) async throws {
        let current = try await sessionOption(socket: socket, session: id, name: option)
        guard current == String(value) else { return }
        try await killSession(socket: socket, name: id)
    }

    public func killSession(socket: String?, name: String) async throws {
        try recorder.record("killSession", [name])
        recorder.locked {
            guard let key = sessionKey(name) else { return }
            sessions[key] = nil
            panes = panes.filter { $0.value.session != key }
        }
    }

    public func runCommand(_ argv: [String], timeout: Double) async throws -> (Int, String) {
        try recorder.record("runCommand", argv)
        return (127, "not run by the fake")
    }
}
