import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The controlling terminal: raw input (no line editing, no echo, no signals from C-c), bracketed paste on,
/// and everything restored at exit. Output keeps its newline translation, so `\n` still starts a new line.
public final class RawTerminal: @unchecked Sendable {
    let fd: Int32
    private var saved = termios()
    private var active = false

    public init(fd: Int32 = 0) { self.fd = fd }

    /// Enters raw mode (when the input is a terminal) and enables bracketed paste.
    public func enter() {
        if isatty(fd) == 1, tcgetattr(fd, &saved) == 0 {
            var raw = saved
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN)
            raw.c_iflag &= ~tcflag_t(ICRNL | INLCR | IXON | ISTRIP)
            withUnsafeMutableBytes(of: &raw.c_cc) { cc in
                cc[Int(VMIN)] = 1
                cc[Int(VTIME)] = 0
            }
            active = tcsetattr(fd, TCSANOW, &raw) == 0
        }
        TerminalOutput.shared.write("\u{1B}[?2004h")
    }

    /// Turns bracketed paste off and restores the terminal's settings.
    public func restore() {
        TerminalOutput.shared.write("\u{1B}[?2004l")
        if active {
            _ = tcsetattr(fd, TCSANOW, &saved)
            active = false
        }
    }
}

/// Serialized writes to stdout (the runner and the spinner thread share it).
public final class TerminalOutput: @unchecked Sendable {
    public static let shared = TerminalOutput()
    let lock = NSLock()

    public func write(_ s: String) {
        lock.lock()
        defer { lock.unlock() }
        writeLocked(s)
    }

    func writeLocked(_ s: String) {
        var bytes = Array(s.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Sys.write(1, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            off += n
        }
        bytes.removeAll()
    }
}

/// The screen of docs/sim-agent.md: marker lines, the `sim> ` prompt, echo, and a spinner line redrawn every
/// 100 ms while working (with `\r` and clear-line, so lines printed meanwhile land above it).
public final class TerminalScreen: SimScreen, @unchecked Sendable {
    static let frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
    let out = TerminalOutput.shared
    private var working = false
    private var frame = 0
    private var ticker: Thread?

    public init() {}

    var spinnerText: String { Self.frames[frame % Self.frames.count] + " working… (esc to interrupt)" }

    public func line(_ text: String) {
        out.lock.lock()
        defer { out.lock.unlock() }
        if working {
            out.writeLocked("\r\u{1B}[2K" + text + "\n" + spinnerText)
        } else {
            out.writeLocked(text + "\n")
        }
    }

    public func prompt() { out.write("sim> ") }

    public func echo(_ text: String) { out.write(text) }

    public func eraseOne() { out.write("\u{8} \u{8}") }

    public func setWorking(_ on: Bool) {
        out.lock.lock()
        defer { out.lock.unlock() }
        guard on != working else { return }
        working = on
        if on {
            frame = 0
            out.writeLocked(spinnerText)
            startTicker()
        } else {
            out.writeLocked("\r\u{1B}[2K")
        }
    }

    /// One thread for the program's life; it redraws only while working.
    private func startTicker() {
        guard ticker == nil else { return }
        let t = Thread { [weak self] in
            while let s = self {
                usleep(100_000)
                s.tick()
            }
        }
        t.stackSize = 256 * 1024
        ticker = t
        t.start()
    }

    private func tick() {
        out.lock.lock()
        defer { out.lock.unlock() }
        guard working else { return }
        frame += 1
        out.writeLocked("\r\u{1B}[2K" + spinnerText)
    }
}

/// Reads the terminal on its own thread, parses keys, and queues them. A lone Escape is recognised after 50 ms
/// without a following byte.
public enum KeyboardReader {
    public static func start(fd: Int32 = 0, into queue: InputQueue) {
        let t = Thread {
            var parser = KeyParser()
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let timeout: Int32 = parser.escapePending ? 50 : -1
                let r = poll(&p, 1, timeout)
                if r < 0 {
                    if errno == EINTR { continue }
                    queue.push([.closed])
                    return
                }
                if r == 0 {
                    queue.push(parser.escapeTimedOut())
                    continue
                }
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    queue.push(parser.escapeTimedOut() + [.closed])
                    return
                }
                queue.push(parser.feed(buf[0..<n]))
            }
        }
        t.stackSize = 256 * 1024
        t.start()
    }
}
