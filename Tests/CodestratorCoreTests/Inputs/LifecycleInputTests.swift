import Testing

@testable import CodestratorCore

/// `work.*` inputs: the nested `set` is validated and decoded with its default, fields of `set` sent flat are
/// kept for the service's refusal, a missing required value is `invalid_params` naming the field.
@Suite struct LifecycleInputTests {
    @Test func aReadHasNoSet() throws {
        let input = try CurrentRefInput(InputTesting.validated("work.current_ref", ["session_id": 2]))
        #expect(input == CurrentRefInput(sessionId: 2))
    }

    @Test func setIsValidatedWithItsDefaultMode() throws {
        let input = try CurrentRefInput(
            InputTesting.validated(
                "work.current_ref",
                ["set": ["node_type": "case", "node_id": 4, "required_files": ["a.txt"]], "expected_version": 1]))
        #expect(input.set == CurrentRefSet(nodeType: "case", nodeId: 4, requiredFiles: ["a.txt"], mode: "manual"))
        #expect(input.expectedVersion == 1)
        #expect(
            InputTesting.missingField {
                try CurrentRefInput(InputTesting.validated("work.current_ref", ["set": ["node_type": "case"]]))
            } == "set.node_id")
    }

    @Test func setFieldsSentFlatAreKept() throws {
        let input = try CurrentRefInput(
            InputTesting.validated("work.current_ref", ["node_id": 4, "summary": "s", "other": 1]))
        #expect(input.set == nil)
        #expect(Set(input.flatSetFields) == ["node_id", "summary"])
    }

    @Test func ackAndReportNameAMissingValue() throws {
        #expect(InputTesting.missingField { try CurrentRefAckInput(Params()) } == "ref_id")
        #expect(
            try CurrentRefAckInput(InputTesting.validated("work.current_ref.ack", ["ref_id": 3])) == .init(refId: 3))
        #expect(InputTesting.missingField { try WorkReportInput(Params(values: ["summary": "s"])) } == "outcome")
        #expect(InputTesting.missingField { try WorkReportInput(Params(values: ["outcome": "done"])) } == "summary")
        let report = try WorkReportInput(
            InputTesting.validated(
                "work.report", ["outcome": "blocked", "summary": "s", "question": "q?", "case_id": 5]))
        #expect(report == WorkReportInput(outcome: "blocked", summary: "s", caseId: 5, question: "q?"))
    }
}
