import CodestratorCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The root server's side of the child relay (docs/runtime-guide.md#child-relay): one Unix socket per session this
/// process keeps alive, `<repo>/.codestrator/run/session-<id>.sock` (mode 0600), on which a child's relay asks
/// to be served as its thread. A confirmed connection is served exactly as the child's own stdio server would
/// serve it, with the root's database, git and tmux; the child's process then stays a small byte pump.
public final class RelayListener: @unchecked Sendable {
    let root: EnvironmentProvider
    let lock = NSLock()
    /// Session id → the listening socket and its path.
    var bound: [Int: (fd: Int32, path: String)] = [:]
    var closed = false

    public init(root: EnvironmentProvider) { self.root = root }

    public static func socketPath(runDir: String, session: Int) -> String { "\(runDir)/session-\(session).sock" }

    /// Listens for every session in `sessions` and stops listening for the others. A session whose socket
    /// another live server holds is left to it (and tried again on the next call).
    public func sync(sessions: [Int]) {
        guard let env = root.ready.get(), env.caller.role == .root else { return }
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        for (id, entry) in bound where !sessions.contains(id) {
            stop(entry)
            bound[id] = nil
        }
        for id in sessions where bound[id] == nil {
            let path = Self.socketPath(runDir: env.layout.runDir, session: id)
            guard let fd = Self.listen(at: path) else { continue }
            bound[id] = (fd, path)
            let thread = Thread { [self] in acceptLoop(fd, session: id) }
            thread.name = "codestrator.relay.accept"
            thread.start()
        }
    }

    /// Stops listening and removes the socket files (the server is exiting).
    public func closeAll() {
        lock.lock()
        defer { lock.unlock() }
        closed = true
        for entry in bound.values { stop(entry) }
        bound = [:]
    }

    func stop(_ entry: (fd: Int32, path: String)) {
        unlink(entry.path)
        // Wakes the accept thread, which closes the descriptor (closing it here could close a reused number).
        shutdown(entry.fd, Int32(SHUT_RDWR))
    }

    /// A listening socket at `path`: a stale file (nobody accepts on it) is replaced; a live one is left alone.
    static func listen(at path: String) -> Int32? {
        for attempt in 0..<2 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return nil }
            if UnixSocketPath.with(path, { bind(fd, $0, $1) }) == 0 {
                // Same user only; the run directory is 0700 as well.
                chmod(path, 0o600)
                guard Glibc.listen(fd, 64) == 0 else {
                    close(fd)
                    unlink(path)
                    return nil
                }
                return fd
            }
            let failure = errno
            close(fd)
            guard failure == EADDRINUSE, attempt == 0 else { return nil }
            if let live = UnixSocketPath.connect(path) {
                close(live)
                return nil
            }
            unlink(path)
        }
        return nil
    }

    func acceptLoop(_ fd: Int32, session: Int) {
        while true {
            let conn = accept(fd, nil, nil)
            if conn < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE {
                    if errno != EINTR { usleep(100_000) }
                    continue
                }
                break
            }
            _ = fcntl(conn, F_SETFD, FD_CLOEXEC)  // accept4 is not in the Glibc module
            guard Self.peerIsThisUser(conn) else {
                close(conn)
                continue
            }
            let thread = Thread { [self] in handshake(conn, session: session) }
            thread.name = "codestrator.relay.handshake"
            thread.start()
        }
        close(fd)
    }

    static func peerIsThisUser(_ fd: Int32) -> Bool {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } and SO_PEERCRED (17) are GNU extensions the Glibc
        // module leaves out.
        var cred: [UInt32] = [0, 0, 0]
        var len = socklen_t(12)
        let soPeerCred: Int32 = 17
        guard getsockopt(fd, SOL_SOCKET, soPeerCred, &cred, &len) == 0, len == 12 else { return false }
        return cred[1] == geteuid()
    }

    /// Reads the handshake line (at most 64 KiB, within 5 s) on its own thread, then serves the connection.
    func handshake(_ conn: Int32, session: Int) {
        Self.setReceiveTimeout(conn, seconds: 5)
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 65536 {
            let n = recv(conn, &byte, 1, 0)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { break }
            if byte == 0x0A { break }
            line.append(byte)
        }
        guard byte == 0x0A else {
            close(conn)
            return
        }
        Self.setReceiveTimeout(conn, seconds: 0)
        Task { [self] in await serve(conn, line: line, session: session) }
    }

    static func setReceiveTimeout(_ fd: Int32, seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func serve(_ conn: Int32, line: [UInt8], session: Int) async {
        let transport = StdioTransport(input: conn, output: conn, socket: true)
        let child: (EnvironmentProvider, ServerOptions)
        do {
            let claim = try RelayHandshake.parse(line)
            child = try await confirm(claim, session: session)
        } catch let e as HandshakeError {
            await refuse(transport, conn, e.message)
            return
        } catch let e as CodestratorError {
            await refuse(transport, conn, e.message(method: "handshake"))
            return
        } catch {
            await refuse(transport, conn, "\(error)")
            return
        }
        await transport.sendRaw(RelayHandshake.accepted)
        logger.info("relay: serving thread \(child.1.threadId ?? 0) (\(child.1.role.rawValue)) of session \(session)")
        let server = MCPServer(
            dispatcher: Dispatcher(provider: child.0, role: child.1.role), transport: transport, options: child.1)
        await server.run()
        close(conn)
    }

    func refuse(_ transport: StdioTransport, _ conn: Int32, _ why: String) async {
        logger.warning("relay: refused a connection for session: \(why)")
        await transport.sendRaw(RelayHandshake.refused(why))
        close(conn)
    }

    /// The claim checked against this server and its database, as a child's own server checks its arguments
    /// at start (Caller.resolve) — and the thread must belong to the socket's session.
    func confirm(_ claim: RelayHandshake, session: Int) async throws -> (EnvironmentProvider, ServerOptions) {
        let env = try await root.environment()
        guard claim.sessionId == session else {
            throw HandshakeError("this socket serves session \(session), not \(claim.sessionId)")
        }
        let db = claim.db ?? env.layout.defaultDatabasePath
        guard Self.samePath(db, env.dbPath) else { throw HandshakeError("this server uses another database") }
        guard claim.tmuxSocket == env.tmuxSocket else { throw HandshakeError("this server uses another tmux socket") }
        let caller = try await Caller.resolve(role: claim.role, threadId: claim.threadId, in: env.store)
        guard caller.sessionId == session else {
            throw HandshakeError("thread \(claim.threadId) is not in session \(session)")
        }
        let options = ServerOptions(
            repo: env.layout.root, db: env.dbPath, role: claim.role, threadId: claim.threadId,
            tmuxSocket: env.tmuxSocket)
        let childEnv = ServiceEnvironment(
            store: env.store, git: env.git, tmux: env.tmux, layout: env.layout, caller: caller, oneShot: false,
            heartbeats: env.heartbeats, tmuxSocket: env.tmuxSocket, dbPath: env.dbPath, programs: env.programs,
            installation: env.installation)
        let store = env.store
        let provider = EnvironmentProvider(
            options: options,
            adapters: Adapters(git: env.git, tmux: env.tmux, programs: env.programs, openDatabase: { _ in store }),
            installation: env.installation)
        await provider.adopt(childEnv)
        return (provider, options)
    }

    static func samePath(_ a: String, _ b: String) -> Bool {
        (a as NSString).standardizingPath == (b as NSString).standardizingPath
    }
}
