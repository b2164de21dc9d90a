import Foundation

/// A dialog a client shows over its input: a question for the user, or a screen Codestrator may answer itself.
public struct ScreenDialog: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// "Trust this folder?" (Codex), "Is this a project you created or one you trust?" (Claude Code).
        case folderTrust = "folder_trust"
        /// Codex's "Hooks need review" and its hooks list.
        case hooksReview = "hooks_review"
        /// Any other question: tool or command approval, an API key, a model's choice.
        case question
    }

    public var kind: Kind
    /// The dialog's text, as the user reads it.
    public var text: String
    /// The keys that answer it the way Codestrator's policy does (trust a worktree it created, skip hook trust);
    /// nil for a question only a person or the root may answer.
    public var policyKeys: [String]?
}

/// What the screen of a pinned client version says (docs/real-clients.md has the table per version).
public struct ScreenReading: Sendable, Equatable {
    public var status: ProviderStatus
    public var response: String?
    public var dialog: ScreenDialog?
    /// The text in the client's input box, when the box is visible (Claude Code restores an interrupted prompt
    /// there; it must be cleared before anything is pasted).
    public var pendingInput: String?
}

/// The screen of the real clients, anchored to their live region: the input box and the footer under it.
/// Only the bottom of the screen speaks; scrollback and echoed history never decide a status.
enum ClientScreens {
    /// Non-empty lines of the live region, newest last.
    static func tail(_ lines: [String], _ n: Int) -> [String] {
        Array(lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.suffix(n))
    }

    static func trimmed(_ s: String) -> String { s.trimmingCharacters(in: .whitespaces) }

    /// A full-width rule; Claude Code writes a scroll hint into the upper one of a tall input box
    /// (`─── ↑ 42 more ───…`).
    static func isRule(_ s: String) -> Bool {
        let t = trimmed(s)
        guard t.hasPrefix("──") else { return false }
        let dashes = t.unicodeScalars.filter { $0 == "─" || $0 == "━" }.count
        return dashes >= 20 && dashes * 10 >= t.unicodeScalars.count * 7
    }

    // MARK: Codex CLI (0.163)

    /// Codex: a numbered option under the `›` cursor is a dialog; `esc to interrupt` is a turn in progress; the
    /// composer `›` with the status footer under it (model · folder) is idle. Before start-up finishes the
    /// composer shows without the footer: not yet idle, so nothing is pasted into a dialog that is about to open.
    static func codex(_ lines: [String]) -> ScreenReading {
        let live = tail(lines, 24)
        // The composer is the last `›` line that is not a numbered option; a dialog opens below it, the
        // footer follows it, and anything above it is history.
        let composer = live.lastIndex { trimmed($0).hasPrefix("›") && !matches(numberedSelected, $0) }
        let below = Array(live[((composer ?? -1) + 1)...])
        if let d = codexDialog(below) {
            return ScreenReading(status: .waitingUserAnswer, response: d.text, dialog: d, pendingInput: nil)
        }
        if below.contains(where: { $0.range(of: "esc to interrupt", options: .caseInsensitive) != nil })
            || tail(lines, 4).contains(where: { $0.range(of: "esc to interrupt", options: .caseInsensitive) != nil })
            || below.contains(where: { $0.contains("Waiting for startup") })
        {
            return ScreenReading(status: .processing, response: nil, dialog: nil, pendingInput: nil)
        }
        guard let composer else {
            return ScreenReading(status: .unknown, response: nil, dialog: nil, pendingInput: nil)
        }
        let footer = below.count >= 1 && below.count <= 2 && below.allSatisfy { $0.contains(" · ") }
        guard footer else { return ScreenReading(status: .unknown, response: nil, dialog: nil, pendingInput: nil) }
        let response = codexLastMessage(Array(live[..<composer]))
        return ScreenReading(status: .idle, response: response, dialog: nil, pendingInput: nil)
    }

    /// The last assistant message above the composer: the lines after the newest `•` bullet.
    static func codexLastMessage(_ body: [String]) -> String? {
        guard let b = body.lastIndex(where: { trimmed($0).hasPrefix("•") }) else {
            let text = body.suffix(8).joined(separator: "\n")
            return text.isEmpty ? nil : ScreenText.cut(text)
        }
        var out = [String(trimmed(body[b]).dropFirst().drop(while: { $0 == " " }))]
        for l in body[(b + 1)...] {
            if trimmed(l).hasPrefix("›") || trimmed(l).hasPrefix("Tip:") { break }
            out.append(trimmed(l))
        }
        return ScreenText.cut(out.joined(separator: "\n"))
    }

    static let numberedSelected = try! NSRegularExpression(pattern: "^\\s*›\\s*\\d+\\.\\s+\\S")
    static let numbered = try! NSRegularExpression(pattern: "^\\s*\\d+\\.\\s+\\S")

    static func matches(_ r: NSRegularExpression, _ s: String) -> Bool {
        r.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }

