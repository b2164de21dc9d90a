import CodestratorCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One `tmux -C attach-session` client (docs/runtime-guide.md#tmux-control-mode): commands written to its stdin as
/// command lines, replies read back in order, and `%output` notifications counted per pane. A reader thread
/// owns stdout; everything else is guarded by `lock`. Once tmux closes the pipe the connection is dead for good
/// and the pool starts another one on the next call.
final class ControlModeConnection: @unchecked Sendable {
    struct Reply {
        var ok: Bool
        var lines: [String]
        /// The output as a one-shot tmux prints it: every line followed by a newline.
        var text: String { lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n" }
    }

    struct Lost: Error, CustomStringConvertible {
        let description: String
    }

    /// A process-wide number of each connection: part of every output mark, so a mark taken from a
    /// connection that died never equals one taken from its successor.
    private static let epochs = Counter()
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }

    let socket: String?
    let epoch = ControlModeConnection.epochs.next()
    private let pid: pid_t
    private let input: Int32
    private let output: Int32
    private let lock = NSLock()
    /// Commands waiting for their replies, in the order they were written. A line of several commands (joined
    /// by `;`) gets one reply block per command, and none after the first that fails (tmux drops the rest of
    /// the list): its reply is complete after `commands` blocks or the first `%error`.
    private struct Pending {
        var id: Int
        var commands: Int
        var k: CheckedContinuation<Reply, any Error>
        var got = 0
        var reply = Reply(ok: true, lines: [])
    }
    private var pending: [Pending] = []
    private var nextId = 0
    private var alive = true
    private var session: String?
    private var outputCounts: [String: UInt64] = [:]
    private var layoutCount: UInt64 = 0
    private var changed: Set<String> = []
    private var waiter: (id: Int, k: CheckedContinuation<Set<String>, Never>)?

    /// Starts `tmux -u [-L|-S socket] -C attach-session -f ignore-size -t <session>`; nil when it cannot start.
    init?(executable: String, socket: String?, session: String) {
        let argv =
            [executable, "-u"] + AttachCommand.socketArgs(socket) + [
                "-C", "attach-session", "-f", "ignore-size", "-t", session,
            ]
        guard let (pid, input, output) = Self.spawn(argv) else { return nil }
        self.socket = socket
        self.pid = pid
        self.input = input
        self.output = output
        let t = Thread { [self] in readLoop() }
        t.stackSize = 256 * 1024
        t.start()
    }

    deinit {
        close()
    }

    var isAlive: Bool {
        lock.lock()
        defer { lock.unlock() }
        return alive
    }

    /// The id (`$3`) of the session the client is attached to, once tmux said so.
    var attachedSession: String? {
        lock.lock()
        defer { lock.unlock() }
        return session
    }

    func attached(to sessionId: String) {
        lock.lock()
        session = sessionId
        lock.unlock()
    }

    /// Sends one command line of `commands` commands and waits for its reply (the output of all of them);
    /// throws `Lost` when the connection dies first or tmux does not answer within `timeout` (the connection is
    /// then closed: its framing can no longer be trusted).
    func send(_ line: String, commands: Int = 1, timeout: Double = 10) async throws -> Reply {
        let bytes = Array((line + "\n").utf8)
        return try await withCheckedThrowingContinuation { (k: CheckedContinuation<Reply, any Error>) in
            lock.lock()
            guard alive else {
                lock.unlock()
                k.resume(throwing: Lost(description: "the tmux control client has exited"))
                return
            }
            nextId += 1
            let id = nextId
            pending.append(Pending(id: id, commands: max(1, commands), k: k))
            // Written under the lock: the order of lines on the pipe is the order of `pending`.
            let ok = bytes.withUnsafeBytes { p in Self.writeAll(input, p) }
            lock.unlock()
            guard ok else {
                close()
                return
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [weak self] in
                guard let self else { return }
                self.lock.lock()
                let waiting = self.pending.contains { $0.id == id }
                self.lock.unlock()
                if waiting { self.close() }
            }
        }
    }

    /// An opaque mark of the output tmux reported for `pane` so far, nil when this client does not see it (not
    /// attached to `sessionId`, or dead). Equal marks mean no output and no layout change in between.
    func outputMark(sessionId: String, pane: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        guard alive, let session, session == sessionId else { return nil }
        return "\(epoch).\(layoutCount).\(outputCounts[pane] ?? 0)"
    }

    /// The panes that wrote output since the last call, waiting up to `timeout` seconds for one; nil when the
    /// connection is dead. A second waiter replaces the first, which returns empty.
    func nextActivity(timeout: Double) async -> Set<String>? {
        let id: Int = {
            lock.lock()
            defer { lock.unlock() }
            nextId += 1
            return nextId
        }()
        let result = await withCheckedContinuation { (k: CheckedContinuation<Set<String>, Never>) in
            lock.lock()
            if !alive || !changed.isEmpty {
                let c = changed
                changed = []
                lock.unlock()
                k.resume(returning: c)
                return
            }
            let previous = waiter
            waiter = (id, k)
            lock.unlock()
            previous?.k.resume(returning: [])
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [weak self] in
                guard let self else { return }
                self.lock.lock()
                guard let w = self.waiter, w.id == id else {
                    self.lock.unlock()
                    return
                }
                self.waiter = nil
                self.lock.unlock()
                w.k.resume(returning: [])
            }
        }
        return isAlive || !result.isEmpty ? result : nil
    }

    /// Ends the client (it detaches on stdin EOF; killed too, so a stuck one never lingers) and fails every
    /// command still waiting.
    func close() {
        lock.lock()
        guard alive else {
            lock.unlock()
            return
        }
        alive = false
        let waiting = pending
        pending = []
        let w = waiter
        waiter = nil
        lock.unlock()
        Glibc.close(input)
        kill(pid, SIGTERM)
        for p in waiting { p.k.resume(throwing: Lost(description: "the tmux control client has exited")) }
        w?.k.resume(returning: [])
    }

    private func readLoop() {
        var parser = ControlModeProtocol.Parser()
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            buffer.append(contentsOf: chunk[0..<n])
            var start = 0
            while let nl = buffer[start...].firstIndex(of: 10) {
                handle(buffer[start..<nl], parser: &parser)
                start = nl + 1
            }
            buffer.removeFirst(start)
        }
        Glibc.close(output)
        close()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    private static let outputPrefix = Array("%output ".utf8)

    private func handle(_ line: ArraySlice<UInt8>, parser: inout ControlModeProtocol.Parser) {
        // Pane output is most of the traffic: its pane id is read without decoding the line.
        if !parser.inReply, line.starts(with: Self.outputPrefix) {
            let rest = line.dropFirst(Self.outputPrefix.count)
            let id = rest.prefix { $0 != 32 }
            paneActivity(String(decoding: id, as: UTF8.self))
            return
        }
        switch parser.feed(String(decoding: line, as: UTF8.self)) {
        case .reply(let ok, let lines)?:
            lock.lock()
            var done: Pending?
            if !pending.isEmpty {
                pending[0].got += 1
                pending[0].reply.lines += lines
                pending[0].reply.ok = pending[0].reply.ok && ok
                if !ok || pending[0].got >= pending[0].commands { done = pending.removeFirst() }
            }
            lock.unlock()
            done.map { $0.k.resume(returning: $0.reply) }
        case .paneActivity(let pane)?:
            paneActivity(pane)
        case .layoutChanged?:
            lock.lock()
            layoutCount += 1
            lock.unlock()
        case .sessionChanged(let id)?:
            lock.lock()
            session = id
            lock.unlock()
        case .exit?:
            close()
        case nil:
            break
        }
    }

    private func paneActivity(_ pane: String) {
        lock.lock()
        outputCounts[pane, default: 0] += 1
        changed.insert(pane)
        let w = waiter
        waiter = nil
        let c = w == nil ? [] : changed
        if w != nil { changed = [] }
        lock.unlock()
        w?.k.resume(returning: c)
    }

    /// Writes everything, with SIGPIPE blocked on this thread: a client that exited makes the write fail with
    /// EPIPE (and its pending signal is taken back) instead of ending the server.
    private static func writeAll(_ fd: Int32, _ p: UnsafeRawBufferPointer) -> Bool {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var old = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        var off = 0
        while off < p.count {
            let n = write(fd, p.baseAddress! + off, p.count - off)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                if errno == EPIPE {
                    var now = timespec(tv_sec: 0, tv_nsec: 0)
                    _ = sigtimedwait(&pipeSignal, nil, &now)
                }
                return false
            }
            off += n
        }
        return true
    }

    /// posix_spawn with stdin and stdout on pipes (stderr to /dev/null), under ProcessRunner's spawn lock so no
    /// other program inherits our pipe ends. In its own process group: a terminal's signals never reach it.
    private static func spawn(_ argv: [String]) -> (pid_t, Int32, Int32)? {
        guard let exe = ProcessRunner.which(argv[0]) else { return nil }
        var inPipe: [Int32] = [0, 0]
        var outPipe: [Int32] = [0, 0]
        ProcessRunner.spawnLock.lock()
        defer { ProcessRunner.spawnLock.unlock() }
        guard ProcessRunner.makePipe(&inPipe) else { return nil }
        guard ProcessRunner.makePipe(&outPipe) else {
            Glibc.close(inPipe[0])
            Glibc.close(inPipe[1])
            return nil
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // Without TMUX: a server running inside a pane would otherwise be a nested client.
        let env = ProcessInfo.processInfo.environment.filter { $0.key != "TMUX" && $0.key != "TMUX_PANE" }
        var pid = pid_t()
        let rc = ProcessRunner.spawnChild(&pid, exe, argv: argv, environment: env, actions: &actions)
        Glibc.close(inPipe[0])
        Glibc.close(outPipe[1])
        guard rc == 0 else {
            Glibc.close(inPipe[1])
            Glibc.close(outPipe[0])
            return nil
        }
        return (pid, inPipe[1], outPipe[0])
    }
}
