import CodestratorCore
import Foundation

/// `TmuxClient` over the tmux CLI: argv only, 10 s per command, the process group killed on a limit.
///
/// - Every call passes `-u`: tmux then writes its output as UTF-8 whatever the caller's locale. Without it,
///   under `LANG` unset, `C` or `POSIX`, tmux prints `_` for the tab of `-F` formats and for non-ASCII.
/// - Every argument tmux format-expands (`-c`, `-n`, `-s`, `-T`) goes through `escapeFormat`, so a path
///   or name holding `#(...)`, `#{...}` or `#S` reaches tmux verbatim.
///
/// With a `control` client (docs/runtime-guide.md#tmux-control-mode) the same commands go as command lines over one
/// persistent `tmux -C` connection per socket instead of one process each; without one, or when the connection
/// cannot take a command, they run as processes as before.
public struct CLITmuxClient: TmuxClient {
    public let executable: String
    public let control: ControlModeTmuxClient?
    public init(executable: String = "tmux", control: ControlModeTmuxClient? = nil) {
        self.executable = executable
        self.control = control
    }

    /// `#` doubled: tmux format-expands `-c`, `-n`, `-s` and `-T`, where `#(cmd)` runs a shell command
    /// and `#S`, `#{…}` are replaced; `##` is a literal `#`.
    public static func escapeFormat(_ s: String) -> String { s.replacingOccurrences(of: "#", with: "##") }

    /// The title and pane option that mark a viewer's status pane, set in the tmux command that creates it.
    public static let statusTitle = "codestrator status"

    @discardableResult
    func run(
        _ socket: String?, _ args: [String], stdin: [UInt8]? = nil, limit: Int = 256 * 1024, check: Bool = true,
        session: String? = nil
    ) async throws -> ProcessResult {
        let argv = [executable, "-u"] + AttachCommand.socketArgs(socket) + args
        let r: ProcessResult
        if stdin == nil, let sent = await viaControl(socket, args, session: session) {
            r = sent
        } else {
            do {
                r = try await ProcessRunner.run(argv, timeout: 10, outputLimit: limit, stdin: stdin)
            } catch {
                throw CodestratorError(
                    .unavailable, "tmux cannot run (\(error))", expected: "tmux ≥ 3.0 installed and on PATH")
            }
        }
        if r.timedOut {
            throw CodestratorError(
                .timeout, "\(ShellQuote.join(argv)) took longer than 10 s", expected: "tmux to answer in time")
        }
        if check && !r.ok { throw Self.failure(ShellQuote.join(argv), r) }
        return r
    }

    /// The error of a failed tmux command, its kind classified from stderr (`TmuxFailure.classify`).
    static func failure(_ command: String, _ r: ProcessResult) -> CodestratorError {
        CodestratorError(
            .externalFailed,
            "\(command) failed (exit \(r.exitStatus)): \(String(r.err.prefix(500)).trimmingCharacters(in: .whitespacesAndNewlines))",
            expected: "tmux to succeed", failure: .tmux(TmuxFailure.classify(stderr: r.err)))
    }

    /// Commands that only read: when the control client dies before their reply they are simply run again as
    /// a process. A command that changes something is never sent twice; its lost reply reads as a failure.
    static let readOnlyCommands: Set<String> = [
        "list-panes", "capture-pane", "has-session", "show-options", "display-message", "list-sessions",
    ]
    /// Commands that can end the control client's own session or server: always a process of their own.
    static let oneShotCommands: Set<String> = ["kill-session", "kill-server"]

