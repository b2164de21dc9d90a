import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorAssembly
@testable import CodestratorCore
@testable import CodestratorMCP
@testable import CodestratorRuntime

@Suite struct RegistryTests {
    @Test func allSixtyNineMethodsAreRegisteredOnce() {
        let names = MethodRegistry.standard.methods.map(\.name)
        #expect(names.count == 69)
        #expect(Set(names).count == 69)
    }

    @Test func rootSeesTenToolsInOrder() {
        let c = ToolCatalog(registry: .standard, role: .root)
        #expect(
            c.toolNames == [
                "orch_session", "orch_task", "orch_graph", "orch_workspace", "orch_thread", "orch_lifecycle",
                "orch_merge", "orch_inbox", "orch_system", "orchestrator_call",
            ])
    }

    @Test func workerSeesItsFourGroupsAndOnlyItsMethods() {
        let c = ToolCatalog(registry: .standard, role: .worker)
        #expect(c.toolNames == ["orch_task", "orch_workspace", "orch_lifecycle", "orch_inbox", "orchestrator_call"])
        let names = Set(c.allowedMethods.map(\.name))
        #expect(names.contains("case.begin"))
        #expect(!names.contains("resume.candidates.list"))
        #expect(!names.contains("merge.main.request"))
    }

    @Test func everyMethodOfThisBuildHasAHandler() {
        #expect(MethodRegistry.standard.methods.filter { $0.handler == nil || $0.params == nil }.map(\.name) == [])
    }

    /// Every method of this build is built, so the `not_implemented` path is proven on a registry of its own.
    @Test func aMethodRegisteredWithoutAHandlerAnswersNotImplemented() async throws {
        let dir = NSTemporaryDirectory() + "cs-unbuilt-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try await ProcessRunner.run(["git", "init", "-q", "-b", "main", dir])
        let registry = MethodRegistry([method("mirror.status", .system, "Unbuilt", readOnly: true, ownedBy: "issue 9")])
        let d = Dispatcher(
            registry: registry, provider: Assembly.provider(options: ServerOptions(repo: dir, oneShot: true)),
            role: .root)
        guard case .failure(let m, let e) = await d.callMethod("mirror.status", params: [:]) else {
            Issue.record("an unbuilt method succeeded")
            return
        }
        #expect(e.code == .notImplemented)
        #expect(e.message(method: m).hasPrefix("mirror.status: not implemented in this build; expected"))
    }

    @Test func docsMethodsMarkdownIsCurrent() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let onDisk = try String(contentsOf: root.appendingPathComponent("docs/methods.md"), encoding: .utf8)
        #expect(onDisk == MethodReference.markdown(), "run: codestrator reference > docs/methods.md")
    }
}

@Suite struct FrameReaderTests {
    @Test func linesAndFramedMessagesAreBothRecognised() {
        var r = FrameReader()
        let body = #"{"jsonrpc":"2.0","id":2,"method":"ping"}"#
        let input = "\n{\"a\":1}\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body){\"b\":2}\n"
        let msgs = r.feed(ArraySlice(Array(input.utf8)))
        #expect(msgs.count == 3)
        #expect(msgs.map(\.framed) == [false, true, false])
        if case .bytes(let b) = msgs[1].payload { #expect(String(decoding: b, as: UTF8.self) == body) }
    }

    @Test func splitDeliveryIsReassembled() {
        var r = FrameReader()
        #expect(r.feed(ArraySlice(Array("{\"a\"".utf8))).isEmpty)
        let m = r.feed(ArraySlice(Array(":1}\n".utf8)))
        #expect(m.count == 1)
    }

    /// Found by the stdio fuzz test: a garbage line shaped like a header (`sav: …`) began a header block
    /// that waited for a blank line and swallowed every JSON line after it.
    @Test func aStrayHeaderLineIsAnsweredAloneAndTheLinesAfterItStillCount() {
        var r = FrameReader()
        let ping = #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
        let msgs = r.feed(ArraySlice(Array("sav: x\u{0}y\n\(ping)\n\(ping)\n".utf8)))
        #expect(msgs.count == 3)
        #expect(msgs.map(\.framed) == [true, false, false])
        if case .bytes(let b) = msgs[0].payload { #expect(String(decoding: b, as: UTF8.self) == "invalid header") }
        if case .bytes(let b) = msgs[1].payload { #expect(String(decoding: b, as: UTF8.self) == ping) }
    }

    @Test func otherHeadersAndHeadersSplitAcrossReadsStillFrameABody() {
        var r = FrameReader()
        let body = #"{"jsonrpc":"2.0","id":3,"method":"ping"}"#
        let input = Array("Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        var msgs: [IncomingMessage] = []
        for cut in [5, 20, 40, input.count] {
            let from = [0, 5, 20, 40][[5, 20, 40, input.count].firstIndex(of: cut)!]
            msgs += r.feed(ArraySlice(input[from..<cut]))
        }
        #expect(msgs.count == 1)
        #expect(msgs.first?.framed == true)
        if case .bytes(let b)? = msgs.first?.payload { #expect(String(decoding: b, as: UTF8.self) == body) }
    }
}
