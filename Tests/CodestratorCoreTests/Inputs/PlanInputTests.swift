import Testing

@testable import CodestratorCore

/// `plan.*` inputs: the registry's defaults arrive, `slice_specs` is validated element by element, a missing
/// required value is `invalid_params` naming the field.
@Suite struct PlanInputTests {
    @Test func bootstrapGetsTheDefaultPriority() throws {
        let input = try PlanBootstrapInput(
            InputTesting.validated("plan.bootstrap", ["initiative_title": " i ", "plan_title": "p"]))
        #expect(input == PlanBootstrapInput(initiativeTitle: "i", planTitle: "p", priority: 0))
        #expect(
            InputTesting.missingField { try PlanBootstrapInput(Params(values: ["plan_title": "p"])) }
                == "initiative_title")
        #expect(
            InputTesting.missingField { try PlanBootstrapInput(Params(values: ["initiative_title": "i"])) }
                == "plan_title")
    }

    @Test func sliceSpecsAreDecodedWithTheirDefaults() throws {
        let input = try PlanSliceGenerateInput(
            InputTesting.validated(
                "plan.slice.generate",
                [
                    "plan_node_id": 3,
                    "slice_specs": [
                        ["title": "a", "token_estimate": 5, "affected_files": ["x.swift"]],
                        ["title": "b", "priority": 2, "depends_on": [0], "extra": 1],
                    ],
                ]))
        #expect(input.planNodeId == 3)
        #expect(!input.allowOversize)
        #expect(
            input.sliceSpecs == [
                PlanSliceSpec(index: 0, title: "a", tokenEstimate: 5, affectedFiles: ["x.swift"]),
                PlanSliceSpec(index: 1, title: "b", priority: 2, dependsOn: [0]),
            ])
        #expect(input.specWarnings.count == 1)
    }

    @Test func badSliceSpecsAreRefusedAtDecoding() throws {
        #expect(
            InputTesting.missingField {
                try PlanSliceGenerateInput(
                    InputTesting.validated("plan.slice.generate", ["plan_node_id": 3, "slice_specs": []]))
            } == "slice_specs")
        #expect(
            InputTesting.missingField {
                try PlanSliceGenerateInput(
                    InputTesting.validated(
                        "plan.slice.generate", ["plan_node_id": 3, "slice_specs": [["title": "a", "depends_on": [1]]]]))
            } == "slice_specs[0].depends_on")
        #expect(
            InputTesting.missingField {
                try PlanSliceGenerateInput(Params(values: ["slice_specs": [["title": "a"]]]))
            } == "plan_node_id")
    }

    @Test func replanAndSubmitGetTheirDefaults() throws {
        let replan = try PlanSliceReplanInput(
            InputTesting.validated("plan.slice.replan", ["node_id": 4, "reason": "too big"]))
        #expect(replan == PlanSliceReplanInput(nodeId: 4, reason: "too big", trigger: "other", allowOversize: false))
        #expect(InputTesting.missingField { try PlanSliceReplanInput(Params(values: ["node_id": 4])) } == "reason")
        let submit = try PlanRollupSubmitInput(
            InputTesting.validated("plan.rollup.submit", ["node_id": 4, "affected_files": ["a.txt"]]))
        #expect(submit == PlanRollupSubmitInput(nodeId: 4, affectedFiles: ["a.txt"]))
        #expect(InputTesting.missingField { try PlanRollupSubmitInput(Params()) } == "node_id")
    }
}
