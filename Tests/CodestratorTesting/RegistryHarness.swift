import CodestratorAssembly
import CodestratorCore
import CodestratorMCP
import CodestratorRuntime
import Foundation
import Testing

/// A temporary git repository named `repo` with a root dispatcher over the real registry, so calls
/// go through validation, roles and handlers exactly as over MCP. Real git runs (and tmux on a private
/// socket when a call needs it): the tests built on it are registry integration tests, not unit tests.
public struct Harness: Sendable {
    public let dir: String
    public let repo: String
    public let root: Dispatcher
    public let env: ServiceEnvironment

    public static func make() async throws -> Harness {
        let dir = NSTemporaryDirectory() + "cs-plan-\(UUID().uuidString)"
        let repo = dir + "/repo"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        for args in [
            ["init", "-q", "-b", "main", repo],
            ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "init"],
        ] {
            let r = try await ProcessRunner.run(["git"] + args)
            #expect(r.ok, "git \(args)")
        }
        let provider = Assembly.provider(
            options: ServerOptions(repo: repo, tmuxSocket: "cs-unit-\(UUID().uuidString.prefix(8))", oneShot: true))
        let env = try await provider.environment()
        return Harness(dir: dir, repo: env.layout.root, root: Dispatcher(provider: provider, role: .root), env: env)
    }

    public func cleanup() {
        killTmuxServer(env.tmuxSocket)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A dispatcher of a child role acting as `thread`.
    public func child(_ role: ProcessRole, thread: Int) -> Dispatcher {
        let provider = Assembly.provider(
            options: ServerOptions(repo: repo, role: role, threadId: thread, tmuxSocket: "cs-unit-none", oneShot: true))
        return Dispatcher(provider: provider, role: role)
    }

    /// The result of a call that must succeed.
    @discardableResult
    public func ok(
        _ method: String, _ params: JSONObject = [:], as d: Dispatcher? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSON {
        switch await (d ?? root).callMethod(method, params: params) {
        case .success(let r): return r
        case .failure(let m, let e):
            Issue.record("\(e.message(method: m))", sourceLocation: sourceLocation)
            throw e
        }
    }

    /// The error of a call that must fail, with its full message.
    public func err(
        _ method: String, _ params: JSONObject = [:], as d: Dispatcher? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (code: ErrorCode, message: String) {
        switch await (d ?? root).callMethod(method, params: params) {
        case .success(let r):
            Issue.record("\(method) succeeded: \(r.serialized())", sourceLocation: sourceLocation)
            throw CodestratorError(.internal, "unexpected success", expected: "a failure")
        case .failure(let m, let e): return (e.code, e.message(method: m))
        }
    }

    /// Opens a session; returns its id and its root thread id.
    public func openSession(_ request: String = "fix login") async throws -> (session: Int, rootThread: Int) {
        let r = try await ok(
            "session.open", ["intent": "new_work", "user_request": .string(request), "agent_role": "sim"])
        let s = try #require(r["session_context"]?["session"])
        return (try #require(s["id"]?.intValue), try #require(s["root_thread_id"]?.intValue))
    }

    /// Inserts a child thread row directly (the thread runtime that spawns them comes later).
    public func insertThread(session: Int, role: ThreadRole, status: ThreadStatus = .running, pane: String? = nil)
        async throws -> Int
    {
        try await env.store.write { tx in
            let parent = try tx.int("SELECT root_thread_id FROM sessions WHERE id = ?", [session])
            return try tx.insert(
                """
                INSERT INTO threads (session_id, parent_thread_id, role, status, status_changed_at, status_source,
                  title, provider_type, tmux_session_name, tmux_pane_id, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'spawn', 'child', 'sim', ?, ?, ?, ?)
                """,
                [
                    session, parent, role.rawValue, status.rawValue, tx.now, pane.map { _ in "viewer" }, pane, tx.now,
                    tx.now,
                ])
        }
    }

    public static let countedTables = [
        "graph_nodes", "graph_edges", "node_checklists", "node_snapshots", "inbox_messages", "thread_directives",
    ]

    /// Row counts of the tables these methods write, the database version, and a fingerprint of the
    /// changeable columns, to prove that a failed call changed nothing.
    public func state() async throws -> [String: String] {
        try await env.store.read { tx in
            var out: [String: String] = [:]
            for t in Self.countedTables { out[t] = "\(try tx.int("SELECT COUNT(*) FROM \(t)") ?? -1)" }
            out["db_version"] = "\(try tx.int("SELECT db_version FROM meta") ?? -1)"
            out["nodes"] = try tx.rows(
                "SELECT id, status, approval_state, token_estimate, affected_files FROM graph_nodes ORDER BY id"
            ).map {
                "\($0.int("id")):\($0.string("status")):\($0.string("approval_state")):"
                    + "\($0.optInt("token_estimate") ?? -1):\($0.string("affected_files"))"
            }.joined(separator: ",")
            out["messages"] = try tx.rows("SELECT id, status FROM inbox_messages ORDER BY id")
                .map { "\($0.int("id")):\($0.string("status"))" }.joined(separator: ",")
            return out
        }
    }

    /// Runs a call that must fail and checks that it changed nothing.
    public func refused(
        _ method: String, _ params: JSONObject = [:], as d: Dispatcher? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (code: ErrorCode, message: String) {
        let before = try await state()
        let e = try await err(method, params, as: d, sourceLocation: sourceLocation)
        let after = try await state()
        #expect(before == after, "\(method) changed the database although it failed", sourceLocation: sourceLocation)
        return e
    }
}

extension JSON {
    public subscript(index: Int) -> JSON? {
        guard let a = arrayValue, a.indices.contains(index) else { return nil }
        return a[index]
    }
    public var ids: [Int] { arrayValue?.compactMap { $0["id"]?.intValue } ?? [] }
    public var id: Int { self["id"]?.intValue ?? -1 }
}

/// Kills the private tmux server of a test (synchronously; errors ignored).
public func killTmuxServer(_ socket: String?) {
    guard let socket else { return }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["tmux", "-L", socket, "kill-server"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return }
    p.waitUntilExit()
}

/// A failed call or check as a thrown error, with the message to show.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

extension CodestratorError {
    public func asTestFailure(_ method: String) -> TestFailure { TestFailure(description: message(method: method)) }
}
