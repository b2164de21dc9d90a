import CodestratorCore
import Foundation

/// One incoming JSON-RPC message after validation (docs/protocol-eras.md#json-rpc-messages).
public enum RPCMessage: Sendable {
    /// The message is answered at once with this error reply (parse error, batch, invalid request).
    case invalid(JSON)
    /// Nothing to answer (a stray response, or an invalid message without an id).
    case ignored
    case notification(method: String, params: JSON?)
    case request(id: JSON, method: String, params: JSON?)

    /// Validates one message (nil bytes: the message exceeded the size limit).
    public static func parse(_ bytes: [UInt8]?) -> RPCMessage {
        guard let bytes else {
            return .invalid(RPCHandler.errorReply(.null, -32700, "parse error: message larger than 16 MiB"))
        }
        let parsed: JSON
        do {
            parsed = try JSON.parse(bytes)
        } catch {
            return .invalid(RPCHandler.errorReply(.null, -32700, "parse error: \(error)"))
        }
        if case .array = parsed {
            return .invalid(RPCHandler.errorReply(.null, -32600, "batch requests are not supported"))
        }
        guard case .object(let obj) = parsed else {
            return .invalid(RPCHandler.errorReply(.null, -32600, "invalid request: not a JSON object"))
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
            if rawId == nil { return .ignored }
            return .invalid(RPCHandler.errorReply(replyId, -32600, "invalid request: jsonrpc must be \"2.0\""))
        }
        guard let methodName = obj["method"]?.stringValue else {
            if rawId == nil && obj["method"] == nil { return .ignored }  // a stray response; nothing to answer
            return .invalid(RPCHandler.errorReply(replyId, -32600, "invalid request: method must be a string"))
        }
        guard let id = rawId else {
            return .notification(method: methodName, params: obj["params"])
        }
        guard idUsable else {
            return .invalid(
                RPCHandler.errorReply(.null, -32600, "invalid request: id must be a string or an integer"))
        }
        return .request(id: id, method: methodName, params: obj["params"])
    }

    /// Whether a request belongs to the 2026-07-28 era (docs/protocol-eras.md#2026-07-28-era): `server/discover`, or a protocol
    /// version in `params._meta`.
    public var isModern: Bool {
        guard case .request(_, let method, let params) = self else { return false }
        return method == "server/discover" || RPCHandler.metaVersion(params) != nil
    }
}

/// The era of a connection or request (docs/protocol-eras.md#2026-07-28-era).
public enum ProtocolEra: Sendable {
    /// `initialize` handshake, 2024-11-05 … 2025-11-25.
    case handshake
    /// The stateless 2026-07-28 era.
    case modern
}

/// The JSON-RPC and MCP logic of one connection, independent of the transport (docs/protocol-eras.md#json-rpc-messages, docs/protocol-eras.md#tools, docs/protocol-eras.md#calling-a-tool,
/// §10, §13): the transport parses bytes with `RPCMessage.parse` and hands messages here with a
/// `send` closure that writes one outgoing message whole.
public final class RPCHandler: Sendable {
    public static let supportedVersions = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
    public static let modernVersions = ["2026-07-28"]
    public static let metaVersionKey = "io.modelcontextprotocol/protocolVersion"

    public let dispatcher: Dispatcher
    public let options: ServerOptions

    public init(dispatcher: Dispatcher, options: ServerOptions) {
        self.dispatcher = dispatcher
        self.options = options
    }

    var serverInfo: JSON { .obj(["name": "codestrator", "version": CodestratorVersion.current]) }
    var capabilities: JSON { .obj(["tools": JSON.obj(["listChanged": false]), "logging": JSON.obj([:])]) }
    var instructions: String {
        var s = "Codestrator \(CodestratorVersion.current), role \(options.role.rawValue)"
        if let t = options.threadId { s += ", thread \(t)" }
        return s + ", repository \((options.repo as NSString).standardizingPath). Use the codestrator skill."
    }

    static func metaVersion(_ params: JSON?) -> String? {
        params?["_meta"]?[metaVersionKey]?.stringValue
    }

