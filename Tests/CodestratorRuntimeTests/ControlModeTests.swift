import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorRuntime

/// tmux control mode (docs/runtime-guide.md#tmux-control-mode): the framing parser and the argument quoting on their
/// own, then against a real tmux on a private socket.
@Suite struct ControlModeTests {
    static let hostile = [
        "a'b", "'", "''", "\"quoted\"", "#{pane_id} #(touch /tmp/cs-pwned) ##", "a;b", ";x", "x;", " ; ",
        "line1\nline2",
        "\n", "cr\rlf", "tab\there", "ünïcødé ✓ 🎉", "-leading", "--", "$HOME ~ ${X}", "back\\slash\\", "\\n", "{ }",
        "%end 1 2 1", "%if #{x}", "", "   ",
    ]

    // MARK: quoting

    @Test func argumentsAreSingleQuotedAndStayOnOneLine() {
        #expect(ControlModeProtocol.quote("plain") == "'plain'")
        #expect(ControlModeProtocol.quote("a'b") == "'a'\\''b'")
        #expect(ControlModeProtocol.quote("x\ny") == "'x'\\n'y'")
        #expect(ControlModeProtocol.quote("x\ry") == "'x'\\r'y'")
        #expect(ControlModeProtocol.quote("#{a};$B~") == "'#{a};$B~'")
        #expect(ControlModeProtocol.quote("nul\0byte") == nil)
        #expect(ControlModeProtocol.commandLine(["set-buffer", "--", "a b"]) == "'set-buffer' '--' 'a b'")
        // `;` alone separates commands, as in tmux's argv.
        #expect(ControlModeProtocol.commandLine(["a", ";", "b"]) == "'a' ; 'b'")
        #expect(ControlModeProtocol.commandLine(["x", "nul\0"]) == nil)
        for s in Self.hostile {
            let line = ControlModeProtocol.commandLine(["set-buffer", s])!
            #expect(!line.contains("\n") && !line.contains("\r"), "\(s.debugDescription) -> \(line)")
        }
    }

    // MARK: framing

