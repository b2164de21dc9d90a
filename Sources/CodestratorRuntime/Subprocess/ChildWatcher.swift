import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One thread that feeds, drains and reaps every program `ProcessRunner` started: a `poll` over all their
/// pipes (and, on Linux, their pidfds), so a program's stdin is written while its stdout and stderr are
/// read — a program that answers before it has read all its input never deadlocks us — and a thousand
/// running programs cost one thread, not a thousand.
final class ChildWatcher: @unchecked Sendable {
    static let shared = ChildWatcher()

    private let lock = NSLock()
    private var arrivals: [WatchedChild] = []  // under `lock`; everything else belongs to the thread
    private let wakeRead: Int32
    private let wakeWrite: Int32

    private init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "ChildWatcher: pipe failed (errno \(errno))")
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        (wakeRead, wakeWrite) = (fds[0], fds[1])
        let thread = Thread { [self] in loop() }
        thread.name = "codestrator.child-watcher"
        thread.stackSize = 512 * 1024
        thread.start()
    }

    /// Hands a started program to the thread; its `finish` runs there once the program is over.
    func watch(_ child: WatchedChild) {
        lock.withLock { arrivals.append(child) }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)  // a full pipe (EAGAIN) already means "wake up"
    }

    private func loop() {
        // A write to a program that has closed its stdin must fail with EPIPE here, not end the server.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)

        var children: [WatchedChild] = []
        var fds: [pollfd] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            children += lock.withLock {
                defer { arrivals.removeAll() }
                return arrivals
            }
            fds.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
            for c in children { fds.append(contentsOf: c.pollSlots()) }

            let n = poll(&fds, nfds_t(fds.count), pollTimeout(children))
            if n < 0 && errno != EINTR { continue }
            if fds[0].revents != 0 {
                while read(wakeRead, &buffer, buffer.count) > 0 {}
            }
            let now = ContinuousClock.now
            for (i, c) in children.enumerated() {
                c.service(revents: fds[(1 + i * WatchedChild.slotCount)...].prefix(WatchedChild.slotCount), &buffer)
                c.enforceDeadline(now)
                c.reapIfNoPidfd()
            }
            children.removeAll { c in
                guard let result = c.result() else { return false }
                c.finish?(result)
                c.finish = nil
                return true
            }
        }
    }

    /// Until the nearest deadline; 1 ms steps while a program without a pidfd is being reaped; forever
    /// (until woken) with nothing to watch.
    private func pollTimeout(_ children: [WatchedChild]) -> Int32 {
        guard !children.isEmpty else { return -1 }
        if children.contains(where: \.awaitsExitWithoutPidfd) { return 1 }
        guard let nearest = children.filter({ !$0.stopped }).map(\.deadline).min() else { return -1 }
        let left = ContinuousClock.now.duration(to: nearest)
        if left <= .zero { return 0 }
        let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1
        return Int32(min(ms, 60_000))
    }
}

/// One running program as the watcher sees it. Touched only by the watcher's thread after `watch`.
final class WatchedChild: @unchecked Sendable {
    static let slotCount = 4  // stdin, stdout, stderr, pidfd

    let pid: pid_t
    let deadline: ContinuousClock.Instant
    var finish: ((ProcessResult) -> Void)?

    private var stdinFD: Int32
    private var stdoutFD: Int32
    private var stderrFD: Int32
    private var pidFD: Int32
    private let input: [UInt8]
    private var written = 0
    private let outputLimit: Int
    private var out: [UInt8] = []
    private var err: [UInt8] = []
    private var status: Int32?
    private var timedOut = false
    private var exceeded = false

    init(
        pid: pid_t, stdinFD: Int32, stdoutFD: Int32, stderrFD: Int32, input: [UInt8], outputLimit: Int,
        deadline: ContinuousClock.Instant
    ) {
        (self.pid, self.stdinFD, self.stdoutFD, self.stderrFD) = (pid, stdinFD, stdoutFD, stderrFD)
        (self.input, self.outputLimit, self.deadline) = (input, outputLimit, deadline)
        pidFD = PidFD.open(pid)
    }