    /// `args` sent over the control connection, as a process result; nil when it must run as a process (no
    /// connection, a command kept one-shot, an argument that cannot be quoted, a read whose reply was lost).
    func viaControl(_ socket: String?, _ args: [String], session: String?) async -> ProcessResult? {
        guard let control, let name = args.first, !Self.oneShotCommands.contains(name),
            let line = ControlModeProtocol.commandLine(args),
            let conn = await control.connection(socket: socket, session: session)
        else { return nil }
        do {
            let reply = try await conn.send(line, commands: args.filter { $0 == ";" }.count + 1)
            let text = Array(reply.text.utf8)
            return ProcessResult(
                exitStatus: reply.ok ? 0 : 1, signal: nil, stdout: reply.ok ? text : [], stderr: reply.ok ? [] : text,
                timedOut: false, outputExceeded: false)
        } catch {
            if Self.readOnlyCommands.contains(name) { return nil }
            return ProcessResult(
                exitStatus: 1, signal: nil, stdout: [], stderr: Array("\(error) before replying".utf8),
                timedOut: false, outputExceeded: false)
        }
    }

    public func outputMark(socket: String?, sessionId: String, pane: String) async -> String? {
        await control?.existing(socket: socket)?.outputMark(sessionId: sessionId, pane: pane)
    }

    public func waitForOutput(socket: String?, timeout: Double) async -> Set<String>? {
        guard let conn = await control?.connection(socket: socket) else { return nil }
        return await conn.nextActivity(timeout: timeout)
    }

    /// `tmux -V`. A long-lived server (with a control client) asks at most once a minute: a spawn checks tmux
    /// every time, and a `tmux -V` process costs about as much as the rest of the spawn's tmux work together.
    public func version() async -> String? {
        guard control != nil else { return await CLITmuxProbe().version() }
        if let cached = await Self.versionCache.fresh(within: 60) { return cached }
        let v = await CLITmuxProbe().version()
        if let v { await Self.versionCache.set(v) }
        return v
    }

    static let versionCache = VersionCache()

    /// The last `tmux -V` answer and when it was read.
    actor VersionCache {
        private var value: (String, ContinuousClock.Instant)?
        func fresh(within seconds: Int) -> String? {
            guard let (v, at) = value, at.duration(to: .now) < .seconds(seconds) else { return nil }
            return v
        }
        func set(_ v: String) { value = (v, .now) }
    }
    public func sessionNames(socket: String?) async -> [String]? { await CLITmuxProbe().sessionNames(socket: socket) }

    /// The exact target of a session: `=name`, or a session id (`$3`) as listed in `PaneInfo.sessionId`. Ids
    /// are never reused by a tmux server, so a session found by one process and then killed by it is never a
    /// newer session another process created under the same name meanwhile.
    static func sessionTarget(_ s: String) -> String {
        s.count > 1 && s.hasPrefix("$") && s.dropFirst().allSatisfy(\.isASCII) && s.dropFirst().allSatisfy(\.isNumber)
            ? s : "=" + s
    }

    public func hasSession(socket: String?, name: String) async throws -> Bool {
        try await run(socket, ["has-session", "-t", "=" + name], check: false).ok
    }

