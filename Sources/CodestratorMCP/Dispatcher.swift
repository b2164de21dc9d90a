import CodestratorCore
import Foundation

/// What one call produced: a result object, or a failure (docs/protocol-eras.md#calling-a-tool).
public enum CallOutcome: Sendable {
    case success(JSON)
    case failure(method: String, CodestratorError)

    /// The MCP `tools/call` result.
    public var toolResult: JSON {
        switch self {
        case .success(let r):
            // Serialized once: the text and the structured copy are the same bytes.
            let once = Preserialized(r)
            return .obj([
                "content": [JSON.obj(["type": "text", "text": once.text])],
                "structuredContent": JSON.preserialized(once),
            ])
        case .failure(let method, let e):
            return .obj([
                "content": [JSON.obj(["type": "text", "text": e.message(method: method)])],
                "structuredContent": e.structured(method: method), "isError": true,
            ])
        }
    }
}

/// A protocol-level fault of tools/call (JSON-RPC -32602).
public struct ProtocolFault: Error {
    public let code: Int
    public let message: String
}

/// Routes calls through the registry: shape, method, role, tool, environment, params, handler.
public struct Dispatcher: Sendable {
    public let registry: MethodRegistry
    public let provider: EnvironmentProvider
    public let role: ProcessRole
    let catalog: ToolCatalog

    public init(registry: MethodRegistry = .standard, provider: EnvironmentProvider, role: ProcessRole) {
        self.registry = registry
        self.provider = provider
        self.role = role
        self.catalog = ToolCatalog(registry: registry, role: role)
    }

    public func toolsList() -> JSON { catalog.listResult() }

    /// `tools/call` with a tool name and its arguments.
    public func callTool(name rawName: String, arguments: JSON?) async throws -> JSON {
        let name = rawName == ToolCatalog.legacyAlias ? ToolCatalog.legacyName : rawName
        let group = ToolGroup(rawValue: name)
        guard group != nil || name == ToolCatalog.legacyName else {
            let names = ToolGroup.allCases.map(\.rawValue) + [ToolCatalog.legacyName]
            throw ProtocolFault(
                code: -32602,
                message: "unknown tool: \(quoted(rawName)); expected one of \(names.joined(separator: ", "))")
        }
        let catalog = self.catalog
        func shapeError(_ what: String) -> JSON {
            // Built only on this path: listing the methods on every call cost more than the call's checks.
            let toolMethods = group.map { catalog.methods(of: $0) } ?? catalog.allowedMethods
            let expectedList = "one of " + toolMethods.map(\.name).joined(separator: "|")
            return CallOutcome.failure(
                method: name, CodestratorError(.invalidParams, what, expected: expectedList, field: "arguments")
            ).toolResult
        }
        let args: JSONObject
        switch arguments {
        case nil, .null?: args = JSONObject()
        case .object(let o)?: args = o
        default: return shapeError("arguments is \(arguments!.typeName)")
        }
        guard let methodValue = args["method"], !methodValue.isNull else {
            return shapeError("arguments.method is required")
        }
        guard let methodName = methodValue.stringValue else {
            return shapeError("arguments.method is \(ParamValidator.describe(methodValue))")
        }
        var params = JSONObject()
        switch args["params"] {
        case nil, .null?: break
        case .object(let o)?: params = o
        case let other?:
            return CallOutcome.failure(
                method: methodName,
                CodestratorError(
                    .invalidParams, "arguments.params is \(ParamValidator.describe(other))", expected: "a JSON object",
                    field: "params")
            ).toolResult
        }
        guard let def = registry[methodName] else {
            return shapeError("unknown method \(quoted(methodName))")
        }
        guard def.allowed(for: role) else {
            return CallOutcome.failure(method: methodName, refusal(def)).toolResult
        }
        if let group, def.group != group {
            return CallOutcome.failure(
                method: methodName,
                CodestratorError(
                    .invalidParams, "sent to tool \(group.rawValue)", expected: "tool \(def.group.rawValue)")
            ).toolResult
        }
        return await run(def, params: params).toolResult
    }

    /// `codestrator call METHOD`: the same path without MCP.
    public func callMethod(_ methodName: String, params: JSONObject) async -> CallOutcome {
        guard let def = registry[methodName] else {
            return .failure(
                method: methodName,
                CodestratorError(
                    .invalidParams, "unknown method \(quoted(methodName))",
                    expected: "one of " + catalog.allowedMethods.map(\.name).joined(separator: "|")))
        }
        guard def.allowed(for: role) else { return .failure(method: methodName, refusal(def)) }
        return await run(def, params: params)
    }

    /// A method this role may not call: which methods of that group it may call (else its tools).
    func refusal(_ def: MethodDefinition) -> CodestratorError {
        let mine = catalog.methods(of: def.group).map(\.name)
        if mine.isEmpty {
            let tools = ToolGroup.visible(to: role).map(\.rawValue).joined(separator: ", ")
            return CodestratorError(
                .forbidden, "not allowed for role \(role.rawValue)",
                expected: "a method of \(tools) (role \(role.rawValue) may call no method of \(def.group.rawValue))")
        }
        return CodestratorError(
            .forbidden, "not allowed for role \(role.rawValue)",
            expected: "one of the methods role \(role.rawValue) may call in \(def.group.rawValue): "
                + mine.joined(separator: ", "))
    }

    func run(_ def: MethodDefinition, params: JSONObject) async -> CallOutcome {
        do {
            let env: ServiceEnvironment
            if let ready = provider.ready.get() {
                env = ready
            } else {
                env = try await provider.environment()
            }
            guard let handler = def.handler, let specs = def.params else {
                throw CodestratorError(
                    .notImplemented, "not implemented in this build",
                    expected: "a later codestrator (\(def.ownedBy ?? "a later issue") builds it)")
            }
            let (p, warnings) = try ParamValidator.validate(params, specs: specs, refuseNearMisses: !def.readOnly)
            if env.caller.isChild, let tid = env.caller.threadId, def.name != "work.report" {
                // A child's own MCP calls count as activity (docs/runtime-guide.md#status-detection).
                await ThreadEvents.recordActivity(of: tid, in: env.store)
            }
            var result = try await handler(env, p)
            if !warnings.isEmpty {
                let existing = result["warnings"]?.arrayValue ?? []
                result = result.merging(["warnings": JSON.array(warnings.map(JSON.string) + existing)])
            }
            return .success(result)
        } catch let e as CodestratorError {
            return .failure(method: def.name, e)
        } catch is CancellationError {
            return .failure(
                method: def.name, CodestratorError(.timeout, "the call was cancelled", expected: "no cancellation"))
        } catch {
            logger.error("\(def.name): internal error: \(error)")
            return .failure(
                method: def.name,
                CodestratorError(
                    .internal, "internal error: \(error)", expected: "no error (this is a bug; see the server log)"))
        }
    }
}