    /// Starts one request; its reply (none when cancelled) goes through `send`, then `done` runs.
    /// Returns the task running the call.
    @discardableResult
    public func request(
        id: JSON, method: String, params: JSON?, state: ConnectionState,
        send: @escaping @Sendable (JSON) async -> Void,
        done: @escaping @Sendable () async -> Void = {}
    ) async -> Task<Void, Never> {
        let key = id.serialized()
        let progressToken = params?["_meta"]?["progressToken"]
        let task = Task {
            // Long calls report progress when the request carries a progress token (docs/protocol-eras.md#progress-and-cancellation).
            // The sink is bound only when there is one: `withValue(nil)` crashed release builds.
            let sink: ProgressSink? = progressToken.map { token in
                let counter = ProgressCounter()
                return ProgressSink { message in
                    let n = await counter.next()
                    await send(
                        .obj([
                            "jsonrpc": "2.0", "method": "notifications/progress",
                            "params": JSON.obj(["progressToken": token, "progress": n, "message": message]),
                        ]))
                }
            }
            let reply: JSON?
            if let sink {
                reply = await CallProgress.$sink.withValue(sink) {
                    await self.respond(method: method, id: id, params: params, state: state)
                }
            } else {
                reply = await self.respond(method: method, id: id, params: params, state: state)
            }
            // The reply is written before the call counts as finished, so EOF never exits ahead of it.
            if let reply, await !state.isCancelled(key) { await send(reply) }
            await state.finish(key)
            await done()
        }
        await state.start(key, task)
        return task
    }

    public func notification(_ method: String, params: JSON?, state: ConnectionState) async {
        switch method {
        case "notifications/cancelled":
            if let rid = params?["requestId"] { await state.cancel(rid.serialized()) }
        default:
            break  // notifications/initialized and others need no answer
        }
    }

    static func result(_ id: JSON, _ r: JSON) -> JSON { .obj(["jsonrpc": "2.0", "id": id, "result": r]) }

    public static func errorReply(_ id: JSON, _ code: Int, _ message: String, data: JSON? = nil) -> JSON {
        var err = JSONObject()
        err["code"] = .int(code)
        err["message"] = .string(message)
        if let data { err["data"] = data }
        return .obj(["jsonrpc": "2.0", "id": id, "error": JSON.object(err)])
    }

    /// `-32022 unsupported protocol version` (docs/protocol-eras.md#2026-07-28-era).
    public static func unsupportedVersion(_ id: JSON, requested: String) -> JSON {
        errorReply(
            id, -32022,
            "unsupported protocol version \"\(requested)\"; expected one of \(modernVersions.joined(separator: "|"))",
            data: .obj(["supported": modernVersions.map { JSON.string($0) }, "requested": requested]))
    }

    /// The reply to one request (nil: none).
    func respond(method: String, id: JSON, params: JSON?, state: ConnectionState) async -> JSON? {
        let requested = Self.metaVersion(params)
        let wantsModern = method == "server/discover" || requested != nil
        if wantsModern, let requested, !Self.modernVersions.contains(requested) {
            return Self.unsupportedVersion(id, requested: requested)
        }
        switch await state.era(for: method, wantsModern: wantsModern) {
        case .handshake:
            return await respondCore(method: method, id: id, params: params, state: state)
        case .modern:
            return await respondModern(method: method, id: id, params: params, state: state)
        }
    }

    /// The 2026-07-28 era: `server/discover`, and the handshake-era results with the fields that revision
    /// requires (`resultType`, `cacheScope`/`ttlMs` for lists) and the `serverInfo` stamp (mcp_types 2.3.0).
    func respondModern(method: String, id: JSON, params: JSON?, state: ConnectionState) async -> JSON? {
        let reply: JSON?
        switch method {
        case "initialize":
            // The connection is already in the modern era: the handshake is refused the way the SDK expects.
            return Self.unsupportedVersion(id, requested: params?["protocolVersion"]?.stringValue ?? "")
        case "server/discover":
            reply = Self.result(
                id,
                .obj([
                    "supportedVersions": JSON.array(Self.modernVersions.map { JSON.string($0) }),
                    "capabilities": capabilities, "instructions": instructions,
                ]))
        default:
            reply = await respondCore(method: method, id: id, params: params, state: state)
        }
        guard let reply, case .object(var r)? = reply["result"] else { return reply }
        switch method {
        case "server/discover", "tools/list", "resources/list", "prompts/list":
            r["cacheScope"] = "private"
            r["ttlMs"] = 0
        default:
            break
        }
        r["resultType"] = "complete"
        var meta = r["_meta"]?.objectValue ?? JSONObject()
        meta["io.modelcontextprotocol/serverInfo"] = serverInfo
        r["_meta"] = .object(meta)
        return Self.result(id, .object(r))
    }