    public func sessionOption(socket: String?, session: String, name: String) async throws -> String? {
        let r = try await run(
            socket, ["show-options", "-v", "-q", "-t", Self.sessionTarget(session) + ":", name], check: false)
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
                "new-session", "-d", "-s", Self.escapeFormat(name), "-n", Self.escapeFormat(window), "-x",
                String(width), "-y", String(height), "-c", Self.escapeFormat(cwd), "-P", "-F", "#{pane_id}", "--",
            ] + argv
        // `;` as its own argument separates tmux commands: the marks land with the session, atomically.
        for (k, v) in options { args += [";", "set-option", "-t", "=\(name):", k, v] }
        args += Self.markStatusPane(target: "=\(name):=\(window)")
        var r = try await run(socket, args, check: false)
        // The last session killed just before (a viewer closed, on a private socket) makes the server exit,
        // and a new-session that reaches it while it exits gets "server exited unexpectedly": nothing was
        // created, so it is run again, against a new server.
        for _ in 0..<3 where !r.ok && TmuxFailure.classify(stderr: r.err) == .serverExited {
            try await Task.sleep(nanoseconds: 100_000_000)
            r = try await run(socket, args, check: false)
        }
        guard r.ok else { throw Self.failure("tmux new-session -s \(name)", r) }
        return r.out.split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
    }

    public func newWindow(socket: String?, session: String, window: String, cwd: String, argv: [String]) async throws
        -> String
    {
        let r = try await run(
            socket,
            [
                "new-window", "-d", "-t", "=" + session, "-n", Self.escapeFormat(window), "-c", Self.escapeFormat(cwd),
                "-P", "-F", "#{pane_id}", "--",
            ] + argv + Self.markStatusPane(target: "=\(session):=\(window)"))
        return r.out.split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
    }

    /// tmux commands, appended after `;`, that title the only pane of `target` (a window) and set its
    /// `@codestrator_status` option: run in the same tmux command as the one creating the pane, so no
    /// other process ever lists the pane unmarked.
    static func markStatusPane(target: String) -> [String] {
        [
            ";", "select-pane", "-t", target, "-T", escapeFormat(statusTitle), ";", "set-option", "-p", "-t", target,
            "@codestrator_status", "1",
        ]
    }

    public func hasWindow(socket: String?, session: String, window: String) async throws -> Bool {
        try await run(
            socket, ["list-panes", "-t", "=\(session):=\(window)", "-F", "#{pane_id}"], check: false, session: session
        ).ok
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
        "#{session_name}\t#{pane_id}\t#{pane_dead}\t#{pane_dead_status}\t#{pane_pid}\t#{pane_width}\t#{pane_height}\t#{@codestrator_status}\t#{session_id}\t#{pane_title}"

    /// The panes of `list-panes -F paneFormat` output. Output that does not parse throws: a listing that
    /// cannot be read must never look like a listing without the pane (that once nulled live panes' ids).
    /// A line that does not parse after a pane continues that pane's title (a title may hold a newline).
    static func parsePanes(_ text: String) throws -> [PaneInfo] {
        var out: [PaneInfo] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 10, f[1].hasPrefix("%"), f[2] == "0" || f[2] == "1" else {
                guard !out.isEmpty else {
                    throw CodestratorError(
                        .externalFailed,
                        "tmux list-panes printed a line that does not parse: \(quoted(String(line.prefix(200))))",
                        expected: "tab-separated pane fields (tmux run with -u)")
                }
                out[out.count - 1].title += "\n" + line
                continue
            }
            var info = PaneInfo(
                session: f[0], paneId: f[1], dead: f[2] == "1", deadStatus: Int(f[3]), pid: Int(f[4]),
                width: Int(f[5]) ?? 0, height: Int(f[6]) ?? 0)
            info.statusPane = f[7] == "1"
            info.sessionId = f[8]
            info.title = f[9...].joined(separator: "\t")
            out.append(info)
        }
        return out
    }

    public func listPanes(socket: String?, session: String, window: String) async throws -> [PaneInfo] {
        let r = try await run(
            socket, ["list-panes", "-t", "=\(session):=\(window)", "-F", Self.paneFormat], session: session)
        return try Self.parsePanes(r.out)
    }

    public func listAllPanes(socket: String?) async throws -> [PaneInfo]? {
        let r = try await run(
            socket, ["list-panes", "-a", "-F", Self.paneFormat], limit: 4 * 1024 * 1024, check: false)
        // A failed listing is no server on the socket (`no server running`, `error connecting`, a server
        // exiting under kill-server): no panes. A timeout has thrown already; output that does not parse throws.
        guard r.ok else { return nil }
        return try Self.parsePanes(r.out)
    }

    /// Read from the kernel when asked: one `/proc` read per pane made a 32-child list refresh a seventh slower.
    public func processStartTime(of pane: PaneInfo) async -> Date? {
        guard !pane.dead else { return nil }
        return pane.startedAt ?? pane.pid.flatMap { ProcessStartTime.of(pid: $0) }
    }

    public func paneCurrentPath(socket: String?, pane: String) async throws -> String? {
        let r = try await run(socket, ["display-message", "-p", "-t", pane, "#{pane_current_path}"], check: false)
        guard r.ok else { return nil }
        let v = r.out.trimmingCharacters(in: .newlines)
        return v.isEmpty ? nil : v
    }

    public func splitWindow(
        socket: String?, target: String, horizontal: Bool, cwd: String, env: [(String, String)], argv: [String]
    ) async throws -> String {
        var args = ["split-window", "-d", "-t", target, horizontal ? "-h" : "-v", "-c", Self.escapeFormat(cwd)]
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
        try await run(
            socket, ["select-layout", "-t", "=\(session):=\(window)", "tiled"], check: false, session: session)
    }

    public func setPaneTitle(socket: String?, pane: String, title: String) async throws {
        try await run(socket, ["select-pane", "-t", pane, "-T", Self.escapeFormat(title)], check: false)
    }

    public func pipePane(socket: String?, pane: String, logPath: String?) async throws {
        guard let logPath else {
            try await run(socket, ["pipe-pane", "-t", pane], check: false)
            return
        }
        // tmux runs this one string with /bin/sh and expands `#`: the path is single-quoted for sh
        // and each `#` doubled (docs/runtime-guide.md#tmux-sessions-windows-and-panes). The path is built by Codestrator, never by a caller.
        let quoted = "'" + logPath.replacingOccurrences(of: "'", with: "'\\''") + "'"
        let command = "cat >> " + quoted.replacingOccurrences(of: "#", with: "##")
        try await run(socket, ["pipe-pane", "-o", "-t", pane, command])
    }

    public func paste(socket: String?, pane: String, text: String, bufferName: String) async throws {
        do {
            if await control?.existing(socket: socket) != nil, let file = Self.privateFile(Array(text.utf8)) {
                // Control mode has no stdin for load-buffer: the text goes through a file only we can read.
                defer { unlink(file) }
                try await run(socket, ["load-buffer", "-b", bufferName, file])
            } else {
                try await run(socket, ["load-buffer", "-b", bufferName, "-"], stdin: Array(text.utf8))
            }
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

    /// A new file (mode 0600, in the temporary directory) holding `bytes`; its path, or nil when it cannot
    /// be written.
    static func privateFile(_ bytes: [UInt8]) -> String? {
        let dir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((dir + "/codestrator-paste-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { close(fd) }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                unlink(path)
                return nil
            }
            off += n
        }
        return path
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
        try await run(socket, ["kill-session", "-t", Self.sessionTarget(name)], check: false)
    }

    public func killSession(socket: String?, id: String, ifOption option: String, is value: Int) async throws {
        // The condition and the kill are one command of the server (`if-shell -F` evaluates the format itself and
        // runs no shell). Only a session id and a number reach the inner command's text, never a name.
        guard id.count > 1, id.hasPrefix("$"), id.utf8.dropFirst().allSatisfy({ (0x30...0x39).contains($0) }),
            option.hasPrefix("@"), option.utf8.allSatisfy({ $0 == 0x40 || $0 == 0x5F || (0x61...0x7A).contains($0) })
        else {
            throw CodestratorError(
                .internal, "tmux kill-session -t \(quoted(id)) if \(quoted(option))",
                expected: "a session id ($3) and a user option name (@name)")
        }
        try await run(
            socket, ["if-shell", "-F", "-t", id, "#{==:#{\(option)},\(value)}", "kill-session -t '\(id)'"],
            check: false)
    }

    public func runCommand(_ argv: [String], timeout: Double) async throws -> (Int, String) {
        var env = ProcessInfo.processInfo.environment
        env["DEBIAN_FRONTEND"] = "noninteractive"
        let r = try await ProcessRunner.run(argv, environment: env, timeout: timeout, outputLimit: 1024 * 1024)
        return (Int(r.exitStatus), r.out + r.err)
    }
}
