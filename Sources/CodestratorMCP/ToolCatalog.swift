import CodestratorCore

/// tools/list, generated from the registry for one role (docs/protocol-eras.md#tools).
public struct ToolCatalog: Sendable {
    public static let legacyName = "orchestrator_call"
    public static let legacyAlias = "orchestrator.call"

    let registry: MethodRegistry
    let role: ProcessRole

    public init(registry: MethodRegistry, role: ProcessRole) {
        self.registry = registry
        self.role = role
    }

    public var groups: [ToolGroup] { ToolGroup.visible(to: role) }

    public func methods(of group: ToolGroup) -> [MethodDefinition] {
        registry.methods(of: group).filter { $0.allowed(for: role) }
    }

    public var allowedMethods: [MethodDefinition] { registry.methods.filter { $0.allowed(for: role) } }

    public var toolNames: [String] { groups.map(\.rawValue) + [Self.legacyName] }

    static func line(_ m: MethodDefinition) -> String {
        "- \(m.name) — \(m.summary)\(m.readOnly ? " (read-only)" : "")"
    }

    static func schema(_ names: [String]) -> JSON {
        .obj([
            "type": "object",
            "properties": JSON.obj([
                "method": JSON.obj([
                    "type": "string", "enum": JSON.array(names.map(JSON.string)),
                    "description": "Method name (see the list above).",
                ]),
                "params": JSON.obj([
                    "type": "object", "description": "Parameters of the method.", "default": JSON.object(JSONObject()),
                ]),
            ]),
            "required": ["method"], "additionalProperties": false,
        ])
    }

    static func annotations(title: String, readOnly: Bool, destructive: Bool) -> JSON {
        .obj([
            "title": title, "readOnlyHint": readOnly, "destructiveHint": destructive, "idempotentHint": false,
            "openWorldHint": false,
        ])
    }

    public func listResult() -> JSON {
        var tools: [JSON] = []
        for g in groups {
            let ms = methods(of: g)
            tools.append(
                .obj([
                    "name": g.rawValue,
                    "description": ([g.blurb, "Methods:"] + ms.map(Self.line)).joined(separator: "\n"),
                    "inputSchema": Self.schema(ms.map(\.name)), "outputSchema": JSON.obj(["type": "object"]),
                    "annotations": Self.annotations(title: g.title, readOnly: false, destructive: g.destructive),
                ]))
        }
        let all = allowedMethods
        tools.append(
            .obj([
                "name": Self.legacyName,
                "description": "Legacy entry point: calls any Codestrator method by name; prefer the orch_* tools.",
                "inputSchema": Self.schema(all.map(\.name)), "outputSchema": JSON.obj(["type": "object"]),
                "annotations": Self.annotations(
                    title: "Codestrator (legacy call)", readOnly: false, destructive: false),
            ]))
        return .obj(["tools": JSON.array(tools)])
    }
}
