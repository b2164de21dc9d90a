import CodestratorCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a finished program left behind.
public struct ProcessResult: Sendable {
    public var exitStatus: Int32
    /// The signal that ended it, if any.
    public var signal: Int32?
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var timedOut: Bool
    public var outputExceeded: Bool

    public var ok: Bool { exitStatus == 0 && signal == nil && !timedOut }
    public var out: String { String(decoding: stdout, as: UTF8.self) }
    public var err: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs programs as argv arrays — never through a shell — each in its own process group, with a
/// time limit after which the whole group is killed, and with captured output bounded in size
/// (docs/runtime-guide.md#running-outside-programs). The spawn happens on the caller's thread; feeding
/// stdin, draining stdout and stderr and reaping all happen on one shared thread (`ChildWatcher`),
/// whatever the number of programs running.
public enum ProcessRunner {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `argv[0]` (absolute, or searched on PATH) with `argv[1...]`.
    public static func run(
        _ argv: [String], environment: [String: String]? = nil, timeout: TimeInterval = 60,
        outputLimit: Int = 256 * 1024, stdin: [UInt8]? = nil
    ) async throws -> ProcessResult {
        let child = try spawn(argv, environment: environment, timeout: timeout, outputLimit: outputLimit, stdin: stdin)
        return await withCheckedContinuation { k in
            child.finish = { k.resume(returning: $0) }
            ChildWatcher.shared.watch(child)
        }
    }

    /// `run` for callers outside async code (it blocks the calling thread until the program ends).
    public static func runBlocking(
        _ argv: [String], environment: [String: String]?, timeout: TimeInterval, outputLimit: Int, stdin: [UInt8]?
    ) throws -> ProcessResult {
        let child = try spawn(argv, environment: environment, timeout: timeout, outputLimit: outputLimit, stdin: stdin)
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        child.finish = {
            box.result = $0
            done.signal()
        }
        ChildWatcher.shared.watch(child)
        done.wait()
        return box.result!
    }

    /// Finds a program on PATH (or checks an absolute path).
    public static func which(_ program: String, path: String? = nil) -> String? {
        if program.contains("/") { return access(program, X_OK) == 0 ? program : nil }
        let p = path ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in p.split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            var st = stat()
            if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    private final class ResultBox: @unchecked Sendable {
        var result: ProcessResult?  // written by the watcher thread before the semaphore's signal
    }

    static let spawnLock = NSLock()

    static func makePipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    /// Starts the program with its three standard streams on pipes; the parent's ends are non-blocking,
    /// so the watcher thread can feed and drain many programs at once.
    static func spawn(
        _ argv: [String], environment: [String: String]?, timeout: TimeInterval, outputLimit: Int, stdin: [UInt8]?
    ) throws -> WatchedChild {
        guard let first = argv.first else { throw Failure(description: "empty argv") }
        let env = environment ?? ProcessInfo.processInfo.environment
        guard let exe = which(first, path: env["PATH"]) else {
            throw Failure(description: "program \"\(first)\" not found")
        }
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        var inPipe: [Int32] = [0, 0]
        // Pipes are created close-on-exec under one lock held through the spawn, so that a program
        // started concurrently by another thread never inherits (and holds open) our pipe ends.
        spawnLock.lock()
        guard makePipe(&outPipe), makePipe(&errPipe), makePipe(&inPipe) else {
            spawnLock.unlock()
            throw Failure(description: "pipe failed: errno \(errno)")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        var pid = pid_t()
        let rc = spawnChild(&pid, exe, argv: argv, environment: env, actions: &actions)
        close(outPipe[1])
        close(errPipe[1])
        close(inPipe[0])
        spawnLock.unlock()
        guard rc == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            close(inPipe[1])
            throw Failure(description: "cannot start \(first): \(String(cString: strerror(rc)))")
        }
        for fd in [outPipe[0], errPipe[0], inPipe[1]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        let input = stdin ?? []
        if input.isEmpty { close(inPipe[1]) }
        return WatchedChild(
            pid: pid, stdinFD: input.isEmpty ? -1 : inPipe[1], stdoutFD: outPipe[0], stderrFD: errPipe[0],
            input: input, outputLimit: outputLimit,
            deadline: ContinuousClock.now.advanced(by: .seconds(min(max(timeout, 0), 1e9))))
    }
}

extension ProcessRunner {
    /// posix_spawn of `exe` with `actions` in its own process group (so a timeout or a close can end its
    /// grandchildren too), with default handling of SIGPIPE, SIGINT and SIGTERM and no blocked signals whatever
    /// the calling thread blocks. Returns posix_spawn's result. Callers hold `spawnLock` around their pipes.
    static func spawnChild(
        _ pid: inout pid_t, _ exe: String, argv: [String], environment: [String: String],
        actions: inout posix_spawn_file_actions_t
    ) -> Int32 {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setpgroup(&attr, 0)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        sigaddset(&defaultSignals, SIGPIPE)
        sigaddset(&defaultSignals, SIGINT)
        sigaddset(&defaultSignals, SIGTERM)
        posix_spawnattr_setsigdefault(&attr, &defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attr, &emptyMask)
        posix_spawnattr_setflags(
            &attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        return posix_spawn(&pid, exe, &actions, &attr, cArgs, cEnv)
    }
}
