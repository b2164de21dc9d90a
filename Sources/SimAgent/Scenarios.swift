import CodestratorCore
import Foundation

/// The built-in scenarios of docs/sim-agent.md, written in the same JSON form as `--script` files so that each
/// one doubles as an example script (docs/sim-agent.md).
public enum SimScenarios {
    /// The scenario a role runs when neither `--scenario` nor `--script` is given (docs/runtime-guide.md#providers-and-launch-flags).
    public static func defaultName(role: String) -> String {
        switch role {
        case "merge-reviewer": return "reviewer-approve"
        case "plan-architect": return "planner-basic"
        case "doc-mirror-manager": return "mirror-basic"
        default: return "worker-basic"
        }
    }

    /// Every built-in name, in the order of the §7 table.
    public static let names = [
        "worker-basic", "worker-slow", "worker-ask", "worker-blocked", "reviewer-approve", "reviewer-block",
        "planner-basic", "mirror-basic", "echo", "crash",
    ]

    /// The JSON text of a built-in scenario.
    public static func source(_ name: String) -> String? {
        switch name {
        case "worker-basic": return worker(name: name, stepSeconds: "0.3", ask: false)
        case "worker-slow": return worker(name: name, stepSeconds: "5", ask: false)
        case "worker-ask": return worker(name: name, stepSeconds: "0.3", ask: true)
        case "worker-blocked": return workerBlocked
        case "reviewer-approve": return reviewer(name: name, block: false)
        case "reviewer-block": return reviewer(name: name, block: true)
        case "planner-basic": return planner
        case "mirror-basic": return mirror
        case "echo": return echo
        case "crash": return crash
        default: return nil
        }
    }

    /// A built-in scenario, parsed.
    public static func named(_ name: String) throws -> SimScript {
        guard let text = source(name) else {
            throw SimScriptError("unknown scenario \"\(name)\"; expected one of \(names.joined(separator: "|"))")
        }
        return try SimScript.parse(text: text)
    }

