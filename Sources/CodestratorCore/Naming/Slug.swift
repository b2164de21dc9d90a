/// The slug policy of runtime.md §2.1: 1–2 lower-case words naming a worktree.
public enum Slug {
    static let stopWords: Set<String> = [
        "a", "an", "the", "to", "for", "of", "and", "or", "in", "on", "with", "by", "from", "at", "is", "are",
    ]

    /// The slug of the preferred text, else the fallback, else `work`.
    public static func derive(preferred: String?, fallback: String? = nil) -> String {
        for text in [preferred, fallback] {
            if let text, let s = fromText(text) { return s }
        }
        return "work"
    }

    /// The slug of one text, or nil when it has no ASCII letters or digits.
    public static func fromText(_ text: String) -> String? {
        var tokens: [String] = []
        var cur = ""
        for u in text.lowercased().unicodeScalars {
            if (u >= "a" && u <= "z") || (u >= "0" && u <= "9") {
                cur.unicodeScalars.append(u)
            } else if !cur.isEmpty {
                tokens.append(cur)
                cur = ""
            }
        }
        if !cur.isEmpty { tokens.append(cur) }
        guard !tokens.isEmpty else { return nil }
        var kept = tokens.filter { !stopWords.contains($0) }
        if kept.isEmpty { kept = tokens }
        var slug = kept.prefix(2).map { String($0.prefix(20)) }.joined(separator: "-")
        if slug.count > 40 { slug = String(slug.prefix(40)) }
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug
    }

    /// `slug`, `slug-2`, … `slug-99`.
    public static func candidates(_ slug: String) -> [String] {
        [slug] + (2...99).map { "\(slug)-\($0)" }
    }

    /// A tmux-safe name part: lower-cased runs of `[a-z0-9]` joined with `-`.
    public static func tmuxPart(_ text: String, empty: String) -> String {
        var parts: [String] = []
        var cur = ""
        for u in text.lowercased().unicodeScalars {
            if (u >= "a" && u <= "z") || (u >= "0" && u <= "9") {
                cur.unicodeScalars.append(u)
            } else if !cur.isEmpty {
                parts.append(cur)
                cur = ""
            }
        }
        if !cur.isEmpty { parts.append(cur) }
        return parts.isEmpty ? empty : parts.joined(separator: "-")
    }

    /// The viewer session name `{repository}-{worktree}` (runtime.md §3.1), ≤ 80 characters.
    public static func viewerSessionName(repository: String, worktree: String) -> String {
        var name = tmuxPart(repository, empty: "repo") + "-" + tmuxPart(worktree, empty: "worktree")
        if name.count > 80 { name = String(name.prefix(80)) }
        while name.hasSuffix("-") { name.removeLast() }
        return name
    }
}

/// The read-only attach command of a viewer session (data-model.md §4 AttachInfo).
public enum AttachCommand {
    public static func socketArgs(_ socket: String?) -> [String] {
        guard let socket, !socket.isEmpty else { return [] }
        return socket.contains("/") ? ["-S", socket] : ["-L", socket]
    }

    public static func readOnly(session: String, socket: String?, ignoreSize: Bool = true) -> String {
        ShellQuote.join(
            ["tmux"] + socketArgs(socket) + ["attach", "-r"] + (ignoreSize ? ["-f", "ignore-size"] : []) + [
                "-t", session,
            ])
    }
}
