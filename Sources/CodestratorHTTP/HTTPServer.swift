import CodestratorCore
import CodestratorMCP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle

/// `codestrator serve --http`: the MCP Streamable HTTP transport at `/mcp` (docs/http.md) on
/// Hummingbird, with the JSON-RPC handling of `RPCHandler`. Handshake-era requests live in sessions
/// (`Mcp-Session-Id`); 2026-07-28 requests need none.
public final class MCPHTTPServer: Sendable {
    let handler: RPCHandler
    let config: HTTPServerConfig
    let sessions: HTTPSessions
    let expectedToken: [UInt8]?
    let dashboard: Dashboard?

    public init(handler: RPCHandler, config: HTTPServerConfig, dashboard: Dashboard? = nil) {
        self.handler = handler
        self.config = config
        self.dashboard = dashboard
        self.sessions = HTTPSessions(config: config)
        self.expectedToken = config.token.map { Array($0.utf8) }
    }

    /// Listens until SIGTERM or SIGINT (or until the task is cancelled); `onListening` gets the bound port.
    /// On the signal the sessions close (their streams end, their calls are cancelled), idle connections
    /// close, and responses still running `shutdownGrace` later are cut off.
    public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            await self.respond(request)
        }
        var hummingbirdLogger = Logger(label: "codestrator.http")
        hummingbirdLogger.logLevel = .critical  // our own log lines go to stderr; Hummingbird's would repeat them
        let host = config.host.hasPrefix("[") ? String(config.host.dropFirst().dropLast()) : config.host
        let count = ConnectionCount()
        let (cap, readTimeout, grace) = (config.connectionCap, config.readTimeout, config.shutdownGrace)
        let channel = HTTP1Channel.Configuration(additionalChannelHandlers: [
            ConnectionGuard(count: count, cap: cap, readTimeout: readTimeout, shutdownGrace: grace)
        ])
        let app = Application(
            responder: responder,
            server: .http1(configuration: channel),
            configuration: .init(
                address: .hostname(host, port: config.port), serverName: nil,
                // Past the cap and the connections answered 503, stop accepting rather than run out of
                // descriptors (an accept loop failing with EMFILE spins).
                availableConnectionsDelegate: MaximumAvailableConnections(
                    cap + HTTPServerConfig.sheddingConnections, logger: hummingbirdLogger)),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: hummingbirdLogger)
        let expiry = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(min(60, max(1, config.idleTimeout / 4)) * 1e9))
                let n = await sessions.expireIdle()
                if n > 0 { logger.info("closed \(n) idle HTTP session(s)") }
            }
        }
        defer { expiry.cancel() }
        // Services shut down last to first: the sessions close before the server stops accepting and
        // waits for its connections.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: app), .init(service: SessionCloser(sessions: sessions, grace: grace)),
        ]
        if let dashboard { services.append(.init(service: DashboardCloser(hub: dashboard.hub))) }
        var group = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint], logger: hummingbirdLogger)
        group.maximumGracefulShutdownDuration = .milliseconds(Int64((grace + 2) * 1000))
        try await ServiceGroup(configuration: group).run()
    }

    // MARK: Requests

    static let sessionHeader = HTTPField.Name("Mcp-Session-Id")!
    static let versionHeader = HTTPField.Name("MCP-Protocol-Version")!
    static let lastEventHeader = HTTPField.Name("Last-Event-ID")!

    func respond(_ request: Request) async -> Response {
        let path = request.uri.path
        if path == "/health" && (request.method == .get || request.method == .head) {
            return json(.ok, .obj(["status": "ok", "version": CodestratorVersion.current]))
        }
        if let dashboard, let r = await dashboard.respond(request, config: config) { return r }
        guard path == "/mcp" || path == "/mcp/" else {
            return plain(.notFound, "not found: \(path.prefix(200)); expected /mcp or /health")
        }
        // Origin first: a browser page of a foreign origin learns nothing, not even whether a token is set.
        var cors = HTTPFields()
        if let origin = request.headers[.origin] {
            guard config.isAllowedOrigin(origin) else {
                logger.info("http: refused origin \(origin.prefix(100)) (403)")
                return plain(
                    .forbidden, "origin not allowed; expected a loopback origin or one given with --allow-origin")
            }
            cors[.accessControlAllowOrigin] = origin
            cors[.vary] = "Origin"
            cors[.accessControlExposeHeaders] = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate"
        }
        if request.method == .options {
            cors[.accessControlAllowMethods] = "GET, POST, DELETE, OPTIONS"
            cors[.accessControlAllowHeaders] =
                "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name"
            cors[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: cors)
        }
        if let expectedToken {
            let given = Self.bearerToken(request.headers[.authorization] ?? "")
            guard let given, constantTimeEqual(Array(given.utf8), expectedToken) else {
                logger.info("http: \(request.method) /mcp without a valid bearer token (401)")
                var h = cors
                h[.wwwAuthenticate] = "Bearer"
                return plain(.unauthorized, "a valid Authorization: Bearer token is required", extra: h)
            }
        }
        var response: Response
        switch request.method {
        case .post: response = await post(request)
        case .get: response = await get(request)
        case .delete: response = await delete(request)
        default:
            response = plain(.methodNotAllowed, "method \(request.method) not allowed; expected GET, POST or DELETE")
            response.headers[.allow] = "GET, POST, DELETE, OPTIONS"
        }
        for f in cors { response.headers[f.name] = f.value }
        return response
    }

    func post(_ request: Request) async -> Response {
        var request = request
        guard accepts(request, "application/json") && accepts(request, "text/event-stream") else {
            return plain(.notAcceptable, "Accept must allow application/json and text/event-stream")
        }
        if let ct = request.headers[.contentType],
            !ct.lowercased().trimmingCharacters(in: .whitespaces).hasPrefix("application/json")
        {
            return plain(.unsupportedMediaType, "Content-Type must be application/json")
        }
        if let len = request.headers[.contentLength].flatMap(Int.init), len > config.maxBody {
            var r = plain(.contentTooLarge, "body of \(len) bytes is over the limit of 16 MiB")
            r.headers[.connection] = "close"
            return r
        }
        let body: [UInt8]
        do {
            let buf = try await request.collectBody(upTo: config.maxBody)
            body = Array(buf.readableBytesView)
        } catch is RequestCutOff {
            return plain(.requestTimeout, "the request was cut off")  // answered already by the connection guard
        } catch {
            var r = plain(.contentTooLarge, "body is over the limit of 16 MiB")
            r.headers[.connection] = "close"
            return r
        }
        if let len = request.headers[.contentLength].flatMap(Int.init), body.count != len {
            // A connection that ended early: never run a request from part of its body.
            return plain(
                .badRequest, "the body ended after \(body.count) of \(len) bytes; expected Content-Length bytes")
        }
        let message = RPCMessage.parse(body)
        switch message {
        case .invalid(let reply):
            return json(.badRequest, reply)
        case .ignored:
            return Response(status: .accepted)
        default:
            break
        }
        let headerVersion = request.headers[Self.versionHeader]
        if message.isModern {
            return await postModern(message, headerVersion: headerVersion)
        }
        if let v = headerVersion, !RPCHandler.supportedVersions.contains(v) {
            return plain(
                .badRequest,
                "MCP-Protocol-Version \(v.prefix(40)) is not supported; expected one of \(RPCHandler.supportedVersions.joined(separator: "|"))"
            )
        }
        if case .request(_, "initialize", _) = message {
            let session: HTTPSession
            switch await sessions.create() {
            case .created(let s): session = s
            case .full(let n):
                logger.warning("http: refused initialize: \(n) sessions are open (503)")
                var r = plain(
                    .serviceUnavailable,
                    "the server holds its cap of \(n) sessions (--max-sessions); expected a client to end one with DELETE /mcp, or one to expire after \(Int(config.idleTimeout / 60)) minutes without a request"
                )
                r.headers[.retryAfter] = "1"
                return r
            case .shuttingDown:
                return plain(.serviceUnavailable, "the server is shutting down; expected initialize once it is back")
            }
            var r = await answer(message, state: session.state, session: session)
            if r.status == .ok {
                r.headers[Self.sessionHeader] = session.id
                let live = await sessions.count
                logger.info("http: session opened (\(live) live)")
            } else {
                _ = await sessions.remove(session.id)
            }
            return r
        }
        let session: HTTPSession
        switch await lookupSession(request) {
        case .success(let s): session = s
        case .failure(let r): return r.response
        }
        await session.activity.touch()
        return await answer(message, state: session.state, session: session)
    }

    /// A 2026-07-28 request: no session; the protocol version comes from `params._meta`.
    func postModern(_ message: RPCMessage, headerVersion: String?) async -> Response {
        guard case .request(let id, _, let params) = message else { return Response(status: .accepted) }
        let metaVersion = params?["_meta"]?[RPCHandler.metaVersionKey]?.stringValue
        if let v = headerVersion ?? metaVersion, !RPCHandler.modernVersions.contains(v) {
            return json(.badRequest, RPCHandler.unsupportedVersion(id, requested: v))
        }
        if let h = headerVersion, let m = metaVersion, h != m {
            return json(
                .badRequest,
                RPCHandler.errorReply(
                    id, -32020,
                    "header mismatch: MCP-Protocol-Version \(h.prefix(40)) differs from params._meta \(m.prefix(40))"))
        }
        return await answer(message, state: ConnectionState(perRequestEra: true), session: nil)
    }

    /// Runs one message: a notification gets 202; a request its reply as JSON, or as an SSE stream when
    /// notifications (progress) come first.
    func answer(_ message: RPCMessage, state: ConnectionState, session: HTTPSession?) async -> Response {
        switch message {
        case .notification(let method, let params):
            await handler.notification(method, params: params, state: state)
            return Response(status: .accepted)
        case .request(let id, let method, let params):
            let (stream, cont) = AsyncStream<JSON>.makeStream()
            let task = await handler.request(
                id: id, method: method, params: params, state: state,
                send: { cont.yield($0) }, done: { cont.finish() })
            var iterator = stream.makeAsyncIterator()
            guard let first = await iterator.next() else {
                return Response(status: .accepted)  // cancelled: a cancelled request is not answered
            }
            if first["method"] == nil {
                return json(.ok, first)
            }
            return sse(first: first, rest: stream, session: session, onDisconnect: { task.cancel() })
        default:
            return Response(status: .accepted)
        }
    }

    func sse(first: JSON, rest: AsyncStream<JSON>, session: HTTPSession?, onDisconnect: @escaping @Sendable () -> Void)
        -> Response
    {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let body = ResponseBody { writer in
            let streamId = await session?.events.newStream()
            var connected = true
            var anonymousSeq = 0
            func emit(_ message: JSON) async {
                let data = message.serializedBytes()
                let event: SSEEvent
                if let session, let streamId {
                    event = await session.events.append(stream: streamId, data: data)
                } else {
                    anonymousSeq += 1
                    event = SSEEvent(stream: 0, seq: anonymousSeq, data: data)
                }
                guard connected else { return }
                do {
                    try await writer.write(ByteBuffer(bytes: event.bytes))
                } catch {
                    connected = false
                    // Modern era: closing the response stream cancels the request. Handshake era: the
                    // events stay in the session for a resuming GET (Last-Event-ID).
                    if session == nil { onDisconnect() }
                }
            }
            await emit(first)
            for await message in rest { await emit(message) }
            if let session, let streamId { await session.events.finish(stream: streamId) }
            if connected { try await writer.finish(nil) }
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `GET /mcp`: the session's stream for server notifications, or the resumption of a stream
    /// (`Last-Event-ID`).
    func get(_ request: Request) async -> Response {
        guard accepts(request, "text/event-stream") else {
            return plain(.notAcceptable, "Accept must allow text/event-stream")
        }
        let session: HTTPSession
        switch await lookupSession(request) {
        case .success(let s): session = s
        case .failure(let r): return r.response
        }
        await session.activity.touch()
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        if let last = request.headers[Self.lastEventHeader] {
            let resumed: EventStore.Resumed
            switch await session.events.resume(after: last) {
            case .success(let r): resumed = r
            case .failure(let refusal):
                return plain(refusal.status, refusal.message)
            }
            let body = ResponseBody { writer in
                for e in resumed.replay { try await writer.write(ByteBuffer(bytes: e.bytes)) }
                if let live = resumed.live {
                    for await e in live { try await writer.write(ByteBuffer(bytes: e.bytes)) }
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: headers, body: body)
        }
        guard let stream = await session.activity.openGet() else {
            return plain(.conflict, "this session already has a GET stream open")
        }
        let activity = session.activity
        let body = ResponseBody { writer in
            // Keep-alive comments reveal a client that went away; server notifications would go here too.
            let ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: 15_000_000_000)
                    await activity.send(Array(": keep-alive\n\n".utf8))
                }
            }
            defer { ticker.cancel() }
            do {
                try await writer.write(ByteBuffer(bytes: Array(": stream open\n\n".utf8)))
                for await chunk in stream { try await writer.write(ByteBuffer(bytes: chunk)) }
                await activity.getEnded()
                try await writer.finish(nil)
            } catch {
                await activity.getEnded()
                throw error
            }
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `DELETE /mcp`: ends the session.
    func delete(_ request: Request) async -> Response {
        guard let id = request.headers[Self.sessionHeader] else {
            return plain(.badRequest, "Mcp-Session-Id header is required")
        }
        guard let s = await sessions.remove(id) else {
            return plain(.notFound, "unknown or expired session; expected the Mcp-Session-Id of initialize")
        }
        await s.close()
        let live = await sessions.count
        logger.info("http: session closed (\(live) live)")
        return Response(status: .ok)
    }

    struct Refusal: Error {
        let response: Response
    }

    func lookupSession(_ request: Request) async -> Result<HTTPSession, Refusal> {
        guard let id = request.headers[Self.sessionHeader] else {
            return .failure(
                Refusal(
                    response: plain(
                        .badRequest, "Mcp-Session-Id header is required; expected the id returned by initialize")))
        }
        guard let s = await sessions.get(id) else {
            return .failure(
                Refusal(
                    response: plain(.notFound, "unknown or expired session; expected the Mcp-Session-Id of initialize"))
            )
        }
        return .success(s)
    }

    // MARK: Helpers

    /// The credentials of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235), one or
    /// more spaces follow it. Nil for another scheme or no credentials.
    static func bearerToken(_ header: String) -> Substring? {
        guard let space = header.firstIndex(of: " "), header[..<space].lowercased() == "bearer" else { return nil }
        let token = header[space...].drop { $0 == " " }
        return token.isEmpty ? nil : token
    }

    /// Whether the Accept header allows `type` (an absent header allows everything).
    func accepts(_ request: Request, _ type: String) -> Bool {
        let values = request.headers[values: .accept]
        if values.isEmpty { return true }
        let major = type.split(separator: "/")[0]
        for v in values {
            for item in v.split(separator: ",") {
                let range = item.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased()
                if range == type || range == "*/*" || range == "\(major)/*" { return true }
            }
        }
        return false
    }

    func json(_ status: HTTPResponse.Status, _ body: JSON) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body.serializedBytes())))
    }

    func plain(_ status: HTTPResponse.Status, _ text: String, extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(
            status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}

extension HTTPSession.Activity {
    func send(_ chunk: [UInt8]) {
        getStream?.yield(chunk)
    }
}

/// Closes the sessions when the server is asked to stop, so that their streams end and their calls are
/// cancelled before the server waits for its connections; exits the process if stopping takes far longer
/// than it should.
struct SessionCloser: Service {
    let sessions: HTTPSessions
    let grace: Double

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            _ = await sessions.closeAll()  // cancelled, not signalled: the caller decides when the process ends
            return
        }
        let n = await sessions.closeAll()
        logger.info("http: stopping (closed \(n) session(s))")
        let limit = grace + 6
        Task.detached {
            try? await Task.sleep(nanoseconds: UInt64(limit * 1e9))
            logger.error("http: connections still open \(Int(limit)) s after the stop signal; exiting")
            exit(0)
        }
    }
}
