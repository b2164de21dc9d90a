import ArgumentParser
import CodestratorCore
import CodestratorMCP
import Foundation

/// `codestrator status`: the sessions of a repository and their threads (install.md §3). It is also
/// the first pane of every viewer tmux session (`--watch --compact`).
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show sessions and their child threads.")

    @Option(help: "Any directory inside the repository.") var repo: String?
    @Option(help: "Database file.") var db: String?
    @Option(help: "Only this session.") var session: Int?
    @Flag(help: "Redraw every 2 seconds.") var watch = false
    @Flag(help: "One line per thread.") var compact = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let dir = repo ?? FileManager.default.currentDirectoryPath
        let provider = EnvironmentProvider(options: ServerOptions(repo: dir, db: db, oneShot: true))
        let dispatcher = Dispatcher(provider: provider, role: .root)
        repeat {
            let text = await render(dispatcher)
            if watch { print("\u{1B}[H\u{1B}[2J", terminator: "") }
            print(text)
            if watch { try await Task.sleep(nanoseconds: 2_000_000_000) }
        } while watch
    }

    func render(_ d: Dispatcher) async -> String {
        var params: JSONObject = ["status": "open"]
        if session != nil { params["status"] = "all" }
        guard case .success(let list) = await d.callMethod("session.list", params: params) else {
            return "codestrator status: no repository state here"
        }
        var sessions = list["sessions"]?.arrayValue ?? []
        if let session { sessions = sessions.filter { $0["session"]?["id"]?.intValue == session } }
        if json {
            var all: [JSON] = []
            for s in sessions {
                let id = s["session"]?["id"]?.intValue ?? 0
                let threads = await d.callMethod(
                    "thread.child.list", params: ["session_id": .int(id), "refresh": false])
                if case .success(let t) = threads {
                    all.append(s.merging(["threads": t["threads"]]))
                } else {
                    all.append(s)
                }
            }
            return JSON.array(all).serialized()
        }
        var out: [String] = []
        for s in sessions {
            let sess = s["session"] ?? .null
            let id = sess["id"]?.intValue ?? 0
            out.append(
                "session \(id) · \(sess["worktree_slug"]?.stringValue ?? "-") · \(sess["status"]?.stringValue ?? "?")"
                    + (s["stale"]?.boolValue == true ? " (stale)" : ""))
            if case .success(let t) = await d.callMethod(
                "thread.child.list", params: ["session_id": .int(id), "refresh": false])
            {
                for th in t["threads"]?.arrayValue ?? [] {
                    let line = [
                        "  #\(th["id"]?.intValue ?? 0)", th["role"]?.stringValue ?? "", th["status"]?.stringValue ?? "",
                        th["title"]?.stringValue ?? "",
                    ].joined(separator: compact ? " " : "\t")
                    out.append(line)
                }
                if (t["threads"]?.arrayValue ?? []).isEmpty { out.append("  (no children yet)") }
            }
        }
        return out.isEmpty ? "codestrator: no open sessions" : out.joined(separator: "\n")
    }
}