    /// Closed descriptors stay in their slot as -1, which `poll` skips.
    func pollSlots() -> [pollfd] {
        [
            pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0),
            pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0),
        ]
    }

    /// Killed for its deadline or its output: only the reaping is left.
    var stopped: Bool { timedOut || exceeded }

    var awaitsExitWithoutPidfd: Bool { pidFD < 0 && status == nil && stdoutFD < 0 && stderrFD < 0 }

    func service(revents slots: ArraySlice<pollfd>, _ buffer: inout [UInt8]) {
        let r = Array(slots).map(\.revents)
        if r[0] != 0 { feedInput() }
        if r[1] != 0, let chunk = drain(&stdoutFD, &buffer) { take(chunk, toStdout: true) }
        if r[2] != 0, let chunk = drain(&stderrFD, &buffer) { take(chunk, toStdout: false) }
        if r[3] != 0 { reap(wait: false) }
    }

    /// Past the deadline the whole process group is killed, as when the output grew past its cap.
    func enforceDeadline(_ now: ContinuousClock.Instant) {
        guard status == nil || stdoutFD >= 0 || stderrFD >= 0, !stopped, now >= deadline else { return }
        timedOut = true
        stop()
    }

    /// Without a pidfd (old kernels, macOS) the exit is polled once both output pipes reached their end.
    func reapIfNoPidfd() {
        if awaitsExitWithoutPidfd { reap(wait: false) }
    }

    /// The result once the program is reaped and both output pipes are closed.
    func result() -> ProcessResult? {
        guard let status, stdoutFD < 0, stderrFD < 0 else { return nil }
        close(&stdinFD)
        let exited = (status & 0x7f) == 0
        return ProcessResult(
            exitStatus: exited ? (status >> 8) & 0xff : -1, signal: exited ? nil : status & 0x7f,
            stdout: out, stderr: err, timedOut: timedOut, outputExceeded: exceeded)
    }

    private func feedInput() {
        let n = input.withUnsafeBytes { p in
            write(stdinFD, p.baseAddress! + written, min(p.count - written, 65536))
        }
        if n > 0 {
            written += n
            if written == input.count { close(&stdinFD) }
        } else if n < 0 && errno != EAGAIN && errno != EINTR {
            close(&stdinFD)  // EPIPE: the program closed its stdin; the rest of the input is not wanted
        }
    }

    /// What one `read` got; nil when there was nothing (the pipe is closed at its end or on an error).
    private func drain(_ fd: inout Int32, _ buffer: inout [UInt8]) -> ArraySlice<UInt8>? {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 { return buffer[0..<n] }
        if n == 0 || (errno != EAGAIN && errno != EINTR) { close(&fd) }
        return nil
    }

    private func take(_ chunk: ArraySlice<UInt8>, toStdout: Bool) {
        if toStdout { out.append(contentsOf: chunk) } else { err.append(contentsOf: chunk) }
        if out.count + err.count > outputLimit {
            exceeded = true
            stop()
        }
    }

    /// Kills the process group (grandchildren too) and drops the pipes; the exit is reaped as usual (at
    /// once without a pidfd: SIGKILL cannot be ignored).
    private func stop() {
        kill(-pid, SIGKILL)
        close(&stdinFD)
        close(&stdoutFD)
        close(&stderrFD)
        reap(wait: pidFD < 0)
    }

    private func reap(wait: Bool) {
        guard status == nil else { return }
        var s: Int32 = 0
        var r: pid_t
        repeat { r = waitpid(pid, &s, wait ? 0 : WNOHANG) } while r < 0 && errno == EINTR
        if r == pid {
            status = s
            close(&pidFD)
        } else if r < 0 {
            status = 255 << 8  // not our child any more (cannot happen while we hold it): exit 255
            close(&pidFD)
        }
    }

    private func close(_ fd: inout Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }
}

/// `pidfd_open(2)` (Linux ≥ 5.3), looked up at run time: it becomes readable when the process exits, so
/// the watcher learns of an exit within its `poll` instead of by polling `waitpid`. -1 where unavailable.
enum PidFD {
    private typealias Open = @convention(c) (pid_t, UInt32) -> Int32
    private static let openFunction: Open? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pidfd_open") else { return nil }
        return unsafeBitCast(symbol, to: Open.self)
    }()

    static func open(_ pid: pid_t) -> Int32 {
        guard let openFunction else { return -1 }
        let fd = openFunction(pid, 0)
        if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return fd
    }
}
