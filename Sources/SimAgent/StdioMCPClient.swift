import CodestratorCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An MCP client over a child process's stdio: newline-delimited JSON-RPC, one call at a time, replies
/// matched by id. The sim starts `<codestrator> serve --repo … --role … --thread-id …` with it, so its calls
/// take the same path as a real child CLI's (docs/sim-agent.md).
public final class StdioMCPClient: SimConnection, @unchecked Sendable {
    /// Maps a method to the tool that serves it (`orchestrator_call` reaches every method).
    public typealias ToolOf = @Sendable (String) -> String

    let argv: [String]
    let stderrPath: String
    let toolOf: ToolOf
    let callTimeout: TimeInterval
    private let lock = NSLock()
    private var pid: pid_t = 0
    private var toChild: Int32 = -1
    private var fromChild: Int32 = -1
    private var buffer: [UInt8] = []
    private var nextId = 1
    private var startError: String?
    private var initialized = false

    public init(
        argv: [String], stderrPath: String, toolOf: @escaping ToolOf = { _ in "orchestrator_call" },
        callTimeout: TimeInterval = 660
    ) {
        self.argv = argv
        self.stderrPath = stderrPath
        self.toolOf = toolOf
        self.callTimeout = callTimeout
    }

    /// Starts the server and sends `initialize` and `notifications/initialized` (on a thread of its own, so
    /// the prompt shows at once); the first call waits for it.
    public func start() {
        let t = Thread { [self] in
            lock.lock()
            defer { lock.unlock() }
            ensureStarted()
        }
        t.start()
    }

    /// Closes the server's stdin: it finishes what is running and exits (docs/protocol-eras.md#stdio-transport).
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        if toChild >= 0 {
            Sys.close(toChild)
            toChild = -1
        }
    }

    public func call(method: String, params: JSON) async -> SimCallReply {
        await withCheckedContinuation { (k: CheckedContinuation<SimCallReply, Never>) in
            let t = Thread { [self] in
                lock.lock()
                defer { lock.unlock() }
                k.resume(returning: callLocked(method: method, params: params))
            }
            t.stackSize = 512 * 1024
            t.start()
        }
    }

    // MARK: Under the lock

    private func callLocked(method: String, params: JSON) -> SimCallReply {
        ensureStarted()
        if let startError { return .error(startError) }
        let arguments = JSON.obj(["name": toolOf(method), "arguments": JSON.obj(["method": method, "params": params])])
        switch request("tools/call", arguments) {
        case .failure(let message):
            return .error(message)
        case .success(let result):
            let text = (result["content"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined()
            if result["isError"]?.boolValue == true { return .error(text.isEmpty ? "isError" : text) }
            return .ok(result["structuredContent"] ?? (try? JSON.parse(text)) ?? .null)
        }
    }

    private func ensureStarted() {
        guard pid == 0, startError == nil else { return }
        if let e = spawn() {
            startError = e
            return
        }
        let hello = JSON.obj([
            "protocolVersion": "2025-06-18", "capabilities": JSON.obj([:]),
            "clientInfo": JSON.obj(["name": "codestrator-sim", "version": CodestratorVersion.current]),
        ])
        switch request("initialize", hello) {
        case .failure(let message):
            startError = "initialize: \(message)"
        case .success:
            initialized = true
            _ = send(JSON.obj(["jsonrpc": "2.0", "method": "notifications/initialized"]))
        }
    }

    enum Reply {
        case success(JSON)
        case failure(String)
    }

    private func request(_ method: String, _ params: JSON) -> Reply {
        let id = nextId
        nextId += 1
        guard send(JSON.obj(["jsonrpc": "2.0", "id": id, "method": method, "params": params])) else {
            return .failure("the codestrator server is gone (\(exitDescription()))")
        }
        let deadline = ContinuousClock.now + .seconds(callTimeout)
        while true {
            guard let line = readLine(until: deadline) else {
                return .failure(
                    ContinuousClock.now >= deadline
                        ? "no reply within \(Int(callTimeout)) s"
                        : "the codestrator server is gone (\(exitDescription()))")
            }
            guard let message = try? JSON.parse(line), message["id"]?.intValue == id else { continue }
            if let e = message["error"] {
                return .failure(e["message"]?.stringValue ?? e.serialized())
            }
            return .success(message["result"] ?? .null)
        }
    }

    private func send(_ message: JSON) -> Bool {
        guard toChild >= 0 else { return false }
        let bytes = message.serializedBytes() + [0x0A]
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Sys.write(toChild, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            off += n
        }
        return true
    }

    private func readLine(until deadline: ContinuousClock.Instant) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<nl])
                buffer.removeFirst(nl + 1)
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { continue }
                return line
            }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero, fromChild >= 0 else { return nil }
            var p = pollfd(fd: fromChild, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, Int32(min(left / .milliseconds(1), 1000)) + 1)
            if r < 0 && errno != EINTR { return nil }
            if r <= 0 { continue }
            let n = chunk.withUnsafeMutableBytes { read(fromChild, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                Sys.close(fromChild)
                fromChild = -1
                return nil
            }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    private func exitDescription() -> String {
        guard pid > 0 else { return "not started" }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        guard r == pid else { return "see \(stderrPath)" }
        let exited = (status & 0x7f) == 0
        return exited ? "exit status \((status >> 8) & 0xff); see \(stderrPath)" : "signal \(status & 0x7f)"
    }

    /// posix_spawn with stdin and stdout piped and stderr appended to `stderrPath`; returns an error message.
    private func spawn() -> String? {
        guard let exe = argv.first else { return "empty server command" }
        var inPipe: [Int32] = [0, 0]
        var outPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0 else { return "pipe failed: errno \(errno)" }
        guard pipe(&outPipe) == 0 else {
            Sys.close(inPipe[0])
            Sys.close(inPipe[1])
            return "pipe failed: errno \(errno)"
        }
        for fd in inPipe + outPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let errFd = open(stderrPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        if errFd >= 0 {
            posix_spawn_file_actions_adddup2(&actions, errFd, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // The sim ignores SIGPIPE; the server must not inherit that.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF))

        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnv: [UnsafeMutablePointer<CChar>?] =
            ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        var child = pid_t()
        let rc = posix_spawn(&child, exe, &actions, &attr, cArgs, cEnv)
        Sys.close(inPipe[0])
        Sys.close(outPipe[1])
        if errFd >= 0 { Sys.close(errFd) }
        guard rc == 0 else {
            Sys.close(inPipe[1])
            Sys.close(outPipe[0])
            return "cannot start \(exe): \(String(cString: strerror(rc)))"
        }
        pid = child
        toChild = inPipe[1]
        fromChild = outPipe[0]
        return nil
    }
}