    /// A dialog in the lines below the composer.
    static func codexDialog(_ live: [String]) -> ScreenDialog? {
        // The hooks list (opened from "Hooks need review") has no numbered options.
        if live.contains(where: { $0.contains("needs review") || $0.contains("need review") }),
            live.contains(where: { $0.contains("esc close") })
        {
            return ScreenDialog(
                kind: .hooksReview, text: live.suffix(12).joined(separator: "\n"), policyKeys: ["Escape"])
        }
        guard let sel = live.lastIndex(where: { matches(numberedSelected, $0) }),
            live.contains(where: { matches(numbered, $0) })
        else { return nil }
        let text = live.map(trimmed).joined(separator: "\n")
        let selected = trimmed(live[sel])
        if text.contains("Trust this folder"), selected.contains("Trust and continue") {
            return ScreenDialog(kind: .folderTrust, text: ScreenText.cut(text), policyKeys: ["Enter"])
        }
        if text.contains("Hooks need review") {
            // "esc skip": continue without trusting; hooks are the user's to trust, never Codestrator's.
            return ScreenDialog(kind: .hooksReview, text: ScreenText.cut(text), policyKeys: ["Escape"])
        }
        return ScreenDialog(kind: .question, text: ScreenText.cut(text), policyKeys: nil)
    }

    // MARK: Claude Code (2.1)

    /// Claude Code: the input box is `❯` between two full-width rules, idle and busy alike; the footer under the
    /// lower rule says `esc to interrupt` while a turn runs. A dialog replaces the box.
    static func claude(_ lines: [String]) -> ScreenReading {
        let live = tail(lines, 24)
        if let d = claudeDialog(live) {
            return ScreenReading(status: .waitingUserAnswer, response: d.text, dialog: d, pendingInput: nil)
        }
        guard let lower = live.lastIndex(where: isRule),
            let upper = live[..<lower].lastIndex(where: isRule)
        else { return ScreenReading(status: .unknown, response: nil, dialog: nil, pendingInput: nil) }
        let box = live[(upper + 1)..<lower]
        // A tall input scrolls: its `❯` line leaves the box and the upper rule says how much is hidden.
        let scrolled = live[upper].contains("more")
        guard let first = box.first, trimmed(first).hasPrefix("❯") || scrolled else {
            return ScreenReading(status: .unknown, response: nil, dialog: nil, pendingInput: nil)
        }
        let footer = live[(lower + 1)...]
        var input = box.map { $0 }
        if trimmed(first).hasPrefix("❯") { input[0] = String(trimmed(first).dropFirst()) }
        let pending = input.map(trimmed).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if footer.contains(where: { $0.range(of: "esc to interrupt", options: .caseInsensitive) != nil }) {
            return ScreenReading(
                status: .processing, response: nil, dialog: nil, pendingInput: pending.isEmpty ? nil : pending)
        }
        let response = claudeLastMessage(lines.filter { !trimmed($0).isEmpty })
        return ScreenReading(
            status: .idle, response: response, dialog: nil, pendingInput: pending.isEmpty ? nil : pending)
    }

    /// The last assistant message: the lines after the newest `●` bullet, above the input box.
    static func claudeLastMessage(_ lines: [String]) -> String? {
        guard let end = lines.lastIndex(where: isRule), let top = lines[..<end].lastIndex(where: isRule) else {
            return nil
        }
        let body = lines[..<top]
        guard let b = body.lastIndex(where: { trimmed($0).hasPrefix("●") }) else { return nil }
        var out = [String(trimmed(body[b]).dropFirst().drop(while: { $0 == " " }))]
        for l in body[(b + 1)...] {
            let t = trimmed(l)
            if t.hasPrefix("❯") || t.hasPrefix("✻") || t.hasPrefix("●") { break }
            out.append(t)
        }
        return ScreenText.cut(out.joined(separator: "\n"))
    }

    static func claudeDialog(_ live: [String]) -> ScreenDialog? {
        let joined = live.joined(separator: "\n")
        if joined.contains("Is this a project you created or one you trust") {
            let text = ScreenText.cut(live.suffix(14).map(trimmed).joined(separator: "\n"))
            // One key per screen: Enter sent right after Down can land first and choose "No, exit", which quits.
            if live.contains(where: { trimmed($0).hasPrefix("❯") && $0.contains("No, exit") }) {
                return ScreenDialog(kind: .folderTrust, text: text, policyKeys: ["Down"])
            }
            if live.contains(where: { trimmed($0).hasPrefix("❯") && $0.contains("Yes, I trust this folder") }) {
                return ScreenDialog(kind: .folderTrust, text: text, policyKeys: ["Enter"])
            }
            return ScreenDialog(kind: .folderTrust, text: text, policyKeys: nil)
        }
        // Any other selection list under a question: a permission prompt, the API-key screen, a choice. It
        // replaces the input box; with the box at the bottom, numbered lines are only history.
        if boxedInput(live) { return nil }
        let hasChoice = live.contains { t in
            let s = trimmed(t)
            return s.hasPrefix("❯") && (s.dropFirst().trimmingCharacters(in: .whitespaces).first?.isNumber ?? false)
        }
        let hints = live.contains { $0.contains("Enter to confirm") || $0.contains("Esc to cancel") }
        guard hasChoice || hints else { return nil }
        let start =
            live.lastIndex(where: { $0.contains("?") && !trimmed($0).hasPrefix("❯") && !matches(numbered, $0) })
            .map { max(0, $0 - 6) } ?? max(0, live.count - 14)
        let text = live[start...].map(trimmed).filter { !isRule($0) }.joined(separator: "\n")
        return ScreenDialog(kind: .question, text: ScreenText.cut(text), policyKeys: nil)
    }

    /// Whether the newest lines are the ordinary input box (two rules with `❯` between): then hints above it
    /// belong to scrollback, not to a dialog.
    static func boxedInput(_ live: [String]) -> Bool {
        guard let lower = live.lastIndex(where: isRule), let upper = live[..<lower].lastIndex(where: isRule) else {
            return false
        }
        return live[(upper + 1)..<lower].first.map { trimmed($0).hasPrefix("❯") || live[upper].contains("more") }
            ?? false
    }
}
