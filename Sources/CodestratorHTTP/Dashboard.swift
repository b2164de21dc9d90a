import CodestratorCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// The read-only web dashboard of `serve --http` (docs/dashboard.md): `/` and `/dashboard/...`, on a
/// loopback server only. The printed link carries a token that is exchanged for an HttpOnly,
/// SameSite=Strict cookie; every other request needs the cookie. Only GET and HEAD exist, so no request
/// can change state.
public final class Dashboard: Sendable {
    static let cookieName = "codestrator_dashboard"

    /// The token of the printed link (random per server start).
    public let linkToken: String
    /// The server's `--token`, also accepted in the link.
    let serverToken: [UInt8]?
    /// The cookie value a browser gets for a valid link (random per server start, never printed).
    let cookieSecret: [UInt8]
    let hub: DashboardHub

    /// `environment` opens the repository's state the way the MCP tools do (lazily, once).
    public init(
        serverToken: String?, linkToken: String? = nil,
        environment: @escaping @Sendable () async throws -> ServiceEnvironment
    ) {
        self.linkToken = linkToken ?? Self.randomHex(24)
        self.serverToken = serverToken.map { Array($0.utf8) }
        self.cookieSecret = Array(Self.randomHex(32).utf8)
        self.hub = DashboardHub(environment: environment)
    }

    /// The one link to print: `http://HOST:PORT/?token=...`.
    public func link(host: String, port: Int) -> String { "http://\(host):\(port)/?token=\(linkToken)" }

    /// Prints the link on stderr whatever the log level: it is the only way in.
    public static func announce(_ link: String) {
        FileHandle.standardError.write(Data("dashboard (read-only; open this link once): \(link)\n".utf8))
    }

    static func randomHex(_ bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    static func isDashboardPath(_ path: String) -> Bool {
        path == "/" || path == "/index.html" || path == "/dashboard" || path.hasPrefix("/dashboard/")
    }

    /// The answer to a dashboard request, or nil when `request` is not one.
    func respond(_ request: Request, config: HTTPServerConfig) async -> Response? {
        let path = request.uri.path
        guard Self.isDashboardPath(path) else { return nil }
        // A page of another site learns nothing; a rebound DNS name (Host: evil.example) gets nothing either.
        if let origin = request.headers[.origin], !config.isAllowedOrigin(origin) {
            logger.info("http: dashboard refused origin \(origin.prefix(100)) (403)")
            return page(.forbidden, "origin not allowed; expected a loopback origin or one given with --allow-origin")
        }
        guard Self.isLoopbackAuthority(request.head.authority) else {
            return page(.forbidden, "the dashboard answers only to a loopback Host (127.0.0.1, localhost, [::1])")
        }
        guard request.method == .get || request.method == .head else {
            var r = page(.methodNotAllowed, "the dashboard is read-only; expected GET or HEAD")
            r.headers[.allow] = "GET, HEAD"
            return r
        }
        if path == "/" || path == "/index.html", let given = request.uri.queryParameters["token"] {
            let bytes = Array(given.utf8)
            let valid =
                constantTimeEqual(bytes, Array(linkToken.utf8))
                || (serverToken.map { constantTimeEqual(bytes, $0) } ?? false)
            guard valid else {
                logger.info("http: dashboard link with a wrong token (401)")
                return page(.unauthorized, "this link's token is not valid; open the link that serve --http printed")
            }
            // The token leaves the URL at once: the browser keeps a cookie that scripts cannot read.
            var r = page(.seeOther, "opening the dashboard")
            r.headers[.location] = "/"
            r.headers[.setCookie] =
                "\(Self.cookieName)=\(String(decoding: cookieSecret, as: UTF8.self)); Path=/; HttpOnly; SameSite=Strict"
            return r
        }
        guard hasCookie(request) else {
            return page(
                .unauthorized,
                "not signed in; open the link that codestrator serve --http printed (http://127.0.0.1:PORT/?token=...)")
        }
        switch path {
        case "/", "/index.html", "/dashboard", "/dashboard/":
            return asset(DashboardAssets.html, type: "text/html; charset=utf-8")
        case "/dashboard/app.js":
            return asset(DashboardAssets.script, type: "text/javascript; charset=utf-8")
        case "/dashboard/app.css":
            return asset(DashboardAssets.style, type: "text/css; charset=utf-8")
        case "/dashboard/snapshot":
            var r = Self.secured(
                Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: await hub.snapshot().serializedBytes()))))
            if request.method == .head { r.body = ResponseBody() }
            return r
        case "/dashboard/events":
            // HEAD must not subscribe: it would hold a watcher for a stream nobody reads.
            return request.method == .head
                ? Self.secured(Response(status: .ok, headers: [.contentType: "text/event-stream"])) : events()
        default:
            return page(.notFound, "not found: \(path.prefix(200))")
        }
    }

    /// The SSE stream: a `snapshot` event at once and whenever the state changes, `panes` events when
    /// a child's screen changes, keep-alive comments every 5 s.
    func events() -> Response {
        let hub = self.hub
        let body = ResponseBody { writer in
            let (id, stream) = await hub.subscribe()
            do {
                try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                for await chunk in stream { try await writer.write(ByteBuffer(bytes: chunk)) }
                await hub.unsubscribe(id)
                try await writer.finish(nil)
            } catch {
                await hub.unsubscribe(id)
                throw error
            }
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        return Self.secured(Response(status: .ok, headers: headers, body: body))
    }

    func hasCookie(_ request: Request) -> Bool {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces)
                guard let eq = kv.firstIndex(of: "="), kv[..<eq] == Self.cookieName else { continue }
                if constantTimeEqual(Array(kv[kv.index(after: eq)...].utf8), cookieSecret) { return true }
            }
        }
        return false
    }

    /// Whether a Host header names a loopback address (a port may follow).
    static func isLoopbackAuthority(_ authority: String?) -> Bool {
        guard let a = authority?.lowercased() else { return false }
        var host = Substring(a)
        if host.hasPrefix("[") {
            guard let end = host.firstIndex(of: "]") else { return false }
            host = host[host.index(after: host.startIndex)..<end]
            return host == "::1"
        }
        if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
        return host == "127.0.0.1" || host == "localhost"
    }

    func asset(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Self.secured(
            Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text))))
    }

    func page(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Self.secured(
            Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n"))))
    }

    static let csp =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// Every dashboard answer: a strict Content-Security-Policy, no sniffing, no framing, no caching.
    static func secured(_ response: Response) -> Response {
        var r = response
        r.headers[.contentSecurityPolicy] = csp
        r.headers[.xContentTypeOptions] = "nosniff"
        r.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        r.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        r.headers[.cacheControl] = "no-store"
        return r
    }
}

/// Ends the dashboard's event streams when the server is asked to stop.
struct DashboardCloser: Service {
    let hub: DashboardHub

    func run() async throws {
        try? await gracefulShutdown()
        await hub.close()
    }
}
