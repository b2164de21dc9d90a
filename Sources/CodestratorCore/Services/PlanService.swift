import Foundation

/// orch_system planning: initiatives, plans, slices under the planning rules, replans and the
/// roll-up approval loop (docs/methods.md#orch_system--codestrator-runtime-mirror-and-planning).
public struct PlanService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    var caller: Caller { env.caller }

    // MARK: plan.bootstrap

    public func bootstrap(_ input: PlanBootstrapInput) async throws -> JSON {
        let caller = self.caller
        return try await env.store.write { tx in
            let access = GraphAccess(tx: tx, caller: caller)
            let owner = try access.ownerSession(id: input.ownerSessionId)
            if let taskId = input.taskId {
                let t = try Access(tx: tx, caller: caller).task(taskId)
                guard t.level == .epic else {
                    throw CodestratorError(
                        .invalidParams, "task \(taskId) is \(t.level.article) \(t.level.rawValue)",
                        expected: "the id of an epic", field: "task_id")
                }
            }
            let priority = input.priority
            let initiative = try GraphRules.insertNode(
                tx,
                GraphRules.NewNode(
                    nodeType: "initiative", facet: "planning", title: input.initiativeTitle,
                    status: "in_progress", priority: priority, parentId: nil, taskId: input.taskId,
                    worktreeId: nil, ownerSessionId: owner, summary: input.summary, riskLevel: nil,
                    tokenEstimate: nil, affectedFiles: []))
            let plan = try GraphRules.insertNode(
                tx,
                GraphRules.NewNode(
                    nodeType: "plan", facet: "planning", title: input.planTitle, status: "todo",
                    priority: priority, parentId: initiative.id, taskId: nil, worktreeId: nil, ownerSessionId: owner,
                    summary: nil, riskLevel: nil, tokenEstimate: nil, affectedFiles: []))
            let edge = try GraphRules.insertEdge(tx, from: initiative.id, to: plan.id, type: .contains)
            tx.bumpVersion()
            return .obj(["initiative": initiative.json, "plan": plan.json, "edge": edge.json])
        }
    }

    // MARK: plan.slice.generate

    struct SliceSpec {
        var index: Int
        var title: String
        var priority: Int
        var tokenEstimate: Int?
        var files: [String]
        var summary: String?
        var taskId: Int?
        var dependsOn: [Int]
    }

    /// The specs with their files normalised, once `depends_on` is known to form no cycle.
    func sliceSpecs(_ given: [PlanSliceSpec]) throws -> [SliceSpec] {
        let specs = try given.map { s in
            let files = try GraphRules.files(
                s.affectedFiles, root: env.layout.root, field: "slice_specs[\(s.index)].affected_files")
            return SliceSpec(
                index: s.index, title: s.title, priority: s.priority, tokenEstimate: s.tokenEstimate, files: files,
                summary: s.summary, taskId: s.taskId, dependsOn: s.dependsOn)
        }
        var adjacency: [Int: [Int]] = [:]
        for s in specs { adjacency[s.index] = s.dependsOn }
        for s in specs {
            for d in s.dependsOn {
                if let back = GraphRules.shortestPath(adjacency, from: d, to: s.index) {
                    let listed = ([s.index] + back).map(String.init).joined(separator: " → ")
                    throw CodestratorError(
                        .invalidParams, "slice_specs depends_on forms the cycle \(listed)",
                        expected: "depends_on indexes without cycles", field: "slice_specs[\(s.index)].depends_on")
                }
            }
        }
        return specs
    }

    public func sliceGenerate(_ input: PlanSliceGenerateInput) async throws -> JSON {
        let caller = self.caller
        let specs = try sliceSpecs(input.sliceSpecs)
        return try await env.store.write { tx in
            let access = GraphAccess(tx: tx, caller: caller)
            let plan = try access.node(input.planNodeId, field: "plan_node_id")
            guard plan.nodeType == "plan" else {
                throw CodestratorError(
                    .invalidParams, "node \(plan.id) is of type \(quoted(plan.nodeType))",
                    expected: "the id of a node of type plan", field: "plan_node_id")
            }
            try access.requireChangeable(plan, field: "plan_node_id")
            let owner = try access.ownerSession(id: input.ownerSessionId, fallback: plan.ownerSessionId)
            let tasks = Access(tx: tx, caller: caller)
            for s in specs {
                if let t = s.taskId { _ = try tasks.task(t, field: "slice_specs[\(s.index)].task_id") }
            }
            let rules = try PlanningRules.load(tx)
            let warnings =
                try input.specWarnings + Self.ruleWarnings(specs, rules: rules, allowOversize: input.allowOversize)
            let (slices, edges) = try Self.insertSlices(tx, specs, plan: plan, owner: owner)
            tx.bumpVersion()
            var out = JSON.obj([
                "plan_node_id": plan.id, "slices": JSON.array(slices.map(\.json)), "edges": JSON.array(edges),
                "rules": rules.json,
            ])
            if !warnings.isEmpty { out = out.merging(["warnings": warnings]) }
            return out
        }
    }

    /// Slices over the planning rules are refused unless `allowOversize` (then warned about); slices without
    /// an estimate are warned about.
    static func ruleWarnings(_ specs: [SliceSpec], rules: PlanningRules, allowOversize: Bool) throws -> [String] {
        var warnings: [String] = []
        var violations: [String] = []
        for s in specs {
            if let v = rules.violation(tokenEstimate: s.tokenEstimate, files: s.files.count) {
                violations.append("\(s.index) \(quoted(s.title)) (\(v))")
            }
        }
        if !violations.isEmpty {
            let listed = "\(violations.count == 1 ? "slice" : "slices") \(violations.joined(separator: ", "))"
            guard allowOversize else {
                throw CodestratorError(
                    .invalidParams, "\(listed) \(violations.count == 1 ? "exceeds" : "exceed") the planning rules",
                    expected: "\(rules.expectation), or allow_oversize:true", field: "slice_specs")
            }
            warnings += violations.map { "slice \($0) exceeds the planning rules (\(rules.expectation))" }
        }
        for s in specs where s.tokenEstimate == nil {
            warnings.append("slice \(s.index) \(quoted(s.title)) has no token_estimate")
        }
        return warnings
    }

    /// The slices under the plan, its `contains` edges and the `depends_on` edges between them.
    static func insertSlices(_ tx: Tx, _ specs: [SliceSpec], plan: GraphNodeRecord, owner: Int?) throws -> (
        [GraphNodeRecord], [JSON]
    ) {
        var slices: [GraphNodeRecord] = []
        var edges: [JSON] = []
        for s in specs {
            let node = try GraphRules.insertNode(
                tx,
                GraphRules.NewNode(
                    nodeType: "slice", facet: plan.facet, title: s.title, status: "todo", priority: s.priority,
                    parentId: plan.id, taskId: s.taskId, worktreeId: nil, ownerSessionId: owner,
                    summary: s.summary, riskLevel: nil, tokenEstimate: s.tokenEstimate, affectedFiles: s.files))
            slices.append(node)
            edges.append(try GraphRules.insertEdge(tx, from: plan.id, to: node.id, type: .contains).json)
        }
        for s in specs {
            for d in s.dependsOn {
                edges.append(
                    try GraphRules.insertEdge(tx, from: slices[s.index].id, to: slices[d].id, type: .dependsOn)
                        .json)
            }
        }
        return (slices, edges)
    }

    // MARK: plan.slice.replan

    public func sliceReplan(_ input: PlanSliceReplanInput) async throws -> JSON {
        let caller = self.caller
        let reason = input.reason
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CodestratorError(
                .invalidParams, "field \"reason\" is blank", expected: "a reason for the replan", field: "reason")
        }
        let files = try input.affectedFiles.map {
            try GraphRules.files($0, root: env.layout.root, field: "affected_files")
        }
        return try await env.store.write { tx in
            let access = GraphAccess(tx: tx, caller: caller)
            let node = try access.node(input.nodeId, field: "node_id")
            guard node.nodeType == "slice" || node.nodeType == "plan" else {
                throw CodestratorError(
                    .invalidParams, "node \(node.id) is of type \(quoted(node.nodeType))",
                    expected: "the id of a slice or plan", field: "node_id")
            }
            try access.requireChangeable(node, field: "node_id")
            let tokens = input.tokenEstimate ?? node.tokenEstimate
            let newFiles = files ?? node.affectedFiles
            var warnings: [String] = []
            // The planning rules are per slice; they are re-checked when the estimate or files change.
            if node.nodeType == "slice" && (input.tokenEstimate != nil || files != nil),
                let v = try PlanningRules.load(tx).violation(tokenEstimate: tokens, files: newFiles.count)
            {
                let rules = try PlanningRules.load(tx)
                guard input.allowOversize else {
                    throw CodestratorError(
                        .invalidParams, "slice \(node.id) \(quoted(node.title)) (\(v)) exceeds the planning rules",
                        expected: "\(rules.expectation), or allow_oversize:true", field: "token_estimate")
                }
                warnings.append("slice \(node.id) \(quoted(node.title)) (\(v)) exceeds the planning rules")
            }
            var status = node.status
            if status == .blocked {
                try status.checkMove(to: .todo, entity: "node \(node.id)")
                status = .todo
            }
            var approval = node.approvalState
            if approval == .rejected {
                try approval.checkMove(to: ApprovalState.none, entity: "approval of node \(node.id)")
                approval = ApprovalState.none
            }
            try tx.execute(
                """
                UPDATE graph_nodes SET token_estimate = ?, affected_files = ?, status = ?, approval_state = ?,
                  updated_at = ? WHERE id = ?
                """,
                [
                    tokens, JSON.array(newFiles.map(JSON.string)), status.rawValue, approval.rawValue, tx.now, node.id,
                ])
            let snap = try SnapshotRecord.insert(
                tx, nodeId: node.id, type: "replan", summary: reason, affectedFiles: newFiles,
                nextAction: input.nextAction, trigger: input.trigger)
            tx.bumpVersion()
            var out = snap.json.merging(["node": try GraphNodeRecord.load(tx, node.id)!.json])
            if !warnings.isEmpty { out = out.merging(["warnings": warnings]) }
            return out
        }
    }

    // MARK: plan.rollup.*

    /// The roll-up of a node's children, and whether it has children not all done.
    static func preview(_ tx: Tx, parent: GraphNodeRecord) throws -> (JSON, Bool) {
        let children = try GraphNodeRecord.children(tx, of: parent.id)
        var counts = JSONObject()
        for s in GraphNodeStatus.allCases {
            counts[s.rawValue] = .int(children.filter { $0.status == s }.count)
        }
        let open = children.filter { $0.status != .cancelled }
        let allDone = !open.isEmpty && open.allSatisfy { $0.status == .done }
        return (
            .obj([
                "parent_node_id": parent.id, "parent": parent.json, "child_count": children.count,
                "status_counts": counts, "children": JSON.array(children.map(\.json)), "all_done": allDone,
            ]), !children.isEmpty && !allDone
        )
    }

    public func rollupPreview(parentNodeId: Int) async throws -> JSON {
        let caller = self.caller
        return try await env.store.read { tx in
            let parent = try GraphAccess(tx: tx, caller: caller).node(parentNodeId, field: "parent_node_id")
            return try Self.preview(tx, parent: parent).0
        }
    }

    public func rollupSubmit(_ input: PlanRollupSubmitInput) async throws -> JSON {
        let caller = self.caller
        let files = try GraphRules.files(input.affectedFiles, root: env.layout.root, field: "affected_files")
        return try await env.store.write { tx in
            let access = GraphAccess(tx: tx, caller: caller)
            let node = try access.node(input.nodeId, field: "node_id")
            try access.requireChangeable(node, field: "node_id")
            guard node.approvalState == ApprovalState.none || node.approvalState == .rejected else {
                throw CodestratorError(
                    .invalidState, "node \(node.id) has approval \(node.approvalState.rawValue)",
                    expected: "approval none or rejected (a node not submitted yet, or rejected)", field: "node_id")
            }
            guard node.status != .done && node.status != .cancelled else {
                throw CodestratorError(
                    .invalidState, "node \(node.id) is \(node.status.rawValue)",
                    expected: "a node that is not done or cancelled", field: "node_id")
            }
            try node.status.checkMove(to: .inReview, entity: "node \(node.id)")
            try node.approvalState.checkMove(to: .pending, entity: "approval of node \(node.id)")
            let (_, unfinished) = try Self.preview(tx, parent: node)
            let snap = try SnapshotRecord.insert(
                tx, nodeId: node.id, type: "rollup", summary: input.summary, affectedFiles: files,
                nextAction: input.nextAction)
            try tx.execute(
                "UPDATE graph_nodes SET status = 'in_review', approval_state = 'pending', updated_at = ? WHERE id = ?",
                [tx.now, node.id])
            tx.bumpVersion()
            let updated = try GraphNodeRecord.load(tx, node.id)!
            var out = JSON.obj([
                "snapshot": snap.json, "node": updated.json, "preview": try Self.preview(tx, parent: updated).0,
            ])
            if unfinished {
                out = out.merging(["warnings": ["not all children of node \(node.id) are done"] as [String]])
            }
            return out
        }
    }

    public func rollupApprove(nodeId: Int, reason: String?) async throws -> JSON {
        try await decide(nodeId: nodeId, reason: reason, approve: true)
    }

    public func rollupReject(nodeId: Int, reason: String?) async throws -> JSON {
        try await decide(nodeId: nodeId, reason: reason, approve: false)
    }

    func decide(nodeId: Int, reason: String?, approve: Bool) async throws -> JSON {
        let caller = self.caller
        if !approve && (reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw CodestratorError(
                .invalidParams, "field \"reason\" is blank", expected: "the reason for the rejection", field: "reason")
        }
        return try await env.store.write { tx in
            let node = try GraphAccess(tx: tx, caller: caller).node(nodeId, field: "node_id")
            guard node.status == .inReview else {
                throw CodestratorError(
                    .invalidState, "node \(node.id) is \(node.status.rawValue)",
                    expected: "a node submitted with plan.rollup.submit", field: "node_id")
            }
            guard node.approvalState == .pending else {
                throw CodestratorError(
                    .invalidState, "node \(node.id) has approval \(node.approvalState.rawValue)",
                    expected: "a node submitted with plan.rollup.submit", field: "node_id")
            }
            let status: GraphNodeStatus = approve ? .done : .blocked
            let approval: ApprovalState = approve ? .approved : .rejected
            try node.status.checkMove(to: status, entity: "node \(node.id)")
            try node.approvalState.checkMove(to: approval, entity: "approval of node \(node.id)")
            try tx.execute(
                "UPDATE graph_nodes SET status = ?, approval_state = ?, updated_at = ? WHERE id = ?",
                [status.rawValue, approval.rawValue, tx.now, node.id])
            let snap = try SnapshotRecord.insert(
                tx, nodeId: node.id, type: approve ? "approval" : "rejection", summary: reason, affectedFiles: [],
                nextAction: nil)
            tx.bumpVersion()
            return try GraphNodeRecord.load(tx, node.id)!.json.merging(["snapshot": snap.json])
        }
    }
}
