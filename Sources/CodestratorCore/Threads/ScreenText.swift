import Foundation

/// What a screen says about its program (docs/runtime-guide.md#status-detection).
public enum ProviderStatus: String, Sendable {
    case idle, processing, completed, error, unknown
    case waitingUserAnswer = "waiting_user_answer"
}

/// Screen text preparation (docs/runtime-guide.md#status-detection): escape sequences and controls removed, each line
/// reduced to what follows its last `\r`, trailing spaces and empty lines dropped.
public enum ScreenText {
    public static func prepare(_ raw: String) -> [String] {
        var out = ""
        var it = raw.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        while let c = pending ?? it.next() {
            pending = nil
            if c == "\u{1B}" {
                guard let n = it.next() else { break }
                if n == "[" {
                    // CSI: parameters and intermediates, then a final byte 0x40–0x7E.
                    while let x = it.next() { if (0x40...0x7E).contains(x.value) { break } }
                } else if n == "]" {
                    // OSC: up to BEL or ESC \.
                    while let x = it.next() {
                        if x == "\u{07}" { break }
                        if x == "\u{1B}" {
                            _ = it.next()
                            break
                        }
                    }
                }
                continue
            }
            if c == "\n" || c == "\t" || c == "\r" || c.value >= 0x20 && c.value != 0x7F {
                out.unicodeScalars.append(c)
            }
        }
        var lines = out.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let afterCR = line.split(separator: "\r", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            var s = afterCR
            while s.last == " " { s.removeLast() }
            return s
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// Cut to 4 KiB on a character boundary.
    public static func cut(_ s: String, bytes: Int = 4096) -> String {
        guard s.utf8.count > bytes else { return s }
        var out = ""
        for ch in s {
            if out.utf8.count + ch.utf8.count > bytes { break }
            out.append(ch)
        }
        return out
    }
}

/// The classifier of one provider: first match wins (waiting, processing, idle).
public struct Classifier: Sendable {
    public let provider: String
    let waiting: [NSRegularExpression]
    let waitingNeedsYesOption: Bool
    let processing: [NSRegularExpression]
    let idle: [NSRegularExpression]

    static func rx(_ p: String) -> NSRegularExpression {
        // Built-in patterns are constants; a failure here is a programming error caught by tests.
        try! NSRegularExpression(pattern: p, options: [.caseInsensitive])
    }

    /// Compiles user patterns (≤ 500 characters each); an invalid one is `invalid_params`.
    public static func compile(_ patterns: [String], field: String) throws -> [NSRegularExpression] {
        try patterns.map { p in
            guard p.count <= 500, let r = try? NSRegularExpression(pattern: p, options: []) else {
                throw CodestratorError(
                    .invalidParams,
                    "\(field) pattern \(quoted(p)) is not a valid regular expression of at most 500 characters",
                    expected: "a valid regular expression", field: field)
            }
            return r
        }
    }

    static func matches(_ r: NSRegularExpression, _ line: String) -> Bool {
        r.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
    }

    public static func sim() -> Classifier {
        Classifier(provider: "sim", waiting: [], waitingNeedsYesOption: false, processing: [], idle: [])
    }

    /// Codex CLI and Claude Code are read by `ClientScreens`, anchored to their input box and footer.
    public static func codex() -> Classifier {
        Classifier(provider: "codex", waiting: [], waitingNeedsYesOption: false, processing: [], idle: [])
    }

    public static func claudeCode() -> Classifier {
        Classifier(provider: "claude_code", waiting: [], waitingNeedsYesOption: false, processing: [], idle: [])
    }

    public static func generic(
        waiting: [NSRegularExpression], processing: [NSRegularExpression], idle: [NSRegularExpression]
    )
        -> Classifier
    {
        Classifier(
            provider: "generic", waiting: waiting, waitingNeedsYesOption: false, processing: processing, idle: idle)
    }

    public static func forProvider(_ p: String) -> Classifier {
        switch p {
        case "codex": return codex()
        case "claude_code": return claudeCode()
        case "sim": return sim()
        default: return generic(waiting: [], processing: [], idle: [])
        }
    }

    /// Reads prepared lines: the status, the last response, and for the real clients the dialog on screen
    /// and the text left in the input box.
    public func read(_ allLines: [String]) -> ScreenReading {
        switch provider {
        case "codex": return ClientScreens.codex(Array(allLines.suffix(60)))
        case "claude_code": return ClientScreens.claude(Array(allLines.suffix(60)))
        default:
            let (s, r) = classify(allLines)
            return ScreenReading(status: s, response: r, dialog: nil, pendingInput: nil)
        }
    }

    /// Classifies prepared lines (the last 60); returns the status and the last response.
    public func classify(_ allLines: [String]) -> (ProviderStatus, String?) {
        let lines = Array(allLines.suffix(60))
        if provider == "codex" || provider == "claude_code" {
            let r = read(lines)
            return (r.status, r.response)
        }
        if provider == "sim" { return Self.classifySim(lines) }
        let yes = try! NSRegularExpression(pattern: "^\\s*│?\\s*[›>❯]?\\s*1\\.\\s+Yes", options: [])
        let tail12 = lines.suffix(12)
        if waiting.contains(where: { r in lines.contains { Self.matches(r, $0) } }),
            !waitingNeedsYesOption || lines.contains(where: { Self.matches(yes, $0) })
        {
            let q = lines.suffix(15).joined(separator: "\n")
            return (.waitingUserAnswer, ScreenText.cut(q))
        }
        if processing.contains(where: { r in lines.contains { Self.matches(r, $0) } }) { return (.processing, nil) }
        let idlePatterns =
            idle.isEmpty && provider == "generic"
            ? [try! NSRegularExpression(pattern: "[$#>%❯›]\\s?$", options: [])] : idle
        let idleLines = provider == "generic" ? Array(lines.filter { !$0.isEmpty }.suffix(1)) : Array(tail12)
        if idlePatterns.contains(where: { r in idleLines.contains { Self.matches(r, $0) } }) {
            let body = lines.filter { !$0.isEmpty }.dropLast().suffix(20).joined(separator: "\n")
            return (.idle, body.isEmpty ? nil : ScreenText.cut(body))
        }
        return (.unknown, nil)
    }

    /// The sim agent's markers (docs/sim-agent.md).
    static func classifySim(_ lines: [String]) -> (ProviderStatus, String?) {
        guard let marker = lines.last(where: { $0.hasPrefix("[sim] status: ") }) else { return (.unknown, nil) }
        let state = String(marker.dropFirst("[sim] status: ".count))
        var reply: String?
        if let end = lines.lastIndex(where: { $0 == "[sim] reply-end" }),
            let begin = lines[..<end].lastIndex(where: { $0 == "[sim] reply-begin" })
        {
            reply = lines[(begin + 1)..<end].joined(separator: "\n")
        }
        switch state {
        case "question":
            let q = lines.last(where: { $0.hasPrefix("[sim] question: ") }).map { String($0.dropFirst(16)) }
            return (.waitingUserAnswer, q)
        case "working": return (.processing, reply.map { ScreenText.cut($0) })
        case "idle": return (.idle, reply.map { ScreenText.cut($0) })
        case "done": return (.completed, reply.map { ScreenText.cut($0) })
        case "error": return (.error, reply.map { ScreenText.cut($0) })
        default: return (.unknown, nil)
        }
    }
}
