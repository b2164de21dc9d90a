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
/// (docs/runtime.md#running-outside-programs).
public enum ProcessRunner {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `argv[0]` (absolute, or searched on PATH) with `argv[1...]`.
    public static func run(
        _ argv: [String], environment: [String: String]? = nil, timeout: TimeInterval = 60,
        outputLimit: Int = 256 * 1024, stdin: [UInt8]? = nil
    ) async throws -> ProcessResult {
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<ProcessResult, any Error>) in
            let t = Thread {
                do {
                    k.resume(
                        returning: try runBlocking(
                            argv, environment: environment, timeout: timeout, outputLimit: outputLimit, stdin: stdin))
                } catch {
                    k.resume(throwing: error)
                }
            }
            t.stackSize = 512 * 1024
            t.start()
        }
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

    static let spawnLock = NSLock()

    static func makePipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    static func runBlocking(
        _ argv: [String], environment: [String: String]?, timeout: TimeInterval, outputLimit: Int, stdin: [UInt8]?
    ) throws -> ProcessResult {
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

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Own process group (so a timeout can kill grandchildren too) and default signal handling.
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
        let cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        var pid = pid_t()
        let rc = posix_spawn(&pid, exe, &actions, &attr, cArgs, cEnv)
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
        if let stdin, !stdin.isEmpty {
            _ = stdin.withUnsafeBytes { p in write(inPipe[1], p.baseAddress, p.count) }
        }
        close(inPipe[1])

        var out = [UInt8]()
        var err = [UInt8]()
        var exceeded = false
        var timedOut = false
        let deadline = Date().addingTimeInterval(timeout)
        var fds = [
            pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0),
            pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0),
        ]
        var open = 2
        var buf = [UInt8](repeating: 0, count: 65536)
        while open > 0 {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                timedOut = true
                break
            }
            let n = poll(&fds, nfds_t(fds.count), Int32(min(remaining * 1000, 1000)) + 1)
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            for i in 0..<fds.count where fds[i].fd >= 0 && fds[i].revents != 0 {
                let r = buf.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, $0.count) }
                if r > 0 {
                    if i == 0 { out.append(contentsOf: buf[0..<r]) } else { err.append(contentsOf: buf[0..<r]) }
                    if out.count + err.count > outputLimit {
                        exceeded = true
                    }
                } else if r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN) {
                    close(fds[i].fd)
                    fds[i].fd = -1
                    open -= 1
                }
            }
            if exceeded { break }
        }
        if timedOut || exceeded {
            kill(-pid, SIGKILL)
        }
        for f in fds where f.fd >= 0 { close(f.fd) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // The group may still hold grandchildren that inherited nothing of ours; leave them be
        // unless we had to stop the program.
        let exited = (status & 0x7f) == 0
        return ProcessResult(
            exitStatus: exited ? (status >> 8) & 0xff : -1, signal: exited ? nil : status & 0x7f,
            stdout: out, stderr: err, timedOut: timedOut, outputExceeded: exceeded)
    }
}
