// Newline-delimited JSON-RPC 2.0 over a child's stdin/stdout (docs/protocol-eras.md#stdio-transport), one call in
// flight at a time.

import Foundation

/// One request, pre-built so that the very same bytes can be replayed to `cat` for the pipe floor.
typealias Request = (id: Int, line: [UInt8])

func requestLine(id: Int, method: String, params: String? = nil) -> [UInt8] {
    var text = "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"\(method)\""
    if let params { text += ",\"params\":\(params)" }
    return Array((text + "}\n").utf8)
}

/// A `tools/call` line: `{"name":tool,"arguments":{"method":…,"params":…}}` (docs/protocol-eras.md#calling-a-tool).
func toolLine(id: Int, _ tool: String, _ method: String, _ params: String) -> [UInt8] {
    let arguments = "{\"method\":\"\(method)\",\"params\":\(params)}"
    return requestLine(
        id: id, method: "tools/call", params: "{\"name\":\"\(tool)\",\"arguments\":\(arguments)}")
}

final class Connection {
    let child: Child
    private var lastID = 0

    init(_ child: Child) { self.child = child }

    func nextID() -> Int {
        lastID += 1
        return lastID
    }

    /// Fresh ids for `count` requests built by `make(id, index)`.
    func requests(_ count: Int, _ make: (_ id: Int, _ index: Int) -> [UInt8]) -> [Request] {
        (0..<count).map { index in
            let id = nextID()
            return (id, make(id, index))
        }
    }

    /// Sends `line` and reads lines until the one with `id`; others (notifications) are skipped. The
    /// clock stops as soon as that line has arrived, before we parse it, so our JSON decoding is not
    /// charged to the server. Both the server and `cat` go through this same path.
    func roundTrip(_ request: Request) throws -> (
        sent: UInt64, arrived: UInt64, message: [String: Any]
    ) {
        let sent = monotonicNanos()
        try child.send(request.line)
        while true {
            guard let line = try child.output.nextLine(timeoutMs: 30_000) else {
                throw BenchError(
                    "\(child.name) closed stdout (EOF) while request \(request.id) was pending")
            }
            let arrived = monotonicNanos()
            if line.isEmpty { continue }
            guard let message = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            else {
                throw BenchError(
                    "\(child.name) wrote a non-JSON line: \(String(decoding: line.prefix(300), as: UTF8.self))"
                )
            }
            if message["id"] as? Int == request.id { return (sent, arrived, message) }
        }
    }

    /// The `result` of a server reply. A JSON-RPC error or a tool result with isError means the
    /// server misbehaved (the bench only sends valid calls), which ends the run.
    static func result(of message: [String: Any], _ what: String) throws -> [String: Any] {
        if let error = message["error"] { throw BenchError("\(what): JSON-RPC error \(error)") }
        guard let result = message["result"] as? [String: Any] else {
            throw BenchError("\(what): reply has no result")
        }
        if result["isError"] as? Bool == true {
            let text = (result["content"] as? [[String: Any]])?.first?["text"] as? String ?? "\(result)"
            throw BenchError("\(what): isError: \(text)")
        }
        return result
    }

    func call(_ method: String, _ params: String? = nil) throws -> [String: Any] {
        let id = nextID()
        let reply = try roundTrip((id, requestLine(id: id, method: method, params: params)))
        return try Self.result(of: reply.message, method)
    }

    /// A tools/call; returns its structuredContent.
    func tool(_ tool: String, _ method: String, _ params: String) throws -> [String: Any] {
        let id = nextID()
        let reply = try roundTrip((id, toolLine(id: id, tool, method, params)))
        let result = try Self.result(of: reply.message, method)
        guard let content = result["structuredContent"] as? [String: Any] else {
            throw BenchError("\(method): result has no structuredContent object")
        }
        return content
    }

    /// Round trips of `requests`, sent one after another; the first `warmupCalls` are not timed.
    /// `check` names the method when replies must be successful results (nil for the `cat` echo).
    func measure(_ name: String, _ requests: [Request], check: String?) throws -> Stats {
        var nanos: [UInt64] = []
        nanos.reserveCapacity(requests.count)
        for (index, request) in requests.enumerated() {
            let reply = try roundTrip(request)
            if let check { _ = try Self.result(of: reply.message, check) }
            if index >= warmupCalls { nanos.append(reply.arrived - reply.sent) }
        }
        return Stats(name: name, nanos: nanos)
    }
}

/// One timed series: its requests go to `connection` one at a time.
struct Series {
    let name: String
    let connection: Connection
    let requests: [Request]
    let check: String?
}

/// Round trips of several series taken in turn (one call of each, then the next round), so that every
/// figure and its baselines see the same moments of machine load: measured one series after another,
/// `ping` alone moved between 0.037 and 0.093 ms p50 from run to run on a busy machine, and the ratios
/// with it. The first `warmupCalls` rounds are not timed. All series have the same length.
func measureInterleaved(_ series: [Series]) throws -> [Stats] {
    let rounds = series.map(\.requests.count).min() ?? 0
    var nanos = series.map { _ in [UInt64]() }
    for i in nanos.indices { nanos[i].reserveCapacity(rounds) }
    for index in 0..<rounds {
        for (i, s) in series.enumerated() {
            let reply = try s.connection.roundTrip(s.requests[index])
            if let check = s.check { _ = try Connection.result(of: reply.message, check) }
            if index >= warmupCalls { nanos[i].append(reply.arrived - reply.sent) }
        }
    }
    return series.indices.map { Stats(name: series[$0].name, nanos: nanos[$0]) }
}
