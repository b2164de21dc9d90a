import CodestratorCore
import Foundation

/// The MCP protocol over one connection (protocol.md §4): JSON-RPC validation, the handshake,
/// concurrent calls, cancellation. Methods themselves go through the `Dispatcher`.
public final class MCPServer: Sendable {
    public static let supportedVersions = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]

    let dispatcher: Dispatcher
    let transport: StdioTransport
    let options: ServerOptions
    let state = ConnectionState()

    public init(dispatcher: Dispatcher, transport: StdioTransport, options: ServerOptions) {
        self.dispatcher = dispatcher
        self.transport = transport
        self.options = options
    }

    /// Serves until EOF, then lets running calls finish for up to 10 s.
    public func run() async {
        for await message in transport.messages() {
            await handle(message)
        }
        let deadline = Date().addingTimeInterval(10)
        while await state.runningCount > 0 && Date() < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    var serverInfo: JSON { .obj(["name": "codestrator", "version": CodestratorVersion.current]) }
    var capabilities: JSON { .obj(["tools": JSON.obj(["listChanged": false]), "logging": JSON.obj([:])]) }
    var instructions: String {
        var s = "Codestrator \(CodestratorVersion.current), role \(options.role.rawValue)"
        if let t = options.threadId { s += ", thread \(t)" }
        return s + ", repository \((options.repo as NSString).standardizingPath). Use the codestrator skill."
    }

    func send(_ message: JSON, framed: Bool) async {
        await transport.send(message.serializedBytes(), framed: framed)
    }

    func sendError(id: JSON, code: Int, message: String, data: JSON? = nil, framed: Bool) async {
        var err = JSONObject()
        err["code"] = .int(code)
        err["message"] = .string(message)
        if let data { err["data"] = data }
        await send(.obj(["jsonrpc": "2.0", "id": id, "error": JSON.object(err)]), framed: framed)
    }

    func handle(_ message: IncomingMessage) async {
        let framed = message.framed
        guard case .bytes(let bytes) = message.payload else {
            await sendError(id: .null, code: -32700, message: "parse error: message larger than 16 MiB", framed: framed)
            return
        }
        let parsed: JSON
        do {
            parsed = try JSON.parse(bytes)
        } catch {
            await sendError(id: .null, code: -32700, message: "parse error: \(error)", framed: framed)
            return
        }
        if case .array = parsed {
            await sendError(id: .null, code: -32600, message: "batch requests are not supported", framed: framed)
            return
        }
        guard case .object(let obj) = parsed else {
            await sendError(id: .null, code: -32600, message: "invalid request: not a JSON object", framed: framed)
            return
        }
        let rawId = obj["id"]
        let idUsable: Bool
        switch rawId {
        case .string?, .int?: idUsable = true
        case .double(let d)? where d.rounded() == d: idUsable = true
        default: idUsable = false
        }
        let replyId: JSON = idUsable ? rawId! : .null
        guard obj["jsonrpc"] == .string("2.0") else {
            if rawId == nil { return }
            await sendError(
                id: replyId, code: -32600, message: "invalid request: jsonrpc must be \"2.0\"", framed: framed)
            return
        }
        guard let methodName = obj["method"]?.stringValue else {
            if rawId == nil && obj["method"] == nil { return }  // a stray response; nothing to answer
            await sendError(
                id: replyId, code: -32600, message: "invalid request: method must be a string", framed: framed)
            return
        }
        guard let id = rawId else {
            await notification(methodName, params: obj["params"])
            return
        }
        guard idUsable else {
            await sendError(
                id: .null, code: -32600, message: "invalid request: id must be a string or an integer", framed: framed)
            return
        }
        let key = id.serialized()
        let params = obj["params"]
        let progressToken = params?["_meta"]?["progressToken"]
        let task = Task {
            // Long calls report progress when the request carries a progress token (protocol.md §10).
            let sink: ProgressSink? = progressToken.map { token in
                let counter = ProgressCounter()
                return ProgressSink { message in
                    let n = await counter.next()
                    await self.send(
                        .obj([
                            "jsonrpc": "2.0", "method": "notifications/progress",
                            "params": JSON.obj(["progressToken": token, "progress": n, "message": message]),
                        ]), framed: framed)
                }
            }
            let reply: JSON?
            if let sink {
                reply = await CallProgress.$sink.withValue(sink) {
                    await self.respond(method: methodName, id: id, params: params)
                }
            } else {
                reply = await self.respond(method: methodName, id: id, params: params)
            }
            // The reply is written before the call counts as finished, so EOF never exits ahead of it.
            if let reply, await !self.state.isCancelled(key) { await self.send(reply, framed: framed) }
            await self.state.finish(key)
        }
        await state.start(key, task)
    }

    func notification(_ method: String, params: JSON?) async {
        switch method {
        case "notifications/cancelled":
            if let rid = params?["requestId"] { await state.cancel(rid.serialized()) }
        default:
            break  // notifications/initialized and others need no answer
        }
    }

    func result(_ id: JSON, _ r: JSON) -> JSON { .obj(["jsonrpc": "2.0", "id": id, "result": r]) }

    func errorReply(_ id: JSON, _ code: Int, _ message: String, data: JSON? = nil) -> JSON {
        var err = JSONObject()
        err["code"] = .int(code)
        err["message"] = .string(message)
        if let data { err["data"] = data }
        return .obj(["jsonrpc": "2.0", "id": id, "error": JSON.object(err)])
    }

    /// The reply to one request (nil: none).
    func respond(method: String, id: JSON, params: JSON?) async -> JSON? {
        // The stateless 2026-07-28 era (`server/discover`, protocol.md §13) belongs to the transports
        // issue: until then `server/discover` is "method not found", so `mode="auto"` clients fall
        // back to the initialize handshake instead of receiving half-shaped modern results.
        await respondCore(method: method, id: id, params: params)
    }

    func respondCore(method: String, id: JSON, params: JSON?) async -> JSON? {
        switch method {
        case "initialize":
            guard await state.markInitialized() else { return errorReply(id, -32600, "already initialized") }
            let requested = params?["protocolVersion"]?.stringValue ?? ""
            let version = Self.supportedVersions.contains(requested) ? requested : Self.supportedVersions.last!
            return result(
                id,
                .obj([
                    "protocolVersion": version, "serverInfo": serverInfo, "capabilities": capabilities,
                    "instructions": instructions,
                ]))
        case "ping", "logging/setLevel":
            return result(id, .obj([:]))
        case "tools/list":
            return result(id, dispatcher.toolsList())
        case "resources/list":
            return result(id, .obj(["resources": [JSON]()]))
        case "prompts/list":
            return result(id, .obj(["prompts": [JSON]()]))
        case "tools/call":
            guard let p = params, case .object(let o) = p else {
                return errorReply(id, -32602, "invalid params: tools/call params must be an object")
            }
            guard let name = o["name"]?.stringValue else {
                return errorReply(id, -32602, "invalid params: name is required and must be a string")
            }
            do {
                return result(id, try await dispatcher.callTool(name: name, arguments: o["arguments"]))
            } catch let f as ProtocolFault {
                return errorReply(id, f.code, f.message)
            } catch {
                return errorReply(id, -32603, "internal error: \(error)")
            }
        default:
            return errorReply(id, -32601, "method not found: \(method)")
        }
    }
}

/// Per-connection state: the handshake and the calls in flight (for cancellation and EOF).
actor ConnectionState {
    var initialized = false
    var running: [String: Task<Void, Never>] = [:]
    var cancelled: Set<String> = []
    /// Calls that finished before they were registered.
    var finishedEarly: Set<String> = []

    func markInitialized() -> Bool {
        if initialized { return false }
        initialized = true
        return true
    }

    func start(_ key: String, _ task: Task<Void, Never>) {
        // The call may already have finished; finish() removed nothing then.
        if finishedEarly.remove(key) != nil { return }
        running[key] = task
    }

    /// Whether the request was cancelled (its reply must not be sent).
    func isCancelled(_ key: String) -> Bool { cancelled.contains(key) }

    func finish(_ key: String) {
        if running.removeValue(forKey: key) == nil { finishedEarly.insert(key) }
        cancelled.remove(key)
    }

    func cancel(_ key: String) {
        guard let t = running[key] else { return }
        cancelled.insert(key)
        t.cancel()
    }

    var runningCount: Int { running.count }
}

/// Progress values must increase.
actor ProgressCounter {
    var n = 0
    func next() -> Int {
        n += 1
        return n
    }
}
