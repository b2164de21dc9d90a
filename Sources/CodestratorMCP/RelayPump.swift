import CodestratorCore

#if canImport(Glibc)
    import Glibc
#endif

/// The relay's byte pump (ChildRelay): stdin → socket and socket → stdout, with a poll loop on one thread. It
/// reads the JSON lines it passes only to know what a successor server would need: the client's `initialize`
/// exchange and which requests are still unanswered.
struct RelayPump {
    let sock: Int32
    var ledger = RelayLedger()
    var fromClient = LineSplitter()
    var fromServer = LineSplitter()
    var stdoutAtLineStart = true
    var stdinOpen = true
    /// The root server closed the connection (or failed) while the client was still talking.
    var upstreamLost = false

    init(socket: Int32) { sock = socket }

    mutating func run() {
        signal(SIGPIPE, SIG_IGN)
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            var fds = [pollfd(fd: sock, events: Int16(POLLIN), revents: 0)]
            if stdinOpen { fds.append(pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[0].revents != 0 {
                let n = buf.withUnsafeMutableBytes { read(sock, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    upstreamLost = stdinOpen
                    return
                }
                let chunk = Array(buf[0..<n])
                guard ChildRelay.writeAll(STDOUT_FILENO, chunk) else { return }
                stdoutAtLineStart = chunk.last == 0x0A
                for line in fromServer.feed(chunk) { ledger.fromServer(line) }
            }
            if stdinOpen, fds.count > 1, fds[1].revents != 0 {
                let n = buf.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    // The client is done: the server finishes what runs and closes; its answers still come.
                    stdinOpen = false
                    shutdown(sock, Int32(SHUT_WR))
                    continue
                }
                let chunk = Array(buf[0..<n])
                for line in fromClient.feed(chunk) { ledger.fromClient(line) }
                if !ChildRelay.writeAll(sock, chunk, socket: true) {
                    drain(&buf)
                    upstreamLost = true
                    return
                }
            }
        }
    }

    /// Passes on what the server wrote before it went away.
    mutating func drain(_ buf: inout [UInt8]) {
        while true {
            let n = buf.withUnsafeMutableBytes { recv(sock, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard n > 0 else { return }
            let chunk = Array(buf[0..<n])
            guard ChildRelay.writeAll(STDOUT_FILENO, chunk) else { return }
            stdoutAtLineStart = chunk.last == 0x0A
            for line in fromServer.feed(chunk) { ledger.fromServer(line) }
        }
    }

    /// Answers every call still in flight, then replaces this process with the child's own server, which
    /// replays the client's `initialize` exchange before it reads stdin. Returns only if exec fails.
    func takeOver(_ arguments: [String]) -> Never {
        var out: [UInt8] = stdoutAtLineStart ? [] : [0x0A]
        for reply in ledger.lostReplies() { out += reply + [0x0A] }
        _ = ChildRelay.writeAll(STDOUT_FILENO, out)
        close(sock)
        let replay = ledger.handshakeLines.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
        setenv(ChildRelay.noRelayVariable, "1", 1)
        setenv(ChildRelay.replayVariable, replay, 1)
        let pending = fromClient.pending.filter { $0 != 0 }
        if !pending.isEmpty { setenv(ChildRelay.pendingVariable, String(decoding: pending, as: UTF8.self), 1) }
        signal(SIGPIPE, SIG_DFL)
        let cArgs: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", cArgs)
        let why = "codestrator: the root server went away and this child's server could not restart itself\n"
        _ = ChildRelay.writeAll(STDERR_FILENO, Array(why.utf8))
        exit(1)
    }
}

/// Splits a byte stream into lines (without the newline); `pending` is the unfinished last line.
struct LineSplitter {
    var pending: [UInt8] = []

    mutating func feed(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var start = bytes.startIndex
        while let nl = bytes[start...].firstIndex(of: 0x0A) {
            if pending.isEmpty {
                lines.append(Array(bytes[start..<nl]))
            } else {
                lines.append(pending + bytes[start..<nl])
                pending = []
            }
            start = nl + 1
        }
        pending += bytes[start...]
        return lines
    }
}

/// What the relay remembers of the conversation: the client's `initialize` request and
/// `notifications/initialized` (a successor server must see them before anything else), and the ids of the
/// client's requests the server has not answered yet.
struct RelayLedger {
    private(set) var handshakeLines: [[UInt8]] = []
    /// Serialized id → the id as sent, in order of sending.
    private(set) var inFlight: [(key: String, id: JSON)] = []

    mutating func fromClient(_ line: [UInt8]) {
        guard let message = Self.object(line) else { return }
        let method = message["method"]?.stringValue
        switch method {
        case "initialize":
            handshakeLines = [Self.trimmed(line)]
        case "notifications/initialized":
            handshakeLines.append(Self.trimmed(line))
        case "notifications/cancelled":
            // A cancelled request gets no answer (docs/protocol-eras.md); nothing is owed for it.
            if let id = message["params"]?["requestId"] { answered(id) }
        default: break
        }
        if method != nil, let id = message["id"], !id.isNull {
            inFlight.append((id.serialized(), id))
        }
    }

    mutating func fromServer(_ line: [UInt8]) {
        guard !inFlight.isEmpty, let message = Self.object(line), message["method"] == nil,
            let id = message["id"]
        else { return }
        answered(id)
    }

    mutating func answered(_ id: JSON) {
        let key = id.serialized()
        inFlight.removeAll { $0.key == key }
    }

    /// One error reply per request the server never answered.
    func lostReplies() -> [[UInt8]] {
        inFlight.map { entry in
            JSON.object(
                JSONObject([
                    ("jsonrpc", .string("2.0")), ("id", entry.id),
                    (
                        "error",
                        .object(
                            JSONObject([
                                ("code", .int(-32603)), ("message", .string("the root server went away; call again")),
                            ]))
                    ),
                ])
            ).serializedBytes()
        }
    }

    static func trimmed(_ line: [UInt8]) -> [UInt8] { line.last == 0x0D ? Array(line.dropLast()) : line }

    static func object(_ line: [UInt8]) -> JSONObject? {
        guard line.first(where: { $0 != 0x20 && $0 != 0x09 }) == 0x7B, let parsed = try? JSON.parse(line) else {
            return nil
        }
        return parsed.objectValue
    }
}
