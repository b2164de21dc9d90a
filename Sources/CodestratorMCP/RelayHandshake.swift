import CodestratorCore

/// The first line a child's relay sends on its root server's session socket (docs/runtime-guide.md#child-relay): who the
/// child claims to be. Nothing in it is trusted: the server confirms role, thread and session in the database
/// (RelayListener), and serves only a connection whose claim it confirmed.
public struct RelayHandshake: Sendable, Equatable {
    public static let version = 1
    public var role: ProcessRole
    public var threadId: Int
    public var sessionId: Int
    public var repo: String?
    public var db: String?
    public var tmuxSocket: String?

    public init(
        role: ProcessRole, threadId: Int, sessionId: Int, repo: String? = nil, db: String? = nil,
        tmuxSocket: String? = nil
    ) {
        self.role = role
        self.threadId = threadId
        self.sessionId = sessionId
        self.repo = repo
        self.db = db
        self.tmuxSocket = tmuxSocket
    }

    /// Parses one handshake line; the error says what is wrong (it is sent back to the relay).
    public static func parse(_ line: [UInt8]) throws(HandshakeError) -> RelayHandshake {
        guard let parsed = try? JSON.parse(line), case .object(let o) = parsed else {
            throw HandshakeError("the handshake is not a JSON object")
        }
        guard o["codestrator_relay"]?.intValue == version else {
            throw HandshakeError("codestrator_relay must be \(version)")
        }
        guard let name = o["role"]?.stringValue, let role = ProcessRole(rawValue: name), role != .root else {
            throw HandshakeError("role must be a child role")
        }
        guard let thread = o["thread_id"]?.intValue, thread > 0 else {
            throw HandshakeError("thread_id must be a positive integer")
        }
        guard let session = o["session_id"]?.intValue, session > 0 else {
            throw HandshakeError("session_id must be a positive integer")
        }
        for key in ["repo", "db", "tmux_socket"] {
            if let v = o[key], !v.isNull, v.stringValue == nil { throw HandshakeError("\(key) must be a string") }
        }
        return RelayHandshake(
            role: role, threadId: thread, sessionId: session, repo: o["repo"]?.stringValue, db: o["db"]?.stringValue,
            tmuxSocket: o["tmux_socket"]?.stringValue)
    }

    /// The handshake line, newline included (the relay's side; also what tests forge).
    public var line: [UInt8] {
        var pairs: [(String, JSON)] = [
            ("codestrator_relay", .int(Self.version)), ("role", .string(role.rawValue)), ("thread_id", .int(threadId)),
            ("session_id", .int(sessionId)),
        ]
        if let repo { pairs.append(("repo", .string(repo))) }
        if let db { pairs.append(("db", .string(db))) }
        if let tmuxSocket { pairs.append(("tmux_socket", .string(tmuxSocket))) }
        return JSON.object(JSONObject(pairs)).serializedBytes() + [0x0A]
    }

    /// The server's answers: `{"ok":true}`, or `{"ok":false,"error":"…"}`.
    public static let accepted: [UInt8] = Array("{\"ok\":true}\n".utf8)
    public static func refused(_ why: String) -> [UInt8] {
        JSON.object(JSONObject([("ok", .bool(false)), ("error", .string(why))])).serializedBytes() + [0x0A]
    }
}

public struct HandshakeError: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
