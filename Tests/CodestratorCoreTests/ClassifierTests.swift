import Foundation
import Testing

@testable import CodestratorCore

/// Status detection on recorded screens of the supported CLIs (docs/runtime-guide.md#status-detection).
@Suite struct ClassifierTests {
    static func screen(_ name: String) throws -> [String] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/screens/\(name).txt")
        return ScreenText.prepare(
            try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\\e", with: "\u{1B}"))
    }

    // Captures of the pinned versions (Tests/realclients/capture_screens.py records them again).
    static let codex = "codex-0.163.0"
    static let claude = "claude-2.1.327"

    @Test(arguments: [
        ("codex", "\(codex)-idle", ProviderStatus.idle), ("codex", "\(codex)-busy", .processing),
        ("codex", "\(codex)-interrupted", .idle), ("codex", "\(codex)-trust", .waitingUserAnswer),
        ("codex", "\(codex)-mcp-approval", .waitingUserAnswer), ("codex", "\(codex)-hooks-review", .waitingUserAnswer),
        ("claude_code", "\(claude)-idle-start", .idle), ("claude_code", "\(claude)-idle", .idle),
        ("claude_code", "\(claude)-busy", .processing), ("claude_code", "\(claude)-interrupted", .idle),
        ("claude_code", "\(claude)-trust", .waitingUserAnswer),
        ("claude_code", "\(claude)-permission", .waitingUserAnswer),
    ])
    func recordedScreensClassify(provider: String, fixture: String, expected: ProviderStatus) throws {
        let (status, _) = Classifier.forProvider(provider).classify(try Self.screen(fixture))
        #expect(status == expected, "\(fixture)")
    }

    @Test func policyDialogsCarryTheKeysThatAnswerThem() throws {
        let trust = Classifier.codex().read(try Self.screen("\(Self.codex)-trust")).dialog
        #expect(trust?.kind == .folderTrust && trust?.policyKeys == ["Enter"])
        let hooks = Classifier.codex().read(try Self.screen("\(Self.codex)-hooks-review")).dialog
        #expect(hooks?.kind == .hooksReview && hooks?.policyKeys == ["Escape"])
        // Claude Code's trust screen preselects "No, exit": one Down, and Enter only once "Yes" is selected.
        var lines = try Self.screen("\(Self.claude)-trust")
        let claudeTrust = Classifier.claudeCode().read(lines).dialog
        #expect(claudeTrust?.kind == .folderTrust && claudeTrust?.policyKeys == ["Down"])
        lines = lines.map {
            $0.replacingOccurrences(of: "❯ No, exit", with: "  No, exit").replacingOccurrences(
                of: "  Yes, I trust this folder", with: "❯ Yes, I trust this folder")
        }
        #expect(Classifier.claudeCode().read(lines).dialog?.policyKeys == ["Enter"])
    }

    @Test func questionsAreNeverAnsweredByPolicy() throws {
        let approval = Classifier.codex().read(try Self.screen("\(Self.codex)-mcp-approval"))
        #expect(approval.dialog?.kind == .question && approval.dialog?.policyKeys == nil)
        #expect(approval.response?.contains("Allow the codestrator MCP server to run tool") == true)
        let permission = Classifier.claudeCode().read(try Self.screen("\(Self.claude)-permission"))
        #expect(permission.dialog?.kind == .question && permission.dialog?.policyKeys == nil)
        #expect(permission.response?.contains("Do you want to proceed?") == true)
        #expect(permission.response?.contains("touch forbidden.txt") == true)
    }

    @Test func aRepaintingSpinnerIsNeverIdle() throws {
        // The composer is visible while Codex works; the spinner line decides, whatever its frame.
        var lines = try Self.screen("\(Self.codex)-busy")
        for frame in [
            "Working (5s • esc to interrupt)", "Working (6s • Esc to interrupt)", "Thinking (7s • esc to interrupt)",
        ] {
            lines[lines.firstIndex { $0.contains("to interrupt") }!] = "• " + frame
            #expect(Classifier.codex().classify(lines).0 == .processing)
        }
    }

    @Test func echoedHistoryAndDialogsAboveTheComposerAreHistory() throws {
        // Inline mode keeps old dialogs in the scrollback: only what is below the composer speaks.
        let trust = try Self.screen("\(Self.codex)-trust")
        let idle = try Self.screen("\(Self.codex)-idle")
        #expect(Classifier.codex().read(trust + idle).status == .idle)
        // Before start-up finishes Codex shows the composer without its footer: not ready for a paste.
        let early = idle.filter { !$0.contains(" · ") }
        #expect(Classifier.codex().read(early).status == .unknown)
    }

    @Test func claudeRestoresAnInterruptedPromptIntoTheBox() throws {
        let r = Classifier.claudeCode().read(try Self.screen("\(Self.claude)-interrupted"))
        #expect(r.status == .idle && r.pendingInput == "slow")
        // A long prompt scrolls inside the box: the `❯` line is hidden and the upper rule reads "↑ 42 more".
        let tall = Classifier.claudeCode().read(try Self.screen("\(Self.claude)-interrupted-tall"))
        #expect(tall.status == .idle && tall.pendingInput?.contains("codestrator_assignment") == true)
        let idle = Classifier.claudeCode().read(try Self.screen("\(Self.claude)-idle"))
        #expect(idle.pendingInput == nil && idle.response == "Hello there, general.")
    }

    @Test func simMarkersMapToStatuses() {
        let c = Classifier.sim()
        #expect(c.classify(["[sim] status: working", "⠋ working… (esc to interrupt)"]).0 == .processing)
        #expect(
            c.classify(["[sim] question: proceed? (y/n)", "[sim] status: question"]) == (
                .waitingUserAnswer, "proceed? (y/n)"
            ))
        #expect(
            c.classify(["[sim] reply-begin", "ack: x", "[sim] reply-end", "[sim] status: idle", "sim>"]) == (
                .idle, "ack: x"
            ))
        #expect(c.classify(["[sim] status: done"]).0 == .completed)
    }

    @Test func escapeSequencesAndCarriageReturnsAreRemoved() {
        let lines = ScreenText.prepare("\u{1B}[1mbold\u{1B}[0m text  \nspin 1\rspin 2\n\u{1B}]0;title\u{07}after\n\n")
        #expect(lines == ["bold text", "spin 2", "after"])
    }

    @Test func genericPromptsAreIdleByDefault() {
        #expect(Classifier.forProvider("generic").classify(["output", "user@host:~$ "]).0 == .idle)
        #expect(Classifier.forProvider("generic").classify(["compiling…"]).0 == .unknown)
    }
}

@Suite struct ScreenHashTests {
    @Test func theScreenHashIsTheSameInEveryProcess() {
        // Fixed values: a hash seeded per process (Swift's hashValue) would differ from run to run.
        #expect(ThreadObserver.screenHash([]) == "cbf29ce484222325")
        #expect(ThreadObserver.screenHash(["a"]) == "af63dc4c8601ec8c")
        #expect(ThreadObserver.screenHash(["a", "b"]) != ThreadObserver.screenHash(["ab"]))
    }
}