    @Test func repliesAreFramedByTheirOwnBeginAndEnd() {
        var p = ControlModeProtocol.Parser()
        // The attach's own block (flags 0) is not a reply to us.
        #expect(p.feed("%begin 100 1 0") == nil)
        #expect(p.feed("%end 100 1 0") == nil)
        #expect(p.feed("%session-changed $3 repo-main") == .sessionChanged(id: "$3"))
        #expect(p.feed("%begin 101 2 1") == nil)
        #expect(p.inReply)
        // Output lines may look like anything, notifications and other blocks' ends included.
        for line in ["%output %1 hi", "%end 101 3 1", "%error 100 2 1", "%end", "", "%exit", "plain"] {
            #expect(p.feed(line) == nil)
        }
        #expect(
            p.feed("%end 101 2 1")
                == .reply(
                    ok: true, lines: ["%output %1 hi", "%end 101 3 1", "%error 100 2 1", "%end", "", "%exit", "plain"]))
        #expect(!p.inReply)
        #expect(p.feed("%begin 102 3 1") == nil)
        #expect(p.feed("can't find pane: %99") == nil)
        #expect(p.feed("%error 102 3 1") == .reply(ok: false, lines: ["can't find pane: %99"]))
        #expect(p.feed("%begin 103 4 1") == nil)
        #expect(p.feed("%end 103 4 1") == .reply(ok: true, lines: []))
    }

    @Test func notificationsOutsideRepliesAreEvents() {
        var p = ControlModeProtocol.Parser()
        #expect(p.feed("%output %12 \\033[1mhello\\015\\012") == .paneActivity("%12"))
        #expect(p.feed("%extended-output %4 120 : x") == .paneActivity("%4"))
        #expect(p.feed("%pane-mode-changed %5") == .paneActivity("%5"))
        #expect(p.feed("%layout-change @1 b25d,80x24,0,0,2 b25d,80x24,0,0,2 *") == .layoutChanged)
        #expect(p.feed("%window-add @3") == nil)
        #expect(p.feed("%exit") == .exit)
        #expect(p.feed("not a notification") == nil)
    }

    @Test func versionsCompareByMajorAndMinor() {
        #expect(TmuxVersion.atLeast("3.3a", major: 3, minor: 2))
        #expect(TmuxVersion.atLeast("3.2", major: 3, minor: 2))
        #expect(TmuxVersion.atLeast("next-3.4", major: 3, minor: 2))
        #expect(!TmuxVersion.atLeast("3.1c", major: 3, minor: 2))
        #expect(!TmuxVersion.atLeast("2.9", major: 3, minor: 2))
        #expect(!TmuxVersion.atLeast("master", major: 3, minor: 2))
    }

    // MARK: against tmux

    /// A private tmux server with one marked viewer-like session; killed at the end.
    struct Server {
        let socket = "cs-ctl-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func tmux(_ args: [String]) async throws -> ProcessResult {
            try await ProcessRunner.run(["tmux", "-u", "-L", socket] + args, timeout: 10)
        }
        func start() async throws {
            let r = try await tmux([
                "new-session", "-d", "-s", "viewer", "-x", "80", "-y", "24", "--", "sh", "-c",
                "read line; echo \"got $line\"; sleep 60",
            ])
            #expect(r.ok, "\(r.err)")
            _ = try await tmux(["set-option", "-t", "=viewer:", "@codestrator_session_id", "1"])
        }
        func stop() async { _ = try? await tmux(["kill-server"]) }
    }

    /// A private tmux server and a control-mode adapter for `body`; both ended afterwards, whatever happened.
    static func withServer(_ body: (Server, ControlModeTmuxClient) async throws -> Void) async throws {
        let server = Server()
        try await server.start()
        let control = ControlModeTmuxClient()
        do {
            try await body(server, control)
        } catch {
            await control.closeAll()
            await server.stop()
            throw error
        }
        await control.closeAll()
        await server.stop()
    }

    @Test func hostileArgumentsReachTmuxExactlyAsThroughArgv() async throws {
        try await Self.withServer { server, control in
            let conn = try #require(await control.connection(socket: server.socket))
            for (i, s) in Self.hostile.enumerated() {
                // The same value once through argv, once through the control client's command line.
                let viaArgv = try await server.tmux(["set-buffer", "-b", "argv\(i)", "--", s])
                let line = try #require(ControlModeProtocol.commandLine(["set-buffer", "-b", "ctl\(i)", "--", s]))
                let viaControl = try await conn.send(line)
                #expect(viaArgv.ok == viaControl.ok, "\(s.debugDescription)")
                guard viaArgv.ok else { continue }
                let a = try await server.tmux(["show-buffer", "-b", "argv\(i)"])
                let c = try await server.tmux(["show-buffer", "-b", "ctl\(i)"])
                // tmux's argv parsing takes a trailing `;` for a command separator ("x;" arrives as "x"); the quoted
                // command line keeps it.
                #expect(
                    a.stdout == c.stdout || s.hasSuffix(";"),
                    "\(s.debugDescription): \(a.out.debugDescription) vs \(c.out.debugDescription)")
                #expect(c.out == s, "\(s.debugDescription) came back as \(c.out.debugDescription)")
            }
            #expect(!FileManager.default.fileExists(atPath: "/tmp/cs-pwned"))
        }
    }

    @Test func commandsGoOverTheConnectionAndOutputMovesTheMark() async throws {
        try await Self.withServer { server, control in
            let client = CLITmuxClient(control: control)
            let panes = try #require(try await client.listAllPanes(socket: server.socket))
            #expect(await control.isConnected(socket: server.socket))
            let pane = try #require(panes.first)
            let sid = pane.sessionId
            let first = try #require(await client.outputMark(socket: server.socket, sessionId: sid, pane: pane.paneId))
            // Nothing written: the same mark. Another session's id: no mark at all.
            _ = try await client.capture(socket: server.socket, pane: pane.paneId, lines: 10)
            #expect(await client.outputMark(socket: server.socket, sessionId: sid, pane: pane.paneId) == first)
            #expect(await client.outputMark(socket: server.socket, sessionId: "$999", pane: pane.paneId) == nil)
            // A paste (through a private file in control mode) and Enter make the pane print.
            try await client.paste(socket: server.socket, pane: pane.paneId, text: "it's #{x}; ok", bufferName: "cs-t")
            try await client.sendKeys(socket: server.socket, pane: pane.paneId, keys: ["Enter"])
            var changed: Set<String> = []
            let deadline = Date().addingTimeInterval(5)
            while !changed.contains(pane.paneId), Date() < deadline {
                changed.formUnion(await client.waitForOutput(socket: server.socket, timeout: 1) ?? [])
            }
            #expect(changed.contains(pane.paneId))
            #expect(await client.outputMark(socket: server.socket, sessionId: sid, pane: pane.paneId) != first)
            var screen = ""
            while !screen.contains("got it's"), Date() < deadline {
                screen = try await client.capture(socket: server.socket, pane: pane.paneId, lines: 10)
            }
            #expect(screen.contains("got it's #{x}; ok"), "\(screen)")
            // An error comes back as a failed command, as from a tmux process.
            await #expect(throws: CodestratorError.self) {
                try await client.listPanes(socket: server.socket, session: "no-such-session", window: "w")
            }
        }
    }

    /// The reconciler's kill of a closed session's viewer checks the owner and kills in one tmux command, through
    /// control mode and one-shot alike: a session id that names another session by then is left alone.
    @Test(arguments: [true, false]) func aConditionalKillTouchesOnlyTheSessionItNames(controlMode: Bool) async throws {
        try await Self.withServer { server, control in
            let client = CLITmuxClient(control: controlMode ? control : nil)
            _ = try await server.tmux(["new-session", "-d", "-s", "other", "--", "sleep", "60"])
            _ = try await server.tmux(["set-option", "-t", "=other:", "@codestrator_session_id", "2"])
            let ids = try await server.tmux(["list-sessions", "-F", "#{session_name} #{session_id}"]).out
            func id(_ name: String) throws -> String {
                try #require(ids.split(separator: "\n").first { $0.hasPrefix(name + " ") }?.split(separator: " ").last)
                    .description
            }
            let (viewer, other) = (try id("viewer"), try id("other"))
            // `other` belongs to session 2, not 1: left alone. `viewer` belongs to 1: killed.
            try await client.killSession(socket: server.socket, id: other, ifOption: "@codestrator_session_id", is: 1)
            #expect(
                try await client.sessionOption(socket: server.socket, session: other, name: "@codestrator_session_id")
                    == "2")
            try await client.killSession(socket: server.socket, id: viewer, ifOption: "@codestrator_session_id", is: 1)
            #expect(
                try await client.sessionOption(socket: server.socket, session: viewer, name: "@codestrator_session_id")
                    == nil)
            // Only an id and an option name reach the command's text.
            await #expect(throws: CodestratorError.self) {
                try await client.killSession(socket: server.socket, id: "other'; kill-server", ifOption: "@x", is: 1)
            }
            #expect(try await client.hasSession(socket: server.socket, name: "other"))
        }
    }

    @Test func aCommandListIsOneReplyEvenWhenACommandInItFails() async throws {
        try await Self.withServer { server, control in
            let conn = try #require(await control.connection(socket: server.socket))
            let three = try await conn.send(
                "display-message -p a ; display-message -p b ; display-message -p c", commands: 3)
            #expect(three.ok && three.lines == ["a", "b", "c"])
            // tmux drops the rest of a list after a failing command: the reply ends with the error.
            let failed = try await conn.send(
                "display-message -p d ; select-pane -t %999 ; display-message -p e", commands: 3)
            #expect(!failed.ok && failed.lines.first == "d" && !failed.lines.contains("e"))
            let parseError = try await conn.send("no-such-command ; display-message -p f", commands: 2)
            #expect(!parseError.ok && !parseError.lines.contains("f"))
            // The next reply is still the next command's own.
            let next = try await conn.send("display-message -p g")
            #expect(next.ok && next.lines == ["g"])
            // Through the adapter: keys go as a three-command list; the listing after it is still a listing.
            let client = CLITmuxClient(control: control)
            let pane = try #require(try await client.listAllPanes(socket: server.socket)?.first)
            try await client.sendKeys(socket: server.socket, pane: pane.paneId, keys: ["x"])
            #expect(try await client.listAllPanes(socket: server.socket)?.map(\.paneId) == [pane.paneId])
        }
    }

    @Test func aKilledControlClientIsReplacedAndItsMarksExpire() async throws {
        try await Self.withServer { server, control in
            let client = CLITmuxClient(control: control)
            let pane = try #require(try await client.listAllPanes(socket: server.socket)?.first)
            let before = try #require(
                await client.outputMark(socket: server.socket, sessionId: pane.sessionId, pane: pane.paneId))
            // Kill the control client's tmux process from outside, as a crash would.
            let clients = try await server.tmux(["list-clients", "-F", "#{client_pid} #{client_control_mode}"])
            let pids = clients.out.split(separator: "\n").compactMap { l -> Int32? in
                let f = l.split(separator: " ")
                return f.count == 2 && f[1] == "1" ? Int32(f[0]) : nil
            }
            #expect(pids.count == 1)
            for p in pids { kill(p, SIGKILL) }
            var gone = false
            for _ in 0..<50 where !gone {
                try await Task.sleep(nanoseconds: 20_000_000)
                gone = !(await control.isConnected(socket: server.socket))
            }
            #expect(gone)
            #expect(await client.outputMark(socket: server.socket, sessionId: pane.sessionId, pane: pane.paneId) == nil)
            // The next command starts a new client; a mark of the old one never matches a new one.
            let again = try #require(try await client.listAllPanes(socket: server.socket))
            #expect(again.map(\.paneId) == [pane.paneId])
            #expect(await control.isConnected(socket: server.socket))
            let after = await client.outputMark(socket: server.socket, sessionId: pane.sessionId, pane: pane.paneId)
            #expect(after != nil && after != before)
        }
    }

    @Test func withoutAServerEverythingRunsOneShot() async throws {
        let control = ControlModeTmuxClient()
        let client = CLITmuxClient(control: control)
        let socket = "cs-ctl-none-\(getpid())"
        #expect(try await client.listAllPanes(socket: socket) == nil)
        #expect(!(await control.isConnected(socket: socket)))
        #expect(await client.waitForOutput(socket: socket, timeout: 0.1) == nil)
        #expect(try await client.hasSession(socket: socket, name: "x") == false)
    }
}
