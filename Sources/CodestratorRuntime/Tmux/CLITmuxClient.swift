import CodestratorCore
import Foundation

/// `TmuxClient` over the tmux CLI (runtime.md §3): argv only, 10 s per command, the process group
/// killed on a limit.
public struct CLITmuxClient: TmuxClient {
    public let executable: String
    public init(executable: String = "tmux") { self.executable = executable }

    @discardableResult
    func run(_ socket: String?, _ args: [String], stdin: [UInt8]? = nil, limit: Int = 256 * 1024, check: Bool = true)
        async throws -> ProcessResult
    {
        let argv = [executable] + AttachCommand.socketArgs(socket) + args
        let r: ProcessResult
        do {
            r = try await ProcessRunner.run(argv, timeout: 10, outputLimit: limit, stdin: stdin)
        } catch {
            throw CodestratorError(
                .unavailable, "tmux cannot run (\(error))", expected: "tmux ≥ 3.0 installed and on PATH")
        }
        if r.timedOut {
            throw CodestratorError(
                .timeout, "\(ShellQuote.join(argv)) took longer than 10 s", expected: "tmux to answer in time")
        }
        if check && !r.ok {
            throw CodestratorError(
                .externalFailed,
                "\(ShellQuote.join(argv)) failed (exit \(r.exitStatus)): \(String(r.err.prefix(500)).trimmingCharacters(in: .whitespacesAndNewlines))",
                expected: "tmux to succeed")
        }
        return r
    }

    public func version() async -> String? { await CLITmuxProbe().version() }
    public func sessionNames(socket: String?) async -> [String]? { await CLITmuxProbe().sessionNames(socket: socket) }

    public func hasSession(socket: String?, name: String) async throws -> Bool {
        try await run(socket, ["has-session", "-t", "=" + name], check: false).ok
    }

    public func sessionOption(socket: String?, session: String, name: String) async throws -> String? {
        let r = try await run(socket, ["show-options", "-v", "-q", "-t", "=\(session):", name], check: false)
        guard r.ok else { return nil }
        let v = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        return v.isEmpty ? nil : v
    }

    public func newSession(
        socket: String?, name: String, window: String, width: Int, height: Int, cwd: String, argv: [String],
        options: [(String, String)]
    ) async throws -> String {
        var args =
            [
                "new-session", "-d", "-s", name, "-n", window, "-x", String(width), "-y", String(height), "-c", cwd,
                "-P",
                "-F", "#{pane_id}", "--",
            ] + argv
        // `;` as its own argument separates tmux commands: the marks land with the session, atomically.
        for (k, v) in options { args += [";", "set-option", "-t", "=\(name):", k, v] }
        let r = try await run(socket, args)
        return r.out.split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
    }

