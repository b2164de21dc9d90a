import ArgumentParser
import CodestratorAssembly
import CodestratorCore
import CodestratorInstall
import CodestratorMCP
import Foundation

/// `codestrator call METHOD --params JSON`: one method through the same registry, validation,
/// role checks and transaction as tools/call, without MCP (docs/protocol-eras.md#one-shot-calls).
struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Call one method and print its result as JSON.")

    @Argument(help: "A method name, e.g. task.create.")
    var method: String

    @Option(help: "The params as a JSON object.")
    var params: String?

    @Option(name: .customLong("params-file"), help: "A file holding the params JSON object.")
    var paramsFile: String?

    @OptionGroup var common: CommonOptions

    @Flag(help: "Indent the printed JSON.")
    var pretty = false

    func run() async throws {
        var text = params ?? "{}"
        if let paramsFile {
            guard let data = FileManager.default.contents(atPath: paramsFile) else {
                throw ValidationError("cannot read --params-file \(paramsFile)")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        let parsed: JSON
        do {
            parsed = try JSON.parse(text)
        } catch {
            throw ValidationError("--params is not JSON (\(error)); expected a JSON object")
        }
        guard case .object(let object) = parsed else {
            throw ValidationError("--params is \(parsed.typeName); expected a JSON object")
        }
        let env = ProcessInfo.processInfo.environment
        let options = try common.serverOptions(oneShot: true, tmuxSocket: env["CODESTRATOR_TMUX_SOCKET"])
        // The installer's view of client configs and skills, for runtime.bundle.info (InstallationInspector).
        let provider = Assembly.provider(options: options, installation: InstalledBundleInspector.fromEnvironment())
        try await checkIdentity(provider, options)
        let dispatcher = Dispatcher(provider: provider, role: options.role)
        switch await dispatcher.callMethod(method, params: object) {
        case .success(let r):
            print(pretty ? r.prettyPrinted() : r.serialized())
        case .failure(let m, let e):
            let out = e.structured(method: m)
            print(pretty ? out.prettyPrinted() : out.serialized())
            FileHandle.standardError.write(Data((e.message(method: m) + "\n").utf8))
            throw ExitCode(1)
        }
    }
}
