import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorAssembly
@testable import CodestratorCore
@testable import CodestratorMCP
@testable import CodestratorRuntime

/// A throwaway repository with a dispatcher over it, as `codestrator call` runs methods.
struct TestRepo {
    let path: String
    let dispatcher: Dispatcher
    let provider: EnvironmentProvider
    /// A private tmux socket: anything a test spawns lives there and is killed by `cleanUp`.
    let socket: String

    static func make(role: ProcessRole = .root, threadId: Int? = nil, at existing: String? = nil) async throws
        -> TestRepo
    {
        let path = existing ?? NSTemporaryDirectory() + "cs-repo-\(UUID().uuidString)"
        if existing == nil {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for args in [
                ["init", "-q", "-b", "main", path],
                ["-C", path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "i"],
            ] {
                let r = try await ProcessRunner.run(["git"] + args)
                #expect(r.ok, "git \(args) failed: \(r.err)")
            }
        }
        let socket = "cs-unit-\(UUID().uuidString.prefix(8))"
        let provider = Assembly.provider(
            options: ServerOptions(repo: path, role: role, threadId: threadId, tmuxSocket: socket, oneShot: true))
        return TestRepo(
            path: path, dispatcher: Dispatcher(provider: provider, role: role), provider: provider, socket: socket)
    }

    func call(_ method: String, _ params: JSONObject = [:]) async -> CallOutcome {
        await dispatcher.callMethod(method, params: params)
    }

    func ok(_ method: String, _ params: JSONObject = [:]) async throws -> JSON {
        switch await call(method, params) {
        case .success(let r): return r
        case .failure(let m, let e): throw e.asTestFailure(m)
        }
    }

    /// Row counts of every table, to prove a failed call changed nothing.
    func rowCounts() async throws -> [String: Int] {
        let env = try await provider.environment()
        return try await env.store.read { tx in
            var out: [String: Int] = [:]
            for t in try tx.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") {
                let name = t.string("name")
                out[name] = try tx.int("SELECT COUNT(*) FROM \"\(name)\"") ?? 0
            }
            out["meta.db_version"] = try tx.int("SELECT db_version FROM meta") ?? 0
            return out
        }
    }

    func cleanUp() {
        killTmuxServer(socket)
        try? FileManager.default.removeItem(atPath: path)
    }
}

@Suite(.serialized) struct DispatcherBadInputTests {
    /// A value of the wrong JSON type for a parameter kind.
    static func wrongValue(for kind: ParamKind) -> JSON {
        switch kind {
        case .object: return "not an object"
        case .json: return .string(String(repeating: "x", count: 70_000))
        case .bool: return "true"
        case .id, .int: return "12"
        case .array: return .object(["a": 1])
        default: return .int(7)
        }
    }

    /// A well-typed value, so that required fields other than the one under test pass validation.
    static func validValue(for kind: ParamKind) -> JSON {
        switch kind {
        case .id: return 1
        case .int(let lo, _): return .int(lo)
        case .bool: return false
        case .enumeration(let values, _, _): return .string(values[0])
        case .array: return []
        case .object: return .object([:])
        case .json: return .null
        case .branch: return "codestrator/x"
        default: return "x"
        }
    }