    func respondCore(method: String, id: JSON, params: JSON?, state: ConnectionState) async -> JSON? {
        switch method {
        case "initialize":
            guard await state.markInitialized() else { return Self.errorReply(id, -32600, "already initialized") }
            let requested = params?["protocolVersion"]?.stringValue ?? ""
            let version = Self.supportedVersions.contains(requested) ? requested : Self.supportedVersions.last!
            return Self.result(
                id,
                .obj([
                    "protocolVersion": version, "serverInfo": serverInfo, "capabilities": capabilities,
                    "instructions": instructions,
                ]))
        case "ping", "logging/setLevel":
            return Self.result(id, .obj([:]))
        case "tools/list":
            return Self.result(id, dispatcher.toolsList())
        case "resources/list":
            return Self.result(id, .obj(["resources": [JSON]()]))
        case "prompts/list":
            return Self.result(id, .obj(["prompts": [JSON]()]))
        case "tools/call":
            guard let p = params, case .object(let o) = p else {
                return Self.errorReply(id, -32602, "invalid params: tools/call params must be an object")
            }
            guard let name = o["name"]?.stringValue else {
                return Self.errorReply(id, -32602, "invalid params: name is required and must be a string")
            }
            // Codex names its conversation in every call; that, not the process tree, identifies the root.
            // Only a root learns it: a child served inside the root's process (RelayListener) must not lend the
            // root its own conversation.
            if options.role == .root,
                let codex = o["_meta"]?["x-codex-turn-metadata"]?["session_id"]?.stringValue, !codex.isEmpty,
                codex.count <= 200
            {
                ClientSessions.shared.note(RootIdentity.clientSessionKey(codex))
            }
            do {
                return Self.result(id, try await dispatcher.callTool(name: name, arguments: o["arguments"]))
            } catch let f as ProtocolFault {
                return Self.errorReply(id, f.code, f.message)
            } catch {
                return Self.errorReply(id, -32603, "internal error: \(error)")
            }
        default:
            return Self.errorReply(id, -32601, "method not found: \(method)")
        }
    }
}

/// Per-connection state: the era, the handshake and the calls in flight (for cancellation and EOF).
public actor ConnectionState {
    /// stdio: the client's first `initialize` or modern request decides the era of the connection. HTTP:
    /// every request decides for itself (`perRequestEra`).
    let perRequestEra: Bool
    var lockedEra: ProtocolEra?
    var initialized = false
    var running: [String: Task<Void, Never>] = [:]
    var cancelled: Set<String> = []
    /// Calls that finished before they were registered.
    var finishedEarly: Set<String> = []

    public init(perRequestEra: Bool = false) {
        self.perRequestEra = perRequestEra
    }

    func era(for method: String, wantsModern: Bool) -> ProtocolEra {
        if perRequestEra { return wantsModern ? .modern : .handshake }
        if let lockedEra { return lockedEra }
        if wantsModern {
            lockedEra = .modern
            return .modern
        }
        // Requests before initialize are served without deciding (scripts may skip the handshake).
        if method == "initialize" { lockedEra = .handshake }
        return .handshake
    }

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

    public func cancel(_ key: String) {
        guard let t = running[key] else { return }
        cancelled.insert(key)
        t.cancel()
    }

    /// Cancels every call in flight (the connection or session ended).
    public func cancelAll() {
        for (key, t) in running {
            cancelled.insert(key)
            t.cancel()
        }
    }

    public var runningCount: Int { running.count }
}

/// Progress values must increase.
actor ProgressCounter {
    var n = 0
    func next() -> Int {
        n += 1
        return n
    }
}
