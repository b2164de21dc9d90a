import CodestratorCore
import Foundation

/// One watcher per server for every open dashboard page. While at least one page is open, one task
/// reads the state's fingerprint every 200 ms (one small query) and builds a snapshot only when it
/// changed; every second it captures the panes of live children and sends the ones whose text changed.
/// With no page open the task does not exist.
actor DashboardHub {
    let environment: @Sendable () async throws -> ServiceEnvironment
    var clients: [Int: AsyncStream<[UInt8]>.Continuation] = [:]
    var nextId = 0
    var watcher: Task<Void, Never>?
    var closed = false
    var fingerprint: String?
    var snapshotEvent: [UInt8]?
    var panes: [Int: String] = [:]
    var tick = 0

    static let interval: UInt64 = 200_000_000
    static let paneEvery = 5  // ticks: 1 s
    static let keepAliveEvery = 75  // ticks: 15 s
    static let paneLines = 80

    init(environment: @escaping @Sendable () async throws -> ServiceEnvironment) {
        self.environment = environment
    }

    var clientCount: Int { clients.count }
    var watching: Bool { watcher != nil }

    func subscribe() -> (Int, AsyncStream<[UInt8]>) {
        let (stream, cont) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingNewest(16))
        nextId += 1
        let id = nextId
        if closed {
            cont.finish()
            return (id, stream)
        }
        clients[id] = cont
        if let snapshotEvent {
            cont.yield(snapshotEvent)
            if !panes.isEmpty { cont.yield(Self.panesEvent(panes, removed: [])) }
        }
        if watcher == nil {
            watcher = Task { [weak self] in
                while !Task.isCancelled {
                    guard let self else { return }
                    await self.step()
                    try? await Task.sleep(nanoseconds: Self.interval)
                }
            }
        }
        return (id, stream)
    }

    func unsubscribe(_ id: Int) {
        guard let cont = clients.removeValue(forKey: id) else { return }
        cont.finish()
        if clients.isEmpty {
            watcher?.cancel()
            watcher = nil
            fingerprint = nil
            snapshotEvent = nil
            panes = [:]
            tick = 0
        }
    }

    /// Ends every stream (the server is stopping); later subscribers get an ended stream.
    func close() {
        closed = true
        for (_, c) in clients { c.finish() }
        clients = [:]
        watcher?.cancel()
        watcher = nil
    }

    func broadcast(_ bytes: [UInt8]) {
        for (_, c) in clients { c.yield(bytes) }
    }

    /// One tick of the watcher.
    func step() async {
        tick += 1
        guard let env = try? await environment() else { return }
        let current = try? await env.store.read { tx in try DashboardSnapshot.fingerprint(tx) }
        if let current, current != fingerprint {
            fingerprint = current
            let json = await build(env)
            snapshotEvent = Self.event("snapshot", json.serializedBytes())
            broadcast(snapshotEvent!)
        }
        if tick % Self.paneEvery == 1 { await capturePanes(env) }
        if tick % Self.keepAliveEvery == 0 { broadcast(Array(": keep-alive\n\n".utf8)) }
    }

    func build(_ env: ServiceEnvironment) async -> JSON {
        do {
            return try await env.store.read { tx in try DashboardSnapshot.build(tx, now: Date()) }
        } catch {
            return .obj(["error": "\(error)"])
        }
    }

    /// A fresh snapshot (`GET /dashboard/snapshot`).
    func snapshot() async -> JSON {
        do {
            let env = try await environment()
            return await build(env)
        } catch {
            return .obj(["error": "\(error)"])
        }
    }

    /// Captures the panes of the live children of open sessions; sends the changed ones.
    func capturePanes(_ env: ServiceEnvironment) async {
        let rows =
            (try? await env.store.read { tx in
                try tx.rows(
                    """
                    SELECT t.id, t.tmux_socket, t.tmux_pane_id FROM threads t JOIN sessions s ON s.id = t.session_id
                    WHERE s.status IN ('active','awaiting_resume') AND t.role <> 'session-root'
                      AND t.tmux_pane_id IS NOT NULL ORDER BY t.id DESC LIMIT 64
                    """)
            }) ?? []
        var changed: [Int: String] = [:]
        var seen = Set<Int>()
        for r in rows {
            let id = r.int("id")
            seen.insert(id)
            guard
                let text = try? await env.tmux.capture(
                    socket: r.optString("tmux_socket"), pane: r.string("tmux_pane_id"), lines: Self.paneLines)
            else { continue }
            let trimmed = Self.trimTrailingBlank(text)
            if panes[id] != trimmed {
                panes[id] = trimmed
                changed[id] = trimmed
            }
        }
        let removed = panes.keys.filter { !seen.contains($0) }
        for id in removed { panes[id] = nil }
        if !changed.isEmpty || !removed.isEmpty { broadcast(Self.panesEvent(changed, removed: removed)) }
    }

    static func trimTrailingBlank(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        while let last = lines.last, last.allSatisfy({ $0 == " " }) { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    static func panesEvent(_ panes: [Int: String], removed: [Int]) -> [UInt8] {
        var o = JSONObject()
        for (id, text) in panes.sorted(by: { $0.key < $1.key }) { o["\(id)"] = .string(text) }
        let json = JSON.obj(["panes": JSON.object(o), "removed": removed.sorted()])
        return event("panes", json.serializedBytes())
    }

    static func event(_ name: String, _ data: [UInt8]) -> [UInt8] {
        Array("event: \(name)\ndata: ".utf8) + data + Array("\n\n".utf8)
    }
}
