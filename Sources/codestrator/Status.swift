import ArgumentParser
import CodestratorAssembly
import CodestratorCore
import CodestratorMCP
import Foundation

/// `codestrator status`: the sessions of a repository and their threads (docs/install.md#status). It is also
/// the first pane of every viewer tmux session (`--watch --compact`).
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show sessions and their child threads.")

    @Option(help: "Any directory inside the repository.") var repo: String?
    @Option(help: "Database file.") var db: String?
    @Option(help: "Only this session.") var session: Int?
    @Flag(help: "Check every 2 seconds; redraw only when what is shown changed.") var watch = false
    @Flag(help: "Fewer lines: no request, case list or review details (the viewer's status pane).") var compact = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let dir = repo ?? FileManager.default.currentDirectoryPath
        let provider = Assembly.provider(options: ServerOptions(repo: dir, db: db, oneShot: true))
        let dispatcher = Dispatcher(provider: provider, role: .root)
        var shown: String?
        repeat {
            let text = json ? await renderJSON(dispatcher) : await render(provider)
            if text != shown {
                if watch { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                print(text)
                fflush(nil)
                shown = text
            }
            if watch { try await Task.sleep(nanoseconds: 2_000_000_000) }
        } while watch
    }

    func render(_ provider: EnvironmentProvider) async -> String {
        guard let env = try? await provider.environment() else {
            return "codestrator status: no repository state here"
        }
        let only = session
        let compact = self.compact
        do {
            return try await env.store.read { tx in try StatusView.render(tx, sessionId: only, compact: compact) }
        } catch {
            return "codestrator status: \(error)"
        }
    }

    func renderJSON(_ d: Dispatcher) async -> String {
        var params: JSONObject = ["status": "open"]
        if session != nil { params["status"] = "all" }
        guard case .success(let list) = await d.callMethod("session.list", params: params) else {
            return "codestrator status: no repository state here"
        }
        var sessions = list["sessions"]?.arrayValue ?? []
        if let session { sessions = sessions.filter { $0["session"]?["id"]?.intValue == session } }
        var all: [JSON] = []
        for s in sessions {
            let id = s["session"]?["id"]?.intValue ?? 0
            let threads = await d.callMethod("thread.child.list", params: ["session_id": .int(id), "refresh": false])
            if case .success(let t) = threads {
                all.append(s.merging(["threads": t["threads"]]))
            } else {
                all.append(s)
            }
        }
        return JSON.array(all).serialized()
    }
}
