// Process plumbing for the benchmark: posix_spawn, pipes, a buffered line reader and a monotonic
// clock. Foundation.Process is avoided on purpose: it adds its own launch machinery (monitoring
// thread, run-loop sources) to every spawn, which would be charged to the server's cold start.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Nanoseconds on CLOCK_MONOTONIC: immune to wall-clock steps (NTP), unlike Date.
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// The caller's environment minus anything that could point a child at another repository,
/// database, role, thread or tmux server (the bench may itself run inside a Codestrator pane or a
/// git hook), plus `extra`.
func childEnvironment(_ extra: [String: String] = [:]) -> [String] {
    var env = ProcessInfo.processInfo.environment.filter { key, _ in
        (!key.hasPrefix("CODESTRATOR_") || key == "CODESTRATOR_TMUX_ADAPTER") && !key.hasPrefix("GIT_") && key != "TMUX"
            && key != "TMUX_PANE"
    }
    env.merge(extra) { _, new in new }
    return env.map { "\($0.key)=\($0.value)" }
}

enum Stdio {
    case inherit, null
    case fd(Int32)
}

/// Starts `argv` (searched in PATH unless it contains a `/`) and returns its pid. Nothing goes
/// through a shell.
func spawn(_ argv: [String], environment: [String], stdin: Stdio, stdout: Stdio, stderr: Stdio)
    throws -> pid_t
{
    #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        var attr: posix_spawnattr_t? = nil
    #else
        var actions = posix_spawn_file_actions_t()
        var attr = posix_spawnattr_t()
    #endif
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (target, io) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
        switch io {
        case .inherit: break
        case .null:
            posix_spawn_file_actions_addopen(
                &actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
        case .fd(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
        }
    }
    // We ignore SIGPIPE ourselves (a dead server must be an error, not a crash); give children the
    // default back.
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF))

    let cArgs = argv.map { strdup($0) }
    let cEnv = environment.map { strdup($0) }
    defer { for pointer in cArgs + cEnv { free(pointer) } }
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cArgs + [nil], cEnv + [nil])
    guard rc == 0 else {
        throw BenchError("cannot start \(argv[0]): \(String(cString: strerror(rc)))")
    }
    return pid
}

/// Runs a helper command (git, tmux) to completion; by default its stderr is shown, to explain a
/// failure.
func run(_ argv: [String], stderr: Stdio = .inherit) throws {
    let pid = try spawn(
        argv, environment: childEnvironment(), stdin: .null, stdout: .null, stderr: stderr)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    guard status == 0 else {
        throw BenchError("command failed (wait status \(status)): \(argv.joined(separator: " "))")
    }
}

/// A pipe whose ends are close-on-exec, so no other child inherits them (a stray copy of a write
/// end would keep a reader from ever seeing EOF). dup2 in the spawn clears the flag on the child's
/// own copy.
private func makePipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw BenchError("pipe: \(String(cString: strerror(errno)))") }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    return (fds[0], fds[1])
}

/// Splits a pipe's bytes into lines. One read(2) of up to 64 KiB per refill, then lines are cut
/// from the buffer, so a burst of replies costs one syscall, not one per byte or per line.
final class LineReader {
    private let fd: Int32
    private let name: String
    private var buffer: [UInt8] = []
    private var start = 0
    private var scratch = [UInt8](repeating: 0, count: 65_536)

    init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
    }

    /// The next line without its `\n` (or `\r\n`); nil at EOF. Throws if nothing arrives within
    /// `timeoutMs`, so a hung server fails the run instead of hanging it.
    func nextLine(timeoutMs: Int32) throws -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[start..<newline])
                start = newline + 1
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, timeoutMs)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else {
                throw BenchError("\(name) wrote nothing for \(timeoutMs / 1000) s (hung?)")
            }
            let count = scratch.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            buffer.append(contentsOf: scratch[0..<count])
        }
    }
}

/// A child process talking over stdin/stdout pipes; stderr goes to /dev/null.
final class Child {
    let name: String
    let pid: pid_t
    let output: LineReader
    private var input: Int32
    private let outputFD: Int32
    private var reaped = false

    init(name: String, argv: [String], environment: [String]) throws {
        let toChild = try makePipe()
        let fromChild = try makePipe()
        do {
            pid = try spawn(
                argv, environment: environment, stdin: .fd(toChild.read), stdout: .fd(fromChild.write),
                stderr: .null)
        } catch {
            for fd in [toChild.read, toChild.write, fromChild.read, fromChild.write] { close(fd) }
            throw error
        }
        // Drop our copies of the child's ends: otherwise we would never see its EOF, nor it ours.
        close(toChild.read)
        close(fromChild.write)
        self.name = name
        input = toChild.write
        outputFD = fromChild.read
        output = LineReader(fd: fromChild.read, name: name)
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw BenchError("\(name) stopped reading its stdin (exited?)") }
            offset += written
        }
    }

    /// Closes stdin (EOF asks the server to exit, docs/protocol-eras.md#stdio-transport) and waits up to `grace` seconds,
    /// then kills it. Returns false if it had to be killed or exited with a non-zero status.
    func finish(grace: Double) -> Bool {
        closeInput()
        let deadline = monotonicNanos() + UInt64(grace * 1e9)
        var status: Int32 = 0
        repeat {
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                close(outputFD)
                return status == 0
            }
            usleep(1_000)
        } while monotonicNanos() < deadline
        killAndReap()
        return false
    }

    private func closeInput() {
        if input >= 0 { close(input) }
        input = -1
    }

    private func killAndReap() {
        closeInput()
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
        close(outputFD)
    }

    // Reached without finish() only when the run failed mid-way: never leave a server behind.
    deinit { if !reaped { killAndReap() } }
}
