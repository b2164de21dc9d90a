import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

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
}