    /// Later inputs of a worker: acknowledge, record the directive in a file, commit, and — once the
    /// assignment is finished — report again.
    static let directiveRule = #"""
        {"match": ".*", "actions": [
          {"say": "ack: ${input}"},
          {"write": {"path": "sim/directive_${thread_id}_${directive.n}.txt", "content": "${input}\n"}},
          {"commit": "sim: directive ${directive.n} of thread ${thread_id}"},
          {"if_finished": [
            {"call": {"method": "work.report",
                      "params": {"outcome": "done", "summary": "directive ${directive.n} applied"}}}
          ]}
        ]}
        """#

    static func worker(name: String, stepSeconds: String, ask: Bool) -> String {
        let askAction =
            ask
            ? #"""
            {"ask": {"question": "proceed? (y/n)", "on_no": [
              {"call": {"method": "work.report", "params": {"outcome": "blocked",
                "summary": "the user declined to proceed with case ${case.id}",
                "question": "proceed with case ${case.id}? (answered n)"}}}
            ]}},
            """# : ""
        return #"""
            {"name": "\#(name)",
             "on_start": [],
             "on_input": [
              {"match": "codestrator_assignment", "actions": [
                {"call": {"method": "work.current_ref", "params": {}}},
                {"call": {"method": "resume.next", "params": {}}},
                {"for_each_case": [
                  {"call": {"method": "case.begin", "params": {"case_id": "${case.id}"}}},
                  \#(askAction)
                  {"for_each_step": [
                    {"work": \#(stepSeconds)},
                    {"write": {"path": "sim/case_${case.id}_step_${step.order_no}.txt",
                               "content": "case ${case.id} step ${step.order_no}: ${step.title}\n"}},
                    {"commit": "sim: case ${case.id} step ${step.order_no}"},
                    {"call": {"method": "step.check", "params": {"case_id": "${case.id}", "step_id": "${step.id}",
                      "status": "done", "result": "wrote sim/case_${case.id}_step_${step.order_no}.txt",
                      "artifacts": ["sim/case_${case.id}_step_${step.order_no}.txt"]}}}
                  ]},
                  {"call": {"method": "case.complete", "params": {"case_id": "${case.id}",
                    "summary": "sim worker finished case ${case.id}"}}}
                ]},
                {"call": {"method": "work.report", "params": {"outcome": "done",
                  "summary": "sim worker finished case(s) ${assignment.case_ids}"}}}
              ]},
              \#(directiveRule)
             ],
             "on_error": "continue",
             "on_finish": "idle"}
            """#
    }

    static let workerBlocked = #"""
        {"name": "worker-blocked",
         "on_input": [
          {"match": "codestrator_assignment", "actions": [
            {"for_each_case": [
              {"call": {"method": "case.begin", "params": {"case_id": "${case.id}"}}}
            ]},
            {"call": {"method": "work.report", "params": {"outcome": "blocked",
              "summary": "sim worker is blocked before its first step",
              "question": "Which branch should the sim worker build on?"}}}
          ]},
          \#(directiveRule)
         ],
         "on_error": "continue",
         "on_finish": "idle"}
        """#

    static func reviewer(name: String, block: Bool) -> String {
        let verdict = block ? "BLOCK" : "APPROVE"
        let findings =
            block
            ? #"""
            [{"file": "${saved.context.changed_files.0.path}", "line": null, "severity": "blocking",
              "message": "sim reviewer blocks this change", "evidence": null}]
            """# : "[]"
        return #"""
            {"name": "\#(name)",
             "on_input": [
              {"match": "codestrator_assignment", "actions": [
                {"call": {"method": "merge.review_context",
                          "params": {"merge_request_id": "${assignment.merge_request_id}"}, "save_as": "context"}},
                {"call": {"method": "merge.review.submit", "params": {
                  "review_job_id": "${assignment.review_job_id}", "verdict": "\#(verdict)",
                  "summary": "sim review (\#(verdict)): ${saved.context.changed_files.#} changed file(s): ${saved.context.changed_files.*.path}",
                  "findings": \#(findings)}}}
              ]},
              {"match": ".*", "actions": [{"say": "ack: ${input}"}]}
             ],
             "on_error": "continue",
             "on_finish": "idle"}
            """#
    }

    static let planner = #"""
        {"name": "planner-basic",
         "on_input": [
          {"match": "codestrator_assignment", "actions": [
            {"call": {"method": "work.current_ref", "params": {}}},
            {"call": {"method": "plan.bootstrap", "params": {"initiative_title": "Sim initiative of thread ${thread_id}",
              "plan_title": "Sim plan of thread ${thread_id}", "summary": "planned by the sim agent"},
              "save_as": "bootstrap"}},
            {"call": {"method": "plan.slice.generate", "params": {"plan_node_id": "${saved.bootstrap.plan.id}",
              "slice_specs": [
                {"title": "sim slice 1", "token_estimate": 4000, "affected_files": ["sim/slice_1.txt"],
                 "summary": "first half"},
                {"title": "sim slice 2", "token_estimate": 4000, "affected_files": ["sim/slice_2.txt"],
                 "summary": "second half", "depends_on": [0]}
              ]}, "save_as": "slices"}},
            {"call": {"method": "work.report", "params": {"outcome": "done",
              "summary": "planned ${saved.slices.slices.#} slice(s): ${saved.slices.slices.*.title}"}}}
          ]},
          {"match": ".*", "actions": [{"say": "ack: ${input}"}]}
         ],
         "on_error": "continue",
         "on_finish": "idle"}
        """#

    static let mirror = #"""
        {"name": "mirror-basic",
         "on_input": [
          {"match": "codestrator_assignment", "actions": [
            {"call": {"method": "mirror.status", "params": {}, "save_as": "status"}},
            {"call": {"method": "mirror.refresh", "params": {}, "save_as": "refresh"}},
            {"call": {"method": "work.report", "params": {"outcome": "done",
              "summary": "mirror refreshed at ${saved.refresh.path}"}}}
          ]},
          {"match": ".*", "actions": [{"say": "ack: ${input}"}]}
         ],
         "on_error": "continue",
         "on_finish": "idle"}
        """#

    static let echo = #"""
        {"name": "echo",
         "on_input": [{"match": ".*", "actions": [{"say": "${input}"}]}],
         "on_finish": "idle"}
        """#

    static let crash = #"""
        {"name": "crash",
         "on_input": [{"match": ".*", "actions": [{"exit": 3}]}]}
        """#
}
