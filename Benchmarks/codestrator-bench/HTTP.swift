// Streamable HTTP round trips (docs/http.md): a tiny HTTP/1.1 client over a keep-alive socket, one
// call in flight per connection, against `codestrator serve --http`.

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A free loopback port (bound once, then released for the server).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket() failed: errno \(errno)") }
    defer { close(fd) }
    var addr = loopback(port: 0)
    let bound = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw BenchError("bind() failed: errno \(errno)") }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}

func loopback(port: Int) -> sockaddr_in {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return addr
}

/// One keep-alive HTTP/1.1 connection to `/mcp` with its handshake-era session.
/// Each connection is used by one thread at a time.
final class HTTPConnection: @unchecked Sendable {
    let fd: Int32
    let port: Int
    var sessionID: String?
    private var buffer: [UInt8] = []
    private var lastID = 0

    init(port: Int, timeoutSeconds: Double = 10) throws {
        self.port = port
        let deadline = monotonicNanos() + UInt64(timeoutSeconds * 1e9)
        while true {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = loopback(port: port)
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if ok == 0 {
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                self.fd = fd
                return
            }
            close(fd)
            if monotonicNanos() > deadline { throw BenchError("could not connect to 127.0.0.1:\(port)") }
            usleep(20_000)
        }
    }

    deinit { close(fd) }

    func nextID() -> Int {
        lastID += 1
        return lastID
    }

    /// POSTs one JSON-RPC body and returns the response body (JSON, or the last SSE `data:` line).
    func post(_ body: [UInt8]) throws -> (status: Int, headers: [String: String], body: [UInt8]) {
        var head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\n"
        head += "Accept: application/json, text/event-stream\r\nContent-Length: \(body.count)\r\n"
        if let sessionID { head += "Mcp-Session-Id: \(sessionID)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var offset = 0
        while offset < request.count {
            let n = request[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BenchError("HTTP write failed: errno \(errno)") }
            offset += n
        }
        // Status line and headers.
        let headerEnd = try readUntil([13, 10, 13, 10])
        let headText = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        buffer.removeFirst(headerEnd + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        let status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        var payload: [UInt8]
        if let length = headers["content-length"].flatMap(Int.init) {
            try fill(length)
            payload = Array(buffer[..<length])
            buffer.removeFirst(length)
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            payload = []
            while true {
                let lineEnd = try readUntil([13, 10])
                let size = Int(String(decoding: buffer[..<lineEnd], as: UTF8.self), radix: 16) ?? 0
                buffer.removeFirst(lineEnd + 2)
                try fill(size + 2)
                payload.append(contentsOf: buffer[..<size])
                buffer.removeFirst(size + 2)
                if size == 0 { break }
            }
        } else {
            payload = []
        }
        if headers["content-type"]?.hasPrefix("text/event-stream") == true {
            // The reply is the last `data:` line of the stream.
            let text = String(decoding: payload, as: UTF8.self)
            let data = text.components(separatedBy: "\n").last { $0.hasPrefix("data: ") } ?? ""
            payload = Array(data.dropFirst(6).utf8)
        }
        return (status, headers, payload)
    }

    private func readMore() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { return }
        guard n > 0 else { throw BenchError("HTTP connection closed by the server") }
        buffer.append(contentsOf: chunk[..<n])
    }

    private func fill(_ count: Int) throws {
        while buffer.count < count { try readMore() }
    }

    private func readUntil(_ marker: [UInt8]) throws -> Int {
        var searchFrom = 0
        while true {
            if buffer.count >= marker.count {
                for i in searchFrom...(buffer.count - marker.count)
                where buffer[i..<(i + marker.count)].elementsEqual(marker) {
                    return i
                }
                searchFrom = max(0, buffer.count - marker.count + 1)
            }
            try readMore()
        }
    }

    /// `initialize` (handshake era); keeps the session id.
    func initialize() throws {
        let body = requestLine(id: nextID(), method: "initialize", params: initializeParams).dropLast()
        let r = try post(Array(body))
        guard r.status == 200, let sid = r.headers["mcp-session-id"] else {
            throw BenchError(
                "HTTP initialize answered \(r.status): \(String(decoding: r.body.prefix(300), as: UTF8.self))")
        }
        sessionID = sid
        _ = try post(Array(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8))
    }

    /// Times `count` calls built by `make(id)`; each reply must be a result.
    func measure(_ count: Int, _ make: (Int) -> [UInt8]) throws -> [UInt64] {
        var nanos: [UInt64] = []
        nanos.reserveCapacity(count)
        for _ in 0..<count {
            let body = Array(make(nextID()).dropLast())  // requestLine/toolLine end with "\n"
            let start = monotonicNanos()
            let r = try post(body)
            nanos.append(monotonicNanos() - start)
            guard r.status == 200, !r.body.isEmpty,
                let message = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any],
                message["result"] != nil
            else {
                throw BenchError(
                    "HTTP call answered \(r.status): \(String(decoding: r.body.prefix(300), as: UTF8.self))")
            }
            if let result = message["result"] as? [String: Any], result["isError"] as? Bool == true {
                throw BenchError("HTTP tool call failed: \(String(decoding: r.body.prefix(300), as: UTF8.self))")
            }
        }
        return nanos
    }
}

/// HTTP round trips of `ping` and `task.list` with 1 client, then with 4 concurrent clients (each in its
/// own session and connection), on a server started with `--http` for the same repository.
func measureHTTP(binary: String, repo: String, session: Int, iterations: Int, environment: [String]) throws -> [Stats] {
    let port = try freePort()
    let server = try Child(
        name: "codestrator --http",
        argv: [binary, "serve", "--repo", repo, "--http", "--port", String(port)], environment: environment)
    defer {
        kill(server.pid, SIGTERM)
        _ = server.finish(grace: 5)
    }
    let sessionParams = "{\"session_id\":\(session)}"
    let list: @Sendable (Int) -> [UInt8] = { id in toolLine(id: id, "orch_task", "task.list", sessionParams) }
    let ping: @Sendable (Int) -> [UInt8] = { id in requestLine(id: id, method: "ping") }

    let one = try HTTPConnection(port: port)
    try one.initialize()
    _ = try one.measure(warmupCalls, list)
    let ping1 = try one.measure(iterations, ping)
    let list1 = try one.measure(iterations, list)

    // 4 clients at once: each thread owns its connection; samples are merged.
    let clients = 4
    let connections = try (0..<clients).map { _ in try HTTPConnection(port: port) }
    for c in connections { try c.initialize() }
    for c in connections { _ = try c.measure(warmupCalls / clients + 1, list) }
    let lock = NSLock()
    nonisolated(unsafe) var merged: [UInt64] = []
    nonisolated(unsafe) var failure: (any Error)?
    DispatchQueue.concurrentPerform(iterations: clients) { i in
        do {
            let n = try connections[i].measure(iterations, list)
            lock.lock()
            merged += n
            lock.unlock()
        } catch {
            lock.lock()
            failure = error
            lock.unlock()
        }
    }
    if let failure { throw failure }
    return [
        Stats(name: "HTTP ping, 1 client", nanos: ping1),
        Stats(name: "HTTP task.list (20 tasks), 1 client", nanos: list1),
        Stats(name: "HTTP task.list (20 tasks), 4 clients", nanos: merged),
    ]
}
