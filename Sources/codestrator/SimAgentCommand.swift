import ArgumentParser
import CodestratorAssembly
import CodestratorCore
import CodestratorMCP
import Foundation
import SimAgent

/// `codestrator sim-agent`: the scripted stand-in for an agent CLI (docs/sim-agent.md). The type is not named
/// `SimAgent` so that it does not shadow the module of that name.
struct SimAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim-agent",
        abstract: "Run the simulated agent CLI (tests and the demo; docs/sim-agent.md)."
    )

    @Option(help: "A built-in scenario: \(SimScenarios.names.joined(separator: ", ")) (default: by role).")
    var scenario: String?

    @Option(help: "A JSON script file instead of a built-in scenario.")
    var script: String?

    @Option(help: "Any directory inside the repository (env CODESTRATOR_REPO; default: the working directory).")
    var repo: String?

    @Option(help: "The role this agent plays (env CODESTRATOR_ROLE; default: worker).")
    var role: String?

    @Option(name: .customLong("thread-id"), help: "The thread it acts as (env CODESTRATOR_THREAD_ID).")
    var threadId: Int?

    @Option(help: "Multiplies every work duration (0 = no waiting).")
    var speed: Double = 1

    func validate() throws {
        if scenario != nil && script != nil {
            throw ValidationError("--scenario and --script both given; expected one of them")
        }
        guard speed >= 0, speed.isFinite else { throw ValidationError("--speed \(speed); expected a number ≥ 0") }
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let roleName = role ?? env["CODESTRATOR_ROLE"] ?? "worker"
        guard ProcessRole(rawValue: roleName) != nil else {
            throw ValidationError(
                "unknown role \"\(roleName)\"; expected one of \(ProcessRole.allCases.map(\.rawValue).joined(separator: "|"))"
            )
        }
        var thread = threadId
        if thread == nil, let t = env["CODESTRATOR_THREAD_ID"], !t.isEmpty {
            guard let v = Int(t) else { throw ValidationError("CODESTRATOR_THREAD_ID \"\(t)\" is not an integer") }
            thread = v
        }
        let loaded: SimScript
        do {
            if let script {
                guard let data = FileManager.default.contents(atPath: script) else {
                    throw ValidationError("cannot read --script \(script); expected a readable JSON file")
                }
                loaded = try SimScript.parse(text: String(decoding: data, as: UTF8.self))
            } else {
                loaded = try SimScenarios.named(scenario ?? SimScenarios.defaultName(role: roleName))
            }
        } catch let e as SimScriptError {
            throw ValidationError(e.description)
        }
        let cwd = FileManager.default.currentDirectoryPath
        let dir = repo ?? env["CODESTRATOR_REPO"] ?? cwd
        let code = await SimAgentHost.run(
            SimAgentOptions(
                script: loaded, repo: dir.hasPrefix("/") ? dir : cwd + "/" + dir, role: roleName, threadId: thread,
                speed: speed, executable: SimAgentHost.currentExecutable(), workdir: cwd,
                toolOf: { MethodRegistry.standard[$0]?.group.rawValue ?? "orchestrator_call" },
                git: Assembly.makeGitClient()))
        if code != 0 { throw ExitCode(code) }
    }
}
