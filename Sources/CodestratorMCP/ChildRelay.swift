import CodestratorCore

#if canImport(Glibc)
    import Glibc
#endif

/// A child's stdio server as a relay (docs/runtime-guide.md#child-relay). When the root server that keeps the child's
/// session alive listens on `<repo>/.codestrator/run/session-<id>.sock`, the child's process hands it the
/// connection and only copies bytes: stdin → socket, socket → stdout. It decides from the raw arguments and
/// environment, before the command line is parsed, and uses plain system calls only: the point is that a child's
/// process stays small, so none of the server's code may run here.
///
/// If the root server goes away mid-session the relay answers the calls still in flight with an error (the
/// client never waits on a dead server), then becomes the child's own server by exec'ing itself with the
/// client's `initialize` exchange to replay (`takeOver`), so the child keeps its tools.
public enum ChildRelay {
    /// Set in the environment of a process that must not relay (the exec'd successor of a relay, or by hand).
    public static let noRelayVariable = "CODESTRATOR_NO_RELAY"
    static let replayVariable = "CODESTRATOR_RELAY_REPLAY"
    static let pendingVariable = "CODESTRATOR_RELAY_PENDING"

    /// Relays and exits when a root server confirms this child; returns when there is none (or it refused).
    public static func relayIfServed(_ arguments: [String]) {
        guard getenv(noRelayVariable) == nil, let claim = RelayArguments(arguments, env: environment) else { return }
        guard let sock = UnixSocketPath.connect(claim.socketPath) else { return }
        guard handshake(sock, claim.handshake) else {
            close(sock)
            return
        }
        StartupPages.release()
        var pump = RelayPump(socket: sock)
        pump.run()
        if pump.upstreamLost { pump.takeOver(arguments) }
        exit(0)
    }

    static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// Sends the claim and waits up to 5 s for `{"ok":true}`.
    static func handshake(_ sock: Int32, _ claim: RelayHandshake) -> Bool {
        guard writeAll(sock, claim.line, socket: true) else { return false }
        var reply: [UInt8] = []
        var byte: UInt8 = 0
        while reply.count < 4096 {
            var p = pollfd(fd: sock, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 5000)
            if ready < 0 && errno == EINTR { continue }
            guard ready == 1 else { return false }
            let n = read(sock, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { return false }
            if byte == 0x0A { break }
            reply.append(byte)
        }
        return reply + [0x0A] == RelayHandshake.accepted
    }

    /// Writes all of `bytes`; false when the other side is gone.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], socket: Bool = false) -> Bool {
        bytes.withUnsafeBytes { p in
            var off = 0
            while off < p.count {
                let w =
                    socket
                    ? send(fd, p.baseAddress! + off, p.count - off, Int32(MSG_NOSIGNAL))
                    : write(fd, p.baseAddress! + off, p.count - off)
                if w < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                off += w
            }
            return true
        }
    }

    /// In the successor of a relay whose root went away: the lines to replay (their answers are swallowed) and
    /// the start of a line the client was writing, to read before stdin. Nil in any other process.
    public static func takeReplay() -> (lines: [[UInt8]], pending: [UInt8])? {
        guard let replay = environment(replayVariable) else { return nil }
        let pending = environment(pendingVariable).map { Array($0.utf8) } ?? []
        unsetenv(replayVariable)
        unsetenv(pendingVariable)
        unsetenv(noRelayVariable)
        let lines = replay.utf8.split(separator: 0x0A).map { Array($0) }
        return (lines, pending)
    }
}

/// The relay's claim, read from the raw arguments the way `serve` reads them (a flag wins over its variable).
struct RelayArguments {
    let socketPath: String
    let handshake: RelayHandshake

    init?(_ arguments: [String], env: (String) -> String?) {
        var flags: [String: String] = [:]
        let args = Array(arguments.dropFirst())
        var i = 1  // after "serve"
        while i < args.count {
            let arg = args[i]
            if arg == "-h" || arg == "--help" || arg == "--version" { return nil }
            if let eq = arg.firstIndex(of: "="), arg.hasPrefix("--") {
                flags[String(arg[..<eq])] = String(arg[arg.index(after: eq)...])
            } else if arg.hasPrefix("--"), i + 1 < args.count {
                flags[arg] = args[i + 1]
                i += 1
            }
            i += 1
        }
        func value(_ flag: String, _ variable: String) -> String? { flags[flag] ?? env(variable) }
        guard let roleName = value("--role", "CODESTRATOR_ROLE"), let role = ProcessRole(rawValue: roleName),
            role != .root, let thread = value("--thread-id", "CODESTRATOR_THREAD_ID").flatMap({ Int($0) }),
            let session = value("--session-id", "CODESTRATOR_SESSION_ID").flatMap({ Int($0) })
        else { return nil }
        let cwd = Self.currentDirectory()
        func absolute(_ p: String) -> String { p.hasPrefix("/") ? p : cwd + "/" + p }
        let repo = absolute(value("--repo", "CODESTRATOR_REPO") ?? cwd)
        socketPath = repo + "/.codestrator/run/session-\(session).sock"
        handshake = RelayHandshake(
            role: role, threadId: thread, sessionId: session, repo: repo,
            db: value("--db", "CODESTRATOR_DB").map(absolute),
            tmuxSocket: value("--tmux-socket", "CODESTRATOR_TMUX_SOCKET"))
    }

    static func currentDirectory() -> String {
        var buf = [UInt8](repeating: 0, count: 4096)
        guard
            buf.withUnsafeMutableBufferPointer({ p in
                p.withMemoryRebound(to: CChar.self) { getcwd($0.baseAddress, $0.count) }
            }) != nil
        else { return "." }
        return String(decoding: buf.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}