    public func newWindow(socket: String?, session: String, window: String, cwd: String, argv: [String]) async throws
        -> String
    {
        let r = try await run(
            socket,
            ["new-window", "-d", "-t", "=" + session, "-n", window, "-c", cwd, "-P", "-F", "#{pane_id}", "--"] + argv)
        return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func hasWindow(socket: String?, session: String, window: String) async throws -> Bool {
        try await run(socket, ["list-panes", "-t", "=\(session):=\(window)", "-F", "#{pane_id}"], check: false).ok
    }

    public func setSessionOption(socket: String?, session: String, name: String, value: String) async throws {
        // Options need the `=name:` form; tmux 3.3 does not resolve a bare `=name` there.
        try await run(socket, ["set-option", "-t", "=\(session):", name, value])
    }

    public func setWindowOptions(socket: String?, session: String, window: String, options: [(String, String)])
        async throws
    {
        for (name, value) in options {
            // Options unknown to an older tmux are skipped, not fatal.
            try await run(socket, ["set-window-option", "-t", "=\(session):=\(window)", name, value], check: false)
        }
    }

    static let paneFormat =
        "#{session_name}\t#{pane_id}\t#{pane_dead}\t#{pane_dead_status}\t#{pane_pid}\t#{pane_width}\t#{pane_height}\t#{pane_title}"

    static func parsePanes(_ text: String) -> [PaneInfo] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 7 else { return nil }
            var info = PaneInfo(
                session: f[0], paneId: f[1], dead: f[2] == "1", deadStatus: Int(f[3]), pid: Int(f[4]),
                width: Int(f[5]) ?? 0, height: Int(f[6]) ?? 0)
            info.title = f.count > 7 ? f[7...].joined(separator: "\t") : ""
            return info
        }
    }

    public func listPanes(socket: String?, session: String, window: String) async throws -> [PaneInfo] {
        let r = try await run(socket, ["list-panes", "-t", "=\(session):=\(window)", "-F", Self.paneFormat])
        return Self.parsePanes(r.out)
    }

    public func listAllPanes(socket: String?) async throws -> [PaneInfo]? {
        let r = try await run(
            socket, ["list-panes", "-a", "-F", Self.paneFormat], limit: 4 * 1024 * 1024, check: false)
        guard r.ok else { return nil }
        return Self.parsePanes(r.out)
    }

    public func splitWindow(
        socket: String?, target: String, horizontal: Bool, cwd: String, env: [(String, String)], argv: [String]
    ) async throws -> String {
        var args = ["split-window", "-d", "-t", target, horizontal ? "-h" : "-v", "-c", cwd]
        for (k, v) in env { args += ["-e", "\(k)=\(v)"] }
        args += ["-P", "-F", "#{pane_id}", "--"] + argv
        let r = try await run(socket, args)
        let pane = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        // Children are watched, never typed into: tmux drops every key and paste sent to a pane whose input is
        // off, a client attached without -r included. Codestrator's own deliveries switch it on around them.
        try await run(socket, ["select-pane", "-d", "-t", pane], check: false)
        return pane
    }

    public func tile(socket: String?, session: String, window: String) async throws {
        try await run(socket, ["select-layout", "-t", "=\(session):=\(window)", "tiled"], check: false)
    }

    public func setPaneTitle(socket: String?, pane: String, title: String) async throws {
        try await run(socket, ["select-pane", "-t", pane, "-T", title], check: false)
    }

    public func pipePane(socket: String?, pane: String, logPath: String?) async throws {
        guard let logPath else {
            try await run(socket, ["pipe-pane", "-t", pane], check: false)
            return
        }
        // tmux runs this one string with /bin/sh and expands `#`: the path is single-quoted for sh
        // and each `#` doubled (runtime.md §3.4). The path is built by Codestrator, never by a caller.
        let quoted = "'" + logPath.replacingOccurrences(of: "'", with: "'\\''") + "'"
        let command = "cat >> " + quoted.replacingOccurrences(of: "#", with: "##")
        try await run(socket, ["pipe-pane", "-o", "-t", pane, command])
    }

    public func paste(socket: String?, pane: String, text: String, bufferName: String) async throws {
        do {
            try await run(socket, ["load-buffer", "-b", bufferName, "-"], stdin: Array(text.utf8))
            try await run(
                socket, Self.withInput(pane, ["paste-buffer", "-p", "-r", "-d", "-b", bufferName, "-t", pane]))
        } catch {
            _ = try? await run(socket, ["delete-buffer", "-b", bufferName], check: false)
            throw error
        }
    }

    public func sendKeys(socket: String?, pane: String, keys: [String]) async throws {
        for key in keys { try await run(socket, Self.withInput(pane, ["send-keys", "-t", pane, key])) }
    }

    /// `command` with the pane's input switched on just around it, in one tmux invocation (`select-pane -e`,
    /// the command, `select-pane -d`): a person attached without -r cannot type into a child
    /// (docs/architecture.md), while Codestrator's pastes and keys still arrive. A pane that never had its input switched off
    /// ends with it off, which is what every child pane is.
    static func withInput(_ pane: String, _ command: [String]) -> [String] {
        ["select-pane", "-e", "-t", pane, ";"] + command + [";", "select-pane", "-d", "-t", pane]
    }

    public func capture(socket: String?, pane: String, lines: Int) async throws -> String {
        let r = try await run(socket, ["capture-pane", "-p", "-J", "-t", pane, "-S", "-\(lines)"], limit: 1024 * 1024)
        return r.out
    }

    public func killPane(socket: String?, pane: String) async throws {
        try await run(socket, ["kill-pane", "-t", pane], check: false)
    }

    public func killSession(socket: String?, name: String) async throws {
        try await run(socket, ["kill-session", "-t", "=" + name], check: false)
    }

    public func runCommand(_ argv: [String], timeout: Double) async throws -> (Int, String) {
        var env = ProcessInfo.processInfo.environment
        env["DEBIAN_FRONTEND"] = "noninteractive"
        let r = try await ProcessRunner.run(argv, environment: env, timeout: timeout, outputLimit: 1024 * 1024)
        return (Int(r.exitStatus), r.out + r.err)
    }
}
