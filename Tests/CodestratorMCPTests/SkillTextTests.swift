import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// The skills mention only methods and parameters that exist (docs/install.md#skills).
@Suite struct SkillTextTests {
    /// The first part of every method name; a backticked dotted word starting with one of these is a method.
    static let prefixes: Set<String> = Set(
        MethodRegistry.standard.methods.map { String($0.name.split(separator: ".")[0]) })

    /// `(method, [top-level params])` for every `` `method` `` or `` `method {a, b: 1}` `` in the text.
    static func mentions(_ text: String) -> [(String, [String])] {
        let pattern = #"`([a-z_]+(?:\.[a-z_]+)+)(?:\s+\{([^`]*)\})?`"#
        let regex = try! NSRegularExpression(pattern: pattern)
        let ns = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).compactMap { m in
            let name = ns.substring(with: m.range(at: 1))
            guard prefixes.contains(String(name.split(separator: ".")[0])) else { return nil }
            guard m.range(at: 2).location != NSNotFound else { return (name, []) }
            return (name, topLevelKeys(ns.substring(with: m.range(at: 2))))
        }
    }

    /// Keys of `a, b: "x", c: {d: 1}` at depth 0.
    static func topLevelKeys(_ body: String) -> [String] {
        var depth = 0
        var parts: [String] = []
        var current = ""
        for ch in body {
            if ch == "{" || ch == "[" { depth += 1 }
            if ch == "}" || ch == "]" { depth -= 1 }
            if ch == "," && depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        parts.append(current)
        return parts.map { $0.split(separator: ":", maxSplits: 1).first.map(String.init) ?? "" }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    @Test(arguments: SkillText.all.map(\.name))
    func skillMentionsOnlyRegisteredMethodsAndParams(name: String) throws {
        let skill = try #require(SkillText.all.first { $0.name == name })
        let found = Self.mentions(skill.body)
        #expect(found.count >= 3, "expected the skill to name its methods")
        let role = ProcessRole.allCases.first { $0.threadRole == (skill.role ?? .sessionRoot) } ?? .root
        for (method, params) in found {
            guard let def = MethodRegistry.standard[method] else {
                Issue.record("\(name) mentions \(method), which is not a registered method")
                continue
            }
            #expect(def.allowed(for: role), "\(name) mentions \(method), which role \(role.rawValue) may not call")
            #expect(def.params != nil, "\(name) mentions \(method), which is not built yet")
            let declared = Set((def.params ?? []).map(\.name))
            for p in params {
                #expect(declared.contains(p), "\(name): \(method) has no parameter \(p)")
            }
        }
    }

    @Test func extractionSeesMethodsAndTopLevelParams() {
        let found = Self.mentions(
            "Call `step.check {case_id, status: \"done\", x: {y: 1}}` then `references/methods.md`.")
        #expect(found.count == 1)
        #expect(found.first?.0 == "step.check")
        #expect(found.first?.1 == ["case_id", "status", "x"])
    }

    @Test func skillsAreShortAndHaveFrontMatter() {
        #expect(
            SkillText.all.map(\.name) == [
                "codestrator", "codestrator-worker", "codestrator-merge-reviewer", "codestrator-plan-architect",
                "codestrator-doc-mirror-manager",
            ])
        for s in SkillText.all {
            let doc = s.document()
            #expect(doc.split(separator: "\n", omittingEmptySubsequences: false).count <= 400)
            #expect(doc.hasPrefix("---\nname: \(s.name)\ndescription: \"Use when"))
            #expect(doc.contains("codestrator-version: \"\(CodestratorVersion.current)\""))
        }
    }

    @Test func rootSkillStatesTheResumeRule() {
        #expect(
            SkillText.root.body.contains("After any restart or compaction call `work.current_ref`, then `resume.next`"))
        #expect(SkillText.root.body.contains("attach_readonly_command"))
        #expect(SkillText.root.body.contains("`orchestrator_call`"))
    }
}
