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
    var nextPaneTick = 1
    var lastPaneChangeTick = 0

    static let interval: UInt64 = 200_000_000
    static let paneEvery = 5  // ticks: 1 s while a pane changed in the last 10 s
    static let quietPaneEvery = 15  // ticks: 3 s once every pane has been still for 10 s
    static let quietAfter = 50  // ticks: 10 s
    static let keepAliveEvery = 25  // ticks: 5 s (a closed page is noticed at a write)
    static let paneLines = 80

    init(environment: @escaping @Sendable () async throws -> ServiceEnvironment) {
        self.environment = environment
    }

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
            logger.info("http: dashboard watching (a page opened)")
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
            logger.info("http: dashboard stopped watching (no page open)")
            watcher?.cancel()
            watcher = nil
            fingerprint = nil
            snapshotEvent = nil
            panes = [:]
            tick = 0
            nextPaneTick = 1
            lastPaneChangeTick = 0
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

    /// The ticks left before the next try after the state could not be opened (not a git repository):
    /// opening runs git, which must not happen five times a second.
    var retryIn = 0

    /// One tick of the watcher.
    func step() async {
        tick += 1
        if retryIn > 0 {
            retryIn -= 1
            return
        }
        let env: ServiceEnvironment
        do {
            env = try await environment()
        } catch {
            retryIn = 25
            let failure = Self.event("snapshot", JSON.obj(["error": "\(error)"]).serializedBytes())
            if failure != snapshotEvent {
                snapshotEvent = failure
                broadcast(failure)
            }
            return
        }
        let current = try? await env.store.read { tx in try DashboardSnapshot.fingerprint(tx) }
        if let current, current != fingerprint {
            fingerprint = current
            let json = await build(env)
            snapshotEvent = Self.event("snapshot", json.serializedBytes())
            broadcast(snapshotEvent!)
        }
        // Panes are read every second while one of them changes, every 3 s once all are still: reading them is
        // a tmux process, most of what an open page costs.
        if tick >= nextPaneTick {
            if await capturePanes(env) { lastPaneChangeTick = tick }
            let quiet = tick - lastPaneChangeTick >= Self.quietAfter
            nextPaneTick = tick + (quiet ? Self.quietPaneEvery : Self.paneEvery)
        }
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

    /// Captures the panes of the children of open sessions; sends the changed ones. True when one changed.
    @discardableResult
    func capturePanes(_ env: ServiceEnvironment) async -> Bool {
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
        var bySocket: [String: [(Int, String)]] = [:]
        for r in rows {
            seen.insert(r.int("id"))
            bySocket[r.optString("tmux_socket") ?? "", default: []].append((r.int("id"), r.string("tmux_pane_id")))
        }
        for (socket, list) in bySocket {
            let texts = await Self.capture(env.tmux, socket: socket.isEmpty ? nil : socket, panes: list)
            for (id, text) in texts {
                let trimmed = Self.trimTrailingBlank(text)
                if panes[id] != trimmed {
                    panes[id] = trimmed
                    changed[id] = trimmed
                }
            }
        }
        let removed = panes.keys.filter { !seen.contains($0) }
        for id in removed { panes[id] = nil }
        guard !changed.isEmpty || !removed.isEmpty else { return false }
        broadcast(Self.panesEvent(changed, removed: removed))
        return true
    }

    /// The panes of one tmux server in one `tmux` process (a command list, each capture after a marker that
    /// carries a fresh random nonce, so pane text cannot forge one); pane by pane if the list fails (a pane
    /// went away meanwhile).
    static func capture(_ tmux: any TmuxClient, socket: String?, panes: [(Int, String)]) async -> [Int: String] {
        let nonce = Dashboard.randomHex(8)
        var argv = ["tmux"] + AttachCommand.socketArgs(socket)
        for (i, (_, pane)) in panes.enumerated() {
            if i > 0 { argv.append(";") }
            argv += [
                "display-message", "-p", "@@\(nonce)-\(i)@@", ";", "capture-pane", "-p", "-e", "-J", "-t", pane, "-S",
                "-\(paneLines)",
            ]
        }
        if let (status, out) = try? await tmux.runCommand(argv, timeout: 5), status == 0,
            let split = split(out, nonce: nonce, count: panes.count)
        {
            return Dictionary(uniqueKeysWithValues: zip(panes.map(\.0), split))
        }
        var texts: [Int: String] = [:]
        for (id, pane) in panes {
            if let t = try? await tmux.capture(socket: socket, pane: pane, lines: paneLines) { texts[id] = t }
        }
        return texts
    }

    /// The captures between the markers `@@nonce-0@@` … `@@nonce-(count-1)@@`; nil unless all are there.
    static func split(_ out: String, nonce: String, count: Int) -> [String]? {
        var result: [String] = []
        var rest = Substring(out)
        for i in 0..<count {
            let marker = "@@\(nonce)-\(i)@@\n"
            guard let r = rest.range(of: marker) else { return nil }
            if i > 0 { result.append(String(rest[..<r.lowerBound])) }
            rest = rest[r.upperBound...]
        }
        result.append(String(rest))
        return result.count == count ? result : nil
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
