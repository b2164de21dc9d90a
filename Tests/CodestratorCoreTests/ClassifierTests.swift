import Foundation
import Testing

@testable import CodestratorCore

/// Status detection on recorded screens of the supported CLIs (runtime.md §5.3).
@Suite struct ClassifierTests {
    static func screen(_ name: String) throws -> [String] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/screens/\(name).txt")
        return ScreenText.prepare(
            try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\\e", with: "\u{1B}"))
    }

    @Test(arguments: [
        ("codex", "codex_idle", ProviderStatus.idle), ("codex", "codex_busy", .processing),
        ("codex", "codex_approval", .waitingUserAnswer), ("codex", "codex_trust", .waitingUserAnswer),
        ("claude_code", "claude_idle", .idle), ("claude_code", "claude_busy", .processing),
        ("claude_code", "claude_approval", .waitingUserAnswer), ("claude_code", "claude_trust", .waitingUserAnswer),
    ])
    func recordedScreensClassify(provider: String, fixture: String, expected: ProviderStatus) throws {
        let (status, _) = Classifier.forProvider(provider).classify(try Self.screen(fixture))
        #expect(status == expected, "\(fixture)")
    }

    @Test func aRepaintingSpinnerIsNeverIdle() throws {
        // The composer is visible while Codex works; the spinner line decides, whatever its frame.
        var lines = try Self.screen("codex_busy")
        for frame in [
            "Working (5s • esc to interrupt)", "Working (6s • Esc to interrupt)", "Thinking (7s • esc to interrupt)",
        ] {
            lines[lines.firstIndex { $0.contains("to interrupt") }!] = "• " + frame
            #expect(Classifier.codex().classify(lines).0 == .processing)
        }
    }

    @Test func questionsCarryTheirTextAsLastResponse() throws {
        let (_, text) = Classifier.claudeCode().classify(try Self.screen("claude_approval"))
        #expect(text?.contains("Do you want to proceed?") == true)
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
