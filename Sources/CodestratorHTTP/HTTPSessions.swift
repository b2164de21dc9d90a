import CodestratorCore
import CodestratorMCP
import Foundation
import HTTPTypes

/// One SSE event of a session (`id: <stream>_<seq>`).
struct SSEEvent: Sendable {
    let stream: Int
    let seq: Int
    let data: [UInt8]
    var id: String { "\(stream)_\(seq)" }

    /// The wire form: `id`, `event: message`, one `data` line (compact JSON has no newline).
    var bytes: [UInt8] {
        var out = Array("id: \(id)\nevent: message\ndata: ".utf8)
        out.append(contentsOf: data)
        out.append(contentsOf: [0x0A, 0x0A])
        return out
    }
}

/// The events of a handshake-era session kept for resumption (`Last-Event-ID`):
/// at most `maxEvents` events or `maxBytes` bytes; older ones are dropped.
actor EventStore {
    let maxEvents: Int
    let maxBytes: Int
    var events: [SSEEvent] = []
    var bytes = 0
    var nextStream = 1
    var nextSeq: [Int: Int] = [:]
    var finished: Set<Int> = []
    /// Resumed readers of a stream that is still producing events.
    var listeners: [Int: AsyncStream<SSEEvent>.Continuation] = [:]

    init(maxEvents: Int, maxBytes: Int) {
        self.maxEvents = maxEvents
        self.maxBytes = maxBytes
    }

    func newStream() -> Int {
        defer { nextStream += 1 }
        return nextStream
    }

    /// Records one event of `stream` (and hands it to a resumed reader of that stream, if any).
    func append(stream: Int, data: [UInt8]) -> SSEEvent {
        let seq = (nextSeq[stream] ?? 0) + 1
        nextSeq[stream] = seq
        let e = SSEEvent(stream: stream, seq: seq, data: data)
        events.append(e)
        bytes += data.count
        while events.count > maxEvents || (bytes > maxBytes && events.count > 1) {
            bytes -= events.removeFirst().data.count
        }
        listeners[stream]?.yield(e)
        return e
    }

    func finish(stream: Int) {
        finished.insert(stream)
        listeners.removeValue(forKey: stream)?.finish()
        nextSeq.removeValue(forKey: stream)
    }

    struct Resumed: Sendable {
        let stream: Int
        let replay: [SSEEvent]
        /// The live rest, when the stream is still producing events.
        let live: AsyncStream<SSEEvent>?
    }

    struct Refusal: Error {
        let status: HTTPResponse.Status
        let message: String
    }

    /// The stored events after `lastEventId` of its stream, and the live rest when the stream is still open.
    /// Only ids this session sent are taken: `<stream>_<n>`, decimal digits, a stream that was opened, and
    /// for a live stream an `n` it reached.
    func resume(after lastEventId: String) -> Result<Resumed, Refusal> {
        let shown = "\"\(lastEventId.prefix(40))\""
        let parts = lastEventId.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2,
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 18 && $0.allSatisfy { ("0"..."9").contains($0) } }),
            let stream = Int(parts[0]), let seq = Int(parts[1])
        else {
            return .failure(
                Refusal(
                    status: .badRequest,
                    message: "Last-Event-ID \(shown) is not an event id; expected <stream>_<n> as sent in an id: line"))
        }
        guard stream >= 1, stream < nextStream, nextSeq[stream].map({ seq <= $0 }) ?? true else {
            return .failure(
                Refusal(
                    status: .notFound,
                    message:
                        "unknown Last-Event-ID \(shown); expected an id this session sent (\(nextStream == 1 ? "it has sent none" : "streams 1 to \(nextStream - 1)"))"
                ))
        }
        let replay = events.filter { $0.stream == stream && $0.seq > seq }
        if finished.contains(stream) { return .success(Resumed(stream: stream, replay: replay, live: nil)) }
        let (s, c) = AsyncStream<SSEEvent>.makeStream()
        listeners.removeValue(forKey: stream)?.finish()
        listeners[stream] = c
        return .success(Resumed(stream: stream, replay: replay, live: s))
    }

    func close() {
        for c in listeners.values { c.finish() }
        listeners = [:]
        events = []
        bytes = 0
    }
}

/// A handshake-era session (`Mcp-Session-Id`).
final class HTTPSession: Sendable {
    let id: String
    let state = ConnectionState(perRequestEra: true)
    let events: EventStore
    let activity = Activity()

    init(id: String, maxEvents: Int, maxBytes: Int) {
        self.id = id
        self.events = EventStore(maxEvents: maxEvents, maxBytes: maxBytes)
    }

    /// Last use, and the standalone `GET /mcp` stream.
    actor Activity {
        var lastUsed = Date()
        var getStream: AsyncStream<[UInt8]>.Continuation?
        var closed = false

        func touch() { lastUsed = Date() }

        func openGet() -> AsyncStream<[UInt8]>? {
            if closed || getStream != nil { return nil }
            let (s, c) = AsyncStream<[UInt8]>.makeStream()
            getStream = c
            return s
        }

        func getEnded() { getStream = nil }

        func close() {
            closed = true
            getStream?.finish()
            getStream = nil
        }
    }

    func close() async {
        await activity.close()
        await state.cancelAll()
        await events.close()
    }
}

/// The live handshake-era sessions; idle ones are closed.
actor HTTPSessions {
    var sessions: [String: HTTPSession] = [:]
    let config: HTTPServerConfig

    init(config: HTTPServerConfig) {
        self.config = config
    }

    enum Creation {
        case created(HTTPSession)
        /// At the cap (`maxSessions`) even after closing idle sessions.
        case full(Int)
        case shuttingDown
    }

    var stopped = false

    func create() async -> Creation {
        if stopped { return .shuttingDown }
        if sessions.count >= config.maxSessions {
            _ = await expireIdle()
            if stopped { return .shuttingDown }
            if sessions.count >= config.maxSessions { return .full(sessions.count) }
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let id = bytes.map { String(format: "%02x", $0) }.joined()
        let s = HTTPSession(id: id, maxEvents: config.maxEvents, maxBytes: config.maxEventBytes)
        sessions[id] = s
        return .created(s)
    }

    /// Closes every session and refuses new ones (the server is stopping); returns how many were open.
    func closeAll() async -> Int {
        stopped = true
        let all = sessions.values
        sessions = [:]
        for s in all { await s.close() }
        return all.count
    }

    func get(_ id: String) -> HTTPSession? { sessions[id] }

    func remove(_ id: String) -> HTTPSession? { sessions.removeValue(forKey: id) }

    var count: Int { sessions.count }

    /// Closes sessions without a request for `idleTimeout` and no call in flight.
    func expireIdle(now: Date = Date()) async -> Int {
        var expired = 0
        for (id, s) in sessions {
            let last = await s.activity.lastUsed
            if now.timeIntervalSince(last) >= config.idleTimeout, await s.state.runningCount == 0 {
                sessions.removeValue(forKey: id)
                await s.close()
                expired += 1
            }
        }
        return expired
    }
}