    @Test func everyParameterOfEveryBuiltMethodRejectsAWrongTypeAndChangesNothing() async throws {
        let repo = try await TestRepo.make()
        defer { repo.cleanUp() }
        _ = try await repo.ok("session.open", ["user_request": "bad input", "agent_role": "sim"])
        let before = try await repo.rowCounts()
        var checked = 0
        for def in MethodRegistry.standard.methods {
            guard let specs = def.params else { continue }
            for spec in specs {
                if case .ignored = spec.kind { continue }
                var params = JSONObject()
                for other in specs where other.required { params[other.name] = Self.validValue(for: other.kind) }
                params[spec.name] = Self.wrongValue(for: spec.kind)
                let outcome = await repo.call(def.name, params)
                guard case .failure(let m, let e) = outcome else {
                    Issue.record(
                        "\(def.name) accepted \(spec.name) = \(Self.wrongValue(for: spec.kind).serialized().prefix(40))"
                    )
                    continue
                }
                #expect(e.code == .invalidParams, "\(def.name).\(spec.name): \(e.message(method: m))")
                #expect(
                    e.message(method: m).hasPrefix("\(def.name): field \"\(spec.name)\""), "\(e.message(method: m))")
                #expect(e.message(method: m).contains("; expected "))
                checked += 1
            }
        }
        #expect(checked > 100)
        #expect(try await repo.rowCounts() == before)
    }

    @Test func missingRequiredFieldsAndUnknownIdsChangeNothing() async throws {
        let repo = try await TestRepo.make()
        defer { repo.cleanUp() }
        _ = try await repo.ok("session.open", ["user_request": "ids", "agent_role": "sim"])
        let before = try await repo.rowCounts()
        for def in MethodRegistry.standard.methods {
            guard let specs = def.params else { continue }
            var params = JSONObject()
            for spec in specs {
                if case .id = spec.kind { params[spec.name] = 999_999 }
            }
            if case .failure(_, let e) = await repo.call(def.name, params) {
                #expect([.invalidParams, .notFound, .invalidState].contains(e.code), "\(def.name): \(e.code)")
            } else if !(def.readOnly || params.isEmpty) {
                Issue.record("\(def.name) succeeded with unknown ids \(JSON.object(params).serialized())")
            }
        }
        #expect(try await repo.rowCounts() == before)
    }

    @Test func hostileStringsNeverReachAShell() async throws {
        let repo = try await TestRepo.make()
        defer { repo.cleanUp() }
        let sid =
            try await repo.ok("session.open", ["user_request": "hostile", "agent_role": "sim"])["session_context"]?[
                "session"]?["id"]?.intValue ?? 0
        let hostile: [String] = [
            "quote'd \"x\"", "a; touch pwned", "$(touch pwned)", "`touch pwned`", "line1\nline2", "../../etc/passwd",
            "-rf", "--upload-pack=touch pwned", String(repeating: "é", count: 40_000),
        ]
        for def in MethodRegistry.standard.methods {
            guard let specs = def.params else { continue }
            for spec in specs {
                switch spec.kind {
                case .name, .title, .text, .paneText, .path, .branch: break
                default: continue
                }
                for h in hostile {
                    var params: JSONObject = [spec.name: .string(h)]
                    if specs.contains(where: { $0.name == "session_id" }) { params["session_id"] = .int(sid) }
                    _ = await repo.call(def.name, params)
                }
            }
        }
        let cwd = FileManager.default.currentDirectoryPath
        for dir in [repo.path, cwd, NSTemporaryDirectory(), repo.path + "/.codestrator/worktrees"] {
            #expect(!FileManager.default.fileExists(atPath: dir + "/pwned"), "a shell ran in \(dir)")
        }
        let stray = try FileManager.default.contentsOfDirectory(atPath: repo.path + "/.codestrator/worktrees")
        #expect(stray.allSatisfy { $0.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") } })
    }

    @Test func freeTextIsStoredAndReturnedVerbatim() async throws {
        let repo = try await TestRepo.make()
        defer { repo.cleanUp() }
        let sid =
            try await repo.ok("session.open", ["user_request": "verbatim", "agent_role": "sim"])["session_context"]?[
                "session"]?["id"]?.intValue ?? 0
        let text = "  $(touch pwned); `x` 'q' \"d\"\nnext line\t../\n"
        let epic = try await repo.ok(
            "task.create",
            ["level": "epic", "title": "t $(x) `y`", "session_id": .int(sid), "description": .string(text)])
        let got = try await repo.ok("task.get", ["task_id": epic["id"]!])
        #expect(got["description"] == .string(text))
        #expect(got["title"] == .string("t $(x) `y`"))
    }
}
