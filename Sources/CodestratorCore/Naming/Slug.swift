/// The slug policy of docs/runtime-guide.md#worktrees-and-slugs: 1–2 lower-case words naming a worktree.
public enum Slug {
    static let stopWords: Set<String> = [
        "a", "an", "the", "to", "for", "of", "and", "or", "in", "on", "with", "by", "from", "at", "is", "are",
    ]

    /// The slug of the preferred text (a name: its first two words), else of the fallback (a request:
    /// the words that carry the task, `fromRequest`), else `work`.
    public static func derive(preferred: String?, fallback: String? = nil) -> String {
        if let preferred, let s = fromText(preferred) { return s }
        if let fallback, let s = fromRequest(fallback) { return s }
        return "work"
    }

    /// Lower-cased maximal runs of ASCII `[a-z0-9]`.
    static func tokens(_ text: String) -> [String] {
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
        return tokens
    }

    /// Each word cut to 20 characters, joined with `-`, cut to 40 (never ending in `-`).
    static func join(_ words: some Sequence<String>) -> String {
        var slug = words.map { String($0.prefix(20)) }.joined(separator: "-")
        if slug.count > 40 { slug = String(slug.prefix(40)) }
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug
    }

    /// The slug of a name, or nil when it has no ASCII letters or digits: the first two words that are
    /// not stop words (else the first one or two words).
    public static func fromText(_ text: String) -> String? {
        let tokens = tokens(text)
        guard !tokens.isEmpty else { return nil }
        var kept = tokens.filter { !stopWords.contains($0) }
        if kept.isEmpty { kept = tokens }
        return join(kept.prefix(2))
    }

    /// Politeness, pronouns, modal and filler verbs and adverbs: never part of a request's slug.
    static let chatter: Set<String> = [
        "please", "pls", "plz", "kindly", "thanks", "thank", "thx", "hi", "hello", "hey", "ok", "okay", "so", "now",
        "i", "im", "we", "you", "me", "us", "my", "our", "your", "it", "its", "this", "that", "these", "those",
        "there", "here", "they", "them", "their", "he", "she", "can", "could", "would", "will", "should", "shall",
        "may", "might", "must", "want", "wanna", "need", "needs", "like", "love", "let", "lets", "s", "go", "ahead",
        "just", "also", "really", "very", "quickly", "some", "something", "all", "any", "new", "be", "been", "being",
        "was", "were", "do", "does", "did", "done", "have", "has", "had", "able", "sure", "help", "try", "going",
        "gonna", "think", "then", "if", "when", "as", "into", "onto", "up", "about", "basically", "actually", "maybe",
        "which", "what", "how", "why", "where", "who", "currently", "properly", "correctly", "again", "still", "not",
        "dont", "doesnt", "t", "am", "get", "got", "see", "look", "take", "care", "bit", "little", "more", "other",
        "task", "work", "following", "asap", "today", "tomorrow", "soon", "next", "make", "makes", "d", "ll", "ve",
        "re", "m",
    ]

    /// Leading verbs that say little next to two object words (`add` a checkout flow with tax → the objects).
    static let weakVerbs: Set<String> = [
        "add", "adding", "adds", "fix", "fixing", "fixes", "implement", "implementing", "create", "creating",
        "build", "building", "write", "writing", "handle", "change", "modify", "set", "put", "introduce",
        "enable", "allow", "provide", "ensure", "investigate", "wire", "hook", "support", "tweak", "adjust",
    ]

    /// Leading verbs that name the change itself: kept before the first object (`improve-gallery`).
    static let strongVerbs: Set<String> = [
        "improve", "refactor", "remove", "delete", "rename", "migrate", "upgrade", "downgrade", "optimize",
        "optimise", "speed", "document", "deprecate", "split", "extract", "replace", "revert", "translate",
        "localize", "simplify", "clean", "cleanup", "rewrite", "port", "move", "bump", "update", "secure",
        "sanitize", "validate", "paginate", "throttle", "debounce", "parallelize", "dedupe", "disable", "restore",
    ]

    /// Nouns that name no particular thing; dropped unless nothing else is left.
    static let fillerNouns: Set<String> = [
        "bug", "bugs", "issue", "issues", "problem", "problems", "flow", "feature", "features", "functionality",
        "stuff", "thing", "things", "code", "logic", "way", "part", "page", "pages", "screen", "experience",
        "behavior", "behaviour", "error", "errors", "implementation", "change", "changes", "fix", "fixes", "support",
        "slow", "fast", "faster", "broken", "flaky", "old", "better", "simple", "basic", "small", "current",
        "existing", "whole", "entire", "proper", "nice", "weird", "annoying", "wrong",
    ]

    /// The slug of a request (the name policy above, made task-representative): drop stop words and chatter;
    /// a leading verb is the action, the rest are objects, filler nouns dropped unless nothing else is
    /// left. Two objects after a weak verb name the task (`checkout-tax`); a strong verb, or a weak verb
    /// with one object, stays in front of the first object (`improve-gallery`, `fix-login`). A request of
    /// stop words and chatter only falls back to `fromText`. Deterministic: word lists only.
    public static func fromRequest(_ text: String) -> String? {
        let tokens = tokens(text)
        guard !tokens.isEmpty else { return nil }
        var words = tokens.filter { !stopWords.contains($0) && !chatter.contains($0) }
        guard !words.isEmpty else { return fromText(text) }
        var verb: String?
        if let first = words.first, weakVerbs.contains(first) || strongVerbs.contains(first) {
            verb = first
            words.removeFirst()
        }
        var objects = words.filter { !fillerNouns.contains($0) }
        if objects.isEmpty { objects = words }
        guard let verb else { return join(objects.prefix(2)) }
        if strongVerbs.contains(verb) || objects.count < 2 { return join([verb] + objects.prefix(1)) }
        return join(objects.prefix(2))
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

    /// The viewer session name `{repository}-{worktree}` (docs/runtime-guide.md#tmux-sessions-windows-and-panes), ≤ 80 characters.
    public static func viewerSessionName(repository: String, worktree: String) -> String {
        var name = tmuxPart(repository, empty: "repo") + "-" + tmuxPart(worktree, empty: "worktree")
        if name.count > 80 { name = String(name.prefix(80)) }
        while name.hasSuffix("-") { name.removeLast() }
        return name
    }
}

/// The read-only attach command of a viewer session (docs/database.md#object-shapes AttachInfo).
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
