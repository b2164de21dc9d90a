import CodestratorCore
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// The error a request handler's body read fails with when the guard answered the request itself.
struct RequestCutOff: Error {}

/// The open connections of one server, shared by the guards of all its connections.
final class ConnectionCount: @unchecked Sendable {
    private let lock = NSLock()
    private var open = 0
    private var lastRefusalLog = Date.distantPast
    private var refusedSinceLog = 0

    /// Counts a new connection; returns how many are open with it.
    func opened() -> Int {
        lock.lock()
        defer { lock.unlock() }
        open += 1
        return open
    }

    func closed() {
        lock.lock()
        defer { lock.unlock() }
        open -= 1
    }

    /// Whether to log a refusal now (at most once a second; the line says how many were refused meanwhile).
    func refusalToLog() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        refusedSinceLog += 1
        guard Date().timeIntervalSince(lastRefusalLog) >= 1 else { return nil }
        lastRefusalLog = Date()
        defer { refusedSinceLog = 0 }
        return refusedSinceLog
    }
}

/// One connection's limits, between the HTTP codec and the request handling:
/// - **Read timeout.** A connection silent for `readTimeout` while the server waits for a request's head
///   (an idle keep-alive connection, a head that never completes) is closed; one silent in the middle of a
///   body gets `408` and is closed. A response in progress (an SSE stream) is never timed out.
/// - **Connection cap.** A connection past the cap gets `503` for its first request and is closed; the
///   server stops accepting at the cap plus `HTTPServerConfig.sheddingConnections`, so it never runs out of
///   descriptors.
/// - **Shutdown.** On the server's quiesce event a half-read request gets `503` at once, an idle connection is
///   closed, and a response still in progress `shutdownGrace` later is cut off.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let count: ConnectionCount
    let cap: Int
    let readTimeout: Double
    let shutdownGrace: Double

    private var counted = false
    /// Over the cap: the first request is answered 503.
    private var refused = false
    /// A head was read and its end not yet.
    private var inRequest = false
    /// Requests read whose response has not ended.
    private var outstanding = 0
    private var responseStarted = false
    /// The guard answered and closes the connection; the request handler's writes are dropped.
    private var answered = false
    private var declaredLength: String?
    private var bodyBytes = 0
    private var timer: Scheduled<Void>?

    init(count: ConnectionCount, cap: Int, readTimeout: Double, shutdownGrace: Double) {
        self.count = count
        self.cap = cap
        self.readTimeout = readTimeout
        self.shutdownGrace = shutdownGrace
    }

    func handlerAdded(context: ChannelHandlerContext) {
        counted = true
        refused = count.opened() > cap
        arm(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    private func release() {
        timer?.cancel()
        timer = nil
        if counted {
            counted = false
            count.closed()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if answered { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if refused {
                if let n = count.refusalToLog() {
                    logger.warning("http: refused \(n) connection(s) over the cap of \(cap) (503)")
                }
                answer(
                    context, .serviceUnavailable,
                    "the server is at its cap of \(cap) connections (--max-connections); expected fewer at once, retry later",
                    retryAfter: true)
                return
            }
            inRequest = true
            outstanding += 1
            declaredLength = head.headerFields[.contentLength]
            bodyBytes = 0
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            inRequest = false
        }
        arm(context)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if answered {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head: responseStarted = true
        case .body: break
        case .end:
            responseStarted = false
            outstanding = max(0, outstanding - 1)
            arm(context)
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent, !answered else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if inRequest && !responseStarted && outstanding == 1 {
            answer(
                context, .serviceUnavailable,
                "the server is shutting down; the request was not run, expected it again once the server is back",
                retryAfter: false)
            return
        }
        if outstanding > 0 {
            // Streams of sessions end when the sessions close; anything else still running is cut off.
            let loop = context.eventLoop.assumeIsolated()
            _ = loop.scheduleTask(in: Self.amount(shutdownGrace)) {
                context.close(promise: nil)
            }
        }
        // The connection state handler closes an idle connection now, a busy one after its response.
        context.fireUserInboundEventTriggered(event)
    }

    /// (Re)starts the read timer while the server waits for the client: no request in progress, or one
    /// still being read. A response in progress is never timed out.
    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        guard !answered, inRequest || outstanding == 0 else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.amount(readTimeout)) {
            self.timedOut(context)
        }
    }

    private func timedOut(_ context: ChannelHandlerContext) {
        timer = nil
        if answered { return }
        let seconds = Self.format(readTimeout)
        if inRequest && !responseStarted && outstanding == 1 {
            let expected =
                declaredLength.map { "\(bodyBytes) of \($0) body bytes arrived" }
                ?? "\(bodyBytes) body bytes arrived"
            logger.info("http: request body timed out after \(seconds) s (408)")
            answer(
                context, .requestTimeout,
                "request timed out: \(expected), then nothing for \(seconds) s (--read-timeout); expected the whole body",
                retryAfter: false)
        } else {
            context.close(promise: nil)
        }
    }

    /// Writes a whole response of its own and closes the connection.
    private func answer(
        _ context: ChannelHandlerContext, _ status: HTTPResponse.Status, _ text: String, retryAfter: Bool
    ) {
        answered = true
        timer?.cancel()
        timer = nil
        if inRequest {
            // The request handler is reading this body: make its read fail, or it would take the bytes so far
            // for the whole body (Hummingbird ends a body at the end of the stream) and could run the request.
            context.fireErrorCaught(RequestCutOff())
        }
        let body = ByteBuffer(string: text + "\n")
        var fields = HTTPFields()
        fields[.contentType] = "text/plain; charset=utf-8"
        fields[.contentLength] = "\(body.readableBytes)"
        fields[.connection] = "close"
        if retryAfter { fields[.retryAfter] = "1" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }

    static func amount(_ seconds: Double) -> TimeAmount {
        .nanoseconds(Int64(seconds * 1e9))
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
