import ArgumentParser
import CodestratorCore
import CodestratorMCP
import Foundation

/// `codestrator`: the MCP server and its command-line companions (docs/protocol-eras.md#command-line).
struct Codestrator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codestrator",
        abstract: "Turn your coding-agent CLI into the orchestrator of parallel child agents in one git repository.",
        version: "codestrator \(CodestratorVersion.current)",
        subcommands: [
            Serve.self, Call.self, Install.self, Status.self, Demo.self, Doctor.self, SimAgentCommand.self, Hook.self,
            Version.self,
            Reference.self,
        ]
    )
}

/// Flags shared by `serve` and `call`; flags win over environment variables.
struct CommonOptions: ParsableArguments {
    @Option(help: "Any directory inside the repository (env CODESTRATOR_REPO; default: the working directory).")
    var repo: String?

    @Option(help: "Database file (env CODESTRATOR_DB; default: <repo>/.codestrator/state.db).")
    var db: String?

    @Option(help: "root, worker, merge-reviewer, plan-architect or doc-mirror-manager (env CODESTRATOR_ROLE).")
    var role: String?

    @Option(name: .customLong("thread-id"), help: "The thread this process acts as; required for child roles.")
    var threadId: Int?

    @Option(
        name: .customLong("session-id"),
        help: "A child's session (env CODESTRATOR_SESSION_ID): its server relays to the root server serving it.")
    var sessionId: Int?

    func serverOptions(oneShot: Bool, tmuxSocket: String?) throws -> ServerOptions {
        let env = ProcessInfo.processInfo.environment
        let roleName = role ?? env["CODESTRATOR_ROLE"] ?? "root"
        guard let processRole = ProcessRole(rawValue: roleName) else {
            throw ValidationError(
                "unknown role \"\(roleName)\"; expected one of \(ProcessRole.allCases.map(\.rawValue).joined(separator: "|"))"
            )
        }
        var thread = threadId
        if thread == nil, let t = env["CODESTRATOR_THREAD_ID"] {
            guard let v = Int(t) else { throw ValidationError("CODESTRATOR_THREAD_ID \"\(t)\" is not an integer") }
            thread = v
        }
        if processRole != .root && thread == nil {
            throw ValidationError("role \(roleName) needs --thread-id (or CODESTRATOR_THREAD_ID)")
        }
        let dir = repo ?? env["CODESTRATOR_REPO"] ?? FileManager.default.currentDirectoryPath
        let absolute = dir.hasPrefix("/") ? dir : FileManager.default.currentDirectoryPath + "/" + dir
        var dbPath = db ?? env["CODESTRATOR_DB"]
        if let d = dbPath, !d.hasPrefix("/") { dbPath = FileManager.default.currentDirectoryPath + "/" + d }
        return ServerOptions(
            repo: absolute, db: dbPath, role: processRole, threadId: processRole == .root ? thread : thread,
            tmuxSocket: tmuxSocket, oneShot: oneShot)
    }
}

/// For child roles the identity is checked at start: a thread that does not exist, or has another
/// role, is a usage error (exit 2).
func checkIdentity(_ provider: EnvironmentProvider, _ options: ServerOptions) async throws {
    guard options.role != .root else { return }
    do {
        _ = try await provider.environment()
    } catch let e as CodestratorError {
        throw ValidationError(e.message(method: "--thread-id"))
    }
}

/// Prints the generated method reference (docs/methods.md).
struct Reference: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the method reference as Markdown.")
    func run() throws { print(MethodReference.markdown(), terminator: "") }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")
    func run() throws { print("codestrator \(CodestratorVersion.current)") }
}

@main
enum Main {
    static func main() async {
        // getenv, not ProcessInfo: this runs before every command, hooks included, and needs one variable.
        if ChildServer.isChildServer(
            CommandLine.arguments, role: getenv("CODESTRATOR_ROLE").map { String(cString: $0) })
        {
            // A root server serving this child's session takes its calls; this process then only relays bytes
            // and never returns from here. Without one it goes on as the child's own server.
            ChildRelay.relayIfServed(CommandLine.arguments)
            ChildServer.prepareProcess()
        }
        do {
            var command = try Codestrator.parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch {
            let code = Codestrator.exitCode(for: error)
            let message = Codestrator.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(0)
            }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            // Usage errors exit 2 (docs/protocol-eras.md#command-line); run-time failures 1.
            exit(code == .validationFailure || error is ValidationError ? 2 : (code.rawValue == 0 ? 1 : code.rawValue))
        }
    }
}
