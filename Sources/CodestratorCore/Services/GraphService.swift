import Foundation

/// orch_graph: the repository-wide planning graph (docs/methods.md#orch_graph--codestrator-planning-graph). Every role with the tool reads
/// every node; children change only nodes of their own session.
public struct GraphService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    var caller: Caller { env.caller }

    // MARK: graph.node.create

    public func nodeCreate(_ input: GraphNodeCreateInput) async throws -> JSON {
        let caller = self.caller
        let nodeType = try GraphRules.identifier(input.nodeType, field: "node_type")
        let facet = try GraphRules.identifier(input.facet, field: "facet")
        let files = try GraphRules.files(input.affectedFiles, root: env.layout.root, field: "affected_files")
        return try await env.store.write { tx in
            let access = GraphAccess(tx: tx, caller: caller)
            let owner = try access.ownerSession(id: input.ownerSessionId)
            if let parentId = input.parentId { _ = try access.node(parentId, field: "parent_id") }
            if let taskId = input.taskId { _ = try Access(tx: tx, caller: caller).task(taskId) }
            if let wt = input.worktreeId { try access.worktree(wt) }
            let node = try GraphRules.insertNode(
                tx,
                GraphRules.NewNode(
                    nodeType: nodeType, facet: facet, title: input.title, status: input.status.rawValue,
                    priority: input.priority, parentId: input.parentId, taskId: input.taskId,
                    worktreeId: input.worktreeId, ownerSessionId: owner, summary: input.summary,
                    riskLevel: input.riskLevel, tokenEstimate: input.tokenEstimate, affectedFiles: files))
            tx.bumpVersion()
            return node.json
        }
    }

    // MARK: graph.node.list

    public func nodeList(_ input: GraphNodeListInput) async throws -> JSON {
        try await env.store.read { tx in
            var clauses: [String] = []
            var args: [any SQLArgument] = []
            for (key, value) in input.columnFilters {
                if let v = value {
                    clauses.append("\(key) = ?")
                    args.append(v)
                }
            }
            if let parent = input.parentId {
                guard try GraphNodeRecord.load(tx, parent) != nil else {
                    throw CodestratorError.notFound("node", parent, field: "parent_id")
                }
                clauses.append("parent_id = ?")
                args.append(parent)
            }
            // Repository-wide read: the filters name rows of any session (docs/methods.md#codestrator-method-reference).
            if let owner = input.ownerSessionId {
                guard try tx.int("SELECT id FROM sessions WHERE id = ?", [owner]) != nil else {
                    throw CodestratorError.notFound("session", owner, field: "owner_session_id")
                }
                clauses.append("owner_session_id = ?")
                args.append(owner)
            }
            if let task = input.taskId {
                guard try tx.int("SELECT id FROM tasks WHERE id = ?", [task]) != nil else {
                    throw CodestratorError.notFound("task", task, field: "task_id")
                }
                clauses.append("task_id = ?")
                args.append(task)
            }
            let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
            let total = try tx.int("SELECT COUNT(*) FROM graph_nodes" + whereSQL, args) ?? 0
            let nodes = try tx.rows(
                "SELECT * FROM graph_nodes" + whereSQL + " ORDER BY priority DESC, id LIMIT ? OFFSET ?",
                args + [input.page.limit, input.page.offset]
            ).map { GraphNodeRecord($0).json }
            return .obj(["nodes": JSON.array(nodes), "count": nodes.count, "total": total])
        }
    }

    // MARK: graph.node.get

    public func nodeGet(_ input: GraphNodeGetInput) async throws -> JSON {
        let caller = self.caller
        return try await env.store.read { tx in
            let node = try GraphAccess(tx: tx, caller: caller).node(input.nodeId, field: "node_id")
            let parent = try GraphNodeRecord.load(tx, node.parentId)
            let children = try GraphNodeRecord.children(tx, of: node.id).map(\.json)
            let outgoing = try tx.rows("SELECT * FROM graph_edges WHERE from_node_id = ? ORDER BY id", [node.id])
                .map { GraphEdgeRecord($0).json }
            let incoming = try tx.rows("SELECT * FROM graph_edges WHERE to_node_id = ? ORDER BY id", [node.id])
                .map { GraphEdgeRecord($0).json }
            let checklist = try tx.rows(
                "SELECT * FROM node_checklists WHERE node_id = ? ORDER BY facet, order_no", [node.id]
            ).map { ChecklistItemRecord($0).json }
            let snapshots = try tx.rows(
                "SELECT * FROM node_snapshots WHERE node_id = ? ORDER BY id DESC LIMIT ?",
                [node.id, input.snapshotsLimit]
            ).map { SnapshotRecord($0).json }
            return .obj([
                "node": node.json, "parent": parent?.json, "children": JSON.array(children),
                "outgoing": JSON.array(outgoing), "incoming": JSON.array(incoming), "checklist": JSON.array(checklist),
                "snapshots": JSON.array(snapshots),
            ])
        }
    }

    // MARK: graph.edge.create

    public func edgeCreate(_ input: GraphEdgeCreateInput) async throws -> JSON {
        let caller = self.caller
        let (from, to, type) = (input.fromNodeId, input.toNodeId, input.edgeType)
        guard from != to else {
            throw CodestratorError(
                .invalidParams, "from_node_id and to_node_id are both \(from)",
                expected: "two different nodes (no self edges)", field: "to_node_id")
        }
        return try await env.store.write { tx in
            let access = GraphAccess(tx: tx, caller: caller)
            let fromNode = try access.node(from, field: "from_node_id")
            _ = try access.node(to, field: "to_node_id")
            try access.requireChangeable(fromNode, field: "from_node_id")
            let edge = try GraphRules.insertEdge(tx, from: from, to: to, type: type)
            tx.bumpVersion()
            return edge.json
        }
    }

    // MARK: graph.checklist.upsert

    public func checklistUpsert(_ input: GraphChecklistUpsertInput) async throws -> JSON {
        let caller = self.caller
        let facet = try GraphRules.identifier(input.facet, field: "facet")
        return try await env.store.write { tx in
            let access = GraphAccess(tx: tx, caller: caller)
            let node = try access.node(input.nodeId, field: "node_id")
            try access.requireChangeable(node, field: "node_id")
            let text = input.itemText
            let orderNo: Int
            if let given = input.orderNo {
                orderNo = given
            } else {
                let last =
                    try tx.int(
                        "SELECT MAX(order_no) FROM node_checklists WHERE node_id = ? AND facet = ?", [node.id, facet])
                    ?? 0
                guard last < 10_000 else {
                    throw CodestratorError(
                        .invalidState, "facet \(quoted(facet)) of node \(node.id) already has item 10000",
                        expected: "an explicit order_no from 1 to 10000", field: "order_no")
                }
                orderNo = last + 1
            }
            let existing = try tx.row(
                "SELECT * FROM node_checklists WHERE node_id = ? AND facet = ? AND order_no = ?",
                [node.id, facet, orderNo])
            let id: Int
            if let existing {
                id = existing.int("id")
                // An update keeps the item's status unless one is given.
                let status = input.status ?? existing.string("status")
                try tx.execute(
                    "UPDATE node_checklists SET item_text = ?, status = ?, updated_at = ? WHERE id = ?",
                    [text, status, tx.now, id])
            } else {
                id = try tx.insert(
                    """
                    INSERT INTO node_checklists (node_id, facet, order_no, item_text, status, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        node.id, facet, orderNo, text, input.status ?? GraphChecklistUpsertInput.statusDefault, tx.now,
                        tx.now,
                    ])
            }
            tx.bumpVersion()
            return try ChecklistItemRecord.load(tx, id)!.json.merging(["created": existing == nil])
        }
    }

    // MARK: graph.snapshot.create

    public func snapshotCreate(_ input: GraphSnapshotCreateInput) async throws -> JSON {
        let caller = self.caller
        let type = try GraphRules.identifier(input.snapshotType, field: "snapshot_type")
        let files = try GraphRules.files(input.affectedFiles, root: env.layout.root, field: "affected_files")
        return try await env.store.write { tx in
            let access = GraphAccess(tx: tx, caller: caller)
            let node = try access.node(input.nodeId, field: "node_id")
            try access.requireChangeable(node, field: "node_id")
            let snap = try SnapshotRecord.insert(
                tx, nodeId: node.id, type: type, summary: input.summary, affectedFiles: files,
                nextAction: input.nextAction)
            tx.bumpVersion()
            return snap.json
        }
    }
}

/// Loading graph rows for a caller: nodes are readable repository-wide; changing one needs the
/// child's own session (`forbidden` otherwise, since the node is visible to it).
struct GraphAccess {
    let tx: Tx
    let caller: Caller

    func node(_ id: Int, field: String) throws -> GraphNodeRecord {
        guard let n = try GraphNodeRecord.load(tx, id) else {
            throw CodestratorError.notFound("node", id, expected: "the id of an existing graph node", field: field)
        }
        return n
    }

    func requireChangeable(_ node: GraphNodeRecord, field: String) throws {
        guard caller.isChild, node.ownerSessionId != caller.sessionId else { return }
        let owner = node.ownerSessionId.map { "session \($0)" } ?? "no session"
        throw CodestratorError(
            .forbidden, "node \(node.id) belongs to \(owner)",
            expected: "a node of your own session \(caller.sessionId ?? 0)", field: field)
    }

    /// `owner_session_id` (`given`): a child's own session (its default; another is `not_found`); for the root, an
    /// existing session, else `fallback`.
    func ownerSession(id given: Int?, field: String = "owner_session_id", fallback: Int? = nil) throws -> Int? {
        if caller.isChild {
            if let given, given != caller.sessionId {
                throw CodestratorError.notFound("session", given, expected: "your own session", field: field)
            }
            return caller.sessionId
        }
        guard let given else { return fallback }
        return try Access(tx: tx, caller: caller).session(given, field: field).id
    }

    /// A worktree that exists (for a child: one of its session).
    func worktree(_ id: Int, field: String = "worktree_id") throws {
        guard let wt = try WorktreeRecord.load(tx, id), !caller.isChild || wt.ownerSessionId == caller.sessionId else {
            throw CodestratorError.notFound("worktree", id, field: field)
        }
    }
}

/// Rules shared by the graph and planning methods.
enum GraphRules {
    /// `[a-z][a-z0-9_-]{0,39}` (docs/methods.md#orch_graph--codestrator-planning-graph).
    static func identifier(_ s: String, field: String) throws -> String {
        let u = Array(s.utf8)
        let ok =
            !u.isEmpty && u.count <= 40 && (0x61...0x7A).contains(u[0])
            && u.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2D }
        guard ok else {
            throw CodestratorError(
                .invalidParams, "field \"\(field)\" is \(quoted(s))",
                expected: "an identifier [a-z][a-z0-9_-]{0,39}", field: field)
        }
        return s
    }

    /// Repository paths, normalised and de-duplicated.
    static func files(_ paths: [String]?, root: String, field: String) throws -> [String] {
        try RepoPath.normalizeAll(paths ?? [], root: root, field: field)
    }

    struct NewNode {
        var nodeType: String
        var facet: String
        var title: String
        var status: String
        var priority: Int
        var parentId: Int?
        var taskId: Int?
        var worktreeId: Int?
        var ownerSessionId: Int?
        var summary: String?
        var riskLevel: Int?
        var tokenEstimate: Int?
        var affectedFiles: [String]
    }

    static func insertNode(_ tx: Tx, _ n: NewNode) throws -> GraphNodeRecord {
        let id = try tx.insert(
            """
            INSERT INTO graph_nodes (node_type, facet, title, status, priority, parent_id, task_id, worktree_id,
              owner_session_id, summary, risk_level, token_estimate, affected_files, approval_state, created_at,
              updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'none', ?, ?)
            """,
            [
                n.nodeType, n.facet, n.title, n.status, n.priority, n.parentId, n.taskId, n.worktreeId,
                n.ownerSessionId, n.summary, n.riskLevel, n.tokenEstimate,
                JSON.array(n.affectedFiles.map(JSON.string)), tx.now, tx.now,
            ])
        return try GraphNodeRecord.load(tx, id)!
    }

    /// Inserts an edge after the duplicate and cycle checks of graph.edge.create.
    static func insertEdge(_ tx: Tx, from: Int, to: Int, type: GraphEdgeType) throws -> GraphEdgeRecord {
        if let dup = try tx.int(
            "SELECT id FROM graph_edges WHERE from_node_id = ? AND to_node_id = ? AND edge_type = ?",
            [from, to, type.rawValue])
        {
            throw CodestratorError(
                .conflict, "edge \(dup) (\(from) → \(to) \(type.rawValue)) already exists",
                expected: "a (from_node_id, to_node_id, edge_type) not linked yet", field: "to_node_id")
        }
        if let cycle = try cycleClosed(tx, from: from, to: to, type: type) {
            let listed = cycle.map(String.init).joined(separator: " → ")
            switch type {
            case .contains:
                throw CodestratorError(
                    .invalidState, "contains edge \(from) → \(to) would close the cycle \(listed)",
                    expected: "contains edges that form no cycle", field: "to_node_id")
            default:
                throw CodestratorError(
                    .invalidState,
                    "\(type.rawValue) edge \(from) → \(to) would close the cycle \(listed) "
                        + "(depends_on and blocks form one ordering; A blocks B means B depends_on A)",
                    expected: "an ordering without cycles", field: "to_node_id")
            }
        }
        let id = try tx.insert(
            "INSERT INTO graph_edges (from_node_id, to_node_id, edge_type, created_at) VALUES (?, ?, ?, ?)",
            [from, to, type.rawValue, tx.now])
        return try GraphEdgeRecord.load(tx, id)!
    }

    /// The cycle `from → to → … → from` a new edge would close, in the new edge's own direction, or nil.
    /// `contains` is checked on its own; `depends_on` and `blocks` as one ordering (`A blocks B` is
    /// `B depends_on A`, i.e. the reverse `depends_on` edge); `relates_to` never.
    static func cycleClosed(_ tx: Tx, from: Int, to: Int, type: GraphEdgeType) throws -> [Int]? {
        var adjacency: [Int: [Int]] = [:]
        switch type {
        case .relatesTo:
            return nil
        case .contains:
            for r in try tx.rows("SELECT from_node_id, to_node_id FROM graph_edges WHERE edge_type = 'contains'") {
                adjacency[r.int("from_node_id"), default: []].append(r.int("to_node_id"))
            }
        case .dependsOn, .blocks:
            for r in try tx.rows(
                "SELECT from_node_id, to_node_id, edge_type FROM graph_edges WHERE edge_type IN ('depends_on','blocks')"
                    + " ORDER BY id")
            {
                let (a, b) = (r.int("from_node_id"), r.int("to_node_id"))
                // Same type as the new edge: as stored; the other type: reversed.
                if r.string("edge_type") == type.rawValue {
                    adjacency[a, default: []].append(b)
                } else {
                    adjacency[b, default: []].append(a)
                }
            }
        }
        guard let path = shortestPath(adjacency, from: to, to: from) else { return nil }
        return [from] + path
    }

    /// Breadth-first: the shortest path `start … goal` (both included), or nil.
    static func shortestPath(_ adjacency: [Int: [Int]], from start: Int, to goal: Int) -> [Int]? {
        var previous: [Int: Int] = [start: start]
        var queue = [start]
        var head = 0
        while head < queue.count {
            let n = queue[head]
            head += 1
            if n == goal {
                var path = [n]
                var cur = n
                while cur != start {
                    cur = previous[cur]!
                    path.append(cur)
                }
                return path.reversed()
            }
            for m in adjacency[n] ?? [] where previous[m] == nil {
                previous[m] = n
                queue.append(m)
            }
        }
        return nil
    }
}
