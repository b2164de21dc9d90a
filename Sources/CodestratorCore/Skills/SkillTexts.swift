/// The role skills built into the binary (docs/install.md#skills). `codestrator install` writes them as
/// `SKILL.md` files, and a child's prompt can embed the same text where no skill is installed.
///
/// Convention the skill test relies on: a method is written in backticks, optionally followed by its
/// params in braces (`` `case.begin {case_id, steps}` ``); every such name and top-level param must exist
/// in the method registry.
public struct SkillText: Sendable, Equatable {
    /// The skill folder and front-matter name, e.g. `codestrator-worker`.
    public let name: String
    /// The thread role this skill is for; nil for the root skill.
    public let role: ThreadRole?
    /// When to use it (front matter `description`).
    public let description: String
    /// The Markdown body after the front matter.
    public let body: String

    /// All five skills, root first.
    public static let all: [SkillText] = [root, worker, mergeReviewer, planArchitect, docMirrorManager]

    /// The skill of a child role (nil for the session root, whose skill is `root`).
    public static func forRole(_ role: ThreadRole) -> SkillText? {
        all.first { $0.role == role && role != .sessionRoot }
    }

    /// `SKILL.md` as installed: front matter (`name`, `description`, `metadata.codestrator-version`) and body.
    public func document(version: String = CodestratorVersion.current) -> String {
        """
        ---
        name: \(name)
        description: \(Self.yamlQuoted(description))
        metadata:
          codestrator-version: "\(version)"
        ---

        \(body)
        """
    }

    static func yamlQuoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
